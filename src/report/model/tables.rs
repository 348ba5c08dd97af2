//! The report's tables, built once from the model: which rows, in which order, with which
//! values. Values are raw (strings as recorded, counts, times, states): nothing here is
//! escaped or formatted, so the Markdown and HTML writers only lay the rows out and escape
//! them for their format, and can never disagree on what a table holds.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::ReportModel;
use crate::correlate::coverage;
use crate::model::SourceKind;
use crate::model::enrichment::CountryInfo;
use crate::model::snapshot::{
    ActorClass, ActorGroup, Hit, ServiceState, ServiceSummary, SourceHealth, Window, WindowStatus,
};
use crate::report::summary::window_duration;

/// The tables of one report, borrowed from its model.
#[derive(Debug)]
pub struct Tables<'a> {
    /// Services in snapshot order, each with its windows.
    pub services: Vec<ServiceRow<'a>>,
    pub actors: ActorTable<'a>,
    /// Every actor aggregated by key (network prefix…), one table per key with groups.
    pub actor_groups: Vec<GroupTable<'a>>,
    pub sources: Vec<SourceRow<'a>>,
}

impl<'a> Tables<'a> {
    #[must_use]
    pub fn of(m: &'a ReportModel) -> Self {
        let snap = &m.snapshot;
        Tables {
            services: snap.services.iter().map(|s| ServiceRow::of(s, snap.as_of)).collect(),
            actors: ActorTable::of(m),
            actor_groups: snap
                .actor_groups
                .iter()
                .filter(|g| !g.groups.is_empty())
                .map(|g| GroupTable {
                    key: &g.key,
                    title: g.title(),
                    total: g.total,
                    rows: &g.groups[..g.groups.len().min(m.top_actors)],
                })
                .collect(),
            sources: snap.sources.iter().map(SourceRow::of).collect(),
        }
    }
}

/// A row of "Services and exposure windows".
#[derive(Debug)]
pub struct ServiceRow<'a> {
    pub name: &'a str,
    pub state: ServiceState,
    pub addresses: &'a [String],
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    pub clients: u64,
    /// What the verdict rests on when that needs saying (see
    /// [`coverage::verdict_note`]); empty otherwise.
    pub note: String,
    /// The service's windows, in time order (none: no table for it).
    pub windows: Vec<WindowRow<'a>>,
}

impl<'a> ServiceRow<'a> {
    fn of(s: &'a ServiceSummary, as_of: DateTime<Utc>) -> Self {
        ServiceRow {
            name: &s.name,
            state: s.state,
            addresses: &s.addresses,
            requests: s.external_requests,
            successes: s.external_successes,
            bytes: s.external_bytes,
            clients: s.external_clients,
            note: coverage::verdict_note(s),
            windows: s
                .windows
                .iter()
                .enumerate()
                .map(|(i, w)| WindowRow::of(i + 1, w, as_of))
                .collect(),
        }
    }
}

/// One exposure window: its bounds, duration, traffic, evidence, first hits and what it
/// served.
#[derive(Debug)]
pub struct WindowRow<'a> {
    /// 1-based, in the service's time order.
    pub number: usize,
    /// `None`: exposed since before anything was observed.
    pub opened_earliest: Option<DateTime<Utc>>,
    pub opened_latest: DateTime<Utc>,
    /// `(earliest, latest)` when closed; `None` while still open.
    pub closed: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The last positive evidence (the earliest the window can have closed).
    pub last_positive: DateTime<Utc>,
    /// The certain duration, and the longest possible one (`None`: unbounded), in seconds.
    pub least_secs: i64,
    pub most_secs: Option<i64>,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    pub clients: u64,
    pub positive: u64,
    pub negative: u64,
    pub first_external: Option<&'a Hit>,
    pub first_non_scanner_success: Option<&'a Hit>,
    /// "What was served": the sensitive rules first, then the most requested paths; empty
    /// when the window served nothing known.
    pub served: Vec<ServedRow<'a>>,
}

impl<'a> WindowRow<'a> {
    fn of(number: usize, w: &'a Window, as_of: DateTime<Utc>) -> Self {
        let (least_secs, most_secs) = window_duration(w, as_of);
        let closed = match (w.status, w.closed_latest) {
            (WindowStatus::Closed, Some(latest)) => Some((w.closed_earliest, latest)),
            _ => None,
        };
        WindowRow {
            number,
            opened_earliest: w.opened_earliest,
            opened_latest: w.opened_latest,
            closed,
            last_positive: w.closed_earliest,
            least_secs,
            most_secs,
            requests: w.external_requests,
            successes: w.external_successes,
            bytes: w.external_bytes,
            clients: w.external_clients,
            positive: w.evidence.positive,
            negative: w.evidence.negative,
            first_external: w.first_external.as_ref(),
            first_non_scanner_success: w.first_non_scanner_success.as_ref(),
            served: if w.has_served() { ServedRow::all(w) } else { Vec::new() },
        }
    }
}

/// A row of a window's "What was served".
#[derive(Debug)]
pub struct ServedRow<'a> {
    /// A sensitive rule's pattern, or a requested path as logged.
    pub path: &'a str,
    /// The rule's label; for a requested path, the label of the rule it matches, if any.
    pub label: Option<&'a str>,
    pub requests: u64,
    /// `None`: not counted (never for a rule).
    pub successes: Option<u64>,
    pub bytes: Option<u64>,
    pub kind: Served<'a>,
}

/// What a "What was served" row stands for.
#[derive(Debug, Clone, Copy)]
pub enum Served<'a> {
    /// A `sensitive` rule, with its first success (if any).
    Rule { first_success: Option<&'a Hit> },
    /// One of the most requested paths.
    Path,
}

impl<'a> ServedRow<'a> {
    fn all(w: &'a Window) -> Vec<Self> {
        let rules = w.sensitive.iter().map(|s| ServedRow {
            path: &s.path,
            label: Some(&s.label),
            requests: s.requests,
            successes: Some(s.successes),
            bytes: Some(s.bytes),
            kind: Served::Rule { first_success: s.first_success.as_ref() },
        });
        let paths = w.top_paths.iter().map(|p| ServedRow {
            path: &p.path,
            label: w.sensitive_label(&p.path),
            requests: p.requests,
            successes: p.successes,
            bytes: p.bytes,
            kind: Served::Path,
        });
        rules.chain(paths).collect()
    }
}

/// "Actors": the top of the list by bytes.
#[derive(Debug)]
pub struct ActorTable<'a> {
    /// Distinct external actors in all (listed or not).
    pub total: u64,
    /// The actors the snapshot lists (the rows are the first `rows.len()`).
    pub listed: usize,
    /// Whether enrichment databases or range files were configured: the tables then carry
    /// the network and country columns (issue 20).
    pub enriched: bool,
    pub rows: Vec<ActorRow<'a>>,
}

/// "Actors by …": the largest groups of one key by bytes.
#[derive(Debug)]
pub struct GroupTable<'a> {
    /// The key (`prefix`…).
    pub key: &'a str,
    /// What the key groups by, for the heading.
    pub title: &'a str,
    /// Distinct groups in all.
    pub total: u64,
    pub rows: &'a [ActorGroup],
}

/// At most this many of an actor's paths are shown.
const ACTOR_PATHS: usize = 3;

impl<'a> ActorTable<'a> {
    fn of(m: &'a ReportModel) -> Self {
        let all = &m.snapshot.actors;
        let rows = all[..all.len().min(m.top_actors)]
            .iter()
            .map(|a| ActorRow {
                client: a.client,
                class: a.class,
                scanner: a.scanner.as_deref(),
                first_seen: a.first_seen,
                last_seen: a.last_seen,
                requests: a.requests,
                successes: a.successes,
                bytes: a.bytes,
                services: &a.services,
                top_paths: a.top_paths.iter().take(ACTOR_PATHS).map(|p| p.path.as_str()).collect(),
                user_agent: a.user_agents.first().map(|(ua, _)| ua.as_str()),
                network: org_and_country(&m.snapshot, a.client),
            })
            .collect();
        ActorTable {
            total: m.snapshot.actors_total(),
            listed: all.len(),
            enriched: m.snapshot.enrichment.configured(),
            rows,
        }
    }
}

#[derive(Debug)]
pub struct ActorRow<'a> {
    pub client: IpAddr,
    pub class: ActorClass,
    /// The matched scanner entry when `class` is `Scanner`.
    pub scanner: Option<&'a str>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
    pub services: &'a [String],
    /// The actor's most requested paths (at most three).
    pub top_paths: Vec<&'a str>,
    /// Its most frequent user agent.
    pub user_agent: Option<&'a str>,
    /// Its network (ASN and organisation) and country (ISO code and name), when the
    /// enrichment databases know them.
    pub network: (Option<String>, Option<String>),
}

/// An actor's network label and country label, as the reports show them.
fn org_and_country(
    snapshot: &crate::model::Snapshot,
    client: IpAddr,
) -> (Option<String>, Option<String>) {
    let e = snapshot.enrichment.of(client);
    let org = e.and_then(crate::model::enrichment::ActorEnrichment::org_label);
    let country = e.and_then(|e| e.country.as_ref()).map(CountryInfo::label);
    (org, country)
}

/// A row of the evidence's sources.
#[derive(Debug)]
pub struct SourceRow<'a> {
    pub path: &'a str,
    pub kind: SourceKind,
    pub format: &'a str,
    /// `None`: a stream (nothing stored to hash).
    pub sha256: Option<&'a str>,
    pub lines: u64,
    pub events: u64,
    pub malformed: u64,
    pub first_event: Option<DateTime<Utc>>,
    pub last_event: Option<DateTime<Utc>>,
}

impl<'a> SourceRow<'a> {
    fn of(s: &'a SourceHealth) -> Self {
        SourceRow {
            path: &s.path,
            kind: s.kind,
            format: &s.format,
            sha256: s.sha256.as_deref(),
            lines: s.lines,
            events: s.events,
            malformed: s.malformed,
            first_event: s.first_event,
            last_event: s.last_event,
        }
    }
}

impl SourceRow<'_> {
    /// `access` or `scan`.
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        crate::report::wire::source_kind(self.kind)
    }
}

/// The redaction counts by kind, for the integrity section: `(kind name, count)` in kind
/// order.
#[must_use]
pub fn redaction_kinds(m: &ReportModel) -> Vec<(&'static str, u64)> {
    m.redaction.counts.0.iter().map(|(k, n)| (k.as_str(), *n)).collect()
}
