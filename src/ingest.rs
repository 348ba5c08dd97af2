//! Reading sources into normalized events: line splitting, gzip, format detection, parsers.
//!
//! Pure with respect to terminals and async runtimes: everything here works over byte slices
//! and `io::Read`. The follower (`crate::follow`) and `analyze` both drive these parsers.

pub mod access;
pub mod clickhouse;
pub mod decoder;
pub mod expand;
pub(crate) mod lines;
pub mod scan;
pub mod source;
pub mod stats;

pub use lines::{Line, LineSplitter, MAX_LINE_BYTES, as_lf, line_end_of};
pub use stats::SourceStats;
