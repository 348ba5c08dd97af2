//! The JSON report (`leakline.report/1`): the analysis document of issue 4
//! (`schema, case, generated_at, as_of, sources, services, actors, stats`, same field names and
//! meanings) followed by `playbook`, `notes`, `journal_head`, `redaction`, then `gaps`,
//! `key_moments` and `leakline_version`.
//!
//! Stable: keys are emitted in a fixed order, times are RFC 3339 UTC with `Z`, lists keep the
//! snapshot's order (services in config order, windows in time order, actors by bytes
//! descending). Strings are full (never cut) and redacted when redaction is on; consumers must
//! escape them before display.
//!
//! ```text
//! { "schema": "leakline.report/1",
//!   "case": {"name", "timezone"},
//!   "generated_at",
//!   "as_of"|null,
//!   "coverage": {"complete","sources_read":[],"sources_unread":[{"path","reason"}],
//!                "from"|null,"to"|null},
//!   "duplicates": [{"service","sources":[a,b],"shared_percent","message"}],
//!   "sources": [{"path","kind":"access|scan","format","service","sha256"|null,"lines","events",
//!                "malformed","first_event"|null,"last_event"|null,"zone_assumed",
//!                "duplicate_of"|null, "waf_actions": {"ALLOW": n, …} (WAF logs only)}],
//!   "services": [{"name","addresses":[],"state":"open|closed|never_exposed|unknown",
//!                 "windows": [{"opened_earliest"|null,"opened_latest","closed_earliest",
//!                              "closed_latest"|null,"status":"open|closed",
//!                              "external_requests","external_successes","external_bytes",
//!                              "external_clients",
//!                              "first_external": {"time","client","user_agent","method","path",
//!                                                 "status"}|null,
//!                              "first_non_scanner_success": {...}|null,
//!                              "evidence": {"positive","negative"},
//!                              "top_paths": [{"path","requests","successes","bytes"}],
//!                              "sensitive": [{"label","path","requests","successes","bytes",
//!                                             "first_success": {"time","client","method",
//!                                                               "path","status"}|null}]}],
//!                 "coverage": {...}}],
//!   "actors": [{"client","class":"scanner|tool|browser|unknown","scanner"|null,"first_seen",
//!               "last_seen","requests","successes","bytes","services":[],
//!               "asn": {"number","org"|null}|null, "country": {"iso","name"|null}|null,
//!               "city": {"name","subdivision","latitude","longitude",
//!                        "accuracy_radius_km"}|null,
//!               "lists": [{"name","service"|null,"region"|null}]}],
//!   "stats": {"lines","events","malformed","elapsed_ms"},
//!   "playbook": {"id","title","steps":[{"id","title","role",
//!                "state":"pending|in_progress|done|skipped|failed","started"|null,"done"|null,
//!                "operator","sla_minutes"|null,
//!                "sla":"met|missed|skipped|running|overdue"|null,"skip_reason",
//!                "verification"|null,"unverified"|null,"history":[…]}]} | null,
//!   "notes": [{"at","by","text"}],
//!   "journal_head": {"records","head_hash","problems","verification"} | null,
//!   "redaction": {"enabled", "total", "counts": {"param"|"bearer"|"aws_key"|"api_key"|"jwt"|
//!                 "basic_auth": n}},
//!   "gaps": [{"kind":"rotated|truncated|source_error|silent|restart","path","from","to"|null,
//!             "reason"}],
//!   "key_moments": [{"time","kind","service"|null,"text"}],
//!   "leakline_version",
//!   "case_status": {"status":"open|closed","closed": {"at","by","text"}|null,
//!                   "reopened": {"at","by","text"}|null} | null,
//!   "evidence": [{"path","sha256_recorded","sha256_now"|null,
//!                 "status":"unchanged|changed|missing"}],
//!   "journal_verification": "…" | null,
//!   "journal": [{"seq","at","operator","kind","text","hash"}] }
//! ```
//!
//! Each playbook step also carries `unverified` (what the check said when it was marked done
//! unverified, else null) and `history` (`[{"seq","at","by","action","note"}]`, its journal
//! records in order). `journal` (the verbatim journal) ends the document.

use std::collections::BTreeMap;
use std::io;

use serde::Serialize;

use super::analysis::{CoverageDoc, DuplicateDoc};
use super::model::{
    CaseClosure, EvidenceCheck, JournalHead, JournalRecord, Note, PlaybookRecord, ReportModel,
};
use super::moments::MomentKind;
use super::text::{Seg, rfc3339};
use crate::model::snapshot::{Gap, Hit, ServiceState, ServiceSummary, WindowStatus};

/// The schema identifier of the JSON report.
pub const SCHEMA: &str = "leakline.report/1";

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    case: Case<'a>,
    generated_at: String,
    /// The snapshot time: upper bound of open windows (as in `leakline.analysis/1`).
    /// `null` when no evidence was read at all.
    as_of: Option<String>,
    /// What the answer rests on, and access sources that double each other (as in
    /// `leakline.analysis/1`), before the services.
    coverage: CoverageDoc,
    duplicates: Vec<DuplicateDoc>,
    sources: Vec<Source<'a>>,
    services: Vec<Service<'a>>,
    actors: Vec<Actor<'a>>,
    stats: Stats,
    playbook: Option<&'a PlaybookRecord>,
    notes: &'a [Note],
    journal_head: Option<&'a JournalHead>,
    redaction: Redaction,
    gaps: Vec<GapOut<'a>>,
    key_moments: Vec<MomentOut<'a>>,
    leakline_version: &'a str,
    case_status: Option<CaseStatusOut<'a>>,
    evidence: &'a [EvidenceCheck],
    journal_verification: Option<&'a str>,
    journal: &'a [JournalRecord],
}

#[derive(Serialize)]
struct CaseStatusOut<'a> {
    status: &'static str,
    closed: Option<&'a CaseClosure>,
    reopened: Option<&'a CaseClosure>,
}

#[derive(Serialize)]
struct Case<'a> {
    name: &'a str,
    timezone: &'a str,
}

#[derive(Serialize)]
struct Source<'a> {
    path: &'a str,
    kind: crate::model::SourceKind,
    format: &'a str,
    service: &'a str,
    sha256: Option<&'a str>,
    lines: u64,
    events: u64,
    malformed: u64,
    first_event: Option<String>,
    last_event: Option<String>,
    /// Times without zone were read in `case.timezone`.
    zone_assumed: bool,
    /// A scan file holding another copy of a run `duplicate_of` holds (not counted).
    duplicate_of: Option<&'a str>,
    /// WAF logs: requests by the WAF's action (absent for other sources).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    waf_actions: &'a std::collections::BTreeMap<String, u64>,
    /// Database sources: server version, exact queries, rows, SHA-256 of the rows as
    /// received (absent for files).
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'a crate::model::snapshot::DatabaseEvidence>,
}

#[derive(Serialize)]
struct Service<'a> {
    name: &'a str,
    addresses: &'a [String],
    state: ServiceState,
    windows: Vec<WindowOut<'a>>,
    coverage: CoverageDoc,
}

#[derive(Serialize)]
struct HitOut<'a> {
    time: String,
    client: &'a str,
    user_agent: &'a str,
    method: &'a str,
    path: &'a str,
    status: u16,
}

#[derive(Serialize)]
struct WindowOut<'a> {
    opened_earliest: Option<String>,
    opened_latest: String,
    closed_earliest: String,
    closed_latest: Option<String>,
    status: WindowStatus,
    external_requests: u64,
    external_successes: u64,
    external_bytes: u64,
    external_clients: u64,
    first_external: Option<HitOut<'a>>,
    first_non_scanner_success: Option<HitOut<'a>>,
    evidence: crate::model::snapshot::EvidenceCount,
    top_paths: &'a [crate::model::snapshot::PathCount],
    sensitive: Vec<SensitiveOut<'a>>,
}

#[derive(Serialize)]
struct SensitiveOut<'a> {
    label: &'a str,
    path: &'a str,
    requests: u64,
    successes: u64,
    bytes: u64,
    first_success: Option<FirstSuccessOut<'a>>,
}

#[derive(Serialize)]
struct FirstSuccessOut<'a> {
    time: String,
    client: &'a str,
    method: &'a str,
    path: &'a str,
    status: u16,
}

fn sensitive(s: &crate::model::snapshot::SensitiveCount) -> SensitiveOut<'_> {
    SensitiveOut {
        label: &s.label,
        path: &s.path,
        requests: s.requests,
        successes: s.successes,
        bytes: s.bytes,
        first_success: s.first_success.as_ref().map(|h| FirstSuccessOut {
            time: rfc3339(h.time),
            client: &h.client,
            method: &h.method,
            path: &h.path,
            status: h.status,
        }),
    }
}

#[derive(Serialize)]
struct Actor<'a> {
    client: String,
    class: crate::model::snapshot::ActorClass,
    scanner: Option<&'a str>,
    first_seen: String,
    last_seen: String,
    requests: u64,
    successes: u64,
    bytes: u64,
    services: &'a [String],
    /// `asn`, `country`, `city`, `lists`, as in `leakline.analysis/1`.
    #[serde(flatten)]
    enrichment: super::analysis::EnrichDoc,
}

#[derive(Serialize)]
struct Stats {
    lines: u64,
    events: u64,
    malformed: u64,
    elapsed_ms: u64,
}

#[derive(Serialize)]
struct Redaction {
    enabled: bool,
    total: u64,
    counts: BTreeMap<&'static str, u64>,
}

#[derive(Serialize)]
struct GapOut<'a> {
    kind: crate::model::snapshot::GapKind,
    path: &'a str,
    from: String,
    to: Option<String>,
    reason: &'a str,
}

#[derive(Serialize)]
struct MomentOut<'a> {
    time: String,
    kind: MomentKind,
    service: Option<&'a str>,
    /// Plain text (no markup): the same sentence the other formats show.
    text: String,
}

fn hit(h: Option<&Hit>) -> Option<HitOut<'_>> {
    h.map(|h| HitOut {
        time: rfc3339(h.time),
        client: &h.client,
        user_agent: &h.user_agent,
        method: &h.method,
        path: &h.path,
        status: h.status,
    })
}

fn gap(g: &Gap) -> GapOut<'_> {
    GapOut {
        kind: g.kind,
        path: &g.path,
        from: rfc3339(g.from),
        to: g.to.map(rfc3339),
        reason: &g.reason,
    }
}

fn plain(p: &[Seg]) -> String {
    p.iter()
        .map(|s| match s {
            Seg::Lit(t) | Seg::Text(t) | Seg::Strong(t) | Seg::Data(t) => t.as_str(),
        })
        .collect()
}

/// The case's closing parts of the document: status, evidence re-hash, the journal.
type CaseTail<'a> =
    (Option<CaseStatusOut<'a>>, &'a [EvidenceCheck], Option<&'a str>, &'a [JournalRecord]);

fn case_tail(m: &ReportModel) -> CaseTail<'_> {
    let Some(c) = &m.case else {
        return (None, &[], None, &[]);
    };
    let status = CaseStatusOut {
        status: if c.closed.is_some() { "closed" } else { "open" },
        closed: c.closed.as_ref(),
        reopened: c.reopened.as_ref(),
    };
    let verification = c.journal.as_ref().map(|j| j.verification.as_str());
    (Some(status), &c.evidence, verification, &c.records)
}

fn service(s: &ServiceSummary) -> Service<'_> {
    Service {
        name: &s.name,
        addresses: &s.addresses,
        state: s.state,
        windows: s
            .windows
            .iter()
            .map(|w| WindowOut {
                opened_earliest: w.opened_earliest.map(rfc3339),
                opened_latest: rfc3339(w.opened_latest),
                closed_earliest: rfc3339(w.closed_earliest),
                closed_latest: w.closed_latest.map(rfc3339),
                status: w.status,
                external_requests: w.external_requests,
                external_successes: w.external_successes,
                external_bytes: w.external_bytes,
                external_clients: w.external_clients,
                first_external: hit(w.first_external.as_ref()),
                first_non_scanner_success: hit(w.first_non_scanner_success.as_ref()),
                evidence: w.evidence,
                top_paths: &w.top_paths,
                sensitive: w.sensitive.iter().map(sensitive).collect(),
            })
            .collect(),
        coverage: CoverageDoc::from(&s.coverage),
    }
}

fn doc(m: &ReportModel) -> Doc<'_> {
    let snap = &m.snapshot;
    let (case_status, evidence, journal_verification, journal) = case_tail(m);
    Doc {
        schema: SCHEMA,
        case: Case { name: &m.case_name, timezone: &snap.timezone },
        generated_at: rfc3339(m.generated_at),
        as_of: (snap.stats.events > 0).then(|| rfc3339(snap.as_of)),
        coverage: CoverageDoc::from(&snap.coverage),
        duplicates: snap.duplicates.iter().map(DuplicateDoc::from).collect(),
        sources: snap
            .sources
            .iter()
            .map(|s| Source {
                path: &s.path,
                kind: s.kind,
                format: &s.format,
                service: &s.service,
                sha256: s.sha256.as_deref(),
                lines: s.lines,
                events: s.events,
                malformed: s.malformed,
                first_event: s.first_event.map(rfc3339),
                last_event: s.last_event.map(rfc3339),
                zone_assumed: s.zone_assumed,
                duplicate_of: s.duplicate_of.as_deref(),
                waf_actions: &s.waf_actions,
                database: s.database.as_ref(),
            })
            .collect(),
        services: snap.services.iter().map(service).collect(),
        actors: snap
            .actors
            .iter()
            .map(|a| Actor {
                client: a.client.to_string(),
                class: a.class,
                scanner: a.scanner.as_deref(),
                first_seen: rfc3339(a.first_seen),
                last_seen: rfc3339(a.last_seen),
                requests: a.requests,
                successes: a.successes,
                bytes: a.bytes,
                services: &a.services,
                enrichment: super::analysis::EnrichDoc(
                    snap.enrichment.actors.get(&a.client).cloned(),
                ),
            })
            .collect(),
        stats: Stats {
            lines: snap.stats.lines,
            events: snap.stats.events,
            malformed: snap.stats.malformed,
            elapsed_ms: snap.stats.elapsed_ms,
        },
        playbook: m.case.as_ref().and_then(|c| c.playbook.as_ref()),
        notes: m.case.as_ref().map_or(&[], |c| c.notes.as_slice()),
        journal_head: m.case.as_ref().and_then(|c| c.journal.as_ref()),
        redaction: Redaction {
            enabled: m.redaction.enabled,
            total: m.redaction.counts.total(),
            counts: m.redaction.counts.0.iter().map(|(k, n)| (k.as_str(), *n)).collect(),
        },
        gaps: snap.gaps.iter().map(gap).collect(),
        key_moments: m
            .moments
            .iter()
            .map(|mo| MomentOut {
                time: rfc3339(mo.time),
                kind: mo.kind,
                service: mo.service.as_deref(),
                text: plain(&mo.text),
            })
            .collect(),
        leakline_version: &m.version,
        case_status,
        evidence,
        journal_verification,
        journal,
    }
}

/// Write the JSON report (pretty-printed, trailing newline).
pub fn write_json<W: io::Write + ?Sized>(m: &ReportModel, w: &mut W) -> io::Result<()> {
    let mut buf = serde_json::to_vec_pretty(&doc(m)).map_err(io::Error::other)?;
    buf.push(b'\n');
    w.write_all(&buf)
}
