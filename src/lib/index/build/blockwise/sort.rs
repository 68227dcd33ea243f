//! Sorting suffixes a block at a time. A suffix travels as one `u128`
//! item: the 32 bases from some depth in the high half, then how many of
//! them are real (`rem`, 32 when the suffix goes on), then its position.
//! Items sort as their suffixes do as far as the key reaches; runs still
//! equal are re-keyed 32 bases deeper until they part or reach the cap,
//! where the caller breaks the tie.
//!
//! Blocks are ranges of 64-bit keys (the first 32 bases), planned from a
//! histogram of the keys' top bits, splitting crowded bins further, so
//! that every block holds at most `max_block` suffixes (a single key that
//! alone has more is a block of its own).

use std::ops::Range;
use std::sync::Mutex;

use rayon::prelude::*;

use super::cover::Cover;
use super::text::{PackedText, WORD};
use crate::index::IndexError;

/// Low bits of an item holding the position.
pub const POS_BITS: u32 = 40;
const POS_MASK: u64 = (1 << POS_BITS) - 1;
/// Set on an item whose suffix equals the previous one up to the cap
/// (after sorting; used to name the sample's prefixes).
pub const SAME: u128 = 1 << 63;

/// The item of suffix `p` keyed at `depth`.
#[inline(always)]
pub fn item(text: &PackedText, p: u64, depth: u64) -> u128 {
    let q = p + depth;
    ((text.key(q) as u128) << 64) | ((text.rem(q) << POS_BITS) | p) as u128
}

#[inline(always)]
pub fn pos(item: u128) -> u64 {
    item as u64 & POS_MASK
}

/// Key and `rem` (what decides the order at the current depth).
#[inline(always)]
fn class(item: u128) -> u128 {
    (item & !SAME) >> POS_BITS
}

#[inline(always)]
fn goes_on(class: u128) -> bool {
    class as u64 & 0x3f == WORD
}

/// An inclusive range of 64-bit keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRange {
    pub lo: u64,
    pub hi: u64,
}

impl KeyRange {
    pub const ALL: KeyRange = KeyRange {
        lo: 0,
        hi: u64::MAX,
    };

    #[inline(always)]
    fn contains(&self, key: u64) -> bool {
        self.lo <= key && key <= self.hi
    }
}

/// Which suffixes are sorted: all of `X` but the empty one, or those of
/// the difference-cover sample.
#[derive(Clone, Copy)]
pub enum Domain<'a> {
    All,
    Sample(&'a Cover),
}

impl Domain<'_> {
    /// `k` (or fewer) pieces of work covering the domain: position ranges
    /// (word-aligned) for `All`, ranges of periods for `Sample`.
    fn pieces(&self, n: u64, k: u64) -> Vec<Range<u64>> {
        let (total, align) = match self {
            Domain::All => (n, WORD),
            Domain::Sample(cover) => (n / cover.period() + 1, 1),
        };
        let step = total.div_ceil(k.max(1)).next_multiple_of(align).max(align);
        (0..total)
            .step_by(step as usize)
            .map(|a| a..(a + step).min(total))
            .collect()
    }

    /// Calls `f(p, key(p))` for every suffix `p < n` of the piece.
    #[inline]
    fn visit(&self, text: &PackedText, piece: Range<u64>, mut f: impl FnMut(u64, u64)) {
        match self {
            Domain::All => text.for_each_key(piece, f),
            Domain::Sample(cover) => {
                let v = cover.period();
                let n = text.len();
                for q in piece {
                    for &d in cover.members() {
                        let p = q * v + d;
                        if p < n {
                            f(p, text.key(p));
                        }
                    }
                }
            }
        }
    }
}

/// Counts of the keys in `range`, binned by `(key - lo) >> shift`.
fn histogram(
    text: &PackedText,
    domain: Domain<'_>,
    range: KeyRange,
    shift: u32,
    bins: usize,
) -> Vec<u64> {
    let threads = rayon::current_num_threads() as u64;
    // Pieces below 2^31 suffixes keep 32-bit counts exact.
    let k = threads.max(text.len() >> 31).max(1);
    let pieces = domain.pieces(text.len(), k);
    let mut total = vec![0u64; bins];
    for round in pieces.chunks(threads as usize) {
        let parts: Vec<Vec<u32>> = round
            .par_iter()
            .map(|piece| {
                let mut h = vec![0u32; bins];
                domain.visit(text, piece.clone(), |_, key| {
                    if range.contains(key) {
                        h[((key - range.lo) >> shift) as usize] += 1;
                    }
                });
                h
            })
            .collect();
        for h in parts {
            for (t, x) in total.iter_mut().zip(h) {
                *t += x as u64;
            }
        }
    }
    total
}

/// Key ranges, in order, of blocks of at most `max_block` suffixes (but
/// for single keys that have more), with their sizes.
pub fn plan(
    text: &PackedText,
    domain: Domain<'_>,
    max_block: u64,
    first_bits: u32,
) -> Vec<(KeyRange, u64)> {
    let mut out = Vec::new();
    plan_range(
        text,
        domain,
        KeyRange::ALL,
        64,
        max_block,
        first_bits,
        &mut out,
    );
    out
}

fn plan_range(
    text: &PackedText,
    domain: Domain<'_>,
    range: KeyRange,
    width: u32,
    max_block: u64,
    first_bits: u32,
    out: &mut Vec<(KeyRange, u64)>,
) {
    let bits = first_bits.clamp(1, width);
    let shift = width - bits;
    let counts = histogram(text, domain, range, shift, 1 << bits);
    let mut current: Option<(KeyRange, u64)> = None;
    for (b, &count) in counts.iter().enumerate() {
        let lo = range.lo + ((b as u64) << shift);
        let bin = KeyRange {
            lo,
            hi: lo + ((1u64 << shift) - 1),
        };
        if count > max_block && shift > 0 {
            out.extend(current.take());
            plan_range(text, domain, bin, shift, max_block, first_bits, out);
            continue;
        }
        match &mut current {
            Some((r, size)) if *size + count <= max_block => {
                r.hi = bin.hi;
                *size += count;
            }
            _ => {
                out.extend(current.take());
                current = Some((bin, count));
            }
        }
    }
    out.extend(current);
}

/// The items (at depth 0) of the domain's suffixes whose keys lie in
/// `range`, in no particular order; `count` is how many there are.
pub fn collect(
    text: &PackedText,
    domain: Domain<'_>,
    range: KeyRange,
    count: u64,
    path: &std::path::Path,
) -> Result<Vec<u128>, IndexError> {
    let mut items = Vec::new();
    items
        .try_reserve_exact(count as usize)
        .map_err(|_| IndexError::OutOfMemory {
            path: path.to_path_buf(),
            what: "a block of suffixes",
            bytes: count * 16,
        })?;
    let shared = Mutex::new(&mut items);
    let threads = rayon::current_num_threads() as u64;
    const LOCAL: usize = 1 << 14;
    domain
        .pieces(text.len(), threads * 8)
        .into_par_iter()
        .for_each(|piece| {
            let mut local: Vec<u128> = Vec::with_capacity(LOCAL);
            domain.visit(text, piece, |p, key| {
                if range.contains(key) {
                    local.push(((key as u128) << 64) | ((text.rem(p) << POS_BITS) | p) as u128);
                    if local.len() == LOCAL {
                        shared
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .extend_from_slice(&local);
                        local.clear();
                    }
                }
            });
            shared
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(&local);
        });
    debug_assert_eq!(items.len() as u64, count);
    Ok(items)
}

/// Sorts `items` by their suffixes up to `cap` bases (at least; in steps
/// of 32); `tied` then orders each run still equal there.
pub fn sort_items<F>(text: &PackedText, items: &mut [u128], cap: u64, tied: &F)
where
    F: Fn(&mut [u128]) + Sync,
{
    items.par_sort_unstable();
    // Pieces for the threads, cut where the class changes.
    let k = rayon::current_num_threads() * 16;
    let mut pieces: Vec<&mut [u128]> = Vec::with_capacity(k + 1);
    let mut rest = items;
    let step = (rest.len() / k).max(1 << 12);
    while rest.len() > step {
        let mut cut = step;
        while cut < rest.len() && class(rest[cut]) == class(rest[cut - 1]) {
            cut += 1;
        }
        let (head, tail) = rest.split_at_mut(cut);
        pieces.push(head);
        rest = tail;
    }
    pieces.push(rest);
    pieces
        .into_par_iter()
        .for_each(|piece| refine(text, piece, cap, tied));
}

/// `items` sorted at depth 0: sorts every run of equal class deeper.
fn refine<F: Fn(&mut [u128])>(text: &PackedText, items: &mut [u128], cap: u64, tied: &F) {
    let mut stack = vec![(0usize, items.len(), 0u64)];
    while let Some((s, e, depth)) = stack.pop() {
        let mut i = s;
        while i < e {
            let c = class(items[i]);
            let mut j = i + 1;
            while j < e && class(items[j]) == c {
                j += 1;
            }
            if j - i > 1 && goes_on(c) {
                let deeper = depth + WORD;
                let run = &mut items[i..j];
                if deeper >= cap {
                    tied(run);
                } else {
                    for it in run.iter_mut() {
                        *it = item(text, pos(*it), deeper);
                    }
                    run.sort_unstable();
                    stack.push((i, j, deeper));
                }
            }
            i = j;
        }
    }
}
