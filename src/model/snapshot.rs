//! The immutable picture of the correlator's state at one moment (`as_of`).
//!
//! `Correlator::snapshot(as_of)` builds it; the TUI draws it, `analyze` serializes it (through
//! the analysis JSON schema in `report`), playbook verification evaluates conditions over it.
//! Everything here is derived from the set of events alone (plus `as_of`), so batch and live
//! runs over the same events produce equal snapshots.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{PortState, ScanTool, ScannerState, SourceId, SourceKind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Snapshot {
    /// The moment the snapshot describes; upper bound for open windows ("until now").
    pub as_of: DateTime<Utc>,
    pub case_name: String,
    /// Display time zone name from the config (`UTC` by default). Display only.
    pub timezone: String,
    /// Sources in source-id order.
    pub sources: Vec<SourceHealth>,
    /// Services in config order, then unmatched scan targets (`host:port`) sorted by name.
    pub services: Vec<ServiceSummary>,
    /// External actors, bytes descending (ties: requests descending, then client ascending).
    /// All of them, or — when the run bounds the list (`analyze --actors N`, `watch`) — the
    /// top N by bytes, the top N by requests and every actor a window's or service's first
    /// request names; `actors_total` counts them all.
    pub actors: Vec<ActorSummary>,
    /// Distinct external actors in all (see [`Snapshot::actors_total`]).
    #[serde(default)]
    pub actors_total: u64,
    /// Every external actor aggregated by a key (network prefix…), one entry per key.
    #[serde(default)]
    pub actor_groups: Vec<ActorGroups>,
    /// Ingest gaps and source incidents (rotations, truncations, errors, silence, restarts).
    pub gaps: Vec<Gap>,
    /// Request rate over time, for sparklines and the report's bars.
    pub rate: RateSeries,
    pub stats: Stats,
    /// What the whole answer rests on: every configured source, read or not (see
    /// [`Coverage`]). A source counts as read only once it yielded evidence.
    #[serde(default)]
    pub coverage: Coverage,
    /// Pairs of access sources of one service that look like two logs of the same traffic
    /// (their counts may be doubled), service order then source order.
    #[serde(default)]
    pub duplicates: Vec<DuplicateSources>,
    /// What the configured offline databases and range files say about the actors (issue
    /// 20), looked up once per actor; empty when none is configured.
    #[serde(default)]
    pub enrichment: super::enrichment::Enrichments,
}

/// On what a scan file is found to be a copy of another (`SourceHealth::duplicate_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DuplicateBy {
    /// The same scan run: same command line and start (nmap XML and `-oG` of one `-oA`
    /// run, or one file copied).
    Run,
    /// Identical content: the same SHA-256 of the file's bytes as stored (for scan formats
    /// that name no run: httpx or nuclei JSONL, …).
    Content,
}

impl DuplicateBy {
    /// The JSON value: `"run"` or `"content"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DuplicateBy::Run => "run",
            DuplicateBy::Content => "content",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceHealth {
    pub id: SourceId,
    pub path: String,
    pub kind: SourceKind,
    /// Detected or configured format name (`combined`, `nginx-json`, `nmap-xml`, … or `unknown`).
    pub format: String,
    /// Which service the source feeds (access logs); empty for scans.
    pub service: String,
    /// SHA-256 (hex) of the file as stored on disk when read; `None` for stdin or while following.
    pub sha256: Option<String>,
    pub lines: u64,
    pub events: u64,
    pub malformed: u64,
    pub oversized: u64,
    /// First few malformed lines: (line number, reason).
    pub malformed_samples: Vec<(u64, String)>,
    pub first_event: Option<DateTime<Utc>>,
    pub last_event: Option<DateTime<Utc>>,
    pub rotations: u64,
    pub truncations: u64,
    /// A scan file that ended before its closing element (interrupted nmap, cut masscan JSON).
    pub incomplete: bool,
    pub errors: Vec<String>,
    /// Lines per second over the last measurement interval (live only; 0 in batch).
    pub lines_per_sec: f64,
    /// Seconds between the newest event time in this source and `as_of` (live only).
    pub lag_secs: Option<f64>,
    /// Scans only: observations of targets that match no configured service and were never
    /// seen `open` (so they are not listed as services). Zero for access sources.
    #[serde(default)]
    pub unmatched: UnmatchedTargets,
    /// Other paths that are this same file (device + inode), matched by the globs and read
    /// once, under `path`.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Scans only: observations applied, by state (`ambiguous` and `host_finding` are neither
    /// positive nor negative evidence; they are counted here and shown).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scan_states: BTreeMap<PortState, u64>,
    /// Some event time had no zone or offset in the source and was read in the configured
    /// zone (`timezone` in the config, `--tz`; the snapshot's `timezone`): every output says
    /// so, since the source's times are only as right as that choice.
    #[serde(default)]
    pub zone_assumed: bool,
    /// Scans only: the file is a second copy of a scan another source already holds (see
    /// `duplicate_by`); its observations were not counted. The path of the copy that was.
    #[serde(default)]
    pub duplicate_of: Option<String>,
    /// What `duplicate_of` rests on: the same run (nmap XML and `-oG` of one `-oA` run: same
    /// command line and start) or identical content (same SHA-256). `None` when not a copy.
    #[serde(default)]
    pub duplicate_by: Option<DuplicateBy>,
    /// WAF logs (`aws-waf`): requests by the WAF's action (`ALLOW`, `BLOCK`, …). A blocked
    /// request still reached the edge: it counts as positive evidence like any request, and
    /// as no success (a WAF log has no response status).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub waf_actions: BTreeMap<String, u64>,
    /// A database source (`clickhouse = { … }`): what was asked and received, so the
    /// evidence can be pulled again and compared. Absent for files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseEvidence>,
}

/// What a database source's pull asked and received (see `ingest::clickhouse`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseEvidence {
    /// `clickhouse`.
    pub kind: String,
    /// The server's version (`SELECT version()`).
    pub server_version: String,
    /// The exact queries whose answers were used: the rows read, then the per-minute count
    /// of the rows only counted (when any range could be pushed down).
    pub queries: Vec<String>,
    /// Rows received (and parsed) by the first query.
    pub rows: u64,
    /// Rows counted per minute by the server (internal or allowed clients; never sent).
    pub rows_counted: u64,
    /// Bytes received for the rows (`TabSeparated`).
    pub bytes: u64,
    /// SHA-256 of the rows as received (`TabSeparated`, the canonical text); `None` when
    /// the pull failed.
    pub sha256: Option<String>,
    /// The same rows' order-independent digest (`ingest::clickhouse::RowSum`: the sum mod
    /// 2^256 of each row's SHA-256): equal for the same rows however they were ordered or
    /// split between polls. `None` when the pull failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256_sum: Option<String>,
    /// Why the pull failed (the source is then unread), with the server's message. Live
    /// (`watch`): why the latest poll failed, while it keeps failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `watch` only: how the rows were polled live. The fields above then mean: `queries`
    /// the distinct query shapes, the time bound of a poll written `{since}` (epoch
    /// seconds); `rows`, `bytes` and `sha256` the rows *kept* (received and not already
    /// seen), hashed in the order they were applied; `rows_counted` the rows counted per
    /// minute by the server (see `docs/scale.md`, "Evidence of a live pull").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<Box<LiveDatabase>>,
}

/// What `watch` polled from a database source, besides what `analyze` records too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveDatabase {
    /// Polls that answered (rows and per-minute counts both read).
    pub polls: u64,
    /// Polls that failed (each failure is also a `source_error` gap until one reads again).
    pub poll_failures: u64,
    /// Seconds of row time each poll asks again behind the newest row already pulled
    /// (config `overlap`, default 30 s). A row written later than this behind the newest
    /// row pulled is not in the live result (`analyze` over the same range reads it).
    pub overlap_secs: u64,
    /// Rows received by all polls, including those dropped as already seen.
    pub rows_received: u64,
    /// Rows received again (in the overlap) and dropped as already seen.
    pub rows_dropped: u64,
    /// Bytes received by all polls (`TabSeparated`, including dropped rows).
    pub bytes_received: u64,
    /// The time bound (`{since}`) of the first and of the latest poll that had one (the
    /// first poll reads from the start of the table).
    pub since_first: Option<DateTime<Utc>>,
    pub since_last: Option<DateTime<Utc>>,
    /// The newest row time pulled.
    pub cursor: Option<DateTime<Utc>>,
    /// The late-row check: rows the server holds before `late_checked_before` (a minute
    /// boundary no poll re-reads) that no poll received. `None`: not checked yet.
    pub late_rows_missed: Option<u64>,
    pub late_checked_before: Option<DateTime<Utc>>,
    /// The exact query of the latest check (a per-minute `count()` of every row before
    /// `late_checked_before`, compared with the rows kept and counted in each minute).
    pub late_check_query: Option<String>,
}

/// A scan source's observations of targets that matched no service and were never open.
///
/// Such targets (a LAN sweep's down hosts, every closed port of a `-p-` run) are not
/// exposure of anything we track; they are counted here instead of becoming services.
/// A target seen by several sources counts once for each of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnmatchedTargets {
    /// Distinct `host:port` targets.
    pub targets: u64,
    /// Observations of those targets.
    pub observations: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    /// A window is open (no negative evidence after the latest positive).
    Open,
    /// Every window is closed by negative evidence.
    Closed,
    /// No positive evidence, and evidence was read: some access source of the service
    /// yielded a request, or an external scan observed it.
    NeverExposed,
    /// No evidence at all: no access source of the service yielded a single request and no
    /// external scan observed it (nothing matched, format not recognised, every line
    /// malformed, unreadable, or nothing configured). Never an all-clear.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub name: String,
    /// Configured addresses (`ip:port`, `host:port`) as written.
    pub addresses: Vec<String>,
    pub state: ServiceState,
    /// Exposure windows in time order.
    pub windows: Vec<Window>,
    /// Totals over all windows (external traffic only).
    pub external_requests: u64,
    pub external_successes: u64,
    pub external_bytes: u64,
    pub external_clients: u64,
    /// Internal requests seen (context for the rate sparkline; not exposure evidence).
    pub internal_requests: u64,
    /// Requests without a usable client address (no peer in the format, or not an address):
    /// neither internal nor external, so never exposure evidence. Shown so nothing is hidden.
    #[serde(default)]
    pub unattributed_requests: u64,
    /// External requests whose client address is unknown: they came through a trusted
    /// proxy whose X-Forwarded-For holds junk where the client should be (an attacker can
    /// send such a header). Counted and shown, never attributed to the proxy; no actor.
    #[serde(default)]
    pub forwarded_unknown_requests: u64,
    pub first_external: Option<Hit>,
    pub first_non_scanner_success: Option<Hit>,
    /// Scan observations of this service (any vantage), time order; timeline markers.
    pub scans: Vec<ScanMark>,
    /// What the verdict rests on: the sources that yielded evidence for this service, those
    /// configured for it that did not (and why), and the time span the evidence covers.
    #[serde(default)]
    pub coverage: Coverage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowStatus {
    Open,
    Closed,
}

/// A maximal run of positive evidence with no negative evidence in between.
///
/// Bounds (all UTC): the exposure began in `[opened_earliest, opened_latest]` and ended in
/// `[closed_earliest, closed_latest]`. `opened_earliest` is `None` when no negative evidence
/// precedes the window (exposed since before we could see); `closed_latest` is `None` while open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub opened_earliest: Option<DateTime<Utc>>,
    pub opened_latest: DateTime<Utc>,
    pub closed_earliest: DateTime<Utc>,
    pub closed_latest: Option<DateTime<Utc>>,
    pub status: WindowStatus,
    pub external_requests: u64,
    pub external_successes: u64,
    pub external_bytes: u64,
    pub external_clients: u64,
    pub first_external: Option<Hit>,
    pub first_non_scanner_success: Option<Hit>,
    pub evidence: EvidenceCount,
    /// Most requested paths (external), requests descending then path ascending; at most 10.
    pub top_paths: Vec<PathCount>,
    /// One entry per `sensitive` rule of the service, in config order (empty without rules):
    /// the window's external requests to paths matching the rule.
    #[serde(default)]
    pub sensitive: Vec<SensitiveCount>,
}

impl Window {
    /// The label of the first `sensitive` rule of this window that `path` (without query)
    /// matches, if any (the rules travel with the window as its `sensitive` entries).
    #[must_use]
    pub fn sensitive_label(&self, path: &str) -> Option<&str> {
        self.sensitive
            .iter()
            .find(|s| {
                crate::model::SensitivePath::new(&s.path, &s.label).is_ok_and(|r| r.matches(path))
            })
            .map(|s| s.label.as_str())
    }

    /// Whether the window has anything to show under "what was served".
    #[must_use]
    pub fn has_served(&self) -> bool {
        !self.top_paths.is_empty() || !self.sensitive.is_empty()
    }
}

/// A window's external requests to the paths of one `sensitive` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensitiveCount {
    /// What the path is (`model list`).
    pub label: String,
    /// The rule's pattern (`/v1/models`, `/internal/**`).
    pub path: String,
    pub requests: u64,
    /// Requests with a status in 1..400.
    pub successes: u64,
    pub bytes: u64,
    /// The first successful request (by time, source, line), any client.
    pub first_success: Option<Hit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EvidenceCount {
    pub positive: u64,
    pub negative: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathCount {
    pub path: String,
    pub requests: u64,
    /// Requests with a status in 1..400, and bytes sent: known for a window's paths, `None`
    /// for an actor's (its lists keep request counts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// One notable request (first external, first non-scanner success).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    pub time: DateTime<Utc>,
    pub client: String,
    pub user_agent: String,
    pub method: String,
    pub path: String,
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanMark {
    pub time: DateTime<Utc>,
    pub state: PortState,
    /// The scanner's own word when `state` is `ambiguous` (`open|filtered`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanner_state: Option<ScannerState>,
    pub tool: ScanTool,
    /// `true` when the scan's vantage is external (exposure evidence).
    pub external: bool,
    /// `ip:port` or `host:port` as observed.
    pub target: String,
    pub source: SourceId,
    pub line: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorClass {
    /// A known internet scanner (user agent or published range in `assets/scanners.toml`).
    Scanner,
    /// A scripted client (curl, python-requests, Go-http-client, SDKs…).
    Tool,
    /// A browser user agent.
    Browser,
    Unknown,
}

impl ActorClass {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ActorClass::Scanner => "scanner",
            ActorClass::Tool => "tool",
            ActorClass::Browser => "browser",
            ActorClass::Unknown => "unknown",
        }
    }
}

impl Snapshot {
    /// Distinct external actors in all, whether listed in `actors` or not.
    #[must_use]
    pub fn actors_total(&self) -> u64 {
        self.actors_total.max(self.actors.len() as u64)
    }

    /// The aggregates by `key` (`prefix`…), when the snapshot has them.
    #[must_use]
    pub fn actor_groups(&self, key: &str) -> Option<&ActorGroups> {
        self.actor_groups.iter().find(|g| g.key == key)
    }
}

/// Every external actor aggregated by one key: the network prefix (`prefix`: /24 for IPv4,
/// /48 for IPv6); enrichment adds more keys the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ActorGroups {
    /// The grouping key's name (`prefix`).
    pub key: String,
    /// Distinct groups in all; `groups` lists the largest by bytes (all of them unless the
    /// snapshot bounds its lists).
    pub total: u64,
    /// Bytes descending, then requests descending, then key ascending.
    pub groups: Vec<ActorGroup>,
}

impl ActorGroups {
    /// What the key groups by, for headings ("network prefix"; other keys by their name).
    #[must_use]
    pub fn title(&self) -> &str {
        match self.key.as_str() {
            "prefix" => "network prefix (/24, /48)",
            "asn" => "network (ASN, organisation)",
            "country" => "country",
            "list" => "range list",
            other => other,
        }
    }
}

/// The actors sharing one key value: exact sums over all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorGroup {
    /// The key value (`203.0.113.0/24`, `2001:db8:1::/48`).
    pub key: String,
    pub clients: u64,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActorSummary {
    pub client: IpAddr,
    pub class: ActorClass,
    /// Name of the matched scanner entry (e.g. `Censys`) when `class` is `Scanner`.
    pub scanner: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    /// Service names touched, sorted.
    pub services: Vec<String>,
    /// Bounded detail for the actor view: top paths, user agents, status counts.
    pub top_paths: Vec<PathCount>,
    pub user_agents: Vec<(String, u64)>,
    pub statuses: BTreeMap<u16, u64>,
    /// The actor's detail (paths, agents, statuses) was not kept: more actors than
    /// `--max-actors-detail` were seen and this one was among the lighter (totals are exact).
    #[serde(default)]
    pub detail_dropped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    Rotated,
    Truncated,
    SourceError,
    Silent,
    Restart,
    /// Lines read live that the rotated copy of their file does not hold (copytruncate lost
    /// them between its copy and its truncation): this record is the only one.
    LiveOnly,
}

impl GapKind {
    /// Every kind.
    pub const ALL: [GapKind; 6] = [
        GapKind::Rotated,
        GapKind::Truncated,
        GapKind::SourceError,
        GapKind::Silent,
        GapKind::Restart,
        GapKind::LiveOnly,
    ];

    /// The name in the JSON outputs (the serde name).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            GapKind::Rotated => "rotated",
            GapKind::Truncated => "truncated",
            GapKind::SourceError => "source_error",
            GapKind::Silent => "silent",
            GapKind::Restart => "restart",
            GapKind::LiveOnly => "live_only",
        }
    }

    /// Plain words, standing alone (reports, verify caveats): `source error`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            GapKind::Rotated => "rotated",
            GapKind::Truncated => "truncated",
            GapKind::SourceError => "source error",
            GapKind::Silent => "silent",
            GapKind::Restart => "reader restarted",
            GapKind::LiveOnly => "lines only in the live record",
        }
    }

    /// Plain words after "source" (the dashboard's message line: `source error: access.log`).
    #[must_use]
    pub fn after_source(self) -> &'static str {
        match self {
            GapKind::Rotated => "rotated",
            GapKind::Truncated => "truncated",
            GapKind::SourceError => "error",
            GapKind::Silent => "silent",
            GapKind::Restart => "restarted",
            GapKind::LiveOnly => "lines only in this record",
        }
    }
}

impl std::str::FromStr for GapKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GapKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown gap kind \"{s}\""))
    }
}

/// A span during which ingestion may have missed something, or a source incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub kind: GapKind,
    pub source: Option<SourceId>,
    pub path: String,
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
    pub reason: String,
}

/// Requests per bucket, external and internal, from `start` in steps of `bucket_secs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RateSeries {
    pub start: Option<DateTime<Utc>>,
    pub bucket_secs: u32,
    pub external: Vec<u64>,
    pub internal: Vec<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Stats {
    pub lines: u64,
    pub events: u64,
    pub malformed: u64,
    /// Wall time spent (filled by the shell that ran the engine; the engine reads no clock).
    pub elapsed_ms: u64,
}

impl Snapshot {
    /// Time of the first external positive evidence across services, if any.
    #[must_use]
    pub fn first_external_evidence(&self) -> Option<DateTime<Utc>> {
        self.services.iter().filter_map(|s| s.windows.first()).map(|w| w.opened_latest).min()
    }

    /// Time of the last external positive evidence across services, if any.
    #[must_use]
    pub fn last_external_evidence(&self) -> Option<DateTime<Utc>> {
        self.services.iter().filter_map(|s| s.windows.last()).map(|w| w.closed_earliest).max()
    }

    /// `true` when any service has an open window.
    #[must_use]
    pub fn any_open(&self) -> bool {
        self.services.iter().any(|s| s.state == ServiceState::Open)
    }
}

/// What a verdict rests on: the sources that yielded evidence, the configured sources that
/// did not (with the reason), and the time span of the evidence read.
///
/// A source is *read* only when it yielded evidence: an access log at least one request
/// (internal ones included), a scan at least one observation. An empty file, a file whose
/// format was not recognised or whose every line is malformed, an unreadable file and a glob
/// that matches no file are *unread*, each with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Coverage {
    /// Paths of the sources that yielded evidence, in source order.
    pub sources_read: Vec<String>,
    /// Configured sources that yielded nothing (a glob matching no file is listed by its
    /// pattern), in config order.
    pub sources_unread: Vec<UnreadSource>,
    /// The earliest and latest evidence time read (`None` when nothing was read).
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Coverage {
    /// Every configured source yielded evidence (a verdict over it is not incomplete).
    #[must_use]
    pub fn complete(&self) -> bool {
        self.sources_unread.is_empty()
    }

    /// No source yielded anything.
    #[must_use]
    pub fn nothing_read(&self) -> bool {
        self.sources_read.is_empty()
    }

    /// Sources configured in all: read plus unread.
    #[must_use]
    pub fn total(&self) -> usize {
        self.sources_read.len() + self.sources_unread.len()
    }
}

/// A configured source that yielded no evidence, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadSource {
    /// The file, or the glob pattern when it matched no file.
    pub path: String,
    pub reason: String,
}

/// Two access sources of one service whose requests are mostly the same (same second,
/// client, target, status and bytes): probably two logs of the same traffic (nginx writing
/// a combined and a JSON log), so the service's counts may be doubled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateSources {
    pub service: String,
    /// The two sources' paths, in source order.
    pub sources: [String; 2],
    /// Share of the smaller source's external requests also found in the other, in percent
    /// (estimated from a hash sample of each source's requests).
    pub shared_percent: u8,
    /// The warning as every output prints it.
    pub message: String,
}

impl SourceHealth {
    /// A ClickHouse source polled by `watch` (`live` evidence), for tests of what the
    /// outputs say about it.
    #[cfg(test)]
    pub(crate) fn polled_for_tests(live: LiveDatabase) -> SourceHealth {
        let mut health: SourceHealth = serde_json::from_value(serde_json::json!({
            "id": 0, "path": "clickhouse:http://h:8123/web.access", "kind": "access",
            "format": "json", "service": "gw", "sha256": null, "lines": 3, "events": 2,
            "malformed": 0, "oversized": 0, "malformed_samples": [], "first_event": null,
            "last_event": null, "rotations": 0, "truncations": 0, "incomplete": false,
            "errors": [], "lines_per_sec": 0.0, "lag_secs": null
        }))
        .expect("a valid source");
        health.database =
            Some(DatabaseEvidence { live: Some(Box::new(live)), ..DatabaseEvidence::default() });
        health
    }

    /// Why this source yielded no evidence, or `None` when it did (an access log at least one
    /// request, a scan at least one observation).
    #[must_use]
    pub fn unread_reason(&self) -> Option<String> {
        if self.events > 0 {
            return None;
        }
        if let Some(e) = self.errors.first() {
            return Some(e.clone());
        }
        let what = match self.kind {
            SourceKind::Access => "request",
            SourceKind::Scan => "scan observation",
        };
        Some(if self.lines == 0 {
            "empty: no line read".to_string()
        } else if self.format == "unknown" {
            format!("format not recognised in {} lines: nothing was parsed", self.lines)
        } else if self.malformed + self.oversized >= self.lines {
            let first = self
                .malformed_samples
                .first()
                .map(|(line, why)| format!(" (line {line}: {why})"))
                .unwrap_or_default();
            format!("every line malformed: {} of {} lines{first}", self.malformed, self.lines)
        } else {
            format!("no {what} in {} lines", self.lines)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every gap kind: in `ALL` once, named as serde names it (the public JSON), parsed back.
    #[test]
    fn every_gap_kind_round_trips() {
        let index = |k: GapKind| match k {
            GapKind::Rotated => 0,
            GapKind::Truncated => 1,
            GapKind::SourceError => 2,
            GapKind::Silent => 3,
            GapKind::Restart => 4,
            GapKind::LiveOnly => 5,
        };
        assert_eq!(GapKind::ALL.map(index), [0, 1, 2, 3, 4, 5]);
        for kind in GapKind::ALL {
            let json = serde_json::to_string(&kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(serde_json::from_str::<GapKind>(&json).ok(), Some(kind));
            assert_eq!(kind.name().parse::<GapKind>(), Ok(kind));
            assert!(!kind.label().is_empty() && !kind.after_source().is_empty());
        }
        assert!("gone".parse::<GapKind>().is_err());
    }
}
