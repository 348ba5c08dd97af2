//! `--out FILE`: written atomically (a temporary file in the same directory, fsynced, then
//! renamed), with the file writes on a thread of their own.
//!
//! Writing the output is the last step of a run, and a large analysis is megabytes: the
//! system's copy of each block into the page cache then overlaps formatting the next one,
//! instead of following it on the same thread. The blocks go through a FIFO channel, so
//! the file holds exactly the bytes the output writer produced, in order.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::mpsc::{self, SyncSender};

use anyhow::Context;
use leakline::report::AtomicFile;

/// Bytes per block handed to the writing thread.
const BLOCK: usize = 1 << 16;
/// Blocks in flight between the two threads (bounds the memory the output can hold).
const IN_FLIGHT: usize = 4;

/// Write to `path` through [`AtomicFile`] (the one atomic writer: an unpredictable
/// `O_EXCL` temporary file, mode 0600 or the existing file's, fsync, rename, directory
/// fsync), so a reader never sees a half-written report.
pub(super) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    let result = (|| -> anyhow::Result<()> {
        let (handle, file) = AtomicFile::create(path)?;
        let file = write_on_thread(file, write)?;
        handle.commit(file)?;
        Ok(())
    })();
    result.with_context(|| format!("{}: cannot write", path.display()))
}

/// Run `write` here, with what it writes written to `file` by another thread. A failed
/// file write stops both (the producer's next block finds the channel closed); its error
/// is the one returned.
fn write_on_thread(
    file: File,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<File> {
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(IN_FLIGHT);
        let writer = std::thread::Builder::new().name("leakline-out".into()).spawn_scoped(
            scope,
            move || -> io::Result<File> {
                let mut file = file;
                for block in rx {
                    file.write_all(&block)?;
                }
                Ok(file)
            },
        )?;
        let mut blocks = Blocks { tx, buf: Vec::with_capacity(BLOCK) };
        let produced = write(&mut blocks).and_then(|()| blocks.flush());
        drop(blocks);
        let written = writer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let file = written?;
        produced.map(|()| file)
    })
}

/// Collects writes into blocks and sends each full one to the writing thread.
struct Blocks {
    tx: SyncSender<Vec<u8>>,
    buf: Vec<u8>,
}

impl Blocks {
    fn send(&mut self) -> io::Result<()> {
        let block = std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK));
        self.tx.send(block).map_err(|_| io::Error::other("the file writing thread stopped"))
    }
}

impl Write for Blocks {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= BLOCK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() { Ok(()) } else { self.send() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many writes of every size, some larger than a block: the file holds them in order.
    #[test]
    fn the_file_holds_every_write_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        let mut expected = Vec::new();
        write_atomic(&path, |w| {
            for i in 0..3000_usize {
                let piece: Vec<u8> = (0..(i * 37) % 9000).map(|k| (k + i) as u8).collect();
                w.write_all(&piece)?;
                expected.extend_from_slice(&piece);
            }
            w.write_all(&vec![7; 5 * BLOCK])?;
            expected.extend_from_slice(&vec![7; 5 * BLOCK]);
            Ok(())
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), expected);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left");
    }

    /// `analyze --out` goes through the shared writer: a planted symlink at the old
    /// predictable `.NAME.tmp-PID` name is not followed, and the file is created 0600.
    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_not_followed_and_the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let path = dir.path().join("out.json");
        let planted = dir.path().join(format!(".out.json.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        write_atomic(&path, |w| w.write_all(b"{}")).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    /// A failing output leaves the destination untouched and no temporary file behind.
    #[test]
    fn a_failed_output_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        std::fs::write(&path, "old").unwrap();
        let err = write_atomic(&path, |w| {
            w.write_all(&vec![1; 3 * BLOCK])?;
            Err(io::Error::other("formatting failed"))
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("formatting failed"), "{err:#}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A file write that fails stops the output, and its error is the one reported.
    #[test]
    fn a_failed_file_write_is_the_error() {
        let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
            return;
        };
        let block = vec![b'x'; BLOCK];
        let err = write_on_thread(full, |w| {
            for _ in 0..100 {
                w.write_all(&block)?;
            }
            Ok(())
        })
        .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
    }
}
