//! leakline: exposure windows, actors and a containment journal from access logs and
//! scanner output.
//!
//! # Data flow
//!
//! 1. `config` resolves `leakline.toml` (or the quick flags) into a `CaseConfig`: services,
//!    the `sources()` list (which fixes the source ids), addresses, scanner lists.
//! 2. `ingest` turns each source's bytes into normalized `model` events (`ingest::decoder`,
//!    one per source: line splitting, format detection, the format parsers).
//! 3. `correlate`, the pure engine, applies the events and takes a `model::Snapshot`
//!    (windows, actors, source health); `batch` drives it over files, `follow` over live ones.
//! 4. `playbook` checks steps against the snapshot, `case` keeps the hash-chained journal,
//!    `report` writes JSON, Markdown and HTML (secrets replaced by `redact`).
//! 5. `tui` draws snapshots (`watch`, `demo`); the CLI (`src/cli/`, in the binary) wires it.
//!
//! The engine (`model`, `ingest`, `correlate`, `playbook`, `report`) is pure and synchronous;
//! `batch` (files, threads, hashing) and `follow` (live files, async) feed it, `tui` draws it.
//!
//! Modules, lowest first (`tests/module_graph.rs` keeps the top-level graph a DAG):
//! - `model`: plain data (events, snapshot, addresses, sensitive paths, client filter);
//!   `text`: what may reach a terminal, and how bytes, durations and times are written.
//! - `redact`: secret redaction of model strings.
//! - `correlate`: the pure engine (uses `model` only): events in, snapshot out.
//! - `ingest`: decoders of access logs and scanner output.
//! - `config`: `leakline.toml` and the quick flags, resolved into a `CaseConfig`; its
//!   `sources()` list, the correlator's `Setup` and the scanner lists.
//! - `batch`, `follow`: the two drivers (every file once, in parallel; live files).
//! - `playbook`, `case`, `report`, `tui`: checklists, the case journal, exports, the dashboard.
//!
//! # Where to change what
//!
//! - **An access-log format**: a variant of `ingest::access::AccessFormat` (its `name()` is
//!   the public `--log-format` / `format =` name), a parser module in `src/ingest/access/`
//!   (fill the reused `Request`, never allocate per line), its arm in
//!   `AccessParser::parse_line_in`, detection in `src/ingest/access/detect.rs`, a fixture with
//!   provenance under `tests/fixtures/access/`, and the README's format table.
//! - **A scanner format**: a variant of `ingest::scan::ScanFormat` (its name in `name()`, an
//!   entry in `ALL`), its constructor in `ScanFormat::parser` (the one dispatch table), a module
//!   in `src/ingest/scan/` implementing `LineParser` or `RecordParser`, detection in
//!   `src/ingest/scan/detect.rs`.
//! - **A dashboard pane**: a `tui::keymap::View` variant and its binding in
//!   `tui::keymap::KEYMAP` (the help is generated from that table), a module in
//!   `src/tui/panes/` drawing from `&App`, its arm in `tui::view`, and `TestBackend` + insta
//!   snapshots in `tests/tui.rs`. Attacker text goes through `text::sanitize`.
//! - **A playbook verify kind**: a `playbook::VerifyKind` variant with its `name()` (the
//!   compiler then asks for `duration`, `with_duration` and the evaluation in
//!   `src/playbook/verify.rs`), an entry in `VerifyKind::ALL`, and `playbooks/README.md`.
//! - **A report section**: its data in `report::model::ReportModel` (built once in
//!   `ReportModel::build`), laid out by `src/report/markdown.rs` and `src/report/html.rs`;
//!   golden files in `tests/fixtures/report/snapshots/`. Text goes through `report::escape`.
//! - **A unit, a time format, or a character that must not reach a terminal**: [`text`] only.

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
pub mod text;
pub mod tui;
