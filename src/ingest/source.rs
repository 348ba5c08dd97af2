//! Opening sources: plain files, gzip (by magic bytes, not name), stdin; SHA-256 of the
//! file as stored on disk.
//!
//! Why by magic: ALB and `CloudFront` deliver `.gz` objects, logrotate writes `access.log.2.gz`,
//! and responders rename files when they collect evidence, so the name is not trustworthy.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A source could not be opened or read. Always names the path and the OS reason.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl SourceError {
    fn io(path: &Path, source: io::Error) -> Self {
        SourceError::Io { path: path.to_path_buf(), source }
    }
}

/// Gzip member magic.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Read buffer size for sources (bytes). Large reads keep syscalls off the parse profile.
pub const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Open a file for reading its *content*: gzip (detected by magic) is decompressed
/// transparently (multi-member files included).
pub fn open_content(path: &Path) -> Result<Box<dyn Read + Send>, SourceError> {
    let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
    let reader = BufReader::with_capacity(READ_BUFFER_BYTES, file);
    content_reader(reader).map_err(|e| SourceError::io(path, e))
}

/// Wrap any buffered reader (a file, stdin) so that gzip content is decompressed.
///
/// Only the first two bytes are examined; a stream shorter than that is returned as is.
pub fn content_reader<R: BufRead + Send + 'static>(
    mut reader: R,
) -> io::Result<Box<dyn Read + Send>> {
    let mut head = reader.fill_buf()?;
    // A single short read can return one byte of a two-byte magic; ask once more.
    if head.len() == 1 {
        let first = head[0];
        if first != GZIP_MAGIC[0] {
            return Ok(Box::new(reader));
        }
        let mut joined = vec![first];
        reader.consume(1);
        let mut next = [0u8; 1];
        let n = reader.read(&mut next)?;
        joined.extend_from_slice(&next[..n]);
        let chained = io::Cursor::new(joined).chain(reader);
        return Ok(wrap_if_gzip(BufReader::new(chained)));
    }
    head = &head[..head.len().min(2)];
    if head == GZIP_MAGIC {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(reader)))
    } else {
        Ok(Box::new(reader))
    }
}

fn wrap_if_gzip<R: BufRead + Send + 'static>(mut reader: R) -> Box<dyn Read + Send> {
    let is_gzip = reader.fill_buf().is_ok_and(|h| h.starts_with(&GZIP_MAGIC));
    if is_gzip { Box::new(flate2::bufread::MultiGzDecoder::new(reader)) } else { Box::new(reader) }
}

/// The SHA-256 of the bytes read through a [`HashedContent`] reader (shared with it).
#[derive(Debug, Clone, Default)]
pub struct ReadHash(std::sync::Arc<std::sync::Mutex<(Sha256, u64)>>);

impl ReadHash {
    /// The hash of everything read so far, then of the rest of `path` when it is a regular
    /// file the reader did not read to its end (bytes after a gzip stream). For a pipe,
    /// FIFO or device the hash is of the bytes read — all of them when the content was read
    /// to its end.
    pub fn finish(self, path: &Path) -> Result<String, SourceError> {
        let (mut hasher, read) = match std::sync::Arc::try_unwrap(self.0) {
            Ok(m) => m.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner),
            Err(shared) => shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone(),
        };
        let meta = std::fs::metadata(path).map_err(|e| SourceError::io(path, e))?;
        if meta.is_file() && meta.len() > read {
            use std::io::Seek as _;
            let mut file = File::open(path).map_err(|e| SourceError::io(path, e))?;
            file.seek(io::SeekFrom::Start(read)).map_err(|e| SourceError::io(path, e))?;
            hash_rest(&mut file, &mut hasher).map_err(|e| SourceError::io(path, e))?;
        }
        Ok(hex::encode(hasher.finalize()))
    }
}

/// A reader that feeds a [`ReadHash`] with every byte it reads.
struct HashedContent<R> {
    inner: R,
    hash: ReadHash,
}

impl<R: Read> Read for HashedContent<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut h = self.hash.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        h.0.update(&buf[..n]);
        h.1 += n as u64;
        Ok(n)
    }
}

/// Open `path` once for its content (gzip decompressed, as [`open_content`]) while hashing
/// the bytes as stored: for a pipe, FIFO, `/dev/stdin` or `<(cmd)` there is no second read,
/// so the content cannot be read twice. Call [`ReadHash::finish`] after reading.
pub fn open_content_hashed(path: &Path) -> Result<(Box<dyn Read + Send>, ReadHash), SourceError> {
    let meta = std::fs::metadata(path).map_err(|e| SourceError::io(path, e))?;
    if meta.is_dir() {
        return Err(SourceError::io(
            path,
            io::Error::new(io::ErrorKind::IsADirectory, "is a directory, not a log file"),
        ));
    }
    let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
    let hash = ReadHash::default();
    let hashed = HashedContent { inner: file, hash: hash.clone() };
    let reader = BufReader::with_capacity(READ_BUFFER_BYTES, hashed);
    let content = content_reader(reader).map_err(|e| SourceError::io(path, e))?;
    Ok((content, hash))
}

fn hash_rest(r: &mut impl Read, hasher: &mut Sha256) -> io::Result<()> {
    let mut buf = vec![0u8; READ_BUFFER_BYTES];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// SHA-256 (lower-case hex) of the file's bytes as stored on disk.
pub fn sha256_file(path: &Path) -> Result<String, SourceError> {
    let mut file = File::open(path).map_err(|e| SourceError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; READ_BUFFER_BYTES];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(SourceError::io(path, e)),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn read_all(path: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        open_content(path).unwrap().read_to_end(&mut out).unwrap();
        out
    }

    /// One read gives the content and the hash of the stored bytes, for plain files, gzip
    /// with trailing bytes, and a pipe (which cannot be read twice).
    #[test]
    fn hashed_content_reads_once_and_hashes_the_stored_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.log");
        std::fs::write(&plain, b"one\ntwo\n").unwrap();
        let mut zipped = gz(b"one\ntwo\n");
        zipped.extend_from_slice(b"\0\0trailing");
        let gzp = dir.path().join("a.gz");
        std::fs::write(&gzp, &zipped).unwrap();
        for p in [&plain, &gzp] {
            let (mut r, hash) = open_content_hashed(p).unwrap();
            let mut out = Vec::new();
            let _ = r.read_to_end(&mut out);
            assert!(out.starts_with(b"one\ntwo\n"), "{p:?}");
            drop(r);
            assert_eq!(hash.finish(p).unwrap(), sha256_file(p).unwrap(), "{p:?}");
        }
        let (mut r, hash) = open_content_hashed(Path::new("/dev/null")).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(
            hash.finish(Path::new("/dev/null")).unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let err = open_content_hashed(dir.path()).err().unwrap().to_string();
        assert!(err.contains("is a directory"), "{err}");
    }

    #[test]
    fn plain_gzip_and_multi_member_gzip_read_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.log");
        std::fs::write(&plain, b"one\ntwo\n").unwrap();
        // Named like a plain log on purpose: detection is by magic, not name.
        let multi = dir.path().join("b.log");
        let mut bytes = gz(b"one\n");
        bytes.extend(gz(b"two\n"));
        std::fs::write(&multi, &bytes).unwrap();
        assert_eq!(read_all(&plain), b"one\ntwo\n");
        assert_eq!(read_all(&multi), b"one\ntwo\n");
    }

    #[test]
    fn tiny_files_are_not_mistaken_for_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("one");
        std::fs::write(&one, [0x1f]).unwrap();
        assert_eq!(read_all(&one), vec![0x1f]);
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        assert!(read_all(&empty).is_empty());
    }

    #[test]
    fn sha256_is_of_stored_bytes_and_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let missing = dir.path().join("missing.log");
        let err = sha256_file(&missing).unwrap_err().to_string();
        assert!(err.contains("missing.log"), "{err}");
        let err = open_content(&missing).err().unwrap().to_string();
        assert!(err.contains("missing.log") && err.contains("No such file"), "{err}");
    }
}
