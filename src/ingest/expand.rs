//! Expanding a source glob into files, safely: the one expansion `analyze` and the follower
//! use.
//!
//! - Matching is the `glob` crate's, component by component (`*`, `?`, `[…]`, `**` for any
//!   number of directories).
//! - `**` never walks a directory twice: each directory it enters is remembered by its file
//!   identity (device and inode), so a `loop -> .` symlink or two symlinks into one tree
//!   cost one walk, not an endless or exponential one.
//! - [`dedup_by_identity`] keeps one path per file (device + inode): `access.log ->
//!   access-2026-12-05.log` plus a glob matching both reads the file once, and says which
//!   paths were one file.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Why a glob could not be expanded.
#[derive(Debug, thiserror::Error)]
pub enum ExpandError {
    #[error("{pattern}: bad glob: {message}")]
    Pattern { pattern: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// A file's identity: device and inode (on platforms without them, the canonical path).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileIdentity(IdentityInner);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IdentityInner {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

impl FileIdentity {
    /// The identity of what `path` points to (symlinks followed).
    pub fn of(path: &Path) -> io::Result<FileIdentity> {
        let meta = fs::metadata(path)?;
        Ok(Self::from_meta(path, &meta))
    }

    fn from_meta(path: &Path, meta: &fs::Metadata) -> FileIdentity {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let _ = path;
            FileIdentity(IdentityInner::Inode(meta.dev(), meta.ino()))
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            FileIdentity(IdentityInner::Path(fs::canonicalize(path).unwrap_or(path.to_path_buf())))
        }
    }
}

enum Part {
    Literal(String),
    Pattern(glob::Pattern),
    AnyDirs,
}

const OPTIONS: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: true,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

/// Every path `pattern` matches (files, directories, anything), sorted, each once.
/// A directory that cannot be read while matching is an error naming it.
pub fn expand_glob(pattern: &str) -> Result<Vec<PathBuf>, ExpandError> {
    glob::Pattern::new(pattern)
        .map_err(|e| ExpandError::Pattern { pattern: pattern.into(), message: e.to_string() })?;
    let path = Path::new(pattern);
    let mut root = PathBuf::new();
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir if parts.is_empty() => root.push(c),
            Component::CurDir if parts.is_empty() && root.as_os_str().is_empty() => {
                root.push(".");
            }
            _ => {
                let s = c.as_os_str().to_string_lossy().into_owned();
                parts.push(if s == "**" {
                    Part::AnyDirs
                } else if s.contains(['*', '?', '[']) {
                    Part::Pattern(glob::Pattern::new(&s).map_err(|e| ExpandError::Pattern {
                        pattern: pattern.into(),
                        message: e.to_string(),
                    })?)
                } else {
                    Part::Literal(s)
                });
            }
        }
    }
    let mut out = Vec::new();
    let mut walked = HashSet::new();
    walk(&root, &parts, &mut walked, &mut out)?;
    out.sort();
    out.dedup();
    Ok(out)
}

fn dir_or_cwd(dir: &Path) -> &Path {
    if dir.as_os_str().is_empty() { Path::new(".") } else { dir }
}

fn entries(dir: &Path) -> Result<Vec<(String, PathBuf)>, ExpandError> {
    let io_err = |source| ExpandError::Io { path: dir_or_cwd(dir).to_path_buf(), source };
    let mut v = Vec::new();
    for e in fs::read_dir(dir_or_cwd(dir)).map_err(io_err)? {
        let e = e.map_err(io_err)?;
        v.push((e.file_name().to_string_lossy().into_owned(), dir.join(e.file_name())));
    }
    v.sort();
    Ok(v)
}

fn walk(
    dir: &Path,
    parts: &[Part],
    walked: &mut HashSet<FileIdentity>,
    out: &mut Vec<PathBuf>,
) -> Result<(), ExpandError> {
    let Some((first, rest)) = parts.split_first() else {
        if !dir.as_os_str().is_empty() {
            out.push(dir.to_path_buf());
        }
        return Ok(());
    };
    match first {
        Part::Literal(name) => {
            let p = dir.join(name);
            if rest.is_empty() {
                if fs::symlink_metadata(&p).is_ok() {
                    out.push(p);
                }
            } else if p.is_dir() {
                walk(&p, rest, walked, out)?;
            }
        }
        Part::Pattern(pat) => {
            if !dir_or_cwd(dir).is_dir() {
                return Ok(());
            }
            for (name, p) in entries(dir)? {
                if !pat.matches_with(&name, OPTIONS) {
                    continue;
                }
                if rest.is_empty() {
                    out.push(p);
                } else if p.is_dir() {
                    walk(&p, rest, walked, out)?;
                }
            }
        }
        Part::AnyDirs => {
            // Each directory is walked once, by identity: no symlink cycle, no second walk
            // of a tree reached through two links.
            let Ok(id) = FileIdentity::of(dir_or_cwd(dir)) else { return Ok(()) };
            if !walked.insert(id) {
                return Ok(());
            }
            if rest.is_empty() {
                // A trailing `**` matches everything below.
                walk(dir, &[Part::Pattern(glob::Pattern::new("*").expect("valid"))], walked, out)?;
            } else {
                walk(dir, rest, walked, out)?;
            }
            for (_, p) in entries(dir)? {
                if p.is_dir() {
                    walk(&p, parts, walked, out)?;
                }
            }
        }
    }
    Ok(())
}

/// One path per file: the first path (in order) of each file identity is kept; the others
/// are returned as `(alias, kept)` pairs. Paths whose identity cannot be read are kept (the
/// reader will report them).
#[must_use]
pub fn dedup_by_identity(paths: Vec<PathBuf>) -> (Vec<PathBuf>, Vec<(PathBuf, PathBuf)>) {
    let mut first: HashMap<FileIdentity, PathBuf> = HashMap::new();
    let mut kept = Vec::with_capacity(paths.len());
    let mut aliases = Vec::new();
    for p in paths {
        match FileIdentity::of(&p) {
            Ok(id) => {
                if let Some(k) = first.get(&id) {
                    if *k != p {
                        aliases.push((p, k.clone()));
                    }
                } else {
                    first.insert(id, p.clone());
                    kept.push(p);
                }
            }
            Err(_) => kept.push(p),
        }
    }
    (kept, aliases)
}

/// What a path that is not a regular file is, in words (`None` for a regular file or when
/// it cannot be examined).
#[must_use]
pub fn non_file_kind(path: &Path) -> Option<&'static str> {
    let meta = fs::metadata(path).ok()?;
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(base: &Path, v: &[PathBuf]) -> Vec<String> {
        v.iter().map(|p| p.strip_prefix(base).unwrap().to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn matches_like_glob_for_plain_patterns() {
        let d = tempfile::tempdir().unwrap();
        let b = d.path();
        fs::create_dir_all(b.join("a/x")).unwrap();
        for f in ["a/1.log", "a/2.log", "a/x/3.log", "a/.h.log", "b.txt"] {
            fs::write(b.join(f), "").unwrap();
        }
        for pat in ["a/*.log", "a/**/*.log", "**/*.log", "a/?.log", "a/[12].log", "b.txt", "*"] {
            let full = format!("{}/{pat}", b.display());
            let ours = expand_glob(&full).unwrap();
            let mut theirs: Vec<PathBuf> = glob::glob(&full).unwrap().map(Result::unwrap).collect();
            theirs.sort();
            assert_eq!(names(b, &ours), names(b, &theirs), "{pat}");
        }
    }

    /// `**` through `loop -> .` (and two loops) ends, and reaches each file once per path
    /// outside the loops.
    #[cfg(unix)]
    #[test]
    fn symlink_cycles_are_walked_once() {
        let d = tempfile::tempdir().unwrap();
        let b = d.path();
        fs::create_dir(b.join("logs")).unwrap();
        fs::write(b.join("logs/access.log"), "x\n").unwrap();
        std::os::unix::fs::symlink(".", b.join("logs/loop")).unwrap();
        std::os::unix::fs::symlink("..", b.join("logs/up")).unwrap();
        let got = expand_glob(&format!("{}/**/*.log", b.display())).unwrap();
        assert_eq!(names(b, &got), ["logs/access.log"]);
    }

    #[cfg(unix)]
    #[test]
    fn two_paths_to_one_file_are_one_source() {
        let d = tempfile::tempdir().unwrap();
        let b = d.path();
        fs::write(b.join("access-2026-12-05.log"), "x\n").unwrap();
        std::os::unix::fs::symlink("access-2026-12-05.log", b.join("access.log")).unwrap();
        let got = expand_glob(&format!("{}/access*.log", b.display())).unwrap();
        let (kept, aliases) = dedup_by_identity(got);
        assert_eq!(names(b, &kept), ["access-2026-12-05.log"]);
        assert_eq!(aliases, [(b.join("access.log"), b.join("access-2026-12-05.log"))]);
    }

    #[test]
    fn kinds_of_non_files_are_named() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(non_file_kind(d.path()), Some("a directory"));
        #[cfg(unix)]
        assert_eq!(non_file_kind(Path::new("/dev/null")), Some("a character device"));
        let f = d.path().join("f");
        fs::write(&f, "").unwrap();
        assert_eq!(non_file_kind(&f), None);
    }
}
