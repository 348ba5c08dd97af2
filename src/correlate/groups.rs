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
use std::hash::BuildHasher;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::actors::{Actors, Totals};
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
/// what the offline databases say about it. An actor the databases say nothing about is in no
/// group of that key; an actor in several lists counts under the first (its most specific
/// prefix).
///
/// Every actor is looked up, [`LOOKUP_BLOCK`] at a time (the enricher spreads a block over
/// the cores), and its answer folded in and dropped: memory grows with the groups (bounded by
/// the databases' networks, countries and lists), not with the actors. A group's label is the
/// one its lowest address gets (the same whatever the order of the ids).
#[must_use]
pub fn enrichment_groups(
    actors: &Actors,
    lookup: &dyn crate::model::enrichment::ActorLookup,
    limit: Option<usize>,
) -> Vec<ActorGroups> {
    let n = actors.len();
    let (mut asn, mut country, mut list) =
        (Labelled::default(), Labelled::default(), Labelled::default());
    let mut names: Vec<String> = Vec::new();
    let mut ips = Vec::with_capacity(LOOKUP_BLOCK.min(n));
    for start in (0..n).step_by(LOOKUP_BLOCK) {
        let ids = start as u32..(start + LOOKUP_BLOCK).min(n) as u32;
        ips.clear();
        ips.extend(ids.clone().map(|id| actors.ip(id)));
        for (id, a) in ids.zip(lookup.lookup_many(&ips)) {
            let (t, at) = (actors.totals(id), actors.ip_key(id));
            if let Some(net) = &a.asn {
                asn.add(u64::from(net.number), at, || net.label(), &t);
            }
            if let Some(c) = &a.country {
                country.add(country_value(&c.iso), at, || c.label(), &t);
            }
            if let Some(l) = a.lists.first() {
                let i = names.iter().position(|x| *x == l.name).unwrap_or_else(|| {
                    names.push(l.name.clone());
                    names.len() - 1
                });
                list.add(i as u64, at, || l.name.clone(), &t);
            }
        }
    }
    vec![asn.finish(ASN, limit), country.finish(COUNTRY, limit), list.finish(LIST, limit)]
}

/// Actors looked up at once for [`enrichment_groups`].
const LOOKUP_BLOCK: usize = 1 << 16;

/// Groups of one enrichment key being summed, each with the label of its lowest address.
#[derive(Default)]
struct Labelled {
    sums: std::collections::HashMap<u64, Sums>,
    labels: std::collections::HashMap<u64, ((bool, u128), String)>,
}

impl Labelled {
    fn add(&mut self, value: u64, at: (bool, u128), label: impl FnOnce() -> String, t: &Totals) {
        add(self.sums.entry(value).or_insert_with(|| Sums::new(t)), t);
        match self.labels.entry(value) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert((at, label()));
            }
            std::collections::hash_map::Entry::Occupied(mut e) => {
                if at < e.get().0 {
                    e.insert((at, label()));
                }
            }
        }
    }

    fn finish(self, name: &'static str, limit: Option<usize>) -> ActorGroups {
        let labels = self.labels;
        let mut groups = Groups::new(limit, 0);
        groups.map.extend(self.sums);
        let by = GroupBy {
            name,
            value: Box::new(|_| None),
            label: Box::new(move |v| labels.get(&v).map(|l| l.1.clone()).unwrap_or_default()),
        };
        groups.finish(&by)
    }
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
    fn new(a: &Totals) -> Sums {
        Sums { clients: 0, requests: 0, successes: 0, bytes: 0, first: a.first, last: a.last }
    }
}

fn add(s: &mut Sums, a: &Totals) {
    s.clients += 1;
    s.requests += a.requests;
    s.successes += a.successes;
    s.bytes = s.bytes.saturating_add(a.bytes);
    s.first = s.first.min(a.first);
    s.last = s.last.max(a.last);
}

/// Aggregate every actor by `by`; list the `limit` largest groups by bytes (ties: requests
/// descending, then value ascending; `None`: all).
///
/// Memory is bounded whatever the number of groups: groups are summed in a map of at most
/// one entry per 32 actors, and never more than [`MAP_GROUPS`] (about 19 MB). With more
/// groups than that (every client in its own network: rotating IPv6 /48s, or a few clients
/// from all over), each actor is given a one-byte tag, a hash of its group's value, and the
/// groups are summed in passes, each over a range of tags small enough for the map: one byte
/// per actor and a scan of the tags per pass, instead of every actor's key held and sorted
/// at once. A map entry costs 73 bytes a slot, 80 to 250 a group with its load and a
/// growth's two tables: one group per 32 actors keeps the map under 8 bytes per actor.
#[must_use]
pub fn aggregate(actors: &Actors, by: &GroupBy<'_>, limit: Option<usize>) -> ActorGroups {
    aggregate_with(actors, by, limit, (actors.len() / 32).clamp(1024, MAP_GROUPS))
}

/// Groups summed at once, at most: the map then holds 2^18 slots of 73 bytes, 19 MB.
const MAP_GROUPS: usize = 1 << 17;
/// The tag of an actor in no group of the key; real tags are below it, so the most passes
/// is `NO_GROUP` (past that, hundreds of millions of groups, the map grows instead).
const NO_GROUP: u8 = u8::MAX;

/// [`aggregate`] with at most `few` groups in a pass's map.
fn aggregate_with(
    actors: &Actors,
    by: &GroupBy<'_>,
    limit: Option<usize>,
    few: usize,
) -> ActorGroups {
    let n = actors.len();
    let few = few.max(1);
    // The map grows as groups come (usually a few thousand /24s: no reason to hold room
    // for `few`); in passes, where it will fill, it is sized once.
    let mut groups = Groups::new(limit, 0);
    // One pass while the groups fit.
    let mut overflow = None;
    for id in 0..n as u32 {
        let Some(value) = (by.value)(id) else { continue };
        groups.add(value, &actors.totals(id));
        if groups.map.len() > few {
            overflow = Some(id);
            break;
        }
    }
    let Some(stopped) = overflow else {
        return groups.finish(by);
    };
    // Too many: tag every actor (the split's hasher is seeded: values are attacker-chosen;
    // it cannot change the result, only the cost), and estimate the groups from how far the
    // pass got, for twice as many passes as that needs.
    let split = foldhash::quality::RandomState::default();
    let tags: Vec<u8> = (0..n as u32)
        .map(|id| match (by.value)(id) {
            Some(v) => (split.hash_one(v) % u64::from(NO_GROUP)) as u8,
            None => NO_GROUP,
        })
        .collect();
    let estimate = (groups.map.len() as u64).saturating_mul(n as u64) / (u64::from(stopped) + 1);
    let mut passes = (estimate.saturating_mul(2) / few as u64).clamp(2, u64::from(NO_GROUP));
    'split: loop {
        drop(groups);
        groups = Groups::new(limit, few.saturating_add(1).min(n));
        let n_passes = passes;
        for pass in 0..n_passes {
            groups.map.clear();
            for (id, &tag) in tags.iter().enumerate() {
                if tag == NO_GROUP || u64::from(tag) * n_passes / u64::from(NO_GROUP) != pass {
                    continue;
                }
                let Some(value) = (by.value)(id as u32) else { continue };
                groups.add(value, &actors.totals(id as u32));
                if groups.map.len() > few && n_passes < u64::from(NO_GROUP) {
                    // A share larger than estimated: split finer, start again.
                    passes = (n_passes * 2).min(u64::from(NO_GROUP));
                    continue 'split;
                }
            }
            groups.rank_map();
        }
        return groups.finish(by);
    }
}

/// Groups being summed (`map`) and the largest ones found so far (`top`).
struct Groups {
    map: KeyedMap<u64, Sums>,
    /// The `limit` smallest of (bytes desc, requests desc, value asc): a max-heap of them.
    top: BinaryHeap<Ranked>,
    limit: usize,
    total: u64,
}

impl Groups {
    fn new(limit: Option<usize>, capacity: usize) -> Groups {
        // Group values derive from client addresses (attacker-chosen): a seeded hasher.
        let hasher = foldhash::quality::RandomState::default();
        Groups {
            map: KeyedMap::with_capacity_and_hasher(capacity, hasher),
            top: BinaryHeap::new(),
            limit: limit.unwrap_or(usize::MAX),
            total: 0,
        }
    }

    fn add(&mut self, value: u64, a: &Totals) {
        add(self.map.entry(value).or_insert_with(|| Sums::new(a)), a);
    }

    /// Rank the groups summed in the map, emptying it.
    fn rank_map(&mut self) {
        for (value, sums) in self.map.drain() {
            self.total += 1;
            let ranked = Ranked { value, sums };
            if self.top.len() < self.limit {
                self.top.push(ranked);
            } else if self.top.peek().is_some_and(|worst| ranked < *worst) {
                self.top.pop();
                self.top.push(ranked);
            }
        }
    }

    fn finish(mut self, by: &GroupBy<'_>) -> ActorGroups {
        self.rank_map();
        listed(by, self.total, self.top)
    }
}

/// The groups kept, in ranking order.
fn listed(by: &GroupBy<'_>, total: u64, top: BinaryHeap<Ranked>) -> ActorGroups {
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
        // Past `few` groups a map per share of the groups, in passes: the same answer.
        for few in [0, 1, 2, 3] {
            assert_eq!(aggregate_with(&t, &prefix(&t), None, few), all, "few = {few}");
            assert_eq!(aggregate_with(&t, &prefix(&t), Some(2), few), two, "few = {few}");
        }
    }

    #[test]
    fn many_groups_summed_in_passes_equal_one_map() {
        let mut t = Actors::default();
        let ua = UaFlags::default();
        for i in 0..5000_u32 {
            let ip: std::net::IpAddr = if i % 3 == 0 {
                Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(i % 900) << 80 | 1).into()
            } else {
                Ipv4Addr::from(0x0b00_0000 + (i % 1200) * 256 + i % 7).into()
            };
            let id = t.id(ip, (i64::from(i), 0), || None);
            t.record(id, (i64::from(i), 0), 0, ua, u64::from(i % 97), i % 2 == 0);
        }
        let one = aggregate_with(&t, &prefix(&t), None, usize::MAX);
        // IPv6: multiples of 3 below 900; IPv4: the 800 of 1200 values that are not.
        assert_eq!(one.total, 300 + 800);
        for few in [1, 7, 60, 500] {
            assert_eq!(aggregate_with(&t, &prefix(&t), None, few), one, "few = {few}");
            let top = aggregate_with(&t, &prefix(&t), Some(10), few);
            assert_eq!((top.total, &top.groups[..]), (one.total, &one.groups[..10]));
        }
    }

    /// Answers by rule: ASN = last octet % 5 (its organisation named after the address, so
    /// labels differ within a group), country for even octets, a list for multiples of 7.
    #[derive(Debug)]
    struct ByRule;

    impl crate::model::enrichment::ActorLookup for ByRule {
        fn annotate(
            &self,
            _: &mut dyn Iterator<Item = std::net::IpAddr>,
        ) -> crate::model::enrichment::Enrichments {
            crate::model::enrichment::Enrichments::default()
        }

        fn lookup_many(
            &self,
            clients: &[std::net::IpAddr],
        ) -> Vec<crate::model::enrichment::ActorEnrichment> {
            use crate::model::enrichment::{ActorEnrichment, AsnInfo, CountryInfo, ListHit};
            clients
                .iter()
                .map(|ip| {
                    let std::net::IpAddr::V4(v4) = ip else { return ActorEnrichment::default() };
                    let o = v4.octets()[3];
                    ActorEnrichment {
                        asn: Some(AsnInfo { number: u32::from(o % 5), org: Some(ip.to_string()) }),
                        country: (o % 2 == 0).then(|| CountryInfo { iso: "GB".into(), name: None }),
                        lists: if o % 7 == 0 {
                            vec![ListHit { name: "tor".into(), service: None, region: None }]
                        } else {
                            Vec::new()
                        },
                        ..ActorEnrichment::default()
                    }
                })
                .collect()
        }

        fn scanner_lists(&self) -> Vec<crate::model::enrichment::ScannerList> {
            Vec::new()
        }
    }

    #[test]
    fn enrichment_groups_fold_every_actor_in_blocks_with_the_lowest_address_label() {
        let mut t = Actors::default();
        let ua = UaFlags::default();
        let n = LOOKUP_BLOCK as u32 + 5000;
        // Addresses inserted in descending order: the lowest of a group comes last.
        for i in (0..n).rev() {
            let id = t.id(Ipv4Addr::from(0x0b00_0000 + i).into(), (i64::from(i), 0), || None);
            t.record(id, (i64::from(i), 0), 0, ua, 1, true);
        }
        let t6 = t.id("2001:db8::1".parse().unwrap(), (0, 0), || None);
        t.record(t6, (0, 0), 0, ua, 1, true);
        let groups = enrichment_groups(&t, &ByRule, None);
        let asn = &groups[0];
        assert_eq!((asn.key.as_str(), asn.total), (ASN, 5));
        let clients: u64 = asn.groups.iter().map(|g| g.clients).sum();
        assert_eq!(clients, u64::from(n), "every IPv4 actor, across blocks; not the IPv6 one");
        for g in &asn.groups {
            let number: u32 = g.key.split(' ').next().unwrap()[2..].parse().unwrap();
            // The lowest address of the group: 11.0.0.<number> (o % 5 == number).
            assert_eq!(g.key, format!("AS{number} 11.0.0.{number}"));
        }
        let country = &groups[1];
        assert_eq!((country.total, country.groups[0].key.as_str()), (1, "GB"));
        assert_eq!(
            country.groups[0].clients,
            (0..n).filter(|i| (i & 0xff) % 2 == 0).count() as u64
        );
        let list = &groups[2];
        assert_eq!((list.total, list.groups[0].key.as_str()), (1, "tor"));
        assert_eq!(list.groups[0].clients, (0..n).filter(|i| (i & 0xff) % 7 == 0).count() as u64);
    }
}
