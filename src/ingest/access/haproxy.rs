//! `HAProxy` HTTP log (`option httplog`), with or without its syslog prefix:
//!
//! `[<syslog date> <host> haproxy[pid]: ]client:port [accept_date] frontend backend/server
//! [extra] TR/Tw/Tc/Tr/Ta status bytes req_cookie resp_cookie flags conns queues
//! [{captured request headers}] [{captured response headers}] "request line"`
//!
//! `client` is the TCP peer (`-` when `HAProxy` did not know it: the request is kept without a
//! client). `accept_date` (`06/Feb/2009:12:14:14.655`) is local time without a zone, when
//! the request was accepted: it is read in the configured zone and flagged. The timers field
//! is the first word with five `/`-separated values; status and bytes follow it, so an extra
//! field before the timers (a custom format's host) is tolerated. A status of `-1` (no
//! response) is 0. TCP-mode lines (three timers, no request) and `HAProxy`'s own messages
//! behind a `haproxy[pid]:` prefix are `Skipped`: they are no HTTP requests.

use memchr::memmem;

use super::escape::push_lossy;
use super::fields::{parse_ip_port, parse_status, parse_u64, split_first_last, trim};
use super::time::parse_clf_noting;
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

fn parse_inner(
    line: &[u8],
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> Result<bool, String> {
    // The syslog prefix ends at `haproxy[pid]: ` (or `haproxy: `).
    let (prefixed, body) = match memmem::find(line, b"haproxy[")
        .or_else(|| memmem::find(line, b"haproxy:"))
    {
        Some(i) => {
            let rest = &line[i..];
            let end = memmem::find(rest, b": ").ok_or("syslog prefix: no ': ' after haproxy")?;
            (true, trim(&rest[end + 2..]))
        }
        None => (false, line),
    };
    let (client, rest) = split_word(body);
    if !client.ends_with(b"]") && memchr::memchr(b':', client).is_none() {
        // A message of HAProxy's own (`Proxy started`, `Server is DOWN`).
        return if prefixed { Ok(false) } else { Err("client: expected address:port".into()) };
    }
    out.peer = parse_ip_port(client);
    if out.peer.is_none() && !client.starts_with(b"-:") {
        return Err("client: not an address:port".into());
    }
    let rest = trim(rest);
    if rest.first() != Some(&b'[') {
        return if prefixed { Ok(false) } else { Err("accept_date: expected '['".into()) };
    }
    let rb = memchr::memchr(b']', rest).ok_or("accept_date: no closing ']'")?;
    let date = &rest[1..rb];
    let (secs, frac) = date.split_at(date.len().min(20));
    (out.time, out.utc_offset_secs) = parse_clf_noting(secs, opts.default_tz, &mut sc.zone_assumed)
        .ok_or("accept_date: not dd/Mon/yyyy:HH:MM:SS.mmm")?;
    if let Some(ms) = frac.strip_prefix(b".")
        && let Some(ms) = parse_u64(ms).filter(|&m| m < 1000)
    {
        out.time += chrono::Duration::milliseconds(i64::try_from(ms).unwrap_or(0));
    }
    let mut words = rest[rb + 1..].split(|&b| b == b' ').filter(|w| !w.is_empty());
    // frontend, backend/server, then (after any extra word) the timers.
    let mut timers_seen = false;
    for w in words.by_ref().take(4) {
        let parts = w.split(|&b| b == b'/').count();
        if parts == 5 {
            timers_seen = true;
            break;
        }
        if parts == 3 && w.iter().all(|&b| b.is_ascii_digit() || matches!(b, b'/' | b'-' | b'+')) {
            // TCP log: Tw/Tc/Tt, no HTTP request.
            return Ok(false);
        }
    }
    if !timers_seen {
        return Err("timers: no TR/Tw/Tc/Tr/Ta field".into());
    }
    let status = words.next().ok_or("status: missing")?;
    out.status =
        if status == b"-1" { 0 } else { parse_status(status).ok_or("status: not a number")? };
    let bytes = words.next().ok_or("bytes: missing")?;
    let bytes = bytes.strip_prefix(b"+").unwrap_or(bytes);
    out.bytes_sent = parse_u64(bytes).ok_or("bytes: not a number")?;
    // The request line: from the first quote to the line's last one.
    let q1 = memchr::memchr(b'"', rest).ok_or("request: no quoted request line")?;
    let q2 =
        memchr::memrchr(b'"', rest).filter(|&q| q > q1).ok_or("request: unterminated quote")?;
    let raw = &rest[q1 + 1..q2];
    // HAProxy writes the line as received (non-printables as `#XX`): no backslash escapes.
    if !split_first_last(raw, out) {
        push_lossy(&mut out.raw_request, raw);
    }
    Ok(true)
}

fn split_word(s: &[u8]) -> (&[u8], &[u8]) {
    let s = trim(s);
    match memchr::memchr(b' ', s) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &b""[..]),
    }
}
