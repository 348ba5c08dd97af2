//! An incident case: a folder holding `case.toml` (name, config reference, playbook id,
//! creation time), `playbook.toml` (a verbatim copy of the playbook, so later library edits do
//! not change an open case) and `journal.jsonl` (the tamper-evident record of every action).
//!
//! [`Case`] is the API the CLI and the TUI use: open or create a case, rebuild its
//! [`CaseState`] by replaying the journal, and append actions (step transitions, notes,
//! sources, window annotations, exports, gaps). Every append is validated and written under
//! the journal's exclusive lock, so a TUI and a CLI in another shell can work the same case.

pub mod canonical;
pub(crate) mod folder;
pub mod journal;
pub(crate) mod replay;
pub(crate) mod state;

use std::path::PathBuf;

pub use folder::{Case, CaseMeta, InitOptions, IntegrityReport};
pub use journal::{
    Action, ChainProblem, Clock, Entry, GENESIS, Journal, JournalContents, JournalError, TornTail,
    system_clock,
};
pub use state::{
    CaseState, CaseStatus, Closure, NoteEntry, SourceEntry, StepEvent, StepStatus, TimelineEntry,
};

use crate::playbook::{PlaybookError, StepAction, TransitionError};

/// Longest accepted note or reason, in bytes (a note is a sentence or a paragraph; pasted logs
/// belong in evidence files added with `source_added`).
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// Why a case operation failed. Every variant names the file or the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `case.toml` is malformed.
    #[error("{path}:{line}:{column}: {message}")]
    BadCaseFile { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: not empty; a new case needs a new or empty folder")]
    NotEmpty { path: PathBuf },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Playbook(#[from] PlaybookError),
    #[error("unknown step \"{step}\" (steps: {known})")]
    UnknownStep { step: String, known: String },
    #[error("step \"{step}\": {source}")]
    Transition {
        step: String,
        #[source]
        source: TransitionError,
    },
    /// A text field (note, reason, operator, name) is unusable.
    #[error("{field}: {problem}")]
    BadText { field: &'static str, problem: String },
    /// `playbook.toml` no longer matches the hash recorded when the case was opened.
    #[error("{path}: changed since the case was opened (sha256 {actual}, journal says {recorded})")]
    PlaybookChanged { path: PathBuf, recorded: String, actual: String },
    /// `case.toml` names another config than the one recorded at opening, or the config's
    /// content no longer has the recorded hash.
    #[error("{path}: {problem}")]
    ConfigChanged { path: PathBuf, problem: String },
    /// The case is closed: step actions and notes are refused until `case reopen`.
    #[error(
        "the case was closed by {by} at {at}; reopen it first (leakline case reopen DIR --reason TEXT)"
    )]
    Closed { by: String, at: String },
    #[error("the case is already closed (by {by} at {at})")]
    AlreadyClosed { by: String, at: String },
    #[error("the case is not closed")]
    NotClosed,
    /// `undo` found nothing it may revert.
    #[error("nothing to undo: {0}")]
    NothingToUndo(String),
}

/// Check a free-text field: non-empty, bounded, and (for one-line fields) without control
/// characters. Notes may contain newlines and tabs.
pub fn check_text(field: &'static str, text: &str, multiline: bool) -> Result<(), CaseError> {
    let bad = |problem: String| Err(CaseError::BadText { field, problem });
    if text.trim().is_empty() {
        return bad("must not be empty".into());
    }
    if text.len() > MAX_TEXT_BYTES {
        return bad(format!("{} bytes, longer than the {MAX_TEXT_BYTES}-byte limit", text.len()));
    }
    if let Some(c) =
        text.chars().find(|&c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
    {
        return bad(format!("contains control character U+{:04X}", c as u32));
    }
    Ok(())
}

/// Who is acting: `given` (a `--operator` flag), else `$LEAKLINE_OPERATOR`, else `$USER`;
/// `None` when none is set or all are blank. The one rule for the CLI and the TUI.
#[must_use]
pub fn resolve_operator(given: Option<&str>) -> Option<String> {
    given
        .map(str::to_owned)
        .or_else(|| std::env::var("LEAKLINE_OPERATOR").ok())
        .filter(|o| !o.trim().is_empty())
        .or_else(|| std::env::var("USER").ok())
        .filter(|o| !o.trim().is_empty())
}

/// The result of a step action: the appended record and requirements that were not met yet
/// (advisory: the action is recorded anyway).
#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub entry: Entry,
    pub unmet_requirements: Vec<String>,
    /// The step's id (the request may have named it by number).
    pub step: String,
}

/// Arguments of a step action.
#[derive(Debug, Clone, Copy)]
pub struct StepRequest<'a> {
    pub step: &'a str,
    pub action: StepAction,
    /// Required for `skip` (the reason); optional otherwise.
    pub note: Option<&'a str>,
}
