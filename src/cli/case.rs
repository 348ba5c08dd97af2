//! `leakline case init | show | step | note | verify | add-source`.
//!
//! Exit codes: 0 success, 1 I/O error, 2 usage (unknown step, refused transition, bad text),
//! 3 the journal or the playbook copy failed its integrity check.

mod show;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use leakline::case::{
    Case, CaseError, InitOptions, JournalError, StepRequest, resolve_operator, system_clock,
};
use leakline::config::{self, CaseConfig, ConfigError};
use leakline::correlate::batch;
use leakline::model::Snapshot;
use leakline::playbook::{PlaybookError, StepAction};

use super::UsageError;

/// Exit code for a failed integrity check (tampered or damaged journal, changed playbook).
pub const EXIT_INTEGRITY: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct CaseArgs {
    /// Who is acting; recorded in every journal record [default: `$LEAKLINE_OPERATOR`, else `$USER`].
    #[arg(long, global = true, env = "LEAKLINE_OPERATOR", value_name = "NAME")]
    pub operator: Option<String>,
    #[command(subcommand)]
    pub command: CaseCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum CaseCommand {
    /// Create a case folder: config reference, a copy of the playbook, and the journal.
    Init {
        /// The case folder (created; must be new or empty).
        dir: PathBuf,
        /// The leakline config the case analyses.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Playbook id (see `leakline playbook list`).
        #[arg(long, value_name = "ID")]
        playbook: String,
        /// Case name [default: the folder name].
        #[arg(long, value_name = "TEXT")]
        name: Option<String>,
        /// A directory of your own playbooks, added to the built-in ones.
        #[arg(long, value_name = "DIR")]
        playbooks: Option<PathBuf>,
    },
    /// Show the case: steps with state, who/when, SLA, verification, notes, journal head.
    Show {
        dir: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Record a step action (skip needs a reason: --note).
    Step {
        dir: PathBuf,
        /// Step id (see `leakline case show`).
        step: String,
        #[arg(value_enum)]
        action: ActionArg,
        /// Note kept with the action; the reason for `skip`.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Add a note to the case journal.
    Note { dir: PathBuf, text: String },
    /// Check the journal's hash chain and the playbook copy; exit 3 naming the first bad
    /// record when anything was edited, removed or reordered.
    Verify {
        dir: PathBuf,
        /// A head hash (or its first 8+ hex digits) noted earlier; fails if it is no longer
        /// in the chain (catches removal of the newest records).
        #[arg(long, value_name = "HASH")]
        head: Option<String>,
    },
    /// Hash evidence files now and record them in the journal (`source_added`).
    AddSource {
        dir: PathBuf,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ActionArg {
    Start,
    Done,
    Skip,
    Block,
    Reopen,
}

impl From<ActionArg> for StepAction {
    fn from(a: ActionArg) -> Self {
        match a {
            ActionArg::Start => StepAction::Start,
            ActionArg::Done => StepAction::Done,
            ActionArg::Skip => StepAction::Skip,
            ActionArg::Block => StepAction::Block,
            ActionArg::Reopen => StepAction::Reopen,
        }
    }
}

/// The snapshot for verify results and `case show`: the case's config read through the batch
/// engine, `as_of` = now (the wall clock is read here, never in the library).
pub fn current_snapshot(config_path: &Path) -> anyhow::Result<Option<Snapshot>> {
    snapshot_at(config_path, Utc::now(), None).map(Some)
}

/// The snapshot of the case config at `config_path` as of `as_of` (`case show`, `report`),
/// zone-less times read in `tz` when given (`--tz`), else in the config's `timezone`.
/// A config that no longer loads, or evidence that cannot be read, is an error naming the file.
pub fn snapshot_at(
    config_path: &Path,
    as_of: DateTime<Utc>,
    tz: Option<chrono_tz::Tz>,
) -> anyhow::Result<Snapshot> {
    let mut config = load_config(config_path)?;
    if let Some(tz) = tz {
        config.timezone = tz;
    }
    batch::snapshot_of(&config, Some(as_of)).with_context(|| {
        format!("reading the evidence of the case config {}", config_path.display())
    })
}

/// Load and validate the case's config. A missing or unreadable file is an I/O error (exit
/// 1); a file that does not validate keeps its `ConfigError` (exit 2). Both name the file.
/// A case re-reads its evidence for every `case show` and `report`, so stdin (`-`) cannot be
/// one of its sources (usage error).
pub fn load_config(path: &Path) -> anyhow::Result<CaseConfig> {
    match config::load(path) {
        Ok(c) if reads_stdin(&c) => Err(UsageError(format!(
            "case config {}: a case's evidence must be files; `-` (stdin) cannot be read again by `case show` and `report`",
            path.display()
        ))
        .into()),
        Ok(c) => Ok(c),
        Err(ConfigError::Io { path, source }) => Err(anyhow::Error::new(source)
            .context(format!("case config {}: cannot be read", path.display()))),
        Err(e) => Err(anyhow::Error::new(e)
            .context(format!("case config {} no longer loads", path.display()))),
    }
}

fn reads_stdin(config: &CaseConfig) -> bool {
    let access = config.services.iter().flat_map(|s| &s.access).map(|a| a.pattern.as_str());
    let scans = config.scans.iter().flat_map(|s| &s.paths).map(String::as_str);
    access.chain(scans).any(|p| p == "-")
}

/// `--operator`, else `$LEAKLINE_OPERATOR`, else `$USER` (`leakline::case::resolve_operator`).
fn operator(given: Option<&str>) -> anyhow::Result<String> {
    resolve_operator(given).ok_or_else(|| {
        UsageError("no operator: pass --operator NAME or set LEAKLINE_OPERATOR".into()).into()
    })
}

/// Map library errors to the documented exit codes: the responder's mistakes are usage
/// errors (2); integrity failures are reported by the caller with exit 3.
pub(super) fn classify(err: CaseError) -> anyhow::Error {
    match err {
        CaseError::UnknownStep { .. }
        | CaseError::Transition { .. }
        | CaseError::BadText { .. }
        | CaseError::NotEmpty { .. }
        | CaseError::BadCaseFile { .. }
        | CaseError::Playbook(PlaybookError::NotFound { .. } | PlaybookError::Invalid(_)) => {
            UsageError(err.to_string()).into()
        }
        other => other.into(),
    }
}

pub(super) fn is_integrity_failure(err: &CaseError) -> bool {
    matches!(
        err,
        CaseError::Journal(JournalError::Broken { .. }) | CaseError::PlaybookChanged { .. }
    )
}

pub fn run(args: CaseArgs) -> anyhow::Result<ExitCode> {
    match run_command(args) {
        Err(err) if err.downcast_ref::<CaseError>().is_some_and(is_integrity_failure) => {
            eprintln!("leakline: integrity check FAILED: {err}");
            Ok(ExitCode::from(EXIT_INTEGRITY))
        }
        other => other,
    }
}

fn run_command(args: CaseArgs) -> anyhow::Result<ExitCode> {
    let clock = system_clock();
    match args.command {
        CaseCommand::Init { dir, config, playbook, name, playbooks } => {
            let operator = operator(args.operator.as_deref())?;
            let lib = super::playbook::library(playbooks.as_deref())?;
            let loaded = lib.get(&playbook).map_err(|e| UsageError(e.to_string()))?;
            // Validate the config and find its evidence before the folder is created, so a
            // bad config leaves nothing behind.
            let evidence = batch::evidence_files(&load_config(&config)?).with_context(|| {
                format!("finding the evidence files of the case config {}", config.display())
            })?;
            let options = InitOptions { name, config, operator: operator.clone() };
            let case = Case::init(&dir, &options, loaded, clock).map_err(classify)?;
            for file in &evidence {
                case.add_source(&operator, file).map_err(classify)?;
            }
            let state = case.state().map_err(classify)?;
            println!(
                "case \"{}\" opened in {} with playbook {} ({} steps); {} evidence files hashed; journal head {}",
                case.meta.name,
                dir.display(),
                case.playbook.id,
                case.playbook.steps.len(),
                state.sources.len(),
                state.head
            );
        }
        CaseCommand::Show { dir, json } => {
            let case = Case::open(&dir, clock.clone()).map_err(classify)?;
            let state = case.state().map_err(classify)?;
            let snapshot = current_snapshot(&case.config_path())?;
            let now = clock();
            let as_of = snapshot.as_ref().map_or(now, |s| s.as_of);
            let verified = state.verify_all(&case.playbook, snapshot.as_ref(), as_of);
            if json {
                println!("{}", serde_json::to_string_pretty(&show::json(&state, &verified))?);
            } else {
                print!("{}", show::text(&case, &state, &verified, now));
            }
        }
        CaseCommand::Step { dir, step, action, note } => {
            let operator = operator(args.operator.as_deref())?;
            let case = Case::open(&dir, clock).map_err(classify)?;
            let request = StepRequest { step: &step, action: action.into(), note: note.as_deref() };
            let outcome = case.step(&operator, request).map_err(classify)?;
            let state = case.state().map_err(classify)?;
            let now_state = state.step(&step).map_or("?", |s| s.state.as_str());
            println!(
                "step {step}: {} → {now_state} (record {}, head {})",
                StepAction::from(action),
                outcome.entry.seq,
                outcome.entry.hash
            );
            if !outcome.unmet_requirements.is_empty() {
                eprintln!(
                    "leakline: note: {step} requires {} which {} not done or skipped yet",
                    outcome.unmet_requirements.join(", "),
                    if outcome.unmet_requirements.len() == 1 { "is" } else { "are" }
                );
            }
        }
        CaseCommand::Note { dir, text } => {
            let operator = operator(args.operator.as_deref())?;
            let case = Case::open(&dir, clock).map_err(classify)?;
            let entry = case.note(&operator, &text).map_err(classify)?;
            println!("note recorded (record {}, head {})", entry.seq, entry.hash);
        }
        CaseCommand::AddSource { dir, files } => {
            let operator = operator(args.operator.as_deref())?;
            let case = Case::open(&dir, clock).map_err(classify)?;
            for file in &files {
                let entry = case.add_source(&operator, file).map_err(classify)?;
                if let Some(leakline::case::Action::SourceAdded { path, sha256, bytes }) =
                    &entry.action
                {
                    println!("{sha256}  {path} ({bytes} bytes, record {})", entry.seq);
                }
            }
        }
        CaseCommand::Verify { dir, head } => return verify(&dir, head.as_deref()),
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(dir: &Path, anchored: Option<&str>) -> anyhow::Result<ExitCode> {
    let case = Case::open(dir, system_clock()).map_err(classify)?;
    let report = match case.verify_integrity() {
        Ok(r) => r,
        Err(e) if is_integrity_failure(&e) => {
            eprintln!("leakline: integrity check FAILED: {e}");
            return Ok(ExitCode::from(EXIT_INTEGRITY));
        }
        Err(e) => return Err(classify(e)),
    };
    let contents = &report.contents;
    if let Some(torn) = &contents.torn {
        eprintln!(
            "leakline: warning: {}:{}: unfinished final line ({} bytes) from an interrupted write, ignored; the next append records and removes it",
            case.journal().path().display(),
            torn.line,
            torn.bytes
        );
    }
    if let Some(anchor) = anchored {
        if !report.contains_hash(anchor) {
            eprintln!(
                "leakline: integrity check FAILED: anchored head {anchor} is not in the journal (records after it were removed or the chain was rewritten)"
            );
            return Ok(ExitCode::from(EXIT_INTEGRITY));
        }
    }
    println!(
        "journal intact: {} records, head {}; playbook.toml unchanged (sha256 {})",
        contents.entries.len(),
        contents.head,
        report.playbook_sha256
    );
    Ok(ExitCode::SUCCESS)
}
