//! `leakline analyze`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {}

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`leakline analyze` is not built yet")
}
