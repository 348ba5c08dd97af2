//! Timestamp parsing for access logs, byte-oriented, always to UTC plus the offset the source
//! wrote (seconds east of UTC).
//!
//! Zone-less times are interpreted in the configured default zone; in a DST gap (a local
//! time that never existed) the offset in force just before the gap is used, so a line is
//! never lost to a clock change. The `*_noting` variants (and [`ClfCache`]) also record that
//! a zone had to be assumed, so the source can say so in every output: a sticky flag per
//! parser, set on the slow path only (a cached time was flagged when it was first parsed).

use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Utc,
};

/// A parsed timestamp: UTC instant and the source's offset in seconds east of UTC.
pub(crate) type Stamp = (DateTime<Utc>, i32);

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

fn month(b: &[u8]) -> Option<u32> {
    MONTHS.iter().position(|m| m.eq_ignore_ascii_case(b)).map(|i| i as u32 + 1)
}

/// `+hhmm`, `+hh:mm` or `+hh` → seconds east of UTC.
fn offset(b: &[u8]) -> Option<i32> {
    let (sign, rest) = match b.first()? {
        b'+' => (1, &b[1..]),
        b'-' => (-1, &b[1..]),
        _ => return None,
    };
    let (h, m) = match rest.len() {
        2 => (digits(rest)?, 0),
        4 => (digits(&rest[..2])?, digits(&rest[2..])?),
        5 if rest[2] == b':' => (digits(&rest[..2])?, digits(&rest[3..])?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60) as i32)
}

fn with_offset(naive: NaiveDateTime, off: i32) -> Option<Stamp> {
    let fixed = FixedOffset::east_opt(off)?;
    let dt = fixed.from_local_datetime(&naive).single()?;
    Some((dt.with_timezone(&Utc), off))
}

/// Interpret a zone-less local time in `tz`.
pub(crate) fn from_local(naive: NaiveDateTime, tz: chrono_tz::Tz) -> Option<Stamp> {
    let local = tz.from_local_datetime(&naive);
    let Some(dt) = local.earliest() else {
        // DST gap: use the offset in force a day earlier (before the gap).
        let before = naive - chrono::Duration::days(1);
        let off = tz.offset_from_utc_datetime(&before).fix().local_minus_utc();
        return with_offset(naive, off);
    };
    Some((dt.with_timezone(&Utc), dt.offset().fix().local_minus_utc()))
}

/// CLF `dd/Mon/yyyy:HH:MM:SS +hhmm` (the offset may be absent: then `tz`).
#[cfg(test)]
pub(crate) fn parse_clf(b: &[u8], tz: chrono_tz::Tz) -> Option<Stamp> {
    parse_clf_noting(b, tz, &mut false)
}

/// [`parse_clf`], setting `assumed` when the time had no offset and was read in `tz`.
pub(crate) fn parse_clf_noting(b: &[u8], tz: chrono_tz::Tz, assumed: &mut bool) -> Option<Stamp> {
    if b.len() < 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let day = digits(&b[0..2])?;
    let mon = month(&b[3..6])?;
    let year = digits(&b[7..11])?;
    let naive = hms(NaiveDate::from_ymd_opt(year as i32, mon, day)?, &b[12..20])?;
    let rest = &b[20..];
    if rest.is_empty() {
        let stamp = from_local(naive, tz)?;
        *assumed = true;
        return Some(stamp);
    }
    let rest = rest.strip_prefix(b" ")?;
    with_offset(naive, offset(rest)?)
}

fn hms(date: NaiveDate, b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    date.and_hms_opt(digits(&b[0..2])?, digits(&b[3..5])?, digits(&b[6..8])?)
}

/// ISO 8601 / RFC 3339: `YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±hh:mm|±hhmm|±hh]`; no zone → `tz`.
pub(crate) fn parse_iso(b: &[u8], tz: chrono_tz::Tz) -> Option<Stamp> {
    parse_iso_noting(b, tz, &mut false)
}

/// [`parse_iso`], setting `assumed` when the time had no zone and was read in `tz`.
pub(crate) fn parse_iso_noting(b: &[u8], tz: chrono_tz::Tz, assumed: &mut bool) -> Option<Stamp> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let date =
        NaiveDate::from_ymd_opt(digits(&b[0..4])? as i32, digits(&b[5..7])?, digits(&b[8..10])?)?;
    let mut naive = hms(date, &b[11..19])?;
    let mut rest = &b[19..];
    if let Some(frac) = rest.strip_prefix(b".").or_else(|| rest.strip_prefix(b",")) {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        naive += chrono::Duration::nanoseconds(i64::from(frac_nanos(&frac[..n])));
        rest = &frac[n..];
    }
    match rest {
        b"" => {
            let stamp = from_local(naive, tz)?;
            *assumed = true;
            Some(stamp)
        }
        b"Z" | b"z" => with_offset(naive, 0),
        _ => with_offset(naive, offset(rest)?),
    }
}

/// Fraction digits → nanoseconds (digits beyond 9 are ignored; callers pass digits only).
fn frac_nanos(d: &[u8]) -> u32 {
    let mut v = 0u32;
    for i in 0..9 {
        v = v * 10 + d.get(i).map_or(0, |c| u32::from(c.wrapping_sub(b'0')).min(9));
    }
    v
}

/// Epoch seconds with an optional fraction (`1716723772.6014807`, nginx `$msec`), in UTC.
/// Parsed in integers so the fraction is exact to the nanosecond.
pub(crate) fn parse_epoch_secs(b: &[u8]) -> Option<Stamp> {
    let (int, frac) = match memchr::memchr(b'.', b) {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b""[..]),
    };
    if int.is_empty() || int.len() > 12 || !int.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let secs: i64 = int.iter().fold(0, |a, &c| a * 10 + i64::from(c - b'0'));
    let dt = DateTime::from_timestamp(secs, frac_nanos(frac))?;
    Some((dt, 0))
}

/// Any of the timestamp shapes JSON logs use: RFC 3339, CLF, or epoch seconds; `assumed` is
/// set when the time had no zone and was read in `tz`.
pub(crate) fn parse_any_noting(b: &[u8], tz: chrono_tz::Tz, assumed: &mut bool) -> Option<Stamp> {
    parse_iso_noting(b, tz, assumed)
        .or_else(|| parse_clf_noting(b, tz, assumed))
        .or_else(|| parse_epoch_secs(b))
}

/// One-entry cache for CLF timestamps: consecutive lines share their second, so parsing
/// runs once per distinct time string. The key is the raw bytes between `[` and `]`.
///
/// A miss whose date and offset bytes equal the cached key's (the next second of the same
/// day, the usual miss) is computed from the cached value by adding the difference of the
/// `HH:MM:SS` fields: with a fixed offset, UTC is local time minus the offset, linear within a
/// day. Zone-less keys (DST rules apply) always take the full parse.
#[derive(Debug, Default)]
pub(crate) struct ClfCache {
    key: [u8; 32],
    len: usize,
    value: Option<Stamp>,
    /// `HH:MM:SS` of `key` in seconds since midnight.
    key_secs: u32,
    /// A time without an offset was read in the default zone (sticky; set by the full parse,
    /// which every distinct zone-less string goes through once).
    pub(crate) zone_assumed: bool,
}

/// Byte offsets inside a CLF time string `dd/Mon/yyyy:HH:MM:SS +hhmm`.
const CLF_HMS: std::ops::Range<usize> = 12..20;

impl ClfCache {
    pub(crate) fn parse(&mut self, b: &[u8], tz: chrono_tz::Tz) -> Option<Stamp> {
        if let Some(v) = self.value
            && b.len() == self.len
        {
            if key_eq(b, &self.key[..self.len]) {
                return Some(v);
            }
            if let Some(v) = self.same_day(b) {
                return Some(v);
            }
        }
        let v = parse_clf_noting(b, tz, &mut self.zone_assumed);
        if let Some(stamp) = v
            && b.len() <= self.key.len()
            && let Some(secs) = hms_secs(&b[CLF_HMS])
        {
            self.store(b, stamp, secs);
        }
        v
    }

    /// The shortcut of the type's docs, for `b` of the cached length; `None` when it does
    /// not apply (the full parse then decides).
    fn same_day(&mut self, b: &[u8]) -> Option<Stamp> {
        let (t, offset) = self.value?;
        let key = &self.key[..self.len];
        if key.len() <= CLF_HMS.end || !same_but_hms(key, b) {
            return None;
        }
        let secs = hms_secs(&b[CLF_HMS])?;
        // `t` has no fraction (CLF times are whole seconds). Within the same UTC day only the
        // time of day changes, which needs no calendar arithmetic.
        let delta = i64::from(secs) - i64::from(self.key_secs);
        let of_day = i64::from(t.time().num_seconds_from_midnight()) + delta;
        let new = match u32::try_from(of_day).ok().filter(|&s| s < 86_400) {
            Some(s) => t
                .date_naive()
                .and_time(NaiveTime::from_num_seconds_from_midnight_opt(s, 0)?)
                .and_utc(),
            None => DateTime::from_timestamp(t.timestamp() + delta, 0)?,
        };
        let v = (new, offset);
        self.store(b, v, secs);
        Some(v)
    }

    /// The time in `[...]` when `after` is the text after the `[`: the stamp and the index of
    /// the closing `]` in `after`. Errors name the field as the CLF parser reports it.
    ///
    /// The hit test needs no search for `]`: a cached key parsed, so it holds no `]`, and when
    /// `after` starts with the key followed by `]` that `]` is the first one. The same holds
    /// for any other string that parses.
    pub(crate) fn parse_bracketed(
        &mut self,
        after: &[u8],
        tz: chrono_tz::Tz,
    ) -> Result<(Stamp, usize), &'static str> {
        let len = self.len;
        if let Some(v) = self.value
            && after.get(len) == Some(&b']')
        {
            if key_eq(&after[..len], &self.key[..len]) {
                return Ok((v, len));
            }
            // Same length, so most likely the next second; a string that parses holds no
            // `]` either.
            if let Some(v) = self.parse(&after[..len], tz) {
                return Ok((v, len));
            }
        }
        let rb = memchr::memchr(b']', after).ok_or("time: no closing ']'")?;
        let v = self.parse(&after[..rb], tz).ok_or("time: not dd/Mon/yyyy:HH:MM:SS ±hhmm")?;
        Ok((v, rb))
    }

    fn store(&mut self, b: &[u8], v: Stamp, secs: u32) {
        match <&[u8; 26]>::try_from(b) {
            // The usual length, copied without a call to `memcpy`.
            Ok(usual) => self.key[..26].copy_from_slice(usual),
            Err(_) => self.key[..b.len()].copy_from_slice(b),
        }
        self.len = b.len();
        self.value = Some(v);
        self.key_secs = secs;
    }
}

/// `a == b`, compared as three integers when both have the usual length of
/// `dd/Mon/yyyy:HH:MM:SS +hhmm` (26 bytes) instead of by a call to `memcmp`: this runs once
/// per line.
fn key_eq(a: &[u8], b: &[u8]) -> bool {
    match (words(a), words(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// `a` and `b` (of one length, longer than `HH:MM:SS`'s end) differ at most in `HH:MM:SS`.
fn same_but_hms(a: &[u8], b: &[u8]) -> bool {
    match (words(a), words(b)) {
        // Bytes 12..20 are the top 32 bits of the first word and the low 32 of the second.
        (Some(x), Some(y)) => {
            (x.0 ^ y.0) & ((1 << 96) - 1) == 0 && (x.1 ^ y.1) >> 32 == 0 && x.2 == y.2
        }
        _ => a[..CLF_HMS.start] == b[..CLF_HMS.start] && a[CLF_HMS.end..] == b[CLF_HMS.end..],
    }
}

/// A 26-byte string as three integers (`None` for any other length).
fn words(s: &[u8]) -> Option<(u128, u64, u16)> {
    let (head, rest) = s.split_first_chunk::<16>()?;
    let (mid, tail) = rest.split_first_chunk::<8>()?;
    let tail: &[u8; 2] = tail.try_into().ok()?;
    Some((u128::from_le_bytes(*head), u64::from_le_bytes(*mid), u16::from_le_bytes(*tail)))
}

/// `HH:MM:SS` → seconds since midnight, with the checks `hms` makes (chrono accepts hours
/// below 24 and minutes and seconds below 60).
fn hms_secs(b: &[u8]) -> Option<u32> {
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, s) = (digits(&b[0..2])?, digits(&b[3..5])?, digits(&b[6..8])?);
    (h < 24 && m < 60 && s < 60).then_some(h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: Option<Stamp>) -> String {
        let (t, off) = v.expect("parses");
        format!("{} {off}", t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }

    #[test]
    fn clf_offsets_and_dst_change() {
        let utc = chrono_tz::UTC;
        assert_eq!(s(parse_clf(b"07/Dec/2016:11:05:07 +0100", utc)), "2016-12-07T10:05:07Z 3600");
        assert_eq!(s(parse_clf(b"22/Jan/2019:03:56:14 +0330", utc)), "2019-01-22T00:26:14Z 12600");
        assert_eq!(s(parse_clf(b"12/Apr/2018:09:48:40 -0200", utc)), "2018-04-12T11:48:40Z -7200");
        // Zone-less: the configured zone, with its DST offset.
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(s(parse_clf(b"01/Jul/2020:12:00:00", berlin)), "2020-07-01T10:00:00Z 7200");
        // In the spring-forward gap the pre-gap offset is used.
        assert_eq!(s(parse_clf(b"29/Mar/2020:02:30:00", berlin)), "2020-03-29T01:30:00Z 3600");
        for bad in
            [&b"32/Dec/2016:11:05:07 +0100"[..], b"07/Foo/2016:11:05:07 +0100", b"07/Dec/2016"]
        {
            assert!(parse_clf(bad, utc).is_none());
        }
    }

    #[test]
    fn iso_and_epoch() {
        let utc = chrono_tz::UTC;
        assert_eq!(s(parse_iso(b"2026-11-03T10:00:27+00:00", utc)), "2026-11-03T10:00:27Z 0");
        assert_eq!(
            s(parse_iso(b"2021-03-16T18:56:54.735539596Z", utc)),
            "2021-03-16T18:56:54.735539596Z 0"
        );
        assert_eq!(s(parse_iso(b"2019-12-04 21:02:31", utc)), "2019-12-04T21:02:31Z 0");
        assert_eq!(s(parse_iso(b"2020-01-01T01:00:00-0130", utc)), "2020-01-01T02:30:00Z -5400");
        assert_eq!(s(parse_epoch_secs(b"1716723772.601")), "2024-05-26T11:42:52.601Z 0");
        assert!(parse_epoch_secs(b"12a").is_none());
        assert!(parse_iso(b"2020-13-01T00:00:00Z", utc).is_none());
    }

    #[test]
    fn only_times_without_zone_note_an_assumed_zone() {
        let la = chrono_tz::America::Los_Angeles;
        for (text, assumed) in [
            (&b"2016-03-26 07:13:31"[..], true),
            (b"2016-03-26T07:13:31.5", true),
            (b"26/Mar/2016:07:13:31", true),
            (b"2016-03-26T07:13:31Z", false),
            (b"2016-03-26T07:13:31-07:00", false),
            (b"26/Mar/2016:07:13:31 -0700", false),
            (b"1459001611", false),
            (b"1459001611.25", false),
            (b"not a time", false),
        ] {
            let mut noted = false;
            let stamp = parse_any_noting(text, la, &mut noted);
            assert_eq!(noted, assumed, "{}", String::from_utf8_lossy(text));
            if assumed {
                // Read in the given zone: 07:13:31 PDT is 14:13:31Z.
                assert_eq!(stamp.map(|s| s.0.timestamp() % 86_400), Some(14 * 3600 + 13 * 60 + 31));
            }
        }
        let mut c = ClfCache::default();
        c.parse(b"26/Mar/2016:07:13:31 -0700", la);
        assert!(!c.zone_assumed);
        c.parse(b"26/Mar/2016:07:13:31", la);
        c.parse(b"26/Mar/2016:07:13:31", la);
        assert!(c.zone_assumed, "sticky once a zone-less time was read");
    }

    #[test]
    fn cache_returns_same_value_and_ignores_failures() {
        let mut c = ClfCache::default();
        let a = c.parse(b"07/Dec/2016:11:05:07 +0100", chrono_tz::UTC);
        assert_eq!(c.parse(b"07/Dec/2016:11:05:07 +0100", chrono_tz::UTC), a);
        assert!(c.parse(b"07/Dec/2016:11:05:0x +0100", chrono_tz::UTC).is_none());
        assert_eq!(c.parse(b"07/Dec/2016:11:05:08 +0100", chrono_tz::UTC).map(|v| v.1), Some(3600));
    }

    #[test]
    fn cache_same_day_shortcut_matches_the_full_parse() {
        let berlin = chrono_tz::Europe::Berlin;
        let mut c = ClfCache::default();
        // Each string after the first shares date and offset with the previous success, so
        // the shortcut runs (or is refused) on it; the full parse is the reference.
        for b in [
            &b"07/Dec/2016:11:05:07 +0100"[..],
            b"07/Dec/2016:11:05:08 +0100",
            b"07/Dec/2016:00:00:00 +0100",
            b"07/Dec/2016:23:59:59 +0100",
            b"07/Dec/2016:24:00:00 +0100",
            b"07/Dec/2016:23:60:00 +0100",
            b"07/Dec/2016:23:59:60 +0100",
            b"07/Dec/2016:2x:59:59 +0100",
            b"07/Dec/2016:23-59:59 +0100",
            b"07/Dec/2016:11:05:07 -0100",
            b"08/Dec/2016:11:05:07 -0100",
            b"29/Mar/2020:01:59:59",
            b"29/Mar/2020:02:30:00",
            b"29/Mar/2020:03:00:00",
            b"28/Feb/2020:12:00:00 +0530",
            b"28/Feb/2020:12:00:01 +0530",
        ] {
            let text = String::from_utf8_lossy(b);
            assert_eq!(c.parse(b, berlin), parse_clf(b, berlin), "{text}");
            assert_eq!(c.parse(b, berlin), parse_clf(b, berlin), "{text} (again)");
        }
    }

    #[test]
    fn cache_bracketed_finds_the_first_closing_bracket() {
        let utc = chrono_tz::UTC;
        let mut c = ClfCache::default();
        let line = b"07/Dec/2016:11:05:07 +0100] \"GET /] HTTP/1.1\"";
        let want = parse_clf(&line[..26], utc).unwrap();
        assert_eq!(c.parse_bracketed(line, utc), Ok((want, 26)));
        assert_eq!(c.parse_bracketed(line, utc), Ok((want, 26)), "hit");
        // The cached key is a prefix but not followed by `]`: a real miss.
        assert_eq!(
            c.parse_bracketed(b"07/Dec/2016:11:05:07 +01000] x", utc),
            Err("time: not dd/Mon/yyyy:HH:MM:SS ±hhmm")
        );
        assert_eq!(
            c.parse_bracketed(b"07/Dec/2016:11:05:07 +0100", utc),
            Err("time: no closing ']'")
        );
        assert_eq!(c.parse_bracketed(b"] x", utc), Err("time: not dd/Mon/yyyy:HH:MM:SS ±hhmm"));
    }

    proptest::proptest! {
        /// Any sequence of near-identical time strings: the cache (hits, same-day shortcut,
        /// refusals) answers exactly what the full parse answers.
        #[test]
        fn cache_answers_what_the_full_parse_answers(
            seq in proptest::collection::vec(
                (0..3usize, 0..2usize, 0..26u32, 0..62u32, 0..62u32, 0..6usize), 1..40),
        ) {
            let tz = chrono_tz::Europe::Berlin;
            let mut c = ClfCache::default();
            for (day, mon, h, m, s, off) in seq {
                let text = format!(
                    "{}/{}/2020:{h:02}:{m:02}:{s:02}{}",
                    ["28", "29", "31"][day],
                    ["Feb", "Mar"][mon],
                    ["", " +0100", " -0000", " +0530", " +01:00", " x"][off],
                );
                proptest::prop_assert_eq!(c.parse(text.as_bytes(), tz), parse_clf(text.as_bytes(), tz), "{}", text);
            }
        }
    }
}
