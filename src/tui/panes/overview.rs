//! Overview: per-service state and windows, top actors by bytes, source health.
//! The screen that answers "is anything exposed, since when, who, how much".

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget};

use super::section;
use crate::model::snapshot::{
    Hit, ServiceState, ServiceSummary, SourceHealth, Window, WindowStatus,
};
use crate::model::{Snapshot, SourceKind};
use crate::text::{clean, sanitize};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::theme::Theme;

/// Actors shown in the overview's table when there is room.
const TOP_ACTORS: usize = 12;
/// Source rows shown before "+N more".
const MAX_SOURCES: usize = 6;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let snap = &app.snapshot;
    let theme = app.theme;
    let clock = format::Clock::of(app);
    // Richer "what was served" (a line per path) when the screen has room for it.
    let rich = area.width >= 110 && area.height >= 34;
    let (lines, service_rows) = service_lines(app, clock, rich);
    let sources = source_rows(snap);
    // Priority when space is short: services (the answer), then a few actors, then sources.
    let sources_h = (sources.len().clamp(1, MAX_SOURCES) as u16 + 1).min(area.height / 4).max(2);
    let actors_min = 3u16.min(snap.actors.len() as u16 + 1).max(2);
    // +1: the next-step line under the services.
    let services_h = (lines.len() as u16 + 1)
        .clamp(3, area.height.saturating_sub(2 + sources_h + 1 + actors_min).max(3));
    let [services_title, services_area, actors_title, actors_area, sources_title, sources_area] =
        Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(services_h),
            Constraint::Length(1),
            Constraint::Min(2),
            Constraint::Length(1),
            Constraint::Length(sources_h),
        ])
        .areas(area);
    section("Services", "state, exposure windows, external traffic", theme, services_title, buf);
    let [services_area, next_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(services_area);
    let visible = visible_services(lines, &service_rows, app, usize::from(services_area.height));
    Paragraph::new(visible).render(services_area, buf);
    Paragraph::new(super::next_step::line(app, usize::from(area.width))).render(next_area, buf);
    let all = format!(
        "of {} external clients · key 3 lists all",
        crate::tui::format::count(snap.actors_total())
    );
    section("Top actors by bytes served", &all, theme, actors_title, buf);
    render_actors(snap, theme, clock, actors_area, buf);
    section("Sources", "", theme, sources_title, buf);
    render_sources(&sources, theme, sources_area, buf);
}

/// A source's lag (newest line read vs now) in its largest unit: `2s`, `4m`, `5h`, `270d`.
fn lag_text(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "-".to_owned();
    }
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn state_word(state: ServiceState, theme: Theme) -> Span<'static> {
    match state {
        ServiceState::Open => Span::styled(" OPEN ", theme.danger()),
        ServiceState::Closed => Span::styled(" CLOSED ", theme.warn()),
        ServiceState::NeverExposed => Span::styled(" NOT EXPOSED ", theme.ok()),
        ServiceState::Unknown => Span::styled(" NO EVIDENCE ", theme.warn()),
    }
}

/// The service lines that fit in `height` rows at the responder's scroll position. What does
/// not fit is never dropped silently: the last row then says how many lines, and which
/// services, are below (and the first row how many are above), with the keys that scroll.
fn visible_services(
    lines: Vec<Line<'static>>,
    service_rows: &[(usize, String)],
    app: &App,
    height: usize,
) -> Vec<Line<'static>> {
    let total = lines.len();
    if total <= height || height < 3 {
        return lines;
    }
    // One row for each marker that is needed; the scroll position is clamped so that the
    // last line can always be reached.
    let max_scroll = total - (height - 1);
    let scroll = app.overview_scroll.min(max_scroll);
    let above = scroll;
    let room = height - usize::from(above > 0);
    let below = total.saturating_sub(scroll + room);
    let room = if below > 0 { room - 1 } else { room };
    let below = total.saturating_sub(scroll + room);
    let theme = app.theme;
    let mut out = Vec::with_capacity(height);
    if above > 0 {
        out.push(Line::from(Span::styled(
            format!("  ↑ {above} more line(s) above: ↑/k scrolls"),
            theme.warn_text(),
        )));
    }
    out.extend(lines.into_iter().skip(scroll).take(room));
    if below > 0 {
        let first_hidden = scroll + room;
        let hidden: Vec<&str> = service_rows
            .iter()
            .filter(|(row, _)| *row >= first_hidden)
            .map(|(_, name)| name.as_str())
            .collect();
        let which = if hidden.is_empty() {
            String::new()
        } else {
            format!(", {} more service(s): {}", hidden.len(), hidden.join(", "))
        };
        out.push(Line::from(Span::styled(
            format!("  ↓ {below} more line(s) below{which} · ↓/j scrolls"),
            theme.warn_text(),
        )));
    }
    out
}

/// The Services section's lines, and for each service the row of its header line with its
/// (sanitized) name, so that whatever does not fit on screen can be named.
fn service_lines(
    app: &App,
    clock: format::Clock,
    rich: bool,
) -> (Vec<Line<'static>>, Vec<(usize, String)>) {
    let theme = app.theme;
    let mut lines = Vec::new();
    let mut service_rows = Vec::new();
    let mut legend = false;
    for s in &app.snapshot.services {
        service_rows.push((lines.len(), clean(&s.name)));
        lines.push(Line::from(vec![
            state_word(s.state, theme),
            Span::raw(" "),
            Span::styled(clean(&s.name), theme.header()),
            Span::raw(format!(
                "  {} ext req · {} ok · {} sent · {} clients",
                format::count(s.external_requests),
                format::count(s.external_successes),
                format::bytes(s.external_bytes),
                format::count(s.external_clients),
            )),
        ]));
        if s.unattributed_requests > 0 {
            lines.push(Line::styled(
                format!(
                    "  {} request(s) without a client address: not counted as evidence",
                    format::count(s.unattributed_requests)
                ),
                theme.warn_text(),
            ));
        }
        if s.forwarded_unknown_requests > 0 {
            lines.push(Line::styled(
                format!(
                    "  {} external request(s) with an unknown client (junk X-Forwarded-For behind a trusted proxy)",
                    format::count(s.forwarded_unknown_requests)
                ),
                theme.warn_text(),
            ));
        }
        for (i, w) in s.windows.iter().enumerate() {
            lines.push(window_line(i + 1, w, app, clock));
            lines.extend(super::served::window_lines(w, theme, clock, rich));
        }
        if !s.windows.is_empty() && !std::mem::replace(&mut legend, true) {
            lines.push(window_legend(theme));
        }
        if let Some(h) = &s.first_external {
            lines.push(hit_line("first external       ", h, theme, clock));
        }
        if let Some(h) = &s.first_non_scanner_success {
            lines.push(hit_line("first non-scanner ok ", h, theme, clock));
        }
        if s.windows.is_empty() {
            let style =
                if s.state == ServiceState::Unknown { theme.warn_text() } else { theme.dim() };
            lines.push(Line::styled(no_window_text(s, clock), style));
        }
        if !s.coverage.complete() && s.state != ServiceState::Unknown {
            lines.push(Line::styled(
                format!(
                    "  evidence incomplete: {} of {} sources unread (see Sources)",
                    s.coverage.sources_unread.len(),
                    s.coverage.total()
                ),
                theme.warn_text(),
            ));
        }
    }
    if lines.is_empty() {
        lines.push(Line::styled("  no services configured", theme.dim()));
    }
    (lines, service_rows)
}

/// A service without a window: what was read, and over which span (never an all-clear
/// without evidence: a service nothing covers says so).
fn no_window_text(s: &ServiceSummary, clock: format::Clock) -> String {
    if s.state == ServiceState::Unknown {
        return format!("  {}", clean(&crate::correlate::coverage::verdict_note(s)));
    }
    let seen = match (s.coverage.from, s.coverage.to) {
        (Some(from), Some(to)) => format!(
            "{} in {}–{}",
            crate::correlate::coverage::never_exposed_words(s),
            clock.at(from),
            clock.at(to)
        ),
        _ => "no external evidence yet".to_owned(),
    };
    let scans = s.scans.len();
    if scans == 0 {
        format!("  {seen}")
    } else if s.internal_requests + s.unattributed_requests + s.forwarded_unknown_requests == 0 {
        format!("  {seen} ({scans} scan observation(s))")
    } else {
        format!("  {seen}; {scans} scan observation(s), none open")
    }
}

/// `#1 11:00:09~11:42:10 → 12:29:30~12:40:09 closed ≥47m 20s ≤1h 40m  86 req  20.8 MiB`:
/// the uncertain part of each bound dimmed, the observed part plain; an open window says
/// `OPEN` (red), a closed one `closed`: the state is in the words, not only the colour.
/// Times carry their date unless they are from today ([`format::Clock`]).
fn window_line(n: usize, w: &Window, app: &App, clock: format::Clock) -> Line<'static> {
    let theme = app.theme;
    let mut spans = vec![Span::raw(format!("  #{n} "))];
    if let Some(t) = w.opened_earliest {
        let (uncertain, observed) = clock.pair(t, w.opened_latest);
        spans.push(Span::styled(format!("{uncertain}~"), theme.dim()));
        spans.push(Span::raw(observed));
    } else {
        spans.push(Span::styled("   before ~", theme.dim()));
        spans.push(Span::raw(clock.at(w.opened_latest)));
    }
    spans.push(Span::raw(" → "));
    if let (WindowStatus::Closed, Some(end)) = (w.status, w.closed_latest) {
        let (observed, uncertain) = clock.pair(w.closed_earliest, end);
        spans.push(Span::raw(observed));
        spans.push(Span::styled(format!("~{uncertain}"), theme.dim()));
        spans.push(Span::styled(" closed", theme.warn_text()));
        let least = format::duration(w.closed_earliest - w.opened_latest);
        let most = w.opened_earliest.map_or_else(|| "?".to_owned(), |e| format::duration(end - e));
        spans.push(Span::raw(format!(" ≥{least} ≤{most} ")));
    } else {
        spans.push(Span::styled("OPEN", theme.danger_text()));
        spans.push(Span::styled(format!(" last {}", clock.at(w.closed_earliest)), theme.dim()));
        let observed = format::duration(app.snapshot.as_of - w.opened_latest);
        spans.push(Span::raw(format!(" ≥{observed} ")));
    }
    spans.push(Span::raw(format!(
        " {} req  {}",
        format::count(w.external_requests),
        format::bytes(w.external_bytes)
    )));
    Line::from(spans)
}

/// The one line that says how to read the window lines above it.
fn window_legend(theme: Theme) -> Line<'static> {
    Line::styled(
        "     opened between A~B → closed between C~D (or OPEN) · ≥ at least, ≤ at most exposed",
        theme.dim(),
    )
}

fn hit_line(label: &str, h: &Hit, theme: Theme, clock: format::Clock) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("  {label}"), theme.dim()),
        Span::raw(format!("{}  ", clock.at(h.time))),
        Span::styled(format!("{:<15}", sanitize(&h.client, 39)), theme.header()),
        Span::raw(format!(" {} {} {}  ", sanitize(&h.method, 8), sanitize(&h.path, 28), h.status)),
        Span::styled(sanitize(&h.user_agent, 40).into_owned(), theme.dim()),
    ])
}

fn render_actors(
    snap: &Snapshot,
    theme: Theme,
    clock: format::Clock,
    area: Rect,
    buf: &mut Buffer,
) {
    if snap.actors.is_empty() {
        Paragraph::new(Line::styled("  no external actors yet", theme.dim())).render(area, buf);
        return;
    }
    let fit = usize::from(area.height.saturating_sub(1));
    let shown = &snap.actors[..TOP_ACTORS.min(fit).min(snap.actors.len())];
    // Wide enough for a date when one of the shown times needs it.
    let time_w = if shown.iter().any(|a| clock.dated(a.first_seen) || clock.dated(a.last_seen)) {
        15
    } else {
        9
    };
    let rows = shown.iter().map(|a| {
        let class = match &a.scanner {
            Some(name) => format!("{} ({})", a.class.as_str(), sanitize(name, 12)),
            None => a.class.as_str().to_owned(),
        };
        Row::new(vec![
            Cell::from(a.client.to_string()),
            Cell::from(class),
            Cell::from(clock.at(a.first_seen)),
            Cell::from(clock.at(a.last_seen)),
            Cell::from(format::count(a.requests)),
            Cell::from(format::bytes(a.bytes)),
        ])
    });
    let header = Row::new(["client", "class", "first", "last", "req", "bytes"]).style(theme.dim());
    Table::new(
        rows,
        [
            Constraint::Length(22),
            Constraint::Length(20),
            Constraint::Length(time_w),
            Constraint::Length(time_w),
            Constraint::Length(7),
            Constraint::Length(10),
        ],
    )
    .header(header)
    .render(area, buf);
}

/// One row of the source-health table: an access source, or all scan files together
/// (scan files are many and small; their health is one line unless one is in trouble).
struct SourceRow {
    name: String,
    format: String,
    lines: u64,
    lines_per_sec: f64,
    lag_secs: Option<f64>,
    malformed: u64,
    rotations: u64,
    gaps: usize,
    note: String,
}

impl SourceRow {
    fn trouble(&self) -> bool {
        self.malformed > 0 || self.gaps > 0 || !self.note.is_empty()
    }
}

/// How an unmatched glob is named in the Sources table: its file name, with the folder in
/// front when the file name is itself a pattern (`scans/*`, not a bare `*` that names nothing).
fn pattern_name(pattern: &str) -> String {
    let path = std::path::Path::new(pattern);
    let Some(name) = path.file_name().map(|n| n.to_string_lossy()) else {
        return clean(pattern);
    };
    match path.parent().and_then(|p| p.file_name()) {
        Some(dir) if name.contains(['*', '?', '[']) => {
            clean(&format!("{}/{name}", dir.to_string_lossy()))
        }
        _ => clean(&name),
    }
}

fn source_rows(snap: &Snapshot) -> Vec<SourceRow> {
    let gaps = |s: &SourceHealth| snap.gaps.iter().filter(|g| g.source == Some(s.id)).count();
    let note = |s: &SourceHealth| {
        if let Some(u) = snap.coverage.sources_unread.iter().find(|u| u.path == s.path) {
            format!("UNREAD: {}", sanitize(&u.reason, 60))
        } else if let Some(e) = s.errors.last() {
            format!("error: {}", sanitize(e, 60))
        } else if s.incomplete {
            "incomplete".to_owned()
        } else if let Some(kept) = &s.duplicate_of {
            let name = std::path::Path::new(kept)
                .file_name()
                .map_or_else(|| kept.clone(), |n| n.to_string_lossy().into_owned());
            let kept = sanitize(&name, 30);
            if s.duplicate_by == Some(crate::model::snapshot::DuplicateBy::Content) {
                format!("identical content (SHA-256) to {kept}: counted once")
            } else {
                format!("same run as {kept}: not counted")
            }
        } else if s.zone_assumed {
            format!("zone assumed: {}", sanitize(&snap.timezone, 30))
        } else if let Some(l) = s.database.as_ref().and_then(|d| d.live.as_ref()) {
            // The limit of a live pull, and what the late-row check found.
            match l.late_rows_missed {
                Some(n) if n > 0 => {
                    format!("{n} late row(s) missed (overlap {} s)", l.overlap_secs)
                }
                _ => format!("rows >{} s late not polled", l.overlap_secs),
            }
        } else {
            String::new()
        }
    };
    let mut rows: Vec<SourceRow> = Vec::new();
    let mut scans: Option<SourceRow> = None;
    let mut scan_formats: Vec<&str> = Vec::new();
    let mut scan_files = 0usize;
    for s in &snap.sources {
        let row = SourceRow {
            name: std::path::Path::new(&s.path)
                .file_name()
                .map_or_else(|| clean(&s.path), |n| clean(&n.to_string_lossy())),
            format: clean(&s.format),
            lines: s.lines,
            lines_per_sec: s.lines_per_sec,
            lag_secs: s.lag_secs,
            malformed: s.malformed,
            rotations: s.rotations,
            gaps: gaps(s),
            note: note(s),
        };
        if s.kind == SourceKind::Access || row.trouble() {
            rows.push(row);
            continue;
        }
        scan_files += 1;
        if !scan_formats.contains(&s.format.as_str()) {
            scan_formats.push(&s.format);
        }
        match scans.as_mut() {
            None => scans = Some(row),
            Some(acc) => {
                acc.lines += row.lines;
                acc.lines_per_sec += row.lines_per_sec;
            }
        }
    }
    if let Some(mut acc) = scans {
        acc.name = format!("{scan_files} scan file(s)");
        acc.format = clean(&scan_formats.join(","));
        acc.lag_secs = None;
        rows.push(acc);
    }
    // Globs that matched no file have no health of their own: a row each, by pattern.
    let registered = |path: &str| snap.sources.iter().any(|s| s.path == path);
    for u in snap.coverage.sources_unread.iter().filter(|u| !registered(&u.path)) {
        rows.push(SourceRow {
            name: pattern_name(&u.path),
            format: "-".to_owned(),
            lines: 0,
            lines_per_sec: 0.0,
            lag_secs: None,
            malformed: 0,
            rotations: 0,
            gaps: 0,
            note: format!("UNREAD: {}", sanitize(&u.reason, 60)),
        });
    }
    // Unread sources first: what the answer lacks is what a responder must see.
    rows.sort_by_key(|r| !r.note.starts_with("UNREAD"));
    rows
}

fn render_sources(rows: &[SourceRow], theme: Theme, area: Rect, buf: &mut Buffer) {
    if rows.is_empty() {
        Paragraph::new(Line::styled("  no sources yet", theme.dim())).render(area, buf);
        return;
    }
    // Unread sources (sorted first) get a whole line each, so their reason is never cut
    // off by the table's columns; the table takes the rest.
    let unread = rows.iter().take_while(|r| r.note.starts_with("UNREAD")).count();
    // Room for the table's header and a row, when there are readable rows to show.
    let reserve = if unread < rows.len() { 2 } else { 0 };
    let shown = unread.min(usize::from(area.height.saturating_sub(reserve)));
    if shown > 0 {
        let lines: Vec<Line<'static>> = rows[..shown]
            .iter()
            .map(|r| Line::styled(format!("{}  {}", r.name, r.note), theme.warn_text()))
            .collect();
        let [top, rest] =
            Layout::vertical([Constraint::Length(shown as u16), Constraint::Min(0)]).areas(area);
        Paragraph::new(lines).render(top, buf);
        if shown < rows.len() {
            render_table(&rows[shown..], theme, rest, buf);
        }
        return;
    }
    render_table(rows, theme, area, buf);
}

fn render_table(rows: &[SourceRow], theme: Theme, area: Rect, buf: &mut Buffer) {
    let fit = usize::from(area.height.saturating_sub(1));
    let more = rows.len().saturating_sub(fit);
    let table_rows = rows.iter().take(fit).enumerate().map(|(i, r)| {
        let name = if more > 0 && i + 1 == fit {
            format!("{} (+{more} more)", fit_name(&r.name, 10))
        } else {
            r.name.clone()
        };
        let lag = r.lag_secs.map_or_else(|| "-".to_owned(), lag_text);
        Row::new(vec![
            Cell::from(name),
            Cell::from(r.format.clone()),
            Cell::from(format::count(r.lines)),
            Cell::from(format!("{:.0}", r.lines_per_sec)),
            Cell::from(lag),
            Cell::from(format::count(r.malformed)),
            Cell::from(r.rotations.to_string()),
            Cell::from(r.gaps.to_string()),
            Cell::from(r.note.clone()),
        ])
        .style(if r.trouble() { theme.warn_text() } else { Style::new() })
    });
    // Below 100 columns the table narrows so the note column keeps room; every header fits
    // its column (bad = malformed lines, rot = rotations, gaps = holes in the record).
    let (header, widths) = if area.width >= 100 {
        (
            ["source", "format", "lines", "lines/s", "lag", "bad", "rot", "gaps", "note"],
            [22, 15, 8, 7, 5, 5, 4, 5, 0],
        )
    } else {
        (
            ["source", "format", "lines", "l/s", "lag", "bad", "rot", "gaps", "note"],
            [16, 15, 8, 4, 5, 4, 3, 4, 0],
        )
    };
    let widths = widths.map(|w| if w == 0 { Constraint::Min(0) } else { Constraint::Length(w) });
    Table::new(table_rows, widths).header(Row::new(header).style(theme.dim())).render(area, buf);
}

fn fit_name(name: &str, width: usize) -> String {
    crate::text::fit(name, width)
}

#[cfg(test)]
mod tests {
    use super::{lag_text, pattern_name, source_rows};
    use crate::model::Snapshot;
    use crate::model::snapshot::{LiveDatabase, SourceHealth};

    #[test]
    fn a_polled_database_source_notes_its_overlap_and_the_late_rows_it_missed() {
        let live = LiveDatabase { overlap_secs: 30, ..LiveDatabase::default() };
        let health = SourceHealth::polled_for_tests(live);
        let mut snap = Snapshot { sources: vec![health], ..Snapshot::default() };
        assert_eq!(source_rows(&snap)[0].note, "rows >30 s late not polled");
        let l = snap.sources[0].database.as_mut().and_then(|d| d.live.as_mut()).unwrap();
        l.late_rows_missed = Some(2);
        assert_eq!(source_rows(&snap)[0].note, "2 late row(s) missed (overlap 30 s)");
    }

    #[test]
    fn an_unmatched_glob_is_named_with_its_folder() {
        assert_eq!(pattern_name("/case/scans/*"), "scans/*");
        assert_eq!(pattern_name("logs/access-*.log"), "logs/access-*.log");
        assert_eq!(pattern_name("/var/log/nginx/access.log"), "access.log");
        assert_eq!(pattern_name("*.json"), "*.json");
    }

    #[test]
    fn lag_has_a_unit() {
        assert_eq!(lag_text(1.6), "2s");
        assert_eq!(lag_text(59.0), "59s");
        assert_eq!(lag_text(240.0), "4m");
        assert_eq!(lag_text(3.0 * 3600.0 + 5.0), "3h");
        assert_eq!(lag_text(233_935.0 * 100.0), "270d");
        assert_eq!(lag_text(-1.0), "-");
        assert_eq!(lag_text(f64::NAN), "-");
    }
}
