//! Transport wrapping around access-log lines, removed before parsing:
//! - a docker compose prefix `name  | ` (`caddy  | {...}`);
//! - Ambassador's `ACCESS ` prefix on Envoy lines;
//! - a docker/k8s JSON envelope whose first key is `message` or `log` and holds the real
//!   line as a string (`{"message":"ACCESS [...] ...","stream":"stdout",...}`).

use super::escape::unescape_json;
use super::json::{JVal, for_each_member};

/// Longest service name accepted in a compose prefix.
const MAX_PREFIX_NAME: usize = 64;

/// Remove a compose `name  | ` prefix and/or an `ACCESS ` prefix.
pub(crate) fn strip_prefixes(line: &[u8]) -> &[u8] {
    let line = strip_compose(line);
    line.strip_prefix(b"ACCESS ").unwrap_or(line)
}

fn strip_compose(line: &[u8]) -> &[u8] {
    // Fast rejection (the hot path): the name ends at the first space, which must be
    // followed by more spaces and then `| `.
    let head = &line[..line.len().min(MAX_PREFIX_NAME + 1)];
    let Some(name_len) = memchr::memchr(b' ', head) else { return line };
    let rest = &line[name_len..];
    let spaces = rest.iter().take_while(|&&b| b == b' ').count();
    let Some(after) = rest[spaces..].strip_prefix(b"|") else { return line };
    let name = &line[..name_len];
    if name.is_empty()
        || !name.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return line;
    }
    after.strip_prefix(b" ").unwrap_or(after)
}

/// When `line` is a JSON envelope, decode the wrapped line into `out` and return `true`.
/// A trailing newline inside the wrapped string (docker's `"log":"...\n"`) is dropped.
pub(crate) fn unwrap_envelope(line: &[u8], out: &mut Vec<u8>) -> bool {
    let start = line.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(line.len());
    if line.get(start) != Some(&b'{') {
        return false;
    }
    let mut inner = None;
    let _ = for_each_member(line, |k, v| {
        if let (b"message" | b"log", JVal::Str(s)) = (k, v) {
            inner = Some(s);
        }
        false
    });
    let Some(raw) = inner else { return false };
    out.clear();
    unescape_json(raw, out);
    while matches!(out.last(), Some(b'\n' | b'\r')) {
        out.pop();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(strip_prefixes(b"caddy  | {\"a\":1}"), b"{\"a\":1}");
        assert_eq!(strip_prefixes(b"web-1 | 1.2.3.4 - -"), b"1.2.3.4 - -");
        assert_eq!(
            strip_prefixes(b"ACCESS [2024-04-25T17:51:55.294Z] x"),
            b"[2024-04-25T17:51:55.294Z] x"
        );
        // Not prefixes: a CLF line, a pipe without spaces.
        assert_eq!(strip_prefixes(b"1.2.3.4 - - [x]"), b"1.2.3.4 - - [x]");
        assert_eq!(strip_prefixes(b"a|b"), b"a|b");
    }

    #[test]
    fn envelopes() {
        let mut out = Vec::new();
        assert!(unwrap_envelope(
            br#"{"message":"ACCESS [t] \"GET / HTTP/1.1\"","stream":"stdout"}"#,
            &mut out
        ));
        assert_eq!(out, br#"ACCESS [t] "GET / HTTP/1.1""#);
        assert!(unwrap_envelope(br#"{"log":"1.2.3.4 - -\n","stream":"stdout"}"#, &mut out));
        assert_eq!(out, b"1.2.3.4 - -");
        assert!(!unwrap_envelope(br#"{"level":"info","message":"x"}"#, &mut out));
        assert!(!unwrap_envelope(b"1.2.3.4", &mut out));
    }
}
