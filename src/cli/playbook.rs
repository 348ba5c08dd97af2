//! `leakline playbook list | show ID | validate FILE...`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use leakline::playbook::load::load_file;
use leakline::playbook::{Library, Playbook, PlaybookError};

use super::UsageError;

#[derive(Debug, clap::Args)]
pub struct PlaybookArgs {
    /// A directory of your own playbooks (*.toml), added to the built-in ones; a file with a
    /// built-in's id replaces it.
    #[arg(long, value_name = "DIR", global = true)]
    pub playbooks: Option<PathBuf>,
    #[command(subcommand)]
    pub command: PlaybookCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PlaybookCommand {
    /// List the available playbooks.
    List,
    /// Print a playbook: every step with its instructions, example commands and checks.
    Show {
        /// Playbook id (see `leakline playbook list`).
        id: String,
    },
    /// Check playbook files; each problem names the file, line and column.
    Validate {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// Load the library, turning a broken user playbook into a usage error (exit 2).
pub fn library(dir: Option<&std::path::Path>) -> anyhow::Result<Library> {
    Library::load(dir).map_err(|e| match e {
        PlaybookError::Io { .. } => anyhow::Error::new(e),
        other => UsageError(other.to_string()).into(),
    })
}

pub fn run(args: PlaybookArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PlaybookCommand::List => {
            let lib = library(args.playbooks.as_deref())?;
            let mut out = String::new();
            for entry in lib.entries() {
                let p = &entry.playbook;
                let _ = writeln!(
                    out,
                    "{:<28} {:<9} {:>2} steps  {}  ({})",
                    safe(&p.id),
                    p.severity.as_str(),
                    p.steps.len(),
                    safe(&p.title),
                    entry.origin
                );
            }
            print!("{out}");
        }
        PlaybookCommand::Show { id } => {
            let lib = library(args.playbooks.as_deref())?;
            let entry = lib.get(&id).map_err(|e| UsageError(e.to_string()))?;
            print!("{}", render(&entry.playbook));
        }
        PlaybookCommand::Validate { files } => {
            let mut failed = Vec::new();
            for file in &files {
                match load_file(file) {
                    Ok(loaded) => println!(
                        "{}: ok ({}, {} steps)",
                        file.display(),
                        loaded.playbook.id,
                        loaded.playbook.steps.len()
                    ),
                    Err(PlaybookError::Invalid(problems)) => {
                        failed.extend(problems.iter().map(ToString::to_string));
                    }
                    Err(other) => {
                        return Err(other)
                            .with_context(|| format!("validating {}", file.display()));
                    }
                }
            }
            if !failed.is_empty() {
                return Err(UsageError(failed.join("\n")).into());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of playbook text for the terminal: a playbook may come from anywhere
/// (`--playbooks DIR`), so its text goes through the shared terminal rule, whole.
fn safe(line: &str) -> std::borrow::Cow<'_, str> {
    leakline::text::sanitize(line, usize::MAX)
}

/// The full text of a playbook for the terminal.
fn render(p: &Playbook) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} — {} [{}]", safe(&p.id), safe(&p.title), p.severity.as_str());
    out.push('\n');
    for line in p.summary.trim().lines() {
        let _ = writeln!(out, "{}", safe(line));
    }
    out.push('\n');
    for (i, step) in p.steps.iter().enumerate() {
        let sla = step.sla_minutes.map_or_else(String::new, |m| format!(", SLA {m} min"));
        let (id, title, role) = (safe(&step.id), safe(&step.title), safe(&step.role));
        let _ = writeln!(out, "{}. {id} — {title} ({role}{sla})", i + 1);
        if !step.requires.is_empty() {
            let _ = writeln!(out, "   requires: {}", safe(&step.requires.join(", ")));
        }
        if let Some(v) = &step.verify {
            let _ = writeln!(out, "   verify: {}", safe(&v.to_string()));
        }
        let mut why = step.why.trim().lines();
        let _ = writeln!(out, "   why: {}", safe(why.next().unwrap_or_default()));
        for line in why {
            let _ = writeln!(out, "{}", safe(line));
        }
        for line in step.instructions.trim().lines() {
            let _ = writeln!(out, "   {}", safe(line));
        }
        if !step.commands.is_empty() {
            let _ = writeln!(out, "   Example commands (adapt before running):");
            for cmd in &step.commands {
                let _ = writeln!(out, "   [{}] {}", cmd.platform.as_str(), safe(&cmd.label));
                for line in cmd.command.trim().lines() {
                    let _ = writeln!(out, "       {}", safe(line));
                }
            }
        }
        out.push('\n');
    }
    out
}
