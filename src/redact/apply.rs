//! Applying the redactor to leakline's data: requests, scan observations, events and whole
//! snapshots (every attacker-derived string, in place).

use super::{RedactionCounts, Redactor};
use crate::model::snapshot::Hit;
use crate::model::{Event, Request, ScanObservation, Snapshot};

/// Redact every attacker-derived string of a request (target, raw request line, user agent,
/// referer, host, forwarded-for).
pub fn redact_request(redactor: &Redactor, req: &mut Request, counts: &mut RedactionCounts) {
    for s in [
        &mut req.target,
        &mut req.raw_request,
        &mut req.user_agent,
        &mut req.referer,
        &mut req.host,
        &mut req.forwarded_for,
    ] {
        redactor.redact_string(s, counts);
    }
}

/// Redact the attacker-influenced strings of a scan observation (details, hostname).
pub fn redact_scan(redactor: &Redactor, scan: &mut ScanObservation, counts: &mut RedactionCounts) {
    redactor.redact_string(&mut scan.details, counts);
    redactor.redact_string(&mut scan.hostname, counts);
}

/// Redact an event in place (for `watch --headless` output and journal evidence copies).
pub fn redact_event(redactor: &Redactor, event: &mut Event, counts: &mut RedactionCounts) {
    match event {
        Event::Request(r) => redact_request(redactor, r, counts),
        Event::Scan(s) => redact_scan(redactor, s, counts),
    }
}

fn redact_hit(redactor: &Redactor, hit: &mut Hit, counts: &mut RedactionCounts) {
    redactor.redact_string(&mut hit.path, counts);
    redactor.redact_string(&mut hit.user_agent, counts);
}

/// Redact every attacker-derived string of a snapshot in place: paths, user agents, scan
/// targets, gap reasons, malformed-line samples and source errors. Returns the counts.
///
/// Top-path lists may end up with two entries for the same marker (two secrets sharing a
/// 24-bit hash prefix); counts are left as they were, since merging would change totals.
pub fn redact_snapshot(redactor: &Redactor, snap: &mut Snapshot) -> RedactionCounts {
    let mut counts = RedactionCounts::default();
    let c = &mut counts;
    for src in &mut snap.sources {
        for (_, reason) in &mut src.malformed_samples {
            redactor.redact_string(reason, c);
        }
        for err in &mut src.errors {
            redactor.redact_string(err, c);
        }
    }
    for svc in &mut snap.services {
        for hit in svc.first_external.iter_mut().chain(svc.first_non_scanner_success.iter_mut()) {
            redact_hit(redactor, hit, c);
        }
        for w in &mut svc.windows {
            for hit in w.first_external.iter_mut().chain(w.first_non_scanner_success.iter_mut()) {
                redact_hit(redactor, hit, c);
            }
            for p in &mut w.top_paths {
                redactor.redact_string(&mut p.path, c);
            }
            // The rule patterns come from the config (the operator's words); the requests
            // that matched them are evidence.
            for hit in w.sensitive.iter_mut().filter_map(|s| s.first_success.as_mut()) {
                redact_hit(redactor, hit, c);
            }
        }
        for scan in &mut svc.scans {
            redactor.redact_string(&mut scan.target, c);
        }
    }
    for actor in &mut snap.actors {
        for p in &mut actor.top_paths {
            redactor.redact_string(&mut p.path, c);
        }
        for (ua, _) in &mut actor.user_agents {
            redactor.redact_string(ua, c);
        }
    }
    for gap in &mut snap.gaps {
        redactor.redact_string(&mut gap.reason, c);
    }
    counts
}
