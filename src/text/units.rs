//! Bytes, counts and durations, one spelling each.

use chrono::TimeDelta;

/// Bytes in binary (IEC) units, one decimal: `1536` → `1.5 KiB`, `21800321` → `20.8 MiB`;
/// exact below 1 KiB (`512 B`). The one unit system of every output.
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

/// [`bytes`] with the exact count beside it, for detail views: `20.8 MiB (21,800,321 bytes)`;
/// just `512 B` below 1 KiB, where the short form is already exact.
#[must_use]
pub fn bytes_exact(n: u64) -> String {
    if n < 1024 { bytes(n) } else { format!("{} ({} bytes)", bytes(n), thousands(n)) }
}

/// A count grouped by thousands: `21800321` → `21,800,321`.
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

/// A duration in its two most significant units: `45s`, `12m 03s`, `1h 02m`, `3d 04h`.
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
        assert_eq!(bytes_exact(512), "512 B");
        assert_eq!(bytes_exact(21_800_321), "20.8 MiB (21,800,321 bytes)");
    }

    #[test]
    fn counts_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(21_800_321), "21,800,321");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(TimeDelta::seconds(-5)), "0s");
        assert_eq!(duration(TimeDelta::seconds(45)), "45s");
        assert_eq!(duration(TimeDelta::seconds(723)), "12m 03s");
        assert_eq!(duration(TimeDelta::seconds(47 * 60 + 20)), "47m 20s");
        assert_eq!(duration(TimeDelta::seconds(3720)), "1h 02m");
        assert_eq!(duration(TimeDelta::seconds(6000)), "1h 40m");
        assert_eq!(duration(TimeDelta::seconds(3 * 86_400 + 4 * 3600 + 59)), "3d 04h");
    }
}
