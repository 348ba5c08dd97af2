//! Per-source counters: lines, events, malformed and oversized lines, with the first few
//! malformed line numbers and reasons kept as evidence.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many malformed line samples a source keeps.
pub const MALFORMED_SAMPLES: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SourceStats {
    pub lines: u64,
    pub events: u64,
    pub malformed: u64,
    pub oversized: u64,
    /// Lines that are not events but not errors either (comments, headers, blank lines,
    /// non-access log lines in a mixed stream such as Caddy's startup messages).
    pub skipped: u64,
    pub malformed_samples: Vec<(u64, String)>,
    pub first_event: Option<DateTime<Utc>>,
    pub last_event: Option<DateTime<Utc>>,
    /// Some event time had no zone or UTC offset in the source and was read in the
    /// configured zone (config `timezone`, `--tz`): the source's times rest on that choice.
    #[serde(default)]
    pub zone_assumed: bool,
    /// Events of a mixed file read by a format other than the source's (detected or
    /// configured) one, by format name; the rest of `events` are the source format's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other_formats: BTreeMap<String, u64>,
    /// WAF logs (`aws-waf`): requests by the WAF's action (`ALLOW`, `BLOCK`, `COUNT`,
    /// `CAPTCHA`, `CHALLENGE`). Every one is a request that reached the edge (positive
    /// evidence when external); none has a response status.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub waf_actions: BTreeMap<String, u64>,
}

impl SourceStats {
    pub fn record_malformed(&mut self, line: u64, reason: impl Into<String>) {
        self.malformed += 1;
        if self.malformed_samples.len() < MALFORMED_SAMPLES {
            self.malformed_samples.push((line, reason.into()));
        }
    }

    /// Count one event at `time` (first/last are min/max, not arrival order).
    pub fn record_event(&mut self, time: DateTime<Utc>) {
        self.events += 1;
        self.first_event = Some(self.first_event.map_or(time, |t| t.min(time)));
        self.last_event = Some(self.last_event.map_or(time, |t| t.max(time)));
    }

    /// Fold another source's counters into this one (parallel chunks of one file).
    /// `other`'s line numbers must already be absolute.
    pub fn merge(&mut self, other: &SourceStats) {
        self.lines += other.lines;
        self.events += other.events;
        self.malformed += other.malformed;
        self.oversized += other.oversized;
        self.skipped += other.skipped;
        self.zone_assumed |= other.zone_assumed;
        for (format, n) in &other.other_formats {
            *self.other_formats.entry(format.clone()).or_default() += n;
        }
        for (action, n) in &other.waf_actions {
            *self.waf_actions.entry(action.clone()).or_default() += n;
        }
        self.malformed_samples.extend(other.malformed_samples.iter().cloned());
        self.malformed_samples.sort_by_key(|s| s.0);
        self.malformed_samples.truncate(MALFORMED_SAMPLES);
        for t in [other.first_event, other.last_event].into_iter().flatten() {
            self.first_event = Some(self.first_event.map_or(t, |f| f.min(t)));
            self.last_event = Some(self.last_event.map_or(t, |l| l.max(t)));
        }
    }
}
