//! Deriving a `Snapshot` from the correlator's state: windows from segments and cells,
//! actor summaries, the rate series. Pure; the cost is linear in the state size.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::actors::ActorState;
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

pub(crate) fn build(c: &Correlator, as_of: DateTime<Utc>, detail: ActorDetail) -> Snapshot {
    let classes: Vec<ActorClass> =
        c.tally.actors.states.iter().map(|a| class_of(a.scanner(), a.tool, a.browser)).collect();
    let mut order: Vec<usize> = (0..c.configured).collect();
    let mut extra: Vec<usize> = (c.configured..c.services.len()).collect();
    extra.sort_by(|&a, &b| c.services[a].name.cmp(&c.services[b].name));
    order.extend(extra);
    let unread = super::coverage::Unread::of(c);
    let services = order
        .into_iter()
        .filter(|&i| {
            c.services[i].name != super::engine::UNASSIGNED_SERVICE || has_activity(&c.services[i])
        })
        .map(|i| {
            let mut summary = service_summary(c, &c.services[i], &classes);
            super::coverage::fill_service(c, &unread, i, &mut summary);
            summary
        })
        .collect();
    let states = &c.tally.actors.states;
    let actors: Vec<ActorSummary> = actor_order(states)
        .into_iter()
        .map(|i| actor_summary(c, i as u32, &states[i], classes[i], detail))
        .collect();
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
        enrichment: c
            .enricher
            .as_ref()
            .map(|e| e.annotate(&mut actors.iter().map(|a| a.client)))
            .unwrap_or_default(),
        actors,
    }
}

/// Actor indices in snapshot order: bytes descending, then requests descending, then client
/// ascending. Sorting small keys and building each summary in place avoids moving the large
/// summaries around. Clients are distinct, so the order is total and an unstable sort gives
/// the one possible result.
fn actor_order(states: &[ActorState]) -> Vec<usize> {
    let mut keys: Vec<(Reverse<u64>, Reverse<u64>, IpAddr, u32)> = states
        .iter()
        .enumerate()
        .map(|(i, a)| (Reverse(a.bytes), Reverse(a.requests), a.ip, i as u32))
        .collect();
    keys.sort_unstable();
    keys.into_iter().map(|k| k.3 as usize).collect()
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
        client: c
            .tally
            .actors
            .states
            .get(h.actor as usize)
            .map_or_else(String::new, |a| a.ip.to_string()),
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

/// First success among non-scanner actors of a cell.
fn first_non_scanner(cell: &Cell, classes: &[ActorClass]) -> Option<HitRef> {
    let mut best = None;
    for (actor, first_success) in cell.actors.iter() {
        if classes.get(actor as usize) != Some(&ActorClass::Scanner) {
            min_hit(&mut best, first_success);
        }
    }
    best
}

fn service_summary(c: &Correlator, s: &ServiceState, classes: &[ActorClass]) -> ServiceSummary {
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
        let non_scanner = first_non_scanner(&acc, classes);
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

fn actor_summary(
    c: &Correlator,
    id: u32,
    a: &ActorState,
    class: ActorClass,
    detail: ActorDetail,
) -> ActorSummary {
    let mut services: Vec<String> =
        a.services.iter().map(|&i| c.services[i as usize].name.clone()).collect();
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
        client: a.ip,
        class,
        scanner: a
            .scanner()
            .and_then(|i| c.scanners.entries.get(i as usize))
            .map(|e| e.name.clone()),
        first_seen: time_of(a.first_seen),
        last_seen: time_of(a.last_seen),
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
