//! Reading playbook files: the raw serde shape (with spans kept for error locations), the
//! built-in playbooks embedded in the binary, and the library of built-in + user playbooks.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{Platform, Playbook, PlaybookError, Problem, Severity, validate};

/// The playbooks shipped with leakline, embedded so the binary works from any directory:
/// (file name, TOML text).
pub const BUILTIN: [(&str, &str); 4] = [
    ("exposed-api-endpoint.toml", include_str!("../../playbooks/exposed-api-endpoint.toml")),
    ("leaked-api-key.toml", include_str!("../../playbooks/leaked-api-key.toml")),
    ("public-storage-bucket.toml", include_str!("../../playbooks/public-storage-bucket.toml")),
    (
        "model-weights-exfiltration.toml",
        include_str!("../../playbooks/model-weights-exfiltration.toml"),
    ),
];

/// The raw file shape. Every field that validation may complain about keeps its span.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlaybook {
    pub id: Spanned<String>,
    pub title: Spanned<String>,
    pub summary: Spanned<String>,
    pub severity: Spanned<Severity>,
    #[serde(default)]
    pub step: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub id: Spanned<String>,
    pub title: Spanned<String>,
    pub why: Spanned<String>,
    #[serde(rename = "do")]
    pub instructions: Spanned<String>,
    #[serde(default)]
    pub commands: Vec<RawCommand>,
    pub role: Spanned<String>,
    #[serde(default)]
    pub sla_minutes: Option<Spanned<i64>>,
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    #[serde(default)]
    pub verify: Option<RawVerify>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommand {
    pub label: Spanned<String>,
    pub platform: Platform,
    pub command: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVerify {
    pub kind: Spanned<String>,
    #[serde(default)]
    pub duration: Option<Spanned<String>>,
    #[serde(default)]
    pub services: Vec<Spanned<String>>,
}

/// 1-based line and column (in characters) of a byte offset in `text`. Offsets past the end
/// (or inside a multi-byte character) are clamped.
#[must_use]
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// A problem located at byte `offset` of `text`.
pub(crate) fn problem_at(file: &Path, text: &str, offset: usize, message: String) -> Problem {
    let (line, column) = line_column(text, offset);
    Problem { file: file.to_path_buf(), line, column, message }
}

/// Parse and validate one playbook. `file` is only used to name the file in problems.
pub fn parse_playbook(file: &Path, text: &str) -> Result<Playbook, PlaybookError> {
    let raw: RawPlaybook = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        PlaybookError::Invalid(vec![problem_at(file, text, offset, e.message().trim().to_owned())])
    })?;
    validate::validate(file, text, raw).map_err(PlaybookError::Invalid)
}

/// Where a playbook came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Shipped with leakline (the embedded file name).
    Builtin(&'static str),
    /// A user file (`--playbooks DIR`, `validate FILE`, or a case's copy).
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builtin(name) => write!(f, "built-in {name}"),
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A validated playbook with its origin and the exact text it was parsed from (copied
/// verbatim into a new case so later library edits do not change an open case).
#[derive(Debug, Clone)]
pub struct LoadedPlaybook {
    pub playbook: Playbook,
    pub origin: Origin,
    pub source: String,
}

/// Line and column of the top-level `id` value (top-level keys precede every table header, so
/// the first `id = ` line before any `[` header is it); (1, 1) if not found.
fn id_location(source: &str) -> (usize, usize) {
    for (index, line) in source.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            break;
        }
        if let Some(rest) = trimmed.strip_prefix("id") {
            if let Some(value) = rest.trim_start().strip_prefix('=') {
                let value_start = line.len() - value.trim_start().len();
                return (index + 1, line[..value_start].chars().count() + 1);
            }
        }
    }
    (1, 1)
}

/// Read and validate a playbook file.
pub fn load_file(path: &Path) -> Result<LoadedPlaybook, PlaybookError> {
    let source = std::fs::read_to_string(path)
        .map_err(|source| PlaybookError::Io { path: path.to_path_buf(), source })?;
    let playbook = parse_playbook(path, &source)?;
    Ok(LoadedPlaybook { playbook, origin: Origin::File(path.to_path_buf()), source })
}

/// The playbooks available to a session: built-ins, plus `*.toml` files of a user directory.
/// A user playbook with a built-in's id replaces the built-in (an organisation's own version
/// of a playbook wins); two user files with the same id are an error.
#[derive(Debug, Clone)]
pub struct Library {
    /// Sorted by id.
    entries: Vec<LoadedPlaybook>,
}

impl Library {
    /// The built-in playbooks only.
    pub fn builtin() -> Result<Library, PlaybookError> {
        let mut entries = Vec::with_capacity(BUILTIN.len());
        for (name, text) in BUILTIN {
            let playbook = parse_playbook(Path::new(name), text)?;
            entries.push(LoadedPlaybook {
                playbook,
                origin: Origin::Builtin(name),
                source: text.to_owned(),
            });
        }
        entries.sort_by(|a, b| a.playbook.id.cmp(&b.playbook.id));
        Ok(Library { entries })
    }

    /// Built-ins plus every `*.toml` file directly inside `user_dir` (sorted by name). Every
    /// invalid user file is reported, not just the first.
    pub fn load(user_dir: Option<&Path>) -> Result<Library, PlaybookError> {
        let mut lib = Library::builtin()?;
        let Some(dir) = user_dir else {
            return Ok(lib);
        };
        let io_err = |source| PlaybookError::Io { path: dir.to_path_buf(), source };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_err)? {
            let path = entry.map_err(io_err)?.path();
            if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut problems = Vec::new();
        let mut user: Vec<LoadedPlaybook> = Vec::new();
        for path in paths {
            match load_file(&path) {
                Ok(loaded) => {
                    if let Some(first) = user.iter().find(|u| u.playbook.id == loaded.playbook.id) {
                        let (line, column) = id_location(&loaded.source);
                        problems.push(Problem {
                            file: path.clone(),
                            line,
                            column,
                            message: format!(
                                "duplicate playbook id \"{}\" (already defined in {})",
                                loaded.playbook.id, first.origin
                            ),
                        });
                        continue;
                    }
                    user.push(loaded);
                }
                Err(PlaybookError::Invalid(mut p)) => problems.append(&mut p),
                Err(other) => return Err(other),
            }
        }
        if !problems.is_empty() {
            return Err(PlaybookError::Invalid(problems));
        }
        for loaded in user {
            lib.entries.retain(|e| e.playbook.id != loaded.playbook.id);
            lib.entries.push(loaded);
        }
        lib.entries.sort_by(|a, b| a.playbook.id.cmp(&b.playbook.id));
        Ok(lib)
    }

    /// All playbooks, sorted by id.
    #[must_use]
    pub fn entries(&self) -> &[LoadedPlaybook] {
        &self.entries
    }

    /// The playbook with this id.
    pub fn get(&self, id: &str) -> Result<&LoadedPlaybook, PlaybookError> {
        self.entries.iter().find(|e| e.playbook.id == id).ok_or_else(|| PlaybookError::NotFound {
            id: id.to_owned(),
            known: self
                .entries
                .iter()
                .map(|e| e.playbook.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // `=` after `bé ` : byte 6 + 'b'(1) + 'é'(2) + ' '(1) = 10, column 4.
        assert_eq!(line_column(text, 10), (2, 4));
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn builtins_load() {
        let lib = Library::builtin().expect("built-in playbooks are valid");
        assert_eq!(lib.entries().len(), 4);
        assert!(lib.get("exposed-api-endpoint").is_ok());
        let err = lib.get("nope").unwrap_err().to_string();
        assert!(err.contains("leaked-api-key"), "{err}");
    }
}
