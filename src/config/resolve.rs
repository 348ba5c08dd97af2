//! Validation and layering of the raw file and CLI flags into a `CaseConfig`.

use std::path::{Path, PathBuf};

use super::CaseConfig;

/// A configuration problem. Every variant names the file, line and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}:{line}: {message}")]
    Invalid { path: PathBuf, line: usize, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
}

/// The quick flags that cover the no-config case (and add to a config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuickFlags {
    /// `[SERVICE=]GLOB`; the service defaults to the file stem.
    pub access: Vec<String>,
    pub scan: Vec<String>,
    pub internal: Vec<String>,
    pub trusted_proxy: Vec<String>,
    /// `--format` for every access source given by flag.
    pub format: Option<String>,
}

/// Load and validate a config file.
pub fn load(path: &Path) -> Result<CaseConfig, ConfigError> {
    let _ = path;
    todo!("config loading: issue 4")
}

/// Apply quick flags on top of an optional config (CLI > file > default).
pub fn resolve_flags(
    base: Option<CaseConfig>,
    flags: &QuickFlags,
    cwd: &Path,
) -> Result<CaseConfig, ConfigError> {
    let _ = (base, flags, cwd);
    todo!("config flags: issue 4")
}
