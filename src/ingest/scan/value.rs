//! Small field decoders shared by the parsers: scanner timestamps and loosely typed JSON values.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Unix epoch seconds as nmap and masscan write them (`"1591164405"`, nmap also `"1.5e9"` never
/// occurs; only integers are accepted). `None` for anything else or an out-of-range value.
#[must_use]
pub fn epoch_seconds(text: &str) -> Option<DateTime<Utc>> {
    let secs: i64 = text.trim().parse().ok()?;
    DateTime::from_timestamp(secs, 0)
}

/// RFC 3339 with any offset (nuclei, httpx, naabu), converted to UTC.
#[must_use]
pub fn rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// One JSON record of a JSON-lines tool (nuclei, httpx, naabu), or the error naming its line.
pub fn json_record<'a, T: Deserialize<'a>>(
    line: u64,
    bytes: &'a [u8],
) -> Result<T, super::ScanRecordError> {
    serde_json::from_slice(bytes)
        .map_err(|e| super::ScanRecordError::Record { line, reason: format!("JSON: {e}") })
}

/// The record's required RFC 3339 `timestamp` in UTC, or the error naming the line and field.
pub fn record_time(
    line: u64,
    stamp: Option<&str>,
) -> Result<DateTime<Utc>, super::ScanRecordError> {
    let stamp = stamp.ok_or_else(|| super::ScanRecordError::missing(line, "timestamp"))?;
    rfc3339(stamp).ok_or_else(|| super::ScanRecordError::Field {
        line,
        field: "timestamp",
        reason: format!("not an RFC 3339 time: `{stamp}`"),
    })
}

/// A JSON value that tools write either as a string or as a number (`"port": "443"` / `443`,
/// `"timestamp": "1591164405"`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum StrOrNum {
    Num(u64),
    Str(String),
}

impl StrOrNum {
    /// The value as a port; `None` when it is not a number in 0..=65535.
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        match self {
            StrOrNum::Num(n) => u16::try_from(*n).ok(),
            StrOrNum::Str(s) => s.trim().parse().ok(),
        }
    }

    #[must_use]
    pub fn text(&self) -> String {
        match self {
            StrOrNum::Num(n) => n.to_string(),
            StrOrNum::Str(s) => s.clone(),
        }
    }
}

/// Longest `details` text we keep (bytes, cut at a char boundary): details are a label, not
/// evidence storage, and banners/titles are attacker-controlled.
pub const MAX_DETAILS: usize = 240;

/// Join the non-empty parts with single spaces and cut to [`MAX_DETAILS`].
#[must_use]
pub fn details<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for part in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    truncate(out)
}

/// Cut `text` to at most [`MAX_DETAILS`] bytes at a char boundary, marking the cut with `…`.
#[must_use]
pub fn truncate(mut text: String) -> String {
    if text.len() > MAX_DETAILS {
        let mut end = MAX_DETAILS - '…'.len_utf8();
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc() {
        assert_eq!(epoch_seconds("1793703609").unwrap().to_rfc3339(), "2026-11-03T11:00:09+00:00");
        assert_eq!(epoch_seconds("x"), None);
        let t = rfc3339("2022-03-20T22:43:31.231312071-03:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2022-03-21T01:43:31.231312071+00:00");
    }

    #[test]
    fn details_are_joined_and_bounded() {
        assert_eq!(details(["https", "", " nginx ", "1.2"]), "https nginx 1.2");
        let long = details(["é".repeat(400).as_str()]);
        assert!(long.len() <= MAX_DETAILS && long.ends_with('…'));
    }
}
