//! The per-request bookkeeping of external traffic that the correlator and its batch shards
//! share: the actor table, the interned strings, and the user-agent classification cache.
//!
//! [`Tally::record`] is the one place an external request is turned into actor totals and
//! interned ids; [`Tally::absorb`] folds another tally (a shard's) into this one and says how
//! the other's ids map onto this one's, so cells holding those ids can be translated.

use std::net::IpAddr;

use super::actors::{ActorState, Actors};
use super::classify::{ScannerDb, UaFlags, user_agent_flags};
use super::dense::Shift;
use super::engine::{ActorDetail, RequestView};
use super::intern::{IdMap, Interner};
use super::windows::{HitRef, OrderKey, TimeKey};

/// Actors, interned strings and user-agent flags of external requests.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    pub actors: Actors,
    pub strings: Interner,
    ua_flags: IdMap<u32, UaFlags>,
    /// Whether actors record their paths, agents and status counts.
    pub detail: ActorDetail,
}

/// What one recorded request contributes to its service's positive evidence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recorded {
    pub hit: HitRef,
    /// Interned path (target without query).
    pub path: u32,
    pub success: bool,
    /// A success of an actor that is (with this request) a scanner: see
    /// [`super::windows::Cell::add_request`].
    pub scanner: bool,
}

/// How the ids of an absorbed tally map onto the absorbing one (index = old id).
#[derive(Debug, Default)]
pub(crate) struct IdMaps {
    /// `None` when the ids are unchanged: the absorbing tally was empty and took the other
    /// one whole (a batch run's first shard), so nothing needs translating.
    remap: Option<Remap>,
}

#[derive(Debug)]
struct Remap {
    strings: Vec<u32>,
    actors: ActorIds,
}

/// Where an absorbed tally's actors went.
#[derive(Debug)]
enum ActorIds {
    /// Merged one by one: `ids[old]`.
    Table(Vec<u32>),
    /// Appended whole (disjoint addresses): see [`Shift`].
    Shifted(Shift),
}

impl IdMaps {
    /// Whether every id keeps its value.
    #[must_use]
    pub fn is_identity(&self) -> bool {
        self.remap.is_none()
    }

    #[must_use]
    pub fn string(&self, id: u32) -> u32 {
        self.remap.as_ref().map_or(id, |m| m.strings[id as usize])
    }

    #[must_use]
    pub fn actor(&self, id: u32) -> u32 {
        match self.remap.as_ref().map(|m| &m.actors) {
            None => id,
            Some(ActorIds::Table(ids)) => ids[id as usize],
            Some(ActorIds::Shifted(shift)) => shift.map(id as usize) as u32,
        }
    }

    #[must_use]
    pub fn hit(&self, h: HitRef) -> HitRef {
        if self.is_identity() {
            return h;
        }
        HitRef {
            actor: self.actor(h.actor),
            user_agent: self.string(h.user_agent),
            method: self.string(h.method),
            target: self.string(h.target),
            ..h
        }
    }
}

impl Tally {
    /// An empty tally recording `detail`, for at most `cap` actors at once (see
    /// [`Actors::set_detail_cap`]).
    #[must_use]
    pub fn with_detail(detail: ActorDetail, cap: usize) -> Tally {
        let mut tally = Tally { detail, ..Tally::default() };
        tally.actors.set_detail_cap(cap);
        tally
    }

    /// The id of the actor `client` (already canonical), created first seen at `t` when new.
    pub fn actor(&mut self, scanners: &ScannerDb, client: IpAddr, t: TimeKey) -> u32 {
        self.actors.id(client, t, || scanners.match_address(client))
    }

    /// Read every part of `actor`'s state that [`Tally::record`] will touch. Calling this
    /// for a group of requests before recording them lets the group's cache misses overlap
    /// (the loads are independent) instead of queueing one behind the other: the actor
    /// table is large and each request lands on a random actor.
    #[must_use]
    pub fn touch(&self, actor: u32) -> u64 {
        let totals = self.actors.get(actor).map_or(0, ActorState::touch);
        if self.detail == ActorDetail::Full {
            totals ^ self.actors.lists(actor).touch()
        } else {
            totals
        }
    }

    /// Record one external request of `actor` (from [`Tally::actor`]) on service `svc` at
    /// `t`: the actor's totals and detail, the interned strings.
    pub fn record(
        &mut self,
        scanners: &ScannerDb,
        r: &RequestView<'_>,
        actor: u32,
        svc: u32,
        t: TimeKey,
    ) -> Recorded {
        let ua = self.strings.intern(r.user_agent);
        let flags =
            *self.ua_flags.entry(ua).or_insert_with(|| user_agent_flags(scanners, r.user_agent));
        let method = self.strings.intern(r.method);
        let target = self.strings.intern(r.target);
        let path =
            if r.path.len() == r.target.len() { target } else { self.strings.intern(r.path) };
        let success = crate::model::is_success_status(r.status);
        self.actors.record(actor, t, svc, flags, r.bytes, success);
        if self.detail == ActorDetail::Full {
            if let Some(lists) = self.actors.lists_mut(actor) {
                lists.record(path, ua, r.status);
            }
        }
        let hit = HitRef {
            at: OrderKey { time: t, source: r.source.0, line: r.line },
            actor,
            user_agent: ua,
            method,
            target,
            status: r.status,
        };
        let scanner = success && self.actors.is_scanner(actor);
        Recorded { hit, path, success, scanner }
    }

    /// Fold `other` into this tally. An actor present in both is merged as if `other`'s
    /// requests had been recorded after this tally's (which is exact when each actor's
    /// requests all went to one tally, as with batch shards).
    ///
    /// An empty tally (a batch run's correlator, before its first shard) takes `other` whole:
    /// no string is re-interned, no actor moved, and the maps are the identity. With
    /// `disjoint` (the caller knows no address of `other` is in this tally: batch shards),
    /// `other`'s actors are appended without being copied (see [`Actors::append_disjoint`]).
    pub fn absorb(&mut self, other: Tally, disjoint: bool) -> IdMaps {
        if self.actors.is_empty() && self.strings.is_empty() && self.ua_flags.is_empty() {
            let (detail, cap) = (self.detail, self.actors.detail_cap());
            *self = other;
            self.detail = detail;
            self.actors.set_detail_cap(cap);
            return IdMaps { remap: None };
        }
        let strings: Vec<u32> = other.strings.iter().map(|s| self.strings.intern(s)).collect();
        for (ua, flags) in other.ua_flags {
            self.ua_flags.insert(strings[ua as usize], flags);
        }
        if disjoint {
            let shift = self.actors.append_disjoint(other.actors, &strings);
            return IdMaps { remap: Some(Remap { strings, actors: ActorIds::Shifted(shift) }) };
        }
        // Sized once for every actor of `other`: no rehash on the way.
        self.actors.reserve_for([&other.actors]);
        // Sized once (the parts come out of chunks: no size hint to grow by).
        let mut actors = Vec::with_capacity(other.actors.len());
        actors.extend(other.actors.into_parts().map(|mut p| {
            if let Some(lists) = &mut p.lists {
                lists.remap_strings(&strings);
            }
            self.actors.absorb(p)
        }));
        IdMaps { remap: Some(Remap { strings, actors: ActorIds::Table(actors) }) }
    }
}
