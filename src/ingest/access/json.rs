//! A small, lenient, zero-copy JSON object walker for one log line.
//!
//! Why not `serde_json::Value`: it allocates per line, and real "JSON" access logs are not
//! always JSON — nginx writes `"status":,` when an unquoted variable is empty and `\xHH`
//! escapes without `escape=json`. The walker yields raw value spans; strings are unescaped
//! only when a parser needs them. Nesting is skipped iteratively (no recursion), so no input
//! can exhaust the stack.

use super::escape::{push_lossy, unescape_json};

/// A raw JSON value: strings are the bytes between the quotes, still escaped; objects and
/// arrays are the whole span including brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JVal<'a> {
    Str(&'a [u8]),
    Num(&'a [u8]),
    Bool(bool),
    Null,
    Obj(&'a [u8]),
    Arr(&'a [u8]),
    /// `"key":,` — nginx's unquoted variable that was empty.
    Missing,
}

impl<'a> JVal<'a> {
    /// The raw bytes of a string or number (numbers may be quoted or not in nginx logs).
    pub(crate) fn scalar(self) -> Option<&'a [u8]> {
        match self {
            JVal::Str(s) | JVal::Num(s) => Some(s),
            _ => None,
        }
    }
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// End (index of the closing quote) of a string starting after its opening quote at `i`.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let off = memchr::memchr2(b'"', b'\\', &b[i..])?;
        i += off;
        if b[i] == b'"' {
            return Some(i);
        }
        i += 2;
        if i > b.len() {
            return None;
        }
    }
}

/// End (exclusive) of the object/array starting at `i` (which holds `{` or `[`).
fn container_end(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'"' => i = string_end(b, i + 1)?,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Parse one value at `i`; returns the value and the index after it.
fn value(src: &[u8], at: usize) -> Result<(JVal<'_>, usize), &'static str> {
    match src.get(at) {
        Some(b'"') => {
            let end = string_end(src, at + 1).ok_or("unterminated string")?;
            Ok((JVal::Str(&src[at + 1..end]), end + 1))
        }
        Some(b'{') => {
            let end = container_end(src, at).ok_or("unterminated object")?;
            Ok((JVal::Obj(&src[at..end]), end))
        }
        Some(b'[') => {
            let end = container_end(src, at).ok_or("unterminated array")?;
            Ok((JVal::Arr(&src[at..end]), end))
        }
        Some(b',' | b'}' | b']') => Ok((JVal::Missing, at)),
        Some(&first) if is_bare_byte(first) => {
            let len = src[at..].iter().take_while(|&&ch| is_bare_byte(ch)).count();
            let tok = &src[at..at + len];
            let parsed = match tok {
                b"true" => JVal::Bool(true),
                b"false" => JVal::Bool(false),
                b"null" => JVal::Null,
                _ if first.is_ascii_digit() || first == b'-' => JVal::Num(tok),
                _ => return Err("unexpected bare word"),
            };
            Ok((parsed, at + len))
        }
        _ => Err("expected a value"),
    }
}

/// Bytes of a bare JSON token (number, `true`, `false`, `null`).
fn is_bare_byte(ch: u8) -> bool {
    ch.is_ascii_alphanumeric() || matches!(ch, b'-' | b'+' | b'.')
}

/// Call `f(raw_key, value)` for each member of the object in `obj`, in order. Stops early
/// when `f` returns `false`. Errors name what was wrong; trailing bytes after the object
/// (other than whitespace) are an error.
pub(crate) fn for_each_member<'a>(
    obj: &'a [u8],
    mut f: impl FnMut(&'a [u8], JVal<'a>) -> bool,
) -> Result<(), &'static str> {
    let mut i = ws(obj, 0);
    if obj.get(i) != Some(&b'{') {
        return Err("not a JSON object");
    }
    i = ws(obj, i + 1);
    if obj.get(i) == Some(&b'}') {
        return trailing(obj, i + 1);
    }
    loop {
        if obj.get(i) != Some(&b'"') {
            return Err("expected a key");
        }
        let kend = string_end(obj, i + 1).ok_or("unterminated key")?;
        let key = &obj[i + 1..kend];
        i = ws(obj, kend + 1);
        if obj.get(i) != Some(&b':') {
            return Err("expected ':' after key");
        }
        i = ws(obj, i + 1);
        let (v, next) = value(obj, i)?;
        if !f(key, v) {
            return Ok(());
        }
        i = ws(obj, next);
        match obj.get(i) {
            Some(b',') => i = ws(obj, i + 1),
            Some(b'}') => return trailing(obj, i + 1),
            _ => return Err("expected ',' or '}'"),
        }
    }
}

fn trailing(b: &[u8], i: usize) -> Result<(), &'static str> {
    if ws(b, i) == b.len() { Ok(()) } else { Err("data after the closing '}'") }
}

/// Call `f` for each element of the array in `arr`; stops early when `f` returns `false`.
pub(crate) fn for_each_item<'a>(
    arr: &'a [u8],
    mut f: impl FnMut(JVal<'a>) -> bool,
) -> Result<(), &'static str> {
    let mut i = ws(arr, 0);
    if arr.get(i) != Some(&b'[') {
        return Err("not a JSON array");
    }
    i = ws(arr, i + 1);
    if arr.get(i) == Some(&b']') {
        return Ok(());
    }
    loop {
        let (v, next) = value(arr, i)?;
        if !f(v) {
            return Ok(());
        }
        i = ws(arr, next);
        match arr.get(i) {
            Some(b',') => i = ws(arr, i + 1),
            Some(b']') => return Ok(()),
            _ => return Err("expected ',' or ']'"),
        }
    }
}

/// The value of `key` (raw, unescaped key comparison) in `obj`.
pub(crate) fn get<'a>(obj: &'a [u8], key: &[u8]) -> Option<JVal<'a>> {
    let mut found = None;
    let _ = for_each_member(obj, |k, v| {
        if k == key {
            found = Some(v);
            false
        } else {
            true
        }
    });
    found
}

/// Follow a dotted path (`request.remote_ip`) through nested objects.
pub(crate) fn get_path<'a>(obj: &'a [u8], path: &str) -> Option<JVal<'a>> {
    let mut cur = JVal::Obj(obj);
    for seg in path.split('.') {
        let JVal::Obj(o) = cur else { return None };
        cur = get(o, seg.as_bytes())?;
    }
    Some(cur)
}

/// Append a raw JSON string (escapes undone, lossy UTF-8) to `dst`.
pub(crate) fn push_json_str(dst: &mut String, raw: &[u8], scratch: &mut Vec<u8>) {
    if memchr::memchr(b'\\', raw).is_none() {
        push_lossy(dst, raw);
    } else {
        scratch.clear();
        unescape_json(raw, scratch);
        push_lossy(dst, scratch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(s: &[u8]) -> Result<Vec<(String, JVal<'_>)>, &'static str> {
        let mut v = Vec::new();
        for_each_member(s, |k, val| {
            v.push((String::from_utf8_lossy(k).into_owned(), val));
            true
        })?;
        Ok(v)
    }

    #[test]
    fn walks_flat_and_nested_objects() {
        let line = br#" {"a":"x\"y","n":12,"m":,"o":{"p":[1,{"q":"}"}]},"t":true,"z":null} "#;
        let m = members(line).unwrap();
        assert_eq!(m.len(), 6);
        assert_eq!(m[0].1, JVal::Str(br#"x\"y"#));
        assert_eq!(m[1].1, JVal::Num(b"12"));
        assert_eq!(m[2].1, JVal::Missing);
        assert_eq!(
            get_path(line, "o.p").and_then(|v| if let JVal::Arr(a) = v { Some(a) } else { None }),
            Some(&br#"[1,{"q":"}"}]"#[..])
        );
        assert_eq!(m[4].1, JVal::Bool(true));
        assert_eq!(m[5].1, JVal::Null);
    }

    #[test]
    fn rejects_broken_objects_without_panicking() {
        for bad in [
            &b""[..],
            b"{",
            b"{\"a\"",
            b"{\"a\":\"x",
            b"{\"a\":1}x",
            b"[1]",
            b"{\"a\":{\"b\":1}",
            b"{\"a\" 1}",
            b"{\"a\":1 \"b\":2}",
        ] {
            assert!(members(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn arrays_and_strings() {
        let mut items = Vec::new();
        for_each_item(br#"["a", "b\u0041"]"#, |v| {
            items.push(v);
            true
        })
        .unwrap();
        let mut s = String::new();
        let mut sc = Vec::new();
        if let JVal::Str(raw) = items[1] {
            push_json_str(&mut s, raw, &mut sc);
        }
        assert_eq!(s, "bA");
    }
}
