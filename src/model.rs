//! Plain data shared by every part of leakline: normalized events in, snapshots out.
//!
//! Nothing here does I/O or reads a clock. Every timestamp is UTC; where a source wrote a
//! local time, the original offset is kept beside it for display and evidence.

pub(crate) mod address;
pub mod clients;
pub mod enrichment;
pub(crate) mod event;
pub mod prefix;
pub(crate) mod request;
pub(crate) mod scan;
pub(crate) mod sensitive;
pub mod snapshot;

pub use address::AddressSpec;
pub use clients::ClientFilter;
pub use event::{Event, SourceId, SourceKind};
pub use request::{Request, WafAction, is_success_status};
pub use scan::{
    CoveredPorts, PortRange, PortState, ScanObservation, ScanTool, ScannerState, Transport, Vantage,
};
pub use sensitive::SensitivePath;
pub use snapshot::Snapshot;
