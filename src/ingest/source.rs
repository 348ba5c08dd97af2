//! Opening sources: plain files, gzip (by magic bytes, not name), stdin; SHA-256 of the
//! file as stored on disk.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

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

/// Gzip member magic.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Open a file for reading its *content*: gzip (detected by magic) is decompressed
/// transparently (multi-member files included).
pub fn open_content(path: &Path) -> Result<Box<dyn Read + Send>, SourceError> {
    let _ = path;
    todo!("source opening: issue 2")
}

/// SHA-256 (lower-case hex) of the file's bytes as stored on disk.
pub fn sha256_file(path: &Path) -> Result<String, SourceError> {
    let _ = path;
    todo!("hashing: issue 2")
}
