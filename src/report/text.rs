//! Format-neutral rich text, so Markdown and HTML say exactly the same thing; numbers, times
//! and the control-character rule come from [`crate::text`], as on every other output.
//!
//! A paragraph is a list of [`Seg`]s; each segment says where its text came from, and each
//! writer escapes accordingly: our own wording (`Lit`), operator or config text (`Text`), and
//! attacker-derived data (`Data`), which is always shown verbatim-but-inert (a Markdown code
//! span, an HTML `<code>`).

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

pub use crate::text::{bytes, rfc3339, strip as clean, thousands};
pub use crate::text::{utc as time, utc_near as time_near};

/// A duration in seconds, as [`crate::text::duration`] writes it (`47m 20s`, `3d 04h`).
#[must_use]
pub fn duration(secs: i64) -> String {
    crate::text::duration(chrono::TimeDelta::seconds(secs))
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
    fn durations_and_numbers() {
        assert_eq!(duration(-5), "0s");
        assert_eq!(duration(3 * 86_400 + 4 * 3600 + 59), "3d 04h");
        assert_eq!(plural(1, "client", "clients"), "1 client");
        assert_eq!(plural(1200, "client", "clients"), "1,200 clients");
    }
}
