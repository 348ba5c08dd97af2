//! leakline: exposure windows, actors and a containment journal from access logs and
//! scanner output.
//!
//! The engine (`model`, `ingest`, `correlate`, `playbook`, `report`) is pure and synchronous;
//! `follow` and `tui` are the async shells around it; the CLI lives in the binary.

pub mod case;
pub mod config;
pub mod correlate;
pub mod enrich;
pub mod follow;
pub mod ingest;
pub mod model;
pub mod playbook;
pub mod report;
pub mod tui;
