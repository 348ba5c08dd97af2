//! Playbook: the containment checklist. With a case (`leakline watch --case DIR`) each step
//! shows its state, role, SLA countdown (amber + "⚠" near, red + "OVERDUE" past) and verify
//! status against the live snapshot (✔ with the evidence named); `s`/`d`/`x`/`n` journal
//! through the case library. Without a case the pane previews a playbook read-only. `Enter`
//! shows a step's instructions and example commands (`c` copies one).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{scroll_for, section};
use crate::playbook::{Playbook, Step};
use crate::text::{clean, sanitize};
use crate::tui::app::App;
use crate::tui::keymap::{KEYMAP, Scope, View};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let [title, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let Some(doc) = app.playbook_doc.as_deref() else {
        section("Playbook", "containment steps, journaled", theme, title, buf);
        Paragraph::new(key_lines(app, "No playbook is loaded in this session."))
            .wrap(Wrap { trim: false })
            .render(body, buf);
        return;
    };
    let extra = match &app.case {
        Some(case) => format!(
            "case {} · {} · {} records · head {}",
            clean(&case.state.name),
            case.state.status().as_str(),
            case.state.records,
            case.state.head.get(..12).unwrap_or(&case.state.head)
        ),
        None => format!("preview, no case open · {} · {}", doc.severity.as_str(), clean(&doc.id)),
    };
    section(&clean(&doc.title), &extra, theme, title, buf);
    let selected = app.playbook.selected.min(doc.steps.len().saturating_sub(1));
    match (doc.steps.get(selected), &app.case) {
        (Some(step), _) if app.playbook.detail => render_step(app, step, body, buf),
        (_, Some(case)) => super::casesteps::render(app, case, doc, selected, body, buf),
        _ => render_steps(app, doc, selected, body, buf),
    }
}

fn key_lines(app: &App, first: &str) -> Vec<Line<'static>> {
    let theme = app.theme;
    let (cmd, why) = super::next_step::case_init_command(app);
    let mut lines = vec![
        Line::from(first.to_owned()),
        Line::from(""),
        Line::styled("Open a case to work a containment playbook here:", theme.dim()),
        Line::styled(format!("  {cmd}"), theme.header()),
        Line::styled("  then: leakline watch --case DIR", theme.dim()),
    ];
    if let Some(why) = why {
        lines.push(Line::styled(format!("  ({why})"), theme.warn_text()));
    }
    lines.extend([
        Line::styled(
            "Every action below is written to the case's tamper-evident journal.",
            theme.dim(),
        ),
        Line::from(""),
    ]);
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
    lines
}

fn render_steps(app: &App, doc: &Playbook, selected: usize, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let [summary, list, hint] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(1), Constraint::Length(1)])
            .areas(area);
    Paragraph::new(Line::styled(sanitize(&doc.summary, 1000).into_owned(), theme.dim()))
        .wrap(Wrap { trim: true })
        .render(summary, buf);
    // The title takes what role, time budget and command count leave.
    let title_w = usize::from(list.width).saturating_sub(4 + 17 + 9 + 6).clamp(10, 60);
    let height = usize::from(list.height);
    let first = scroll_for(selected, height);
    let lines: Vec<Line> = doc
        .steps
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, s)| {
            let sla = s.sla_minutes.map_or_else(String::new, |m| {
                format!("≤{}", crate::playbook::format_duration(u64::from(m) * 60))
            });
            let line = Line::from(vec![
                Span::raw(format!("{:>2}. ", i + 1)),
                Span::raw(format!("{:<title_w$} ", crate::text::fit(&clean(&s.title), title_w))),
                Span::styled(format!("{:<16} ", clean(&s.role)), theme.dim()),
                Span::styled(format!("{sla:<8}"), theme.dim()),
                Span::styled(
                    if s.commands.is_empty() {
                        String::new()
                    } else {
                        format!("{} cmd", s.commands.len())
                    },
                    theme.dim(),
                ),
            ]);
            if i == selected { line.style(theme.selected()) } else { line }
        })
        .collect();
    Paragraph::new(lines).render(list, buf);
    Paragraph::new(Line::from(vec![
        Span::styled("Enter", theme.key()),
        Span::raw(" instructions  "),
        Span::styled("c", theme.key()),
        Span::raw(" copy command  "),
        Span::styled("s d x n", theme.key()),
        Span::raw(" start/done/skip/note (need a case)"),
    ]))
    .render(hint, buf);
}

fn render_step(app: &App, step: &Step, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let mut lines = vec![
        Line::from(vec![
            Span::styled(clean(&step.title), theme.header()),
            Span::styled("  (Esc back)", theme.dim()),
        ]),
        Line::styled(clean(&step.why), theme.dim()),
    ];
    if let Some(case) = &app.case {
        lines.extend(super::casesteps::step_status_lines(app, case, &step.id));
    }
    lines.push(Line::from(""));
    lines.extend(step.instructions.lines().map(|l| Line::raw(clean(l))));
    if !step.commands.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::styled(
            "Example commands (adapt before running; c copies the first):",
            theme.header(),
        ));
        for c in &step.commands {
            lines.push(Line::styled(
                format!("  # {} ({})", clean(&c.label), c.platform.as_str()),
                theme.dim(),
            ));
            lines.push(Line::raw(format!("  {}", clean(&c.command))));
        }
    }
    let scroll = app.playbook.scroll.min(usize::from(u16::MAX)) as u16;
    Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll, 0)).render(area, buf);
}
