//! Fast paths for the usual shape of a CLF line, tried before the general code in `clf.rs`:
//!
//! `a.b.c.d ident user [time] "METHOD target HTTP/x" status bytes "referer" "user agent"`
//!
//! Each function either returns exactly what the general code would produce for its part of
//! the line or declines (`None`) without side effects, and the general code then reads the
//! same bytes. So they only need to be right where they accept, and they accept only shapes
//! where the general code's reading is plain: single spaces, an IPv4 peer, a request line
//! without escapes that splits into method, target and protocol, referer and user agent
//! without escapes and nothing after them. Everything else (vhosts, X-Forwarded-For chains,
//! IPv6, odd request lines, escapes, trailing extras, malformed lines) goes the general way,
//! errors included. The tests in `clf_fast_tests.rs` compare both paths.
//!
//! Why: the general code reads the head right to left and the request in several passes
//! (tokenize, split on spaces, look for escapes), many of them `memchr` calls whose setup
//! costs more than the few bytes they scan. One forward pass over the usual shape does the
//! same work in far fewer instructions.

use std::net::{IpAddr, Ipv4Addr};
use std::ops::Range;

use super::escape::LineText;
use crate::model::Request;

/// `a.b.c.d ident user [` (single spaces, ident and user without spaces, tabs or `[`): the
/// peer and the index of the `[`.
///
/// The general code agrees: the first `[` is this one, the last two words before it are user
/// and ident, and field 1 is one plain word, which `parse_ip_loose` reads with
/// `parse_ipv4_fast`, whose rules [`ipv4_prefix`] follows.
pub(crate) fn head(line: &[u8]) -> Option<(IpAddr, usize)> {
    let (peer, mut i) = ipv4_prefix(line)?;
    if line.get(i..i + 6) == Some(b" - - [") {
        return Some((IpAddr::V4(peer), i + 5));
    }
    if line.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    for _ident_then_user in 0..2 {
        let len = line[i..].iter().position(|&b| matches!(b, b' ' | b'\t' | b'['))?;
        if len == 0 || line[i + len] != b' ' {
            return None;
        }
        i += len + 1;
    }
    (line.get(i) == Some(&b'[')).then_some((IpAddr::V4(peer), i))
}

/// A dotted quad at the start of `b` and the index after it, by the rules of
/// `parse_ipv4_fast` (1–3 digits per octet, at most 255, no leading zero); the caller checks
/// what follows (a space, so the word ends where the quad does).
fn ipv4_prefix(b: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let first = b.get(i).copied().filter(u8::is_ascii_digit)?;
        let mut v = u32::from(first - b'0');
        i += 1;
        // A leading zero is the whole octet (`01` is refused by the dot/space check).
        if v != 0 {
            for _ in 0..2 {
                match b.get(i) {
                    Some(&d) if d.is_ascii_digit() => v = v * 10 + u32::from(d - b'0'),
                    _ => break,
                }
                i += 1;
            }
        }
        *octet = u8::try_from(v).ok()?;
    }
    Some((octets.into(), i))
}

/// What [`rest`] read; ranges index the bytes it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FastRest {
    method: Range<usize>,
    target: Range<usize>,
    protocol: Range<usize>,
    status: u16,
    bytes: u64,
    /// Where the general tokenizer stands after the bytes field.
    pub(crate) end: usize,
    /// Referer and user agent, when they end the line as [`rest`] requires; `None` leaves
    /// what follows `end` to the general code.
    pub(crate) tail: Option<(Range<usize>, Range<usize>)>,
}

impl FastRest {
    /// Fill `out` as the general code does; `rest` is the slice given to [`rest`], and
    /// `text` a line it is a sub-slice of.
    pub(crate) fn fill(&self, text: &LineText<'_>, rest: &[u8], out: &mut Request) {
        let method = &rest[self.method.clone()];
        match common_method(method) {
            Some(m) => out.method.push_str(m),
            None => text.push(&mut out.method, method),
        }
        text.push(&mut out.target, &rest[self.target.clone()]);
        let protocol = &rest[self.protocol.clone()];
        match common_protocol(protocol) {
            Some(p) => out.protocol.push_str(p),
            None => text.push(&mut out.protocol, protocol),
        }
        out.status = self.status;
        out.bytes_sent = self.bytes;
        if let Some((referer, user_agent)) = &self.tail {
            let referer = &rest[referer.clone()];
            if referer != b"-" {
                text.push(&mut out.referer, referer);
            }
            let user_agent = &rest[user_agent.clone()];
            if user_agent != b"-" {
                text.push(&mut out.user_agent, user_agent);
            }
        }
    }
}

/// ` "METHOD target HTTP/x" status bytes`, then the end, a space, or ` "referer" "ua"` and
/// the end, where `b` is what follows the time's `]`.
///
/// Accepted only where the general code reads the same:
/// - the quoted request holds no `\` and no `"` (so it ends at the first `"`), and splits
///   as `split_request_line` splits it: a method of 1–32 letters, digits, `-` or `_`, one
///   space, a non-empty target without spaces, one space, a protocol starting `HTTP/`
///   (any case) without spaces; the closing quote is followed by a space;
/// - status is 1–3 digits and bytes is `-` or 1–19 digits (`parse_status`, `parse_u64`),
///   each after exactly one space;
/// - the tail is read only as one space, a quoted referer, one space and a quoted user agent
///   closing the line, both without `\`.
pub(crate) fn rest(b: &[u8]) -> Option<FastRest> {
    if b.get(..2)? != b" \"" {
        return None;
    }
    let len = b[2..].iter().position(|&c| !is_method_byte(c))?;
    let method = 2..2 + len;
    if method.is_empty() || method.len() > 32 || b[method.end] != b' ' {
        return None;
    }
    let start = method.end + 1;
    let target = start..start + memchr::memchr3(b' ', b'"', b'\\', &b[start..])?;
    if target.is_empty() || b[target.end] != b' ' {
        return None;
    }
    let start = target.end + 1;
    if !b.get(start..start + 5)?.eq_ignore_ascii_case(b"HTTP/") {
        return None;
    }
    let len = b[start + 5..].iter().position(|&c| matches!(c, b'"' | b' ' | b'\\'))?;
    let protocol = start..start + 5 + len;
    if b.get(protocol.end..protocol.end + 2) != Some(b"\" ") {
        return None;
    }
    let (status, i) = digits(b, protocol.end + 2, 3)?;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let (bytes, end) = match b.get(i + 1) {
        Some(b'-') => (0, i + 2),
        _ => digits(b, i + 1, 19)?,
    };
    if end < b.len() && b[end] != b' ' {
        return None;
    }
    let tail = tail(b, end);
    Some(FastRest { method, target, protocol, status: status as u16, bytes, end, tail })
}

/// ` "referer" "user agent"` from `at` to the end of `b`, both without `\`.
fn tail(b: &[u8], at: usize) -> Option<(Range<usize>, Range<usize>)> {
    let referer = quoted(b, at)?;
    let user_agent = quoted(b, referer.end + 1)?;
    (user_agent.end + 1 == b.len()).then_some((referer, user_agent))
}

/// ` "..."` at `at`, no `\` inside: the range inside the quotes.
fn quoted(b: &[u8], at: usize) -> Option<Range<usize>> {
    if b.get(at..at + 2)? != b" \"" {
        return None;
    }
    let start = at + 2;
    let len = match b.get(start..)? {
        [b'"', ..] => 0,
        [c, b'"', ..] if *c != b'\\' => 1,
        rest => memchr::memchr2(b'"', b'\\', rest)?,
    };
    (b[start + len] == b'"').then_some(start..start + len)
}

/// The usual methods as constants: copying a constant is cheaper than locating a field in
/// the validated line (the bytes are the same, so is the result).
fn common_method(m: &[u8]) -> Option<&'static str> {
    Some(match m {
        b"GET" => "GET",
        b"POST" => "POST",
        b"HEAD" => "HEAD",
        b"PUT" => "PUT",
        b"DELETE" => "DELETE",
        b"OPTIONS" => "OPTIONS",
        b"PATCH" => "PATCH",
        _ => return None,
    })
}

/// [`common_method`] for protocols.
fn common_protocol(p: &[u8]) -> Option<&'static str> {
    Some(match p {
        b"HTTP/1.1" => "HTTP/1.1",
        b"HTTP/1.0" => "HTTP/1.0",
        b"HTTP/2.0" => "HTTP/2.0",
        _ => return None,
    })
}

/// Letters, digits, `-` and `_`: the bytes of a method (`is_method` in `fields.rs`).
fn is_method_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_')
}

/// The run of 1..=`max` ASCII digits at `at` (as `parse_u64` reads it) and the index after it.
fn digits(b: &[u8], at: usize, max: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    let mut i = at;
    while let Some(&c) = b.get(i)
        && c.is_ascii_digit()
    {
        if i - at == max {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
        i += 1;
    }
    (i > at).then_some((v, i))
}

#[cfg(test)]
mod tests;
