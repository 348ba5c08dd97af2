//! Target identity shared by every scanner parser: IP addresses, hostnames and ports.
//!
//! Invariants (fixed by the scanner-ingestion issue, relied on by the correlator): an address is
//! normalized (IPv6 compressed and lower-case through `IpAddr`'s `Display`, IPv4-mapped IPv6
//! turned into IPv4, brackets, ports and a trailing dot stripped); a hostname is lower-case
//! without a trailing dot; a port comes from the record, else from the URL scheme (https → 443,
//! http → 80).

use std::net::IpAddr;

use crate::model::Transport;

/// Where a scanner said it probed: any of the three parts may be unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    pub address: Option<IpAddr>,
    /// Lower-case; empty when unknown or when the host part was an IP.
    pub hostname: String,
    /// An explicit port (`host:8443`, `https://h:8443/`).
    pub port: Option<u16>,
    /// The port implied by a URL scheme when no explicit port was written.
    pub scheme_port: Option<u16>,
}

impl Target {
    /// The explicit port, else the scheme's default port.
    #[must_use]
    pub fn effective_port(&self) -> Option<u16> {
        self.port.or(self.scheme_port)
    }
}

/// Parse an IP address as scanners write it: `10.0.0.1`, `10.10.10.10.` (nuclei), `[::1]`,
/// `2a03:0000:10ff::1`, `fe80::1%eth0` (the zone is dropped).
#[must_use]
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let text = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
    let text = text.strip_suffix('.').unwrap_or(text);
    let text = text.split_once('%').map_or(text, |(addr, _zone)| addr);
    text.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// Lower-case a hostname and drop a trailing root dot; empty stays empty.
#[must_use]
pub fn normalize_hostname(text: &str) -> String {
    let text = text.trim();
    let text = text.strip_suffix('.').unwrap_or(text);
    text.to_ascii_lowercase()
}

/// The default port of a URL scheme (only the two that matter for an exposed HTTP API).
#[must_use]
pub fn scheme_port(scheme: &str) -> Option<u16> {
    if scheme.eq_ignore_ascii_case("https") {
        Some(443)
    } else if scheme.eq_ignore_ascii_case("http") {
        Some(80)
    } else {
        None
    }
}

/// Split any of `https://host:port/path?q`, `host:port`, `[v6]:port`, `v6`, `ip`, `host` into
/// a [`Target`]. Never fails: unparsable parts are left unknown.
#[must_use]
pub fn parse_target(text: &str) -> Target {
    let text = text.trim();
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, text),
    };
    // Authority ends at the first '/', '?' or '#'.
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Drop userinfo.
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let (host, port) = split_host_port(authority);
    let mut target =
        Target { scheme_port: scheme.and_then(scheme_port), port, ..Target::default() };
    if let Some(ip) = parse_ip(host) {
        target.address = Some(ip);
    } else if !host.is_empty() {
        target.hostname = normalize_hostname(host);
    }
    target
}

/// `host:port` → (`host`, port); `[v6]:port` → (`v6`, port); a bare IPv6 has no port.
fn split_host_port(authority: &str) -> (&str, Option<u16>) {
    if let Some(rest) = authority.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (rest, None),
        };
    }
    match authority.rsplit_once(':') {
        // More than one ':' without brackets: a bare IPv6 address.
        Some((host, _)) if host.contains(':') => (authority, None),
        Some((host, port)) => match port.parse::<u16>() {
            Ok(port) => (host, Some(port)),
            Err(_) => (host, None),
        },
        None => (authority, None),
    }
}

/// A port list as scanners summarise it: `1-3,443,T:8080`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortList {
    /// Every port, expanded (at most [`MAX_EXPANDED_PORTS`]).
    Ports(Vec<u16>),
    /// More ports than we are willing to invent one observation each for.
    TooMany(u64),
}

/// Above this many ports a down host is recorded as one host-level observation plus a note,
/// instead of one `Unreachable` observation per port.
pub const MAX_EXPANDED_PORTS: u64 = 1024;

/// Expand nmap's `scaninfo@services` / `# Ports scanned: TCP(n;list)` lists. Protocol prefixes
/// (`T:`, `U:`) are ignored. `Err` names the first element that is not a port or range.
pub fn expand_ports(list: &str) -> Result<PortList, String> {
    let mut ranges = Vec::new();
    let mut total: u64 = 0;
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let item = item.split_once(':').map_or(item, |(_, ports)| ports);
        let (lo, hi) = match item.split_once('-') {
            Some((lo, hi)) => (lo.trim().parse::<u16>(), hi.trim().parse::<u16>()),
            None => (item.parse::<u16>(), item.parse::<u16>()),
        };
        match (lo, hi) {
            (Ok(lo), Ok(hi)) if lo <= hi => {
                total += u64::from(hi - lo) + 1;
                ranges.push((lo, hi));
            }
            _ => return Err(format!("`{item}` is not a port or port range")),
        }
    }
    if total > MAX_EXPANDED_PORTS {
        return Ok(PortList::TooMany(total));
    }
    let mut ports: Vec<u16> = ranges.into_iter().flat_map(|(lo, hi)| lo..=hi).collect();
    ports.sort_unstable();
    ports.dedup();
    Ok(PortList::Ports(ports))
}

/// The (transport, port) pairs a scan covered, from its per-protocol port lists (nmap
/// `scaninfo@services`, `# Ports scanned:`), in list order. `ports` is `None` when the lists
/// name no port or more than [`MAX_EXPANDED_PORTS`] in total (a down host then stands for
/// "every scanned port" without listing them); `errors` describe list items that are not ports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Covered {
    pub ports: Option<Vec<(Transport, u16)>>,
    pub errors: Vec<String>,
}

#[must_use]
pub fn covered_ports(lists: &[(Transport, String)]) -> Covered {
    let mut covered = Covered::default();
    let mut all = Vec::new();
    let mut too_many = false;
    for (transport, list) in lists {
        match expand_ports(list) {
            Ok(PortList::Ports(ports)) => all.extend(ports.into_iter().map(|p| (*transport, p))),
            Ok(PortList::TooMany(_)) => too_many = true,
            Err(reason) => covered.errors.push(reason),
        }
    }
    if !too_many && !all.is_empty() && all.len() as u64 <= MAX_EXPANDED_PORTS {
        covered.ports = Some(all);
    }
    covered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips_are_normalized() {
        assert_eq!(parse_ip("10.10.10.10.").unwrap().to_string(), "10.10.10.10");
        assert_eq!(parse_ip("[2A03:0000:10FF::1]").unwrap().to_string(), "2a03:0:10ff::1");
        assert_eq!(parse_ip("::ffff:192.0.2.1").unwrap().to_string(), "192.0.2.1");
        assert_eq!(parse_ip("fe80::1%eth0").unwrap().to_string(), "fe80::1");
        assert_eq!(parse_ip("example.com"), None);
    }

    #[test]
    fn targets_split_urls_and_host_ports() {
        let t = parse_target("https://GW.Example.net/v1/models");
        assert_eq!(
            (t.hostname.as_str(), t.port, t.scheme_port),
            ("gw.example.net", None, Some(443))
        );
        let t = parse_target("nuclei-example.com:22");
        assert_eq!((t.hostname.as_str(), t.effective_port()), ("nuclei-example.com", Some(22)));
        let t = parse_target("http://[2001:db8::1]:8080/x");
        assert_eq!(t.address.unwrap().to_string(), "2001:db8::1");
        assert_eq!(t.effective_port(), Some(8080));
        let t = parse_target("2001:db8::1");
        assert_eq!((t.address.unwrap().to_string(), t.port), ("2001:db8::1".to_string(), None));
        let t = parse_target("http://127.0.0.1:8080/WebGoat");
        assert_eq!((t.address.unwrap().to_string(), t.port), ("127.0.0.1".to_string(), Some(8080)));
    }

    #[test]
    fn port_lists_expand_or_summarise() {
        assert_eq!(expand_ports("1-3,443,T:8080"), Ok(PortList::Ports(vec![1, 2, 3, 443, 8080])));
        assert_eq!(expand_ports("1-65535"), Ok(PortList::TooMany(65535)));
        assert!(expand_ports("1,x").unwrap_err().contains("`x`"));
        assert!(expand_ports("9-3").is_err());
    }

    #[test]
    fn coverage_limit_applies_to_all_protocols_together() {
        let tcp = (Transport::Tcp, "1-600".to_owned());
        let udp = (Transport::Udp, "1-600".to_owned());
        assert_eq!(covered_ports(std::slice::from_ref(&tcp)).ports.map(|p| p.len()), Some(600));
        assert_eq!(covered_ports(&[tcp, udp]).ports, None);
        let bad = covered_ports(&[(Transport::Tcp, "22,x".to_owned())]);
        assert_eq!((bad.ports, bad.errors.len()), (None, 1));
    }
}
