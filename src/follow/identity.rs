//! How the follower recognises a file: by device + inode while it exists, and by the first
//! bytes of its *content* (the "head") once it has been renamed, copied or compressed.
//!
//! Why both: an inode number is reused as soon as a deleted file's last descriptor closes
//! (delete + recreate often gets the same number back), and a copy (`copytruncate`) or a
//! compressed rotation (`access.log.2.gz`) has a new inode but old content. The head is the
//! first `HEAD_BYTES` of content as read (decompressed for gzip); two heads match when the
//! shorter one is a prefix of the longer one and at least `MIN_MATCH` bytes long (or both are
//! complete short files). 4 KiB of log lines carry timestamps and addresses, so unrelated files
//! collide only when they are tiny and identical byte for byte — then they *are* the same
//! content as far as any reader can tell.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::ingest::source::GZIP_MAGIC;

/// Bytes of content kept per file to recognise it later.
pub const HEAD_BYTES: usize = 4096;
/// Shortest common prefix that counts as "the same content" (unless both heads are whole files).
pub const MIN_MATCH: usize = 64;

/// Device + inode: the identity of a file while it has a name or an open descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    #[must_use]
    pub fn of(meta: &std::fs::Metadata) -> FileId {
        FileId { dev: meta.dev(), ino: meta.ino() }
    }
}

/// `true` when `known` (a head we read) and `candidate` (a head just sampled) are the same
/// content: one is a prefix of the other, long enough not to be a coincidence.
#[must_use]
pub fn heads_match(known: &[u8], candidate: &[u8]) -> bool {
    let n = known.len().min(candidate.len());
    if n == 0 || known[..n] != candidate[..n] {
        return false;
    }
    n >= MIN_MATCH || known.len() == candidate.len()
}

/// The first `HEAD_BYTES` bytes of a plain file, read at offset 0 without moving any cursor.
pub fn plain_head(file: &File) -> io::Result<Vec<u8>> {
    read_prefix_at(file, HEAD_BYTES)
}

/// Read up to `len` bytes from offset 0 with positional reads (the shared cursor stays put).
pub fn read_prefix_at(file: &File, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    let mut filled = 0;
    while filled < len {
        match file.read_at(&mut buf[filled..], filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// `true` when the file starts with the gzip magic.
pub fn is_gzip(file: &File) -> io::Result<bool> {
    Ok(read_prefix_at(file, GZIP_MAGIC.len())? == GZIP_MAGIC)
}

/// A compressed file's content, fully decompressed.
#[derive(Debug)]
pub enum GzContent {
    /// The whole content.
    Complete(Vec<u8>),
    /// The archive ends early: still being written (or cut). Try again later.
    Incomplete,
}

/// Decompress a whole gzip file (multi-member). Rotated archives are finished files of
/// bounded size; an unexpected end means the compressor is still writing.
pub fn gunzip(path: &Path) -> io::Result<GzContent> {
    let file = File::open(path)?;
    let mut out = Vec::new();
    match MultiGzDecoder::new(file).read_to_end(&mut out) {
        Ok(_) => Ok(GzContent::Complete(out)),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(GzContent::Incomplete),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_match_needs_a_long_common_prefix_or_equal_short_files() {
        let long = vec![b'a'; 200];
        assert!(heads_match(&long, &long[..100]));
        assert!(heads_match(&long[..100], &long));
        assert!(!heads_match(&long, &long[..10]), "10 bytes is too short to be sure");
        assert!(heads_match(b"short\n", b"short\n"));
        assert!(!heads_match(b"", b""));
        let mut other = long.clone();
        other[150] = b'b';
        assert!(heads_match(&long[..150], &other), "differs only after the shorter head");
        assert!(!heads_match(&long, &other));
    }

    #[test]
    fn gunzip_reports_a_cut_archive_as_incomplete() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(&b"line one\nline two\n".repeat(500)).unwrap();
        let gz = enc.finish().unwrap();
        let full = dir.path().join("a.gz");
        std::fs::write(&full, &gz).unwrap();
        match gunzip(&full).unwrap() {
            GzContent::Complete(c) => assert_eq!(c.len(), 18 * 500),
            GzContent::Incomplete => panic!("complete archive reported incomplete"),
        }
        let cut = dir.path().join("b.gz");
        std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
        assert!(matches!(gunzip(&cut).unwrap(), GzContent::Incomplete));
        let f = File::open(&full).unwrap();
        assert!(is_gzip(&f).unwrap());
    }
}
