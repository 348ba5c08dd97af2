//! Byte-level unescaping shared by the access parsers: nginx `\xHH`, Apache `\xhh`/`\"`/`\\`,
//! JSON string escapes (with the nginx `\xHH` non-JSON fallback) and URL percent-decoding.
//!
//! Every function appends to a caller-owned buffer so the hot path reuses its allocations,
//! and none of them can panic: truncated escapes are copied through verbatim.

use super::tokens::Escapes;

/// Append `bytes` to `dst` as UTF-8, replacing invalid sequences with U+FFFD.
///
/// The fast path (valid UTF-8, the overwhelmingly common case) is a single validation plus a
/// copy; no temporary `String` is built either way.
pub(crate) fn push_lossy(dst: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => dst.push_str(s),
        Err(_) => {
            for chunk in bytes.utf8_chunks() {
                dst.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    dst.push(char::REPLACEMENT_CHARACTER);
                }
            }
        }
    }
}

/// A line, and the same line as `&str` when it is valid UTF-8 (validated once per line, or
/// taken from a [`TextBlock`] the decoder validated).
///
/// Why: every field is a sub-slice split at ASCII delimiters, and a sub-slice of valid UTF-8
/// cut at ASCII bytes is valid UTF-8 too, so fields can be appended without validating each
/// one again (per-field validation was the largest single cost of CLF parsing).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineText<'a> {
    bytes: &'a [u8],
    text: Option<&'a str>,
}

impl<'a> LineText<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        LineText { bytes, text: std::str::from_utf8(bytes).ok() }
    }

    /// `sub` (a sub-slice of this line) as `&str`, when the line is valid UTF-8. Anything
    /// else (not a sub-slice, invalid UTF-8) gives `None` and the caller converts lossily.
    fn str_of(&self, sub: &[u8]) -> Option<&'a str> {
        let text = self.text?;
        let start = (sub.as_ptr() as usize).checked_sub(self.bytes.as_ptr() as usize)?;
        text.get(start..start.checked_add(sub.len())?)
    }

    /// Append `sub` (a sub-slice of this line), lossily when it is not valid UTF-8.
    pub(crate) fn push(&self, dst: &mut String, sub: &[u8]) {
        match self.str_of(sub) {
            Some(s) => dst.push_str(s),
            None => push_lossy(dst, sub),
        }
    }

    /// [`push_escaped`] for a sub-slice of this line.
    pub(crate) fn push_escaped(&self, dst: &mut String, raw: &[u8], scratch: &mut Vec<u8>) {
        if memchr::memchr(b'\\', raw).is_none() {
            self.push(dst, raw);
        } else {
            scratch.clear();
            unescape_log(raw, scratch);
            push_lossy(dst, scratch);
        }
    }

    /// [`push_escaped_field`] for a sub-slice of this line, skipping the search for `\` when
    /// a scan already told whether `raw` holds one.
    pub(crate) fn push_field_known(
        &self,
        dst: &mut String,
        raw: &[u8],
        escapes: Escapes,
        scratch: &mut Vec<u8>,
    ) {
        match escapes {
            _ if raw == b"-" => {}
            Escapes::None => self.push(dst, raw),
            Escapes::Some | Escapes::Unknown => self.push_escaped(dst, raw, scratch),
        }
    }
}

/// A block of whole lines validated as UTF-8 once, which a line cut from it can take its text
/// from instead of validating itself: the decoder validates what it feeds a few KiB at a time
/// (one long validation runs much faster per byte than one per line). `NONE` knows nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextBlock<'a>(Option<&'a str>);

impl<'a> TextBlock<'a> {
    pub(crate) const NONE: TextBlock<'static> = TextBlock(None);

    /// The block's text when it is valid UTF-8 (an invalid block knows nothing).
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        TextBlock(std::str::from_utf8(bytes).ok())
    }

    /// The `LineText` of `sub`: taken from the block when `sub` lies in it and the block is
    /// valid, else validated now. The same either way (`LineText`'s text is exactly the
    /// bytes' when they are valid UTF-8), only cheaper.
    #[inline]
    pub(crate) fn text<'b>(&self, sub: &'b [u8]) -> LineText<'b>
    where
        'a: 'b,
    {
        let known = self.0.and_then(|block| {
            let start = (sub.as_ptr() as usize).checked_sub(block.as_ptr() as usize)?;
            block.get(start..start.checked_add(sub.len())?)
        });
        match known {
            Some(text) => LineText { bytes: sub, text: Some(text) },
            None => LineText::new(sub),
        }
    }
}

/// Append a log field that may carry nginx/Apache backslash escapes; `-` (the "absent"
/// placeholder) appends nothing.
pub(crate) fn push_escaped_field(dst: &mut String, raw: &[u8], scratch: &mut Vec<u8>) {
    if raw == b"-" {
        return;
    }
    push_escaped(dst, raw, scratch);
}

/// Append `raw` with nginx/Apache backslash escapes undone (no placeholder handling).
pub(crate) fn push_escaped(dst: &mut String, raw: &[u8], scratch: &mut Vec<u8>) {
    if memchr::memchr(b'\\', raw).is_none() {
        push_lossy(dst, raw);
        return;
    }
    scratch.clear();
    unescape_log(raw, scratch);
    push_lossy(dst, scratch);
}

/// The value of a hex digit (either case).
pub(crate) fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    Some(hex_val(hi)? << 4 | hex_val(lo)?)
}

/// Undo nginx `\xHH` (upper-case hex) and Apache `\xhh`, `\"`, `\\`, `\n`, `\t`, `\r`.
///
/// nginx escapes every literal backslash as `\x5C`, so each `\x` it writes is an escape;
/// Apache escapes `\` as `\\`. An unknown or truncated escape is kept verbatim.
pub(crate) fn unescape_log(raw: &[u8], dst: &mut Vec<u8>) {
    let mut i = 0;
    while i < raw.len() {
        let Some(off) = memchr::memchr(b'\\', &raw[i..]) else {
            dst.extend_from_slice(&raw[i..]);
            return;
        };
        dst.extend_from_slice(&raw[i..i + off]);
        i += off;
        let next = raw.get(i + 1).copied();
        match next {
            Some(b'x' | b'X') => {
                if let (Some(&h), Some(&l)) = (raw.get(i + 2), raw.get(i + 3))
                    && let Some(v) = hex_pair(h, l)
                {
                    dst.push(v);
                    i += 4;
                    continue;
                }
                dst.push(b'\\');
                i += 1;
            }
            Some(c @ (b'"' | b'\\' | b'n' | b't' | b'r')) => {
                dst.push(match c {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    other => other,
                });
                i += 2;
            }
            _ => {
                dst.push(b'\\');
                i += 1;
            }
        }
    }
}

/// Undo JSON string escapes, plus nginx's `\xHH` for "JSON" formats written without
/// `escape=json` (not valid JSON, but common). Lone surrogates become U+FFFD; unknown
/// escapes are kept verbatim.
pub(crate) fn unescape_json(raw: &[u8], dst: &mut Vec<u8>) {
    let mut i = 0;
    while i < raw.len() {
        let Some(off) = memchr::memchr(b'\\', &raw[i..]) else {
            dst.extend_from_slice(&raw[i..]);
            return;
        };
        dst.extend_from_slice(&raw[i..i + off]);
        i += off;
        let simple = match raw.get(i + 1) {
            Some(b'"') => Some(b'"'),
            Some(b'\\') => Some(b'\\'),
            Some(b'/') => Some(b'/'),
            Some(b'b') => Some(0x08),
            Some(b'f') => Some(0x0c),
            Some(b'n') => Some(b'\n'),
            Some(b'r') => Some(b'\r'),
            Some(b't') => Some(b'\t'),
            _ => None,
        };
        if let Some(b) = simple {
            dst.push(b);
            i += 2;
            continue;
        }
        match raw.get(i + 1) {
            Some(b'x') => {
                if let (Some(&h), Some(&l)) = (raw.get(i + 2), raw.get(i + 3))
                    && let Some(v) = hex_pair(h, l)
                {
                    dst.push(v);
                    i += 4;
                    continue;
                }
                dst.push(b'\\');
                i += 1;
            }
            Some(b'u') => {
                let Some(hi) = hex4(raw, i + 2) else {
                    dst.push(b'\\');
                    i += 1;
                    continue;
                };
                i += 6;
                let code = if (0xD800..0xDC00).contains(&hi) {
                    match (raw.get(i), raw.get(i + 1), hex4(raw, i + 2)) {
                        (Some(b'\\'), Some(b'u'), Some(lo)) if (0xDC00..0xE000).contains(&lo) => {
                            i += 6;
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        }
                        _ => 0xFFFD,
                    }
                } else {
                    hi
                };
                let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut buf = [0u8; 4];
                dst.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            _ => {
                dst.push(b'\\');
                i += 1;
            }
        }
    }
}

fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let s = raw.get(at..at + 4)?;
    let mut v = 0u32;
    for &b in s {
        v = v << 4 | u32::from(hex_val(b)?);
    }
    Some(v)
}

/// Percent-decode exactly once (`%20` → space); `+` is left alone (`CloudFront` writes
/// spaces as `%20`) and malformed `%` sequences are copied through.
pub(crate) fn percent_decode(raw: &[u8], dst: &mut Vec<u8>) {
    let mut i = 0;
    while i < raw.len() {
        let Some(off) = memchr::memchr(b'%', &raw[i..]) else {
            dst.extend_from_slice(&raw[i..]);
            return;
        };
        dst.extend_from_slice(&raw[i..i + off]);
        i += off;
        if let (Some(&h), Some(&l)) = (raw.get(i + 1), raw.get(i + 2))
            && let Some(v) = hex_pair(h, l)
        {
            dst.push(v);
            i += 3;
        } else {
            dst.push(b'%');
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(s: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        unescape_log(s, &mut v);
        v
    }

    #[test]
    fn nginx_and_apache_escapes() {
        assert_eq!(log(br"\x03\x00/*\xE0 ok"), b"\x03\x00/*\xe0 ok");
        assert_eq!(log(br"http://\xe4\xe5"), b"http://\xe4\xe5");
        assert_eq!(log(br#"say \"hi\" \\ \n"#), b"say \"hi\" \\ \n");
        // Truncated and unknown escapes survive verbatim.
        assert_eq!(log(br"a\x4"), br"a\x4");
        assert_eq!(log(br"a\q\"), br"a\q\");
    }

    #[test]
    fn json_escapes_with_nginx_fallback() {
        let mut v = Vec::new();
        unescape_json(br#"a\"b\\c\/\u00e9\ud83d\ude00\x22\xE9\u12"#, &mut v);
        assert_eq!(v, "a\"b\\c/é😀\"".bytes().chain([0xe9]).chain(*br"\u12").collect::<Vec<_>>());
    }

    #[test]
    fn line_text_pushes_sub_slices_and_falls_back() {
        let line = "héllo \\x41 w".as_bytes();
        let t = LineText::new(line);
        let mut s = String::new();
        let mut sc = Vec::new();
        t.push(&mut s, &line[0..6]);
        t.push_escaped(&mut s, &line[7..11], &mut sc);
        t.push_field_known(&mut s, b"-", Escapes::Unknown, &mut sc);
        t.push(&mut s, b"foreign");
        assert_eq!(s, "hélloAforeign");
        // Invalid UTF-8 line: each field converted lossily.
        let bad = b"a\xff b";
        let t = LineText::new(bad);
        let mut s = String::new();
        t.push(&mut s, &bad[..2]);
        assert_eq!(s, "a\u{fffd}");
    }

    #[test]
    fn text_block_lends_its_text_only_to_its_own_bytes() {
        let text = |t: LineText<'_>| {
            let mut s = String::new();
            t.push(&mut s, t.bytes);
            (s, t.text.is_some())
        };
        let block = "a caf\u{e9} line\nnext".as_bytes();
        let known = TextBlock::new(block);
        assert_eq!(text(known.text(&block[2..7])), ("caf\u{e9}".to_owned(), true));
        // Not on a character boundary: validated on its own (and invalid).
        assert_eq!(text(known.text(&block[2..6])), ("caf\u{fffd}".to_owned(), false));
        // Bytes outside the block, before or after it in memory: their own text.
        let buf = b"xy\xff|in the block|z\xfe";
        let inner = TextBlock::new(&buf[4..16]);
        for other in [&buf[..3], &buf[..2], &buf[17..], &buf[17..18]] {
            let want = String::from_utf8_lossy(other).into_owned();
            assert_eq!(text(inner.text(other)).0, want);
            assert_eq!(text(TextBlock::NONE.text(other)).0, want);
        }
        let invalid = b"ok \xff ok";
        assert_eq!(text(TextBlock::new(invalid).text(&invalid[..2])), ("ok".to_owned(), true));
    }

    #[test]
    fn lossy_and_percent() {
        let mut s = String::new();
        push_lossy(&mut s, b"ok\xffend");
        assert_eq!(s, "ok\u{fffd}end");
        let mut v = Vec::new();
        percent_decode(b"Mozilla/5.0%20(X11)%2zx%", &mut v);
        assert_eq!(v, b"Mozilla/5.0 (X11)%2zx%");
    }
}
