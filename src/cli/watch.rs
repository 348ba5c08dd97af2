//! `leakline watch`: follow every source live. `--headless` prints one JSON object per line
//! on stdout for each state change (see `leakline::correlate::changes::StateChange`) plus a
//! `stats` line every `--stats-every` seconds; on SIGINT/SIGTERM it stops cleanly, writes the
//! final analysis to `--out` atomically (temp file + rename) and exits 0.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use leakline::case::{Case, system_clock};
use leakline::config::{self, CaseConfig, QuickFlags};
use leakline::correlate::changes::{self, StateChange};
use leakline::follow::{SessionOptions, session};
use leakline::model::Snapshot;
use leakline::model::snapshot::{ServiceState, SourceHealth};
use leakline::report::analysis::Analysis;
use leakline::report::atomic::write_atomic;
use leakline::report::{self, RedactionCounts, RedactionRecord, Redactor};
use leakline::tui::{self, TuiOptions};
use serde::Serialize;
use tokio::signal::unix::{SignalKind, signal};

use super::UsageError;

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Case configuration file (leakline.toml).
    #[arg(long, value_name = "FILE", conflicts_with = "case")]
    pub config: Option<PathBuf>,
    /// A case folder (`leakline case init`): its config and playbook; the dashboard journals
    /// playbook actions, notes and exports into it.
    #[arg(long, value_name = "DIR")]
    pub case: Option<PathBuf>,
    /// Who journaled actions are recorded as [default: `$LEAKLINE_OPERATOR`, else `$USER`].
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
    /// No dashboard: JSON lines on stdout, one per state change.
    #[arg(long)]
    pub headless: bool,
    /// Where to write the final analysis (JSON) when stopped.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Headless: keep secrets (tokens, keys, passwords) as logged in the JSON lines and in
    /// `--out`; by default they are replaced by stable markers (`[REDACTED:kind:hash]`).
    #[arg(long)]
    pub no_redact: bool,
    /// Skip existing content: start at the end of every file.
    #[arg(long)]
    pub from_end: bool,
    /// Seconds between `stats` lines (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub stats_every: u64,
    /// Seconds a rotated (renamed or deleted) file must be quiet before it is closed.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub rotate_wait: f64,
    /// Seconds without new bytes (while others receive data) before a source is `silent`.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub silence_after: u64,
    /// Seconds of log time behind the newest event for which every piece of evidence is kept
    /// exact; older evidence is folded per exposure window so memory stays flat over a long
    /// incident. A negative scan arriving later than this inside a window is reported as a
    /// gap instead of splitting it (`analyze` on the same files is always exact).
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub detail_horizon: u64,
    /// Database sources (`clickhouse = { … }`): the wait between polls (`500ms`, `5s`, `1m`;
    /// a bare number is seconds). Each poll asks again for the source's `overlap` of row
    /// time (default 30 s) and drops the rows already seen, so a row inserted late is counted
    /// once; a row written later than that is not in the live result, and a per-minute count
    /// on the server reports how many (`sources[].database.live.late_rows_missed`).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_poll)]
    pub poll: Duration,
    /// Actors whose paths, agents and statuses are kept at once; beyond it the lighter
    /// half's detail is dropped and marked so (totals stay exact). Bounds memory under a
    /// flood of distinct clients.
    #[arg(long, value_name = "N", default_value_t = leakline::correlate::actors::DEFAULT_DETAIL_CAP)]
    pub max_actors_detail: usize,
    /// An access log: `[SERVICE=]GLOB` (`SERVICE=-` reads standard input).
    #[arg(long, value_name = "[SERVICE=]GLOB")]
    pub access: Vec<String>,
    /// Scanner output files (glob).
    #[arg(long, value_name = "GLOB")]
    pub scan: Vec<String>,
    /// Internal network (CIDR); repeatable.
    #[arg(long, value_name = "CIDR")]
    pub internal: Vec<String>,
    /// A proxy whose X-Forwarded-For is believed (CIDR); repeatable.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxy: Vec<String>,
    /// Access-log format for every `--access` (auto-detected when absent). `--log-format` is
    /// accepted too, as in `analyze` (where `--format` is the output format).
    #[arg(long, visible_alias = "log-format", value_name = "NAME")]
    pub format: Option<String>,
    /// Zone of timestamps written without one (IANA name, e.g. `America/New_York`);
    /// overrides the config's `timezone` [default: the config's, else UTC].
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// A MaxMind-format database (`.mmdb`: ASN, Country, City) that says who each actor is
    /// (repeatable; adds to the config's `[enrich] mmdb`). No network lookup is made.
    #[arg(long, value_name = "FILE")]
    pub mmdb: Vec<String>,
    /// A range file (AWS, Google Cloud, Azure JSON; Cloudflare, Tor or plain lists;
    /// repeatable; adds to `[enrich] ranges`).
    #[arg(long, value_name = "FILE")]
    pub ranges: Vec<String>,
}

pub fn run(mut args: WatchArgs) -> anyhow::Result<ExitCode> {
    let case = match &args.case {
        Some(dir) => {
            let case = Case::open(dir, system_clock()).map_err(super::case::classify)?;
            // The chain (and the playbook copy) is checked before anything is shown or
            // appended: a tampered case is not worked on, as with every `case` command.
            match case.verify_integrity() {
                Ok(_) => {}
                Err(e) if super::case::is_integrity_failure(&e) => {
                    eprintln!("leakline: integrity check FAILED: {e}; dashboard not opened");
                    return Ok(ExitCode::from(super::case::EXIT_INTEGRITY));
                }
                Err(e) => return Err(super::case::classify(e)),
            }
            args.config = Some(case.config_path());
            Some(case)
        }
        None => None,
    };
    let config = resolve(&args)?;
    if !args.rotate_wait.is_finite() || args.rotate_wait < 0.0 {
        return Err(UsageError(format!(
            "--rotate-wait: expected a number of seconds >= 0, got {}",
            args.rotate_wait
        ))
        .into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("leakline-rt")
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // The `[enrich]` files are read once, here: a bad one is a configuration error (exit 2).
    let options =
        SessionOptions { enricher: super::checked_enricher(&config)?, ..session_options(&args) };
    if args.headless {
        return runtime.block_on(headless(config, args, options));
    }
    runtime.block_on(dashboard(config, &args, case, options))
}

/// The follow settings the flags give, shared by the dashboard and headless mode.
fn session_options(args: &WatchArgs) -> SessionOptions {
    SessionOptions {
        from_end: args.from_end,
        rotate_wait: Duration::from_secs_f64(args.rotate_wait),
        silence_after: Duration::from_secs(args.silence_after.max(1)),
        detail_horizon: Duration::from_secs(args.detail_horizon),
        db_poll: args.poll,
        max_actors_detail: args.max_actors_detail,
        ..SessionOptions::default()
    }
}

/// `--poll`: `500ms`, `5s`, `2m`, or a number of seconds; at least 100 ms.
fn parse_poll(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let secs = number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v * scale)
        .ok_or_else(|| format!("`{text}` is not a duration: expected e.g. 500ms, 5s or 1m"))?;
    if secs < 0.1 {
        return Err(format!("`{text}`: polling more often than every 100ms is refused"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The live dashboard; with a case, its playbook pane journals into the case folder.
async fn dashboard(
    config: CaseConfig,
    args: &WatchArgs,
    case: Option<Case>,
    options: SessionOptions,
) -> anyhow::Result<ExitCode> {
    let mut tui = TuiOptions::live(
        case.as_ref().map_or_else(|| config.name.clone(), |c| c.meta.name.clone()),
    );
    tui.operator = leakline::case::resolve_operator(args.operator.as_deref());
    tui.export_dir = std::env::current_dir().context("cannot read the working directory")?;
    tui.case = case;
    // The case init command names the config file only when it alone is the session's setup.
    let quick = !(args.access.is_empty()
        && args.scan.is_empty()
        && args.internal.is_empty()
        && args.trusted_proxy.is_empty()
        && args.mmdb.is_empty()
        && args.ranges.is_empty())
        || args.format.is_some()
        || args.tz.is_some();
    if !quick {
        tui.config_path.clone_from(&args.config);
    }
    let session = session::start(config, options);
    tui::run(session, tui).await?;
    Ok(ExitCode::SUCCESS)
}

fn resolve(args: &WatchArgs) -> anyhow::Result<CaseConfig> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let base = args.config.as_deref().map(config::load).transpose()?;
    let flags = QuickFlags {
        access: args.access.clone(),
        scan: args.scan.clone(),
        internal: args.internal.clone(),
        trusted_proxy: args.trusted_proxy.clone(),
        format: args.format.clone(),
        mmdb: args.mmdb.clone(),
        ranges: args.ranges.clone(),
    };
    let tz = super::parse_tz(args.tz.as_deref())?;
    let mut config = config::resolve_flags(base, &flags, &cwd)?;
    if let Some(tz) = tz {
        config.timezone = tz;
    }
    if config.services.iter().all(|s| s.access.is_empty()) && config.scans.is_empty() {
        return Err(UsageError(
            "nothing to watch: give --config FILE or --access [SERVICE=]GLOB / --scan GLOB"
                .to_owned(),
        )
        .into());
    }
    Ok(config)
}

async fn headless(
    config: CaseConfig,
    args: WatchArgs,
    options: SessionOptions,
) -> anyhow::Result<ExitCode> {
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let session = session::start(config, options);
    let mut snapshots = session.snapshots.clone();
    let progress = session.status.clone();
    // Changes are announced from the first snapshot after the backfill (history summarised
    // once, without the churn of files being read concurrently); stats use the latest.
    let mut announced: Arc<Snapshot> = Arc::new(Snapshot::default());
    let mut latest: Arc<Snapshot> = Arc::clone(&snapshots.borrow_and_update());
    let every = Duration::from_secs(args.stats_every.max(1));
    let mut stats_timer = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut out = Lines::new();
    let redactor = (!args.no_redact).then(Redactor::new);
    loop {
        tokio::select! {
            changed = snapshots.changed() => {
                if changed.is_err() {
                    break;
                }
                latest = redacted(redactor.as_ref(), &snapshots.borrow_and_update());
                if progress.borrow().backfilled {
                    out.changes(&changes::diff(&announced, &latest));
                    announced = Arc::clone(&latest);
                }
            }
            _ = stats_timer.tick(), if args.stats_every > 0 => {
                let behind = progress.borrow().behind_bytes;
                out.stats(&latest, behind);
            }
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
        }
        if out.closed {
            break;
        }
    }
    let last = session.shutdown().await;
    let mut final_snapshot = (*last).clone();
    let counts = match &redactor {
        Some(r) => report::redact_snapshot(r, &mut final_snapshot),
        None => RedactionCounts::default(),
    };
    out.changes(&changes::diff(&announced, &final_snapshot));
    if let Some(path) = &args.out {
        let redaction = RedactionRecord { enabled: redactor.is_some(), counts };
        write_out(path, &final_snapshot, &redaction)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// JSON lines on stdout. A closed stdout (the reader went away) ends the watch cleanly.
struct Lines {
    stdout: io::Stdout,
    closed: bool,
}

#[derive(Serialize)]
struct StatsLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    at: chrono::DateTime<chrono::Utc>,
    lines: u64,
    events: u64,
    malformed: u64,
    open_services: usize,
    windows: usize,
    /// Distinct external actors (all of them, listed or not).
    actors: u64,
    gaps: usize,
    elapsed_ms: u64,
    /// Bytes written to the followed files and not read yet: how far behind the watch is.
    behind_bytes: u64,
    sources: Vec<SourceLine<'a>>,
}

#[derive(Serialize)]
struct SourceLine<'a> {
    id: u32,
    path: &'a str,
    format: &'a str,
    lines: u64,
    events: u64,
    malformed: u64,
    lines_per_sec: f64,
    lag_secs: Option<f64>,
    rotations: u64,
    truncations: u64,
    errors: usize,
}

impl<'a> From<&'a SourceHealth> for SourceLine<'a> {
    fn from(s: &'a SourceHealth) -> Self {
        SourceLine {
            id: s.id.0,
            path: &s.path,
            format: &s.format,
            lines: s.lines,
            events: s.events,
            malformed: s.malformed,
            lines_per_sec: (s.lines_per_sec * 10.0).round() / 10.0,
            lag_secs: s.lag_secs,
            rotations: s.rotations,
            truncations: s.truncations,
            errors: s.errors.len(),
        }
    }
}

impl Lines {
    fn new() -> Self {
        Lines { stdout: io::stdout(), closed: false }
    }

    fn changes(&mut self, changes: &[StateChange]) {
        if changes.is_empty() {
            return;
        }
        let mut lock = self.stdout.lock();
        for change in changes {
            if write_json(&mut lock, change).is_err() {
                self.closed = true;
                return;
            }
        }
        self.closed |= lock.flush().is_err();
    }

    fn stats(&mut self, s: &Snapshot, behind_bytes: u64) {
        let line = StatsLine {
            kind: "stats",
            at: s.as_of,
            lines: s.sources.iter().map(|h| h.lines).sum(),
            events: s.sources.iter().map(|h| h.events).sum(),
            malformed: s.sources.iter().map(|h| h.malformed).sum(),
            open_services: s.services.iter().filter(|v| v.state == ServiceState::Open).count(),
            windows: s.services.iter().map(|v| v.windows.len()).sum(),
            actors: s.actors_total(),
            gaps: s.gaps.len(),
            elapsed_ms: s.stats.elapsed_ms,
            behind_bytes,
            sources: s.sources.iter().map(SourceLine::from).collect(),
        };
        let mut lock = self.stdout.lock();
        self.closed |= write_json(&mut lock, &line).is_err() || lock.flush().is_err();
    }
}

fn write_json(w: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *w, value).map_err(io::Error::other)?;
    w.write_all(b"\n")
}

/// Write the final analysis (the `analyze --format json` document) atomically: a reader never
/// sees a half-written file.
fn write_out(path: &Path, snapshot: &Snapshot, redaction: &RedactionRecord) -> anyhow::Result<()> {
    let analysis = Analysis::build(snapshot, chrono::Utc::now()).with_redaction(redaction);
    write_atomic(path, |w| analysis.write(w))
        .with_context(|| format!("{}: cannot write the final analysis", path.display()))?;
    Ok(())
}

/// The snapshot as the headless lines show it: secrets replaced by stable markers unless
/// `--no-redact` (the same `Redactor` as `analyze` and the reports, so markers match).
fn redacted(redactor: Option<&Redactor>, snapshot: &Arc<Snapshot>) -> Arc<Snapshot> {
    match redactor {
        Some(r) => {
            let mut copy = (**snapshot).clone();
            report::redact_snapshot(r, &mut copy);
            Arc::new(copy)
        }
        None => Arc::clone(snapshot),
    }
}
