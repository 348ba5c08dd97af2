//! A prefix table for many networks: every prefix containing an address, most specific first
//! (the scanner ranges of `correlate` and the range lists of `enrich`).
//!
//! Prefixes are grouped by length; each group is a sorted array of network keys. A lookup
//! masks the address once per length present and binary-searches that group, so it costs
//! (lengths present) × log(prefixes of that length): a published cloud list of ~10 000
//! prefixes has a dozen lengths, about a hundred comparisons per lookup, and the table is
//! two flat arrays per length (no per-prefix allocation).

use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::clients::canonical;

/// One prefix length's networks: (masked network, value index), sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Level<K> {
    len: u8,
    entries: Vec<(K, u32)>,
}

/// Prefixes → values. Build with [`PrefixMap::insert`], then [`PrefixMap::freeze`] once;
/// lookups on an unfrozen map see nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefixMap<T> {
    v4: Vec<Level<u32>>,
    v6: Vec<Level<u128>>,
    values: Vec<T>,
    frozen: bool,
}

impl<T> Default for PrefixMap<T> {
    fn default() -> Self {
        PrefixMap { v4: Vec::new(), v6: Vec::new(), values: Vec::new(), frozen: true }
    }
}

fn mask4(bits: u32, len: u8) -> u32 {
    if len == 0 { 0 } else { bits & (u32::MAX << (32 - u32::from(len))) }
}

fn mask6(bits: u128, len: u8) -> u128 {
    if len == 0 { 0 } else { bits & (u128::MAX << (128 - u32::from(len))) }
}

fn level_mut<K>(levels: &mut Vec<Level<K>>, len: u8) -> &mut Level<K> {
    if let Some(i) = levels.iter().position(|l| l.len == len) {
        return &mut levels[i];
    }
    levels.push(Level { len, entries: Vec::new() });
    let last = levels.len() - 1;
    &mut levels[last]
}

impl<T> PrefixMap<T> {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a prefix (IPv4-mapped IPv6 prefixes of length ≥ 96 count as IPv4).
    pub fn insert(&mut self, net: IpNet, value: T) {
        let id = self.values.len() as u32;
        self.values.push(value);
        self.frozen = false;
        match net {
            IpNet::V4(n) => {
                let len = n.prefix_len();
                level_mut(&mut self.v4, len).entries.push((mask4(u32::from(n.addr()), len), id));
            }
            IpNet::V6(n) => {
                let len = n.prefix_len();
                if let (Some(v4), true) = (n.addr().to_ipv4_mapped(), len >= 96) {
                    let len4 = len - 96;
                    let key = mask4(u32::from(v4), len4);
                    level_mut(&mut self.v4, len4).entries.push((key, id));
                } else {
                    level_mut(&mut self.v6, len)
                        .entries
                        .push((mask6(u128::from(n.addr()), len), id));
                }
            }
        }
    }

    /// Sort for lookups: longest prefixes first, each level by key (then insertion order).
    pub fn freeze(&mut self) {
        self.v4.sort_by_key(|l| std::cmp::Reverse(l.len));
        self.v6.sort_by_key(|l| std::cmp::Reverse(l.len));
        for l in &mut self.v4 {
            l.entries.sort_unstable();
        }
        for l in &mut self.v6 {
            l.entries.sort_unstable();
        }
        self.frozen = true;
    }

    /// Number of prefixes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Every value whose prefix contains `ip`, most specific prefix first (equal prefixes in
    /// insertion order).
    #[must_use]
    pub fn matches(&self, ip: IpAddr) -> Vec<&T> {
        let mut out = Vec::new();
        if !self.frozen {
            debug_assert!(false, "PrefixMap looked up before freeze()");
            return out;
        }
        match canonical(ip) {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                for l in &self.v4 {
                    push_equal(&l.entries, mask4(bits, l.len), &self.values, &mut out);
                }
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                for l in &self.v6 {
                    push_equal(&l.entries, mask6(bits, l.len), &self.values, &mut out);
                }
            }
        }
        out
    }

    /// `true` when some prefix contains `ip`.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        !self.matches(ip).is_empty()
    }
}

fn push_equal<'a, K: Ord + Copy, T>(
    entries: &[(K, u32)],
    key: K,
    values: &'a [T],
    out: &mut Vec<&'a T>,
) {
    let start = entries.partition_point(|&(k, _)| k < key);
    for &(k, id) in &entries[start..] {
        if k != key {
            break;
        }
        out.push(&values[id as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(nets: &[&str]) -> PrefixMap<String> {
        let mut m = PrefixMap::new();
        for n in nets {
            m.insert(n.parse().unwrap(), (*n).to_string());
        }
        m.freeze();
        m
    }

    fn hits(m: &PrefixMap<String>, ip: &str) -> Vec<String> {
        m.matches(ip.parse().unwrap()).into_iter().cloned().collect()
    }

    #[test]
    fn most_specific_first_and_both_families() {
        let m = map(&[
            "0.0.0.0/0",
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.1.2.3/32",
            "2001:db8::/32",
            "2001:db8:1::/48",
            "::ffff:192.0.2.0/120",
        ]);
        assert_eq!(hits(&m, "10.1.2.3"), ["10.1.2.3/32", "10.1.0.0/16", "10.0.0.0/8", "0.0.0.0/0"]);
        assert_eq!(hits(&m, "10.2.0.1"), ["10.0.0.0/8", "0.0.0.0/0"]);
        assert_eq!(hits(&m, "11.0.0.1"), ["0.0.0.0/0"]);
        assert_eq!(hits(&m, "2001:db8:1::5"), ["2001:db8:1::/48", "2001:db8::/32"]);
        assert!(hits(&m, "2001:db9::1").is_empty());
        // IPv4-mapped addresses and prefixes are IPv4.
        assert_eq!(hits(&m, "::ffff:10.1.2.3").len(), 4);
        assert_eq!(hits(&m, "192.0.2.77"), ["::ffff:192.0.2.0/120", "0.0.0.0/0"]);
        assert_eq!(m.len(), 7);
    }

    #[test]
    fn duplicate_prefixes_all_match_in_insertion_order() {
        let mut m = PrefixMap::new();
        m.insert("52.95.0.0/16".parse().unwrap(), "AMAZON");
        m.insert("52.95.0.0/16".parse().unwrap(), "EC2");
        m.insert("52.94.0.0/16".parse().unwrap(), "S3");
        m.freeze();
        assert_eq!(m.matches("52.95.1.1".parse().unwrap()), [&"AMAZON", &"EC2"]);
        assert!(!m.contains("52.96.0.1".parse().unwrap()));
    }

    #[test]
    fn agrees_with_a_linear_scan() {
        // A deterministic pseudo-random set of prefixes, checked against `IpNet::contains`.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut nets = Vec::new();
        for _ in 0..2000 {
            let bits = next() as u32 & 0xF0FF_FFFF;
            let len = (next() % 25) as u8 + 8;
            nets.push(IpNet::V4(ipnet::Ipv4Net::new(bits.into(), len).unwrap().trunc()));
        }
        let mut m = PrefixMap::new();
        for (i, n) in nets.iter().enumerate() {
            m.insert(*n, i);
        }
        m.freeze();
        for _ in 0..5000 {
            let ip = IpAddr::V4((next() as u32 & 0xF0FF_FFFF).into());
            let mut want: Vec<usize> =
                nets.iter().enumerate().filter(|(_, n)| n.contains(&ip)).map(|(i, _)| i).collect();
            let mut got: Vec<usize> = m.matches(ip).into_iter().copied().collect();
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "{ip}");
        }
    }
}
