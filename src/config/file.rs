//! The raw TOML shape of `leakline.toml` (serde, `deny_unknown_fields`).
//!
//! Every leaf a user can get wrong is `Spanned`, so `resolve` can name the line of a bad CIDR,
//! glob or format. Nothing here validates values; `resolve.rs` does.
//!
//! Two spellings of access sources are accepted, and may be mixed in one list:
//! ```toml
//! [[service]]
//! name = "api"
//! access = ["logs/a/*.log", "logs/b.json"]   # short form: globs; `format`/`fields` of the service apply
//! format = "combined"                          # optional, for every short-form glob of the service
//!
//! [[service.access]]                           # table form: per-glob format and field map
//! path = "logs/lb/*.json"
//! format = "json"
//! fields = { time = "ts", client = "ip" }
//!
//! [[service.access]]                           # a ClickHouse table (or `query = "SELECT …"`)
//! clickhouse = { url = "http://127.0.0.1:8123", table = "web.access",
//!                fields = { time = "ts", client = "remote_addr" }, password_env = "CH_PASSWORD" }
//! ```

use serde::Deserialize;
use toml::Spanned;

use crate::ingest::access::FieldMap;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub name: Option<Spanned<String>>,
    pub timezone: Option<Spanned<String>>,
    /// `None` when the key is absent (the private-range default applies); `Some([])` is "none".
    pub internal: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub trusted_proxies: Vec<Spanned<String>>,
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    #[serde(default, rename = "service")]
    pub services: Vec<RawService>,
    #[serde(default)]
    pub scans: Vec<RawScans>,
    /// Extra scanner definition files (same shape as `assets/scanners.toml`).
    #[serde(default)]
    pub scanners: Vec<Spanned<String>>,
    /// `[enrich]`: offline databases and range files.
    pub enrich: Option<RawEnrich>,
}

/// `[enrich]`. `ranges` items are file paths or tables (`[[enrich.ranges]]`, or inline
/// `{ path = "…", class = "scanner", name = "…" }`), mixed freely.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnrich {
    #[serde(default)]
    pub mmdb: Vec<Spanned<String>>,
    #[serde(default)]
    pub ranges: Vec<Spanned<toml::Value>>,
}

/// The table form of one `ranges` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRangeTable {
    pub path: String,
    pub class: Option<String>,
    pub name: Option<String>,
}

/// One `[[service]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub name: Spanned<String>,
    #[serde(default)]
    pub addresses: Vec<Spanned<String>>,
    /// Each item is a glob string or an access table (see the module docs).
    #[serde(default)]
    pub access: Vec<Spanned<toml::Value>>,
    pub format: Option<Spanned<String>>,
    pub fields: Option<FieldMap>,
    /// Sensitive path rules: `[{ path = "/v1/models", label = "model list" }]`.
    #[serde(default)]
    pub sensitive: Vec<RawSensitive>,
}

/// One `sensitive` rule of a service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSensitive {
    pub path: Spanned<String>,
    pub label: Spanned<String>,
}

/// The table form of one access entry: a `path` glob, or a `clickhouse` source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccessTable {
    pub path: Option<String>,
    pub format: Option<String>,
    pub fields: Option<FieldMap>,
    pub clickhouse: Option<RawClickHouse>,
}

/// `clickhouse = { url, table | query, fields, where, user, password_env, overlap }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClickHouse {
    pub url: String,
    pub table: Option<String>,
    pub query: Option<String>,
    pub fields: FieldMap,
    #[serde(rename = "where")]
    pub filter: Option<String>,
    pub user: Option<String>,
    pub password_env: Option<String>,
    /// `watch`: how far behind the newest row each poll asks again (`"30s"`, `"5m"`).
    pub overlap: Option<String>,
    /// Refused with a message: a password never belongs in the file.
    pub password: Option<toml::Value>,
}

/// One `[[scans]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScans {
    pub paths: Vec<Spanned<String>>,
    pub vantage: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
}
