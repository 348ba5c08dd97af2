//! `leakline inspect`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct InspectArgs {}

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`leakline inspect` is not built yet")
}
