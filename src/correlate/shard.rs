//! Shards: the external-request work of a sealed correlator, split by client address so
//! that batch worker threads can do it in parallel, then folded back.
//!
//! [`Correlator::shards`] seals the correlator (every negative is known, so each positive's
//! segment is fixed) and hands out `n` empty shards sharing its layout: segment boundaries,
//! which service each source feeds, the scanner list. A request from client `ip` goes to
//! shard [`Shard::index_of`]`(ip, n)`, so every actor lives in exactly one shard. Each shard
//! records requests exactly as [`Correlator::apply_request`] does in sealed mode (the same
//! `Tally::record` and [`Cell::add_request`]); [`Correlator::absorb`] then translates its
//! interned ids and merges its actors and cells. Since the shards share no address, a
//! shard's actor ledger is appended whole, its chunks taken over rather than copied
//! (`Actors::append_disjoint`): folding 10 M actors in moves no state and frees nothing
//! that another thread's allocator arena would keep.
//!
//! Why the result equals a serial run: segment aggregates merge commutatively, and an
//! actor's state depends only on that actor's requests and their order. The one
//! order-dependent detail (which paths and agents fill an actor's capped lists) is the
//! same as in a serial run when each shard is fed its requests in the serial order, which
//! the batch driver guarantees by applying chunks to each shard in file order. Nothing in
//! a snapshot depends on the ids the merge hands out (every order there is by content), so
//! neither the number of shards nor the number of threads changes any output.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::classify::ScannerDb;
use super::engine::{Correlator, RequestView, canonical};
use super::tally::Tally;
use super::windows::{Cell, TimeKey, key_of};
use crate::model::SourceId;

/// What every shard of one correlator shares (read-only).
#[derive(Debug)]
struct Layout {
    scanners: ScannerDb,
    /// Per service: its distinct negative evidence times, ascending (segment boundaries).
    negatives: Vec<Vec<TimeKey>>,
    /// Per registered source: the service its requests count for.
    source_service: Vec<u32>,
    /// The service of requests from an unregistered source.
    unassigned: u32,
    /// Per service: whether its cells keep each path's first success (`sensitive` rules).
    track_path_firsts: Vec<bool>,
}

/// A share of a sealed correlator's external requests (see the module docs).
#[derive(Debug)]
pub struct Shard {
    layout: Arc<Layout>,
    tally: Tally,
    /// Per service, per segment: positive evidence.
    segments: Vec<Vec<Cell>>,
    /// External requests per Unix minute.
    rate: MinuteCounts,
    requests: u64,
    /// Scratch for `apply_group`: where each request of the group goes.
    placed: Vec<Placed>,
    /// The split it belongs to (`Correlator::split`).
    split: u64,
}

impl Shard {
    /// The shard (of `n`) that records requests from `client`.
    #[must_use]
    pub fn index_of(client: IpAddr, n: usize) -> usize {
        let bits = match canonical(client) {
            IpAddr::V4(v4) => u64::from(u32::from(v4)),
            IpAddr::V6(v6) => {
                let b = u128::from(v6);
                (b as u64) ^ ((b >> 64) as u64)
            }
        };
        // A multiplicative hash; its high bits are the well-mixed ones.
        let h = bits.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
        (h % n.max(1) as u64) as usize
    }

    /// Record a group of requests, in order, each from the client paired with it, which the
    /// caller found external (in neither `internal` nor `allow`: see
    /// [`super::ClientFilter`]); `RequestView::client` is not consulted. The group's actors
    /// are looked up and their states touched first, so that the cache misses on a large
    /// actor table overlap; the result is the same as recording the requests one by one.
    pub fn apply_group(&mut self, group: &[(RequestView<'_>, IpAddr)]) {
        let layout = &*self.layout;
        self.placed.clear();
        for (r, client) in group {
            let t = key_of(r.time);
            let actor = self.tally.actor(&layout.scanners, canonical(*client), t);
            let svc = layout.source_service.get(r.source.0 as usize).copied();
            let svc = svc.unwrap_or(layout.unassigned);
            let seg = layout.negatives[svc as usize].partition_point(|n| *n < t) as u32;
            self.placed.push(Placed { actor, svc, seg, t });
        }
        let mut warm = 0;
        for p in &self.placed {
            warm ^= self.tally.touch(p.actor);
            warm ^= self.segments[p.svc as usize][p.seg as usize].actors.peek(p.actor);
        }
        std::hint::black_box(warm);
        for ((r, _), p) in group.iter().zip(&self.placed) {
            let rec = self.tally.record(&layout.scanners, r, p.actor, p.svc, p.t);
            let cell = &mut self.segments[p.svc as usize][p.seg as usize];
            let track = layout.track_path_firsts[p.svc as usize];
            cell.add_request(rec.hit, rec.path, r.bytes, rec.success, rec.scanner, track);
            self.rate.add(Correlator::minute(p.t), 1);
            self.requests += 1;
        }
    }
}

/// Where a request of a group is recorded: its actor, service, segment and time.
#[derive(Debug, Clone, Copy)]
struct Placed {
    actor: u32,
    svc: u32,
    seg: u32,
    t: TimeKey,
}

impl Correlator {
    /// Seal (see [`Correlator::seal`]) and hand out `n` empty shards for a parallel batch
    /// run; every one must come back through [`Correlator::absorb`]. No scan observation
    /// may be applied between the two (batch runs read every scan first).
    pub fn shards(&mut self, n: usize) -> Vec<Shard> {
        self.seal();
        let unassigned = self.service_id(super::engine::UNASSIGNED_SERVICE);
        let source_service =
            (0..self.sources.len()).map(|i| self.service_of_source(SourceId(i as u32))).collect();
        let layout = Arc::new(Layout {
            scanners: self.scanners.clone(),
            negatives: self
                .services
                .iter()
                .map(|s| s.negatives.iter().map(|(t, _)| *t).collect())
                .collect(),
            source_service,
            unassigned,
            track_path_firsts: self.services.iter().map(|s| s.track_path_firsts).collect(),
        });
        // The detail cap is shared out: every shard keeps its part (an actor lives in one).
        let cap = self.tally.actors.detail_cap().div_ceil(n.max(1));
        // Shards hold disjoint addresses; if the tally holds none either, each shard's
        // actors can be appended whole (`Correlator::absorb`).
        let split = self.split.0 + 1;
        self.split = (split, self.tally.actors.is_empty().then_some(0));
        (0..n.max(1))
            .map(|_| Shard {
                segments: layout
                    .negatives
                    .iter()
                    .map(|n| vec![Cell::default(); n.len() + 1])
                    .collect(),
                layout: Arc::clone(&layout),
                tally: Tally::with_detail(self.tally.detail, cap),
                rate: MinuteCounts::default(),
                requests: 0,
                placed: Vec::new(),
                split,
            })
            .collect()
    }

    /// Fold every shard in, as [`Correlator::absorb`] on each in turn, with the tables
    /// sized once for all of them instead of grown shard by shard (each growth rehashes
    /// everything absorbed so far).
    pub fn absorb_all(&mut self, shards: Vec<Shard>) {
        let mut shards = shards.into_iter();
        // The first is absorbed alone: into an empty correlator it is taken whole, tables
        // and all, so sizing before it would be wasted.
        let Some(first) = shards.next() else { return };
        self.absorb(first);
        let mut rest: Vec<Shard> = shards.collect();
        // Their address indexes are not needed to fold them in (their states are): freed
        // before this one's grows for them.
        for s in &mut rest {
            s.tally.actors.drop_index();
        }
        self.tally.actors.reserve_for(rest.iter().map(|s| &s.tally.actors));
        for (svc, state) in self.services.iter_mut().enumerate() {
            let mut room = vec![(0, 0); state.segments.len()];
            for cell in rest.iter().flat_map(|s| &s.segments[svc]).filter(|c| !c.is_empty()) {
                let i = state.segment_of(cell.first_pos.unwrap_or_default());
                room[i].0 += cell.actors.len();
                room[i].1 += cell.paths.len();
            }
            for (segment, (actors, paths)) in state.segments.iter_mut().zip(room) {
                segment.actors.reserve(actors);
                segment.paths.reserve(paths);
            }
        }
        for shard in rest {
            self.absorb(shard);
        }
    }

    /// Fold a shard's requests in (see the module docs).
    pub fn absorb(&mut self, shard: Shard) {
        // Every actor here came from this split's shards, which share no address: this
        // shard's actors are all new.
        let disjoint = shard.split == self.split.0 && self.split.1 == Some(self.tally.actors.len());
        let maps = self.tally.absorb(shard.tally, disjoint);
        self.split.1 = disjoint.then_some(self.tally.actors.len());
        for (svc, segments) in shard.segments.into_iter().enumerate() {
            let state = &mut self.services[svc];
            for cell in segments.into_iter().filter(|c| !c.is_empty()) {
                // The segment a cell belongs to, located by its evidence (equal to its
                // index while no negative was added since `shards`).
                let i = state.segment_of(cell.first_pos.unwrap_or_default());
                state.segments[i].absorb(cell, &maps);
            }
        }
        for (minute, n) in shard.rate.finish() {
            self.rate.entry(minute).or_insert([0, 0])[0] += n;
        }
        self.events += shard.requests;
    }
}

/// Counts per Unix minute, for evidence that arrives mostly in time order: consecutive
/// additions to the same minute are summed before they touch the map.
#[derive(Debug, Default)]
pub(crate) struct MinuteCounts {
    map: BTreeMap<i64, u64>,
    current: Option<(i64, u64)>,
}

impl MinuteCounts {
    pub fn add(&mut self, minute: i64, n: u64) {
        match &mut self.current {
            Some((m, count)) if *m == minute => *count += n,
            current => {
                if let Some((m, count)) = current.replace((minute, n)) {
                    *self.map.entry(m).or_insert(0) += count;
                }
            }
        }
    }

    /// Every minute with its count, in time order.
    pub fn finish(mut self) -> BTreeMap<i64, u64> {
        if let Some((m, count)) = self.current.take() {
            *self.map.entry(m).or_insert(0) += count;
        }
        self.map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_spread_over_shards_and_mapped_v4_goes_with_v4() {
        let mut counts = [0_u32; 4];
        for i in 0..2000_u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0xc633_6400 + i));
            counts[Shard::index_of(ip, 4)] += 1;
        }
        assert!(counts.iter().all(|&c| (350..650).contains(&c)), "{counts:?}");
        let v4: IpAddr = "198.51.100.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:198.51.100.7".parse().unwrap();
        assert_eq!(Shard::index_of(v4, 7), Shard::index_of(mapped, 7));
        assert_eq!(Shard::index_of(v4, 1), 0);
    }

    #[test]
    fn minute_counts_sum_runs_and_revisits() {
        let mut m = MinuteCounts::default();
        for (minute, n) in [(5, 1), (5, 2), (3, 1), (5, 4), (9, 1), (9, 1)] {
            m.add(minute, n);
        }
        assert_eq!(m.finish().into_iter().collect::<Vec<_>>(), [(3, 1), (5, 7), (9, 2)]);
        assert!(MinuteCounts::default().finish().is_empty());
    }
}
