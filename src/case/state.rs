//! The state of a case as rebuilt from its journal: what the CLI prints, what the TUI's
//! Playbook pane draws. Built only by [`CaseState::replay`](super::replay); nothing here
//! reads a clock (`now` / `as_of` are arguments).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::journal::TornTail;
use crate::model::Snapshot;
use crate::playbook::{
    Playbook, SlaStatus, StepAction, StepState, VerifyResult, evaluate, sla_status,
};

/// The verify summary of a step that is not started (no evidence is looked at before).
pub const NOT_STARTED: &str = "not started";

/// Open while any step is pending, in progress or blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    /// Every step is done or skipped.
    Complete,
    /// Closed with `case close` (and not reopened since).
    Closed,
}

impl CaseStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Complete => "complete",
            CaseStatus::Closed => "closed",
        }
    }
}

/// One action on a step, in journal order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepEvent {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub by: String,
    pub action: StepAction,
    pub note: Option<String>,
    /// For `done`: what the verify check said when the step was marked done unverified.
    pub unverified: Option<String>,
}

/// Who closed (or reopened) the case, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Closure {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub by: String,
    /// The resolution (close) or the reason (reopen).
    pub text: String,
}

/// A playbook step with its current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepStatus {
    pub id: String,
    pub title: String,
    pub role: String,
    pub sla_minutes: Option<u32>,
    pub requires: Vec<String>,
    pub state: StepState,
    /// Time, operator and note of the latest action on the step.
    pub at: Option<DateTime<Utc>>,
    pub by: Option<String>,
    pub note: Option<String>,
    /// When the current attempt began: the `start` action, or the `done`/`block` action when
    /// the step was not started first. Cleared by `reopen`. Verify conditions count from here.
    pub started_at: Option<DateTime<Utc>>,
    /// When the step was done or skipped (while it is).
    pub closed_at: Option<DateTime<Utc>>,
    pub history: Vec<StepEvent>,
}

/// A free-text note on the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub by: String,
    pub text: String,
}

/// An evidence file hashed into the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub by: String,
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// One journal record as a line for the Timeline / Journal views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub by: String,
    pub kind: String,
    /// One-line description ("step block-ingress: done — SG rule revoked").
    pub text: String,
    /// The record's hash.
    pub hash: String,
}

/// The case as rebuilt from its journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseState {
    pub name: String,
    pub playbook_id: String,
    /// The config file recorded at case creation.
    pub config: String,
    pub opened_at: Option<DateTime<Utc>>,
    pub opened_by: Option<String>,
    /// Steps in playbook order.
    pub steps: Vec<StepStatus>,
    pub notes: Vec<NoteEntry>,
    pub sources: Vec<SourceEntry>,
    /// Every record, in order (notes, steps, annotations, exports, gaps, repairs…).
    pub timeline: Vec<TimelineEntry>,
    /// Number of verified records and the hash of the last one.
    pub records: u64,
    pub head: String,
    pub torn_tail: Option<TornTail>,
    /// Set while the case is closed (`case_closed` not followed by `case_reopened`).
    pub closed: Option<Closure>,
    /// The latest `case_reopened`, if any.
    pub reopened: Option<Closure>,
    /// Things replay noticed but tolerated (unknown record kinds, steps not in the playbook,
    /// transitions the state machine would refuse).
    pub warnings: Vec<String>,
}

impl CaseState {
    #[must_use]
    pub fn step(&self, id: &str) -> Option<&StepStatus> {
        self.steps.iter().find(|s| s.id == id)
    }

    #[must_use]
    pub fn status(&self) -> CaseStatus {
        if self.closed.is_some() {
            CaseStatus::Closed
        } else if self.steps.iter().all(|s| s.state.is_closed()) {
            CaseStatus::Complete
        } else {
            CaseStatus::Open
        }
    }

    /// The record an undo by `operator` reverts: `(seq, step id, action)` of `operator`'s
    /// last action (exports and added sources aside), when it is a step action other than
    /// `reopen` and nobody acted on that step since; else why nothing can be undone.
    pub fn undo_target(&self, operator: &str) -> Result<(u64, String, StepAction), String> {
        let last = self
            .timeline
            .iter()
            .rev()
            .find(|e| e.by == operator && e.kind != "source_added" && e.kind != "report_exported")
            .ok_or_else(|| format!("{operator} has recorded nothing in this case"))?;
        let found = self
            .steps
            .iter()
            .find_map(|s| s.history.iter().find(|h| h.seq == last.seq).map(|h| (s, h)));
        let Some((step, event)) = found else {
            return Err(format!(
                "your last record (#{}, {}) is not a step action; the journal is append-only: add a correcting note",
                last.seq, last.kind
            ));
        };
        if event.action == StepAction::Reopen {
            return Err(format!(
                "your last action (#{}) already reopened step {}",
                event.seq, step.id
            ));
        }
        if let Some(later) = step.history.last().filter(|h| h.seq != event.seq) {
            return Err(format!(
                "step {} was changed after your record #{} ({} by {}, #{})",
                step.id, event.seq, later.action, later.by, later.seq
            ));
        }
        Ok((event.seq, step.id.clone(), event.action))
    }

    /// Requirements of `id` that are neither done nor skipped.
    #[must_use]
    pub fn unmet_requirements(&self, id: &str) -> Vec<String> {
        let Some(step) = self.step(id) else {
            return Vec::new();
        };
        step.requires
            .iter()
            .filter(|r| self.step(r).is_some_and(|s| !s.state.is_closed()))
            .cloned()
            .collect()
    }

    /// SLA status of a step at `now` (deadline counted from the case's opening). A skipped
    /// step is `Skipped`, never met.
    #[must_use]
    pub fn sla(&self, step: &StepStatus, now: DateTime<Utc>) -> SlaStatus {
        if step.state == StepState::Skipped && step.sla_minutes.is_some() {
            return SlaStatus::Skipped;
        }
        match self.opened_at {
            Some(opened) => sla_status(opened, step.sla_minutes, step.closed_at, now),
            None => SlaStatus::None,
        }
    }

    /// Verify results for every step that has a condition, in step order. Without a snapshot
    /// every result is "not evaluated: no snapshot". `as_of` is normally `snapshot.as_of`.
    #[must_use]
    pub fn verify_all(
        &self,
        playbook: &Playbook,
        snapshot: Option<&Snapshot>,
        as_of: DateTime<Utc>,
    ) -> Vec<(String, VerifyResult)> {
        let mut out = Vec::new();
        for status in &self.steps {
            let Some(spec) = playbook.step(&status.id).and_then(|s| s.verify.as_ref()) else {
                continue;
            };
            let result = match (snapshot, status.started_at) {
                (_, None) => VerifyResult::not_evaluated(NOT_STARTED),
                (Some(snap), Some(started)) => evaluate(spec, snap, Some(started), as_of),
                (None, Some(_)) => VerifyResult::not_evaluated("no snapshot"),
            };
            out.push((status.id.clone(), result));
        }
        out
    }
}
