//! Events: the live stream of external requests and scan observations, newest at the bottom,
//! with `/` filter, pause/follow and a detail view of one row.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::section;
use crate::model::{Event, Request, ScanObservation};
use crate::text::{clean, sanitize};
use crate::tui::app::App;
use crate::tui::feed::FeedRow;
use crate::tui::format;
use crate::tui::theme::Theme;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let [title, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let ev = &app.events;
    let filter = app.feed.filter();
    // The keys (p, G, /, Esc) are on the hint bar; the title keeps room for the filter.
    let state = if ev.paused_at.is_some() { "PAUSED" } else { "following" };
    let filt = if filter.is_empty() {
        "no filter".to_owned()
    } else {
        format!("filter: {}", sanitize(filter.text(), 60))
    };
    let extra = format!(
        "{} of {} · {state} · {filt}{}",
        app.feed.visible_len(),
        app.feed.len(),
        if app.lagged > 0 {
            format!(" · {} missed (display lagged)", app.lagged)
        } else {
            String::new()
        }
    );
    section("Events", &extra, app.theme, title, buf);
    if ev.detail {
        if let Some(row) = ev.selected.and_then(|s| app.feed.get(s)) {
            render_detail(app, row, list, buf);
            return;
        }
    }
    render_list(app, list, buf);
}

/// Column widths of the list, from the terminal width: the path gets what the fixed columns
/// leave after 24 for the user agent (12 to 40), the service 10 or 14, the user agent the rest.
#[derive(Debug, Clone, Copy)]
struct Columns {
    /// 8 (`HH:MM:SS`), or 14 when a shown row is on another day (`MM-DD HH:MM:SS`).
    time: usize,
    service: usize,
    path: usize,
}

impl Columns {
    fn for_width(width: usize, time: usize) -> Columns {
        // time+1, client 17, status 4, method 7, bytes 11 = 40 + time.
        let service = if width >= 100 { 14 } else { 10 };
        // Below 100 columns the path matters more than the user agent.
        let ua = if width >= 100 { 24 } else { 4 };
        let path = width.saturating_sub(40 + time + service + 1 + ua).clamp(12, 40);
        Columns { time, service, path }
    }

    fn header(self, theme: Theme) -> Line<'static> {
        let Columns { time, service, path } = self;
        Line::styled(
            format!(
                "{:<time$} {:<16} {:<service$} {:>3} {:<6} {:<path$} {:>9}  {}",
                "time",
                "client",
                "service",
                "st",
                "method",
                "path",
                "bytes",
                "user agent / scan details"
            ),
            theme.dim(),
        )
    }
}

fn render_list(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let clock = format::Clock::of(app);
    let feed = &app.feed;
    let [header, area] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let Some(last) = feed.visible_index_at_or_before(app.events.paused_at.unwrap_or(u64::MAX))
    else {
        let msg = if feed.is_empty() {
            "  waiting for external requests and scans…"
        } else {
            "  nothing matches the filter"
        };
        Paragraph::new(Line::styled(msg, theme.dim())).render(area, buf);
        return;
    };
    let height = usize::from(area.height);
    let selected = app.events.selected.and_then(|s| feed.visible_index_at_or_before(s));
    // The bottom row is the newest shown, unless the selection sits above the screen.
    let bottom = match selected {
        Some(s) if s + height <= last => s + height - 1,
        _ => last,
    };
    let top = (bottom + 1).saturating_sub(height);
    // One time width for the rows on screen, so the columns line up under the header.
    let dated =
        (top..=bottom).filter_map(|i| feed.visible_row(i)).any(|r| clock.dated(r.event.time()));
    let cols = Columns::for_width(usize::from(area.width), if dated { 14 } else { 8 });
    Paragraph::new(cols.header(theme)).render(header, buf);
    let lines: Vec<Line> = (top..=bottom)
        .filter_map(|i| feed.visible_row(i).map(|r| (i, r)))
        .map(|(i, r)| {
            let service = feed.labels().service(&r.event);
            let line = row_line(r, service, theme, clock, cols);
            if Some(i) == selected { line.style(theme.selected()) } else { line }
        })
        .collect();
    Paragraph::new(lines).render(area, buf);
}

fn status_style(status: u16, theme: Theme) -> Style {
    match status {
        200..=399 => theme.danger_text(),
        _ => theme.dim(),
    }
}

fn row_line(
    row: &FeedRow,
    service: &str,
    theme: Theme,
    clock: format::Clock,
    cols: Columns,
) -> Line<'static> {
    let service = if service.is_empty() { "-".into() } else { sanitize(service, cols.service) };
    let service = Span::raw(format!("{service:<w$} ", w = cols.service));
    match &*row.event {
        Event::Request(r) => request_line(r, service, theme, clock, cols),
        Event::Scan(s) => scan_line(s, service, theme, clock, cols),
    }
}

fn client_of(r: &Request) -> String {
    r.client.or(r.peer).map_or_else(|| "?".to_owned(), |ip| ip.to_string())
}

/// `12:03:22 198.51.100.201  model-gw   200 POST /v1/embeddings 512.0 KiB  python-requests/2.32`.
fn request_line(
    r: &Request,
    service: Span<'static>,
    theme: Theme,
    clock: format::Clock,
    cols: Columns,
) -> Line<'static> {
    let path_w = cols.path;
    Line::from(vec![
        Span::styled(format!("{:<w$} ", clock.at(r.time), w = cols.time), theme.dim()),
        Span::raw(format!("{:<16} ", client_of(r))),
        service,
        Span::styled(format!("{:>3} ", r.status), status_style(r.status, theme)),
        Span::raw(format!("{:<6} ", sanitize(&r.method, 6))),
        Span::raw(format!("{:<path_w$} ", sanitize(r.path(), path_w))),
        Span::raw(format!("{:>9}  ", format::bytes(r.bytes_sent))),
        Span::styled(sanitize(&r.user_agent, 60).into_owned(), theme.dim()),
    ])
}

fn target_of(s: &ScanObservation) -> String {
    let host = s.address.map_or_else(|| clean(&s.hostname), |ip| ip.to_string());
    match (s.port, &s.covered) {
        (Some(p), _) => format!("{host}:{p}"),
        // A down host stands for every port its scan covered.
        (None, Some(covered)) => format!("{host} ({} ports scanned)", covered.count()),
        (None, None) => host,
    }
}

fn scan_line(
    s: &ScanObservation,
    service: Span<'static>,
    theme: Theme,
    clock: format::Clock,
    cols: Columns,
) -> Line<'static> {
    let style = if s.state.is_open() {
        theme.danger_text()
    } else if s.state.is_negative() {
        theme.ok_text()
    } else {
        theme.warn_text()
    };
    Line::from(vec![
        Span::styled(format!("{:<w$} ", clock.at(s.time), w = cols.time), theme.dim()),
        Span::styled(format!("SCAN {:<11} ", s.tool.as_str()), theme.header()),
        service,
        Span::raw(format!("{} ", target_of(s))),
        Span::styled(format!("{} ", s.state.label(s.scanner_state).to_uppercase()), style),
        Span::styled(sanitize(&s.details, 60).into_owned(), theme.dim()),
    ])
}

fn field(name: &str, value: String, theme: Theme) -> Line<'static> {
    Line::from(vec![Span::styled(format!("{name:<14}"), theme.dim()), Span::raw(value)])
}

fn render_detail(app: &App, row: &FeedRow, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let tz = format::zone(&app.snapshot.timezone);
    let long = usize::from(area.width.saturating_sub(16)).max(8);
    let opt = |v: &str| if v.is_empty() { "-".to_owned() } else { sanitize(v, long).into_owned() };
    let mut lines = vec![Line::styled("(Esc back)", theme.dim())];
    match &*row.event {
        Event::Request(r) => {
            lines.extend([
                field(
                    "time",
                    format!("{} (UTC{:+})", format::full(r.time, tz), r.utc_offset_secs / 3600),
                    theme,
                ),
                field("client", client_of(r), theme),
                field("peer", r.peer.map_or_else(|| "-".to_owned(), |p| p.to_string()), theme),
                field("forwarded", opt(&r.forwarded_for), theme),
                field(
                    "request",
                    format!("{} {} {}", opt(&r.method), opt(&r.target), opt(&r.protocol)),
                    theme,
                ),
                field("raw request", opt(&r.raw_request), theme),
                field("status", r.status.to_string(), theme),
                field("bytes sent", format::bytes_exact(r.bytes_sent), theme),
                field("user agent", opt(&r.user_agent), theme),
                field("referer", opt(&r.referer), theme),
                field("host", opt(&r.host), theme),
                field(
                    "duration",
                    r.duration_us
                        .map_or_else(|| "-".to_owned(), |d| format!("{:.3} s", d as f64 / 1e6)),
                    theme,
                ),
                field(
                    "exposure",
                    if row.external { "external".to_owned() } else { "internal".to_owned() },
                    theme,
                ),
                field("service", opt(app.feed.labels().service(&row.event)), theme),
                field("evidence", evidence(app, &row.event, r.source.0, r.line, "line"), theme),
            ]);
        }
        Event::Scan(s) => {
            lines.extend([
                field("time", format::full(s.time, tz), theme),
                field("tool", s.tool.as_str().to_owned(), theme),
                field("target", target_of(s), theme),
                field("state", s.state.label(s.scanner_state).to_owned(), theme),
                field("details", opt(&s.details), theme),
                field(
                    "vantage",
                    if row.external { "external".to_owned() } else { "internal".to_owned() },
                    theme,
                ),
                field("service", opt(app.feed.labels().service(&row.event)), theme),
                field("evidence", evidence(app, &row.event, s.source.0, s.line, "record"), theme),
            ]);
        }
    }
    Paragraph::new(lines).render(area, buf);
}

/// `/var/log/nginx/access.log:1234`: the file and line the event was read from (a scan:
/// `file.xml record 3`, records are not lines); the source number when the snapshot does not
/// list the source.
fn evidence(app: &App, event: &Event, source: u32, line: u64, unit: &str) -> String {
    match (app.feed.labels().path(event), unit) {
        (Some(path), "line") => format!("{}:{line}", clean(path)),
        (Some(path), _) => format!("{} {unit} {line}", clean(path)),
        (None, _) => format!("source #{source} (not listed in the snapshot) {unit} {line}"),
    }
}
