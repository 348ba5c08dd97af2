//! Step verification: pure checks of a [`VerifySpec`] against a [`Snapshot`].
//!
//! Inputs are the snapshot, the time the step was (last) started, and `as_of` (normally
//! `snapshot.as_of`); nothing reads a clock. Every result carries the evidence it rests on
//! (which scan, which window, which time) so a responder can see *why* a step is verified.
//!
//! What counts, exactly (all times UTC, only evidence at or before `as_of`):
//! - **services**: the names in `verify.services`; when empty, every service of the snapshot
//!   with at least one exposure window. A named service missing from the snapshot, or an empty
//!   selection, gives `not_evaluated`.
//! - **`scan_closed`**: for each selected service, every target (`ip:port` / `host:port`) that
//!   any *external* scan mark ever named must have an external scan mark at or after the step
//!   start, and the latest such mark must be `closed`, `filtered` or `unreachable` (an `open`
//!   mark at the same instant wins). Internal scans never count. No external scan since the step
//!   started → `not_yet`.
//! - **`no_external_for D`**: the last external positive evidence `L` of a service is the latest
//!   `closed_earliest` of its windows (the last positive evidence inside each window) or the
//!   latest external `open` scan mark, whichever is later. Verified when
//!   `as_of − max(L, step start) ≥ D`: the quiet period must lie after the step started, so
//!   a quiet stretch before the action does not verify it.
//! - **`no_external_success_for D`**: as above, with `L` = the latest `closed_earliest` among
//!   windows that had at least one external success (status < 400). The snapshot keeps no
//!   per-request success times, so this is an upper bound of the last success: the check may
//!   verify later than strictly necessary, never earlier.
//! - **`window_closed`**: every window of each selected service has status `closed` (a named
//!   service that never had a window is vacuously closed), once the step started.
//!
//! Every kind needs the step to have started: before that the result is `not_evaluated`,
//! "not started", whatever the evidence.
//!
//! Ingest gaps (rotations, truncations, source errors, restarts, silence) that overlap a quiet
//! period are listed as caveats: evidence may be missing there.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{VerifyKind, VerifySpec, format_duration};
use crate::model::Snapshot;
use crate::model::snapshot::{ScanMark, ServiceSummary, WindowStatus};
use crate::model::{PortState, SourceId};
use crate::text::rfc3339_secs as ts;

/// The verdict of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyOutcome {
    /// The evidence shows the condition holds.
    Verified,
    /// The evidence does not (yet) show it.
    NotYet,
    /// The check could not run (no snapshot, step not started, unknown service…).
    NotEvaluated,
}

impl VerifyOutcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyOutcome::Verified => "verified",
            VerifyOutcome::NotYet => "not_yet",
            VerifyOutcome::NotEvaluated => "not_evaluated",
        }
    }
}

/// One piece of evidence behind a result, for display ("scan closed at … (nmap, line 12)").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub service: String,
    pub time: Option<DateTime<Utc>>,
    /// Human-readable description; names the scan tool/target/state or the window.
    pub what: String,
    pub source: Option<SourceId>,
    pub line: Option<u64>,
}

/// The result of checking one step's condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyResult {
    pub outcome: VerifyOutcome,
    /// One line for the checklist ("no external evidence for 12m since 10:04:00Z").
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// Reasons to doubt a positive result (ingest gaps in the quiet period).
    pub caveats: Vec<String>,
}

impl VerifyResult {
    /// A result for a check that could not run.
    #[must_use]
    pub fn not_evaluated(reason: impl Into<String>) -> VerifyResult {
        VerifyResult {
            outcome: VerifyOutcome::NotEvaluated,
            summary: reason.into(),
            evidence: Vec::new(),
            caveats: Vec::new(),
        }
    }
}

/// Evaluate `spec` over `snapshot`. `step_started` is when the step last went in progress
/// (or was done without being started); `as_of` bounds the evidence considered.
#[must_use]
pub fn evaluate(
    spec: &VerifySpec,
    snapshot: &Snapshot,
    step_started: Option<DateTime<Utc>>,
    as_of: DateTime<Utc>,
) -> VerifyResult {
    let services = match select(spec, snapshot) {
        Ok(s) => s,
        Err(reason) => return VerifyResult::not_evaluated(reason),
    };
    // No evidence is looked at before the step started (a close-out step is not "verified"
    // the moment a case opens).
    let Some(started) = step_started else {
        return VerifyResult::not_evaluated("not started");
    };
    let mut parts = Vec::with_capacity(services.len());
    for service in services {
        // Never verified on no evidence; a verdict over partly unread evidence says so.
        if service.state == crate::model::snapshot::ServiceState::Unknown {
            parts.push(VerifyResult::not_evaluated(format!(
                "{}: {}",
                service.name,
                crate::correlate::coverage::verdict_note(service)
            )));
            continue;
        }
        let unread = &service.coverage.sources_unread;
        let incomplete = (!unread.is_empty()).then(|| {
            let list: Vec<String> =
                unread.iter().map(|u| format!("{} ({})", u.path, u.reason)).collect();
            format!("{}: evidence incomplete, unread: {}", service.name, list.join(", "))
        });
        parts.push(match spec.kind {
            VerifyKind::ScanClosed => scan_closed(service, started, as_of),
            VerifyKind::NoExternalFor { secs } => {
                quiet_for(snapshot, service, started, as_of, secs, Positive::Any)
            }
            VerifyKind::NoExternalSuccessFor { secs } => {
                quiet_for(snapshot, service, started, as_of, secs, Positive::Success)
            }
            VerifyKind::WindowClosed => window_closed(service),
        });
        if let (Some(part), Some(caveat)) = (parts.last_mut(), incomplete) {
            part.caveats.push(caveat);
        }
    }
    combine(parts)
}

fn select<'a>(
    spec: &VerifySpec,
    snapshot: &'a Snapshot,
) -> Result<Vec<&'a ServiceSummary>, String> {
    if spec.services.is_empty() {
        let exposed: Vec<_> = snapshot.services.iter().filter(|s| !s.windows.is_empty()).collect();
        if exposed.is_empty() {
            return Err("no service has an exposure window in the evidence".to_owned());
        }
        return Ok(exposed);
    }
    spec.services
        .iter()
        .map(|name| {
            snapshot.services.iter().find(|s| &s.name == name).ok_or_else(|| {
                format!("service \"{name}\" is not in the evidence (check verify.services)")
            })
        })
        .collect()
}

/// Worst outcome wins (not evaluated < not yet < verified); summaries of the non-verified
/// parts lead.
fn combine(parts: Vec<VerifyResult>) -> VerifyResult {
    let outcome = if parts.iter().any(|p| p.outcome == VerifyOutcome::NotEvaluated) {
        VerifyOutcome::NotEvaluated
    } else if parts.iter().any(|p| p.outcome == VerifyOutcome::NotYet) {
        VerifyOutcome::NotYet
    } else {
        VerifyOutcome::Verified
    };
    let mut summaries: Vec<&str> =
        parts.iter().filter(|p| p.outcome == outcome).map(|p| p.summary.as_str()).collect();
    summaries.dedup();
    let summary = summaries.join("; ");
    let mut evidence = Vec::new();
    let mut caveats = Vec::new();
    for p in parts {
        evidence.extend(p.evidence);
        caveats.extend(p.caveats);
    }
    VerifyResult { outcome, summary, evidence, caveats }
}

fn mark_evidence(service: &str, m: &ScanMark) -> Evidence {
    Evidence {
        service: service.to_owned(),
        time: Some(m.time),
        what: format!(
            "{} scan of {}: {}",
            m.tool.as_str(),
            m.target,
            m.state.label(m.scanner_state)
        ),
        source: Some(m.source),
        line: Some(m.line),
    }
}

fn scan_closed(
    service: &ServiceSummary,
    started: DateTime<Utc>,
    as_of: DateTime<Utc>,
) -> VerifyResult {
    let name = &service.name;
    let external: Vec<&ScanMark> =
        service.scans.iter().filter(|m| m.external && m.time <= as_of).collect();
    let mut targets: Vec<&str> = external.iter().map(|m| m.target.as_str()).collect();
    targets.sort_unstable();
    targets.dedup();
    if !external.iter().any(|m| m.time >= started) {
        return VerifyResult {
            outcome: VerifyOutcome::NotYet,
            summary: format!("{name}: no external scan since the step started at {}", ts(started)),
            evidence: Vec::new(),
            caveats: Vec::new(),
        };
    }
    let mut evidence = Vec::new();
    let mut failures = Vec::new();
    for target in targets {
        // Latest mark for the target since the step started; an open mark wins a tie.
        let latest = external
            .iter()
            .filter(|m| m.target == target && m.time >= started)
            .max_by_key(|m| (m.time, m.state == PortState::Open));
        match latest {
            None => failures.push(format!("{name}: {target} not rescanned since {}", ts(started))),
            Some(m) => {
                evidence.push(mark_evidence(name, m));
                if m.state.is_open() {
                    failures.push(format!("{name}: {target} still open at {}", ts(m.time)));
                } else if !m.state.is_negative() {
                    failures.push(format!(
                        "{name}: {target} {} at {}: the scan does not show it closed",
                        m.state.label(m.scanner_state),
                        ts(m.time)
                    ));
                }
            }
        }
    }
    if failures.is_empty() {
        VerifyResult {
            outcome: VerifyOutcome::Verified,
            summary: format!("{name}: external scan shows it closed"),
            evidence,
            caveats: Vec::new(),
        }
    } else {
        VerifyResult {
            outcome: VerifyOutcome::NotYet,
            summary: failures.join("; "),
            evidence,
            caveats: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Positive {
    Any,
    Success,
}

fn quiet_for(
    snapshot: &Snapshot,
    service: &ServiceSummary,
    started: DateTime<Utc>,
    as_of: DateTime<Utc>,
    secs: u64,
    positive: Positive,
) -> VerifyResult {
    let name = &service.name;
    let what = match positive {
        Positive::Any => "external evidence",
        Positive::Success => "external success",
    };
    let mut last: Option<Evidence> = None;
    let mut consider = |candidate: Evidence| {
        if last.as_ref().is_none_or(|l| candidate.time > l.time) {
            last = Some(candidate);
        }
    };
    for (i, w) in service.windows.iter().enumerate() {
        let counts = match positive {
            Positive::Any => true,
            Positive::Success => w.external_successes > 0,
        };
        if counts && w.closed_earliest <= as_of {
            consider(Evidence {
                service: name.clone(),
                time: Some(w.closed_earliest),
                what: format!(
                    "last positive evidence of window {} (opened ≤ {}, {} external requests, {} successes)",
                    i + 1,
                    ts(w.opened_latest),
                    w.external_requests,
                    w.external_successes
                ),
                source: None,
                line: None,
            });
        }
    }
    if positive == Positive::Any {
        for m in service.scans.iter().filter(|m| m.external && m.state.is_open() && m.time <= as_of)
        {
            consider(mark_evidence(name, m));
        }
    }
    let last_time = last.as_ref().and_then(|e| e.time);
    let quiet_since = last_time.map_or(started, |l| l.max(started));
    // Saturating: a hand-built spec with an absurd duration must not panic.
    let needed = i64::try_from(secs).ok().and_then(Duration::try_seconds).unwrap_or(Duration::MAX);
    let quiet = as_of - quiet_since;
    let caveats = gap_caveats(snapshot, quiet_since, as_of);
    let last_text = last_time
        .map_or_else(|| format!("no {what} at all"), |l| format!("last {what} at {}", ts(l)));
    let evidence: Vec<Evidence> = last.into_iter().collect();
    if quiet >= needed {
        VerifyResult {
            outcome: VerifyOutcome::Verified,
            summary: format!(
                "{name}: no {what} for {} since {} ({last_text})",
                format_duration(quiet.num_seconds().max(0) as u64),
                ts(quiet_since)
            ),
            evidence,
            caveats,
        }
    } else {
        VerifyResult {
            outcome: VerifyOutcome::NotYet,
            summary: format!(
                "{name}: {last_text}; quiet {} of {} (verifiable at {})",
                format_duration(quiet.num_seconds().max(0) as u64),
                format_duration(secs),
                quiet_since.checked_add_signed(needed).map_or_else(|| "never".to_owned(), ts)
            ),
            evidence,
            caveats,
        }
    }
}

fn gap_caveats(snapshot: &Snapshot, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
    snapshot
        .gaps
        .iter()
        .filter(|g| g.from <= to && g.to.is_none_or(|end| end >= from))
        .map(|g| {
            let end = g.to.map_or_else(|| "now".to_owned(), ts);
            format!(
                "ingest gap ({}) in {} from {} to {end}: {}",
                g.kind.label(),
                g.path,
                ts(g.from),
                g.reason
            )
        })
        .collect()
}

fn window_closed(service: &ServiceSummary) -> VerifyResult {
    let name = &service.name;
    let open: Vec<_> = service.windows.iter().filter(|w| w.status == WindowStatus::Open).collect();
    if let Some(w) = open.first() {
        return VerifyResult {
            outcome: VerifyOutcome::NotYet,
            summary: format!(
                "{name}: window opened ≤ {} still open (last positive evidence {})",
                ts(w.opened_latest),
                ts(w.closed_earliest)
            ),
            evidence: Vec::new(),
            caveats: Vec::new(),
        };
    }
    let Some(last) = service.windows.last() else {
        return VerifyResult {
            outcome: VerifyOutcome::Verified,
            summary: format!("{name}: never exposed"),
            evidence: Vec::new(),
            caveats: Vec::new(),
        };
    };
    let closed_by = last.closed_latest.map_or_else(|| "?".to_owned(), ts);
    VerifyResult {
        outcome: VerifyOutcome::Verified,
        summary: format!("{name}: all {} window(s) closed", service.windows.len()),
        evidence: vec![Evidence {
            service: name.clone(),
            time: last.closed_latest,
            what: format!(
                "last window closed between {} and {closed_by} ({} negative evidence)",
                ts(last.closed_earliest),
                last.evidence.negative
            ),
            source: None,
            line: None,
        }],
        caveats: Vec::new(),
    }
}
