//! The dashboard's units: the shared formatters of [`crate::text`] (bytes, counts, durations,
//! times), and [`Clock`], the screen's rule for when a time shows its date.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// The shared formatters (`crate::text`), under the names the panes use.
pub use crate::text::{bytes, bytes_exact, clock, duration, full, stamp, thousands as count, zone};

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
