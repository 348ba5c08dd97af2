//! Command-line interface (clap derive): one module per subcommand, each with its `Args`
//! and a `run` function. `anyhow` lives here and in `main.rs` only.

mod analyze;
mod case;
mod demo;
mod enrich;
mod inspect;
mod playbook;
mod report;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// leakline — exposure windows, actors and a containment journal from access logs and
/// scanner output, for incident responders.
#[derive(Debug, Parser)]
#[command(name = "leakline", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Play the bundled demo case through the live dashboard.
    Demo(demo::DemoArgs),
    /// Show what leakline understands from files (format, lines, events, malformed, SHA-256).
    Inspect(inspect::InspectArgs),
    /// Correlate logs and scans into exposure windows and actors (batch).
    Analyze(analyze::AnalyzeArgs),
    /// Follow sources live: the dashboard, or JSON lines with --headless.
    Watch(watch::WatchArgs),
    /// List, show and validate containment playbooks.
    Playbook(playbook::PlaybookArgs),
    /// Open and work an incident case (playbook steps, notes, tamper-evident journal).
    Case(case::CaseArgs),
    /// Export the incident report of a case (Markdown, JSON, HTML).
    Report(report::ReportArgs),
    /// What the offline databases and range files say about addresses (no network lookup).
    Enrich(enrich::EnrichArgs),
}

/// A usage or configuration error: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// `--tz ZONE` (`analyze`, `watch`, `inspect`, `report`): the zone of times written without
/// one, overriding the config's `timezone`. An unknown name is a usage error naming the flag.
pub(crate) fn parse_tz(value: Option<&str>) -> Result<Option<chrono_tz::Tz>, UsageError> {
    value
        .map(|v| {
            v.parse::<chrono_tz::Tz>().map_err(|_| {
                UsageError(format!(
                    "--tz {v}: not an IANA time zone name (e.g. UTC, Europe/Paris, America/New_York)"
                ))
            })
        })
        .transpose()
}

/// Map an error to the documented exit code: 2 for usage/config problems, 1 otherwise.
/// The message printed for an error: its chain joined by `: `, where a cause whose text the
/// message above it already quotes (library errors read `{path}: {source}`) is not repeated.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.ends_with(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<UsageError>()
            || cause.is::<leakline::config::ConfigError>()
            || cause.is::<leakline::enrich::EnrichError>()
            || cause
                .downcast_ref::<leakline::batch::BatchError>()
                .is_some_and(|e| matches!(e, leakline::batch::BatchError::Enrich(_)))
        {
            return 2;
        }
    }
    1
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Playbook(args) => playbook::run(args),
        Command::Case(args) => case::run(args),
        Command::Report(args) => report::run(args),
        Command::Enrich(args) => enrich::run(&args),
    }
}

/// `aws EC2 ap-northeast-2` / `tor`: a range list membership in one short phrase.
pub(crate) fn list_label(l: &leakline::model::enrichment::ListHit) -> String {
    use leakline::text::clean;
    let mut parts = vec![clean(&l.name)];
    parts.extend(l.service.iter().map(|s| clean(s)));
    parts.extend(l.region.iter().map(|s| clean(s)));
    parts.join(" ")
}

/// Load the `[enrich]` files once, before any evidence is read: a missing, truncated or
/// corrupt file is a configuration error (exit 2) naming it. (`analyze` checks the
/// databases in full while it reads; `watch` and `enrich` call [`checked_enricher`].)
pub(crate) fn load_enricher(
    config: &leakline::config::CaseConfig,
) -> Result<Option<std::sync::Arc<leakline::enrich::Enricher>>, UsageError> {
    leakline::enrich::Enricher::load(&config.enrich)
        .map(|e| e.map(std::sync::Arc::new))
        .map_err(|e| UsageError(e.to_string()))
}

/// [`load_enricher`], then every database checked in full before anything starts.
pub(crate) fn checked_enricher(
    config: &leakline::config::CaseConfig,
) -> Result<Option<std::sync::Arc<leakline::enrich::Enricher>>, UsageError> {
    let enricher = load_enricher(config)?;
    if let Some(e) = &enricher {
        e.verify().map_err(|e| UsageError(e.to_string()))?;
    }
    Ok(enricher)
}
