//! Cloud edge JSON access logs, each a table of key paths (dotted, into nested objects):
//!
//! - **Google Cloud HTTP(S) load balancer** (`gcp-lb`), a log entry as exported from Cloud
//!   Logging: `timestamp` (RFC 3339), `httpRequest.remoteIp`, `requestMethod`, `requestUrl`
//!   (absolute: the host goes to `host`, the path and query to the target), `status`,
//!   `responseSize` (a string), `userAgent`, `referer`, `latency` (`"0.012s"`).
//! - **Cloudflare Logpush** HTTP requests (`cloudflare`): `ClientIP`, `ClientRequestMethod`,
//!   `ClientRequestURI`, `ClientRequestHost`, `ClientRequestProtocol`, `EdgeResponseStatus`,
//!   `EdgeResponseBytes`, `ClientRequestUserAgent`, `ClientRequestReferer`,
//!   `EdgeStartTimestamp` in RFC 3339, Unix seconds, milliseconds or nanoseconds (Logpush's
//!   `timestamp_format` option), `EdgeEndTimestamp` when the start is absent.
//! - **Azure Front Door / Application Gateway** (`azure`), Azure Monitor resource-log
//!   records: `time`, `properties.socketIp` (Front Door's TCP peer) else
//!   `properties.clientIp`/`clientIP`, `httpMethod`, `requestUri` (absolute on Front Door,
//!   a path plus `requestQuery` on Application Gateway), `httpStatusCode`/`httpStatus`,
//!   `responseBytes`/`sentBytes`, `userAgent`, `hostName`/`host`. Front Door's `clientIp`
//!   is taken from the X-Forwarded-For header when the request had one, so when it differs
//!   from `socketIp` it is kept as `forwarded_for` (believed only behind a trusted proxy).
//! - **AWS WAF** web ACL logs (`aws-waf`): `timestamp` (Unix milliseconds),
//!   `httpRequest.clientIp`, `httpMethod`, `uri` plus `args` (the query), `httpVersion`,
//!   the `User-Agent`, `Host` and `Referer` entries of `httpRequest.headers`
//!   (`[{"name", "value"}]`, names matched case-insensitively), and `action` (`ALLOW`,
//!   `BLOCK`, `COUNT`, `CAPTCHA`, `CHALLENGE`) as [`Request::waf_action`], counted per
//!   parser. A WAF log has no response status or size: `status` and `bytes_sent` stay 0, so
//!   such a request is never a success, but it is a request that reached the edge, whatever
//!   the WAF then did with it. `terminatingRuleId` is not kept.
//!
//! The client is the edge's view of the remote address (`remoteIp`, `ClientIP`): these edges
//! terminate the connection, so it is the peer; an X-Forwarded-For the client sent is not in
//! these logs.

use super::fields::{decimal_to_us, parse_ip_loose, trim};
use super::json::{JVal, for_each_item, get, get_path, push_json_str};
use super::json_table::{Gathered, Slot, fill};
use super::{AccessFormat, LineOutcome, ParseOptions, Scratch};
use crate::model::{Request, WafAction};

const GCP_LB: &[(&str, Slot)] = &[
    ("timestamp", Slot::Time),
    ("httpRequest.remoteIp", Slot::Peer),
    ("httpRequest.requestMethod", Slot::Method),
    ("httpRequest.requestUrl", Slot::Target),
    ("httpRequest.protocol", Slot::Protocol),
    ("httpRequest.status", Slot::Status),
    ("httpRequest.responseSize", Slot::Bytes),
    ("httpRequest.userAgent", Slot::UserAgent),
    ("httpRequest.referer", Slot::Referer),
];

const CLOUDFLARE: &[(&str, Slot)] = &[
    ("EdgeStartTimestamp", Slot::Time),
    ("EdgeEndTimestamp", Slot::Time),
    ("ClientIP", Slot::Peer),
    ("ClientRequestMethod", Slot::Method),
    ("ClientRequestURI", Slot::Target),
    ("ClientRequestPath", Slot::Target),
    ("ClientRequestProtocol", Slot::Protocol),
    ("EdgeResponseStatus", Slot::Status),
    ("EdgeResponseBytes", Slot::Bytes),
    ("ClientRequestUserAgent", Slot::UserAgent),
    ("ClientRequestReferer", Slot::Referer),
    ("ClientRequestHost", Slot::Host),
];

const AWS_WAF: &[(&str, Slot)] = &[
    ("timestamp", Slot::Time),
    ("httpRequest.clientIp", Slot::Peer),
    ("httpRequest.httpMethod", Slot::Method),
    ("httpRequest.uri", Slot::Target),
    ("httpRequest.httpVersion", Slot::Protocol),
];

const AZURE: &[(&str, Slot)] = &[
    ("time", Slot::Time),
    ("timeStamp", Slot::Time),
    ("properties.socketIp", Slot::Peer),
    ("properties.clientIp", Slot::Peer),
    ("properties.clientIP", Slot::Peer),
    ("properties.httpMethod", Slot::Method),
    ("properties.requestUri", Slot::Target),
    ("properties.httpStatusCode", Slot::Status),
    ("properties.httpStatus", Slot::Status),
    ("properties.responseBytes", Slot::Bytes),
    ("properties.sentBytes", Slot::Bytes),
    ("properties.userAgent", Slot::UserAgent),
    ("properties.referer", Slot::Referer),
    ("properties.hostName", Slot::Host),
    ("properties.host", Slot::Host),
];

pub(crate) fn parse(
    format: AccessFormat,
    line: &[u8],
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> LineOutcome {
    if let Err(e) = super::json::for_each_member(line, |_, _| true) {
        return LineOutcome::Malformed(format!("json: {e}"));
    }
    let table = match format {
        AccessFormat::GcpLb => GCP_LB,
        AccessFormat::Azure => AZURE,
        AccessFormat::AwsWaf => AWS_WAF,
        _ => CLOUDFLARE,
    };
    let mut g = Gathered::new();
    for (prio, (path, slot)) in table.iter().enumerate() {
        if let Some(v) = get_path(line, path) {
            g.set(*slot, prio, v);
        }
    }
    let outcome = fill(&g, opts, sc, out);
    if outcome == LineOutcome::Request {
        split_absolute_url(out);
        // GCP's latency is a duration string (`"0.012345s"`).
        if let Some(JVal::Str(l)) = get_path(line, "httpRequest.latency")
            && let Some(secs) = trim(l).strip_suffix(b"s")
        {
            out.duration_us = decimal_to_us(secs, 1_000_000);
        }
        if format == AccessFormat::Azure {
            azure_extras(line, out, &mut sc.buf);
        }
        if format == AccessFormat::AwsWaf {
            aws_waf_extras(line, out, sc);
        }
    }
    outcome
}

/// Application Gateway's separate `requestQuery`; Front Door's XFF-derived `clientIp`.
fn azure_extras(line: &[u8], out: &mut Request, buf: &mut Vec<u8>) {
    if let Some(JVal::Str(q)) = get_path(line, "properties.requestQuery")
        && !q.is_empty()
        && !out.target.contains('?')
    {
        out.target.push('?');
        push_json_str(&mut out.target, q, buf);
    }
    if get_path(line, "properties.socketIp").is_some()
        && let Some(JVal::Str(c)) = get_path(line, "properties.clientIp")
        && parse_ip_loose(c).is_some_and(|c| Some(c) != out.peer)
    {
        push_json_str(&mut out.forwarded_for, c, buf);
    }
}

/// AWS WAF's query (`args`), headers and action.
fn aws_waf_extras(line: &[u8], out: &mut Request, sc: &mut Scratch) {
    let Some(JVal::Obj(req)) = get_path(line, "httpRequest") else { return };
    if let Some(JVal::Str(q)) = get(req, b"args")
        && !q.is_empty()
    {
        out.target.push('?');
        push_json_str(&mut out.target, q, &mut sc.buf);
    }
    if let Some(JVal::Arr(headers)) = get(req, b"headers") {
        let _ = for_each_item(headers, |h| {
            let JVal::Obj(h) = h else { return true };
            let (Some(JVal::Str(name)), Some(JVal::Str(value))) =
                (get(h, b"name"), get(h, b"value"))
            else {
                return true;
            };
            let field = if name.eq_ignore_ascii_case(b"user-agent") {
                &mut out.user_agent
            } else if name.eq_ignore_ascii_case(b"host") {
                &mut out.host
            } else if name.eq_ignore_ascii_case(b"referer") {
                &mut out.referer
            } else {
                return true;
            };
            if field.is_empty() {
                push_json_str(field, value, &mut sc.buf);
            }
            true
        });
    }
    out.waf_action = match get_path(line, "action") {
        Some(JVal::Str(a)) => WafAction::from_name(a),
        _ => None,
    };
    if let Some(a) = out.waf_action {
        sc.waf_actions[a as usize] += 1;
    }
}

/// `https://host/path?q` → host `host`, target `/path?q` (these edges log absolute URLs).
fn split_absolute_url(out: &mut Request) {
    let t = &out.target;
    let Some(rest) = t.strip_prefix("https://").or_else(|| t.strip_prefix("http://")) else {
        return;
    };
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let (authority, path) = (authority.to_owned(), path.to_owned());
    if out.host.is_empty() {
        out.host = authority;
    }
    out.target = path;
}
