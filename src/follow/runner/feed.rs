//! The decoding sink between a tailer and the engine: bytes → `Decoder` → batches.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::PoisonError;

use crate::correlate::{ClientFilter, SourceInfo};
use crate::ingest::access::{AccessFormat, ParseOptions};
use crate::ingest::decoder::{Decoder, DecoderOptions, DetectedFormat, Visit};
use crate::ingest::scan::{ScanFormat, ScanOptions};
use crate::ingest::{SourceStats, as_lf, line_end_of};
use crate::model::{Event, Request, SourceId, SourceKind};

use super::super::identity::FileId;
use super::super::tailer::{Incident, OpenReason, TailSink};
use super::{BATCH_EVENTS, Batch, Msg, ReadToEnd, Shared, SourceUpdate};
use crate::config::SourceSpec;

/// Requests decoded but not sent yet.
#[derive(Debug, Default)]
pub(super) struct Pending {
    events: Vec<Event>,
    internal: BTreeMap<(SourceId, i64), u64>,
    unattributed: BTreeMap<SourceId, u64>,
    /// Requests and observations since the last flush.
    count: usize,
}

impl Pending {
    /// Lend a request: external ones become events, the rest counters.
    fn visit(&mut self, filter: &ClientFilter, r: &Request) {
        self.count += 1;
        match r.client {
            // An unknown external client (junk X-Forwarded-For): the correlator counts it.
            None if r.forwarded_unknown => self.events.push(Event::Request(r.clone())),
            None if r.is_local_client() => {
                let minute = r.time.timestamp().div_euclid(60);
                *self.internal.entry((r.source, minute)).or_insert(0) += 1;
            }
            None => *self.unattributed.entry(r.source).or_insert(0) += 1,
            Some(ip) if !filter.is_external(ip) => {
                let minute = r.time.timestamp().div_euclid(60);
                *self.internal.entry((r.source, minute)).or_insert(0) += 1;
            }
            Some(_) => self.events.push(Event::Request(r.clone())),
        }
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty() && self.internal.is_empty() && self.unattributed.is_empty()
    }
}

/// A decoding sink: tailer bytes → decoder → batched events.
pub(super) struct Feed<'a> {
    /// Index of the follower (its spec) this sink belongs to.
    follower: usize,
    shared: &'a Shared,
    spec: &'a SourceSpec,
    /// Streams being read: decoder and bytes fed since the last flush.
    decoders: HashMap<SourceId, (Decoder, u64)>,
    /// Counters of ended streams (their decoders, with line buffers, are dropped). A stream
    /// that gets bytes again (a closed file found grown) restarts a decoder on top of these;
    /// its line numbers then restart at 1.
    ended: HashMap<SourceId, SourceStats>,
    /// Counters carried over for streams revived that way.
    base: HashMap<SourceId, SourceStats>,
    /// Each stream's line end (`ingest::line_end_of`, as `analyze` decides it): one stream is
    /// one file's content, so a new generation or a truncated file decides again. Kept past
    /// `end` (a revived stream is the same content).
    line_ends: HashMap<SourceId, LineEnd>,
    pending: Pending,
    dirty: Vec<SourceId>,
    /// Scan streams read to their end since the last flush (`TailSink::read_to_end`).
    at_end: HashMap<SourceId, ReadToEnd>,
}

/// A stream's line end: decided from its first bytes holding one, checked once per read.
#[derive(Debug, Default, Clone, Copy)]
struct LineEnd {
    decided: Option<u8>,
    /// Undecided and the bytes so far ended with a CR, held back: the next byte tells a
    /// CRLF from a lone CR.
    held_cr: bool,
}

impl LineEnd {
    /// `bytes` as the decoder reads them: unchanged for a LF file, each CR a `\n` for a
    /// CR-only one. Until decided, a final CR is held back and put in front of the next bytes.
    fn apply<'b>(&mut self, bytes: &'b [u8]) -> std::borrow::Cow<'b, [u8]> {
        if let Some(end) = self.decided {
            return as_lf(end, bytes);
        }
        let joined = if std::mem::take(&mut self.held_cr) {
            std::borrow::Cow::Owned([b"\r", bytes].concat())
        } else {
            std::borrow::Cow::Borrowed(bytes)
        };
        self.decided = line_end_of(&joined);
        match self.decided {
            Some(end) => std::borrow::Cow::Owned(as_lf(end, &joined).into_owned()),
            // No LF, and a CR only as the last byte: hold it back.
            None => match joined.strip_suffix(b"\r") {
                Some(rest) => {
                    self.held_cr = true;
                    std::borrow::Cow::Owned(rest.to_vec())
                }
                None => joined,
            },
        }
    }
}

impl<'a> Feed<'a> {
    pub(super) fn new(follower: usize, shared: &'a Shared, spec: &'a SourceSpec) -> Self {
        Feed {
            follower,
            shared,
            spec,
            decoders: HashMap::new(),
            ended: HashMap::new(),
            base: HashMap::new(),
            line_ends: HashMap::new(),
            pending: Pending::default(),
            dirty: Vec::new(),
            at_end: HashMap::new(),
        }
    }

    fn decoder_options(&self, id: SourceId) -> DecoderOptions {
        let mut o = DecoderOptions::new(id, Some(self.spec.kind));
        o.access_format = self.spec.access_format;
        o.scan_format = self.spec.scan_format;
        o.access = ParseOptions {
            default_tz: self.shared.timezone,
            trusted_proxies: self.shared.trusted_proxies.clone(),
            fields: self.spec.fields.clone(),
            // The live view shows internal requests too: every field is read.
            light: None,
        };
        o.scan = ScanOptions { default_tz: self.shared.timezone };
        o
    }

    fn mark(&mut self, id: SourceId) {
        if !self.dirty.contains(&id) {
            self.dirty.push(id);
        }
    }

    /// Send what is pending (events and the counters of every source touched).
    pub(super) fn flush(&mut self) {
        if self.pending.is_empty() && self.dirty.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        self.pending.events.reserve(BATCH_EVENTS);
        let mut internal: Vec<(SourceId, Vec<(i64, u64)>)> = Vec::new();
        for ((id, minute), n) in pending.internal {
            match internal.last_mut() {
                Some((last, per_minute)) if *last == id => per_minute.push((minute, n)),
                _ => internal.push((id, vec![(minute, n)])),
            }
        }
        let mut batch = Batch {
            events: pending.events,
            internal,
            unattributed: pending.unattributed.into_iter().collect(),
            sources: Vec::with_capacity(self.dirty.len()),
        };
        for id in self.dirty.drain(..) {
            if let Some((decoder, bytes)) = self.decoders.get_mut(&id) {
                let stats = match self.base.get(&id) {
                    Some(base) => {
                        let mut total = base.clone();
                        total.merge(decoder.stats());
                        total
                    }
                    None => decoder.stats().clone(),
                };
                batch.sources.push(SourceUpdate {
                    id,
                    stats,
                    format: decoder.format().name(),
                    incomplete: decoder.scan_summary().is_some_and(|s| s.incomplete),
                    bytes: std::mem::take(bytes),
                    runs: decoder.scan_runs().to_vec(),
                    at_end: self.at_end.remove(&id),
                });
            }
        }
        self.shared.send(Msg::Batch(batch));
    }

    /// Idle moment (everything read): let sources still detecting their format decide from
    /// the complete lines they have, so a quiet live log is not held back.
    pub(super) fn settle(&mut self) {
        let filter = &self.shared.filter;
        let pending = &mut self.pending;
        for (id, (decoder, _)) in &mut self.decoders {
            if matches!(decoder.format(), DetectedFormat::Unknown) {
                let before = pending.count + pending.events.len();
                let mut scans = Vec::new();
                decoder.detect_now(&mut Visit::new(|r| pending.visit(filter, r), &mut scans));
                pending.count += scans.len();
                pending.events.append(&mut scans);
                if pending.count + pending.events.len() > before && !self.dirty.contains(id) {
                    self.dirty.push(*id);
                }
            }
        }
    }

    /// Requests counted per minute elsewhere (a database source's server): added to the
    /// internal counts like decoded internal requests.
    pub(super) fn internal_counts(&mut self, id: SourceId, per_minute: &[(i64, u64)]) {
        for &(minute, n) in per_minute {
            *self.pending.internal.entry((id, minute)).or_insert(0) += n;
            self.pending.count += n as usize;
        }
        if !per_minute.is_empty() {
            self.mark(id);
        }
    }

    pub(super) fn register(&mut self, path: &str) -> SourceId {
        let info = SourceInfo {
            path: path.to_owned(),
            kind: self.spec.kind,
            format: self
                .spec
                .access_format
                .map(AccessFormat::name)
                .or(self.spec.scan_format.map(ScanFormat::name))
                .unwrap_or("unknown")
                .to_owned(),
            service: self.spec.service.clone(),
            vantage: self.spec.vantage,
        };
        let id = {
            let mut next = self.shared.next_id.lock().unwrap_or_else(PoisonError::into_inner);
            let id = SourceId(*next);
            *next += 1;
            self.shared.send(Msg::Register { id, info });
            id
        };
        self.decoders.insert(id, (Decoder::new(self.decoder_options(id)), 0));
        id
    }
}

impl TailSink for Feed<'_> {
    fn open(&mut self, path: &Path, _reason: OpenReason) -> SourceId {
        self.register(&path.to_string_lossy())
    }

    fn data(&mut self, stream: SourceId, bytes: &[u8]) {
        if let Some(base) = self.ended.remove(&stream) {
            self.base.insert(stream, base);
            self.decoders.insert(stream, (Decoder::new(self.decoder_options(stream)), 0));
        }
        if let Some((decoder, n)) = self.decoders.get_mut(&stream) {
            let text = self.line_ends.entry(stream).or_default().apply(bytes);
            let (filter, pending) = (&self.shared.filter, &mut self.pending);
            let mut scans = Vec::new();
            decoder.feed(&text, &mut Visit::new(|r| pending.visit(filter, r), &mut scans));
            pending.count += scans.len();
            pending.events.append(&mut scans);
            *n += bytes.len() as u64;
            self.mark(stream);
            if self.pending.count >= BATCH_EVENTS {
                self.flush();
            }
        }
    }

    fn end(&mut self, stream: SourceId) {
        if let Some((decoder, _)) = self.decoders.get_mut(&stream) {
            let (filter, pending) = (&self.shared.filter, &mut self.pending);
            let mut scans = Vec::new();
            // A CR held back ends the last line.
            if let Some(held) = self.line_ends.get_mut(&stream).filter(|l| l.held_cr) {
                held.held_cr = false;
                decoder.feed(b"\r", &mut Visit::new(|r| pending.visit(filter, r), &mut scans));
            }
            decoder.finish(&mut Visit::new(|r| pending.visit(filter, r), &mut scans));
            pending.count += scans.len();
            pending.events.append(&mut scans);
            self.mark(stream);
        }
        self.flush();
        if let Some((decoder, _)) = self.decoders.remove(&stream) {
            let mut total = self.base.remove(&stream).unwrap_or_default();
            total.merge(decoder.stats());
            self.ended.insert(stream, total);
        }
        self.shared.send(Msg::Ended(stream));
    }

    fn incident(&mut self, incident: Incident) {
        self.flush();
        self.shared.send(Msg::Incident(incident));
    }

    fn hashed(&mut self, stream: SourceId, sha256: String) {
        self.shared.send(Msg::Hashed { stream, sha256 });
    }

    fn read_to_end(&mut self, stream: SourceId, sha256: Option<String>) {
        if self.spec.kind == SourceKind::Scan && self.decoders.contains_key(&stream) {
            let end = sha256.map_or(ReadToEnd::Unhashed, ReadToEnd::Hashed);
            self.at_end.insert(stream, end);
            self.mark(stream);
        }
    }

    fn claim(&mut self, id: FileId) -> bool {
        let scan = self.spec.kind == SourceKind::Scan;
        let mut claimed = self.shared.claimed.lock().unwrap_or_else(PoisonError::into_inner);
        *claimed.entry((scan, id)).or_insert(self.follower) == self.follower
    }

    fn release(&mut self, id: FileId) {
        let scan = self.spec.kind == SourceKind::Scan;
        let mut claimed = self.shared.claimed.lock().unwrap_or_else(PoisonError::into_inner);
        if claimed.get(&(scan, id)) == Some(&self.follower) {
            claimed.remove(&(scan, id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LineEnd;

    fn run(chunks: &[&[u8]]) -> (Vec<u8>, LineEnd) {
        let mut le = LineEnd::default();
        let out = chunks.iter().flat_map(|c| le.apply(c).into_owned()).collect();
        (out, le)
    }

    #[test]
    fn a_lf_file_is_passed_through_and_decided_on_its_first_line_end() {
        let (out, le) = run(&[b"no line end yet ", b"a\r\nb\rc\n", b"d\re\n"]);
        assert_eq!(out, b"no line end yet a\r\nb\rc\nd\re\n");
        assert_eq!(le.decided, Some(b'\n'));
    }

    #[test]
    fn a_cr_only_file_is_split_on_cr_even_when_a_read_ends_on_its_first_cr() {
        let (out, le) = run(&[b"a", b"b\r", b"c\rd", b"e\r"]);
        assert_eq!(out, b"ab\nc\nde\n");
        assert_eq!(le.decided, Some(b'\r'));
        // Half a CRLF at the end of a read: the LF that follows decides.
        let (out, le) = run(&[b"a\r", b"\nb\r\n"]);
        assert_eq!(out, b"a\r\nb\r\n");
        assert_eq!(le.decided, Some(b'\n'));
        // Still undecided: the CR is held back, nothing lost.
        let (out, le) = run(&[b"a\r"]);
        assert_eq!((out.as_slice(), le.held_cr, le.decided), (&b"a"[..], true, None));
    }
}
