//! AWS `CloudFront` standard (legacy) logs, W3C style: tab-separated, `#Fields:` names the
//! columns (honoured; older files have fewer, v2 lets users choose), other `#` lines are
//! directives. Without a `#Fields:` line the 33-column legacy layout is assumed. Short lines
//! are padded with `-` (real files have them). `date`+`time` are UTC and record when
//! `CloudFront` finished the response. UA, referer and query are URL-encoded by `CloudFront` and
//! decoded exactly once. `c-ip` is the peer (the viewer); `x-forwarded-for` is kept.
//!
//! The same reader reads IIS / W3C extended logs (`iis`): space-separated columns named by
//! `#Fields:` (any order; without one, IIS's default field set), `date`+`time` in UTC (IIS
//! writes W3C logs in UTC), `+` for spaces in `cs(User-Agent)`/`cs(Referer)`, `time-taken` in
//! milliseconds, and an `X-Forwarded-For` custom field kept when logged.

use super::escape::{percent_decode, push_lossy};
use super::fields::{decimal_to_us, parse_ip_loose, parse_status, parse_u64, trim};
use super::time::parse_iso;
use super::{LineOutcome, ParseOptions, Scratch};
use crate::model::Request;

/// Most columns a line may have (extra columns are ignored).
const MAX_COLS: usize = 64;

/// Where each needed column is (index into the tab-separated line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    date: Option<usize>,
    time: Option<usize>,
    bytes: Option<usize>,
    ip: Option<usize>,
    method: Option<usize>,
    cs_host: Option<usize>,
    stem: Option<usize>,
    status: Option<usize>,
    referer: Option<usize>,
    ua: Option<usize>,
    query: Option<usize>,
    host_header: Option<usize>,
    time_taken: Option<usize>,
    xff: Option<usize>,
    proto_version: Option<usize>,
    /// IIS / W3C extended (see the module docs) rather than `CloudFront`.
    iis: bool,
}

/// IIS's default W3C field set (IIS 8.5+ default selection).
const IIS_DEFAULT: &str = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

const LEGACY: &str = "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end";

impl Default for Layout {
    fn default() -> Self {
        Layout::from_fields(LEGACY.as_bytes())
    }
}

impl Layout {
    /// The layout an IIS log has before (or without) its `#Fields:` line.
    pub(crate) fn iis_default() -> Layout {
        Layout { iis: true, ..Layout::from_fields(IIS_DEFAULT.as_bytes()) }
    }

    /// Build from the names after `#Fields:` (space-separated).
    pub(crate) fn from_fields(names: &[u8]) -> Layout {
        let mut l = Layout {
            date: None,
            time: None,
            bytes: None,
            ip: None,
            method: None,
            cs_host: None,
            stem: None,
            status: None,
            referer: None,
            ua: None,
            query: None,
            host_header: None,
            time_taken: None,
            xff: None,
            proto_version: None,
            iis: false,
        };
        for (i, name) in names.split(u8::is_ascii_whitespace).filter(|n| !n.is_empty()).enumerate()
        {
            let slot = match name {
                b"date" => &mut l.date,
                b"time" => &mut l.time,
                b"sc-bytes" => &mut l.bytes,
                b"c-ip" => &mut l.ip,
                b"cs-method" => &mut l.method,
                b"cs(Host)" => &mut l.cs_host,
                b"cs-uri-stem" => &mut l.stem,
                b"sc-status" => &mut l.status,
                b"cs(Referer)" => &mut l.referer,
                b"cs(User-Agent)" => &mut l.ua,
                b"cs-uri-query" => &mut l.query,
                b"x-host-header" => &mut l.host_header,
                b"time-taken" => &mut l.time_taken,
                b"x-forwarded-for" | b"X-Forwarded-For" | b"cs(X-Forwarded-For)" => &mut l.xff,
                b"cs-protocol-version" => &mut l.proto_version,
                _ => continue,
            };
            *slot = Some(i);
        }
        l
    }
}

pub(crate) fn parse(
    line: &[u8],
    layout: &mut Layout,
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> LineOutcome {
    if let Some(rest) = line.strip_prefix(b"#") {
        if let Some(names) = rest.strip_prefix(b"Fields:") {
            let iis = layout.iis;
            *layout = Layout { iis, ..Layout::from_fields(names) };
        }
        return LineOutcome::Skipped;
    }
    match parse_inner(line, layout, opts, sc, out) {
        Ok(()) => LineOutcome::Request,
        Err(e) => LineOutcome::Malformed(e),
    }
}

fn parse_inner(
    line: &[u8],
    l: &Layout,
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> Result<(), String> {
    let mut cols: [&[u8]; MAX_COLS] = [b"-"; MAX_COLS];
    let mut n = 0;
    let sep = if l.iis { b' ' } else { b'\t' };
    for (i, c) in line.split(|&b| b == sep).enumerate().take(MAX_COLS) {
        cols[i] = c;
        n = i + 1;
    }
    if n < 2 {
        return Err(if l.iis {
            "fields: not a space-separated W3C line".into()
        } else {
            "fields: not a tab-separated CloudFront line".into()
        });
    }
    let col = |i: Option<usize>| i.map_or(&b"-"[..], |i| cols[i]);
    let present = |v: &[u8]| !v.is_empty() && v != b"-";

    let (date, time) = (col(l.date), col(l.time));
    if date.len() != 10 || time.len() != 8 {
        return Err("date/time: not YYYY-MM-DD and HH:MM:SS".into());
    }
    let mut stamp = [0u8; 20];
    stamp[..10].copy_from_slice(date);
    stamp[10] = b'T';
    stamp[11..19].copy_from_slice(time);
    stamp[19] = b'Z';
    (out.time, out.utc_offset_secs) =
        parse_iso(&stamp, opts.default_tz).ok_or("date/time: not a valid UTC time")?;

    let ip = col(l.ip);
    out.peer = parse_ip_loose(ip);
    if out.peer.is_none() && present(ip) {
        return Err("c-ip: not an address".into());
    }
    let status = col(l.status);
    if present(status) {
        out.status = parse_status(status).ok_or("sc-status: not a number")?;
    }
    let bytes = col(l.bytes);
    if present(bytes) {
        out.bytes_sent = parse_u64(bytes).ok_or("sc-bytes: not a number")?;
    }
    let method = col(l.method);
    if present(method) {
        push_lossy(&mut out.method, method);
    }
    let stem = col(l.stem);
    if present(stem) {
        push_lossy(&mut out.target, stem);
        let query = col(l.query);
        if present(query) {
            out.target.push('?');
            decoded(&mut out.target, query, sc);
        }
    }
    let proto = col(l.proto_version);
    if present(proto) {
        push_lossy(&mut out.protocol, proto);
    }
    for (dst, idx) in [(&mut out.user_agent, l.ua), (&mut out.referer, l.referer)] {
        let v = col(idx);
        if present(v) {
            if l.iis {
                // IIS writes spaces as `+` and does not percent-encode.
                let start = dst.len();
                push_lossy(dst, v);
                let plus = dst[start..].replace('+', " ");
                dst.truncate(start);
                dst.push_str(&plus);
            } else {
                decoded(dst, v, sc);
            }
        }
    }
    let host = if present(col(l.host_header)) { col(l.host_header) } else { col(l.cs_host) };
    if present(host) {
        push_lossy(&mut out.host, host);
    }
    let xff = col(l.xff);
    if present(xff) {
        push_lossy(&mut out.forwarded_for, trim(xff));
    }
    out.duration_us = decimal_to_us(col(l.time_taken), if l.iis { 1000 } else { 1_000_000 });
    Ok(())
}

fn decoded(dst: &mut String, raw: &[u8], sc: &mut Scratch) {
    sc.buf.clear();
    percent_decode(raw, &mut sc.buf);
    push_lossy(dst, &sc.buf);
}
