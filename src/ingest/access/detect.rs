//! Format detection by voting over the first lines of a source (see `access::detect`).

use memchr::memmem;

use super::json_table::Slot;
use super::nginx_json;
use super::transport::{strip_prefixes, unwrap_envelope};
use super::{AccessFormat, AccessParser, LineOutcome, ParseOptions, fields::trim};
use crate::model::Request;

/// Text formats recognised by a successful trial parse, in tie-break order.
/// Caddy's text lines are its console encoder's.
const TEXT_FORMATS: [AccessFormat; 7] = [
    AccessFormat::Combined,
    AccessFormat::Alb,
    AccessFormat::EnvoyText,
    AccessFormat::CloudFront,
    AccessFormat::Caddy,
    AccessFormat::Haproxy,
    AccessFormat::Iis,
];

pub(crate) fn detect(lines: &[&[u8]]) -> Option<AccessFormat> {
    let mut votes = [0u32; AccessFormat::ALL.len()];
    let mut trials = TEXT_FORMATS.map(|f| {
        let mut p = AccessParser::new(f, ParseOptions::default());
        p.falls_back = false;
        p
    });
    let mut scratch = Request::default();
    let mut unwrapped = Vec::new();
    for raw in lines {
        let mut line = strip_prefixes(raw);
        if unwrap_envelope(line, &mut unwrapped) {
            line = strip_prefixes(&unwrapped);
        }
        let line = trim(line);
        if line.is_empty() {
            continue;
        }
        let vote = if line[0] == b'{' {
            sniff_json(line)
        } else if line.starts_with(b"#Software: Microsoft Internet Information Services")
            || (line.starts_with(b"#Fields:") && has(line, b" s-ip") && !has(line, b"x-edge-"))
        {
            // IIS: its own header, or W3C fields naming the server's address and no
            // `CloudFront` edge column (two votes: it outweighs the `#Version:` line).
            votes[AccessFormat::ALL.iter().position(|&a| a == AccessFormat::Iis).unwrap_or(0)] += 1;
            Some(AccessFormat::Iis)
        } else if line.starts_with(b"#Fields:") || line.starts_with(b"#Version:") {
            Some(AccessFormat::CloudFront)
        } else if line[0] == b'#' {
            None
        } else {
            trials.iter_mut().find_map(|p| {
                (p.parse_line(line, 1, &mut scratch) == LineOutcome::Request).then(|| p.format())
            })
        };
        if let Some(f) = vote
            && let Some(i) = AccessFormat::ALL.iter().position(|&a| a == f)
        {
            votes[i] += 1;
        }
    }
    let best = votes.iter().copied().max().filter(|&v| v > 0)?;
    AccessFormat::ALL.iter().zip(votes).find(|(_, v)| *v == best).map(|(f, _)| *f)
}

fn has(line: &[u8], needle: &[u8]) -> bool {
    memmem::find(line, needle).is_some()
}

/// Recognise a JSON access format by its characteristic keys.
fn sniff_json(line: &[u8]) -> Option<AccessFormat> {
    if has(line, b"\"webaclId\"")
        || (has(line, b"\"httpRequest\"") && has(line, b"\"terminatingRuleId\""))
    {
        Some(AccessFormat::AwsWaf)
    } else if has(line, b"\"ClientRequestURI\"")
        || has(line, b"\"EdgeStartTimestamp\"")
        || has(line, b"\"EdgeResponseStatus\"")
    {
        Some(AccessFormat::Cloudflare)
    } else if has(line, b"\"httpRequest\"")
        && has(line, b"\"requestUrl\"")
        && has(line, b"\"remoteIp\"")
    {
        Some(AccessFormat::GcpLb)
    } else if has(line, b"\"properties\"")
        && (has(line, b"\"httpStatusCode\"") || has(line, b"\"httpStatus\""))
        && (has(line, b"\"clientIp\"") || has(line, b"\"clientIP\""))
    {
        Some(AccessFormat::Azure)
    } else if has(line, b"\"ClientAddr\"")
        || has(line, b"\"DownstreamStatus\"")
        || has(line, b"\"RequestMethod\"")
    {
        Some(AccessFormat::Traefik)
    } else if (has(line, b"\"logger\"") && has(line, b"http.log.access"))
        || (has(line, b"\"ts\"") && has(line, b"\"level\""))
    {
        Some(AccessFormat::Caddy)
    } else if has(line, b"\"response_code\"")
        || has(line, b"\"downstream_remote_address\"")
        || has(line, b"\"upstream_cluster\"")
        || has(line, b"\"response_flags\"")
    {
        Some(AccessFormat::EnvoyJson)
    } else if [
        &b"\"remote_addr\""[..],
        b"\"time_iso8601\"",
        b"\"time_local\"",
        b"\"request_uri\"",
        b"\"http_user_agent\"",
        b"\"msec\"",
    ]
    .iter()
    .any(|k| has(line, k))
        || generic_score(line) >= GENERIC_MIN_SCORE
    {
        Some(AccessFormat::NginxJson)
    } else {
        None
    }
}

/// Distinct kinds of request field a generic JSON access line must name besides its time.
const GENERIC_MIN_SCORE: u32 = 3;

/// Key-set scoring for JSON access logs whose keys are not nginx's own spellings (the
/// widely copied `{"time", "remote_ip", "request", "response", "bytes", "agent"}` layout,
/// `ts`/`clientip`/`status_code`/`size`…): the top-level keys are looked up in the
/// nginx-json key table, and the line scores one point per kind of field it names (client,
/// request, status, bytes, user agent). Without a time key the score is 0: the parser needs
/// one, so such a line is no access log it can read.
fn generic_score(line: &[u8]) -> u32 {
    let mut seen = [false; 6];
    let walked = super::json::for_each_member(line, |k, _| {
        let slot = nginx_json::TABLE.iter().find(|(key, _)| *key == k).map(|(_, s)| *s);
        let kind = match slot {
            Some(Slot::Time) => 0,
            Some(Slot::Peer | Slot::Client | Slot::Xff) => 1,
            Some(Slot::Request | Slot::Method | Slot::Target) => 2,
            Some(Slot::Status) => 3,
            Some(Slot::Bytes) => 4,
            Some(Slot::UserAgent) => 5,
            _ => return true,
        };
        seen[kind] = true;
        true
    });
    if walked.is_err() || !seen[0] {
        return 0;
    }
    seen[1..].iter().map(|&b| u32::from(b)).sum()
}

/// A logrus text line, as Traefik writes its own messages beside its access log
/// (`time="2024-01-01T00:00:00Z" level=debug msg="Configuration received"`).
fn is_logrus(line: &[u8]) -> bool {
    line.starts_with(b"time=\"") && has(line, b" level=") && has(line, b" msg=")
}

/// Parsers of every detectable format but the source's own, for the lines of a mixed file
/// that the source's format could not read (a Traefik capture interleaving CLF access lines,
/// JSON access lines and debug lines). A JSON line goes to the format its keys name; a text
/// line to the first text format whose parser reads it; Traefik's own logrus lines
/// (`time="…" level=… msg="…"`) are skipped, not malformed. Requests read here are counted per
/// format (`inspect` reports them).
#[derive(Debug)]
pub(crate) struct Fallback {
    parsers: Vec<AccessParser>,
    counts: [u64; AccessFormat::ALL.len()],
}

impl Fallback {
    pub(crate) fn new(own: AccessFormat, options: &ParseOptions) -> Self {
        let parsers = AccessFormat::ALL
            .into_iter()
            .filter(|&f| f != own && f != AccessFormat::JsonMapped)
            .map(|f| {
                let mut p = AccessParser::new(f, ParseOptions { light: None, ..options.clone() });
                p.falls_back = false;
                p
            })
            .collect();
        Fallback { parsers, counts: [0; AccessFormat::ALL.len()] }
    }

    /// Read `raw` (a whole line, transport wrapping included) with another format: `None`
    /// when no other format claims it, else that format's outcome (a `Skipped` is a record
    /// the other format knows not to be a request, such as a Caddy startup message).
    pub(crate) fn parse(
        &mut self,
        raw: &[u8],
        line_no: u64,
        out: &mut Request,
    ) -> Option<LineOutcome> {
        let mut unwrapped = Vec::new();
        let mut line = strip_prefixes(raw);
        if unwrap_envelope(line, &mut unwrapped) {
            line = strip_prefixes(&unwrapped);
        }
        let line = trim(line);
        if line.is_empty() || line[0] == b'#' {
            return None;
        }
        let outcome = if is_logrus(line) {
            // Traefik's own (logrus) messages: no request, no error.
            return Some(LineOutcome::Skipped);
        } else if line[0] == b'{' {
            let format = sniff_json(line)?;
            let p = self.parsers.iter_mut().find(|p| p.format == format)?;
            match p.parse_line(raw, line_no, out) {
                LineOutcome::Malformed(_) => return None,
                o => (o, format),
            }
        } else {
            self.parsers.iter_mut().filter(|p| TEXT_FORMATS.contains(&p.format)).find_map(|p| {
                (p.parse_line(raw, line_no, out) == LineOutcome::Request)
                    .then_some((LineOutcome::Request, p.format))
            })?
        };
        if outcome.0 == LineOutcome::Request
            && let Some(i) = AccessFormat::ALL.iter().position(|&a| a == outcome.1)
        {
            self.counts[i] += 1;
        }
        Some(outcome.0)
    }

    pub(crate) fn counts(&self) -> Vec<(AccessFormat, u64)> {
        AccessFormat::ALL.into_iter().zip(self.counts).filter(|(_, n)| *n > 0).collect()
    }

    /// The WAF actions of the requests the other formats read (see
    /// [`AccessParser::waf_action_counts`]).
    pub(crate) fn waf_actions(&self) -> Vec<(crate::model::WafAction, u64)> {
        let mut all = Vec::new();
        for p in &self.parsers {
            all.extend(p.waf_action_counts());
        }
        all
    }

    pub(crate) fn zone_assumed(&self) -> bool {
        self.parsers.iter().any(AccessParser::zone_assumed)
    }
}
