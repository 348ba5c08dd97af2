//! Deriving a `Snapshot` from the correlator's state: windows from segments and cells,
//! actor summaries, the rate series. Pure; the cost is linear in the state size.

use std::borrow::Cow;
use std::cmp::Reverse;

use std::collections::BinaryHeap;

use chrono::{DateTime, Utc};

use super::actors::Actors;
use super::classify::class_of;
use super::engine::{ActorDetail, Correlator, ServiceState};
use super::windows::{Cell, HitRef, PathTally, min_hit, time_of};
use crate::model::snapshot::{
    ActorClass, ActorSummary, Coverage, EvidenceCount, Hit, PathCount, RateSeries, SensitiveCount,
    ServiceState as State, ServiceSummary, Stats, Window, WindowStatus,
};
use crate::model::{SensitivePath, Snapshot};

/// Paths listed per window and per actor.
pub const TOP_PATHS: usize = 10;
/// User agents listed per actor.
pub const TOP_AGENTS: usize = 5;
/// The rate series never has more buckets than this.
pub const MAX_RATE_BUCKETS: i64 = 2000;

pub(crate) fn build(
    c: &Correlator,
    as_of: DateTime<Utc>,
    detail: ActorDetail,
    groups: bool,
) -> Snapshot {
    let ledger = &c.tally.actors;
    let mut order: Vec<usize> = (0..c.configured).collect();
    let mut extra: Vec<usize> = (c.configured..c.services.len()).collect();
    extra.sort_by(|&a, &b| c.services[a].name.cmp(&c.services[b].name));
    order.extend(extra);
    let unread = super::coverage::Unread::of(c);
    // Actors a service or window names (its first request, first non-scanner success…):
    // always listed, so every hit shown can be looked up.
    let mut named: Vec<u32> = Vec::new();
    let mut services = Vec::new();
    for i in order {
        let s = &c.services[i];
        if s.name == super::engine::UNASSIGNED_SERVICE && !has_activity(s) {
            continue;
        }
        let mut summary = service_summary(c, s, &mut named);
        super::coverage::fill_service(c, &unread, i, &mut summary);
        services.push(summary);
    }
    let actors: Vec<ActorSummary> = listed_actors(ledger, c.actor_limit, named)
        .into_iter()
        .map(|id| actor_summary(c, id, class(ledger, id), detail))
        .collect();
    let actor_groups = if groups { actor_groups(c) } else { Vec::new() };
    // What the databases say about the listed actors (each address looked up once over the
    // enricher's life: cached). After `actor_groups`, so that its lookups' failures are in
    // the errors this carries.
    let enrichment = c
        .enricher
        .as_ref()
        .map(|e| e.annotate(&mut actors.iter().map(|a| a.client)))
        .unwrap_or_default();
    let mut gaps = c.gaps.clone();
    gaps.sort_by(|a, b| {
        (a.from, &a.path, &a.reason, a.source).cmp(&(b.from, &b.path, &b.reason, b.source))
    });
    Snapshot {
        as_of,
        case_name: c.setup.name.clone(),
        timezone: c.setup.timezone.name().to_string(),
        sources: c.sources.clone(),
        services,
        actors_total: ledger.len() as u64,
        actor_groups,
        gaps,
        rate: rate_series(c),
        stats: Stats {
            lines: c.sources.iter().map(|s| s.lines).sum(),
            events: c.events,
            malformed: c.sources.iter().map(|s| s.malformed).sum(),
            elapsed_ms: 0,
        },
        coverage: unread.overall(c),
        duplicates: super::coverage::duplicates(c),
        enrichment,
        actors,
    }
}

/// Every actor aggregated by each key (see `groups.rs`): the network prefix, and with
/// enrichment the network (ASN), country and range list. Every actor of the ledger is looked
/// up for those, listed or not (the answers are folded in, not kept).
pub(crate) fn actor_groups(c: &Correlator) -> Vec<crate::model::snapshot::ActorGroups> {
    let ledger = &c.tally.actors;
    let mut out =
        vec![super::groups::aggregate(ledger, &super::groups::prefix(ledger), c.actor_limit)];
    if let Some(e) = &c.enricher {
        out.extend(super::groups::enrichment_groups(ledger, e.as_ref(), c.actor_limit));
    }
    out
}

/// The actors a snapshot lists, in snapshot order: bytes descending, then requests
/// descending, then client ascending (clients are distinct, so the order is total). With a
/// `limit`, the top `limit` by bytes, the top `limit` by requests and the `named` ones; else
/// all. Small keys are ranked and each summary built in place.
fn listed_actors(ledger: &Actors, limit: Option<usize>, mut named: Vec<u32>) -> Vec<u32> {
    let by_bytes = |id: u32| {
        let a = ledger.totals(id);
        (Reverse(a.bytes), Reverse(a.requests), ledger.ip_key(id), id)
    };
    let ids = 0..ledger.len() as u32;
    let Some(limit) = limit else {
        // Every actor: sorted on 24-byte keys (the address, 32 bytes with its alignment,
        // only orders the rare runs of equal bytes and requests).
        let mut keys: Vec<(Reverse<u64>, Reverse<u64>, u32)> = ids
            .map(|id| {
                let a = ledger.totals(id);
                (Reverse(a.bytes), Reverse(a.requests), id)
            })
            .collect();
        keys.sort_unstable();
        let mut out: Vec<u32> = keys.iter().map(|k| k.2).collect();
        let mut start = 0;
        for run in keys.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let end = start + run.len();
            if run.len() > 1 {
                out[start..end].sort_unstable_by_key(|&id| ledger.ip_key(id));
            }
            start = end;
        }
        return out;
    };
    let by_requests = |id: u32| {
        let a = ledger.totals(id);
        (Reverse(a.requests), Reverse(a.bytes), ledger.ip_key(id), id)
    };
    named.extend(top(ids.clone(), limit, by_bytes).into_iter().map(|k| k.3));
    named.extend(top(ids, limit, by_requests).into_iter().map(|k| k.3));
    let mut keys: Vec<_> = named.into_iter().map(by_bytes).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter().map(|k| k.3).collect()
}

/// The `limit` smallest keys (memory: `limit` keys, whatever the number of ids).
fn top<K: Ord>(ids: impl Iterator<Item = u32>, limit: usize, key: impl Fn(u32) -> K) -> Vec<K> {
    let mut heap: BinaryHeap<K> = BinaryHeap::with_capacity(limit.min(1 << 16) + 1);
    if limit == 0 {
        return Vec::new();
    }
    for id in ids {
        let k = key(id);
        if heap.len() < limit {
            heap.push(k);
        } else if heap.peek().is_some_and(|worst| k < *worst) {
            heap.pop();
            heap.push(k);
        }
    }
    heap.into_vec()
}

fn has_activity(s: &ServiceState) -> bool {
    s.internal_requests + s.unattributed_requests + s.forwarded_unknown_requests > 0
        || !s.scans.is_empty()
        || !s.cells.is_empty()
        || s.segments.iter().any(|c| !c.is_empty())
}

fn hit(c: &Correlator, h: &HitRef) -> Hit {
    Hit {
        time: time_of(h.at.time),
        client: if (h.actor as usize) < c.tally.actors.len() {
            c.tally.actors.ip(h.actor).to_string()
        } else {
            String::new()
        },
        user_agent: c.tally.strings.get(h.user_agent).to_string(),
        method: c.tally.strings.get(h.method).to_string(),
        path: c.tally.strings.get(h.target).to_string(),
        status: h.status,
    }
}

fn top_paths(c: &Correlator, counts: impl Iterator<Item = (u32, u64)>) -> Vec<PathCount> {
    let mut v: Vec<PathCount> = counts
        .map(|(p, n)| PathCount {
            path: c.tally.strings.get(p).to_string(),
            requests: n,
            successes: None,
            bytes: None,
        })
        .collect();
    v.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.path.cmp(&b.path)));
    v.truncate(TOP_PATHS);
    v
}

/// A window's most requested paths with their successes and bytes (exact: from the
/// window's per-path tallies).
fn window_paths(c: &Correlator, cell: &Cell) -> Vec<PathCount> {
    let mut keys: Vec<(Reverse<u64>, &str, PathTally)> = cell
        .paths
        .iter()
        .map(|(&p, &t)| (Reverse(t.requests), c.tally.strings.get(p), t))
        .collect();
    keys.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    keys.truncate(TOP_PATHS);
    keys.into_iter()
        .map(|(_, path, t)| PathCount {
            path: path.to_string(),
            requests: t.requests,
            successes: Some(t.successes),
            bytes: Some(t.bytes),
        })
        .collect()
}

/// A window's counts per `sensitive` rule: each distinct path of the window is matched once
/// against the rules (services without rules skip this), and a rule's first success is the
/// earliest of its paths' first successes.
fn sensitive_counts(c: &Correlator, rules: &[SensitivePath], cell: &Cell) -> Vec<SensitiveCount> {
    let mut out: Vec<(SensitiveCount, Option<HitRef>)> = rules
        .iter()
        .map(|r| {
            let count = SensitiveCount {
                label: r.label.clone(),
                path: r.path.clone(),
                requests: 0,
                successes: 0,
                bytes: 0,
                first_success: None,
            };
            (count, None)
        })
        .collect();
    if rules.is_empty() {
        return Vec::new();
    }
    for (&p, t) in &cell.paths {
        let path = c.tally.strings.get(p);
        for (rule, (count, first)) in rules.iter().zip(out.iter_mut()) {
            if rule.matches(path) {
                count.requests += t.requests;
                count.successes += t.successes;
                count.bytes = count.bytes.saturating_add(t.bytes);
                min_hit(first, cell.path_firsts.get(&p).copied());
            }
        }
    }
    out.into_iter()
        .map(|(mut count, first)| {
            count.first_success = first.map(|h| hit(c, &h));
            count
        })
        .collect()
}

/// Actor `id`'s class.
fn class(ledger: &Actors, id: u32) -> ActorClass {
    let a = ledger.state(id);
    class_of(ledger.scanner(id), a.tool(), a.browser())
}

/// First success among non-scanner actors of a cell.
fn first_non_scanner(ledger: &Actors, cell: &Cell) -> Option<HitRef> {
    let mut best = None;
    for (actor, first_success) in cell.actors.successes() {
        if (actor as usize) >= ledger.len() || class(ledger, actor) != ActorClass::Scanner {
            min_hit(&mut best, Some(first_success));
        }
    }
    best
}

fn service_summary(c: &Correlator, s: &ServiceState, named: &mut Vec<u32>) -> ServiceSummary {
    let rules: &[SensitivePath] = c
        .setup
        .services
        .iter()
        .find(|cfg| cfg.name == s.name)
        .map_or(&[], |cfg| cfg.sensitive.as_slice());
    let mut windows = Vec::new();
    // Each window's evidence, for the service totals. A segment without detail cells (every
    // segment of a sealed batch run) is borrowed, not copied.
    let mut parts: Vec<(Cow<'_, Cell>, Option<HitRef>)> = Vec::new();
    for (i, segment) in s.segments.iter().enumerate() {
        let lower = i.checked_sub(1).map(|j| s.negatives[j]);
        let upper = s.negatives.get(i).copied();
        let range = (
            lower.map_or(std::ops::Bound::Unbounded, |n| std::ops::Bound::Excluded(n.0)),
            upper.map_or(std::ops::Bound::Unbounded, |n| std::ops::Bound::Included(n.0)),
        );
        let mut acc = Cow::Borrowed(segment);
        for (_, cell) in s.cells.range(range) {
            acc.to_mut().merge(cell);
        }
        let (Some(first), Some(last)) = (acc.first_pos, acc.last_pos) else { continue };
        let non_scanner = first_non_scanner(&c.tally.actors, &acc);
        named.extend(acc.first.iter().chain(&non_scanner).map(|h| h.actor));
        named.extend(acc.path_firsts.values().map(|h| h.actor));
        windows.push(Window {
            opened_earliest: lower.map(|n| time_of(n.0)),
            opened_latest: time_of(first),
            closed_earliest: time_of(last),
            closed_latest: upper.map(|n| time_of(n.0)),
            status: if upper.is_some() { WindowStatus::Closed } else { WindowStatus::Open },
            external_requests: acc.requests,
            external_successes: acc.successes,
            external_bytes: acc.bytes,
            external_clients: acc.actors.len() as u64,
            first_external: acc.first.as_ref().map(|h| hit(c, h)),
            first_non_scanner_success: non_scanner.map(|h| hit(c, &h)),
            evidence: EvidenceCount {
                positive: acc.positives(),
                negative: upper.map_or(0, |n| n.1),
            },
            top_paths: window_paths(c, &acc),
            sensitive: sensitive_counts(c, rules, &acc),
        });
        parts.push((acc, non_scanner));
    }
    // The totals over every window: one window's are its own (no merged copy of its
    // tables); several are merged. The first non-scanner success of the union is the
    // earliest of the windows' (a minimum of minima; windows never share an instant).
    let (total, total_non_scanner) = match parts.len() {
        0 | 1 => parts.pop().unwrap_or_default(),
        _ => {
            let mut total = Cell::default();
            let mut non_scanner = None;
            for (acc, first) in &parts {
                total.merge(acc);
                min_hit(&mut non_scanner, *first);
            }
            (Cow::Owned(total), non_scanner)
        }
    };
    let state = match windows.last() {
        None => State::NeverExposed,
        Some(w) if w.status == WindowStatus::Open => State::Open,
        Some(_) => State::Closed,
    };
    let mut scans = s.scans.clone();
    scans.sort_by(|a, b| {
        (a.time, a.source, a.line, &a.target).cmp(&(b.time, b.source, b.line, &b.target))
    });
    ServiceSummary {
        name: s.name.clone(),
        addresses: s.addresses.clone(),
        state,
        external_requests: total.requests,
        external_successes: total.successes,
        external_bytes: total.bytes,
        external_clients: total.actors.len() as u64,
        internal_requests: s.internal_requests,
        unattributed_requests: s.unattributed_requests,
        forwarded_unknown_requests: s.forwarded_unknown_requests,
        first_external: total.first.as_ref().map(|h| hit(c, h)),
        first_non_scanner_success: total_non_scanner.map(|h| hit(c, &h)),
        windows,
        scans,
        coverage: Coverage::default(),
    }
}

fn actor_summary(c: &Correlator, id: u32, class: ActorClass, detail: ActorDetail) -> ActorSummary {
    let ledger = &c.tally.actors;
    let a = ledger.totals(id);
    let mut services: Vec<String> =
        ledger.services(id).map(|i| c.services[i as usize].name.clone()).collect();
    services.sort();
    let full = detail == ActorDetail::Full;
    let lists = c.tally.actors.lists(id);
    let mut agents: Vec<(String, u64)> = Vec::new();
    if full {
        agents = lists
            .agents
            .iter()
            .map(|&(u, n)| (c.tally.strings.get(u).to_string(), u64::from(n)))
            .collect();
        agents.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        agents.truncate(TOP_AGENTS);
    }
    ActorSummary {
        client: ledger.ip(id),
        class,
        scanner: ledger
            .scanner(id)
            .and_then(|i| c.scanners.entries.get(i as usize))
            .map(|e| e.name.clone()),
        first_seen: time_of(a.first),
        last_seen: time_of(a.last),
        requests: a.requests,
        successes: a.successes,
        bytes: a.bytes,
        services,
        top_paths: if full {
            top_paths(c, lists.paths.iter().map(|&(p, n)| (p, u64::from(n))))
        } else {
            Vec::new()
        },
        user_agents: agents,
        statuses: if full { lists.status_map() } else { std::collections::BTreeMap::new() },
        detail_dropped: full && ledger.state(id).detail_dropped(),
    }
}

/// Adaptive bucket size: the smallest "round" step (≥ 1 minute) that keeps the series at or
/// under `MAX_RATE_BUCKETS` buckets.
fn rate_series(c: &Correlator) -> RateSeries {
    let (Some((&first, _)), Some((&last, _))) = (c.rate.first_key_value(), c.rate.last_key_value())
    else {
        return RateSeries::default();
    };
    let span_minutes = last - first + 1;
    let steps = [1_i64, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080];
    let step = steps
        .iter()
        .copied()
        .find(|s| (span_minutes + s - 1) / s < MAX_RATE_BUCKETS)
        .unwrap_or_else(|| span_minutes / (MAX_RATE_BUCKETS - 1) + 1);
    let start = first.div_euclid(step) * step;
    let n = ((last - start) / step + 1) as usize;
    let mut external = vec![0_u64; n];
    let mut internal = vec![0_u64; n];
    for (&minute, counts) in &c.rate {
        let i = ((minute - start) / step) as usize;
        external[i] += counts[0];
        internal[i] += counts[1];
    }
    RateSeries {
        start: DateTime::from_timestamp(start * 60, 0),
        bucket_secs: (step * 60) as u32,
        external,
        internal,
    }
}
