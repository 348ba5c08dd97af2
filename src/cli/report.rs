//! `leakline report`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`leakline report` is not built yet")
}
