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
            let expired =
                matches!(hold, Hold::Undecided { until } | Hold::Failed { until } if now >= *until);
            if *held_size == size && !expired {
                return;
            }
            self.held.remove(&id);
            if expired {
                // Waited long enough for a short file to show whether it is a copy, or time
                // to retry a failing one.
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
                _ => self.known[k].id = None,
            }
        }
        self.examine_new(path, id, size, initial, now, false, sink);
    }

    /// An identity never seen (or whose old content is gone). `decide_now` is set once a
    /// short file has waited its turn: then it is new content unless it matches.
    #[allow(clippy::too_many_arguments)]
    fn examine_new(
        &mut self,
        path: &Path,
        id: FileId,
        size: u64,
        initial: bool,
        now: Instant,
        decide_now: bool,
        sink: &mut dyn TailSink,
    ) {
        let opened = File::open(path).and_then(|f| Ok((identity::plain_head(&f)?, f)));
        let (head, file) = match opened {
            Ok(x) => x,
            Err(e) => {
                self.fail(path, id, size, e.to_string(), now, sink);
                return;
            }
        };
        self.clear_error(path, None, sink);
        if head.starts_with(&crate::ingest::source::GZIP_MAGIC) {
            self.examine_gz(path, id, size, initial, now, sink);
            return;
        }
        if !initial {
            let found = Found { path, id, size, file: &file, head: &head };
            if let Some(hold) = self.classify_plain(&found, now, decide_now, sink) {
                self.held.insert(id, (hold, size));
                return;
            }
            if self.open.iter().any(|f| f.id == id) {
                return;
            }
        }
        let Some(stream) = self.claim_and_open(path, id, size, initial, sink) else { return };
        let (offset, head) =
            if initial && self.options.from_end { (size, head) } else { (0, Vec::new()) };
        self.open.push(OpenFile {
            id,
            path: path.to_path_buf(),
            file,
            stream,
            offset,
            head,
            left_at: None,
            last_data: now,
            failing: false,
        });
    }

    /// Decide whether a new plain file is old content. `Some(hold)` = do not open it as new;
    /// a recognised continuation is opened here (and `None` returned with the file open).
    fn classify_plain(
        &mut self,
        found: &Found<'_>,
        now: Instant,
        decide_now: bool,
        sink: &mut dyn TailSink,
    ) -> Option<Hold> {
        let Found { path, id, size, file, head } = *found;
        let undecided = Hold::Undecided { until: now + self.options.rotate_wait };
        if head.is_empty() {
            return Some(undecided);
        }
        if let Some(f) = self.open.iter().find(|f| identity::heads_match(&f.head, head)) {
            return Some(Hold::CopyOf(f.stream));
        }
        if let Some(k) = self.known.iter().position(|k| identity::heads_match(&k.head, head)) {
            let k = self.known.remove(k);
            let extra = size.saturating_sub(k.read);
            sink.incident(Incident::Recognized {
                stream: k.stream,
                path: path.to_path_buf(),
                extra,
            });
            if extra == 0 {
                self.known.push(Known { id: Some(id), size, ..k });
                return Some(Hold::Recognized);
            }
            let Ok(file) = file.try_clone() else {
                self.known.push(Known { id: Some(id), size, ..k });
                return Some(Hold::Failed { until: now + self.options.rotate_wait });
            };
            self.open.push(OpenFile::resume(id, path, file, k, now));
            return None;
        }
        let unsure = |known: &[u8]| identity::compare_heads(known, head) == HeadMatch::Undecided;
        let maybe_copy =
            self.open.iter().any(|f| unsure(&f.head)) || self.known.iter().any(|k| unsure(&k.head));
        if maybe_copy && !decide_now {
            return Some(undecided);
        }
        None
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

    /// A compressed file: compared decompressed; new content is read whole, once.
    fn examine_gz(
        &mut self,
        path: &Path,
        id: FileId,
        size: u64,
        initial: bool,
        now: Instant,
        sink: &mut dyn TailSink,
    ) {
        let (head, len) = match identity::gz_scan(path) {
            Ok(GzScan::Complete { head, len }) => (head, len),
            Ok(GzScan::Incomplete) => {
                self.held.insert(id, (Hold::GzPending, size));
                return;
            }
            Err(e) => {
                let reason = format!("not a readable gzip archive: {e}");
                self.fail(path, id, size, reason, now, sink);
                return;
            }
        };
        if !initial {
            if let Some(f) = self.open.iter().find(|f| identity::heads_match(&f.head, &head)) {
                let stream = f.stream;
                sink.incident(Incident::Recognized { stream, path: path.to_path_buf(), extra: 0 });
                self.held.insert(id, (Hold::Recognized, size));
                return;
            }
            if let Some(k) = self.known.iter().position(|k| identity::heads_match(&k.head, &head)) {
                let (stream, read) = (self.known[k].stream, self.known[k].read);
                let extra = len.saturating_sub(read);
                sink.incident(Incident::Recognized { stream, path: path.to_path_buf(), extra });
                if extra > 0 {
                    if let Err(e) = identity::gz_stream(path, read, |c| sink.data(stream, c)) {
                        let reason = format!("not a readable gzip archive: {e}");
                        self.fail(path, id, size, reason, now, sink);
                        return;
                    }
                    self.known[k].read = len;
                }
                self.held.insert(id, (Hold::Recognized, size));
                return;
            }
        }
        let Some(stream) = self.claim_and_open(path, id, size, initial, sink) else { return };
        if !(initial && self.options.from_end) {
            if let Err(e) = identity::gz_stream(path, 0, |c| sink.data(stream, c)) {
                let reason = format!("gzip archive unreadable part-way: {e}");
                sink.incident(Incident::Error {
                    stream: Some(stream),
                    path: path.to_path_buf(),
                    reason,
                });
            }
        }
        sink.end(stream);
        self.remember(Known { id: Some(id), head, read: len, stream, size });
    }
}
