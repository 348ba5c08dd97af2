//! Per-source driver: bytes in, normalized `Event`s and counters out.
//!
//! One `Decoder` per source. It is the single place where line splitting, format detection and
//! the format parsers meet, so `analyze` (batch), the follower (live) and `inspect` treat every
//! byte the same way. A decoder is pure: it never reads files or clocks itself.

use crate::ingest::access::{
    self, AccessFormat, AccessParser, LineOutcome, ParseOptions, TextBlock,
};
use crate::ingest::scan::{self, ScanFormat, ScanOptions, ScanParser, ScanSummary};
use crate::ingest::{LineSplitter, SourceStats};
use crate::model::{Event, Request, ScanObservation, SourceId, SourceKind};

/// Lines examined to detect an access format.
pub(crate) const DETECT_LINES: usize = 16;
/// Bytes examined to detect a scan format.
const DETECT_BYTES: usize = 8 * 1024;

/// What a source holds, as far as the decoder knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectedFormat {
    Access(AccessFormat),
    Scan(ScanFormat),
    /// Nothing matched (after enough input, or at end of input).
    Unknown,
}

impl DetectedFormat {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DetectedFormat::Access(f) => f.name(),
            DetectedFormat::Scan(f) => f.name(),
            DetectedFormat::Unknown => "unknown",
        }
    }
}

/// The decoder's settings for one source.
#[derive(Debug, Clone)]
pub struct DecoderOptions {
    pub source: SourceId,
    /// What the source is expected to carry (config decides); `None` = sniff both kinds.
    pub kind: Option<SourceKind>,
    pub access_format: Option<AccessFormat>,
    pub scan_format: Option<ScanFormat>,
    pub access: ParseOptions,
    pub scan: ScanOptions,
}

impl DecoderOptions {
    #[must_use]
    pub fn new(source: SourceId, kind: Option<SourceKind>) -> Self {
        DecoderOptions {
            source,
            kind,
            access_format: None,
            scan_format: None,
            access: ParseOptions::default(),
            scan: ScanOptions::default(),
        }
    }
}

#[derive(Debug)]
enum State {
    /// Buffering the head of the source until a format can be chosen.
    Detecting {
        head: Vec<u8>,
    },
    Access {
        splitter: LineSplitter,
        parser: Box<AccessParser>,
        scratch: Request,
    },
    Scan {
        parser: Box<ScanParser>,
        scratch: Vec<ScanObservation>,
        summary: Option<ScanSummary>,
        /// The bytes fed so far end inside a line (no trailing newline yet).
        unterminated: bool,
    },
    Unknown {
        splitter: LineSplitter,
    },
}

/// Where a decoder's output goes: every [`Decoder`] method that can produce output takes one.
///
/// Two sinks cover the callers: a `Vec<Event>` (each request cloned into an event; `inspect`,
/// tests) and [`Visit`] (requests lent to a closure, no per-line clone or allocation; the
/// batch pipeline and the follower). The decoder is generic over its sink, so the per-line call
/// is monomorphized and inlined, never a dynamic call.
pub trait DecodeSink {
    /// One parsed request, lent; its `source` and `line` are set.
    fn request(&mut self, r: &Request);
    /// One scan observation (`source` set by the scan parser).
    fn scan(&mut self, o: ScanObservation);
}

impl DecodeSink for Vec<Event> {
    fn request(&mut self, r: &Request) {
        self.push(Event::Request(r.clone()));
    }

    fn scan(&mut self, o: ScanObservation) {
        self.push(Event::Scan(o));
    }
}

/// A [`DecodeSink`] that lends requests to `on_request` and appends scan observations to
/// `scans` as events.
pub struct Visit<'a, F> {
    pub on_request: F,
    pub scans: &'a mut Vec<Event>,
}

impl<'a, F: FnMut(&Request)> Visit<'a, F> {
    pub fn new(on_request: F, scans: &'a mut Vec<Event>) -> Self {
        Visit { on_request, scans }
    }
}

impl<F: FnMut(&Request)> DecodeSink for Visit<'_, F> {
    #[inline]
    fn request(&mut self, r: &Request) {
        (self.on_request)(r);
    }

    fn scan(&mut self, o: ScanObservation) {
        self.scans.push(Event::Scan(o));
    }
}

/// Turns a source's bytes into events. Feed chunks in order; call `finish` at end of input
/// (batch only: a followed file is never finished, so its partial last line waits).
#[derive(Debug)]
pub struct Decoder {
    options: DecoderOptions,
    state: State,
    stats: SourceStats,
}

impl Decoder {
    #[must_use]
    pub fn new(options: DecoderOptions) -> Self {
        let state = match (options.access_format, options.scan_format) {
            (Some(f), _) => access_state(f, &options),
            (None, Some(f)) => scan_state(f, &options),
            (None, None) => State::Detecting { head: Vec::new() },
        };
        Decoder { options, state, stats: SourceStats::default() }
    }

    /// The format in use (or `Unknown` while still detecting).
    #[must_use]
    pub fn format(&self) -> DetectedFormat {
        match &self.state {
            State::Access { parser, .. } => DetectedFormat::Access(parser.format()),
            State::Scan { parser, .. } => DetectedFormat::Scan(parser.format()),
            State::Detecting { .. } | State::Unknown { .. } => DetectedFormat::Unknown,
        }
    }

    #[must_use]
    pub fn stats(&self) -> &SourceStats {
        &self.stats
    }

    /// Scan summary (scan sources only): final after `finish`, provisional before.
    #[must_use]
    pub fn scan_summary(&self) -> Option<ScanSummary> {
        match &self.state {
            State::Scan { parser, summary, .. } => {
                Some(summary.clone().unwrap_or_else(|| parser.summary()))
            }
            _ => None,
        }
    }

    /// Scan sources: the runs the file named so far (nmap: command line and start; see
    /// [`ScanSummary::runs`]); empty for other sources.
    #[must_use]
    pub fn scan_runs(&self) -> &[scan::clock::ScanRun] {
        match &self.state {
            State::Scan { parser, .. } => parser.runs(),
            _ => &[],
        }
    }

    /// Feed the next chunk of the source; what it completes goes to `sink`.
    pub fn feed<S: DecodeSink>(&mut self, chunk: &[u8], sink: &mut S) {
        if let State::Detecting { head } = &mut self.state {
            head.extend_from_slice(chunk);
            if let Some(state) = self.try_detect(false) {
                self.switch(state, sink);
            }
            return;
        }
        self.feed_decided(chunk, sink);
    }

    /// End of input: flush a final line without newline, finish scan parsers.
    pub fn finish<S: DecodeSink>(&mut self, sink: &mut S) {
        if matches!(self.state, State::Detecting { .. }) {
            let state =
                self.try_detect(true).unwrap_or(State::Unknown { splitter: LineSplitter::new() });
            self.switch(state, sink);
        }
        let source = self.options.source;
        match &mut self.state {
            State::Access { splitter, parser, scratch } => {
                let stats = &mut self.stats;
                splitter.finish(|line| {
                    access_line(parser, scratch, stats, source, line, TextBlock::NONE, sink);
                });
                stats.zone_assumed |= parser.zone_assumed();
                note_other_formats(stats, parser);
            }
            State::Scan { parser, scratch, summary, unterminated } => {
                // A last line without a newline is a line (as access sources count it).
                self.stats.lines += u64::from(*unterminated);
                let s = parser.finish(scratch);
                push_scans(scratch, &mut self.stats, sink);
                self.stats.malformed = s.malformed;
                self.stats.malformed_samples.clone_from(&s.malformed_samples);
                self.stats.zone_assumed |= s.zone_assumed;
                *summary = Some(s);
            }
            State::Unknown { splitter } => {
                let stats = &mut self.stats;
                splitter.finish(|_| stats.lines += 1);
            }
            State::Detecting { .. } => {}
        }
    }

    /// Live sources: decide the format now from the complete lines buffered so far instead of
    /// waiting for `DETECT_LINES` lines or `DETECT_BYTES` bytes, so a quiet live log with a few
    /// lines yields its events at once. Nothing happens while no complete line is buffered or
    /// nothing matches yet (detection then goes on as more bytes arrive). Batch reads never
    /// need it: their first chunk already holds enough lines. What the buffered lines hold
    /// goes to `sink`.
    pub fn detect_now<S: DecodeSink>(&mut self, sink: &mut S) {
        let State::Detecting { head } = &self.state else { return };
        let Some(end) = memchr::memrchr(b'\n', head) else { return };
        let complete = &head[..end];
        let kind = self.options.kind;
        let mut state = None;
        if kind != Some(SourceKind::Access) {
            state = scan::detect(head).map(|f| scan_state(f, &self.options));
        }
        if state.is_none() && kind != Some(SourceKind::Scan) {
            let format = access::detect_first(complete, DETECT_LINES);
            state = format.map(|f| access_state(f, &self.options));
        }
        if let Some(state) = state {
            self.switch(state, sink);
        }
    }

    /// Forget partial-line state (the source was truncated or replaced).
    pub fn reset_partial(&mut self) {
        match &mut self.state {
            State::Access { splitter, .. } | State::Unknown { splitter } => {
                splitter.reset_partial();
            }
            State::Detecting { head } => head.clear(),
            State::Scan { .. } => {}
        }
    }

    fn feed_decided<S: DecodeSink>(&mut self, chunk: &[u8], sink: &mut S) {
        let source = self.options.source;
        match &mut self.state {
            State::Access { splitter, parser, scratch } => {
                let stats = &mut self.stats;
                for block in text_blocks(chunk) {
                    let text = TextBlock::new(block);
                    splitter.feed(block, |line| {
                        access_line(parser, scratch, stats, source, line, text, sink);
                    });
                }
                // Once per chunk, not per line: the parser's flag is sticky.
                stats.zone_assumed |= parser.zone_assumed();
                note_other_formats(stats, parser);
            }
            State::Scan { parser, scratch, unterminated, .. } => {
                self.stats.lines += bytecount_newlines(chunk);
                if let Some(&last) = chunk.last() {
                    *unterminated = last != b'\n';
                }
                parser.feed(chunk, scratch);
                push_scans(scratch, &mut self.stats, sink);
                self.stats.zone_assumed |= parser.zone_assumed();
            }
            State::Unknown { splitter } => {
                let stats = &mut self.stats;
                splitter.feed(chunk, |_| stats.lines += 1);
            }
            State::Detecting { .. } => {}
        }
    }

    fn switch<S: DecodeSink>(&mut self, state: State, sink: &mut S) {
        let old = std::mem::replace(&mut self.state, state);
        if let State::Detecting { head } = old {
            self.feed_decided(&head, sink);
        }
    }

    /// Decide the format from the buffered head, or `None` to wait for more bytes.
    fn try_detect(&self, at_end: bool) -> Option<State> {
        let State::Detecting { head } = &self.state else { return None };
        let lines = access::head_lines(head, DETECT_LINES);
        let enough = at_end || lines.len() >= DETECT_LINES || head.len() >= DETECT_BYTES;
        if !enough {
            return None;
        }
        let kind = self.options.kind;
        if kind != Some(SourceKind::Access) {
            if let Some(f) = scan::detect(head) {
                return Some(scan_state(f, &self.options));
            }
        }
        if kind != Some(SourceKind::Scan) {
            if let Some(f) = access::detect(&lines) {
                return Some(access_state(f, &self.options));
            }
        }
        Some(State::Unknown { splitter: LineSplitter::new() })
    }
}

fn access_state(format: AccessFormat, options: &DecoderOptions) -> State {
    State::Access {
        splitter: LineSplitter::new(),
        parser: Box::new(AccessParser::new(format, options.access.clone())),
        scratch: Request::default(),
    }
}

fn scan_state(format: ScanFormat, options: &DecoderOptions) -> State {
    State::Scan {
        parser: Box::new(ScanParser::new(format, options.scan.clone(), options.source)),
        scratch: Vec::new(),
        summary: None,
        unterminated: false,
    }
}

/// Bytes validated as UTF-8 at a time by the access path (see [`text_blocks`]).
const TEXT_BLOCK: usize = 4 * 1024;

/// `chunk` cut into blocks of [`TEXT_BLOCK`] bytes and up to the next newline (the last one
/// may end anywhere), so each holds whole lines and is validated as UTF-8 once:
/// one validation of a few KiB costs much less per byte than one per line. A block with an
/// invalid byte anywhere only makes its own lines validate themselves.
fn text_blocks(chunk: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = chunk;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        // The block ends after the first newline from TEXT_BLOCK on (searching forward, as
        // everything else reads, rather than back from there).
        let cut = match rest.get(TEXT_BLOCK..) {
            Some(tail) => memchr::memchr(b'\n', tail).map_or(rest.len(), |nl| TEXT_BLOCK + nl + 1),
            None => rest.len(),
        };
        let (block, tail) = rest.split_at(cut);
        rest = tail;
        Some(block)
    })
}

/// The parser's (cumulative) counts of requests read by another format (mixed files).
fn note_other_formats(stats: &mut SourceStats, parser: &AccessParser) {
    for (format, n) in parser.fallback_counts() {
        stats.other_formats.insert(format.name().to_owned(), n);
    }
    for (action, n) in parser.waf_action_counts() {
        stats.waf_actions.insert(action.as_str().to_owned(), n);
    }
}

#[inline]
fn access_line<S: DecodeSink>(
    parser: &mut AccessParser,
    scratch: &mut Request,
    stats: &mut SourceStats,
    source: SourceId,
    line: crate::ingest::Line<'_>,
    text: TextBlock<'_>,
    sink: &mut S,
) {
    stats.lines += 1;
    if line.oversized {
        stats.oversized += 1;
    }
    match parser.parse_line_in(line.bytes, text, line.number, scratch) {
        LineOutcome::Request => {
            scratch.source = source;
            scratch.line = line.number;
            stats.record_event(scratch.time);
            sink.request(scratch);
        }
        LineOutcome::Skipped => stats.skipped += 1,
        LineOutcome::Malformed(reason) => stats.record_malformed(line.number, reason),
    }
}

fn push_scans<S: DecodeSink>(
    scratch: &mut Vec<ScanObservation>,
    stats: &mut SourceStats,
    sink: &mut S,
) {
    for obs in scratch.drain(..) {
        stats.record_event(obs.time);
        sink.scan(obs);
    }
}

fn bytecount_newlines(chunk: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', chunk).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_blocks_cut_after_newlines_and_cover_the_chunk() {
        let line = |n: usize| {
            let mut l = vec![b'x'; n];
            l.push(b'\n');
            l
        };
        let mut chunk = Vec::new();
        for n in [10, 170, 3000, 5000, 9000, 0, 4095, 4096, 1] {
            chunk.extend(line(n));
        }
        chunk.extend_from_slice(b"no newline at the end");
        for end in [0, 1, 4096, 4097, 9000, chunk.len()] {
            let chunk = &chunk[..end];
            let blocks: Vec<&[u8]> = text_blocks(chunk).collect();
            assert_eq!(blocks.concat(), chunk);
            for (i, b) in blocks.iter().enumerate() {
                assert!(!b.is_empty());
                if i + 1 < blocks.len() {
                    assert_eq!(b.last(), Some(&b'\n'));
                    // Only its last line reaches past TEXT_BLOCK.
                    assert!(b.len() > TEXT_BLOCK);
                    assert!(
                        memchr::memchr(b'\n', &b[TEXT_BLOCK..]) == Some(b.len() - 1 - TEXT_BLOCK)
                    );
                }
            }
        }
    }

    /// Lines validated per block (the decoder) or one by one (`parse_line`) give the same
    /// events and counters, whatever the chunking: invalid UTF-8 next to valid lines,
    /// multi-byte characters, a line longer than a block, CRLF, an envelope.
    #[test]
    fn block_validation_gives_what_line_by_line_parsing_gives() {
        let usual = r#"10.0.0.1 - - [24/Nov/2026:00:00:00 +0000] "GET /caf\u{e9} HTTP/1.1" 200 5 "-" "ua \u{1F600}""#;
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for i in 0..400 {
            let mut l = usual.replace("/caf", &format!("/{i}/caf")).into_bytes();
            match i % 50 {
                7 => l.extend_from_slice(b" \xff\xfe"),
                // Invalid UTF-8 inside the target, and in the method (the line does not split).
                8 => l.insert(l.windows(4).position(|w| w == b"/caf").unwrap_or(0), 0xe9),
                9 => l.insert(44, 0xff),
                10 => l = [&l[..60], &[b'a'; 5000][..], &l[60..]].concat(),
                11 => l.push(b'\r'),
                12 => {
                    l = br#"{"log":"10.0.0.2 - - [24/Nov/2026:00:00:00 +0000] \"GET /e HTTP/1.1\" 200 1 \"-\" \"\u00e9\"\n"}"#
                        .to_vec();
                }
                _ => {}
            }
            lines.push(l);
        }
        let data = lines.join(&b'\n');

        let mut parser = AccessParser::new(AccessFormat::Combined, ParseOptions::default());
        let mut want = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            let mut r = Request::default();
            if parser.parse_line(l, i as u64 + 1, &mut r) == LineOutcome::Request {
                r.source = SourceId(3);
                want.push(Event::Request(r));
            }
        }
        assert_eq!(want.len(), 400, "invalid UTF-8 is converted lossily, not refused");

        for chunk in [1, 7, 1000, 4096, 5003, data.len()] {
            let mut opts = DecoderOptions::new(SourceId(3), Some(SourceKind::Access));
            opts.access_format = Some(AccessFormat::Combined);
            let mut decoder = Decoder::new(opts);
            let mut got = Vec::new();
            for c in data.chunks(chunk) {
                decoder.feed(c, &mut got);
            }
            decoder.finish(&mut got);
            assert_eq!(got, want, "chunks of {chunk}");
            assert_eq!(decoder.stats().lines, 400);
        }
    }

    /// The two sinks see the same output: requests lent to a visitor are the ones a
    /// `Vec<Event>` collects, scan observations reach both, detection included.
    #[test]
    fn visiting_and_collecting_sinks_agree() {
        let access =
            b"10.0.0.1 - - [24/Nov/2026:00:00:00 +0000] \"GET /a HTTP/1.1\" 200 5 \"-\" \"ua\"\n\
            10.0.0.2 - - [24/Nov/2026:00:00:01 +0000] \"GET /b HTTP/1.1\" 404 0 \"-\" \"ua\"\n";
        let scan = b"#masscan\nopen tcp 443 192.0.2.1 1700000000\nopen tcp 80 192.0.2.2 1700000001\n# end\n";
        for data in [&access[..], &scan[..]] {
            let run = |visit: bool| {
                let mut decoder = Decoder::new(DecoderOptions::new(SourceId(1), None));
                let mut events = Vec::new();
                let mut lent = Vec::new();
                if visit {
                    let mut sink =
                        Visit::new(|r: &Request| lent.push(Event::Request(r.clone())), &mut events);
                    for c in data.chunks(9) {
                        decoder.feed(c, &mut sink);
                    }
                    decoder.finish(&mut sink);
                } else {
                    for c in data.chunks(9) {
                        decoder.feed(c, &mut events);
                    }
                    decoder.finish(&mut events);
                }
                lent.append(&mut events);
                (lent, decoder.stats().lines)
            };
            let (collected, visited) = (run(false), run(true));
            assert_eq!(collected.0.len(), 2, "{:?}", collected.0);
            assert_eq!(collected, visited);
        }
    }
}
