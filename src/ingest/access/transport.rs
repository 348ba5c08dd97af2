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
    let Some(name_len) = first_space(head) else { return line };
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

/// The index of the first space in `head`. Most lines have one within 16 bytes (after an
/// IPv4 address, a short service name): one word-sized zero-byte test finds it, cheaper than
/// a call to `memchr` for so few bytes.
fn first_space(head: &[u8]) -> Option<usize> {
    const ONES: u128 = u128::MAX / 0xff;
    let Some((word, rest)) = head.split_first_chunk::<16>() else {
        return memchr::memchr(b' ', head);
    };
    // Bytes equal to a space become zero; the lowest zero byte sets the lowest high bit
    // (borrows can only mark bytes above it).
    let x = u128::from_le_bytes(*word) ^ (ONES * u128::from(b' '));
    let zero = x.wrapping_sub(ONES) & !x & (ONES << 7);
    if zero != 0 {
        return Some(zero.trailing_zeros() as usize / 8);
    }
    memchr::memchr(b' ', rest).map(|i| i + 16)
}

/// When `line` is a JSON envelope, decode the wrapped line into `out` and return `true`.
/// A trailing newline inside the wrapped string (docker's `"log":"...\n"`) is dropped.
pub(crate) fn unwrap_envelope(line: &[u8], out: &mut Vec<u8>) -> bool {
    may_be_envelope(line) && unwrap_object(line, out)
}

/// Whether `line` starts with `{` (after whitespace): false for every line `unwrap_envelope`
/// would refuse at once. Inlined: every line of every format passes here, and most are not
/// envelopes.
#[inline]
pub(crate) fn may_be_envelope(line: &[u8]) -> bool {
    let start = line.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(line.len());
    line.get(start) == Some(&b'{')
}

/// [`unwrap_envelope`] for a line that starts with `{`.
fn unwrap_object(line: &[u8], out: &mut Vec<u8>) -> bool {
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
    fn first_space_matches_a_plain_search() {
        let mut line = [b'a'; 40];
        assert_eq!(first_space(&line), None);
        for at in 0..40 {
            for other in [0x00, 0xa0, 0x1f, 0x21, 0xff] {
                line = [b'a'; 40];
                line[at] = b' ';
                // Bytes near a space that the word test must not take for one.
                line[at.saturating_sub(1)] = other;
                line[(at + 1).min(39)] = other;
                if line[at] != b' ' {
                    continue;
                }
                for len in [at + 1, 16, 17, 40] {
                    let head = &line[..len.min(40)];
                    let want = head.iter().position(|&b| b == b' ');
                    assert_eq!(
                        first_space(head),
                        want,
                        "space at {at}, {other:#x} around, len {len}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn first_space_is_the_first_space(
            head in proptest::collection::vec(
                proptest::prop_oneof![proptest::num::u8::ANY, proptest::strategy::Just(b' ')],
                0..70,
            ),
        ) {
            proptest::prop_assert_eq!(first_space(&head), head.iter().position(|&b| b == b' '));
        }
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
