//! Human units for the screen: bytes (binary, IEC), durations, clock times in the case's zone.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
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

/// RFC 3339 with the zone's name, for the banner, headers and details:
/// `2026-03-10T02:17:44+01:00 Europe/Paris`.
#[must_use]
pub fn full(t: DateTime<Utc>, tz: Tz) -> String {
    format!("{} {}", t.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%:z"), tz.name())
}

/// The one rule for writing absolute times on screen: the display zone, and "today" in it
/// (the date of the dashboard's clock). A time from today reads `02:17:44`; any other shows
/// its date, `03-10 02:17:44`, so a March incident reviewed in December never passes for
/// this morning. Every pane writes times through this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub tz: Tz,
    today: NaiveDate,
}

impl Clock {
    /// Times in `tz`, "today" being `now`'s date there.
    #[must_use]
    pub fn new(tz: Tz, now: DateTime<Utc>) -> Clock {
        Clock { tz, today: now.with_timezone(&tz).date_naive() }
    }

    /// The dashboard's clock: the snapshot's display zone, today by `app.now` (wall time when
    /// live, story time in a replay).
    #[must_use]
    pub fn of(app: &crate::tui::app::App) -> Clock {
        Clock::new(zone(&app.snapshot.timezone), app.now)
    }

    /// Whether `t` is on another day than today (its date must be written).
    #[must_use]
    pub fn dated(self, t: DateTime<Utc>) -> bool {
        t.with_timezone(&self.tz).date_naive() != self.today
    }

    /// Compact: `HH:MM:SS` today, `MM-DD HH:MM:SS` on any other day.
    #[must_use]
    pub fn at(self, t: DateTime<Utc>) -> String {
        if self.dated(t) { stamp(t, self.tz) } else { clock(t, self.tz) }
    }

    /// Minutes only, for tight places: `HH:MM` today, `MM-DD HH:MM` on any other day.
    #[must_use]
    pub fn minute(self, t: DateTime<Utc>) -> String {
        let fmt = if self.dated(t) { "%m-%d %H:%M" } else { "%H:%M" };
        t.with_timezone(&self.tz).format(fmt).to_string()
    }

    /// Two times read together (`a` then `b`): `b`'s date is left out when it is on `a`'s
    /// day, as it is read right after `a`.
    #[must_use]
    pub fn pair(self, a: DateTime<Utc>, b: DateTime<Utc>) -> (String, String) {
        let same_day =
            a.with_timezone(&self.tz).date_naive() == b.with_timezone(&self.tz).date_naive();
        let tail = if same_day { clock(b, self.tz) } else { self.at(b) };
        (self.at(a), tail)
    }

    /// `a~b`, written as [`Clock::pair`].
    #[must_use]
    pub fn range(self, a: DateTime<Utc>, b: DateTime<Utc>) -> String {
        let (a, b) = self.pair(a, b);
        format!("{a}~{b}")
    }

    /// RFC 3339 with the zone's name (see [`full`]).
    #[must_use]
    pub fn full(self, t: DateTime<Utc>) -> String {
        full(t, self.tz)
    }

    /// An absolute time with its age beside it: `2026-03-10T02:17:44+00:00 UTC (270d 21h ago)`.
    /// Ages never stand alone: a bare "270d ago" says nothing a report can cite.
    #[must_use]
    pub fn full_with_age(self, t: DateTime<Utc>, now: DateTime<Utc>) -> String {
        format!("{} ({} ago)", self.full(t), duration(now - t))
    }
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

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|t| t.to_utc()).unwrap_or_default()
    }

    #[test]
    fn dates_shown_unless_today_in_the_display_zone() {
        let now = at("2026-12-06T02:30:00Z");
        let utc = Clock::new(Tz::UTC, now);
        assert_eq!(utc.at(at("2026-12-06T00:10:00Z")), "00:10:00");
        assert_eq!(utc.at(at("2026-03-10T02:17:44Z")), "03-10 02:17:44");
        assert_eq!(utc.minute(at("2026-03-10T02:17:44Z")), "03-10 02:17");
        // 23:30 UTC on the 5th is already the 6th in Paris: today there, no date.
        let paris = Clock::new(zone("Europe/Paris"), now);
        assert_eq!(paris.at(at("2026-12-05T23:30:00Z")), "00:30:00");
        assert_eq!(utc.at(at("2026-12-05T23:30:00Z")), "12-05 23:30:00");
        assert_eq!(
            utc.range(at("2026-03-10T00:30:12Z"), at("2026-03-10T02:17:44Z")),
            "03-10 00:30:12~02:17:44"
        );
        assert_eq!(
            utc.range(at("2026-03-09T23:30:12Z"), at("2026-03-10T02:17:44Z")),
            "03-09 23:30:12~03-10 02:17:44"
        );
        assert_eq!(utc.full(at("2026-03-10T02:17:44Z")), "2026-03-10T02:17:44+00:00 UTC");
        assert_eq!(
            paris.full_with_age(at("2026-03-10T02:17:44Z"), now),
            "2026-03-10T03:17:44+01:00 Europe/Paris (271d 00h ago)"
        );
    }
}
