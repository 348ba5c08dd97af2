//! Validation and layering of the raw file and CLI flags into a `CaseConfig`.
//!
//! Layering: CLI flags > file > default. List-valued flags (`--access`, `--scan`,
//! `--internal`, `--trusted-proxy`) *add* to what the file says. Defaults: name = the config
//! file stem (or `leakline case`), timezone UTC, `internal` = the private, loopback and
//! link-local ranges when the file has no `internal` key (an explicit `internal = []` means
//! "no client is ours").

use std::path::{Path, PathBuf};

use ipnet::IpNet;
use toml::Spanned;

use super::file::{
    RawAccessTable, RawClickHouse, RawConfig, RawEnrich, RawRangeTable, RawScans, RawService,
};
use super::{
    AccessSpec, AddressSpec, CaseConfig, EnrichConfig, RangeSpec, ScanSpec, ServiceConfig, Vantage,
    parse_net,
};
use crate::ingest::access::{AccessFormat, FieldMap};
use crate::ingest::clickhouse::{ChFrom, ClickHouseSpec};
use crate::ingest::scan::ScanFormat;

/// Clients that are ours unless the config says otherwise (RFC 1918, loopback, link-local,
/// IPv6 unique-local).
pub const DEFAULT_INTERNAL: [&str; 8] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
];

/// A configuration problem. Every variant names the file, line and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}:{line}: {message}")]
    Invalid { path: PathBuf, line: usize, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
}

/// The quick flags that cover the no-config case (and add to a config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuickFlags {
    /// `[SERVICE=]GLOB`; the service defaults to the file stem.
    pub access: Vec<String>,
    pub scan: Vec<String>,
    pub internal: Vec<String>,
    pub trusted_proxy: Vec<String>,
    /// `--format` for every access source given by flag.
    pub format: Option<String>,
    /// `--mmdb FILE`: MaxMind-format databases (add to `[enrich] mmdb`).
    pub mmdb: Vec<String>,
    /// `--ranges FILE`: range files (add to `[enrich] ranges`).
    pub ranges: Vec<String>,
}

impl QuickFlags {
    /// `true` when no flag adds a source.
    #[must_use]
    pub fn has_sources(&self) -> bool {
        !self.access.is_empty() || !self.scan.is_empty()
    }
}

/// Where a value came from, for error messages.
struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        memchr::memchr_iter(b'\n', &self.text.as_bytes()[..end]).count() + 1
    }

    fn err<T>(&self, spanned: &Spanned<T>, message: String) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: self.line_of(spanned.span().start),
            message,
        }
    }
}

/// Load and validate a config file.
pub fn load(path: &Path) -> Result<CaseConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?;
    let base_dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base_dir = std::path::absolute(&base_dir).unwrap_or(base_dir);
    parse_str(&text, path, &base_dir)
}

/// Parse and validate config text; `path` is only used in messages, relative paths in the
/// file are resolved against `base_dir`.
pub fn parse_str(text: &str, path: &Path, base_dir: &Path) -> Result<CaseConfig, ConfigError> {
    let ctx = Ctx { path, text };
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        line: e.span().map_or(1, |s| ctx.line_of(s.start)),
        message: e.message().trim().to_string(),
    })?;
    let name = match &raw.name {
        Some(n) if n.get_ref().trim().is_empty() => {
            return Err(ctx.err(n, "`name` must not be empty".into()));
        }
        Some(n) => n.get_ref().clone(),
        None => path
            .file_stem()
            .map_or_else(|| "leakline case".to_string(), |s| s.to_string_lossy().into_owned()),
    };
    let timezone = match &raw.timezone {
        Some(tz) => tz.get_ref().parse::<chrono_tz::Tz>().map_err(|_| {
            ctx.err(
                tz,
                format!(
                    "unknown time zone `{}`: expected an IANA name such as `UTC` or `Europe/Paris`",
                    tz.get_ref()
                ),
            )
        })?,
        None => chrono_tz::UTC,
    };
    let internal = match &raw.internal {
        Some(list) => cidrs(&ctx, "internal", list)?,
        None => default_internal(),
    };
    let trusted_proxies = cidrs(&ctx, "trusted_proxies", &raw.trusted_proxies)?;
    let allow = cidrs(&ctx, "allow", &raw.allow)?;
    let mut services: Vec<ServiceConfig> = Vec::new();
    for s in &raw.services {
        let svc = service(&ctx, base_dir, s)?;
        if services.iter().any(|o| o.name == svc.name) {
            return Err(ctx.err(&s.name, format!("duplicate service name `{}`", svc.name)));
        }
        services.push(svc);
    }
    let scans = raw.scans.iter().map(|s| scan_spec(&ctx, base_dir, s)).collect::<Result<_, _>>()?;
    let scanners = raw
        .scanners
        .iter()
        .map(|s| {
            if s.get_ref().is_empty() {
                Err(ctx.err(s, "`scanners` entries must be file paths".into()))
            } else {
                Ok(base_dir.join(s.get_ref()))
            }
        })
        .collect::<Result<_, _>>()?;
    let enrich = match &raw.enrich {
        Some(e) => enrich(&ctx, base_dir, e)?,
        None => EnrichConfig::default(),
    };
    Ok(CaseConfig {
        path: Some(path.to_path_buf()),
        base_dir: base_dir.to_path_buf(),
        name,
        timezone,
        internal,
        trusted_proxies,
        allow,
        services,
        scans,
        scanners,
        enrich,
    })
}

/// `[enrich]`: paths resolved against the config's directory; `class` must be `scanner`.
fn enrich(ctx: &Ctx<'_>, base_dir: &Path, raw: &RawEnrich) -> Result<EnrichConfig, ConfigError> {
    let file = |s: &Spanned<String>, key: &str| {
        if s.get_ref().trim().is_empty() {
            Err(ctx.err(s, format!("`enrich.{key}` entries must be file paths")))
        } else {
            Ok(base_dir.join(s.get_ref()))
        }
    };
    let mmdb = raw.mmdb.iter().map(|s| file(s, "mmdb")).collect::<Result<_, _>>()?;
    let mut ranges = Vec::new();
    for item in &raw.ranges {
        let spec = match item.get_ref() {
            toml::Value::String(p) => {
                let path = file(&Spanned::new(item.span(), p.clone()), "ranges")?;
                RangeSpec { path, name: None, scanner: false }
            }
            toml::Value::Table(t) => {
                let table: RawRangeTable =
                    toml::Value::Table(t.clone()).try_into().map_err(|e: toml::de::Error| {
                        ctx.err(item, format!("`enrich.ranges`: {}", e.message().trim()))
                    })?;
                let scanner = match table.class.as_deref() {
                    None => false,
                    Some("scanner") => true,
                    Some(other) => {
                        return Err(ctx.err(
                            item,
                            format!("`enrich.ranges`: class `{other}`: expected `scanner`"),
                        ));
                    }
                };
                let path = file(&Spanned::new(item.span(), table.path), "ranges")?;
                RangeSpec { path, name: table.name.filter(|n| !n.is_empty()), scanner }
            }
            _ => {
                return Err(ctx.err(
                    item,
                    "`enrich.ranges` entries are file paths or tables `{ path = \"…\", class = \"scanner\" }`".into(),
                ));
            }
        };
        ranges.push(spec);
    }
    Ok(EnrichConfig { mmdb, ranges })
}

fn default_internal() -> Vec<IpNet> {
    DEFAULT_INTERNAL.iter().filter_map(|s| s.parse().ok()).collect()
}

fn cidrs(ctx: &Ctx<'_>, key: &str, list: &[Spanned<String>]) -> Result<Vec<IpNet>, ConfigError> {
    list.iter()
        .map(|s| {
            parse_net(s.get_ref()).ok_or_else(|| {
                ctx.err(
                    s,
                    format!(
                        "`{key}`: `{}` is not a CIDR: expected e.g. `10.0.0.0/8`, `2001:db8::/32` or a single address",
                        s.get_ref()
                    ),
                )
            })
        })
        .collect()
}

/// Join a relative glob to the base directory, escaping the directory's own glob characters.
fn absolute_glob(base_dir: &Path, pattern: &str) -> String {
    if pattern == "-" || Path::new(pattern).is_absolute() {
        return pattern.to_string();
    }
    let base = glob::Pattern::escape(&base_dir.to_string_lossy());
    let base = base.trim_end_matches(std::path::MAIN_SEPARATOR);
    format!("{base}{}{pattern}", std::path::MAIN_SEPARATOR)
}

fn check_glob(pattern: &str) -> Result<(), String> {
    if pattern.trim().is_empty() {
        return Err("expected a file path or glob, found an empty string".into());
    }
    glob::Pattern::new(pattern).map(|_| ()).map_err(|e| format!("bad glob `{pattern}`: {e}"))
}

fn access_format(name: &str) -> Result<AccessFormat, String> {
    AccessFormat::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = AccessFormat::ALL.iter().map(|f| f.name()).collect();
        format!("unknown access format `{name}`: expected one of {}", names.join(", "))
    })
}

fn scan_format(name: &str) -> Result<ScanFormat, String> {
    ScanFormat::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = ScanFormat::ALL.iter().map(|f| f.name()).collect();
        format!("unknown scan format `{name}`: expected one of {}", names.join(", "))
    })
}

/// Parse `host:port`, `ip:port`, `[v6]:port`, a bare IP or a bare host name.
fn parse_address(addr: &str) -> Result<AddressSpec, String> {
    AddressSpec::parse(addr).ok_or_else(|| {
        format!(
            "bad address `{addr}`: expected `ip:port`, `host:port`, `[ipv6]:port`, an IP or a host name"
        )
    })
}

fn service(ctx: &Ctx<'_>, base_dir: &Path, raw: &RawService) -> Result<ServiceConfig, ConfigError> {
    let name = raw.name.get_ref().trim().to_string();
    if name.is_empty() {
        return Err(ctx.err(&raw.name, "service `name` must not be empty".into()));
    }
    let mut addresses = Vec::with_capacity(raw.addresses.len());
    for a in &raw.addresses {
        addresses.push(parse_address(a.get_ref()).map_err(|m| ctx.err(a, m))?);
    }
    let default_format = match &raw.format {
        Some(f) => Some(access_format(f.get_ref()).map_err(|m| ctx.err(f, m))?),
        None => None,
    };
    let mut access = Vec::new();
    for item in &raw.access {
        let spec = match item.get_ref() {
            toml::Value::String(pattern) => {
                check_glob(pattern).map_err(|m| ctx.err(item, m))?;
                AccessSpec {
                    pattern: absolute_glob(base_dir, pattern),
                    format: default_format,
                    fields: raw.fields.clone(),
                    clickhouse: None,
                }
            }
            toml::Value::Table(t) => {
                let table: RawAccessTable =
                    toml::Value::Table(t.clone()).try_into().map_err(|e: toml::de::Error| {
                        ctx.err(item, format!("access table: {}", e.message().trim()))
                    })?;
                let format = match &table.format {
                    Some(f) => Some(access_format(f).map_err(|m| ctx.err(item, m))?),
                    None => default_format,
                };
                let fields: Option<FieldMap> = table.fields.or_else(|| raw.fields.clone());
                match (table.path, table.clickhouse) {
                    (Some(path), None) => {
                        check_glob(&path).map_err(|m| ctx.err(item, m))?;
                        let pattern = absolute_glob(base_dir, &path);
                        AccessSpec { pattern, format, fields, clickhouse: None }
                    }
                    (None, Some(ch)) => {
                        let spec = clickhouse_spec(ch).map_err(|m| ctx.err(item, m))?;
                        AccessSpec {
                            pattern: spec.display_name(),
                            format: Some(AccessFormat::JsonMapped),
                            fields: None,
                            clickhouse: Some(Box::new(spec)),
                        }
                    }
                    _ => {
                        return Err(ctx.err(
                            item,
                            "an access table needs exactly one of `path` or `clickhouse`".into(),
                        ));
                    }
                }
            }
            other => {
                return Err(ctx.err(
                    item,
                    format!(
                        "`access` items must be glob strings or tables with `path`, found a {}",
                        other.type_str()
                    ),
                ));
            }
        };
        access.push(spec);
    }
    let mut sensitive = Vec::new();
    for rule in &raw.sensitive {
        let at = if rule.label.get_ref().trim().is_empty() { &rule.label } else { &rule.path };
        let compiled = crate::model::SensitivePath::new(rule.path.get_ref(), rule.label.get_ref())
            .map_err(|m| ctx.err(at, format!("service `{name}`: {m}")))?;
        sensitive.push(compiled);
    }
    Ok(ServiceConfig { name, addresses, access, sensitive })
}

/// Validate a `clickhouse = { … }` table.
fn clickhouse_spec(raw: RawClickHouse) -> Result<ClickHouseSpec, String> {
    if raw.password.is_some() {
        return Err("clickhouse: a password never belongs in the config file: put it in an \
             environment variable and name it with `password_env`"
            .into());
    }
    let url = raw.url.trim().to_string();
    let Some(rest) = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")) else {
        return Err(format!(
            "clickhouse: `url` must start with http:// or https://, found `{url}`"
        ));
    };
    if rest.split('/').next().is_some_and(|authority| authority.contains('@')) {
        return Err(
            "clickhouse: `url` must not carry credentials: use `user` and `password_env`".into()
        );
    }
    let from = match (raw.table, raw.query) {
        (Some(t), None) => {
            let ok = !t.is_empty()
                && t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'));
            if !ok {
                return Err(format!(
                    "clickhouse: `table` must be `name` or `database.name`, found `{t}` (use `query` for anything else)"
                ));
            }
            ChFrom::Table(t)
        }
        (None, Some(q)) if !q.trim().is_empty() => ChFrom::Query(q),
        _ => return Err("clickhouse: give exactly one of `table` or `query`".into()),
    };
    if raw.fields.time.is_none() {
        return Err("clickhouse: `fields` must map `time` to a column".into());
    }
    if raw.fields.client.is_none()
        && raw.fields.peer.is_none()
        && raw.fields.forwarded_for.is_none()
    {
        return Err(
            "clickhouse: `fields` must map `client`, `peer` or `forwarded_for` to a column".into(),
        );
    }
    if let Some(var) = &raw.password_env
        && (var.is_empty() || var.contains('='))
    {
        return Err(format!(
            "clickhouse: `password_env` must name an environment variable, found `{var}`"
        ));
    }
    let overlap_secs = raw.overlap.as_deref().map(overlap_secs).transpose()?;
    Ok(ClickHouseSpec {
        url,
        from,
        fields: raw.fields,
        filter: raw.filter.filter(|w| !w.trim().is_empty()),
        user: raw.user,
        password_env: raw.password_env,
        overlap_secs,
    })
}

/// The longest `overlap`: the rows of the overlap are remembered (to drop them when asked
/// again), so it bounds that memory.
const MAX_OVERLAP_SECS: u64 = 24 * 3600;

/// `overlap = "30s"`: whole seconds, minutes or hours (`"90s"`, `"5m"`, `"1h"`; a bare
/// number is seconds), at most a day.
fn overlap_secs(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => t.split_at(at),
        None => (t, "s"),
    };
    let scale = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => 0,
    };
    let secs = digits.parse::<u64>().ok().filter(|_| scale > 0).map(|n| n.saturating_mul(scale));
    match secs {
        Some(s) if s <= MAX_OVERLAP_SECS => Ok(s),
        Some(_) => Err(format!("clickhouse: `overlap` is at most 24h, found `{text}`")),
        None => Err(format!(
            "clickhouse: `overlap` must be whole seconds, minutes or hours (\"30s\", \"5m\", \"1h\"), found `{text}`"
        )),
    }
}

fn scan_spec(ctx: &Ctx<'_>, base_dir: &Path, raw: &RawScans) -> Result<ScanSpec, ConfigError> {
    let mut paths = Vec::new();
    for p in &raw.paths {
        check_glob(p.get_ref()).map_err(|m| ctx.err(p, m))?;
        paths.push(absolute_glob(base_dir, p.get_ref()));
    }
    let vantage = match &raw.vantage {
        None => Vantage::External,
        Some(v) => match v.get_ref().as_str() {
            "external" => Vantage::External,
            "internal" => Vantage::Internal,
            other => {
                return Err(ctx.err(
                    v,
                    format!("unknown vantage `{other}`: expected `external` or `internal`"),
                ));
            }
        },
    };
    let format = match &raw.format {
        Some(f) => Some(scan_format(f.get_ref()).map_err(|m| ctx.err(f, m))?),
        None => None,
    };
    Ok(ScanSpec { paths, vantage, format })
}

/// A config with nothing in it, for the quick-flags-only case.
fn empty_config(cwd: &Path) -> CaseConfig {
    CaseConfig {
        path: None,
        base_dir: cwd.to_path_buf(),
        name: "leakline case".to_string(),
        timezone: chrono_tz::UTC,
        internal: default_internal(),
        trusted_proxies: Vec::new(),
        allow: Vec::new(),
        services: Vec::new(),
        scans: Vec::new(),
        scanners: Vec::new(),
        enrich: EnrichConfig::default(),
    }
}

/// The service a `--access` glob feeds when none is named: the file stem (name up to its
/// first `.`), with glob characters removed; `access` when nothing is left.
fn default_service_name(glob_pattern: &str) -> String {
    let file = Path::new(glob_pattern).file_name().map(|f| f.to_string_lossy().into_owned());
    let stem: String = file
        .unwrap_or_default()
        .split('.')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !matches!(c, '*' | '?' | '[' | ']' | '{' | '}'))
        .collect();
    if stem.is_empty() { "access".to_string() } else { stem }
}

/// Apply quick flags on top of an optional config (CLI > file > default).
///
/// Flag paths are relative to `cwd`. A `--access` naming an existing service adds to it;
/// otherwise a new service is appended (in flag order).
pub fn resolve_flags(
    base: Option<CaseConfig>,
    flags: &QuickFlags,
    cwd: &Path,
) -> Result<CaseConfig, ConfigError> {
    let usage = |m: String| ConfigError::Usage(m);
    if base.is_none() && !flags.has_sources() {
        return Err(usage(
            "nothing to analyze: give --config FILE, or at least one --access or --scan".into(),
        ));
    }
    let mut cfg = base.unwrap_or_else(|| empty_config(cwd));
    let format = match &flags.format {
        Some(f) => Some(access_format(f).map_err(|m| usage(format!("--format: {m}")))?),
        None => None,
    };
    for cidr in &flags.internal {
        let net = parse_net(cidr)
            .ok_or_else(|| usage(format!("--internal: `{cidr}` is not a CIDR or address")))?;
        cfg.internal.push(net);
    }
    for cidr in &flags.trusted_proxy {
        let net = parse_net(cidr)
            .ok_or_else(|| usage(format!("--trusted-proxy: `{cidr}` is not a CIDR or address")))?;
        cfg.trusted_proxies.push(net);
    }
    for item in &flags.access {
        let (service, pattern) = match item.split_once('=') {
            Some((svc, pat)) if !svc.is_empty() && !svc.contains(['/', '\\', '*']) => {
                (svc.to_string(), pat.to_string())
            }
            _ => (default_service_name(item), item.clone()),
        };
        check_glob(&pattern).map_err(|m| usage(format!("--access: {m}")))?;
        let spec = AccessSpec {
            pattern: absolute_glob(cwd, &pattern),
            format,
            fields: None,
            clickhouse: None,
        };
        match cfg.services.iter_mut().find(|s| s.name == service) {
            Some(s) => s.access.push(spec),
            None => cfg.services.push(ServiceConfig {
                name: service,
                addresses: Vec::new(),
                access: vec![spec],
                sensitive: Vec::new(),
            }),
        }
    }
    for file in &flags.mmdb {
        cfg.enrich.mmdb.push(cwd.join(file));
    }
    for file in &flags.ranges {
        cfg.enrich.ranges.push(RangeSpec { path: cwd.join(file), name: None, scanner: false });
    }
    for pattern in &flags.scan {
        check_glob(pattern).map_err(|m| usage(format!("--scan: {m}")))?;
        cfg.scans.push(ScanSpec {
            paths: vec![absolute_glob(cwd, pattern)],
            vantage: Vantage::External,
            format: None,
        });
    }
    if cfg.services.is_empty() && cfg.scans.is_empty() {
        let message = "no [[service]] and no [[scans]]: there is no evidence to read (add a service with `access` logs, or a `[[scans]]` entry)";
        return Err(match &cfg.path {
            Some(path) => {
                ConfigError::Invalid { path: path.clone(), line: 1, message: message.into() }
            }
            None => usage(message.into()),
        });
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clickhouse_overlap_is_whole_seconds_minutes_or_hours_up_to_a_day() {
        for (text, secs) in
            [("30s", 30), ("5m", 300), ("1h", 3600), ("45", 45), ("0s", 0), ("24h", 86_400)]
        {
            assert_eq!(overlap_secs(text), Ok(secs), "{text}");
        }
        for text in ["", "s", "1.5m", "-5s", "2d", "30 sec", "25h", "86401"] {
            assert!(overlap_secs(text).is_err(), "{text}");
        }
    }

    fn parse(text: &str) -> Result<CaseConfig, ConfigError> {
        parse_str(text, Path::new("/case/leakline.toml"), Path::new("/case"))
    }

    #[test]
    fn full_example_resolves_paths_and_formats() {
        let cfg = parse(
            r#"
name = "Exposed inference API"
internal = ["10.0.0.0/8"]
trusted_proxies = ["10.1.0.5/32", "10.1.0.6"]

[[service]]
name = "inference-api"
addresses = ["198.51.100.20:443", "api.example.com:443", "[2001:db8::1]:8443"]
access = ["logs/a/access.log*", { path = "logs/b.json", format = "nginx-json" }]
format = "combined"

[[scans]]
paths = ["scans/*"]
vantage = "internal"
"#,
        )
        .unwrap();
        assert_eq!(cfg.name, "Exposed inference API");
        assert_eq!(cfg.internal.len(), 1);
        assert_eq!(cfg.trusted_proxies[1].to_string(), "10.1.0.6/32");
        let svc = &cfg.services[0];
        assert_eq!(svc.access[0].pattern, "/case/logs/a/access.log*");
        assert_eq!(svc.access[0].format, Some(AccessFormat::Combined));
        assert_eq!(svc.access[1].format, Some(AccessFormat::NginxJson));
        assert_eq!(cfg.scans[0].vantage, Vantage::Internal);
        assert_eq!(cfg.scans[0].paths, vec!["/case/scans/*".to_string()]);
    }

    #[test]
    fn table_form_access_is_accepted() {
        let cfg = parse(
            "[[service]]\nname = \"a\"\n[[service.access]]\npath = \"x.json\"\nformat = \"json\"\n[service.access.fields]\ntime = \"ts\"\n",
        )
        .unwrap();
        let spec = &cfg.services[0].access[0];
        assert_eq!(spec.format, Some(AccessFormat::JsonMapped));
        assert_eq!(spec.fields.as_ref().and_then(|f| f.time.clone()), Some("ts".into()));
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = parse("name = \"x\"\n\n[[service]]\nname = \"a\"\nacces = []\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("/case/leakline.toml:5:"), "{msg}");
        assert!(msg.contains("acces"), "{msg}");
    }

    #[test]
    fn bad_cidr_names_line_and_expectation() {
        let err = parse("internal = [\n  \"10.0.0.0/8\",\n  \"10.0.0.0/33\",\n]\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("/case/leakline.toml:3:"), "{msg}");
        assert!(msg.contains("10.0.0.0/33") && msg.contains("expected"), "{msg}");
    }

    #[test]
    fn bad_format_vantage_and_address_are_errors_with_lines() {
        let e = parse("[[service]]\nname = \"a\"\nformat = \"apache2\"\n").unwrap_err();
        assert!(e.to_string().contains(":3:") && e.to_string().contains("combined"), "{e}");
        let e = parse("[[scans]]\npaths = [\"s\"]\nvantage = \"outside\"\n").unwrap_err();
        assert!(e.to_string().contains(":3:"), "{e}");
        let e = parse("[[service]]\nname = \"a\"\naddresses = [\"a b:x\"]\n").unwrap_err();
        assert!(e.to_string().contains(":3:"), "{e}");
        let e = parse("[[service]]\nname = \"a\"\n[[service]]\nname = \"a\"\n").unwrap_err();
        assert!(e.to_string().contains(":4:") && e.to_string().contains("duplicate"), "{e}");
    }

    #[test]
    fn enrich_accepts_strings_inline_tables_and_array_tables() {
        let cfg = parse(
            "[enrich]\nmmdb = [\"db/GeoLite2-ASN.mmdb\"]\nranges = [\"aws.json\", { path = \"tor.txt\", class = \"scanner\" }]\n",
        )
        .unwrap();
        assert_eq!(cfg.enrich.mmdb, [PathBuf::from("/case/db/GeoLite2-ASN.mmdb")]);
        let r = &cfg.enrich.ranges;
        assert_eq!((r[0].path.to_str(), r[0].scanner), (Some("/case/aws.json"), false));
        assert_eq!((r[1].path.to_str(), r[1].scanner), (Some("/case/tor.txt"), true));
        let cfg = parse(
            "[enrich]\nmmdb = []\n[[enrich.ranges]]\npath = \"scanners.txt\"\nclass = \"scanner\"\nname = \"research\"\n[[enrich.ranges]]\npath = \"p.txt\"\n",
        )
        .unwrap();
        assert_eq!(cfg.enrich.ranges.len(), 2);
        assert_eq!(cfg.enrich.ranges[0].name.as_deref(), Some("research"));
        assert!(cfg.enrich.ranges[0].scanner && !cfg.enrich.ranges[1].scanner);
        let e = parse("[enrich]\n\nranges = [{ path = \"a\", class = \"tool\" }]\n").unwrap_err();
        assert!(
            e.to_string().contains(":3:") && e.to_string().contains("expected `scanner`"),
            "{e}"
        );
        let e = parse("[enrich]\nranges = [3]\n").unwrap_err();
        assert!(e.to_string().contains(":2:"), "{e}");
        let e = parse("[enrich]\nmmbd = []\n").unwrap_err();
        assert!(e.to_string().contains("mmbd"), "{e}");
    }

    #[test]
    fn default_internal_applies_only_when_key_is_absent() {
        assert_eq!(parse("").unwrap().internal.len(), DEFAULT_INTERNAL.len());
        assert!(parse("internal = []").unwrap().internal.is_empty());
    }

    #[test]
    fn client_filter_holds_internal_and_allow() {
        let cfg = parse("internal = [\"10.0.0.0/8\"]\nallow = [\"203.0.113.128/25\"]").unwrap();
        let f = cfg.client_filter();
        let external = |s: &str| f.is_external(s.parse().unwrap());
        assert!(!external("10.1.2.3") && !external("203.0.113.200"));
        assert!(external("192.168.1.1") && external("203.0.113.1"));
    }

    #[test]
    fn quick_flags_build_services_from_file_stems() {
        let flags = QuickFlags {
            access: vec!["logs/edge.log*".into(), "api=x/*.json".into(), "api=y.log".into()],
            scan: vec!["scans/*.xml".into()],
            internal: vec!["100.64.0.0/10".into()],
            trusted_proxy: vec!["10.0.0.1".into()],
            format: None,
            mmdb: vec!["db/asn.mmdb".into()],
            ranges: vec!["aws.json".into()],
        };
        let cfg = resolve_flags(None, &flags, Path::new("/w")).unwrap();
        let names: Vec<&str> = cfg.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["edge", "api"]);
        assert_eq!(cfg.services[1].access.len(), 2);
        assert_eq!(cfg.services[0].access[0].pattern, "/w/logs/edge.log*");
        assert_eq!(cfg.scans[0].paths[0], "/w/scans/*.xml");
        assert!(cfg.internal.iter().any(|n| n.to_string() == "100.64.0.0/10"));
        assert_eq!(cfg.enrich.mmdb, [PathBuf::from("/w/db/asn.mmdb")]);
        assert_eq!(cfg.enrich.ranges[0].path, PathBuf::from("/w/aws.json"));
        let e = resolve_flags(None, &QuickFlags::default(), Path::new("/w")).unwrap_err();
        assert!(matches!(e, ConfigError::Usage(_)));
        let bad = QuickFlags { internal: vec!["nope".into()], ..flags };
        assert!(resolve_flags(None, &bad, Path::new("/w")).is_err());
    }
}
