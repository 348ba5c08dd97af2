//! Which clients are ours: the `internal` and `allow` networks of a case, as a filter that
//! both `ingest` (batch parsers skip the strings of requests that are only counted) and
//! `correlate` (which drops our traffic from the exposure evidence) ask.
//!
//! It lives here, with the plain data, so that `ingest` need not depend on `correlate`.

use std::net::IpAddr;

use ipnet::IpNet;

/// A set of networks whose clients are ours. Cheap to clone, so batch workers can drop
/// internal traffic before it reaches the correlator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientFilter {
    /// IPv4 networks as (network bits, mask): the common case, tested without `ipnet`'s
    /// generic path (this runs for every line of every log).
    v4: Vec<(u32, u32)>,
    /// IPv6 networks.
    v6: Vec<ipnet::Ipv6Net>,
}

impl ClientFilter {
    /// A filter whose clients in `networks` are ours (a case passes its `internal` and
    /// `allow` lists: `CaseConfig::client_filter`).
    #[must_use]
    pub fn from_networks<'a>(networks: impl IntoIterator<Item = &'a IpNet>) -> Self {
        let mut filter = ClientFilter::default();
        for net in networks {
            match net {
                IpNet::V4(n) => {
                    let mask = u32::from(n.netmask());
                    filter.v4.push((u32::from(n.network()) & mask, mask));
                }
                IpNet::V6(n) => filter.v6.push(*n),
            }
        }
        filter
    }

    /// External = in none of the networks (IPv4-mapped IPv6 counts as its IPv4 address).
    #[must_use]
    pub fn is_external(&self, ip: IpAddr) -> bool {
        match canonical(ip) {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                !self.v4.iter().any(|&(net, mask)| bits & mask == net)
            }
            IpAddr::V6(v6) => !self.v6.iter().any(|n| n.contains(&v6)),
        }
    }
}

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is treated as the IPv4 address it carries.
#[must_use]
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Parse a CIDR or a bare address (taken as a single host).
#[must_use]
pub fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>().ok().or_else(|| s.parse::<std::net::IpAddr>().ok().map(IpNet::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_networks_of_both_families() {
        let nets: Vec<IpNet> = ["10.0.0.0/8", "192.168.1.7/32", "fd00::/8"]
            .into_iter()
            .chain(["0.0.0.0/32", "203.0.113.128/25"])
            .map(|s| s.parse().unwrap())
            .collect();
        let f = ClientFilter::from_networks(&nets);
        let external = |s: &str| f.is_external(s.parse().unwrap());
        for ours in ["10.0.0.0", "10.255.255.255", "192.168.1.7", "::ffff:10.1.2.3", "fd12::1"] {
            assert!(!external(ours), "{ours}");
        }
        for ours in ["0.0.0.0", "203.0.113.128", "203.0.113.255"] {
            assert!(!external(ours), "{ours}");
        }
        for theirs in
            ["11.0.0.1", "9.255.255.255", "192.168.1.8", "203.0.113.127", "fe80::1", "::1"]
        {
            assert!(external(theirs), "{theirs}");
        }
        let everything: Vec<IpNet> = vec!["0.0.0.0/0".parse().unwrap()];
        let f = ClientFilter::from_networks(&everything);
        assert!(!f.is_external("8.8.8.8".parse().unwrap()));
        assert!(f.is_external("2001:db8::1".parse().unwrap()));
        assert!(ClientFilter::default().is_external("10.0.0.1".parse().unwrap()));
    }
}
