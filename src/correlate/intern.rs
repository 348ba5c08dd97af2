//! String interning for the attacker-controlled strings the engine keeps (user agents,
//! methods, targets, paths): each distinct string is stored once and referred to by a `u32`.
//!
//! Strings longer than `MAX_INTERNED` bytes are cut (at a character boundary) before
//! interning, so one hostile request cannot make the table grow by megabytes.

use std::collections::HashMap;

/// Longest string kept, in bytes.
pub const MAX_INTERNED: usize = 1024;

#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: HashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl Interner {
    /// The id of `s` (cut to `MAX_INTERNED` bytes), adding it when new.
    pub fn intern(&mut self, s: &str) -> u32 {
        let s = cut(s);
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    /// The string of an id (empty for an unknown id).
    #[must_use]
    pub fn get(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

fn cut(s: &str) -> &str {
    if s.len() <= MAX_INTERNED {
        return s;
    }
    let mut end = MAX_INTERNED;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once_and_cuts_long_strings() {
        let mut i = Interner::default();
        let a = i.intern("GET");
        assert_eq!(i.intern("GET"), a);
        let long = "é".repeat(MAX_INTERNED);
        let id = i.intern(&long);
        assert!(i.get(id).len() <= MAX_INTERNED);
        assert_eq!(i.len(), 2);
    }
}
