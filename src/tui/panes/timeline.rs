//! Timeline: a Gantt of exposure windows per service on a zoomable, pannable axis.
//!
//! Glyphs carry the meaning without colour: `█` observed exposure (between the first and last
//! positive evidence), `░` an uncertain bound (the exposure began or ended somewhere in there),
//! `<` exposed since before the first log line, `o`/`x` an open / closed scan, `│` now.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Widget};

use super::section;
use crate::model::Snapshot;
use crate::model::snapshot::{ServiceSummary, Window, WindowStatus};
use crate::text::sanitize;
use crate::tui::app::{App, TimelineFrame};
use crate::tui::format;
use crate::tui::theme::Theme;

/// Width of the service-name column.
const LABEL_W: u16 = 16;

/// The whole incident's time range: from the earliest thing we know (rate series start,
/// window bounds, scans) to `now` (live) / `as_of`, never shorter than one minute.
#[must_use]
pub fn full_range(snap: &Snapshot, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let end = now.max(snap.as_of);
    let mut start = snap.rate.start.unwrap_or(end);
    for s in &snap.services {
        for w in &s.windows {
            start = start.min(w.opened_earliest.unwrap_or(w.opened_latest));
        }
        if let Some(m) = s.scans.first() {
            start = start.min(m.time);
        }
    }
    if end - start < TimeDelta::minutes(1) {
        start = end - TimeDelta::minutes(1);
    }
    (start, end)
}

/// Length of [`full_range`] in seconds.
#[must_use]
pub fn full_span_secs(snap: &Snapshot, now: DateTime<Utc>) -> i64 {
    let (a, b) = full_range(snap, now);
    (b - a).num_seconds().max(60)
}

/// From the first to the last evidence (window bounds, scans, the rate series), with a
/// little margin each side so the first and last marks are not on the frame; `None` with no
/// evidence at all. Never shorter than one minute.
#[must_use]
pub fn evidence_range(snap: &Snapshot) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let mut times: Vec<DateTime<Utc>> = Vec::new();
    for s in &snap.services {
        for w in &s.windows {
            times.push(w.opened_earliest.unwrap_or(w.opened_latest));
            times.push(w.opened_latest);
            times.push(w.closed_latest.unwrap_or(w.closed_earliest));
        }
        times.extend(s.scans.iter().map(|m| m.time));
    }
    if let Some(start) = snap.rate.start {
        let len = snap.rate.external.len().max(snap.rate.internal.len()) as i64;
        times.push(start);
        times.push(start + TimeDelta::seconds(i64::from(snap.rate.bucket_secs.max(1)) * len));
    }
    let (lo, hi) = (*times.iter().min()?, *times.iter().max()?);
    let pad = ((hi - lo) / 40).max(TimeDelta::seconds(30));
    let (lo, mut hi) = (lo - pad, hi + pad);
    if hi - lo < TimeDelta::minutes(1) {
        hi = lo + TimeDelta::minutes(1);
    }
    Some((lo, hi))
}

/// The axis before zoom and pan, by the frame chosen with `f` / `n` / `0`.
#[must_use]
pub fn base_range(app: &App) -> (DateTime<Utc>, DateTime<Utc>) {
    let snap = &app.snapshot;
    match app.timeline.frame {
        TimelineFrame::Evidence => {
            evidence_range(snap).unwrap_or_else(|| full_range(snap, app.now))
        }
        TimelineFrame::Whole => full_range(snap, app.now),
        TimelineFrame::Now { span_secs } => {
            let end = app.now.max(snap.as_of);
            (end - TimeDelta::seconds(span_secs.max(60)), end)
        }
    }
}

/// Length of [`base_range`] in whole seconds (rounded up), the unit of zoom and pan.
#[must_use]
pub fn base_span_secs(app: &App) -> i64 {
    let (a, b) = base_range(app);
    ((b - a).num_milliseconds() + 999).div_euclid(1000).max(60)
}

/// The visible range after zoom and pan, to the millisecond: at zoom 0 it is exactly
/// [`base_range`], so the first bucket is never cut off by rounding.
#[must_use]
pub fn visible_range(app: &App) -> (DateTime<Utc>, DateTime<Utc>) {
    let (start, end) = base_range(app);
    let span = (end - start).num_milliseconds().max(60_000);
    let visible = (span >> app.timeline.zoom).max(10_000);
    let pan = app.timeline.pan_secs.saturating_mul(1000).clamp(0, span - visible.min(span));
    let right = end - TimeDelta::milliseconds(pan);
    (right - TimeDelta::milliseconds(visible), right)
}

/// Tick spacings, seconds: every label falls on a round time of one of these.
const STEPS: [i64; 20] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
    172_800, 604_800,
];

/// One axis label: its column, the round time it stands for, and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub col: u16,
    pub time: DateTime<Utc>,
    pub label: String,
}

/// Axis labels on round times in `tz` (:00, :15, :30 … for hours; whole days as `MM-DD`):
/// the smallest spacing from [`STEPS`] whose labels do not touch.
#[must_use]
pub fn ticks(start: DateTime<Utc>, end: DateTime<Utc>, width: u16, tz: Tz) -> Vec<Tick> {
    let secs = ((end - start).num_milliseconds() as f64 / 1000.0).max(1.0);
    let label_w = |step: i64| if step < 60 { 9 } else { 6 };
    let cols_per_sec = f64::from(width) / secs;
    let Some(&step) = STEPS
        .iter()
        .find(|&&s| s as f64 * cols_per_sec >= f64::from(label_w(s) + 2))
        .or(STEPS.last())
    else {
        return Vec::new();
    };
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).naive_local().and_utc().timestamp();
    let first = (local(start) + step - 1).div_euclid(step) * step;
    let mut out = Vec::new();
    let mut k = first;
    let offset = local(start) - start.timestamp();
    loop {
        let t = DateTime::<Utc>::from_timestamp(k - offset, 0).unwrap_or(end);
        if t > end {
            break;
        }
        let x = (t - start).num_milliseconds() as f64 / 1000.0 * cols_per_sec;
        let col = x as u16;
        if col + label_w(step) <= width {
            let lt = t.with_timezone(&tz);
            let fmt = if k.rem_euclid(86_400) == 0 {
                "%m-%d"
            } else if step < 60 {
                "%H:%M:%S"
            } else {
                "%H:%M"
            };
            out.push(Tick { col, time: t, label: lt.format(fmt).to_string() });
        }
        k += step;
    }
    out
}

/// Maps times to columns of a bar `width` cells wide.
#[derive(Debug, Clone, Copy)]
struct Axis {
    start: DateTime<Utc>,
    secs: f64,
    width: u16,
}

impl Axis {
    fn col(self, t: DateTime<Utc>) -> Option<u16> {
        let x = (t - self.start).num_milliseconds() as f64 / 1000.0 / self.secs;
        if !(0.0..=1.0).contains(&x) {
            return None;
        }
        Some(((x * f64::from(self.width)) as u16).min(self.width.saturating_sub(1)))
    }

    /// Column range covering `[a, b]`, clipped to the axis; `None` when outside.
    fn cols(self, a: DateTime<Utc>, b: DateTime<Utc>) -> Option<(u16, u16)> {
        let end = self.start + TimeDelta::milliseconds((self.secs * 1000.0) as i64);
        if b < self.start || a > end {
            return None;
        }
        let ca = self.col(a.max(self.start)).unwrap_or(0);
        let cb = self.col(b.min(end)).unwrap_or(self.width.saturating_sub(1));
        Some((ca, cb.max(ca)))
    }
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let snap = &app.snapshot;
    let clock = format::Clock::of(app);
    let (start, end) = visible_range(app);
    let services = snap.services.len().max(1) as u16;
    let case_rows = u16::from(app.case.is_some());
    let [
        title,
        axis_row,
        gantt,
        case_row,
        selected,
        spark_title,
        spark_ext,
        spark_int,
        legend,
        scans,
    ] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(services * 2),
        Constraint::Length(case_rows),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Max(8),
        Constraint::Max(5),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    let frame = match app.timeline.frame {
        TimelineFrame::Evidence => "fitted to evidence",
        TimelineFrame::Now { .. } => "following now",
        TimelineFrame::Whole => "whole incident",
    };
    let zoom = if app.timeline.zoom == 0 {
        frame.to_owned()
    } else {
        format!("{frame}, zoom ×{}", 1u32 << app.timeline.zoom)
    };
    let (from, to) = clock.pair(start, end);
    let extra = format!("{from} → {to}  {zoom}");
    section("Exposure windows", &extra, theme, title, buf);
    let bar_w = area.width.saturating_sub(LABEL_W);
    if bar_w < 4 {
        return;
    }
    let secs = ((end - start).num_milliseconds() as f64 / 1000.0).max(1.0);
    let axis = Axis { start, secs, width: bar_w };
    render_axis(
        axis,
        clock.tz,
        theme,
        Rect { x: axis_row.x + LABEL_W, width: bar_w, ..axis_row },
        buf,
    );
    // `now` is the snapshot's as_of: wall time when live, story time in a replay.
    let now_col = axis.col(snap.as_of);
    let chosen = selected_window(app);
    for (i, s) in snap.services.iter().enumerate() {
        let y = gantt.y + (i as u16) * 2;
        if y + 1 >= gantt.bottom() {
            break;
        }
        let label = format!(
            "{:<w$}",
            sanitize(&s.name, usize::from(LABEL_W) - 1),
            w = usize::from(LABEL_W)
        );
        buf.set_string(gantt.x, y, label, theme.header());
        if chosen.is_some_and(|(n, _, _)| n == s.name) {
            buf.set_string(gantt.x + LABEL_W - 1, y, "▶", theme.key());
        }
        buf.set_string(gantt.x, y + 1, "  scans", theme.dim());
        draw_service(s, axis, app, gantt.x + LABEL_W, y, buf);
        if let Some(c) = now_col {
            buf.set_string(gantt.x + LABEL_W + c, y + 1, "│", theme.key());
        }
    }
    render_case_marks(app, axis, case_row, buf);
    if let Some((name, n, w)) = chosen {
        Paragraph::new(Line::from(vec![
            Span::styled(format!("▶ {} #{n} ", sanitize(name, 24)), theme.header()),
            Span::raw(window_words(w, clock, snap.as_of)),
        ]))
        .render(selected, buf);
    }
    render_rate(app, axis, spark_title, spark_ext, spark_int, buf);
    render_legend(app, legend, buf);
    render_scans(app, (start, end), scans, buf);
}

/// The glyphs' meaning and the Timeline's own keys, on one line.
fn render_legend(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    Paragraph::new(Line::from(vec![
        Span::styled("█", theme.danger_text()),
        Span::raw(" open "),
        Span::styled("█", theme.warn_text()),
        Span::raw(" closed "),
        Span::styled("░", theme.dim()),
        Span::raw(if app.case.is_some() {
            " uncertain  o/x scan open/closed  ◆ step • note  │ now   "
        } else {
            " uncertain  o/x scan open/closed  │ now   "
        }),
        Span::styled("↑↓ window  +/- zoom  h/l pan  f fit  n now  0 all", theme.dim()),
    ]))
    .render(area, buf);
}

/// The selected window: its service's name, its number there, the window. A selection past
/// the end (windows merged in a newer snapshot) falls back to the last window.
fn selected_window(app: &App) -> Option<(&str, usize, &Window)> {
    app.snapshot
        .services
        .iter()
        .flat_map(|s| s.windows.iter().enumerate().map(move |(i, w)| (s.name.as_str(), i + 1, w)))
        .take(app.timeline.selected.saturating_add(1))
        .last()
}

/// A window's bounds in words: `opened between A and B → closed between C and D (at least
/// 1h 01m, at most 2h 55m)`; an open one says `still OPEN`.
#[must_use]
pub fn window_words(w: &Window, clock: format::Clock, as_of: DateTime<Utc>) -> String {
    let opened = match w.opened_earliest {
        Some(e) => {
            let (a, b) = clock.pair(e, w.opened_latest);
            format!("opened between {a} and {b}")
        }
        None => format!("open since before the logs, seen at {}", clock.at(w.opened_latest)),
    };
    match (w.status, w.closed_latest) {
        (WindowStatus::Closed, Some(end)) => {
            let most = w.opened_earliest.map_or_else(
                || "at most unknown".to_owned(),
                |e| format!("at most {}", format::duration(end - e)),
            );
            let (c, d) = clock.pair(w.closed_earliest, end);
            format!(
                "{opened} → closed between {c} and {d} (at least {}, {most})",
                format::duration(w.closed_earliest - w.opened_latest),
            )
        }
        _ => format!(
            "{opened} → still OPEN, last evidence {} (at least {})",
            clock.at(w.closed_earliest),
            format::duration(as_of - w.opened_latest)
        ),
    }
}

/// Playbook actions (`◆`) and notes (`•`) from the case journal, on their own row.
fn render_case_marks(app: &App, axis: Axis, area: Rect, buf: &mut Buffer) {
    let Some(case) = &app.case else {
        return;
    };
    if area.height == 0 {
        return;
    }
    let theme = app.theme;
    buf.set_string(area.x, area.y, "  playbook", theme.dim());
    // Notes first, so a step action in the same column wins (it is the rarer, weightier mark).
    for (kind, mark) in [("note", "•"), ("step", "◆")] {
        for entry in case.state.timeline.iter().filter(|e| e.kind == kind) {
            if let Some(c) = axis.col(entry.at) {
                buf.set_string(area.x + LABEL_W + c, area.y, mark, theme.key());
            }
        }
    }
}

/// The scan observations in the visible range, newest first: the evidence behind the bounds.
fn render_scans(app: &App, range: (DateTime<Utc>, DateTime<Utc>), area: Rect, buf: &mut Buffer) {
    if area.height < 3 {
        return;
    }
    let theme = app.theme;
    let clock = format::Clock::of(app);
    let [title, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    section("Scan evidence", "newest first, in view", theme, title, buf);
    let mut marks: Vec<(&str, &crate::model::snapshot::ScanMark)> = app
        .snapshot
        .services
        .iter()
        .flat_map(|s| s.scans.iter().map(move |m| (s.name.as_str(), m)))
        .filter(|(_, m)| m.time >= range.0 && m.time <= range.1)
        .collect();
    marks.sort_by_key(|(_, m)| std::cmp::Reverse(m.time));
    let lines: Vec<Line> = marks
        .iter()
        .take(usize::from(list.height))
        .map(|(service, m)| {
            let style = if m.state.is_open() {
                theme.danger_text()
            } else if m.state.is_negative() {
                theme.ok_text()
            } else {
                theme.warn_text()
            };
            Line::from(vec![
                Span::styled(format!("{} ", clock.at(m.time)), theme.dim()),
                Span::raw(format!("{:<7} ", m.tool.as_str())),
                Span::styled(
                    format!("{:<12} ", m.state.label(m.scanner_state).to_uppercase()),
                    style,
                ),
                Span::raw(format!("{:<24} ", sanitize(&m.target, 40))),
                Span::styled(
                    format!(
                        "{} · {} vantage",
                        sanitize(service, 30),
                        if m.external { "external" } else { "internal" }
                    ),
                    theme.dim(),
                ),
            ])
        })
        .collect();
    if lines.is_empty() {
        Paragraph::new(Line::styled("  no scans in view", theme.dim())).render(list, buf);
    } else {
        Paragraph::new(lines).render(list, buf);
    }
}

fn render_axis(axis: Axis, tz: Tz, theme: Theme, area: Rect, buf: &mut Buffer) {
    let end = axis.start + TimeDelta::milliseconds((axis.secs * 1000.0) as i64);
    for tick in ticks(axis.start, end, axis.width, tz) {
        buf.set_string(area.x + tick.col, area.y, format!("┊{}", tick.label), theme.dim());
    }
}

fn draw_service(s: &ServiceSummary, axis: Axis, app: &App, x: u16, y: u16, buf: &mut Buffer) {
    let theme = app.theme;
    let as_of = app.snapshot.as_of;
    for c in 0..axis.width {
        buf.set_string(x + c, y, "·", theme.dim());
    }
    for w in &s.windows {
        let open = w.status == WindowStatus::Open;
        let solid = if open { theme.danger_text() } else { theme.warn_text() };
        let faint = theme.dim();
        let observed_end = if open { as_of } else { w.closed_earliest };
        // Uncertain bounds first; the observed part is drawn over them where they touch.
        if let Some(e) = w.opened_earliest {
            fill(axis, e, w.opened_latest, "░", faint, x, y, buf);
        } else if let Some(c) = axis.col(w.opened_latest) {
            if c > 0 {
                buf.set_string(x + c - 1, y, "<", faint);
            }
        }
        if let (false, Some(l)) = (open, w.closed_latest) {
            fill(axis, w.closed_earliest, l, "░", faint, x, y, buf);
        }
        fill(axis, w.opened_latest, observed_end, "█", solid, x, y, buf);
    }
    for m in &s.scans {
        if let Some(c) = axis.col(m.time) {
            let (glyph, style) = if m.state.is_open() {
                ("o", theme.danger_text())
            } else if m.state.is_negative() {
                ("x", theme.ok_text())
            } else {
                // Ambiguous or a host finding: neither opens nor closes anything.
                ("?", theme.warn_text())
            };
            buf.set_string(x + c, y + 1, glyph, style);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn fill(
    axis: Axis,
    a: DateTime<Utc>,
    b: DateTime<Utc>,
    glyph: &str,
    style: Style,
    x: u16,
    y: u16,
    buf: &mut Buffer,
) {
    if let Some((ca, cb)) = axis.cols(a, b) {
        for c in ca..=cb {
            buf.set_string(x + c, y, glyph, style);
        }
    }
}

/// Re-bucket the snapshot's rate series onto the visible columns. A bucket covers every
/// column its time span touches (bars as wide as the zoom allows, the first bucket included
/// even when the axis starts inside it); a column covering several buckets shows the busiest,
/// so every column reads "requests per bucket".
#[must_use]
pub fn columns(
    series: &[u64],
    start: Option<DateTime<Utc>>,
    bucket_secs: u32,
    range: (DateTime<Utc>, DateTime<Utc>),
    width: u16,
) -> Vec<u64> {
    let mut out = vec![0u64; usize::from(width)];
    let Some(first) = start else {
        return out;
    };
    let span_ms = (range.1 - range.0).num_milliseconds().max(1) as f64;
    let bucket_ms = i64::from(bucket_secs.max(1)) * 1000;
    let w = f64::from(width);
    let base = (first - range.0).num_milliseconds();
    for (i, &v) in series.iter().enumerate() {
        let a = (base + bucket_ms * i as i64) as f64 / span_ms * w;
        let b = (base + bucket_ms * (i as i64 + 1)) as f64 / span_ms * w;
        if b <= 0.0 || a >= w {
            continue;
        }
        let ca = a.max(0.0).floor() as usize;
        let cb = (b.min(w).ceil() as usize).max(ca + 1);
        for slot in &mut out[ca..cb.min(usize::from(width))] {
            *slot = (*slot).max(v);
        }
    }
    out
}

fn render_rate(app: &App, axis: Axis, title: Rect, ext: Rect, int: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let snap = &app.snapshot;
    let end = axis.start + TimeDelta::milliseconds((axis.secs * 1000.0) as i64);
    let col = |series: &[u64]| {
        columns(series, snap.rate.start, snap.rate.bucket_secs, (axis.start, end), axis.width)
    };
    let (e, i) = (col(&snap.rate.external), col(&snap.rate.internal));
    let emax = e.iter().copied().max().unwrap_or(0);
    let imax = i.iter().copied().max().unwrap_or(0);
    let per = match snap.rate.bucket_secs {
        60 => "minute".to_owned(),
        b => format::duration(TimeDelta::seconds(i64::from(b))),
    };
    let extra = format!("requests per {per}, external vs internal");
    section("Request rate", &extra, theme, title, buf);
    for (area, data, max, label, style) in [
        (ext, &e, emax, "external", theme.external()),
        (int, &i, imax, "internal", theme.internal()),
    ] {
        if area.height == 0 {
            continue;
        }
        buf.set_string(area.x, area.y, format!("{label:<w$}", w = usize::from(LABEL_W)), style);
        buf.set_string(area.x, area.y + area.height - 1, format!("  max {max}"), theme.dim());
        let bars = Rect { x: area.x + LABEL_W, width: axis.width, ..area };
        Sparkline::default().data(data.as_slice()).style(style).render(bars, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|t| t.to_utc()).unwrap_or_default()
    }

    #[test]
    fn ticks_fall_on_round_times() {
        let (a, b) = (at("2026-03-14T08:55:22.400Z"), at("2026-03-14T12:09:37Z"));
        let t = ticks(a, b, 104, Tz::UTC);
        let labels: Vec<&str> = t.iter().map(|k| k.label.as_str()).collect();
        assert_eq!(labels[..3], ["09:00", "09:15", "09:30"], "{labels:?}");
        assert!(t.iter().all(|k| k.time.timestamp() % 900 == 0), "{labels:?}");
        // Columns ascend and labels never overlap.
        assert!(t.windows(2).all(|p| p[1].col >= p[0].col + 6), "{t:?}");
        // Round in the display zone, not in UTC: India is UTC+05:30.
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap_or(Tz::UTC);
        let t = ticks(a, b, 104, kolkata);
        assert!(!t.is_empty());
        assert!(
            t.iter().all(|k| k.label.ends_with(":00")
                || k.label.ends_with(":15")
                || k.label.ends_with(":30")
                || k.label.ends_with(":45")),
            "{t:?}"
        );
        // Seconds when zoomed in; a day boundary labelled with its date.
        let t = ticks(at("2026-03-14T09:00:03Z"), at("2026-03-14T09:01:30Z"), 64, Tz::UTC);
        assert!(t.iter().all(|k| k.time.timestamp() % 5 == 0 && k.label.len() == 8), "{t:?}");
        let t = ticks(at("2026-03-13T20:00:00Z"), at("2026-03-14T04:00:00Z"), 64, Tz::UTC);
        assert!(t.iter().any(|k| k.label == "03-14"), "{t:?}");
    }

    #[test]
    fn first_bucket_is_drawn_and_bars_fill_their_columns() {
        let start = at("2026-03-14T09:00:00Z");
        let series = [5, 7, 9];
        // The axis begins exactly at the first bucket: column 0 shows it.
        let end = start + TimeDelta::minutes(3);
        let cols = columns(&series, Some(start), 60, (start, end), 30);
        assert_eq!(cols[0], 5);
        assert!(cols[..10].iter().all(|&v| v == 5), "{cols:?}");
        assert!(cols[10..20].iter().all(|&v| v == 7), "{cols:?}");
        assert!(cols[20..].iter().all(|&v| v == 9), "{cols:?}");
        // The axis begins inside the first bucket (a sub-second start): it is still drawn.
        let late = start + TimeDelta::milliseconds(20_400);
        let cols = columns(&series, Some(start), 60, (late, end), 30);
        assert_eq!(cols[0], 5, "{cols:?}");
        // Many buckets per column: the busiest one, never a sum.
        let cols = columns(&series, Some(start), 60, (start, end), 1);
        assert_eq!(cols, vec![9]);
    }
}
