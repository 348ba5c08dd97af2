//! The case journal's state as the report's [`CaseSection`]: the one conversion the CLI
//! (`leakline report`) and the TUI's export key share.
//!
//! - Step states map one to one; `started` is the current attempt's start, `done` when it was
//!   done or skipped, `operator` who acted last on it.
//! - SLA at `now`: on track and near are `running`; `overdue`, `met`, `missed` as they are.
//! - Verification: each step's condition evaluated over `snapshot` at `snapshot.as_of` (at
//!   `now`, as "not evaluated: no snapshot", without one).
//! - Notes are notes; every other journal record except the case opening and step actions
//!   (sources added, window annotations, exports, gaps, repairs) is an event.
//! - The journal head carries the records count, the head hash and what replay tolerated (a
//!   torn tail, warnings) as problems.
//!
//! Nothing here reads a clock or the disk: `now` and the snapshot are arguments.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use super::model::{
    CaseEvent, CaseSection, JournalHead, Note, PlaybookRecord, SlaOutcome, StepRecord, StepState,
    Verification, VerifyState,
};
use crate::case::{Case, CaseState, StepStatus};
use crate::model::Snapshot;
use crate::playbook::{self, Evidence, SlaStatus, VerifyOutcome, VerifyResult};

/// Journal record kinds that have their own place in the section (not repeated as events).
const OWN_PLACE: [&str; 3] = ["case_opened", "step", "note"];

/// Build the report's case section from an open case and its replayed state.
///
/// `snapshot` is the evidence the verify conditions are checked against (normally the
/// report's own snapshot); `now` is the moment SLAs are judged at (the report's generation).
#[must_use]
pub fn from_case(
    case: &Case,
    state: &CaseState,
    snapshot: Option<&Snapshot>,
    now: DateTime<Utc>,
) -> CaseSection {
    let as_of = snapshot.map_or(now, |s| s.as_of);
    let verified = state.verify_all(&case.playbook, snapshot, as_of);
    let steps = state
        .steps
        .iter()
        .map(|step| {
            let result = verified.iter().find(|(id, _)| id == &step.id).map(|(_, r)| r);
            step_record(state, step, result, snapshot, now)
        })
        .collect();
    let case_name = if state.name.trim().is_empty() { &case.meta.name } else { &state.name };
    CaseSection {
        case_name: case_name.clone(),
        opened_at: state.opened_at,
        opened_by: state.opened_by.clone().unwrap_or_default(),
        playbook: Some(PlaybookRecord {
            id: case.playbook.id.clone(),
            title: case.playbook.title.clone(),
            steps,
        }),
        notes: state
            .notes
            .iter()
            .map(|n| Note { at: n.at, by: n.by.clone(), text: n.text.clone() })
            .collect(),
        events: state
            .timeline
            .iter()
            .filter(|e| !OWN_PLACE.contains(&e.kind.as_str()))
            .map(|e| CaseEvent { at: e.at, by: e.by.clone(), text: e.text.clone() })
            .collect(),
        journal: Some(journal_head(case, state)),
    }
}

fn step_record(
    state: &CaseState,
    step: &StepStatus,
    result: Option<&VerifyResult>,
    snapshot: Option<&Snapshot>,
    now: DateTime<Utc>,
) -> StepRecord {
    let state_out = step_state(step.state);
    StepRecord {
        id: step.id.clone(),
        title: step.title.clone(),
        role: step.role.clone(),
        state: state_out,
        started: step.started_at,
        done: step.closed_at,
        operator: step.by.clone().unwrap_or_default(),
        sla_minutes: step.sla_minutes,
        sla: sla_outcome(state.sla(step, now)),
        skip_reason: match state_out {
            StepState::Skipped => step.note.clone().unwrap_or_default(),
            _ => String::new(),
        },
        verification: result.map(|r| verification(r, snapshot)),
    }
}

/// The playbook's step state as the report's (the same five states).
#[must_use]
pub fn step_state(s: playbook::StepState) -> StepState {
    match s {
        playbook::StepState::Pending => StepState::Pending,
        playbook::StepState::InProgress => StepState::InProgress,
        playbook::StepState::Done => StepState::Done,
        playbook::StepState::Skipped => StepState::Skipped,
        playbook::StepState::Blocked => StepState::Blocked,
    }
}

/// The SLA status as the report's outcome; `None` when the step has no SLA (or the case has
/// no opening record to count from).
#[must_use]
pub fn sla_outcome(s: SlaStatus) -> Option<SlaOutcome> {
    match s {
        SlaStatus::None => None,
        SlaStatus::OnTrack { .. } | SlaStatus::Near { .. } => Some(SlaOutcome::Running),
        SlaStatus::Overdue { .. } => Some(SlaOutcome::Overdue),
        SlaStatus::Met { .. } => Some(SlaOutcome::Met),
        SlaStatus::Missed { .. } => Some(SlaOutcome::Missed),
    }
}

fn verification(r: &VerifyResult, snapshot: Option<&Snapshot>) -> Verification {
    Verification {
        outcome: match r.outcome {
            VerifyOutcome::Verified => VerifyState::Verified,
            VerifyOutcome::NotYet => VerifyState::NotYet,
            VerifyOutcome::NotEvaluated => VerifyState::NotEvaluated,
        },
        summary: r.summary.clone(),
        evidence: r.evidence.iter().map(|e| evidence_line(e, snapshot)).collect(),
        caveats: r.caveats.clone(),
    }
}

/// One evidence line: `[time ]what[ (path, line N)]`; the source is named by its path when
/// the snapshot knows it, else by its id.
fn evidence_line(e: &Evidence, snapshot: Option<&Snapshot>) -> String {
    let mut out = String::new();
    if let Some(t) = e.time {
        out.push_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true));
        out.push(' ');
    }
    out.push_str(&e.what);
    if let Some(src) = e.source {
        let path = snapshot
            .and_then(|s| s.sources.iter().find(|h| h.id == src))
            .map_or_else(|| format!("source {}", src.0), |h| h.path.clone());
        let _ = match e.line {
            Some(line) => write!(out, " ({path}, line {line})"),
            None => write!(out, " ({path})"),
        };
    }
    out
}

fn journal_head(case: &Case, state: &CaseState) -> JournalHead {
    let mut problems = Vec::new();
    if let Some(torn) = &state.torn_tail {
        problems.push(format!(
            "{}:{}: unfinished final line ({} bytes) from an interrupted write, ignored",
            case.journal().path().display(),
            torn.line,
            torn.bytes
        ));
    }
    problems.extend(state.warnings.iter().cloned());
    JournalHead { records: state.records, head_hash: state.head.clone(), problems }
}

#[cfg(test)]
mod tests;
