//! The shared driver of the line-oriented scanner formats (nmap `-oG`, masscan `-oL`/`-oG`):
//! split lines with the crate's bounded [`LineSplitter`], hand each to the format's parser.

use crate::ingest::lines::LineSplitter;
use crate::model::ScanObservation;

use super::ScanRecordError;
use super::tally::Cx;

/// One format's handling of complete lines.
pub trait LineParser {
    /// Handle line `number` (1-based, without its terminator).
    fn line(&mut self, number: u64, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>);

    /// End of input, after the last line: flush what waited for the end of the file, and mark
    /// the summary incomplete when the format's end marker never came.
    fn finish(&mut self, cx: &mut Cx, out: &mut Vec<ScanObservation>);

    /// Notes for `inspect` (default: none).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

#[derive(Debug, Default)]
pub struct LineTool<P> {
    splitter: LineSplitter,
    pub parser: P,
}

impl<P: LineParser> LineTool<P> {
    #[must_use]
    pub fn new(parser: P) -> Self {
        LineTool { splitter: LineSplitter::new(), parser }
    }

    pub fn feed(&mut self, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        let LineTool { splitter, parser } = self;
        splitter.feed(bytes, |line| {
            if line.oversized {
                cx.malformed(&ScanRecordError::Record {
                    line: line.number,
                    reason: "line longer than 64 KiB".into(),
                });
            } else {
                parser.line(line.number, strip_bom(line.number, line.bytes), cx, out);
            }
        });
    }

    /// End of input, then the parser flushes.
    ///
    /// The scanners end every line with a newline, so a last line without one was cut while
    /// being written: `open tcp 443 192.0.2.1 17937` would parse with a wrong time. Such a
    /// data line is counted malformed and the file incomplete; a comment line (`# end`,
    /// `# Nmap done …`) is still read, since a cut there loses nothing that is evidence.
    pub fn finish(&mut self, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        let LineTool { splitter, parser } = self;
        splitter.finish(|line| {
            let text = strip_bom(line.number, line.bytes).trim_ascii();
            if text.starts_with(b"#") {
                parser.line(line.number, strip_bom(line.number, line.bytes), cx, out);
            } else if !text.is_empty() {
                cx.malformed(&ScanRecordError::Record {
                    line: line.number,
                    reason: "last line has no newline (cut while written); skipped".into(),
                });
                cx.set_incomplete();
            }
        });
        parser.finish(cx, out);
    }
}

/// A UTF-8 byte-order mark at the start of the file is not content.
fn strip_bom(number: u64, bytes: &[u8]) -> &[u8] {
    if number == 1 { bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes) } else { bytes }
}
