//! Caddy v2 JSON access log (zap encoder).
//!
//! Only loggers named `http.log.access` or `http.log.access.<name>` are requests; every
//! other record in the stream (startup, TLS, admin messages) is `Skipped`. `ts` is float
//! Unix seconds written after the response (completion time); a string `ts` (custom
//! `time_format`) is read as RFC 3339/CLF. `request.remote_ip` is the peer; the
//! X-Forwarded-For header (all values joined) is kept as `forwarded_for`, or Caddy's own
//! `client_ip` when it differs from the peer and no header was logged, so leakline's
//! `trusted_proxies` decide the client. `duration` is float seconds; `size` is the body size.

use super::fields::{decimal_to_us, parse_ip_loose, parse_status, parse_u64, trim};
use super::json::{JVal, for_each_item, for_each_member, push_json_str};
use super::time::{parse_any_noting, parse_epoch_secs};
use super::{LineOutcome, ParseOptions, Scratch};
use crate::model::Request;

pub(crate) fn parse(
    line: &[u8],
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> LineOutcome {
    match parse_inner(line, opts, sc, out) {
        Ok(true) => LineOutcome::Request,
        Ok(false) => LineOutcome::Skipped,
        Err(e) => LineOutcome::Malformed(e),
    }
}

#[derive(Default)]
struct Top<'a> {
    logger: Option<&'a [u8]>,
    ts: Option<JVal<'a>>,
    request: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    size: Option<&'a [u8]>,
    duration: Option<&'a [u8]>,
}

fn parse_inner(
    line: &[u8],
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> Result<bool, String> {
    let mut top = Top::default();
    for_each_member(line, |k, v| {
        match (k, v) {
            (b"logger", JVal::Str(s)) => top.logger = Some(s),
            (b"ts", v) => top.ts = Some(v),
            (b"request", JVal::Obj(o)) => top.request = Some(o),
            (b"status", v) => top.status = v.scalar(),
            (b"size", v) => top.size = v.scalar(),
            (b"duration", v) => top.duration = v.scalar(),
            _ => {}
        }
        true
    })
    .map_err(|e| format!("json: {e}"))?;
    let is_access =
        top.logger.is_some_and(|l| l == b"http.log.access" || l.starts_with(b"http.log.access."));
    if !is_access {
        return Ok(false);
    }
    let stamp = match top.ts.ok_or("ts: missing")? {
        JVal::Num(n) => parse_epoch_secs(n),
        JVal::Str(s) => parse_any_noting(trim(s), opts.default_tz, &mut sc.zone_assumed),
        _ => None,
    };
    (out.time, out.utc_offset_secs) = stamp.ok_or("ts: not a recognised timestamp")?;
    if let Some(s) = top.status {
        out.status = parse_status(s).ok_or("status: not a number")?;
    }
    if let Some(s) = top.size {
        out.bytes_sent = parse_u64(s).ok_or("size: not a number")?;
    }
    out.duration_us = top.duration.and_then(|d| decimal_to_us(d, 1_000_000));
    let request = top.request.ok_or("request: missing")?;
    let mut client_ip = None;
    let mut headers = None;
    for_each_member(request, |k, v| {
        let target = match k {
            b"remote_ip" => {
                out.peer = v.scalar().and_then(parse_ip_loose);
                None
            }
            b"client_ip" => {
                client_ip = v.scalar().and_then(parse_ip_loose);
                None
            }
            b"method" => Some(&mut out.method),
            b"uri" => Some(&mut out.target),
            b"proto" => Some(&mut out.protocol),
            b"host" => Some(&mut out.host),
            b"headers" => {
                if let JVal::Obj(h) = v {
                    headers = Some(h);
                }
                None
            }
            _ => None,
        };
        if let (Some(dst), JVal::Str(s)) = (target, v) {
            push_json_str(dst, s, &mut sc.buf);
        }
        true
    })
    .map_err(|e| format!("request: {e}"))?;
    if let Some(h) = headers {
        for_each_member(h, |k, v| {
            let dst = if k.eq_ignore_ascii_case(b"User-Agent") {
                &mut out.user_agent
            } else if k.eq_ignore_ascii_case(b"Referer") {
                &mut out.referer
            } else if k.eq_ignore_ascii_case(b"X-Forwarded-For") {
                &mut out.forwarded_for
            } else {
                return true;
            };
            if let JVal::Arr(a) = v {
                let _ = for_each_item(a, |item| {
                    if let JVal::Str(s) = item {
                        if !dst.is_empty() {
                            dst.push_str(", ");
                        }
                        push_json_str(dst, s, &mut sc.buf);
                    }
                    true
                });
            }
            true
        })
        .map_err(|e| format!("request.headers: {e}"))?;
    }
    if out.forwarded_for.is_empty()
        && let Some(c) = client_ip
        && Some(c) != out.peer
    {
        out.forwarded_for.push_str(&c.to_string());
    }
    Ok(true)
}
