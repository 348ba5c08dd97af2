//! One port-state observation from a scanner (nmap, masscan, nuclei, httpx, naabu).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::SourceId;

/// What the scan saw for one target port.
///
/// Mapping from tool states (fixed by the scanner-ingestion issue): nmap `open` → `Open`,
/// `closed` → `Closed`, `filtered`/`open|filtered`/`closed|filtered` → `Filtered`, host down →
/// `Unreachable` for each scanned port; masscan, nuclei, naabu records → `Open`; httpx with a
/// status → `Open`, httpx `failed: true` → `Unreachable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortState {
    Open,
    Closed,
    Filtered,
    Unreachable,
}

impl PortState {
    /// Positive exposure evidence (the port answered).
    #[must_use]
    pub fn is_open(self) -> bool {
        matches!(self, PortState::Open)
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
            PortState::Unreachable => "unreachable",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanTool {
    Nmap,
    Masscan,
    Nuclei,
    Httpx,
    Naabu,
}

impl ScanTool {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ScanTool::Nmap => "nmap",
            ScanTool::Masscan => "masscan",
            ScanTool::Nuclei => "nuclei",
            ScanTool::Httpx => "httpx",
            ScanTool::Naabu => "naabu",
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    #[default]
    Tcp,
    Udp,
    Sctp,
    Ip,
}

/// A normalized scanner observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanObservation {
    /// Evidence time (UTC): nmap `host@endtime`, else `host@starttime`, else
    /// `runstats/finished@time`, else `nmaprun@start`; other tools: the record's own timestamp.
    pub time: DateTime<Utc>,
    pub source: SourceId,
    /// 1-based line (or record) number in the source, for evidence references.
    pub line: u64,
    /// Target IP (IPv6 normalized, no brackets or port), when known.
    pub address: Option<IpAddr>,
    /// Target hostname, lower-case, when known (empty otherwise).
    pub hostname: String,
    /// Target port; `None` only for host-level observations without a port list.
    pub port: Option<u16>,
    pub transport: Transport,
    pub state: PortState,
    pub tool: ScanTool,
    /// Tool-specific details: service/product/version, nuclei template and severity, httpx
    /// title and status, masscan banner. Attacker-influenced (banners, titles): sanitize on display.
    pub details: String,
}
