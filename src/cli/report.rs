//! `leakline report --case DIR --format md|json|html --out FILE [--as-of RFC3339]
//! [--no-redact]`: export the incident report of a case, atomically, redacted unless
//! `--no-redact`.
//!
//! The evidence is the case config read through the batch engine as of `--as-of`; without
//! it, as of the later of the last journal record and the last evidence event (never the
//! wall clock), so the same case and inputs give the same report. `generated_at` is
//! `$SOURCE_DATE_EPOCH` when set (the reproducible-builds convention; the analysis timing
//! `stats.elapsed_ms` is then 0), else now. The case section comes from the journal
//! (`leakline::report::case_section`), its verify conditions checked against that same
//! snapshot and SLAs judged at the report's `as_of`. Every evidence file the journal recorded
//! is re-hashed (`unchanged | changed | missing`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use leakline::batch;
use leakline::case::{Case, system_clock};
use leakline::report::{
    self, DEFAULT_TOP_ACTORS, Format, Redaction, Redactor, ReportInput, ReportModel,
};

use super::UsageError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Markdown (GitHub-flavoured), for postmortem docs and tickets.
    #[value(alias = "markdown")]
    Md,
    /// JSON (`leakline.report/1`: the analysis schema plus playbook, notes, journal head).
    Json,
    /// One self-contained HTML file: no scripts, no network, prints well.
    Html,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Md => Format::Markdown,
            FormatArg::Json => Format::Json,
            FormatArg::Html => Format::Html,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The case directory.
    #[arg(long, value_name = "DIR")]
    pub case: PathBuf,
    /// Output format; inferred from the --out extension (.md, .json, .html) when omitted.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Where to write the report (replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Keep secrets (tokens, keys, passwords) as logged; the report says redaction was off.
    #[arg(long)]
    pub no_redact: bool,
    /// The moment the report describes (RFC 3339): open windows run until it, SLAs are
    /// judged at it [default: the later of the last journal record and the last evidence
    /// event]. Evidence logged after it is still read (a warning says so).
    #[arg(long, value_name = "RFC3339")]
    pub as_of: Option<String>,
    /// How many actors the Markdown and HTML reports list (JSON lists all).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_TOP_ACTORS)]
    pub top: usize,
    /// Zone of timestamps written without one (IANA name, e.g. `America/New_York`);
    /// overrides the config's `timezone` [default: the config's, else UTC].
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

/// The format from `--format`, else from the `--out` extension.
fn resolve_format(format: Option<FormatArg>, out: &Path) -> Result<Format, UsageError> {
    if let Some(f) = format {
        return Ok(f.into());
    }
    out.extension().and_then(|e| Format::parse(&e.to_string_lossy())).ok_or_else(|| {
        UsageError(format!(
            "{}: cannot tell the report format from the file name; pass --format md|json|html",
            out.display()
        ))
    })
}

/// `--as-of` as a UTC time (usage error when it is not RFC 3339).
fn parse_as_of(text: &str) -> Result<DateTime<Utc>, UsageError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| UsageError(format!("--as-of `{text}`: {e} (expected RFC 3339)")))
}

/// `$SOURCE_DATE_EPOCH` (seconds since the Unix epoch) when set; a value that is not a
/// number of seconds is a usage error naming the variable.
fn source_date_epoch() -> Result<Option<DateTime<Utc>>, UsageError> {
    let Ok(text) = std::env::var("SOURCE_DATE_EPOCH") else {
        return Ok(None);
    };
    text.trim()
        .parse::<i64>()
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .map(Some)
        .ok_or_else(|| {
            UsageError(format!("SOURCE_DATE_EPOCH `{text}`: expected seconds since 1970-01-01"))
        })
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    super::case::integrity_exit(run_report(args))
}

fn run_report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let ReportArgs { case, format, out, no_redact, top, as_of, tz } = args;
    let format = resolve_format(format, &out)?;
    let tz = super::parse_tz(tz.as_deref())?;
    let epoch = source_date_epoch()?;
    let as_of = as_of.as_deref().map(parse_as_of).transpose()?;
    // The case first, verified whole: a report must not be built over a tampered or damaged
    // journal, a changed playbook copy or a swapped config (exit 3, no report written).
    let (case, integrity) = super::case::open_verified(&case, system_clock())?;
    let state = case.state().map_err(super::case::classify)?;
    let mut config = super::case::load_config(&case.config_path())?;
    if let Some(tz) = tz {
        config.timezone = tz;
    }
    let mut correlator =
        batch::run(&config, &batch::BatchOptions::default()).with_context(|| {
            format!(
                "case {}: reading the evidence of the case config {}",
                case.dir.display(),
                case.config_path().display()
            )
        })?;
    let last_record = integrity.contents.entries.last().map(|e| e.at);
    let as_of = as_of.or_else(|| correlator.latest_event().max(last_record)).unwrap_or_default();
    // Markdown and HTML show the top `top` actors (and groups): the snapshot lists no more
    // (the counts cover everyone), so a flood of clients costs no summary per client.
    if format != Format::Json {
        correlator.set_actor_limit(Some(top));
    }
    let mut snapshot = correlator.snapshot(as_of);
    if epoch.is_some() {
        snapshot.stats.elapsed_ms = 0;
    }
    if let Some(latest) = snapshot.sources.iter().filter_map(|s| s.last_event).max() {
        if latest > as_of {
            eprintln!(
                "leakline: warning: --as-of {} is before the latest evidence ({}); evidence after it is still counted",
                leakline::text::rfc3339_secs(as_of),
                leakline::text::rfc3339_secs(latest)
            );
        }
    }
    // Verify conditions are checked against the report's own snapshot; SLAs at its as_of.
    let mut section = report::case_section::from_case(&case, &state, Some(&snapshot), as_of);
    section.evidence = Case::check_evidence(&integrity.contents);
    for e in section.evidence.iter().filter(|e| e.status != report::EvidenceStatus::Unchanged) {
        eprintln!(
            "leakline: warning: evidence {} is {} since the case recorded it (sha256 {})",
            e.path,
            e.status.as_str(),
            e.sha256_recorded
        );
    }
    let redaction =
        if no_redact { Redaction::Disabled } else { Redaction::Enabled(Redactor::new()) };
    let model = ReportModel::build(&ReportInput {
        snapshot: &snapshot,
        case: Some(&section),
        generated_at: epoch.unwrap_or_else(Utc::now),
        version: env!("CARGO_PKG_VERSION"),
        redaction,
        top_actors: top,
    });
    let written = report::export(&model, format, &out)
        .with_context(|| format!("exporting the {} report", format.extension()))?;
    eprintln!(
        "leakline: wrote {} ({} bytes, sha256 {}){}",
        written.path.display(),
        written.bytes,
        written.sha256,
        if model.redaction.enabled {
            format!(", {} secrets redacted", model.redaction.counts.total())
        } else {
            ", redaction OFF".to_owned()
        }
    );
    Ok(super::analyze::coverage_exit(
        snapshot.coverage.sources_unread.len(),
        snapshot.coverage.total(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_flag_or_extension() {
        let out = Path::new("r.HTML");
        assert_eq!(resolve_format(None, out).ok(), Some(Format::Html));
        assert_eq!(resolve_format(Some(FormatArg::Md), out).ok(), Some(Format::Markdown));
        let err = resolve_format(None, Path::new("report.txt")).err().map(|e| e.0);
        assert!(err.is_some_and(|e| e.contains("report.txt") && e.contains("--format")));
    }
}
