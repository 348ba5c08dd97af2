//! Human units for the screen: bytes (binary, IEC), durations, clock times in the case's zone.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

/// `1536` → `1.5 KiB`. Exact below 1 KiB; one decimal above.
#[must_use]
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A count with thin grouping: `12345` → `12,345` (the reports' grouping, so numbers read
/// the same on screen and on paper).
#[must_use]
pub fn count(n: u64) -> String {
    crate::report::text::thousands(n)
}

/// A duration in the two most significant units: `45s`, `12m 03s`, `1h 02m`, `3d 04h`.
/// Negative durations (clock skew) show as `0s`.
#[must_use]
pub fn duration(d: TimeDelta) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if days > 0 {
        format!("{days}d {hours:02}h")
    } else if hours > 0 {
        format!("{hours}h {mins:02}m")
    } else if mins > 0 {
        format!("{mins}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// The display zone named in the snapshot; UTC when the name is unknown.
#[must_use]
pub fn zone(name: &str) -> Tz {
    name.parse::<Tz>().unwrap_or(Tz::UTC)
}

/// `HH:MM:SS` in `tz`.
#[must_use]
pub fn clock(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%H:%M:%S").to_string()
}

/// `MM-DD HH:MM:SS` in `tz`, for times that may be on another day than `as_of`.
#[must_use]
pub fn stamp(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%m-%d %H:%M:%S").to_string()
}

/// `YYYY-MM-DD HH:MM:SS ZONE` for headers.
#[must_use]
pub fn full(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(21_800_321), "20.8 MiB");
        assert_eq!(bytes(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn counts_are_grouped() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(TimeDelta::seconds(-5)), "0s");
        assert_eq!(duration(TimeDelta::seconds(45)), "45s");
        assert_eq!(duration(TimeDelta::seconds(723)), "12m 03s");
        assert_eq!(duration(TimeDelta::seconds(3720)), "1h 02m");
        assert_eq!(duration(TimeDelta::seconds(3 * 86_400 + 4 * 3600)), "3d 04h");
    }

    #[test]
    fn zones() {
        assert_eq!(zone("nonsense"), Tz::UTC);
        let t = DateTime::parse_from_rfc3339("2026-11-03T11:42:10Z").map(|t| t.to_utc());
        let t = t.unwrap_or_default();
        assert_eq!(clock(t, zone("Europe/Paris")), "12:42:10");
    }
}
