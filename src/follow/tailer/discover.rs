//! Discovery: list the glob, and decide for every file found whether it is a file already
//! open (perhaps renamed), content already read (a copy, a compressed rotation, a closed file
//! that grew), something to wait for (a short file that may be a copy in progress, an archive
//! still being written, a failing file), or new content to read from its start.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::super::identity::{self, FileId, GzScan, HeadMatch};
use super::{Found, Hold, Incident, Known, OpenFile, OpenReason, TailSink, Tailer, literal_base};

impl Tailer {
    pub(super) fn discover(&mut self, now: Instant, sink: &mut dyn TailSink) {
        let initial = !self.started;
        let paths = match self.list() {
            Ok(paths) => {
                let key = PathBuf::from(&self.pattern);
                self.clear_error(&key, None, sink);
                paths
            }
            Err(reason) => {
                let key = PathBuf::from(&self.pattern);
                self.report_path_error(key, None, reason, sink);
                return;
            }
        };
        let mut seen: HashSet<FileId> = HashSet::with_capacity(paths.len());
        let mut listed: HashSet<PathBuf> = HashSet::with_capacity(paths.len());
        for path in paths {
            let meta = match fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    // Vanished between listing and stat: not an error.
                    if e.kind() != io::ErrorKind::NotFound {
                        self.report_path_error(path, None, e.to_string(), sink);
                    }
                    continue;
                }
            };
            if !meta.is_file() && !meta.is_dir() {
                let reason = "not a regular file (FIFO, socket or device): not followed";
                self.report_path_error(path, None, reason.to_owned(), sink);
                continue;
            }
            let id = FileId::of(&meta);
            let failing = matches!(self.held.get(&id), Some((Hold::Failed { .. }, _)));
            if meta.is_file() && !failing {
                self.clear_error(&path, None, sink);
            }
            listed.insert(path.clone());
            seen.insert(id);
            self.examine(&path, id, meta.len(), initial, now, sink);
        }
        for f in &mut self.open {
            if f.left_at.is_none() && !seen.contains(&f.id) {
                f.left_at = Some(now);
                let from = f.path.clone();
                sink.incident(Incident::Rotated { stream: f.stream, from, to: None });
            }
        }
        self.held.retain(|id, _| seen.contains(id));
        // A failing path that is gone no longer fails.
        let pattern = PathBuf::from(&self.pattern);
        let gone: Vec<PathBuf> = self
            .path_errors
            .keys()
            .filter(|p| **p != pattern && !listed.contains(*p))
            .cloned()
            .collect();
        for path in gone {
            self.clear_error(&path, None, sink);
        }
    }

    /// The glob's current matches, sorted; an error when the pattern's directory is unreadable.
    fn list(&self) -> Result<Vec<PathBuf>, String> {
        // The shared expansion: no walk through a directory symlink cycle.
        let mut out = crate::ingest::expand::expand_glob(&self.pattern).map_err(|e| match e {
            crate::ingest::expand::ExpandError::Pattern { message, .. } => {
                format!("bad pattern: {message}")
            }
            e @ crate::ingest::expand::ExpandError::Io { .. } => e.to_string(),
        })?;
        let base = literal_base(&self.pattern);
        if out.is_empty() && !base.as_os_str().is_empty() && !base.is_dir() {
            return Err(format!("directory {} does not exist", base.display()));
        }
        out.sort();
        Ok(out)
    }

    fn examine(
        &mut self,
        path: &Path,
        id: FileId,
        size: u64,
        initial: bool,
        now: Instant,
        sink: &mut dyn TailSink,
    ) {
        if let Some(f) = self.open.iter_mut().find(|f| f.id == id) {
            if f.path != path {
                let from = std::mem::replace(&mut f.path, path.to_path_buf());
                if f.left_at.is_none() {
                    f.left_at = Some(now);
                    let to = Some(path.to_path_buf());
                    sink.incident(Incident::Rotated { stream: f.stream, from, to });
                }
            }
            return;
        }
        if let Some((hold, held_size)) = self.held.get(&id) {
            let expired = match hold {
                Hold::Undecided { until, .. }
                | Hold::Failed { until }
                | Hold::Retry { until }
                | Hold::GzPending { until } => now >= *until,
                Hold::CopyOf(_) | Hold::Recognized | Hold::Elsewhere => false,
            };
            if *held_size == size && !expired {
                return;
            }
            self.held.remove(&id);
            if expired {
                // Waited long enough for a short file to show whether it is a copy, for an
                // archive to be finished, or to retry a failing file.
                self.examine_new(path, id, size, initial, now, true, sink);
                return;
            }
        }
        if let Some(k) = self.known.iter().position(|k| k.id == Some(id)) {
            if self.known[k].size == size {
                return;
            }
            // The closed inode changed: more content, or the inode now holds another file.
            match File::open(path).and_then(|file| Ok((identity::plain_head(&file)?, file))) {
                Ok((head, file)) if identity::heads_match(&self.known[k].head, &head) => {
                    let k = self.known.remove(k);
                    if size > k.read {
                        self.open.push(OpenFile::resume(id, path, file, k, now));
                    } else {
                        self.known.push(Known { size, ..k });
                    }
                    return;
                }
                // Renamed or deleted since it was listed: the next discovery sees where.
                Err(e) if e.kind() == io::ErrorKind::NotFound => return,
                _ => self.known[k].id = None,
            }
        }
        self.examine_new(path, id, size, initial, now, false, sink);
    }

    /// An identity never seen (or whose old content is gone). `waited` is set once a short
    /// file, an unfinished archive or a failing file has waited its turn: then it is new
    /// content unless it matches, a cut archive, or an error to report.
    #[allow(clippy::too_many_arguments)]
    fn examine_new(
        &mut self,
        path: &Path,
        id: FileId,
        size: u64,
        initial: bool,
        now: Instant,
        waited: bool,
        sink: &mut dyn TailSink,
    ) {
        let opened = File::open(path).and_then(|f| Ok((identity::plain_head(&f)?, f)));
        let (head, file) = match opened {
            Ok(x) => x,
            // Renamed or deleted between listing and opening: a rotation in flight.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(e) => {
                // A directory where a file is expected is no rotation in flight.
                let lasting = waited || e.kind() == io::ErrorKind::IsADirectory;
                self.fail(path, id, size, e.to_string(), lasting, now, sink);
                return;
            }
        };
        self.clear_error(path, None, sink);
        let magic = &crate::ingest::source::GZIP_MAGIC;
        if !head.is_empty() && head.len() < magic.len() && magic.starts_with(&head) {
            // The first byte of an archive being written.
            let until = now + self.options.rotate_wait;
            self.held.insert(id, (Hold::GzPending { until }, size));
            return;
        }
        if head.starts_with(magic) {
            self.examine_gz(
                &Found { path, id, size, file: &file, head: &head },
                initial,
                now,
                waited,
                sink,
            );
            return;
        }
        if !initial {
            let found = Found { path, id, size, file: &file, head: &head };
            match self.classify(&found, size, false, now, waited, sink) {
                Verdict::Hold(hold) => {
                    self.held.insert(id, (hold, size));
                    return;
                }
                Verdict::Known(k) => {
                    let k = *k;
                    if size > k.read {
                        match file.try_clone() {
                            Ok(file) => self.open.push(OpenFile::resume(id, path, file, k, now)),
                            Err(e) => {
                                self.known.push(Known { id: Some(id), size, ..k });
                                self.fail(path, id, size, e.to_string(), waited, now, sink);
                            }
                        }
                    } else {
                        self.known.push(Known { id: Some(id), size, ..k });
                        self.held.insert(id, (Hold::Recognized, size));
                    }
                    return;
                }
                Verdict::New => {}
            }
        }
        let Some(stream) = self.claim_and_open(path, id, size, initial, sink) else { return };
        let start = if initial && self.options.from_end { (size, head) } else { (0, Vec::new()) };
        self.open.push(OpenFile::new((id, path, file), stream, start, now));
    }

    /// Decide whether a new file (plain, or a complete archive: `complete`) of content length
    /// `len` is content already read. `Known` is that content (taken out of the list, already
    /// reported as recognised); a copy of a file still open is held until that file is
    /// truncated or closed, when its content becomes known.
    #[allow(clippy::too_many_arguments)]
    fn classify(
        &mut self,
        found: &Found<'_>,
        len: u64,
        complete: bool,
        now: Instant,
        waited: bool,
        sink: &mut dyn TailSink,
    ) -> Verdict {
        let Found { path, head, .. } = *found;
        let until = now + self.options.rotate_wait;
        if head.is_empty() {
            return Verdict::Hold(Hold::Undecided { until, of: None });
        }
        // A complete archive whose whole content is a prefix of what was read is a copy made
        // before the original grew (or lost bytes to copytruncate's race).
        let final_prefix = |known: &[u8], truncated: bool| {
            head.len() < known.len()
                && head.len() >= identity::MIN_MATCH
                && known.starts_with(head)
                && (complete || truncated)
        };
        let mut unsure_of = None;
        let mut unsure = false;
        for f in &self.open {
            let known = f.match_head();
            match identity::compare_heads(&known, head) {
                HeadMatch::Same => return Verdict::Hold(Hold::CopyOf(f.stream)),
                _ if final_prefix(&known, false) => return Verdict::Hold(Hold::CopyOf(f.stream)),
                HeadMatch::Undecided => {
                    unsure = true;
                    unsure_of.get_or_insert(f.stream);
                }
                HeadMatch::Different => {}
            }
        }
        let mut k_same = None;
        for (i, k) in self.known.iter().enumerate() {
            match identity::compare_heads(&k.head, head) {
                HeadMatch::Same => {
                    k_same = Some(i);
                    break;
                }
                _ if final_prefix(&k.head, k.truncated.is_some()) => {
                    k_same = Some(i);
                    break;
                }
                HeadMatch::Undecided => unsure = true,
                HeadMatch::Different => {}
            }
        }
        if let Some(i) = k_same {
            let mut k = self.known.remove(i);
            let extra = len.saturating_sub(k.read);
            sink.incident(Incident::Recognized {
                stream: k.stream,
                path: path.to_path_buf(),
                extra,
            });
            k.check_copy(path, len, sink);
            return Verdict::Known(Box::new(k));
        }
        if unsure && !waited {
            return Verdict::Hold(Hold::Undecided { until, of: unsure_of });
        }
        Verdict::New
    }

    /// Open a new file as a stream, unless another tailer claimed its identity first (then it
    /// is held as `Elsewhere` and `None` is returned).
    fn claim_and_open(
        &mut self,
        path: &Path,
        id: FileId,
        size: u64,
        initial: bool,
        sink: &mut dyn TailSink,
    ) -> Option<crate::model::SourceId> {
        if !sink.claim(id) {
            self.held.insert(id, (Hold::Elsewhere, size));
            return None;
        }
        let reason = if initial { OpenReason::Initial } else { OpenReason::Appeared };
        Some(sink.open(path, reason))
    }

    /// A compressed file, read through the descriptor already open (a rename or delete in
    /// flight does not matter): compared decompressed; new content is read whole, once. An
    /// archive still being written waits; one that stops growing unfinished is an error.
    fn examine_gz(
        &mut self,
        found: &Found<'_>,
        initial: bool,
        now: Instant,
        waited: bool,
        sink: &mut dyn TailSink,
    ) {
        let Found { path, id, size, file, .. } = *found;
        let (head, len) = match identity::gz_scan_file(file) {
            Ok(GzScan::Complete { head, len }) => (head, len),
            Ok(GzScan::Incomplete { head })
                if !waited || head.is_empty() || self.relates_to_read(&head) =>
            {
                // Still being written; or stalled, but what it holds so far is nothing yet or
                // content already read (its compression is only late): nothing is missing.
                let until = now + self.options.rotate_wait;
                self.held.insert(id, (Hold::GzPending { until }, size));
                return;
            }
            Ok(GzScan::Incomplete { .. }) => {
                let reason = format!(
                    "gzip archive ends early and has not grown for {} s (cut, or its writer \
                     stopped); not read",
                    self.options.rotate_wait.as_secs()
                );
                self.fail(path, id, size, reason, true, now, sink);
                return;
            }
            Err(e) => {
                let reason = format!("not a readable gzip archive: {e}");
                self.fail(path, id, size, reason, waited, now, sink);
                return;
            }
        };
        if !initial {
            let candidate = Found { head: &head, ..*found };
            match self.classify(&candidate, len, true, now, waited, sink) {
                Verdict::Hold(hold) => {
                    self.held.insert(id, (hold, size));
                    return;
                }
                Verdict::Known(k) => {
                    let mut k = *k;
                    if len > k.read {
                        let (stream, mut newlines) = (k.stream, 0);
                        let read = identity::gz_stream_file(file, k.read, |c| {
                            newlines += memchr::memchr_iter(b'\n', c).count() as u64;
                            sink.data(stream, c);
                        });
                        if let Err(e) = read {
                            let reason = format!("gzip archive unreadable part-way: {e}");
                            let path = path.to_path_buf();
                            sink.incident(Incident::Error { stream: Some(stream), path, reason });
                        }
                        k.read = len;
                        k.newlines += newlines;
                    }
                    self.remember(k);
                    self.held.insert(id, (Hold::Recognized, size));
                    return;
                }
                Verdict::New => {}
            }
        }
        let Some(stream) = self.claim_and_open(path, id, size, initial, sink) else { return };
        let mut newlines = 0;
        if !(initial && self.options.from_end) {
            let read = identity::gz_stream_file(file, 0, |c| {
                newlines += memchr::memchr_iter(b'\n', c).count() as u64;
                sink.data(stream, c);
            });
            if let Err(e) = read {
                let reason = format!("gzip archive unreadable part-way: {e}");
                sink.incident(Incident::Error {
                    stream: Some(stream),
                    path: path.to_path_buf(),
                    reason,
                });
            }
        }
        let sha256 = identity::sha256_of(file).ok();
        if !(initial && self.options.from_end) {
            sink.read_to_end(stream, sha256.clone());
        }
        if let Some(sha256) = sha256 {
            sink.hashed(stream, sha256);
        }
        sink.end(stream);
        sink.release(id);
        self.remember(Known {
            id: Some(id),
            head,
            read: len,
            stream,
            size,
            truncated: None,
            newlines,
            sha: None,
        });
    }
}

impl Tailer {
    /// `true` when `head` may be (part of) content already read or being read.
    fn relates_to_read(&self, head: &[u8]) -> bool {
        let related = |known: &[u8]| identity::compare_heads(known, head) != HeadMatch::Different;
        self.open.iter().any(|f| related(&f.match_head()))
            || self.known.iter().any(|k| related(&k.head))
    }
}

/// What `classify` decided.
enum Verdict {
    Hold(Hold),
    /// Content already read (the caller reads what it holds beyond `read`).
    Known(Box<Known>),
    New,
}
