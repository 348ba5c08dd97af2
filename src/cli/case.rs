//! `leakline case`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CaseArgs {}

pub fn run(args: CaseArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`leakline case` is not built yet")
}
