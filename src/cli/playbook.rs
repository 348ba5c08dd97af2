//! `leakline playbook`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PlaybookArgs {}

pub fn run(args: PlaybookArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`leakline playbook` is not built yet")
}
