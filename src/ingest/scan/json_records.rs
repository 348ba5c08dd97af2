//! Incremental framing of JSON object records, whatever the wrapping.
//!
//! One framer serves every JSON layout the scanners write: JSONL/NDJSON (one object per line),
//! pretty-printed arrays (nuclei `-je`), masscan ≤1.0.3 (`},` line ends and a final non-JSON
//! `{finished: 1}`), masscan 1.0.4–1.0.5 (`[` … trailing comma … `]`) and masscan ≥1.3 (`,\n`
//! before records). A *record* is a top-level object, or an object directly inside top-level
//! arrays; separators (`,`, `[`, `]`, whitespace) between records are skipped.
//!
//! Recovery rules (garbled or cut files, see `samples/masscan_json/`):
//! - a raw newline inside a string is impossible in JSON, so the record is reported broken;
//! - a `{` in column 0 while a record that also started in column 0 is still open means that
//!   record was cut (JSONL writers put each record at column 0); the old one is reported broken;
//! - any other byte outside a record is garbage, reported once per line;
//! - a record longer than [`MAX_RECORD_BYTES`] is reported broken and skipped.
//!
//! Feeding the same bytes in any chunking yields the same items (the state is per byte).

/// A record larger than this (bytes) is dropped as broken; memory stays bounded.
pub const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;

/// What the framer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    /// A complete object; `line` is the 1-based line of its `{`.
    Record { line: u64, bytes: &'a [u8] },
    /// Bytes outside any record that are not separators, first seen on `line`.
    Garbage { line: u64 },
    /// A record that cannot be complete (see the recovery rules); `line` is where it started.
    Broken { line: u64, reason: &'static str },
}

#[derive(Debug)]
pub struct JsonRecords {
    /// Bytes of the open record (empty when outside a record).
    record: Vec<u8>,
    in_record: bool,
    /// Nesting depth inside the open record (objects and arrays).
    depth: u32,
    in_string: bool,
    escaped: bool,
    record_line: u64,
    record_col0: bool,
    /// Skipping an oversized record until the next column-0 `{`.
    skipping: bool,
    /// A string outside any record (garbage, but its braces must not open records).
    outside_string: bool,
    /// Current 1-based line and whether the next byte is in column 0.
    line: u64,
    col0: bool,
    last_garbage_line: u64,
    /// Bytes of a leading UTF-8 byte-order mark matched so far (skipped, not garbage).
    bom_seen: usize,
    /// Whether any byte has been seen (a BOM only counts at the very start).
    started: bool,
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

impl Default for JsonRecords {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonRecords {
    #[must_use]
    pub fn new() -> Self {
        JsonRecords {
            record: Vec::new(),
            in_record: false,
            depth: 0,
            in_string: false,
            escaped: false,
            record_line: 0,
            record_col0: false,
            skipping: false,
            outside_string: false,
            line: 1,
            col0: true,
            last_garbage_line: 0,
            bom_seen: 0,
            started: false,
        }
    }

    /// Feed bytes; `on_item` receives every item completed by them, in order.
    pub fn feed(&mut self, bytes: &[u8], mut on_item: impl FnMut(Item<'_>)) {
        for &b in bytes {
            if !self.started {
                if self.bom_seen < BOM.len() && b == BOM[self.bom_seen] {
                    self.bom_seen += 1;
                    continue;
                }
                self.started = true;
            }
            let col0 = self.col0;
            self.col0 = b == b'\n';
            if self.in_record {
                self.record_byte(b, col0, &mut on_item);
            } else {
                self.outside_byte(b, col0, &mut on_item);
            }
            if b == b'\n' {
                self.line += 1;
            }
        }
    }

    /// End of input: an open record is reported broken (the file was cut inside it).
    /// Returns whether one was.
    pub fn finish(&mut self, mut on_item: impl FnMut(Item<'_>)) -> bool {
        if self.in_record {
            let line = self.record_line;
            self.reset();
            on_item(Item::Broken { line, reason: "input ends inside this record" });
            true
        } else {
            false
        }
    }

    fn reset(&mut self) {
        self.record.clear();
        self.in_record = false;
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
    }

    fn start(&mut self, col0: bool) {
        self.in_record = true;
        self.depth = 1;
        self.record.clear();
        self.record.push(b'{');
        self.record_line = self.line;
        self.record_col0 = col0;
        self.skipping = false;
    }

    fn outside_byte(&mut self, b: u8, col0: bool, on_item: &mut impl FnMut(Item<'_>)) {
        if self.outside_string {
            if b == b'"' && !self.escaped || b == b'\n' {
                self.outside_string = false;
            }
            self.escaped = b == b'\\' && !self.escaped;
            return;
        }
        if self.skipping {
            if b == b'{' && col0 {
                self.start(col0);
            }
            return;
        }
        match b {
            b'{' => self.start(col0),
            b' ' | b'\t' | b'\r' | b'\n' | b',' | b'[' | b']' => {}
            _ => {
                if b == b'"' {
                    self.outside_string = true;
                    self.escaped = false;
                }
                if self.last_garbage_line != self.line {
                    self.last_garbage_line = self.line;
                    on_item(Item::Garbage { line: self.line });
                }
            }
        }
    }

    fn record_byte(&mut self, b: u8, col0: bool, on_item: &mut impl FnMut(Item<'_>)) {
        if self.in_string {
            if b == b'\n' {
                let line = self.record_line;
                self.reset();
                on_item(Item::Broken { line, reason: "line ends inside a string" });
                return;
            }
            self.push(b, on_item);
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            return;
        }
        match b {
            b'{' if col0 && self.record_col0 => {
                let line = self.record_line;
                self.reset();
                on_item(Item::Broken { line, reason: "record cut off by the next record" });
                self.start(col0);
            }
            b'{' | b'[' => {
                self.depth += 1;
                self.push(b, on_item);
            }
            b'}' | b']' => {
                self.push(b, on_item);
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 && self.in_record {
                    let line = self.record_line;
                    on_item(Item::Record { line, bytes: &self.record });
                    self.reset();
                }
            }
            b'"' => {
                self.in_string = true;
                self.push(b, on_item);
            }
            _ => self.push(b, on_item),
        }
    }

    fn push(&mut self, b: u8, on_item: &mut impl FnMut(Item<'_>)) {
        if self.record.len() >= MAX_RECORD_BYTES {
            let line = self.record_line;
            self.reset();
            self.skipping = true;
            on_item(Item::Broken { line, reason: "record larger than 8 MiB" });
            return;
        }
        self.record.push(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(chunks: &[&[u8]]) -> Vec<String> {
        let mut framer = JsonRecords::new();
        let mut out = Vec::new();
        let mut push = |item: Item<'_>| {
            out.push(match item {
                Item::Record { line, bytes } => {
                    format!("{line}:{}", String::from_utf8_lossy(bytes))
                }
                Item::Garbage { line } => format!("{line}:garbage"),
                Item::Broken { line, reason } => format!("{line}:broken:{reason}"),
            });
        };
        for c in chunks {
            framer.feed(c, &mut push);
        }
        framer.finish(&mut push);
        out
    }

    #[test]
    fn every_layout_frames_the_same_records() {
        let want = vec![r#"1:{"a":"}"}"#.to_string(), "2:{\"b\":[1,{}]}".to_string()];
        assert_eq!(items(&[b"{\"a\":\"}\"}\n{\"b\":[1,{}]}\n"]), want);
        assert_eq!(items(&[b"{\"a\":\"}\"},\n{\"b\":[1,{}]},\n"]), want);
        let legacy = items(&[b"[\n{\"a\":\"}\"},\n{\"b\":[1,{}]},\n]\n"]);
        assert_eq!(legacy, vec![r#"2:{"a":"}"}"#.to_string(), "3:{\"b\":[1,{}]}".to_string()]);
    }

    #[test]
    fn cut_records_are_reported_and_the_next_one_survives() {
        let got = items(&[b"{\"a\":1, \"b\n{\"c\":2}\n{\"d\":", b"[1,\n{\"e\":3}\n{\"f\""]);
        assert_eq!(
            got,
            vec![
                "1:broken:line ends inside a string",
                "2:{\"c\":2}",
                "3:broken:record cut off by the next record",
                "4:{\"e\":3}",
                "5:broken:input ends inside this record",
            ]
        );
    }

    #[test]
    fn a_leading_bom_is_not_garbage() {
        assert_eq!(items(&[b"\xef\xbb", b"\xbf{\"a\":1}\n"]), vec!["1:{\"a\":1}"]);
        assert_eq!(items(&[b"{\"a\":1}\n\xef\xbb\xbf"]), vec!["1:{\"a\":1}", "2:garbage"]);
    }

    #[test]
    fn garbage_outside_records_counts_once_per_line() {
        let got = items(&[b"  \"ip\": \"{x\", 3 }\n{\"a\":1}\n"]);
        assert_eq!(got, vec!["1:garbage", "2:{\"a\":1}"]);
    }
}
