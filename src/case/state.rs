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

/// Open while any step is pending, in progress or blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    /// Every step is done or skipped.
    Complete,
}

impl CaseStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Complete => "complete",
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
        if self.steps.iter().all(|s| s.state.is_closed()) {
            CaseStatus::Complete
        } else {
            CaseStatus::Open
        }
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

    /// SLA status of a step at `now` (deadline counted from the case's opening).
    #[must_use]
    pub fn sla(&self, step: &StepStatus, now: DateTime<Utc>) -> SlaStatus {
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
            let result = match snapshot {
                Some(snap) => evaluate(spec, snap, status.started_at, as_of),
                None => VerifyResult::not_evaluated("no snapshot"),
            };
            out.push((status.id.clone(), result));
        }
        out
    }
}
