//! Per-actor state: one entry per external client address.
//!
//! The ledger is dense and compact: every actor is one 48-byte [`ActorState`] holding what
//! every output needs — exact totals (requests, successes, bytes), first and last seen, the
//! services touched as a bitset, the classification — plus its address (4 bytes, apart) and
//! its entry in the address → id map. Anything rarer than that byte budget allows (IPv6
//! addresses, service indices ≥ 61, scanner entries ≥ 32 767, more than 2^32 − 1 requests,
//! a last-seen more than 136 years after the first) lives in side tables keyed by actor id:
//! every total stays exact.
//!
//! Per-actor *detail* (paths, agents, status counts: [`ActorLists`]) is kept only for a
//! bounded set of actors (`Actors::set_detail_cap`, `--max-actors-detail`): when the set is
//! full, the detail of its lighter half (by requests) is dropped and those actors are marked
//! `detail_dropped` (their totals stay exact; a view says their lists were not kept). An
//! actor arriving after that starts with complete detail, so the heavy actors — the ones a
//! person looks at — keep theirs. Below the cap nothing is ever dropped.
//!
//! Within an actor's detail, at most `MAX_ACTOR_PATHS` distinct paths and `MAX_ACTOR_AGENTS`
//! distinct user agents are kept with counts; once a cap is reached, further *new* values
//! are counted in `other_*` (so totals stay exact); which values made it under the cap can
//! then depend on arrival order — with which actors' detail was dropped, the only
//! order-dependent detail in the engine. Classification flags are combined (logical OR)
//! over every request regardless of the caps, so the class never depends on order.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use std::hash::BuildHasher;

use hashbrown::HashTable;
use smallvec::SmallVec;

use super::classify::UaFlags;
use super::dense::{Dense, Shift};
use super::intern::IdMap;
use super::windows::TimeKey;

/// Distinct paths kept per actor for the actor view.
pub const MAX_ACTOR_PATHS: usize = 32;
/// Distinct user agents kept per actor.
pub const MAX_ACTOR_AGENTS: usize = 8;
/// Actors whose detail (paths, agents, statuses) is kept at once, by default.
pub const DEFAULT_DETAIL_CAP: usize = 100_000;

/// Services recorded in an actor's bitset; higher indices set [`MORE_SERVICES`] and live in
/// the actor's side entry.
const BITSET_SERVICES: u32 = 61;
const MORE_SERVICES: u64 = 1 << 61;
/// The actor's requests and successes are in its side entry (they outgrew 32 bits).
const WIDE_COUNTS: u64 = 1 << 62;
/// The actor's last-seen second is in its side entry (more than `u32::MAX` s after the first).
const FAR_LAST: u64 = 1 << 63;
/// Top bit of a nanosecond field (nanoseconds, leap second included, stay below 2^31).
const HIGH: u32 = 1 << 31;
/// Top bit of a scanner field; the low 15 bits hold the entry + 1 (0: none).
const FLAG16: u16 = 1 << 15;
const SCANNER_MASK: u16 = FLAG16 - 1;
/// A scanner entry too large for 15 bits: the exact one is in the side entry.
const SCANNER_FAR: u16 = SCANNER_MASK;

/// An actor's totals, times, services and classification: what every external request
/// updates, in 48 bytes (`repr(C)`). Its address is kept apart (`Actors::keys`).
///
/// Flags ride in bits the values never use: the top bit of `first_nanos` (IPv6: the key
/// indexes the table's IPv6 addresses), of `last_nanos` (detail dropped), of
/// `address_scanner` (tool) and of `agent_scanner` (browser); the top three bits of
/// `services` say what is in the side entry. Read the totals with [`Actors::totals`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[repr(C)]
pub struct ActorState {
    bytes: u64,
    first_secs: i64,
    /// Bit i: service i touched (i < 61); then [`MORE_SERVICES`], [`WIDE_COUNTS`],
    /// [`FAR_LAST`].
    services: u64,
    requests: u32,
    successes: u32,
    first_nanos: u32,
    last_nanos: u32,
    /// Last-seen second minus first-seen second (unless [`FAR_LAST`]).
    last_span: u32,
    /// First scanner entry whose published ranges contain the address.
    address_scanner: u16,
    /// Minimum scanner entry matched by any of the actor's user agents.
    agent_scanner: u16,
}

/// An actor's exact totals and times (from its state and, when it has one, its side entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    pub first: TimeKey,
    pub last: TimeKey,
}

/// What does not fit an actor's 48 bytes (rare): services ≥ 61, far scanner entries, counts
/// beyond 32 bits, a last-seen far from the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActorExtra {
    /// Service indices ≥ 61, sorted.
    services: SmallVec<[u32; 2]>,
    address_scanner: Option<u32>,
    agent_scanner: Option<u32>,
    /// With [`WIDE_COUNTS`].
    requests: u64,
    successes: u64,
    /// With [`FAR_LAST`].
    last_secs: i64,
}

fn min_opt(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl ActorState {
    #[must_use]
    pub fn first_seen(&self) -> TimeKey {
        (self.first_secs, self.first_nanos & !HIGH)
    }

    /// The last-seen time, when it is in the state (`None`: in the side entry).
    fn near_last(&self) -> Option<TimeKey> {
        (self.services & FAR_LAST == 0)
            .then(|| (self.first_secs + i64::from(self.last_span), self.last_nanos & !HIGH))
    }

    fn set_first(&mut self, t: TimeKey) {
        self.first_secs = t.0;
        self.first_nanos = (self.first_nanos & HIGH) | (t.1 & !HIGH);
    }

    #[must_use]
    pub fn tool(&self) -> bool {
        self.address_scanner & FLAG16 != 0
    }

    #[must_use]
    pub fn browser(&self) -> bool {
        self.agent_scanner & FLAG16 != 0
    }

    fn is_v6(&self) -> bool {
        self.first_nanos & HIGH != 0
    }

    /// Whether this actor's detail (paths, agents, statuses) was dropped (see the module docs).
    #[must_use]
    pub fn detail_dropped(&self) -> bool {
        self.last_nanos & HIGH != 0
    }

    fn drop_detail(&mut self) {
        self.last_nanos |= HIGH;
    }

    /// The services (< 61) in the bitset.
    fn bit_services(&self) -> impl Iterator<Item = u32> + '_ {
        (0..BITSET_SERVICES).filter(|&i| self.services & (1 << i) != 0)
    }

    /// A value computed from the state's fields `Actors::record` updates, for `Tally::touch`:
    /// its first and last fields, so that both cache lines of a state that straddles two
    /// (48-byte states: every other one) are loaded.
    #[must_use]
    pub fn touch(&self) -> u64 {
        self.bytes ^ u64::from(self.agent_scanner)
    }
}

/// The totals of a state with its side entry.
fn totals_of(a: &ActorState, extra: Option<&ActorExtra>) -> Totals {
    let side = |f: fn(&ActorExtra) -> u64| extra.map_or(0, f);
    let (requests, successes) = if a.services & WIDE_COUNTS == 0 {
        (u64::from(a.requests), u64::from(a.successes))
    } else {
        (side(|e| e.requests), side(|e| e.successes))
    };
    let last = a
        .near_last()
        .unwrap_or_else(|| (extra.map_or(a.first_secs, |e| e.last_secs), a.last_nanos & !HIGH));
    Totals { requests, successes, bytes: a.bytes, first: a.first_seen(), last }
}

/// Encode an optional scanner entry in a 15-bit field, keeping the flag bit of `field`;
/// returns whether it did not fit (the exact value then goes to the side entry).
fn put_scanner(field: &mut u16, s: Option<u32>) -> bool {
    let (code, far) = match s {
        None => (0, false),
        Some(i) if i < u32::from(SCANNER_FAR) - 1 => (i as u16 + 1, false),
        Some(_) => (SCANNER_FAR, true),
    };
    *field = (*field & FLAG16) | code;
    far
}

fn get_scanner(field: u16, far: impl FnOnce() -> Option<u32>) -> Option<u32> {
    match field & SCANNER_MASK {
        0 => None,
        SCANNER_FAR => far(),
        code => Some(u32::from(code) - 1),
    }
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

/// The actor table: address → dense id, and the dense ledger.
#[derive(Debug, Clone)]
pub struct Actors {
    /// Address → actor id, one table per family: open addressing over bare ids (4 bytes and
    /// a control byte a slot), hashed and compared through `keys`, so the table does not
    /// hold the address beside the id (it is probed for every external request). Hashed
    /// with a per-process random seed: addresses are attacker-chosen (see
    /// `intern::KeyedMap`).
    addrs4: HashTable<u32>,
    addrs6: HashTable<u32>,
    /// By actor id: its address — the IPv4 address, or the index of its IPv6 address in
    /// `v6_addrs` (the state's flag says which). The only copy of it; apart from the states
    /// so that a probe compares within 4 bytes an actor (a small, cached array for an
    /// ordinary log) instead of loading the actor's state.
    keys: Dense<u32>,
    hasher: foldhash::quality::RandomState,
    /// By actor id.
    states: Dense<ActorState>,
    /// The IPv6 addresses, by key.
    v6_addrs: Dense<u128>,
    /// Side entries of the few actors that need one (see [`ActorExtra`]).
    extra: IdMap<u32, ActorExtra>,
    /// Lists of the actors whose detail is kept (at most `detail_cap`), by actor id. Apart
    /// from `states` so that recording totals touches only the compact part.
    lists: IdMap<u32, ActorLists>,
    detail_cap: usize,
    /// Actors whose detail was dropped (for the counts a view shows).
    dropped: u64,
}

impl Default for Actors {
    fn default() -> Self {
        Actors {
            addrs4: HashTable::new(),
            addrs6: HashTable::new(),
            keys: Dense::default(),
            hasher: foldhash::quality::RandomState::default(),
            states: Dense::default(),
            v6_addrs: Dense::default(),
            extra: IdMap::default(),
            lists: IdMap::default(),
            detail_cap: DEFAULT_DETAIL_CAP,
            dropped: 0,
        }
    }
}

/// One actor taken out of a table whole (`Actors::into_parts`), to be absorbed elsewhere.
#[derive(Debug, Clone)]
pub struct ActorParts {
    pub ip: IpAddr,
    pub state: ActorState,
    pub extra: Option<ActorExtra>,
    pub lists: Option<ActorLists>,
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
            self.push_new(ip, t, address_scanner());
        }
        id
    }

    fn push_new(&mut self, ip: IpAddr, t: TimeKey, address_scanner: Option<u32>) {
        let id = self.states.len() as u32;
        let (key, v6) = match ip {
            IpAddr::V4(v4) => (u32::from(v4), 0),
            IpAddr::V6(v6) => {
                self.v6_addrs.push(u128::from(v6));
                ((self.v6_addrs.len() - 1) as u32, HIGH)
            }
        };
        let mut a = ActorState {
            bytes: 0,
            first_secs: t.0,
            services: 0,
            requests: 0,
            successes: 0,
            first_nanos: (t.1 & !HIGH) | v6,
            last_nanos: t.1 & !HIGH,
            last_span: 0,
            address_scanner: 0,
            agent_scanner: 0,
        };
        if put_scanner(&mut a.address_scanner, address_scanner) {
            self.extra.entry(id).or_default().address_scanner = address_scanner;
        }
        self.keys.push(key);
        self.states.push(a);
    }

    /// Actor `id`'s compact state, if it exists.
    #[must_use]
    pub fn get(&self, id: u32) -> Option<&ActorState> {
        self.states.get(id as usize)
    }

    /// Actor `id`'s compact state.
    #[must_use]
    pub fn state(&self, id: u32) -> &ActorState {
        &self.states[id as usize]
    }

    /// Actor `id`'s exact totals and first and last seen.
    #[must_use]
    pub fn totals(&self, id: u32) -> Totals {
        let a = &self.states[id as usize];
        let extra =
            if a.services & (WIDE_COUNTS | FAR_LAST) == 0 { None } else { self.extra.get(&id) };
        totals_of(a, extra)
    }

    /// Actor `id`'s address.
    #[must_use]
    pub fn ip(&self, id: u32) -> IpAddr {
        match self.ip_key(id) {
            (true, v6) => IpAddr::V6(Ipv6Addr::from(v6)),
            (false, v4) => IpAddr::V4(Ipv4Addr::from(v4 as u32)),
        }
    }

    /// Actor `id`'s address as a sortable key with [`IpAddr`]'s order (IPv4 before IPv6).
    #[must_use]
    pub fn ip_key(&self, id: u32) -> (bool, u128) {
        let key = self.keys[id as usize];
        if self.states[id as usize].is_v6() {
            (true, self.v6_addrs[key as usize])
        } else {
            (false, u128::from(key))
        }
    }

    /// The service indices actor `id` touched, ascending.
    pub fn services(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        let a = &self.states[id as usize];
        let more: &[u32] = if a.services & MORE_SERVICES != 0 {
            self.extra.get(&id).map_or(&[], |e| e.services.as_slice())
        } else {
            &[]
        };
        a.bit_services().chain(more.iter().copied())
    }

    /// The scanner entry that classifies actor `id`, if any (lowest index wins).
    #[must_use]
    pub fn scanner(&self, id: u32) -> Option<u32> {
        let a = &self.states[id as usize];
        let extra = || self.extra.get(&id);
        let address = get_scanner(a.address_scanner, || extra().and_then(|e| e.address_scanner));
        let agent = get_scanner(a.agent_scanner, || extra().and_then(|e| e.agent_scanner));
        min_opt(address, agent)
    }

    /// Whether actor `id` is classified by a scanner entry (`scanner(id).is_some()`): once
    /// true, it stays true (entries are only ever added or lowered).
    #[must_use]
    pub fn is_scanner(&self, id: u32) -> bool {
        let a = &self.states[id as usize];
        (a.address_scanner | a.agent_scanner) & SCANNER_MASK != 0
    }

    /// Record one external request of actor `id`: totals, times, service, classification.
    pub fn record(
        &mut self,
        id: u32,
        t: TimeKey,
        service: u32,
        flags: UaFlags,
        bytes: u64,
        success: bool,
    ) {
        self.see(id, t);
        self.add_counts(id, 1, u64::from(success));
        let a = &mut self.states[id as usize];
        a.bytes = a.bytes.saturating_add(bytes);
        if flags.tool {
            a.address_scanner |= FLAG16;
        }
        if flags.browser {
            a.agent_scanner |= FLAG16;
        }
        if service < BITSET_SERVICES {
            a.services |= 1 << service;
        } else {
            a.services |= MORE_SERVICES;
            add_sorted(&mut self.extra.entry(id).or_default().services, service);
        }
        if let Some(s) = flags.scanner {
            self.add_agent_scanner(id, Some(s));
        }
    }

    /// Widen actor `id`'s first/last seen to include `t`.
    fn see(&mut self, id: u32, t: TimeKey) {
        let a = &mut self.states[id as usize];
        if let Some(last) = a.near_last() {
            let first = a.first_seen();
            if first <= t && t <= last {
                return;
            }
            let (first, last) = (first.min(t), last.max(t));
            if let Ok(span) = u32::try_from(last.0 - first.0) {
                a.set_first(first);
                a.last_span = span;
                a.last_nanos = (a.last_nanos & HIGH) | (last.1 & !HIGH);
                return;
            }
        }
        self.see_far(id, t);
    }

    /// [`Actors::see`] for a last-seen that is (or becomes) far from the first.
    #[cold]
    fn see_far(&mut self, id: u32, t: TimeKey) {
        let now = self.totals(id);
        let (first, last) = (now.first.min(t), now.last.max(t));
        let a = &mut self.states[id as usize];
        a.set_first(first);
        a.services |= FAR_LAST;
        a.last_span = 0;
        a.last_nanos = (a.last_nanos & HIGH) | (last.1 & !HIGH);
        self.extra.entry(id).or_default().last_secs = last.0;
    }

    /// Add to actor `id`'s request and success counts.
    fn add_counts(&mut self, id: u32, requests: u64, successes: u64) {
        let a = &mut self.states[id as usize];
        if a.services & WIDE_COUNTS == 0 {
            let r = u32::try_from(requests).ok().and_then(|r| a.requests.checked_add(r));
            let s = u32::try_from(successes).ok().and_then(|s| a.successes.checked_add(s));
            if let (Some(r), Some(s)) = (r, s) {
                a.requests = r;
                a.successes = s;
                return;
            }
        }
        self.add_wide(id, requests, successes);
    }

    /// [`Actors::add_counts`] past 32 bits.
    #[cold]
    fn add_wide(&mut self, id: u32, requests: u64, successes: u64) {
        let now = self.totals(id);
        let a = &mut self.states[id as usize];
        a.services |= WIDE_COUNTS;
        a.requests = 0;
        a.successes = 0;
        let e = self.extra.entry(id).or_default();
        e.requests = now.requests.saturating_add(requests);
        e.successes = now.successes.saturating_add(successes);
    }

    fn add_agent_scanner(&mut self, id: u32, s: Option<u32>) {
        let field = self.states[id as usize].agent_scanner;
        let current = get_scanner(field, || self.extra.get(&id).and_then(|e| e.agent_scanner));
        let best = min_opt(current, s);
        if best != current {
            let a = &mut self.states[id as usize];
            if put_scanner(&mut a.agent_scanner, best) {
                self.extra.entry(id).or_default().agent_scanner = best;
            }
        }
    }

    /// How many actors' detail may be kept at once (see the module docs; at least 1).
    pub fn set_detail_cap(&mut self, cap: usize) {
        self.detail_cap = cap.max(1);
    }

    /// How many actors' detail may be kept at once.
    #[must_use]
    pub fn detail_cap(&self) -> usize {
        self.detail_cap
    }

    /// Actors whose detail was dropped so far.
    #[must_use]
    pub fn detail_dropped(&self) -> u64 {
        self.dropped
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
        self.lists.get(&id).unwrap_or(&NONE)
    }

    /// Actor `id`'s lists, for recording; `None` when its detail was dropped.
    pub fn lists_mut(&mut self, id: u32) -> Option<&mut ActorLists> {
        if !self.lists.contains_key(&id) {
            if self.states[id as usize].detail_dropped() {
                return None;
            }
            if self.lists.len() >= self.detail_cap {
                self.make_room();
            }
        }
        Some(self.lists.entry(id).or_default())
    }

    /// The detail set is full: drop the detail of its lighter half by requests (all of the
    /// lightest requests count when more than half share it), marking those actors.
    fn make_room(&mut self) {
        let mut counts: Vec<u64> = self.lists.keys().map(|&id| self.totals(id).requests).collect();
        let mid = counts.len() / 2;
        let (_, &mut median, _) = counts.select_nth_unstable(mid);
        let lighter = counts.iter().any(|&n| n < median);
        let mut drop: Vec<u32> = self
            .lists
            .keys()
            .copied()
            .filter(|&id| {
                let n = self.totals(id).requests;
                !(if lighter { n >= median } else { n > median })
            })
            .collect();
        drop.sort_unstable();
        for &id in &drop {
            self.lists.remove(&id);
            self.states[id as usize].drop_detail();
        }
        self.dropped += drop.len() as u64;
    }

    /// Every actor, in id order, taken out whole.
    pub fn into_parts(mut self) -> impl Iterator<Item = ActorParts> {
        let v6_addrs = std::mem::take(&mut self.v6_addrs);
        let mut extra = std::mem::take(&mut self.extra);
        let mut lists = std::mem::take(&mut self.lists);
        self.states.into_iter().zip(self.keys.into_iter()).enumerate().map(
            move |(id, (state, key))| {
                let id = id as u32;
                let ip = if state.is_v6() {
                    IpAddr::V6(Ipv6Addr::from(v6_addrs[key as usize]))
                } else {
                    IpAddr::V4(Ipv4Addr::from(key))
                };
                ActorParts { ip, state, extra: extra.remove(&id), lists: lists.remove(&id) }
            },
        )
    }

    /// Add `p` (its lists' string ids already translated) as a new actor, or merge it into
    /// the actor with the same address, as if its requests had been recorded after this
    /// one's; returns its id here.
    pub(crate) fn absorb(&mut self, p: ActorParts) -> u32 {
        let id = self.claim(p.ip);
        let extra = p.extra.unwrap_or_default();
        let other = &p.state;
        let totals = totals_of(other, Some(&extra));
        let other_address = get_scanner(other.address_scanner, || extra.address_scanner);
        let other_agent = get_scanner(other.agent_scanner, || extra.agent_scanner);
        if id as usize == self.states.len() {
            self.push_new(p.ip, totals.first, other_address);
        }
        self.see(id, totals.first);
        self.see(id, totals.last);
        self.add_counts(id, totals.requests, totals.successes);
        let a = &mut self.states[id as usize];
        a.bytes = a.bytes.saturating_add(totals.bytes);
        a.services |= other.services & !(WIDE_COUNTS | FAR_LAST);
        a.address_scanner |= other.address_scanner & FLAG16;
        a.agent_scanner |= other.agent_scanner & FLAG16;
        let dropped = other.detail_dropped();
        if dropped && !a.detail_dropped() {
            a.drop_detail();
            self.dropped += 1;
        }
        if get_scanner(a.address_scanner, || None).is_none() && other_address.is_some() {
            let a = &mut self.states[id as usize];
            if put_scanner(&mut a.address_scanner, other_address) {
                self.extra.entry(id).or_default().address_scanner = other_address;
            }
        }
        if !extra.services.is_empty() {
            let mine = &mut self.extra.entry(id).or_default().services;
            for &s in &extra.services {
                add_sorted(mine, s);
            }
        }
        self.add_agent_scanner(id, other_agent);
        if dropped {
            self.lists.remove(&id);
        } else if let Some(lists) = p.lists.filter(|l| *l != ActorLists::default()) {
            if let Some(mine) = self.lists_mut(id) {
                mine.merge(&lists);
            }
        }
        id
    }

    /// Take over every actor of `other`, none of whose addresses is in this table (the
    /// shards of one batch run: each address lives in one), without copying their states:
    /// `other`'s chunks are appended as they are (see [`Dense::append`]). Its lists' string
    /// ids are translated with `strings` (`strings[old] = new`). Returns where each of
    /// `other`'s ids went.
    pub(crate) fn append_disjoint(&mut self, mut other: Actors, strings: &[u32]) -> Shift {
        other.drop_index();
        // The IPv6 addresses first, so that the appended keys can be translated.
        let v6 = self.v6_addrs.append(std::mem::take(&mut other.v6_addrs));
        for (key, state) in other.keys.iter_mut().zip(other.states.iter()) {
            if state.is_v6() {
                *key = v6.map(*key as usize) as u32;
            }
        }
        self.reserve_for([&other]);
        let base = self.states.len();
        let shift = self.states.append(other.states);
        let keys = self.keys.append(other.keys);
        debug_assert_eq!(shift, keys, "states and keys share their chunking");
        let (keys, v6_addrs, hasher) = (&self.keys, &self.v6_addrs, &self.hasher);
        for id in base..self.states.len() {
            let key = keys[id];
            if self.states[id].is_v6() {
                let at = |id: &u32| v6_addrs[keys[*id as usize] as usize];
                let addr = v6_addrs[key as usize];
                self.addrs6
                    .insert_unique(hasher.hash_one(addr), id as u32, |i| hasher.hash_one(at(i)));
            } else {
                let at = |id: &u32| keys[*id as usize];
                self.addrs4
                    .insert_unique(hasher.hash_one(key), id as u32, |i| hasher.hash_one(at(i)));
            }
        }
        for (old, e) in other.extra {
            self.extra.insert(shift.map(old as usize) as u32, e);
        }
        for (old, mut l) in other.lists {
            l.remap_strings(strings);
            self.lists.insert(shift.map(old as usize) as u32, l);
        }
        while self.lists.len() > self.detail_cap {
            self.make_room();
        }
        self.dropped += other.dropped;
        shift
    }

    /// The id of `ip`; for a new address, the next id (`len()`), already mapped: the caller
    /// pushes the address's state next.
    pub(crate) fn claim(&mut self, ip: IpAddr) -> u32 {
        let next = self.states.len() as u32;
        let (keys, v6_addrs, hasher) = (&self.keys, &self.v6_addrs, &self.hasher);
        match ip {
            IpAddr::V4(v4) => {
                let key = u32::from(v4);
                let at = |id: &u32| keys[*id as usize];
                *self
                    .addrs4
                    .entry(hasher.hash_one(key), |id| at(id) == key, |id| hasher.hash_one(at(id)))
                    .or_insert(next)
                    .get()
            }
            IpAddr::V6(v6) => {
                let key = u128::from(v6);
                let at = |id: &u32| v6_addrs[keys[*id as usize] as usize];
                *self
                    .addrs6
                    .entry(hasher.hash_one(key), |id| at(id) == key, |id| hasher.hash_one(at(id)))
                    .or_insert(next)
                    .get()
            }
        }
    }

    /// Make room for every actor of `others` as a new one (the most they can add), at once:
    /// `reserve` counts from the current length, so one call per table with the sum.
    pub(crate) fn reserve_for<'a>(&mut self, others: impl IntoIterator<Item = &'a Actors>) {
        // `Dense` grows by whole chunks: nothing to move, nothing to size. Counted from the
        // states (one IPv6 address per IPv6 actor), not the other's index, which may be gone.
        let (mut v4, mut v6) = (0, 0);
        for other in others {
            v6 += other.v6_addrs.len();
            v4 += other.len() - other.v6_addrs.len();
        }
        let (keys, v6_addrs, hasher) = (&self.keys, &self.v6_addrs, &self.hasher);
        if self.addrs4.capacity() - self.addrs4.len() < v4 {
            // Growing would hold the old and the new table at once: drop the old one
            // first and insert every id again (as fast as the growth's rehash).
            let want = self.addrs4.len() + v4;
            self.addrs4 = HashTable::new();
            self.addrs4 = HashTable::with_capacity(want);
            for id in 0..self.states.len() {
                if !self.states[id].is_v6() {
                    let h = hasher.hash_one(keys[id]);
                    self.addrs4.insert_unique(h, id as u32, |i| hasher.hash_one(keys[*i as usize]));
                }
            }
        }
        self.addrs6.reserve(v6, |id| hasher.hash_one(v6_addrs[keys[*id as usize] as usize]));
    }

    /// Free the address → id index of a table about to be taken apart (`into_parts`) or
    /// appended (`append_disjoint`), neither of which needs it: the memory is free before
    /// the absorbing table's index grows.
    pub(crate) fn drop_index(&mut self) {
        self.addrs4 = HashTable::new();
        self.addrs6 = HashTable::new();
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

fn add_sorted(list: &mut SmallVec<[u32; 2]>, v: u32) {
    if let Err(i) = list.binary_search(&v) {
        list.insert(i, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_state_is_48_bytes() {
        assert_eq!(std::mem::size_of::<ActorState>(), 48);
    }

    fn flags(scanner: Option<u32>, tool: bool, browser: bool) -> UaFlags {
        UaFlags { scanner, tool, browser }
    }

    #[test]
    fn compact_fields_round_trip_with_their_flags_and_side_entries() {
        let mut table = Actors::default();
        let v6: IpAddr = "2001:db8::7".parse().unwrap();
        let v4: IpAddr = "203.0.113.9".parse().unwrap();
        let six = table.id(v6, (100, 1_999_999_999), || Some(40_000));
        let four = table.id(v4, (50, 5), || Some(3));
        assert_eq!((table.ip(six), table.ip(four)), (v6, v4));
        table.record(six, (99, 7), 2, flags(Some(70_000), true, false), 10, true);
        table.record(six, (101, 0), 200, flags(Some(39_999), false, true), u64::MAX, false);
        table.record(six, (100, 5), 62, flags(None, false, false), 1, true);
        let t6 = table.totals(six);
        assert_eq!((t6.first, t6.last), ((99, 7), (101, 0)));
        assert_eq!((t6.requests, t6.successes, t6.bytes), (3, 2, u64::MAX));
        let st = table.state(six);
        assert!(st.tool() && st.browser() && !st.detail_dropped());
        assert_eq!(table.services(six).collect::<Vec<_>>(), [2, 62, 200]);
        assert_eq!(table.scanner(six), Some(39_999));
        assert_eq!(table.scanner(four), Some(3));
        table.record(four, (50, 4), 0, flags(Some(1), false, false), 0, false);
        assert_eq!(table.scanner(four), Some(1));
        assert_eq!(table.totals(four).first, (50, 4));
        assert!(!table.state(four).tool() && !table.state(four).browser());
        // Absorbing one table into another merges by address, side entries included.
        let mut other = Actors::default();
        let merged = other.id(v6, (200, 0), || None);
        other.record(merged, (200, 0), 300, flags(None, false, false), 1, true);
        for p in table.into_parts() {
            other.absorb(p);
        }
        assert_eq!(other.len(), 2);
        assert_eq!(other.services(merged).collect::<Vec<_>>(), [2, 62, 200, 300]);
        assert_eq!(other.scanner(merged), Some(39_999));
        let st = other.totals(merged);
        assert_eq!((st.first, st.last, st.requests), ((99, 7), (200, 0), 4));
    }

    #[test]
    fn counts_past_32_bits_and_far_times_stay_exact_through_the_side_entry() {
        let mut t = Actors::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let id = t.id(ip, (0, 0), || None);
        t.record(id, (0, 0), 0, flags(None, false, false), 1, true);
        // Merge in a part carrying u32::MAX requests: the counts widen.
        let mut big = Actors::default();
        let b = big.id(ip, (10, 0), || None);
        big.add_counts(b, u64::from(u32::MAX) - 1, 5);
        big.record(b, (10, 0), 1, flags(None, false, false), 2, false);
        for p in big.into_parts() {
            t.absorb(p);
        }
        let got = t.totals(id);
        assert_eq!((got.requests, got.successes, got.bytes), (u64::from(u32::MAX) + 1, 6, 3));
        t.record(id, (5, 0), 0, flags(None, false, false), 0, true);
        assert_eq!((t.totals(id).requests, t.totals(id).successes), (u64::from(u32::MAX) + 2, 7));
        // More than u32::MAX seconds between first and last seen, both ways.
        let far = 1_i64 << 40;
        t.record(id, (far, 9), 0, flags(None, false, false), 0, false);
        assert_eq!((t.totals(id).first, t.totals(id).last), ((0, 0), (far, 9)));
        t.record(id, (-far, 3), 0, flags(None, false, false), 0, false);
        t.record(id, (7, 0), 0, flags(None, false, false), 0, false);
        assert_eq!((t.totals(id).first, t.totals(id).last), ((-far, 3), (far, 9)));
        let near = t.id("192.0.2.2".parse().unwrap(), (far, 0), || None);
        t.record(near, (far - 5, 1), 0, flags(None, false, false), 0, false);
        assert_eq!((t.totals(near).first, t.totals(near).last), ((far - 5, 1), (far, 0)));
        assert!(!t.extra.contains_key(&near), "near times need no side entry");
    }

    /// The same requests recorded in one table, or in two disjoint tables then appended:
    /// every actor's totals, services, scanner and lists are the same, by address.
    #[test]
    fn appending_disjoint_tables_equals_recording_in_one() {
        let ips: Vec<IpAddr> = (0..150_000_u32)
            .map(|i| {
                if i % 5 == 4 {
                    IpAddr::V6(Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(i)))
                } else {
                    IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + i))
                }
            })
            .collect();
        let mut one = Actors::default();
        let mut parts = [Actors::default(), Actors::default()];
        for t in parts.iter_mut().chain([&mut one]) {
            t.set_detail_cap(1 << 20);
        }
        let strings: Vec<u32> = (0..4).map(|i| 10 + i).collect();
        for (i, &ip) in ips.iter().enumerate() {
            let n = i as u64;
            let t = ((n % 977) as i64, 0);
            let scanner = (i % 7 == 0).then_some(i as u32 % 3);
            let service = (i % 70) as u32;
            let f = flags((i % 11 == 0).then_some(40_000), i % 2 == 0, i % 3 == 0);
            for table in [&mut one, &mut parts[i % 3 / 2]] {
                let id = table.id(ip, t, || scanner);
                table.record(id, t, service, f, n, i % 4 == 0);
                if let Some(l) = table.lists_mut(id) {
                    l.record((i % 4) as u32, 1, 200);
                }
            }
        }
        let [mut merged, second] = parts;
        let first_len = merged.len();
        let shift = merged.append_disjoint(second, &strings);
        assert_eq!(merged.len(), one.len());
        assert_ne!(shift.map(0), first_len, "the tail filled the partial chunk");
        for &ip in &ips {
            let (a, b) = (one.claim(ip), merged.claim(ip));
            assert_eq!(one.totals(a), merged.totals(b), "{ip}");
            assert_eq!(merged.ip(b), ip);
            assert_eq!(one.services(a).collect::<Vec<_>>(), merged.services(b).collect::<Vec<_>>());
            assert_eq!(one.scanner(a), merged.scanner(b), "{ip}");
            let (la, lb) = (one.lists(a), merged.lists(b));
            assert_eq!(la.statuses, lb.statuses, "{ip}");
            let translated: Vec<(u32, u32)> = la.paths.iter().map(|&(p, n)| (p, n)).collect();
            let back: Vec<(u32, u32)> = lb
                .paths
                .iter()
                .map(|&(p, n)| (if b as usize >= first_len { p - 10 } else { p }, n))
                .collect();
            assert_eq!(translated, back, "{ip}");
        }
    }

    #[test]
    fn detail_beyond_the_cap_drops_the_lighter_half_and_says_so() {
        let mut t = Actors::default();
        t.set_detail_cap(4);
        let ids: Vec<u32> = (0..4_u32)
            .map(|i| t.id(IpAddr::from([198, 51, 100, i as u8]), (0, 0), || None))
            .collect();
        for (n, &id) in ids.iter().enumerate() {
            for _ in 0..=n {
                t.record(id, (0, 0), 0, flags(None, false, false), 0, true);
                t.lists_mut(id).unwrap().record(1, 2, 200);
            }
        }
        let late = t.id("198.51.100.200".parse().unwrap(), (1, 0), || None);
        t.record(late, (1, 0), 0, flags(None, false, false), 0, true);
        t.lists_mut(late).unwrap().record(1, 2, 200);
        // The two lightest (1 and 2 requests) lost their detail; the heavy ones and the
        // newcomer keep theirs, complete.
        assert_eq!(t.detail_dropped(), 2);
        assert!(t.state(ids[0]).detail_dropped() && t.state(ids[1]).detail_dropped());
        assert!(t.lists_mut(ids[0]).is_none());
        assert_eq!(t.lists(ids[3]).status_map()[&200], 4);
        assert_eq!(t.lists(late).status_map()[&200], 1);
        assert_eq!(t.totals(ids[0]).requests, 1, "totals stay exact");
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
