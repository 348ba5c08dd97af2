//! `leakline watch`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct WatchArgs {}

pub fn run(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`leakline watch` is not built yet")
}
