//! One port-state observation from a scanner (nmap, masscan, nuclei, httpx, naabu).

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::SourceId;

/// What the scan saw for one target port.
///
/// Mapping from tool states: nmap `open` → `Open`, `closed` → `Closed`, `filtered` →
/// `Filtered`; nmap `open|filtered`, `closed|filtered` and `unfiltered` → `Ambiguous` (nmap
/// could not tell; the scanner's word is kept in [`ScanObservation::scanner_state`]); an nmap
/// host down → one `Unreachable` observation without a port that stands for every port the scan
/// covered ([`ScanObservation::covered`]); masscan, naabu records → `Open` (masscan ICMP/ARP
/// replies are host liveness, never a port: no observation); nuclei `http`/`ssl`/`network`
/// results with a port → `Open`, nuclei `dns` results and results without a port →
/// `HostFinding`; httpx with a status → `Open`, httpx `failed: true` → `Unreachable`.
///
/// Evidence: `Open` is positive; `Closed`, `Filtered`, `Unreachable` are negative;
/// `Ambiguous` and `HostFinding` are neither (counted and shown, never opening, splitting or
/// closing a window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortState {
    Open,
    Closed,
    Filtered,
    Unreachable,
    /// The scanner could not tell (nmap `open|filtered`, `closed|filtered`, `unfiltered`).
    Ambiguous,
    /// A finding about a host, not a port (nuclei `dns`, or a finding whose port is unknown).
    HostFinding,
}

impl PortState {
    /// Positive exposure evidence (the port answered).
    #[must_use]
    pub fn is_open(self) -> bool {
        matches!(self, PortState::Open)
    }

    /// Negative exposure evidence (the port or host did not answer).
    #[must_use]
    pub fn is_negative(self) -> bool {
        matches!(self, PortState::Closed | PortState::Filtered | PortState::Unreachable)
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
            PortState::Unreachable => "unreachable",
            PortState::Ambiguous => "ambiguous",
            PortState::HostFinding => "host_finding",
        }
    }

    /// What to show for this state: the scanner's own word when it kept one
    /// (`open|filtered`), else [`PortState::as_str`].
    #[must_use]
    pub fn label(self, scanner_state: Option<ScannerState>) -> &'static str {
        scanner_state.map_or(self.as_str(), ScannerState::as_str)
    }
}

/// The scanner's own word for a state leakline maps to [`PortState::Ambiguous`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ScannerState {
    #[serde(rename = "open|filtered")]
    OpenFiltered,
    #[serde(rename = "closed|filtered")]
    ClosedFiltered,
    #[serde(rename = "unfiltered")]
    Unfiltered,
}

impl ScannerState {
    /// nmap's word, as written in `-oX` and `-oG`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ScannerState::OpenFiltered => "open|filtered",
            ScannerState::ClosedFiltered => "closed|filtered",
            ScannerState::Unfiltered => "unfiltered",
        }
    }

    /// nmap's word → (state, word kept); `None` for a word with no exposure meaning.
    #[must_use]
    pub fn map_nmap(word: &str) -> Option<(PortState, Option<ScannerState>)> {
        Some(match word {
            "open" => (PortState::Open, None),
            "closed" => (PortState::Closed, None),
            "filtered" => (PortState::Filtered, None),
            "open|filtered" => (PortState::Ambiguous, Some(ScannerState::OpenFiltered)),
            "closed|filtered" => (PortState::Ambiguous, Some(ScannerState::ClosedFiltered)),
            "unfiltered" => (PortState::Ambiguous, Some(ScannerState::Unfiltered)),
            _ => return None,
        })
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

/// One range of ports a scan covered (`first..=last` on one transport).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortRange {
    pub transport: Transport,
    pub first: u16,
    pub last: u16,
}

/// The ports one scan run covered, as sorted ranges shared (`Arc`) by every observation of
/// the run that needs them (nmap down hosts): a down host costs one pointer, not one
/// observation per port, whatever the port list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoveredPorts(pub Arc<[PortRange]>);

impl CoveredPorts {
    /// Whether the scan covered `port` (on any transport: service addresses name no transport).
    #[must_use]
    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|r| r.first <= port && port <= r.last)
    }

    /// Number of (transport, port) pairs covered.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.0.iter().map(|r| u64::from(r.last - r.first) + 1).sum()
    }
}

impl Serialize for CoveredPorts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.as_ref().serialize(s)
    }
}

impl<'de> Deserialize<'de> for CoveredPorts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<PortRange>::deserialize(d).map(|v| CoveredPorts(v.into()))
    }
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
    /// Target port; `None` for host-level observations (a down host, a `HostFinding`).
    pub port: Option<u16>,
    pub transport: Transport,
    pub state: PortState,
    /// The scanner's own word when the state is `Ambiguous` (`open|filtered`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanner_state: Option<ScannerState>,
    /// A down host (`Unreachable`, no port): the ports the scan covered, for which it is
    /// negative evidence. `None` when the scan named no port list (then only addresses without
    /// a port match it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covered: Option<CoveredPorts>,
    pub tool: ScanTool,
    /// Tool-specific details: service/product/version, nuclei template and severity, httpx
    /// title and status, masscan banner. Attacker-influenced (banners, titles): sanitize on display.
    pub details: String,
}

/// Where a scan looked from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vantage {
    /// Scans from outside: exposure evidence.
    External,
    /// Scans from inside: shown, never exposure evidence.
    Internal,
}
