//! Containment playbooks: ordered, checkable steps a responder follows during an incident.
//!
//! A playbook is a TOML file (format documented in `playbooks/README.md`). `load` parses it
//! with spans kept, `validate` turns the raw form into a [`Playbook`] or a list of problems
//! that each name file, line and column, `checklist` holds the step state machine and SLA
//! arithmetic, and `verify` evaluates a step's condition against a [`crate::model::Snapshot`].
//! Nothing here reads a clock: callers pass `now` / `as_of`.

pub(crate) mod checklist;
pub mod load;
pub(crate) mod validate;
pub(crate) mod verify;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use checklist::{SlaStatus, StepAction, StepState, TransitionError, sla_status};
pub use load::{Library, LoadedPlaybook, Origin, parse_playbook};
pub use verify::{Evidence, VerifyOutcome, VerifyResult, evaluate};

/// A validated playbook. Step order is the order the responder is walked through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Playbook {
    /// Kebab-case identifier (`exposed-api-endpoint`), unique in a library.
    pub id: String,
    pub title: String,
    /// One paragraph: when to use this playbook.
    pub summary: String,
    pub severity: Severity,
    pub steps: Vec<Step>,
}

impl Playbook {
    /// The step with this id, if any.
    #[must_use]
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// How bad the situation the playbook handles usually is (display and triage only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One step of a playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Kebab-case identifier, unique within the playbook; journal records name steps by it.
    pub id: String,
    pub title: String,
    /// Why the step matters (one or two sentences).
    pub why: String,
    /// Markdown instructions.
    #[serde(rename = "do")]
    pub instructions: String,
    /// Copyable example commands; examples only, to adapt before running.
    pub commands: Vec<CommandExample>,
    /// Who usually does it (`incident lead`, `infra`, `comms`…).
    pub role: String,
    /// Time budget in minutes counted from case start; `None` when the step has no SLA.
    pub sla_minutes: Option<u32>,
    /// Ids of steps that should be done (or skipped) first. Acyclic by validation.
    pub requires: Vec<String>,
    pub verify: Option<VerifySpec>,
}

/// An example command shown with a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandExample {
    pub label: String,
    pub platform: Platform,
    pub command: String,
}

/// The platform an example command targets (display grouping and filtering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Aws,
    Gcp,
    Azure,
    Kubernetes,
    Nginx,
    Cloudflare,
    Github,
    Linux,
    Generic,
}

impl Platform {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Aws => "aws",
            Platform::Gcp => "gcp",
            Platform::Azure => "azure",
            Platform::Kubernetes => "kubernetes",
            Platform::Nginx => "nginx",
            Platform::Cloudflare => "cloudflare",
            Platform::Github => "github",
            Platform::Linux => "linux",
            Platform::Generic => "generic",
        }
    }
}

/// A condition checked against the evidence to confirm a step had its effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifySpec {
    pub kind: VerifyKind,
    /// Services the condition is about (names from the case config); empty means every
    /// service that has at least one exposure window in the snapshot.
    pub services: Vec<String>,
}

/// The verify conditions leakline can evaluate. Durations are in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VerifyKind {
    /// An external scan taken after the step started shows the service not open.
    ScanClosed,
    /// No external positive evidence since the step started, for at least `secs`.
    NoExternalFor { secs: u64 },
    /// No successful external request since the step started, for at least `secs`.
    NoExternalSuccessFor { secs: u64 },
    /// Every exposure window of the services is closed.
    WindowClosed,
}

impl VerifyKind {
    /// Every kind, as a template (durations zero): the one list `verify.kind` is read from,
    /// its error message names, and the round-trip test walks. `name` and `takes_duration`
    /// match exhaustively, so a new variant is spelled here, there, and in `verify.rs`'s
    /// evaluation: the compiler asks for each.
    pub const ALL: [VerifyKind; 4] = [
        VerifyKind::ScanClosed,
        VerifyKind::NoExternalFor { secs: 0 },
        VerifyKind::NoExternalSuccessFor { secs: 0 },
        VerifyKind::WindowClosed,
    ];

    /// The name in `verify.kind` (and the serialized `kind` tag).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            VerifyKind::ScanClosed => "scan_closed",
            VerifyKind::NoExternalFor { .. } => "no_external_for",
            VerifyKind::NoExternalSuccessFor { .. } => "no_external_success_for",
            VerifyKind::WindowClosed => "window_closed",
        }
    }

    /// The duration the kind takes (`verify.duration`), if it takes one.
    #[must_use]
    pub fn duration(self) -> Option<u64> {
        match self {
            VerifyKind::NoExternalFor { secs } | VerifyKind::NoExternalSuccessFor { secs } => {
                Some(secs)
            }
            VerifyKind::ScanClosed | VerifyKind::WindowClosed => None,
        }
    }

    /// Whether `verify.duration` is required (and allowed).
    #[must_use]
    pub fn takes_duration(self) -> bool {
        self.duration().is_some()
    }

    /// The same kind with `secs` as its duration (kinds without one are returned as they are).
    #[must_use]
    pub fn with_duration(self, secs: u64) -> VerifyKind {
        match self {
            VerifyKind::NoExternalFor { .. } => VerifyKind::NoExternalFor { secs },
            VerifyKind::NoExternalSuccessFor { .. } => VerifyKind::NoExternalSuccessFor { secs },
            VerifyKind::ScanClosed | VerifyKind::WindowClosed => self,
        }
    }

    /// The kind named `name`, as a template (duration zero; see [`with_duration`](Self::with_duration)).
    #[must_use]
    pub fn from_name(name: &str) -> Option<VerifyKind> {
        VerifyKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The accepted names, comma-separated (for error messages).
    #[must_use]
    pub fn names() -> String {
        VerifyKind::ALL.map(VerifyKind::name).join(", ")
    }
}

impl fmt::Display for VerifySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind.duration() {
            Some(secs) => write!(f, "{} {}", self.kind.name(), format_duration(secs))?,
            None => f.write_str(self.kind.name())?,
        }
        if !self.services.is_empty() {
            write!(f, " ({})", self.services.join(", "))?;
        }
        Ok(())
    }
}

/// One problem in a playbook file, located by 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
    }
}

/// Why a playbook or a playbook library could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    /// The file parsed badly or failed validation; every problem found is listed.
    #[error("{}", join_problems(.0))]
    Invalid(Vec<Problem>),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no playbook with id `{id}` (known: {known})")]
    NotFound { id: String, known: String },
}

fn join_problems(problems: &[Problem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// Parse a duration such as `90s`, `10m`, `1h30m`, `2d` into whole seconds.
///
/// Units: `s`, `m`, `h`, `d`; at least one `<number><unit>` group; the total must be positive
/// and at most 30 days (a verify condition longer than that is a typo).
pub fn parse_duration(text: &str) -> Result<u64, String> {
    const MAX_SECS: u64 = 30 * 86_400;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty duration (expected e.g. \"10m\", \"90s\", \"1h30m\")".to_owned());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in trimmed.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => {
                return Err(format!(
                    "bad duration \"{text}\": unexpected `{c}` (units are s, m, h, d)"
                ));
            }
        };
        if digits.is_empty() {
            return Err(format!("bad duration \"{text}\": unit `{c}` without a number"));
        }
        let n: u64 = digits.parse().map_err(|_| format!("bad duration \"{text}\": too large"))?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("bad duration \"{text}\": too large"))?;
    }
    if !digits.is_empty() {
        return Err(format!("bad duration \"{text}\": number without a unit (e.g. \"{digits}m\")"));
    }
    if total == 0 {
        return Err(format!("bad duration \"{text}\": must be longer than zero"));
    }
    if total > MAX_SECS {
        return Err(format!("bad duration \"{text}\": longer than 30 days"));
    }
    Ok(total)
}

/// Format whole seconds compactly (`1h30m`, `10m`, `45s`), the inverse of [`parse_duration`].
#[must_use]
pub fn format_duration(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let mut rest = secs;
    for (unit, name) in [(86_400, 'd'), (3600, 'h'), (60, 'm'), (1, 's')] {
        if rest >= unit {
            out.push_str(&(rest / unit).to_string());
            out.push(name);
            rest %= unit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every verify kind: in `ALL` once, named as serde tags it (the public JSON), read back
    /// from that name, and its duration carried.
    #[test]
    fn every_verify_kind_round_trips() {
        let index = |k: VerifyKind| match k {
            VerifyKind::ScanClosed => 0,
            VerifyKind::NoExternalFor { .. } => 1,
            VerifyKind::NoExternalSuccessFor { .. } => 2,
            VerifyKind::WindowClosed => 3,
        };
        let mut seen: Vec<usize> = VerifyKind::ALL.iter().map(|&k| index(k)).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..VerifyKind::ALL.len()).collect::<Vec<_>>());
        for template in VerifyKind::ALL {
            let kind = template.with_duration(600);
            let json = serde_json::to_value(kind).unwrap_or_default();
            assert_eq!(json["kind"], kind.name(), "{json}");
            assert_eq!(VerifyKind::from_name(kind.name()), Some(template));
            assert_eq!(kind.duration(), template.takes_duration().then_some(600));
            if let Some(secs) = kind.duration() {
                assert_eq!(json["secs"], secs);
            }
        }
        assert_eq!(VerifyKind::from_name("scan_open"), None);
        assert_eq!(
            VerifyKind::names(),
            "scan_closed, no_external_for, no_external_success_for, window_closed"
        );
    }

    #[test]
    fn durations_parse_and_format() {
        assert_eq!(parse_duration("10m"), Ok(600));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        assert_eq!(format_duration(5400), "1h30m");
        assert_eq!(format_duration(600), "10m");
        assert_eq!(format_duration(3661), "1h1m1s");
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(parse_duration("").unwrap_err().contains("empty"));
        assert!(parse_duration("10").unwrap_err().contains("without a unit"));
        assert!(parse_duration("m").unwrap_err().contains("without a number"));
        assert!(parse_duration("10 minutes").unwrap_err().contains("unexpected"));
        assert!(parse_duration("0s").unwrap_err().contains("longer than zero"));
        assert!(parse_duration("31d").unwrap_err().contains("30 days"));
        assert!(parse_duration("99999999999999999999s").unwrap_err().contains("too large"));
    }
}
