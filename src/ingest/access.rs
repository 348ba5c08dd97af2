//! Access-log formats: detection and line parsers (one file per format family).
//!
//! Contract: `AccessParser::parse_line` fills a reused `Request` in place and returns what the
//! line was. It never panics on any input and never allocates per line on the hot path beyond
//! growing the reused buffers.
//!
//! Every line first loses its transport wrapping (`transport.rs`: a docker compose
//! `name  | ` prefix, Ambassador's `ACCESS `, a docker/k8s `{"message":"<line>"}` /
//! `{"log":"<line>"}` JSON envelope), then goes to the format's parser. Parsers fill the
//! peer and the raw X-Forwarded-For; the client is resolved here, once, by
//! [`resolve_forwarded`] (the same rule for every format).

mod alb;
mod caddy;
mod clf;
mod clf_fast;
mod cloud;
mod cloudfront;
mod detect;
mod envoy;
mod escape;
mod fields;
mod haproxy;
mod json;
mod json_table;
mod mapped;
mod nginx_json;
mod time;
mod tokens;
mod traefik;
mod transport;

use std::net::IpAddr;

use ipnet::IpNet;

pub(crate) use escape::TextBlock;

use crate::model::{ClientFilter, Request, WafAction};

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
    /// Google Cloud HTTP(S) load balancer entries exported from Cloud Logging.
    GcpLb,
    /// Cloudflare Logpush HTTP requests.
    Cloudflare,
    /// Azure Front Door / Application Gateway access logs (Azure Monitor JSON).
    Azure,
    /// IIS / W3C extended logs (space-separated, `#Fields:` layout).
    Iis,
    /// `HAProxy` HTTP log (`option httplog`), with or without the syslog prefix.
    Haproxy,
    /// AWS WAF web ACL logs (JSON, one request per line, with the WAF's action).
    AwsWaf,
}

impl std::fmt::Display for AccessFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl AccessFormat {
    pub const ALL: [AccessFormat; 15] = [
        AccessFormat::Combined,
        AccessFormat::NginxJson,
        AccessFormat::Caddy,
        AccessFormat::Traefik,
        AccessFormat::EnvoyJson,
        AccessFormat::EnvoyText,
        AccessFormat::Alb,
        AccessFormat::CloudFront,
        AccessFormat::JsonMapped,
        AccessFormat::GcpLb,
        AccessFormat::Cloudflare,
        AccessFormat::Azure,
        AccessFormat::Haproxy,
        AccessFormat::Iis,
        AccessFormat::AwsWaf,
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
            AccessFormat::GcpLb => "gcp-lb",
            AccessFormat::Cloudflare => "cloudflare",
            AccessFormat::Azure => "azure",
            AccessFormat::Haproxy => "haproxy",
            AccessFormat::Iis => "iis",
            AccessFormat::AwsWaf => "aws-waf",
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
    /// Clients whose requests the caller only counts (a batch run's own clients, `internal`
    /// and `allow`: it adds them to per-minute counts and reads nothing else). A request
    /// whose client is known to be in this filter may come back *light*: the line is
    /// validated exactly as in full (same outcome, same malformed reason), and `time`,
    /// `utc_offset_secs`, `line`, `peer`, `client`, `status` and `bytes_sent` are filled,
    /// but the string fields may be left empty, which saves copying them for lines nobody
    /// reads. The client is known only where it is the peer (no trusted proxy in front, else
    /// it comes from X-Forwarded-For after the line is read); formats and lines that do not
    /// take a fast path are parsed in full. `None` (the default, and every path that shows
    /// requests, such as `watch`): every request is filled.
    pub light: Option<ClientFilter>,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            default_tz: chrono_tz::UTC,
            trusted_proxies: Vec::new(),
            fields: None,
            light: None,
        }
    }
}

impl ParseOptions {
    /// Whether a request from `peer` may be parsed light (see [`ParseOptions::light`]): its
    /// client is the peer (`resolve_client`'s first rule: the peer is no trusted proxy) and
    /// the light filter holds it.
    #[inline]
    pub(crate) fn is_light(&self, peer: IpAddr) -> bool {
        self.light.as_ref().is_some_and(|ours| {
            !ours.is_external(peer) && !self.trusted_proxies.iter().any(|n| n.contains(&peer))
        })
    }
}

/// What one line turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    /// `out` now holds a request (perhaps light: see [`ParseOptions::light`]).
    Request,
    /// Not an event and not an error: blank line, comment, header directive, a non-access
    /// record in a mixed stream (Caddy startup logs, ALB connection logs).
    Skipped,
    /// A line that should have been a request but is not; the reason names the field.
    Malformed(String),
}

/// Reused per-parser buffers and caches (never shrunk, so steady state allocates nothing).
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Unescaping buffer for one field at a time.
    pub(crate) buf: Vec<u8>,
    /// A second buffer for values that are decoded in two steps.
    pub(crate) buf2: Vec<u8>,
    /// The CLF time parse of the last distinct `[...]` string.
    pub(crate) clf_time: time::ClfCache,
    /// A time without zone was read in `ParseOptions::default_tz` (sticky; the CLF cache
    /// keeps its own flag).
    pub(crate) zone_assumed: bool,
    /// Requests read per WAF action (`aws-waf`), in [`WafAction::ALL`] order.
    pub(crate) waf_actions: [u64; WafAction::ALL.len()],
}

/// A stateful line parser for one source (`CloudFront` `#Fields` headers change its layout).
#[derive(Debug)]
pub struct AccessParser {
    format: AccessFormat,
    options: ParseOptions,
    scratch: Scratch,
    /// The inner line of a JSON transport envelope, decoded.
    unwrapped: Vec<u8>,
    cloudfront: cloudfront::Layout,
    /// Parsers of the other formats, for lines the source's format cannot read (mixed
    /// files); created at the first such line.
    fallback: Option<Box<detect::Fallback>>,
    /// Whether failed lines go to the fallback (not for the fallback's own parsers).
    falls_back: bool,
}

impl AccessParser {
    #[must_use]
    pub fn new(format: AccessFormat, options: ParseOptions) -> Self {
        AccessParser {
            format,
            options,
            scratch: Scratch::default(),
            unwrapped: Vec::new(),
            cloudfront: if format == AccessFormat::Iis {
                cloudfront::Layout::iis_default()
            } else {
                cloudfront::Layout::default()
            },
            fallback: None,
            falls_back: true,
        }
    }

    /// Requests read so far by a format other than [`Self::format`] (lines of a mixed file
    /// that the source's format could not read), per format, in [`AccessFormat::ALL`] order;
    /// formats that read none are left out.
    #[must_use]
    pub fn fallback_counts(&self) -> Vec<(AccessFormat, u64)> {
        self.fallback.as_ref().map(|f| f.counts()).unwrap_or_default()
    }

    /// Requests read so far per WAF action (WAF logs: `aws-waf`, also as the lines of a
    /// mixed file), cumulative; actions with no request are left out.
    #[must_use]
    pub fn waf_action_counts(&self) -> Vec<(WafAction, u64)> {
        let mut n = self.scratch.waf_actions;
        if let Some(f) = &self.fallback {
            for (a, m) in f.waf_actions() {
                n[a as usize] += m;
            }
        }
        WafAction::ALL.into_iter().zip(n).filter(|(_, n)| *n > 0).collect()
    }

    #[must_use]
    pub fn format(&self) -> AccessFormat {
        self.format
    }

    /// Whether any time parsed so far had no zone or offset and was read in
    /// [`ParseOptions::default_tz`]. Sticky, per parser (one source, or one chunk of it).
    #[must_use]
    pub fn zone_assumed(&self) -> bool {
        self.scratch.zone_assumed
            || self.scratch.clf_time.zone_assumed
            || self.fallback.as_ref().is_some_and(|f| f.zone_assumed())
    }

    /// Parse one line (without its terminator) into `out` (cleared first).
    ///
    /// Blank lines are `Skipped` for every format; `#` lines are `Skipped` for the text
    /// formats (comments in CLF test files, W3C directives in `CloudFront`). On `Request`,
    /// `out.line` is `line_no`, `out.client` is resolved, and `out.source` is left for the
    /// caller to set.
    pub fn parse_line(&mut self, line: &[u8], line_no: u64, out: &mut Request) -> LineOutcome {
        self.parse_line_in(line, TextBlock::NONE, line_no, out)
    }

    /// [`Self::parse_line`] for a line cut from `block` (see [`TextBlock`]).
    pub(crate) fn parse_line_in(
        &mut self,
        line: &[u8],
        mut block: TextBlock<'_>,
        line_no: u64,
        out: &mut Request,
    ) -> LineOutcome {
        out.clear();
        let raw = line;
        let mut line = transport::strip_prefixes(line);
        // Only a line that may be an envelope borrows the unwrapping buffer.
        let mut inner = Vec::new();
        if self.format != AccessFormat::JsonMapped && transport::may_be_envelope(line) {
            inner = std::mem::take(&mut self.unwrapped);
            if transport::unwrap_envelope(line, &mut inner) {
                line = transport::strip_prefixes(&inner);
                block = TextBlock::NONE;
            }
        }
        let mut outcome = self.dispatch(line, block, out);
        if inner.capacity() > 0 {
            self.unwrapped = inner;
        }
        // A mixed file: the line may be another format's (only ever on failure, so the fast
        // path of a clean file never comes here). The fallback parser resolves the client.
        if matches!(outcome, LineOutcome::Malformed(_))
            && self.falls_back
            && self.format != AccessFormat::JsonMapped
        {
            let fallback = self
                .fallback
                .get_or_insert_with(|| Box::new(detect::Fallback::new(self.format, &self.options)));
            match fallback.parse(raw, line_no, out) {
                Some(LineOutcome::Request) => return LineOutcome::Request,
                Some(LineOutcome::Skipped) => outcome = LineOutcome::Skipped,
                _ => {}
            }
        }
        if outcome == LineOutcome::Request {
            out.line = line_no;
            out.client = match out.client {
                Some(client) => Some(client),
                // An untrusted peer is the client (`resolve_client`'s first rule), checked
                // here because it is the usual case.
                None if self.options.trusted_proxies.is_empty() && out.peer.is_some() => out.peer,
                None => match resolve_forwarded(
                    out.peer,
                    &out.forwarded_for,
                    &self.options.trusted_proxies,
                ) {
                    Resolved::Client(ip) => Some(ip),
                    Resolved::UnknownExternal => {
                        out.forwarded_unknown = true;
                        None
                    }
                    Resolved::None => None,
                },
            };
        }
        outcome
    }

    fn dispatch(&mut self, line: &[u8], block: TextBlock<'_>, out: &mut Request) -> LineOutcome {
        let trimmed = fields::trim(line);
        if trimmed.is_empty() {
            return LineOutcome::Skipped;
        }
        let (opts, sc) = (&self.options, &mut self.scratch);
        match self.format {
            AccessFormat::Combined | AccessFormat::EnvoyText | AccessFormat::Alb
                if trimmed[0] == b'#' =>
            {
                LineOutcome::Skipped
            }
            AccessFormat::Combined => clf::parse(trimmed, block, opts, sc, out),
            AccessFormat::NginxJson => nginx_json::parse(trimmed, opts, sc, out),
            AccessFormat::Caddy => caddy::parse(trimmed, opts, sc, out),
            AccessFormat::Traefik => traefik::parse(trimmed, opts, sc, out),
            AccessFormat::EnvoyJson => envoy::parse_json(trimmed, opts, sc, out),
            AccessFormat::EnvoyText => envoy::parse_text(trimmed, opts, sc, out),
            AccessFormat::Alb => alb::parse(trimmed, sc, out),
            AccessFormat::Haproxy => haproxy::parse(trimmed, opts, sc, out),
            // Tabs separate (possibly empty) columns: only strip line-end spaces/CR.
            AccessFormat::CloudFront | AccessFormat::Iis => {
                cloudfront::parse(trim_end_spaces(line), &mut self.cloudfront, opts, sc, out)
            }
            AccessFormat::JsonMapped => mapped::parse(trimmed, opts, sc, out),
            AccessFormat::GcpLb
            | AccessFormat::Cloudflare
            | AccessFormat::Azure
            | AccessFormat::AwsWaf => cloud::parse(self.format, trimmed, opts, sc, out),
        }
    }
}

fn trim_end_spaces(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\r'] = s {
        s = rest;
    }
    s
}

/// Guess the format from the first non-empty lines of a source; `None` when nothing matches.
///
/// Each line votes for the format that recognises it (JSON key signatures, or a trial parse
/// for the text formats); the format with most votes wins, ties going to the order of
/// [`AccessFormat::ALL`]. `JsonMapped` is never guessed: it needs a configured mapping.
#[must_use]
pub fn detect(lines: &[&[u8]]) -> Option<AccessFormat> {
    detect::detect(lines)
}

/// Lines `detect_head` examines.
pub const DETECT_LINES: usize = 32;

/// [`detect`] over the first non-empty lines of a buffered head of a source (at most
/// [`DETECT_LINES`]; a last line without newline is included, it may be cut short).
#[must_use]
pub fn detect_head(head: &[u8]) -> Option<AccessFormat> {
    detect_first(head, DETECT_LINES)
}

/// [`detect`] over the first `max` non-empty lines of `head` (a last line without newline is
/// included, it may be cut short).
#[must_use]
pub fn detect_first(head: &[u8], max: usize) -> Option<AccessFormat> {
    detect(&head_lines(head, max))
}

/// The first `max` non-empty lines of `head`, without their `\r\n`/`\n` ends (a last line
/// without newline is included): what format detection looks at.
#[must_use]
pub fn head_lines(head: &[u8], max: usize) -> Vec<&[u8]> {
    head.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(max)
        .collect()
}

/// What X-Forwarded-For resolution found (see [`resolve_forwarded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// The client's address.
    Client(IpAddr),
    /// Behind trusted proxies, the entry where the client should be is not an address
    /// (`unknown`, junk an attacker sent, a host name): an external client whose address is
    /// unknown. Never the proxy.
    UnknownExternal,
    /// No peer and no usable entry.
    None,
}

/// Proxy resolution, the one rule for every format that logs X-Forwarded-For: when `peer`
/// is inside `trusted`, the chain is walked from the right, skipping trusted proxies; the
/// first entry that is not a trusted proxy is the client if it is an address, and an
/// unknown external client ([`Resolved::UnknownExternal`]) if it is not.
///
/// Details, in the order they apply:
/// - an untrusted peer is the client, whatever the X-Forwarded-For says (it can be forged);
/// - junk an attacker puts *left* of the address its proxy appended (`x, 203.0.113.66`)
///   is never reached: the appended address is the client;
/// - when every entry is trusted, the left-most one is the client (as nginx `realip` does
///   with `real_ip_recursive on`);
/// - with no peer (Envoy's default text format), the walk starts from the right-most entry:
///   with no trusted proxies that entry is the client; with no entries the client is unknown
///   ([`Resolved::None`]).
///
/// Entries may carry ports (`1.2.3.4:5678`, `[v6]:port`) and spaces; `-` and empty entries
/// are skipped.
#[must_use]
pub fn resolve_forwarded(peer: Option<IpAddr>, forwarded_for: &str, trusted: &[IpNet]) -> Resolved {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if let Some(p) = peer
        && !is_trusted(&p)
    {
        return Resolved::Client(p);
    }
    let mut candidate = peer;
    for entry in forwarded_for.rsplit(',') {
        let entry = entry.trim();
        if entry.is_empty() || entry == "-" {
            continue;
        }
        let Some(ip) = fields::parse_ip_loose(entry.as_bytes()) else {
            return Resolved::UnknownExternal;
        };
        candidate = Some(ip);
        if !is_trusted(&ip) {
            break;
        }
    }
    candidate.map_or(Resolved::None, Resolved::Client)
}

/// [`resolve_forwarded`] as an address: `None` for an unknown client (external or not).
#[must_use]
pub fn resolve_client(
    peer: Option<IpAddr>,
    forwarded_for: &str,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    match resolve_forwarded(peer, forwarded_for, trusted) {
        Resolved::Client(ip) => Some(ip),
        Resolved::UnknownExternal | Resolved::None => None,
    }
}

#[cfg(test)]
mod tests;
