//! Sensitive paths: per-service path globs whose requests are reported on their own
//! ("what was served": `/v1/models` tells the world which models exist, `/internal/**` is
//! the leak itself).
//!
//! A pattern is matched against the request path without its query string, segment by
//! segment (segments are separated by `/`):
//! - it must start with `/`;
//! - `*` matches any run of characters within one segment (never a `/`), so `/v1/*` matches
//!   `/v1/models` but not `/v1/models/x`, and `/v1/model*` matches `/v1/models`;
//! - `**`, as a whole segment, matches zero or more whole segments, so `/internal/**` matches
//!   `/internal`, `/internal/` and `/internal/a/b`; `**` inside a segment (`/a**`) is an error;
//! - every other character matches itself (case-sensitive; no `?`, `[…]` or `{…}` syntax:
//!   those characters are rejected so that a pattern never means something unexpected).

/// One `sensitive` rule of a service: a path glob and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitivePath {
    /// The pattern as written (e.g. `/internal/**`).
    pub path: String,
    /// What the path is (e.g. `internal API`).
    pub label: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: zero or more segments.
    Any,
    /// A segment pattern, `*` matching within the segment.
    Glob(String),
}

impl SensitivePath {
    /// Compile `path` (see the module docs); the error says what is wrong with the pattern.
    ///
    /// # Errors
    /// When the pattern does not start with `/`, uses `**` inside a segment, uses `?`, `[`,
    /// `]`, `{` or `}`, or when the label is empty.
    pub fn new(path: &str, label: &str) -> Result<SensitivePath, String> {
        if !path.starts_with('/') {
            return Err(format!("sensitive `path` {path:?} must start with `/`"));
        }
        if let Some(c) = path.chars().find(|c| matches!(c, '?' | '[' | ']' | '{' | '}')) {
            return Err(format!(
                "sensitive `path` {path:?}: `{c}` is not supported (only `*` and `**` are globs)"
            ));
        }
        let mut segments = Vec::new();
        for seg in path[1..].split('/') {
            if seg == "**" {
                segments.push(Segment::Any);
            } else if seg.contains("**") {
                return Err(format!(
                    "sensitive `path` {path:?}: `**` must be a whole segment (`/a/**`, not `/a**`)"
                ));
            } else {
                segments.push(Segment::Glob(seg.to_string()));
            }
        }
        let label = label.trim();
        if label.is_empty() {
            return Err(format!("sensitive `label` of {path:?} must not be empty"));
        }
        Ok(SensitivePath { path: path.to_string(), label: label.to_string(), segments })
    }

    /// Whether a request path (without query) matches the pattern.
    #[must_use]
    pub fn matches(&self, path: &str) -> bool {
        let Some(rest) = path.strip_prefix('/') else { return false };
        let parts: Vec<&str> = rest.split('/').collect();
        match_segments(&self.segments, &parts)
    }
}

fn match_segments(pattern: &[Segment], parts: &[&str]) -> bool {
    match pattern.split_first() {
        None => parts.is_empty(),
        Some((Segment::Any, rest)) => {
            (0..=parts.len()).any(|skip| match_segments(rest, &parts[skip..]))
        }
        Some((Segment::Glob(g), rest)) => match parts.split_first() {
            Some((part, tail)) => match_segment(g, part) && match_segments(rest, tail),
            None => false,
        },
    }
}

/// `*`-glob match of one segment.
fn match_segment(pattern: &str, text: &str) -> bool {
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else { return false };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else { return rest.is_empty() };
    for piece in middle {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, path: &str) -> bool {
        SensitivePath::new(p, "x").unwrap().matches(path)
    }

    #[test]
    fn exact_paths() {
        assert!(m("/v1/models", "/v1/models"));
        assert!(!m("/v1/models", "/v1/models/"));
        assert!(!m("/v1/models", "/v1/models/gpt"));
        assert!(!m("/v1/models", "/v1/model"));
        assert!(!m("/v1/models", "/V1/models"));
    }

    #[test]
    fn star_stays_in_its_segment() {
        assert!(m("/v1/*", "/v1/models"));
        assert!(m("/v1/*", "/v1/"));
        assert!(!m("/v1/*", "/v1/models/x"));
        assert!(m("/v1/model*", "/v1/models"));
        assert!(m("/v1/*s", "/v1/models"));
        assert!(!m("/v1/*s", "/v1/model"));
        assert!(m("/a/*b*c", "/a/xbyc"));
        assert!(!m("/a/*b*c", "/a/xcyb"));
        assert!(m("/*/models", "/v2/models"));
    }

    #[test]
    fn double_star_spans_segments() {
        assert!(m("/internal/**", "/internal"));
        assert!(m("/internal/**", "/internal/"));
        assert!(m("/internal/**", "/internal/benchmarks"));
        assert!(m("/internal/**", "/internal/a/b/c"));
        assert!(!m("/internal/**", "/internals"));
        assert!(!m("/internal/**", "/v1/internal/x"));
        assert!(m("/**/admin", "/admin"));
        assert!(m("/**/admin", "/a/b/admin"));
        assert!(!m("/**/admin", "/a/b/admin/x"));
        assert!(m("/**", "/anything/at/all"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(SensitivePath::new("v1/models", "x").unwrap_err().contains("start with `/`"));
        assert!(SensitivePath::new("/a**", "x").unwrap_err().contains("whole segment"));
        assert!(SensitivePath::new("/a/?", "x").unwrap_err().contains("not supported"));
        assert!(SensitivePath::new("/a/[b]", "x").unwrap_err().contains("not supported"));
        assert!(SensitivePath::new("/a", " ").unwrap_err().contains("label"));
    }
}
