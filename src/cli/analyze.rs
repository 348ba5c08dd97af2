//! `leakline analyze`: read every configured source once, correlate, print the result.
//!
//! Exit codes: 0 success, 2 config/usage error, 1 I/O error (one line naming the file), 4
//! evidence incomplete (a configured source unread, unrecognised or matching no file; the
//! output is written all the same).
//! `as_of` defaults to the latest event time so the output is reproducible; the wall clock
//! is read here only, for `generated_at` and `elapsed_ms`.

mod out_file;
mod text;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use leakline::batch::{self, BatchError, BatchOptions};
use leakline::config::{self, QuickFlags};
use leakline::correlate::ActorDetail;
use leakline::correlate::classify::ScannerFileError;
use leakline::model::Snapshot;
use leakline::report::analysis::Analysis;
use leakline::report::{
    self, DEFAULT_TOP_ACTORS, Format, Redaction, RedactionCounts, RedactionRecord, Redactor,
    ReportInput, ReportModel,
};

use self::out_file::write_atomic;
use super::UsageError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Md,
    Html,
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// The case config (`leakline.toml`); optional when --access/--scan are given.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Write to FILE (atomically: temp file + rename) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The moment open windows run until (RFC 3339); default: the latest event time.
    #[arg(long, value_name = "RFC3339")]
    pub as_of: Option<String>,
    /// Access log glob, optionally for a named service: `[SERVICE=]GLOB` (repeatable;
    /// the service defaults to the file stem).
    #[arg(long, value_name = "[SERVICE=]GLOB")]
    pub access: Vec<String>,
    /// Access log format for every --access glob (auto-detected when absent).
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Scanner output glob (external vantage; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub scan: Vec<String>,
    /// A client range that is ours (repeatable; adds to the config's `internal`).
    #[arg(long, value_name = "CIDR")]
    pub internal: Vec<String>,
    /// A proxy whose X-Forwarded-For is believed (repeatable).
    #[arg(long, value_name = "CIDR")]
    pub trusted_proxy: Vec<String>,
    /// A MaxMind-format database (`.mmdb`: ASN, Country, City) that says who each actor is
    /// (repeatable; adds to the config's `[enrich] mmdb`). No network lookup is made.
    #[arg(long, value_name = "FILE")]
    pub mmdb: Vec<String>,
    /// A range file (AWS ip-ranges.json, Google cloud.json, Azure Service Tags, Cloudflare
    /// ips-v4/ips-v6, Tor exit list, plain list; repeatable; adds to `[enrich] ranges`).
    #[arg(long, value_name = "FILE")]
    pub ranges: Vec<String>,
    /// Parser threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Keep secrets (tokens, keys, passwords) as logged in every output format; by default
    /// they are replaced by stable markers and the output says how many were.
    #[arg(long)]
    pub no_redact: bool,
    /// Zone of timestamps written without one (IANA name, e.g. `America/New_York`);
    /// overrides the config's `timezone` [default: the config's, else UTC].
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Actors listed in the JSON (and text) output: the top N by bytes (and by requests,
    /// plus every actor a window names), or `all`. `actors_total` always counts everyone;
    /// Markdown and HTML list the top 100.
    #[arg(long, value_name = "N|all", default_value = "10000", value_parser = parse_actors)]
    pub actors: ActorCount,
    /// Actors whose paths, agents and statuses are kept at once (Markdown/HTML); beyond it
    /// the lighter half's detail is dropped and marked so (totals stay exact).
    #[arg(long, value_name = "N", default_value_t = leakline::correlate::actors::DEFAULT_DETAIL_CAP)]
    pub max_actors_detail: usize,
    /// Database sources (`clickhouse = { … }`): pull no row before this moment (RFC 3339;
    /// the server filters). Files are read whole.
    #[arg(long, value_name = "RFC3339")]
    pub since: Option<String>,
    /// Database sources: pull no row after this moment (RFC 3339, inclusive).
    #[arg(long, value_name = "RFC3339")]
    pub until: Option<String>,
}

/// An RFC 3339 flag value.
fn moment(flag: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, UsageError> {
    value
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| UsageError(format!("{flag} `{s}`: {e} (expected RFC 3339)")))
        })
        .transpose()
}

/// `--actors`: a number, or every actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActorCount(pub Option<usize>);

fn parse_actors(s: &str) -> Result<ActorCount, String> {
    if s == "all" {
        return Ok(ActorCount(None));
    }
    s.parse::<usize>()
        .map(|n| ActorCount(Some(n)))
        .map_err(|_| format!("expected a number of actors or `all`, got `{s}`"))
}

/// Actors the Markdown and HTML reports list.
const REPORT_ACTORS: usize = 100;

fn batch_error(e: BatchError) -> anyhow::Error {
    match e {
        BatchError::Scanners(ScannerFileError::Invalid { .. }) => {
            anyhow::Error::new(UsageError(e.to_string()))
        }
        other => anyhow::Error::new(other),
    }
}

/// The chosen output, ready to be written (the correlator is gone by then: only the
/// snapshot stays in memory; the JSON document borrows it as it is written). Every variant is
/// built from the already-redacted snapshot.
enum Output {
    Json(Box<Snapshot>, RedactionRecord, DateTime<Utc>),
    Text(Box<Snapshot>, RedactionRecord),
    Report(Box<ReportModel>, Format),
}

impl Output {
    fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        match self {
            Output::Json(snapshot, redaction, now) => {
                Analysis::build(snapshot, *now).with_redaction(redaction).write(out)
            }
            Output::Text(snapshot, redaction) => text::write(snapshot, redaction, out),
            Output::Report(model, format) => report::write(model, *format, out),
        }
    }
}

/// Redact the snapshot in place unless `--no-redact`; the record says what was done.
fn redact(snapshot: &mut Snapshot, enabled: bool) -> RedactionRecord {
    let counts = if enabled {
        report::redact_snapshot(&Redactor::new(), snapshot)
    } else {
        RedactionCounts::default()
    };
    RedactionRecord { enabled, counts }
}

/// The Markdown or HTML report of an analysis (no case: no playbook section). The snapshot
/// is already redacted; the model records that redaction instead of redoing it.
fn report_model(
    snapshot: &Snapshot,
    redaction: RedactionRecord,
    now: DateTime<Utc>,
) -> ReportModel {
    let mut model = ReportModel::build(&ReportInput {
        snapshot,
        case: None,
        generated_at: now,
        version: env!("CARGO_PKG_VERSION"),
        redaction: Redaction::Disabled,
        top_actors: DEFAULT_TOP_ACTORS,
    });
    model.redaction = redaction;
    model
}

/// Exit 4 ("evidence incomplete") when a configured source yielded nothing (the output is
/// written all the same, and says which and why), with one line on stderr.
pub(crate) fn coverage_exit(unread: usize, total: usize) -> ExitCode {
    if unread == 0 {
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "leakline: evidence incomplete: {unread} of {total} configured sources unread (listed first in the output); exit 4"
    );
    ExitCode::from(EXIT_EVIDENCE_INCOMPLETE)
}

/// The exit code of a run whose output was written but rests on incomplete evidence.
pub const EXIT_EVIDENCE_INCOMPLETE: u8 = 4;

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let flags = QuickFlags {
        access: args.access,
        scan: args.scan,
        internal: args.internal,
        trusted_proxy: args.trusted_proxy,
        format: args.log_format,
        mmdb: args.mmdb,
        ranges: args.ranges,
    };
    let tz = super::parse_tz(args.tz.as_deref())?;
    let as_of = moment("--as-of", args.as_of.as_deref())?;
    let since = moment("--since", args.since.as_deref())?;
    let until = moment("--until", args.until.as_deref())?;
    let base = match &args.config {
        Some(path) => Some(config::load(path)?),
        None => None,
    };
    let mut cfg = config::resolve_flags(base, &flags, &cwd)?;
    if let Some(tz) = tz {
        cfg.timezone = tz;
    }
    // The per-actor detail (top paths, user agents, status counts) appears only in md/html:
    // for json and text it is neither recorded nor built (nor redacted), which saves work
    // per external request and keeps peak memory flat with many actors.
    let detail = match args.format {
        OutputFormat::Json | OutputFormat::Text => ActorDetail::Totals,
        OutputFormat::Md | OutputFormat::Html => ActorDetail::Full,
    };
    let enricher = super::load_enricher(&cfg)?;
    let check = enricher.as_ref().map(|e| e.verify_in_background());
    let mut options = BatchOptions {
        actor_detail: detail,
        max_actors_detail: args.max_actors_detail,
        enricher,
        since,
        until,
        ..BatchOptions::default()
    };
    if let Some(n) = args.threads {
        options.workers = n.max(1);
    }
    let mut correlator = batch::run(&cfg, &options).map_err(batch_error)?;
    if let Some(check) = check {
        check.wait().map_err(|e| UsageError(e.to_string()))?;
    }
    correlator.set_actor_limit(match args.format {
        OutputFormat::Json | OutputFormat::Text => args.actors.0,
        OutputFormat::Md | OutputFormat::Html => {
            Some(args.actors.0.map_or(REPORT_ACTORS, |n| n.min(REPORT_ACTORS)))
        }
    });
    let as_of = as_of.or_else(|| correlator.latest_event()).unwrap_or_default();
    let mut snapshot = correlator.snapshot_with(as_of, detail);
    drop(correlator);
    if !snapshot.enrichment.errors.is_empty() {
        return Err(UsageError(snapshot.enrichment.errors.join("; ")).into());
    }
    let unread = snapshot.coverage.sources_unread.len();
    let total = snapshot.coverage.total();
    let redaction = redact(&mut snapshot, !args.no_redact);
    snapshot.stats.elapsed_ms = started.elapsed().as_millis() as u64;
    let now = Utc::now();
    let output = match args.format {
        OutputFormat::Json => Output::Json(Box::new(snapshot), redaction, now),
        OutputFormat::Text => Output::Text(Box::new(snapshot), redaction),
        OutputFormat::Md => {
            Output::Report(Box::new(report_model(&snapshot, redaction, now)), Format::Markdown)
        }
        OutputFormat::Html => {
            Output::Report(Box::new(report_model(&snapshot, redaction, now)), Format::Html)
        }
    };
    if let Some(path) = &args.out {
        write_atomic(path, |w| output.write(w))?;
    } else {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        if let Err(e) = output.write(&mut stdout).and_then(|()| stdout.flush()) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                return Err(anyhow::Error::new(e).context("stdout"));
            }
        }
    }
    // Not freed: `analyze` returns to `main` and exits, and the exit returns the process's
    // memory whole. Freeing the document first (tens of thousands of actors, each with
    // its own allocations) would only add milliseconds to the end of the run, on one
    // thread. Only here, at the binary's edge: the library never leaks, since its callers
    // (`watch`, the report, tests) keep running. (The correlator, by contrast, is freed
    // above: keeping it while the output is built would raise the peak memory of
    // `--format md|html`.)
    std::mem::forget(output);
    Ok(coverage_exit(unread, total))
}
