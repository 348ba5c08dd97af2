//! The engine task: owns the `Correlator`, applies decoded batches in arrival order, turns
//! follower incidents into `Gap` records, and publishes coalesced snapshots.
//!
//! Incidents that are still going on (a failing source, a silent source) are kept here as open
//! gaps (`to = None`) and added to every published snapshot; they are recorded in the
//! correlator once they end, or at shutdown with no end.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::config::Vantage;
use crate::correlate::{ClientFilter, Correlator};
use crate::ingest::scan::clock::ScanRun;
use crate::model::snapshot::{DuplicateBy, Gap, GapKind};
use crate::model::{Event, Snapshot, SourceId, SourceKind};

use super::runner::{Batch, Msg, ReadToEnd, Stop};
use super::session::{Clock, LiveItem, SessionOptions, SessionStatus};
use super::tailer::Incident;

/// Capacity of the live-item broadcast (receivers that fall further behind lag).
const ITEMS_CAPACITY: usize = 4096;
/// How long shutdown waits for followers to hand over what they already read.
const DRAIN_DEADLINE: Duration = Duration::from_secs(5);
/// Above this many actors, the keyed aggregates (which sort every actor) are recomputed at
/// most every `GROUPS_EVERY`; publications in between carry the previous ones.
const GROUPS_CHEAP_ACTORS: u64 = 50_000;
const GROUPS_EVERY: Duration = Duration::from_secs(5);
/// Once backfilled, the detail older than the horizon is folded as soon as this many
/// per-timestamp cells are held, not only on the 1 s tick: a flood with a new second on every
/// line (hundreds of thousands a second) would otherwise hold a tick's worth of them.
const DETAIL_CELLS_COMPACT: usize = 20_000;

/// The receiving ends a session hands out.
pub(crate) struct Outputs {
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    pub items: broadcast::Sender<LiveItem>,
    pub status: watch::Receiver<SessionStatus>,
}

/// What the engine tracks per source beyond the correlator's health counters.
#[derive(Debug)]
struct Tracked {
    path: String,
    vantage: Vantage,
    /// Access logs only are checked for silence (a finished scan is quiet by nature).
    access: bool,
    /// Bytes arrived after the backfill: the source is live, so its silence means something.
    live: bool,
    /// When bytes last arrived (monotonic) — silence detection.
    last_bytes: Option<Instant>,
    ended: bool,
    /// Lines at the previous tick (rate).
    lines_at_tick: u64,
    lines: u64,
    last_event: Option<DateTime<Utc>>,
    silent: Option<Gap>,
    /// Set once the source was rotated away from its path (its number among them).
    generation: Option<u32>,
}

/// A scan source found to be another copy of a counted one.
#[derive(Debug)]
struct CopyOf {
    /// The counted source's path (`duplicate_of`).
    path: String,
    by: DuplicateBy,
    of: SourceId,
}

pub(crate) struct Engine {
    correlator: Correlator,
    options: SessionOptions,
    clock: Clock,
    filter: ClientFilter,
    stop: Arc<Stop>,
    started: Instant,
    snapshots: watch::Sender<Arc<Snapshot>>,
    items: broadcast::Sender<LiveItem>,
    status_tx: watch::Sender<SessionStatus>,
    status: SessionStatus,
    sources: Vec<Tracked>,
    /// Failing sources or patterns: (source, path) → open gap.
    errors: BTreeMap<(Option<SourceId>, String), Gap>,
    /// Generations rotated away so far, per path as registered.
    generations: BTreeMap<String, u32>,
    /// File followers still running (shutdown waits for them; stdin is not waited for).
    followers: usize,
    /// Followers (stdin included) that have not read their initial content yet.
    waiting_catch_up: usize,
    dirty: bool,
    last_publish: Instant,
    last_tick: Instant,
    /// Scan sources and the runs they named, in the order they were first read.
    scan_runs: Vec<(SourceId, Vec<ScanRun>)>,
    /// Scan sources holding a run an earlier-read source holds, or the same content as one
    /// (the value: that source's path, and which): their observations are not applied. Live,
    /// the copy read first is kept.
    copies: BTreeMap<SourceId, CopyOf>,
    /// Scan sources whose observations are applied: read to their end and found no copy
    /// (by content; a copy by run found later still stops its observations).
    counted: std::collections::BTreeSet<SourceId>,
    /// Scan sources read to their end at least once: the SHA-256 of what was read (`None`:
    /// not read from the first byte, content unknown). See `judge_contents`.
    contents: BTreeMap<SourceId, Option<String>>,
    /// Scan observations not applied (yet): of sources not read to their end yet, and of
    /// copies by content (applied if the copy or its original changes and they differ).
    held: BTreeMap<SourceId, Vec<Event>>,
    /// The keyed aggregates last computed, and when (see `GROUPS_EVERY`).
    groups: Option<(Instant, Vec<crate::model::snapshot::ActorGroups>)>,
    /// How long the last publication took to build: with millions of actors a snapshot
    /// costs tens of milliseconds, and publications are spaced so that building them takes
    /// at most a fifth of the engine's time (the rest goes to applying what is read).
    publish_cost: Duration,
}

impl Engine {
    pub fn new(
        correlator: Correlator,
        filter: ClientFilter,
        options: SessionOptions,
        stop: Arc<Stop>,
        (followers, file_followers): (usize, usize),
    ) -> (Engine, Outputs) {
        let clock = Arc::clone(&options.clock);
        let first = Arc::new(correlator.snapshot(clock()));
        let (snapshots, snapshots_rx) = watch::channel(first);
        let (items, _) = broadcast::channel(ITEMS_CAPACITY);
        let status = SessionStatus { backfilled: followers == 0, ..SessionStatus::default() };
        let (status_tx, status_rx) = watch::channel(status);
        let now = Instant::now();
        let mut engine = Engine {
            correlator,
            clock,
            filter,
            stop,
            started: now,
            snapshots,
            items: items.clone(),
            status_tx,
            status,
            sources: Vec::new(),
            errors: BTreeMap::new(),
            generations: BTreeMap::new(),
            followers: file_followers,
            waiting_catch_up: followers,
            dirty: true,
            last_publish: now,
            last_tick: now,
            scan_runs: Vec::new(),
            copies: BTreeMap::new(),
            counted: std::collections::BTreeSet::new(),
            contents: BTreeMap::new(),
            held: BTreeMap::new(),
            groups: None,
            publish_cost: Duration::ZERO,
            options,
        };
        if engine.options.from_end {
            let at = (engine.clock)();
            engine.record(Gap {
                kind: GapKind::Restart,
                source: None,
                path: String::new(),
                from: at,
                to: Some(at),
                reason: "started with --from-end: content written before this moment was not read"
                    .to_owned(),
            });
        }
        let outputs = Outputs { snapshots: snapshots_rx, items, status: status_rx };
        (engine, outputs)
    }

    /// A user scanner file could not be loaded: the built-in list is used, and the failure
    /// stays visible as a source error.
    pub fn scanner_file_failed(&mut self, reason: &str) {
        let at = (self.clock)();
        self.record(Gap {
            kind: GapKind::SourceError,
            source: None,
            path: String::new(),
            from: at,
            to: None,
            reason: format!("scanner list not loaded (built-in list used): {reason}"),
        });
    }

    /// The `[enrich]` files could not be loaded: the session runs without enrichment, and
    /// says so as a source error (the CLI refuses such a config before starting).
    pub fn enrichment_failed(&mut self, reason: &str) {
        let at = (self.clock)();
        self.record(Gap {
            kind: GapKind::SourceError,
            source: None,
            path: String::new(),
            from: at,
            to: None,
            reason: format!("enrichment not loaded (actors shown without it): {reason}"),
        });
    }

    pub async fn run(
        mut self,
        mut rx: mpsc::Receiver<Msg>,
        mut stop: oneshot::Receiver<()>,
    ) -> Arc<Snapshot> {
        let mut tick = tokio::time::interval(self.options.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut input_open = true;
        loop {
            let publish_at = self.last_publish + self.publish_spacing();
            tokio::select! {
                biased;
                _ = &mut stop => break,
                msg = rx.recv(), if input_open => match msg {
                    Some(msg) => {
                        self.handle(msg);
                        // Drain what is already queued before considering a publication.
                        for _ in 0..16 {
                            match rx.try_recv() {
                                Ok(msg) => self.handle(msg),
                                Err(_) => break,
                            }
                        }
                    }
                    None => input_open = false,
                },
                () = tokio::time::sleep_until(publish_at.into()), if self.dirty => {}
                _ = tick.tick() => self.on_tick(),
            }
            if self.dirty && Instant::now() >= self.last_publish + self.publish_spacing() {
                self.publish();
            }
        }
        self.finish(rx).await
    }

    /// Stop the followers, apply what they hand over, close the books.
    async fn finish(mut self, mut rx: mpsc::Receiver<Msg>) -> Arc<Snapshot> {
        self.stop.set();
        let deadline = tokio::time::Instant::now() + DRAIN_DEADLINE;
        while self.followers > 0 {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(msg)) => self.handle(msg),
                Ok(None) | Err(_) => break,
            }
        }
        while let Ok(msg) = rx.try_recv() {
            self.handle(msg);
        }
        self.release_unjudged();
        let open: Vec<Gap> = std::mem::take(&mut self.errors).into_values().collect();
        for gap in open {
            self.correlator.record_gap(gap);
        }
        let silent: Vec<Gap> = self.sources.iter_mut().filter_map(|s| s.silent.take()).collect();
        for gap in silent {
            self.correlator.record_gap(gap);
        }
        self.groups = None;
        self.publish();
        Arc::clone(&self.snapshots.borrow())
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Register { id, info } => {
                let path = info.path.clone();
                let vantage = info.vantage;
                let access = info.kind == SourceKind::Access;
                let got = self.correlator.add_source(info);
                if got != id {
                    tracing::error!("source id mismatch: follower {id:?}, correlator {got:?}");
                }
                self.sources.push(Tracked {
                    path,
                    vantage,
                    access,
                    live: false,
                    last_bytes: None,
                    ended: false,
                    lines_at_tick: 0,
                    lines: 0,
                    last_event: None,
                    silent: None,
                    generation: None,
                });
                self.status.sources = self.sources.len();
            }
            Msg::Batch(batch) => self.apply(batch),
            Msg::Hashed { stream, sha256 } => {
                if (stream.0 as usize) < self.sources.len() {
                    self.correlator.source_mut(stream).sha256 = Some(sha256);
                    self.dirty = true;
                }
            }
            Msg::Incident(incident) => self.incident(incident),
            Msg::Database { stream, evidence } => {
                if (stream.0 as usize) < self.sources.len() {
                    self.correlator.source_mut(stream).database = Some(*evidence);
                }
            }
            Msg::Ended(id) => {
                if let Some(s) = self.sources.get_mut(id.0 as usize) {
                    s.ended = true;
                }
            }
            Msg::CaughtUp => {
                self.waiting_catch_up = self.waiting_catch_up.saturating_sub(1);
                if self.waiting_catch_up == 0 && !self.status.backfilled {
                    self.status.backfilled = true;
                    self.publish();
                }
            }
            Msg::Stopped => {
                self.followers = self.followers.saturating_sub(1);
                // A follower that stops before catching up will never catch up.
                if !self.stop.is_set() {
                    tracing::debug!("a follower stopped");
                }
            }
        }
        self.dirty = true;
    }

    /// Recognise scan sources that are copies of a run an earlier source holds (nmap XML and
    /// `-oG` of one `-oA` run), before their observations are applied, and drop those.
    fn drop_copies(&mut self, batch: &mut Batch) {
        for update in &batch.sources {
            let known = self.scan_runs.iter().any(|(id, _)| *id == update.id);
            if update.runs.is_empty() || known || self.copies.contains_key(&update.id) {
                continue;
            }
            let same = |runs: &[ScanRun]| {
                runs.len() == update.runs.len()
                    && runs.iter().zip(&update.runs).all(|(a, b)| a.same_run(b))
            };
            match self.scan_runs.iter().find(|(_, runs)| same(runs)) {
                Some((kept, _)) => {
                    let (of, by) = (*kept, DuplicateBy::Run);
                    let path = self.sources.get(of.0 as usize).map(|t| t.path.clone());
                    self.copies
                        .insert(update.id, CopyOf { path: path.unwrap_or_default(), by, of });
                    self.held.remove(&update.id);
                    self.counted.remove(&update.id);
                }
                None => self.scan_runs.push((update.id, update.runs.clone())),
            }
        }
        if !self.copies.is_empty() {
            let copies = &self.copies;
            batch.events.retain(|e| {
                !matches!(e, Event::Scan(s)
                    if copies.get(&s.source).is_some_and(|c| c.by == DuplicateBy::Run))
            });
        }
    }

    /// Recognise scan sources whose content is identical to an earlier-read source's (one
    /// httpx or nuclei JSONL copied under two names: formats that name no run), as `analyze`
    /// does with the same SHA-256. Content is known once a source is read to its end
    /// (`SourceUpdate::at_end`, normally in the batch its file is first read in), so a scan
    /// source's observations are held until then; a copy's stay held. Of two identical
    /// files the one read to its end first is kept. A source once counted stays counted
    /// (what was applied cannot be taken back); a copy whose content, or its original's,
    /// changes is judged again, and counted with what it held when they now differ.
    fn judge_contents(&mut self, batch: &mut Batch) {
        let mut judged = Vec::new();
        for update in &batch.sources {
            let Some(end) = &update.at_end else { continue };
            let sha = match end {
                ReadToEnd::Hashed(sha) => Some(sha.clone()),
                ReadToEnd::Unhashed => None,
            };
            self.contents.insert(update.id, sha);
            judged.push(update.id);
        }
        if !judged.is_empty() {
            // Copies by content whose original now differs are judged again.
            let contents = &self.contents;
            judged.extend(self.copies.iter().filter_map(|(id, c)| {
                let stale = c.by == DuplicateBy::Content && contents.get(&c.of) != contents.get(id);
                stale.then_some(*id)
            }));
            judged.sort_unstable();
            judged.dedup();
            for id in judged {
                self.judge_content(id, batch);
            }
        }
        // Observations of sources not counted (yet) are held; a copy by run's are dropped.
        // (Access batches, with no scan observation, are not rebuilt.)
        let counted = &self.counted;
        if !batch.events.iter().any(|e| matches!(e, Event::Scan(s) if !counted.contains(&s.source)))
        {
            return;
        }
        for e in std::mem::take(&mut batch.events) {
            match &e {
                Event::Scan(s) if !self.counted.contains(&s.source) => {
                    if self.copies.get(&s.source).is_none_or(|c| c.by == DuplicateBy::Content) {
                        self.held.entry(s.source).or_default().push(e);
                    }
                }
                _ => batch.events.push(e),
            }
        }
    }

    /// Source `id` was read to its end (or its original changed): a copy by content of the
    /// counted source with the same SHA-256, if any, else counted (what it held is applied
    /// with `batch`). A source counted stays counted, a copy by run stays one.
    fn judge_content(&mut self, id: SourceId, batch: &mut Batch) {
        if self.counted.contains(&id)
            || self.copies.get(&id).is_some_and(|c| c.by == DuplicateBy::Run)
        {
            return;
        }
        let sha = self.contents.get(&id).cloned().flatten();
        let kept = sha.as_ref().and_then(|sha| {
            self.counted
                .iter()
                .copied()
                .find(|k| self.contents.get(k).is_some_and(|c| c.as_ref() == Some(sha)))
        });
        if let Some(of) = kept {
            let path = self.sources.get(of.0 as usize).map(|t| t.path.clone());
            let by = DuplicateBy::Content;
            self.copies.insert(id, CopyOf { path: path.unwrap_or_default(), by, of });
        } else {
            self.copies.remove(&id);
            self.counted.insert(id);
            if let Some(events) = self.held.remove(&id) {
                batch.events.extend(events);
            }
        }
        let copy = self.copies.get(&id);
        let h = self.correlator.source_mut(id);
        h.duplicate_of = copy.map(|c| c.path.clone());
        h.duplicate_by = copy.map(|c| c.by);
    }

    /// At the end: scan sources never read to their end (a read error, a stop that cut a
    /// backlog short) could not be compared by content; what they held is counted, as
    /// `analyze` counts a file it reads.
    fn release_unjudged(&mut self) {
        let unjudged: Vec<SourceId> =
            self.held.keys().filter(|id| !self.contents.contains_key(id)).copied().collect();
        let mut events = Vec::new();
        for id in unjudged {
            events.extend(self.held.remove(&id).unwrap_or_default());
            self.counted.insert(id);
        }
        if !events.is_empty() {
            self.status.events += events.len() as u64;
            self.correlator.apply(&events);
        }
    }

    fn apply(&mut self, mut batch: Batch) {
        self.drop_copies(&mut batch);
        self.judge_contents(&mut batch);
        self.status.events += batch.len();
        self.correlator.apply(&batch.events);
        for (source, per_minute) in &batch.internal {
            self.correlator.apply_internal_counts(*source, per_minute);
        }
        for &(source, n) in &batch.unattributed {
            self.correlator.apply_unattributed(source, n);
        }
        self.status.batches += 1;
        if self.status.backfilled && self.correlator.detail_cells() > DETAIL_CELLS_COMPACT {
            self.compact_from(self.sources.iter().filter_map(|s| s.last_event).max());
        }
        // Cheap (a lock and a wake-up): lets callers measure when events are applied.
        self.status_tx.send_replace(self.status);
        if self.items.receiver_count() > 0 {
            for event in batch.events {
                let external = self.is_external(&event);
                let _ = self.items.send(LiveItem::Event { event: Arc::new(event), external });
            }
        }
        let now = Instant::now();
        for update in batch.sources {
            let id = update.id;
            let Some(live) = self.sources.get_mut(id.0 as usize) else { continue };
            live.lines = update.stats.lines;
            live.last_event = update.stats.last_event;
            let resumed = if update.bytes > 0 {
                live.last_bytes = Some(now);
                live.live |= self.status.backfilled;
                live.silent.take()
            } else {
                None
            };
            let h = self.correlator.source_mut(id);
            h.lines = update.stats.lines;
            h.events = update.stats.events;
            h.malformed = update.stats.malformed;
            h.oversized = update.stats.oversized;
            h.malformed_samples = update.stats.malformed_samples;
            h.first_event = update.stats.first_event;
            h.last_event = update.stats.last_event;
            h.zone_assumed = update.stats.zone_assumed;
            h.waf_actions.clone_from(&update.stats.waf_actions);
            h.duplicate_of = self.copies.get(&id).map(|c| c.path.clone());
            h.duplicate_by = self.copies.get(&id).map(|c| c.by);
            update.format.clone_into(&mut h.format);
            h.incomplete = update.incomplete;
            if let Some(mut gap) = resumed {
                gap.to = Some((self.clock)());
                self.record(gap);
            }
        }
    }

    fn is_external(&self, event: &Event) -> bool {
        match event {
            Event::Request(r) => r.client.is_some_and(|c| self.filter.is_external(c)),
            Event::Scan(s) => self
                .sources
                .get(s.source.0 as usize)
                .is_some_and(|l| l.vantage == Vantage::External),
        }
    }

    fn incident(&mut self, incident: Incident) {
        let at = (self.clock)();
        match incident {
            Incident::Rotated { stream, from, to } => {
                self.correlator.source_mut(stream).rotations += 1;
                self.name_generation(stream);
                let reason = match to {
                    Some(to) => {
                        format!("renamed to {}; read until quiet, then closed", to.display())
                    }
                    None => "renamed out of the pattern or deleted; read until quiet, then closed"
                        .to_owned(),
                };
                self.record(Gap {
                    kind: GapKind::Rotated,
                    source: Some(stream),
                    path: from.to_string_lossy().into_owned(),
                    from: at,
                    to: Some(at),
                    reason,
                });
            }
            Incident::Truncated { stream, path, read, size } => {
                self.correlator.source_mut(stream).truncations += 1;
                self.name_generation(stream);
                self.record(Gap {
                    kind: GapKind::Truncated,
                    source: Some(stream),
                    path: path.to_string_lossy().into_owned(),
                    from: at,
                    to: Some(at),
                    reason: format!(
                        "truncated after {read} bytes were read (now {size} bytes); bytes written \
                         between the last read and the truncation are lost unless a copy appears"
                    ),
                });
            }
            Incident::Recognized { stream, path, extra } => {
                tracing::info!(
                    "{} holds content already read from source {} ({extra} new bytes)",
                    path.display(),
                    stream.0
                );
            }
            Incident::Error { stream, path, reason } => {
                let path = path.to_string_lossy().into_owned();
                if let Some(id) = stream {
                    let h = self.correlator.source_mut(id);
                    if !h.errors.contains(&reason) {
                        h.errors.push(reason.clone());
                    }
                }
                let gap = Gap {
                    kind: GapKind::SourceError,
                    source: stream,
                    path: path.clone(),
                    from: at,
                    to: None,
                    reason,
                };
                let _ = self.items.send(LiveItem::Incident(gap.clone()));
                self.errors.insert((stream, path), gap);
            }
            Incident::LiveOnly { stream, path, copy, from, to, first_line, lost_before, bytes } => {
                let reason = live_only_reason(&copy, (from, to), first_line, lost_before, &bytes);
                self.record(Gap {
                    kind: GapKind::LiveOnly,
                    source: Some(stream),
                    path: path.to_string_lossy().into_owned(),
                    from: at,
                    to: Some(at),
                    reason,
                });
            }
            Incident::Unread { stream, path, read, size } => {
                let reason = format!(
                    "watch stopped with {} bytes of this file unread (bytes {read}-{size}): \
                     they are not in this analysis",
                    size - read
                );
                self.record_missing(stream, &path, at, reason);
            }
            Incident::Missed { stream, path, reason } => {
                self.record_missing(stream, &path, at, reason);
            }
            Incident::Recovered { stream, path } => {
                let key = (stream, path.to_string_lossy().into_owned());
                if let Some(mut gap) = self.errors.remove(&key) {
                    gap.to = Some(at);
                    self.record(gap);
                }
            }
        }
    }

    /// Evidence of `stream` known to be missing from the result, found at `at`: a closed
    /// `source_error` gap.
    fn record_missing(
        &mut self,
        stream: SourceId,
        path: &std::path::Path,
        at: DateTime<Utc>,
        reason: String,
    ) {
        self.record(Gap {
            kind: GapKind::SourceError,
            source: Some(stream),
            path: path.to_string_lossy().into_owned(),
            from: at,
            to: Some(at),
            reason,
        });
    }

    /// Source `stream` no longer is what its path names (renamed away, or its content
    /// truncated): it becomes `PATH (rotated N)`, N counting the generations rotated away from
    /// that path, so every generation keeps a distinct name (as `analyze` names each file).
    fn name_generation(&mut self, stream: SourceId) {
        let Some(tracked) = self.sources.get_mut(stream.0 as usize) else { return };
        if tracked.generation.is_some() {
            return;
        }
        let n = self.generations.entry(tracked.path.clone()).or_insert(0);
        *n += 1;
        tracked.generation = Some(*n);
        let name = format!("{} (rotated {n})", tracked.path);
        self.correlator.source_mut(stream).path.clone_from(&name);
        tracked.path = name;
        self.dirty = true;
    }

    /// Record a finished gap and tell the displays.
    fn record(&mut self, gap: Gap) {
        let _ = self.items.send(LiveItem::Incident(gap.clone()));
        self.correlator.record_gap(gap);
        self.dirty = true;
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        self.status.behind_bytes = self.stop.behind();
        let dt = now.saturating_duration_since(self.last_tick).as_secs_f64();
        self.last_tick = now;
        for (i, s) in self.sources.iter_mut().enumerate() {
            let rate = if dt > 0.0 { (s.lines - s.lines_at_tick) as f64 / dt } else { 0.0 };
            s.lines_at_tick = s.lines;
            self.correlator.source_mut(SourceId(i as u32)).lines_per_sec = rate;
        }
        if self.status.backfilled {
            self.check_silence(now);
            self.compact();
        }
        self.dirty = true;
    }

    /// Bound live memory: fold detail older than `detail_horizon` behind the newest event.
    /// Only after the backfill, when every scan file that existed at start has been read.
    fn compact(&mut self) {
        let latest = self.correlator.latest_event();
        self.compact_from(latest);
    }

    /// [`Engine::compact`] with the newest event time given (the sources' latest event:
    /// cheaper than asking the correlator, which looks at every actor).
    fn compact_from(&mut self, latest: Option<DateTime<Utc>>) {
        let Ok(horizon) = chrono::Duration::from_std(self.options.detail_horizon) else { return };
        if let Some(latest) = latest
            && let Some(h) = latest.checked_sub_signed(horizon)
        {
            self.correlator.compact_before(h);
        }
    }

    /// Open a `Silent` gap for a source quiet for `silence_after` while another one was not.
    fn check_silence(&mut self, now: Instant) {
        let after = self.options.silence_after;
        let recent =
            |t: Option<Instant>| t.is_some_and(|t| now.saturating_duration_since(t) < after);
        let active = self.sources.iter().filter(|s| recent(s.last_bytes)).count();
        if active == 0 {
            return;
        }
        let wall = (self.clock)();
        for (i, s) in self.sources.iter_mut().enumerate() {
            let Some(last) = s.last_bytes else { continue };
            if !s.live || !s.access || s.ended || s.silent.is_some() || recent(Some(last)) {
                continue;
            }
            let quiet = chrono::Duration::from_std(now.saturating_duration_since(last))
                .unwrap_or_else(|_| chrono::Duration::zero());
            let gap = Gap {
                kind: GapKind::Silent,
                source: Some(SourceId(i as u32)),
                path: s.path.clone(),
                from: wall - quiet,
                to: None,
                reason: format!(
                    "no new bytes for {} s while other sources kept receiving data",
                    after.as_secs()
                ),
            };
            let _ = self.items.send(LiveItem::Incident(gap.clone()));
            s.silent = Some(gap);
        }
    }

    /// The least time between two publications while events keep arriving.
    fn publish_spacing(&self) -> Duration {
        self.options.publish_every.max(self.publish_cost * 4)
    }

    fn publish(&mut self) {
        let started = Instant::now();
        let as_of = (self.clock)();
        let mut snapshot = self.correlator.snapshot_without_groups(as_of);
        let now = Instant::now();
        match &self.groups {
            Some((at, groups))
                if snapshot.actors_total > GROUPS_CHEAP_ACTORS
                    && now.saturating_duration_since(*at) < GROUPS_EVERY =>
            {
                snapshot.actor_groups.clone_from(groups);
            }
            _ => {
                snapshot.actor_groups = self.correlator.actor_groups();
                self.groups = Some((now, snapshot.actor_groups.clone()));
            }
        }
        self.status.behind_bytes = self.stop.behind();
        snapshot.stats.elapsed_ms = self.started.elapsed().as_millis() as u64;
        for (i, s) in self.sources.iter().enumerate() {
            if let Some(h) = snapshot.sources.get_mut(i) {
                h.lag_secs = s.last_event.map(|t| (as_of - t).num_milliseconds() as f64 / 1000.0);
            }
        }
        let open: Vec<Gap> = self.errors.values().cloned().collect();
        crate::correlate::coverage::explain_unmatched(&mut snapshot, &open);
        snapshot.gaps.extend(open);
        snapshot.gaps.extend(self.sources.iter().filter_map(|s| s.silent.clone()));
        // Status first: a reader woken by the snapshot sees a status at least as new.
        self.status_tx.send_replace(self.status);
        self.snapshots.send_replace(Arc::new(snapshot));
        self.dirty = false;
        self.last_publish = Instant::now();
        self.publish_cost = self.last_publish.saturating_duration_since(started);
    }
}

/// Lines of a `LiveOnly` gap quoted in its reason (the rest are counted).
const LIVE_ONLY_QUOTED: usize = 32;

/// The reason of a `LiveOnly` gap: which lines, where they were, and (quoted, escaped) what
/// they said, since no file holds them any more.
fn live_only_reason(
    copy: &std::path::Path,
    (from, to): (u64, u64),
    first_line: u64,
    lost_before: u64,
    bytes: &[u8],
) -> String {
    use std::fmt::Write as _;
    // Lines end as the parsers end them: LF, or CR in a CR-only file.
    let end = crate::ingest::line_end_of(bytes).unwrap_or(b'\n');
    let lines: Vec<&[u8]> =
        bytes.split_inclusive(|b| *b == end).filter(|l| !l.is_empty()).collect();
    let n = lines.len() as u64;
    let last = first_line + n.saturating_sub(1);
    let mut out = format!(
        "{n} line(s) read live (lines {first_line}-{last} of this source, bytes {from}-{to}) \
         are not in its rotated copy {}: copytruncate lost them between its copy and its \
         truncation, so they exist only in this record",
        copy.display()
    );
    if lost_before > 0 {
        let _ = write!(
            out,
            " ({lost_before} bytes before them were lost the same way but are not kept)"
        );
    }
    out.push_str(": ");
    for (i, line) in lines.iter().take(LIVE_ONLY_QUOTED).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let text = String::from_utf8_lossy(line);
        let _ = write!(out, "{:?}", text.trim_end_matches(['\n', '\r']));
    }
    if lines.len() > LIVE_ONLY_QUOTED {
        let _ = write!(out, " and {} more", lines.len() - LIVE_ONLY_QUOTED);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::live_only_reason;

    #[test]
    fn a_live_only_reason_counts_and_quotes_lines_as_the_parsers_split_them() {
        let copy = std::path::Path::new("access.log.1");
        for (bytes, end) in [(&b"a 1\nb 2\r\nc 3\n"[..], "LF"), (&b"a 1\rb 2\rc 3\r"[..], "CR")] {
            let reason = live_only_reason(copy, (100, 113), 81, 0, bytes);
            assert!(
                reason
                    .starts_with("3 line(s) read live (lines 81-83 of this source, bytes 100-113)"),
                "{end}: {reason}"
            );
            assert!(reason.ends_with(r#": "a 1", "b 2", "c 3""#), "{end}: {reason}");
        }
    }
}
