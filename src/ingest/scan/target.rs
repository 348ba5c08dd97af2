//! Target identity shared by every scanner parser: IP addresses, hostnames and ports.
//!
//! Invariants (fixed by the scanner-ingestion issue, relied on by the correlator): an address is
//! normalized (IPv6 compressed and lower-case through `IpAddr`'s `Display`, IPv4-mapped IPv6
//! turned into IPv4, brackets, ports and a trailing dot stripped); a hostname is lower-case
//! without a trailing dot; a port comes from the record, else from the URL scheme (https → 443,
//! http → 80).

use std::net::IpAddr;

use crate::model::{CoveredPorts, PortRange, Transport};

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

/// Parse nmap's `scaninfo@services` / `# Ports scanned: TCP(n;list)` lists (`1-3,443,T:8080`)
/// into sorted, merged ranges. Protocol prefixes (`T:`, `U:`) are ignored: the caller knows the
/// list's protocol. `Err` names the first element that is not a port or range.
pub fn port_ranges(list: &str) -> Result<Vec<(u16, u16)>, String> {
    let mut ranges = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let item = item.split_once(':').map_or(item, |(_, ports)| ports);
        let (lo, hi) = match item.split_once('-') {
            Some((lo, hi)) => (lo.trim().parse::<u16>(), hi.trim().parse::<u16>()),
            None => (item.parse::<u16>(), item.parse::<u16>()),
        };
        match (lo, hi) {
            (Ok(lo), Ok(hi)) if lo <= hi => ranges.push((lo, hi)),
            _ => return Err(format!("`{item}` is not a port or port range")),
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(prev) if u32::from(lo) <= u32::from(prev.1) + 1 => prev.1 = prev.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    Ok(merged)
}

/// The per-protocol port lists of an nmap command line's `-p` option (`-p 22,80`, `-p22`,
/// `-p U:53,T:21-25`, `-p-` for every port), for scans whose output has no port list.
/// `None` when the command line has no `-p`.
#[must_use]
pub fn ports_from_args(args: &str) -> Option<Vec<(Transport, String)>> {
    let mut words = args.split_whitespace();
    let mut list = None;
    while let Some(word) = words.next() {
        if word == "-p" {
            list = words.next();
        } else if let Some(rest) = word.strip_prefix("-p").filter(|r| !r.is_empty()) {
            // `-p22`, `-p-`; not `-Pn` (capital) or other `-p…` long options.
            if rest == "-" || rest.starts_with(|c: char| c.is_ascii_digit() || "TUS".contains(c)) {
                list = Some(rest);
            }
        }
    }
    let list = list?;
    if list == "-" {
        return Some(vec![(Transport::Tcp, "1-65535".to_owned())]);
    }
    let mut lists: Vec<(Transport, String)> = Vec::new();
    let mut current = Transport::Tcp;
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let item = match item.split_once(':') {
            Some((proto, ports)) => {
                current = match proto {
                    "U" => Transport::Udp,
                    "S" => Transport::Sctp,
                    _ => Transport::Tcp,
                };
                ports
            }
            None => item,
        };
        match lists.iter_mut().find(|(t, _)| *t == current) {
            Some((_, l)) => {
                l.push(',');
                l.push_str(item);
            }
            None => lists.push((current, item.to_owned())),
        }
    }
    Some(lists)
}

/// The ports a scan covered, from its per-protocol port lists (nmap `scaninfo@services`,
/// `# Ports scanned:`, or the command line's `-p`), as shared ranges. `ports` is `None` when
/// the lists name no port; `errors` describe list items that are not ports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Covered {
    pub ports: Option<CoveredPorts>,
    pub errors: Vec<String>,
}

#[must_use]
pub fn covered_ports(lists: &[(Transport, String)]) -> Covered {
    let mut covered = Covered::default();
    let mut all = Vec::new();
    for (transport, list) in lists {
        match port_ranges(list) {
            Ok(ranges) => all.extend(ranges.into_iter().map(|(first, last)| PortRange {
                transport: *transport,
                first,
                last,
            })),
            Err(reason) => covered.errors.push(reason),
        }
    }
    if !all.is_empty() {
        covered.ports = Some(CoveredPorts(all.into()));
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
        assert_eq!((t.hostname.as_str(), t.port), ("nuclei-example.com", Some(22)));
        let t = parse_target("http://[2001:db8::1]:8080/x");
        assert_eq!(t.address.unwrap().to_string(), "2001:db8::1");
        assert_eq!(t.port, Some(8080));
        let t = parse_target("2001:db8::1");
        assert_eq!((t.address.unwrap().to_string(), t.port), ("2001:db8::1".to_string(), None));
        let t = parse_target("http://127.0.0.1:8080/WebGoat");
        assert_eq!((t.address.unwrap().to_string(), t.port), ("127.0.0.1".to_string(), Some(8080)));
    }

    #[test]
    fn port_lists_become_merged_ranges() {
        assert_eq!(port_ranges("1-3,443,T:8080,2-5"), Ok(vec![(1, 5), (443, 443), (8080, 8080)]));
        assert_eq!(port_ranges("1-65535"), Ok(vec![(1, 65535)]));
        assert!(port_ranges("1,x").unwrap_err().contains("`x`"));
        assert!(port_ranges("9-3").is_err());
        assert!(port_ranges("99999").is_err());
    }

    #[test]
    fn command_line_port_lists() {
        assert_eq!(ports_from_args("nmap -v -Pn 10.0.0.0/24"), None);
        assert_eq!(
            ports_from_args("nmap -p 22,80 -oX - 10.0.0.1"),
            Some(vec![(Transport::Tcp, "22,80".to_owned())])
        );
        assert_eq!(
            ports_from_args("nmap -sU -sS -pU:53,T:21-25,80 h"),
            Some(vec![(Transport::Udp, "53".to_owned()), (Transport::Tcp, "21-25,80".to_owned())])
        );
        assert_eq!(ports_from_args("nmap -p- h"), Some(vec![(Transport::Tcp, "1-65535".into())]));
    }

    #[test]
    fn coverage_is_ranges_over_all_protocols() {
        let tcp = (Transport::Tcp, "1-600".to_owned());
        let udp = (Transport::Udp, "53,1-600".to_owned());
        let covered = covered_ports(&[tcp, udp]).ports.unwrap();
        assert_eq!((covered.0.len(), covered.count()), (2, 1200));
        assert!(covered.contains(600) && !covered.contains(601));
        assert_eq!(
            covered_ports(&[(Transport::Tcp, "1-65535".into())]).ports.unwrap().count(),
            65535
        );
        let bad = covered_ports(&[(Transport::Tcp, "22,x".to_owned())]);
        assert_eq!((bad.ports, bad.errors.len()), (None, 1));
    }
}
