//! The report model: everything a writer needs, built once from a `Snapshot` and an optional
//! case record, already redacted. Writers only lay it out; they read no clock and do no I/O
//! beyond their `io::Write`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::moments::{Moment, key_moments};
use super::redact::{RedactionCounts, Redactor, redact_snapshot};
use super::summary::summary;
use super::text::Para;
use crate::model::Snapshot;

/// The case part of a report, as plain data: the lead converts the case journal's state into
/// this. Every string here is shown escaped; notes and verification evidence are redacted too
/// (operators paste URLs and tokens into them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseSection {
    /// The case name; overrides the snapshot's (config) name when non-empty.
    pub case_name: String,
    pub playbook: Option<PlaybookRecord>,
    /// Operator notes in journal order.
    pub notes: Vec<Note>,
    pub journal: Option<JournalHead>,
}

/// The playbook the case ran and what happened to each step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybookRecord {
    pub id: String,
    pub title: String,
    /// Steps in playbook order.
    pub steps: Vec<StepRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    InProgress,
    Done,
    Skipped,
    /// Marked done but its verification check failed.
    Failed,
}

impl StepState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::InProgress => "in progress",
            StepState::Done => "done",
            StepState::Skipped => "skipped",
            StepState::Failed => "failed",
        }
    }
}

/// Whether a step met its SLA (minutes from case open, as the playbook defines them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaOutcome {
    Met,
    Missed,
    /// Not finished yet and the deadline has not passed.
    Running,
}

impl SlaOutcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SlaOutcome::Met => "met",
            SlaOutcome::Missed => "missed",
            SlaOutcome::Running => "running",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub id: String,
    pub title: String,
    /// Who should do it (`incident commander`, `platform on-call`…).
    pub role: String,
    pub state: StepState,
    pub started: Option<DateTime<Utc>>,
    /// When it was marked done, failed or skipped.
    pub done: Option<DateTime<Utc>>,
    /// Who marked it (empty when nobody has yet).
    pub operator: String,
    pub sla_minutes: Option<u32>,
    /// `None` when the step has no SLA.
    pub sla: Option<SlaOutcome>,
    /// Why it was skipped (empty unless `state` is `Skipped`).
    pub skip_reason: String,
    /// The verification result text (what was checked, against which evidence).
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub at: DateTime<Utc>,
    pub by: String,
    pub text: String,
}

/// The head of the tamper-evident journal when the report was generated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalHead {
    pub records: u64,
    /// Hex hash of the last record (the chain head).
    pub head_hash: String,
}

/// Whether secrets are redacted in the report.
#[derive(Debug, Clone)]
pub enum Redaction {
    Enabled(Redactor),
    /// `--no-redact`: the report says so.
    Disabled,
}

/// What the report records about redaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactionRecord {
    pub enabled: bool,
    pub counts: RedactionCounts,
}

/// Everything `ReportModel::build` needs. `generated_at` and `version` are inputs so that
/// reports are reproducible (golden tests, re-exports).
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    pub snapshot: &'a Snapshot,
    /// `None` for `analyze --format md|html` (no playbook section then).
    pub case: Option<&'a CaseSection>,
    pub generated_at: DateTime<Utc>,
    /// The leakline version string (`env!("CARGO_PKG_VERSION")` in the binary).
    pub version: &'a str,
    pub redaction: Redaction,
    /// How many actors the Markdown/HTML actor tables show (JSON carries all).
    pub top_actors: usize,
}

/// Default for [`ReportInput::top_actors`].
pub const DEFAULT_TOP_ACTORS: usize = 15;

/// The laid-out-ready report. All strings are already redacted (when enabled).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportModel {
    pub case_name: String,
    pub generated_at: DateTime<Utc>,
    pub version: String,
    /// The (redacted) snapshot the report describes.
    pub snapshot: Snapshot,
    /// The (redacted) case record, when the report is for a case.
    pub case: Option<CaseSection>,
    pub redaction: RedactionRecord,
    /// The summary paragraph a manager can read.
    pub summary: Para,
    /// The merged timeline, time order.
    pub moments: Vec<Moment>,
    pub top_actors: usize,
}

impl ReportModel {
    /// Build the model: copy, redact, derive the summary and key moments. Never fails.
    #[must_use]
    pub fn build(input: &ReportInput<'_>) -> ReportModel {
        let mut snapshot = input.snapshot.clone();
        let mut case = input.case.cloned();
        let mut counts = RedactionCounts::default();
        let enabled = match &input.redaction {
            Redaction::Enabled(redactor) => {
                counts = redact_snapshot(redactor, &mut snapshot);
                if let Some(case) = &mut case {
                    redact_case(redactor, case, &mut counts);
                }
                true
            }
            Redaction::Disabled => false,
        };
        let case_name = match &case {
            Some(c) if !c.case_name.trim().is_empty() => c.case_name.clone(),
            _ => snapshot.case_name.clone(),
        };
        let summary = summary(&snapshot, &case_name);
        let moments = key_moments(&snapshot, case.as_ref());
        ReportModel {
            case_name,
            generated_at: input.generated_at,
            version: input.version.to_owned(),
            snapshot,
            case,
            redaction: RedactionRecord { enabled, counts },
            summary,
            moments,
            top_actors: input.top_actors,
        }
    }
}

/// Redact the free-text parts of a case record (notes, skip reasons, evidence).
fn redact_case(redactor: &Redactor, case: &mut CaseSection, counts: &mut RedactionCounts) {
    for note in &mut case.notes {
        redactor.redact_string(&mut note.text, counts);
    }
    if let Some(pb) = &mut case.playbook {
        for step in &mut pb.steps {
            redactor.redact_string(&mut step.skip_reason, counts);
            redactor.redact_string(&mut step.evidence, counts);
        }
    }
}
