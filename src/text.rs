//! Text for people: the one rule for what may reach a terminal or a report, and the one
//! formatter each for bytes, counts, durations and times. Every output (dashboard, the text
//! summaries of `analyze`, `inspect` and `watch --headless`, the Markdown and HTML reports)
//! writes through here, so the same number reads the same everywhere.
//!
//! # What may reach a terminal
//!
//! Paths, user agents, referers, hosts and scanner banners come straight from the internet.
//! Written raw they could move the cursor, retitle the window, write to the clipboard (OSC 52),
//! reorder what the responder reads (bidi overrides) or hide characters (zero-width). One
//! predicate, [`is_unsafe`], names those characters; each output renders them its own way:
//!
//! - [`sanitize`] / [`clean`] (dashboard and text summaries): a *visible* escape (`\x1b`,
//!   `\u{202e}`), so the responder still sees that something hostile was sent;
//! - [`strip`] (Markdown and HTML reports): dropped, line breaks and tabs read as a space;
//!   HTML/Markdown escaping then happens in `report::escape`.

mod time;
mod units;

use std::borrow::Cow;
use std::fmt::Write as _;

pub use time::{clock, full, rfc3339, rfc3339_millis, rfc3339_secs, stamp, utc, utc_near, zone};
pub use units::{bytes, bytes_exact, duration, thousands};

/// The ellipsis that marks a truncated string.
pub const ELLIPSIS: char = '…';

/// Default display budget (characters) for one field on a terminal.
pub const DEFAULT_MAX_CHARS: usize = 200;

/// The longest attacker string shown in a Markdown/HTML report before it is cut (in chars).
/// The JSON outputs always carry full strings.
pub const MAX_SHOWN_CHARS: usize = 240;

/// The rule: `true` for characters that must not reach a terminal or a report as-is.
///
/// - C0 controls (tab and newline included: one event is one line), DEL and C1 controls;
/// - bidi controls: the Arabic letter mark U+061C, LRM/RLM U+200E–200F, embeddings and
///   overrides U+202A–202E, isolates U+2066–2069;
/// - the line and paragraph separators U+2028–2029;
/// - zero-width and invisible characters: U+200B–200D, the word joiner and invisible
///   operators U+2060–2065, the BOM / zero-width no-break space U+FEFF.
#[must_use]
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}'
        | '\u{feff}'
    )
}

/// Terminal rendering: escape unsafe characters visibly and truncate to at most `max_chars`
/// characters (the escapes count), ending with `…` when something was cut. Borrows when
/// nothing needs changing.
///
/// ASCII controls become `\xHH`; other unsafe code points become `\u{HHHH}`. A literal
/// backslash is left alone: the escapes are for the eye, not for round-tripping.
#[must_use]
pub fn sanitize(input: &str, max_chars: usize) -> Cow<'_, str> {
    let needs_escape = input.chars().any(is_unsafe);
    if !needs_escape && input.chars().nth(max_chars).is_none() {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len().min(max_chars.saturating_mul(4)) + 8);
    let mut count = 0usize;
    let mut piece = String::with_capacity(10);
    for c in input.chars() {
        piece.clear();
        if is_unsafe(c) {
            let code = u32::from(c);
            if code < 0x80 {
                let _ = write!(piece, "\\x{code:02x}");
            } else {
                let _ = write!(piece, "\\u{{{code:x}}}");
            }
        } else {
            piece.push(c);
        }
        let len = piece.chars().count();
        if count + len > max_chars {
            return Cow::Owned(truncate_with_ellipsis(out, max_chars));
        }
        out.push_str(&piece);
        count += len;
    }
    Cow::Owned(out)
}

/// [`sanitize`] with the default budget, owned (for widget text and summary lines).
#[must_use]
pub fn clean(input: &str) -> String {
    sanitize(input, DEFAULT_MAX_CHARS).into_owned()
}

/// Fit an already safe string into `width` characters, with `…` when cut.
#[must_use]
pub fn fit(input: &str, width: usize) -> String {
    if input.chars().nth(width).is_none() {
        return input.to_owned();
    }
    truncate_with_ellipsis(input.to_owned(), width)
}

/// Cut `s` so that, with the ellipsis, it is at most `max_chars` characters.
fn truncate_with_ellipsis(mut s: String, max_chars: usize) -> String {
    if max_chars == 0 {
        return String::new();
    }
    let keep = max_chars - 1;
    if let Some((idx, _)) = s.char_indices().nth(keep) {
        s.truncate(idx);
    }
    s.push(ELLIPSIS);
    s
}

/// Report rendering: unsafe characters are dropped, except line breaks, tabs and the line and
/// paragraph separators, which read as a space. Cut at [`MAX_SHOWN_CHARS`] with
/// `… (+N chars)`.
#[must_use]
pub fn strip(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_SHOWN_CHARS * 4));
    let mut shown = 0usize;
    let mut total = 0usize;
    for c in s.chars() {
        let mapped = match c {
            '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}' => Some(' '),
            c if is_unsafe(c) => None,
            c => Some(c),
        };
        if let Some(c) = mapped {
            total += 1;
            if shown < MAX_SHOWN_CHARS {
                out.push(c);
                shown += 1;
            }
        }
    }
    if total > shown {
        let _ = write!(out, "… (+{} chars)", total - shown);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One representative of every class the rule names.
    const HOSTILE: [char; 15] = [
        '\u{1b}', '\u{7}', '\u{7f}', '\u{9b}', '\u{61c}', '\u{200b}', '\u{200d}', '\u{200e}',
        '\u{2028}', '\u{2029}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2060}', '\u{feff}',
    ];

    #[test]
    fn every_class_is_unsafe_and_ordinary_text_is_not() {
        for c in HOSTILE {
            assert!(is_unsafe(c), "{c:?}");
        }
        for c in ['a', ' ', '/', '\\', 'é', '∑', '🦀', '\u{a0}', '\u{2027}', '\u{206a}'] {
            assert!(!is_unsafe(c), "{c:?}");
        }
    }

    #[test]
    fn every_rendering_removes_every_class() {
        let hostile: String = HOSTILE.iter().flat_map(|&c| ['x', c]).collect();
        assert!(!clean(&hostile).chars().any(is_unsafe));
        assert!(!strip(&hostile).chars().any(is_unsafe));
        assert_eq!(strip(&hostile).chars().filter(|&c| c == 'x').count(), HOSTILE.len());
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(sanitize("/v1/models", 50), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_sequences_become_visible() {
        let s = sanitize("\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J", 100);
        assert_eq!(s, "\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J");
        assert!(!s.chars().any(is_unsafe));
    }

    #[test]
    fn c1_bidi_separators_and_zero_width_are_escaped() {
        assert_eq!(sanitize("a\u{9b}b", 20), "a\\u{9b}b");
        assert_eq!(sanitize("evil\u{202e}gpj.exe", 40), "evil\\u{202e}gpj.exe");
        assert_eq!(sanitize("x\u{2066}y\u{200f}", 40), "x\\u{2066}y\\u{200f}");
        assert_eq!(sanitize("a\u{2028}b\u{feff}c\u{200b}", 40), "a\\u{2028}b\\u{feff}c\\u{200b}");
        assert_eq!(sanitize("\u{61c}x", 40), "\\u{61c}x");
    }

    #[test]
    fn newline_and_tab_are_escaped() {
        assert_eq!(sanitize("a\nb\tc\r", 40), "a\\x0ab\\x09c\\x0d");
    }

    #[test]
    fn long_strings_are_truncated_with_ellipsis() {
        let long = "A".repeat(500);
        let s = sanitize(&long, 10);
        assert_eq!(s.chars().count(), 10);
        assert!(s.ends_with(ELLIPSIS));
        // An escape is never cut in half.
        let s = sanitize("abcdefgh\u{1b}", 10);
        assert_eq!(s, "abcdefgh…");
    }

    #[test]
    fn unbounded_budget_escapes_without_cutting() {
        let long = format!("{}\u{1b}", "a".repeat(300));
        let s = sanitize(&long, usize::MAX);
        assert_eq!(s.chars().count(), 304);
        assert!(s.ends_with("a\\x1b"));
    }

    #[test]
    fn zero_budget_is_empty() {
        assert_eq!(sanitize("abc", 0), "");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "ab…");
    }

    #[test]
    fn strip_drops_controls_bidi_and_cuts() {
        assert_eq!(strip("a\u{1b}]8;;x\u{7}b\nc\u{0}\u{202E}d\u{85}"), "a]8;;xb cd");
        assert_eq!(strip("a\u{2028}b\u{2029}c\u{200b}d\u{feff}"), "a b cd");
        let long = "x".repeat(MAX_SHOWN_CHARS + 5);
        assert!(strip(&long).ends_with("… (+5 chars)"));
    }
}
