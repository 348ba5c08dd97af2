//! A ClickHouse table (or a user's `SELECT`) as an access source, with the filter pushed
//! down (`docs/scale.md`).
//!
//! The narrow interface: [`Puller::external`] returns a reader of JSON lines, one per row,
//! keyed by leakline's field names (`{"time":…,"client":"…",…}`), that the `json` access
//! parser reads with [`identity_fields`] — exactly as it would read the same rows exported
//! to a file with the same field map. So client resolution (`client`, or `peer` +
//! `forwarded_for` through the trusted proxies) is the files' rule, applied locally.
//!
//! Two queries per pull (plus the server version and a zero-row probe that finds the
//! columns' types and fails early on a missing table or column):
//! - the rows leakline reads: every row in the time range that is *not certainly ours*,
//!   ordered by every column sent (so a later pull of the same rows hashes the same);
//! - a per-minute count (`GROUP BY` minute) of the rows that *are certainly ours*: the
//!   client (or, with no `client` mapped, the peer that is no trusted proxy) is a strict
//!   address text inside `internal` or `allow` (see `sql.rs`), the time is a `DateTime`.
//!
//! The two partition the rows, so nothing is counted twice; rows the SQL cannot decide (a
//! peer that is a trusted proxy, an address with a port, a string time) are sent and
//! decided locally. Rows arrive as `TabSeparated` (the canonical form hashed for the
//! evidence), are converted one at a time, and never held: memory is flat in the row count.
//!
//! Passwords come only from the environment variable the config names; they are sent as
//! HTTP basic auth and never written anywhere (errors name the variable, not its value).

pub mod poll;
pub mod sql;
pub mod tsv;

use std::io::{self, BufRead, BufReader, Read};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use sha2::{Digest, Sha256};

use self::sql::{Column, ColumnKind};
use self::tsv::Shape;
use crate::ingest::access::FieldMap;

/// A `clickhouse = { … }` access source of the case config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickHouseSpec {
    /// `http://host:8123` or `https://…` (no credentials in it).
    pub url: String,
    /// What rows come from.
    pub from: ChFrom,
    /// Column names for leakline's field names (the JSON field map's names).
    pub fields: FieldMap,
    /// An extra condition (SQL) every query must also meet.
    pub filter: Option<String>,
    pub user: Option<String>,
    /// The environment variable holding the password (never the password).
    pub password_env: Option<String>,
    /// `watch`: seconds of row time each poll asks again (config `overlap`; `None`: 30 s).
    pub overlap_secs: Option<u64>,
}

/// A table, or a `SELECT` the user wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChFrom {
    Table(String),
    Query(String),
}

impl ClickHouseSpec {
    /// How the source is named in `sources[]`, coverage and messages:
    /// `clickhouse:URL/TABLE`, or `clickhouse:URL/(query)`.
    #[must_use]
    pub fn display_name(&self) -> String {
        let url = self.url.split('?').next().unwrap_or_default().trim_end_matches('/');
        match &self.from {
            ChFrom::Table(t) => format!("clickhouse:{url}/{t}"),
            ChFrom::Query(_) => format!("clickhouse:{url}/(query)"),
        }
    }

    /// The mapped fields as (leakline name, column), in a fixed order.
    #[must_use]
    pub fn mapped(&self) -> Vec<(&'static str, &str)> {
        let m = &self.fields;
        [
            ("time", &m.time),
            ("client", &m.client),
            ("peer", &m.peer),
            ("forwarded_for", &m.forwarded_for),
            ("method", &m.method),
            ("target", &m.target),
            ("request", &m.request),
            ("protocol", &m.protocol),
            ("status", &m.status),
            ("bytes", &m.bytes),
            ("user_agent", &m.user_agent),
            ("referer", &m.referer),
            ("host", &m.host),
            ("duration", &m.duration),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|c| (k, c)))
        .collect()
    }

    fn source_sql(&self) -> String {
        match &self.from {
            ChFrom::Table(t) => t.clone(),
            ChFrom::Query(q) => format!("({})", q.trim().trim_end_matches(';')),
        }
    }
}

/// The field map the JSON lines of [`Puller::external`] are read with: each mapped field
/// under its own name.
#[must_use]
pub fn identity_fields(spec: &ClickHouseSpec) -> FieldMap {
    let mut m = FieldMap::default();
    for (key, _) in spec.mapped() {
        let slot = match key {
            "time" => &mut m.time,
            "client" => &mut m.client,
            "peer" => &mut m.peer,
            "forwarded_for" => &mut m.forwarded_for,
            "method" => &mut m.method,
            "target" => &mut m.target,
            "request" => &mut m.request,
            "protocol" => &mut m.protocol,
            "status" => &mut m.status,
            "bytes" => &mut m.bytes,
            "user_agent" => &mut m.user_agent,
            "referer" => &mut m.referer,
            "host" => &mut m.host,
            _ => &mut m.duration,
        };
        *slot = Some(key.to_string());
    }
    m
}

/// What the pushdown may leave out.
#[derive(Debug, Clone, Default)]
pub struct Pushdown {
    /// Rows before this are not read (inclusive bound).
    pub since: Option<DateTime<Utc>>,
    /// Rows after this are not read (inclusive bound).
    pub until: Option<DateTime<Utc>>,
    /// `internal` and `allow`: rows certainly from these are only counted per minute.
    pub ours: Vec<IpNet>,
    /// Peers whose X-Forwarded-For is believed (a row through them is decided locally).
    pub trusted_proxies: Vec<IpNet>,
}

/// A ClickHouse source could not be read. Messages carry the server's own when it answered;
/// they do not repeat the source's name (every output shows it beside them, and
/// [`ClickHouseError::source_name`] has it).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ClickHouseError {
    #[error("cannot reach the server: {message}")]
    Unreachable { source_name: String, message: String },
    #[error("authentication refused by the server: {message}")]
    Auth { source_name: String, message: String },
    #[error("query failed (HTTP {status}): {message}")]
    Query { source_name: String, status: u16, message: String },
    #[error("stream cut after {rows} rows: {message}")]
    Cut { source_name: String, rows: u64, message: String },
    #[error("{message}")]
    Setup { source_name: String, message: String },
}

impl ClickHouseError {
    /// The source the error is about (`clickhouse:URL/TABLE`).
    #[must_use]
    pub fn source_name(&self) -> &str {
        match self {
            ClickHouseError::Unreachable { source_name, .. }
            | ClickHouseError::Auth { source_name, .. }
            | ClickHouseError::Query { source_name, .. }
            | ClickHouseError::Cut { source_name, .. }
            | ClickHouseError::Setup { source_name, .. } => source_name,
        }
    }
}

/// The internal rows of one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteCount {
    /// Minutes since the epoch.
    pub minute: i64,
    pub rows: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// A connection to one source's server, with the columns probed.
pub struct Puller {
    spec: ClickHouseSpec,
    name: String,
    client: reqwest::blocking::Client,
    password: Option<String>,
    columns: Vec<(&'static str, String, Column)>,
    version: String,
    /// A limit on each request (`None`: none; see [`Puller::set_timeout`]).
    timeout: Option<Duration>,
}

impl std::fmt::Debug for Puller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Puller").field("source", &self.name).finish_non_exhaustive()
    }
}

/// Install the process's TLS crypto provider, once: `reqwest` is built without one, and
/// every HTTP client (ClickHouse sources, and anyone else's) needs it before it is built.
pub fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // ring rather than aws-lc-rs: it builds without cmake. (Deprecated in rustls 0.23
        // for lacking post-quantum key exchange; plain TLS 1.2/1.3 to a log store is fine.)
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Puller {
    /// Connect: read the password from its variable, ask the server's version, probe the
    /// mapped columns (a missing table or column fails here, with the server's message).
    pub fn connect(spec: &ClickHouseSpec) -> Result<Puller, ClickHouseError> {
        Self::connect_limited(spec, None)
    }

    /// [`Puller::connect`], each request limited to `timeout` (see [`Puller::set_timeout`]).
    pub fn connect_limited(
        spec: &ClickHouseSpec,
        timeout: Option<Duration>,
    ) -> Result<Puller, ClickHouseError> {
        let name = spec.display_name();
        let setup = |message: String| ClickHouseError::Setup { source_name: name.clone(), message };
        let password = match &spec.password_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                setup(format!("the password variable `{var}` is not set (password_env)"))
            })?),
            None => None,
        };
        if spec.fields.time.is_none() {
            return Err(setup("`fields` must map `time` to a column".into()));
        }
        install_tls_provider();
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(None)
            .build()
            .map_err(|e| setup(format!("HTTP client: {e}")))?;
        let mut puller = Puller {
            spec: spec.clone(),
            name,
            client,
            password,
            columns: Vec::new(),
            version: String::new(),
            timeout,
        };
        puller.version = puller.scalar("SELECT version()")?;
        let cols: Vec<String> = spec.mapped().iter().map(|(_, c)| sql::ident(c)).collect();
        let probe = format!(
            "SELECT {} FROM {} LIMIT 0 FORMAT TabSeparatedWithNamesAndTypes",
            cols.join(", "),
            spec.source_sql()
        );
        let text = puller.scalar(&probe)?;
        let types: Vec<&str> = text.lines().nth(1).unwrap_or_default().split('\t').collect();
        if types.len() != cols.len() {
            return Err(puller.cut(0, format!("probe returned {} column types", types.len())));
        }
        puller.columns = spec
            .mapped()
            .into_iter()
            .zip(types)
            .map(|((k, c), t)| (k, c.to_string(), Column::from_type(t)))
            .collect();
        Ok(puller)
    }

    /// Limit each later request (connect, answer and body) to `timeout` (`None`: no limit).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The text of the lower time bound `push.since` puts in the queries
    /// (`` `ts` >= toDateTime(N) ``), for naming it as a parameter; `None` without one.
    #[must_use]
    pub fn since_clause(&self, since: DateTime<Utc>) -> Option<String> {
        let (_, col, c) = self.column("time")?;
        let bound = match c.kind {
            ColumnKind::DateTime => format!("toDateTime({})", since.timestamp()),
            ColumnKind::Unsigned | ColumnKind::Signed => since.timestamp().to_string(),
            _ => return None,
        };
        Some(format!("{} >= {bound}", sql::ident(col)))
    }

    /// Every row (the user's `where` only; internal and external alike) with a time before
    /// `before`, counted per minute: the query and (minute, rows) in minute order.
    pub fn count_per_minute_before(
        &self,
        before: DateTime<Utc>,
    ) -> Result<(String, Vec<(i64, u64)>), ClickHouseError> {
        let Some((_, tcol, tc)) = self.column("time") else { unreachable!("time is mapped") };
        let time = sql::select_expr(tcol, tc, true, false);
        let push = Pushdown {
            until: DateTime::from_timestamp(before.timestamp() - 1, 0),
            ..Pushdown::default()
        };
        let conds = self.common_where(&push)?;
        let query = format!(
            "SELECT intDiv({time}, 60) AS minute, count() FROM {} WHERE {} \
             GROUP BY minute ORDER BY minute FORMAT TabSeparated",
            self.spec.source_sql(),
            conds.join(" AND ")
        );
        let text = self.scalar(&query)?;
        let mut out = Vec::new();
        for (i, line) in text.lines().filter(|l| !l.is_empty()).enumerate() {
            let mut fields = line.split('\t');
            match (
                fields.next().and_then(|m| m.parse().ok()),
                fields.next().and_then(|n| n.parse().ok()),
            ) {
                (Some(m), Some(n)) if fields.next().is_none() => out.push((m, n)),
                _ => {
                    return Err(self
                        .cut(i as u64, format!("per-minute row {}: {}", i + 1, first_line(line))));
                }
            }
        }
        Ok((query, out))
    }

    /// `SELECT version()` as the server answered.
    #[must_use]
    pub fn server_version(&self) -> &str {
        &self.version
    }

    fn column(&self, key: &str) -> Option<&(&'static str, String, Column)> {
        self.columns.iter().find(|(k, _, _)| *k == key)
    }

    /// Whether the `time` column reads as epoch seconds (a `DateTime`, or an integer).
    #[must_use]
    pub fn time_is_epoch(&self) -> bool {
        self.column("time").is_some_and(|(_, _, c)| {
            matches!(c.kind, ColumnKind::DateTime | ColumnKind::Unsigned | ColumnKind::Signed)
        })
    }

    pub(crate) fn setup(&self, message: String) -> ClickHouseError {
        ClickHouseError::Setup { source_name: self.name.clone(), message }
    }

    fn time_is_datetime(&self) -> bool {
        self.column("time").is_some_and(|(_, _, c)| c.kind == ColumnKind::DateTime)
    }

    /// The conditions every query has: the user's `where` and the time range.
    fn common_where(&self, push: &Pushdown) -> Result<Vec<String>, ClickHouseError> {
        let mut w = Vec::new();
        if let Some(f) = &self.spec.filter {
            w.push(format!("({f})"));
        }
        if push.since.is_some() || push.until.is_some() {
            let Some((_, col, c)) = self.column("time") else { unreachable!("time is mapped") };
            let id = sql::ident(col);
            let bound = |t: DateTime<Utc>| match c.kind {
                ColumnKind::DateTime => Ok(format!("toDateTime({})", t.timestamp())),
                ColumnKind::Unsigned | ColumnKind::Signed => Ok(t.timestamp().to_string()),
                _ => Err(ClickHouseError::Setup {
                    source_name: self.name.clone(),
                    message: format!(
                        "--since/--until need a DateTime or epoch-seconds time column; `{col}` is {}",
                        c.type_name
                    ),
                }),
            };
            if let Some(s) = push.since {
                w.push(format!("{id} >= {}", bound(s)?));
            }
            if let Some(u) = push.until {
                w.push(format!("{id} <= {}", bound(u)?));
            }
        }
        Ok(w)
    }

    /// The condition true for rows that are certainly ours (see the module docs), or `None`
    /// when nothing can be decided in SQL.
    #[must_use]
    pub fn ours_predicate(&self, push: &Pushdown) -> Option<String> {
        if !self.time_is_datetime() || push.ours.is_empty() {
            return None;
        }
        let mut conds = Vec::new();
        let (_, tcol, tc) = self.column("time")?;
        if tc.nullable {
            conds.push(format!("isNotNull({})", sql::ident(tcol)));
        }
        if let Some((_, col, c)) = self.column("client") {
            conds.push(sql::in_ranges(&sql::address_text(col, c), &push.ours)?);
        } else if let Some((_, col, c)) = self.column("peer") {
            let text = sql::address_text(col, c);
            conds.push(sql::in_ranges(&text, &push.ours)?);
            if !push.trusted_proxies.is_empty() {
                // A peer no trusted proxy range can match is the client; one that might be
                // is decided locally.
                let trusted = sql::in_ranges(&text, &push.trusted_proxies);
                let all_pushed = push.trusted_proxies.iter().all(|n| match n {
                    IpNet::V4(_) => true,
                    IpNet::V6(v6) => sql::in_ranges("x", &[IpNet::V6(*v6)]).is_some(),
                });
                if !all_pushed {
                    return None;
                }
                if let Some(t) = trusted {
                    conds.push(format!("NOT {t}"));
                }
            }
        } else {
            return None;
        }
        for (key, digits) in [("status", 3), ("bytes", 19)] {
            if let Some((_, col, c)) = self.column(key)
                && let Some(v) = sql::valid_number(col, c, digits)
            {
                conds.push(v);
            }
        }
        Some(format!("({})", conds.join(" AND ")))
    }

    /// The query for the rows leakline reads.
    pub fn external_query(&self, push: &Pushdown) -> Result<String, ClickHouseError> {
        let exprs: Vec<String> = self
            .columns
            .iter()
            .map(|(k, col, c)| {
                sql::select_expr(col, c, *k == "time", matches!(*k, "client" | "peer"))
            })
            .collect();
        let mut w = self.common_where(push)?;
        if let Some(p) = self.ours_predicate(push) {
            w.push(format!("NOT {p}"));
        }
        let mut q = format!("SELECT {} FROM {}", exprs.join(", "), self.spec.source_sql());
        if !w.is_empty() {
            q.push_str(" WHERE ");
            q.push_str(&w.join(" AND "));
        }
        // Ordered by every column sent, so the same rows always come as the same bytes: the
        // SHA-256 of a pull can be compared with a later one (the server sorts; see
        // docs/scale.md for its memory, and `max_bytes_before_external_sort`).
        q.push_str(" ORDER BY ");
        q.push_str(&exprs.join(", "));
        q.push_str(" FORMAT TabSeparated");
        Ok(q)
    }

    /// The per-minute count of the rows that are certainly ours, or `None` when no row can
    /// be decided in SQL.
    pub fn internal_query(&self, push: &Pushdown) -> Result<Option<String>, ClickHouseError> {
        let Some(p) = self.ours_predicate(push) else { return Ok(None) };
        let Some((_, tcol, _)) = self.column("time") else { return Ok(None) };
        let t = format!("toUnixTimestamp({})", sql::ident(tcol));
        let mut w = self.common_where(push)?;
        w.push(p);
        Ok(Some(format!(
            "SELECT intDiv({t}, 60) AS minute, count(), min({t}), max({t}) FROM {} WHERE {} \
             GROUP BY minute ORDER BY minute FORMAT TabSeparated",
            self.spec.source_sql(),
            w.join(" AND ")
        )))
    }

    /// Send the external query; the rows stream as JSON lines through the returned reader.
    pub fn external(&self, push: &Pushdown) -> Result<RowStream, ClickHouseError> {
        let query = self.external_query(push)?;
        let response = self.send(&query)?;
        let keys: Vec<&'static str> = self.columns.iter().map(|(k, _, _)| *k).collect();
        let shapes = self
            .columns
            .iter()
            .map(|(k, _, c)| {
                let epoch = matches!(
                    c.kind,
                    ColumnKind::DateTime | ColumnKind::Unsigned | ColumnKind::Signed
                );
                if *k == "time" && epoch { Shape::Number } else { Shape::Text }
            })
            .collect();
        let state = Arc::new(Mutex::new(StreamState::default()));
        Ok(RowStream {
            name: self.name.clone(),
            query,
            version: self.version.clone(),
            body: BufReader::with_capacity(256 * 1024, Box::new(response)),
            keys,
            shapes,
            row: Vec::new(),
            out: Vec::new(),
            pos: 0,
            hasher: Sha256::new(),
            state,
        })
    }

    /// Run the per-minute query (none when nothing can be pushed down).
    pub fn internal(
        &self,
        push: &Pushdown,
    ) -> Result<(Option<String>, Vec<MinuteCount>), ClickHouseError> {
        let Some(query) = self.internal_query(push)? else { return Ok((None, Vec::new())) };
        let text = self.scalar(&query)?;
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let f: Vec<&str> = line.split('\t').collect();
            let parsed = (f.len() == 4).then(|| {
                Some(MinuteCount {
                    minute: f[0].parse().ok()?,
                    rows: f[1].parse().ok()?,
                    first: DateTime::from_timestamp(f[2].parse().ok()?, 0)?,
                    last: DateTime::from_timestamp(f[3].parse().ok()?, 0)?,
                })
            });
            match parsed.flatten() {
                Some(m) => out.push(m),
                None => {
                    return Err(self
                        .cut(i as u64, format!("per-minute row {}: {}", i + 1, first_line(line))));
                }
            }
        }
        Ok((Some(query), out))
    }

    fn cut(&self, rows: u64, message: String) -> ClickHouseError {
        ClickHouseError::Cut { source_name: self.name.clone(), rows, message }
    }

    /// POST `query`; a non-2xx answer becomes the error it describes.
    fn send(&self, query: &str) -> Result<reqwest::blocking::Response, ClickHouseError> {
        let mut req = self.client.post(&self.spec.url).body(query.to_string());
        if let Some(t) = self.timeout {
            req = req.timeout(t);
        }
        if let Some(user) = &self.spec.user {
            req = req.basic_auth(user, self.password.as_deref());
        }
        let response = req.send().map_err(|e| ClickHouseError::Unreachable {
            source_name: self.name.clone(),
            message: error_chain(&e),
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().unwrap_or_default();
        let message = first_line(&self.scrub(&body)).to_string();
        // 516: AUTHENTICATION_FAILED (code 516 in newer servers; 192/193/194 in 18.16).
        let auth = status.as_u16() == 401
            || status.as_u16() == 403
            || ["Code: 516", "Code: 192", "Code: 193", "Code: 194", "Authentication failed"]
                .iter()
                .any(|m| body.contains(m));
        Err(if auth {
            ClickHouseError::Auth { source_name: self.name.clone(), message }
        } else {
            ClickHouseError::Query {
                source_name: self.name.clone(),
                status: status.as_u16(),
                message,
            }
        })
    }

    /// The whole (small) answer of a query, as text.
    fn scalar(&self, query: &str) -> Result<String, ClickHouseError> {
        let mut text = String::new();
        self.send(query)?.read_to_string(&mut text).map_err(|e| self.cut(0, e.to_string()))?;
        Ok(text.trim_end_matches('\n').to_string())
    }

    /// A server message without the password, should a server ever echo it.
    fn scrub(&self, text: &str) -> String {
        match &self.password {
            Some(p) if !p.is_empty() => text.replace(p.as_str(), "<password>"),
            _ => text.to_string(),
        }
    }
}

fn first_line(text: &str) -> &str {
    text.trim().lines().next().unwrap_or_default()
}

/// A `reqwest` error with its causes (the OS's "connection refused" is in the chain).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// An order-independent digest of rows: the sum, modulo 2^256, of the SHA-256 of each row
/// (as received, with its `\n`) read as a big-endian number. The same rows give the same sum
/// in any order and however they were split between pulls (two identical rows count twice),
/// so a live pull can be compared with one `analyze` pull. For comparing pulls, not as a seal
/// against someone choosing rows to collide (additive multiset hashes are weaker than
/// SHA-256 itself there).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowSum([u64; 4]);

impl RowSum {
    /// Add one row (as received, with its `\n`).
    pub fn add(&mut self, row: &[u8]) {
        let d = Sha256::digest(row);
        let mut carry = false;
        for i in (0..4).rev() {
            let mut limb = [0_u8; 8];
            limb.copy_from_slice(&d[i * 8..i * 8 + 8]);
            let (s, c1) = self.0[i].overflowing_add(u64::from_be_bytes(limb));
            let (s, c2) = s.overflowing_add(u64::from(carry));
            self.0[i] = s;
            carry = c1 || c2;
        }
    }

    /// 64 lower-case hex digits, most significant first.
    #[must_use]
    pub fn hex(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::with_capacity(64);
        for limb in self.0 {
            let _ = write!(s, "{limb:016x}");
        }
        s
    }
}

/// What a [`RowStream`] knows once it has ended (shared, since the stream itself is
/// consumed by the reader it is handed to).
#[derive(Debug, Default, Clone)]
struct StreamState {
    rows: u64,
    bytes: u64,
    sha256: Option<String>,
    sum: RowSum,
    error: Option<ClickHouseError>,
}

/// How a [`RowStream`] ended: its evidence, or the error that cut it.
#[derive(Debug, Clone)]
pub struct StreamEnd(Arc<Mutex<StreamState>>);

impl StreamEnd {
    /// Rows received so far.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.lock().rows
    }

    /// The error that ended the stream, if any.
    #[must_use]
    pub fn error(&self) -> Option<ClickHouseError> {
        self.lock().error.clone()
    }

    /// The [`RowSum`] of the rows, once the stream has ended cleanly.
    #[must_use]
    pub fn sha256_sum(&self) -> Option<String> {
        let s = self.lock();
        s.sha256.as_ref().map(|_| s.sum.hex())
    }

    /// (rows, bytes, SHA-256) once the stream has ended cleanly.
    #[must_use]
    pub fn finished(&self) -> Option<(u64, u64, String)> {
        let s = self.lock();
        s.sha256.clone().map(|h| (s.rows, s.bytes, h))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StreamState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The external rows as JSON lines (see the module docs). A failure never shows as an I/O
/// error to the reader: the stream ends, and [`StreamEnd::error`] says why, so the rows
/// already read stay counted and the source is marked unread.
pub struct RowStream {
    name: String,
    query: String,
    version: String,
    body: BufReader<Box<dyn Read + Send>>,
    keys: Vec<&'static str>,
    shapes: Vec<Shape>,
    row: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    hasher: Sha256,
    state: Arc<Mutex<StreamState>>,
}

impl std::fmt::Debug for RowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream").field("source", &self.name).finish_non_exhaustive()
    }
}

/// Output buffered per refill.
const OUT_BYTES: usize = 256 * 1024;

impl RowStream {
    /// The query that was sent.
    #[must_use]
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The server version learnt at connect.
    #[must_use]
    pub fn server_version(&self) -> &str {
        &self.version
    }

    /// A handle to how the stream ends.
    #[must_use]
    pub fn end(&self) -> StreamEnd {
        StreamEnd(Arc::clone(&self.state))
    }

    fn fail(&mut self, message: String) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if s.error.is_none() && s.sha256.is_none() {
            s.error = Some(ClickHouseError::Cut {
                source_name: self.name.clone(),
                rows: s.rows,
                message,
            });
        }
    }

    /// Read rows until `out` holds some; `false` at the end (or on failure).
    fn refill(&mut self) -> bool {
        self.out.clear();
        self.pos = 0;
        while self.out.len() < OUT_BYTES && self.next_row() {}
        !self.out.is_empty()
    }

    /// Read the next row: its JSON line (with `\n`) is appended to `out`, the row as
    /// received (with its `\n`) is in `row`. `false` at the end of the rows or on failure.
    fn next_row(&mut self) -> bool {
        {
            let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if s.error.is_some() || s.sha256.is_some() {
                return false;
            }
        }
        self.row.clear();
        let n = match self.body.read_until(b'\n', &mut self.row) {
            Ok(n) => n,
            Err(e) => {
                self.fail(error_chain(&e));
                return false;
            }
        };
        if n == 0 {
            let sha = hex::encode(std::mem::take(&mut self.hasher).finalize());
            self.state.lock().unwrap_or_else(PoisonError::into_inner).sha256 = Some(sha);
            return false;
        }
        if self.row.last() != Some(&b'\n') {
            let text = String::from_utf8_lossy(&self.row).into_owned();
            self.fail(format!("the stream ended inside a row: {}", first_line(&text)));
            return false;
        }
        let row = &self.row[..self.row.len() - 1];
        let before = self.out.len();
        if let Err(tsv::RowError::Columns { expected, found }) =
            tsv::row_to_json(row, &self.keys, &self.shapes, &mut self.out)
        {
            self.out.truncate(before);
            let text = String::from_utf8_lossy(row).into_owned();
            let message = if text.contains("Exception") {
                first_line(&text).to_string()
            } else {
                format!("a row with {found} columns, expected {expected}")
            };
            self.fail(message);
            return false;
        }
        self.out.push(b'\n');
        self.hasher.update(&self.row);
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.rows += 1;
        s.bytes += self.row.len() as u64;
        s.sum.add(&self.row);
        true
    }

    /// Read every row, handing `f` the row as received (without its `\n`) and its JSON line
    /// (with its `\n`); how the stream ended is in the returned [`StreamEnd`].
    pub fn for_each_row(mut self, mut f: impl FnMut(&[u8], &[u8])) -> StreamEnd {
        let end = self.end();
        loop {
            self.out.clear();
            if !self.next_row() {
                return end;
            }
            f(&self.row[..self.row.len() - 1], &self.out);
        }
    }
}

impl Read for RowStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() && !self.refill() {
            return Ok(0);
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::net::TcpListener;

    use super::*;

    /// A one-shot HTTP server answering each request (one per connection) with the next of
    /// `answers`, written raw: a real server's answers, then a connection cut mid-row.
    fn fake_server(answers: Vec<Vec<u8>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for answer in answers {
                let Ok((mut conn, _)) = listener.accept() else { return };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ = conn.write_all(&answer);
            }
        });
        url
    }

    fn ok(body: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[test]
    fn the_row_sum_ignores_order_counts_repeats_and_carries() {
        let rows: [&[u8]; 3] = [b"1\ta\n", b"2\tb\n", b"1\ta\n"];
        let mut one = RowSum::default();
        one.add(rows[0]);
        assert_eq!(one.hex(), hex::encode(Sha256::digest(rows[0])));
        let (mut forward, mut backward) = (RowSum::default(), RowSum::default());
        for r in rows {
            forward.add(r);
        }
        for r in rows.iter().rev() {
            backward.add(r);
        }
        assert_eq!(forward, backward);
        let mut twice = one;
        twice.add(rows[0]);
        assert_ne!(twice, one, "a repeated row counts again");
        // 2^256 - 1 plus anything wraps: the carry runs through every limb.
        let mut full = RowSum([u64::MAX; 4]);
        full.add(rows[1]);
        let d = Sha256::digest(rows[1]);
        let mut expect = [0_u8; 32];
        let mut borrow = true;
        for i in (0..32).rev() {
            let (v, b) = d[i].overflowing_sub(u8::from(borrow));
            expect[i] = v;
            borrow = b;
        }
        assert_eq!(full.hex(), hex::encode(expect));
    }

    #[test]
    fn a_connection_cut_mid_stream_is_an_error_and_keeps_the_rows_read() {
        let rows = "1793700000\t203.0.113.9\t200\n1793700001\t203.0.113.9\t404\n1793700002\t203.0";
        let cut = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{rows}",
            rows.len() + 500
        );
        let url = fake_server(vec![
            ok("18.16.1\n"),
            ok("ts\tip\tstatus\nDateTime\tString\tUInt16\n"),
            cut.into_bytes(),
        ]);
        let fields = FieldMap {
            time: Some("ts".into()),
            peer: Some("ip".into()),
            status: Some("status".into()),
            ..FieldMap::default()
        };
        let spec = ClickHouseSpec {
            url,
            from: ChFrom::Table("web.access".into()),
            fields,
            filter: None,
            user: None,
            password_env: None,
            overlap_secs: None,
        };
        let puller = Puller::connect(&spec).unwrap();
        assert_eq!(puller.server_version(), "18.16.1");
        let mut lines = Vec::new();
        let end = puller.external(&Pushdown::default()).unwrap().for_each_row(|_, json| {
            lines.push(String::from_utf8(json.to_vec()).unwrap());
        });
        assert_eq!(
            lines,
            [
                "{\"time\":1793700000,\"peer\":\"203.0.113.9\",\"status\":\"200\"}\n",
                "{\"time\":1793700001,\"peer\":\"203.0.113.9\",\"status\":\"404\"}\n",
            ]
        );
        let error = end.error().expect("the cut is an error");
        assert!(matches!(error, ClickHouseError::Cut { rows: 2, .. }), "{error}");
        assert_eq!(end.finished(), None);
    }
}
