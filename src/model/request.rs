//! One HTTP request as logged by a server, proxy or load balancer.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::SourceId;

/// A normalized access-log record.
///
/// String fields are decoded lossily from the raw bytes (escapes such as nginx `\xHH` undone
/// first) and are **attacker-controlled**: sanitize before display, escape before writing into
/// any markup. An empty string means "absent in the source" (`-` placeholders become empty).
///
/// The struct is designed to be reused: parsers fill an existing `Request` in place
/// (`clear()` keeps the string capacities) so the hot path does not allocate per line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// When the request was logged, in UTC. For formats that log at completion (most do) this
    /// is the completion time; parsers document their choice.
    pub time: DateTime<Utc>,
    /// The offset (seconds east of UTC) the source wrote the time in; 0 for UTC formats.
    pub utc_offset_secs: i32,
    pub source: SourceId,
    /// 1-based line number in the source (for stdin: since start).
    pub line: u64,
    /// The TCP peer as logged (the proxy, when there is one). `None` when the format has no
    /// peer (Envoy's default text format) or the field was not an address.
    pub peer: Option<IpAddr>,
    /// The client after proxy resolution (see `ingest::access::resolve_client`).
    pub client: Option<IpAddr>,
    /// The client as logged when the log names it rather than gives its address (Apache
    /// `HostnameLookups On`: `monitoring-server`; `localhost`; nginx's `unix:` for a Unix
    /// socket peer); `None` otherwise. Such a request has no address to judge: it counts as
    /// internal when the name is local ([`Request::is_local_client`]), else as unattributed.
    /// (Boxed: rare, and `Request` sits in `Event`, whose size every batch pays.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<Box<str>>,
    /// The raw X-Forwarded-For value when the format logs one (empty otherwise).
    pub forwarded_for: String,
    /// The peer is a trusted proxy but the X-Forwarded-For entry where the client should be
    /// (the first one, from the right, that is not a trusted proxy) is not an address: the
    /// client is external and unknown, `client` is `None` (never the proxy).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forwarded_unknown: bool,
    /// HTTP method; empty when the request line is not `METHOD target PROTO`.
    pub method: String,
    /// Request target (path and query) as sent; empty when the request line did not split.
    pub target: String,
    /// Protocol (`HTTP/1.1`); empty when absent.
    pub protocol: String,
    /// The raw request line when it is not `METHOD target PROTO` (binary probes, `""`), else empty.
    pub raw_request: String,
    /// HTTP status; 0 when the server logged none (e.g. `CloudFront` status `000`).
    pub status: u16,
    /// Bytes sent to the client (body bytes where the format distinguishes).
    pub bytes_sent: u64,
    pub user_agent: String,
    pub referer: String,
    /// Host / vhost / authority / SNI when the format has one.
    pub host: String,
    /// Request duration in microseconds when the format has one.
    pub duration_us: Option<u64>,
    /// What a web application firewall did with the request, for WAF logs (`aws-waf`);
    /// `None` for every other format. A WAF log has no response status (`status` is 0, so
    /// the request is never a success) but the request reached the edge: it is positive
    /// evidence like any other external request, whatever the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waf_action: Option<WafAction>,
}

/// A WAF's terminating action on a request (AWS WAF's `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WafAction {
    Allow,
    Block,
    Count,
    Captcha,
    Challenge,
}

impl WafAction {
    pub const ALL: [WafAction; 5] = [
        WafAction::Allow,
        WafAction::Block,
        WafAction::Count,
        WafAction::Captcha,
        WafAction::Challenge,
    ];

    /// The name as the WAF logs it (`ALLOW`, `BLOCK`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            WafAction::Allow => "ALLOW",
            WafAction::Block => "BLOCK",
            WafAction::Count => "COUNT",
            WafAction::Captcha => "CAPTCHA",
            WafAction::Challenge => "CHALLENGE",
        }
    }

    /// Parse the logged name (ASCII case-insensitive).
    #[must_use]
    pub fn from_name(name: &[u8]) -> Option<WafAction> {
        WafAction::ALL.into_iter().find(|a| a.as_str().as_bytes().eq_ignore_ascii_case(name))
    }
}

impl Default for Request {
    fn default() -> Self {
        Request {
            time: DateTime::<Utc>::UNIX_EPOCH,
            utc_offset_secs: 0,
            source: SourceId::default(),
            line: 0,
            peer: None,
            client: None,
            client_name: None,
            forwarded_for: String::new(),
            forwarded_unknown: false,
            method: String::new(),
            target: String::new(),
            protocol: String::new(),
            raw_request: String::new(),
            status: 0,
            bytes_sent: 0,
            user_agent: String::new(),
            referer: String::new(),
            host: String::new(),
            duration_us: None,
            waf_action: None,
        }
    }
}

impl Request {
    /// Reset every field, keeping string capacities for reuse.
    pub fn clear(&mut self) {
        self.time = DateTime::<Utc>::UNIX_EPOCH;
        self.utc_offset_secs = 0;
        self.source = SourceId::default();
        self.line = 0;
        self.peer = None;
        self.client = None;
        self.client_name = None;
        self.forwarded_for.clear();
        self.forwarded_unknown = false;
        self.method.clear();
        self.target.clear();
        self.protocol.clear();
        self.raw_request.clear();
        self.status = 0;
        self.bytes_sent = 0;
        self.user_agent.clear();
        self.referer.clear();
        self.host.clear();
        self.duration_us = None;
        self.waf_action = None;
    }

    /// A request with no client address whose logged client name is this host itself
    /// (`localhost`, `localhost.localdomain`, or a `unix:` socket peer): internal traffic.
    #[must_use]
    pub fn is_local_client(&self) -> bool {
        self.client.is_none()
            && !self.forwarded_unknown
            && self.client_name.as_deref().is_some_and(|n| {
                n.eq_ignore_ascii_case("localhost")
                    || n.eq_ignore_ascii_case("localhost.localdomain")
                    || n.starts_with("unix:")
            })
    }

    /// The path part of the target (before `?`), or the raw request line when it did not split.
    #[must_use]
    pub fn path(&self) -> &str {
        if self.target.is_empty() {
            return &self.raw_request;
        }
        // A byte search: `str::find` with a `char` goes through `CharSearcher`, whose
        // bookkeeping around its own `memchr` showed as 1% of a batch run (once per external
        // request). `?` is ASCII, so the byte found is the same cut, on a char boundary.
        match memchr::memchr(b'?', self.target.as_bytes()) {
            Some(i) => &self.target[..i],
            None => &self.target,
        }
    }
}

/// The one success rule: a response status below 400, and present (0 = none logged, as in a
/// WAF record). Counted by the correlator's tally for every actor and window.
#[must_use]
pub fn is_success_status(status: u16) -> bool {
    status != 0 && status < 400
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_the_target_before_the_query_or_the_raw_request() {
        let path = |target: &str, raw: &str| {
            let r =
                Request { target: target.into(), raw_request: raw.into(), ..Request::default() };
            r.path().to_owned()
        };
        assert_eq!(path("/a/b?c=1?d", ""), "/a/b");
        assert_eq!(path("/caf\u{e9}\u{1F600}?q", ""), "/caf\u{e9}\u{1F600}");
        assert_eq!(path("?", ""), "");
        assert_eq!(path("/plain", ""), "/plain");
        assert_eq!(path("", "\u{fffd}\u{3} probe?x"), "\u{fffd}\u{3} probe?x");
    }
}
