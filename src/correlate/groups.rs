//! Keyed aggregates of the actor ledger: every actor mapped to a group key (its network
//! prefix; the enrichment adds ASN, country…), with exact sums per group. Whatever the number
//! of actors, a snapshot carries the largest groups only, and their total count.
//!
//! A key is a [`GroupBy`]: a name, a function from actor id to a `u64` group value (`None`:
//! the actor is in no group of this key, e.g. no ASN known) and a function that names a
//! value. Adding a key is writing those two functions (see [`prefix`]) and listing the key
//! in `snapshot.rs` (`groups_of`); the Actors view's `g` and the reports show every key a
//! snapshot has.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::actors::{ActorState, Actors};
use super::intern::KeyedMap;
use super::windows::{TimeKey, time_of};
use crate::model::snapshot::{ActorGroup, ActorGroups};

/// The name of the network-prefix key.
pub const PREFIX: &str = "prefix";

/// A grouping key (see the module docs).
pub struct GroupBy<'a> {
    pub name: &'static str,
    pub value: Box<dyn Fn(u32) -> Option<u64> + 'a>,
    pub label: Box<dyn Fn(u64) -> String + 'a>,
}

const V6: u64 = 1 << 63;

/// Actors by network prefix: /24 for IPv4, /48 for IPv6.
#[must_use]
pub fn prefix(actors: &Actors) -> GroupBy<'_> {
    GroupBy {
        name: PREFIX,
        value: Box::new(|id| {
            let (v6, bits) = actors.ip_key(id);
            Some(if v6 { V6 | (bits >> 80) as u64 } else { (bits >> 8) as u64 })
        }),
        label: Box::new(|v| {
            if v & V6 == 0 {
                format!("{}/24", Ipv4Addr::from((v as u32) << 8))
            } else {
                format!("{}/48", Ipv6Addr::from(u128::from(v & !V6) << 80))
            }
        }),
    }
}

/// The names of the enrichment keys (issue 20): autonomous system, country, range list.
pub const ASN: &str = "asn";
pub const COUNTRY: &str = "country";
pub const LIST: &str = "list";

/// Every actor aggregated by network (ASN and organisation), country and range list, from
/// what the offline databases said about it (`e` holds every actor of the ledger). An actor
/// the databases say nothing about is in no group of that key; an actor in several lists
/// counts under the first (its most specific prefix).
#[must_use]
pub fn enrichment_groups(
    actors: &Actors,
    e: &crate::model::enrichment::Enrichments,
    limit: Option<usize>,
) -> Vec<ActorGroups> {
    let mut asn_labels: std::collections::HashMap<u64, String> = std::collections::HashMap::new();
    let mut country_labels: std::collections::HashMap<u64, String> =
        std::collections::HashMap::new();
    let mut lists: Vec<String> = Vec::new();
    for a in e.actors.values() {
        if let Some(n) = &a.asn {
            asn_labels.entry(u64::from(n.number)).or_insert_with(|| n.label());
        }
        if let Some(c) = &a.country {
            country_labels.entry(country_value(&c.iso)).or_insert_with(|| c.label());
        }
        if let Some(l) = a.lists.first() {
            if !lists.contains(&l.name) {
                lists.push(l.name.clone());
            }
        }
    }
    // Each actor's answer found once (not once per key).
    let answers: Vec<Option<&crate::model::enrichment::ActorEnrichment>> =
        (0..actors.len() as u32).map(|id| e.of(actors.ip(id))).collect();
    let of = |id: u32| answers.get(id as usize).copied().flatten();
    let keys = [
        GroupBy {
            name: ASN,
            value: Box::new(|id| of(id).and_then(|a| a.asn.as_ref()).map(|n| u64::from(n.number))),
            label: Box::new(|v| asn_labels.get(&v).cloned().unwrap_or_else(|| format!("AS{v}"))),
        },
        GroupBy {
            name: COUNTRY,
            value: Box::new(|id| {
                of(id).and_then(|a| a.country.as_ref()).map(|c| country_value(&c.iso))
            }),
            label: Box::new(|v| country_labels.get(&v).cloned().unwrap_or_default()),
        },
        GroupBy {
            name: LIST,
            value: Box::new(|id| {
                let first = of(id)?.lists.first()?;
                lists.iter().position(|n| *n == first.name).map(|i| i as u64)
            }),
            label: Box::new(|v| lists.get(v as usize).cloned().unwrap_or_default()),
        },
    ];
    keys.iter().map(|by| aggregate(actors, by, limit)).collect()
}

/// An ISO country code as a group value (its first 8 bytes).
fn country_value(iso: &str) -> u64 {
    let mut b = [0_u8; 8];
    for (d, s) in b.iter_mut().zip(iso.bytes()) {
        *d = s;
    }
    u64::from_be_bytes(b)
}

/// One group's sums while aggregating.
#[derive(Debug, Clone, Copy)]
struct Sums {
    clients: u64,
    requests: u64,
    successes: u64,
    bytes: u64,
    first: TimeKey,
    last: TimeKey,
}

impl Sums {
    /// Empty sums, its times set from the group's first actor.
    fn new(a: &ActorState) -> Sums {
        Sums {
            clients: 0,
            requests: 0,
            successes: 0,
            bytes: 0,
            first: a.first_seen(),
            last: a.last_seen(),
        }
    }
}

fn add(s: &mut Sums, a: &ActorState) {
    s.clients += 1;
    s.requests += a.requests;
    s.successes += a.successes;
    s.bytes = s.bytes.saturating_add(a.bytes);
    s.first = s.first.min(a.first_seen());
    s.last = s.last.max(a.last_seen());
}

/// Aggregate every actor by `by`; list the `limit` largest groups by bytes (ties: requests
/// descending, then value ascending; `None`: all).
///
/// Memory: groups are summed in a map while they stay few (at most one per 32 actors: a
/// botnet's /24s, rotating IPv6 /48s); past that (every client in its own network) the map is
/// dropped and the actors are sorted by group instead, 12 bytes per actor while sorting. A
/// map entry costs 73 bytes a slot, 80 to 250 a group with its load and a growth's two
/// tables, so one group per 32 actors keeps the map below the sort's 12 bytes per actor.
#[must_use]
pub fn aggregate(actors: &Actors, by: &GroupBy<'_>, limit: Option<usize>) -> ActorGroups {
    aggregate_with(actors, by, limit, (actors.len() / 32).max(1024))
}

/// [`aggregate`] summing in a map while there are at most `few` groups.
fn aggregate_with(
    actors: &Actors,
    by: &GroupBy<'_>,
    limit: Option<usize>,
    few: usize,
) -> ActorGroups {
    let n = actors.len();
    // Group values derive from client addresses (attacker-chosen): a seeded hasher.
    let mut map: KeyedMap<u64, Sums> = KeyedMap::default();
    let mut overflowed = false;
    for id in 0..n as u32 {
        let Some(value) = (by.value)(id) else { continue };
        let a = actors.state(id);
        add(map.entry(value).or_insert_with(|| Sums::new(a)), a);
        if map.len() > few {
            overflowed = true;
            break;
        }
    }
    let limit = limit.unwrap_or(usize::MAX);
    // The `limit` smallest of (bytes desc, requests desc, value asc): a max-heap of them.
    let mut top: BinaryHeap<Ranked> = BinaryHeap::new();
    let mut total = 0_u64;
    let mut keep = |value: u64, sums: Sums| {
        total += 1;
        let ranked = Ranked { value, sums };
        if top.len() < limit {
            top.push(ranked);
        } else if top.peek().is_some_and(|worst| ranked < *worst) {
            top.pop();
            top.push(ranked);
        }
    };
    if overflowed {
        drop(map);
        // (value high, value low, id): 12 bytes an actor where a `(u64, u32)` pair takes 16
        // with its alignment; sorted, the actors of a group are one run. Sized once:
        // collected from a filter, the vector would double its way up (both buffers alive).
        let mut keys: Vec<[u32; 3]> = Vec::with_capacity(n);
        keys.extend(
            (0..n as u32).filter_map(|id| (by.value)(id).map(|v| [(v >> 32) as u32, v as u32, id])),
        );
        keys.sort_unstable();
        for run in keys.chunk_by(|a, b| a[..2] == b[..2]) {
            let first = actors.state(run[0][2]);
            let mut sums = Sums::new(first);
            for k in run {
                add(&mut sums, actors.state(k[2]));
            }
            keep((u64::from(run[0][0]) << 32) | u64::from(run[0][1]), sums);
        }
    } else {
        for (value, sums) in map {
            keep(value, sums);
        }
    }
    let listed = top.into_sorted_vec();
    ActorGroups {
        key: by.name.to_owned(),
        total,
        groups: listed
            .into_iter()
            .map(|Ranked { value, sums: s }| ActorGroup {
                key: (by.label)(value),
                clients: s.clients,
                requests: s.requests,
                successes: s.successes,
                bytes: s.bytes,
                first_seen: time_of(s.first),
                last_seen: time_of(s.last),
            })
            .collect(),
    }
}

/// A group in the ranking: bytes descending, then requests descending, then value
/// ascending (the value is unique, so the order is total).
#[derive(Debug, Clone, Copy)]
struct Ranked {
    value: u64,
    sums: Sums,
}

impl Ranked {
    fn rank(&self) -> (Reverse<u64>, Reverse<u64>, u64) {
        (Reverse(self.sums.bytes), Reverse(self.sums.requests), self.value)
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::classify::UaFlags;

    #[test]
    fn prefixes_sum_exactly_and_list_the_largest() {
        let mut t = Actors::default();
        let ua = UaFlags::default();
        for (ip, sec, bytes) in [
            ("203.0.113.9", 5, 100),
            ("203.0.113.200", 3, 50),
            ("198.51.100.1", 9, 10),
            ("2001:db8:1:2::1", 1, 7),
            ("2001:db8:1:ffff::9", 2, 7),
            ("2001:db8:2::1", 4, 1),
        ] {
            let id = t.id(ip.parse().unwrap(), (sec, 0), || None);
            t.record(id, (sec, 0), 0, ua, bytes, true);
        }
        let all = aggregate(&t, &prefix(&t), None);
        assert_eq!(all.total, 4);
        let rows: Vec<(&str, u64, u64)> =
            all.groups.iter().map(|g| (g.key.as_str(), g.clients, g.bytes)).collect();
        assert_eq!(
            rows,
            [
                ("203.0.113.0/24", 2, 150),
                ("2001:db8:1::/48", 2, 14),
                ("198.51.100.0/24", 1, 10),
                ("2001:db8:2::/48", 1, 1)
            ]
        );
        assert_eq!(all.groups[0].first_seen.timestamp(), 3);
        assert_eq!(all.groups[0].last_seen.timestamp(), 5);
        let two = aggregate(&t, &prefix(&t), Some(2));
        assert_eq!(two.total, 4);
        assert_eq!(two.groups, all.groups[..2]);
        // Past `few` groups the map gives way to sorting: the same answer.
        for few in [0, 1, 2, 3] {
            assert_eq!(aggregate_with(&t, &prefix(&t), None, few), all, "few = {few}");
            assert_eq!(aggregate_with(&t, &prefix(&t), Some(2), few), two, "few = {few}");
        }
    }
}
