//! Matching scan targets to services by their configured `addresses`.
//!
//! An address (`model::address::AddressSpec`, parsed once by `config`) is `ip:port`,
//! `host:port`, `[ipv6]:port`, or a bare IP / host name (any port).
//! An observation matches when its IP equals the address's IP, or its host name equals the
//! address's host name (case-insensitive), and the ports agree. A host-level observation
//! (no port) is matched with [`AddressSpec::matches_host_level`]: a down host carries the ports
//! its scan covered and matches the addresses of that host whose port is covered (and those
//! without a port); a `HostFinding` matches every address of its host (it is shown there,
//! never evidence).

use std::net::IpAddr;

use crate::model::{CoveredPorts, PortState, ScanObservation};

pub use crate::model::address::{AddressHost, AddressSpec};

/// Matching lives with the correlator; the type and its parser are in `model::address`.
impl AddressSpec {
    /// Does a scan observation target this address?
    #[must_use]
    pub fn matches(&self, obs: &ScanObservation) -> bool {
        let port_ok = match (self.port, obs.port) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        self.host_matches(obs) && port_ok
    }

    /// Does a host-level observation (no port) apply to this address? An `Unreachable` one
    /// (a down host) applies to an address with a port only when its scan covered that port;
    /// any host-level observation applies to an address without a port and, for
    /// `HostFinding`s, to every address of the host.
    #[must_use]
    pub fn matches_host_level(&self, obs: &ScanObservation) -> bool {
        self.host_matches(obs) && host_level_covers(obs.state, obs.covered.as_ref(), self.port)
    }

    fn host_matches(&self, obs: &ScanObservation) -> bool {
        match &self.host {
            AddressHost::Ip(ip) => obs.address == Some(*ip),
            AddressHost::Name(n) => {
                !obs.hostname.is_empty() && obs.hostname.eq_ignore_ascii_case(n)
            }
        }
    }
}

/// Whether a host-level observation in `state` covering `covered` applies to a target port
/// (`None`: an address without a port).
#[must_use]
pub fn host_level_covers(
    state: PortState,
    covered: Option<&CoveredPorts>,
    port: Option<u16>,
) -> bool {
    match (port, state) {
        (None, _) | (Some(_), PortState::HostFinding) => true,
        (Some(p), PortState::Unreachable) => covered.is_some_and(|c| c.contains(p)),
        (Some(_), _) => false,
    }
}

/// The host part of a scan target's name: the IP when known (IPv6 in brackets), else the
/// host name.
#[must_use]
pub fn host_name(obs: &ScanObservation) -> String {
    match obs.address {
        Some(IpAddr::V6(v6)) => format!("[{v6}]"),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        None if !obs.hostname.is_empty() => obs.hostname.clone(),
        None => "unknown-target".to_string(),
    }
}

/// The `host:port` name of a scan target that matches no configured service: the IP when
/// known (IPv6 in brackets), else the host name; `:port` when the observation has one.
#[must_use]
pub fn target_name(obs: &ScanObservation) -> String {
    let host = host_name(obs);
    match obs.port {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PortRange, ScanTool, SourceId, Transport};

    fn obs(addr: Option<&str>, host: &str, port: Option<u16>) -> ScanObservation {
        ScanObservation {
            time: chrono::DateTime::UNIX_EPOCH,
            source: SourceId(0),
            line: 1,
            address: addr.map(|a| a.parse().unwrap()),
            hostname: host.into(),
            port,
            transport: Transport::Tcp,
            state: PortState::Open,
            scanner_state: None,
            covered: None,
            tool: ScanTool::Nmap,
            details: String::new(),
        }
    }

    #[test]
    fn parses_and_matches_shapes() {
        let a = AddressSpec::parse("192.0.2.40:443").unwrap();
        assert!(a.matches(&obs(Some("192.0.2.40"), "", Some(443))));
        assert!(!a.matches(&obs(Some("192.0.2.40"), "", Some(80))));
        let down = |covered: Option<&[PortRange]>| ScanObservation {
            state: PortState::Unreachable,
            covered: covered.map(|c| CoveredPorts(c.into())),
            ..obs(Some("192.0.2.40"), "", None)
        };
        let range = |first, last| PortRange { transport: Transport::Tcp, first, last };
        assert!(a.matches_host_level(&down(Some(&[range(1, 1024)]))), "covered port");
        assert!(!a.matches_host_level(&down(Some(&[range(1, 100)]))), "port not covered");
        assert!(!a.matches_host_level(&down(None)), "no port list: no port-specific evidence");
        let bare = AddressSpec::parse("192.0.2.40").unwrap();
        assert!(bare.matches_host_level(&down(None)), "a bare address is the host");
        let finding = ScanObservation { state: PortState::HostFinding, ..down(None) };
        assert!(a.matches_host_level(&finding));
        let h = AddressSpec::parse("GW.example.net:443").unwrap();
        assert!(h.matches(&obs(None, "gw.example.net", Some(443))));
        let v6 = AddressSpec::parse("[2001:db8::1]:8443").unwrap();
        assert!(v6.matches(&obs(Some("2001:db8::1"), "", Some(8443))));
        assert!(AddressSpec::parse("a b:1").is_none());
        assert!(AddressSpec::parse("host:99999").is_none());
        assert_eq!(target_name(&obs(Some("2001:db8::1"), "", Some(443))), "[2001:db8::1]:443");
        assert_eq!(target_name(&obs(None, "x.example", None)), "x.example");
    }
}
