//! AWS Application Load Balancer access logs: space-separated, some fields quoted, new
//! fields appended at the end over the years (parsed positionally; extras ignored).
//!
//! `type time elb client:port target:port req_t target_t resp_t elb_status target_status
//! received sent "request" "user_agent" ...`. The time is when the response was sent (UTC).
//! The client is the TCP peer (ALB has no X-Forwarded-For field). The duration is the sum of
//! the three processing times when none is `-1`. The request is split on its first and last
//! space (the target can contain spaces); `"- - -"` and `"- http://h:80-/ "` (never parsed)
//! are kept as the raw request. The target's `scheme://authority` is moved to `host`.
//!
//! Classic ELB lines (the same layout without the leading `type`) are parsed too. Other
//! records that share the log buckets are `Skipped`, not malformed: NLB TLS lines
//! (`tls 2.0 ...`) and ALB connection-log lines (a timestamp, then `client_ip client_port`).

use super::escape::push_escaped_field;
use super::fields::{decimal_to_us, parse_ip_port, parse_status, parse_u64, split_first_last};
use super::time::parse_iso;
use super::tokens::Cursor;
use super::{LineOutcome, Scratch};
use crate::ingest::access::escape::push_escaped;
use crate::model::Request;

const TYPES: [&[u8]; 6] = [b"http", b"https", b"h2", b"grpcs", b"ws", b"wss"];

pub(crate) fn parse(line: &[u8], sc: &mut Scratch, out: &mut Request) -> LineOutcome {
    let mut words = line.split(|&b| b == b' ');
    let first = words.next().unwrap_or_default();
    if first == b"tls" {
        return LineOutcome::Skipped;
    }
    let mut classic = false;
    if parse_iso(first, chrono_tz::UTC).is_some() {
        // A connection-log line has `client_ip client_port`; a classic ELB line has
        // `elb client:port` (the ALB layout without its leading type).
        let _elb = words.next();
        if words.next().and_then(parse_ip_port).is_none() {
            return LineOutcome::Skipped;
        }
        classic = true;
    }
    match parse_inner(line, classic, sc, out) {
        Ok(()) => LineOutcome::Request,
        Err(e) => LineOutcome::Malformed(e),
    }
}

fn parse_inner(
    line: &[u8],
    classic: bool,
    sc: &mut Scratch,
    out: &mut Request,
) -> Result<(), String> {
    let mut cur = Cursor::new(line);
    if !classic {
        let kind = cur.bare("type")?;
        if !TYPES.contains(&kind) {
            return Err("type: not one of http|https|h2|grpcs|ws|wss".into());
        }
    }
    let time = cur.bare("time")?;
    // UTC by AWS's definition of the format (written with a `Z`): never a zone to assume.
    (out.time, out.utc_offset_secs) =
        parse_iso(time, chrono_tz::UTC).ok_or("time: not an ISO 8601 time")?;
    let _elb = cur.bare("elb")?;
    let client = cur.bare("client:port")?;
    out.peer = parse_ip_port(client);
    if out.peer.is_none() {
        return Err("client:port: not an address".into());
    }
    let _target = cur.bare("target:port")?;
    let mut total = Some(0u64);
    for field in ["request_processing_time", "target_processing_time", "response_processing_time"] {
        let v = cur.bare(field)?;
        let us = decimal_to_us(v, 1_000_000);
        total = total.zip(us).map(|(a, b)| a + b);
    }
    out.duration_us = total;
    out.status =
        parse_status(cur.bare("elb_status_code")?).ok_or("elb_status_code: not a number")?;
    let _target_status = cur.bare("target_status_code")?;
    let _received = cur.bare("received_bytes")?;
    let sent = cur.bare("sent_bytes")?;
    out.bytes_sent = parse_u64(sent).ok_or("sent_bytes: not a number")?;
    let request = cur.quoted("request")?;
    if split_first_last(request, out) {
        move_authority(out);
    } else {
        push_escaped(&mut out.raw_request, request, &mut sc.buf);
    }
    let ua = cur.quoted("user_agent")?;
    push_escaped_field(&mut out.user_agent, ua, &mut sc.buf);
    Ok(())
}

/// `http://host:80/path?q` → host `host:80`, target `/path?q`.
fn move_authority(out: &mut Request) {
    let Some(scheme_end) = out.target.find("://") else { return };
    let rest = &out.target[scheme_end + 3..];
    let path_start = rest.find('/').map_or(out.target.len(), |i| scheme_end + 3 + i);
    out.host.push_str(&out.target[scheme_end + 3..path_start]);
    out.target.replace_range(..path_start, "");
    if out.target.is_empty() {
        out.target.push('/');
    }
}
