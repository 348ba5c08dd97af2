//! One `TabSeparated` row, as ClickHouse escapes it, rewritten as the JSON line the access
//! parser reads with the identity field map (`{"time":…,"client":"…",…}`).
//!
//! `TabSeparated` escapes `\t`, `\n`, `\\` (and `\b \f \r \0 \' \a \v` in some versions);
//! `\N` is NULL. Every other byte is as stored.

/// How a field's value is written into the JSON line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A bare JSON number (epoch seconds of a `DateTime` column).
    Number,
    /// A JSON string.
    Text,
}

/// Why a row could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowError {
    /// Not as many columns as were asked for (a server's exception text written into the
    /// stream, a truncated row).
    Columns { expected: usize, found: usize },
}

/// Append the JSON line for `row` (without its `\n`) to `out`. `keys[i]` and `shapes[i]`
/// describe column `i`.
pub fn row_to_json(
    row: &[u8],
    keys: &[&str],
    shapes: &[Shape],
    out: &mut Vec<u8>,
) -> Result<(), RowError> {
    let found = memchr::memchr_iter(b'\t', row).count() + 1;
    if found != keys.len() {
        return Err(RowError::Columns { expected: keys.len(), found });
    }
    out.push(b'{');
    for (i, ((field, key), shape)) in row.split(|&b| b == b'\t').zip(keys).zip(shapes).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        if field == b"\\N" {
            out.extend_from_slice(b"null");
        } else if *shape == Shape::Number
            && !field.is_empty()
            && field.iter().all(u8::is_ascii_digit)
        {
            out.extend_from_slice(field);
        } else {
            push_string(field, out);
        }
    }
    out.push(b'}');
    Ok(())
}

/// `field` (TSV-escaped) as a JSON string.
fn push_string(field: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        let ch = if b == b'\\' && i + 1 < field.len() {
            i += 1;
            match field[i] {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                b'b' => 0x08,
                b'f' => 0x0c,
                b'0' => 0,
                b'a' => 0x07,
                b'v' => 0x0b,
                other => other,
            }
        } else {
            b
        };
        match ch {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            c if c < 0x20 => {
                out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
            }
            c => out.push(c),
        }
        i += 1;
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_json_lines() {
        let keys = ["time", "client", "user_agent"];
        let shapes = [Shape::Number, Shape::Text, Shape::Text];
        let mut out = Vec::new();
        row_to_json(b"1700000000\t203.0.113.9\tcurl \"x\"\\tA\\\\B\\n", &keys, &shapes, &mut out)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"time":1700000000,"client":"203.0.113.9","user_agent":"curl \"x\"\tA\\B\n"}"#
        );
        let mut out = Vec::new();
        row_to_json(b"\\N\t\\N\t", &keys, &shapes, &mut out).unwrap();
        assert_eq!(out, br#"{"time":null,"client":null,"user_agent":""}"#);
        assert_eq!(
            row_to_json(b"Code: 241, e.displayText() = DB::Exception", &keys, &shapes, &mut out),
            Err(RowError::Columns { expected: 3, found: 1 })
        );
    }
}
