//! The correlator: normalized events in, exposure windows, actors and source health out.
//!
//! Pure and synchronous: no clock reads, no I/O. The result depends only on the *set* of
//! events applied (never on order or batching). `now` is the explicit `as_of` of a snapshot.

pub mod changes;
pub mod engine;

pub use engine::{Correlator, SourceInfo};
