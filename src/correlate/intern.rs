//! String interning for the attacker-controlled strings the engine keeps (user agents,
//! methods, targets, paths): each distinct string is stored once and referred to by a `u32`.
//!
//! Strings longer than `MAX_INTERNED` bytes are cut (at a character boundary) before
//! interning, so one hostile request cannot make the table grow by megabytes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast multiplicative hasher (the Fx scheme) for keys the engine assigns itself (dense
/// `u32` ids). Not for attacker-chosen keys (strings, client addresses: whoever holds an
/// IPv6 /64 picks 64 bits of its address): those go through [`KeyedMap`], so crafted
/// collisions cannot slow the tables down.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0_u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(SEED);
    }
}

/// A map keyed by engine-assigned ids (see `IdHasher`).
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A map keyed by attacker-chosen values (strings, client addresses): foldhash, seeded at
/// random per process. An attacker who cannot see the seed or the hashes (they write log
/// lines; they never see leakline's tables) cannot aim for collisions. Several times faster
/// than the standard library's `SipHash` on the short strings of access logs, which are
/// hashed for every external request.
pub type KeyedMap<K, V> = HashMap<K, V, foldhash::quality::RandomState>;

/// Longest string kept, in bytes.
pub const MAX_INTERNED: usize = 1024;

#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: KeyedMap<Box<str>, u32>,
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

    /// Every string, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.strings.iter().map(|s| &**s)
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
        assert_eq!(i.iter().count(), 2);
    }
}
