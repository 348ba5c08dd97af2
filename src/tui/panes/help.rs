//! The `?` overlay: every binding, grouped by scope, read straight from the keymap table.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::tui::app::App;
use crate::tui::keymap::{Binding, KEYMAP, Scope};

/// The help text lines (also used by tests to check that every binding is listed).
#[must_use]
pub fn lines(app: &App) -> Vec<Line<'static>> {
    let theme = app.theme;
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut scope: Option<Scope> = None;
    for b in KEYMAP {
        if scope != Some(b.scope) {
            scope = Some(b.scope);
            out.push(Line::styled(b.scope.title(), theme.header()));
        }
        out.push(entry(b, app));
    }
    out
}

fn entry(b: &Binding, app: &App) -> Line<'static> {
    Line::from(vec![Span::styled(format!(" {:<8} ", b.label), app.theme.key()), Span::raw(b.help)])
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let all = lines(app);
    // Two columns when the list does not fit in one.
    let inner_h = usize::from(area.height.saturating_sub(2)).max(1);
    let cols = all.len().div_ceil(inner_h).clamp(1, 3);
    let col_w: u16 = (area.width.saturating_sub(2) / cols as u16).min(34);
    let width = (col_w * cols as u16 + 2).min(area.width);
    let height = (all.len().div_ceil(cols) as u16 + 2).min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Keys — ? or Esc to close ")
        .border_style(app.theme.header());
    let inner = block.inner(rect);
    block.render(rect, buf);
    let per = all.len().div_ceil(cols);
    for (c, chunk) in all.chunks(per.max(1)).enumerate() {
        let x = inner.x + col_w * c as u16;
        if x >= inner.right() {
            break;
        }
        let w = col_w.min(inner.right() - x);
        Paragraph::new(chunk.to_vec()).render(Rect { x, width: w, ..inner }, buf);
    }
}
