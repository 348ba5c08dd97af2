//! The follower core for one glob: which files to read, from where, and what happened to them.
//!
//! Synchronous and clock-free (the caller passes `now`), so rotation and truncation semantics
//! are tested on real files without any parser: the tailer's job ends at "bytes of content
//! stream X, in order, exactly once", delivered to a `TailSink`.
//!
//! A *stream* is one run of content with one decoder: a file as first found, or a truncated
//! file's new content. Streams are keyed by the `SourceId` the sink hands out.
//!
//! Rules (each cycle: optional discovery over the glob, then a read of every open file):
//! - Files are tracked by device + inode while open. A tracked file found under another name was
//!   renamed (rotation); one no longer found was renamed away or deleted. Either way its
//!   descriptor is kept and read until it has been quiet for `rotate_wait`, then closed. The new
//!   file at the old name is an unknown identity, read from its start (concurrently: order across
//!   streams does not matter to the correlator).
//! - Size below the read offset, or a changed head, means truncation (copytruncate): the old
//!   content is remembered and the file's new content becomes a new stream read from 0.
//! - An unknown identity whose head matches content already read is that content again: a
//!   renamed-and-copied or compressed rotation. It is read only from where the old stream
//!   stopped (nothing twice, nothing lost), and a copy of a file still open and untruncated is
//!   not read at all. `.gz` files are recognised by magic and compared decompressed.
//! - At start-up every matching file is history and is read in full (or skipped to its end with
//!   `from_end`), exactly as `analyze` would read it: no de-duplication among the initial set.

mod discover;

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::model::SourceId;

use super::identity::{self, FileId, HEAD_BYTES};

/// Known contents remembered for recognition (oldest forgotten first).
const KNOWN_CAP: usize = 1024;
/// Last bytes read from each plain file (until it has been quiet for `rotate_wait`), kept so
/// that bytes a truncation destroys before its copy held them (copytruncate's race) can still
/// be named (`Incident::LiveOnly`).
pub const TAIL_KEEP: usize = 64 * 1024;

/// Why a stream starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenReason {
    /// Present when following started.
    Initial,
    /// Appeared while following (new file, recreated file, the new file after a rotation).
    Appeared,
    /// The same file after a truncation: its new content.
    Truncated,
}

/// Something that happened to a source, reported once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incident {
    /// The file left the name it was found under: renamed to `to`, or renamed out of the
    /// pattern / deleted (`to` = `None`). Still read until quiet.
    Rotated { stream: SourceId, from: PathBuf, to: Option<PathBuf> },
    /// The file shrank below what was read, or its head changed. `read` bytes were consumed
    /// from the old content; the file now holds `size` bytes of new content.
    Truncated { stream: SourceId, path: PathBuf, read: u64, size: u64 },
    /// A new name holds content already read (a copy or a compressed rotation): only `extra`
    /// bytes past what `stream` had read are new.
    Recognized { stream: SourceId, path: PathBuf, extra: u64 },
    /// The file could not be read; `stream` is `None` when it never got that far.
    Error { stream: Option<SourceId>, path: PathBuf, reason: String },
    /// A previously failing file or pattern reads again.
    Recovered { stream: Option<SourceId>, path: PathBuf },
    /// Bytes `from..to` of `stream` were read live from `path` before it was truncated, and
    /// its rotated copy `copy` does not hold them: copytruncate lost them between its copy and
    /// its truncation, so this record is the only one. `first_line` is the line number
    /// (counted from one) of the first of them; `bytes` is their content, at most the last
    /// `TAIL_KEEP` bytes (`from` is then past the start of what was lost, see `lost_before`).
    LiveOnly {
        stream: SourceId,
        path: PathBuf,
        copy: PathBuf,
        from: u64,
        to: u64,
        first_line: u64,
        /// Bytes lost before `from` that were read but not kept (0 when all are kept).
        lost_before: u64,
        bytes: Vec<u8>,
    },
    /// Records `stream` should have held are not in the live result (a database source's
    /// rows written too late to be polled): recorded as a closed `source_error` gap.
    Missed { stream: SourceId, path: PathBuf, reason: String },
    /// Following stopped with bytes `read..size` of `path` not read (a backlog the stop cut
    /// short): they are not in the analysis.
    Unread { stream: SourceId, path: PathBuf, read: u64, size: u64 },
}

/// Receives what the tailer reads. Called from the follower's thread.
pub trait TailSink {
    /// A new stream begins; return the id its bytes will carry.
    fn open(&mut self, path: &Path, reason: OpenReason) -> SourceId;
    /// The next bytes of `stream`, in order, each byte exactly once.
    fn data(&mut self, stream: SourceId, bytes: &[u8]);
    /// `stream` has no more bytes (a rotated file closed after `rotate_wait`, a whole archive).
    fn end(&mut self, stream: SourceId);
    fn incident(&mut self, incident: Incident);
    /// Everything `stream` read is exactly the whole content of a file as it is now (read
    /// from its first byte to its size): the SHA-256 (hex) of its stored bytes, as `analyze`
    /// records it. Never sent for content read only in part.
    fn hashed(&mut self, stream: SourceId, sha256: String) {
        let _ = (stream, sha256);
    }
    /// `stream` was read to the end of its file as it is now, after new bytes: the SHA-256
    /// (hex) of everything it read when read from the first byte (then the file's bytes as
    /// stored), else `None`. Sent once per growth, before the next bytes.
    fn read_to_end(&mut self, stream: SourceId, sha256: Option<String>) {
        let _ = (stream, sha256);
    }
    /// May this tailer read the file `id` as new content? Followers of overlapping globs
    /// share a claim set so a file is read once per kind, as `analyze` reads it once.
    fn claim(&mut self, id: FileId) -> bool {
        let _ = id;
        true
    }
    /// The tailer closed file `id` (its inode number may be reused by another file).
    fn release(&mut self, id: FileId) {
        let _ = id;
    }
}

#[derive(Debug, Clone)]
pub struct TailerOptions {
    /// Start initial files at their end (history is not read).
    pub from_end: bool,
    /// A renamed or deleted file is closed after this long without new bytes.
    pub rotate_wait: Duration,
    /// Read buffer size in bytes.
    pub chunk: usize,
    /// Bytes read from one file per cycle before moving on (fairness across files).
    pub budget: u64,
}

impl Default for TailerOptions {
    fn default() -> Self {
        TailerOptions {
            from_end: false,
            rotate_wait: Duration::from_secs(5),
            chunk: 256 * 1024,
            budget: 8 * 1024 * 1024,
        }
    }
}

/// A file being read.
#[derive(Debug)]
struct OpenFile {
    id: FileId,
    path: PathBuf,
    file: File,
    stream: SourceId,
    /// Bytes of the current content consumed.
    offset: u64,
    /// `content[..min(offset, HEAD_BYTES)]`.
    head: Vec<u8>,
    /// The last bytes read (`content[tail_start..offset]`, at most about `2 * TAIL_KEEP`).
    tail: Vec<u8>,
    /// Line ends in `content[..offset]`: LFs, or in a CR-only file CRs (the same rule as
    /// the parsers: `ingest::line_end_of` of the head).
    newlines: u64,
    /// The content's line end, once its head decides it.
    line_end: Option<u8>,
    /// What was read so far ends with a CR while the line end is undecided (the first CR
    /// of a CR-only file, counted once the next byte decides it).
    ends_with_cr: bool,
    /// SHA-256 of `content[..offset]` when read from the first byte (not `from_end`).
    sha: Option<Sha256>,
    /// Bytes were read since the file was last read to its end (`TailSink::read_to_end`).
    grown: bool,
    /// When the file was found to have left its name; it closes once quiet after that.
    left_at: Option<Instant>,
    last_data: Instant,
    failing: bool,
}

impl OpenFile {
    /// A file read from `offset` with no content consumed yet before it (`offset` = 0) or
    /// skipped (`from_end`).
    fn new(
        (id, path, file): (FileId, &Path, File),
        stream: SourceId,
        start: (u64, Vec<u8>),
        now: Instant,
    ) -> Self {
        OpenFile {
            id,
            path: path.to_path_buf(),
            file,
            stream,
            offset: start.0,
            head: start.1,
            tail: Vec::new(),
            newlines: 0,
            line_end: None,
            ends_with_cr: false,
            sha: (start.0 == 0).then(Sha256::new),
            grown: false,
            left_at: None,
            last_data: now,
            failing: false,
        }
    }

    /// Bytes a truncation can destroy before a copy holds them were read after the copy
    /// began, and a copy + truncate is quick: once quiet for `wait`, the tail is dropped (a
    /// glob over many idle files keeps no tail for each).
    fn forget_tail(&mut self, now: Instant, wait: Duration) {
        if !self.tail.is_empty() && now.saturating_duration_since(self.last_data) >= wait {
            self.tail = Vec::new();
        }
    }

    /// `Incident::Hashed` when what was read is the whole file as it is now.
    fn report_hash(&self, size: u64, sink: &mut dyn TailSink) {
        if let Some(sha) = self.sha.as_ref().filter(|_| size == self.offset) {
            sink.hashed(self.stream, hex::encode(sha.clone().finalize()));
        }
    }

    /// What a candidate copy is compared with: the head read, or while less than
    /// `HEAD_BYTES` has been read, the head on disk now (a copy found before the bytes it
    /// copied were read, in the same discovery that found the file, say).
    fn match_head(&self) -> std::borrow::Cow<'_, [u8]> {
        if self.head.len() < HEAD_BYTES {
            if let Ok(now) = identity::read_prefix_at(&self.file, HEAD_BYTES) {
                if now.starts_with(&self.head) {
                    return std::borrow::Cow::Owned(now);
                }
            }
        }
        std::borrow::Cow::Borrowed(&self.head)
    }

    /// Account for `bytes` just read at `offset`.
    fn consumed(&mut self, bytes: &[u8]) {
        if self.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
        }
        if self.line_end.is_none() {
            self.line_end = crate::ingest::line_end_of(&self.head);
            if self.line_end == Some(b'\r') && self.ends_with_cr {
                self.newlines += 1;
            }
            self.ends_with_cr = bytes.last() == Some(&b'\r');
        }
        let end = self.line_end.unwrap_or(b'\n');
        self.newlines += memchr::memchr_iter(end, bytes).count() as u64;
        if let Some(sha) = self.sha.as_mut() {
            sha.update(bytes);
        }
        self.grown = true;
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > 2 * TAIL_KEEP {
            let cut = self.tail.len() - TAIL_KEEP;
            self.tail.drain(..cut);
        }
        self.offset += bytes.len() as u64;
    }
}

/// Content already consumed whose file is closed (or whose inode now holds new content).
#[derive(Debug)]
struct Known {
    /// The inode that still holds exactly this content, if any.
    id: Option<FileId>,
    head: Vec<u8>,
    read: u64,
    stream: SourceId,
    /// File size when it was closed (a reappearing inode with the same size has nothing new).
    size: u64,
    /// Set when the content was destroyed by a truncation (copytruncate): a rotated copy is
    /// then complete, and bytes read that it lacks exist only in this record.
    truncated: Option<Truncation>,
    /// Line ends in `content[..read]` (line numbers of what follows; see `OpenFile`).
    newlines: u64,
    /// SHA-256 of `content[..read]`, when read from the first byte.
    sha: Option<Sha256>,
}

/// What a truncated file's reader still knows of the content the truncation destroyed.
#[derive(Debug)]
struct Truncation {
    path: PathBuf,
    /// The last bytes read: `content[read - tail.len()..read]`.
    tail: Vec<u8>,
    /// A shorter copy was found and reported (`Incident::LiveOnly`) already.
    reported: bool,
}

impl Known {
    fn closed(f: OpenFile, size: u64) -> Known {
        Known {
            id: Some(f.id),
            head: f.head,
            read: f.offset,
            stream: f.stream,
            size,
            truncated: None,
            newlines: f.newlines,
            sha: f.sha,
        }
    }

    /// A rotated copy holds `len` bytes of this content: when the original was truncated and
    /// the copy ends before what was read, report the bytes only this record holds (once).
    fn check_copy(&mut self, copy: &Path, len: u64, sink: &mut dyn TailSink) {
        let Some(t) = self.truncated.as_mut() else { return };
        if t.reported || len >= self.read {
            return;
        }
        t.reported = true;
        let tail_start = self.read - t.tail.len() as u64;
        let from = len.max(tail_start);
        let bytes = t.tail[(from - tail_start) as usize..].to_vec();
        let end = crate::ingest::line_end_of(&self.head).unwrap_or(b'\n');
        let after = memchr::memchr_iter(end, &bytes).count() as u64;
        // The first lost line is the one holding byte `len` (a copy may end mid-line).
        let first_line = self.newlines - after + 1;
        sink.incident(Incident::LiveOnly {
            stream: self.stream,
            path: t.path.clone(),
            copy: copy.to_path_buf(),
            from,
            to: self.read,
            first_line,
            lost_before: from - len,
            bytes,
        });
    }
}

impl OpenFile {
    /// Re-open a closed file whose content was already partly read (same stream, continue at
    /// the known offset). It has left its name, so it closes once quiet.
    fn resume(id: FileId, path: &std::path::Path, file: File, k: Known, now: Instant) -> Self {
        let tail = k.truncated.map(|t| t.tail).unwrap_or_default();
        let newlines = k.newlines;
        let sha = k.sha;
        let line_end = crate::ingest::line_end_of(&k.head);
        let ends_with_cr = line_end.is_none() && tail.last() == Some(&b'\r');
        OpenFile {
            id,
            path: path.to_path_buf(),
            file,
            stream: k.stream,
            offset: k.read,
            head: k.head,
            tail,
            newlines,
            line_end,
            ends_with_cr,
            sha,
            grown: false,
            left_at: Some(now),
            last_data: now,
            failing: false,
        }
    }
}

/// A file found by discovery, not yet classified.
#[derive(Debug, Clone, Copy)]
struct Found<'a> {
    path: &'a Path,
    id: FileId,
    size: u64,
    file: &'a File,
    head: &'a [u8],
}

/// Identities deliberately not read (re-examined when their size changes).
#[derive(Debug)]
enum Hold {
    /// A copy of an open, untruncated stream.
    CopyOf(SourceId),
    /// Already-read content, recognised.
    Recognized,
    /// Empty, or too short to tell whether it is a copy (of the open stream `of`, if any);
    /// decided when it grows, when `of` is truncated or closed, or at `until`.
    Undecided { until: Instant, of: Option<SourceId> },
    /// An archive still being written; one unchanged until `until` is cut (an error).
    GzPending { until: Instant },
    /// Read by another follower (overlapping globs).
    Elsewhere,
    /// Failed to open or read, not reported yet: a rotation in flight (a file renamed or
    /// deleted between listing and reading, an archive being written) looks like this.
    /// Retried when its size changes; reported only if it still fails at `until`.
    Retry { until: Instant },
    /// Failed, and reported (once per reason); retried from `until`.
    Failed { until: Instant },
}

impl Hold {
    /// A copy (or possible copy) of the open stream `s`: to re-examine once `s` is truncated
    /// or closed, when it becomes known content.
    fn waits_on(&self, s: SourceId) -> bool {
        matches!(self, Hold::CopyOf(o) | Hold::Undecided { of: Some(o), .. } if *o == s)
    }
}

/// Follows every file matching one glob pattern.
#[derive(Debug)]
pub struct Tailer {
    pattern: String,
    options: TailerOptions,
    open: Vec<OpenFile>,
    known: Vec<Known>,
    held: HashMap<FileId, (Hold, u64)>,
    /// Paths (or the pattern itself) currently reported as failing, with the reason.
    path_errors: HashMap<PathBuf, String>,
    started: bool,
    rescan: bool,
    buf: Vec<u8>,
    /// Set by the owner to cut a cycle short (a stop): reads end after the current chunk.
    interrupt: Option<Arc<AtomicBool>>,
}

/// What a cycle left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cycle {
    /// A file still had bytes when its budget ran out: poll again right away.
    pub more: bool,
    /// Discovery should run on the next cycle (a truncation released held copies).
    pub rescan: bool,
}

impl Tailer {
    #[must_use]
    pub fn new(pattern: impl Into<String>, options: TailerOptions) -> Self {
        let chunk = options.chunk.max(4096);
        Tailer {
            pattern: pattern.into(),
            options,
            open: Vec::new(),
            known: Vec::new(),
            held: HashMap::new(),
            path_errors: HashMap::new(),
            started: false,
            rescan: false,
            buf: vec![0; chunk],
            interrupt: None,
        }
    }

    /// Once `flag` is set, a cycle stops reading after the chunk in hand (the files keep
    /// their place; `None`: never cut short).
    pub fn set_interrupt(&mut self, flag: Option<Arc<AtomicBool>>) {
        self.interrupt = flag;
    }

    #[must_use]
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Files currently open (including rotated ones still draining).
    #[must_use]
    pub fn open_files(&self) -> usize {
        self.open.len()
    }

    /// One cycle: discovery over the glob when `discover` (always on the first cycle), then
    /// read every open file up to its budget.
    pub fn poll(&mut self, now: Instant, discover: bool, sink: &mut dyn TailSink) -> Cycle {
        if discover || !self.started || self.rescan {
            // Truncations first: a copy found by this discovery is then compared with the
            // content the truncation destroyed, not with the file's new content.
            for i in 0..self.open.len() {
                self.handle_truncation(i, sink);
            }
            self.rescan = false;
            self.discover(now, sink);
            self.started = true;
        }
        let mut more = false;
        let mut i = 0;
        while i < self.open.len() {
            more |= self.read_file(i, now, sink);
            self.open[i].forget_tail(now, self.options.rotate_wait);
            if self.should_close(i, now) {
                self.close(i, sink);
            } else {
                i += 1;
            }
        }
        Cycle { more, rescan: self.rescan }
    }

    /// At the end of following: the files still open whose whole content was read report
    /// their hash (`Incident::Hashed`), as `analyze` would record it now.
    /// Files with bytes not read yet report them (`Incident::Unread`).
    pub fn finish(&mut self, sink: &mut dyn TailSink) {
        for f in &self.open {
            if let Ok(m) = f.file.metadata() {
                f.report_hash(m.len(), sink);
                if m.len() > f.offset {
                    sink.incident(Incident::Unread {
                        stream: f.stream,
                        path: f.path.clone(),
                        read: f.offset,
                        size: m.len(),
                    });
                }
            }
        }
    }

    /// Bytes of the open files not read yet (each file's size now past what was read; one
    /// `stat` per open file): how far behind the writers this tailer is.
    #[must_use]
    pub fn behind(&self) -> u64 {
        self.open
            .iter()
            .filter_map(|f| f.file.metadata().ok().map(|m| m.len().saturating_sub(f.offset)))
            .sum()
    }

    /// Only the first cycle's discovery; the files found are opened but nothing is read.
    /// The session uses it to register the initial sources in a deterministic order.
    pub fn discover_initial(&mut self, now: Instant, sink: &mut dyn TailSink) {
        if !self.started {
            self.discover(now, sink);
            self.started = true;
        }
    }

    /// When file `i` no longer holds the content read so far, remember that content (a copy
    /// may show up) and start a new stream for the new content.
    fn handle_truncation(&mut self, i: usize, sink: &mut dyn TailSink) {
        let Some(size) = self.check_truncation(i, sink) else { return };
        let f = &mut self.open[i];
        let old = f.stream;
        let read = f.offset;
        let head = std::mem::take(&mut f.head);
        let tail = std::mem::take(&mut f.tail);
        let newlines = std::mem::replace(&mut f.newlines, 0);
        (f.line_end, f.ends_with_cr) = (None, false);
        let sha = f.sha.replace(Sha256::new());
        let path = f.path.clone();
        sink.incident(Incident::Truncated { stream: old, path: path.clone(), read, size });
        f.stream = sink.open(&path, OpenReason::Truncated);
        f.offset = 0;
        let truncated = Some(Truncation { path, tail, reported: false });
        self.remember(Known {
            id: None,
            head,
            read,
            stream: old,
            size: read,
            truncated,
            newlines,
            sha,
        });
        // Copies held back as "copy of an open file" may now hold the old content's tail.
        self.held.retain(|_, (h, _)| !h.waits_on(old));
        self.rescan = true;
    }

    /// Read file `i` to its end or budget; `true` when bytes remain.
    fn read_file(&mut self, i: usize, now: Instant, sink: &mut dyn TailSink) -> bool {
        self.handle_truncation(i, sink);
        let f = &mut self.open[i];
        let mut budget = self.options.budget;
        loop {
            match f.file.read_at(&mut self.buf, f.offset) {
                Ok(0) => {
                    if std::mem::take(&mut f.grown) {
                        let sha = f.sha.as_ref().map(|s| hex::encode(s.clone().finalize()));
                        sink.read_to_end(f.stream, sha);
                    }
                    return false;
                }
                Ok(n) => {
                    let bytes = &self.buf[..n];
                    sink.data(f.stream, bytes);
                    f.consumed(bytes);
                    f.last_data = now;
                    if f.failing {
                        f.failing = false;
                        let path = f.path.clone();
                        sink.incident(Incident::Recovered { stream: Some(f.stream), path });
                    }
                    budget = budget.saturating_sub(n as u64);
                    let interrupted =
                        self.interrupt.as_ref().is_some_and(|f| f.load(Ordering::Relaxed));
                    if budget == 0 || interrupted {
                        return true;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if !f.failing {
                        f.failing = true;
                        sink.incident(Incident::Error {
                            stream: Some(f.stream),
                            path: f.path.clone(),
                            reason: e.to_string(),
                        });
                    }
                    return false;
                }
            }
        }
    }

    /// `Some(new size)` when file `i` no longer holds the content read so far.
    fn check_truncation(&self, i: usize, sink: &mut dyn TailSink) -> Option<u64> {
        let f = &self.open[i];
        let size = match f.file.metadata() {
            Ok(m) => m.len(),
            Err(e) => {
                let path = f.path.clone();
                let reason = e.to_string();
                sink.incident(Incident::Error { stream: Some(f.stream), path, reason });
                return None;
            }
        };
        if size < f.offset {
            return Some(size);
        }
        if f.head.is_empty() {
            return None;
        }
        match identity::read_prefix_at(&f.file, f.head.len()) {
            Ok(now_head) if now_head != f.head => Some(size),
            _ => None,
        }
    }

    fn should_close(&self, i: usize, now: Instant) -> bool {
        let f = &self.open[i];
        f.left_at.is_some_and(|left| {
            now.saturating_duration_since(left.max(f.last_data)) >= self.options.rotate_wait
        })
    }

    fn close(&mut self, i: usize, sink: &mut dyn TailSink) {
        let f = self.open.remove(i);
        sink.end(f.stream);
        sink.release(f.id);
        let size = f.file.metadata().map_or(f.offset, |m| m.len());
        f.report_hash(size, sink);
        let stream = f.stream;
        self.remember(Known::closed(f, size));
        // Copies held back while it was open are now copies of known content.
        if self.held.values().any(|(h, _)| h.waits_on(stream)) {
            self.held.retain(|_, (h, _)| !h.waits_on(stream));
            self.rescan = true;
        }
    }

    fn remember(&mut self, known: Known) {
        if self.known.len() >= KNOWN_CAP {
            self.known.remove(0);
        }
        self.known.push(known);
    }

    /// A file could not be opened or read. The first time, it is only held for a retry
    /// (rotation moves and rewrites files under our feet: a transient state is no error);
    /// when it still fails after waiting (`retried`), it is reported once per reason.
    #[allow(clippy::too_many_arguments)]
    fn fail(
        &mut self,
        path: &Path,
        id: FileId,
        size: u64,
        reason: String,
        retried: bool,
        now: Instant,
        sink: &mut dyn TailSink,
    ) {
        let until = now + self.options.rotate_wait.max(Duration::from_secs(1));
        if retried {
            self.report_path_error(path.to_path_buf(), None, reason, sink);
            self.held.insert(id, (Hold::Failed { until }, size));
        } else {
            self.held.insert(id, (Hold::Retry { until }, size));
        }
    }

    fn report_path_error(
        &mut self,
        path: PathBuf,
        stream: Option<SourceId>,
        reason: String,
        sink: &mut dyn TailSink,
    ) {
        if self.path_errors.get(&path) != Some(&reason) {
            self.path_errors.insert(path.clone(), reason.clone());
            sink.incident(Incident::Error { stream, path, reason });
        }
    }

    fn clear_error(&mut self, path: &Path, stream: Option<SourceId>, sink: &mut dyn TailSink) {
        if self.path_errors.remove(path).is_some() {
            sink.incident(Incident::Recovered { stream, path: path.to_path_buf() });
        }
    }
}

/// The longest leading part of `pattern` without glob metacharacters, cut at a directory
/// boundary: the directory to watch. Empty when the pattern is relative with a glob first.
#[must_use]
pub fn literal_base(pattern: &str) -> PathBuf {
    let path = Path::new(pattern);
    let mut base = PathBuf::new();
    let comps: Vec<_> = path.components().collect();
    for (n, c) in comps.iter().enumerate() {
        let s = c.as_os_str().to_string_lossy();
        if s.contains(['*', '?', '[']) || n + 1 == comps.len() {
            break;
        }
        base.push(c);
    }
    base
}

/// `true` when glob metacharacters occur in a directory component (watch recursively).
#[must_use]
pub fn globs_directories(pattern: &str) -> bool {
    match pattern.rfind('/') {
        Some(i) => pattern[..i].contains(['*', '?', '[']),
        None => false,
    }
}
