//! The bundled demo case (`assets/demo/`) and its replayer: the finished logs and scans are
//! re-written into a directory line by line, in story-time order, so a real live `Session`
//! following that directory sees the incident unfold. Scan files appear whole at their
//! finishing time (written aside, then renamed in), like a scanner's `-oX` on completion.
//!
//! The case is compiled into the binary, so `leakline demo` works from any directory.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

use crate::config::{
    AccessSpec, AddressSpec, CaseConfig, ScanSpec, SensitivePath, ServiceConfig, Vantage,
};
use crate::ingest::access::AccessFormat;

/// The access logs of the case: (path relative to the case dir, format, contents).
const LOGS: [(&str, AccessFormat, &str); 2] = [
    (
        "logs/edge-a/access.log",
        AccessFormat::Combined,
        include_str!("../../assets/demo/logs/edge-a/access.log"),
    ),
    (
        "logs/edge-b/access.json",
        AccessFormat::NginxJson,
        include_str!("../../assets/demo/logs/edge-b/access.json"),
    ),
];

/// Scan files by name.
const SCANS: [(&str, &str); 4] = [
    ("nmap-0940.xml", include_str!("../../assets/demo/scans/nmap-0940.xml")),
    ("nmap-1102.xml", include_str!("../../assets/demo/scans/nmap-1102.xml")),
    ("nuclei-1104.jsonl", include_str!("../../assets/demo/scans/nuclei-1104.jsonl")),
    ("nmap-1120.xml", include_str!("../../assets/demo/scans/nmap-1120.xml")),
];

const STORY: &str = include_str!("../../assets/demo/story.json");

/// Ground truth of the case (windows per service), as written by `generate.py`.
pub const EXPECTED: &str = include_str!("../../assets/demo/expected.json");

/// A problem with the bundled case or the replay directory.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("assets/demo/story.json: {0}")]
    Story(#[source] serde_json::Error),
    #[error("assets/demo/{file}:{line}: no readable timestamp ({field})")]
    Time { file: &'static str, line: usize, field: &'static str },
    #[error("assets/demo/story.json: scan file `{0}` is not bundled")]
    UnknownScan(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

#[derive(Debug, Clone, Deserialize)]
struct StoryFile {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    captions: Vec<Caption>,
    scans: Vec<ScanAt>,
}

#[derive(Debug, Clone, Deserialize)]
struct Caption {
    time: DateTime<Utc>,
    text: String,
}

#[derive(Debug, Clone, Deserialize)]
struct ScanAt {
    file: String,
    time: DateTime<Utc>,
}

/// One thing to write during the replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayItem {
    /// Append one line (without its newline) to a log file.
    Line { time: DateTime<Utc>, file: &'static str, text: &'static str },
    /// Make a scan file appear, whole.
    Scan { time: DateTime<Utc>, name: &'static str, contents: &'static str },
}

impl ReplayItem {
    #[must_use]
    pub fn time(&self) -> DateTime<Utc> {
        match self {
            ReplayItem::Line { time, .. } | ReplayItem::Scan { time, .. } => *time,
        }
    }
}

/// The demo case: story bounds, captions and every item in time order.
#[derive(Debug, Clone)]
pub struct DemoCase {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub captions: Vec<(DateTime<Utc>, String)>,
    pub items: Vec<ReplayItem>,
}

/// Time of an access-log line of the bundled formats (combined `[...]`, nginx JSON
/// `time_iso8601`).
fn line_time(format: AccessFormat, line: &str) -> Option<DateTime<Utc>> {
    if format == AccessFormat::Combined {
        let open = line.find('[')?;
        let close = open + line[open..].find(']')?;
        return DateTime::parse_from_str(&line[open + 1..close], "%d/%b/%Y:%H:%M:%S %z")
            .ok()
            .map(|t| t.to_utc());
    }
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let t = v.get("time_iso8601")?.as_str()?;
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.to_utc())
}

impl DemoCase {
    /// Load the bundled case.
    pub fn bundled() -> Result<DemoCase, ReplayError> {
        let story: StoryFile = serde_json::from_str(STORY).map_err(ReplayError::Story)?;
        let mut items = Vec::new();
        for (file, format, contents) in LOGS {
            for (i, text) in contents.lines().enumerate() {
                if text.is_empty() {
                    continue;
                }
                let time = line_time(format, text).ok_or(ReplayError::Time {
                    file,
                    line: i + 1,
                    field: if format == AccessFormat::Combined { "[time]" } else { "time_iso8601" },
                })?;
                items.push(ReplayItem::Line { time, file, text });
            }
        }
        for s in &story.scans {
            let (name, contents) = SCANS
                .iter()
                .find(|(n, _)| *n == s.file)
                .ok_or_else(|| ReplayError::UnknownScan(s.file.clone()))?;
            items.push(ReplayItem::Scan { time: s.time, name, contents });
        }
        // Stable: lines of one file keep their file order at equal times.
        items.sort_by_key(ReplayItem::time);
        Ok(DemoCase {
            start: story.start,
            end: story.end,
            captions: story.captions.into_iter().map(|c| (c.time, c.text)).collect(),
            items,
        })
    }

    /// Speed (story seconds per wall second) that plays the whole story in `wall_secs`.
    #[must_use]
    pub fn speed_for(&self, wall_secs: f64) -> f64 {
        let span = (self.end - self.start).num_milliseconds() as f64 / 1000.0;
        (span / wall_secs.max(1.0)).max(1.0)
    }

    /// The configuration that follows a replay directory: the same services, formats and
    /// networks as `assets/demo/leakline.toml`, with absolute paths under `dir`.
    #[must_use]
    pub fn config(dir: &Path) -> CaseConfig {
        let abs = |rel: &str| dir.join(rel).to_string_lossy().into_owned();
        let access = LOGS
            .iter()
            .map(|(rel, format, _)| AccessSpec {
                pattern: abs(rel),
                format: Some(*format),
                fields: None,
                clickhouse: None,
            })
            .collect();
        let net = |s: &str| s.parse().ok();
        CaseConfig {
            path: None,
            base_dir: dir.to_path_buf(),
            name: "LLM gateway exposure (demo)".to_owned(),
            timezone: chrono_tz::UTC,
            internal: ["10.0.0.0/8"].iter().filter_map(|s| net(s)).collect(),
            trusted_proxies: Vec::new(),
            allow: Vec::new(),
            services: vec![
                ServiceConfig {
                    name: "llm-gateway".to_owned(),
                    addresses: ["203.0.113.10:443", "api.acme-ml.example:443"]
                        .iter()
                        .filter_map(|a| AddressSpec::parse(a))
                        .collect(),
                    access,
                    sensitive: demo_sensitive(),
                },
                ServiceConfig {
                    name: "vector-db".to_owned(),
                    addresses: AddressSpec::parse("203.0.113.10:6333").into_iter().collect(),
                    access: Vec::new(),
                    sensitive: Vec::new(),
                },
            ],
            scans: vec![ScanSpec {
                paths: vec![abs("scans/*")],
                vantage: Vantage::External,
                format: None,
            }],
            scanners: Vec::new(),
            enrich: crate::config::EnrichConfig::default(),
        }
    }
}

/// The demo's sensitive paths (as in `assets/demo/leakline.toml`).
fn demo_sensitive() -> Vec<SensitivePath> {
    [("/v1/models", "model list"), ("/internal/**", "internal API")]
        .iter()
        .filter_map(|(p, l)| SensitivePath::new(p, l).ok())
        .collect()
}

/// Writes a [`DemoCase`] into a directory as story time advances.
#[derive(Debug)]
pub struct Replayer {
    dir: PathBuf,
    case: DemoCase,
    /// Index of the next item to write.
    next: usize,
    files: HashMap<&'static str, File>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ReplayError + '_ {
    move |source| ReplayError::Io { path: path.to_path_buf(), source }
}

impl Replayer {
    /// Prepare `dir`: empty log files (followers start on them at once), an empty `scans/`
    /// and a `staging/` directory (outside the scan glob) for atomic scan appearances.
    pub fn new(dir: &Path, case: DemoCase) -> Result<Replayer, ReplayError> {
        let mut files = HashMap::new();
        for (rel, _, _) in LOGS {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            let file =
                OpenOptions::new().create(true).append(true).open(&path).map_err(io_err(&path))?;
            files.insert(rel, file);
        }
        for sub in ["scans", "staging"] {
            let p = dir.join(sub);
            fs::create_dir_all(&p).map_err(io_err(&p))?;
        }
        Ok(Replayer { dir: dir.to_path_buf(), case, next: 0, files })
    }

    /// Write every item due at or before `until`. Returns how many were written.
    pub fn advance(&mut self, until: DateTime<Utc>) -> Result<usize, ReplayError> {
        let start = self.next;
        let mut touched: Vec<&'static str> = Vec::new();
        while let Some(item) = self.case.items.get(self.next) {
            if item.time() > until {
                break;
            }
            match item {
                ReplayItem::Line { file, text, .. } => {
                    // Every `Line` names one of `LOGS`, all opened in `new`.
                    if let Some(out) = self.files.get_mut(file) {
                        let path = self.dir.join(file);
                        out.write_all(text.as_bytes())
                            .and_then(|()| out.write_all(b"\n"))
                            .map_err(io_err(&path))?;
                        if !touched.contains(file) {
                            touched.push(file);
                        }
                    }
                }
                ReplayItem::Scan { name, contents, .. } => {
                    let staged = self.dir.join("staging").join(name);
                    fs::write(&staged, contents).map_err(io_err(&staged))?;
                    let target = self.dir.join("scans").join(name);
                    fs::rename(&staged, &target).map_err(io_err(&target))?;
                }
            }
            self.next += 1;
        }
        for file in touched {
            if let Some(f) = self.files.get_mut(file) {
                f.flush().map_err(io_err(&self.dir.join(file)))?;
            }
        }
        Ok(self.next - start)
    }

    /// `true` once every item has been written.
    #[must_use]
    pub fn finished(&self) -> bool {
        self.next >= self.case.items.len()
    }
}

/// A replay clock: story time = `start + elapsed × speed`, held at `end` once reached (so
/// "12s ago" labels stop growing when the recording is over).
#[must_use]
pub fn story_time(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    speed: f64,
    elapsed: std::time::Duration,
) -> DateTime<Utc> {
    let ms = (elapsed.as_secs_f64() * speed * 1000.0).min(1e15) as i64;
    (start + TimeDelta::milliseconds(ms)).min(end)
}
