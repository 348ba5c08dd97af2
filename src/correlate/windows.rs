//! Positive-evidence aggregates (`Cell`) and the exact total order of evidence.
//!
//! A `Cell` summarises the positive evidence of one service over a time range: in detail mode
//! one exact timestamp, in sealed mode one segment between two consecutive negative times.
//! Every field merges commutatively and associatively (sums, minima, set unions), which is
//! what makes the correlator's result independent of arrival order and batching.

use chrono::{DateTime, Utc};

use super::dense::Dense;
use super::intern::IdMap;

/// An exact instant: (Unix seconds, nanoseconds). Ordered; never rounded.
pub type TimeKey = (i64, u32);

/// Convert a UTC time to its key.
#[must_use]
pub fn key_of(t: DateTime<Utc>) -> TimeKey {
    (t.timestamp(), t.timestamp_subsec_nanos())
}

/// Convert a key back to a UTC time (keys always come from valid times).
#[must_use]
pub fn time_of(k: TimeKey) -> DateTime<Utc> {
    DateTime::from_timestamp(k.0, k.1).unwrap_or_default()
}

/// The total order of evidence items: time, then source id, then line. "First" everywhere
/// (first external request, first non-scanner success) is the minimum in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderKey {
    pub time: TimeKey,
    pub source: u32,
    pub line: u64,
}

/// A compact reference to one notable request; strings are interner ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HitRef {
    pub at: OrderKey,
    pub actor: u32,
    pub user_agent: u32,
    pub method: u32,
    /// The request target (path and query) as logged.
    pub target: u32,
    pub status: u16,
}

/// Keep the earlier of two optional hits (by the total order).
pub fn min_hit(slot: &mut Option<HitRef>, candidate: Option<HitRef>) {
    if let Some(c) = candidate {
        match slot {
            Some(s) if s.at <= c.at => {}
            _ => *slot = Some(c),
        }
    }
}

/// Distinct actors, each with its first successful request (by the total order), if one was
/// kept (see [`Cell::add_request`]: a scanner's success is not, since it can never be a first
/// non-scanner success).
///
/// Looked up once per external request. While the window has few actors relative to the
/// ledger, a map holds a small index per actor (8-byte entries, so the table of a busy window
/// stays in a core's cache). Once the window holds a sizeable share of the actor ids and most
/// of them have no kept success (a flood of distinct clients, failing or scanners),
/// membership moves to a bitset over actor ids (one bit per id instead of 9 to 18 bytes per
/// member) and the map keeps only the actors with a kept success.
#[derive(Debug, Clone, Default)]
pub struct ActorFirsts {
    /// Sparse: actor id → index in `hits`, or `NO_HIT`. Dense (`bits` non-empty): only the
    /// actors with a kept success.
    index: IdMap<u32, u32>,
    /// Dense membership, bit `id` for actor `id`; empty while sparse.
    bits: Vec<u64>,
    /// Members while dense.
    members: usize,
    /// The highest actor id added (for the switch to dense).
    max_actor: u32,
    /// Grows by chunks: with millions of actors it never doubles and copies.
    hits: Dense<HitRef>,
}

const NO_HIT: u32 = u32::MAX;
/// Below this many members a window stays sparse (a bitset would not pay for itself).
const DENSE_MIN: usize = 1 << 12;

impl ActorFirsts {
    /// Note `actor`, with `success` as a candidate for its first successful request.
    pub fn add(&mut self, actor: u32, success: Option<HitRef>) {
        self.max_actor = self.max_actor.max(actor);
        if self.bits.is_empty() {
            // About to grow: switch to a bitset when it is smaller than the grown map (about
            // 20 bytes per member; the bitset costs an eighth of a byte per actor id) and
            // most members have no kept success (else the map stays as large, and a success
            // would cost two lookups instead of one).
            if self.index.len() >= DENSE_MIN
                && self.index.len() == self.index.capacity()
                && self.hits.len() * 2 < self.index.len()
                && (self.max_actor as usize / 8) < self.index.len() * 20
                && !self.index.contains_key(&actor)
            {
                self.make_dense();
            } else {
                let slot = self.index.entry(actor).or_insert(NO_HIT);
                let Some(hit) = success else { return };
                if *slot == NO_HIT {
                    *slot = self.hits.len() as u32;
                    self.hits.push(hit);
                } else {
                    let mine = &mut self.hits[*slot as usize];
                    if hit.at < mine.at {
                        *mine = hit;
                    }
                }
                return;
            }
        }
        let (word, bit) = (actor as usize / 64, 1_u64 << (actor % 64));
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        if self.bits[word] & bit == 0 {
            self.bits[word] |= bit;
            self.members += 1;
        }
        let Some(hit) = success else { return };
        match self.index.entry(actor) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(self.hits.len() as u32);
                self.hits.push(hit);
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                let mine = &mut self.hits[*o.get() as usize];
                if hit.at < mine.at {
                    *mine = hit;
                }
            }
        }
    }

    /// Move membership to the bitset; the map keeps the actors with a kept success.
    fn make_dense(&mut self) {
        let mut bits = vec![0_u64; self.max_actor as usize / 64 + 1];
        for &a in self.index.keys() {
            bits[a as usize / 64] |= 1 << (a % 64);
        }
        self.members = self.index.len();
        self.bits = bits;
        self.index.retain(|_, i| *i != NO_HIT);
        self.index.shrink_to_fit();
    }

    /// Look `actor` up without changing anything, reading what [`ActorFirsts::add`] will
    /// read (its slot and first hit), so that a caller can load a group's worth of them
    /// before adding (their cache misses then overlap).
    #[must_use]
    pub fn peek(&self, actor: u32) -> u64 {
        if !self.bits.is_empty() {
            return self.bits.get(actor as usize / 64).copied().unwrap_or(0);
        }
        let i = self.index.get(&actor).copied().unwrap_or(NO_HIT);
        self.hits.get(i as usize).map_or(0, |h| h.at.line)
    }

    /// Make room for `n` more actors (while sparse and `n` small enough to stay sparse).
    pub fn reserve(&mut self, n: usize) {
        if self.bits.is_empty() && self.index.len() + n < DENSE_MIN {
            self.index.reserve(n);
        }
    }

    /// Number of distinct actors.
    #[must_use]
    pub fn len(&self) -> usize {
        if self.bits.is_empty() { self.index.len() } else { self.members }
    }

    /// `actor`'s first successful request: `None` when the actor is absent, `Some(None)`
    /// when it is present without a (kept) success.
    #[must_use]
    #[allow(clippy::option_option)] // absent vs present-without-success, as documented
    pub fn get(&self, actor: u32) -> Option<Option<HitRef>> {
        let hit = |i: &u32| self.hits.get(*i as usize).copied();
        if self.bits.is_empty() {
            return self.index.get(&actor).map(hit);
        }
        let word = self.bits.get(actor as usize / 64).copied().unwrap_or(0);
        (word & (1 << (actor % 64)) != 0).then(|| self.index.get(&actor).and_then(hit))
    }

    /// Every actor with its first successful request (in no particular order).
    pub fn iter(&self) -> impl Iterator<Item = (u32, Option<HitRef>)> + '_ {
        let dense = !self.bits.is_empty();
        let sparse = self.index.iter().filter(move |_| !dense);
        let sparse = sparse.map(|(&a, &i)| (a, self.hits.get(i as usize).copied()));
        let members = self.bits.iter().enumerate().flat_map(|(w, &word)| {
            (0..64_u32).filter(move |b| word & (1 << b) != 0).map(move |b| w as u32 * 64 + b)
        });
        sparse.chain(members.map(|a| (a, self.get(a).flatten())))
    }

    /// Every actor with a kept first success, with it (in no particular order).
    pub fn successes(&self) -> impl Iterator<Item = (u32, HitRef)> + '_ {
        self.index.iter().filter_map(|(&a, &i)| self.hits.get(i as usize).map(|h| (a, *h)))
    }
}

impl PartialEq for ActorFirsts {
    /// The same actors with the same first successes (however they were stored).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(a, h)| other.get(a) == Some(h))
    }
}

/// Positive evidence of one service over a time range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    /// External requests.
    pub requests: u64,
    /// External requests with a status in 1..400.
    pub successes: u64,
    /// Bytes sent to external clients.
    pub bytes: u64,
    /// External-vantage `open` scan observations.
    pub scan_open: u64,
    /// Earliest and latest positive evidence (requests and open scans).
    pub first_pos: Option<TimeKey>,
    pub last_pos: Option<TimeKey>,
    /// The first external request.
    pub first: Option<HitRef>,
    /// Distinct external actors, each with its first successful request in the range.
    pub actors: ActorFirsts,
    /// External requests, successes and bytes per path (interner id of the path without
    /// query).
    pub paths: IdMap<u32, PathTally>,
    /// The first successful request per path, kept only for services with `sensitive`
    /// rules (see [`Cell::add_request`]): the first success of a rule is the minimum over
    /// its matching paths, so it is exact and merges like every other field.
    pub path_firsts: IdMap<u32, HitRef>,
}

/// One path's external requests in a cell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PathTally {
    pub requests: u64,
    /// Requests with a status in 1..400.
    pub successes: u64,
    pub bytes: u64,
}

impl PathTally {
    fn merge(&mut self, other: &PathTally) {
        self.requests += other.requests;
        self.successes += other.successes;
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

impl Cell {
    /// Number of positive evidence items.
    #[must_use]
    pub fn positives(&self) -> u64 {
        self.requests + self.scan_open
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.positives() == 0
    }

    fn touch(&mut self, t: TimeKey) {
        self.first_pos = Some(self.first_pos.map_or(t, |f| f.min(t)));
        self.last_pos = Some(self.last_pos.map_or(t, |l| l.max(t)));
    }

    /// Add one external request. `track_path_firsts` (a service with `sensitive` rules)
    /// also keeps the path's first successful request. `scanner`: the actor is already a
    /// scanner (with this request), so its success is not kept as the actor's first: the
    /// class never goes back (a scanner entry, once matched, stays), so it could only ever
    /// be skipped by the first non-scanner success, which is all that reads it.
    pub fn add_request(
        &mut self,
        hit: HitRef,
        path: u32,
        bytes: u64,
        success: bool,
        scanner: bool,
        track_path_firsts: bool,
    ) {
        self.requests += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        self.touch(hit.at.time);
        min_hit(&mut self.first, Some(hit));
        if success {
            self.successes += 1;
            self.actors.add(hit.actor, (!scanner).then_some(hit));
        } else {
            self.actors.add(hit.actor, None);
        }
        let tally = self.paths.entry(path).or_default();
        tally.requests += 1;
        tally.successes += u64::from(success);
        tally.bytes = tally.bytes.saturating_add(bytes);
        if success && track_path_firsts {
            min_path_first(&mut self.path_firsts, path, hit);
        }
    }

    /// Add one external `open` scan observation.
    pub fn add_scan_open(&mut self, t: TimeKey) {
        self.scan_open += 1;
        self.touch(t);
    }

    /// Fold in a cell whose actor and string ids belong to an absorbed tally (a batch
    /// shard's), translating them with `maps`. Into an empty cell with unchanged ids, the
    /// other cell is moved (its tables are not rebuilt entry by entry).
    pub(crate) fn absorb(&mut self, other: Cell, maps: &super::tally::IdMaps) {
        if self.is_empty() && maps.is_identity() {
            *self = other;
            return;
        }
        self.actors.reserve(other.actors.len());
        self.paths.reserve(other.paths.len());
        self.merge_with(&other, |a| maps.actor(a), |h| maps.hit(h), |p| maps.string(p));
    }

    /// Fold another cell into this one.
    pub fn merge(&mut self, other: &Cell) {
        self.merge_with(other, |a| a, |h| h, |p| p);
    }

    fn merge_with(
        &mut self,
        other: &Cell,
        actor: impl Fn(u32) -> u32,
        hit: impl Fn(HitRef) -> HitRef,
        path: impl Fn(u32) -> u32,
    ) {
        self.requests += other.requests;
        self.successes += other.successes;
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.scan_open += other.scan_open;
        for t in [other.first_pos, other.last_pos].into_iter().flatten() {
            self.touch(t);
        }
        min_hit(&mut self.first, other.first.map(&hit));
        for (a, first_success) in other.actors.iter() {
            self.actors.add(actor(a), first_success.map(&hit));
        }
        for (p, n) in &other.paths {
            self.paths.entry(path(*p)).or_default().merge(n);
        }
        for (p, h) in &other.path_firsts {
            min_path_first(&mut self.path_firsts, path(*p), hit(*h));
        }
    }
}

/// Keep the earlier of `path`'s first success and `hit`.
fn min_path_first(firsts: &mut IdMap<u32, HitRef>, path: u32, hit: HitRef) {
    firsts
        .entry(path)
        .and_modify(|h| {
            if hit.at < h.at {
                *h = hit;
            }
        })
        .or_insert(hit);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(sec: i64, line: u64, actor: u32) -> HitRef {
        HitRef {
            at: OrderKey { time: (sec, 0), source: 0, line },
            actor,
            user_agent: 0,
            method: 0,
            target: 0,
            status: 200,
        }
    }

    #[test]
    fn merge_is_order_independent() {
        let mut a = Cell::default();
        a.add_request(hit(5, 1, 1), 7, 10, true, false, true);
        a.add_scan_open((3, 500));
        let mut b = Cell::default();
        b.add_request(hit(4, 9, 2), 7, 5, false, false, true);
        b.add_request(hit(4, 2, 1), 8, 1, true, false, true);
        b.add_request(hit(6, 3, 4), 7, 2, true, false, true);
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.first.unwrap().at.line, 2);
        assert_eq!(ab.first_pos, Some((3, 500)));
        assert_eq!(ab.last_pos, Some((6, 0)));
        assert_eq!(ab.actors.get(1).unwrap().unwrap().at.line, 2);
        assert_eq!(ab.actors.get(2), Some(None));
        assert_eq!(ab.actors.get(3), None);
        assert_eq!(ab.paths[&7], PathTally { requests: 3, successes: 2, bytes: 17 });
        assert_eq!(ab.path_firsts[&7].at.line, 1);
        assert_eq!(ab.path_firsts[&8].at.line, 2);
        assert_eq!((ab.requests, ab.successes, ab.bytes, ab.positives()), (4, 3, 18, 5));
    }

    /// A flood of distinct actors moves a window's membership to the bitset; counts, first
    /// successes and merges stay what the map gives, and a scanner's success is not kept.
    #[test]
    fn dense_membership_matches_the_map_and_skips_scanner_successes() {
        let n = 3 * DENSE_MIN as u32;
        let mut flood = Cell::default();
        let mut small = Cell::default();
        for a in 0..n {
            let success = a % 3 == 0;
            let scanner = a % 7 == 0;
            flood.add_request(
                hit(i64::from(n - a), u64::from(a), a),
                1,
                1,
                success,
                scanner,
                false,
            );
            if a % 2 == 0 {
                flood.add_request(hit(0, 1, a), 1, 1, false, false, false);
            }
            if a < 10 {
                let actor = if a == 0 { 0 } else { n + a * 1000 };
                small.add_request(hit(-1, 0, actor), 1, 1, true, false, false);
            }
        }
        assert!(!flood.actors.bits.is_empty(), "dense");
        assert!(small.actors.bits.is_empty(), "sparse");
        assert_eq!(flood.actors.len(), n as usize);
        assert_eq!(flood.actors.iter().count(), n as usize);
        for a in [0, 3, 7, 21, 22, n - 1] {
            let kept = (a % 3 == 0 && a % 7 != 0).then(|| hit(i64::from(n - a), u64::from(a), a));
            assert_eq!(flood.actors.get(a), Some(kept), "actor {a}");
        }
        assert_eq!(flood.actors.get(n), None);
        assert_eq!(
            flood.actors.successes().count(),
            (0..n).filter(|a| a % 3 == 0 && a % 7 != 0).count()
        );
        // Merging either way gives the same cell (membership and earliest successes).
        let mut ab = flood.clone();
        ab.merge(&small);
        let mut ba = small.clone();
        ba.merge(&flood);
        assert_eq!(ab, ba);
        assert_eq!(ab.actors.len(), n as usize + 9);
        assert_eq!(ab.actors.get(0).unwrap().unwrap().at.time, (-1, 0));
    }
}
