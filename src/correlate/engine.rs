//! `Correlator`: owns the incremental state (see `correlate.rs` for the design).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::classify::ScannerDb;
use super::fingerprint::{Sample, fingerprint};
use super::scan_match::{AddressSpec, host_level_covers, host_name, target_name};
use super::tally::Tally;
use super::windows::{Cell, TimeKey, key_of};
use crate::model::enrichment::ActorLookup;
use crate::model::snapshot::{Gap, GapKind, ScanMark, SourceHealth, UnmatchedTargets};
use crate::model::{
    CoveredPorts, Event, PortState, Request, ScanObservation, ScanTool, ScannerState, Snapshot,
    SourceId, SourceKind,
};
use crate::model::{SensitivePath, Vantage};

// Moved to `model` so that `ingest` can use it too; re-exported where it always was.
pub use crate::model::clients::{ClientFilter, canonical};

/// What the correlator needs of a case: built by the shell from its configuration
/// (`config::CaseConfig::setup`), so that the engine never reads a config file.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    pub name: String,
    /// Display time zone (the snapshot names it).
    pub timezone: chrono_tz::Tz,
    /// Which clients are ours (`internal` and `allow`).
    pub filter: ClientFilter,
    /// Configured services, in config order.
    pub services: Vec<ServiceSetup>,
    /// Configured scan globs, in config order (coverage: a glob no source came from is
    /// unread).
    pub scan_patterns: Vec<String>,
}

/// One configured service, as the correlator needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSetup {
    pub name: String,
    pub addresses: Vec<AddressSpec>,
    /// Access globs, in config order (coverage).
    pub access_patterns: Vec<String>,
    pub sensitive: Vec<SensitivePath>,
}

/// What the shell tells the correlator about a source when it starts reading it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    pub path: String,
    pub kind: SourceKind,
    pub format: String,
    /// The service an access source feeds (empty for scans).
    pub service: String,
    /// Scans only: whether the scan's observations are exposure evidence.
    pub vantage: Vantage,
}

/// The service that requests from an unregistered source (or one registered without a
/// service) are attributed to.
pub const UNASSIGNED_SERVICE: &str = "(unassigned)";

/// A request as the correlator needs it, borrowed from wherever it was parsed.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    pub time: DateTime<Utc>,
    pub source: SourceId,
    pub line: u64,
    pub client: Option<IpAddr>,
    pub status: u16,
    pub bytes: u64,
    pub method: &'a str,
    /// Path and query as logged (the raw request line when it did not split).
    pub target: &'a str,
    /// The path without query (the raw request line when it did not split).
    pub path: &'a str,
    pub user_agent: &'a str,
    /// See `Request::forwarded_unknown`.
    pub forwarded_unknown: bool,
}

impl<'a> RequestView<'a> {
    #[must_use]
    pub fn of(r: &'a Request) -> Self {
        RequestView {
            time: r.time,
            source: r.source,
            line: r.line,
            client: r.client,
            status: r.status,
            bytes: r.bytes_sent,
            method: &r.method,
            target: if r.target.is_empty() { &r.raw_request } else { &r.target },
            path: r.path(),
            user_agent: &r.user_agent,
            forwarded_unknown: r.forwarded_unknown,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SourceMeta {
    pub service: Option<u32>,
    pub vantage: Vantage,
}

/// Per-service state.
#[derive(Debug, Clone)]
pub(crate) struct ServiceState {
    pub name: String,
    pub addresses: Vec<String>,
    /// Distinct negative evidence times, ascending, with the number of observations at each.
    pub negatives: Vec<(TimeKey, u64)>,
    /// `negatives.len() + 1` segments; segment i holds positives in (n[i-1], n[i]].
    /// Filled only in sealed mode.
    pub segments: Vec<Cell>,
    /// Detail mode: positives by exact time.
    pub cells: BTreeMap<TimeKey, Cell>,
    pub scans: Vec<ScanMark>,
    pub internal_requests: u64,
    pub unattributed_requests: u64,
    pub forwarded_unknown_requests: u64,
    /// Whether the service has `sensitive` rules: its cells then keep each path's first
    /// success (no other service pays for it).
    pub track_path_firsts: bool,
}

impl ServiceState {
    fn new(name: String, addresses: Vec<String>) -> Self {
        ServiceState {
            name,
            addresses,
            negatives: Vec::new(),
            segments: vec![Cell::default()],
            cells: BTreeMap::new(),
            scans: Vec::new(),
            internal_requests: 0,
            unattributed_requests: 0,
            forwarded_unknown_requests: 0,
            track_path_firsts: false,
        }
    }

    /// Index of the segment a positive at `t` falls in (positives sort before negatives at
    /// equal times, so a positive at exactly a negative's time belongs to the segment it ends).
    pub(crate) fn segment_of(&self, t: TimeKey) -> usize {
        self.negatives.partition_point(|n| n.0 < t)
    }
}

/// One observation of a scan target that matches no service and has not been seen `open`
/// (a `ScanMark` without its target name, which is the key it is stored under).
#[derive(Debug, Clone)]
struct PendingMark {
    time: DateTime<Utc>,
    state: PortState,
    scanner_state: Option<ScannerState>,
    tool: ScanTool,
    external: bool,
    source: SourceId,
    line: u64,
    /// Host-level marks (a down host): the ports the scan covered.
    covered: Option<CoveredPorts>,
}

/// A host-level observation (no port: a down host, a `HostFinding`), kept per host so that a
/// `host:port` service created later from an `open` observation gets it too when it applies.
#[derive(Debug, Clone)]
struct HostMark {
    mark: PendingMark,
    /// It applied to at least one service (else it is counted as unmatched on its source).
    matched: bool,
}

/// How much per-actor detail a snapshot carries, or a correlator records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActorDetail {
    /// Totals, class, services, status counts, top paths and user agents.
    #[default]
    Full,
    /// As `Full` without the status counts, top paths and user agents (empty).
    Totals,
}

#[derive(Debug)]
pub struct Correlator {
    pub(crate) setup: Setup,
    pub(crate) filter: ClientFilter,
    pub(crate) scanners: ScannerDb,
    pub(crate) sources: Vec<SourceHealth>,
    pub(crate) meta: Vec<SourceMeta>,
    pub(crate) services: Vec<ServiceState>,
    service_ids: HashMap<String, u32>,
    /// Configured services come first; the rest are sorted by name at snapshot time.
    pub(crate) configured: usize,
    addresses: Vec<(u32, AddressSpec)>,
    /// Actors, interned strings and user-agent flags of external requests.
    pub(crate) tally: Tally,
    /// Requests per minute (Unix minute → [external, internal]).
    pub(crate) rate: BTreeMap<i64, [u64; 2]>,
    pub(crate) gaps: Vec<Gap>,
    pub(crate) events: u64,
    /// Actors a snapshot lists (see [`Correlator::set_actor_limit`]); `None`: all.
    pub(crate) actor_limit: Option<usize>,
    pub(crate) sealed: bool,
    /// Live mode: detail cells before this instant were folded into segments (see
    /// `compact_before`); positives older than it go straight to their segment.
    compacted_until: Option<TimeKey>,
    /// Unmatched scan targets never seen `open`, by target name: not services (yet). The
    /// first `open` observation (any vantage) turns one into a service and replays these.
    pending: HashMap<String, Vec<PendingMark>>,
    /// Per registered source: a sample of its external requests' fingerprints, to notice
    /// two sources of one service logging the same traffic (see `fingerprint.rs`).
    pub(crate) fingerprints: Vec<Sample>,
    /// Per registered source: events applied from it (requests of any kind, scan
    /// observations). What coverage calls "read": a source with none yielded nothing.
    pub(crate) applied: Vec<u64>,
    /// Every host-level observation, by host name (`host_name`); one entry per observation,
    /// so memory grows with hosts, never hosts × ports.
    host_marks: HashMap<String, Vec<HostMark>>,
    /// Services created from unmatched `host:port` targets, by host name: (port, service).
    target_services: HashMap<String, Vec<(u16, u32)>>,
    /// Offline enrichment (issue 20): asked once per actor at snapshot time (cached).
    pub(crate) enricher: Option<Arc<dyn ActorLookup>>,
    /// The batch split under way (see `shard.rs`): its number (one per `shards` call), and
    /// how many actors the tally holds that all came from its shards (`None`: some did not,
    /// so a shard's addresses may already be here).
    pub(crate) split: (u64, Option<usize>),
}

impl Correlator {
    /// A correlator with the built-in scanner list.
    #[must_use]
    pub fn new(setup: impl Into<Setup>) -> Self {
        Self::with_scanners(setup, ScannerDb::builtin())
    }

    /// A correlator with an explicit scanner list (built-in plus user files, loaded by the shell).
    #[must_use]
    pub fn with_scanners(setup: impl Into<Setup>, scanners: ScannerDb) -> Self {
        let setup: Setup = setup.into();
        let mut c = Correlator {
            filter: setup.filter.clone(),
            scanners,
            sources: Vec::new(),
            meta: Vec::new(),
            services: Vec::new(),
            service_ids: HashMap::new(),
            configured: 0,
            addresses: Vec::new(),
            tally: Tally::default(),
            rate: BTreeMap::new(),
            gaps: Vec::new(),
            events: 0,
            actor_limit: None,
            sealed: false,
            compacted_until: None,
            pending: HashMap::new(),
            fingerprints: Vec::new(),
            applied: Vec::new(),
            host_marks: HashMap::new(),
            target_services: HashMap::new(),
            enricher: None,
            split: (0, None),
            setup,
        };
        let configured: Vec<(String, Vec<AddressSpec>, bool)> = c
            .setup
            .services
            .iter()
            .map(|s| (s.name.clone(), s.addresses.clone(), !s.sensitive.is_empty()))
            .collect();
        for (name, addresses, sensitive) in configured {
            let id = c.service_id(&name);
            c.services[id as usize].track_path_firsts |= sensitive;
            c.services[id as usize].addresses = addresses.iter().map(|a| a.text.clone()).collect();
            c.addresses.extend(addresses.into_iter().map(|a| (id, a)));
        }
        c.configured = c.services.len();
        c
    }

    /// Attach offline enrichment (before any event is applied): snapshots then carry what
    /// the databases say about each actor, and the range lists marked `class = "scanner"`
    /// classify their members as scanners, alongside the user-agent rules.
    pub fn set_enricher(&mut self, enricher: Arc<dyn ActorLookup>) {
        for list in enricher.scanner_lists() {
            self.scanners.add_networks(&list.name, &list.source, list.networks);
        }
        self.enricher = Some(enricher);
    }

    /// What this correlator was built with.
    #[must_use]
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// How much per-actor detail to record from now on (default `Full`). With `Totals`,
    /// actors keep their totals, class and services only: cheaper per request, for a run
    /// whose output shows no per-actor lists (`analyze --format json|text`). Set it before
    /// applying anything; a `Full` snapshot of such a correlator has empty lists.
    pub fn set_actor_detail(&mut self, detail: ActorDetail) {
        self.tally.detail = detail;
    }

    /// How many actors a snapshot lists (default: all): the top `limit` by bytes, the top
    /// `limit` by requests and every actor a window or service names; aggregates by key list
    /// their top `limit` groups. Totals (`actors_total`, group counts) always cover everyone.
    pub fn set_actor_limit(&mut self, limit: Option<usize>) {
        self.actor_limit = limit;
    }

    /// How many actors' detail (paths, agents, statuses) is kept at once (default
    /// 100 000): beyond it the lighter half's detail is dropped and said so (see
    /// `actors.rs`); totals stay exact. Set it before applying anything.
    pub fn set_max_actors_detail(&mut self, cap: usize) {
        self.tally.actors.set_detail_cap(cap);
    }

    /// The internal/allow filter (for batch workers).
    #[must_use]
    pub fn client_filter(&self) -> ClientFilter {
        self.filter.clone()
    }

    pub(crate) fn service_id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.service_ids.get(name) {
            return id;
        }
        let id = self.services.len() as u32;
        self.services.push(ServiceState::new(name.to_string(), Vec::new()));
        self.service_ids.insert(name.to_string(), id);
        id
    }

    /// Register a source; ids are handed out in call order.
    pub fn add_source(&mut self, info: SourceInfo) -> SourceId {
        let id = SourceId(self.sources.len() as u32);
        let service = (info.kind == SourceKind::Access).then(|| {
            let name = if info.service.is_empty() { UNASSIGNED_SERVICE } else { &info.service };
            self.service_id(name)
        });
        self.meta.push(SourceMeta { service, vantage: info.vantage });
        self.fingerprints.push(Sample::default());
        self.applied.push(0);
        self.sources.push(SourceHealth {
            id,
            path: info.path,
            kind: info.kind,
            format: info.format,
            service: info.service,
            sha256: None,
            lines: 0,
            events: 0,
            malformed: 0,
            oversized: 0,
            malformed_samples: Vec::new(),
            first_event: None,
            last_event: None,
            rotations: 0,
            truncations: 0,
            incomplete: false,
            errors: Vec::new(),
            lines_per_sec: 0.0,
            lag_secs: None,
            unmatched: UnmatchedTargets::default(),
            aliases: Vec::new(),
            scan_states: BTreeMap::new(),
            waf_actions: BTreeMap::new(),
            database: None,
            zone_assumed: false,
            duplicate_of: None,
            duplicate_by: None,
        });
        id
    }

    /// Health counters of a source, updated by the shell that reads it.
    pub fn source_mut(&mut self, id: SourceId) -> &mut SourceHealth {
        &mut self.sources[id.0 as usize]
    }

    /// Apply a batch of events. Order within and across batches does not matter.
    pub fn apply(&mut self, batch: &[Event]) {
        for ev in batch {
            match ev {
                // A local client named, not addressed (`localhost`, `unix:`): internal.
                Event::Request(r) if r.is_local_client() => {
                    self.apply_internal_counts(r.source, &[(r.time.timestamp().div_euclid(60), 1)]);
                }
                Event::Request(r) => self.apply_request(RequestView::of(r)),
                Event::Scan(s) => self.apply_scan(s),
            }
        }
    }

    /// Switch to sealed mode: the caller promises that every scan observation has been
    /// applied (batch `analyze` reads all scans before any access log). Positives are then
    /// aggregated per window instead of per timestamp, so memory stops growing with traffic.
    /// A negative observation applied later that falls strictly inside a window's positives
    /// cannot split it; it is recorded as a gap (`source_error`) instead. Idempotent.
    pub fn seal(&mut self) {
        if self.sealed {
            return;
        }
        self.sealed = true;
        for svc in &mut self.services {
            let cells = std::mem::take(&mut svc.cells);
            for (t, cell) in cells {
                let i = svc.segment_of(t);
                svc.segments[i].merge(&cell);
            }
        }
    }

    /// Live mode's memory bound: fold the per-timestamp detail cells older than `horizon`
    /// into their segments (as `seal` does for everything), so memory stops growing with the
    /// length of the incident. Exactness is kept for all evidence at or after `horizon`; a
    /// negative observation that arrives later *and* falls strictly inside the folded
    /// positives of a window cannot split it and is recorded as a gap, exactly as after
    /// `seal`. The live engine calls this once its backfill is done (every existing scan has
    /// been read by then), with a horizon `detail_horizon` (10 minutes by default) behind the
    /// newest event. Monotonic:
    /// a horizon earlier than a previous one does nothing.
    pub fn compact_before(&mut self, horizon: DateTime<Utc>) {
        let h = key_of(horizon);
        if self.sealed || self.compacted_until.is_some_and(|c| c >= h) {
            return;
        }
        self.compacted_until = Some(h);
        for svc in &mut self.services {
            let keep = svc.cells.split_off(&h);
            let old = std::mem::replace(&mut svc.cells, keep);
            for (t, cell) in old {
                let i = svc.segment_of(t);
                svc.segments[i].merge(&cell);
            }
        }
    }

    /// Per-timestamp detail cells held (live mode, before `compact_before` folds them).
    #[must_use]
    pub fn detail_cells(&self) -> usize {
        self.services.iter().map(|s| s.cells.len()).sum()
    }

    /// Whether a positive at `t` is aggregated per segment (sealed, or older than the live
    /// compaction horizon) rather than per exact timestamp.
    fn folded(&self, t: TimeKey) -> bool {
        self.sealed || self.compacted_until.is_some_and(|c| t < c)
    }

    pub(crate) fn service_of_source(&mut self, source: SourceId) -> u32 {
        match self.meta.get(source.0 as usize).and_then(|m| m.service) {
            Some(s) => s,
            None => self.service_id(UNASSIGNED_SERVICE),
        }
    }

    pub(crate) fn minute(t: TimeKey) -> i64 {
        t.0.div_euclid(60)
    }

    /// Count internal requests of a source without applying them one by one (batch workers
    /// pre-aggregate them per minute). Equivalent to applying that many internal requests.
    pub fn apply_internal_counts(&mut self, source: SourceId, per_minute: &[(i64, u64)]) {
        let svc = self.service_of_source(source) as usize;
        for &(minute, n) in per_minute {
            self.services[svc].internal_requests += n;
            self.rate.entry(minute).or_insert([0, 0])[1] += n;
            self.events += n;
            self.note_applied(source, n);
        }
    }

    /// Count `n` events of `source` as applied (for coverage; see `applied`). Batch runs
    /// call it for the external requests their shards record.
    pub fn note_applied(&mut self, source: SourceId, n: u64) {
        if let Some(count) = self.applied.get_mut(source.0 as usize) {
            *count += n;
        }
    }

    /// Fold in a sample of a source's external request fingerprints (batch workers sample
    /// their chunks; equivalent to applying those requests one by one).
    pub fn apply_fingerprints(&mut self, source: SourceId, sample: &Sample) {
        if let Some(mine) = self.fingerprints.get_mut(source.0 as usize) {
            mine.merge(sample);
        }
    }

    /// Count requests without a client address (equivalent to applying them one by one).
    pub fn apply_unattributed(&mut self, source: SourceId, n: u64) {
        let svc = self.service_of_source(source) as usize;
        self.services[svc].unattributed_requests += n;
        self.events += n;
        self.note_applied(source, n);
    }

    /// Count external requests whose client address is unknown (see
    /// `Request::forwarded_unknown`; equivalent to applying them one by one).
    pub fn apply_forwarded_unknown(&mut self, source: SourceId, n: u64) {
        let svc = self.service_of_source(source) as usize;
        self.services[svc].forwarded_unknown_requests += n;
        self.events += n;
        self.note_applied(source, n);
    }

    /// Apply one request.
    ///
    /// A request without a client address (the format has no peer, or the field was not an
    /// address) cannot be judged external: it is counted as `unattributed` on its service and
    /// is not exposure evidence. One that came through a trusted proxy whose X-Forwarded-For
    /// has junk where the client should be is external with an unknown address: counted as
    /// `forwarded_unknown` and shown, never attributed to the proxy.
    pub fn apply_request(&mut self, r: RequestView<'_>) {
        self.events += 1;
        self.note_applied(r.source, 1);
        let svc = self.service_of_source(r.source);
        let t = key_of(r.time);
        let Some(client) = r.client.map(canonical) else {
            let s = &mut self.services[svc as usize];
            if r.forwarded_unknown {
                s.forwarded_unknown_requests += 1;
            } else {
                s.unattributed_requests += 1;
            }
            return;
        };
        if !self.filter.is_external(client) {
            self.services[svc as usize].internal_requests += 1;
            self.rate.entry(Self::minute(t)).or_insert([0, 0])[1] += 1;
            return;
        }
        self.rate.entry(Self::minute(t)).or_insert([0, 0])[0] += 1;
        if let Some(sample) = self.fingerprints.get_mut(r.source.0 as usize) {
            sample.add(fingerprint(r.time, client, r.target, r.status, r.bytes));
        }
        let actor = self.tally.actor(&self.scanners, client, t);
        let rec = self.tally.record(&self.scanners, &r, actor, svc, t);
        let folded = self.folded(t);
        let s = &mut self.services[svc as usize];
        let cell = if folded {
            let i = s.segment_of(t);
            &mut s.segments[i]
        } else {
            s.cells.entry(t).or_default()
        };
        cell.add_request(rec.hit, rec.path, r.bytes, rec.success, rec.scanner, s.track_path_firsts);
    }

    /// The configured services whose `addresses` match a scan observation.
    fn matching_services(&self, obs: &ScanObservation) -> Vec<u32> {
        let mut out: Vec<u32> =
            self.addresses.iter().filter(|(_, a)| a.matches(obs)).map(|(s, _)| *s).collect();
        out.dedup();
        out
    }

    /// Apply one scan observation (its vantage comes from its source; an unregistered source
    /// is taken as external).
    ///
    /// A target that matches no configured service becomes its own `host:port` service only
    /// once an observation of it is `open` (any vantage) and names an address (a finding with
    /// only a host name attaches only to a service that lists that name); until then its
    /// observations are kept aside and counted per source as unmatched (see `correlate.rs`).
    /// When the first `open` arrives, the kept observations are replayed into the new service,
    /// so the result does not depend on the order in which a target's observations arrive.
    /// Host-level observations (no port) go to [`Self::apply_host_level`].
    pub fn apply_scan(&mut self, obs: &ScanObservation) {
        self.events += 1;
        self.note_applied(obs.source, 1);
        let meta = self.meta.get(obs.source.0 as usize);
        let external = meta.is_none_or(|m| m.vantage == Vantage::External);
        let mark = PendingMark {
            time: obs.time,
            state: obs.state,
            scanner_state: obs.scanner_state,
            tool: obs.tool,
            external,
            source: obs.source,
            line: obs.line,
            covered: obs.covered.clone(),
        };
        if let Some(h) = self.sources.get_mut(obs.source.0 as usize) {
            *h.scan_states.entry(obs.state).or_insert(0) += 1;
        }
        let Some(port) = obs.port else {
            self.apply_host_level(obs, mark);
            return;
        };
        let matched = self.matching_services(obs);
        let name = target_name(obs);
        if !matched.is_empty() {
            for svc in matched {
                self.add_mark(svc, &name, &mark);
            }
            return;
        }
        if let Some(&svc) = self.service_ids.get(&name) {
            self.add_mark(svc, &name, &mark);
            return;
        }
        if !obs.state.is_open() || obs.address.is_none() {
            let kept = self.pending.entry(name).or_default();
            let new_for_source = !kept.iter().any(|m| m.source == mark.source);
            if let Some(h) = self.sources.get_mut(mark.source.0 as usize) {
                h.unmatched.observations += 1;
                h.unmatched.targets += u64::from(new_for_source);
            }
            kept.push(mark);
            return;
        }
        let svc = self.service_id(&name);
        let host = host_name(obs);
        self.target_services.entry(host.clone()).or_default().push((port, svc));
        let kept = self.pending.remove(&name).unwrap_or_default();
        for (i, k) in kept.iter().enumerate() {
            let first_of_source = !kept[..i].iter().any(|m| m.source == k.source);
            if let Some(h) = self.sources.get_mut(k.source.0 as usize) {
                h.unmatched.observations = h.unmatched.observations.saturating_sub(1);
                if first_of_source {
                    h.unmatched.targets = h.unmatched.targets.saturating_sub(1);
                }
            }
        }
        for k in kept {
            self.add_mark(svc, &name, &k);
        }
        self.replay_host_marks(&host, port, svc, &name);
        self.add_mark(svc, &name, &mark);
    }

    /// A host-level observation: a down host is negative evidence for every service address
    /// of the host whose port its scan covered (one observation, whatever the number of
    /// ports); a `HostFinding` is a mark on every service of its host, never evidence. It never
    /// becomes a service; when it applies to none it is counted as unmatched on its source.
    fn apply_host_level(&mut self, obs: &ScanObservation, mark: PendingMark) {
        let host = host_name(obs);
        let mut targets: Vec<(u32, String)> = Vec::new();
        for (svc, spec) in &self.addresses {
            if spec.matches_host_level(obs) {
                let target = spec.port.map_or_else(|| host.clone(), |p| format!("{host}:{p}"));
                if !targets.iter().any(|(s, t)| s == svc && *t == target) {
                    targets.push((*svc, target));
                }
            }
        }
        if let Some(found) = self.target_services.get(&host) {
            for &(port, svc) in found {
                if host_level_covers(obs.state, obs.covered.as_ref(), Some(port)) {
                    let target = format!("{host}:{port}");
                    if !targets.iter().any(|(s, t)| *s == svc && *t == target) {
                        targets.push((svc, target));
                    }
                }
            }
        }
        let matched = !targets.is_empty();
        for (svc, target) in targets {
            self.add_mark(svc, &target, &mark);
        }
        let kept = self.host_marks.entry(host).or_default();
        if !matched {
            let new_for_source = !kept.iter().any(|k| !k.matched && k.mark.source == mark.source);
            if let Some(h) = self.sources.get_mut(mark.source.0 as usize) {
                h.unmatched.observations += 1;
                h.unmatched.targets += u64::from(new_for_source);
            }
        }
        kept.push(HostMark { mark, matched });
    }

    /// A `host:port` service was just created: give it the host-level observations of its host
    /// that apply to its port, and stop counting those as unmatched.
    fn replay_host_marks(&mut self, host: &str, port: u16, svc: u32, target: &str) {
        let Some(kept) = self.host_marks.get_mut(host) else { return };
        let mut replay = Vec::new();
        let mut now_matched: Vec<SourceId> = Vec::new();
        for k in kept.iter_mut() {
            if host_level_covers(k.mark.state, k.mark.covered.as_ref(), Some(port)) {
                replay.push(k.mark.clone());
                if !k.matched {
                    k.matched = true;
                    now_matched.push(k.mark.source);
                }
            }
        }
        for source in now_matched {
            let still = kept.iter().any(|k| !k.matched && k.mark.source == source);
            if let Some(h) = self.sources.get_mut(source.0 as usize) {
                h.unmatched.observations = h.unmatched.observations.saturating_sub(1);
                if !still {
                    h.unmatched.targets = h.unmatched.targets.saturating_sub(1);
                }
            }
        }
        for m in replay {
            self.add_mark(svc, target, &m);
        }
    }

    /// Record one observation on one service: a timeline mark, and evidence when external
    /// (`open` positive; `closed`, `filtered`, `unreachable` negative; `ambiguous` and
    /// `host_finding` neither).
    fn add_mark(&mut self, svc: u32, target: &str, m: &PendingMark) {
        let t = key_of(m.time);
        let folded = self.folded(t);
        let s = &mut self.services[svc as usize];
        s.scans.push(ScanMark {
            time: m.time,
            state: m.state,
            scanner_state: m.scanner_state,
            tool: m.tool,
            external: m.external,
            target: target.to_string(),
            source: m.source,
            line: m.line,
        });
        if !m.external {
            return;
        }
        if m.state.is_open() {
            if folded {
                let i = s.segment_of(t);
                s.segments[i].add_scan_open(t);
            } else {
                s.cells.entry(t).or_default().add_scan_open(t);
            }
        } else if m.state.is_negative() {
            self.add_negative(svc, t, m);
        }
    }

    fn add_negative(&mut self, svc: u32, t: TimeKey, m: &PendingMark) {
        let s = &mut self.services[svc as usize];
        match s.negatives.binary_search_by(|n| n.0.cmp(&t)) {
            Ok(i) => s.negatives[i].1 += 1,
            Err(i) => {
                // Split segment i = (n[i-1], n[i]] into (n[i-1], t] and (t, n[i]].
                let seg = &mut s.segments[i];
                let right = match (seg.first_pos, seg.last_pos) {
                    (Some(first), Some(last)) if first <= t && last > t => {
                        let path = self
                            .sources
                            .get(m.source.0 as usize)
                            .map_or_else(String::new, |h| h.path.clone());
                        self.gaps.push(Gap {
                            kind: GapKind::SourceError,
                            source: Some(m.source),
                            path,
                            from: m.time,
                            to: None,
                            reason: format!(
                                "line {}: negative scan evidence arrived after the window's evidence was aggregated (batch sealing, or live detail older than the horizon) and falls inside a window of `{}`; the window was not split",
                                m.line, s.name
                            ),
                        });
                        return;
                    }
                    (Some(first), _) if first > t => std::mem::take(seg),
                    _ => Cell::default(),
                };
                s.negatives.insert(i, (t, 1));
                s.segments.insert(i + 1, right);
            }
        }
    }

    /// Record an ingest gap or source incident.
    pub fn record_gap(&mut self, gap: Gap) {
        self.gaps.push(gap);
    }

    /// The state as of `as_of` (stamps the snapshot and bounds open windows for display;
    /// every applied event is included whatever its time).
    #[must_use]
    pub fn snapshot(&self, as_of: DateTime<Utc>) -> Snapshot {
        super::snapshot::build(self, as_of, ActorDetail::Full, true)
    }

    /// [`Correlator::snapshot`] without the keyed aggregates (`actor_groups` empty): they
    /// sort every actor, which a live session does not redo for every publication.
    #[must_use]
    pub fn snapshot_without_groups(&self, as_of: DateTime<Utc>) -> Snapshot {
        super::snapshot::build(self, as_of, ActorDetail::Full, false)
    }

    /// [`Correlator::snapshot`] with a choice of per-actor detail: outputs that never show
    /// an actor's top paths and user agents (`analyze --format json|text`) skip building
    /// them (tens of MB of strings with many actors). Everything else is identical.
    #[must_use]
    pub fn snapshot_with(&self, as_of: DateTime<Utc>, detail: ActorDetail) -> Snapshot {
        super::snapshot::build(self, as_of, detail, true)
    }

    /// The keyed aggregates of a snapshot (`Snapshot::actor_groups`), alone.
    #[must_use]
    pub fn actor_groups(&self) -> Vec<crate::model::snapshot::ActorGroups> {
        super::snapshot::actor_groups(self)
    }

    /// Time of the latest event applied (access or scan), for a reproducible default `as_of`.
    #[must_use]
    pub fn latest_event(&self) -> Option<DateTime<Utc>> {
        let mut latest: Option<TimeKey> = None;
        let mut see = |t: TimeKey| latest = Some(latest.map_or(t, |l| l.max(t)));
        let actors = &self.tally.actors;
        for id in 0..actors.len() as u32 {
            see(actors.totals(id).last);
        }
        for s in &self.services {
            if let Some((t, _)) = s.cells.last_key_value() {
                see(*t);
            }
            for seg in &s.segments {
                if let Some(t) = seg.last_pos {
                    see(t);
                }
            }
            if let Some(n) = s.negatives.last() {
                see(n.0);
            }
            for m in &s.scans {
                see(key_of(m.time));
            }
        }
        for m in self.pending.values().flatten() {
            see(key_of(m.time));
        }
        for k in self.host_marks.values().flatten() {
            see(key_of(k.mark.time));
        }
        if let Some((&minute, _)) = self.rate.last_key_value() {
            // Internal-only traffic: minute precision is all that is kept.
            see((minute * 60, 0));
        }
        for src in &self.sources {
            if let Some(t) = src.last_event {
                see(key_of(t));
            }
        }
        latest.map(super::windows::time_of)
    }
}
