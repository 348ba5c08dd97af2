//! How the follower recognises a file: by device + inode while it exists, and by the first
//! bytes of its *content* (the "head") once it has been renamed, copied or compressed.
//!
//! Why both: an inode number is reused as soon as a deleted file's last descriptor closes
//! (delete + recreate often gets the same number back), and a copy (`copytruncate`) or a
//! compressed rotation (`access.log.2.gz`) has a new inode but old content. The head is the
//! first `HEAD_BYTES` of content as read (decompressed for gzip).
//!
//! A candidate is the *same* content as a known head only when it holds all of that head
//! (and the head is at least `MIN_MATCH` bytes, or the two are identical). A candidate that is
//! a strict prefix of a known head is *undecided*: it may be a copy still being written, or a
//! new file that shares a header with an old one (every nmap XML file starts with the same
//! ~150 bytes). The tailer waits for it to grow, and after `rotate_wait` treats it as new:
//! a copy never stalls that long, a scanner that has only written its header does.

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

/// How a candidate head compares with a known one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadMatch {
    /// The candidate holds all of the known head: the same content (possibly grown).
    Same,
    /// The candidate is a strict prefix of the known head (or the known head is too short to
    /// be sure): wait for more bytes before deciding.
    Undecided,
    Different,
}

/// Compare a head already read (`known`) with a head just sampled (`candidate`).
#[must_use]
pub fn compare_heads(known: &[u8], candidate: &[u8]) -> HeadMatch {
    if known.is_empty() || candidate.is_empty() {
        return HeadMatch::Different;
    }
    if candidate.len() < known.len() {
        return if known.starts_with(candidate) {
            HeadMatch::Undecided
        } else {
            HeadMatch::Different
        };
    }
    if !candidate.starts_with(known) {
        return HeadMatch::Different;
    }
    if known.len() >= MIN_MATCH || candidate.len() == known.len() {
        HeadMatch::Same
    } else {
        HeadMatch::Undecided
    }
}

/// `true` when `candidate` is the same content as `known` (see `compare_heads`).
#[must_use]
pub fn heads_match(known: &[u8], candidate: &[u8]) -> bool {
    compare_heads(known, candidate) == HeadMatch::Same
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

/// SHA-256 (hex) of a file's stored bytes, read through its descriptor.
pub fn sha256_of(file: &File) -> io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut sha = Sha256::new();
    let mut reader = PositionalReader { file, pos: 0 };
    let mut buf = vec![0; 256 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(hex::encode(sha.finalize())),
            Ok(n) => sha.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// `true` when the file starts with the gzip magic.
pub fn is_gzip(file: &File) -> io::Result<bool> {
    Ok(read_prefix_at(file, GZIP_MAGIC.len())? == GZIP_MAGIC)
}

/// What one pass over a compressed file found.
#[derive(Debug)]
pub enum GzScan {
    /// The archive decompresses completely: its first `HEAD_BYTES` and total length (bytes).
    Complete { head: Vec<u8>, len: u64 },
    /// The archive ends early: still being written (or cut). Try again later. `head` is the
    /// first bytes of what decompresses so far.
    Incomplete { head: Vec<u8> },
}

/// Decompress a gzip file (multi-member) once without keeping it: head and length only, so a
/// multi-gigabyte rotated archive costs a bounded buffer, not its size in memory.
pub fn gz_scan(path: &Path) -> io::Result<GzScan> {
    gz_scan_file(&File::open(path)?)
}

/// `gz_scan` through a descriptor already open: a rotation that renames or deletes the
/// archive meanwhile does not matter (no second `open` by name).
pub fn gz_scan_file(file: &File) -> io::Result<GzScan> {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    let mut len = 0_u64;
    let outcome = gz_stream_file(file, 0, |chunk| {
        if head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        len += chunk.len() as u64;
    });
    match outcome {
        Ok(()) => Ok(GzScan::Complete { head, len }),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(GzScan::Incomplete { head }),
        Err(e) => Err(e),
    }
}

/// Decompress a gzip file and hand its content from byte `skip` on to `each`, in chunks.
pub fn gz_stream(path: &Path, skip: u64, each: impl FnMut(&[u8])) -> io::Result<()> {
    gz_stream_file(&File::open(path)?, skip, each)
}

/// Reads a file from offset 0 with positional reads (the descriptor's cursor is not moved).
struct PositionalReader<'a> {
    file: &'a File,
    pos: u64,
}

impl Read for PositionalReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// `gz_stream` through a descriptor already open (see `gz_scan_file`).
pub fn gz_stream_file(file: &File, skip: u64, mut each: impl FnMut(&[u8])) -> io::Result<()> {
    let reader = io::BufReader::with_capacity(64 * 1024, PositionalReader { file, pos: 0 });
    let mut decoder = MultiGzDecoder::new(reader);
    let mut buf = vec![0; 256 * 1024];
    let mut pos = 0_u64;
    loop {
        let n = match decoder.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let start = skip.saturating_sub(pos).min(n as u64) as usize;
        if start < n {
            each(&buf[start..n]);
        }
        pos += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_candidate_must_hold_the_whole_known_head() {
        use HeadMatch::{Different, Same, Undecided};
        let long = vec![b'a'; 200];
        assert_eq!(compare_heads(&long[..100], &long), Same, "grown content");
        assert_eq!(compare_heads(&long, &long), Same);
        assert_eq!(compare_heads(&long, &long[..100]), Undecided, "a copy still being written");
        assert_eq!(compare_heads(b"short\n", b"short\n"), Same);
        assert_eq!(compare_heads(b"short\n", b"short\nmore\n"), Undecided, "too short to be sure");
        assert_eq!(compare_heads(b"", b""), Different);
        let mut other = long.clone();
        other[150] = b'b';
        assert_eq!(compare_heads(&long[..150], &other), Same);
        assert_eq!(compare_heads(&long, &other), Different);
        assert_eq!(compare_heads(&other, &long[..120]), Undecided, "shared header so far");
    }

    #[test]
    fn gz_scan_reports_a_cut_archive_as_incomplete_and_streams_from_an_offset() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let text = b"line one\nline two\n".repeat(50_000);
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(&text).unwrap();
        let gz = enc.finish().unwrap();
        let full = dir.path().join("a.gz");
        std::fs::write(&full, &gz).unwrap();
        match gz_scan(&full).unwrap() {
            GzScan::Complete { head, len } => {
                assert_eq!(len, text.len() as u64);
                assert_eq!(head, text[..HEAD_BYTES]);
            }
            GzScan::Incomplete { .. } => panic!("complete archive reported incomplete"),
        }
        let mut tail = Vec::new();
        gz_stream(&full, 900_000, |c| tail.extend_from_slice(c)).unwrap();
        assert_eq!(tail, text[900_000..]);
        let cut = dir.path().join("b.gz");
        std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
        match gz_scan(&cut).unwrap() {
            GzScan::Incomplete { head } => assert!(text.starts_with(&head)),
            GzScan::Complete { .. } => panic!("a cut archive reported complete"),
        }
        let f = File::open(&full).unwrap();
        assert!(is_gzip(&f).unwrap());
    }
}
