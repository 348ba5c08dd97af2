//! Per-actor state: one entry per external client address.
//!
//! Memory per actor is bounded: totals, first/last seen, the services touched, the status
//! counts (at most one entry per status code), and at most `MAX_ACTOR_PATHS` distinct paths
//! and `MAX_ACTOR_AGENTS` distinct user agents with counts. Once a cap is reached, further
//! *new* values are counted in `other_*` (so totals stay exact); which values made it under
//! the cap can then depend on arrival order — the only order-dependent detail in the engine,
//! reached only by actors with more distinct values than the caps. Classification flags are
//! combined (logical OR) over every request regardless of the caps, so the class never depends on order.

use std::collections::BTreeMap;
use std::net::IpAddr;

use smallvec::SmallVec;

use super::classify::UaFlags;
use super::intern::KeyedMap;
use super::windows::TimeKey;

/// Distinct paths kept per actor for the actor view.
pub const MAX_ACTOR_PATHS: usize = 32;
/// Distinct user agents kept per actor.
pub const MAX_ACTOR_AGENTS: usize = 8;

/// An actor's totals, classification and services: what every external request updates.
///
/// Laid out as exactly two cache lines (`repr(C)`, 64-byte aligned, fields in this order):
/// the counters and times in the first, services and classification in the second. The
/// table is far larger than a core's cache and each request lands on a random actor, so
/// `Tally::touch` loads both lines of a group of actors before recording (their misses
/// overlap) and recording then finds them cached. The per-actor lists live apart in
/// [`ActorLists`].
#[derive(Debug, Clone)]
#[repr(C, align(64))]
pub struct ActorState {
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    pub first_seen: TimeKey,
    pub last_seen: TimeKey,
    /// First scanner entry whose published ranges contain the address.
    pub address_scanner: Option<u32>,
    /// Service indices touched, sorted.
    pub services: SmallVec<[u32; 2]>,
    /// Minimum scanner entry matched by any of the actor's user agents.
    pub agent_scanner: Option<u32>,
    pub ip: IpAddr,
    pub tool: bool,
    pub browser: bool,
}

/// An actor's capped lists for the actor view (see the module docs), recorded only when the
/// run wants per-actor detail (`ActorDetail::Full`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActorLists {
    /// (path id, requests), at most `MAX_ACTOR_PATHS` entries (linear search: small).
    /// Counts saturate at `u32::MAX` (the actor's totals stay exact).
    pub paths: SmallVec<[(u32, u32); 4]>,
    pub other_paths: u64,
    /// (user agent id, requests), at most `MAX_ACTOR_AGENTS` entries.
    pub agents: SmallVec<[(u32, u32); 2]>,
    pub other_agents: u64,
    /// (status, requests); at most one entry per status code.
    pub statuses: SmallVec<[(u16, u64); 4]>,
}

impl ActorState {
    #[must_use]
    pub fn new(ip: IpAddr, t: TimeKey, address_scanner: Option<u32>) -> Self {
        ActorState {
            ip,
            first_seen: t,
            last_seen: t,
            requests: 0,
            successes: 0,
            bytes: 0,
            services: SmallVec::new(),
            address_scanner,
            agent_scanner: None,
            tool: false,
            browser: false,
        }
    }

    /// The scanner entry that classifies this actor, if any (lowest index wins).
    #[must_use]
    pub fn scanner(&self) -> Option<u32> {
        match (self.address_scanner, self.agent_scanner) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Record one external request's totals, services and classification flags.
    pub fn record(&mut self, t: TimeKey, service: u32, flags: UaFlags, bytes: u64, success: bool) {
        self.first_seen = self.first_seen.min(t);
        self.last_seen = self.last_seen.max(t);
        self.requests += 1;
        if success {
            self.successes += 1;
        }
        self.bytes = self.bytes.saturating_add(bytes);
        if let Err(i) = self.services.binary_search(&service) {
            self.services.insert(i, service);
        }
        if let Some(s) = flags.scanner {
            self.agent_scanner = Some(self.agent_scanner.map_or(s, |a| a.min(s)));
        }
        self.tool |= flags.tool;
        self.browser |= flags.browser;
    }

    /// Fold in `other`, the same address's requests recorded elsewhere (a batch shard):
    /// totals add up, services and classification flags combine.
    pub fn merge(&mut self, other: &ActorState) {
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        self.requests += other.requests;
        self.successes += other.successes;
        self.bytes = self.bytes.saturating_add(other.bytes);
        for &s in &other.services {
            if let Err(i) = self.services.binary_search(&s) {
                self.services.insert(i, s);
            }
        }
        self.address_scanner = self.address_scanner.or(other.address_scanner);
        if let Some(s) = other.agent_scanner {
            self.agent_scanner = Some(self.agent_scanner.map_or(s, |a| a.min(s)));
        }
        self.tool |= other.tool;
        self.browser |= other.browser;
    }

    /// A value computed from every part of the state that `record` reads (both cache
    /// lines, and the services list when it has spilled), for `Tally::touch`.
    #[must_use]
    pub fn touch(&self) -> u64 {
        self.requests ^ u64::from(self.services.last().copied().unwrap_or(0))
    }
}

impl ActorLists {
    /// Record one external request's path, user agent and status.
    pub fn record(&mut self, path: u32, agent: u32, status: u16) {
        bump(&mut self.paths, &mut self.other_paths, path, MAX_ACTOR_PATHS);
        bump(&mut self.agents, &mut self.other_agents, agent, MAX_ACTOR_AGENTS);
        match self.statuses.iter_mut().find(|s| s.0 == status) {
            Some(s) => s.1 += 1,
            None => self.statuses.push((status, 1)),
        }
    }

    /// Fold in `other`, the same address's lists recorded elsewhere (a batch shard), as if
    /// they had been recorded after these: the capped lists take `other`'s values in its
    /// order while there is room.
    pub fn merge(&mut self, other: &ActorLists) {
        for &(k, n) in &other.paths {
            add(&mut self.paths, &mut self.other_paths, k, n, MAX_ACTOR_PATHS);
        }
        self.other_paths += other.other_paths;
        for &(k, n) in &other.agents {
            add(&mut self.agents, &mut self.other_agents, k, n, MAX_ACTOR_AGENTS);
        }
        self.other_agents += other.other_agents;
        for &(status, n) in &other.statuses {
            match self.statuses.iter_mut().find(|s| s.0 == status) {
                Some(s) => s.1 += n,
                None => self.statuses.push((status, n)),
            }
        }
    }

    /// Translate the interned path and user-agent ids (`map[old] = new`).
    pub fn remap_strings(&mut self, map: &[u32]) {
        for e in self.paths.iter_mut().chain(self.agents.iter_mut()) {
            e.0 = map[e.0 as usize];
        }
    }

    /// A value computed from the last entry of each list, for `Tally::touch` (the lists
    /// `record` scans, inline or spilled).
    #[must_use]
    pub fn touch(&self) -> u64 {
        let last = |l: &[(u32, u32)]| l.last().map_or(0, |e| u64::from(e.1));
        last(&self.paths) ^ last(&self.agents) ^ self.statuses.last().map_or(0, |s| s.1)
    }

    /// Status counts as a map (for the snapshot).
    #[must_use]
    pub fn status_map(&self) -> BTreeMap<u16, u64> {
        self.statuses.iter().copied().collect()
    }
}

fn bump<A: smallvec::Array<Item = (u32, u32)>>(
    list: &mut SmallVec<A>,
    other: &mut u64,
    key: u32,
    cap: usize,
) {
    add(list, other, key, 1, cap);
}

/// Count `n` requests for `key` in a capped list (see the module docs).
fn add<A: smallvec::Array<Item = (u32, u32)>>(
    list: &mut SmallVec<A>,
    other: &mut u64,
    key: u32,
    n: u32,
    cap: usize,
) {
    if let Some(e) = list.iter_mut().find(|e| e.0 == key) {
        e.1 = e.1.saturating_add(n);
    } else if list.len() < cap {
        list.push((key, n));
    } else {
        *other += u64::from(n);
    }
}

/// The actor table: address → dense id.
#[derive(Debug, Default, Clone)]
pub struct Actors {
    /// IPv4 addresses (most clients) as plain integers: a third of the size of an `IpAddr`
    /// entry, so more of the table stays in cache (it is probed for every external request).
    v4: KeyedMap<u32, u32>,
    v6: KeyedMap<u128, u32>,
    /// By actor id.
    pub states: Vec<ActorState>,
    /// By actor id, for the actors that have recorded lists (shorter when the last ones
    /// have none; empty in a run that records totals only). Apart from `states` so that
    /// recording totals touches only the small per-actor part.
    lists: Vec<ActorLists>,
}

impl Actors {
    /// The id of `ip`, creating the actor (first seen at `t`) when new.
    pub fn id(
        &mut self,
        ip: IpAddr,
        t: TimeKey,
        address_scanner: impl FnOnce() -> Option<u32>,
    ) -> u32 {
        let id = self.claim(ip);
        if id as usize == self.states.len() {
            self.states.push(ActorState::new(ip, t, address_scanner()));
        }
        id
    }

    /// Actor `id`'s lists (empty when it has none).
    #[must_use]
    pub fn lists(&self, id: u32) -> &ActorLists {
        static NONE: ActorLists = ActorLists {
            paths: SmallVec::new_const(),
            other_paths: 0,
            agents: SmallVec::new_const(),
            other_agents: 0,
            statuses: SmallVec::new_const(),
        };
        self.lists.get(id as usize).unwrap_or(&NONE)
    }

    /// Actor `id`'s lists, for recording.
    pub fn lists_mut(&mut self, id: u32) -> &mut ActorLists {
        let i = id as usize;
        if i >= self.lists.len() {
            self.lists.resize_with(i + 1, ActorLists::default);
        }
        &mut self.lists[i]
    }

    /// Every actor with its id order: state and lists.
    pub fn into_parts(self) -> impl Iterator<Item = (ActorState, ActorLists)> {
        let mut lists = self.lists.into_iter();
        self.states.into_iter().map(move |a| (a, lists.next().unwrap_or_default()))
    }

    /// The id of `ip`; for a new address, the next id (`len()`), already mapped: the caller
    /// pushes the address's state next.
    pub(crate) fn claim(&mut self, ip: IpAddr) -> u32 {
        let next = self.states.len() as u32;
        match ip {
            IpAddr::V4(v4) => *self.v4.entry(u32::from(v4)).or_insert(next),
            IpAddr::V6(v6) => *self.v6.entry(u128::from(v6)).or_insert(next),
        }
    }

    /// Make room for every actor of `others` as a new one (the most they can add), at once:
    /// `reserve` counts from the current length, so one call per table with the sum.
    pub(crate) fn reserve_for<'a>(&mut self, others: impl IntoIterator<Item = &'a Actors>) {
        let (mut states, mut v4, mut v6) = (0, 0, 0);
        for other in others {
            states += other.states.len();
            v4 += other.v4.len();
            v6 += other.v6.len();
        }
        self.states.reserve(states);
        self.v4.reserve(v4);
        self.v6.reserve(v6);
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.states.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_state_is_two_cache_lines_with_services_in_the_second() {
        assert_eq!(std::mem::size_of::<ActorState>(), 128);
        assert_eq!(std::mem::align_of::<ActorState>(), 64);
        // `touch` reads `requests` (first line) and `services` (second line).
        assert_eq!(std::mem::offset_of!(ActorState, requests), 0);
        assert!(std::mem::offset_of!(ActorState, address_scanner) < 64);
        assert!(std::mem::offset_of!(ActorState, services) >= 64);
    }

    #[test]
    fn capped_lists_count_overflow_and_merge_in_order() {
        let mut a = ActorLists::default();
        for p in 0..(MAX_ACTOR_PATHS as u32 + 3) {
            a.record(p, 7, 200);
        }
        assert_eq!((a.paths.len(), a.other_paths), (MAX_ACTOR_PATHS, 3));
        assert_eq!(a.agents.as_slice(), [(7, MAX_ACTOR_PATHS as u32 + 3)]);
        let mut b = ActorLists::default();
        b.record(1, 8, 404);
        b.record(999, 8, 200);
        a.merge(&b);
        assert_eq!(a.other_paths, 4);
        assert_eq!(a.agents.as_slice(), [(7, MAX_ACTOR_PATHS as u32 + 3), (8, 2)]);
        assert_eq!(a.status_map().into_iter().collect::<Vec<_>>(), [(200, 36), (404, 1)]);
    }
}
