//! The summary paragraph: what was exposed, for how long (with bounds), to how many external
//! clients, how much was served, whether a non-scanner succeeded, and the current status.
//! Written for a manager; every number is one an investigator can quote.

use chrono::{DateTime, Utc};

use super::text::{Para, data, lit, plural, saturating_sum, strong, text, thousands, time};
use super::text::{bytes as fmt_bytes, duration};
use crate::model::Snapshot;
use crate::model::snapshot::{Hit, ServiceSummary, Window, WindowStatus};

/// How long a window lasted, in seconds: `(at_least, at_most)`.
///
/// `at_least` runs from the first to the last positive evidence (to `as_of` while open);
/// `at_most` from the last negative evidence before to the first after, `None` when either
/// side is unbounded (exposed since before observation, or still open).
#[must_use]
pub fn window_duration(w: &Window, as_of: DateTime<Utc>) -> (i64, Option<i64>) {
    let end_min = match w.status {
        WindowStatus::Open => as_of.max(w.closed_earliest),
        WindowStatus::Closed => w.closed_earliest,
    };
    let at_least = (end_min - w.opened_latest).num_seconds();
    let at_most = match (w.opened_earliest, w.closed_latest, w.status) {
        (Some(start), Some(end), WindowStatus::Closed) => Some((end - start).num_seconds()),
        _ => None,
    };
    (at_least, at_most)
}

/// "between A and B" / "before observation began (first seen A)".
fn opened_phrase(w: &Window, p: &mut Para) {
    match w.opened_earliest {
        Some(e) => {
            p.push(lit(format!("between {} and {}", time(e), time(w.opened_latest))));
        }
        None => p.push(lit(format!(
            "before observation began (first positive evidence {})",
            time(w.opened_latest)
        ))),
    }
}

fn closed_phrase(w: &Window, as_of: DateTime<Utc>, p: &mut Para) {
    if let (WindowStatus::Closed, Some(l)) = (w.status, w.closed_latest) {
        p.push(lit(format!("until between {} and {}", time(w.closed_earliest), time(l))));
    } else {
        p.push(lit("and is "));
        p.push(strong("still open"));
        p.push(lit(format!(
            " (last positive evidence {}, as of {})",
            time(w.closed_earliest),
            time(as_of)
        )));
    }
}

fn service_sentence(svc: &ServiceSummary, as_of: DateTime<Utc>, p: &mut Para) {
    let (Some(first), Some(last)) = (svc.windows.first(), svc.windows.last()) else { return };
    let mut total_min = 0i64;
    let mut total_max = Some(0i64);
    for w in &svc.windows {
        let (lo, hi) = window_duration(w, as_of);
        total_min = total_min.saturating_add(lo);
        total_max = total_max.zip(hi).map(|(a, b)| a.saturating_add(b));
    }
    p.push(data(svc.name.clone()));
    if svc.windows.len() == 1 {
        p.push(lit(" was exposed from "));
        opened_phrase(first, p);
        p.push(lit(" "));
        closed_phrase(first, as_of, p);
    } else {
        p.push(lit(format!(
            " was exposed in {} separate windows; the first opened ",
            svc.windows.len()
        )));
        opened_phrase(first, p);
        p.push(lit(", the last "));
        match last.status {
            WindowStatus::Closed => p.push(lit("closed ")),
            WindowStatus::Open => p.push(lit("opened ")),
        }
        if last.status == WindowStatus::Open {
            opened_phrase(last, p);
            p.push(lit(" "));
        }
        closed_phrase(last, as_of, p);
    }
    p.push(lit(": "));
    p.push(strong(format!("at least {}", duration(total_min))));
    match total_max {
        Some(m) => p.push(lit(format!(", at most {}. ", duration(m)))),
        None if svc.windows.iter().any(|w| w.opened_earliest.is_none()) => {
            p.push(lit(" (the start is unbounded: no negative evidence precedes it). "));
        }
        None => p.push(lit(" so far. ")),
    }
}

fn hit_phrase(hit: &Hit, p: &mut Para) {
    p.push(data(hit.client.clone()));
    p.push(lit(format!(" at {} (", time(hit.time))));
    p.push(data(format!("{} {}", hit.method, hit.path).trim().to_owned()));
    p.push(lit(format!(" → {})", hit.status)));
}

/// Seconds covered by the certain part of any window (union over services, so overlapping
/// exposures of two services are not counted twice).
#[must_use]
pub fn certain_exposure_secs(snap: &Snapshot) -> i64 {
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = snap
        .services
        .iter()
        .flat_map(|s| &s.windows)
        .map(|w| {
            let end = match w.status {
                WindowStatus::Open => snap.as_of.max(w.closed_earliest),
                WindowStatus::Closed => w.closed_earliest,
            };
            (w.opened_latest, end.max(w.opened_latest))
        })
        .collect();
    spans.sort();
    let mut total = 0i64;
    let mut current: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (start, end) in spans {
        current = match current {
            Some((cs, ce)) if start <= ce => Some((cs, ce.max(end))),
            Some((cs, ce)) => {
                total = total.saturating_add((ce - cs).num_seconds());
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    if let Some((cs, ce)) = current {
        total = total.saturating_add((ce - cs).num_seconds());
    }
    total
}

/// Build the summary paragraph.
#[must_use]
pub fn summary(snap: &Snapshot, case_name: &str) -> Para {
    let mut p = Para::new();
    if !case_name.trim().is_empty() {
        p.push(text(case_name.to_owned()));
        p.push(lit(". "));
    }
    let exposed: Vec<&ServiceSummary> =
        snap.services.iter().filter(|s| !s.windows.is_empty()).collect();
    if exposed.is_empty() && snap.coverage.nothing_read() {
        p.push(lit(format!(
            "No evidence was read: none of the {} configured or found yielded a request or a scan observation. ",
            plural(snap.coverage.total() as u64, "source", "sources"),
        )));
        p.push(strong("Exposure unknown"));
        p.push(lit(": this is not an all-clear."));
        return p;
    }
    if exposed.is_empty() {
        p.push(lit(format!(
            "No service shows external exposure in the evidence: {} monitored, {} read from {}. ",
            plural(snap.services.len() as u64, "service", "services"),
            plural(snap.stats.lines, "line", "lines"),
            plural(snap.sources.len() as u64, "source", "sources"),
        )));
        p.push(lit(format!("Status as of {}: ", time(snap.as_of))));
        p.push(strong("no exposure observed"));
        p.push(lit("."));
        incomplete(snap, &mut p);
        return p;
    }
    p.push(lit(format!(
        "{} of the {} monitored {} {} reachable from the internet. ",
        exposed.len(),
        snap.services.len(),
        if snap.services.len() == 1 { "service" } else { "services" },
        if exposed.len() == 1 { "was" } else { "were" },
    )));
    for svc in &exposed {
        service_sentence(svc, snap.as_of, &mut p);
    }
    let requests = saturating_sum(exposed.iter().map(|s| s.external_requests));
    let successes = saturating_sum(exposed.iter().map(|s| s.external_successes));
    let served = saturating_sum(exposed.iter().map(|s| s.external_bytes));
    p.push(strong(plural(snap.actors_total(), "external client", "external clients")));
    p.push(lit(format!(
        " made {} ({} successful) and were served ",
        plural(requests, "request", "requests"),
        thousands(successes)
    )));
    p.push(strong(fmt_bytes(served)));
    p.push(lit(format!(" ({} bytes). ", thousands(served))));
    let first_ns = exposed
        .iter()
        .filter_map(|s| s.first_non_scanner_success.as_ref())
        .min_by(|a, b| a.time.cmp(&b.time).then_with(|| a.client.cmp(&b.client)));
    match first_ns {
        Some(hit) => {
            p.push(strong("A client that is not a known scanner got a successful response"));
            p.push(lit(": "));
            hit_phrase(hit, &mut p);
            p.push(lit(". "));
        }
        None => p.push(lit("No client other than known scanners got a successful response. ")),
    }
    p.push(lit(format!("Status as of {}: ", time(snap.as_of))));
    if snap.any_open() {
        p.push(strong("still exposed"));
        p.push(lit(" (no negative evidence after the latest positive evidence)."));
    } else {
        p.push(strong("contained"));
        p.push(lit(" (every exposure window is closed by negative evidence)."));
    }
    incomplete(snap, &mut p);
    p
}

/// When some configured source yielded nothing, say so after the verdict.
fn incomplete(snap: &Snapshot, p: &mut Para) {
    let cov = &snap.coverage;
    if !cov.complete() {
        p.push(lit(" "));
        p.push(strong(format!(
            "Evidence incomplete: {} of {} sources unread",
            cov.sources_unread.len(),
            cov.total()
        )));
        p.push(lit(" (see Evidence problems)."));
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::snapshot::EvidenceCount;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 3, h, m, 0).single().unwrap_or_default()
    }

    fn window(open_e: Option<u32>, close_l: Option<u32>) -> Window {
        Window {
            opened_earliest: open_e.map(|m| t(11, m)),
            opened_latest: t(11, 40),
            closed_earliest: t(12, 30),
            closed_latest: close_l.map(|m| t(12, m)),
            status: if close_l.is_some() { WindowStatus::Closed } else { WindowStatus::Open },
            external_requests: 0,
            external_successes: 0,
            external_bytes: 0,
            external_clients: 0,
            first_external: None,
            first_non_scanner_success: None,
            evidence: EvidenceCount::default(),
            top_paths: vec![],
            sensitive: vec![],
        }
    }

    #[test]
    fn durations_follow_the_bounds() {
        assert_eq!(
            window_duration(&window(Some(0), Some(40)), t(13, 0)),
            (50 * 60, Some(100 * 60))
        );
        assert_eq!(window_duration(&window(None, Some(40)), t(13, 0)), (50 * 60, None));
        // Open: at least until as_of, at most unknown.
        assert_eq!(window_duration(&window(Some(0), None), t(13, 0)), (80 * 60, None));
    }

    #[test]
    fn certain_exposure_is_a_union_not_a_sum() {
        let span = |open_min: u32, close_min: u32, status| Window {
            opened_latest: t(10, open_min),
            closed_earliest: t(10, close_min),
            status,
            ..window(None, None)
        };
        // Through serde, so fields added to `ServiceSummary` with a default keep this compiling.
        let svc = |windows| -> ServiceSummary {
            let mut s: ServiceSummary = serde_json::from_value(serde_json::json!({
                "name": "s", "addresses": [], "state": "closed", "windows": [],
                "external_requests": 0, "external_successes": 0, "external_bytes": 0,
                "external_clients": 0, "internal_requests": 0, "first_external": null,
                "first_non_scanner_success": null, "scans": [],
            }))
            .unwrap_or_else(|e| panic!("fixture: {e}"));
            s.windows = windows;
            s
        };
        // 0–10 and 5–20 overlap (20 min), 30–40 is apart (10 min), the open one 45–as_of (5 min).
        let snap = Snapshot {
            as_of: t(10, 50),
            services: vec![
                svc(vec![span(0, 10, WindowStatus::Closed), span(30, 40, WindowStatus::Closed)]),
                svc(vec![span(5, 20, WindowStatus::Closed), span(45, 46, WindowStatus::Open)]),
            ],
            ..Snapshot::default()
        };
        assert_eq!(certain_exposure_secs(&snap), 35 * 60);
    }
}
