//! Playbook: the containment checklist. Until a case with a playbook is opened (the case
//! library wires `leakline watch --case DIR`), the pane explains its keys and how to get one.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::section;
use crate::tui::app::App;
use crate::tui::keymap::{KEYMAP, Scope, View};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let [title, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    section("Playbook", "containment steps, journaled", theme, title, buf);
    let mut lines = vec![
        Line::from("No playbook is loaded in this session."),
        Line::from(""),
        Line::styled(
            "Open a case to work a containment playbook here: leakline case open … then leakline watch --case DIR.",
            theme.dim(),
        ),
        Line::styled(
            "Every action below is written to the case's tamper-evident journal.",
            theme.dim(),
        ),
        Line::from(""),
    ];
    for b in KEYMAP.iter().filter(|b| b.scope == Scope::View(View::Playbook)) {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<8}", b.label), theme.key()),
            Span::raw(b.help),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled(format!("  {:<8}", "Enter"), theme.key()),
        Span::raw("show the step's instructions"),
    ]));
    Paragraph::new(lines).wrap(Wrap { trim: false }).render(body, buf);
}
