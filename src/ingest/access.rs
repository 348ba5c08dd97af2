//! Access-log formats: detection and line parsers (one file per format family).
//!
//! Contract: `AccessParser::parse_line` fills a reused `Request` in place and returns what the
//! line was. It never panics on any input and never allocates per line on the hot path beyond
//! growing the reused buffers.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::Request;

/// Every access-log format leakline understands. Names (`name()`) are a public interface:
/// they appear in `--format`, `format = "..."` in the config, and `inspect` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessFormat {
    /// nginx/Apache common and combined (optional vhost, trailing extras).
    Combined,
    NginxJson,
    Caddy,
    Traefik,
    EnvoyJson,
    EnvoyText,
    Alb,
    CloudFront,
    /// Any JSON lines with a user field mapping from the config.
    JsonMapped,
}

impl AccessFormat {
    pub const ALL: [AccessFormat; 9] = [
        AccessFormat::Combined,
        AccessFormat::NginxJson,
        AccessFormat::Caddy,
        AccessFormat::Traefik,
        AccessFormat::EnvoyJson,
        AccessFormat::EnvoyText,
        AccessFormat::Alb,
        AccessFormat::CloudFront,
        AccessFormat::JsonMapped,
    ];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            AccessFormat::Combined => "combined",
            AccessFormat::NginxJson => "nginx-json",
            AccessFormat::Caddy => "caddy",
            AccessFormat::Traefik => "traefik",
            AccessFormat::EnvoyJson => "envoy-json",
            AccessFormat::EnvoyText => "envoy",
            AccessFormat::Alb => "alb",
            AccessFormat::CloudFront => "cloudfront",
            AccessFormat::JsonMapped => "json",
        }
    }

    /// Parse a format name (also accepts `common`, `clf`, `nginx`, `apache` for `combined`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<AccessFormat> {
        match name {
            "common" | "clf" | "nginx" | "apache" => Some(AccessFormat::Combined),
            _ => AccessFormat::ALL.into_iter().find(|f| f.name() == name),
        }
    }
}

/// User mapping of JSON keys to request fields (`[access.fields]` in the config).
/// Keys may be dotted paths into nested objects (`request.remote_ip`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    pub time: Option<String>,
    pub client: Option<String>,
    pub peer: Option<String>,
    pub forwarded_for: Option<String>,
    pub method: Option<String>,
    pub target: Option<String>,
    pub request: Option<String>,
    pub protocol: Option<String>,
    pub status: Option<String>,
    pub bytes: Option<String>,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
    pub host: Option<String>,
    pub duration: Option<String>,
}

/// Settings every parser needs.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// Zone for formats that write local times without an offset.
    pub default_tz: chrono_tz::Tz,
    /// Peers whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Field mapping for `AccessFormat::JsonMapped`.
    pub fields: Option<FieldMap>,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { default_tz: chrono_tz::UTC, trusted_proxies: Vec::new(), fields: None }
    }
}

/// What one line turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    /// `out` now holds a request.
    Request,
    /// Not an event and not an error: blank line, comment, header directive, a non-access
    /// record in a mixed stream (Caddy startup logs, ALB connection logs).
    Skipped,
    /// A line that should have been a request but is not; the reason names the field.
    Malformed(String),
}

/// A stateful line parser for one source (CloudFront `#Fields` headers change its layout).
#[derive(Debug)]
pub struct AccessParser {
    format: AccessFormat,
    options: ParseOptions,
}

impl AccessParser {
    #[must_use]
    pub fn new(format: AccessFormat, options: ParseOptions) -> Self {
        AccessParser { format, options }
    }

    #[must_use]
    pub fn format(&self) -> AccessFormat {
        self.format
    }

    /// Parse one line (without its terminator) into `out` (cleared first).
    pub fn parse_line(&mut self, line: &[u8], line_no: u64, out: &mut Request) -> LineOutcome {
        let _ = (line, line_no, out, &self.options);
        todo!("access parsers: issue 2")
    }
}

/// Guess the format from the first non-empty lines of a source; `None` when nothing matches.
#[must_use]
pub fn detect(lines: &[&[u8]]) -> Option<AccessFormat> {
    let _ = lines;
    todo!("access format detection: issue 2")
}

/// Proxy resolution: when `peer` is inside `trusted`, the client is the right-most
/// X-Forwarded-For address that is not itself trusted; otherwise the peer.
#[must_use]
pub fn resolve_client(
    peer: Option<IpAddr>,
    forwarded_for: &str,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let _ = (peer, forwarded_for, trusted);
    todo!("proxy resolution: issue 2")
}
