//! The event loop's link to an open case: it carries out the app's playbook and export
//! effects through the case library (so every action is validated, hash-chained, locked and
//! fsync'ed like the CLI's), and notices appends made by other processes (a `leakline case`
//! command in another shell) by watching the journal's length.
//!
//! The I/O runs on the dashboard's own task, synchronously: a length check per 1 s tick, a
//! replay only when the journal grew, one fsync'ed append per key. An export (three atomic
//! files plus three appends) holds the next frame for that long; the session's followers run
//! on their own tasks and are not held up.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};

use super::app::PlaybookRequest;
use crate::case::{Case, CaseError, CaseState, StepRequest};
use crate::model::Snapshot;
use crate::playbook::StepAction;
use crate::report::{
    self, AtomicWriteError, DEFAULT_TOP_ACTORS, Redaction, Redactor, ReportInput, ReportModel,
    Written,
};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write the report: {0}")]
    Write(#[from] AtomicWriteError),
    #[error("the report was written but not journaled: {0}")]
    Case(#[from] CaseError),
}

/// An open case plus the journal length last replayed.
#[derive(Debug, Clone)]
pub struct CaseLink {
    case: Case,
    seen_len: Option<u64>,
}

impl CaseLink {
    #[must_use]
    pub fn new(case: Case) -> CaseLink {
        CaseLink { case, seen_len: None }
    }

    #[must_use]
    pub fn case(&self) -> &Case {
        &self.case
    }

    /// The replayed state when the journal grew (or on the first call); `None` when unchanged.
    /// A concurrent append between the length check and the replay is picked up next time.
    pub fn poll(&mut self) -> Result<Option<CaseState>, CaseError> {
        let len = self.case.journal_len()?;
        if self.seen_len == Some(len) {
            return Ok(None);
        }
        let state = self.case.state()?;
        self.seen_len = Some(len);
        Ok(Some(state))
    }

    /// Journal one playbook request as `operator`. Returns a one-line confirmation.
    pub fn perform(&self, operator: &str, request: &PlaybookRequest) -> Result<String, CaseError> {
        if request == &PlaybookRequest::Undo {
            let outcome = self.case.undo(operator)?;
            return Ok(format!(
                "undone: step {} reopened (#{}) by {operator}",
                outcome.step, outcome.entry.seq
            ));
        }
        let (index, action, note, unverified) = step_parts(request);
        let Some(step) = self.case.playbook.steps.get(index) else {
            return Err(CaseError::UnknownStep {
                step: format!("#{}", index.saturating_add(1)),
                known: format!("{} steps", self.case.playbook.steps.len()),
            });
        };
        let id = step.id.as_str();
        if let PlaybookRequest::Note { text, .. } = request {
            let entry = self.case.note(operator, &format!("{id}: {text}"))?;
            return Ok(format!("note on {id} recorded (#{}) by {operator}", entry.seq));
        }
        let outcome =
            self.case.step_with(operator, StepRequest { step: id, action, note }, unverified)?;
        let mut msg = format!(
            "step {id}: {}{} recorded (#{}) by {operator}",
            action.as_str(),
            if unverified.is_some() { " (unverified)" } else { "" },
            outcome.entry.seq
        );
        if !outcome.unmet_requirements.is_empty() {
            msg = format!(
                "{msg} — note: requires {} (not closed yet)",
                outcome.unmet_requirements.join(", ")
            );
        }
        Ok(msg)
    }

    /// Export md/json/html into the case folder (redacted) and record `report_exported` with
    /// each file's SHA-256. `snapshot` is the raw (unredacted) snapshot: the report redacts.
    pub fn export(
        &self,
        operator: &str,
        snapshot: &Snapshot,
        now: DateTime<Utc>,
    ) -> Result<Vec<Written>, ExportError> {
        let contents = self.case.journal().read().map_err(CaseError::from)?;
        let state = CaseState::replay(&self.case.playbook, &contents);
        let mut section = report::case_section::from_case(&self.case, &state, Some(snapshot), now);
        section.evidence = Case::check_evidence(&contents);
        let written = export_report(snapshot, Some(&section), &self.case.dir, now)?;
        for w in &written {
            let format = w.path.extension().and_then(|e| e.to_str()).unwrap_or("");
            self.case.record_export(operator, &w.path, format)?;
        }
        Ok(written)
    }
}

/// A request's step index, action, note and "done while unverified" text. A note maps to
/// its step (the caller journals it as a note, not a step action); `Undo` has no step.
fn step_parts(request: &PlaybookRequest) -> (usize, StepAction, Option<&str>, Option<&str>) {
    match request {
        PlaybookRequest::Start(i) => (*i, StepAction::Start, None, None),
        PlaybookRequest::Done(i) => (*i, StepAction::Done, None, None),
        PlaybookRequest::DoneUnverified { step, check } => {
            (*step, StepAction::Done, None, Some(check.as_str()))
        }
        PlaybookRequest::Reopen(i) => (*i, StepAction::Reopen, None, None),
        PlaybookRequest::Skip { step, reason } => {
            (*step, StepAction::Skip, Some(reason.as_str()), None)
        }
        PlaybookRequest::Block { step, reason } => {
            (*step, StepAction::Block, Some(reason.as_str()), None)
        }
        PlaybookRequest::Note { step, .. } => (*step, StepAction::Start, None, None),
        PlaybookRequest::Undo => (usize::MAX, StepAction::Reopen, None, None),
    }
}

/// Write the report in every format into `dir` as `leakline-report-<UTC stamp>.{md,json,html}`,
/// redacted. No journal: [`CaseLink::export`] adds that for a case.
pub fn export_report(
    snapshot: &Snapshot,
    case: Option<&report::CaseSection>,
    dir: &Path,
    now: DateTime<Utc>,
) -> Result<Vec<Written>, AtomicWriteError> {
    let model = ReportModel::build(&ReportInput {
        snapshot,
        case,
        generated_at: now,
        version: env!("CARGO_PKG_VERSION"),
        redaction: Redaction::Enabled(Redactor::new()),
        top_actors: DEFAULT_TOP_ACTORS,
    });
    let stem = format!(
        "leakline-report-{}",
        now.to_rfc3339_opts(SecondsFormat::Secs, true).replace([':', '-'], "")
    );
    report::export_all(&model, dir, &stem)
}
