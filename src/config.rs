//! The case configuration (`leakline.toml`) and the quick CLI flags, resolved into one
//! validated `CaseConfig` (CLI > file > default).

pub(crate) mod file;
pub(crate) mod resolve;

use std::path::PathBuf;

use ipnet::IpNet;

use crate::correlate::classify::{ScannerDb, ScannerFileError};
use crate::correlate::{ServiceSetup, Setup};
use crate::ingest::access::{AccessFormat, FieldMap};
use crate::ingest::clickhouse::ClickHouseSpec;
use crate::ingest::scan::ScanFormat;
use crate::model::{ClientFilter, SourceKind};

pub use crate::model::Vantage;
pub use crate::model::address::AddressSpec;
pub use crate::model::clients::parse_net;
pub use crate::model::sensitive::SensitivePath;
pub use resolve::{ConfigError, DEFAULT_INTERNAL, QuickFlags, load, parse_str, resolve_flags};

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

    /// What the correlator needs of this case (it never sees the config itself).
    #[must_use]
    pub fn setup(&self) -> Setup {
        self.clone().into()
    }

    /// The built-in scanner list plus the user files of `scanners` (read here, in order).
    ///
    /// # Errors
    /// A file that cannot be read, or whose content is invalid (naming file and line).
    pub fn load_scanners(&self) -> Result<ScannerDb, ScannerFileError> {
        let mut db = ScannerDb::builtin();
        for path in &self.scanners {
            let text = std::fs::read_to_string(path)
                .map_err(|source| ScannerFileError::Io { path: path.clone(), source })?;
            db.add_str(&text, path)?;
        }
        Ok(db)
    }

    /// Every configured source pattern, in the order that fixes source ids (`batch` and
    /// `follow` both read this list): scan specs and their paths in config order, then
    /// services in config order with their access patterns in order. Each glob's matches are
    /// then sorted by the reader.
    #[must_use]
    pub fn sources(&self) -> Vec<SourceSpec> {
        let mut out = Vec::new();
        for scan in &self.scans {
            for path in &scan.paths {
                out.push(SourceSpec {
                    pattern: path.clone(),
                    kind: SourceKind::Scan,
                    service: String::new(),
                    vantage: scan.vantage,
                    access_format: None,
                    scan_format: scan.format,
                    fields: None,
                    clickhouse: None,
                });
            }
        }
        for service in &self.services {
            for access in &service.access {
                out.push(SourceSpec {
                    pattern: access.pattern.clone(),
                    kind: SourceKind::Access,
                    service: service.name.clone(),
                    vantage: Vantage::External,
                    access_format: access.format,
                    scan_format: None,
                    // A database source's rows arrive as JSON lines keyed by field name.
                    fields: match &access.clickhouse {
                        Some(ch) => Some(crate::ingest::clickhouse::identity_fields(ch)),
                        None => access.fields.clone(),
                    },
                    clickhouse: access.clickhouse.clone(),
                });
            }
        }
        out
    }
}

impl From<CaseConfig> for Setup {
    fn from(config: CaseConfig) -> Setup {
        Setup {
            filter: config.client_filter(),
            scan_patterns: config.scans.into_iter().flat_map(|s| s.paths).collect(),
            services: config
                .services
                .into_iter()
                .map(|s| ServiceSetup {
                    name: s.name,
                    addresses: s.addresses,
                    access_patterns: s.access.into_iter().map(|a| a.pattern).collect(),
                    sensitive: s.sensitive,
                })
                .collect(),
            name: config.name,
            timezone: config.timezone,
        }
    }
}

/// One configured source pattern and how to decode it (see [`CaseConfig::sources`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSpec {
    /// An absolute glob pattern, or `-` for stdin (or a database source's display name).
    pub pattern: String,
    pub kind: SourceKind,
    /// The service an access source feeds (empty for scans).
    pub service: String,
    /// `External` for access sources.
    pub vantage: Vantage,
    /// Forced access format; auto-detected when `None`.
    pub access_format: Option<AccessFormat>,
    /// Forced scan format; auto-detected when `None`.
    pub scan_format: Option<ScanFormat>,
    pub fields: Option<FieldMap>,
    /// Where the rows come from when not from files: a ClickHouse source (`pattern` is then
    /// its display name, `clickhouse:URL/TABLE`, and is no glob).
    pub clickhouse: Option<Box<ClickHouseSpec>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    pub name: String,
    /// How scanners see the service: `ip:port` or `host:port`, parsed once here (each keeps
    /// its text as written, for display).
    pub addresses: Vec<AddressSpec>,
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
    /// A ClickHouse source instead of files (`pattern` is then its display name,
    /// `clickhouse:URL/TABLE`, and is no glob).
    pub clickhouse: Option<Box<ClickHouseSpec>>,
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
