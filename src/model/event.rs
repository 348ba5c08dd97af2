//! The unit the correlator consumes: one normalized record from one source.

use serde::{Deserialize, Serialize};

use super::{Request, ScanObservation};

/// Index of a source (file, glob member or stdin) in the session's source table.
///
/// Ids are assigned in a deterministic order (config order, then sorted paths) so that two runs
/// over the same inputs number their sources the same way.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
pub struct SourceId(pub u32);

/// What a source carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Access,
    Scan,
}

/// One normalized event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Request(Request),
    Scan(ScanObservation),
}

impl Event {
    /// The evidence time of the event (UTC).
    #[must_use]
    pub fn time(&self) -> chrono::DateTime<chrono::Utc> {
        match self {
            Event::Request(r) => r.time,
            Event::Scan(s) => s.time,
        }
    }

    #[must_use]
    pub fn source(&self) -> SourceId {
        match self {
            Event::Request(r) => r.source,
            Event::Scan(s) => s.source,
        }
    }
}
