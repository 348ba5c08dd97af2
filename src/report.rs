//! The incident report: one model ([`ReportModel`]), one writer per format, each over
//! `io::Write`, plus atomic file export (redaction is `crate::redact`, re-exported here).
//!
//! Flow: `ReportModel::build(&ReportInput{snapshot, case, generated_at, version, redaction, ..})`
//! → [`write`] (any `io::Write`) or [`export`] (an atomic file write that returns the file's
//! SHA-256 for the journal). Every attacker-derived string is redacted in the model (when
//! enabled) and escaped by each writer for its format.

pub mod analysis;
pub mod atomic;
pub mod case_section;
pub mod caveats;
pub mod escape;
pub mod html;
pub(crate) mod json;
pub(crate) mod markdown;
pub(crate) mod method;
pub(crate) mod model;
pub(crate) mod moments;
pub(crate) mod summary;
pub(crate) mod svg;
pub(crate) mod text;

use std::io;
use std::path::Path;

pub use crate::redact::{
    RedactionCounts, Redactor, SecretKind, redact_event, redact_request, redact_scan,
    redact_snapshot,
};
pub use atomic::{AtomicFile, AtomicWriteError, Written, write_atomic};
pub use model::{
    CaseClosure, CaseEvent, CaseSection, DEFAULT_TOP_ACTORS, EvidenceCheck, EvidenceStatus,
    JournalHead, JournalRecord, Note, PlaybookRecord, Redaction, RedactionRecord, ReportInput,
    ReportModel, SlaOutcome, StepHistoryEntry, StepRecord, StepState, Verification, VerifyState,
};

/// The report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Markdown,
    Json,
    Html,
}

impl Format {
    /// The conventional file extension (without the dot).
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Json => "json",
            Format::Html => "html",
        }
    }

    /// Parse `md`/`markdown`, `json`, `html` (case-insensitive).
    #[must_use]
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(Format::Markdown),
            "json" => Some(Format::Json),
            "html" | "htm" => Some(Format::Html),
            _ => None,
        }
    }
}

/// Write `model` in `format` to `out`.
pub fn write(model: &ReportModel, format: Format, out: &mut dyn io::Write) -> io::Result<()> {
    match format {
        Format::Markdown => markdown::write_markdown(model, out),
        Format::Json => json::write_json(model, out),
        Format::Html => html::write_html(model, out),
    }
}

/// Write `model` in `format` to `path` atomically (temp file + fsync + rename). Returns the
/// written file's size and SHA-256; on failure nothing is left behind and the error names
/// `path` and the failing step.
pub fn export(
    model: &ReportModel,
    format: Format,
    path: &Path,
) -> Result<Written, AtomicWriteError> {
    write_atomic(path, |w| write(model, format, w))
}

/// The file names [`export_all`] writes: `<stem>.md`, `<stem>.json`, `<stem>.html`.
pub const ALL_FORMATS: [Format; 3] = [Format::Markdown, Format::Json, Format::Html];

/// Write the report in every format into `dir` as `<stem>.<ext>` (each atomically), for the
/// TUI's export key. Returns what was written, in [`ALL_FORMATS`] order, so the caller can
/// record `report_exported` with the file hashes. Stops at the first failure; files already
/// written stay (each one is complete).
pub fn export_all(
    model: &ReportModel,
    dir: &Path,
    stem: &str,
) -> Result<Vec<Written>, AtomicWriteError> {
    ALL_FORMATS
        .iter()
        .map(|f| export(model, *f, &dir.join(format!("{stem}.{}", f.extension()))))
        .collect()
}

/// An actor's network (`AS15169 Google Inc.`) and country (`GB United Kingdom`) as the
/// databases write them (`None`: they say nothing), for the actor tables.
fn org_and_country(
    snapshot: &crate::model::Snapshot,
    client: std::net::IpAddr,
) -> (Option<String>, Option<String>) {
    let e = snapshot.enrichment.of(client);
    let org = e.and_then(crate::model::enrichment::ActorEnrichment::org_label);
    let country = e.and_then(|e| e.country.as_ref()).map(|c| match &c.name {
        Some(name) => format!("{} {name}", c.iso),
        None => c.iso.clone(),
    });
    (org, country)
}
