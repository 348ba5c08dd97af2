//! `Correlator`: owns the incremental state.

use chrono::{DateTime, Utc};

use crate::config::{CaseConfig, Vantage};
use crate::model::snapshot::{Gap, SourceHealth};
use crate::model::{Event, Snapshot, SourceId, SourceKind};

/// What the shell tells the correlator about a source when it starts reading it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    pub path: String,
    pub kind: SourceKind,
    pub format: String,
    /// The service an access source feeds (empty for scans).
    pub service: String,
    /// Scans only: whether the scan's observations are exposure evidence.
    pub vantage: Vantage,
}

#[derive(Debug)]
pub struct Correlator {
    config: CaseConfig,
    sources: Vec<SourceHealth>,
}

impl Correlator {
    #[must_use]
    pub fn new(config: CaseConfig) -> Self {
        Correlator { config, sources: Vec::new() }
    }

    /// Register a source; ids are handed out in call order.
    pub fn add_source(&mut self, info: SourceInfo) -> SourceId {
        let _ = info;
        todo!("correlator: issue 4")
    }

    /// Health counters of a source, updated by the shell that reads it.
    pub fn source_mut(&mut self, id: SourceId) -> &mut SourceHealth {
        &mut self.sources[id.0 as usize]
    }

    /// Apply a batch of events. Order within and across batches does not matter.
    pub fn apply(&mut self, batch: &[Event]) {
        let _ = (batch, &self.config);
        todo!("correlator: issue 4")
    }

    /// Record an ingest gap or source incident.
    pub fn record_gap(&mut self, gap: Gap) {
        let _ = gap;
        todo!("correlator: issue 4")
    }

    /// The state as of `as_of`.
    #[must_use]
    pub fn snapshot(&self, as_of: DateTime<Utc>) -> Snapshot {
        let _ = as_of;
        todo!("correlator: issue 4")
    }
}
