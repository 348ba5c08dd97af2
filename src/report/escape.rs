//! Escaping for HTML and Markdown. Every string that reaches a report passes through here
//! (after [`crate::text::strip`] dropped what the shared terminal rule names: controls, bidi,
//! separators, zero-width characters).
//!
//! Invariants: HTML output of [`html`] contains no `<`, `>`, `&` (except entities), `"` or `'`,
//! so it is inert both in text and in quoted attributes (we still never put attacker text in
//! attributes). Markdown output of [`md_code`] is one code span whose fence is longer than any
//! backtick run inside, so nothing inside is parsed; in tables `|` is escaped as `\|`, which GFM
//! removes before the code span is parsed.

use std::fmt::Write as _;

use super::text::clean;

/// HTML-escape (after cleaning) for text nodes and quoted attributes.
#[must_use]
pub fn html(s: &str) -> String {
    html_raw(&clean(s))
}

/// HTML-escape without cleaning or cutting (for leakline's own text, which is clean).
#[must_use]
pub fn html_raw(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where a Markdown fragment goes: table cells need `|` escaped, prose must not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MdContext {
    Prose,
    TableCell,
}

/// A Markdown code span holding `s` literally (cleaned). Empty input gives `—`.
#[must_use]
pub fn md_code(s: &str, ctx: MdContext) -> String {
    let body = clean(s);
    if body.trim().is_empty() {
        return "—".to_owned();
    }
    let longest_run = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = body.starts_with('`')
        || body.ends_with('`')
        || (body.starts_with(' ') && body.ends_with(' '));
    let body = if ctx == MdContext::TableCell { escape_pipes(&body) } else { body };
    let mut out = String::with_capacity(body.len() + 2 * fence.len() + 2);
    let sp = if pad { " " } else { "" };
    let _ = write!(out, "{fence}{sp}{body}{sp}{fence}");
    out
}

/// `|` → `\|` for GFM table cells. GFM reads `\\` as an escaped backslash before it looks for
/// cell separators, so a backslash right before a pipe would un-escape it: that backslash is
/// shown as `⧵` (U+29F5) instead. Cells only; the JSON report keeps the exact bytes.
fn escape_pipes(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => out.push('\u{29F5}'),
            '|' => out.push_str("\\|"),
            c => out.push(c),
        }
    }
    out
}

/// Markdown-escape operator text (cleaned): the characters that can start markup are
/// backslash-escaped (`[` `]` so no link or image, `<` `>` `&` so no HTML or entity, `|` so no
/// table break, `*` `_` `~` `` ` `` so no emphasis or code, `#` `!`), plus scheme colons so
/// no autolink forms. Parentheses, `=` and digits' colons stay as they are: without `[`/`]`
/// they cannot form a link, and they keep pasted text readable.
#[must_use]
pub fn md_text(s: &str) -> String {
    let body = clean(s);
    let chars: Vec<char> = body.chars().collect();
    let mut out = String::with_capacity(body.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let escape = match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '|' | '~' | '&' => true,
            // A scheme colon (`javascript:x`, `https://`) so GFM cannot autolink; times
            // (`12:29:30`) and prose (`added: x`) stay readable.
            ':' => {
                i > 0
                    && chars[i - 1].is_ascii_alphabetic()
                    && chars.get(i + 1).is_some_and(|n| !n.is_whitespace())
            }
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_everything_markup() {
        assert_eq!(
            html("<img src=x onerror='a'>&\"\u{1b}[31m"),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;[31m"
        );
    }

    #[test]
    fn code_span_fence_outgrows_backticks() {
        assert_eq!(md_code("a`b", MdContext::Prose), "``a`b``");
        assert_eq!(md_code("``x", MdContext::Prose), "``` ``x ```");
        assert_eq!(md_code("", MdContext::Prose), "—");
        assert_eq!(md_code("a|b\nc", MdContext::TableCell), "`a\\|b c`");
        assert_eq!(md_code("a|b", MdContext::Prose), "`a|b`");
        assert_eq!(md_code("a\\|b", MdContext::TableCell), "`a\u{29F5}\\|b`");
    }

    #[test]
    fn md_text_neutralizes_links_and_html() {
        let out = md_text("[x](javascript:alert(1)) <b>| at 12:29:30: https://e.x");
        assert_eq!(out, "\\[x\\](javascript\\:alert(1)) \\<b\\>\\| at 12:29:30: https\\://e.x");
    }
}
