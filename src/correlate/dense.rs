//! A vector that grows by fixed chunks (the actor ledger, a window's first successes): the
//! tables that grow with the number of distinct clients never double and copy.

/// Elements per chunk (4 MiB of actor states).
const CHUNK: usize = 1 << 16;

/// A vector that grows by fixed chunks instead of doubling: no reallocation (no moment with
/// the old and the new buffer both alive, no copy) and at most one partly filled chunk, so
/// the table costs its elements' size per actor, not up to three times that while growing.
/// Indexing is one extra load from the (small, cached) chunk list.
#[derive(Debug, Clone)]
pub(crate) struct Dense<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Dense<T> {
    fn default() -> Self {
        Dense { chunks: Vec::new(), len: 0 }
    }
}

impl<T> Dense<T> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(value),
            _ => {
                // The first chunk grows as a `Vec` does (most tables stay small: a live
                // per-second cell holds a few entries) up to a full chunk; later chunks are
                // allocated whole.
                let mut c =
                    if self.chunks.is_empty() { Vec::new() } else { Vec::with_capacity(CHUNK) };
                c.push(value);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK).and_then(|c| c.get(i % CHUNK))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    pub(crate) fn into_iter(self) -> impl Iterator<Item = T> {
        self.chunks.into_iter().flatten()
    }
}

impl<T> std::ops::Index<usize> for Dense<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> std::ops::IndexMut<usize> for Dense<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}
