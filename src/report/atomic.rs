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

/// Removes the temporary file unless disarmed (after a successful rename).
struct TempGuard {
    path: Option<PathBuf>,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// Write `path` atomically with the bytes `produce` writes.
pub fn write_atomic(
    path: &Path,
    produce: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<Written, AtomicWriteError> {
    let Some(name) = path.file_name() else {
        return Err(AtomicWriteError::NoFileName { path: path.to_owned() });
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let tmp_name = format!(
        ".{}.{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = dir.join(tmp_name);
    let tmp_file =
        OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|source| {
            AtomicWriteError::Create { path: path.to_owned(), dir: dir.clone(), source }
        })?;
    let mut guard = TempGuard { path: Some(tmp.clone()) };
    let mut w = Hashing { inner: BufWriter::new(tmp_file), hasher: Sha256::new(), bytes: 0 };
    produce(&mut w)
        .and_then(|()| w.flush())
        .map_err(|source| AtomicWriteError::Write { path: path.to_owned(), source })?;
    let Hashing { inner, hasher, bytes } = w;
    let synced: File = inner
        .into_inner()
        .map_err(|e| AtomicWriteError::Write { path: path.to_owned(), source: e.into_error() })?;
    synced.sync_all().map_err(|source| AtomicWriteError::Sync { path: path.to_owned(), source })?;
    drop(synced);
    fs::rename(&tmp, path)
        .map_err(|source| AtomicWriteError::Rename { path: path.to_owned(), source })?;
    guard.path = None;
    // Make the rename durable; a failure here cannot be undone and the file is complete, so
    // it is not reported.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
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
}
