//! Traefik JSON access log (v1 and v2/v3 keys).
//!
//! `ClientAddr` (`ip:port`, IPv6 in brackets) is the TCP peer. Traefik overwrites
//! `ClientHost` with the raw X-Forwarded-For header when one was sent, so `ClientHost` is
//! kept as `forwarded_for` only when it differs from the peer. The time is `StartUTC` (when
//! the request started; Traefik's `time` has whole seconds only), else `StartLocal`, else
//! `time`. `Duration` is in nanoseconds. Status and size are what the client received
//! (`Downstream*`).

use super::fields::parse_ip_loose;
use super::json_table::{Slot, fill, gather};
use super::{LineOutcome, ParseOptions, Scratch};
use crate::model::Request;

const TABLE: &[(&[u8], Slot)] = &[
    (b"StartUTC", Slot::Time),
    (b"StartLocal", Slot::Time),
    (b"time", Slot::Time),
    (b"ClientAddr", Slot::Peer),
    (b"ClientHost", Slot::Xff),
    (b"RequestMethod", Slot::Method),
    (b"RequestPath", Slot::Target),
    (b"RequestProtocol", Slot::Protocol),
    (b"RequestLine", Slot::Request),
    (b"DownstreamStatus", Slot::Status),
    (b"OriginStatus", Slot::Status),
    (b"DownstreamContentSize", Slot::Bytes),
    (b"OriginContentSize", Slot::Bytes),
    (b"request_User-Agent", Slot::UserAgent),
    (b"request_Referer", Slot::Referer),
    (b"RequestHost", Slot::Host),
    (b"RequestAddr", Slot::Host),
    (b"Duration", Slot::DurationNs),
];

pub(crate) fn parse(
    line: &[u8],
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> LineOutcome {
    let outcome = match gather(line, TABLE) {
        Ok(g) => fill(&g, opts, sc, out),
        Err(e) => return LineOutcome::Malformed(e),
    };
    // ClientHost equal to the peer is not a forwarded-for value.
    if out.peer.is_some()
        && !out.forwarded_for.contains(',')
        && parse_ip_loose(out.forwarded_for.as_bytes()) == out.peer
    {
        out.forwarded_for.clear();
    }
    outcome
}
