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

#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Cursor { b, pos: 0 }
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
            let mut i = start;
            loop {
                let Some(off) = memchr::memchr2(b'"', b'\\', &self.b[i..]) else {
                    return Err("unterminated quoted field");
                };
                i += off;
                if self.b[i] == b'\\' {
                    i += 2;
                    if i > self.b.len() {
                        return Err("unterminated quoted field");
                    }
                    continue;
                }
                break;
            }
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
    fn glued_and_unterminated() {
        assert!(Cursor::new(br#""ua"10.0.0.1"#).next().is_err());
        assert!(Cursor::new(br#""abc"#).next().is_err());
        assert!(Cursor::new(br#""abc\"#).next().is_err());
    }
}
