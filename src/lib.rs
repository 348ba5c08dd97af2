//! leakline: exposure windows, actors and a containment journal from access logs and
//! scanner output.
//!
//! The engine (`model`, `ingest`, `correlate`, `playbook`, `report`) is pure and synchronous;
//! `batch` (the `analyze` driver: files, threads, hashing) and `follow` (live files, async) feed
//! it, `tui` draws it; the CLI lives in the binary (`src/cli/`).
//!
//! Modules, lowest first (`tests/module_graph.rs` keeps the top-level graph a DAG):
//! - `model`: plain data (events, snapshot, addresses, sensitive paths, client filter).
//! - `redact`: secret redaction of model strings.
//! - `correlate`: the pure engine (uses `model` only): events in, snapshot out.
//! - `ingest`: decoders of access logs and scanner output.
//! - `config`: `leakline.toml` and the quick flags, resolved into a `CaseConfig`; its
//!   `sources()` list (which fixes the source ids), the correlator's `Setup` and the scanner
//!   lists.
//! - `batch`, `follow`: the two drivers (every file once, in parallel; live files).
//! - `playbook`, `case`, `report`, `tui`: checklists, the case journal, exports, the dashboard.

pub mod batch;
pub mod case;
pub mod config;
pub mod correlate;
pub mod enrich;
pub mod follow;
pub mod ingest;
pub mod model;
pub mod playbook;
pub mod redact;
pub mod report;
pub mod tui;
