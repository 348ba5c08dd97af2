//! `leakline report --case DIR --format md|json|html --out FILE [--no-redact]`: export the
//! incident report of a case, atomically, redacted unless `--no-redact`.
//!
//! Everything but two glue functions is library code (`leakline::report`). The glue —
//! [`case_snapshot`] and [`case_section`] — needs the batch engine and the case journal, which
//! are being built in parallel; until they are wired each returns a clear error naming the
//! case directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use leakline::model::Snapshot;
use leakline::report::{
    self, CaseSection, DEFAULT_TOP_ACTORS, Format, Redaction, Redactor, ReportInput, ReportModel,
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
    /// How many actors the Markdown and HTML reports list (JSON lists all).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_TOP_ACTORS)]
    pub top: usize,
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

/// GLUE (lead to wire): read the case's sources through the batch engine and return the
/// snapshot as of the case's last evidence (or its close time). Needs the batch `analyze`
/// pipeline (issue 4) and the case layout (case issue).
fn case_snapshot(dir: &Path) -> anyhow::Result<Snapshot> {
    anyhow::bail!(
        "{}: reading a case's evidence into a snapshot is not wired yet \
         (needs the batch engine of `leakline analyze`)",
        dir.display()
    )
}

/// GLUE (lead to wire): convert the case journal's state into a `CaseSection` (playbook
/// steps, notes, journal head). Needs `leakline::case` (case issue).
fn case_section(dir: &Path) -> anyhow::Result<CaseSection> {
    anyhow::bail!(
        "{}: reading the case journal into the report is not wired yet (needs `leakline::case`)",
        dir.display()
    )
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let ReportArgs { case, format, out, no_redact, top } = args;
    let format = resolve_format(format, &out)?;
    let snapshot = case_snapshot(&case)?;
    let section = case_section(&case)?;
    let redaction =
        if no_redact { Redaction::Disabled } else { Redaction::Enabled(Redactor::new()) };
    let model = ReportModel::build(&ReportInput {
        snapshot: &snapshot,
        case: Some(&section),
        generated_at: chrono::Utc::now(),
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
    Ok(ExitCode::SUCCESS)
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
