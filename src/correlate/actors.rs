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

#[derive(Debug, Clone)]
pub struct ActorState {
    pub ip: IpAddr,
    pub first_seen: TimeKey,
    pub last_seen: TimeKey,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    /// Service indices touched, sorted.
    pub services: SmallVec<[u32; 2]>,
    /// First scanner entry whose published ranges contain the address.
    pub address_scanner: Option<u32>,
    /// Minimum scanner entry matched by any of the actor's user agents.
    pub agent_scanner: Option<u32>,
    pub tool: bool,
    pub browser: bool,
    /// (path id, requests), at most `MAX_ACTOR_PATHS` entries (linear search: small).
    /// Counts saturate at `u32::MAX` (the totals above stay exact).
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
            paths: SmallVec::new(),
            other_paths: 0,
            agents: SmallVec::new(),
            other_agents: 0,
            statuses: SmallVec::new(),
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

    /// Record one external request's path, user agent and status (the actor view's lists;
    /// skipped when the run needs totals only, see `ActorDetail`).
    pub fn record_detail(&mut self, path: u32, agent: u32, status: u16) {
        bump(&mut self.paths, &mut self.other_paths, path, MAX_ACTOR_PATHS);
        bump(&mut self.agents, &mut self.other_agents, agent, MAX_ACTOR_AGENTS);
        match self.statuses.iter_mut().find(|s| s.0 == status) {
            Some(s) => s.1 += 1,
            None => self.statuses.push((status, 1)),
        }
    }

    /// Fold in `other`, the same address's requests recorded elsewhere (a batch shard), as
    /// if they had been recorded after this actor's: totals add up, the capped lists take
    /// `other`'s values in its order while there is room.
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

    /// A value computed from every part of the state that `record` (and, with `detail`,
    /// `record_detail`) reads: the struct and each list, inline or spilled. For `Tally::touch`.
    #[must_use]
    pub fn touch(&self, detail: bool) -> u64 {
        let totals = self.requests ^ u64::from(self.services.last().copied().unwrap_or(0));
        if !detail {
            return totals;
        }
        let last = |l: &[(u32, u32)]| l.last().map_or(0, |e| u64::from(e.1));
        totals ^ last(&self.paths) ^ last(&self.agents) ^ self.statuses.last().map_or(0, |s| s.1)
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
    pub states: Vec<ActorState>,
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

    /// The id of `ip`; for a new address, the next id (`len()`), already mapped: the caller
    /// pushes the address's state next.
    pub(crate) fn claim(&mut self, ip: IpAddr) -> u32 {
        let next = self.states.len() as u32;
        match ip {
            IpAddr::V4(v4) => *self.v4.entry(u32::from(v4)).or_insert(next),
            IpAddr::V6(v6) => *self.v6.entry(u128::from(v6)).or_insert(next),
        }
    }

    /// Make room for every actor of `other` as a new one (the most it can add).
    pub(crate) fn reserve_for(&mut self, other: &Actors) {
        self.states.reserve(other.states.len());
        self.v4.reserve(other.v4.len());
        self.v6.reserve(other.v6.len());
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
