//! Live polling of a ClickHouse source (`leakline watch`): a time cursor, an overlap, and
//! the rows already seen dropped, so a row is counted once even when it is inserted late.
//!
//! Each poll asks for the rows with a time at or after `cursor - overlap` (the cursor is
//! the newest row time seen so far) and drops those it already handed out: the rows of the
//! overlap are remembered by a hash of the row as received, with their multiplicity (two
//! identical log lines are two requests). A row inserted later than the overlap behind
//! the newest row is not seen (the overlap is the tolerance; `analyze` re-reads everything).
//!
//! The per-minute count of the rows kept by the server is asked from the minute holding
//! `cursor - overlap`; each minute's count is remembered and only its growth is handed out.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use chrono::DateTime;

use super::{ClickHouseError, ClickHouseSpec, Puller, Pushdown};

/// What one poll handed out besides the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Polled {
    /// Rows received (before dropping those already seen).
    pub received: u64,
    /// Rows handed out (new).
    pub new: u64,
    /// Rows dropped as already seen.
    pub dropped: u64,
    /// Growth of the per-minute counts of the rows kept by the server: (minute, rows).
    pub internal: Vec<(i64, u64)>,
}

/// A source being polled.
#[derive(Debug)]
pub struct Poller {
    spec: ClickHouseSpec,
    push: Pushdown,
    overlap_secs: i64,
    puller: Option<Puller>,
    /// The newest row time seen (epoch seconds).
    cursor: Option<i64>,
    /// Rows of the overlap already handed out: hash → (time, count).
    seen: HashMap<u64, (i64, u32)>,
    /// Per-minute counts already handed out.
    minutes: BTreeMap<i64, u64>,
}

impl Poller {
    /// Poll `spec`; `push` holds the ranges (its time range is replaced by the cursor's).
    #[must_use]
    pub fn new(spec: ClickHouseSpec, push: Pushdown, overlap_secs: u64) -> Poller {
        Poller {
            spec,
            push,
            overlap_secs: overlap_secs as i64,
            puller: None,
            cursor: None,
            seen: HashMap::new(),
            minutes: BTreeMap::new(),
        }
    }

    /// The newest row time seen so far (epoch seconds).
    #[must_use]
    pub fn cursor(&self) -> Option<i64> {
        self.cursor
    }

    /// One poll: the new rows' JSON lines go to `emit`, one call per row. On error the
    /// connection is dropped (the next poll reconnects); rows handed out before the error
    /// stay seen.
    pub fn poll(&mut self, mut emit: impl FnMut(&[u8])) -> Result<Polled, ClickHouseError> {
        let result = self.poll_inner(&mut emit);
        if result.is_err() {
            self.puller = None;
        }
        result
    }

    fn poll_inner(&mut self, emit: &mut dyn FnMut(&[u8])) -> Result<Polled, ClickHouseError> {
        if self.puller.is_none() {
            self.puller = Some(Puller::connect(&self.spec)?);
        }
        let Some(puller) = &self.puller else { unreachable!("connected above") };
        if !puller.time_is_epoch() {
            return Err(puller.setup(
                "watch needs a DateTime or epoch-seconds `time` column to keep a cursor".into(),
            ));
        }
        let from = self.cursor.map(|c| c - self.overlap_secs);
        let mut push = self.push.clone();
        push.since = from.and_then(|f| DateTime::from_timestamp(f, 0));
        push.until = None;
        let stream = puller.external(&push)?;
        let hasher = BuildHasherDefault::<DefaultHasher>::default();
        let mut this_poll: HashMap<u64, u32> = HashMap::new();
        let mut polled = Polled::default();
        let mut newest = self.cursor;
        let seen = &mut self.seen;
        let end = stream.for_each_row(|row, json| {
            polled.received += 1;
            let h = hasher.hash_one(row);
            let n = this_poll.entry(h).or_insert(0);
            *n += 1;
            let time = row_time(row);
            let known = seen.get(&h).map_or(0, |s| s.1);
            if *n <= known {
                polled.dropped += 1;
                return;
            }
            seen.insert(h, (time.unwrap_or(i64::MAX), *n));
            if let Some(t) = time {
                newest = Some(newest.map_or(t, |c: i64| c.max(t)));
            }
            polled.new += 1;
            emit(json);
        });
        self.cursor = newest;
        if let Some(e) = end.error() {
            return Err(e);
        }
        // The minutes' counts, from the minute holding the overlap's start.
        let minute_from = from.map(|f| f.div_euclid(60) * 60);
        push.since = minute_from.and_then(|f| DateTime::from_timestamp(f, 0));
        let (_, minutes) = puller.internal(&push)?;
        for m in minutes {
            let had = self.minutes.entry(m.minute).or_insert(0);
            if m.rows > *had {
                polled.internal.push((m.minute, m.rows - *had));
                *had = m.rows;
            }
            let t = m.last.timestamp();
            self.cursor = Some(self.cursor.map_or(t, |c| c.max(t)));
        }
        // Forget what the next poll cannot return again.
        if let Some(c) = self.cursor {
            let keep_from = c - self.overlap_secs;
            self.seen.retain(|_, (t, _)| *t >= keep_from);
            let first_minute = keep_from.div_euclid(60);
            self.minutes = self.minutes.split_off(&first_minute);
        }
        Ok(polled)
    }
}

/// The time of a row as received: its first column is the time (`toUnixTimestamp`, or the
/// epoch seconds as stored). `None` for any other shape.
fn row_time(row: &[u8]) -> Option<i64> {
    let first = row.split(|&b| b == b'\t').next()?;
    std::str::from_utf8(first).ok()?.parse().ok()
}
