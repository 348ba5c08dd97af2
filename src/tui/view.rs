//! The frame: banner, tabs, the current pane, the status line, and the help overlay on top.
//!
//! Drawing is a pure function of `&App` into a `Buffer`: no I/O, no clock reads, so the same
//! state always draws the same screen (what the snapshot tests rely on).

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::app::{App, Mode, PromptKind};
use super::format;
use super::keymap::{self, View};
use super::panes;
use crate::model::snapshot::ServiceState;
use crate::text;

/// Smallest supported terminal.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Draw the whole dashboard into `buf` over `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(area, buf);
        return;
    }
    let [banner, tabs, body, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_banner(app, banner, buf);
    render_tabs(app, tabs, buf);
    match app.view {
        View::Overview => panes::overview::render(app, body, buf),
        View::Timeline => panes::timeline::render(app, body, buf),
        View::Actors => panes::actors::render(app, body, buf),
        View::Events => panes::events::render(app, body, buf),
        View::Playbook => panes::playbook::render(app, body, buf),
    }
    render_status(app, status, buf);
    render_hints(app, hints, buf);
    if app.help {
        panes::help::render(app, body, buf);
    }
}

fn too_small(area: Rect, buf: &mut Buffer) {
    let text = vec![
        Line::from("terminal too small"),
        Line::from(format!("need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{}", area.width, area.height)),
        Line::from("enlarge the window, or press q to quit"),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let inner = Rect { y: area.y + top, height: area.height - top, ..area };
    Paragraph::new(text).alignment(Alignment::Center).wrap(Wrap { trim: true }).render(inner, buf);
}

/// The status word and the incident clock: the one line a responder reads first.
fn render_banner(app: &App, area: Rect, buf: &mut Buffer) {
    // The first evidence in full when the whole line fits; the compact form otherwise, so
    // the warnings at the end of the line stay on screen.
    let wide = banner_line(app, true);
    let line = if wide.width() <= usize::from(area.width) { wide } else { banner_line(app, false) };
    Paragraph::new(line).render(area, buf);
}

fn banner_line(app: &App, wide: bool) -> Line<'static> {
    let snap = &app.snapshot;
    let theme = app.theme;
    let open: Vec<&str> = snap
        .services
        .iter()
        .filter(|s| s.state == ServiceState::Open)
        .map(|s| s.name.as_str())
        .collect();
    let ever = snap.services.iter().any(|s| !s.windows.is_empty());
    let cov = &snap.coverage;
    // Green only when every configured source was read and none shows exposure.
    let incomplete = format!(
        " EVIDENCE INCOMPLETE: {} of {} sources unread ",
        cov.sources_unread.len(),
        cov.total()
    );
    let (word, style) = if !open.is_empty() {
        (" EXPOSED ", theme.danger())
    } else if ever {
        (" CONTAINED ", theme.warn())
    } else if cov.nothing_read() {
        (" NO EVIDENCE ", theme.warn())
    } else if !cov.complete() {
        (incomplete.as_str(), theme.warn())
    } else {
        (" NO EXPOSURE SEEN ", theme.ok())
    };
    let mut spans = vec![Span::styled(word.to_owned(), style), Span::raw(" ")];
    if (ever || !open.is_empty()) && !cov.complete() {
        spans.push(Span::styled(incomplete.trim().to_owned(), theme.warn_text()));
        spans.push(Span::raw(" "));
    }
    if !ever && open.is_empty() && !cov.complete() {
        let why = if cov.nothing_read() && cov.total() == 0 {
            "no source found yet".to_owned()
        } else {
            "why: see Sources (key 1)".to_owned()
        };
        spans.push(Span::styled(why, theme.warn_text()));
    } else if !ever && open.is_empty() && cov.nothing_read() {
        spans.push(Span::styled("no source yielded evidence yet", theme.warn_text()));
    } else {
        exposure_detail(app, &open, wide, &mut spans);
    }
    // Times that rest on an assumed zone are said where the clock is read first.
    let assumed = snap.sources.iter().filter(|s| s.zone_assumed).count();
    if assumed > 0 {
        spans.push(Span::styled(
            format!(" · ⚠ zone assumed: {assumed} source(s)"),
            theme.warn_text(),
        ));
    }
    Line::from(spans)
}

/// Which services are (or were) open, and when the external evidence began and ended.
fn exposure_detail(app: &App, open: &[&str], wide: bool, spans: &mut Vec<Span<'static>>) {
    let snap = &app.snapshot;
    let theme = app.theme;
    let detail = if open.is_empty() {
        let closed = snap.services.iter().filter(|s| !s.windows.is_empty()).count();
        if closed > 0 {
            format!("{closed} service(s) were exposed, all closed now")
        } else {
            format!("{} service(s) watched", snap.services.len())
        }
    } else {
        let names = text::clean(&open.join(", "));
        format!("{names} open")
    };
    spans.push(Span::raw(detail));
    // Ages only beside the time they count from. Wide: the first evidence in full RFC 3339
    // with its age, the last in the compact form; narrow: both compact (dated unless today)
    // with their ages.
    let clock = format::Clock::of(app);
    let ago = |t| format::duration(app.now - t);
    if let Some(first) = snap.first_external_evidence() {
        if wide {
            spans.push(Span::styled(" · first evidence ", theme.dim()));
            spans.push(Span::raw(format!("{} ({} ago)", clock.full(first), ago(first))));
        } else {
            spans.push(Span::styled(" · first ", theme.dim()));
            spans.push(Span::raw(format!("{} ({} ago)", clock.at(first), ago(first))));
        }
    }
    if let Some(last) = snap.last_external_evidence() {
        spans.push(Span::styled(" · last ", theme.dim()));
        if wide {
            spans.push(Span::raw(clock.at(last)));
        } else {
            spans.push(Span::raw(format!("{} ({} ago)", clock.at(last), ago(last))));
        }
    }
}

fn render_tabs(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let mut spans = Vec::with_capacity(12);
    for v in View::ALL {
        let label = format!(" {} {} ", v.index() + 1, v.title());
        let style = if v == app.view { theme.tab_active() } else { theme.dim() };
        spans.push(Span::styled(label, style));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
    let tz = format::zone(&app.snapshot.timezone);
    let mode = match app.mode {
        Mode::Live => "LIVE",
        Mode::Replay => "REPLAY",
    };
    // No evidence and no clock (a batch snapshot of nothing): no moment to show, never 1970.
    let when =
        if app.snapshot.stats.events == 0 && app.snapshot.as_of == chrono::DateTime::UNIX_EPOCH {
            "no evidence".to_owned()
        } else if area.width >= 110 {
            format::full(app.snapshot.as_of, tz)
        } else {
            format!("{} {}", format::Clock::of(app).at(app.snapshot.as_of), tz.name())
        };
    let right = format!("{mode} {when} ");
    Paragraph::new(Line::from(Span::styled(right, theme.header())))
        .alignment(Alignment::Right)
        .render(area, buf);
}

fn render_status(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    // While secrets are revealed the status bar says so, in colour and in words, always.
    if app.reveal {
        let flag = " SECRETS REVEALED · R hides ";
        let w = (flag.chars().count() as u16).min(area.width);
        let [rest, right] =
            Layout::horizontal([Constraint::Min(0), Constraint::Length(w)]).areas(area);
        Paragraph::new(Line::from(Span::styled(flag, theme.danger()))).render(right, buf);
        return render_status_line(app, rest, buf);
    }
    render_status_line(app, area, buf);
}

/// The bottom bar: the keys of what is on screen, from the keymap (help overlay: how to close
/// it; prompt: the input keys), cut at the last whole hint that fits.
fn render_hints(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let pairs = if app.help {
        vec![("? Esc Enter", "close help"), ("q", "quit")]
    } else {
        keymap::hints(app.scope())
    };
    let cost = |(keys, what): &(&str, &str)| keys.chars().count() + what.chars().count() + 3;
    // `?` (all the keys) always shows; the others fill the rest in keymap order.
    let reserved: usize = pairs.iter().filter(|(k, _)| k.starts_with('?')).map(cost).sum();
    let mut room = usize::from(area.width).saturating_sub(reserved) + 2;
    let mut spans = Vec::with_capacity(pairs.len() * 2);
    for pair in &pairs {
        let (keys, what) = *pair;
        if !keys.starts_with('?') {
            if cost(pair) > room {
                continue;
            }
            room -= cost(pair);
        }
        spans.push(Span::styled(keys, theme.key()));
        spans.push(Span::styled(format!(" {what}  "), theme.dim()));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}

fn render_status_line(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let line = if let Some(p) = &app.prompt {
        let label = match p.kind {
            PromptKind::Filter => "filter (text field:value -not /re/): ",
            PromptKind::SkipReason => "why skip this step? ",
            PromptKind::BlockReason => "blocked on what? ",
            PromptKind::Note => "note: ",
            PromptKind::Operator => "who is acting? (your name, journaled) ",
            PromptKind::Confirm => "Enter confirms, Esc cancels — ",
        };
        let mut spans = vec![
            Span::styled(label, theme.key()),
            Span::raw(text::clean(&p.text)),
            Span::styled("▏", theme.key()),
        ];
        // Why the prompt is still open (an empty reason) shows beside it.
        if let Some(m) = &app.message {
            spans.push(Span::styled(format!("  {}", text::clean(m)), theme.warn_text()));
        }
        Line::from(spans)
    } else if let Some(m) = &app.message {
        Line::from(Span::styled(text::clean(m), theme.warn_text()))
    } else if let Some(c) = app.caption() {
        Line::from(vec![Span::styled("▶ ", theme.key()), Span::raw(text::clean(c))])
    } else {
        Line::from(Span::styled(text::clean(&app.title), theme.dim()))
    };
    Paragraph::new(line).render(area, buf);
}
