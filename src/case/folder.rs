//! The case folder: creating it, opening it, and the [`Case`] handle with its append actions.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::canonical::{sha256_file, sha256_hex};
use super::journal::{Action, ChainProblem, Clock, Entry, Journal, JournalContents, JournalError};
use super::state::CaseState;
use super::{CaseError, StepOutcome, StepRequest, check_text};
use crate::playbook::StepAction;
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

/// Write a new file (owner-only: it may hold evidence; a stricter umask still applies) and
/// flush it to disk.
fn write_synced(path: &Path, text: &str) -> Result<(), CaseError> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io_at(path))?;
    file.write_all(text.as_bytes()).map_err(io_at(path))?;
    file.sync_all().map_err(io_at(path))
}

/// Create a directory readable by its owner only (a stricter umask still applies).
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// A fresh, exclusively created sibling of `dir` to build a case in (`mkdir` fails on an
/// existing name, so a planted file or link is never used).
fn staging_dir(dir: &Path) -> Result<PathBuf, CaseError> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = dir.file_name().map_or_else(|| "case".into(), |n| n.to_string_lossy().into_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for attempt in 0..16u32 {
        let candidate = parent
            .join(format!(".{base}.leakline-init-{}-{nanos:x}-{attempt}", std::process::id()));
        match create_private_dir(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(CaseError::Io { path: candidate, source: e }),
        }
    }
    Err(CaseError::Io {
        path: parent,
        source: std::io::Error::other("could not create a staging folder for the new case"),
    })
}

impl Case {
    /// Create a case folder (new or empty) with its config reference, the playbook copy and a
    /// journal whose first record is `case_opened`.
    ///
    /// The case is built in a staging folder next to `dir` and renamed into place when
    /// complete, so a failure (a full disk) leaves `dir` as it was and a retry works. The
    /// folder is created owner-only (0700) and its files 0600.
    pub fn init(
        dir: &Path,
        options: &InitOptions,
        playbook: &LoadedPlaybook,
        clock: Clock,
    ) -> Result<Case, CaseError> {
        Self::init_with_sources(dir, options, playbook, clock, &[])
    }

    /// [`Case::init`], recording a `source_added` for each of `sources` before the case is
    /// renamed into place: a case either appears complete, or not at all.
    pub fn init_with_sources(
        dir: &Path,
        options: &InitOptions,
        playbook: &LoadedPlaybook,
        clock: Clock,
        sources: &[PathBuf],
    ) -> Result<Case, CaseError> {
        Self::init_with_evidence(dir, options, playbook, clock, sources, &[])
    }

    /// [`Case::init_with_sources`], also recording a `source_added` for each database
    /// source's pull (`databases`: its name and evidence), after the files.
    pub fn init_with_evidence(
        dir: &Path,
        options: &InitOptions,
        playbook: &LoadedPlaybook,
        clock: Clock,
        sources: &[PathBuf],
        databases: &[(String, crate::model::snapshot::DatabaseEvidence)],
    ) -> Result<Case, CaseError> {
        check_text("operator", &options.operator, false)?;
        let config = fs::canonicalize(&options.config).map_err(io_at(&options.config))?;
        let (config_sha256, _) = sha256_file(&config).map_err(io_at(&config))?;
        if dir.exists() {
            let mut listing = fs::read_dir(dir).map_err(io_at(dir))?;
            if listing.next().is_some() {
                return Err(CaseError::NotEmpty { path: dir.to_path_buf() });
            }
        } else if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(io_at(parent))?;
        }
        let name = match &options.name {
            Some(n) => n.clone(),
            None => std::path::absolute(dir)
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "case".to_owned()),
        };
        check_text("name", &name, false)?;
        let staging = staging_dir(dir)?;
        let built = Self::build(&staging, name, &config, config_sha256, options, playbook, &clock)
            .and_then(|meta| {
                let staged = Case {
                    dir: staging.clone(),
                    meta: meta.clone(),
                    playbook: playbook.playbook.clone(),
                    journal: Journal::new(staging.join(JOURNAL_FILE), clock.clone()),
                };
                for source in sources {
                    staged.add_source(&options.operator, source)?;
                }
                for (name, evidence) in databases {
                    staged.add_database_source(&options.operator, name, evidence)?;
                }
                fs::rename(&staging, dir).map_err(io_at(dir))?;
                if let Some(parent) = dir.parent() {
                    let parent =
                        if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
                    let _ = fs::File::open(parent).and_then(|d| d.sync_all());
                }
                Ok(meta)
            });
        let meta = match built {
            Ok(meta) => meta,
            Err(e) => {
                let _ = fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        Ok(Case {
            dir: dir.to_path_buf(),
            meta,
            playbook: playbook.playbook.clone(),
            journal: Journal::new(dir.join(JOURNAL_FILE), clock),
        })
    }

    /// Write the three files of a new case into `dir` (the staging folder).
    fn build(
        dir: &Path,
        name: String,
        config: &Path,
        config_sha256: String,
        options: &InitOptions,
        playbook: &LoadedPlaybook,
        clock: &Clock,
    ) -> Result<CaseMeta, CaseError> {
        let journal = Journal::new(dir.join(JOURNAL_FILE), clock.clone());
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
                "# leakline case. The journal records the playbook's and the config's hashes: do not edit playbook.toml, the config, or this file.\n{meta_text}"
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
        Ok(meta)
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

    /// Verify the journal chain, that it starts with `case_opened`, that `playbook.toml`
    /// still has the hash recorded then, and that `case.toml` still names the config recorded
    /// then, whose content still has the recorded hash.
    pub fn verify_integrity(&self) -> Result<IntegrityReport, CaseError> {
        let contents = self.journal.read()?;
        let playbook_sha256 = self.check_pins(&contents)?;
        Ok(IntegrityReport { contents, playbook_sha256 })
    }

    /// The checks of [`Case::verify_integrity`] over already verified `contents`; returns the
    /// playbook copy's hash.
    fn check_pins(&self, contents: &JournalContents) -> Result<String, CaseError> {
        let Some(first) = contents.entries.first() else {
            return Err(JournalError::Broken {
                path: self.journal.path().to_path_buf(),
                line: 1,
                seq: None,
                problem: ChainProblem::Malformed("journal has no records".into()),
            }
            .into());
        };
        let Some(Action::CaseOpened { playbook_sha256, config, config_sha256, .. }) = &first.action
        else {
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
        if &self.meta.config != config {
            return Err(CaseError::ConfigChanged {
                path: self.dir.join(CASE_FILE),
                problem: format!(
                    "names the config {}, but the case was opened with {config}",
                    self.meta.config
                ),
            });
        }
        let config_path = Path::new(config);
        match sha256_file(config_path) {
            Ok((now, _)) if &now == config_sha256 => Ok(actual),
            Ok((now, _)) => Err(CaseError::ConfigChanged {
                path: config_path.to_path_buf(),
                problem: format!(
                    "changed since the case was opened (sha256 {now}, journal says {config_sha256})"
                ),
            }),
            Err(e) => Err(CaseError::ConfigChanged {
                path: config_path.to_path_buf(),
                problem: format!("cannot be read to check its recorded hash: {e}"),
            }),
        }
    }

    /// Append the record `decide` returns, after verifying the whole journal and the case's
    /// pins (playbook copy, config) under the journal lock. Unless `when_closed` is true, a
    /// closed case refuses the record.
    fn append_verified(
        &self,
        operator: &str,
        when_closed: bool,
        decide: impl FnOnce(&CaseState) -> Result<Action, CaseError>,
    ) -> Result<Entry, CaseError> {
        check_text("operator", operator, false)?;
        self.journal.append_checked(operator, |contents| {
            self.check_pins(contents)?;
            let state = CaseState::replay(&self.playbook, contents);
            if !when_closed {
                if let Some(closed) = &state.closed {
                    return Err(CaseError::Closed {
                        by: closed.by.clone(),
                        at: closed.at.to_rfc3339_opts(SecondsFormat::Secs, true),
                    });
                }
            }
            decide(&state)
        })
    }

    /// The id of the step `step` names: a step id, or its number in the playbook (1-based,
    /// as the dashboard shows them). An id always wins over a number.
    pub fn resolve_step(&self, step: &str) -> Result<String, CaseError> {
        let steps = &self.playbook.steps;
        if let Some(s) = steps.iter().find(|s| s.id == step) {
            return Ok(s.id.clone());
        }
        if let Some(s) = step
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| steps.get(i))
        {
            return Ok(s.id.clone());
        }
        Err(CaseError::UnknownStep {
            step: step.to_owned(),
            known: steps
                .iter()
                .enumerate()
                .map(|(i, s)| format!("{} {}", i + 1, s.id))
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// Record a step action. The transition is checked against the state replayed under the
    /// journal lock (another responder may have just changed the step). `request.step` is an
    /// id or a step number.
    pub fn step(&self, operator: &str, request: StepRequest<'_>) -> Result<StepOutcome, CaseError> {
        self.step_with(operator, request, None)
    }

    /// [`Case::step`], recording for a `done` that the step's verify check did not show it
    /// verified (`unverified`: what the check said). The report shows "done (unverified)".
    pub fn step_with(
        &self,
        operator: &str,
        request: StepRequest<'_>,
        unverified: Option<&str>,
    ) -> Result<StepOutcome, CaseError> {
        if let Some(note) = request.note {
            check_text("note", note, true)?;
        }
        let id = self.resolve_step(request.step)?;
        let mut unmet = Vec::new();
        let entry = self.append_verified(operator, false, |state| {
            let current = state.step(&id).map(|s| s.state).unwrap_or_default();
            request
                .action
                .apply(current, request.note)
                .map_err(|source| CaseError::Transition { step: id.clone(), source })?;
            unmet = state.unmet_requirements(&id);
            Ok(Action::Step {
                step: id.clone(),
                action: request.action,
                note: request.note.map(scrub),
                unverified: unverified.filter(|_| request.action == StepAction::Done).map(scrub),
            })
        })?;
        Ok(StepOutcome { entry, unmet_requirements: unmet, step: id })
    }

    /// Undo `operator`'s own last action: when it was a step action (start, done, skip,
    /// block) and nobody acted on that step since, append a `reopen` of the step (the journal
    /// stays append-only). Anything else is refused with the reason.
    pub fn undo(&self, operator: &str) -> Result<StepOutcome, CaseError> {
        let mut undone = None;
        let entry = self.append_verified(operator, false, |state| {
            let target = state.undo_target(operator).map_err(CaseError::NothingToUndo)?;
            let text = format!("undo of record #{} ({} by {operator})", target.0, target.2);
            undone = Some(target.1.clone());
            Ok(Action::Step {
                step: target.1,
                action: StepAction::Reopen,
                note: Some(text),
                unverified: None,
            })
        })?;
        Ok(StepOutcome { entry, unmet_requirements: Vec::new(), step: undone.unwrap_or_default() })
    }

    /// Re-hash every evidence file the journal recorded (the config of `case_opened`, each
    /// `source_added`), in journal order, once per (path, recorded hash).
    #[must_use]
    pub fn check_evidence(contents: &JournalContents) -> Vec<EvidenceCheck> {
        let mut out: Vec<EvidenceCheck> = Vec::new();
        for entry in &contents.entries {
            let (path, recorded) = match &entry.action {
                Some(Action::CaseOpened { config, config_sha256, .. }) => (config, config_sha256),
                // A database source is no file: its rows are compared by pulling them again
                // with the recorded query (the journal holds it), not here.
                Some(Action::SourceAdded { database: Some(_), .. }) => continue,
                Some(Action::SourceAdded { path, sha256, .. }) => (path, sha256),
                _ => continue,
            };
            if out.iter().any(|e| &e.path == path && &e.sha256_recorded == recorded) {
                continue;
            }
            let now = sha256_file(Path::new(path)).ok().map(|(h, _)| h);
            let status = match &now {
                None => EvidenceStatus::Missing,
                Some(h) if h == recorded => EvidenceStatus::Unchanged,
                Some(_) => EvidenceStatus::Changed,
            };
            out.push(EvidenceCheck {
                path: path.clone(),
                sha256_recorded: recorded.clone(),
                sha256_now: now,
                status,
            });
        }
        out
    }

    /// Close the case (`case_closed`); step actions and notes are refused until reopened.
    pub fn close(&self, operator: &str, resolution: &str) -> Result<Entry, CaseError> {
        check_text("resolution", resolution, true)?;
        self.append_verified(operator, true, |state| match &state.closed {
            Some(c) => Err(CaseError::AlreadyClosed {
                by: c.by.clone(),
                at: c.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            }),
            None => Ok(Action::CaseClosed { resolution: scrub(resolution) }),
        })
    }

    /// Reopen a closed case (`case_reopened`).
    pub fn reopen(&self, operator: &str, reason: &str) -> Result<Entry, CaseError> {
        check_text("reason", reason, true)?;
        self.append_verified(operator, true, |state| {
            if state.closed.is_none() {
                return Err(CaseError::NotClosed);
            }
            Ok(Action::CaseReopened { reason: scrub(reason) })
        })
    }

    /// Record a free-text note.
    pub fn note(&self, operator: &str, text: &str) -> Result<Entry, CaseError> {
        check_text("note", text, true)?;
        self.append_verified(operator, false, |_| Ok(Action::Note { text: scrub(text) }))
    }

    /// Hash an evidence file now and record it (`source_added`).
    pub fn add_source(&self, operator: &str, path: &Path) -> Result<Entry, CaseError> {
        check_text("operator", operator, false)?;
        let abs = fs::canonicalize(path).map_err(io_at(path))?;
        let (sha256, bytes) = sha256_file(&abs).map_err(io_at(&abs))?;
        let action = Action::SourceAdded {
            path: abs.to_string_lossy().into_owned(),
            sha256,
            bytes,
            database: None,
        };
        self.append_verified(operator, true, |_| Ok(action))
    }

    /// Record a database source's pull (`source_added` with its evidence: server version,
    /// exact queries, row counts, SHA-256 of the rows as received). A pull that failed is
    /// refused: there is nothing to record.
    pub fn add_database_source(
        &self,
        operator: &str,
        path: &str,
        evidence: &crate::model::snapshot::DatabaseEvidence,
    ) -> Result<Entry, CaseError> {
        check_text("operator", operator, false)?;
        let sha256 = evidence.sha256.clone().unwrap_or_default();
        let action = Action::SourceAdded {
            path: path.to_owned(),
            sha256,
            bytes: evidence.bytes,
            database: Some(evidence.clone()),
        };
        self.append_verified(operator, true, |_| Ok(action))
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
        self.append_verified(operator, false, |_| Ok(action))
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
        self.append_verified(operator, true, |_| Ok(action))
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
        self.append_verified(operator, true, |_| Ok(action))
    }
}

/// Free text written into the journal (notes, skip reasons, annotations, gap reasons) often
/// quotes evidence — a URL with its token, a key seen in a log. The journal is shared and
/// kept, so secrets are replaced by the same stable markers the reports use
/// (`[REDACTED:kind:hash]`) before the record is written; the marker still lets a reader
/// match the same secret across the journal and the reports.
fn scrub(text: &str) -> String {
    let mut counts = crate::redact::RedactionCounts::default();
    crate::redact::Redactor::new().redact(text, &mut counts).into_owned()
}

/// Whether an evidence file still has the hash the journal recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceStatus {
    Unchanged,
    Changed,
    Missing,
}

impl EvidenceStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceStatus::Unchanged => "unchanged",
            EvidenceStatus::Changed => "changed",
            EvidenceStatus::Missing => "missing",
        }
    }
}

/// One evidence file recorded in the journal (`case_opened`'s config, `source_added`) and
/// its hash now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceCheck {
    pub path: String,
    pub sha256_recorded: String,
    /// `None` when the file is missing or unreadable.
    pub sha256_now: Option<String>,
    pub status: EvidenceStatus,
}
