//! A live session: every configured source followed, one engine task owning the
//! `Correlator`, snapshots published on a `watch` channel (latest wins), and a broadcast of
//! live items (external requests, scans, source incidents, state changes) for displays.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, watch};

use crate::config::CaseConfig;
use crate::model::snapshot::Gap;
use crate::model::{Event, Snapshot};

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
}

impl std::fmt::Debug for SessionOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionOptions")
            .field("from_end", &self.from_end)
            .field("rotate_wait", &self.rotate_wait)
            .field("poll_interval", &self.poll_interval)
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
        }
    }
}

/// Something a live display may want to show as it happens. Slow receivers lag and miss
/// items (broadcast semantics); the snapshot channel is the source of truth.
#[derive(Debug, Clone)]
pub enum LiveItem {
    /// A request or scan observation; `external` tells whether it is exposure-relevant.
    Event { event: Arc<Event>, external: bool },
    /// A rotation, truncation, error, silence or restart.
    Incident(Gap),
}

/// A running live session.
#[derive(Debug)]
pub struct Session {
    /// Latest snapshot (published after each applied batch, at most every ~100 ms, and on a 1 s tick).
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// Live feed; subscribe more with `subscribe()`.
    pub items: broadcast::Sender<LiveItem>,
}

impl Session {
    /// A new receiver of live items.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<LiveItem> {
        self.items.subscribe()
    }
}

/// Start following every source of `config`. Must be called inside a tokio runtime.
#[must_use]
pub fn start(config: CaseConfig, options: SessionOptions) -> Session {
    let _ = (config, options);
    todo!("live session: issue 5")
}
