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
//!   and hand external requests over in one text arena per chunk (no per-line allocation).
//! - Gzip is recognised by its magic bytes (any name); the SHA-256 is of the bytes on disk.
//!   For a plain access file the chunks, in the order they are cut, are exactly those bytes,
//!   so a `leakline-sha256` thread hashes them while the workers parse (the reading thread,
//!   which also runs the correlator, is the pipeline's bottleneck); gzip files and scans are
//!   hashed inline as they are read.
//! - An unreadable file stops the run with an error naming it (exit 1): a silently partial
//!   timeline is worse than none for an investigation. A glob that matches nothing is an
//!   error when it has no wildcard (a typo'd path), and a `source_error` gap otherwise.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::classify::{ScannerDb, ScannerFileError};
use super::engine::{ClientFilter, Correlator, RequestView, SourceInfo};
use crate::config::{CaseConfig, Vantage};
use crate::ingest::SourceStats;
use crate::ingest::access::{self, AccessFormat, ParseOptions};
use crate::ingest::decoder::{Decoder, DecoderOptions};
use crate::ingest::scan::{ScanFormat, ScanOptions};
use crate::ingest::source::GZIP_MAGIC;
use crate::model::snapshot::{Gap, GapKind};
use crate::model::{Event, Request, Snapshot, SourceId, SourceKind};

/// Bytes per parallel parse chunk.
pub const CHUNK_BYTES: usize = 1 << 20;
/// Lines examined to detect an access format.
const DETECT_LINES: usize = 16;

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

/// Hashes every byte read through it (the on-disk bytes, before any decompression), unless
/// the hashing was handed over to a hasher thread (`None`).
struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// The raw bytes of a file: the sniffed magic bytes put back in front of the rest, every
/// byte read from the file hashed. Unbuffered: chunk reads go straight into the chunk
/// (a `BufReader` would copy every byte once more); flate2 buffers gzip input itself.
type Raw = io::Chain<io::Cursor<Vec<u8>>, HashingReader<File>>;

/// A source's content (decompressed when gzip) plus the hash of its raw bytes.
enum Content {
    Plain(Raw),
    Gzip(Box<flate2::read::MultiGzDecoder<Raw>>),
    Stdin(io::Stdin),
}

impl Content {
    fn open(path: &Path) -> io::Result<Content> {
        if path == Path::new("-") {
            return Ok(Content::Stdin(io::stdin()));
        }
        let mut file = File::open(path)?;
        let mut magic = [0_u8; 2];
        let n = read_full(&mut file, &mut magic)?;
        let mut hasher = Sha256::new();
        hasher.update(&magic[..n]);
        let hashing = HashingReader { inner: file, hasher: Some(hasher) };
        let raw = io::Cursor::new(magic[..n].to_vec()).chain(hashing);
        if n == 2 && magic == GZIP_MAGIC {
            return Ok(Content::Gzip(Box::new(flate2::read::MultiGzDecoder::new(raw))));
        }
        Ok(Content::Plain(raw))
    }

    /// A plain (not compressed) file's content is exactly the bytes on disk, so whoever
    /// consumes all of it in order can hash it: stop hashing here and say so (`false` for
    /// gzip, whose hash must be of the compressed bytes, and for stdin).
    fn hand_over_hashing(&mut self) -> bool {
        match self {
            Content::Plain(raw) => {
                let (_, hashing) = raw.get_mut();
                hashing.hasher = None;
                true
            }
            Content::Gzip(_) | Content::Stdin(_) => false,
        }
    }

    /// Finish: drain what was not consumed (bytes after the last gzip member) and return the
    /// hash of the whole file (`None` for stdin, or when the hashing was handed over).
    fn finish(self) -> io::Result<Option<String>> {
        let raw = match self {
            Content::Plain(r) => r,
            Content::Gzip(d) => d.into_inner(),
            Content::Stdin(_) => return Ok(None),
        };
        let (_, mut hashing) = raw.into_inner();
        io::copy(&mut hashing, &mut io::sink())?;
        Ok(hashing.hasher.map(|h| hex::encode(h.finalize())))
    }
}

impl Read for Content {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Content::Plain(r) => r.read(buf),
            Content::Gzip(r) => r.read(buf),
            Content::Stdin(r) => r.read(buf),
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// External requests of one chunk: strings in one arena, offsets in `reqs`.
#[derive(Debug, Default)]
struct ExternalBatch {
    text: String,
    reqs: Vec<ExtReq>,
}

#[derive(Debug)]
struct ExtReq {
    time: DateTime<Utc>,
    line: u64,
    client: IpAddr,
    status: u16,
    bytes: u64,
    /// Arena offsets: method, target, path, user agent (start, end).
    spans: [(u32, u32); 4],
}

impl ExternalBatch {
    fn push_str(&mut self, s: &str) -> (u32, u32) {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        (start, self.text.len() as u32)
    }

    fn push(&mut self, r: &Request, client: IpAddr) {
        let target = if r.target.is_empty() { &r.raw_request } else { &r.target };
        let method = self.push_str(&r.method);
        let target_span = self.push_str(target);
        // The path is a prefix of the target (query cut off): share its bytes.
        let path_len = r.path().len().min(target.len()) as u32;
        let spans = [
            method,
            target_span,
            (target_span.0, target_span.0 + path_len),
            self.push_str(&r.user_agent),
        ];
        self.reqs.push(ExtReq {
            time: r.time,
            line: r.line,
            client,
            status: r.status,
            bytes: r.bytes_sent,
            spans,
        });
    }

    fn get(&self, span: (u32, u32)) -> &str {
        self.text.get(span.0 as usize..span.1 as usize).unwrap_or("")
    }
}

/// What a worker returns for one chunk.
#[derive(Debug)]
struct ChunkResult {
    source: SourceId,
    /// The chunk's bytes, handed back for reuse (shared with the hasher thread meanwhile).
    chunk: Arc<Vec<u8>>,
    external: ExternalBatch,
    internal_per_minute: Vec<(i64, u64)>,
    unattributed: u64,
    stats: SourceStats,
}

/// One parse job: the source's settings, the chunk (shared with the hasher thread), and the
/// number of the chunk's first line.
type JobMsg = (Arc<Job>, Arc<Vec<u8>>, u64);

/// The per-source settings a worker needs.
#[derive(Debug)]
struct Job {
    source: SourceId,
    /// `None` when the format was not given and detection recognised nothing: lines are
    /// counted, nothing is parsed (guessing would invent evidence).
    format: Option<AccessFormat>,
    options: ParseOptions,
    filter: ClientFilter,
}

fn parse_chunk(
    job: &Job,
    chunk: Arc<Vec<u8>>,
    first_line: u64,
    mut external: ExternalBatch,
) -> ChunkResult {
    external.text.clear();
    external.reqs.clear();
    let Some(format) = job.format else {
        let lines = memchr::memchr_iter(b'\n', &chunk).count() as u64
            + u64::from(chunk.last().is_some_and(|&b| b != b'\n'));
        let stats = SourceStats { lines, ..SourceStats::default() };
        return ChunkResult {
            source: job.source,
            chunk,
            external,
            internal_per_minute: Vec::new(),
            unattributed: 0,
            stats,
        };
    };
    let mut opts = DecoderOptions::new(job.source, Some(SourceKind::Access));
    opts.access_format = Some(format);
    opts.access = job.options.clone();
    let mut decoder = Decoder::new(opts);
    decoder.set_next_line(first_line);
    let mut internal: BTreeMap<i64, u64> = BTreeMap::new();
    let mut unattributed = 0_u64;
    let mut scans = Vec::new();
    let mut visit = |r: &Request| match r.client {
        None => unattributed += 1,
        Some(ip) if !job.filter.is_external(ip) => {
            *internal.entry(r.time.timestamp().div_euclid(60)).or_insert(0) += 1;
        }
        Some(ip) => external.push(r, ip),
    };
    decoder.feed_visit(chunk.as_slice(), &mut visit, &mut scans);
    decoder.finish_visit(&mut visit, &mut scans);
    ChunkResult {
        source: job.source,
        chunk,
        external,
        internal_per_minute: internal.into_iter().collect(),
        unattributed,
        stats: decoder.stats().clone(),
    }
}

fn apply_chunk(c: &mut Correlator, r: &ChunkResult) {
    c.apply_internal_counts(r.source, &r.internal_per_minute);
    c.apply_unattributed(r.source, r.unattributed);
    let b = &r.external;
    for q in &b.reqs {
        c.apply_request(RequestView {
            time: q.time,
            source: r.source,
            line: q.line,
            client: Some(q.client),
            status: q.status,
            bytes: q.bytes,
            method: b.get(q.spans[0]),
            target: b.get(q.spans[1]),
            path: b.get(q.spans[2]),
            user_agent: b.get(q.spans[3]),
        });
    }
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
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            workers: std::thread::available_parallelism().map_or(2, std::num::NonZero::get).max(1),
            chunk_bytes: CHUNK_BYTES,
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
    for g in gaps {
        c.record_gap(g);
    }
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
    if access.is_empty() {
        return Ok(c);
    }
    let workers = options.workers.max(1);
    let (job_tx, job_rx) = mpsc::sync_channel::<JobMsg>(workers);
    let job_rx = Arc::new(std::sync::Mutex::new(job_rx));
    let (res_tx, res_rx) = mpsc::channel::<ChunkResult>();
    let (free_tx, free_rx) = mpsc::channel::<ExternalBatch>();
    let free_rx = Arc::new(std::sync::Mutex::new(free_rx));
    std::thread::scope(|scope| {
        for i in 0..workers {
            let rx = Arc::clone(&job_rx);
            let free = Arc::clone(&free_rx);
            let tx = res_tx.clone();
            std::thread::Builder::new()
                .name(format!("leakline-parse-{i}"))
                .spawn_scoped(scope, move || {
                    loop {
                        let next = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        let Ok((job, chunk, first_line)) = next else { return };
                        let batch =
                            free.lock().ok().and_then(|f| f.try_recv().ok()).unwrap_or_default();
                        if tx.send(parse_chunk(&job, chunk, first_line, batch)).is_err() {
                            return;
                        }
                    }
                })
                .map_err(|e| BatchError::Io { path: PathBuf::from("<thread>"), source: e })?;
        }
        drop(res_tx);
        let mut reader = AccessReader {
            c: &mut c,
            res_rx: &res_rx,
            pending: 0,
            stats: BTreeMap::new(),
            chunk_bytes: options.chunk_bytes.max(1),
            pool: Vec::new(),
            free_tx,
        };
        let outcome =
            access.iter().try_for_each(|(p, id)| reader.read_file(config, p, *id, &job_tx));
        drop(job_tx);
        reader.drain_all();
        outcome
    })?;
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
/// matches nothing adds nothing (a batch run would record a `source_error` gap for it).
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

/// The main thread's side of the access pipeline: reads chunks, applies results.
struct AccessReader<'a> {
    c: &'a mut Correlator,
    res_rx: &'a mpsc::Receiver<ChunkResult>,
    /// Chunks sent and not yet applied.
    pending: usize,
    stats: BTreeMap<SourceId, SourceStats>,
    chunk_bytes: usize,
    /// Chunk buffers back from the workers, for reuse (bounds allocator churn and RSS).
    pool: Vec<Vec<u8>>,
    /// External batches back to the workers, for reuse.
    free_tx: mpsc::Sender<ExternalBatch>,
}

impl AccessReader<'_> {
    fn apply(&mut self, r: ChunkResult) {
        apply_chunk(self.c, &r);
        self.stats.entry(r.source).or_default().merge(&r.stats);
        self.pending -= 1;
        // Reusable unless the hasher thread still holds it.
        if let Ok(chunk) = Arc::try_unwrap(r.chunk) {
            if self.pool.len() < 8 {
                self.pool.push(chunk);
            }
        }
        // The workers may all have exited (error path); then the batch is simply dropped.
        let _ = self.free_tx.send(r.external);
    }

    fn drain_ready(&mut self) {
        while let Ok(r) = self.res_rx.try_recv() {
            self.apply(r);
        }
    }

    fn drain_all(&mut self) {
        while self.pending > 0 {
            match self.res_rx.recv() {
                Ok(r) => self.apply(r),
                Err(_) => break,
            }
        }
    }

    fn read_file(
        &mut self,
        config: &CaseConfig,
        p: &Planned,
        id: SourceId,
        job_tx: &mpsc::SyncSender<JobMsg>,
    ) -> Result<(), BatchError> {
        let io_err = |source| BatchError::Io { path: p.path.clone(), source };
        let mut content = Content::open(&p.path).map_err(io_err)?;
        // Plain files: the chunks, in order, are the whole file, so a hasher thread hashes
        // them while the workers parse (the SHA-256 then costs the reading thread nothing).
        let hasher = content.hand_over_hashing().then(Hasher::spawn).transpose().map_err(io_err)?;
        // Bytes after the last newline of the previous read (a line cut by the chunk edge).
        let mut leftover: Vec<u8> = Vec::new();
        let mut next_line = 1_u64;
        let mut job: Option<Arc<Job>> = None;
        loop {
            let mut chunk = self.pool.pop().unwrap_or_default();
            chunk.clear();
            chunk.extend_from_slice(&leftover);
            leftover.clear();
            // `read_to_end` on a `Take` fills spare capacity without zeroing it first.
            let n = (&mut content)
                .take(self.chunk_bytes as u64)
                .read_to_end(&mut chunk)
                .map_err(io_err)?;
            let at_end = n < self.chunk_bytes;
            let cut = if at_end {
                chunk.len()
            } else {
                memchr::memrchr(b'\n', &chunk).map_or(0, |i| i + 1)
            };
            leftover.extend_from_slice(&chunk[cut..]);
            chunk.truncate(cut);
            if chunk.is_empty() {
                self.pool.push(chunk);
            } else {
                let job = job.get_or_insert_with(|| Arc::new(make_job(config, p, id, &chunk)));
                let lines = memchr::memchr_iter(b'\n', &chunk).count() as u64;
                let first = next_line;
                next_line += lines;
                let chunk = Arc::new(chunk);
                if let Some(h) = &hasher {
                    h.feed(&chunk);
                }
                self.pending += 1;
                if job_tx.send((Arc::clone(job), chunk, first)).is_err() {
                    self.pending -= 1;
                }
                self.drain_ready();
            }
            if at_end {
                break;
            }
        }
        let mut sha = content.finish().map_err(io_err)?;
        if let Some(h) = hasher {
            sha = Some(h.finish().map_err(io_err)?);
        }
        self.drain_all();
        let stats = self.stats.remove(&id).unwrap_or_default();
        let format = job.as_ref().and_then(|j| j.format);
        fill_health(self.c, id, &stats, sha, format.map_or("unknown", AccessFormat::name));
        if format.is_none() && stats.lines > 0 {
            self.c.source_mut(id).errors.push(
                "access log format not recognised: nothing was parsed; set `format` for this source"
                    .into(),
            );
        }
        Ok(())
    }
}

/// A thread hashing a file's chunks in the order they are fed.
struct Hasher {
    tx: mpsc::Sender<Arc<Vec<u8>>>,
    handle: std::thread::JoinHandle<String>,
}

impl Hasher {
    fn spawn() -> io::Result<Hasher> {
        let (tx, rx) = mpsc::channel::<Arc<Vec<u8>>>();
        let handle =
            std::thread::Builder::new().name("leakline-sha256".into()).spawn(move || {
                let mut h = Sha256::new();
                for chunk in rx {
                    h.update(chunk.as_slice());
                }
                hex::encode(h.finalize())
            })?;
        Ok(Hasher { tx, handle })
    }

    fn feed(&self, chunk: &Arc<Vec<u8>>) {
        // The thread only stops when `tx` is dropped, so this cannot fail while it lives.
        let _ = self.tx.send(Arc::clone(chunk));
    }

    fn finish(self) -> io::Result<String> {
        drop(self.tx);
        self.handle.join().map_err(|_| io::Error::other("the SHA-256 thread panicked"))
    }
}

fn make_job(config: &CaseConfig, p: &Planned, id: SourceId, head: &[u8]) -> Job {
    let format = p.access_format.or_else(|| {
        let lines: Vec<&[u8]> = head
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .take(DETECT_LINES)
            .collect();
        access::detect(&lines)
    });
    Job {
        source: id,
        format,
        options: ParseOptions {
            default_tz: config.timezone,
            trusted_proxies: config.trusted_proxies.clone(),
            fields: p.fields.clone(),
        },
        filter: ClientFilter::new(config),
    }
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
