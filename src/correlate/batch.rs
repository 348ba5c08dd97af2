//! The batch driver behind `leakline analyze`: expand the configured globs, read every file
//! once, parse in parallel, feed one `Correlator`.
//!
//! - Source ids: scans first (config order, each glob's matches sorted), then access files
//!   (service order, then access-entry order, each glob's matches sorted). A file matched
//!   twice within a kind is read once.
//! - Scans are applied first, then the correlator is sealed (every negative is known), then
//!   access files are read. Scan files are small and parsed whole; access files are cut into
//!   `CHUNK_BYTES` chunks at newline boundaries and parsed by `workers` threads, each chunk
//!   numbered from its true first line. Workers drop internal traffic to per-minute counts
//!   and record external requests themselves, into the correlator's shards, in file order
//!   (`pipeline.rs`, `correlate::shard`): the result is the same as a serial run's.
//! - Gzip is recognised by its magic bytes (any name); the SHA-256 is of the bytes on disk.
//!   For a plain access file the chunks, in the order they are cut, are exactly those bytes,
//!   so a `leakline-sha256` thread hashes them while the workers parse; gzip files and scans
//!   are hashed inline as they are read (`content.rs`).
//! - An unreadable file stops the run with an error naming it (exit 1): a silently partial
//!   timeline is worse than none for an investigation. A glob that matches nothing is an
//!   error when it has no wildcard (a typo'd path); otherwise the snapshot's coverage lists
//!   it as an unread source (`correlate::coverage`), and the run's exit code says so.

mod content;
mod pipeline;

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use self::content::{Content, read_full};
use super::classify::{ScannerDb, ScannerFileError};
use super::engine::{ActorDetail, Correlator, SourceInfo};
use crate::config::{CaseConfig, Vantage};
use crate::ingest::SourceStats;
use crate::ingest::access::AccessFormat;
use crate::ingest::decoder::{Decoder, DecoderOptions};
use crate::ingest::scan::{ScanFormat, ScanOptions};
use crate::model::snapshot::{Gap, GapKind};
use crate::model::{Event, Snapshot, SourceId, SourceKind};

/// Bytes per parallel parse chunk.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Why a batch run stopped.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{pattern}: no such file")]
    NoMatch { pattern: String },
    #[error("{pattern}: bad glob: {message}")]
    Glob { pattern: String, message: String },
    #[error(transparent)]
    Scanners(#[from] ScannerFileError),
}

/// One file to read.
#[derive(Debug, Clone)]
struct Planned {
    path: PathBuf,
    kind: SourceKind,
    service: String,
    vantage: Vantage,
    access_format: Option<AccessFormat>,
    scan_format: Option<ScanFormat>,
    fields: Option<crate::ingest::access::FieldMap>,
}

/// Expand one glob, sorted; `-` stands for stdin.
fn expand(pattern: &str, gaps: &mut Vec<Gap>) -> Result<Vec<PathBuf>, BatchError> {
    if pattern == "-" {
        return Ok(vec![PathBuf::from("-")]);
    }
    let paths = glob::glob(pattern)
        .map_err(|e| BatchError::Glob { pattern: pattern.into(), message: e.to_string() })?;
    let mut out = Vec::new();
    for p in paths {
        match p {
            Ok(p) if p.is_file() => out.push(p),
            Ok(_) => {}
            Err(e) => {
                let path = e.path().to_path_buf();
                return Err(BatchError::Io { path, source: e.into() });
            }
        }
    }
    out.sort();
    if out.is_empty() {
        let wildcard = pattern.contains(['*', '?', '[']);
        if !wildcard {
            return Err(BatchError::NoMatch { pattern: pattern.into() });
        }
        gaps.push(Gap {
            kind: GapKind::SourceError,
            source: None,
            path: pattern.into(),
            from: DateTime::UNIX_EPOCH,
            to: None,
            reason: "no file matches this pattern".into(),
        });
    }
    Ok(out)
}

fn plan(config: &CaseConfig, gaps: &mut Vec<Gap>) -> Result<Vec<Planned>, BatchError> {
    let mut out = Vec::new();
    let mut seen: HashSet<(PathBuf, bool)> = HashSet::new();
    for spec in &config.scans {
        for pattern in &spec.paths {
            for path in expand(pattern, gaps)? {
                if seen.insert((path.clone(), true)) {
                    out.push(Planned {
                        path,
                        kind: SourceKind::Scan,
                        service: String::new(),
                        vantage: spec.vantage,
                        access_format: None,
                        scan_format: spec.format,
                        fields: None,
                    });
                }
            }
        }
    }
    for svc in &config.services {
        for spec in &svc.access {
            for path in expand(&spec.pattern, gaps)? {
                if seen.insert((path.clone(), false)) {
                    out.push(Planned {
                        path,
                        kind: SourceKind::Access,
                        service: svc.name.clone(),
                        vantage: Vantage::External,
                        access_format: spec.format,
                        scan_format: None,
                        fields: spec.fields.clone(),
                    });
                }
            }
        }
    }
    Ok(out)
}

fn fill_health(
    c: &mut Correlator,
    id: SourceId,
    stats: &SourceStats,
    sha: Option<String>,
    format: &str,
) {
    let h = c.source_mut(id);
    h.format = format.to_string();
    h.sha256 = sha;
    h.lines = stats.lines;
    h.events = stats.events;
    h.malformed = stats.malformed;
    h.oversized = stats.oversized;
    h.malformed_samples.clone_from(&stats.malformed_samples);
    h.first_event = stats.first_event;
    h.last_event = stats.last_event;
}

/// Settings of a batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Parser threads (at least 1).
    pub workers: usize,
    /// Bytes per parse chunk (tests use tiny chunks to exercise the line-number fix-up).
    pub chunk_bytes: usize,
    /// Per-actor detail to record (see [`Correlator::set_actor_detail`]): `Totals` when the
    /// output shows no per-actor lists.
    pub actor_detail: ActorDetail,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            workers: std::thread::available_parallelism().map_or(2, std::num::NonZero::get).max(1),
            chunk_bytes: CHUNK_BYTES,
            actor_detail: ActorDetail::Full,
        }
    }
}

/// Load the built-in scanner list plus the config's user files.
pub fn load_scanners(config: &CaseConfig) -> Result<ScannerDb, BatchError> {
    let mut db = ScannerDb::builtin();
    for path in &config.scanners {
        db.add_file(path)?;
    }
    Ok(db)
}

/// Read every configured source once and return the correlator holding the result.
pub fn run(config: &CaseConfig, options: &BatchOptions) -> Result<Correlator, BatchError> {
    let scanners = load_scanners(config)?;
    let mut gaps = Vec::new();
    let planned = plan(config, &mut gaps)?;
    let mut c = Correlator::with_scanners(config.clone(), scanners);
    c.set_actor_detail(options.actor_detail);
    // A wildcard glob that matched nothing is not a gap in time (it has no moment): the
    // snapshot's coverage lists it as an unread source, by pattern, with the reason.
    drop(gaps);
    let ids: Vec<SourceId> = planned
        .iter()
        .map(|p| {
            c.add_source(SourceInfo {
                path: p.path.to_string_lossy().into_owned(),
                kind: p.kind,
                format: "unknown".into(),
                service: p.service.clone(),
                vantage: p.vantage,
            })
        })
        .collect();
    for (p, &id) in planned.iter().zip(&ids).filter(|(p, _)| p.kind == SourceKind::Scan) {
        read_scan(&mut c, p, id)?;
    }
    c.seal();
    let access: Vec<(&Planned, SourceId)> =
        planned.iter().zip(ids).filter(|(p, _)| p.kind == SourceKind::Access).collect();
    if !access.is_empty() {
        pipeline::read_access(&mut c, config, &access, options.workers, options.chunk_bytes)?;
    }
    Ok(c)
}

/// The snapshot of `config`'s evidence: every source read once ([`run`] with default
/// options), then [`Correlator::snapshot`] at `as_of`, or at the latest event time when
/// `as_of` is `None` (as `leakline analyze` does, so the result does not depend on the
/// clock). With no event at all and no `as_of`, the snapshot is as of the Unix epoch.
///
/// The one path from a case's config to its current evidence, for `case show`, `report` and
/// step verification; nothing here reads the clock (callers pass "now" as `as_of`).
pub fn snapshot_of(
    config: &CaseConfig,
    as_of: Option<DateTime<Utc>>,
) -> Result<Snapshot, BatchError> {
    let correlator = run(config, &BatchOptions::default())?;
    let as_of = as_of.or_else(|| correlator.latest_event()).unwrap_or_default();
    Ok(correlator.snapshot(as_of))
}

/// The evidence files `config`'s globs match now, in [`run`]'s reading order (scans, then
/// access logs), each once; stdin (`-`) is left out. Errors like [`run`]: a pattern without
/// a wildcard that matches nothing is [`BatchError::NoMatch`]. A wildcard pattern that
/// matches nothing adds nothing (a batch run lists it as an unread source).
pub fn evidence_files(config: &CaseConfig) -> Result<Vec<PathBuf>, BatchError> {
    let mut gaps = Vec::new();
    let planned = plan(config, &mut gaps)?;
    let mut out: Vec<PathBuf> = Vec::with_capacity(planned.len());
    for p in planned {
        if p.path != Path::new("-") && !out.contains(&p.path) {
            out.push(p.path);
        }
    }
    Ok(out)
}

fn read_scan(c: &mut Correlator, p: &Planned, id: SourceId) -> Result<(), BatchError> {
    let io_err = |source| BatchError::Io { path: p.path.clone(), source };
    let mut content = Content::open(&p.path).map_err(io_err)?;
    let mut opts = DecoderOptions::new(id, Some(SourceKind::Scan));
    opts.scan_format = p.scan_format;
    opts.scan = ScanOptions { default_tz: c.config().timezone };
    let mut decoder = Decoder::new(opts);
    let mut buf = vec![0_u8; 1 << 20];
    let mut events: Vec<Event> = Vec::new();
    loop {
        let n = read_full(&mut content, &mut buf).map_err(io_err)?;
        if n == 0 {
            break;
        }
        decoder.feed(&buf[..n], &mut events);
        c.apply(&events);
        events.clear();
    }
    decoder.finish(&mut events);
    c.apply(&events);
    let sha = content.finish().map_err(io_err)?;
    let format = decoder.format().name();
    let stats = decoder.stats().clone();
    fill_health(c, id, &stats, sha, format);
    if let Some(summary) = decoder.scan_summary() {
        c.source_mut(id).incomplete = summary.incomplete;
    }
    Ok(())
}
