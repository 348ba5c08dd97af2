//! One file per view. Each pane is `render(&App, Rect, &mut Buffer)`: reads state, draws,
//! never mutates, never reads a clock.

pub(crate) mod actors;
pub(crate) mod casesteps;
pub(crate) mod events;
pub mod help;
pub(crate) mod next_step;
pub(crate) mod overview;
pub(crate) mod playbook;
pub(crate) mod served;
pub mod timeline;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::theme::Theme;

/// A section title line: `── Title ─────`, in the header style.
pub(crate) fn section(title: &str, extra: &str, theme: Theme, area: Rect, buf: &mut Buffer) {
    let text = format!("── {title}  ");
    let used = text.chars().count() + extra.chars().count() + 1;
    let rule = "─".repeat(usize::from(area.width).saturating_sub(used));
    Paragraph::new(Line::from(vec![
        Span::styled(text, theme.header()),
        Span::styled(extra.to_owned(), theme.dim()),
        Span::styled(format!(" {rule}"), theme.dim()),
    ]))
    .render(area, buf);
}

/// First visible row so that `selected` stays on screen in a list `height` rows tall.
pub(crate) fn scroll_for(selected: usize, height: usize) -> usize {
    if height == 0 { selected } else { selected.saturating_sub(height - 1) }
}
