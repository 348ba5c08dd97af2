//! The case configuration (`leakline.toml`) and the quick CLI flags, resolved into one
//! validated `CaseConfig` (CLI > file > default).

pub mod file;
pub mod resolve;
pub mod sensitive;

use std::path::PathBuf;

use ipnet::IpNet;

use crate::ingest::access::{AccessFormat, FieldMap};
use crate::ingest::scan::ScanFormat;
use crate::model::ClientFilter;

pub use resolve::{
    ConfigError, DEFAULT_INTERNAL, QuickFlags, load, parse_net, parse_str, resolve_flags,
};
pub use sensitive::SensitivePath;

/// A fully resolved, validated case configuration. Paths are absolute (relative ones were
/// resolved against the config file's directory, or the working directory for CLI flags).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseConfig {
    /// The config file, when there is one.
    pub path: Option<PathBuf>,
    pub base_dir: PathBuf,
    pub name: String,
    /// Display time zone (default UTC). Also the zone for zone-less timestamps.
    pub timezone: chrono_tz::Tz,
    pub internal: Vec<IpNet>,
    pub trusted_proxies: Vec<IpNet>,
    pub allow: Vec<IpNet>,
    pub services: Vec<ServiceConfig>,
    pub scans: Vec<ScanSpec>,
    /// Extra scanner definitions (user file) on top of `assets/scanners.toml`.
    pub scanners: Vec<PathBuf>,
    /// Offline enrichment: MMDB databases and range files (`[enrich]`).
    pub enrich: EnrichConfig,
}

impl CaseConfig {
    /// Which clients are ours: those in `internal` or `allow`. Their requests are never
    /// exposure evidence (only counted per minute).
    #[must_use]
    pub fn client_filter(&self) -> ClientFilter {
        ClientFilter::from_networks(self.internal.iter().chain(&self.allow))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    pub name: String,
    /// How scanners see the service: `ip:port` or `host:port` (as written in the config).
    pub addresses: Vec<String>,
    pub access: Vec<AccessSpec>,
    /// Sensitive path rules (`sensitive = [{ path, label }]`), reported per window.
    pub sensitive: Vec<SensitivePath>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccessSpec {
    /// An absolute glob pattern, or `-` for stdin.
    pub pattern: String,
    /// Forced format; auto-detected when `None`.
    pub format: Option<AccessFormat>,
    pub fields: Option<FieldMap>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vantage {
    /// Scans from outside: exposure evidence.
    External,
    /// Scans from inside: shown, never exposure evidence.
    Internal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScanSpec {
    /// Absolute glob patterns.
    pub paths: Vec<String>,
    pub vantage: Vantage,
    pub format: Option<ScanFormat>,
}

/// `[enrich]`: offline databases that say who an address is (see `crate::enrich`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnrichConfig {
    /// MaxMind-format databases (absolute paths), in the order given: for each kind of
    /// data (ASN, country, city) the first database that has an answer gives it.
    pub mmdb: Vec<PathBuf>,
    pub ranges: Vec<RangeSpec>,
}

impl EnrichConfig {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.mmdb.is_empty() && self.ranges.is_empty()
    }
}

/// One range file: `"file"` or `{ path = "file", class = "scanner", name = "…" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeSpec {
    /// Absolute path.
    pub path: PathBuf,
    /// List name overriding the detected one (provider, or the file stem).
    pub name: Option<String>,
    /// `class = "scanner"`: members are internet scanners (alongside the user-agent rules).
    pub scanner: bool,
}
