//! The `leakline.analysis/1` JSON document (`leakline analyze --format json`).
//!
//! Stable schema (documented in the README): services in config order (then unmatched scan
//! targets sorted), windows in time order, actors by bytes descending (ties: requests
//! descending, client ascending). Every time is RFC 3339 UTC with a `Z`. Absent values are
//! `null`, never omitted. Beyond the schema the document carries `as_of` (the upper
//! bound of open windows), so a reader can reproduce durations, `unmatched_targets` on scan
//! sources, `oversized`, `incomplete` and `errors` on every source, `gaps` (as in the report
//! JSON), `redaction: {enabled, total, counts: {kind: n}}`, `case.timezone`, each source's
//! `service`, each actor's `scanner`, and on every source `zone_assumed`,
//! `assumed_zone`, `duplicate_of` and `duplicate_by`; and (issue 13), before the sources,
//! `coverage: {complete, sources_read, sources_unread: [{path, reason}], from, to}` and
//! `duplicates: [{service, sources, shared_percent, message}]`, with `coverage` on every
//! service too, `state` `unknown` for a service nothing covers, and `as_of` `null` when no
//! evidence was read.
//!
//! The document is made of the wire model ([`super::wire`]), which `leakline.report/1`
//! extends: its `Serialize` defines the layout. It borrows the snapshot (no string is
//! copied), and the actors are viewed one by one as they are written.
//! [`Analysis::write`] emits the same bytes through a hand-written writer (`write.rs`); see
//! there for why.

mod write;

use std::collections::BTreeMap;
use std::io;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::wire::{
    self, Actors, Case, Coverage, Duplicate, Gap, Groups, Redaction, Service, Source, Stats,
};
use crate::model::Snapshot;
use crate::report::{RedactionCounts, RedactionRecord};

/// The schema identifier.
pub const SCHEMA: &str = "leakline.analysis/1";

/// The record of a document built without redaction.
static NOT_REDACTED: RedactionRecord =
    RedactionRecord { enabled: false, counts: RedactionCounts(BTreeMap::new()) };

/// The analysis document, borrowed from a snapshot.
#[derive(Debug, Serialize)]
pub struct Analysis<'a> {
    /// [`SCHEMA`] (the report writes its own).
    pub schema: &'static str,
    pub case: Case<'a>,
    #[serde(serialize_with = "wire::time")]
    pub generated_at: DateTime<Utc>,
    /// The upper bound of open windows; `None` when no evidence was read at all (no event):
    /// there is no moment to speak of.
    #[serde(serialize_with = "wire::opt_time")]
    pub as_of: Option<DateTime<Utc>>,
    /// What the whole answer rests on: every configured source, read or not. Written
    /// before the services, so that a reader meets the problems with the evidence first.
    pub coverage: Coverage<'a>,
    /// Access sources of one service that look like two logs of the same traffic.
    pub duplicates: Vec<Duplicate<'a>>,
    pub sources: Vec<Source<'a>>,
    pub services: Vec<Service<'a>>,
    /// The top actors by bytes (`analyze --actors N`, 10 000 by default; plus the top by
    /// requests and every actor a window names), or all of them.
    pub actors: Actors<'a>,
    /// Distinct external actors in all; `actors` lists `actors_listed` of them.
    pub actors_total: u64,
    pub actors_listed: u64,
    /// Every actor aggregated by a key: `prefix` (/24 IPv4, /48 IPv6), more with enrichment.
    pub actor_groups: Vec<Groups<'a>>,
    /// Where the evidence may be missing: unreadable or unmatched sources, rotations and
    /// truncations seen while following, negative scans that arrived too late to split a
    /// window. Sorted by time. Empty when nothing is known to be missing.
    pub gaps: Vec<Gap<'a>>,
    pub stats: Stats,
    /// Whether secrets in attacker-derived strings were replaced by markers before the
    /// document was built, and how many of each kind (`leakline analyze` redacts unless
    /// `--no-redact`). [`Analysis::build`] records "off"; see [`Analysis::with_redaction`].
    pub redaction: Redaction<'a>,
    /// The offline databases and range files the actors' `asn`, `country`, `city` and
    /// `lists` rest on (issue 20).
    pub enrichment: wire::Enrichment<'a>,
}

impl<'a> Analysis<'a> {
    /// Build the document. `generated_at` is the wall clock, read by the caller (the engine
    /// reads none); `snapshot.stats.elapsed_ms` should already be filled by the caller.
    #[must_use]
    pub fn build(snapshot: &'a Snapshot, generated_at: DateTime<Utc>) -> Analysis<'a> {
        Analysis {
            schema: SCHEMA,
            case: Case { name: &snapshot.case_name, timezone: &snapshot.timezone },
            generated_at,
            as_of: (snapshot.stats.events > 0).then_some(snapshot.as_of),
            coverage: Coverage::of(&snapshot.coverage),
            duplicates: snapshot.duplicates.iter().map(Duplicate::of).collect(),
            sources: snapshot.sources.iter().map(|s| Source::of(s, &snapshot.timezone)).collect(),
            services: snapshot.services.iter().map(Service::of).collect(),
            actors: Actors(&snapshot.actors, &snapshot.enrichment),
            actors_total: snapshot.actors_total(),
            actors_listed: snapshot.actors.len() as u64,
            actor_groups: snapshot.actor_groups.iter().map(Groups::of).collect(),
            gaps: snapshot.gaps.iter().map(Gap::of).collect(),
            stats: Stats::of(&snapshot.stats),
            redaction: Redaction::of(&NOT_REDACTED),
            enrichment: wire::Enrichment::of(&snapshot.enrichment),
        }
    }

    /// Record how the snapshot was redacted (the caller redacted it before [`Analysis::build`]).
    #[must_use]
    pub fn with_redaction(mut self, redaction: &'a RedactionRecord) -> Analysis<'a> {
        self.redaction = Redaction::of(redaction);
        self
    }

    /// Write the document as pretty JSON followed by a newline: the bytes of
    /// `serde_json::to_writer_pretty` and a newline, written in large blocks.
    ///
    /// # Errors
    /// The output's.
    pub fn write(&self, out: impl io::Write) -> io::Result<()> {
        write::write(self, out)
    }
}
