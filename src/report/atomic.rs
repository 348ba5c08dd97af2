//! Atomic file writes: a temporary file in the destination's directory, written, flushed,
//! fsynced, then renamed over the destination (and the directory fsynced). Readers see either
//! the old file or the complete new one; on any failure the temporary file is removed and the
//! destination is untouched.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// Which step of an atomic write failed. Always names the destination path.
#[derive(Debug, thiserror::Error)]
pub enum AtomicWriteError {
    #[error("{path}: cannot write: the path has no file name")]
    NoFileName { path: PathBuf },
    #[error("{path}: cannot create a temporary file in {dir}: {source}")]
    Create {
        path: PathBuf,
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: writing failed (nothing was written to the destination): {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: flushing to disk failed (nothing was written to the destination): {source}")]
    Sync {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: cannot move the finished file into place: {source}")]
    Rename {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What an atomic write produced: the size and SHA-256 of the bytes now at `path` (for the
/// journal's `report_exported` record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the file content.
    pub sha256: String,
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Distinguishes temporary files of concurrent writes within one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// An unpredictable temporary name: 128 bits from std's per-process random hash keys mixed
/// with the process id, a counter and the clock (nobody can plant a file or symlink at the
/// name in advance; `create_new` refuses one planted anyway).
fn temp_name(name: &std::ffi::OsStr) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut bits = [0_u64; 2];
    for (i, b) in bits.iter_mut().enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_usize(i);
        if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            h.write_u128(d.as_nanos());
        }
        *b = h.finish();
    }
    format!(".{}.{:016x}{:016x}.tmp", name.to_string_lossy(), bits[0], bits[1])
}

/// A file being written atomically: the one primitive every file leakline writes goes
/// through (`analyze --out`, `report --out`, `watch --out`, the TUI's export, case files).
///
/// [`AtomicFile::create`] makes the temporary file in the destination's directory with
/// `O_CREAT|O_EXCL` (never following a symlink), under an unpredictable name, mode `0600`
/// (a stricter umask still applies) — or the existing destination's mode, so a re-export
/// keeps what the responder set. [`AtomicFile::commit`] fsyncs it, renames it over the
/// destination and fsyncs the directory. Dropped without a commit, it removes itself.
///
/// A destination that exists and is neither a regular file nor a directory (`/dev/null`,
/// `/dev/stdout`, a FIFO such as `>(jq .)`) is written straight through: renaming over it
/// would replace a device node or a pipe with a plain file (as root, `--out /dev/null`
/// would destroy the machine's `/dev/null`), and such a target has no old content to keep.
#[derive(Debug)]
pub struct AtomicFile {
    dest: PathBuf,
    dir: PathBuf,
    tmp: PathBuf,
    armed: bool,
    /// Writing straight into a device or pipe: nothing to rename or remove.
    direct: bool,
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

impl AtomicFile {
    /// Create the temporary file for `path`; returns the handle and the open file to fill.
    pub fn create(path: &Path) -> Result<(AtomicFile, File), AtomicWriteError> {
        let Some(name) = path.file_name() else {
            return Err(AtomicWriteError::NoFileName { path: path.to_owned() });
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let create_err =
            |source| AtomicWriteError::Create { path: path.to_owned(), dir: dir.clone(), source };
        if let Ok(meta) = fs::metadata(path)
            && !meta.is_file()
            && !meta.is_dir()
        {
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|source| AtomicWriteError::Write { path: path.to_owned(), source })?;
            let handle = AtomicFile {
                dest: path.to_owned(),
                dir,
                tmp: path.to_owned(),
                armed: false,
                direct: true,
            };
            return Ok((handle, file));
        }
        let tmp = dir.join(temp_name(name));
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = opts.open(&tmp).map_err(create_err)?;
        let handle =
            AtomicFile { dest: path.to_owned(), dir: dir.clone(), tmp, armed: true, direct: false };
        // Re-export: keep the mode the existing file has (the responder may have tightened
        // or loosened it on purpose).
        #[cfg(unix)]
        if let Ok(meta) = fs::metadata(path)
            && meta.is_file()
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o7777;
            file.set_permissions(fs::Permissions::from_mode(mode)).map_err(create_err)?;
        }
        Ok((handle, file))
    }

    /// The destination path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dest
    }

    /// Flush `file` to disk, move it over the destination and make the rename durable.
    pub fn commit(mut self, file: File) -> Result<(), AtomicWriteError> {
        let path = self.dest.clone();
        if self.direct {
            // A device or pipe: everything was written through already; there is nothing
            // to fsync (devices may refuse it) or to rename.
            return Ok(());
        }
        file.sync_all().map_err(|source| AtomicWriteError::Sync { path: path.clone(), source })?;
        drop(file);
        fs::rename(&self.tmp, &self.dest)
            .map_err(|source| AtomicWriteError::Rename { path: path.clone(), source })?;
        self.armed = false;
        // Make the rename durable; a failure here cannot be undone and the file is complete,
        // so it is not reported.
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Write `path` atomically with the bytes `produce` writes (see [`AtomicFile`]).
pub fn write_atomic(
    path: &Path,
    produce: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<Written, AtomicWriteError> {
    let (handle, tmp_file) = AtomicFile::create(path)?;
    let mut w = Hashing { inner: BufWriter::new(tmp_file), hasher: Sha256::new(), bytes: 0 };
    produce(&mut w)
        .and_then(|()| w.flush())
        .map_err(|source| AtomicWriteError::Write { path: path.to_owned(), source })?;
    let Hashing { inner, hasher, bytes } = w;
    let file: File = inner
        .into_inner()
        .map_err(|e| AtomicWriteError::Write { path: path.to_owned(), source: e.into_error() })?;
    handle.commit(file)?;
    Ok(Written { path: path.to_owned(), bytes, sha256: hex::encode(hasher.finalize()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    #[test]
    fn writes_hashes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.md");
        fs::write(&p, "old").unwrap();
        let w = write_atomic(&p, |w| w.write_all(b"abc")).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "abc");
        assert_eq!(w.bytes, 3);
        assert_eq!(w.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(entries(dir.path()), vec!["r.md"]);
    }

    #[test]
    fn failing_fill_leaves_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.md");
        fs::write(&p, "old").unwrap();
        let err = write_atomic(&p, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("r.md") && err.to_string().contains("disk full"), "{err}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(entries(dir.path()), vec!["r.md"]);
    }

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    /// A new output is 0600 (it may hold unredacted secrets); a re-export keeps the mode the
    /// responder gave the existing file.
    #[cfg(unix)]
    #[test]
    fn new_files_are_private_and_existing_modes_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        write_atomic(&p, |w| w.write_all(b"1")).unwrap();
        assert_eq!(mode(&p), 0o600);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, |w| w.write_all(b"2")).unwrap();
        assert_eq!(mode(&p), 0o640);
        assert_eq!(fs::read_to_string(&p).unwrap(), "2");
    }

    /// `--out /dev/null` or a FIFO: written through, never replaced by a plain file.
    #[cfg(unix)]
    #[test]
    fn devices_and_pipes_are_written_through_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let w = write_atomic(Path::new("/dev/null"), |w| w.write_all(b"discarded")).unwrap();
        assert_eq!(w.bytes, 9);
        let t = fs::metadata("/dev/null").unwrap().file_type();
        assert!(t.is_char_device(), "/dev/null must stay a device");

        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return;
        }
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(&fifo).unwrap())
        };
        write_atomic(&fifo, |w| w.write_all(b"through the pipe")).unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(entries(d.path()), vec!["pipe".to_string()], "no temporary file left");
    }

    /// The temporary name is not predictable: a symlink planted at the old `.NAME.tmp-PID`
    /// style name (or any name) is never followed, and two writes use different names.
    #[cfg(unix)]
    #[test]
    fn temp_names_are_unpredictable_and_planted_links_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "keep").unwrap();
        let p = dir.path().join("out.json");
        let planted = dir.path().join(format!(".out.json.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let a = temp_name(std::ffi::OsStr::new("out.json"));
        let b = temp_name(std::ffi::OsStr::new("out.json"));
        assert_ne!(a, b);
        assert!(a.len() > ".out.json..tmp".len() + 30, "{a}");
        write_atomic(&p, |w| w.write_all(b"new")).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
    }
}
