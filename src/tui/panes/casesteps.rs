//! The Playbook view with a case open: one row per step (state, role, SLA countdown, verify
//! status) and, under the list, the selected step's last action and verify evidence.
//!
//! Urgency is never colour alone: amber rows carry "⚠", red ones "OVERDUE"/"✖".

use chrono::TimeDelta;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::scroll_for;
use crate::playbook::{Playbook, SlaStatus, StepState, VerifyOutcome, VerifyResult};
use crate::text::{clean, fit};
use crate::tui::app::App;
use crate::tui::casework::CaseView;
use crate::tui::format;

fn dur(secs: i64) -> String {
    format::duration(TimeDelta::seconds(secs.max(0)))
}

/// The state as a symbol plus a word, and its style.
fn state_label(app: &App, state: StepState) -> (&'static str, Style) {
    let t = app.theme;
    match state {
        StepState::Pending => ("○ pending", t.dim()),
        StepState::InProgress => ("▶ active", t.key()),
        StepState::Done => ("✔ done", t.ok_text()),
        StepState::Skipped => ("» skipped", t.dim()),
        StepState::Blocked => ("✖ blocked", t.danger_text()),
    }
}

/// The SLA cell: countdown, "⚠" near the deadline (amber), "✖ OVERDUE" past it (red).
#[must_use]
pub fn sla_label(app: &App, sla: SlaStatus) -> (String, Style) {
    let t = app.theme;
    match sla {
        SlaStatus::None => (String::new(), t.dim()),
        SlaStatus::OnTrack { secs_left, .. } => (format!("⏱ {} left", dur(secs_left)), t.dim()),
        SlaStatus::Near { secs_left, .. } => (format!("⚠ {} left", dur(secs_left)), t.warn_text()),
        SlaStatus::Overdue { secs_over, .. } => {
            (format!("✖ OVERDUE {}", dur(secs_over)), t.danger_text())
        }
        SlaStatus::Met { .. } => ("SLA met".to_owned(), t.dim()),
        SlaStatus::Missed { secs_late, .. } => (format!("late {}", dur(secs_late)), t.warn_text()),
        SlaStatus::Skipped => ("SLA n/a: skipped".to_owned(), t.dim()),
    }
}

fn verify_label(app: &App, result: Option<&VerifyResult>) -> (&'static str, Style) {
    let t = app.theme;
    match result.map(|r| r.outcome) {
        None => ("", t.dim()),
        Some(VerifyOutcome::Verified) => ("✔ verified", t.ok_text()),
        Some(VerifyOutcome::NotYet) => ("… not yet", t.dim()),
        Some(VerifyOutcome::NotEvaluated) => ("– unchecked", t.dim()),
    }
}

pub fn render(
    app: &App,
    case: &CaseView,
    doc: &Playbook,
    selected: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let theme = app.theme;
    let rows = u16::try_from(doc.steps.len()).unwrap_or(u16::MAX).max(1);
    let [list, _, detail, _, hint] = Layout::vertical([
        Constraint::Max(rows),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let title_w = usize::from(list.width).saturating_sub(4 + 10 + 15 + 19 + 12).clamp(10, 60);
    let height = usize::from(list.height);
    let first = scroll_for(selected, height);
    let mut lines = Vec::with_capacity(height);
    for (i, s) in doc.steps.iter().enumerate().skip(first).take(height) {
        let status = case.state.step(&s.id);
        let (state, state_style) = state_label(app, status.map_or(StepState::Pending, |x| x.state));
        let (sla, sla_style) = status
            .map_or((String::new(), theme.dim()), |x| sla_label(app, case.state.sla(x, app.now)));
        let (verify, verify_style) = verify_label(app, case.verify_of(&s.id));
        let line = Line::from(vec![
            Span::raw(format!("{:>2}. ", i + 1)),
            Span::styled(format!("{state:<10}"), state_style),
            Span::raw(format!("{:<title_w$} ", fit(&clean(&s.title), title_w))),
            Span::styled(format!("{:<14} ", fit(&clean(&s.role), 14)), theme.dim()),
            Span::styled(format!("{:<18} ", fit(&sla, 18)), sla_style),
            Span::styled(verify, verify_style),
        ]);
        lines.push(if i == selected { line.style(theme.selected()) } else { line });
    }
    Paragraph::new(lines).render(list, buf);
    if let Some(step) = doc.steps.get(selected) {
        let mut info = step_status_lines(app, case, &step.id);
        info.truncate(3);
        Paragraph::new(info).wrap(Wrap { trim: true }).render(detail, buf);
    }
    Paragraph::new(Line::from(vec![
        Span::styled("Enter", theme.key()),
        Span::raw(" details  "),
        Span::styled("s", theme.key()),
        Span::raw(" start  "),
        Span::styled("d", theme.key()),
        Span::raw(" done  "),
        Span::styled("x", theme.key()),
        Span::raw(" skip  "),
        Span::styled("b", theme.key()),
        Span::raw(" block  "),
        Span::styled("r", theme.key()),
        Span::raw(" reopen  "),
        Span::styled("u", theme.key()),
        Span::raw(" undo  "),
        Span::styled("n", theme.key()),
        Span::raw(" note  "),
        Span::styled("c", theme.key()),
        Span::raw(" copy  "),
        Span::styled("E", theme.key()),
        Span::raw(" export"),
    ]))
    .render(hint, buf);
}

/// The journaled status of one step: last action (who, when, note), SLA, verify result with
/// its evidence and caveats.
#[must_use]
pub fn step_status_lines(app: &App, case: &CaseView, id: &str) -> Vec<Line<'static>> {
    let theme = app.theme;
    let tz = format::zone(&app.snapshot.timezone);
    let mut lines = Vec::new();
    let Some(status) = case.state.step(id) else {
        return lines;
    };
    let (state, state_style) = state_label(app, status.state);
    let mut first = vec![Span::styled(state.to_owned(), state_style)];
    let unverified = status.history.last().filter(|_| status.state == StepState::Done);
    if unverified.is_some_and(|e| e.unverified.is_some()) {
        first.push(Span::styled(" (unverified)", theme.warn_text()));
    }
    if let (Some(at), Some(by)) = (status.at, &status.by) {
        first.push(Span::raw(format!(" by {} at {}", clean(by), format::stamp(at, tz))));
    }
    if let Some(note) = &status.note {
        first.push(Span::styled(format!(" — {}", clean(note)), theme.dim()));
    }
    let (sla, sla_style) = sla_label(app, case.state.sla(status, app.now));
    if !sla.is_empty() {
        first.push(Span::raw("  "));
        first.push(Span::styled(sla, sla_style));
    }
    lines.push(Line::from(first));
    if let Some(result) = case.verify_of(id) {
        let (word, style) = verify_label(app, Some(result));
        lines.push(Line::from(vec![
            Span::styled(format!("{word}: "), style),
            Span::raw(clean(&result.summary)),
        ]));
        for e in &result.evidence {
            let when = e.time.map(|t| format!(" at {}", format::stamp(t, tz))).unwrap_or_default();
            lines.push(Line::styled(
                format!("  evidence: {} — {}{when}", clean(&e.service), clean(&e.what)),
                theme.dim(),
            ));
        }
        for c in &result.caveats {
            lines.push(Line::styled(format!("  caveat: {}", clean(c)), theme.warn_text()));
        }
    }
    lines
}
