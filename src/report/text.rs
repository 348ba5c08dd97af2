//! Format-neutral rich text and the number/time formatting every writer shares, so Markdown
//! and HTML say exactly the same thing.
//!
//! A paragraph is a list of [`Seg`]s; each segment says where its text came from, and each
//! writer escapes accordingly: our own wording (`Lit`), operator or config text (`Text`), and
//! attacker-derived data (`Data`), which is always shown verbatim-but-inert (a Markdown code
//! span, an HTML `<code>`).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

/// One piece of a paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// leakline's own wording (times, numbers, fixed phrases). Escaped for HTML anyway.
    Lit(String),
    /// Operator- or config-provided text (case name, notes, operator names): escaped.
    Text(String),
    /// Emphasised leakline wording (a status, a count that matters).
    Strong(String),
    /// Attacker-derived or machine-derived data (paths, user agents, clients, service names):
    /// shown as code, never interpreted.
    Data(String),
}

/// A paragraph: segments joined without separators (callers include spaces in `Lit`).
pub type Para = Vec<Seg>;

pub fn lit(s: impl Into<String>) -> Seg {
    Seg::Lit(s.into())
}

pub fn data(s: impl Into<String>) -> Seg {
    Seg::Data(s.into())
}

pub fn strong(s: impl Into<String>) -> Seg {
    Seg::Strong(s.into())
}

pub fn text(s: impl Into<String>) -> Seg {
    Seg::Text(s.into())
}

/// The longest attacker string shown in Markdown/HTML before it is cut (in chars). The JSON
/// report always carries full strings.
pub const MAX_SHOWN_CHARS: usize = 240;

/// Remove control characters (C0, DEL, C1) and bidi/zero-width formatting characters that
/// could reorder or hide text; newlines and tabs become a space. Cut at `MAX_SHOWN_CHARS`.
#[must_use]
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_SHOWN_CHARS * 4));
    let mut shown = 0usize;
    let mut total = 0usize;
    for c in s.chars() {
        let mapped = match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}' => None,
            c => Some(c),
        };
        if let Some(c) = mapped {
            total += 1;
            if shown < MAX_SHOWN_CHARS {
                out.push(c);
                shown += 1;
            }
        }
    }
    if total > shown {
        let _ = write!(out, "… (+{} chars)", total - shown);
    }
    out
}

/// `2026-11-03 11:42:10` (UTC; sub-seconds shown only when present, as milliseconds).
#[must_use]
pub fn time(t: DateTime<Utc>) -> String {
    if t.timestamp_subsec_millis() == 0 {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
    }
}

/// `11:42:10` when `t` falls on the same UTC day as `day`, else the full [`time`].
#[must_use]
pub fn time_near(t: DateTime<Utc>, day: DateTime<Utc>) -> String {
    if t.date_naive() == day.date_naive() && t.timestamp_subsec_millis() == 0 {
        t.format("%H:%M:%S").to_string()
    } else {
        time(t)
    }
}

/// RFC 3339 UTC with a `Z` (the JSON form).
#[must_use]
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A duration in seconds as `3d 4h`, `1h 40m`, `47m 20s` or `12s` (two units at most;
/// negative durations clamp to 0).
#[must_use]
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m, sec) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60, s % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {sec:02}s")
    } else {
        format!("{sec}s")
    }
}

/// `21,800,321`.
#[must_use]
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Decimal bytes, `21.8 MB`; exact below 1 kB (`512 B`).
#[must_use]
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Sum that saturates instead of overflowing (counters from hostile or corrupt inputs).
pub fn saturating_sum(values: impl IntoIterator<Item = u64>) -> u64 {
    values.into_iter().fold(0u64, u64::saturating_add)
}

/// `n thing` / `n things`.
#[must_use]
pub fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("{n} {one}") } else { format!("{} {many}", thousands(n)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_strips_controls_bidi_and_cuts() {
        assert_eq!(clean("a\u{1b}]8;;x\u{7}b\nc\u{0}\u{202E}d\u{85}"), "a]8;;xb cd");
        let long = "x".repeat(MAX_SHOWN_CHARS + 5);
        assert!(clean(&long).ends_with("… (+5 chars)"));
    }

    #[test]
    fn durations_and_numbers() {
        assert_eq!(duration(-5), "0s");
        assert_eq!(duration(12), "12s");
        assert_eq!(duration(47 * 60 + 20), "47m 20s");
        assert_eq!(duration(6000), "1h 40m");
        assert_eq!(duration(3 * 86_400 + 4 * 3600 + 59), "3d 4h");
        assert_eq!(thousands(21_800_321), "21,800,321");
        assert_eq!(thousands(100), "100");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(21_800_321), "21.8 MB");
        assert_eq!(plural(1, "client", "clients"), "1 client");
        assert_eq!(plural(1200, "client", "clients"), "1,200 clients");
    }
}
