//! The `leakline` binary: parse the command line, run, map errors to exit codes.
//!
//! Exit codes: 0 success, 1 I/O or runtime error, 2 configuration or usage error.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("leakline: {}", cli::error_text(&err));
            ExitCode::from(cli::exit_code_for(&err))
        }
    }
}
