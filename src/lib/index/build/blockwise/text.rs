//! `X` = forward + reverse complement at 2 bits per base, 32 bases to a
//! word, first base in the top bits: the 64-bit word of the 32 bases from
//! any position (zeros past the end) compares as the bases do.

use std::ops::Range;

use rayon::prelude::*;

use crate::index::build::try_alloc;
use crate::index::IndexError;

/// Bases per word.
pub const WORD: u64 = 32;

pub struct PackedText {
    words: Vec<u64>,
    n: u64,
}

impl PackedText {
    /// Packs `forward` followed by its reverse complement (codes 0..=3).
    pub fn new(forward: &[u8], path: &std::path::Path) -> Result<PackedText, IndexError> {
        let l = forward.len() as u64;
        let n = 2 * l;
        // Two words of zeros past the end: `key` reads one word ahead.
        let mut words = try_alloc::<u64>((n / WORD + 2) as usize, "the packed text", path)?;
        let base = |i: u64| -> u64 {
            if i < l {
                forward[i as usize] as u64
            } else if i < n {
                3 - forward[(n - 1 - i) as usize] as u64
            } else {
                0
            }
        };
        words
            .par_chunks_mut(1 << 16)
            .enumerate()
            .for_each(|(k, chunk)| {
                for (j, w) in chunk.iter_mut().enumerate() {
                    let start = ((k << 16) + j) as u64 * WORD;
                    if start >= n {
                        break;
                    }
                    let mut x = 0u64;
                    for i in start..start + WORD {
                        x = (x << 2) | base(i);
                    }
                    *w = x;
                }
            });
        Ok(PackedText { words, n })
    }

    /// Length of `X`.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Heap bytes held.
    pub fn bytes(n: u64) -> u64 {
        (n / WORD + 2) * 8
    }

    /// The base at `i < n`.
    #[inline(always)]
    pub fn base(&self, i: u64) -> u8 {
        let w = self.words[(i / WORD) as usize];
        ((w >> (62 - 2 * (i % WORD))) & 3) as u8
    }

    /// Hints the cache to load the word of base `i` (`i <= n`).
    #[inline(always)]
    pub fn prefetch(&self, i: u64) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch never faults; the address is in bounds anyway.
        unsafe {
            use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(self.words.as_ptr().add((i / WORD) as usize) as *const i8);
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = i;
    }

    /// The 32 bases from `p` (`p <= n`), zeros past the end.
    #[inline(always)]
    pub fn key(&self, p: u64) -> u64 {
        let w = (p / WORD) as usize;
        let both = ((self.words[w] as u128) << 64) | self.words[w + 1] as u128;
        ((both << (2 * (p % WORD))) >> 64) as u64
    }

    /// Bases left from `p` on, capped at 32 (`32` also when more remain).
    #[inline(always)]
    pub fn rem(&self, p: u64) -> u64 {
        (self.n - p).min(WORD)
    }

    /// Calls `f(p, key(p))` for every `p` in `range` (`range.end <= n`),
    /// a word at a time.
    #[inline]
    pub fn for_each_key(&self, range: Range<u64>, mut f: impl FnMut(u64, u64)) {
        let mut p = range.start;
        while p < range.end {
            let w = (p / WORD) as usize;
            let both = ((self.words[w] as u128) << 64) | self.words[w + 1] as u128;
            let end = range.end.min((w as u64 + 1) * WORD);
            for q in p..end {
                f(q, ((both << (2 * (q % WORD))) >> 64) as u64);
            }
            p = end;
        }
    }
}
