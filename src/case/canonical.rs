//! The canonical serialization that journal hashes are computed over, and SHA-256 helpers.
//!
//! Canonical form of a JSON value (independent of how the line was written or of `serde_json`'s
//! map ordering features):
//! - objects: `{` + members sorted by key (byte order of the UTF-8 key) as `"key":value`,
//!   separated by `,` + `}`; no whitespace anywhere;
//! - arrays: `[` + elements in order separated by `,` + `]`;
//! - strings: `"` + the string with `"` → `\"`, `\` → `\\`, U+0008/0009/000A/000C/000D →
//!   `\b` `\t` `\n` `\f` `\r`, other U+0000–U+001F → `\u00xx` (lower-case hex), everything else
//!   as raw UTF-8 + `"` (exactly `serde_json`'s string escaping);
//! - numbers: integers in decimal without `+` or leading zeros (records only hold integers);
//! - `true`, `false`, `null`.
//!
//! A record's hash is the lower-case hex SHA-256 of the UTF-8 bytes of the canonical form of
//! the record object **without** its `hash` member.

use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Append the canonical form of `value` to `out`.
pub fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(map, None, out),
    }
}

/// Canonical form of an object, leaving out the member named `skip` (if any).
pub fn write_object(map: &Map<String, Value>, skip: Option<&str>, out: &mut String) {
    let mut keys: Vec<&String> = map.keys().filter(|k| Some(k.as_str()) != skip).collect();
    keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    out.push('{');
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(key, out);
        out.push(':');
        write_canonical(&map[key.as_str()], out);
    }
    out.push('}');
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The record hash: SHA-256 (hex) of the canonical form of `record` without `hash`.
#[must_use]
pub fn record_hash(record: &Map<String, Value>) -> String {
    let mut text = String::with_capacity(256);
    write_object(record, Some("hash"), &mut text);
    sha256_hex(text.as_bytes())
}

/// Lower-case hex SHA-256 of `bytes`.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Lower-case hex SHA-256 of a file's bytes as stored on disk, and its length in bytes.
///
/// (The access-log engineer adds `ingest::source::sha256_file`; this small copy keeps the
/// case journal independent until the lead unifies them.)
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_keys_and_escapes() {
        let v: Value = serde_json::from_str(
            r#"{ "b": [1, true, null], "a": "x\"y\\z\n\u0001é", "A": {"z": 1, "y": 2} }"#,
        )
        .unwrap();
        let mut out = String::new();
        write_canonical(&v, &mut out);
        assert_eq!(out, r#"{"A":{"y":2,"z":1},"a":"x\"y\\z\n\u0001é","b":[1,true,null]}"#);
        // Same escaping as serde_json for strings.
        assert_eq!(serde_json::to_string("x\"y\\z\n\u{1}é\u{7f}").unwrap(), {
            let mut s = String::new();
            write_string("x\"y\\z\n\u{1}é\u{7f}", &mut s);
            s
        });
    }

    #[test]
    fn hash_ignores_the_hash_member_and_member_order() {
        let a: Value = serde_json::from_str(r#"{"seq":1,"prev":"p","hash":"h1"}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"prev":"p","hash":"other","seq":1}"#).unwrap();
        let (Value::Object(a), Value::Object(b)) = (a, b) else { panic!() };
        assert_eq!(record_hash(&a), record_hash(&b));
        // Known vector: SHA-256 of `{"prev":"p","seq":1}`.
        assert_eq!(record_hash(&a), sha256_hex(br#"{"prev":"p","seq":1}"#));
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
