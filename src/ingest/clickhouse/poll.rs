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
//!
//! The evidence ([`Poller::evidence`], `sources[].database` of a `watch`): the distinct
//! query shapes (the time bound written `{since}`), the polls, the rows received, dropped and
//! kept, and a SHA-256 over the rows kept, each as received (`TabSeparated`, with its
//! `\n`), in the order they were applied: poll after poll, within a poll in the query's
//! `ORDER BY`. When no row arrived behind one already pulled that sorts after it, that is
//! the order of one pull of the same rows, so it equals `analyze`'s `sha256` over them.
//!
//! The late-row check ([`Poller::check_late`]): every row before the minute holding
//! `cursor - overlap` (which no poll asks again) is counted per minute by the server and
//! compared with the rows kept and counted in that minute; the excess is rows written too
//! late to be polled. A minute with fewer rows on the server than were kept (rows deleted
//! since, a TTL) can hide late rows in that minute: the count is a lower bound.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{ClickHouseError, ClickHouseSpec, Puller, Pushdown, RowSum};
use crate::model::snapshot::{DatabaseEvidence, LiveDatabase};

/// How the time bound of a poll is written in the evidence's query shapes.
pub const SINCE_PARAM: &str = "{since}";

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
    /// Per request, once set (`Poller::set_timeout`).
    timeout: Option<Duration>,
    /// Rows kept and rows counted, per minute of row time, since the start (the late check).
    applied: BTreeMap<i64, u64>,
    /// The rows kept, in the order applied.
    kept: Sha256,
    kept_sum: RowSum,
    evidence: DatabaseEvidence,
}

/// What one late-row check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateCheck {
    /// Rows before `before` the server holds and no poll received.
    pub missed: u64,
    /// Of those, how many this check found first (the previous check saw fewer).
    pub new: u64,
    /// The first and last minute (start) holding missed rows.
    pub span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub before: DateTime<Utc>,
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
            timeout: None,
            applied: BTreeMap::new(),
            kept: Sha256::new(),
            kept_sum: RowSum::default(),
            evidence: DatabaseEvidence {
                kind: "clickhouse".to_string(),
                live: Some(Box::new(LiveDatabase { overlap_secs, ..LiveDatabase::default() })),
                ..DatabaseEvidence::default()
            },
        }
    }

    /// Limit each request from now on (shutdown: the final poll and check must not hang).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
        if let Some(p) = &mut self.puller {
            p.set_timeout(timeout);
        }
    }

    /// What was asked and received so far (see the module docs).
    #[must_use]
    pub fn evidence(&self) -> DatabaseEvidence {
        let mut e = self.evidence.clone();
        e.sha256 = Some(hex::encode(self.kept.clone().finalize()));
        e.sha256_sum = Some(self.kept_sum.hex());
        e
    }

    fn live(&mut self) -> &mut LiveDatabase {
        self.evidence.live.get_or_insert_with(Box::default)
    }

    /// Record a query shape once: `since_clause` (the text of the poll's time bound) is
    /// written with [`SINCE_PARAM`] in place of its value.
    fn shape(&mut self, query: &str, since_clause: Option<(String, i64)>) {
        let q = match since_clause {
            Some((clause, value)) => {
                let v = value.to_string();
                let named = match clause.rfind(&v) {
                    Some(at) => {
                        format!("{}{SINCE_PARAM}{}", &clause[..at], &clause[at + v.len()..])
                    }
                    None => clause.clone(),
                };
                query.replacen(&clause, &named, 1)
            }
            None => query.to_string(),
        };
        if !self.evidence.queries.contains(&q) {
            self.evidence.queries.push(q);
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
        match &result {
            Ok(_) => {
                self.live().polls += 1;
                self.evidence.error = None;
            }
            Err(e) => {
                self.puller = None;
                self.live().poll_failures += 1;
                self.evidence.error = Some(e.to_string());
            }
        }
        result
    }

    /// The late-row check (see the module docs); `None` before any row time is known.
    pub fn check_late(&mut self) -> Result<Option<LateCheck>, ClickHouseError> {
        let Some(cursor) = self.cursor else { return Ok(None) };
        if self.puller.is_none() {
            self.puller = Some(Puller::connect_limited(&self.spec, self.timeout)?);
        }
        let Some(puller) = &self.puller else { unreachable!("connected above") };
        let before = (cursor - self.overlap_secs).div_euclid(60) * 60;
        let Some(before_t) = DateTime::from_timestamp(before, 0) else { return Ok(None) };
        let (query, counts) = match puller.count_per_minute_before(before_t) {
            Ok(answer) => answer,
            Err(e) => {
                self.puller = None;
                return Err(e);
            }
        };
        let mut missed = 0;
        let mut span: Option<(i64, i64)> = None;
        for (minute, n) in counts {
            let had = self.applied.get(&minute).copied().unwrap_or(0);
            if n > had {
                missed += n - had;
                span = Some(span.map_or((minute, minute), |(a, _)| (a, minute)));
            }
        }
        let live = self.live();
        let new = missed.saturating_sub(live.late_rows_missed.unwrap_or(0));
        live.late_rows_missed = Some(missed);
        live.late_checked_before = Some(before_t);
        live.late_check_query = Some(query);
        let at = |m: i64| DateTime::from_timestamp(m * 60, 0).unwrap_or_default();
        Ok(Some(LateCheck {
            missed,
            new,
            span: span.map(|(a, b)| (at(a), at(b))),
            before: before_t,
        }))
    }

    /// Add one poll's rows to the evidence: `bytes` received and kept, `from` its bound.
    fn note_rows(&mut self, polled: &Polled, (received, kept): (u64, u64), from: Option<i64>) {
        self.evidence.rows += polled.new;
        self.evidence.bytes += kept;
        let since = from.and_then(|f| DateTime::from_timestamp(f, 0));
        let cursor = self.cursor.and_then(|c| DateTime::from_timestamp(c, 0));
        let live = self.live();
        live.rows_received += polled.received;
        live.rows_dropped += polled.dropped;
        live.bytes_received += received;
        if since.is_some() {
            live.since_first = live.since_first.or(since);
            live.since_last = since;
        }
        live.cursor = cursor;
    }

    fn poll_inner(&mut self, emit: &mut dyn FnMut(&[u8])) -> Result<Polled, ClickHouseError> {
        if self.puller.is_none() {
            self.puller = Some(Puller::connect_limited(&self.spec, self.timeout)?);
        }
        let Some(puller) = &self.puller else { unreachable!("connected above") };
        puller.server_version().clone_into(&mut self.evidence.server_version);
        if !puller.time_is_epoch() {
            return Err(puller.setup(
                "watch needs a DateTime or epoch-seconds `time` column to keep a cursor".into(),
            ));
        }
        let from = self.cursor.map(|c| c - self.overlap_secs);
        let mut push = self.push.clone();
        push.since = from.and_then(|f| DateTime::from_timestamp(f, 0));
        push.until = None;
        let clause = |f: Option<i64>| {
            let t = DateTime::from_timestamp(f?, 0)?;
            Some((puller.since_clause(t)?, f?))
        };
        let external_clause = clause(from);
        let stream = puller.external(&push)?;
        let query = stream.query().to_string();
        let mut dedup = Dedup::new(&mut self.seen, self.cursor, self.overlap_secs);
        let mut polled = Polled::default();
        let (mut bytes_received, mut bytes_kept) = (0, 0);
        let kept = &mut self.kept;
        let kept_sum = &mut self.kept_sum;
        let mut framed = Vec::new();
        let applied = &mut self.applied;
        let end = stream.for_each_row(|row, json| {
            polled.received += 1;
            bytes_received += row.len() as u64 + 1;
            let Admitted::New { time } = dedup.admit(row) else {
                polled.dropped += 1;
                return;
            };
            if let Some(t) = time {
                *applied.entry(t.div_euclid(60)).or_insert(0) += 1;
            }
            framed.clear();
            framed.extend_from_slice(row);
            framed.push(b'\n');
            kept.update(&framed);
            kept_sum.add(&framed);
            bytes_kept += row.len() as u64 + 1;
            polled.new += 1;
            emit(json);
        });
        self.cursor = dedup.newest;
        self.note_rows(&polled, (bytes_received, bytes_kept), from);
        self.shape(&query, external_clause);
        if let Some(e) = end.error() {
            return Err(e);
        }
        // The minutes' counts, from the minute holding the overlap's start.
        let minute_from = from.map(|f| f.div_euclid(60) * 60);
        push.since = minute_from.and_then(|f| DateTime::from_timestamp(f, 0));
        let Some(puller) = &self.puller else { unreachable!("connected above") };
        let (query, minutes) = puller.internal(&push)?;
        if let Some(q) = query {
            let c = minute_from
                .and_then(|f| Some((puller.since_clause(DateTime::from_timestamp(f, 0)?)?, f)));
            self.shape(&q, c);
        }
        for m in minutes {
            let had = self.minutes.entry(m.minute).or_insert(0);
            if m.rows > *had {
                polled.internal.push((m.minute, m.rows - *had));
                *self.applied.entry(m.minute).or_insert(0) += m.rows - *had;
                self.evidence.rows_counted += m.rows - *had;
                *had = m.rows;
            }
            let t = m.last.timestamp();
            self.cursor = Some(self.cursor.map_or(t, |c| c.max(t)));
        }
        let cursor = self.cursor.and_then(|c| DateTime::from_timestamp(c, 0));
        self.live().cursor = cursor;
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

/// Which rows of one poll are new: a row is dropped when it was already handed out, counting
/// identical rows by multiplicity (the n-th copy of a row in this poll is new only when no
/// earlier poll handed out n copies).
///
/// Only rows at or after `newest - overlap` are remembered (`newest` is the newest row time
/// so far): the rows arrive ordered by time (the query's `ORDER BY` starts with it), so no
/// later row of this poll is older than that, and the next poll asks from `cursor - overlap`,
/// which is not earlier. The rest is forgotten as the time advances, whenever the maps have
/// doubled since the last pruning, so memory follows the rows of the overlap, not of the
/// poll (a first poll over days of history would otherwise remember every row).
struct Dedup<'a> {
    /// Rows handed out by earlier polls (and this one): hash → (time, copies in one poll).
    seen: &'a mut HashMap<u64, (i64, u32)>,
    /// Copies of each row received in this poll: hash → (time, copies).
    this_poll: HashMap<u64, (i64, u32)>,
    hasher: BuildHasherDefault<DefaultHasher>,
    /// The newest row time seen (epoch seconds), this poll included.
    newest: Option<i64>,
    overlap_secs: i64,
    /// Entries in both maps at which they are pruned next.
    prune_at: usize,
}

/// What [`Dedup::admit`] says of a row.
enum Admitted {
    /// New: to hand out; `time` is its row time, when it has one.
    New { time: Option<i64> },
    /// Handed out already (by an earlier poll, or an earlier copy in this one).
    Seen,
}

/// The least number of remembered rows before pruning is tried.
const PRUNE_MIN: usize = 4096;

impl<'a> Dedup<'a> {
    fn new(seen: &'a mut HashMap<u64, (i64, u32)>, cursor: Option<i64>, overlap: i64) -> Self {
        let prune_at = (2 * seen.len()).max(PRUNE_MIN);
        Dedup {
            seen,
            this_poll: HashMap::new(),
            hasher: BuildHasherDefault::default(),
            newest: cursor,
            overlap_secs: overlap,
            prune_at,
        }
    }

    /// Whether `row` is new (to hand out) or was handed out already.
    /// A row without a time (not `row_time`'s shape) is never forgotten.
    fn admit(&mut self, row: &[u8]) -> Admitted {
        let h = self.hasher.hash_one(row);
        let time = row_time(row);
        let kept_time = time.unwrap_or(i64::MAX);
        let n = &mut self.this_poll.entry(h).or_insert((kept_time, 0)).1;
        *n += 1;
        let n = *n;
        if n <= self.seen.get(&h).map_or(0, |s| s.1) {
            return Admitted::Seen;
        }
        self.seen.insert(h, (kept_time, n));
        if let Some(t) = time {
            self.newest = Some(self.newest.map_or(t, |c| c.max(t)));
        }
        if self.seen.len() + self.this_poll.len() >= self.prune_at {
            self.prune();
        }
        Admitted::New { time }
    }

    /// Forget the rows older than `newest - overlap` (see the type's docs).
    fn prune(&mut self) {
        if let Some(newest) = self.newest {
            let keep_from = newest - self.overlap_secs;
            self.seen.retain(|_, (t, _)| *t >= keep_from);
            self.this_poll.retain(|_, (t, _)| *t >= keep_from);
        }
        self.prune_at = (2 * (self.seen.len() + self.this_poll.len())).max(PRUNE_MIN);
    }
}

/// The time of a row as received: its first column is the time (`toUnixTimestamp`, or the
/// epoch seconds as stored). `None` for any other shape.
fn row_time(row: &[u8]) -> Option<i64> {
    let first = row.split(|&b| b == b'\t').next()?;
    std::str::from_utf8(first).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row as received: epoch seconds, then the other columns.
    fn row(t: i64, path: &str) -> Vec<u8> {
        format!("{t}\t203.0.113.7\tGET\t{path}\tHTTP/1.1\t200\t512").into_bytes()
    }

    /// One poll over `rows` (in the query's order): the rows handed out, and the cursor.
    fn poll(
        seen: &mut HashMap<u64, (i64, u32)>,
        cursor: Option<i64>,
        overlap: i64,
        rows: &[Vec<u8>],
    ) -> (Vec<Vec<u8>>, Option<i64>) {
        let mut dedup = Dedup::new(seen, cursor, overlap);
        let new = rows
            .iter()
            .filter(|r| matches!(dedup.admit(r), Admitted::New { .. }))
            .cloned()
            .collect();
        let newest = dedup.newest;
        // As `poll_inner` does at the end of a poll.
        if let Some(c) = newest {
            seen.retain(|_, (t, _)| *t >= c - overlap);
        }
        (new, newest)
    }

    #[test]
    fn rows_resent_in_the_overlap_are_dropped_and_old_rows_forgotten() {
        let overlap = 30;
        let mut seen = HashMap::new();
        // A first poll over a long history: 100,000 rows, one a second, each path twice
        // (two identical requests in the same second are two requests).
        let history: Vec<Vec<u8>> = (0..100_000)
            .flat_map(|t| [row(t, &format!("/p{t}")), row(t, &format!("/p{t}"))])
            .collect();
        let mut dedup = Dedup::new(&mut seen, None, overlap);
        let mut most = 0;
        let mut new = 0;
        for r in &history {
            if matches!(dedup.admit(r), Admitted::New { .. }) {
                new += 1;
            }
            most = most.max(dedup.seen.len() + dedup.this_poll.len());
        }
        assert_eq!(new, 200_000, "identical rows are counted by multiplicity");
        // Old rows are not remembered while the poll runs: never more than the pruning
        // threshold (the overlap holds 62 rows), far below the 200,000 rows of the poll.
        assert!(most <= 2 * PRUNE_MIN, "remembered {most} rows at once");
        // A pruning at the very end keeps the overlap's rows.
        dedup.prune();
        let cursor = dedup.newest;
        assert_eq!(cursor, Some(99_999));
        seen.retain(|_, (t, _)| *t >= 99_999 - overlap);
        assert_eq!(seen.len(), 31, "one entry per distinct row of the overlap");

        // The next poll asks from cursor - overlap: the overlap's rows come again (still two
        // copies each, one row with a third copy inserted late), then new rows.
        let mut again: Vec<Vec<u8>> = Vec::new();
        for t in 99_969..100_000 {
            again.push(row(t, &format!("/p{t}")));
            again.push(row(t, &format!("/p{t}")));
            if t == 99_980 {
                again.push(row(t, "/p99980"));
                again.push(row(t, "/late"));
            }
        }
        again.push(row(100_001, "/next"));
        again.push(row(100_001, "/next"));
        let (new, cursor) = poll(&mut seen, cursor, overlap, &again);
        assert_eq!(
            new,
            vec![
                row(99_980, "/p99980"),
                row(99_980, "/late"),
                row(100_001, "/next"),
                row(100_001, "/next")
            ],
            "only the third copy, the late row and the new rows are new"
        );
        assert_eq!(cursor, Some(100_001));

        // The same poll again: nothing is new (the third copy is remembered too).
        let (new, _) = poll(&mut seen, cursor, overlap, &again[again.len() - 40..]);
        assert!(new.is_empty(), "{new:?}");
    }

    #[test]
    fn rows_without_a_time_are_never_forgotten() {
        let mut seen = HashMap::new();
        let odd = b"not-a-time\tx".to_vec();
        let mut rows = vec![odd.clone()];
        rows.extend((0..20_000).map(|t| row(t, "/")));
        let (new, _) = poll(&mut seen, None, 30, &rows);
        assert_eq!(new.len(), 20_001);
        let (new, _) = poll(&mut seen, Some(19_999), 30, &[odd]);
        assert!(new.is_empty());
    }
}
