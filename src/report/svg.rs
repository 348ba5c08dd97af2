//! The inline SVG timeline of the HTML report: one lane per service with its exposure windows
//! (the certain part solid, uncertain bounds hatched, unbounded starts and still-open ends
//! dashed), scan markers, key-moment markers numbered like the key-moments table, and
//! request-rate bars from `Snapshot.rate`.
//!
//! Pure string building: coordinates are formatted with one decimal so the output is stable.
//! Only leakline's own constants go into attributes; service names and tooltips are escaped
//! text nodes.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};

use super::escape::{html, html_raw};
use super::model::ReportModel;
use super::moments::{Moment, MomentKind};
use super::text::{time, time_near};
use crate::model::snapshot::{ScanMark, ServiceSummary, Window, WindowStatus};

const WIDTH: f64 = 920.0;
const PLOT_X0: f64 = 170.0;
const PLOT_X1: f64 = 900.0;
const AXIS_Y: f64 = 30.0;
const LANE_Y0: f64 = 42.0;
const LANE_H: f64 = 40.0;
const BAR_H: f64 = 16.0;
const RATE_H: f64 = 70.0;

/// Maps times to x coordinates over `[t0, t1]`.
struct Scale {
    t0: DateTime<Utc>,
    span_ms: f64,
}

impl Scale {
    fn x(&self, t: DateTime<Utc>) -> f64 {
        let ms = (t - self.t0).num_milliseconds() as f64;
        (PLOT_X0 + (PLOT_X1 - PLOT_X0) * ms / self.span_ms).clamp(PLOT_X0, PLOT_X1)
    }
}

/// `t` moved by `ms` milliseconds, saturating at chrono's range instead of panicking.
fn shift(t: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    Duration::try_milliseconds(ms).and_then(|d| t.checked_add_signed(d)).unwrap_or(t)
}

/// The time range to draw: everything the report mentions, padded by 3 %.
fn range(m: &ReportModel) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let snap = &m.snapshot;
    let mut times: Vec<DateTime<Utc>> = Vec::new();
    for s in &snap.services {
        for w in &s.windows {
            times.extend(w.opened_earliest);
            times.push(w.opened_latest);
            times.push(w.closed_earliest);
            times.extend(w.closed_latest);
            if w.status == WindowStatus::Open {
                times.push(snap.as_of);
            }
        }
        times.extend(s.scans.iter().map(|sc| sc.time));
    }
    times.extend(m.moments.iter().map(|mo| mo.time));
    if let Some(start) = snap.rate.start {
        times.push(start);
        let n = snap.rate.external.len().max(snap.rate.internal.len()) as i64;
        times.push(shift(start, n.saturating_mul(i64::from(snap.rate.bucket_secs) * 1000)));
    }
    let (lo, hi) = (*times.iter().min()?, *times.iter().max()?);
    let pad = ((hi - lo).num_milliseconds() / 33).max(30_000);
    Some((shift(lo, -pad), shift(hi, pad)))
}

/// Tick step (seconds) giving at most 8 ticks.
fn tick_step(span_secs: i64) -> i64 {
    const STEPS: [i64; 15] = [
        60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
        2_592_000,
    ];
    // Beyond a month per tick (bogus timestamps far apart), eight even ticks.
    STEPS.iter().copied().find(|s| span_secs / s <= 8).unwrap_or((span_secs / 8).max(2_592_000))
}

fn axis(out: &mut String, sc: &Scale, t0: DateTime<Utc>, t1: DateTime<Utc>, bottom: f64) {
    let step = tick_step((t1 - t0).num_seconds());
    let first = (t0.timestamp() / step + 1) * step;
    let multi_day = (t1 - t0).num_hours() >= 24;
    let mut ts = first;
    while ts < t1.timestamp() {
        let Some(t) = DateTime::<Utc>::from_timestamp(ts, 0) else { break };
        let x = sc.x(t);
        let label = if multi_day { t.format("%m-%d %H:%M") } else { t.format("%H:%M") };
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.1}" y1="{AXIS_Y:.1}" x2="{x:.1}" y2="{bottom:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#,
            AXIS_Y - 8.0
        );
        ts += step;
    }
    let _ = write!(
        out,
        r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">UTC {}</text>"#,
        PLOT_X0 - 10.0,
        AXIS_Y - 8.0,
        t0.format("%Y-%m-%d")
    );
}

fn window_shapes(out: &mut String, sc: &Scale, win: &Window, top: f64, as_of: DateTime<Utc>) {
    let (sure_x0, sure_x1) = (sc.x(win.opened_latest), sc.x(win.closed_earliest));
    let tip = match (win.opened_earliest, win.closed_latest) {
        (Some(e), Some(l)) => format!(
            "opened between {} and {}; closed between {} and {}",
            time(e),
            time(win.opened_latest),
            time(win.closed_earliest),
            time(l)
        ),
        (None, Some(l)) => format!(
            "exposed since before observation (first positive {}); closed between {} and {}",
            time(win.opened_latest),
            time(win.closed_earliest),
            time(l)
        ),
        (Some(e), None) => format!(
            "opened between {} and {}; still open (last positive {})",
            time(e),
            time(win.opened_latest),
            time(win.closed_earliest)
        ),
        (None, None) => format!(
            "exposed since before observation (first positive {}); still open (last positive {})",
            time(win.opened_latest),
            time(win.closed_earliest)
        ),
    };
    let _ = write!(out, "<g><title>{}</title>", html_raw(&tip));
    // Start bound.
    match win.opened_earliest {
        Some(e) => {
            let x = sc.x(e);
            let _ = write!(
                out,
                r#"<rect class="unsure" x="{x:.1}" y="{top:.1}" width="{:.1}" height="{BAR_H:.1}"/>"#,
                (sure_x0 - x).max(0.0)
            );
        }
        None => {
            let _ = write!(
                out,
                r#"<rect class="unbounded" x="{PLOT_X0:.1}" y="{top:.1}" width="{:.1}" height="{BAR_H:.1}"/>"#,
                (sure_x0 - PLOT_X0).max(0.0)
            );
        }
    }
    // Certain part (at least 2 px so a one-request window stays visible).
    let _ = write!(
        out,
        r#"<rect class="sure" x="{sure_x0:.1}" y="{top:.1}" width="{:.1}" height="{BAR_H:.1}"/>"#,
        (sure_x1 - sure_x0).max(2.0)
    );
    // End bound.
    if let (WindowStatus::Closed, Some(l)) = (win.status, win.closed_latest) {
        let x = sc.x(l);
        let _ = write!(
            out,
            r#"<rect class="unsure" x="{sure_x1:.1}" y="{top:.1}" width="{:.1}" height="{BAR_H:.1}"/>"#,
            (x - sure_x1).max(0.0)
        );
    } else {
        {
            let x = sc.x(as_of.max(win.closed_earliest));
            let _ = write!(
                out,
                r#"<rect class="open" x="{sure_x1:.1}" y="{top:.1}" width="{:.1}" height="{BAR_H:.1}"/><path class="arrow" d="M{:.1},{:.1} l7,{:.1} l-7,{:.1} z"/>"#,
                (x - sure_x1).max(0.0),
                x,
                top - 2.0,
                BAR_H / 2.0 + 2.0,
                BAR_H / 2.0 + 2.0
            );
        }
    }
    out.push_str("</g>");
}

/// One dot per scan observation; a dot that would land within 1 px of the previous dot of the
/// same kind is skipped (a masscan sweep is thousands of observations, one visible dot).
fn scan_marks(out: &mut String, sc: &Scale, scans: &[ScanMark], y: f64) {
    let cy = y + BAR_H + 8.0;
    let mut last: Option<(&str, f64)> = None;
    for s in scans {
        let class = match (s.external, s.state.is_open(), s.state.is_negative()) {
            (false, _, _) => "scan-int",
            (true, true, _) => "scan-pos",
            (true, false, true) => "scan-neg",
            (true, false, false) => "scan-amb",
        };
        let x = sc.x(s.time);
        if last.is_some_and(|(c, lx)| c == class && (x - lx).abs() < 1.0) {
            continue;
        }
        last = Some((class, x));
        let _ = write!(
            out,
            r#"<circle class="{class}" cx="{x:.1}" cy="{cy:.1}" r="3.5"><title>{} {} {}{}</title></circle>"#,
            s.tool.as_str(),
            s.state.label(s.scanner_state),
            time(s.time),
            if s.external { "" } else { " (internal vantage)" }
        );
    }
}

fn lane(out: &mut String, sc: &Scale, svc: &ServiceSummary, y: f64, as_of: DateTime<Utc>) {
    let _ = write!(
        out,
        r#"<line class="lane" x1="{PLOT_X0:.1}" y1="{:.1}" x2="{PLOT_X1:.1}" y2="{:.1}"/><text class="svc" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
        y + BAR_H / 2.0,
        y + BAR_H / 2.0,
        PLOT_X0 - 10.0,
        y + BAR_H / 2.0 + 4.0,
        html(&short(&svc.name, 22))
    );
    for w in &svc.windows {
        window_shapes(out, sc, w, y, as_of);
    }
    scan_marks(out, sc, &svc.scans, y);
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// At most this many rate bars are drawn; finer series are summed into wider buckets.
const MAX_BARS: usize = 360;

/// Sum `series` in groups of `group` buckets.
fn regroup(series: &[u64], n: usize, group: usize) -> Vec<u64> {
    (0..n.div_ceil(group))
        .map(|g| {
            let end = ((g + 1) * group).min(series.len());
            let start = (g * group).min(end);
            series[start..end].iter().fold(0u64, |acc, v| acc.saturating_add(*v))
        })
        .collect()
}

fn rate_bars(out: &mut String, sc: &Scale, m: &ReportModel, top: f64) {
    let rate = &m.snapshot.rate;
    let Some(start) = rate.start else { return };
    if rate.bucket_secs == 0 {
        return;
    }
    let n = rate.external.len().max(rate.internal.len());
    let group = n.div_ceil(MAX_BARS).max(1);
    let external = regroup(&rate.external, n, group);
    let internal = regroup(&rate.internal, n, group);
    let max = external.iter().zip(&internal).map(|(e, i)| e.saturating_add(*i)).max().unwrap_or(0);
    let bucket_secs = i64::from(rate.bucket_secs).saturating_mul(group as i64);
    let base = top + RATE_H;
    let _ = write!(
        out,
        r#"<line class="lane" x1="{PLOT_X0:.1}" y1="{base:.1}" x2="{PLOT_X1:.1}" y2="{base:.1}"/><text class="svc" x="{:.1}" y="{:.1}" text-anchor="end">requests</text><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">max {max} / {}</text>"#,
        PLOT_X0 - 10.0,
        top + RATE_H / 2.0,
        PLOT_X0 - 10.0,
        top + RATE_H / 2.0 + 14.0,
        super::text::duration(bucket_secs)
    );
    if max == 0 {
        return;
    }
    let bucket_ms = bucket_secs.saturating_mul(1000);
    for (i, (ext, int)) in external.iter().zip(&internal).enumerate() {
        let t = shift(start, bucket_ms.saturating_mul(i as i64));
        let (x0, x1) = (sc.x(t), sc.x(shift(t, bucket_ms)));
        let w = (x1 - x0 - 0.5).max(0.8);
        let he = RATE_H * *ext as f64 / max as f64;
        let hi = RATE_H * *int as f64 / max as f64;
        if *ext > 0 {
            let _ = write!(
                out,
                r#"<rect class="rate-ext" x="{x0:.1}" y="{:.1}" width="{w:.1}" height="{he:.1}"/>"#,
                base - he
            );
        }
        if *int > 0 {
            let _ = write!(
                out,
                r#"<rect class="rate-int" x="{x0:.1}" y="{:.1}" width="{w:.1}" height="{hi:.1}"/>"#,
                base - he - hi
            );
        }
    }
}

/// Whether a moment kind gets a numbered marker on the timeline.
#[must_use]
pub fn is_marked(kind: MomentKind) -> bool {
    !matches!(kind, MomentKind::Scan | MomentKind::ExposureStart)
}

/// Marker numbers (1-based, consecutive) of the moments that get one, parallel to `moments`;
/// the HTML key-moments table shows the same numbers.
#[must_use]
pub fn marker_numbers(moments: &[Moment]) -> Vec<Option<usize>> {
    let mut n = 0;
    moments
        .iter()
        .map(|mo| {
            is_marked(mo.kind).then(|| {
                n += 1;
                n
            })
        })
        .collect()
}

fn moment_marks(out: &mut String, sc: &Scale, m: &ReportModel, bottom: f64) {
    let marked: Vec<(usize, &Moment)> = marker_numbers(&m.moments)
        .into_iter()
        .zip(&m.moments)
        .filter_map(|(n, mo)| n.map(|n| (n, mo)))
        .collect();
    let label = marked.len() <= 40;
    let mut last_x = f64::NEG_INFINITY;
    let mut row = 0;
    for (i, mo) in marked {
        let x = sc.x(mo.time);
        let class = match mo.kind {
            MomentKind::FirstNonScannerSuccess => "mk-alert",
            MomentKind::Playbook | MomentKind::Note => "mk-case",
            _ => "mk",
        };
        let _ = write!(
            out,
            r#"<line class="{class}" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{bottom:.1}"/>"#,
            AXIS_Y + 2.0
        );
        if label {
            // Stagger labels that would overlap.
            row = if x - last_x < 16.0 { (row + 1) % 3 } else { 0 };
            last_x = x;
            let _ = write!(
                out,
                r#"<text class="mk-num" x="{x:.1}" y="{:.1}" text-anchor="middle">{}<title>{} {}</title></text>"#,
                bottom + 12.0 + 11.0 * f64::from(row),
                i,
                time_near(mo.time, mo.time),
                mo.kind.label()
            );
        }
    }
}

/// The timeline SVG, or `None` when there is nothing with a time to draw.
#[must_use]
pub fn timeline(m: &ReportModel) -> Option<String> {
    let (t0, t1) = range(m)?;
    let sc = Scale { t0, span_ms: ((t1 - t0).num_milliseconds() as f64).max(1.0) };
    let lanes = m.snapshot.services.len() as f64;
    let lanes_bottom = LANE_Y0 + LANE_H * lanes;
    let has_rate = m.snapshot.rate.start.is_some() && m.snapshot.rate.bucket_secs > 0;
    let rate_top = lanes_bottom + 6.0;
    let bottom = if has_rate { rate_top + RATE_H } else { lanes_bottom };
    let height = bottom + 50.0;
    let mut out = String::with_capacity(8 * 1024);
    let _ = write!(
        out,
        r#"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0} {height:.0}" role="img" aria-label="Exposure timeline">"#
    );
    out.push_str(concat!(
        r#"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">"#,
        r##"<rect width="6" height="6" fill="#f6dcdc"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c65151" stroke-width="2.2"/></pattern></defs>"##
    ));
    axis(&mut out, &sc, t0, t1, bottom);
    for (i, svc) in m.snapshot.services.iter().enumerate() {
        lane(&mut out, &sc, svc, LANE_Y0 + LANE_H * i as f64 + 6.0, m.snapshot.as_of);
    }
    if has_rate {
        rate_bars(&mut out, &sc, m, rate_top);
    }
    moment_marks(&mut out, &sc, m, bottom);
    out.push_str("</svg>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_series_are_regrouped_not_truncated() {
        assert_eq!(regroup(&[1, 2, 3, 4, 5], 5, 2), vec![3, 7, 5]);
        assert_eq!(regroup(&[1, 2], 5, 2), vec![3, 0, 0]);
        assert_eq!(regroup(&[u64::MAX, 1], 2, 2), vec![u64::MAX]);
    }

    #[test]
    fn ticks_stay_few() {
        assert_eq!(tick_step(3600), 600);
        assert_eq!(tick_step(100), 60);
        assert_eq!(tick_step(10 * 86_400), 172_800);
        assert!(tick_step(i64::MAX / 2) > 0);
        // 56 years (an epoch timestamp next to a real one) still gives at most 8 ticks.
        let span = 56 * 365 * 86_400;
        assert!(span / tick_step(span) <= 8);
    }
}
