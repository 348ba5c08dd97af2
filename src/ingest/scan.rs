//! Scanner output: detection and incremental parsers (one file per tool).
//!
//! Contract: parsers are fed bytes as they arrive (a running nmap `-oX` grows) and push every
//! observation that is complete; `finish()` flushes what can be flushed at end of input and
//! reports an interrupted file as `incomplete` (not an error). No input panics a parser.

pub mod detect;
pub mod json_records;
pub mod json_tool;
pub mod nmap_xml;
pub mod nuclei;
pub mod tally;
pub mod target;
pub mod value;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{PortState, ScanObservation, SourceId};

pub use detect::detect;

use json_tool::JsonTool;
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

/// The per-format state behind [`ScanParser`].
#[derive(Debug)]
enum Inner {
    NmapXml(Box<NmapXml>),
    Nuclei(JsonTool<Nuclei>),
    /// Formats whose parser is not built yet: nothing is emitted and a note says so.
    Unsupported,
}

/// An incremental parser for one scan source.
///
/// Feeding the same bytes in any chunking yields the same observations in the same order.
#[derive(Debug)]
pub struct ScanParser {
    format: ScanFormat,
    cx: Cx,
    inner: Inner,
    finished: bool,
}

impl ScanParser {
    #[must_use]
    pub fn new(format: ScanFormat, options: ScanOptions, source: SourceId) -> Self {
        let inner = match format {
            ScanFormat::NmapXml => Inner::NmapXml(Box::new(NmapXml::new())),
            ScanFormat::Nuclei => Inner::Nuclei(JsonTool::new(Nuclei)),
            _ => Inner::Unsupported,
        };
        ScanParser { format, cx: Cx::new(source, options), inner, finished: false }
    }

    #[must_use]
    pub fn format(&self) -> ScanFormat {
        self.format
    }

    /// Feed the next bytes of the file; complete observations are appended to `out`.
    /// Bytes fed after [`finish`](Self::finish) are ignored.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<ScanObservation>) {
        if self.finished {
            return;
        }
        let cx = &mut self.cx;
        match &mut self.inner {
            Inner::NmapXml(p) => p.feed(bytes, cx, out),
            Inner::Nuclei(p) => p.feed(bytes, cx, out),
            Inner::Unsupported => {}
        }
    }

    /// End of input (batch) — flush and return the summary. Not called on a live file.
    /// Idempotent: a second call only returns the summary again.
    pub fn finish(&mut self, out: &mut Vec<ScanObservation>) -> ScanSummary {
        if !self.finished {
            self.finished = true;
            let cx = &mut self.cx;
            match &mut self.inner {
                Inner::NmapXml(p) => p.finish(cx, out),
                Inner::Nuclei(p) => p.finish(cx, out),
                Inner::Unsupported => {}
            }
        }
        self.summary()
    }

    /// Summary so far (live files).
    #[must_use]
    pub fn summary(&self) -> ScanSummary {
        let mut summary = self.cx.summary().clone();
        let notes = match &self.inner {
            Inner::NmapXml(p) => p.notes(),
            Inner::Nuclei(p) => json_tool::RecordParser::notes(&p.parser),
            Inner::Unsupported => {
                vec![format!("the {} parser is not built yet", self.format.name())]
            }
        };
        summary.notes.extend(notes);
        summary
    }
}
