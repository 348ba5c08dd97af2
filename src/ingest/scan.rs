//! Scanner output: detection and incremental parsers (one file per tool).
//!
//! Contract: parsers are fed bytes as they arrive (a running nmap `-oX` grows) and push every
//! observation that is complete; `finish()` flushes what can be flushed at end of input and
//! reports an interrupted file as `incomplete` (not an error). No input panics a parser.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{PortState, ScanObservation, SourceId};

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

/// An incremental parser for one scan source.
#[derive(Debug)]
pub struct ScanParser {
    format: ScanFormat,
    options: ScanOptions,
    source: SourceId,
}

impl ScanParser {
    #[must_use]
    pub fn new(format: ScanFormat, options: ScanOptions, source: SourceId) -> Self {
        ScanParser { format, options, source }
    }

    #[must_use]
    pub fn format(&self) -> ScanFormat {
        self.format
    }

    /// Feed the next bytes of the file; complete observations are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<ScanObservation>) {
        let _ = (bytes, out, &self.options, self.source);
        todo!("scan parsers: issue 3")
    }

    /// End of input (batch) — flush and return the summary. Not called on a live file.
    pub fn finish(&mut self, out: &mut Vec<ScanObservation>) -> ScanSummary {
        let _ = out;
        todo!("scan parsers: issue 3")
    }

    /// Summary so far (live files).
    #[must_use]
    pub fn summary(&self) -> ScanSummary {
        todo!("scan parsers: issue 3")
    }
}

/// Guess the scanner format from the first bytes of a file; `None` when nothing matches.
#[must_use]
pub fn detect(head: &[u8]) -> Option<ScanFormat> {
    let _ = head;
    todo!("scan format detection: issue 3")
}
