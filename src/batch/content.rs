//! A source file's bytes for the batch driver: gzip recognised by its magic bytes, and the
//! SHA-256 of the bytes on disk, computed inline or by a hasher thread fed the chunks.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;

use sha2::{Digest, Sha256};

use crate::ingest::source::GZIP_MAGIC;

/// Hashes every byte read through it (the on-disk bytes, before any decompression), unless
/// the hashing was handed over to a hasher thread (`None`).
pub(super) struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// The raw bytes of a file: the sniffed magic bytes put back in front of the rest, every
/// byte read from the file hashed. Unbuffered: chunk reads go straight into the chunk
/// (a `BufReader` would copy every byte once more); flate2 buffers gzip input itself.
type Raw = io::Chain<io::Cursor<Vec<u8>>, HashingReader<File>>;

/// A source's content (decompressed when gzip) plus the hash of its raw bytes.
pub(super) enum Content {
    Plain(Raw),
    Gzip(Box<flate2::read::MultiGzDecoder<Raw>>),
    Stdin(io::Stdin),
    /// Rows streamed from a database source (hashed by the source itself, as received).
    Stream(Box<dyn Read + Send>),
}

impl Content {
    pub(super) fn open(path: &Path) -> io::Result<Content> {
        if path == Path::new("-") {
            return Ok(Content::Stdin(io::stdin()));
        }
        let mut file = File::open(path)?;
        let mut magic = [0_u8; 2];
        let n = read_full(&mut file, &mut magic)?;
        let mut hasher = Sha256::new();
        hasher.update(&magic[..n]);
        let hashing = HashingReader { inner: file, hasher: Some(hasher) };
        let raw = io::Cursor::new(magic[..n].to_vec()).chain(hashing);
        if n == 2 && magic == GZIP_MAGIC {
            return Ok(Content::Gzip(Box::new(flate2::read::MultiGzDecoder::new(raw))));
        }
        Ok(Content::Plain(raw))
    }

    /// A plain (not compressed) file's content is exactly the bytes on disk, so whoever
    /// consumes all of it in order can hash it: stop hashing here and say so (`false` for
    /// gzip, whose hash must be of the compressed bytes, and for stdin).
    pub(super) fn hand_over_hashing(&mut self) -> bool {
        match self {
            Content::Plain(raw) => {
                let (_, hashing) = raw.get_mut();
                hashing.hasher = None;
                true
            }
            Content::Gzip(_) | Content::Stdin(_) | Content::Stream(_) => false,
        }
    }

    /// Finish: drain what was not consumed (bytes after the last gzip member) and return the
    /// hash of the whole file (`None` for stdin, or when the hashing was handed over).
    pub(super) fn finish(self) -> io::Result<Option<String>> {
        let raw = match self {
            Content::Plain(r) => r,
            Content::Gzip(d) => d.into_inner(),
            Content::Stdin(_) | Content::Stream(_) => return Ok(None),
        };
        let (_, mut hashing) = raw.into_inner();
        io::copy(&mut hashing, &mut io::sink())?;
        Ok(hashing.hasher.map(|h| hex::encode(h.finalize())))
    }
}

impl Read for Content {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Content::Plain(r) => r.read(buf),
            Content::Gzip(r) => r.read(buf),
            Content::Stdin(r) => r.read(buf),
            Content::Stream(r) => r.read(buf),
        }
    }
}

pub(super) fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A piece of a file, cut at a line end, in a buffer that is reused from chunk to chunk.
/// The buffer is kept initialised (zeroed once, when it grows) and its valid part is
/// `..len`: reading into a cleared `Vec` would zero every chunk first, because the readers
/// here cannot read into uninitialised memory.
#[derive(Debug, Default)]
pub(super) struct Chunk {
    buf: Vec<u8>,
    /// Bytes before this are the rest of an oversized line whose head an earlier chunk
    /// carried: hashed, not parsed.
    start: usize,
    len: usize,
}

impl Chunk {
    /// The chunk's bytes (what is parsed).
    pub(super) fn bytes(&self) -> &[u8] {
        &self.buf[self.start..self.len]
    }

    /// Every byte of the file this chunk stands for, skipped ones included (what is hashed).
    pub(super) fn raw(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Leave the first `n` bytes of [`Chunk::bytes`] out of the parse (they stay hashed).
    pub(super) fn skip(&mut self, n: usize) {
        self.start = (self.start + n).min(self.len);
    }

    /// Refill: `head` (the cut line left over from the previous chunk), then up to `want`
    /// bytes from `r`. Returns whether `r` is exhausted (it gave fewer than `want` bytes).
    pub(super) fn fill(&mut self, head: &[u8], r: &mut impl Read, want: usize) -> io::Result<bool> {
        let end = head.len() + want;
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        self.buf[..head.len()].copy_from_slice(head);
        let n = read_full(r, &mut self.buf[head.len()..end])?;
        self.start = 0;
        self.len = head.len() + n;
        Ok(n < want)
    }

    /// Keep only the first `len` bytes of [`Chunk::bytes`]; the rest of the filled part is
    /// returned (to carry over to the next chunk).
    pub(super) fn cut(&mut self, len: usize) -> &[u8] {
        let filled = self.len;
        self.len = (self.start + len).min(filled);
        &self.buf[self.len..filled]
    }
}

/// Chunks waiting for the hashing thread at most. The queue is bounded so that memory stays
/// a few chunks whatever the file: where the workers parse nothing (a newline-less region is
/// skipped, not parsed) the reading thread outruns SHA-256 and would otherwise queue the
/// whole file. The run's time is at least the hashing time anyway, so waiting costs nothing.
const HASH_QUEUE: usize = 16;

/// A thread hashing a file's chunks in the order they are fed.
pub(super) struct Hasher {
    tx: mpsc::SyncSender<Arc<Chunk>>,
    handle: std::thread::JoinHandle<String>,
}

impl Hasher {
    pub(super) fn spawn() -> io::Result<Hasher> {
        let (tx, rx) = mpsc::sync_channel::<Arc<Chunk>>(HASH_QUEUE);
        let handle =
            std::thread::Builder::new().name("leakline-sha256".into()).spawn(move || {
                let mut h = Sha256::new();
                for chunk in rx {
                    h.update(chunk.raw());
                }
                hex::encode(h.finalize())
            })?;
        Ok(Hasher { tx, handle })
    }

    pub(super) fn feed(&self, chunk: &Arc<Chunk>) {
        // The thread only stops when `tx` is dropped, so this cannot fail while it lives.
        let _ = self.tx.send(Arc::clone(chunk));
    }

    pub(super) fn finish(self) -> io::Result<String> {
        drop(self.tx);
        self.handle.join().map_err(|_| io::Error::other("the SHA-256 thread panicked"))
    }
}
