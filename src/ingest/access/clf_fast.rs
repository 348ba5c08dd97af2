//! Fast paths for the usual shape of a CLF line, tried before the general code in `clf.rs`:
//!
//! `a.b.c.d ident user [time] "METHOD target HTTP/x" status bytes "referer" "user agent"`
//!
//! Each function either returns exactly what the general code would produce for its part of
//! the line or declines (`None`) without side effects, and the general code then reads the
//! same bytes. So they only need to be right where they accept, and they accept only shapes
//! where the general code's reading is plain: single spaces, an IPv4 or plain IPv6 peer, a
//! request line without escapes that splits into method, target and protocol, numeric status
//! and bytes; referer and user agent only without escapes and with nothing after them (else
//! the general code reads from the bytes field on). Everything else (vhosts, X-Forwarded-For
//! chains, host names, odd request lines, escapes, malformed lines) goes the general way,
//! errors included. The tests in `clf_fast/tests.rs` compare both paths.
//!
//! [`rest_light`] is [`rest`] for a request whose strings nobody reads (see
//! `ParseOptions::light`): it accepts and declines exactly the same lines, and fills only
//! status and bytes, so a light line is validated as a full one and costs no copies.
//!
//! Why: the general code reads the head right to left and the request in several passes
//! (tokenize, split on spaces, look for escapes), many of them `memchr` calls whose setup
//! costs more than the few bytes they scan. One forward pass over the usual shape does the
//! same work in far fewer instructions.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use super::escape::{LineText, TextBlock, hex_val};
use crate::model::Request;

/// `addr ident user [` (single spaces, ident and user without spaces, tabs or `[`), where
/// `addr` is an IPv4 or IPv6 address: the peer and the index of the `[`.
///
/// The general code agrees: the first `[` is this one, the last two words before it are user
/// and ident, and field 1 is one plain word, which `parse_ip_loose` reads as
/// [`ipv4_prefix`] and [`ipv6_word`] do (see there).
pub(crate) fn head(line: &[u8]) -> Option<(IpAddr, usize)> {
    let (peer, mut i) = if let Some((v4, end)) = ipv4_prefix(line) {
        (IpAddr::V4(v4), end)
    } else {
        let end = line.iter().take(MAX_IPV6 + 1).position(|&b| b == b' ')?;
        (IpAddr::V6(ipv6_word(&line[..end])?), end)
    };
    if line.get(i..i + 6) == Some(b" - - [") {
        return Some((peer, i + 5));
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
    (line.get(i) == Some(&b'[')).then_some((peer, i))
}

/// Longest IPv6 text [`ipv6_word`] accepts: eight groups of four hex digits.
const MAX_IPV6: usize = 8 * 4 + 7;

/// An IPv6 address in its usual text forms (groups of 1–4 hex digits, at most one `::`
/// standing for at least one zero group), the whole of `w`; `None` for anything else,
/// including forms the standard parser accepts (an embedded IPv4 tail) and every host name.
///
/// `parse_ip_loose` reads such a word with `str::parse::<IpAddr>`: its IPv4 attempt fails
/// (there is no `.`), and the standard IPv6 parser accepts exactly these forms with the same
/// value (a test compares them). About 1 line in 30 of the generated data has an IPv6 peer,
/// and the standard parser costs more than the rest of the line.
fn ipv6_word(w: &[u8]) -> Option<Ipv6Addr> {
    if w.len() > MAX_IPV6 {
        return None;
    }
    let mut groups = [0u16; 8];
    let mut n = 0;
    // Groups before `::` (all of them when there is none), and where `::` stood.
    let mut gap = None;
    let mut i = 0;
    if w.starts_with(b"::") {
        gap = Some(0);
        i = 2;
    }
    while i < w.len() {
        if n == 8 {
            return None;
        }
        let start = i;
        let mut v = 0u16;
        while let Some(d) = w.get(i).and_then(|&c| hex_val(c)) {
            if i - start == 4 {
                return None;
            }
            v = v << 4 | u16::from(d);
            i += 1;
        }
        if i == start {
            return None;
        }
        groups[n] = v;
        n += 1;
        match &w[i..] {
            [] => break,
            [b':', b':', ..] if gap.is_none() => {
                gap = Some(n);
                i += 2;
            }
            [b':', _, ..] => i += 1,
            _ => return None,
        }
    }
    match gap {
        None if n == 8 => Some(groups.into()),
        Some(at) if n < 8 => {
            // Move the groups after `::` to the end; zeros fill the gap.
            groups[at..].rotate_right(8 - n);
            Some(groups.into())
        }
        _ => None,
    }
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

/// How far [`rest`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rest {
    /// Referer and user agent closed the line: the request is complete.
    Complete,
    /// Read up to the bytes field; the general code goes on from this index (where its
    /// tokenizer would stand).
    From(usize),
}

/// ` "METHOD target HTTP/x" status bytes`, then the end, a space, or ` "referer" "ua"` and
/// the end, where `b` is what follows the time's `]`. On `Some`, `out` holds what the general
/// code would have put there for the part read; on `None` it is untouched.
///
/// Accepted only where the general code reads the same (see [`shape`]). Fields are
/// converted through a `LineText` that starts at the target (its text from `block` when that
/// holds it): what lies before it (method, `HTTP/`) is ASCII by construction or converted on
/// its own, which gives the same strings (a copy when valid UTF-8, else the lossy
/// conversion).
pub(crate) fn rest(b: &[u8], block: TextBlock<'_>, out: &mut Request) -> Option<Rest> {
    let s = shape(b)?;
    // The text from the target on: lent by the block, or validated once here.
    let text = block.text(&b[s.target.start..]);
    push_method(&text, &mut out.method, &b[s.method]);
    text.push(&mut out.target, &b[s.target]);
    push_protocol(&text, &mut out.protocol, &b[s.protocol]);
    out.status = s.status;
    out.bytes_sent = s.bytes;
    let Some((referer, user_agent)) = s.tail else { return Some(Rest::From(s.end)) };
    let (referer, user_agent) = (&b[referer], &b[user_agent]);
    if referer != b"-" {
        text.push(&mut out.referer, referer);
    }
    if user_agent != b"-" {
        text.push(&mut out.user_agent, user_agent);
    }
    Some(Rest::Complete)
}

/// [`rest`] for a light request (see `ParseOptions::light`): the same lines accepted, the
/// same [`Rest`], `status` and `bytes_sent` filled, no string.
pub(crate) fn rest_light(b: &[u8], out: &mut Request) -> Option<Rest> {
    let s = shape(b)?;
    out.status = s.status;
    out.bytes_sent = s.bytes;
    Some(if s.tail.is_some() { Rest::Complete } else { Rest::From(s.end) })
}

/// Where [`shape`] found the parts of what follows the time (ranges into its `b`).
struct Shape {
    method: Range<usize>,
    target: Range<usize>,
    protocol: Range<usize>,
    status: u16,
    bytes: u64,
    /// The index after the bytes field.
    end: usize,
    /// Referer and user agent (inside their quotes) when they close the line.
    tail: Option<(Range<usize>, Range<usize>)>,
}

/// Read the shape [`rest`] accepts, where the general code reads the same:
/// - the quoted request holds no `\` and no `"` (so it ends at the first `"`), and splits
///   as `split_request_line` splits it: a method of 1–32 letters, digits, `-` or `_`, one
///   space, a non-empty target without spaces, one space, a protocol starting `HTTP/`
///   (any case) without spaces; the closing quote is followed by a space;
/// - status is 1–3 digits and bytes is `-` or 1–19 digits (`parse_status`, `parse_u64`),
///   each after exactly one space;
/// - the tail is read only as one space, a quoted referer, one space and a quoted user agent
///   closing the line, both without `\`.
///
/// Only validation and offsets: [`rest`] and [`rest_light`] fill what their callers need.
// Always inlined: out of line, the offsets went back through memory and a full parse took
// 45 more instructions per line (callgrind, `examples/parse_profile.rs`).
#[allow(clippy::inline_always)]
#[inline(always)]
fn shape(b: &[u8]) -> Option<Shape> {
    if b.get(..2)? != b" \"" {
        return None;
    }
    let len = b[2..].iter().position(|&c| !is_method_byte(c))?;
    if len == 0 || len > 32 || b[2 + len] != b' ' {
        return None;
    }
    let method = 2..2 + len;
    let target_at = 2 + len + 1;
    let len = memchr::memchr3(b' ', b'"', b'\\', &b[target_at..])?;
    if len == 0 || b[target_at + len] != b' ' {
        return None;
    }
    let target = target_at..target_at + len;
    let start = target_at + len + 1;
    if !b.get(start..start + 5)?.eq_ignore_ascii_case(b"HTTP/") {
        return None;
    }
    let len = 5 + b[start + 5..].iter().position(|&c| matches!(c, b'"' | b' ' | b'\\'))?;
    let protocol = start..start + len;
    let i = start + len;
    if b.get(i..i + 2) != Some(b"\" ") {
        return None;
    }
    let (status, i) = digits(b, i + 2, 3)?;
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
    Some(Shape { method, target, protocol, status: status as u16, bytes, end, tail })
}

/// ` "referer" "user agent"` from `at` to the end of `b`, both without `\`: their ranges.
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

/// Append a method; the usual ones as constants, which need no UTF-8 validation and copy
/// without a call to `memcpy` (the bytes are the same, so is the result).
fn push_method(text: &LineText<'_>, dst: &mut String, m: &[u8]) {
    match m {
        b"GET" => dst.push_str("GET"),
        b"POST" => dst.push_str("POST"),
        b"HEAD" => dst.push_str("HEAD"),
        b"PUT" => dst.push_str("PUT"),
        b"DELETE" => dst.push_str("DELETE"),
        b"OPTIONS" => dst.push_str("OPTIONS"),
        b"PATCH" => dst.push_str("PATCH"),
        _ => text.push(dst, m),
    }
}

/// [`push_method`] for protocols.
fn push_protocol(text: &LineText<'_>, dst: &mut String, p: &[u8]) {
    match p {
        b"HTTP/1.1" => dst.push_str("HTTP/1.1"),
        b"HTTP/1.0" => dst.push_str("HTTP/1.0"),
        b"HTTP/2.0" => dst.push_str("HTTP/2.0"),
        _ => text.push(dst, p),
    }
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
