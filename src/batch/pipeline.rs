//! The parallel access-log pipeline of a batch run.
//!
//! The reading thread cuts each access file into chunks at newline boundaries, numbers them
//! (a sequence across all files, in reading order) and queues them. Each parse worker takes
//! a chunk and:
//! - parses it, numbering its lines from 1;
//! - counts internal traffic per minute and unattributed requests (sent back to the reading
//!   thread with the chunk's source statistics, which it applies to the correlator);
//! - hands its external requests, grouped by shard ([`Shard::index_of`]), to the shards.
//!
//! A line's number in its file is the lines of the file's earlier chunks plus its number in
//! its chunk. Those are known only once the earlier chunks are parsed, so the numbers are
//! made whole where chunks are taken in order anyway: each shard as it applies a chunk, the
//! reading thread as it merges the chunks' statistics. (Counting the lines of each chunk on
//! the reading thread before queueing it would find every newline a second time.)
//!
//! Each shard sits behind a lock with a parking area: a chunk's group is applied only once
//! every earlier chunk's group has been, so each shard sees its requests in file order,
//! exactly as a serial run would (see `correlate::shard`). Whichever worker delivers the
//! missing chunk applies the parked ones after it; nobody waits for a slow chunk. Parked
//! data is bounded by the chunks in flight (the job queue holds one per worker).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError, mpsc};

use chrono::{DateTime, Utc};

use super::content::{Chunk, Content, Hasher};
use super::database;
use super::{BatchError, Planned, fill_health};
use crate::config::CaseConfig;
use crate::correlate::engine::{ClientFilter, Correlator, RequestView};
use crate::correlate::fingerprint::{Sample, fingerprint};
use crate::correlate::shard::{MinuteCounts, Shard};
use crate::ingest::access::{self, AccessFormat, ParseOptions};
use crate::ingest::decoder::{DETECT_LINES, Decoder, DecoderOptions, Visit};
use crate::ingest::{MAX_LINE_BYTES, SourceStats};
use crate::ingest::{as_lf, line_end_of};
use crate::model::{Request, SourceId, SourceKind};

/// Requests a shard looks up together (see `Shard::apply_group`): enough for the cache
/// misses to overlap, few enough that the touched states are still cached when recorded.
const GROUP: usize = 64;
/// Shards per parse worker. A busy shard never makes a worker wait (its parcel is applied by
/// whoever holds the shard), so a few suffice; each shard keeps its own copy of the strings
/// its actors use. Measured: 1, 2 and 4 per worker cost the same CPU on 5 M lines, but every
/// shard after the first is folded in after the parallel part (`Correlator::absorb_all`, on
/// one thread): with 2 workers, 2 shards take 8.7 ms there and 4 shards 12.1 ms.
const SHARDS_PER_WORKER: usize = 1;
/// Chunks per parse worker that may be read ahead of the first one not yet merged (see
/// `AccessReader::read_file`): enough to keep every worker busy, few enough that a stalled
/// one does not let the others queue more than a few MiB of parsed requests each.
const MAX_AHEAD: u64 = 4;

/// External requests of one chunk: strings in one arena, offsets in `reqs`.
#[derive(Debug, Default)]
struct ExternalBatch {
    source: SourceId,
    /// Lines in the chunk, and whether it is its file's first: what a shard needs to number
    /// the next chunk's lines (see the module docs).
    lines: u64,
    starts_file: bool,
    text: String,
    reqs: Vec<ExtReq>,
}

#[derive(Debug)]
struct ExtReq {
    time: DateTime<Utc>,
    /// The line's number in its chunk.
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

    /// `q` as the correlator sees it, `before` being the lines of the file's earlier chunks.
    fn view(&self, q: &ExtReq, before: u64) -> RequestView<'_> {
        RequestView {
            time: q.time,
            source: self.source,
            line: before + q.line,
            client: Some(q.client),
            status: q.status,
            bytes: q.bytes,
            method: self.get(q.spans[0]),
            target: self.get(q.spans[1]),
            path: self.get(q.spans[2]),
            user_agent: self.get(q.spans[3]),
            forwarded_unknown: false,
        }
    }
}

/// What a worker sends back to the reading thread for one chunk.
#[derive(Debug)]
struct ChunkResult {
    source: SourceId,
    /// The chunk's sequence number.
    seq: u64,
    /// The chunk's bytes, handed back for reuse (shared with the hasher thread meanwhile).
    chunk: Arc<Chunk>,
    internal_per_minute: Vec<(i64, u64)>,
    unattributed: u64,
    /// A sample of the chunk's external request fingerprints (see `correlate::fingerprint`).
    fingerprints: Sample,
    /// External requests of the chunk (recorded by the shards).
    external: u64,
    /// External requests with an unknown client (`Request::forwarded_unknown`).
    forwarded_unknown: u64,
    /// Line numbers in `malformed_samples` are the chunk's.
    stats: SourceStats,
}

/// One parse job: the source's settings, the chunk (shared with the hasher thread), the
/// chunk's sequence number, and whether it is its file's first.
type JobMsg = (Arc<Job>, Arc<Chunk>, u64, bool);

/// The per-source settings a worker needs.
#[derive(Debug)]
struct Job {
    source: SourceId,
    /// The file's line end (`\r` for a CR-only file; see `ingest::line_end_of`).
    line_end: u8,
    /// `None` when the format was not given and detection recognised nothing: lines are
    /// counted, nothing is parsed (guessing would invent evidence).
    format: Option<AccessFormat>,
    options: ParseOptions,
    filter: ClientFilter,
}

/// Parse chunk `seq` (`starts_file`: its file's first) into its result for the reading
/// thread and its external requests, filling `external` (a batch to reuse).
fn parse_chunk(
    job: &Job,
    chunk: Arc<Chunk>,
    seq: u64,
    starts_file: bool,
    mut external: ExternalBatch,
) -> (ChunkResult, ExternalBatch) {
    external.source = job.source;
    external.starts_file = starts_file;
    external.text.clear();
    external.reqs.clear();
    let text = as_lf(job.line_end, chunk.bytes());
    let Some(format) = job.format else {
        let bytes = &text[..];
        let lines = memchr::memchr_iter(b'\n', bytes).count() as u64
            + u64::from(bytes.last().is_some_and(|&b| b != b'\n'));
        external.lines = lines;
        let stats = SourceStats { lines, ..SourceStats::default() };
        let result = ChunkResult {
            source: job.source,
            seq,
            chunk,
            internal_per_minute: Vec::new(),
            unattributed: 0,
            fingerprints: Sample::default(),
            external: 0,
            forwarded_unknown: 0,
            stats,
        };
        return (result, external);
    };
    let mut opts = DecoderOptions::new(job.source, Some(SourceKind::Access));
    opts.access_format = Some(format);
    opts.access = job.options.clone();
    let mut decoder = Decoder::new(opts);
    let mut internal = MinuteCounts::default();
    let mut unattributed = 0_u64;
    let mut fingerprints = Sample::default();
    let mut forwarded_unknown = 0_u64;
    let mut scans = Vec::new();
    let visit = |r: &Request| match r.client {
        None if r.forwarded_unknown => forwarded_unknown += 1,
        None if r.is_local_client() => internal.add(r.time.timestamp().div_euclid(60), 1),
        None => unattributed += 1,
        Some(ip) if !job.filter.is_external(ip) => {
            internal.add(r.time.timestamp().div_euclid(60), 1);
        }
        Some(ip) => {
            external.push(r, ip);
            let target = if r.target.is_empty() { &r.raw_request } else { &r.target };
            fingerprints.add(fingerprint(r.time, ip, target, r.status, r.bytes_sent));
        }
    };
    let mut sink = Visit::new(visit, &mut scans);
    decoder.feed(&text, &mut sink);
    decoder.finish(&mut sink);
    external.lines = decoder.stats().lines;
    let result = ChunkResult {
        source: job.source,
        seq,
        chunk,
        internal_per_minute: internal.finish().into_iter().collect(),
        unattributed,
        fingerprints,
        external: external.reqs.len() as u64,
        forwarded_unknown,
        stats: decoder.stats().clone(),
    };
    (result, external)
}

/// One chunk's requests for one shard: the chunk's batch and the indices of its requests.
#[derive(Debug)]
struct Parcel {
    batch: Arc<ExternalBatch>,
    picks: Vec<u32>,
}

/// A shard with its mailbox (see the module docs). Two locks: the mailbox's is only ever
/// held for a map operation; the shard's is held while applying, and nobody waits for it.
#[derive(Debug)]
struct Slot {
    /// Parcels delivered and not yet applied, by chunk sequence number.
    mailbox: Mutex<BTreeMap<u64, Parcel>>,
    /// The shard, the sequence number of the next chunk it applies, and the lines of that
    /// chunk's file before it.
    state: Mutex<(Shard, u64, u64)>,
}

/// A poisoned lock means a worker panicked; the scope re-raises that panic when it joins,
/// so the data behind it is only ever read on the way out.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Slot {
    /// Post chunk `seq`'s parcel, then apply every parcel that is next in order, unless
    /// another worker is applying already (it will see this parcel: after releasing the
    /// shard it looks at the mailbox once more).
    fn deliver(&self, seq: u64, parcel: Parcel, spare: &Mutex<Vec<ExternalBatch>>) {
        lock(&self.mailbox).insert(seq, parcel);
        loop {
            let mut state = match self.state.try_lock() {
                Ok(g) => g,
                Err(TryLockError::Poisoned(e)) => e.into_inner(),
                Err(TryLockError::WouldBlock) => return,
            };
            let (shard, next, before) = &mut *state;
            while let Some(p) = lock(&self.mailbox).remove(next) {
                if p.batch.starts_file {
                    *before = 0;
                }
                let mut group = Vec::with_capacity(GROUP);
                for picks in p.picks.chunks(GROUP) {
                    group.clear();
                    group.extend(picks.iter().map(|&i| {
                        let q = &p.batch.reqs[i as usize];
                        (p.batch.view(q, *before), q.client)
                    }));
                    shard.apply_group(&group);
                }
                *next += 1;
                *before += p.batch.lines;
                // The last shard done with a chunk's batch hands it back for reuse.
                if let Ok(batch) = Arc::try_unwrap(p.batch) {
                    lock(spare).push(batch);
                }
            }
            let next = *next;
            drop(state);
            if !lock(&self.mailbox).contains_key(&next) {
                return;
            }
        }
    }
}

/// The shards of a run.
#[derive(Debug)]
struct Shards {
    slots: Vec<Slot>,
    /// Batches every shard is done with, for the workers to reuse (no allocator churn).
    spare: Mutex<Vec<ExternalBatch>>,
}

impl Shards {
    fn new(shards: Vec<Shard>) -> Shards {
        let slots = shards
            .into_iter()
            .map(|shard| Slot { mailbox: Mutex::default(), state: Mutex::new((shard, 0, 0)) })
            .collect();
        Shards { slots, spare: Mutex::default() }
    }

    /// An empty batch to fill, reused when one is spare.
    fn batch(&self) -> ExternalBatch {
        lock(&self.spare).pop().unwrap_or_default()
    }

    /// Hand chunk `seq`'s external requests to every shard (each shard hears of every
    /// chunk, even with nothing for it, so that its sequence advances).
    fn deliver(&self, seq: u64, batch: ExternalBatch) {
        let n = self.slots.len();
        let mut picks: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (i, q) in batch.reqs.iter().enumerate() {
            picks[Shard::index_of(q.client, n)].push(i as u32);
        }
        let batch = Arc::new(batch);
        for (slot, picks) in self.slots.iter().zip(picks) {
            slot.deliver(seq, Parcel { batch: Arc::clone(&batch), picks }, &self.spare);
        }
    }

    /// The shards, once every chunk before `chunks` has been delivered and applied.
    fn into_shards(self, chunks: u64) -> Vec<Shard> {
        self.slots
            .into_iter()
            .map(|slot| {
                let (shard, next, _) =
                    slot.state.into_inner().unwrap_or_else(PoisonError::into_inner);
                let parked = slot.mailbox.into_inner().unwrap_or_else(PoisonError::into_inner);
                assert!(
                    next == chunks && parked.is_empty(),
                    "batch shard stopped at chunk {next} of {chunks}"
                );
                shard
            })
            .collect()
    }
}

/// Read every access source of a sealed run into `c`, with `workers` parse threads.
pub(super) fn read_access(
    c: &mut Correlator,
    config: &CaseConfig,
    access: &[(&Planned, SourceId)],
    workers: usize,
    chunk_bytes: usize,
    range: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> Result<(), BatchError> {
    let workers = workers.max(1);
    let shards = Shards::new(c.shards(workers * SHARDS_PER_WORKER));
    let (job_tx, job_rx) = mpsc::sync_channel::<JobMsg>(workers);
    let job_rx = Mutex::new(job_rx);
    let (res_tx, res_rx) = mpsc::channel::<ChunkResult>();
    let chunks = std::thread::scope(|scope| {
        for i in 0..workers {
            let (rx, shards, tx) = (&job_rx, &shards, res_tx.clone());
            std::thread::Builder::new()
                .name(format!("leakline-parse-{i}"))
                .spawn_scoped(scope, move || {
                    loop {
                        let next = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        let Ok((job, chunk, seq, starts_file)) = next else { return };
                        let batch = shards.batch();
                        let (result, external) = parse_chunk(&job, chunk, seq, starts_file, batch);
                        shards.deliver(seq, external);
                        if tx.send(result).is_err() {
                            return;
                        }
                    }
                })
                .map_err(|e| BatchError::Io { path: PathBuf::from("<thread>"), source: e })?;
        }
        drop(res_tx);
        let mut reader = AccessReader {
            c: &mut *c,
            res_rx: &res_rx,
            pending: 0,
            workers,
            sequence: 0,
            file: SourceStats::default(),
            parked: BTreeMap::new(),
            merged: 0,
            chunk_bytes: chunk_bytes.max(1),
            pool: Vec::new(),
            range,
        };
        let outcome =
            access.iter().try_for_each(|(p, id)| reader.read_file(config, p, *id, &job_tx));
        drop(job_tx);
        reader.drain_all();
        outcome.map(|()| reader.sequence)
    })?;
    c.absorb_all(shards.into_shards(chunks));
    Ok(())
}

/// The reading thread's side of the pipeline: reads chunks, applies the workers' results.
struct AccessReader<'a> {
    c: &'a mut Correlator,
    res_rx: &'a mpsc::Receiver<ChunkResult>,
    /// Chunks sent and not yet applied.
    pending: usize,
    /// Parse workers (for `MAX_AHEAD`).
    workers: usize,
    /// Chunks sent so far (the next chunk's sequence number).
    sequence: u64,
    /// The statistics of the file being read, merged in chunk order (see the module docs).
    file: SourceStats,
    /// Chunks' statistics that came back before an earlier chunk's, by sequence number.
    parked: BTreeMap<u64, SourceStats>,
    /// The sequence number of the next chunk whose statistics `file` takes.
    merged: u64,
    chunk_bytes: usize,
    /// Chunk buffers back from the workers, for reuse (bounds allocator churn and RSS).
    pool: Vec<Chunk>,
    /// `--since`/`--until`, pushed down to database sources.
    range: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
}

impl AccessReader<'_> {
    fn apply(&mut self, r: ChunkResult) {
        self.c.apply_internal_counts(r.source, &r.internal_per_minute);
        self.c.apply_unattributed(r.source, r.unattributed);
        self.c.note_applied(r.source, r.external);
        if !r.fingerprints.is_empty() {
            self.c.apply_fingerprints(r.source, &r.fingerprints);
        }
        if r.forwarded_unknown > 0 {
            self.c.apply_forwarded_unknown(r.source, r.forwarded_unknown);
        }
        self.parked.insert(r.seq, r.stats);
        while let Some(mut s) = self.parked.remove(&self.merged) {
            // The chunk's line numbers, moved past the lines of the file's earlier chunks.
            for sample in &mut s.malformed_samples {
                sample.0 += self.file.lines;
            }
            self.file.merge(&s);
            self.merged += 1;
        }
        self.pending -= 1;
        // Reusable unless the hasher thread still holds it.
        if let Ok(chunk) = Arc::try_unwrap(r.chunk) {
            if self.pool.len() < 8 {
                self.pool.push(chunk);
            }
        }
    }

    /// Wait until fewer than `MAX_AHEAD` chunks per worker are read and not yet merged: a
    /// worker stalled on one chunk (descheduled on a busy machine) would otherwise let the
    /// others run ahead without bound, every later chunk's requests parked until it is done.
    fn wait_for_room(&mut self) {
        while self.sequence - self.merged >= MAX_AHEAD * self.workers as u64 {
            match self.res_rx.recv() {
                Ok(r) => self.apply(r),
                Err(_) => break,
            }
        }
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
        let mut pull = None;
        let mut content = match &p.spec.clickhouse {
            None => Content::open(&p.path).map_err(io_err)?,
            Some(spec) => {
                let push = database::pushdown(config, self.range);
                match database::open(spec, &push) {
                    Ok((stream, puller)) => {
                        let end = stream.end();
                        let queries = vec![stream.query().to_string()];
                        pull = Some((puller, end, push, queries));
                        Content::Stream(Box::new(stream))
                    }
                    Err(e) => {
                        database::failed(self.c, id, &e);
                        return Ok(());
                    }
                }
            }
        };
        // Plain files: the chunks, in order, are the whole file, so a hasher thread hashes
        // them while the workers parse (the SHA-256 then costs the reading thread nothing).
        let hasher = content.hand_over_hashing().then(Hasher::spawn).transpose().map_err(io_err)?;
        // Bytes after the last newline of the previous read (a line cut by the chunk edge).
        // Never more than `MAX_LINE_BYTES` of it: a longer line is cut into the chunks
        // (see `skipping`).
        let mut leftover: Vec<u8> = Vec::new();
        let mut job: Option<Arc<Job>> = None;
        // The line end: `\n`, or `\r` for a file whose first chunk has CRs and no LF.
        let mut line_end: Option<u8> = None;
        // Inside a line longer than `MAX_LINE_BYTES` whose head went out with an earlier
        // chunk (where it is counted, once, as oversized): its rest is hashed, not parsed, so
        // a newline-less region costs one chunk of memory and linear time.
        let mut skipping = false;
        self.file = SourceStats::default();
        loop {
            let mut chunk = self.pool.pop().unwrap_or_default();
            let at_end = chunk.fill(&leftover, &mut content, self.chunk_bytes).map_err(io_err)?;
            let le = *line_end.get_or_insert_with(|| line_end_of(chunk.bytes()).unwrap_or(b'\n'));
            if skipping {
                let bytes = chunk.bytes();
                let n = memchr::memchr(le, bytes).map_or(bytes.len(), |i| {
                    skipping = false;
                    i + 1
                });
                chunk.skip(n);
            }
            let bytes = chunk.bytes();
            let cut = if at_end {
                bytes.len()
            } else {
                let cut = memchr::memrchr(le, bytes).map_or(0, |i| i + 1);
                if bytes.len() - cut > MAX_LINE_BYTES {
                    skipping = true;
                    bytes.len()
                } else {
                    cut
                }
            };
            leftover.clear();
            leftover.extend_from_slice(chunk.cut(cut));
            if chunk.bytes().is_empty() {
                if chunk.raw().is_empty() {
                    self.pool.push(chunk);
                } else if let Some(h) = &hasher {
                    // Only skipped bytes: hashed, nothing to parse.
                    h.feed(&Arc::new(chunk));
                }
            } else {
                let starts_file = job.is_none();
                let job = job.get_or_insert_with(|| {
                    Arc::new(make_job(config, p, id, &as_lf(le, chunk.bytes()), le))
                });
                let chunk = Arc::new(chunk);
                if let Some(h) = &hasher {
                    h.feed(&chunk);
                }
                self.wait_for_room();
                if job_tx.send((Arc::clone(job), chunk, self.sequence, starts_file)).is_ok() {
                    self.pending += 1;
                    self.sequence += 1;
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
        let stats = std::mem::take(&mut self.file);
        let format = job.as_ref().and_then(|j| j.format);
        fill_health(self.c, id, &stats, sha, format.map_or("unknown", AccessFormat::name));
        if let Some((puller, end, push, queries)) = pull {
            database::finish(self.c, id, &puller, &end, &push, queries);
        }
        if format.is_none() && stats.lines > 0 {
            self.c.source_mut(id).errors.push(
                "access log format not recognised: nothing was parsed; set `format` for this source"
                    .into(),
            );
        }
        Ok(())
    }
}

fn make_job(config: &CaseConfig, p: &Planned, id: SourceId, head: &[u8], line_end: u8) -> Job {
    // As many lines as a live follow's decoder looks at, so `analyze` and `watch` agree.
    let format = p.spec.access_format.or_else(|| access::detect_first(head, DETECT_LINES));
    let filter = config.client_filter();
    Job {
        source: id,
        line_end,
        format,
        options: ParseOptions {
            default_tz: config.timezone,
            trusted_proxies: config.trusted_proxies.clone(),
            fields: p.spec.fields.clone(),
            // Requests of our own clients are only counted (`parse_chunk` reads their time
            // and client, by this same filter): the parser may skip their strings.
            light: Some(filter.clone()),
        },
        filter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::actors::MAX_ACTOR_PATHS;

    fn batch(paths: &[String]) -> ExternalBatch {
        let mut b = ExternalBatch::default();
        let mut r = Request { method: "GET".into(), status: 200, ..Request::default() };
        for (i, p) in paths.iter().enumerate() {
            r.target.clone_from(p);
            r.line = i as u64 + 1;
            b.push(&r, "203.0.113.9".parse().unwrap());
        }
        b
    }

    /// Chunks delivered out of order are applied in order: the capped per-actor path list
    /// keeps the paths of the earlier chunk, as a serial run would.
    #[test]
    fn shards_apply_chunks_in_sequence_order() {
        let dir = std::path::Path::new(".");
        let cfg = crate::config::parse_str("name = \"t\"", dir, dir).unwrap();
        let mut c = Correlator::new(cfg);
        let n = 3;
        let shards = Shards::new(c.shards(n));
        let early: Vec<String> = (0..MAX_ACTOR_PATHS).map(|k| format!("/early/{k}")).collect();
        let late: Vec<String> = (0..5).flat_map(|_| (0..4).map(|k| format!("/late/{k}"))).collect();
        shards.deliver(2, batch(&late));
        shards.deliver(1, batch(&late));
        shards.deliver(0, batch(&early));
        for shard in shards.into_shards(3) {
            c.absorb(shard);
        }
        let snap = c.snapshot(DateTime::UNIX_EPOCH);
        let actor = &snap.actors[0];
        assert_eq!(actor.requests, (MAX_ACTOR_PATHS + 40) as u64);
        assert!(actor.top_paths.iter().all(|p| p.path.starts_with("/early/")), "{actor:?}");
    }
}
