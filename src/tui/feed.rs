//! The Events view's data: a bounded ring of live items (external requests and scan
//! observations) and the `/` filter over it.
//!
//! The ring is bounded so a flood of requests costs constant memory; the filtered index is kept
//! incrementally so a frame never scans the whole ring.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::model::Event;

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

/// One term of a filter. All terms must match (AND).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    /// `2xx`: statuses `200..=299`.
    StatusClass(u16),
    /// `404`.
    Status(u16),
    /// Case-insensitive substring of client, path or user agent (scans: target, tool, state,
    /// details). Stored lower-case.
    Text(String),
}

/// A parsed `/` filter. The empty filter matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    source: String,
    terms: Vec<Term>,
}

impl Filter {
    /// Parse whitespace-separated terms: `2xx`-style classes, three-digit statuses, or text.
    #[must_use]
    pub fn parse(text: &str) -> Filter {
        let terms = text
            .split_whitespace()
            .map(|t| {
                let b = t.as_bytes();
                if b.len() == 3
                    && (b'1'..=b'5').contains(&b[0])
                    && b[1..].eq_ignore_ascii_case(b"xx")
                {
                    Term::StatusClass(u16::from(b[0] - b'0'))
                } else if b.len() == 3 && b.iter().all(u8::is_ascii_digit) {
                    Term::Status(t.parse().unwrap_or(0))
                } else {
                    Term::Text(t.to_lowercase())
                }
            })
            .collect();
        Filter { source: text.trim().to_owned(), terms }
    }

    /// The text the filter was parsed from.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.source
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    #[must_use]
    pub fn matches(&self, event: &Event) -> bool {
        self.terms.iter().all(|t| term_matches(t, event))
    }
}

fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    if hay.is_ascii() && needle_lower.is_ascii() {
        let h = hay.as_bytes();
        let n = needle_lower.as_bytes();
        if n.is_empty() {
            return true;
        }
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(needle_lower)
}

fn term_matches(term: &Term, event: &Event) -> bool {
    match (term, event) {
        (Term::StatusClass(c), Event::Request(r)) => r.status / 100 == *c,
        (Term::Status(s), Event::Request(r)) => r.status == *s,
        (Term::StatusClass(_) | Term::Status(_), Event::Scan(_)) => false,
        (Term::Text(t), Event::Request(r)) => {
            let client = r.client.or(r.peer).map(|ip| ip.to_string()).unwrap_or_default();
            contains_ci(&client, t) || contains_ci(r.path(), t) || contains_ci(&r.user_agent, t)
        }
        (Term::Text(t), Event::Scan(s)) => {
            let addr = s.address.map(|ip| ip.to_string()).unwrap_or_default();
            contains_ci(&addr, t)
                || contains_ci(&s.hostname, t)
                || contains_ci(s.tool.as_str(), t)
                || contains_ci(s.state.label(s.scanner_state), t)
                || contains_ci(&s.details, t)
        }
    }
}

/// The bounded ring plus the sequence numbers of rows that pass the filter.
#[derive(Debug, Clone)]
pub struct Feed {
    rows: VecDeque<FeedRow>,
    capacity: usize,
    next_seq: u64,
    filter: Filter,
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
        if self.filter.matches(&event) {
            self.visible.push_back(seq);
        }
        self.rows.push_back(FeedRow { seq, event, other, external });
        seq
    }

    /// Replace the filter and rebuild the visible index.
    pub fn set_filter(&mut self, filter: Filter) {
        self.filter = filter;
        self.visible =
            self.rows.iter().filter(|r| self.filter.matches(&r.event)).map(|r| r.seq).collect();
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

    #[test]
    fn filter_terms() {
        let f = Filter::parse("2xx models");
        assert!(f.matches(&req(200, "/v1/models", "curl")));
        assert!(!f.matches(&req(404, "/v1/models", "curl")));
        assert!(!f.matches(&req(200, "/v1/chat", "curl")));
        assert!(Filter::parse("404").matches(&req(404, "/", "")));
        assert!(Filter::parse("CURL").matches(&req(404, "/", "curl/8")));
        assert!(Filter::parse("203.0.113").matches(&req(404, "/", "")));
        assert!(Filter::parse("").matches(&req(500, "/", "")));
        assert!(Filter::parse("6xx").matches(&req(500, "/6xx", "")));
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
