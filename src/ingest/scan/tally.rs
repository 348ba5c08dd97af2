//! The running [`ScanSummary`] of one scan source, plus the context every format parser shares.
//!
//! Every observation goes out through [`Cx::emit`] so the counts in the summary always equal
//! what the caller received.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use crate::ingest::stats::MALFORMED_SAMPLES;
use crate::model::{ScanObservation, ScannerState, SourceId};

use chrono::{DateTime, TimeZone, Utc};

use super::clock::{ScanRun, parse_ctime};
use super::{ScanOptions, ScanRecordError, ScanSummary};

/// Identity of a host for the `hosts` count: the address when known, else the hostname.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostKey {
    Ip(IpAddr),
    Name(String),
}

impl HostKey {
    /// `None` when the record names neither an address nor a hostname.
    #[must_use]
    pub fn of(address: Option<IpAddr>, hostname: &str) -> Option<HostKey> {
        match (address, hostname) {
            (Some(ip), _) => Some(HostKey::Ip(ip)),
            (None, "") => None,
            (None, name) => Some(HostKey::Name(name.to_owned())),
        }
    }
}

/// Shared parser context: where observations come from, options, and the running summary.
#[derive(Debug)]
pub struct Cx {
    pub source: SourceId,
    pub options: ScanOptions,
    summary: ScanSummary,
    hosts: HashSet<HostKey>,
    /// Line of the last malformed record, so a line with several problems counts once.
    last_malformed_line: Option<u64>,
    /// `Ambiguous` observations by the scanner's own word.
    words: BTreeMap<ScannerState, u64>,
}

impl Cx {
    #[must_use]
    pub fn new(source: SourceId, options: ScanOptions) -> Self {
        Cx {
            source,
            options,
            summary: ScanSummary::default(),
            hosts: HashSet::new(),
            last_malformed_line: None,
            words: BTreeMap::new(),
        }
    }

    /// Hand one observation to the caller and count it.
    pub fn emit(&mut self, obs: ScanObservation, out: &mut Vec<ScanObservation>) {
        if let Some(key) = HostKey::of(obs.address, &obs.hostname) {
            self.host(key);
        }
        self.summary.observations += 1;
        if let Some(word) = obs.scanner_state {
            *self.words.entry(word).or_insert(0) += 1;
        }
        *self.summary.by_state.entry(obs.state).or_insert(0) += 1;
        out.push(obs);
    }

    /// Count a host that produced no observation (an up host with no listed port).
    pub fn host(&mut self, key: HostKey) {
        if !self.hosts.contains(&key) {
            self.hosts.insert(key);
            self.summary.hosts += 1;
        }
    }

    /// Count a malformed record and keep the first few reasons. Several problems on the same
    /// line count once.
    pub fn malformed(&mut self, err: &ScanRecordError) {
        let line = err.line();
        if self.last_malformed_line == Some(line) {
            return;
        }
        self.last_malformed_line = Some(line);
        self.summary.malformed += 1;
        if self.summary.malformed_samples.len() < MALFORMED_SAMPLES {
            self.summary.malformed_samples.push((line, err.to_string()));
        }
    }

    /// nmap `extraports`: add `count` ports in `state` (totals per state, in first-seen order).
    pub fn extraports(&mut self, state: &str, count: u64) {
        match self.summary.extraports.iter_mut().find(|(s, _)| s == state) {
            Some((_, total)) => *total += count,
            None => self.summary.extraports.push((state.to_owned(), count)),
        }
    }

    /// The shared zone-aware reading of a scanner's zone-less ctime (`Sat Mar 26 07:06:28
    /// 2016`): the local time in [`ScanOptions::default_tz`] (the earlier instant when a
    /// clock change makes it ambiguous), and the source is marked `zone_assumed`. Only for
    /// times that evidence takes: a file that has an exact instant for the same moment
    /// uses that instead (see `clock.rs`).
    pub fn local_ctime(
        &mut self,
        line: u64,
        stamp: &str,
    ) -> Result<DateTime<Utc>, ScanRecordError> {
        let tz = self.options.default_tz;
        let time = parse_ctime(stamp)
            .and_then(|n| tz.from_local_datetime(&n).earliest())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| ScanRecordError::Field {
                line,
                field: "ctime",
                reason: format!("not a ctime date in the configured zone: `{stamp}`"),
            })?;
        self.summary.zone_assumed = true;
        Ok(time)
    }

    /// Record a run the file names (nmap `nmaprun`, `-oG` `scan initiated … as:`).
    pub fn run(&mut self, run: ScanRun) {
        self.summary.runs.push(run);
    }

    pub fn set_incomplete(&mut self) {
        self.summary.incomplete = true;
    }

    #[must_use]
    pub fn summary(&self) -> &ScanSummary {
        &self.summary
    }

    /// Notes naming the scanner's words behind the `ambiguous` count.
    #[must_use]
    pub fn word_notes(&self) -> Vec<String> {
        self.words
            .iter()
            .map(|(word, n)| {
                format!(
                    "{n} ports `{}`: ambiguous, the scanner could not tell (neither positive \
                     nor negative evidence)",
                    word.as_str()
                )
            })
            .collect()
    }
}
