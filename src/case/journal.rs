//! The case journal: append-only JSON lines, one record per action, SHA-256 hash-chained.
//!
//! Record (one line, written in canonical form, see [`super::canonical`]):
//! `{"at":"2026-05-01T10:04:00.000Z","data":{…},"hash":"…","kind":"note","operator":"ana","prev":"…","seq":3}`
//! - `seq`: 1, 2, 3… in file order;
//! - `at`: RFC 3339 UTC with milliseconds, from the injected clock;
//! - `prev`: the previous record's `hash` ([`GENESIS`] for the first record);
//! - `hash`: SHA-256 of the canonical form of the record without `hash`.
//!
//! Appends take an exclusive `flock` on the journal, re-read the tail to find the current head
//! (so several processes can append), write the whole line with one `write` (`O_APPEND`) and
//! `fsync` before returning: a returned [`Entry`] is *acknowledged* and survives `kill -9`.
//!
//! A final line without its newline is a *torn tail* (a crash mid-write, never acknowledged):
//! readers report and ignore it; the next append cuts it off and first records a
//! `journal_repaired` entry that keeps the torn bytes, so nothing is silently dropped and the
//! new record never glues onto the torn one.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::canonical::{record_hash, write_object};
use crate::playbook::StepAction;

/// `prev` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The journal's time source (injected so tests are deterministic).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The wall clock.
#[must_use]
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// What a record says happened. Serialized as `kind` (snake case) + `data` (object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Action {
    /// First record of every case.
    CaseOpened {
        name: String,
        playbook: String,
        /// SHA-256 of the case's `playbook.toml` copy.
        playbook_sha256: String,
        /// The config file, absolute path.
        config: String,
        /// SHA-256 of the config file at case creation.
        config_sha256: String,
    },
    /// An evidence file, hashed when it was added; or a database source (`path` is then
    /// `clickhouse:URL/TABLE`, `sha256` and `bytes` are of the rows as received, and
    /// `database` holds the server version, the exact queries and the row counts, so the
    /// evidence can be pulled again and compared).
    SourceAdded {
        path: String,
        sha256: String,
        bytes: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<crate::model::snapshot::DatabaseEvidence>,
    },
    Step {
        step: String,
        action: StepAction,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// On `done`: what the step's verify check said when it was marked done without being
        /// verified (the report shows "done (unverified)"). Absent when verified or no check.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unverified: Option<String>,
    },
    Note {
        text: String,
    },
    /// A responder's note on an exposure window (identified by service and window start).
    WindowAnnotated {
        service: String,
        window_opened: String,
        text: String,
    },
    ReportExported {
        path: String,
        format: String,
        sha256: String,
    },
    /// An ingest gap noticed while working the case (rotation, truncation, outage).
    Gap {
        source: String,
        from: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        reason: String,
    },
    /// A torn tail (unacknowledged partial record) was cut off; its bytes are kept here.
    JournalRepaired {
        torn_bytes: u64,
        torn_text: String,
    },
    /// The case was closed (`case close --resolution`): step actions and notes are refused
    /// until it is reopened.
    CaseClosed {
        resolution: String,
    },
    /// A closed case was reopened (`case reopen --reason`).
    CaseReopened {
        reason: String,
    },
}

impl Action {
    /// The `kind` name written to the journal.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Action::CaseOpened { .. } => "case_opened",
            Action::SourceAdded { .. } => "source_added",
            Action::Step { .. } => "step",
            Action::Note { .. } => "note",
            Action::WindowAnnotated { .. } => "window_annotated",
            Action::ReportExported { .. } => "report_exported",
            Action::Gap { .. } => "gap",
            Action::JournalRepaired { .. } => "journal_repaired",
            Action::CaseClosed { .. } => "case_closed",
            Action::CaseReopened { .. } => "case_reopened",
        }
    }
}

/// One verified journal record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub kind: String,
    /// `None` when this version of leakline does not understand `kind`/`data` (the record is
    /// still part of the verified chain).
    pub action: Option<Action>,
    pub prev: String,
    pub hash: String,
    /// 1-based line in `journal.jsonl`; 0 for entries returned by an append (the line is not
    /// counted when only the tail is read).
    pub line: usize,
}

/// An unterminated final line (crash mid-write), reported and ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TornTail {
    pub line: usize,
    /// Byte offset where the torn line starts.
    pub offset: u64,
    pub bytes: u64,
}

/// The verified content of a journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalContents {
    pub entries: Vec<Entry>,
    /// Hash of the last record ([`GENESIS`] when empty).
    pub head: String,
    pub torn: Option<TornTail>,
}

/// What is wrong with the first bad record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainProblem {
    #[error("not a journal record: {0}")]
    Malformed(String),
    #[error("record was modified (stored hash {stored}, content hashes to {computed})")]
    Edited { stored: String, computed: String },
    #[error("expected seq {expected}, found {found}: record(s) before it were removed")]
    Missing { expected: u64, found: u64 },
    #[error("expected seq {expected}, found {found}: records were reordered or duplicated")]
    OutOfOrder { expected: u64, found: u64 },
    #[error(
        "prev does not match the hash of the record before it: records were replaced or spliced"
    )]
    BrokenLink,
}

/// A journal could not be read, verified or appended to.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The first bad record: 1-based line, the record's seq when readable, and the problem.
    #[error("{path}:{line}: {}{problem}", .seq.map(|s| format!("record seq {s}: ")).unwrap_or_default())]
    Broken { path: PathBuf, line: usize, seq: Option<u64>, problem: ChainProblem },
    #[error("{path}: journal already exists")]
    Exists { path: PathBuf },
}

/// A handle on a journal file; cheap, holds no file open between calls.
#[derive(Clone)]
pub struct Journal {
    path: PathBuf,
    clock: Clock,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Journal {
    #[must_use]
    pub fn new(path: impl Into<PathBuf>, clock: Clock) -> Journal {
        Journal { path: path.into(), clock }
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current time from the injected clock.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    fn io(&self, source: std::io::Error) -> JournalError {
        JournalError::Io { path: self.path.clone(), source }
    }

    /// Create a new journal whose first record is `action`. Fails if the file exists.
    pub fn create(&self, operator: &str, action: &Action) -> Result<Entry, JournalError> {
        let mut options = OpenOptions::new();
        options.read(true).append(true).create_new(true);
        // The journal may quote evidence: owner-only (a stricter umask still applies).
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&self.path);
        let mut file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(JournalError::Exists { path: self.path.clone() });
            }
            Err(e) => return Err(self.io(e)),
        };
        file.lock_exclusive().map_err(|e| self.io(e))?;
        let entry = self.write_record(&mut file, 1, GENESIS, operator, action);
        let _ = FileExt::unlock(&file);
        if let Some(dir) = self.path.parent() {
            // Make the new directory entry durable too (best effort: not all systems allow it).
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        entry
    }

    /// Read and verify the whole journal (under a shared lock, so no half-written line of a
    /// concurrent append is mistaken for a torn tail).
    pub fn read(&self) -> Result<JournalContents, JournalError> {
        let mut file = File::open(&self.path).map_err(|e| self.io(e))?;
        FileExt::lock_shared(&file).map_err(|e| self.io(e))?;
        let mut bytes = Vec::new();
        let read = file.read_to_end(&mut bytes);
        let _ = FileExt::unlock(&file);
        read.map_err(|e| self.io(e))?;
        parse(&self.path, &bytes)
    }

    /// Append one record, chained to the current head (found by re-reading the tail under
    /// the lock). Refuses to append after a damaged last record.
    pub fn append(&self, operator: &str, action: &Action) -> Result<Entry, JournalError> {
        self.append_with(operator, ReadMode::Tail, |_| Ok::<_, JournalError>(action.clone()))
    }

    /// Append the record `decide` returns, with the whole journal read and verified under the
    /// same exclusive lock, so the decision (e.g. "is this step transition allowed?") sees
    /// every record other processes appended before it.
    pub fn append_checked<E>(
        &self,
        operator: &str,
        decide: impl FnOnce(&JournalContents) -> Result<Action, E>,
    ) -> Result<Entry, E>
    where
        E: From<JournalError>,
    {
        self.append_with(operator, ReadMode::Full, decide)
    }

    fn append_with<E>(
        &self,
        operator: &str,
        mode: ReadMode,
        decide: impl FnOnce(&JournalContents) -> Result<Action, E>,
    ) -> Result<Entry, E>
    where
        E: From<JournalError>,
    {
        let mut file =
            OpenOptions::new().read(true).append(true).open(&self.path).map_err(|e| self.io(e))?;
        file.lock_exclusive().map_err(|e| self.io(e))?;
        let result = self.append_locked(&mut file, operator, mode, decide);
        let _ = FileExt::unlock(&file);
        result
    }

    fn append_locked<E>(
        &self,
        file: &mut File,
        operator: &str,
        mode: ReadMode,
        decide: impl FnOnce(&JournalContents) -> Result<Action, E>,
    ) -> Result<Entry, E>
    where
        E: From<JournalError>,
    {
        let contents = match mode {
            ReadMode::Full => {
                let mut bytes = Vec::new();
                file.seek(SeekFrom::Start(0)).map_err(|e| self.io(e))?;
                file.read_to_end(&mut bytes).map_err(|e| self.io(e))?;
                parse(&self.path, &bytes)?
            }
            ReadMode::Tail => self.read_tail(file)?,
        };
        // An emptied (or never completed) journal must not silently start a new chain: every
        // journal begins with the `case_opened` record written by `create`.
        let Some(last) = contents.entries.last() else {
            return Err(JournalError::Broken {
                path: self.path.clone(),
                line: 1,
                seq: None,
                problem: ChainProblem::Malformed(
                    "journal has no complete record (emptied or truncated?); refusing to start a new chain"
                        .into(),
                ),
            }
            .into());
        };
        let action = decide(&contents)?;
        let (mut seq, mut head) = (last.seq, last.hash.clone());
        if let Some(torn) = &contents.torn {
            let repaired = self.repair(file, torn, self.next_seq(seq)?, &head, operator)?;
            seq = repaired.seq;
            head = repaired.hash;
        }
        Ok(self.write_record(file, self.next_seq(seq)?, &head, operator, &action)?)
    }

    /// The sequence number after `seq`; an error (never a wrap to 0) at the maximum.
    fn next_seq(&self, seq: u64) -> Result<u64, JournalError> {
        seq.checked_add(1).ok_or_else(|| JournalError::Broken {
            path: self.path.clone(),
            line: 0,
            seq: Some(seq),
            problem: ChainProblem::Malformed(
                "the last record has the largest possible sequence number; nothing can follow it"
                    .into(),
            ),
        })
    }

    /// Cut a torn tail off and record its bytes in a `journal_repaired` record.
    fn repair(
        &self,
        file: &mut File,
        torn: &TornTail,
        seq: u64,
        prev: &str,
        operator: &str,
    ) -> Result<Entry, JournalError> {
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(torn.offset)).map_err(|e| self.io(e))?;
        file.read_to_end(&mut bytes).map_err(|e| self.io(e))?;
        file.set_len(torn.offset).map_err(|e| self.io(e))?;
        file.sync_data().map_err(|e| self.io(e))?;
        let action = Action::JournalRepaired {
            torn_bytes: bytes.len() as u64,
            torn_text: String::from_utf8_lossy(&bytes).into_owned(),
        };
        self.write_record(file, seq, prev, operator, &action)
    }

    /// The last complete record and any torn tail, reading backwards from the end.
    fn read_tail(&self, file: &mut File) -> Result<JournalContents, JournalError> {
        let len = file.seek(SeekFrom::End(0)).map_err(|e| self.io(e))?;
        let mut window: u64 = 64 * 1024;
        loop {
            let start = len.saturating_sub(window);
            let mut bytes = Vec::with_capacity((len - start) as usize);
            file.seek(SeekFrom::Start(start)).map_err(|e| self.io(e))?;
            Read::by_ref(file).take(len - start).read_to_end(&mut bytes).map_err(|e| self.io(e))?;
            // Need the newline ending the last complete line and the one before it (or BOF).
            let last_nl = bytes.iter().rposition(|&b| b == b'\n');
            let prev_nl = last_nl.and_then(|i| bytes[..i].iter().rposition(|&b| b == b'\n'));
            if start > 0 && (last_nl.is_none() || prev_nl.is_none()) {
                window = window.saturating_mul(4);
                continue;
            }
            let torn_from = last_nl.map_or(0, |i| i + 1);
            let torn = (torn_from < bytes.len()).then(|| TornTail {
                line: 0,
                offset: start + torn_from as u64,
                bytes: (bytes.len() - torn_from) as u64,
            });
            let Some(end) = last_nl else {
                return Ok(JournalContents { entries: Vec::new(), head: GENESIS.to_owned(), torn });
            };
            let begin = prev_nl.map_or(0, |i| i + 1);
            // Line numbers are unknown from the tail alone: if the last record is bad, a full
            // parse names the first bad record precisely.
            let entry = match parse_record(&self.path, 0, &bytes[begin..end]) {
                Ok(entry) => entry,
                Err(tail_err) => {
                    let mut all = Vec::new();
                    file.seek(SeekFrom::Start(0)).map_err(|e| self.io(e))?;
                    file.read_to_end(&mut all).map_err(|e| self.io(e))?;
                    parse(&self.path, &all)?;
                    return Err(tail_err);
                }
            };
            let head = entry.hash.clone();
            return Ok(JournalContents { entries: vec![entry], head, torn });
        }
    }

    fn write_record(
        &self,
        file: &mut File,
        seq: u64,
        prev: &str,
        operator: &str,
        action: &Action,
    ) -> Result<Entry, JournalError> {
        let now = (self.clock)();
        let at_text = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        let Value::Object(tagged) =
            serde_json::to_value(action).map_err(|e| self.io(std::io::Error::other(e)))?
        else {
            return Err(self.io(std::io::Error::other("action did not serialize to an object")));
        };
        let mut record = Map::new();
        record.insert("seq".into(), Value::from(seq));
        record.insert("at".into(), Value::from(at_text.clone()));
        record.insert("operator".into(), Value::from(operator));
        record.insert("kind".into(), Value::from(action.kind()));
        record.insert(
            "data".into(),
            tagged.get("data").cloned().unwrap_or(Value::Object(Map::new())),
        );
        record.insert("prev".into(), Value::from(prev));
        let hash = record_hash(&record);
        record.insert("hash".into(), Value::from(hash.clone()));
        let mut line = String::with_capacity(256);
        write_object(&record, None, &mut line);
        line.push('\n');
        file.write_all(line.as_bytes()).map_err(|e| self.io(e))?;
        file.sync_data().map_err(|e| self.io(e))?;
        Ok(Entry {
            seq,
            at: parse_at(&at_text).unwrap_or(now),
            operator: operator.to_owned(),
            kind: action.kind().to_owned(),
            action: Some(action.clone()),
            prev: prev.to_owned(),
            hash,
            line: 0,
        })
    }
}

#[derive(Clone, Copy)]
enum ReadMode {
    Tail,
    Full,
}

fn parse_at(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// Parse one line into an entry, checking its fields and its own hash (not the chain).
fn parse_record(path: &Path, line: usize, bytes: &[u8]) -> Result<Entry, JournalError> {
    let broken =
        |seq, problem| JournalError::Broken { path: path.to_path_buf(), line, seq, problem };
    let malformed = |seq, msg: String| broken(seq, ChainProblem::Malformed(msg));
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| malformed(None, format!("invalid JSON at column {}: {e}", e.column())))?;
    let Value::Object(map) = value else {
        return Err(malformed(None, "not a JSON object".into()));
    };
    let seq = map.get("seq").and_then(Value::as_u64);
    let text = |field: &str| -> Result<String, JournalError> {
        map.get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| malformed(seq, format!("field `{field}` missing or not a string")))
    };
    let Some(seq_value) = seq else {
        return Err(malformed(None, "field `seq` missing or not a positive integer".into()));
    };
    let hash = text("hash")?;
    let prev = text("prev")?;
    let operator = text("operator")?;
    let kind = text("kind")?;
    let at_text = text("at")?;
    let at = parse_at(&at_text)
        .ok_or_else(|| malformed(seq, format!("field `at`: \"{at_text}\" is not RFC 3339")))?;
    let data =
        map.get("data").cloned().ok_or_else(|| malformed(seq, "field `data` missing".into()))?;
    if let Some(extra) = map
        .keys()
        .find(|k| !["seq", "at", "operator", "kind", "data", "prev", "hash"].contains(&k.as_str()))
    {
        return Err(malformed(seq, format!("unexpected field `{extra}`")));
    }
    let computed = record_hash(&map);
    if computed != hash {
        return Err(broken(seq, ChainProblem::Edited { stored: hash, computed }));
    }
    let mut tagged = Map::new();
    tagged.insert("kind".into(), Value::from(kind.clone()));
    tagged.insert("data".into(), data);
    let action = serde_json::from_value::<Action>(Value::Object(tagged)).ok();
    Ok(Entry { seq: seq_value, at, operator, kind, action, prev, hash, line })
}

/// Verify a whole journal: every record's hash, `seq` continuity and the `prev` chain. The
/// first bad record is the error; a torn final line is reported in the result and ignored.
///
/// A record with an unexpected `seq` is classified by looking ahead: when the expected record
/// appears later the records were reordered, otherwise records were removed (higher `seq`) or
/// duplicated/reordered (lower `seq`).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<JournalContents, JournalError> {
    let chunks: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
    let mut entries: Vec<Entry> = Vec::new();
    let mut head = GENESIS.to_owned();
    let mut offset: u64 = 0;
    let mut torn = None;
    for (index, chunk) in chunks.iter().enumerate() {
        let line = index + 1;
        let Some(body) = chunk.strip_suffix(b"\n") else {
            torn = Some(TornTail { line, offset, bytes: chunk.len() as u64 });
            break;
        };
        offset += chunk.len() as u64;
        let entry = parse_record(path, line, body)?;
        let expected = entries.len() as u64 + 1;
        let broken = |problem| JournalError::Broken {
            path: path.to_path_buf(),
            line,
            seq: Some(entry.seq),
            problem,
        };
        if entry.seq != expected {
            let appears_later = chunks[index + 1..].iter().any(|c| {
                serde_json::from_slice::<Value>(c.strip_suffix(b"\n").unwrap_or(c))
                    .ok()
                    .and_then(|v| v.get("seq").and_then(Value::as_u64))
                    == Some(expected)
            });
            let found = entry.seq;
            return Err(broken(if entry.seq > expected && !appears_later {
                ChainProblem::Missing { expected, found }
            } else {
                ChainProblem::OutOfOrder { expected, found }
            }));
        }
        if entry.prev != head {
            return Err(broken(ChainProblem::BrokenLink));
        }
        head.clone_from(&entry.hash);
        entries.push(entry);
    }
    Ok(JournalContents { entries, head, torn })
}
