//! Scanner times without a zone, and the identity of a scanner run.
//!
//! Most scanner formats write exact instants (epoch seconds, RFC 3339 with an offset). A few
//! write the scanner's local wall-clock time with no zone: nmap `-oG` comments (`# Nmap …
//! scan initiated Sat Mar 26 07:06:28 2016`, `# Nmap done at …`), nmap XML's `startstr` and
//! `timestr`, masscan's `-oG` header. Those are read in the configured zone (config
//! `timezone`, `--tz`) through [`Cx::local_ctime`](super::tally::Cx::local_ctime), which marks
//! the source `zone_assumed` so every output can say the times rest on that choice.
//!
//! Rule: an exact instant in the same file wins over a local-time one. nmap XML carries both
//! (`start` and `startstr`): only the epoch is read, and the file is never zone-assumed.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// A zone-less ctime (`Sat Mar 26 07:06:28 2016`, any run of spaces) as a local date-time.
#[must_use]
pub fn parse_ctime(stamp: &str) -> Option<NaiveDateTime> {
    let collapsed = collapse(stamp);
    NaiveDateTime::parse_from_str(&collapsed, "%a %b %e %H:%M:%S %Y").ok()
}

/// `stamp` with every run of whitespace made one space (nmap pads the day with a space).
#[must_use]
pub fn collapse(stamp: &str) -> String {
    stamp.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One scanner run as its output file names it: the same run written twice (`nmap -oA` gives
/// an XML and a `-oG` file) has the same `args` and `started_local`, whatever the format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRun {
    /// The command line (`nmaprun@args`; `-oG`: the text after `as:`).
    pub args: String,
    /// The start in the scanner's local time, as written (`nmaprun@startstr`; `-oG`: the
    /// `scan initiated` time), whitespace collapsed.
    pub started_local: String,
    /// The start as an exact instant, when the file has one (nmap XML `nmaprun@start`).
    pub started: Option<DateTime<Utc>>,
}

impl ScanRun {
    /// Two files of the same run: same command line, same local start, and the same exact
    /// start where both have one (two scanners in different zones can start the same command
    /// at the same local time).
    #[must_use]
    pub fn same_run(&self, other: &ScanRun) -> bool {
        let exact_agrees = match (self.started, other.started) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        self.args == other.args && self.started_local == other.started_local && exact_agrees
    }

    /// The scanner's UTC offset at the start (seconds east), when the run has both an exact
    /// start and its local rendering.
    #[must_use]
    pub fn utc_offset_secs(&self) -> Option<i64> {
        let local = parse_ctime(&self.started_local)?;
        Some((local - self.started?.naive_utc()).num_seconds())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctime_with_padded_day_and_offset_of_a_run() {
        let t = parse_ctime("Sat Mar  8 11:38:00 2025").unwrap();
        assert_eq!(t.to_string(), "2025-03-08 11:38:00");
        assert!(parse_ctime("Sat Mar 8 25:38:00 2025").is_none());
        let run = ScanRun {
            args: "nmap -oA nmap -v -A 10.0.1.0/24".into(),
            started_local: collapse("Sat Mar 26 07:06:28  2016"),
            started: DateTime::from_timestamp(1_459_001_188, 0),
        };
        assert_eq!(run.utc_offset_secs(), Some(-7 * 3600));
        let grepable = ScanRun { started: None, ..run.clone() };
        assert!(run.same_run(&grepable));
        assert_eq!(grepable.utc_offset_secs(), None);
        let other = ScanRun { args: "nmap -oA nmap -A 10.0.1.0/24".into(), ..run.clone() };
        assert!(!run.same_run(&other));
        // Same command, same local start, another instant: another scanner's run.
        let elsewhere =
            ScanRun { started: DateTime::from_timestamp(1_459_015_588, 0), ..run.clone() };
        assert!(!run.same_run(&elsewhere));
        assert!(elsewhere.same_run(&grepable), "-oG has no instant to contradict either");
    }
}
