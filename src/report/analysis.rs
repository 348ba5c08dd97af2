//! The `leakline.analysis/1` JSON document (`leakline analyze --format json`).
//!
//! Stable schema (documented in the README): services in config order (then unmatched scan
//! targets sorted), windows in time order, actors by bytes descending (ties: requests
//! descending, client ascending). Every time is RFC 3339 UTC with a `Z`. Absent values are
//! `null`, never omitted. Beyond the schema the document carries `as_of` (the upper
//! bound of open windows), so a reader can reproduce durations, `unmatched_targets` on scan
//! sources, `oversized`, `incomplete` and `errors` on every source, `gaps` (as in the report
//! JSON), `redaction: {enabled, counts: {kind: n}}`, and on every source `zone_assumed`,
//! `assumed_zone` and `duplicate_of`; and (issue 13), before the sources,
//! `coverage: {complete, sources_read, sources_unread: [{path, reason}], from, to}` and
//! `duplicates: [{service, sources, shared_percent, message}]`, with `coverage` on every
//! service too, `state` `unknown` for a service nothing covers, and `as_of` `null` when no
//! evidence was read.
//!
//! The document derives `Serialize`, which defines its layout; [`Analysis::write`] emits the
//! same bytes through a hand-written writer (`write.rs`), because a large run lists tens of
//! thousands of actors, and building and serializing the document the generic way took
//! about three times the instructions.

mod write;

use std::io;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::model::Snapshot;
use crate::model::enrichment::{ActorEnrichment, EnrichSource, Enrichments};
use crate::model::snapshot::{
    ActorSummary, Coverage, DuplicateSources, Gap, Hit, PathCount, SensitiveCount, ServiceState,
    SourceHealth, WindowStatus,
};
use crate::report::{RedactionCounts, RedactionRecord};

/// The schema identifier.
pub const SCHEMA: &str = "leakline.analysis/1";

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A time as the document writes it (RFC 3339 UTC, `Z`), for fields kept as `DateTime`.
fn ser_ts<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&ts(*t))
}

fn ts_opt(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

#[derive(Debug, Serialize)]
pub struct Analysis {
    pub schema: &'static str,
    pub case: Case,
    pub generated_at: String,
    /// `null` when no evidence was read at all (no event): there is no moment to speak of.
    pub as_of: Option<String>,
    /// What the whole answer rests on: every configured source, read or not. Written
    /// before the services, so that a reader meets the problems with the evidence first.
    pub coverage: CoverageDoc,
    /// Access sources of one service that look like two logs of the same traffic.
    pub duplicates: Vec<DuplicateDoc>,
    pub sources: Vec<Source>,
    pub services: Vec<Service>,
    /// The top actors by bytes (`analyze --actors N`, 10 000 by default; plus the top by
    /// requests and every actor a window names), or all of them.
    pub actors: Vec<Actor>,
    /// Distinct external actors in all; `actors` lists `actors_listed` of them.
    pub actors_total: u64,
    pub actors_listed: u64,
    /// Every actor aggregated by a key: `prefix` (/24 IPv4, /48 IPv6), more with enrichment.
    pub actor_groups: Vec<GroupsDoc>,
    /// Where the evidence may be missing: unreadable or unmatched sources, rotations and
    /// truncations seen while following, negative scans that arrived too late to split a
    /// window. Sorted by time. Empty when nothing is known to be missing.
    pub gaps: Vec<GapDoc>,
    pub stats: Stats,
    /// Whether secrets in attacker-derived strings were replaced by markers before the
    /// document was built, and how many of each kind (`leakline analyze` redacts unless
    /// `--no-redact`). [`Analysis::build`] records "off"; see [`Analysis::with_redaction`].
    pub redaction: RedactionRecord,
    /// The offline databases and range files the actors' `asn`, `country`, `city` and
    /// `lists` rest on (issue 20).
    pub enrichment: EnrichmentDoc,
}

/// The aggregates of every actor by one key.
#[derive(Debug, Serialize)]
pub struct GroupsDoc {
    pub key: String,
    /// Distinct groups in all (`groups` lists the largest by bytes).
    pub total: u64,
    pub groups: Vec<GroupDoc>,
}

#[derive(Debug, Serialize)]
pub struct GroupDoc {
    pub key: String,
    pub clients: u64,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    #[serde(serialize_with = "ser_ts")]
    pub first_seen: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts")]
    pub last_seen: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct Case {
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct Source {
    pub path: String,
    pub kind: &'static str,
    pub format: String,
    pub sha256: Option<String>,
    pub lines: u64,
    pub events: u64,
    pub malformed: u64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    /// Scan sources: targets matching no service and never seen open (not listed as
    /// services); `null` for access sources.
    pub unmatched_targets: Option<UnmatchedDoc>,
    /// Scan sources: observations by state (`open`, `closed`, `filtered`, `unreachable`,
    /// `ambiguous`, `host_finding`); absent for access sources and scans with no observation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan_states: Option<std::collections::BTreeMap<&'static str, u64>>,
    /// WAF logs (`aws-waf`): requests by the WAF's action (`{"ALLOW": n, "BLOCK": m}`);
    /// absent for other sources. Every one reached the edge (positive evidence when
    /// external), none is a success (no response status).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waf_actions: Option<std::collections::BTreeMap<String, u64>>,
    /// Lines longer than the parser's limit (counted, not parsed).
    pub oversized: u64,
    /// Scan sources: the file ended before the scanner finished writing it (an interrupted
    /// scan); every complete host is kept. Always `false` for access sources.
    pub incomplete: bool,
    /// Problems reading or understanding the source (e.g. an unrecognised format).
    pub errors: Vec<String>,
    /// Other matched paths that are this same file (device + inode): read once, here.
    pub aliases: Vec<String>,
    /// Some times in the source had no zone or UTC offset and were read in `assumed_zone`
    /// (config `timezone`, `--tz`): the source's times are only as right as that zone.
    pub zone_assumed: bool,
    /// The IANA zone zone-less times were read in when `zone_assumed`, else `null`.
    pub assumed_zone: Option<String>,
    /// Scans: this file is another copy of a run `duplicate_of` holds (nmap XML and `-oG` of
    /// one run); its observations were not counted. `null` otherwise.
    pub duplicate_of: Option<String>,
    /// Database sources (`clickhouse`): server version, exact queries, rows received and
    /// counted, bytes, SHA-256 of the rows as received, and the error of a failed pull.
    /// Absent for files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<crate::model::snapshot::DatabaseEvidence>,
}

#[derive(Debug, Serialize)]
pub struct GapDoc {
    pub kind: crate::model::snapshot::GapKind,
    pub path: String,
    pub from: String,
    pub to: Option<String>,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct UnmatchedDoc {
    pub targets: u64,
    pub observations: u64,
}

#[derive(Debug, Serialize)]
pub struct Service {
    pub name: String,
    pub addresses: Vec<String>,
    pub state: &'static str,
    pub windows: Vec<Window>,
    /// External requests whose client address is unknown (junk in X-Forwarded-For where
    /// the client should be, behind a trusted proxy): counted, not in any window's actors.
    pub forwarded_unknown_requests: u64,
    /// What the verdict rests on (see [`CoverageDoc`]).
    pub coverage: CoverageDoc,
}

/// `{"complete","sources_read","sources_unread":[{"path","reason"}],"from","to"}`:
/// `complete` is `false` when any configured source yielded nothing; `from`/`to` span the
/// evidence read (`null` when none was).
#[derive(Debug, Serialize)]
pub struct CoverageDoc {
    pub complete: bool,
    pub sources_read: Vec<String>,
    pub sources_unread: Vec<UnreadDoc>,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct UnreadDoc {
    pub path: String,
    pub reason: String,
}

impl From<&Coverage> for CoverageDoc {
    fn from(c: &Coverage) -> Self {
        CoverageDoc {
            complete: c.complete(),
            sources_read: c.sources_read.clone(),
            sources_unread: c
                .sources_unread
                .iter()
                .map(|u| UnreadDoc { path: u.path.clone(), reason: u.reason.clone() })
                .collect(),
            from: ts_opt(c.from),
            to: ts_opt(c.to),
        }
    }
}

/// `{"service","sources":[a,b],"shared_percent","message"}`.
#[derive(Debug, Serialize)]
pub struct DuplicateDoc {
    pub service: String,
    pub sources: Vec<String>,
    pub shared_percent: u8,
    pub message: String,
}

impl From<&DuplicateSources> for DuplicateDoc {
    fn from(d: &DuplicateSources) -> Self {
        DuplicateDoc {
            service: d.service.clone(),
            sources: d.sources.to_vec(),
            shared_percent: d.shared_percent,
            message: d.message.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Window {
    pub opened_earliest: Option<String>,
    pub opened_latest: String,
    pub closed_earliest: String,
    pub closed_latest: Option<String>,
    pub status: &'static str,
    pub external_requests: u64,
    pub external_successes: u64,
    pub external_bytes: u64,
    pub external_clients: u64,
    pub first_external: Option<HitDoc>,
    pub first_non_scanner_success: Option<HitDoc>,
    pub evidence: Evidence,
    pub top_paths: Vec<PathDoc>,
    /// One entry per `sensitive` rule of the service, in config order.
    pub sensitive: Vec<SensitiveDoc>,
}

/// A window's external requests to the paths of one `sensitive` rule.
#[derive(Debug, Serialize)]
pub struct SensitiveDoc {
    pub label: String,
    /// The rule's pattern.
    pub path: String,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    pub first_success: Option<FirstSuccessDoc>,
}

/// The first successful request to a sensitive path.
#[derive(Debug, Serialize)]
pub struct FirstSuccessDoc {
    pub time: String,
    pub client: String,
    pub method: String,
    /// The request target as logged.
    pub path: String,
    pub status: u16,
}

impl From<&SensitiveCount> for SensitiveDoc {
    fn from(s: &SensitiveCount) -> Self {
        SensitiveDoc {
            label: s.label.clone(),
            path: s.path.clone(),
            requests: s.requests,
            successes: s.successes,
            bytes: s.bytes,
            first_success: s.first_success.as_ref().map(|h| FirstSuccessDoc {
                time: ts(h.time),
                client: h.client.clone(),
                method: h.method.clone(),
                path: h.path.clone(),
                status: h.status,
            }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct HitDoc {
    pub time: String,
    pub client: String,
    pub user_agent: String,
    pub method: String,
    pub path: String,
    pub status: u16,
}

impl From<&Hit> for HitDoc {
    fn from(h: &Hit) -> Self {
        HitDoc {
            time: ts(h.time),
            client: h.client.clone(),
            user_agent: h.user_agent.clone(),
            method: h.method.clone(),
            path: h.path.clone(),
            status: h.status,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Evidence {
    pub positive: u64,
    pub negative: u64,
}

#[derive(Debug, Serialize)]
pub struct PathDoc {
    pub path: String,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
}

impl From<&PathCount> for PathDoc {
    fn from(p: &PathCount) -> Self {
        PathDoc {
            path: p.path.clone(),
            requests: p.requests,
            successes: p.successes.unwrap_or(0),
            bytes: p.bytes.unwrap_or(0),
        }
    }
}

/// One actor. The client and times are kept as values and formatted only when written:
/// a large run has tens of thousands of actors, and a string each would be built once,
/// written once and freed.
#[derive(Debug, Serialize)]
pub struct Actor {
    /// Written as its display form (`203.0.113.9`, `2001:db8::1`).
    pub client: IpAddr,
    pub class: &'static str,
    #[serde(serialize_with = "ser_ts")]
    pub first_seen: DateTime<Utc>,
    #[serde(serialize_with = "ser_ts")]
    pub last_seen: DateTime<Utc>,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    pub services: Vec<String>,
    /// `asn`, `country`, `city`, `lists` (issue 20): what the offline databases say.
    #[serde(flatten)]
    pub enrichment: EnrichDoc,
}

/// An actor's enrichment as four keys, `null` / `[]` when nothing is known (or nothing is
/// configured): `asn: {number, org}`, `country: {iso, name}`, `city: {name, subdivision,
/// latitude, longitude, accuracy_radius_km}` (from a City database), `lists: [{name,
/// service, region}]`.
#[derive(Debug, Default)]
pub struct EnrichDoc(pub Option<Arc<ActorEnrichment>>);

impl Serialize for EnrichDoc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let e = self.0.as_deref();
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
#[derive(Debug, Default, Serialize)]
pub struct EnrichmentDoc {
    pub sources: Vec<EnrichSource>,
    pub errors: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Stats {
    pub lines: u64,
    pub events: u64,
    pub malformed: u64,
    pub elapsed_ms: u64,
}

impl Source {
    /// The document's view of a source; `timezone` is the snapshot's (the zone zone-less
    /// times were read in).
    fn of(s: &SourceHealth, timezone: &str) -> Self {
        Source {
            path: s.path.clone(),
            kind: match s.kind {
                crate::model::SourceKind::Access => "access",
                crate::model::SourceKind::Scan => "scan",
            },
            format: s.format.clone(),
            sha256: s.sha256.clone(),
            lines: s.lines,
            events: s.events,
            malformed: s.malformed,
            first_event: ts_opt(s.first_event),
            last_event: ts_opt(s.last_event),
            unmatched_targets: (s.kind == crate::model::SourceKind::Scan).then_some(UnmatchedDoc {
                targets: s.unmatched.targets,
                observations: s.unmatched.observations,
            }),
            scan_states: (s.kind == crate::model::SourceKind::Scan && !s.scan_states.is_empty())
                .then(|| s.scan_states.iter().map(|(k, n)| (k.as_str(), *n)).collect()),
            waf_actions: (!s.waf_actions.is_empty()).then(|| s.waf_actions.clone()),
            oversized: s.oversized,
            incomplete: s.incomplete,
            errors: s.errors.clone(),
            aliases: s.aliases.clone(),
            zone_assumed: s.zone_assumed,
            assumed_zone: s.zone_assumed.then(|| timezone.to_owned()),
            duplicate_of: s.duplicate_of.clone(),
            database: s.database.clone(),
        }
    }
}

impl From<&Gap> for GapDoc {
    fn from(g: &Gap) -> Self {
        GapDoc {
            kind: g.kind,
            path: g.path.clone(),
            from: ts(g.from),
            to: ts_opt(g.to),
            reason: g.reason.clone(),
        }
    }
}

fn state_name(s: ServiceState) -> &'static str {
    match s {
        ServiceState::Open => "open",
        ServiceState::Closed => "closed",
        ServiceState::NeverExposed => "never_exposed",
        ServiceState::Unknown => "unknown",
    }
}

impl Actor {
    fn of(a: &ActorSummary, services: Vec<String>, enrichment: &Enrichments) -> Actor {
        Actor {
            enrichment: EnrichDoc(enrichment.actors.get(&a.client).cloned()),
            client: a.client,
            class: a.class.as_str(),
            first_seen: a.first_seen,
            last_seen: a.last_seen,
            requests: a.requests,
            successes: a.successes,
            bytes: a.bytes,
            services,
        }
    }
}

impl Analysis {
    /// Build the document. `generated_at` is the wall clock, read by the caller (the engine
    /// reads none); `snapshot.stats.elapsed_ms` should already be filled by the caller.
    #[must_use]
    pub fn build(snapshot: &Snapshot, generated_at: DateTime<Utc>) -> Analysis {
        let mut doc = Analysis::without_actors(snapshot, generated_at);
        doc.actors = snapshot
            .actors
            .iter()
            .map(|a| Actor::of(a, a.services.clone(), &snapshot.enrichment))
            .collect();
        doc.actors_listed = doc.actors.len() as u64;
        doc
    }

    /// [`Analysis::build`] from a snapshot that is no longer needed: the actors' service
    /// lists are moved into the document instead of copied.
    #[must_use]
    pub fn from_snapshot(mut snapshot: Snapshot, generated_at: DateTime<Utc>) -> Analysis {
        let actors = std::mem::take(&mut snapshot.actors);
        let mut doc = Analysis::without_actors(&snapshot, generated_at);
        doc.actors = actors
            .into_iter()
            .map(|mut a| {
                let services = std::mem::take(&mut a.services);
                Actor::of(&a, services, &snapshot.enrichment)
            })
            .collect();
        doc.actors_listed = doc.actors.len() as u64;
        doc
    }

    /// Everything but the actors (a handful of values each; the actors are the bulk).
    fn without_actors(snapshot: &Snapshot, generated_at: DateTime<Utc>) -> Analysis {
        Analysis {
            schema: SCHEMA,
            case: Case { name: snapshot.case_name.clone() },
            generated_at: ts(generated_at),
            as_of: (snapshot.stats.events > 0).then(|| ts(snapshot.as_of)),
            coverage: CoverageDoc::from(&snapshot.coverage),
            duplicates: snapshot.duplicates.iter().map(DuplicateDoc::from).collect(),
            sources: snapshot.sources.iter().map(|s| Source::of(s, &snapshot.timezone)).collect(),
            services: snapshot
                .services
                .iter()
                .map(|s| Service {
                    name: s.name.clone(),
                    addresses: s.addresses.clone(),
                    state: state_name(s.state),
                    windows: s
                        .windows
                        .iter()
                        .map(|w| Window {
                            opened_earliest: ts_opt(w.opened_earliest),
                            opened_latest: ts(w.opened_latest),
                            closed_earliest: ts(w.closed_earliest),
                            closed_latest: ts_opt(w.closed_latest),
                            status: match w.status {
                                WindowStatus::Open => "open",
                                WindowStatus::Closed => "closed",
                            },
                            external_requests: w.external_requests,
                            external_successes: w.external_successes,
                            external_bytes: w.external_bytes,
                            external_clients: w.external_clients,
                            first_external: w.first_external.as_ref().map(HitDoc::from),
                            first_non_scanner_success: w
                                .first_non_scanner_success
                                .as_ref()
                                .map(HitDoc::from),
                            evidence: Evidence {
                                positive: w.evidence.positive,
                                negative: w.evidence.negative,
                            },
                            top_paths: w.top_paths.iter().map(PathDoc::from).collect(),
                            sensitive: w.sensitive.iter().map(SensitiveDoc::from).collect(),
                        })
                        .collect(),
                    forwarded_unknown_requests: s.forwarded_unknown_requests,
                    coverage: CoverageDoc::from(&s.coverage),
                })
                .collect(),
            actors: Vec::new(),
            actors_total: snapshot.actors_total(),
            actors_listed: 0,
            actor_groups: snapshot
                .actor_groups
                .iter()
                .map(|g| GroupsDoc {
                    key: g.key.clone(),
                    total: g.total,
                    groups: g
                        .groups
                        .iter()
                        .map(|x| GroupDoc {
                            key: x.key.clone(),
                            clients: x.clients,
                            requests: x.requests,
                            successes: x.successes,
                            bytes: x.bytes,
                            first_seen: x.first_seen,
                            last_seen: x.last_seen,
                        })
                        .collect(),
                })
                .collect(),
            gaps: snapshot.gaps.iter().map(GapDoc::from).collect(),
            stats: Stats {
                lines: snapshot.stats.lines,
                events: snapshot.stats.events,
                malformed: snapshot.stats.malformed,
                elapsed_ms: snapshot.stats.elapsed_ms,
            },
            redaction: RedactionRecord { enabled: false, counts: RedactionCounts::default() },
            enrichment: EnrichmentDoc {
                sources: snapshot.enrichment.sources.clone(),
                errors: snapshot.enrichment.errors.clone(),
            },
        }
    }

    /// Record how the snapshot was redacted (the caller redacted it before [`Analysis::build`]).
    #[must_use]
    pub fn with_redaction(mut self, redaction: RedactionRecord) -> Analysis {
        self.redaction = redaction;
        self
    }

    /// Write the document as pretty JSON followed by a newline: the bytes of
    /// `serde_json::to_writer_pretty` and a newline, written in large blocks.
    pub fn write(&self, out: impl io::Write) -> io::Result<()> {
        write::write(self, out)
    }
}
