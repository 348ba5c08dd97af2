//! Envoy access logs: the default text format (and Istio's longer variant), and JSON with
//! the `snake_case` keys Istio and Envoy Gateway configure.
//!
//! Default text: `[START_TIME] "METHOD PATH PROTO" CODE FLAGS RX TX DURATION UPSTREAM_TIME
//! "XFF" "UA" "REQUEST_ID" "AUTHORITY" "UPSTREAM_HOST"`. It has **no peer address**, so the
//! client is the right-most X-Forwarded-For entry that is not a trusted proxy (see
//! `resolve_client` with no peer); with no XFF the client is unknown. Istio's variant inserts
//! `DETAILS TERMINATION "FAILURE_REASON"` after the flags and appends `CLUSTER UPSTREAM_LOCAL
//! DOWNSTREAM_LOCAL DOWNSTREAM_REMOTE SNI ROUTE`; there `DOWNSTREAM_REMOTE` is the peer.
//! The time is `START_TIME` (when the request started, UTC). TCP-proxy entries
//! (`"- - -" 0`) are kept as events with the raw request `- - -` and status 0.

use super::escape::{LineText, push_escaped_field};
use super::fields::{decimal_to_us, parse_ip_loose, parse_status, parse_u64, split_request_line};
use super::json_table::{Slot, fill, gather};
use super::time::parse_iso_noting;
use super::tokens::{Cursor, Tok};
use super::{LineOutcome, ParseOptions, Scratch};
use crate::model::Request;

const JSON_TABLE: &[(&[u8], Slot)] = &[
    (b"start_time", Slot::Time),
    (b"timestamp", Slot::Time),
    (b"downstream_remote_address", Slot::Peer),
    (b"x_forwarded_for", Slot::Xff),
    (b"method", Slot::Method),
    (b"path", Slot::Target),
    (b"protocol", Slot::Protocol),
    (b"response_code", Slot::Status),
    (b"bytes_sent", Slot::Bytes),
    (b"user_agent", Slot::UserAgent),
    (b"referer", Slot::Referer),
    (b":authority", Slot::Host),
    (b"authority", Slot::Host),
    (b"requested_server_name", Slot::Host),
    (b"duration", Slot::DurationMs),
];

pub(crate) fn parse_json(
    line: &[u8],
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> LineOutcome {
    match gather(line, JSON_TABLE) {
        Ok(g) => fill(&g, opts, sc, out),
        Err(e) => LineOutcome::Malformed(e),
    }
}

pub(crate) fn parse_text(
    line: &[u8],
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> LineOutcome {
    match parse_text_inner(line, opts, sc, out) {
        Ok(()) => LineOutcome::Request,
        Err(e) => LineOutcome::Malformed(e),
    }
}

fn parse_text_inner(
    line: &[u8],
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> Result<(), String> {
    let mut cur = Cursor::new(line);
    let t = cur.bare("start_time")?;
    let t = t
        .strip_prefix(b"[")
        .and_then(|t| t.strip_suffix(b"]"))
        .ok_or("start_time: not in [brackets]")?;
    (out.time, out.utc_offset_secs) = parse_iso_noting(t, opts.default_tz, &mut sc.zone_assumed)
        .ok_or("start_time: not an ISO 8601 time")?;
    let request = cur.quoted("request")?;
    split_request_line(&LineText::new(request), request, out, &mut sc.buf);
    out.status = parse_status(cur.bare("response_code")?).ok_or("response_code: not a number")?;
    let _flags = cur.bare("response_flags")?;
    let mut rx = cur.bare("bytes_received")?;
    let istio = parse_u64(rx).is_none();
    if istio {
        let _termination = cur.bare("connection_termination_details")?;
        let _failure = cur.quoted("upstream_transport_failure_reason")?;
        rx = cur.bare("bytes_received")?;
        parse_u64(rx).ok_or("bytes_received: not a number")?;
    }
    out.bytes_sent = parse_u64(cur.bare("bytes_sent")?).ok_or("bytes_sent: not a number")?;
    let duration = cur.bare("duration")?;
    out.duration_us = decimal_to_us(duration, 1000);
    let _upstream_time = cur.bare("upstream_service_time")?;
    let xff = cur.quoted("x_forwarded_for")?;
    push_escaped_field(&mut out.forwarded_for, xff, &mut sc.buf);
    let ua = cur.quoted("user_agent")?;
    push_escaped_field(&mut out.user_agent, ua, &mut sc.buf);
    let _request_id = cur.quoted("request_id")?;
    let authority = cur.quoted("authority")?;
    push_escaped_field(&mut out.host, authority, &mut sc.buf);
    let _upstream_host = cur.quoted("upstream_host")?;
    if istio {
        // CLUSTER UPSTREAM_LOCAL DOWNSTREAM_LOCAL DOWNSTREAM_REMOTE ...
        let mut rest = [None; 4];
        for slot in &mut rest {
            *slot = cur.next().map_err(|e| format!("istio extras: {e}"))?;
        }
        if let Some(Tok::Bare(remote)) = rest[3] {
            out.peer = parse_ip_loose(remote);
        }
    }
    Ok(())
}
