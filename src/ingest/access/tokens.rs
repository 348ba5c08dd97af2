//! A quote-aware, space-separated tokenizer over one line (CLF, Envoy text, ALB).
//!
//! Quoted tokens may contain `\"` and `\\` (Apache); the closing quote must be followed by a
//! space or the end of the line, which is how glued records (`..."ua"10.0.0.1 - - [...`)
//! are recognised as malformed instead of being half-parsed.

/// One token: the bytes inside the quotes (still escaped) or a bare word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    Quoted(&'a [u8]),
    Bare(&'a [u8]),
}

/// Whether a field holds a backslash, when a scan already knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escapes {
    /// No backslash: the field is copied as it is.
    None,
    Some,
    /// Not scanned (no quoted token yet): look.
    Unknown,
}

#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
    /// Whether the last quoted token held a backslash (its scan saw every one).
    escapes: Escapes,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Cursor { b, pos: 0, escapes: Escapes::Unknown }
    }

    /// What the scan of the last quoted token saw: callers pass it on to
    /// [`LineText::push_field_known`](super::escape::LineText::push_field_known) instead of
    /// searching the field for `\` again.
    pub(crate) fn escapes(&self) -> Escapes {
        self.escapes
    }

    fn skip_spaces(&mut self) {
        while self.pos < self.b.len() && self.b[self.pos] == b' ' {
            self.pos += 1;
        }
    }

    /// The next token, `None` at the end; `Err` for an unterminated quote or text glued to
    /// a closing quote.
    pub(crate) fn next(&mut self) -> Result<Option<Tok<'a>>, &'static str> {
        self.skip_spaces();
        if self.pos >= self.b.len() {
            return Ok(None);
        }
        if self.b[self.pos] == b'"' {
            let start = self.pos + 1;
            self.escapes = Escapes::None;
            // `"-"` and `""` (the usual referer) end within two bytes: no search needed.
            let i = match self.b.get(start..) {
                Some([b'"', ..]) => start,
                Some([c, b'"', ..]) if *c != b'\\' => start + 1,
                _ => self.closing_quote(start)?,
            };
            let inner = &self.b[start..i];
            self.pos = i + 1;
            if self.pos < self.b.len() && self.b[self.pos] != b' ' {
                return Err("text glued to a closing quote");
            }
            return Ok(Some(Tok::Quoted(inner)));
        }
        // Bare tokens are short (status, byte counts): a plain loop beats memchr's setup.
        let start = self.pos;
        let end =
            self.b[start..].iter().position(|&c| c == b' ').map_or(self.b.len(), |o| start + o);
        self.pos = end;
        Ok(Some(Tok::Bare(&self.b[start..end])))
    }

    /// The index of the quote closing a field that starts at `start`, skipping `\`-escaped
    /// bytes (and noting that there were some).
    fn closing_quote(&mut self, start: usize) -> Result<usize, &'static str> {
        let mut i = start;
        loop {
            let off =
                memchr::memchr2(b'"', b'\\', &self.b[i..]).ok_or("unterminated quoted field")?;
            i += off;
            if self.b[i] == b'"' {
                return Ok(i);
            }
            self.escapes = Escapes::Some;
            i += 2;
            if i > self.b.len() {
                return Err("unterminated quoted field");
            }
        }
    }

    /// The next token, which must be quoted.
    pub(crate) fn quoted(&mut self, field: &'static str) -> Result<&'a [u8], String> {
        match self.next() {
            Ok(Some(Tok::Quoted(b))) => Ok(b),
            Ok(Some(Tok::Bare(_))) => Err(format!("{field}: expected a quoted field")),
            Ok(None) => Err(format!("{field}: missing (line truncated?)")),
            Err(e) => Err(format!("{field}: {e}")),
        }
    }

    /// The next token, which must be bare.
    pub(crate) fn bare(&mut self, field: &'static str) -> Result<&'a [u8], String> {
        match self.next() {
            Ok(Some(Tok::Bare(b))) => Ok(b),
            Ok(Some(Tok::Quoted(_))) => Err(format!("{field}: unexpected quoted field")),
            Ok(None) => Err(format!("{field}: missing (line truncated?)")),
            Err(e) => Err(format!("{field}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_bare_and_escapes() {
        let mut c = Cursor::new(br#""GET / HTTP/1.1" 200  "a \"b\" \\" -"#);
        assert_eq!(c.next(), Ok(Some(Tok::Quoted(b"GET / HTTP/1.1"))));
        assert_eq!(c.next(), Ok(Some(Tok::Bare(b"200"))));
        assert_eq!(c.next(), Ok(Some(Tok::Quoted(br#"a \"b\" \\"#))));
        assert_eq!(c.next(), Ok(Some(Tok::Bare(b"-"))));
        assert_eq!(c.next(), Ok(None));
    }

    #[test]
    fn short_fields_and_what_the_scan_saw() {
        let mut c = Cursor::new(br#""-" "" "a" "\"" "ab""#);
        for want in [&b"-"[..], b"", b"a", br#"\""#, b"ab"] {
            assert_eq!(c.next(), Ok(Some(Tok::Quoted(want))));
            let escaped = want.contains(&b'\\');
            assert_eq!(c.escapes(), if escaped { Escapes::Some } else { Escapes::None });
        }
        // An escaped quote is not a closing one, however short the field.
        assert!(Cursor::new(br#""\" x"#).next().is_err());
    }

    #[test]
    fn glued_and_unterminated() {
        assert!(Cursor::new(br#""ua"10.0.0.1"#).next().is_err());
        assert!(Cursor::new(br#""abc"#).next().is_err());
        assert!(Cursor::new(br#""abc\"#).next().is_err());
    }
}
