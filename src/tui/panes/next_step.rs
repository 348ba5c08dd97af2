//! "What next": the one line the Overview shows under the services, and the exact command the
//! Playbook view shows without a case.
//!
//! With a case: the current playbook step (the first one not done or skipped), its SLA and the
//! keys that act on it. Without one: the `leakline case init` command with this session's
//! config file filled in, or, when the session has no config file (quick flags, demo), the
//! command with `FILE` and the reason.

use ratatui::text::{Line, Span};

use crate::playbook::StepState;
use crate::text::{clean, fit};
use crate::tui::app::App;

/// The playbook a new case opens with when the session shows none.
pub const DEFAULT_PLAYBOOK: &str = "exposed-api-endpoint";

/// `path` as one shell word: bare when it is plain, single-quoted otherwise.
fn shell_word(s: &str) -> String {
    let plain =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+,:=@%".contains(&b));
    if plain { s.to_owned() } else { format!("'{}'", s.replace('\'', r"'\''")) }
}

/// The command that opens a case for this session, and, when it cannot be exact, why.
#[must_use]
pub fn case_init_command(app: &App) -> (String, Option<&'static str>) {
    let playbook = app.playbook_doc.as_ref().map_or(DEFAULT_PLAYBOOK, |p| p.id.as_str());
    let playbook = shell_word(&clean(playbook));
    match &app.config_path {
        Some(path) => (
            format!(
                "leakline case init DIR --config {} --playbook {playbook}",
                shell_word(&clean(&path.to_string_lossy()))
            ),
            None,
        ),
        None => (
            format!("leakline case init DIR --config FILE --playbook {playbook}"),
            Some("FILE: write a config for this session; it was not started from one alone"),
        ),
    }
}

/// The Overview's next-step line.
#[must_use]
pub fn line(app: &App, width: usize) -> Line<'static> {
    let theme = app.theme;
    let mut spans = vec![Span::styled("  next: ", theme.key())];
    let Some(case) = &app.case else {
        let (cmd, why) = case_init_command(app);
        if width >= 100 {
            spans.push(Span::raw("open a case: "));
        }
        spans.push(Span::styled(cmd, theme.header()));
        // The reason when it fits; the Playbook view (key 5) always gives it.
        let used: usize = spans.iter().map(Span::width).sum();
        if let Some(why) = why.map(|w| format!(" ({w})")) {
            if used + why.chars().count() <= width {
                spans.push(Span::styled(why, theme.warn_text()));
            }
        }
        return Line::from(spans);
    };
    let Some(doc) = app.playbook_doc.as_deref() else {
        spans.push(Span::styled("the case's playbook is not loaded", theme.warn_text()));
        return Line::from(spans);
    };
    let current = doc.steps.iter().enumerate().find(|(_, s)| {
        case.state
            .step(&s.id)
            .is_none_or(|st| !matches!(st.state, StepState::Done | StepState::Skipped))
    });
    let Some((i, step)) = current else {
        spans.push(Span::styled(
            format!(
                "playbook complete: all {} steps done or skipped (5 shows them)",
                doc.steps.len()
            ),
            theme.ok_text(),
        ));
        return Line::from(spans);
    };
    let status = case.state.step(&step.id);
    let state = status.map_or(StepState::Pending, |s| s.state);
    let (sla, sla_style) = status.map_or((String::new(), theme.dim()), |s| {
        super::casesteps::sla_label(app, case.state.sla(s, app.now))
    });
    let wide = width >= 100;
    let sla = match (sla.is_empty(), wide) {
        (true, _) => "· no SLA ".to_owned(),
        (false, true) => format!("· SLA {sla} "),
        (false, false) => format!("· {sla} "),
    };
    let keys = match (state, wide) {
        (StepState::Pending, true) => "· key 5, then s start / d done",
        (StepState::InProgress, true) => "· active · key 5, then d done",
        (StepState::Blocked, true) => "· BLOCKED · key 5, then r reopen",
        (StepState::Pending, false) => "· 5, then s / d",
        (StepState::InProgress, false) => "· 5, then d done",
        (StepState::Blocked, false) => "· BLOCKED · 5, r",
        (StepState::Done | StepState::Skipped, _) => "",
    };
    let head = format!("step {}/{} ", i + 1, doc.steps.len());
    let id = format!("({}) ", clean(&step.id));
    // The title takes what the rest leaves; the id goes first when even that is short.
    let fixed = 8 + head.chars().count() + sla.chars().count() + keys.chars().count();
    let title = clean(&step.title);
    let (title_w, id) = match width.saturating_sub(fixed + id.chars().count()) {
        w if w >= 12 => (w - 1, id),
        _ => (width.saturating_sub(fixed + 1).max(8), String::new()),
    };
    spans.push(Span::raw(format!("{head}{} {id}", fit(&title, title_w))));
    spans.push(Span::styled(sla, sla_style));
    spans.push(Span::styled(keys, theme.dim()));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("/etc/leakline/prod.toml"), "/etc/leakline/prod.toml");
        assert_eq!(shell_word("my case.toml"), "'my case.toml'");
        assert_eq!(shell_word("it's.toml"), r"'it'\''s.toml'");
        assert_eq!(shell_word(""), "''");
    }
}
