//! Key moments: one timeline merging exposure starts and ends, first external request, first
//! non-scanner success, scans, playbook actions, notes and ingest gaps.
//!
//! Consecutive scan observations of one service with the same tool, state and vantage collapse
//! into one moment (a masscan sweep is one moment, not a thousand).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::model::{CaseSection, StepState};
use super::text::{Para, data, lit, plural, strong, text, time};
use crate::model::snapshot::{GapKind, Hit, ScanMark, WindowStatus};
use crate::model::{PortState, Snapshot};

/// What a moment is about; also its sort order among moments at the same time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MomentKind {
    ExposureStart,
    FirstExternal,
    FirstNonScannerSuccess,
    Scan,
    ExposureEnd,
    Gap,
    Playbook,
    Note,
}

impl MomentKind {
    /// Stable snake-case name (JSON value, CSS class suffix).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MomentKind::ExposureStart => "exposure_start",
            MomentKind::FirstExternal => "first_external",
            MomentKind::FirstNonScannerSuccess => "first_non_scanner_success",
            MomentKind::Scan => "scan",
            MomentKind::ExposureEnd => "exposure_end",
            MomentKind::Gap => "gap",
            MomentKind::Playbook => "playbook",
            MomentKind::Note => "note",
        }
    }

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            MomentKind::ExposureStart => "exposure",
            MomentKind::FirstExternal => "first external",
            MomentKind::FirstNonScannerSuccess => "non-scanner success",
            MomentKind::Scan => "scan",
            MomentKind::ExposureEnd => "contained",
            MomentKind::Gap => "gap",
            MomentKind::Playbook => "playbook",
            MomentKind::Note => "note",
        }
    }
}

/// One row of the key-moments timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    pub time: DateTime<Utc>,
    pub kind: MomentKind,
    /// The service it concerns, when it concerns one.
    pub service: Option<String>,
    pub text: Para,
}

fn hit_text(hit: &Hit, p: &mut Para) {
    p.push(data(hit.client.clone()));
    p.push(lit(" "));
    p.push(data(format!("{} {}", hit.method, hit.path).trim().to_owned()));
    p.push(lit(format!(" → {}", hit.status)));
    if !hit.user_agent.is_empty() {
        p.push(lit(", user agent "));
        p.push(data(hit.user_agent.clone()));
    }
}

fn scan_runs(service: &str, scans: &[ScanMark], out: &mut Vec<Moment>) {
    let mut i = 0;
    while i < scans.len() {
        let first = &scans[i];
        let mut j = i + 1;
        while j < scans.len()
            && scans[j].tool == first.tool
            && scans[j].state == first.state
            && scans[j].scanner_state == first.scanner_state
            && scans[j].external == first.external
        {
            j += 1;
        }
        let last = &scans[j - 1];
        let n = (j - i) as u64;
        let mut p = Para::new();
        p.push(lit(format!("{} ", first.tool.as_str())));
        p.push(lit(if n == 1 {
            "observation: ".to_owned()
        } else {
            format!("{}: ", plural(n, "observation", "observations"))
        }));
        p.push(strong(first.state.label(first.scanner_state)));
        p.push(lit(" at "));
        p.push(data(first.target.clone()));
        if n > 1 {
            p.push(lit(format!(" until {}", time(last.time))));
        }
        if first.external {
            p.push(lit(if first.state.is_open() {
                " (external vantage: positive evidence)"
            } else if first.state.is_negative() {
                " (external vantage: negative evidence)"
            } else if first.state == PortState::Ambiguous {
                " (the scanner could not tell: neither positive nor negative evidence)"
            } else {
                " (a finding about the host, not a port: neither positive nor negative evidence)"
            }));
        } else {
            p.push(lit(" (internal vantage: not exposure evidence)"));
        }
        out.push(Moment {
            time: first.time,
            kind: MomentKind::Scan,
            service: Some(service.to_owned()),
            text: p,
        });
        i = j;
    }
}

fn snapshot_moments(snap: &Snapshot, out: &mut Vec<Moment>) {
    for svc in &snap.services {
        let name = Some(svc.name.clone());
        for (n, w) in svc.windows.iter().enumerate() {
            let mut p =
                vec![lit(format!("Exposure window {} opens: first positive evidence", n + 1))];
            match w.opened_earliest {
                Some(e) => p.push(lit(format!(" (last negative evidence before: {})", time(e)))),
                None => {
                    p.push(lit(
                        " (no earlier negative evidence: exposed since before observation)",
                    ));
                }
            }
            out.push(Moment {
                time: w.opened_latest,
                kind: MomentKind::ExposureStart,
                service: name.clone(),
                text: p,
            });
            if let Some(hit) = &w.first_external {
                let mut p = vec![lit("First external request: ")];
                hit_text(hit, &mut p);
                out.push(Moment {
                    time: hit.time,
                    kind: MomentKind::FirstExternal,
                    service: name.clone(),
                    text: p,
                });
            }
            if let Some(hit) = &w.first_non_scanner_success {
                let mut p = vec![
                    strong("First success for a client that is not a known scanner"),
                    lit(": "),
                ];
                hit_text(hit, &mut p);
                out.push(Moment {
                    time: hit.time,
                    kind: MomentKind::FirstNonScannerSuccess,
                    service: name.clone(),
                    text: p,
                });
            }
            if let (WindowStatus::Closed, Some(l)) = (w.status, w.closed_latest) {
                let p = vec![lit(format!(
                    "Exposure window {} closed: first negative evidence (last positive: {})",
                    n + 1,
                    time(w.closed_earliest)
                ))];
                out.push(Moment {
                    time: l,
                    kind: MomentKind::ExposureEnd,
                    service: name.clone(),
                    text: p,
                });
            }
        }
        scan_runs(&svc.name, &svc.scans, out);
    }
    for gap in &snap.gaps {
        let mut p = vec![
            lit("Ingest gap ("),
            strong(gap_label(gap.kind)),
            lit(") in "),
            data(gap.path.clone()),
        ];
        if let Some(to) = gap.to {
            p.push(lit(format!(" until {}", time(to))));
        }
        if !gap.reason.is_empty() {
            p.push(lit(": "));
            p.push(data(gap.reason.clone()));
        }
        out.push(Moment { time: gap.from, kind: MomentKind::Gap, service: None, text: p });
    }
}

/// Plain-words name of a gap kind ([`GapKind::label`]).
#[must_use]
pub fn gap_label(kind: GapKind) -> &'static str {
    kind.label()
}

fn case_moments(case: &CaseSection, out: &mut Vec<Moment>) {
    if let Some(pb) = &case.playbook {
        for step in &pb.steps {
            let who = |p: &mut Para| {
                if !step.operator.is_empty() {
                    p.push(lit(" by "));
                    p.push(text(step.operator.clone()));
                }
            };
            if !step.history.is_empty() {
                // The step's own journal records: nothing the journal does not hold.
                for h in &step.history {
                    let mut p = vec![lit("Step "), text(h.action.clone()), lit(": ")];
                    p.push(text(step.title.clone()));
                    if !h.by.is_empty() {
                        p.push(lit(" by "));
                        p.push(text(h.by.clone()));
                    }
                    if !h.note.is_empty() {
                        p.push(lit(" ("));
                        p.push(text(h.note.clone()));
                        p.push(lit(")"));
                    }
                    out.push(Moment {
                        time: h.at,
                        kind: MomentKind::Playbook,
                        service: None,
                        text: p,
                    });
                }
                continue;
            }
            if let Some(at) = step.started {
                let mut p = vec![lit("Step started: "), text(step.title.clone())];
                who(&mut p);
                out.push(Moment { time: at, kind: MomentKind::Playbook, service: None, text: p });
            }
            if let Some(at) = step.done {
                let verb = match step.state {
                    StepState::Skipped => "Step skipped: ",
                    _ => "Step done: ",
                };
                let mut p = vec![lit(verb), text(step.title.clone())];
                who(&mut p);
                if step.state == StepState::Skipped && !step.skip_reason.is_empty() {
                    p.push(lit(" (reason: "));
                    p.push(text(step.skip_reason.clone()));
                    p.push(lit(")"));
                }
                out.push(Moment { time: at, kind: MomentKind::Playbook, service: None, text: p });
            }
        }
    }
    if let Some(at) = case.opened_at {
        let mut p = vec![lit("Case opened")];
        if !case.opened_by.is_empty() {
            p.push(lit(" by "));
            p.push(text(case.opened_by.clone()));
        }
        out.push(Moment { time: at, kind: MomentKind::Playbook, service: None, text: p });
    }
    for event in &case.events {
        let mut p = vec![text(event.text.clone())];
        if !event.by.is_empty() {
            p.push(lit(" ("));
            p.push(text(event.by.clone()));
            p.push(lit(")"));
        }
        out.push(Moment { time: event.at, kind: MomentKind::Note, service: None, text: p });
    }
    for note in &case.notes {
        let mut p = vec![lit("Note")];
        if !note.by.is_empty() {
            p.push(lit(" by "));
            p.push(text(note.by.clone()));
        }
        p.push(lit(": "));
        p.push(text(note.text.clone()));
        out.push(Moment { time: note.at, kind: MomentKind::Note, service: None, text: p });
    }
}

/// The merged timeline: time order, then kind order, then the order of creation (stable).
#[must_use]
pub fn key_moments(snap: &Snapshot, case: Option<&CaseSection>) -> Vec<Moment> {
    let mut out = Vec::new();
    snapshot_moments(snap, &mut out);
    if let Some(case) = case {
        case_moments(case, &mut out);
    }
    out.sort_by(|a, b| a.time.cmp(&b.time).then(a.kind.cmp(&b.kind)));
    out
}
