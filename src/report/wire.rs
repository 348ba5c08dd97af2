//! The wire model: how sources, services, windows, actors, gaps and coverage are written in
//! JSON, defined once. `leakline.analysis/1` ([`super::analysis::Analysis`]) is made of these
//! types, and `leakline.report/1` ([`super::json`]) is that same document extended with the
//! case's parts, so the two can never disagree on a field.
//!
//! Every type borrows from the [`Snapshot`](crate::model::Snapshot): building the document
//! copies no string, and times and addresses are formatted only as they are written (the
//! [`time`], [`opt_time`] and [`ip`] helpers, which format into a stack buffer). Key order is
//! the order of the fields here; absent values are `null`, except `scan_states` and
//! `waf_actions`, which are left out where they do not apply.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

use crate::model::enrichment::{ActorEnrichment, EnrichSource, Enrichments};
use crate::model::snapshot::{
    ActorGroups, ActorSummary, Coverage as CoverageModel, DuplicateSources, Gap as GapModel,
    Hit as HitModel, PathCount, SensitiveCount, ServiceState, ServiceSummary, SourceHealth,
    Window as WindowModel, WindowStatus,
};
use crate::model::{SourceKind, snapshot};
use crate::report::{RedactionCounts, RedactionRecord};

/// `{"name","timezone"}`: the case's name and the zone its times are displayed in.
#[derive(Debug, Serialize)]
pub struct Case<'a> {
    pub name: &'a str,
    pub timezone: &'a str,
}

/// `{"complete","sources_read":[path],"sources_unread":[{"path","reason"}],"from","to"}`:
/// `complete` is `false` when any configured source yielded nothing; `from`/`to` span the
/// evidence read (`null` when none was).
#[derive(Debug, Serialize)]
pub struct Coverage<'a> {
    pub complete: bool,
    pub sources_read: &'a [String],
    pub sources_unread: Vec<Unread<'a>>,
    #[serde(serialize_with = "opt_time")]
    pub from: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_time")]
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct Unread<'a> {
    pub path: &'a str,
    pub reason: &'a str,
}

impl<'a> Coverage<'a> {
    #[must_use]
    pub fn of(c: &'a CoverageModel) -> Self {
        Coverage {
            complete: c.complete(),
            sources_read: &c.sources_read,
            sources_unread: c
                .sources_unread
                .iter()
                .map(|u| Unread { path: &u.path, reason: &u.reason })
                .collect(),
            from: c.from,
            to: c.to,
        }
    }
}

/// `{"service","sources":[a,b],"shared_percent","message"}`: two access sources of one
/// service that look like two logs of the same traffic.
#[derive(Debug, Serialize)]
pub struct Duplicate<'a> {
    pub service: &'a str,
    pub sources: &'a [String; 2],
    pub shared_percent: u8,
    pub message: &'a str,
}

impl<'a> Duplicate<'a> {
    #[must_use]
    pub fn of(d: &'a DuplicateSources) -> Self {
        Duplicate {
            service: &d.service,
            sources: &d.sources,
            shared_percent: d.shared_percent,
            message: &d.message,
        }
    }
}

/// One source, read or not.
#[derive(Debug, Serialize)]
pub struct Source<'a> {
    pub path: &'a str,
    /// `access` or `scan`.
    pub kind: &'static str,
    pub format: &'a str,
    /// The service an access source feeds; empty for scans.
    pub service: &'a str,
    pub sha256: Option<&'a str>,
    pub lines: u64,
    pub events: u64,
    pub malformed: u64,
    #[serde(serialize_with = "opt_time")]
    pub first_event: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_time")]
    pub last_event: Option<DateTime<Utc>>,
    /// Scan sources: targets matching no service and never seen open (not listed as
    /// services); `null` for access sources.
    pub unmatched_targets: Option<Unmatched>,
    /// Scan sources: observations by state (`open`, `closed`, `filtered`, `unreachable`,
    /// `ambiguous`, `host_finding`); absent for access sources and scans with no observation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan_states: Option<BTreeMap<&'static str, u64>>,
    /// WAF logs (`aws-waf`): requests by the WAF's action (`{"ALLOW": n, "BLOCK": m}`);
    /// absent for other sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waf_actions: Option<&'a BTreeMap<String, u64>>,
    /// Lines longer than the parser's limit (counted, not parsed).
    pub oversized: u64,
    /// Scan sources: the file ended before the scanner finished writing it.
    pub incomplete: bool,
    /// Problems reading or understanding the source (e.g. an unrecognised format).
    pub errors: &'a [String],
    /// Other matched paths that are this same file (device + inode): read once, here.
    pub aliases: &'a [String],
    /// Some times had no zone and were read in `assumed_zone`.
    pub zone_assumed: bool,
    /// The IANA zone zone-less times were read in when `zone_assumed`, else `null`.
    pub assumed_zone: Option<&'a str>,
    /// Scans: this file is another copy of the scan `duplicate_of` holds (not counted).
    pub duplicate_of: Option<&'a str>,
    /// What `duplicate_of` rests on: `"run"` (same command line and start) or `"content"`
    /// (same SHA-256); `null` when not a copy.
    pub duplicate_by: Option<&'static str>,
    /// Database sources (`clickhouse`): server version, exact queries, rows received and
    /// counted, bytes, SHA-256 of the rows as received, and the error of a failed pull.
    /// Absent for files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<Database<'a>>,
}

/// `{"kind","server_version","queries","rows","rows_counted","bytes","sha256","sha256_sum"?,
/// "error"?,"live"?}`: what a database source's pull asked and received (`error` only when it failed;
/// `live` only from `watch`, which then gives `queries`, `rows`, `bytes` and `sha256` the
/// meaning `model::snapshot::DatabaseEvidence::live` says).
#[derive(Debug, Serialize)]
pub struct Database<'a> {
    pub kind: &'a str,
    pub server_version: &'a str,
    pub queries: &'a [String],
    pub rows: u64,
    pub rows_counted: u64,
    pub bytes: u64,
    pub sha256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256_sum: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveDatabase<'a>>,
}

/// `watch` only: how a database source was polled (`model::snapshot::LiveDatabase`), and
/// `late_rows_limit`, the limit of a live pull in words.
#[derive(Debug, Serialize)]
pub struct LiveDatabase<'a> {
    pub polls: u64,
    pub poll_failures: u64,
    pub overlap_secs: u64,
    pub late_rows_limit: String,
    pub rows_received: u64,
    pub rows_dropped: u64,
    pub bytes_received: u64,
    #[serde(serialize_with = "opt_time")]
    pub since_first: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_time")]
    pub since_last: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_time")]
    pub cursor: Option<DateTime<Utc>>,
    pub late_rows_missed: Option<u64>,
    #[serde(serialize_with = "opt_time")]
    pub late_checked_before: Option<DateTime<Utc>>,
    pub late_check_query: Option<&'a str>,
}

/// The limit of a live pull, in words (the same in every output).
#[must_use]
pub fn late_rows_limit(overlap_secs: u64) -> String {
    format!(
        "rows written more than {overlap_secs} s behind the newest row already pulled are not \
         in this live result (each poll asks again only that far back); an `analyze` over the \
         same range reads them. `late_rows_missed` counts those found by a per-minute count \
         of the rows before `late_checked_before`."
    )
}

#[derive(Debug, Serialize)]
pub struct Unmatched {
    pub targets: u64,
    pub observations: u64,
}

impl<'a> Source<'a> {
    /// `timezone` is the snapshot's: the zone zone-less times were read in.
    #[must_use]
    pub fn of(s: &'a SourceHealth, timezone: &'a str) -> Self {
        let scan = s.kind == SourceKind::Scan;
        Source {
            path: &s.path,
            kind: source_kind(s.kind),
            format: &s.format,
            service: &s.service,
            sha256: s.sha256.as_deref(),
            lines: s.lines,
            events: s.events,
            malformed: s.malformed,
            first_event: s.first_event,
            last_event: s.last_event,
            unmatched_targets: scan.then_some(Unmatched {
                targets: s.unmatched.targets,
                observations: s.unmatched.observations,
            }),
            // Keyed by name, in name order.
            scan_states: (scan && !s.scan_states.is_empty())
                .then(|| s.scan_states.iter().map(|(k, n)| (k.as_str(), *n)).collect()),
            waf_actions: (!s.waf_actions.is_empty()).then_some(&s.waf_actions),
            oversized: s.oversized,
            incomplete: s.incomplete,
            errors: &s.errors,
            aliases: &s.aliases,
            zone_assumed: s.zone_assumed,
            assumed_zone: s.zone_assumed.then_some(timezone),
            duplicate_of: s.duplicate_of.as_deref(),
            duplicate_by: s.duplicate_by.map(crate::model::snapshot::DuplicateBy::as_str),
            database: s.database.as_ref().map(|d| Database {
                kind: &d.kind,
                server_version: &d.server_version,
                queries: &d.queries,
                rows: d.rows,
                rows_counted: d.rows_counted,
                bytes: d.bytes,
                sha256: d.sha256.as_deref(),
                sha256_sum: d.sha256_sum.as_deref(),
                error: d.error.as_deref(),
                live: d.live.as_ref().map(|l| LiveDatabase {
                    polls: l.polls,
                    poll_failures: l.poll_failures,
                    overlap_secs: l.overlap_secs,
                    late_rows_limit: late_rows_limit(l.overlap_secs),
                    rows_received: l.rows_received,
                    rows_dropped: l.rows_dropped,
                    bytes_received: l.bytes_received,
                    since_first: l.since_first,
                    since_last: l.since_last,
                    cursor: l.cursor,
                    late_rows_missed: l.late_rows_missed,
                    late_checked_before: l.late_checked_before,
                    late_check_query: l.late_check_query.as_deref(),
                }),
            }),
        }
    }
}

/// One service (or an unmatched scan target) and its exposure windows.
#[derive(Debug, Serialize)]
pub struct Service<'a> {
    pub name: &'a str,
    pub addresses: &'a [String],
    /// `open`, `closed`, `never_exposed` or `unknown`.
    pub state: &'static str,
    pub windows: Vec<Window<'a>>,
    /// External requests whose client address is unknown (junk in X-Forwarded-For behind a
    /// trusted proxy): counted, not in any window's actors.
    pub forwarded_unknown_requests: u64,
    /// What the verdict rests on.
    pub coverage: Coverage<'a>,
}

impl<'a> Service<'a> {
    #[must_use]
    pub fn of(s: &'a ServiceSummary) -> Self {
        Service {
            name: &s.name,
            addresses: &s.addresses,
            state: service_state(s.state),
            windows: s.windows.iter().map(Window::of).collect(),
            forwarded_unknown_requests: s.forwarded_unknown_requests,
            coverage: Coverage::of(&s.coverage),
        }
    }
}

/// One exposure window.
#[derive(Debug, Serialize)]
pub struct Window<'a> {
    #[serde(serialize_with = "opt_time")]
    pub opened_earliest: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time")]
    pub opened_latest: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    pub closed_earliest: DateTime<Utc>,
    #[serde(serialize_with = "opt_time")]
    pub closed_latest: Option<DateTime<Utc>>,
    /// `open` or `closed`.
    pub status: &'static str,
    pub external_requests: u64,
    pub external_successes: u64,
    pub external_bytes: u64,
    pub external_clients: u64,
    pub first_external: Option<Hit<'a>>,
    pub first_non_scanner_success: Option<Hit<'a>>,
    pub evidence: Evidence,
    pub top_paths: Vec<PathRow<'a>>,
    /// One entry per `sensitive` rule of the service, in config order.
    pub sensitive: Vec<Sensitive<'a>>,
}

impl<'a> Window<'a> {
    #[must_use]
    pub fn of(w: &'a WindowModel) -> Self {
        Window {
            opened_earliest: w.opened_earliest,
            opened_latest: w.opened_latest,
            closed_earliest: w.closed_earliest,
            closed_latest: w.closed_latest,
            status: window_status(w.status),
            external_requests: w.external_requests,
            external_successes: w.external_successes,
            external_bytes: w.external_bytes,
            external_clients: w.external_clients,
            first_external: w.first_external.as_ref().map(Hit::of),
            first_non_scanner_success: w.first_non_scanner_success.as_ref().map(Hit::of),
            evidence: Evidence { positive: w.evidence.positive, negative: w.evidence.negative },
            top_paths: w.top_paths.iter().map(PathRow::of).collect(),
            sensitive: w.sensitive.iter().map(Sensitive::of).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Evidence {
    pub positive: u64,
    pub negative: u64,
}

/// One notable request (first external, first non-scanner success).
#[derive(Debug, Serialize)]
pub struct Hit<'a> {
    #[serde(serialize_with = "time")]
    pub time: DateTime<Utc>,
    pub client: &'a str,
    pub user_agent: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
}

impl<'a> Hit<'a> {
    #[must_use]
    pub fn of(h: &'a HitModel) -> Self {
        Hit {
            time: h.time,
            client: &h.client,
            user_agent: &h.user_agent,
            method: &h.method,
            path: &h.path,
            status: h.status,
        }
    }
}

/// A window's path: requests, successes and bytes (`0` when not counted).
#[derive(Debug, Serialize)]
pub struct PathRow<'a> {
    pub path: &'a str,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
}

impl<'a> PathRow<'a> {
    #[must_use]
    pub fn of(p: &'a PathCount) -> Self {
        PathRow {
            path: &p.path,
            requests: p.requests,
            successes: p.successes.unwrap_or(0),
            bytes: p.bytes.unwrap_or(0),
        }
    }
}

/// A window's external requests to the paths of one `sensitive` rule.
#[derive(Debug, Serialize)]
pub struct Sensitive<'a> {
    pub label: &'a str,
    /// The rule's pattern.
    pub path: &'a str,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    pub first_success: Option<FirstSuccess<'a>>,
}

/// The first successful request to a sensitive path (`path` as logged, with its query).
#[derive(Debug, Serialize)]
pub struct FirstSuccess<'a> {
    #[serde(serialize_with = "time")]
    pub time: DateTime<Utc>,
    pub client: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
}

impl<'a> Sensitive<'a> {
    #[must_use]
    pub fn of(s: &'a SensitiveCount) -> Self {
        Sensitive {
            label: &s.label,
            path: &s.path,
            requests: s.requests,
            successes: s.successes,
            bytes: s.bytes,
            first_success: s.first_success.as_ref().map(|h| FirstSuccess {
                time: h.time,
                client: &h.client,
                method: &h.method,
                path: &h.path,
                status: h.status,
            }),
        }
    }
}

/// One external actor.
#[derive(Debug, Serialize)]
pub struct Actor<'a> {
    /// Written as its display form (`203.0.113.9`, `2001:db8::1`).
    #[serde(serialize_with = "ip")]
    pub client: IpAddr,
    /// `scanner`, `tool`, `browser` or `unknown`.
    pub class: &'static str,
    /// The matched scanner entry (e.g. `Censys`) when `class` is `scanner`, else `null`.
    pub scanner: Option<&'a str>,
    #[serde(serialize_with = "time")]
    pub first_seen: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    pub last_seen: DateTime<Utc>,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    pub services: &'a [String],
    /// `asn`, `country`, `city`, `lists` (issue 20): what the offline databases say.
    #[serde(flatten)]
    pub enrichment: EnrichDoc<'a>,
}

/// An actor's enrichment as four keys, `null` / `[]` when nothing is known (or nothing is
/// configured): `asn: {number, org}`, `country: {iso, name}`, `city: {name, subdivision,
/// latitude, longitude, accuracy_radius_km}` (from a City database), `lists: [{name,
/// service, region}]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnrichDoc<'a>(pub Option<&'a ActorEnrichment>);

impl Serialize for EnrichDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let e = self.0;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("asn", &e.and_then(|e| e.asn.as_ref()))?;
        m.serialize_entry("country", &e.and_then(|e| e.country.as_ref()))?;
        m.serialize_entry("city", &e.and_then(|e| e.city.as_ref()))?;
        m.serialize_entry("lists", e.map_or(&[][..], |e| &e.lists[..]))?;
        m.end()
    }
}

/// What the actors' enrichment rests on: the databases and range files loaded (empty when
/// none is configured), and lookups that failed.
#[derive(Debug, Serialize)]
pub struct Enrichment<'a> {
    pub sources: &'a [EnrichSource],
    pub errors: &'a [String],
}

impl<'a> Enrichment<'a> {
    #[must_use]
    pub fn of(e: &'a Enrichments) -> Self {
        Enrichment { sources: &e.sources, errors: &e.errors }
    }
}

impl<'a> Actor<'a> {
    /// The view of one actor; `enrichment` is the snapshot's (looked up once per actor).
    #[must_use]
    pub fn of(a: &'a ActorSummary, enrichment: &'a Enrichments) -> Self {
        Actor {
            enrichment: EnrichDoc(enrichment.actors.get(&a.client).map(AsRef::as_ref)),
            client: a.client,
            class: a.class.as_str(),
            scanner: a.scanner.as_deref(),
            first_seen: a.first_seen,
            last_seen: a.last_seen,
            requests: a.requests,
            successes: a.successes,
            bytes: a.bytes,
            services: &a.services,
        }
    }
}

/// The actors, each viewed as an [`Actor`] only while it is written: a large run lists
/// millions, and no list of views is built.
#[derive(Debug, Clone, Copy)]
pub struct Actors<'a>(pub &'a [ActorSummary], pub &'a Enrichments);

impl Serialize for Actors<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|a| Actor::of(a, self.1)))
    }
}

/// Every actor (listed or not) aggregated by one key (`prefix`: /24 IPv4, /48 IPv6; more
/// with enrichment): `total` groups in all, the largest by bytes listed.
#[derive(Debug, Serialize)]
pub struct Groups<'a> {
    pub key: &'a str,
    pub total: u64,
    pub groups: Vec<Group<'a>>,
}

#[derive(Debug, Serialize)]
pub struct Group<'a> {
    pub key: &'a str,
    pub clients: u64,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    #[serde(serialize_with = "time")]
    pub first_seen: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    pub last_seen: DateTime<Utc>,
}

impl<'a> Groups<'a> {
    #[must_use]
    pub fn of(g: &'a ActorGroups) -> Self {
        Groups {
            key: &g.key,
            total: g.total,
            groups: g
                .groups
                .iter()
                .map(|x| Group {
                    key: &x.key,
                    clients: x.clients,
                    requests: x.requests,
                    successes: x.successes,
                    bytes: x.bytes,
                    first_seen: x.first_seen,
                    last_seen: x.last_seen,
                })
                .collect(),
        }
    }
}

/// Where the evidence may be missing.
#[derive(Debug, Serialize)]
pub struct Gap<'a> {
    /// `rotated`, `truncated`, `source_error`, `silent`, `restart` or `live_only`.
    pub kind: &'static str,
    pub path: &'a str,
    #[serde(serialize_with = "time")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "opt_time")]
    pub to: Option<DateTime<Utc>>,
    pub reason: &'a str,
}

impl<'a> Gap<'a> {
    #[must_use]
    pub fn of(g: &'a GapModel) -> Self {
        Gap { kind: g.kind.name(), path: &g.path, from: g.from, to: g.to, reason: &g.reason }
    }
}

#[derive(Debug, Serialize)]
pub struct Stats {
    pub lines: u64,
    pub events: u64,
    pub malformed: u64,
    pub elapsed_ms: u64,
}

impl Stats {
    #[must_use]
    pub fn of(s: &snapshot::Stats) -> Self {
        Stats { lines: s.lines, events: s.events, malformed: s.malformed, elapsed_ms: s.elapsed_ms }
    }
}

/// `{"enabled","total","counts":{kind: n}}`: whether secrets were replaced by markers, and
/// how many of each kind.
#[derive(Debug, Serialize)]
pub struct Redaction<'a> {
    pub enabled: bool,
    pub total: u64,
    pub counts: Counts<'a>,
}

/// Replacements by secret kind, keyed by the kind's name.
#[derive(Debug)]
pub struct Counts<'a>(pub &'a RedactionCounts);

impl Serialize for Counts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.0.iter().map(|(k, n)| (k.as_str(), n)))
    }
}

impl<'a> Redaction<'a> {
    #[must_use]
    pub fn of(r: &'a RedactionRecord) -> Self {
        Redaction { enabled: r.enabled, total: r.counts.total(), counts: Counts(&r.counts) }
    }
}

#[must_use]
pub fn source_kind(k: SourceKind) -> &'static str {
    match k {
        SourceKind::Access => "access",
        SourceKind::Scan => "scan",
    }
}

#[must_use]
pub fn service_state(s: ServiceState) -> &'static str {
    match s {
        ServiceState::Open => "open",
        ServiceState::Closed => "closed",
        ServiceState::NeverExposed => "never_exposed",
        ServiceState::Unknown => "unknown",
    }
}

#[must_use]
pub fn window_status(s: WindowStatus) -> &'static str {
    match s {
        WindowStatus::Open => "open",
        WindowStatus::Closed => "closed",
    }
}

/// A time as every document writes it: RFC 3339 UTC with `Z`.
///
/// # Errors
/// The serializer's.
pub fn time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(Rfc3339::of(*t).as_str())
}

/// [`time`], or `null`.
///
/// # Errors
/// The serializer's.
#[allow(clippy::ref_option)] // serde's `serialize_with` passes `&Option<T>`
pub fn opt_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => time(t, s),
        None => s.serialize_none(),
    }
}

/// An address in its display form (`203.0.113.9`, `2001:db8::1`), IPv4 formatted by hand.
///
/// # Errors
/// The serializer's.
pub fn ip<S: Serializer>(ip: &IpAddr, s: S) -> Result<S::Ok, S::Error> {
    match ip {
        IpAddr::V4(v4) => {
            let mut buf = [0_u8; 15];
            let n = push_ipv4(&mut buf, v4.octets());
            s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default())
        }
        IpAddr::V6(v6) => s.collect_str(v6),
    }
}

/// Write `a.b.c.d` into `buf`; returns the length.
pub(crate) fn push_ipv4(buf: &mut [u8; 15], octets: [u8; 4]) -> usize {
    let mut n = 0;
    for (i, o) in octets.into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + o / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    n
}

/// A time formatted as chrono's `to_rfc3339_opts(SecondsFormat::AutoSi, true)` writes it,
/// in a stack buffer: as many fraction digits as needed in groups of three (none for whole
/// seconds), then `Z`. Years outside 0..=9999 and leap seconds take chrono's own path.
pub struct Rfc3339 {
    bytes: [u8; 40],
    len: usize,
}

impl Rfc3339 {
    #[must_use]
    pub fn of(t: DateTime<Utc>) -> Self {
        let mut out = Rfc3339 { bytes: [0; 40], len: 0 };
        let secs = t.timestamp();
        let nano = t.timestamp_subsec_nanos();
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        if !(0..=9999).contains(&year) || nano >= 1_000_000_000 {
            let s = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
            // chrono's years stay within ±262 143: at most 33 bytes.
            out.len = s.len().min(out.bytes.len());
            out.bytes[..out.len].copy_from_slice(&s.as_bytes()[..out.len]);
            return out;
        }
        let of_day = secs.rem_euclid(86_400) as u32;
        let year = year as u32;
        let [y0, y1] = pair(year / 100);
        let [y2, y3] = pair(year % 100);
        let [mo0, mo1] = pair(month);
        let [d0, d1] = pair(day);
        let [h0, h1] = pair(of_day / 3600);
        let [mi0, mi1] = pair(of_day / 60 % 60);
        let [s0, s1] = pair(of_day % 60);
        out.bytes[..19].copy_from_slice(&[
            y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', mi0, mi1, b':', s0,
            s1,
        ]);
        let mut len = 19;
        if nano != 0 {
            let (digits, width) = if nano % 1_000_000 == 0 {
                (nano / 1_000_000, 3)
            } else if nano % 1_000 == 0 {
                (nano / 1_000, 6)
            } else {
                (nano, 9)
            };
            out.bytes[len] = b'.';
            let mut n = digits;
            for d in out.bytes[len + 1..=len + width].iter_mut().rev() {
                *d = b'0' + (n % 10) as u8;
                n /= 10;
            }
            len += width + 1;
        }
        out.bytes[len] = b'Z';
        out.len = len + 1;
        out
    }

    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        // ASCII digits and punctuation, or chrono's own (UTF-8) string.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

/// "00" to "99", two bytes each.
const PAIRS: [u8; 200] = {
    let mut t = [0; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// The two digits of `n` (below 100).
pub(crate) fn pair(n: u32) -> [u8; 2] {
    let i = 2 * n as usize;
    [PAIRS[i], PAIRS[i + 1]]
}

/// Year, month and day of a day count from 1970-01-01 in the proleptic Gregorian calendar
/// (chrono's), by Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use proptest::prelude::*;

    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nano: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_nano_opt(h, mi, s, nano)
            .unwrap()
            .and_utc()
    }

    #[test]
    fn times_in_every_form_match_chrono() {
        for t in [
            at(2026, 11, 24, 0, 0, 35, 0),
            at(2026, 1, 2, 3, 4, 5, 120_000_000),
            at(1999, 12, 31, 23, 59, 59, 123_456_000),
            at(2000, 2, 29, 12, 30, 7, 1),
            at(2016, 12, 31, 23, 59, 59, 1_500_000_000),
            at(0, 1, 1, 0, 0, 0, 0),
            at(9999, 12, 31, 23, 59, 59, 999_999_999),
            at(-44, 3, 15, 12, 0, 0, 0),
            at(10_000, 1, 1, 0, 0, 0, 5_000),
            at(262_000, 1, 1, 0, 0, 0, 5),
            Utc.timestamp_opt(0, 0).unwrap(),
        ] {
            assert_eq!(Rfc3339::of(t).as_str(), t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
    }

    proptest! {
        #[test]
        fn any_time_matches_chrono(secs in -62_167_219_200_i64..253_402_300_800, nano in 0_u32..1_000_000_000) {
            let t = DateTime::from_timestamp(secs, nano).unwrap();
            let fast = Rfc3339::of(t);
            prop_assert_eq!(fast.as_str(), t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }

        #[test]
        fn any_address_matches_display(bits in any::<u128>(), v4 in any::<u32>()) {
            for a in [IpAddr::from(v4.to_be_bytes()), IpAddr::from(bits.to_be_bytes())] {
                let mut out = Vec::new();
                ip(&a, &mut serde_json::Serializer::new(&mut out)).unwrap();
                prop_assert_eq!(String::from_utf8(out).unwrap(), format!("\"{a}\""));
            }
        }
    }
}
