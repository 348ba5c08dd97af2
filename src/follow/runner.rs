//! Follower threads: one named thread per source glob (plus one for stdin) that drives a
//! `Tailer`, decodes its bytes with the same `Decoder` as `analyze`, and sends batches of events
//! to the engine task over a **bounded** channel (`blocking_send`: a slow engine slows reading,
//! nothing is dropped).
//!
//! Why threads rather than tokio tasks: file reads are blocking system calls (tokio's own file
//! I/O is a blocking pool underneath), and decoding is CPU work; a dedicated thread per glob
//! keeps both off the runtime's two workers and gives a natural pipeline (decode here, correlate
//! in the engine). A thread sleeps until notify reports a change in the watched directory or the
//! periodic stat tick (`poll_interval`) fires, so file systems where notify is silent (NFS,
//! some container overlays) are still followed.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self as std_mpsc, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher};

mod feed;

use feed::Feed;
use tokio::sync::mpsc;

use crate::config::SourceSpec;
use crate::correlate::{ClientFilter, SourceInfo};
use crate::ingest::SourceStats;
use crate::ingest::clickhouse::Pushdown;
use crate::ingest::clickhouse::poll::Poller;
use crate::model::{Event, SourceId};

use super::identity::FileId;
use super::tailer::{self, Incident, TailSink, Tailer, TailerOptions};

/// Events per batch sent to the engine (bounded memory per message).
pub(crate) const BATCH_EVENTS: usize = 4096;
/// The pattern that means "standard input".
pub const STDIN: &str = "-";

/// What followers tell the engine.
#[derive(Debug)]
pub(crate) enum Msg {
    /// A new source; ids arrive strictly in increasing order.
    Register {
        id: SourceId,
        info: SourceInfo,
    },
    Batch(Batch),
    Incident(Incident),
    /// The SHA-256 of the whole file a stream read (see `TailSink::hashed`).
    Hashed {
        stream: SourceId,
        sha256: String,
    },
    /// What a database source's polls asked and received so far (replaces the previous).
    Database {
        stream: SourceId,
        evidence: Box<crate::model::snapshot::DatabaseEvidence>,
    },
    /// The stream will get no more bytes.
    Ended(SourceId),
    /// A follower read everything that existed when it started.
    CaughtUp,
    /// A file follower thread exited (the stdin follower never says so).
    Stopped,
}

/// Decoded input of one flush. As in batch `analyze`, internal requests are pre-aggregated
/// per minute and requests without a client are only counted: the correlator treats both as
/// counters, so cloning them into events would only cost time.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// External requests (and any request decoded before its source's filter applied) and
    /// scan observations.
    pub events: Vec<Event>,
    /// Internal requests: source → (Unix minute, count).
    pub internal: Vec<(SourceId, Vec<(i64, u64)>)>,
    /// Requests without a client address, per source.
    pub unattributed: Vec<(SourceId, u64)>,
    pub sources: Vec<SourceUpdate>,
}

impl Batch {
    /// Events this batch stands for (every request and observation, counted once).
    pub fn len(&self) -> u64 {
        let internal: u64 = self.internal.iter().flat_map(|(_, m)| m.iter().map(|x| x.1)).sum();
        let unattributed: u64 = self.unattributed.iter().map(|x| x.1).sum();
        self.events.len() as u64 + internal + unattributed
    }
}

/// The cumulative counters of a source after this batch.
#[derive(Debug)]
pub(crate) struct SourceUpdate {
    pub id: SourceId,
    pub stats: SourceStats,
    pub format: &'static str,
    pub incomplete: bool,
    /// Bytes read since the previous update (activity, for silence detection).
    pub bytes: u64,
    /// Scan sources: the runs the file names so far (nmap command line and start), for
    /// recognising two copies of one run; empty otherwise.
    pub runs: Vec<crate::ingest::scan::clock::ScanRun>,
    /// Scan sources: the follower read the file to its end (as it is now) in this batch, and
    /// what its content is; `None` otherwise. The engine holds a scan source's observations
    /// until it knows whether its content is another file's (`Engine::judge_contents`).
    pub at_end: Option<ReadToEnd>,
}

/// A scan source read to its end: its content, as far as it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadToEnd {
    /// Read from its first byte: the SHA-256 (hex) of everything read, which is the file's
    /// bytes as stored (as `analyze` records them in `sources[].sha256`).
    Hashed(String),
    /// Not read from its first byte (`--from-end`, standard input): content unknown.
    Unhashed,
}

/// The session-wide stop signal: a flag, plus the wake-ups of followers sleeping between
/// cycles (so a stop is seen at once, not at the next stat tick).
#[derive(Debug, Default)]
pub(crate) struct Stop {
    flag: Arc<AtomicBool>,
    wakers: Mutex<Vec<SyncSender<()>>>,
    /// Per follower: bytes its open files hold past what it has read (see `behind`).
    behind: Mutex<Vec<u64>>,
}

impl Stop {
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// The flag itself, for a tailer to cut a read cycle short (`Tailer::set_interrupt`).
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }

    pub fn set(&self) {
        self.flag.store(true, Ordering::Relaxed);
        let wakers = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        for w in wakers.iter() {
            let _ = w.try_send(());
        }
    }

    /// Follower `k` is `bytes` behind its files.
    pub fn set_behind(&self, k: usize, bytes: u64) {
        let mut behind = self.behind.lock().unwrap_or_else(PoisonError::into_inner);
        if behind.len() <= k {
            behind.resize(k + 1, 0);
        }
        behind[k] = bytes;
    }

    /// Bytes written to the followed files and not read yet, over every follower (as of
    /// each one's last cycle).
    pub fn behind(&self) -> u64 {
        self.behind.lock().unwrap_or_else(PoisonError::into_inner).iter().sum()
    }

    fn add_waker(&self, tx: SyncSender<()>) {
        self.wakers.lock().unwrap_or_else(PoisonError::into_inner).push(tx);
    }
}

/// State shared by all followers of a session.
#[derive(Debug)]
pub(crate) struct Shared {
    pub tx: mpsc::Sender<Msg>,
    /// Next source id; held while a `Register` is sent so ids arrive in order.
    pub next_id: Mutex<u32>,
    /// Whose turn it is to discover its initial files (config order → deterministic ids).
    pub turn: (Mutex<usize>, Condvar),
    pub stop: Arc<Stop>,
    pub tailer: TailerOptions,
    pub poll_interval: Duration,
    pub timezone: chrono_tz::Tz,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Which clients are internal (dropped to per-minute counts before the engine).
    pub filter: ClientFilter,
    /// Database sources: the wait between polls, and what their queries may leave out.
    pub db_poll: Duration,
    pub pushdown: Pushdown,
    /// Files taken by a follower, per kind (`true` = scan): overlapping globs read a file once.
    /// Owner (follower index) of each open file, per kind (`true` = scan). Released when the
    /// follower closes the file, so a reused inode number is not mistaken for it.
    pub claimed: Mutex<HashMap<(bool, FileId), usize>>,
}

impl Shared {
    fn wait_turn(&self, k: usize) {
        let (lock, cv) = &self.turn;
        let mut turn = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while *turn < k && !self.stop.is_set() {
            turn = cv
                .wait_timeout(turn, Duration::from_millis(200))
                .map_or_else(|p| p.into_inner().0, |(g, _)| g);
        }
    }

    pub(crate) fn pass_turn(&self, k: usize) {
        let (lock, cv) = &self.turn;
        let mut turn = lock.lock().unwrap_or_else(PoisonError::into_inner);
        *turn = (*turn).max(k + 1);
        cv.notify_all();
    }

    fn send(&self, msg: Msg) {
        if self.tx.blocking_send(msg).is_err() {
            // The engine is gone: nothing left to feed.
            self.stop.set();
        }
    }
}

/// Wakes a follower: `names` is set for anything but a data write (create, rename, remove).
struct Wake {
    names: AtomicBool,
    tx: SyncSender<()>,
}

impl Wake {
    fn ring(&self, names: bool) {
        if names {
            self.names.store(true, Ordering::Relaxed);
        }
        match self.tx.try_send(()) {
            Ok(()) | Err(TrySendError::Full(()) | TrySendError::Disconnected(())) => {}
        }
    }
}

/// Spawn the follower for spec `k`. The thread registers its initial sources when it is
/// spec `k`'s turn, then follows until `shared.stop`.
pub(crate) fn spawn(
    k: usize,
    spec: SourceSpec,
    shared: Arc<Shared>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let name = format!("follow-{k}");
    std::thread::Builder::new().name(name).spawn(move || {
        let stdin = spec.pattern == STDIN;
        let mut caught_up = false;
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if stdin {
                follow_stdin(k, &spec, &shared, &mut caught_up);
            } else if spec.clickhouse.is_some() {
                follow_clickhouse(k, &spec, &shared, &mut caught_up);
            } else {
                follow_glob(k, &spec, &shared, &mut caught_up);
            }
        }));
        if let Err(panic) = run {
            // A bug must not freeze the session: report it, and let the rest go on.
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            shared.send(Msg::Incident(Incident::Error {
                stream: None,
                path: spec.pattern.clone().into(),
                reason: format!("follower stopped after an internal error: {what}"),
            }));
            if !caught_up {
                shared.send(Msg::CaughtUp);
            }
        }
        shared.pass_turn(k);
        // The stdin follower is not waited for at shutdown (a read of stdin cannot be
        // interrupted), so it does not report its end.
        if !stdin {
            let _ = shared.tx.blocking_send(Msg::Stopped);
        }
    })
}

fn follow_glob(k: usize, spec: &SourceSpec, shared: &Shared, caught_up: &mut bool) {
    let (wake_tx, wake_rx) = std_mpsc::sync_channel(1);
    shared.stop.add_waker(wake_tx.clone());
    let wake = Arc::new(Wake { names: AtomicBool::new(false), tx: wake_tx });
    let mut watcher = {
        let wake = Arc::clone(&wake);
        notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(ev) => match ev.kind {
                EventKind::Access(_) => {}
                EventKind::Modify(notify::event::ModifyKind::Data(_)) => wake.ring(false),
                _ => wake.ring(true),
            },
            Err(_) => wake.ring(true),
        })
    }
    .map_err(|e| tracing::warn!("notify unavailable for {}: {e}; polling only", spec.pattern))
    .ok();
    let base = tailer::literal_base(&spec.pattern);
    let base = if base.as_os_str().is_empty() { Path::new(".").to_path_buf() } else { base };
    let mode = if tailer::globs_directories(&spec.pattern) {
        RecursiveMode::Recursive
    } else {
        RecursiveMode::NonRecursive
    };
    let mut watching = false;

    let mut tailer = Tailer::new(spec.pattern.clone(), shared.tailer.clone());
    // A stop cuts a read cycle short: a backlog of any size never holds the stop up.
    tailer.set_interrupt(Some(shared.stop.flag()));
    let mut feed = Feed::new(k, shared, spec);
    shared.wait_turn(k);
    tailer.discover_initial(Instant::now(), &mut feed);
    feed.flush();
    shared.pass_turn(k);

    let mut discover = false;
    let mut busy = true;
    let mut next_tick = Instant::now() + shared.poll_interval;
    while !shared.stop.is_set() {
        if !watching {
            if let Some(w) = watcher.as_mut() {
                watching = w.watch(&base, mode).is_ok();
            }
        }
        if busy {
            shared.stop.set_behind(k, tailer.behind());
        }
        let cycle = tailer.poll(Instant::now(), discover, &mut feed);
        busy = cycle.more;
        shared.stop.set_behind(k, if busy { tailer.behind() } else { 0 });
        if !cycle.more {
            feed.settle();
        }
        feed.flush();
        if !cycle.more && !*caught_up {
            *caught_up = true;
            shared.send(Msg::CaughtUp);
        }
        let names = wake.names.swap(false, Ordering::Relaxed);
        if cycle.more || cycle.rescan {
            // Busy: keep reading, but never postpone discovery past a tick (a file that
            // appears while a big one drains must be found before it is rotated away too).
            discover = cycle.rescan || names || Instant::now() >= next_tick;
            if discover {
                next_tick = Instant::now() + shared.poll_interval;
            }
            continue;
        }
        let wait = next_tick.saturating_duration_since(Instant::now());
        let ticked = match wake_rx.recv_timeout(wait) {
            Ok(()) => false,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => true,
        };
        discover = names || wake.names.swap(false, Ordering::Relaxed);
        if ticked || Instant::now() >= next_tick {
            next_tick = Instant::now() + shared.poll_interval;
            discover = true;
        }
    }
    // A follower that had caught up reads once more: what was written just before the stop
    // belongs in the final analysis. One that was behind stops reading at once. Either way
    // what is still unread is reported as such (`Incident::Unread`).
    if !busy {
        tailer.set_interrupt(None);
        tailer.poll(Instant::now(), true, &mut feed);
    }
    tailer.finish(&mut feed);
    feed.settle();
    feed.flush();
}

/// Seconds of row time each poll of a database source asks again (rows inserted late within
/// this are counted once; see `ingest::clickhouse::poll`), unless the source's `overlap`
/// says otherwise.
pub const DB_OVERLAP_SECS: u64 = 30;
/// How often (wall time) a polled database source is checked for rows written too late to be
/// polled (a per-minute `count()` over everything no poll asks again); also once at the end.
const DB_LATE_CHECK_EVERY: Duration = Duration::from_secs(60);
/// At shutdown, the limit on each request of the final poll and late check (the engine
/// waits `DRAIN_DEADLINE`, 5 s, for what followers hand over).
const DB_FINAL_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest wait between retries of a failing database source: twelve polls, at most a
/// minute (so a fast `--poll` also recovers fast).
fn db_backoff_max(poll: Duration) -> Duration {
    (poll * 12).min(Duration::from_secs(60)).max(poll)
}

/// A database source: polled every `db_poll` with a time cursor. A failure is reported
/// once (an error incident: a `source_error` gap, open until the source reads again) and
/// retried with a doubling wait (up to [`db_backoff_max`]); the first poll that works again
/// closes the gap.
fn follow_clickhouse(k: usize, spec: &SourceSpec, shared: &Shared, caught_up: &mut bool) {
    let Some(ch) = spec.clickhouse.as_deref() else { return };
    let (wake_tx, wake_rx) = std_mpsc::sync_channel(1);
    shared.stop.add_waker(wake_tx);
    let mut feed = Feed::new(k, shared, spec);
    shared.wait_turn(k);
    let id = feed.register(&spec.pattern);
    shared.pass_turn(k);
    let overlap = ch.overlap_secs.unwrap_or(DB_OVERLAP_SECS);
    let mut poller = Poller::new(ch.clone(), shared.pushdown.clone(), overlap);
    let mut failing = false;
    let mut wait = shared.db_poll;
    let mut checked = Instant::now();
    let mut last = false;
    loop {
        if shared.stop.is_set() {
            // One last poll (rows written just before the stop belong in the result, as a
            // file's last lines do) and the late check, each request time-limited; a source
            // already failing is not asked again.
            if failing {
                break;
            }
            poller.set_timeout(Some(DB_FINAL_TIMEOUT));
            last = true;
        }
        match poller.poll(|line| feed.data(id, line)) {
            Ok(news) => {
                feed.internal_counts(id, &news.internal);
                if failing {
                    let path = spec.pattern.clone().into();
                    feed.incident(Incident::Recovered { stream: Some(id), path });
                    failing = false;
                }
                wait = shared.db_poll;
            }
            Err(e) => {
                if !failing {
                    feed.incident(Incident::Error {
                        stream: Some(id),
                        path: spec.pattern.clone().into(),
                        reason: e.to_string(),
                    });
                    failing = true;
                    wait = shared.db_poll;
                }
                wait = (wait * 2).min(db_backoff_max(shared.db_poll));
            }
        }
        feed.settle();
        feed.flush();
        if !failing && (last || checked.elapsed() >= DB_LATE_CHECK_EVERY) {
            checked = Instant::now();
            check_late(&mut poller, &mut feed, id, &spec.pattern, overlap);
        }
        shared.send(Msg::Database { stream: id, evidence: Box::new(poller.evidence()) });
        if !*caught_up {
            *caught_up = true;
            shared.send(Msg::CaughtUp);
        }
        if last {
            break;
        }
        match wake_rx.recv_timeout(wait) {
            Ok(()) | Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
        }
    }
    feed.flush();
}

/// Count the rows no poll will ask again that no poll received (see
/// `ingest::clickhouse::poll`): newly found ones are a `source_error` gap naming them. A
/// failing check is only logged: the evidence then says when it last ran.
fn check_late(poller: &mut Poller, feed: &mut Feed<'_>, id: SourceId, path: &str, overlap: u64) {
    match poller.check_late() {
        Ok(Some(late)) if late.new > 0 => {
            let span = match late.span {
                Some((a, b)) if a == b => {
                    format!(" (row times in the minute from {})", a.to_rfc3339())
                }
                Some((a, b)) => format!(
                    " (row times in the minutes from {} to {} + 1 min)",
                    a.to_rfc3339(),
                    b.to_rfc3339()
                ),
                None => String::new(),
            };
            feed.incident(Incident::Missed {
                stream: id,
                path: path.into(),
                reason: format!(
                    "{} row(s) written more than {overlap} s behind the newest row already \
                     pulled were not polled{span}: they are not in this live result ({} in \
                     all before {}); `analyze` over the same range reads them",
                    late.new,
                    late.missed,
                    late.before.to_rfc3339()
                ),
            });
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("late-row check of {path}: {e}"),
    }
}

/// Standard input: read as it arrives; at end of input the final line is flushed.
fn follow_stdin(k: usize, spec: &SourceSpec, shared: &Shared, caught_up: &mut bool) {
    let mut feed = Feed::new(k, shared, spec);
    shared.wait_turn(k);
    let id = feed.register("<stdin>");
    shared.pass_turn(k);
    *caught_up = true;
    shared.send(Msg::CaughtUp);
    let mut stdin = std::io::stdin().lock();
    let mut buf = vec![0; 64 * 1024];
    while !shared.stop.is_set() {
        match stdin.read(&mut buf) {
            Ok(0) => {
                feed.end(id);
                return;
            }
            Ok(n) => {
                feed.data(id, &buf[..n]);
                // Read to its end so far; standard input is never compared by content.
                feed.read_to_end(id, None);
                feed.settle();
                feed.flush();
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                feed.incident(Incident::Error {
                    stream: Some(id),
                    path: "<stdin>".into(),
                    reason: e.to_string(),
                });
                feed.end(id);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io::Write as _;

    use super::*;
    use crate::config::Vantage;
    use crate::model::SourceKind;

    fn combined(ip: &str, n: u32) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for i in 0..n {
            let _ = writeln!(
                out,
                "{ip} - - [27/Nov/2026:10:00:{:02} +0000] \"GET /x?{i} HTTP/1.1\" 200 5 \"-\" \"curl/8\"",
                i % 60
            );
        }
        out
    }

    fn spec(pattern: &Path) -> SourceSpec {
        SourceSpec {
            pattern: pattern.to_string_lossy().into_owned(),
            kind: SourceKind::Access,
            service: "gw".into(),
            vantage: Vantage::External,
            access_format: None,
            scan_format: None,
            fields: None,
            clickhouse: None,
        }
    }

    async fn next(rx: &mut mpsc::Receiver<Msg>) -> Msg {
        tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("a follower message within 30 s")
            .expect("channel open")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn followers_register_in_config_then_path_order_and_decode_appends() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/2.log"), combined("203.0.113.2", 7)).unwrap();
        std::fs::write(dir.path().join("a/1.log"), combined("203.0.113.1", 5)).unwrap();
        std::fs::write(dir.path().join("b.log"), combined("203.0.113.3", 3)).unwrap();
        let (tx, mut rx) = mpsc::channel(2);
        let stop = Arc::new(Stop::default());
        let shared = Arc::new(Shared {
            tx,
            next_id: Mutex::new(0),
            turn: (Mutex::new(0), Condvar::new()),
            stop: Arc::clone(&stop),
            tailer: TailerOptions::default(),
            poll_interval: Duration::from_millis(200),
            timezone: chrono_tz::UTC,
            trusted_proxies: Vec::new(),
            filter: ClientFilter::default(),
            db_poll: Duration::from_millis(200),
            pushdown: Pushdown::default(),
            claimed: Mutex::default(),
        });
        // Spawned in reverse: the turn order, not the spawn order, decides the ids.
        let b = spawn(1, spec(&dir.path().join("b.log")), Arc::clone(&shared)).unwrap();
        let a = spawn(0, spec(&dir.path().join("a/*.log")), Arc::clone(&shared)).unwrap();
        drop(shared);
        let mut registered = Vec::new();
        let mut events: HashMap<SourceId, u64> = HashMap::new();
        let mut caught_up = 0;
        while caught_up < 2 || events.values().sum::<u64>() < 15 {
            match next(&mut rx).await {
                Msg::Register { id, info } => registered.push((id.0, info.path)),
                Msg::Batch(batch) => {
                    for e in &batch.events {
                        *events.entry(e.source()).or_default() += 1;
                    }
                }
                Msg::CaughtUp => caught_up += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        let names: Vec<(u32, String)> = registered
            .iter()
            .map(|(id, p)| (*id, p.rsplit('/').take(2).collect::<Vec<_>>().join("<")))
            .collect();
        assert_eq!(
            names,
            [
                (0, "1.log<a".into()),
                (1, "2.log<a".into()),
                (2, "b.log<".to_owned() + &dir.path().file_name().unwrap().to_string_lossy())
            ]
        );
        assert_eq!(events[&SourceId(0)], 5);
        assert_eq!(events[&SourceId(1)], 7);
        assert_eq!(events[&SourceId(2)], 3);
        // An append is picked up (notify or the stat tick) and decoded.
        let mut f =
            std::fs::OpenOptions::new().append(true).open(dir.path().join("b.log")).unwrap();
        f.write_all(combined("198.51.100.1", 4).as_bytes()).unwrap();
        let mut appended = 0;
        while appended < 4 {
            if let Msg::Batch(batch) = next(&mut rx).await {
                assert!(batch.events.iter().all(|e| e.source() == SourceId(2)));
                appended += batch.events.len();
                let update = batch.sources.iter().find(|u| u.id == SourceId(2)).unwrap();
                assert_eq!(update.format, "combined");
            }
        }
        assert_eq!(appended, 4);
        stop.set();
        let mut stopped = 0;
        while stopped < 2 {
            if let Msg::Stopped = next(&mut rx).await {
                stopped += 1;
            }
        }
        a.join().unwrap();
        b.join().unwrap();
    }
}
