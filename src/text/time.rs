//! Times, one spelling per place: RFC 3339 UTC for the text summaries and JSON, `YYYY-MM-DD
//! HH:MM:SS` UTC in the reports, the display zone on the dashboard (`tui::format::Clock`
//! decides between [`clock`] and [`stamp`]).

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;

/// RFC 3339 UTC with a `Z`, sub-seconds only when present (`2026-11-03T11:42:10Z`,
/// `…10.250Z`): the text summaries and the JSON outputs.
#[must_use]
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// RFC 3339 UTC cut to whole seconds (`2026-11-03T11:42:10Z`): verify summaries, journal
/// references.
#[must_use]
pub fn rfc3339_secs(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// RFC 3339 UTC with milliseconds always (`2026-11-03T11:42:10.000Z`): journal entries.
#[must_use]
pub fn rfc3339_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `2026-11-03 11:42:10` (UTC; sub-seconds shown only when present, as milliseconds): the
/// reports.
#[must_use]
pub fn utc(t: DateTime<Utc>) -> String {
    if t.timestamp_subsec_millis() == 0 {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
    }
}

/// `11:42:10` when `t` falls on the same UTC day as `day`, else the full [`utc`].
#[must_use]
pub fn utc_near(t: DateTime<Utc>, day: DateTime<Utc>) -> String {
    if t.date_naive() == day.date_naive() && t.timestamp_subsec_millis() == 0 {
        t.format("%H:%M:%S").to_string()
    } else {
        utc(t)
    }
}

/// The display zone named in a snapshot; UTC when the name is unknown.
#[must_use]
pub fn zone(name: &str) -> Tz {
    name.parse::<Tz>().unwrap_or(Tz::UTC)
}

/// `HH:MM:SS` in `tz`.
#[must_use]
pub fn clock(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%H:%M:%S").to_string()
}

/// `MM-DD HH:MM:SS` in `tz`, for times that may be on another day.
#[must_use]
pub fn stamp(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%m-%d %H:%M:%S").to_string()
}

/// RFC 3339 with the zone's name, for the dashboard's banner, headers and details:
/// `2026-03-10T02:17:44+01:00 Europe/Paris`.
#[must_use]
pub fn full(t: DateTime<Utc>, tz: Tz) -> String {
    format!("{} {}", t.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%:z"), tz.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|t| t.to_utc()).unwrap_or_default()
    }

    #[test]
    fn utc_forms() {
        let t = at("2026-11-03T11:42:10Z");
        assert_eq!(rfc3339(t), "2026-11-03T11:42:10Z");
        assert_eq!(rfc3339(at("2026-11-03T11:42:10.25Z")), "2026-11-03T11:42:10.250Z");
        assert_eq!(rfc3339_secs(at("2026-11-03T11:42:10.25Z")), "2026-11-03T11:42:10Z");
        assert_eq!(rfc3339_millis(t), "2026-11-03T11:42:10.000Z");
        assert_eq!(utc(t), "2026-11-03 11:42:10");
        assert_eq!(utc_near(t, at("2026-11-03T00:00:00Z")), "11:42:10");
        assert_eq!(utc_near(t, at("2026-11-04T00:00:00Z")), "2026-11-03 11:42:10");
    }

    #[test]
    fn zones() {
        assert_eq!(zone("nonsense"), Tz::UTC);
        let t = at("2026-11-03T11:42:10Z");
        assert_eq!(clock(t, zone("Europe/Paris")), "12:42:10");
        assert_eq!(stamp(t, zone("Europe/Paris")), "11-03 12:42:10");
        assert_eq!(full(t, zone("Europe/Paris")), "2026-11-03T12:42:10+01:00 Europe/Paris");
    }
}
