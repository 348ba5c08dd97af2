//! The shared driver of every JSON-emitting scanner (nuclei, httpx, naabu, masscan JSON/NDJSON):
//! frame records with [`JsonRecords`], hand each complete one to the tool's record parser, count
//! what is not a record.

use crate::model::ScanObservation;

use super::ScanRecordError;
use super::json_records::{Item, JsonRecords};
use super::tally::Cx;

/// One tool's handling of one framed JSON record.
pub trait RecordParser {
    /// Parse the record that starts on `line`; emit observations or count it malformed.
    fn record(&mut self, line: u64, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>);

    /// Notes for `inspect` (default: none).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Emit a record that parsed into one observation, or count it malformed with its reason.
pub fn emit_one(
    parsed: Result<ScanObservation, super::ScanRecordError>,
    cx: &mut Cx,
    out: &mut Vec<ScanObservation>,
) {
    match parsed {
        Ok(obs) => cx.emit(obs, out),
        Err(err) => cx.malformed(&err),
    }
}

/// Framer plus a tool's record parser.
#[derive(Debug, Default)]
pub struct JsonTool<P> {
    framer: JsonRecords,
    pub parser: P,
}

impl<P: RecordParser> JsonTool<P> {
    #[must_use]
    pub fn new(parser: P) -> Self {
        JsonTool { framer: JsonRecords::new(), parser }
    }

    pub fn feed(&mut self, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        let JsonTool { framer, parser } = self;
        framer.feed(bytes, |item| handle(item, parser, cx, out));
    }

    /// End of input: a record still open means the file was cut inside it.
    pub fn finish(&mut self, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        let JsonTool { framer, parser } = self;
        if framer.finish(|item| handle(item, parser, cx, out)) {
            cx.set_incomplete();
        }
    }
}

fn handle<P: RecordParser>(
    item: Item<'_>,
    parser: &mut P,
    cx: &mut Cx,
    out: &mut Vec<ScanObservation>,
) {
    match item {
        Item::Record { line, bytes } => parser.record(line, bytes, cx, out),
        Item::Garbage { line } => cx.malformed(&ScanRecordError::Record {
            line,
            reason: "text outside a JSON record".into(),
        }),
        Item::Broken { line, reason } => {
            cx.malformed(&ScanRecordError::Record {
                line,
                reason: format!("JSON record: {reason}"),
            });
        }
    }
}
