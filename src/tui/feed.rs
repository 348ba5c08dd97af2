//! The Events view's data: a bounded ring of live items (external requests and scan
//! observations) and the `/` filter over it.
//!
//! The ring is bounded so a flood of requests costs constant memory; the filtered index is kept
//! incrementally so a frame never scans the whole ring.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

pub use super::filter::Filter;
use super::filter::Subject;
use crate::model::snapshot::ActorClass;
use crate::model::{Event, Snapshot, SourceId};

/// Default ring capacity (rows).
pub const DEFAULT_CAPACITY: usize = 10_000;

/// One row of the feed. `seq` increases by one per pushed row and never repeats.
#[derive(Debug, Clone)]
pub struct FeedRow {
    pub seq: u64,
    /// The form shown (redacted unless revealed).
    pub event: Arc<Event>,
    /// The other form (as logged while redacted, and vice versa); the same `Arc` when the
    /// event holds no secret.
    pub other: Arc<Event>,
    pub external: bool,
}

/// What the feed knows about rows beyond the event itself, from the latest snapshot: the
/// service of each source and the class of each actor. Rebuilt per snapshot (never per line).
#[derive(Debug, Clone, Default)]
pub struct Labels {
    services: HashMap<SourceId, Arc<str>>,
    /// Source paths, for `file:line` in the event detail.
    paths: HashMap<SourceId, Arc<str>>,
    classes: HashMap<IpAddr, ActorClass>,
}

impl Labels {
    #[must_use]
    pub fn of(snapshot: &Snapshot) -> Labels {
        Labels {
            services: snapshot
                .sources
                .iter()
                .map(|s| (s.id, Arc::from(s.service.as_str())))
                .collect(),
            paths: snapshot.sources.iter().map(|s| (s.id, Arc::from(s.path.as_str()))).collect(),
            classes: snapshot.actors.iter().map(|a| (a.client, a.class)).collect(),
        }
    }

    /// The service of the event's source (empty when unknown).
    #[must_use]
    pub fn service(&self, event: &Event) -> &str {
        self.services.get(&source_of(event)).map_or("", |s| s)
    }

    /// The path of the event's source, if the snapshot lists it.
    #[must_use]
    pub fn path(&self, event: &Event) -> Option<&str> {
        self.paths.get(&source_of(event)).map(|s| &**s)
    }

    /// The client's actor class (requests from a known actor only).
    #[must_use]
    pub fn class(&self, event: &Event) -> Option<ActorClass> {
        match event {
            Event::Request(r) => r.client.and_then(|c| self.classes.get(&c).copied()),
            Event::Scan(_) => None,
        }
    }

    fn subject<'a>(&'a self, event: &'a Event) -> Subject<'a> {
        Subject { event, service: self.service(event), class: self.class(event) }
    }
}

fn source_of(event: &Event) -> SourceId {
    match event {
        Event::Request(r) => r.source,
        Event::Scan(s) => s.source,
    }
}

/// The bounded ring plus the sequence numbers of rows that pass the filter.
#[derive(Debug, Clone)]
pub struct Feed {
    rows: VecDeque<FeedRow>,
    capacity: usize,
    next_seq: u64,
    filter: Filter,
    labels: Labels,
    /// `seq`s of rows passing `filter`, ascending; trimmed with the ring.
    visible: VecDeque<u64>,
}

impl Default for Feed {
    fn default() -> Self {
        Feed::with_capacity(DEFAULT_CAPACITY)
    }
}

impl Feed {
    /// A feed holding at most `capacity` rows (at least one).
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Feed {
        let capacity = capacity.max(1);
        Feed {
            rows: VecDeque::with_capacity(capacity.min(4096)),
            capacity,
            next_seq: 0,
            filter: Filter::default(),
            labels: Labels::default(),
            visible: VecDeque::new(),
        }
    }

    /// Append a row with a single form, evicting the oldest when full. Returns its `seq`.
    pub fn push(&mut self, event: Arc<Event>, external: bool) -> u64 {
        let other = Arc::clone(&event);
        self.push_forms(event, other, external)
    }

    /// Swap every row's shown and other form (reveal / redact) and refilter.
    pub fn swap_forms(&mut self) {
        for row in &mut self.rows {
            std::mem::swap(&mut row.event, &mut row.other);
        }
        self.set_filter(self.filter.clone());
    }

    /// Append a row shown as `event` (the other form kept for reveal), evicting the oldest
    /// when full. Returns the new row's `seq`.
    pub fn push_forms(&mut self, event: Arc<Event>, other: Arc<Event>, external: bool) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.rows.len() == self.capacity {
            if let Some(old) = self.rows.pop_front() {
                if self.visible.front() == Some(&old.seq) {
                    self.visible.pop_front();
                }
            }
        }
        if self.filter.matches(&self.labels.subject(&event)) {
            self.visible.push_back(seq);
        }
        self.rows.push_back(FeedRow { seq, event, other, external });
        seq
    }

    /// Replace the filter and rebuild the visible index.
    pub fn set_filter(&mut self, filter: Filter) {
        self.filter = filter;
        self.refilter();
    }

    fn refilter(&mut self) {
        let (filter, labels) = (&self.filter, &self.labels);
        self.visible = self
            .rows
            .iter()
            .filter(|r| filter.matches(&labels.subject(&r.event)))
            .map(|r| r.seq)
            .collect();
    }

    /// New labels from a snapshot; rows are refiltered when the filter depends on them.
    pub fn set_labels(&mut self, labels: Labels) {
        self.labels = labels;
        if !self.filter.is_empty() && self.filter.uses_labels() {
            self.refilter();
        }
    }

    #[must_use]
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    #[must_use]
    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Total rows held (before filtering).
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rows passing the filter.
    #[must_use]
    pub fn visible_len(&self) -> usize {
        self.visible.len()
    }

    /// The `i`-th visible row (0 = oldest).
    #[must_use]
    pub fn visible_row(&self, i: usize) -> Option<&FeedRow> {
        let seq = *self.visible.get(i)?;
        self.get(seq)
    }

    /// Position in the visible list of the last row with `seq <= max_seq`.
    #[must_use]
    pub fn visible_index_at_or_before(&self, max_seq: u64) -> Option<usize> {
        let n = self.visible.partition_point(|&s| s <= max_seq);
        n.checked_sub(1)
    }

    /// The row with this `seq`, if still held.
    #[must_use]
    pub fn get(&self, seq: u64) -> Option<&FeedRow> {
        let front = self.rows.front()?.seq;
        let idx = usize::try_from(seq.checked_sub(front)?).ok()?;
        self.rows.get(idx)
    }

    /// The newest rows of one client (newest last), at most `limit`, for the actor detail.
    #[must_use]
    pub fn recent_for_client(&self, client: std::net::IpAddr, limit: usize) -> Vec<&FeedRow> {
        let mut out: Vec<&FeedRow> = self
            .rows
            .iter()
            .rev()
            .filter(|r| matches!(&*r.event, Event::Request(q) if q.client == Some(client)))
            .take(limit)
            .collect();
        out.reverse();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Request;

    fn req(status: u16, path: &str, ua: &str) -> Arc<Event> {
        Arc::new(Event::Request(Request {
            status,
            target: path.to_owned(),
            user_agent: ua.to_owned(),
            client: "203.0.113.7".parse().ok(),
            ..Request::default()
        }))
    }

    fn actor(client: &str, class: ActorClass) -> crate::model::snapshot::ActorSummary {
        crate::model::snapshot::ActorSummary {
            client: client.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            class,
            scanner: None,
            first_seen: chrono::DateTime::UNIX_EPOCH,
            last_seen: chrono::DateTime::UNIX_EPOCH,
            requests: 1,
            successes: 1,
            bytes: 0,
            services: Vec::new(),
            top_paths: Vec::new(),
            user_agents: Vec::new(),
            statuses: std::collections::BTreeMap::new(),
            detail_dropped: false,
        }
    }

    #[test]
    fn a_class_filter_follows_the_snapshots_labels() {
        let mut feed = Feed::with_capacity(10);
        feed.set_filter(Filter::parse("class:scanner"));
        feed.push(req(404, "/.git/config", "Shodan"), true);
        // The client is not an actor of any snapshot yet: no class, no match.
        assert_eq!(feed.visible_len(), 0);
        let snap = Snapshot {
            actors: vec![actor("203.0.113.7", ActorClass::Scanner)],
            ..Snapshot::default()
        };
        feed.set_labels(Labels::of(&snap));
        assert_eq!(feed.visible_len(), 1, "refiltered when the labels changed");
        let row = feed.visible_row(0).map(|r| Arc::clone(&r.event));
        assert_eq!(row.and_then(|e| feed.labels().class(&e)), Some(ActorClass::Scanner));
        feed.set_filter(Filter::parse("-class:scanner"));
        assert_eq!(feed.visible_len(), 0);
    }

    #[test]
    fn ring_is_bounded_and_index_follows() {
        let mut feed = Feed::with_capacity(3);
        feed.set_filter(Filter::parse("2xx"));
        for i in 0..5u16 {
            feed.push(req(if i % 2 == 0 { 200 } else { 404 }, "/", ""), true);
        }
        assert_eq!(feed.len(), 3);
        // seqs 2,3,4 held; 2 and 4 are 200s.
        assert_eq!(feed.visible_len(), 2);
        assert_eq!(feed.visible_row(0).map(|r| r.seq), Some(2));
        assert_eq!(feed.visible_row(1).map(|r| r.seq), Some(4));
        assert!(feed.get(1).is_none());
        assert_eq!(feed.visible_index_at_or_before(3), Some(0));
        feed.set_filter(Filter::default());
        assert_eq!(feed.visible_len(), 3);
    }
}
