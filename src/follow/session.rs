//! A live session: every configured source followed, one engine task owning the
//! `Correlator`, snapshots published on a `watch` channel (latest wins), and a broadcast of
//! live items (external requests, scans, source incidents) for displays.
//!
//! Data path: follower threads (`runner`) → bounded `mpsc` of decoded batches → engine task
//! (`engine`) → `Correlator::apply` → `watch<Arc<Snapshot>>`. The same `Decoder` and
//! `Correlator` as `analyze`, so a live run over finished files reaches the same state.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::CaseConfig;
use crate::correlate::Correlator;
use crate::correlate::classify::ScannerDb;
use crate::enrich::Enricher;
use crate::model::snapshot::Gap;
use crate::model::{Event, Snapshot};

use super::engine::Engine;
use super::runner::{self, Shared, Stop};
use super::tailer::TailerOptions;

/// Where "now" comes from: the system clock when live, a replay clock in the demo.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// How a session runs.
#[derive(Clone)]
pub struct SessionOptions {
    /// Skip existing content and start at the end of every file.
    pub from_end: bool,
    /// How long a renamed (rotated) file must be quiet before it is closed.
    pub rotate_wait: Duration,
    /// Interval of the periodic stat fallback (for file systems where notify is silent).
    pub poll_interval: Duration,
    /// The session's notion of now (`as_of` of every snapshot).
    pub clock: Clock,
    /// A source with no new bytes for this long while another source kept receiving bytes
    /// is reported as a `Silent` gap (closed when it resumes).
    pub silence_after: Duration,
    /// Minimum spacing of snapshot publications while events keep arriving.
    pub publish_every: Duration,
    /// Snapshot refresh without input (so `as_of` and rates advance), and silence checks.
    pub tick: Duration,
    /// Batches in flight between followers and the engine (backpressure bound).
    pub channel_capacity: usize,
    /// How far behind the newest event the correlator keeps per-timestamp detail once the
    /// backfill is done; older evidence is folded per window (`Correlator::compact_before`),
    /// which bounds memory over a long incident. A negative scan arriving later than this
    /// behind the newest event can no longer split a window (it becomes a gap).
    pub detail_horizon: Duration,
    /// Offline enrichment already loaded by the shell (which reports a bad file as a
    /// configuration error); `None`: loaded here from the config's `[enrich]`.
    pub enricher: Option<Arc<Enricher>>,
    /// Database sources (`clickhouse = { … }`): the wait between polls (`watch --poll`).
    pub db_poll: Duration,
    /// Actors whose detail (paths, agents, statuses) is kept at once
    /// (`Correlator::set_max_actors_detail`).
    pub max_actors_detail: usize,
    /// Actors a snapshot lists (`Correlator::set_actor_limit`; `None`: all).
    pub actors_listed: Option<usize>,
}

impl std::fmt::Debug for SessionOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionOptions")
            .field("from_end", &self.from_end)
            .field("rotate_wait", &self.rotate_wait)
            .field("poll_interval", &self.poll_interval)
            .field("silence_after", &self.silence_after)
            .field("publish_every", &self.publish_every)
            .field("tick", &self.tick)
            .field("channel_capacity", &self.channel_capacity)
            .field("enricher", &self.enricher.is_some())
            .field("db_poll", &self.db_poll)
            .field("max_actors_detail", &self.max_actors_detail)
            .field("actors_listed", &self.actors_listed)
            .finish_non_exhaustive()
    }
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            from_end: false,
            rotate_wait: Duration::from_secs(5),
            poll_interval: Duration::from_millis(500),
            clock: Arc::new(Utc::now),
            silence_after: Duration::from_secs(300),
            publish_every: Duration::from_millis(100),
            tick: Duration::from_secs(1),
            channel_capacity: 8,
            detail_horizon: Duration::from_secs(600),
            enricher: None,
            db_poll: Duration::from_secs(5),
            max_actors_detail: crate::correlate::actors::DEFAULT_DETAIL_CAP,
            actors_listed: Some(LIVE_ACTORS_LISTED),
        }
    }
}

/// Actors a live snapshot lists by default (the top by bytes and by requests, plus the
/// actors windows name); `actors_total` counts them all.
pub const LIVE_ACTORS_LISTED: usize = 10_000;

/// Something a live display may want to show as it happens. Slow receivers lag and miss
/// items (broadcast semantics); the snapshot channel is the source of truth.
#[derive(Debug, Clone)]
pub enum LiveItem {
    /// A request or scan observation; `external` tells whether it is exposure-relevant.
    Event { event: Arc<Event>, external: bool },
    /// A rotation, truncation, error, silence or restart. `to` is `None` while it lasts.
    Incident(Gap),
}

/// Progress of a session, for callers that must know when history has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionStatus {
    /// Every follower has read what existed when it started (stdin counts at once).
    pub backfilled: bool,
    pub sources: usize,
    /// Events applied to the correlator so far.
    pub events: u64,
    /// Batches applied so far.
    pub batches: u64,
    /// Bytes written to the followed files and not read yet (0 when caught up).
    pub behind_bytes: u64,
}

/// A running live session. Dropping it stops the session; `shutdown` stops it and returns
/// the final snapshot.
#[derive(Debug)]
pub struct Session {
    /// Latest snapshot (published after each applied batch, at most every ~100 ms, and on a 1 s tick).
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// Live feed; subscribe more with `subscribe()`.
    pub items: broadcast::Sender<LiveItem>,
    /// Progress (backfill done, events applied).
    pub status: watch::Receiver<SessionStatus>,
    stop: Option<oneshot::Sender<()>>,
    engine: Option<JoinHandle<Arc<Snapshot>>>,
}

impl Session {
    /// A new receiver of live items.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<LiveItem> {
        self.items.subscribe()
    }

    /// Stop following, apply what the followers already read, record incidents still open
    /// (with no end), and return the final snapshot.
    pub async fn shutdown(mut self) -> Arc<Snapshot> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.engine.take() {
            Some(handle) => match handle.await {
                Ok(snapshot) => snapshot,
                Err(e) => {
                    tracing::error!("engine task failed: {e}");
                    Arc::clone(&self.snapshots.borrow())
                }
            },
            None => Arc::clone(&self.snapshots.borrow()),
        }
    }
}

/// Start following every source of `config`. Must be called inside a tokio runtime.
#[must_use]
pub fn start(config: CaseConfig, options: SessionOptions) -> Session {
    let specs = config.sources();
    let (tx, rx) = mpsc::channel(options.channel_capacity.max(1));
    let stop_flag = Arc::new(Stop::default());
    let shared = Arc::new(Shared {
        tx,
        next_id: std::sync::Mutex::new(0),
        turn: (std::sync::Mutex::new(0), std::sync::Condvar::new()),
        stop: Arc::clone(&stop_flag),
        tailer: TailerOptions {
            from_end: options.from_end,
            rotate_wait: options.rotate_wait,
            ..TailerOptions::default()
        },
        poll_interval: options.poll_interval,
        timezone: config.timezone,
        trusted_proxies: config.trusted_proxies.clone(),
        filter: config.client_filter(),
        db_poll: options.db_poll,
        pushdown: crate::ingest::clickhouse::Pushdown {
            since: None,
            until: None,
            ours: config.internal.iter().chain(&config.allow).copied().collect(),
            trusted_proxies: config.trusted_proxies.clone(),
        },
        claimed: std::sync::Mutex::default(),
    });
    let (mut followers, mut file_followers) = (0, 0);
    for (k, spec) in specs.into_iter().enumerate() {
        let pattern = spec.pattern.clone();
        match runner::spawn(k, spec, Arc::clone(&shared)) {
            Ok(_) => {
                followers += 1;
                file_followers += usize::from(pattern != runner::STDIN);
            }
            Err(e) => {
                tracing::error!("cannot start a follower for {pattern}: {e}");
                shared.pass_turn(k);
            }
        }
    }
    drop(shared);
    let filter = config.client_filter();
    // The same scanner list as `analyze` (built-in plus the config's files).
    let (scanners, scanner_error) = match config.load_scanners() {
        Ok(db) => (db, None),
        Err(e) => (ScannerDb::builtin(), Some(e.to_string())),
    };
    let enricher = match options.enricher.clone() {
        Some(e) => Ok(Some(e)),
        None => Enricher::load(&config.enrich).map(|e| e.map(Arc::new)),
    };
    let mut correlator = Correlator::with_scanners(config, scanners);
    correlator.set_max_actors_detail(options.max_actors_detail);
    correlator.set_actor_limit(options.actors_listed);
    let enrich_error = match enricher {
        Ok(Some(e)) => {
            correlator.set_enricher(e);
            None
        }
        Ok(None) => None,
        Err(e) => Some(e.to_string()),
    };
    let counts = (followers, file_followers);
    let (mut engine, outputs) = Engine::new(correlator, filter, options, stop_flag, counts);
    if let Some(reason) = scanner_error {
        engine.scanner_file_failed(&reason);
    }
    if let Some(reason) = enrich_error {
        engine.enrichment_failed(&reason);
    }
    let (stop_tx, stop_rx) = oneshot::channel();
    let handle = tokio::spawn(engine.run(rx, stop_rx));
    Session {
        snapshots: outputs.snapshots,
        items: outputs.items,
        status: outputs.status,
        stop: Some(stop_tx),
        engine: Some(handle),
    }
}
