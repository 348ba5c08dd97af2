//! leakline: exposure windows, actors and a containment journal from access logs and
//! scanner output.
//!
//! # Data flow
//!
//! 1. `config` reads the case (`leakline.toml`): services, sources, ranges, addresses.
//! 2. `ingest` turns each source's bytes into normalized `model` events (`ingest::decoder`
//!    is the one per-source driver: line splitting, format detection, the format parsers).
//! 3. `correlate` applies events to the pure engine and takes a `model::Snapshot` (windows,
//!    actors, source health); `correlate::batch` drives it over files, `follow` live.
//! 4. `playbook` and `case` check steps against the snapshot and keep the hash-chained
//!    journal; `report` writes JSON, Markdown and HTML from it.
//! 5. `tui` draws snapshots (`watch`, `demo`); the CLI (`src/cli/`, in the binary) wires it all.
//!
//! The engine (`model`, `ingest`, `correlate`, `playbook`, `report`) is pure and synchronous;
//! `follow` and `tui` are the async shells around it. Every string for people goes through
//! [`text`]: the one rule for what may reach a terminal, and the formatters for bytes,
//! durations and times.
//!
//! # Where to change what
//!
//! - **An access-log format**: a variant of `ingest::access::AccessFormat` (its `name()` is
//!   the public `--log-format` / `format =` name), a parser module in `src/ingest/access/` (fill the reused `Request`, never allocate per
//!   line), its arm in `AccessParser::parse_line_in`, detection in `src/ingest/access/detect.rs`, and a
//!   fixture with provenance under `tests/fixtures/access/`. Document it in `README.md`.
//! - **A scanner format**: a variant of `ingest::scan::ScanFormat` (with its name in `name()`
//!   and `ALL`), its constructor in `ScanFormat::parser` (the one dispatch table), a module in
//!   `src/ingest/scan/` implementing `LineParser` or `RecordParser`, detection in
//!   `src/ingest/scan/detect.rs`.
//! - **A dashboard pane**: a `tui::keymap::View` variant and its binding in
//!   `tui::keymap::KEYMAP` (the help is generated from that table), a module in `src/tui/panes/` rendering from `&App`, its arm in `tui::view`, and
//!   `TestBackend` + insta snapshots in `tests/tui.rs`. Attacker text through `text::sanitize`.
//! - **A playbook verify kind**: a `playbook::VerifyKind` variant with its `name()` (the
//!   compiler then asks for `duration`, `with_duration` and the evaluation in
//!   `src/playbook/verify.rs`), an entry in `VerifyKind::ALL`, and `playbooks/README.md`.
//! - **A report section**: the data in `report::model::ReportModel` (built once in
//!   `ReportModel::build`), rendered by `src/report/markdown.rs` and `src/report/html.rs`;
//!   golden files in `tests/fixtures/report/snapshots/`. Text through `report::escape`.
//! - **A byte, duration or time format, or a character that must not reach a terminal**:
//!   [`text`] only.

pub mod case;
pub mod config;
pub mod correlate;
pub mod follow;
pub mod ingest;
pub mod model;
pub mod playbook;
pub mod report;
pub mod text;
pub mod tui;
