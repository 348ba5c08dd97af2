//! Splitting a byte stream into lines with a hard cap on line length.
//!
//! Invariants: memory is bounded by `MAX_LINE_BYTES` plus the caller's chunk; a line longer
//! than the cap is delivered once, cut to the cap and flagged `oversized`, and the rest of it
//! is skipped without buffering; a final line without `\n` is only delivered by `finish()`
//! (a follower never calls `finish()` on a live file, so a partial last line waits for its
//! newline). A trailing `\r` is stripped.

/// Lines longer than this are cut and counted as oversized (64 KiB).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The line end of a file, decided once from its first bytes (`head`) by `analyze`,
/// `inspect` and the follower alike: `\n` when they hold a LF; `\r` when they hold a CR
/// followed by another byte and no LF (a CR-only file: each CR ends a line); `None` while
/// they hold neither, or only a CR as their last byte (it may be the first half of a CRLF).
#[must_use]
pub fn line_end_of(head: &[u8]) -> Option<u8> {
    if memchr::memchr(b'\n', head).is_some() {
        Some(b'\n')
    } else if memchr::memchr(b'\r', head).is_some_and(|i| i + 1 < head.len()) {
        Some(b'\r')
    } else {
        None
    }
}

/// `bytes` with each `line_end` byte turned into `\n` (borrowed, untouched, when `line_end`
/// is `\n`): what a CR-only file's bytes are read as.
#[must_use]
pub fn as_lf(line_end: u8, bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if line_end == b'\n' {
        std::borrow::Cow::Borrowed(bytes)
    } else {
        std::borrow::Cow::Owned(
            bytes.iter().map(|&b| if b == line_end { b'\n' } else { b }).collect(),
        )
    }
}

/// One complete line handed out by the splitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based line number within the stream.
    pub number: u64,
    /// The line bytes without the terminator (cut to `MAX_LINE_BYTES` when oversized).
    pub bytes: &'a [u8],
    pub oversized: bool,
}

/// Incremental line splitter: feed chunks, receive complete lines.
#[derive(Debug)]
pub struct LineSplitter {
    /// Bytes of the current unfinished line (never more than the cap).
    pending: Vec<u8>,
    /// The current line exceeded the cap: skip until the next newline.
    skipping: bool,
    next_number: u64,
    cap: usize,
}

impl Default for LineSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl LineSplitter {
    #[must_use]
    pub fn new() -> Self {
        Self::with_cap(MAX_LINE_BYTES)
    }

    /// A splitter with a custom cap (tests use small caps).
    #[must_use]
    pub fn with_cap(cap: usize) -> Self {
        LineSplitter { pending: Vec::new(), skipping: false, next_number: 1, cap: cap.max(1) }
    }

    /// The number the next complete line will get.
    #[must_use]
    pub fn next_number(&self) -> u64 {
        self.next_number
    }

    /// Bytes buffered for an unfinished line (0 when at a line boundary).
    #[must_use]
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Feed a chunk; `on_line` is called for every line completed by it, in order.
    pub fn feed(&mut self, mut chunk: &[u8], mut on_line: impl FnMut(Line<'_>)) {
        while !chunk.is_empty() {
            let Some(nl) = memchr::memchr(b'\n', chunk) else {
                // No newline in the rest of the chunk: buffer it (up to the cap).
                if !self.skipping {
                    let room = self.cap - self.pending.len();
                    if chunk.len() > room {
                        self.pending.extend_from_slice(&chunk[..room]);
                        let line = std::mem::take(&mut self.pending);
                        self.emit(&line, true, &mut on_line);
                        self.pending = line;
                        self.pending.clear();
                        self.skipping = true;
                    } else {
                        self.pending.extend_from_slice(chunk);
                    }
                }
                return;
            };
            let (head, rest) = (&chunk[..nl], &chunk[nl + 1..]);
            chunk = rest;
            if self.skipping {
                self.skipping = false;
                continue;
            }
            if self.pending.is_empty() {
                let oversized = head.len() > self.cap;
                let bytes = if oversized { &head[..self.cap] } else { head };
                self.emit(bytes, oversized, &mut on_line);
            } else {
                let room = self.cap - self.pending.len();
                let oversized = head.len() > room;
                self.pending.extend_from_slice(&head[..head.len().min(room)]);
                let line = std::mem::take(&mut self.pending);
                self.emit(&line, oversized, &mut on_line);
                self.pending = line;
                self.pending.clear();
            }
        }
    }

    /// End of stream: deliver a final line that had no newline, if any.
    pub fn finish(&mut self, mut on_line: impl FnMut(Line<'_>)) {
        if self.skipping {
            self.skipping = false;
            return;
        }
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line, false, &mut on_line);
            self.pending = line;
            self.pending.clear();
        }
    }

    /// Drop any partial line (after a truncation the old partial bytes are meaningless).
    pub fn reset_partial(&mut self) {
        self.pending.clear();
        self.skipping = false;
    }

    fn emit(&mut self, bytes: &[u8], oversized: bool, on_line: &mut impl FnMut(Line<'_>)) {
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let number = self.next_number;
        self.next_number += 1;
        on_line(Line { number, bytes, oversized });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(s: &mut LineSplitter, chunks: &[&[u8]], finish: bool) -> Vec<(u64, Vec<u8>, bool)> {
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, |l| out.push((l.number, l.bytes.to_vec(), l.oversized)));
        }
        if finish {
            s.finish(|l| out.push((l.number, l.bytes.to_vec(), l.oversized)));
        }
        out
    }

    #[test]
    fn splits_across_chunks_and_strips_cr() {
        let mut s = LineSplitter::new();
        let out = collect(&mut s, &[b"ab", b"c\r\nde", b"f\n", b"tail"], false);
        assert_eq!(out, vec![(1, b"abc".to_vec(), false), (2, b"def".to_vec(), false)]);
        assert_eq!(s.pending_len(), 4);
        let out = collect(&mut s, &[], true);
        assert_eq!(out, vec![(3, b"tail".to_vec(), false)]);
    }

    #[test]
    fn oversized_lines_are_cut_once_and_never_buffered_whole() {
        let mut s = LineSplitter::with_cap(4);
        let out = collect(&mut s, &[b"0123", b"456789", b"abc\nok\n"], false);
        assert_eq!(out, vec![(1, b"0123".to_vec(), true), (2, b"ok".to_vec(), false)]);
        assert_eq!(s.pending_len(), 0);
        let out = collect(&mut s, &[b"xxxxxxxx\nyy\n"], false);
        assert_eq!(out, vec![(3, b"xxxx".to_vec(), true), (4, b"yy".to_vec(), false)]);
    }

    #[test]
    fn empty_lines_are_numbered() {
        let mut s = LineSplitter::new();
        let out = collect(&mut s, &[b"\n\nx\n"], true);
        assert_eq!(out.iter().map(|l| l.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    }
}
