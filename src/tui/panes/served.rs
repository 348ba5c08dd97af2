//! "What was served": a window's most requested paths and its sensitive paths (the config's
//! `sensitive` rules), for the Overview; the rules that apply to an actor, for its detail.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::config::SensitivePath;
use crate::model::Snapshot;
use crate::model::snapshot::Window;
use crate::text::sanitize;
use crate::tui::format;
use crate::tui::theme::Theme;

/// Paths listed per window: compact (80 columns or a short screen) and rich.
const COMPACT_PATHS: usize = 3;
const RICH_PATHS: usize = 5;

/// The `sensitive` rules of the named services (as their windows carry them), deduplicated.
#[must_use]
pub fn rules_for(snap: &Snapshot, services: &[String]) -> Vec<SensitivePath> {
    let mut rules: Vec<SensitivePath> = Vec::new();
    for s in snap.services.iter().filter(|s| services.contains(&s.name)) {
        for c in s.windows.iter().flat_map(|w| &w.sensitive) {
            if !rules.iter().any(|r| r.path == c.path && r.label == c.label) {
                if let Ok(r) = SensitivePath::new(&c.path, &c.label) {
                    rules.push(r);
                }
            }
        }
    }
    rules
}

/// The label of the first rule `path` (the query is ignored) matches.
#[must_use]
pub fn label_of<'a>(rules: &'a [SensitivePath], path: &str) -> Option<&'a str> {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    rules.iter().find(|r| r.matches(path)).map(|r| r.label.as_str())
}

/// The lines under one window. Compact: the top paths on one line, then one line per
/// sensitive rule that was requested. Rich: one line per top path (a sensitive one marked
/// with its label) and one per sensitive rule, requested or not, with its first success.
#[must_use]
pub fn window_lines(
    w: &Window,
    theme: Theme,
    clock: format::Clock,
    rich: bool,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if rich {
        if !w.top_paths.is_empty() {
            lines.push(Line::styled(
                format!("      {:<34} {:>7} {:>7} {:>10}", "what was served", "req", "ok", "bytes"),
                theme.dim(),
            ));
        }
        for p in w.top_paths.iter().take(RICH_PATHS) {
            let label = w.sensitive_label(&p.path);
            let style = if label.is_some() { theme.danger_text() } else { Style::default() };
            let mut spans = vec![Span::styled(
                format!(
                    "      {:<34} {:>7} {:>7} {:>10}",
                    sanitize(&p.path, 34),
                    format::count(p.requests),
                    p.successes.map_or_else(|| "—".to_owned(), format::count),
                    p.bytes.map_or_else(|| "—".to_owned(), format::bytes),
                ),
                style,
            )];
            if let Some(l) = label {
                spans.push(Span::styled(format!("  ⚠ {}", sanitize(l, 30)), theme.danger_text()));
            }
            lines.push(Line::from(spans));
        }
        for s in &w.sensitive {
            lines.push(sensitive_line(s, theme, clock, true));
        }
    } else {
        if !w.top_paths.is_empty() {
            let paths: Vec<String> = w
                .top_paths
                .iter()
                .take(COMPACT_PATHS)
                .map(|p| format!("{} {}", sanitize(&p.path, 22), format::count(p.requests)))
                .collect();
            let more = w.top_paths.len().saturating_sub(COMPACT_PATHS);
            let more = if more > 0 { format!(" +{more}") } else { String::new() };
            lines.push(Line::from(vec![
                Span::styled("      served ", theme.dim()),
                Span::raw(format!("{}{more}", paths.join(" · "))),
            ]));
        }
        for s in w.sensitive.iter().filter(|s| s.requests > 0) {
            lines.push(sensitive_line(s, theme, clock, false));
        }
    }
    lines
}

/// `⚠ model list /v1/models  179 req 170 ok 1.2 MiB  first ok 02:17:45 198.51.100.7 GET /v1/models 200`
fn sensitive_line(
    s: &crate::model::snapshot::SensitiveCount,
    theme: Theme,
    clock: format::Clock,
    rich: bool,
) -> Line<'static> {
    let mut spans =
        vec![Span::styled(format!("      ⚠ {}", sanitize(&s.label, 20)), theme.danger_text())];
    // The rule's pattern only where there is room for it (the label says what it is).
    if rich {
        spans.push(Span::styled(format!(" {}", sanitize(&s.path, 24)), theme.dim()));
    }
    if s.requests == 0 {
        spans.push(Span::styled("  no requests", theme.dim()));
        return Line::from(spans);
    }
    spans.push(Span::raw(format!(
        "  {} req {} ok {}",
        format::count(s.requests),
        format::count(s.successes),
        format::bytes(s.bytes)
    )));
    match &s.first_success {
        Some(h) => {
            spans.push(Span::styled("  first ok ", theme.dim()));
            spans.push(Span::raw(format!("{} ", clock.at(h.time))));
            spans.push(Span::styled(sanitize(&h.client, 39).into_owned(), theme.header()));
            if rich {
                spans.push(Span::raw(format!(
                    " {} {} {}",
                    sanitize(&h.method, 8),
                    sanitize(&h.path, 28),
                    h.status
                )));
            }
        }
        None => spans.push(Span::styled("  none succeeded", theme.dim())),
    }
    Line::from(spans)
}
