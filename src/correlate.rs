//! The correlator: normalized events in, exposure windows, actors and source health out.
//!
//! Pure and synchronous: no clock reads, no I/O. The result depends only on the *set* of
//! events applied (never on order or batching). `now` is the explicit `as_of` of a snapshot.
//! It uses `model` only: the shells (`batch`, `follow`) read the files and hand it a `Setup`
//! (built by `config::CaseConfig::setup`, addresses already parsed) and a `ScannerDb`
//! (loaded by `config::CaseConfig::load_scanners`).
//!
//! # Rules (see `leakline analyze` in the README for the user-facing statement)
//! - External request: client (after proxy resolution, done by the parser) in neither
//!   `internal` nor `allow`. IPv4-mapped IPv6 clients count as their IPv4 address.
//! - Positive evidence for service S: an external request logged by one of S's access
//!   sources (any status), or an external-vantage scan observation of S that is `open`.
//! - Negative evidence: an external-vantage scan observation of S that is `closed`,
//!   `filtered` or `unreachable`. `ambiguous` (nmap `open|filtered`…) and `host_finding`
//!   observations are neither: kept as `ScanMark`s and counted per source (`scan_states`).
//!   Internal-vantage scans are kept as `ScanMark`s only.
//! - A down host is one observation without a port carrying the ports its scan covered: it
//!   applies to every address of its host whose port is covered (and to addresses without a
//!   port), including `host:port` services created later (host-level observations are kept per
//!   host, one entry each).
//! - A request without a client address is *unattributed*: counted, never evidence.
//! - Total order of evidence: time; at equal times positive before negative; then source id,
//!   then line. "First" (first external, first non-scanner success) is the minimum in
//!   (time, source id, line).
//! - Windows: with the distinct negative times n1 < n2 < … < nk, segment i holds the
//!   positives in (n(i-1), n(i)] (a positive at exactly a negative's time sorts before it).
//!   Every non-empty segment is one window — precisely "a maximal run of positive evidence
//!   with no negative evidence between". Bounds: `opened_earliest` = n(i-1) or null,
//!   `opened_latest` = first positive, `closed_earliest` = last positive, `closed_latest` =
//!   n(i) or null (open). No closing by silence.
//! - Scan targets: an observation attaches to every configured service whose `addresses`
//!   match. A target matching none becomes its own `host:port` service only when at least
//!   one observation of it is `open` (any vantage) and names an address (a host-name-only
//!   finding attaches only to services listing that name); it then carries its whole scan history
//!   (observations seen before the first `open` are kept aside and replayed, so arrival
//!   order does not matter). Negative-only unmatched targets (a LAN sweep's down hosts,
//!   closed ports) are not services: each scan source's health counts them
//!   (`unmatched.targets` distinct targets, `unmatched.observations`).
//! - `evidence.positive` = positive items in the window (requests + open scans);
//!   `evidence.negative` = negative observations at `closed_latest` (all observations at that
//!   instant — several ports or tools may report it), 0 while open.
//!
//! # State and memory
//! Per service: the distinct negative times (few: one per scan run) with counts, and
//! positive aggregates (`windows::Cell`: counts, bytes, first/last positive time, first hit,
//! the set of actors with each one's first success, path counts). Two modes:
//! - *detail* (default, live): one cell per exact positive timestamp, so any later negative —
//!   even a sub-second one inside a busy second — splits the evidence exactly. Memory grows
//!   with the number of distinct (timestamp, actor) and (timestamp, path) pairs of *external*
//!   traffic; internal traffic costs one counter per minute.
//! - *sealed* (`Correlator::seal`, batch after all scans): one cell per segment, so memory is
//!   O(services × windows × (actors + paths)) and no longer grows with lines.
//! - *compacted live* (`Correlator::compact_before`, called by `watch` once its backfill is
//!   done, `--detail-horizon` behind the newest event, 10 minutes by default): detail older
//!   than the horizon is folded into its segment as in sealed mode; newer evidence stays
//!   exact. Memory is then bounded by the horizon's worth of external traffic plus the
//!   sealed-mode bound; a negative scan arriving later than the horizon inside folded
//!   positives is reported as a gap instead of splitting (`analyze` stays exact).
//!
//! Per actor: totals, first/last seen, services, classification flags, and capped detail
//! (`actors.rs`; not recorded at all under `ActorDetail::Totals`, for outputs that show none). Strings are interned and cut at 1 KiB (`intern.rs`). Windows, distinct
//! clients and first hits are derived at snapshot time (`snapshot.rs`).
//!
//! # Batch parallelism
//! `analyze` parses on every core and records external requests in the parse workers too:
//! after sealing, the correlator hands out shards (`shard.rs`), each owning the actors whose
//! address hashes to it, and gets them back with `absorb`. The batch driver (`src/batch/`,
//! outside the engine: files, threads, hashing) has each shard apply its requests in file
//! order (`batch/pipeline.rs`), so the result is the serial one, byte for byte, whatever the
//! number of threads; `tests/batch_shards.rs` checks it against a serial run.

pub mod actors;
pub mod changes;
pub mod classify;
pub mod coverage;
mod dense;
pub mod engine;
pub mod fingerprint;
pub mod groups;
pub(crate) mod intern;
pub(crate) mod scan_match;
pub(crate) mod shard;
pub(crate) mod snapshot;
mod tally;
pub(crate) mod windows;

pub use engine::{
    ActorDetail, ClientFilter, Correlator, RequestView, ServiceSetup, Setup, SourceInfo,
};
