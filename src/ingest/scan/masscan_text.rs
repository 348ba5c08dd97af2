//! masscan's text layouts: list (`-oL`) and grepable (`-oG`). Meaning and de-duplication are
//! shared with the JSON layouts (`masscan.rs`).
//!
//! - list: `#masscan` header, `<status> <proto> <port> <ip> <epoch>` lines, banner lines
//!   `banner <proto> <port> <ip> <epoch> <service> <banner…>`, `# end` footer;
//! - grepable: `# Masscan … scan initiated` header, lines
//!   `Timestamp: <epoch>\tHost: <ip> ()\tPorts: <port>/<status>/<proto>//<service>//`, banner
//!   lines `Host: <ip> ()\tPort: <p>\tService: <s>\tBanner: <b>` (a banner line without its
//!   own `Timestamp:` takes the last timestamp seen in the file), `# Masscan done` footer.
//!   masscan 1.0.x writes no `Timestamp:` at all (`Host: <ip> ()\tPorts: 80/open/tcp////`):
//!   such records take the time of `# Masscan done at <ctime>` (as nmap hosts without times
//!   do), or at the end of an interrupted file the `# Masscan … scan initiated <ctime>` time.
//!   Those header times carry no zone: [`header_time`] reads them (in the configured zone,
//!   marking the source `zone_assumed`), and only when a record needs them: a file whose lines
//!   carry their own epoch never reads its header times.
//!
//! A file without its footer is reported incomplete (the scan was interrupted or is running).

use chrono::{DateTime, Utc};

use crate::model::ScanObservation;

use super::ScanRecordError;
use super::line_tool::LineParser;
use super::masscan::{MasscanCore, MasscanRecord, RecordKind, decode};
use super::tally::Cx;
use super::value::StrOrNum;

#[derive(Debug, Default)]
pub struct MasscanList {
    core: MasscanCore,
    saw_end: bool,
}

impl LineParser for MasscanList {
    fn line(&mut self, number: u64, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        if let Some(comment) = text.strip_prefix('#') {
            if comment.trim() == "end" {
                self.saw_end = true;
            }
            return;
        }
        let mut fields = text.splitn(7, ' ');
        let mut next = || fields.next().filter(|f| !f.is_empty());
        let (status, proto, port, ip, stamp) = (next(), next(), next(), next(), next());
        let Some(status) = status else { return };
        let kind = if status == "banner" {
            let service = next().unwrap_or("").to_owned();
            let banner = next().unwrap_or("").to_owned();
            RecordKind::Banner { service, banner }
        } else {
            RecordKind::Status(status.to_owned())
        };
        let port = port.map(|p| StrOrNum::Str(p.to_owned()));
        let stamp = stamp.map(|s| StrOrNum::Str(s.to_owned()));
        match decode(number, ip, port.as_ref(), proto, stamp.as_ref(), kind) {
            Ok(rec) => self.core.record(rec, cx, out),
            Err(err) => cx.malformed(&err),
        }
    }

    fn finish(&mut self, cx: &mut Cx, _out: &mut Vec<ScanObservation>) {
        if !self.saw_end {
            cx.set_incomplete();
        }
    }

    fn notes(&self) -> Vec<String> {
        self.core.notes()
    }
}

#[derive(Debug, Default)]
pub struct MasscanGrepable {
    core: MasscanCore,
    saw_end: bool,
    last_timestamp: Option<String>,
    /// (line, zone-less ctime) of the current run's `# Masscan … scan initiated` comment.
    started: Option<(u64, String)>,
    /// Records without any timestamp (masscan 1.0.x), waiting for `# Masscan done at`.
    waiting: Vec<MasscanRecord>,
}

/// A zone-less masscan header time (`Sun Dec 23 23:00:45 2018`, C `%c`, as ctime): the one
/// place that decides how a masscan header time is read. It is read as nmap's `-oG` comments
/// are ([`Cx::local_ctime`]: the configured zone, and the source is marked `zone_assumed`).
pub fn header_time(line: u64, stamp: &str, cx: &mut Cx) -> Result<DateTime<Utc>, ScanRecordError> {
    cx.local_ctime(line, stamp)
}

impl LineParser for MasscanGrepable {
    fn line(&mut self, number: u64, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        let text = String::from_utf8_lossy(bytes);
        if text.trim().is_empty() {
            return;
        }
        if let Some(comment) = text.strip_prefix('#') {
            let comment = comment.trim();
            if let Some(rest) = comment.strip_prefix("Masscan done") {
                self.saw_end = true;
                let stamp = rest.trim().strip_prefix("at").unwrap_or(rest).trim();
                if !self.waiting.is_empty() {
                    match header_time(number, stamp, cx) {
                        Ok(time) => self.flush(time, cx, out),
                        // The start time is used at the end instead.
                        Err(err) => cx.malformed(&err),
                    }
                }
            } else if comment.starts_with("Masscan") && comment.contains("initiated") {
                // A new run appended to the same file: it must finish again. Records of an
                // unfinished previous run keep that run's start.
                self.flush_at_start(cx, out);
                self.saw_end = false;
                let stamp = comment.split(" initiated ").nth(1).unwrap_or("");
                self.started = Some((number, stamp.to_owned()));
            }
            return;
        }
        if let Err(err) = self.record(number, &text, cx, out) {
            cx.malformed(&err);
        }
    }

    fn finish(&mut self, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        if !self.saw_end {
            cx.set_incomplete();
        }
        self.flush_at_start(cx, out);
        // Still waiting: the file has neither header time.
        for rec in std::mem::take(&mut self.waiting) {
            cx.malformed(&ScanRecordError::Field {
                line: rec.line,
                field: "Timestamp",
                reason: "missing, and the file has no `# Masscan done at` or `scan initiated` \
                         time"
                    .into(),
            });
        }
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = self.core.notes();
        if !self.waiting.is_empty() {
            notes.push(format!(
                "{} records without `Timestamp:` wait for `# Masscan done at`",
                self.waiting.len()
            ));
        }
        notes
    }
}

impl MasscanGrepable {
    /// Give the waiting records the run's start time (the run never said it was done).
    fn flush_at_start(&mut self, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        if self.waiting.is_empty() {
            return;
        }
        if let Some((line, stamp)) = self.started.take() {
            match header_time(line, &stamp, cx) {
                Ok(time) => self.flush(time, cx, out),
                Err(err) => cx.malformed(&err),
            }
        }
    }

    /// Give the waiting timestamp-less records their time and emit them.
    fn flush(&mut self, time: DateTime<Utc>, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        for mut rec in std::mem::take(&mut self.waiting) {
            rec.time = time;
            self.core.record(rec, cx, out);
        }
    }

    fn record(
        &mut self,
        line: u64,
        text: &str,
        cx: &mut Cx,
        out: &mut Vec<ScanObservation>,
    ) -> Result<(), ScanRecordError> {
        let field = |name: &str| text.split('\t').find_map(|f| f.strip_prefix(name)).map(str::trim);
        if let Some(stamp) = field("Timestamp:") {
            self.last_timestamp = Some(stamp.to_owned());
        }
        let stamp = field("Timestamp:").map(str::to_owned).or_else(|| self.last_timestamp.clone());
        // masscan 1.0.x: no timestamp anywhere; the record waits for the footer's time.
        let wait = stamp.is_none();
        let stamp = Some(StrOrNum::Str(stamp.unwrap_or_else(|| "0".to_owned())));
        let host = field("Host:").ok_or_else(|| ScanRecordError::missing(line, "Host"))?;
        // `10.0.0.5 ()`: the address, then an always-empty name in parentheses.
        let ip = host.split_whitespace().next();
        if let Some(ports) = field("Ports:") {
            let parts: Vec<&str> = ports.split('/').collect();
            if parts.len() < 3 {
                return Err(ScanRecordError::Field {
                    line,
                    field: "Ports",
                    reason: format!("expected port/status/proto, got `{ports}`"),
                });
            }
            let port = StrOrNum::Str(parts[0].trim().to_owned());
            let kind = RecordKind::Status(parts[1].trim().to_owned());
            let rec = decode(line, ip, Some(&port), Some(parts[2]), stamp.as_ref(), kind)?;
            self.take(rec, wait, cx, out);
            return Ok(());
        }
        let port = field("Port:").ok_or_else(|| ScanRecordError::missing(line, "Ports"))?;
        let port = StrOrNum::Str(port.to_owned());
        let kind = RecordKind::Banner {
            service: field("Service:").unwrap_or("").to_owned(),
            banner: field("Banner:").unwrap_or("").to_owned(),
        };
        let rec = decode(line, ip, Some(&port), None, stamp.as_ref(), kind)?;
        self.take(rec, wait, cx, out);
        Ok(())
    }

    fn take(
        &mut self,
        rec: MasscanRecord,
        wait: bool,
        cx: &mut Cx,
        out: &mut Vec<ScanObservation>,
    ) {
        if wait {
            self.waiting.push(rec);
        } else {
            self.core.record(rec, cx, out);
        }
    }
}
