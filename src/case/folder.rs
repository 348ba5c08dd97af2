//! The case folder: creating it, opening it, and the [`Case`] handle with its append actions.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::canonical::{sha256_file, sha256_hex};
use super::journal::{Action, ChainProblem, Clock, Entry, Journal, JournalContents, JournalError};
use super::state::CaseState;
use super::{CaseError, StepOutcome, StepRequest, check_text};
use crate::playbook::load::line_column;
use crate::playbook::{LoadedPlaybook, Playbook, parse_playbook};

/// File names inside a case folder.
pub const CASE_FILE: &str = "case.toml";
pub const PLAYBOOK_FILE: &str = "playbook.toml";
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// The content of `case.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseMeta {
    pub name: String,
    /// Absolute path of the case's leakline config.
    pub config: String,
    /// Id of the playbook copied into `playbook.toml`.
    pub playbook: String,
    /// RFC 3339 UTC creation time.
    pub created: String,
}

/// What `case init` needs besides the folder and the playbook.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Defaults to the folder's name.
    pub name: Option<String>,
    pub config: PathBuf,
    pub operator: String,
}

/// An open case.
#[derive(Debug, Clone)]
pub struct Case {
    pub dir: PathBuf,
    pub meta: CaseMeta,
    pub playbook: Playbook,
    journal: Journal,
}

/// The result of an integrity check: the verified journal, ready to display.
#[derive(Debug, Clone)]
pub struct IntegrityReport {
    pub contents: JournalContents,
    pub playbook_sha256: String,
}

impl IntegrityReport {
    /// Whether a record whose hash starts with `prefix` (an anchored head noted elsewhere)
    /// is still in the chain. Prefixes shorter than 8 hex digits never match.
    #[must_use]
    pub fn contains_hash(&self, prefix: &str) -> bool {
        let prefix = prefix.trim().to_ascii_lowercase();
        prefix.len() >= 8 && self.contents.entries.iter().any(|e| e.hash.starts_with(&prefix))
    }
}

fn io_at(path: &Path) -> impl Fn(std::io::Error) -> CaseError + '_ {
    move |source| CaseError::Io { path: path.to_path_buf(), source }
}

/// Write a file and flush it to disk.
fn write_synced(path: &Path, text: &str) -> Result<(), CaseError> {
    use std::io::Write;
    let mut file = fs::File::create_new(path).map_err(io_at(path))?;
    file.write_all(text.as_bytes()).map_err(io_at(path))?;
    file.sync_all().map_err(io_at(path))
}

impl Case {
    /// Create a case folder (new or empty) with its config reference, the playbook copy and a
    /// journal whose first record is `case_opened`.
    pub fn init(
        dir: &Path,
        options: &InitOptions,
        playbook: &LoadedPlaybook,
        clock: Clock,
    ) -> Result<Case, CaseError> {
        check_text("operator", &options.operator, false)?;
        let config = fs::canonicalize(&options.config).map_err(io_at(&options.config))?;
        let (config_sha256, _) = sha256_file(&config).map_err(io_at(&config))?;
        if dir.exists() {
            let mut listing = fs::read_dir(dir).map_err(io_at(dir))?;
            if listing.next().is_some() {
                return Err(CaseError::NotEmpty { path: dir.to_path_buf() });
            }
        } else {
            fs::create_dir_all(dir).map_err(io_at(dir))?;
        }
        let name = match &options.name {
            Some(n) => n.clone(),
            None => fs::canonicalize(dir)
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "case".to_owned()),
        };
        check_text("name", &name, false)?;
        let journal = Journal::new(dir.join(JOURNAL_FILE), clock);
        let meta = CaseMeta {
            name: name.clone(),
            config: config.to_string_lossy().into_owned(),
            playbook: playbook.playbook.id.clone(),
            created: journal.now().to_rfc3339_opts(SecondsFormat::Millis, true),
        };
        let meta_text = toml::to_string(&meta).map_err(|e| CaseError::BadCaseFile {
            path: dir.join(CASE_FILE),
            line: 1,
            column: 1,
            message: e.to_string(),
        })?;
        write_synced(&dir.join(PLAYBOOK_FILE), &playbook.source)?;
        write_synced(
            &dir.join(CASE_FILE),
            &format!(
                "# leakline case. The journal records the playbook's hash: do not edit playbook.toml.\n{meta_text}"
            ),
        )?;
        journal.create(
            &options.operator,
            &Action::CaseOpened {
                name,
                playbook: meta.playbook.clone(),
                playbook_sha256: sha256_hex(playbook.source.as_bytes()),
                config: meta.config.clone(),
                config_sha256,
            },
        )?;
        Ok(Case { dir: dir.to_path_buf(), meta, playbook: playbook.playbook.clone(), journal })
    }

    /// Open an existing case folder.
    pub fn open(dir: &Path, clock: Clock) -> Result<Case, CaseError> {
        let case_path = dir.join(CASE_FILE);
        let text = fs::read_to_string(&case_path).map_err(io_at(&case_path))?;
        let meta: CaseMeta = toml::from_str(&text).map_err(|e| {
            let (line, column) = line_column(&text, e.span().map_or(0, |s| s.start));
            CaseError::BadCaseFile {
                path: case_path.clone(),
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        })?;
        let playbook_path = dir.join(PLAYBOOK_FILE);
        let source = fs::read_to_string(&playbook_path).map_err(io_at(&playbook_path))?;
        let playbook = parse_playbook(&playbook_path, &source)?;
        Ok(Case {
            dir: dir.to_path_buf(),
            meta,
            playbook,
            journal: Journal::new(dir.join(JOURNAL_FILE), clock),
        })
    }

    #[must_use]
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The config file the case was opened with.
    #[must_use]
    pub fn config_path(&self) -> PathBuf {
        PathBuf::from(&self.meta.config)
    }

    /// Size of the journal in bytes: a cheap change check for live views (every append grows
    /// the file; reload the state with [`Case::state`] when it changed).
    pub fn journal_len(&self) -> Result<u64, CaseError> {
        let path = self.journal.path();
        Ok(fs::metadata(path).map_err(io_at(path))?.len())
    }

    /// Read and verify the journal, and replay it into the case state.
    pub fn state(&self) -> Result<CaseState, CaseError> {
        let contents = self.journal.read()?;
        Ok(CaseState::replay(&self.playbook, &contents))
    }

    /// Verify the journal chain, that it starts with `case_opened`, and that `playbook.toml`
    /// still has the hash recorded then.
    pub fn verify_integrity(&self) -> Result<IntegrityReport, CaseError> {
        let contents = self.journal.read()?;
        let Some(first) = contents.entries.first() else {
            return Err(JournalError::Broken {
                path: self.journal.path().to_path_buf(),
                line: 1,
                seq: None,
                problem: ChainProblem::Malformed("journal has no records".into()),
            }
            .into());
        };
        let Some(Action::CaseOpened { playbook_sha256, .. }) = &first.action else {
            return Err(JournalError::Broken {
                path: self.journal.path().to_path_buf(),
                line: first.line,
                seq: Some(first.seq),
                problem: ChainProblem::Malformed(format!(
                    "first record is \"{}\", expected case_opened",
                    first.kind
                )),
            }
            .into());
        };
        let path = self.dir.join(PLAYBOOK_FILE);
        let (actual, _) = sha256_file(&path).map_err(io_at(&path))?;
        if &actual != playbook_sha256 {
            return Err(CaseError::PlaybookChanged {
                path,
                recorded: playbook_sha256.clone(),
                actual,
            });
        }
        Ok(IntegrityReport { playbook_sha256: actual, contents })
    }

    /// Record a step action. The transition is checked against the state replayed under the
    /// journal lock (another responder may have just changed the step).
    pub fn step(&self, operator: &str, request: StepRequest<'_>) -> Result<StepOutcome, CaseError> {
        check_text("operator", operator, false)?;
        if let Some(note) = request.note {
            check_text("note", note, true)?;
        }
        if self.playbook.step(request.step).is_none() {
            return Err(CaseError::UnknownStep {
                step: request.step.to_owned(),
                known: self
                    .playbook
                    .steps
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let mut unmet = Vec::new();
        let entry = self.journal.append_checked(operator, |contents| {
            let state = CaseState::replay(&self.playbook, contents);
            let current = state.step(request.step).map(|s| s.state).unwrap_or_default();
            request.action.apply(current, request.note).map_err(|source| {
                CaseError::Transition { step: request.step.to_owned(), source }
            })?;
            unmet = state.unmet_requirements(request.step);
            Ok::<_, CaseError>(Action::Step {
                step: request.step.to_owned(),
                action: request.action,
                note: request.note.map(scrub),
            })
        })?;
        Ok(StepOutcome { entry, unmet_requirements: unmet })
    }

    /// Record a free-text note.
    pub fn note(&self, operator: &str, text: &str) -> Result<Entry, CaseError> {
        check_text("operator", operator, false)?;
        check_text("note", text, true)?;
        Ok(self.journal.append(operator, &Action::Note { text: scrub(text) })?)
    }

    /// Hash an evidence file now and record it (`source_added`).
    pub fn add_source(&self, operator: &str, path: &Path) -> Result<Entry, CaseError> {
        check_text("operator", operator, false)?;
        let abs = fs::canonicalize(path).map_err(io_at(path))?;
        let (sha256, bytes) = sha256_file(&abs).map_err(io_at(&abs))?;
        let action =
            Action::SourceAdded { path: abs.to_string_lossy().into_owned(), sha256, bytes };
        Ok(self.journal.append(operator, &action)?)
    }

    /// Record a note on an exposure window, identified by its service and `opened_latest`.
    pub fn annotate_window(
        &self,
        operator: &str,
        service: &str,
        window_opened: DateTime<Utc>,
        text: &str,
    ) -> Result<Entry, CaseError> {
        check_text("operator", operator, false)?;
        check_text("service", service, false)?;
        check_text("note", text, true)?;
        let action = Action::WindowAnnotated {
            service: service.to_owned(),
            window_opened: window_opened.to_rfc3339_opts(SecondsFormat::Secs, true),
            text: scrub(text),
        };
        Ok(self.journal.append(operator, &action)?)
    }

    /// Record an exported report with the hash of the file as written.
    pub fn record_export(
        &self,
        operator: &str,
        path: &Path,
        format: &str,
    ) -> Result<Entry, CaseError> {
        check_text("operator", operator, false)?;
        let abs = fs::canonicalize(path).map_err(io_at(path))?;
        let (sha256, _) = sha256_file(&abs).map_err(io_at(&abs))?;
        let action = Action::ReportExported {
            path: abs.to_string_lossy().into_owned(),
            format: format.to_owned(),
            sha256,
        };
        Ok(self.journal.append(operator, &action)?)
    }

    /// Record an ingest gap noticed while the case was worked.
    pub fn record_gap(
        &self,
        operator: &str,
        source: &str,
        from: DateTime<Utc>,
        to: Option<DateTime<Utc>>,
        reason: &str,
    ) -> Result<Entry, CaseError> {
        check_text("operator", operator, false)?;
        check_text("reason", reason, true)?;
        let action = Action::Gap {
            source: source.to_owned(),
            from: from.to_rfc3339_opts(SecondsFormat::Secs, true),
            to: to.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            reason: scrub(reason),
        };
        Ok(self.journal.append(operator, &action)?)
    }
}

/// Free text written into the journal (notes, skip reasons, annotations, gap reasons) often
/// quotes evidence — a URL with its token, a key seen in a log. The journal is shared and
/// kept, so secrets are replaced by the same stable markers the reports use
/// (`[REDACTED:kind:hash]`) before the record is written; the marker still lets a reader
/// match the same secret across the journal and the reports.
fn scrub(text: &str) -> String {
    let mut counts = crate::report::RedactionCounts::default();
    crate::report::Redactor::new().redact(text, &mut counts).into_owned()
}
