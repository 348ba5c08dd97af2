//! The report model: everything a writer needs, built once from a `Snapshot` and an optional
//! case record, already redacted. Writers only lay it out; they read no clock and do no I/O
//! beyond their `io::Write`.

mod tables;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::moments::{Moment, key_moments};
use super::summary::summary;
use super::text::Para;
pub use crate::case::folder::{EvidenceCheck, EvidenceStatus};
use crate::model::Snapshot;
use crate::redact::{RedactionCounts, Redactor, redact_snapshot};

pub use self::tables::{
    ActorRow, ActorTable, GroupTable, Served, ServedRow, ServiceRow, SourceRow, Tables, WindowRow,
    redaction_kinds,
};

/// The case part of a report, as plain data: the lead converts the case journal's state into
/// this. Every string here is shown escaped; notes and verification evidence are redacted too
/// (operators paste URLs and tokens into them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseSection {
    /// The case name; overrides the snapshot's (config) name when non-empty.
    pub case_name: String,
    /// When and by whom the case was opened (the SLA clock starts here).
    pub opened_at: Option<DateTime<Utc>>,
    pub opened_by: String,
    pub playbook: Option<PlaybookRecord>,
    /// Operator notes in journal order.
    pub notes: Vec<Note>,
    /// Other journal entries worth a line in the key moments (sources added, window
    /// annotations, exports), in journal order.
    pub events: Vec<CaseEvent>,
    pub journal: Option<JournalHead>,
    /// Set while the case is closed: who closed it, when, and the resolution.
    #[serde(default)]
    pub closed: Option<CaseClosure>,
    /// The latest reopening of the case (who, when, why), if any.
    #[serde(default)]
    pub reopened: Option<CaseClosure>,
    /// Every evidence file the journal recorded, re-hashed when the report was made.
    #[serde(default)]
    pub evidence: Vec<EvidenceCheck>,
    /// The journal itself, one entry per record, in order (the report's appendix).
    #[serde(default)]
    pub records: Vec<JournalRecord>,
}

/// A close or reopen of the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseClosure {
    pub at: DateTime<Utc>,
    pub by: String,
    /// The resolution (close) or the reason (reopen).
    pub text: String,
}

/// One journal record, verbatim but for its text (a one-line description, redacted as
/// everywhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalRecord {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub kind: String,
    pub text: String,
    pub hash: String,
}

/// One journal record of a step, for the step's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepHistoryEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub by: String,
    /// What was recorded, in words: `started`, `done`, `done (never marked started)`,
    /// `done (unverified)`, `skipped`, `blocked`, `reopened`.
    pub action: String,
    /// The note or reason given with it (empty when none).
    pub note: String,
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
    /// Waiting on something outside the responders' control.
    Blocked,
}

impl StepState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::InProgress => "in progress",
            StepState::Done => "done",
            StepState::Skipped => "skipped",
            StepState::Blocked => "blocked",
        }
    }
}

/// Whether a step met its SLA (minutes from case open, as the playbook defines them), as of
/// the report's generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaOutcome {
    /// Closed (done or skipped) by the deadline.
    Met,
    /// Closed after the deadline.
    Missed,
    /// The step was skipped: neither met nor missed.
    Skipped,
    /// Still open, deadline not reached.
    Running,
    /// Still open, deadline passed.
    Overdue,
}

impl SlaOutcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SlaOutcome::Met => "met",
            SlaOutcome::Missed => "missed",
            SlaOutcome::Skipped => "skipped",
            SlaOutcome::Running => "running",
            SlaOutcome::Overdue => "overdue",
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
    /// When it was closed (done or skipped).
    pub done: Option<DateTime<Utc>>,
    /// Who marked it (empty when nobody has yet).
    pub operator: String,
    pub sla_minutes: Option<u32>,
    /// `None` when the step has no SLA.
    pub sla: Option<SlaOutcome>,
    /// Why it was skipped (empty unless `state` is `Skipped`).
    pub skip_reason: String,
    /// The result of the step's verification check over the evidence, when it has one.
    pub verification: Option<Verification>,
    /// When the step is done but was marked done while its check did not show it verified:
    /// what the check said then. The report shows the state as "done (unverified)".
    #[serde(default)]
    pub unverified: Option<String>,
    /// The step's journal records in order.
    #[serde(default)]
    pub history: Vec<StepHistoryEntry>,
}

impl StepRecord {
    /// The state as the report prints it: "done (unverified)" when the step was marked done
    /// while its check did not show it verified.
    #[must_use]
    pub fn state_label(&self) -> String {
        match (self.state, &self.unverified) {
            (StepState::Done, Some(_)) => "done (unverified)".to_owned(),
            (state, _) => state.as_str().to_owned(),
        }
    }
}

impl CaseSection {
    /// Evidence files that no longer have their recorded hash (changed or missing).
    pub fn evidence_problems(&self) -> impl Iterator<Item = &EvidenceCheck> {
        self.evidence.iter().filter(|e| e.status != EvidenceStatus::Unchanged)
    }

    /// "open", or "closed by X at T: resolution" (time RFC 3339).
    #[must_use]
    pub fn status_line(&self) -> String {
        let t = crate::text::rfc3339_secs;
        match (&self.closed, &self.reopened) {
            (Some(c), _) => format!("closed by {} at {}: {}", c.by, t(c.at), c.text),
            (None, Some(r)) => format!("open (reopened by {} at {}: {})", r.by, t(r.at), r.text),
            (None, None) => "open".to_owned(),
        }
    }
}

/// The verdict of a step's verification check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyState {
    /// The evidence shows the condition holds.
    Verified,
    /// The evidence does not (yet) show it.
    NotYet,
    /// The check could not run.
    NotEvaluated,
}

impl VerifyState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyState::Verified => "verified",
            VerifyState::NotYet => "not yet verified",
            VerifyState::NotEvaluated => "not evaluated",
        }
    }
}

/// What a verification check found, as text (the evidence may quote attacker data: it is
/// redacted and shown as data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub outcome: VerifyState,
    /// One line ("no external evidence for 12m since 10:04:00Z").
    pub summary: String,
    /// The evidence behind it, one line each ("nmap closed 192.0.2.40:443 at …, line 12").
    pub evidence: Vec<String>,
    /// Reasons to doubt a positive result (ingest gaps in the quiet period).
    pub caveats: Vec<String>,
}

/// A journal entry other than a step action or a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub at: DateTime<Utc>,
    pub by: String,
    pub text: String,
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
    /// Problems found when the chain was verified (torn tail, warnings); empty when intact.
    pub problems: Vec<String>,
    /// The chain's verification result, one sentence.
    #[serde(default)]
    pub verification: String,
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
pub const DEFAULT_TOP_ACTORS: usize = 100;

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
    /// The report's tables (services and windows, actors, sources), built once for the
    /// writers to lay out.
    #[must_use]
    pub fn tables(&self) -> Tables<'_> {
        Tables::of(self)
    }

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

/// Redact the free-text parts of a case record (notes, events, skip reasons, verification).
fn redact_case(redactor: &Redactor, case: &mut CaseSection, counts: &mut RedactionCounts) {
    for note in &mut case.notes {
        redactor.redact_string(&mut note.text, counts);
    }
    for event in &mut case.events {
        redactor.redact_string(&mut event.text, counts);
    }
    for record in &mut case.records {
        redactor.redact_string(&mut record.text, counts);
    }
    for closure in case.closed.iter_mut().chain(case.reopened.iter_mut()) {
        redactor.redact_string(&mut closure.text, counts);
    }
    if let Some(pb) = &mut case.playbook {
        for step in &mut pb.steps {
            redactor.redact_string(&mut step.skip_reason, counts);
            for h in &mut step.history {
                redactor.redact_string(&mut h.note, counts);
            }
            if let Some(u) = &mut step.unverified {
                redactor.redact_string(u, counts);
            }
            if let Some(v) = &mut step.verification {
                redactor.redact_string(&mut v.summary, counts);
                for line in v.evidence.iter_mut().chain(v.caveats.iter_mut()) {
                    redactor.redact_string(line, counts);
                }
            }
        }
    }
}
