//! `leakline case init | show | step | undo | note | close | reopen | verify | anchor |
//! add-source`.
//!
//! Exit codes: 0 success, 1 I/O error, 2 usage (unknown step, refused transition, bad text,
//! a closed case, a config whose globs match nothing), 3 the journal, the playbook copy or
//! the config failed its integrity check. Every command verifies the case first (the whole
//! hash chain, the playbook copy, the config named in `case.toml` and its hash), so nothing
//! is written after a record that does not verify.

mod show;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use leakline::batch;
use leakline::case::{
    Case, CaseError, InitOptions, JournalError, StepRequest, resolve_operator, system_clock,
};
use leakline::config::{self, CaseConfig, ConfigError};
use leakline::model::Snapshot;
use leakline::playbook::{PlaybookError, StepAction, VerifyOutcome};

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
        /// Open the case even when a path or glob of the config matches no file (the report
        /// says which evidence was never read).
        #[arg(long)]
        allow_missing: bool,
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
        /// Step id, or its number as `leakline case show` and the dashboard list them (1, 2…).
        step: String,
        #[arg(value_enum)]
        action: ActionArg,
        /// Note kept with the action; the reason for `skip`.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Undo your own last step action: appends a `reopen` of that step (the journal stays
    /// append-only). Refused when someone acted on the step since.
    Undo { dir: PathBuf },
    /// Add a note to the case journal.
    Note { dir: PathBuf, text: String },
    /// Close the case: step actions and notes are refused until `case reopen`.
    Close {
        dir: PathBuf,
        /// How the incident was resolved.
        #[arg(long, value_name = "TEXT")]
        resolution: String,
    },
    /// Reopen a closed case.
    Reopen {
        dir: PathBuf,
        /// Why the case is reopened.
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Print the journal's head hash and record count on one line, to paste into the
    /// incident channel or ticket; `case verify --head HASH` checks against it later.
    Anchor { dir: PathBuf },
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
        | CaseError::Closed { .. }
        | CaseError::AlreadyClosed { .. }
        | CaseError::NotClosed
        | CaseError::NothingToUndo(_)
        | CaseError::Playbook(PlaybookError::NotFound { .. } | PlaybookError::Invalid(_)) => {
            UsageError(err.to_string()).into()
        }
        other => other.into(),
    }
}

pub(super) fn is_integrity_failure(err: &CaseError) -> bool {
    matches!(
        err,
        CaseError::Journal(JournalError::Broken { .. })
            | CaseError::PlaybookChanged { .. }
            | CaseError::ConfigChanged { .. }
    )
}

/// Open a case and verify it whole (chain, playbook copy, config path and hash) before
/// anything else is done with it; an integrity failure is returned as the `CaseError`, which
/// `run` turns into exit 3.
pub(super) fn open_verified(
    dir: &Path,
    clock: leakline::case::Clock,
) -> anyhow::Result<(Case, leakline::case::IntegrityReport)> {
    let case = Case::open(dir, clock).map_err(classify)?;
    let report = case.verify_integrity().map_err(classify)?;
    Ok((case, report))
}

/// Every file the config's paths and globs match now, and the patterns that match none.
fn config_files(config: &CaseConfig) -> anyhow::Result<(Vec<PathBuf>, Vec<String>)> {
    // Database sources are no files: `case init` pulls them for their evidence.
    let access = config
        .services
        .iter()
        .flat_map(|s| &s.access)
        .filter(|a| a.clickhouse.is_none())
        .map(|a| a.pattern.as_str());
    let scans = config.scans.iter().flat_map(|s| &s.paths).map(String::as_str);
    let mut files: Vec<PathBuf> = Vec::new();
    let mut missing = Vec::new();
    for pattern in scans.chain(access) {
        let matches = glob::glob(pattern)
            .map_err(|e| UsageError(format!("pattern `{pattern}`: {e}")))?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect::<Vec<_>>();
        if matches.is_empty() {
            missing.push(pattern.to_owned());
        }
        for m in matches {
            if !files.contains(&m) {
                files.push(m);
            }
        }
    }
    Ok((files, missing))
}

pub fn run(args: CaseArgs) -> anyhow::Result<ExitCode> {
    integrity_exit(run_command(args))
}

/// Turn an integrity failure anywhere in `result` into the message and exit 3.
pub(super) fn integrity_exit(result: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    match result {
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
        CaseCommand::Init { dir, config, playbook, name, playbooks, allow_missing } => {
            let operator = operator(args.operator.as_deref())?;
            let init = Init { dir, config, playbook, name, playbooks, allow_missing };
            init_case(&init, &operator, clock)?;
        }
        CaseCommand::Show { dir, json } => {
            let (case, _) = open_verified(&dir, clock.clone())?;
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
            step_action(&dir, &step, action.into(), note.as_deref(), &operator, clock)?;
        }
        CaseCommand::Undo { dir } => {
            let operator = operator(args.operator.as_deref())?;
            let (case, _) = open_verified(&dir, clock)?;
            let outcome = case.undo(&operator).map_err(classify)?;
            println!(
                "step {}: reopen (undo) recorded (record {}, head {})",
                outcome.step, outcome.entry.seq, outcome.entry.hash
            );
        }
        CaseCommand::Note { dir, text } => {
            let operator = operator(args.operator.as_deref())?;
            let (case, _) = open_verified(&dir, clock)?;
            let entry = case.note(&operator, &text).map_err(classify)?;
            println!("note recorded (record {}, head {})", entry.seq, entry.hash);
        }
        CaseCommand::Close { dir, resolution } => {
            let operator = operator(args.operator.as_deref())?;
            let (case, _) = open_verified(&dir, clock)?;
            let entry = case.close(&operator, &resolution).map_err(classify)?;
            println!("case closed by {operator} (record {}, head {})", entry.seq, entry.hash);
        }
        CaseCommand::Reopen { dir, reason } => {
            let operator = operator(args.operator.as_deref())?;
            let (case, _) = open_verified(&dir, clock)?;
            let entry = case.reopen(&operator, &reason).map_err(classify)?;
            println!("case reopened by {operator} (record {}, head {})", entry.seq, entry.hash);
        }
        CaseCommand::Anchor { dir } => {
            let (case, report) = open_verified(&dir, clock)?;
            let contents = &report.contents;
            let at = contents.entries.last().map(|e| leakline::text::rfc3339_secs(e.at));
            println!(
                "leakline case \"{}\": {} records, head {} ({}); check with: leakline case verify DIR --head {}",
                case.meta.name,
                contents.entries.len(),
                contents.head,
                at.unwrap_or_default(),
                contents.head
            );
        }
        CaseCommand::AddSource { dir, files } => {
            let operator = operator(args.operator.as_deref())?;
            let (case, _) = open_verified(&dir, clock)?;
            for file in &files {
                let entry = case.add_source(&operator, file).map_err(classify)?;
                if let Some(leakline::case::Action::SourceAdded { path, sha256, bytes, .. }) =
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

/// `case init`'s arguments.
struct Init {
    dir: PathBuf,
    config: PathBuf,
    playbook: String,
    name: Option<String>,
    playbooks: Option<PathBuf>,
    allow_missing: bool,
}

fn init_case(init: &Init, operator: &str, clock: leakline::case::Clock) -> anyhow::Result<()> {
    let Init { dir, config, playbook, name, playbooks, allow_missing } = init;
    let lib = super::playbook::library(playbooks.as_deref())?;
    let loaded = lib.get(playbook).map_err(|e| UsageError(e.to_string()))?;
    // Validate the config and find its evidence before the folder is created, so a
    // bad config leaves nothing behind.
    let case_config = load_config(config)?;
    let (evidence, missing) = config_files(&case_config)?;
    // Database sources: pulled now, the rows hashed as received (never the password: it
    // stays in its environment variable). One that cannot be read counts as missing.
    let mut databases = Vec::new();
    for (name, pulled) in leakline::batch::database_evidence(&case_config) {
        match pulled {
            Ok(evidence) => databases.push((name, evidence)),
            Err(reason) if *allow_missing => {
                eprintln!("leakline: warning: {name}: {reason} (opened with --allow-missing)");
            }
            Err(reason) => {
                return Err(UsageError(format!(
                    "case config {}: {name}: {reason}; fix the source, or pass --allow-missing to open the case anyway",
                    config.display()
                ))
                .into());
            }
        }
    }
    if !missing.is_empty() && !allow_missing {
        return Err(UsageError(format!(
            "case config {}: no file matches {}; fix the config, or pass --allow-missing to open the case anyway",
            config.display(),
            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
        ))
        .into());
    }
    let options =
        InitOptions { name: name.clone(), config: config.clone(), operator: operator.to_owned() };
    // The evidence is hashed into the journal before the case folder appears.
    let case = Case::init_with_evidence(dir, &options, loaded, clock, &evidence, &databases)
        .map_err(classify)?;
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
    for m in &missing {
        eprintln!("leakline: warning: no file matches `{m}` (opened with --allow-missing)");
    }
    Ok(())
}

fn step_action(
    dir: &Path,
    step: &str,
    action: StepAction,
    note: Option<&str>,
    operator: &str,
    clock: leakline::case::Clock,
) -> anyhow::Result<()> {
    let (case, _) = open_verified(dir, clock)?;
    let id = case.resolve_step(step).map_err(classify)?;
    let unverified = if action == StepAction::Done { unverified_reason(&case, &id)? } else { None };
    let request = StepRequest { step: &id, action, note };
    let outcome = case.step_with(operator, request, unverified.as_deref()).map_err(classify)?;
    let state = case.state().map_err(classify)?;
    let now_state = state.step(&id).map_or("?", |s| s.state.as_str());
    println!(
        "step {id}: {action}{} → {now_state} (record {}, head {})",
        if unverified.is_some() { " (unverified)" } else { "" },
        outcome.entry.seq,
        outcome.entry.hash
    );
    if let Some(why) = &unverified {
        eprintln!(
            "leakline: warning: {id} marked done while its check says not verified ({why}); recorded as done (unverified)"
        );
    }
    if !outcome.unmet_requirements.is_empty() {
        eprintln!(
            "leakline: note: {id} requires {} which {} not done or skipped yet",
            outcome.unmet_requirements.join(", "),
            if outcome.unmet_requirements.len() == 1 { "is" } else { "are" }
        );
    }
    Ok(())
}

/// What the step's verify check says now when it does not say verified (`None`: verified,
/// or the step has no check). Evidence that cannot be read is a reason too, never an error:
/// the responder may mark the step done anyway, and the journal says it was unverified.
fn unverified_reason(case: &Case, id: &str) -> anyhow::Result<Option<String>> {
    if case.playbook.step(id).and_then(|s| s.verify.as_ref()).is_none() {
        return Ok(None);
    }
    let state = case.state().map_err(classify)?;
    let snapshot = match current_snapshot(&case.config_path()) {
        Ok(s) => s,
        Err(e) => return Ok(Some(format!("not evaluated: {e:#}"))),
    };
    let as_of = snapshot.as_ref().map_or_else(Utc::now, |s| s.as_of);
    let verified = state.verify_all(&case.playbook, snapshot.as_ref(), as_of);
    Ok(verified.into_iter().find(|(s, _)| s == id).and_then(|(_, r)| {
        (r.outcome != VerifyOutcome::Verified)
            .then(|| format!("{}: {}", r.outcome.as_str().replace('_', " "), r.summary))
    }))
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
    if let Some(anchor) = anchored {
        let prefix = anchor.trim().to_ascii_lowercase();
        if let Some(e) = contents.entries.iter().find(|e| e.hash.starts_with(&prefix)) {
            println!(
                "anchored head found: record {} of {} ({} appended since)",
                e.seq,
                contents.entries.len(),
                contents.entries.len() as u64 - e.seq
            );
        }
    }
    println!(
        "journal intact: {} records, head {}; playbook.toml unchanged (sha256 {}); config unchanged ({})",
        contents.entries.len(),
        contents.head,
        report.playbook_sha256,
        case.meta.config
    );
    Ok(ExitCode::SUCCESS)
}
