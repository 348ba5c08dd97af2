//! The batch driver behind `leakline analyze`: expand the configured globs, read every file
//! once, parse in parallel, feed one `Correlator`.
//!
//! - Source ids: scans first (config order, each glob's matches sorted), then access files
//!   (service order, then access-entry order, each glob's matches sorted). A file matched
//!   twice within a kind — by one path or by two (a symlink, a hard link: same device and
//!   inode) — is read once; its other paths are listed as the source's `aliases`. Globs do
//!   not follow directory symlink cycles (`ingest::expand`).
//! - One scan run given twice (nmap XML and `-oG` of one `-oA` run: same command line and
//!   start, learnt from each file's head) is counted once: the exact copy (XML) is applied,
//!   the other is read for its counts and marked `duplicate_of` (`duplicate_runs`). A scan
//!   file whose bytes are identical to an earlier one's (one httpx or nuclei JSONL copied
//!   under two names: formats that name no run) is one scan too (`duplicate_contents`): only
//!   files of equal size on disk are hashed before reading. `duplicate_by` says which.
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
mod database;
mod pipeline;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use self::content::{Content, read_full};
use crate::config::{CaseConfig, SourceSpec};
use crate::correlate::classify::ScannerFileError;
use crate::correlate::engine::{ActorDetail, Correlator, SourceInfo};
use crate::ingest::SourceStats;
use crate::ingest::decoder::{Decoder, DecoderOptions};
use crate::ingest::expand::{self, ExpandError, FileIdentity};
use crate::ingest::scan::ScanOptions;
use crate::ingest::scan::clock::ScanRun;
use crate::model::snapshot::{DuplicateBy, Gap, GapKind};
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
    #[error(
        "{path}: is {what}, not a regular file (analyze reads regular files; pipe a stream into `-`)"
    )]
    NotAFile { path: PathBuf, what: &'static str },
    #[error("{pattern}: bad glob: {message}")]
    Glob { pattern: String, message: String },
    #[error(transparent)]
    Scanners(#[from] ScannerFileError),
    #[error(transparent)]
    Enrich(#[from] crate::enrich::EnrichError),
}

/// One file to read: a path matched by one of the config's sources.
#[derive(Debug, Clone)]
struct Planned {
    path: PathBuf,
    spec: SourceSpec,
    /// Other matched paths that are this same file (read once, under `path`).
    aliases: Vec<PathBuf>,
}

/// Expand one glob, sorted; `-` stands for stdin. Symlink cycles are not followed
/// (`ingest::expand`). A path without wildcard that exists but is no regular file (a FIFO,
/// a device, a directory) is an error saying what it is.
fn expand(pattern: &str, gaps: &mut Vec<Gap>) -> Result<Vec<PathBuf>, BatchError> {
    if pattern == "-" {
        return Ok(vec![PathBuf::from("-")]);
    }
    let paths = expand::expand_glob(pattern).map_err(|e| match e {
        ExpandError::Pattern { pattern, message } => BatchError::Glob { pattern, message },
        ExpandError::Io { path, source } => BatchError::Io { path, source },
    })?;
    let wildcard = pattern.contains(['*', '?', '[']);
    let mut out = Vec::new();
    for p in paths {
        match expand::non_file_kind(&p) {
            None if p.exists() => out.push(p),
            Some(what) if !wildcard => return Err(BatchError::NotAFile { path: p, what }),
            _ => {}
        }
    }
    if out.is_empty() {
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

/// Whether `path` is a file already planned for this kind (by identity: device + inode, so
/// a symlink and its target, or two hard links, are one source); records it as an alias.
fn seen_before(
    seen: &mut HashMap<(Option<FileIdentity>, PathBuf, bool), usize>,
    out: &mut [Planned],
    path: &Path,
    scan: bool,
) -> bool {
    let id = (path != Path::new("-")).then(|| FileIdentity::of(path).ok()).flatten();
    // Identity when known; else the path itself.
    let key = match id {
        Some(id) => (Some(id), PathBuf::new(), scan),
        None => (None, path.to_path_buf(), scan),
    };
    if let Some(&i) = seen.get(&key) {
        if out[i].path != path && !out[i].aliases.iter().any(|a| a == path) {
            out[i].aliases.push(path.to_path_buf());
        }
        return true;
    }
    seen.insert(key, out.len());
    false
}

fn plan(config: &CaseConfig, gaps: &mut Vec<Gap>) -> Result<Vec<Planned>, BatchError> {
    let mut out = Vec::new();
    let mut seen = HashMap::new();
    for spec in config.sources() {
        if spec.clickhouse.is_some() {
            // A database source: no glob to expand; pulled once, by its own reader.
            out.push(Planned { path: PathBuf::from(&spec.pattern), spec, aliases: Vec::new() });
            continue;
        }
        let scan = spec.kind == SourceKind::Scan;
        for path in expand(&spec.pattern, gaps)? {
            if !seen_before(&mut seen, &mut out, &path, scan) {
                out.push(Planned { path, spec: spec.clone(), aliases: Vec::new() });
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
    h.zone_assumed = stats.zone_assumed;
    h.waf_actions.clone_from(&stats.waf_actions);
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
    /// Offline enrichment already loaded by the caller; `None`: loaded from the config's
    /// `[enrich]` (if any).
    pub enricher: Option<std::sync::Arc<crate::enrich::Enricher>>,
    /// `--since`: database sources pull no row before this (files are read whole).
    pub since: Option<DateTime<Utc>>,
    /// `--until`: database sources pull no row after this (files are read whole).
    pub until: Option<DateTime<Utc>>,
    /// Actors whose detail is kept at once (see [`Correlator::set_max_actors_detail`]).
    pub max_actors_detail: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            workers: std::thread::available_parallelism().map_or(2, std::num::NonZero::get).max(1),
            chunk_bytes: CHUNK_BYTES,
            actor_detail: ActorDetail::Full,
            enricher: None,
            since: None,
            until: None,
            max_actors_detail: crate::correlate::actors::DEFAULT_DETAIL_CAP,
        }
    }
}

/// Read every configured source once and return the correlator holding the result.
pub fn run(config: &CaseConfig, options: &BatchOptions) -> Result<Correlator, BatchError> {
    let scanners = config.load_scanners()?;
    let mut gaps = Vec::new();
    let planned = plan(config, &mut gaps)?;
    let mut c = Correlator::with_scanners(config.setup(), scanners);
    c.set_actor_detail(options.actor_detail);
    let enricher = match &options.enricher {
        Some(e) => Some(std::sync::Arc::clone(e)),
        None => crate::enrich::Enricher::load(&config.enrich)?.map(std::sync::Arc::new),
    };
    if let Some(e) = enricher {
        c.set_enricher(e);
    }
    c.set_max_actors_detail(options.max_actors_detail);
    // A wildcard glob that matched nothing is not a gap in time (it has no moment): the
    // snapshot's coverage lists it as an unread source, by pattern, with the reason.
    drop(gaps);
    let ids: Vec<SourceId> = planned
        .iter()
        .map(|p| {
            let id = c.add_source(SourceInfo {
                path: p.path.to_string_lossy().into_owned(),
                kind: p.spec.kind,
                format: "unknown".into(),
                service: p.spec.service.clone(),
                vantage: p.spec.vantage,
            });
            c.source_mut(id).aliases =
                p.aliases.iter().map(|a| a.to_string_lossy().into_owned()).collect();
            id
        })
        .collect();
    let scans: Vec<(&Planned, SourceId)> = planned
        .iter()
        .zip(ids.iter().copied())
        .filter(|(p, _)| p.spec.kind == SourceKind::Scan)
        .collect();
    let copies = duplicate_scans(&scans, config.timezone)?;
    for ((p, id), copy_of) in scans.into_iter().zip(copies) {
        read_scan(&mut c, p, id, copy_of)?;
    }
    c.seal();
    let access: Vec<(&Planned, SourceId)> =
        planned.iter().zip(ids).filter(|(p, _)| p.spec.kind == SourceKind::Access).collect();
    if !access.is_empty() {
        let range = (options.since, options.until);
        pipeline::read_access(
            &mut c,
            config,
            &access,
            options.workers,
            options.chunk_bytes,
            range,
        )?;
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
        if p.path != Path::new("-") && p.spec.clickhouse.is_none() && !out.contains(&p.path) {
            out.push(p.path);
        }
    }
    Ok(out)
}

/// Every database source of `config` (`clickhouse = { … }`), in reading order, pulled for
/// its evidence (see `database::pull_evidence`): its name, and the evidence or why the pull
/// failed (with the server's message).
#[must_use]
pub fn database_evidence(
    config: &CaseConfig,
) -> Vec<(String, Result<crate::model::snapshot::DatabaseEvidence, String>)> {
    let mut out = Vec::new();
    for svc in &config.services {
        for spec in &svc.access {
            if let Some(ch) = &spec.clickhouse {
                let pulled = database::pull_evidence(config, ch).map_err(|e| e.to_string());
                out.push((spec.pattern.clone(), pulled));
            }
        }
    }
    out
}

/// Bytes of a scan file's head read to learn the runs it names (nmap writes the run's command
/// line and start before any host).
const RUN_HEAD_BYTES: usize = 64 * 1024;

/// The runs a scan file names, from its head.
fn head_runs(p: &Planned, tz: chrono_tz::Tz) -> Result<Vec<ScanRun>, BatchError> {
    if p.path == Path::new("-") {
        // Standard input can be read only once.
        return Ok(Vec::new());
    }
    let io_err = |source| BatchError::Io { path: p.path.clone(), source };
    let mut content = Content::open(&p.path).map_err(io_err)?;
    let mut buf = vec![0_u8; RUN_HEAD_BYTES];
    let n = read_full(&mut content, &mut buf).map_err(io_err)?;
    let mut opts = DecoderOptions::new(SourceId(0), Some(SourceKind::Scan));
    opts.scan_format = p.spec.scan_format;
    opts.scan = ScanOptions { default_tz: tz };
    let mut decoder = Decoder::new(opts);
    let mut events = Vec::new();
    decoder.feed(&buf[..n], &mut events);
    if n < buf.len() {
        decoder.finish(&mut events);
    }
    Ok(decoder.scan_runs().to_vec())
}

/// For each scan file, the file it is another copy of and on what that rests: the same runs
/// (`duplicate_runs`), else identical content (`duplicate_contents`).
fn duplicate_scans(
    scans: &[(&Planned, SourceId)],
    tz: chrono_tz::Tz,
) -> Result<Vec<Option<(String, DuplicateBy)>>, BatchError> {
    let mut copies: Vec<Option<(String, DuplicateBy)>> = duplicate_runs(scans, tz)?
        .into_iter()
        .map(|c| c.map(|kept| (kept, DuplicateBy::Run)))
        .collect();
    let counted: Vec<bool> = copies.iter().map(Option::is_none).collect();
    let by_content = duplicate_contents(scans, &counted)?;
    for (copy, kept) in copies.iter_mut().zip(by_content) {
        if copy.is_none() {
            *copy = kept.map(|k| (k, DuplicateBy::Content));
        }
    }
    Ok(copies)
}

/// For each scan file, the first planned file among those `counted` whose bytes as stored
/// are identical (same SHA-256, the hash `sources[].sha256` reports), when it is not that
/// file itself. Only files of equal, non-zero size are hashed (an empty file holds nothing
/// to count twice); standard input is never compared.
fn duplicate_contents(
    scans: &[(&Planned, SourceId)],
    counted: &[bool],
) -> Result<Vec<Option<String>>, BatchError> {
    let mut by_size: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, (p, _)) in scans.iter().enumerate() {
        if !counted[i] || p.path == Path::new("-") {
            continue;
        }
        let io_err = |source| BatchError::Io { path: p.path.clone(), source };
        let len = std::fs::metadata(&p.path).map_err(io_err)?.len();
        if len > 0 {
            by_size.entry(len).or_default().push(i);
        }
    }
    let mut out = vec![None; scans.len()];
    for group in by_size.into_values().filter(|g| g.len() > 1) {
        let mut first: HashMap<String, usize> = HashMap::new();
        // Planned order: the first file with a content is kept.
        for i in group {
            let path = &scans[i].0.path;
            let sha = stored_sha256(path)
                .map_err(|source| BatchError::Io { path: path.clone(), source })?;
            match first.get(&sha) {
                Some(&k) => out[i] = Some(scans[k].0.path.to_string_lossy().into_owned()),
                None => {
                    first.insert(sha, i);
                }
            }
        }
    }
    Ok(out)
}

/// SHA-256 (hex) of a file's bytes as stored, as `Content::finish` reports it.
fn stored_sha256(path: &Path) -> io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path)?;
    let mut sha = Sha256::new();
    let mut buf = vec![0_u8; 1 << 16];
    loop {
        let n = read_full(&mut file, &mut buf)?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
    }
    Ok(hex::encode(sha.finalize()))
}

/// For each scan file, the earlier-planned or more exact file holding the same runs, if any:
/// one nmap run written twice (`-oA` gives XML and `-oG`: same command line, same start) is
/// one piece of evidence, counted once. Of a set of copies the first whose every run has an
/// exact start (XML: epoch seconds) is kept, else the first; the others are copies of it.
fn duplicate_runs(
    scans: &[(&Planned, SourceId)],
    tz: chrono_tz::Tz,
) -> Result<Vec<Option<String>>, BatchError> {
    let runs: Vec<Vec<ScanRun>> =
        scans.iter().map(|(p, _)| head_runs(p, tz)).collect::<Result<_, _>>()?;
    let same = |a: &[ScanRun], b: &[ScanRun]| {
        !a.is_empty() && a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_run(y))
    };
    let exact = |r: &[ScanRun]| r.iter().all(|run| run.started.is_some());
    Ok(runs
        .iter()
        .enumerate()
        .map(|(i, mine)| {
            let group: Vec<usize> = (0..runs.len()).filter(|&j| same(mine, &runs[j])).collect();
            let keep = group.iter().copied().find(|&j| exact(&runs[j])).or(group.first().copied());
            keep.filter(|&k| k != i).map(|k| scans[k].0.path.to_string_lossy().into_owned())
        })
        .collect())
}

/// Read one scan file. A copy of a scan another file holds (`copy_of`: its path, and whether
/// by run or by content) is read in full (its counts, hash and zone are reported) but its
/// observations are not applied.
fn read_scan(
    c: &mut Correlator,
    p: &Planned,
    id: SourceId,
    copy_of: Option<(String, DuplicateBy)>,
) -> Result<(), BatchError> {
    let io_err = |source| BatchError::Io { path: p.path.clone(), source };
    let mut content = Content::open(&p.path).map_err(io_err)?;
    let mut opts = DecoderOptions::new(id, Some(SourceKind::Scan));
    opts.scan_format = p.spec.scan_format;
    opts.scan = ScanOptions { default_tz: c.setup().timezone };
    let mut decoder = Decoder::new(opts);
    let mut buf = vec![0_u8; 1 << 20];
    let mut events: Vec<Event> = Vec::new();
    let counted = copy_of.is_none();
    loop {
        let n = read_full(&mut content, &mut buf).map_err(io_err)?;
        if n == 0 {
            break;
        }
        decoder.feed(&buf[..n], &mut events);
        if counted {
            c.apply(&events);
        }
        events.clear();
    }
    decoder.finish(&mut events);
    if counted {
        c.apply(&events);
    }
    let sha = content.finish().map_err(io_err)?;
    let format = decoder.format().name();
    let stats = decoder.stats().clone();
    fill_health(c, id, &stats, sha, format);
    if let Some(summary) = decoder.scan_summary() {
        c.source_mut(id).incomplete = summary.incomplete;
    }
    let h = c.source_mut(id);
    (h.duplicate_of, h.duplicate_by) =
        copy_of.map(|(k, by)| (Some(k), Some(by))).unwrap_or_default();
    Ok(())
}
