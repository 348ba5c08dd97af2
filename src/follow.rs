//! The live shell: followers that tail sources through rotation and truncation, and the
//! session that feeds their events into the correlator and publishes snapshots.
//!
//! This module may use tokio and notify; the engine it drives (`ingest`, `correlate`) may not.
//! Layers, bottom up: `identity` (what makes two files the same content), `tailer` (one glob's
//! files → ordered bytes per content stream, synchronous, clock passed in), `runner` (a named
//! thread per glob woken by notify or a periodic stat; bytes → `Decoder` → batches of events on
//! a bounded channel), `session` (the engine task that owns the `Correlator`).

mod engine;
pub mod identity;
mod runner;
pub mod session;
pub mod tailer;

pub use runner::STDIN;
pub use session::{Clock, LiveItem, Session, SessionOptions, SessionStatus};
