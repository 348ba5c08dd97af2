//! Make attacker-controlled text safe to put on a terminal.
//!
//! Paths, user agents, referers, hosts and scanner banners come straight from the internet.
//! Written raw they could move the cursor, retitle the window, write to the clipboard (OSC 52)
//! or reorder what the responder reads (bidi overrides). Every such string goes through
//! [`sanitize`] before it reaches a widget: dangerous characters become *visible* escapes
//! (`\x1b`, `\u{202e}`) so the responder still sees that something hostile was sent.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The ellipsis that marks a truncated string.
pub const ELLIPSIS: char = '…';

/// Default display budget (characters) for one field.
pub const DEFAULT_MAX_CHARS: usize = 200;

/// Returns `true` for characters that must not reach the terminal as-is: C0 controls (including
/// tab and newline: one event is one line), DEL, C1 controls, bidi embeddings/overrides/isolates
/// and marks, line/paragraph separators, zero-width characters and the BOM.
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

/// Escape unsafe characters and truncate to at most `max_chars` characters (the escapes
/// count), ending with `…` when something was cut. Borrows when nothing needs changing.
///
/// ASCII controls become `\xHH`; other unsafe code points become `\u{HHHH}`. A literal
/// backslash is left alone: the escapes are for the eye, not for round-tripping.
#[must_use]
pub fn sanitize(input: &str, max_chars: usize) -> Cow<'_, str> {
    let needs_escape = input.chars().any(is_unsafe);
    if !needs_escape && input.chars().nth(max_chars).is_none() {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len().min(max_chars * 4) + 8);
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

/// Sanitize with the default budget, returning an owned string (for widget text).
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn c1_and_bidi_are_escaped() {
        assert_eq!(sanitize("a\u{9b}b", 20), "a\\u{9b}b");
        assert_eq!(sanitize("evil\u{202e}gpj.exe", 40), "evil\\u{202e}gpj.exe");
        assert_eq!(sanitize("x\u{2066}y\u{200f}", 40), "x\\u{2066}y\\u{200f}");
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
    fn zero_budget_is_empty() {
        assert_eq!(sanitize("abc", 0), "");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "ab…");
    }
}
