//! `leakline report --case DIR --format md|json|html --out FILE [--as-of RFC3339]
//! [--no-redact]`: export the incident report of a case, atomically, redacted unless
//! `--no-redact`.
//!
//! The evidence is the case config read through the batch engine as of `--as-of` (default
//! now); the case section comes from the journal (`leakline::report::case_section`), its
//! verify conditions checked against that same snapshot, SLAs judged at generation time.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use leakline::case::{Case, system_clock};
use leakline::model::Snapshot;
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
    /// The moment the report describes (RFC 3339): open windows run until it [default: now].
    /// Evidence logged after it is still read (a warning says so).
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

/// The case's evidence as of `as_of`: its config (as recorded in `case.toml`) read through
/// the batch engine. Errors name the config or the evidence file at fault.
fn case_snapshot(
    case: &Case,
    as_of: DateTime<Utc>,
    tz: Option<chrono_tz::Tz>,
) -> anyhow::Result<Snapshot> {
    super::case::snapshot_at(&case.config_path(), as_of, tz)
        .with_context(|| format!("case {}", case.dir.display()))
}

/// `--as-of` as a UTC time (usage error when it is not RFC 3339).
fn parse_as_of(text: &str) -> Result<DateTime<Utc>, UsageError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| UsageError(format!("--as-of `{text}`: {e} (expected RFC 3339)")))
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let ReportArgs { case, format, out, no_redact, top, as_of, tz } = args;
    let format = resolve_format(format, &out)?;
    let tz = super::parse_tz(tz.as_deref())?;
    let now = Utc::now();
    let as_of = as_of.as_deref().map(parse_as_of).transpose()?.unwrap_or(now);
    let case = Case::open(&case, system_clock()).map_err(super::case::classify)?;
    // The journal first: a report must not be built over a tampered or damaged journal.
    let state = match case.state() {
        Ok(state) => state,
        Err(e) if super::case::is_integrity_failure(&e) => {
            eprintln!("leakline: integrity check FAILED: {e}; no report written");
            return Ok(ExitCode::from(super::case::EXIT_INTEGRITY));
        }
        Err(e) => return Err(super::case::classify(e)),
    };
    let snapshot = case_snapshot(&case, as_of, tz)?;
    if let Some(latest) = snapshot.sources.iter().filter_map(|s| s.last_event).max() {
        if latest > as_of {
            eprintln!(
                "leakline: warning: --as-of {} is before the latest evidence ({}); evidence after it is still counted",
                as_of.to_rfc3339_opts(SecondsFormat::Secs, true),
                latest.to_rfc3339_opts(SecondsFormat::Secs, true)
            );
        }
    }
    // Verify conditions are checked against the report's own snapshot; SLAs at generation.
    let section = report::case_section::from_case(&case, &state, Some(&snapshot), now);
    let redaction =
        if no_redact { Redaction::Disabled } else { Redaction::Enabled(Redactor::new()) };
    let model = ReportModel::build(&ReportInput {
        snapshot: &snapshot,
        case: Some(&section),
        generated_at: now,
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
