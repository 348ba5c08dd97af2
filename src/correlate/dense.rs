//! A vector that grows by fixed chunks (the actor ledger, a window's first successes): the
//! tables that grow with the number of distinct clients never double and copy.

/// Elements per chunk (3 MiB of actor states).
pub(crate) const CHUNK: usize = 1 << 16;

/// A vector that grows by fixed chunks of `C` elements instead of doubling: no reallocation
/// (no moment with the old and the new buffer both alive, no copy) and at most one partly
/// filled chunk, so the table costs its elements' size per actor, not up to three times that
/// while growing. Indexing is one extra load from the (small, cached) chunk list.
///
/// Every chunk but the last is full (`C` elements): element `i` is in chunk `i / C`.
#[derive(Debug, Clone)]
pub(crate) struct Dense<T, const C: usize = CHUNK> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T, const C: usize> Default for Dense<T, C> {
    fn default() -> Self {
        Dense { chunks: Vec::new(), len: 0 }
    }
}

/// Where [`Dense::append`] put the appended table's elements: old index → new index.
///
/// The appended table's last `moved` elements fill this table's partly filled last chunk
/// (in order, from `base`); its first `kept` elements follow in their own chunks, unmoved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shift {
    base: usize,
    moved: usize,
    kept: usize,
}

impl Shift {
    /// The new index of the appended table's element `old`.
    #[must_use]
    pub(crate) fn map(&self, old: usize) -> usize {
        if old < self.kept { self.base + self.moved + old } else { self.base + (old - self.kept) }
    }
}

impl<T, const C: usize> Dense<T, C> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < C => c.push(value),
            _ => {
                // The first chunk grows as a `Vec` does (most tables stay small: a live
                // per-second cell holds a few entries) up to a full chunk; later chunks are
                // allocated whole.
                let mut c = if self.chunks.is_empty() { Vec::new() } else { Vec::with_capacity(C) };
                c.push(value);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    /// Move every element of `other` to the end of this table, without copying its full
    /// chunks: they are taken over as they are. Only what fills this table's partly filled
    /// last chunk is moved (at most `C - 1` elements, from the end of `other`), so the
    /// elements do not keep their order: [`Shift::map`] says where each went.
    pub(crate) fn append(&mut self, mut other: Dense<T, C>) -> Shift {
        let base = self.len;
        let room = match self.len % C {
            0 => 0,
            filled => C - filled,
        };
        let moved = room.min(other.len);
        let kept = other.len - moved;
        if moved > 0 {
            let mut tail = Vec::with_capacity(moved);
            while tail.len() < moved {
                let Some(last) = other.chunks.last_mut() else { break };
                let take = (moved - tail.len()).min(last.len());
                // Taken from the end backwards: reversed once complete.
                tail.extend(last.drain(last.len() - take..).rev());
                if last.is_empty() {
                    other.chunks.pop();
                }
            }
            tail.reverse();
            if let Some(mine) = self.chunks.last_mut() {
                mine.extend(tail);
            }
        }
        self.chunks.append(&mut other.chunks);
        self.len += moved + kept;
        Shift { base, moved, kept }
    }

    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / C).and_then(|c| c.get(i % C))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.chunks.iter_mut().flatten()
    }

    pub(crate) fn into_iter(self) -> impl Iterator<Item = T> {
        self.chunks.into_iter().flatten()
    }
}

impl<T, const C: usize> std::ops::Index<usize> for Dense<T, C> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.chunks[i / C][i % C]
    }
}

impl<T, const C: usize> std::ops::IndexMut<usize> for Dense<T, C> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / C][i % C]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(range: std::ops::Range<u32>) -> Dense<u32, 4> {
        let mut d = Dense::default();
        for v in range {
            d.push(v);
        }
        d
    }

    #[test]
    fn append_keeps_every_element_where_the_shift_says_and_chunks_full() {
        for mine in 0..10_u32 {
            for theirs in 0..10_u32 {
                let mut a = table(0..mine);
                let b = table(100..100 + theirs);
                let shift = a.append(b);
                assert_eq!(a.len(), (mine + theirs) as usize);
                for old in 0..theirs as usize {
                    assert_eq!(a[shift.map(old)], 100 + old as u32, "{mine}+{theirs} at {old}");
                }
                for i in 0..mine as usize {
                    assert_eq!(a[i], i as u32, "own elements stay put");
                }
                // Every chunk but the last is full: indexing and pushing still work.
                let n = a.chunks.len();
                assert!(a.chunks.iter().take(n.saturating_sub(1)).all(|c| c.len() == 4));
                a.push(999);
                assert_eq!(a[a.len() - 1], 999);
                assert_eq!(a.iter().count(), a.len());
            }
        }
    }
}
