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
//! - Each step's history is its journal records in order; a `done` with no `start` in the
//!   same attempt reads "done (never marked started)", a `done` recorded while the check did
//!   not verify reads "done (unverified)". `started` is the attempt's `start` record only.
//! - Every record is listed verbatim (`records`), ending the report.
//!
//! Nothing here reads a clock or the disk: `now` and the snapshot are arguments. The evidence
//! re-hash ([`CaseSection::evidence`]) is filled in by the caller
//! (`Case::check_evidence`).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::model::{
    CaseClosure, CaseEvent, CaseSection, JournalHead, JournalRecord, Note, PlaybookRecord,
    SlaOutcome, StepHistoryEntry, StepRecord, StepState, Verification, VerifyState,
};
use crate::case::{Case, CaseState, Closure, StepStatus};
use crate::model::Snapshot;
use crate::playbook::{self, Evidence, SlaStatus, StepAction, VerifyOutcome, VerifyResult};

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
        closed: state.closed.as_ref().map(closure),
        reopened: state.reopened.as_ref().map(closure),
        evidence: Vec::new(),
        records: state
            .timeline
            .iter()
            .map(|e| JournalRecord {
                seq: e.seq,
                at: e.at,
                operator: e.by.clone(),
                kind: e.kind.clone(),
                text: e.text.clone(),
                hash: e.hash.clone(),
            })
            .collect(),
    }
}

fn closure(c: &Closure) -> CaseClosure {
    CaseClosure { at: c.at, by: c.by.clone(), text: c.text.clone() }
}

/// The step's journal records in words, and the current attempt's `start` time (`None`
/// when the step was never marked started in this attempt).
fn history(step: &StepStatus) -> (Vec<StepHistoryEntry>, Option<DateTime<Utc>>) {
    let mut started = None;
    let mut out = Vec::with_capacity(step.history.len());
    for e in &step.history {
        let action = match e.action {
            StepAction::Start => {
                started = Some(e.at);
                "started".to_owned()
            }
            StepAction::Done => {
                let mut marks = Vec::new();
                if started.is_none() {
                    marks.push("never marked started");
                }
                if e.unverified.is_some() {
                    marks.push("unverified");
                }
                if marks.is_empty() {
                    "done".to_owned()
                } else {
                    format!("done ({})", marks.join(", "))
                }
            }
            StepAction::Skip => "skipped".to_owned(),
            StepAction::Block => "blocked".to_owned(),
            StepAction::Reopen => {
                started = None;
                "reopened".to_owned()
            }
        };
        let mut note = e.note.clone().unwrap_or_default();
        if let Some(u) = &e.unverified {
            if !note.is_empty() {
                note.push_str("; ");
            }
            let _ = write!(note, "check said: {u}");
        }
        out.push(StepHistoryEntry { seq: e.seq, at: e.at, by: e.by.clone(), action, note });
    }
    (out, started)
}

fn step_record(
    state: &CaseState,
    step: &StepStatus,
    result: Option<&VerifyResult>,
    snapshot: Option<&Snapshot>,
    now: DateTime<Utc>,
) -> StepRecord {
    let state_out = step_state(step.state);
    let (history, started) = history(step);
    let unverified = match step.state {
        playbook::StepState::Done => step.history.last().and_then(|e| e.unverified.clone()),
        _ => None,
    };
    StepRecord {
        id: step.id.clone(),
        title: step.title.clone(),
        role: step.role.clone(),
        state: state_out,
        started,
        done: step.closed_at,
        operator: step.by.clone().unwrap_or_default(),
        sla_minutes: step.sla_minutes,
        sla: sla_outcome(state.sla(step, now)),
        skip_reason: match state_out {
            StepState::Skipped => step.note.clone().unwrap_or_default(),
            _ => String::new(),
        },
        verification: result.map(|r| verification(r, snapshot)),
        unverified,
        history,
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
        SlaStatus::Skipped => Some(SlaOutcome::Skipped),
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
        out.push_str(&crate::text::rfc3339_secs(t));
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
    let verification = format!(
        "hash chain verified: {} records, each record's hash recomputed and linked to the one before it (records 1–{}, head {})",
        state.timeline.len(),
        state.records,
        state.head
    );
    JournalHead { records: state.records, head_hash: state.head.clone(), problems, verification }
}

#[cfg(test)]
mod tests;
