//! nginx JSON `log_format` lines. There is no fixed schema, so the common key names are
//! mapped through a table (first listed key wins when several are present). Numbers may be
//! quoted or not, an empty unquoted number (`"status":,`) is tolerated, and `\xHH` escapes
//! (a "JSON" format written without `escape=json`) are undone like JSON escapes.
//!
//! Time keys, in order of preference: `time_iso8601`, `@timestamp`, `timestamp`,
//! `time_local`, `time`, `msec` (epoch seconds with milliseconds, UTC), `ts`.

use super::json_table::{Slot, fill, gather};
use super::{LineOutcome, ParseOptions, Scratch};
use crate::model::Request;

pub(crate) const TABLE: &[(&[u8], Slot)] = &[
    (b"time_iso8601", Slot::Time),
    (b"@timestamp", Slot::Time),
    (b"timestamp", Slot::Time),
    (b"time_local", Slot::Time),
    (b"time", Slot::Time),
    (b"msec", Slot::Time),
    (b"ts", Slot::Time),
    (b"remote_addr", Slot::Peer),
    (b"remote_ip", Slot::Peer),
    (b"client_ip", Slot::Peer),
    (b"clientip", Slot::Peer),
    (b"http_x_forwarded_for", Slot::Xff),
    (b"x_forwarded_for", Slot::Xff),
    (b"request", Slot::Request),
    (b"request_method", Slot::Method),
    (b"method", Slot::Method),
    (b"request_uri", Slot::Target),
    (b"uri", Slot::Target),
    (b"server_protocol", Slot::Protocol),
    (b"protocol", Slot::Protocol),
    (b"status", Slot::Status),
    (b"response", Slot::Status),
    (b"status_code", Slot::Status),
    (b"body_bytes_sent", Slot::Bytes),
    (b"bytes_sent", Slot::Bytes),
    (b"bytes", Slot::Bytes),
    (b"size", Slot::Bytes),
    (b"http_user_agent", Slot::UserAgent),
    (b"user_agent", Slot::UserAgent),
    (b"agent", Slot::UserAgent),
    (b"http_referer", Slot::Referer),
    (b"http_referrer", Slot::Referer),
    (b"referrer", Slot::Referer),
    (b"referer", Slot::Referer),
    (b"host", Slot::Host),
    (b"http_host", Slot::Host),
    (b"server_name", Slot::Host),
    (b"request_time", Slot::DurationSecs),
];

pub(crate) fn parse(
    line: &[u8],
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> LineOutcome {
    match gather(line, TABLE) {
        Ok(g) => fill(&g, opts, sc, out),
        Err(e) => LineOutcome::Malformed(e),
    }
}
