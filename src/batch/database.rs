//! Database sources in a batch run (`clickhouse = { … }`): the pull is opened here, its rows
//! go through the pipeline like a file's lines (JSON lines, `json` format with the identity
//! field map), and once they have all been read the per-minute count of the rows the
//! server kept is applied and the evidence recorded in the source's health.
//!
//! A failure at any point (server down, authentication, a missing column, a query error, a
//! cut stream) leaves the source *unread* with the server's message: coverage lists it,
//! the services it feeds are `unknown`, and `analyze` exits 4. Rows already applied stay.

use chrono::{DateTime, Utc};

use crate::config::CaseConfig;
use crate::correlate::engine::Correlator;
use crate::ingest::clickhouse::{
    ClickHouseError, ClickHouseSpec, Puller, Pushdown, RowStream, StreamEnd,
};
use crate::model::SourceId;
use crate::model::snapshot::DatabaseEvidence;

/// The format name database sources show.
pub const FORMAT: &str = "clickhouse";

/// What the pull may leave to the server: the time range, and which clients are ours.
pub(super) fn pushdown(
    config: &CaseConfig,
    (since, until): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> Pushdown {
    Pushdown {
        since,
        until,
        ours: config.internal.iter().chain(&config.allow).copied().collect(),
        trusted_proxies: config.trusted_proxies.clone(),
    }
}

/// Connect and send the query for the rows leakline reads.
pub(super) fn open(
    spec: &ClickHouseSpec,
    push: &Pushdown,
) -> Result<(RowStream, Puller), ClickHouseError> {
    let puller = Puller::connect(spec)?;
    let stream = puller.external(push)?;
    Ok((stream, puller))
}

/// A database source's evidence without analysing its rows: the rows are hashed as
/// received and dropped, the per-minute count is run (`case init` records this).
pub fn pull_evidence(
    config: &CaseConfig,
    spec: &ClickHouseSpec,
) -> Result<DatabaseEvidence, ClickHouseError> {
    let push = pushdown(config, (None, None));
    let (stream, puller) = open(spec, &push)?;
    let mut queries = vec![stream.query().to_string()];
    let end = stream.for_each_row(|_, _| {});
    if let Some(e) = end.error() {
        return Err(e);
    }
    let (rows, bytes, sha) = end.finished().unwrap_or_default();
    let sha256_sum = end.sha256_sum();
    let (query, minutes) = puller.internal(&push)?;
    queries.extend(query);
    Ok(DatabaseEvidence {
        kind: FORMAT.to_string(),
        server_version: puller.server_version().to_string(),
        queries,
        rows,
        rows_counted: minutes.iter().map(|m| m.rows).sum(),
        bytes,
        sha256: Some(sha),
        sha256_sum,
        error: None,
        live: None,
    })
}

/// Mark the source unread with `error` (keeping whatever evidence is already recorded).
pub(super) fn failed(c: &mut Correlator, id: SourceId, error: &ClickHouseError) {
    let h = c.source_mut(id);
    h.format = FORMAT.to_string();
    h.sha256 = None;
    h.errors.push(error.to_string());
    let db = h.database.get_or_insert_with(|| DatabaseEvidence {
        kind: FORMAT.to_string(),
        ..DatabaseEvidence::default()
    });
    db.sha256 = None;
    db.sha256_sum = None;
    db.error = Some(error.to_string());
}

/// After the rows: record what was received, then count the rows the server kept.
pub(super) fn finish(
    c: &mut Correlator,
    id: SourceId,
    puller: &Puller,
    end: &StreamEnd,
    push: &Pushdown,
    mut queries: Vec<String>,
) {
    let mut db = DatabaseEvidence {
        kind: FORMAT.to_string(),
        server_version: puller.server_version().to_string(),
        rows: end.rows(),
        ..DatabaseEvidence::default()
    };
    let finished = end.finished();
    if let Some((_, bytes, _)) = &finished {
        db.bytes = *bytes;
    }
    db.queries.clone_from(&queries);
    c.source_mut(id).database = Some(db);
    let Some((_, _, sha)) = finished else {
        let error = end.error().unwrap_or_else(|| ClickHouseError::Setup {
            source_name: c.source_mut(id).path.clone(),
            message: "the stream ended without a result".into(),
        });
        failed(c, id, &error);
        return;
    };
    let minutes = match puller.internal(push) {
        Ok((query, minutes)) => {
            queries.extend(query);
            minutes
        }
        Err(e) => {
            failed(c, id, &e);
            return;
        }
    };
    let per_minute: Vec<(i64, u64)> = minutes.iter().map(|m| (m.minute, m.rows)).collect();
    c.apply_internal_counts(id, &per_minute);
    let counted: u64 = minutes.iter().map(|m| m.rows).sum();
    let h = c.source_mut(id);
    h.format = FORMAT.to_string();
    h.sha256 = Some(sha.clone());
    h.lines += counted;
    h.events += counted;
    for m in &minutes {
        h.first_event = Some(h.first_event.map_or(m.first, |t| t.min(m.first)));
        h.last_event = Some(h.last_event.map_or(m.last, |t| t.max(m.last)));
    }
    if let Some(db) = &mut h.database {
        db.queries = queries;
        db.rows_counted = counted;
        db.sha256 = Some(sha);
        db.sha256_sum = end.sha256_sum();
    }
}
