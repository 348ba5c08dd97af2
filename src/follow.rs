//! The live shell: followers that tail sources through rotation and truncation, and the
//! session that feeds their events into the correlator and publishes snapshots.
//!
//! This module may use tokio and notify; the engine it drives (`ingest`, `correlate`) may not.

pub mod session;

pub use session::{Clock, LiveItem, Session, SessionOptions};
