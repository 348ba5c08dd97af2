//! Scanner output: detection and incremental parsers (one file per tool).
//!
//! Contract: parsers are fed bytes as they arrive (a running nmap `-oX` grows) and push every
//! observation that is complete; `finish()` flushes what can be flushed at end of input and
//! reports an interrupted file as `incomplete` (not an error). No input panics a parser.
//!
//! Decisions every consumer relies on (details in each tool's module):
//! - Feeding the same bytes in any chunking yields the same observations in the same order.
//! - `line` is the 1-based line where the record starts (nmap XML: the `<host>` element).
//! - A host with several addresses/hostnames (nmap) yields one observation per port carrying
//!   the first IP and the first hostname; the rest are counted in a note.
//! - Hosts without their own time (nmap down hosts, all of nmap `-oG`, masscan 1.0.x `-oG`)
//!   wait for the scan's end marker, whose time they take; at `finish()` without it, the
//!   scan's start time.
//! - A down host is one observation (no port) carrying the scan's covered ports as shared
//!   ranges; host liveness (masscan ICMP/ARP) is counted as a host, never a port.
//! - A malformed record is counted (first reasons kept, each naming line and field) and
//!   skipped; a file cut inside a record is `incomplete`.

pub(crate) mod clock;
mod detect;
mod httpx;
mod json_records;
mod json_tool;
mod line_tool;
mod masscan;
mod masscan_text;
mod naabu;
mod nmap_grepable;
mod nmap_xml;
mod nuclei;
mod tally;
pub(crate) mod target;
mod value;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{PortState, ScanObservation, SourceId};

pub use clock::ScanRun;
pub use detect::detect;

use httpx::Httpx;
use json_tool::{JsonTool, RecordParser};
use line_tool::{LineParser, LineTool};
use masscan::MasscanJson;
use masscan_text::{MasscanGrepable, MasscanList};
use naabu::Naabu;
use nmap_grepable::NmapGrepable;
use nmap_xml::NmapXml;
use nuclei::Nuclei;
use tally::Cx;

/// Every scanner format. Names are a public interface (`inspect`, config `format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanFormat {
    NmapXml,
    NmapGrepable,
    MasscanJson,
    MasscanList,
    MasscanGrepable,
    Nuclei,
    Httpx,
    Naabu,
}

impl ScanFormat {
    pub const ALL: [ScanFormat; 8] = [
        ScanFormat::NmapXml,
        ScanFormat::NmapGrepable,
        ScanFormat::MasscanJson,
        ScanFormat::MasscanList,
        ScanFormat::MasscanGrepable,
        ScanFormat::Nuclei,
        ScanFormat::Httpx,
        ScanFormat::Naabu,
    ];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ScanFormat::NmapXml => "nmap-xml",
            ScanFormat::NmapGrepable => "nmap-grepable",
            ScanFormat::MasscanJson => "masscan-json",
            ScanFormat::MasscanList => "masscan-list",
            ScanFormat::MasscanGrepable => "masscan-grepable",
            ScanFormat::Nuclei => "nuclei",
            ScanFormat::Httpx => "httpx",
            ScanFormat::Naabu => "naabu",
        }
    }

    #[must_use]
    pub fn from_name(name: &str) -> Option<ScanFormat> {
        ScanFormat::ALL.into_iter().find(|f| f.name() == name)
    }
}

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Zone for nmap grepable ctime comments (they carry no zone).
    pub default_tz: chrono_tz::Tz,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { default_tz: chrono_tz::UTC }
    }
}

/// What a scan file contained, for `inspect` and source health.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScanSummary {
    /// Distinct hosts reported (up or down).
    pub hosts: u64,
    pub observations: u64,
    pub by_state: BTreeMap<PortState, u64>,
    /// nmap `extraports`: ("filtered", 998) — ports summarised, never invented.
    pub extraports: Vec<(String, u64)>,
    /// The file ended before its end marker (interrupted nmap, cut masscan record).
    pub incomplete: bool,
    pub malformed: u64,
    pub malformed_samples: Vec<(u64, String)>,
    /// Human notes for `inspect` (e.g. "grepable output has no per-host times").
    pub notes: Vec<String>,
    /// Some evidence time came from a local time without zone, read in
    /// [`ScanOptions::default_tz`] (nmap `-oG`). An exact time in the file is always
    /// preferred, so nmap XML never sets this.
    #[serde(default)]
    pub zone_assumed: bool,
    /// The runs the file holds as the scanner named them (nmap: command line and start), in
    /// file order; empty for formats that name none. Two files with the same runs are two
    /// copies of the same evidence.
    #[serde(default)]
    pub runs: Vec<clock::ScanRun>,
}

/// Why one record of a scan file was skipped. Line numbers are 1-based; the caller adds the
/// file name when it reports the sample.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanRecordError {
    #[error("line {line}: field `{field}`: {reason}")]
    Field { line: u64, field: &'static str, reason: String },
    #[error("line {line}: {reason}")]
    Record { line: u64, reason: String },
}

impl ScanRecordError {
    /// A required field is absent.
    #[must_use]
    pub fn missing(line: u64, field: &'static str) -> Self {
        ScanRecordError::Field { line, field, reason: "missing".into() }
    }

    #[must_use]
    pub fn line(&self) -> u64 {
        match self {
            ScanRecordError::Field { line, .. } | ScanRecordError::Record { line, .. } => *line,
        }
    }
}

/// One tool's parser behind [`ScanParser`]: the whole per-format dispatch is this trait object,
/// made by [`ScanFormat::parser`]. Adding a scanner format = a variant with its name, the
/// constructor there, and a module implementing [`LineParser`] or [`RecordParser`] (or this
/// trait directly, as nmap XML does). Called once per chunk, never per line.
trait ToolParser: std::fmt::Debug + Send {
    fn feed(&mut self, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>);
    fn finish(&mut self, cx: &mut Cx, out: &mut Vec<ScanObservation>);
    fn notes(&self) -> Vec<String>;
}

impl ToolParser for NmapXml {
    fn feed(&mut self, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        NmapXml::feed(self, bytes, cx, out);
    }

    fn finish(&mut self, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        NmapXml::finish(self, cx, out);
    }

    fn notes(&self) -> Vec<String> {
        NmapXml::notes(self)
    }
}

impl<P: LineParser + std::fmt::Debug + Send> ToolParser for LineTool<P> {
    fn feed(&mut self, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        LineTool::feed(self, bytes, cx, out);
    }

    fn finish(&mut self, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        LineTool::finish(self, cx, out);
    }

    fn notes(&self) -> Vec<String> {
        self.parser.notes()
    }
}

impl<P: RecordParser + std::fmt::Debug + Send> ToolParser for JsonTool<P> {
    fn feed(&mut self, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        JsonTool::feed(self, bytes, cx, out);
    }

    fn finish(&mut self, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        JsonTool::finish(self, cx, out);
    }

    fn notes(&self) -> Vec<String> {
        self.parser.notes()
    }
}

impl ScanFormat {
    /// The format's parser: the one table from format to code.
    fn parser(self) -> Box<dyn ToolParser> {
        match self {
            ScanFormat::NmapXml => Box::new(NmapXml::new()),
            ScanFormat::NmapGrepable => Box::new(LineTool::new(NmapGrepable::default())),
            ScanFormat::MasscanJson => Box::new(JsonTool::new(MasscanJson::default())),
            ScanFormat::MasscanList => Box::new(LineTool::new(MasscanList::default())),
            ScanFormat::MasscanGrepable => Box::new(LineTool::new(MasscanGrepable::default())),
            ScanFormat::Nuclei => Box::new(JsonTool::new(Nuclei)),
            ScanFormat::Httpx => Box::new(JsonTool::new(Httpx)),
            ScanFormat::Naabu => Box::new(JsonTool::new(Naabu)),
        }
    }
}

/// An incremental parser for one scan source.
///
/// Feeding the same bytes in any chunking yields the same observations in the same order.
#[derive(Debug)]
pub struct ScanParser {
    format: ScanFormat,
    cx: Cx,
    inner: Box<dyn ToolParser>,
    finished: bool,
}

impl ScanParser {
    #[must_use]
    pub fn new(format: ScanFormat, options: ScanOptions, source: SourceId) -> Self {
        let inner = format.parser();
        ScanParser { format, cx: Cx::new(source, options), inner, finished: false }
    }

    #[must_use]
    pub fn format(&self) -> ScanFormat {
        self.format
    }

    /// Whether an evidence time so far was read in the default zone (see
    /// [`ScanSummary::zone_assumed`]); cheaper than [`summary`](Self::summary).
    #[must_use]
    pub fn zone_assumed(&self) -> bool {
        self.cx.summary().zone_assumed
    }

    /// The runs named so far (see [`ScanSummary::runs`]).
    #[must_use]
    pub fn runs(&self) -> &[clock::ScanRun] {
        &self.cx.summary().runs
    }

    /// Feed the next bytes of the file; complete observations are appended to `out`.
    /// Bytes fed after [`finish`](Self::finish) are ignored.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<ScanObservation>) {
        if self.finished {
            return;
        }
        self.inner.feed(bytes, &mut self.cx, out);
    }

    /// End of input (batch) — flush and return the summary. Not called on a live file.
    /// Idempotent: a second call only returns the summary again.
    pub fn finish(&mut self, out: &mut Vec<ScanObservation>) -> ScanSummary {
        if !self.finished {
            self.finished = true;
            self.inner.finish(&mut self.cx, out);
        }
        self.summary()
    }

    /// Summary so far (live files).
    #[must_use]
    pub fn summary(&self) -> ScanSummary {
        let mut summary = self.cx.summary().clone();
        summary.notes.extend(self.cx.word_notes());
        for (state, count) in &summary.extraports {
            summary.notes.push(format!(
                "{count} ports in state `{state}` summarised by nmap (not listed, no observations)"
            ));
        }
        summary.notes.extend(self.inner.notes());
        summary
    }
}
