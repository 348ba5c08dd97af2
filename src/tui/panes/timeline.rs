//! Timeline: a Gantt of exposure windows per service on a zoomable, pannable axis.
//!
//! Glyphs carry the meaning without colour: `█` observed exposure (between the first and last
//! positive evidence), `░` an uncertain bound (the exposure began or ended somewhere in there),
//! `<` exposed since before the first log line, `o`/`x` an open / closed scan, `│` now.

use chrono::{DateTime, TimeDelta, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Widget};

use super::section;
use crate::model::Snapshot;
use crate::model::snapshot::{ServiceSummary, WindowStatus};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::sanitize::sanitize;
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

/// The visible range after zoom and pan.
#[must_use]
pub fn visible_range(app: &App) -> (DateTime<Utc>, DateTime<Utc>) {
    let (start, end) = full_range(&app.snapshot, app.now);
    let span = (end - start).num_seconds().max(60);
    let visible = (span >> app.timeline.zoom).max(10);
    let right = end - TimeDelta::seconds(app.timeline.pan_secs.clamp(0, span - visible.min(span)));
    (right - TimeDelta::seconds(visible), right)
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

    fn time_at(self, col: u16) -> DateTime<Utc> {
        let frac = f64::from(col) / f64::from(self.width.max(1));
        self.start + TimeDelta::milliseconds((frac * self.secs * 1000.0) as i64)
    }
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let snap = &app.snapshot;
    let tz = format::zone(&snap.timezone);
    let (start, end) = visible_range(app);
    let services = snap.services.len().max(1) as u16;
    let case_rows = u16::from(app.case.is_some());
    let [title, axis_row, gantt, case_row, spark_title, spark_ext, spark_int, legend, scans] =
        Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(services * 2),
            Constraint::Length(case_rows),
            Constraint::Length(1),
            Constraint::Max(8),
            Constraint::Max(5),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(area);
    let zoom = if app.timeline.zoom == 0 {
        "whole incident".to_owned()
    } else {
        format!("zoom ×{}", 1u32 << app.timeline.zoom)
    };
    let extra = format!("{} → {}  {zoom}", format::stamp(start, tz), format::stamp(end, tz));
    section("Exposure windows", &extra, theme, title, buf);
    let bar_w = area.width.saturating_sub(LABEL_W);
    if bar_w < 4 {
        return;
    }
    let secs = ((end - start).num_milliseconds() as f64 / 1000.0).max(1.0);
    let axis = Axis { start, secs, width: bar_w };
    render_axis(axis, tz, theme, Rect { x: axis_row.x + LABEL_W, width: bar_w, ..axis_row }, buf);
    // `now` is the snapshot's as_of: wall time when live, story time in a replay.
    let now_col = axis.col(snap.as_of);
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
        buf.set_string(gantt.x, y + 1, "  scans", theme.dim());
        draw_service(s, axis, app, gantt.x + LABEL_W, y, buf);
        if let Some(c) = now_col {
            buf.set_string(gantt.x + LABEL_W + c, y + 1, "│", theme.key());
        }
    }
    render_case_marks(app, axis, case_row, buf);
    render_rate(app, axis, spark_title, spark_ext, spark_int, buf);
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
        Span::styled("+/- zoom  h/l pan  0 fit", theme.dim()),
    ]))
    .render(legend, buf);
    render_scans(app, (start, end), scans, buf);
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
    let tz = format::zone(&app.snapshot.timezone);
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
                Span::styled(format!("{} ", format::stamp(m.time, tz)), theme.dim()),
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

fn render_axis(axis: Axis, tz: chrono_tz::Tz, theme: Theme, area: Rect, buf: &mut Buffer) {
    // A label every ~14 columns: HH:MM (or HH:MM:SS when zoomed into less than 10 minutes).
    let short = axis.secs < 600.0;
    let step = 14u16;
    let mut col = 0u16;
    while col + 5 < axis.width {
        let t = axis.time_at(col);
        let text = if short { format::clock(t, tz) } else { format::clock(t, tz)[..5].to_owned() };
        buf.set_string(area.x + col, area.y, format!("┊{text}"), theme.dim());
        col += step;
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

/// Re-bucket the snapshot's rate series onto the visible columns (sum per column).
fn columns(series: &[u64], snap: &Snapshot, axis: Axis) -> Vec<u64> {
    let mut out = vec![0u64; usize::from(axis.width)];
    let (Some(start), bucket) = (snap.rate.start, i64::from(snap.rate.bucket_secs.max(1))) else {
        return out;
    };
    for (i, v) in series.iter().enumerate() {
        let t = start + TimeDelta::seconds(bucket * i as i64);
        if let Some(c) = axis.col(t) {
            out[usize::from(c)] += v;
        }
    }
    out
}

fn render_rate(app: &App, axis: Axis, title: Rect, ext: Rect, int: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let snap = &app.snapshot;
    let e = columns(&snap.rate.external, snap, axis);
    let i = columns(&snap.rate.internal, snap, axis);
    let emax = e.iter().copied().max().unwrap_or(0);
    let imax = i.iter().copied().max().unwrap_or(0);
    section("Request rate", "per column, external vs internal", theme, title, buf);
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
