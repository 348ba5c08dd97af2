//! Render the report test fixture to a file, for the HTML screenshot (`bench/html-screenshot.sh`)
//! and for eyeballing the other formats.
//!
//! Usage: `cargo run --example report_sample -- [calm|hostile] OUT.{html,md,json}`. The hostile
//! sample checks that none of its planted secrets reached the file.

#[path = "../tests/fixtures/report/build.rs"]
mod build;

use std::path::PathBuf;
use std::process::ExitCode;

use leakline::report::{self, Format, Redaction, Redactor, ReportInput, ReportModel};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (kind, out) = match args.as_slice() {
        [kind, out] if kind == "calm" || kind == "hostile" => (kind.as_str(), PathBuf::from(out)),
        _ => {
            eprintln!("usage: report_sample calm|hostile OUT.html|OUT.md|OUT.json");
            return ExitCode::from(2);
        }
    };
    let Some(format) = out.extension().and_then(|e| Format::parse(&e.to_string_lossy())) else {
        eprintln!("report_sample: {}: extension must be html, md or json", out.display());
        return ExitCode::from(2);
    };
    let (snapshot, case) = if kind == "hostile" {
        (build::snapshot(&build::HOSTILE), build::hostile_case())
    } else {
        (build::snapshot(&build::CALM), build::case())
    };
    let model = ReportModel::build(&ReportInput {
        snapshot: &snapshot,
        case: Some(&case),
        generated_at: build::t(14, 0, 0),
        version: env!("CARGO_PKG_VERSION"),
        redaction: Redaction::Enabled(Redactor::new()),
        top_actors: report::DEFAULT_TOP_ACTORS,
    });
    match report::export(&model, format, &out) {
        Ok(written) => {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            if let Some(secret) = build::SECRETS.iter().find(|s| text.contains(*s)) {
                eprintln!("report_sample: secret {secret:?} leaked into {}", out.display());
                return ExitCode::FAILURE;
            }
            eprintln!("{} ({} bytes, sha256 {})", out.display(), written.bytes, written.sha256);
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("report_sample: {err}");
            ExitCode::FAILURE
        }
    }
}
