//! SMEM seeding (`bwamem.c: mem_collect_intv`; `bwt.c: bwt_smem1a`,
//! `bwt_seed_strategy1`; spec §4).
//!
//! For one read (bases coded 0..=3, N = 4) the seeding stage lists
//! bi-directional FM-index intervals, exactly as bwa does, in three passes:
//!
//! 1. every SMEM (super-maximal exact match) of at least `-k` bases, walking
//!    the read left to right, each search starting where the longest match of
//!    the previous one ended ([`smem1`] with `min_intv = 1`);
//! 2. re-seeding (`-r`, hidden `-s`): inside every pass-1 SMEM of at least
//!    `-k * -r` bases and at most `split_width` occurrences, the SMEMs covering
//!    its middle base that occur more often than it ([`smem1`] with
//!    `min_intv = size + 1`);
//! 3. LAST-like seeds (`-y`, on by default): from the left, the shortest match
//!    longer than `-k` with fewer than `max_mem_intv` occurrences
//!    ([`seed_strategy1`]), the next one starting right after it.
//!
//! The intervals of the three passes are then sorted by query span with bwa's
//! introsort; duplicates are kept. The index is reached only through
//! [`BiIndex`], the two operations of bwa's `bwt_set_intv` and `bwt_extend`.

mod interleave;
mod smem;

#[cfg(test)]
pub(crate) mod naive;

pub use smem::{seed_strategy1, smem1, SmemScratch};

use interleave::{block_on, join, run_both, Ext};
use smem::{seed_strategy1_in, smem1_in};

use crate::options::MemOptions;
use crate::util::ks_introsort;

pub use crate::index::BiInterval;

/// The two FM-index operations seeding needs (spec §2.7).
pub trait BiIndex {
    /// `bwt_set_intv`: the interval of the one-base pattern `c` (0..=3),
    /// `info` zero.
    fn init_interval(&self, c: u8) -> BiInterval;

    /// `bwt_extend`: the four intervals of `ik`'s pattern extended by one
    /// base. With `is_back` the result at index c is the pattern cP; without
    /// it the result at index `3 - c` is Pc. `info` of the results is
    /// unspecified (seeding sets it).
    fn extend(&self, ik: &BiInterval, is_back: bool) -> [BiInterval; 4];

    /// `extend(ik, is_back)[c]`, which an index may compute with less work.
    #[inline(always)]
    fn extend1(&self, ik: &BiInterval, is_back: bool, c: u8) -> BiInterval {
        self.extend(ik, is_back)[c as usize]
    }

    /// Hints that `extend(ik, is_back)` comes soon, so that the memory it
    /// reads can start loading. Changes no result; by default nothing.
    #[inline(always)]
    fn prefetch_extend(&self, ik: &BiInterval, is_back: bool) {
        let _ = (ik, is_back);
    }

    /// The indexed text `X` (forward + reverse complement), when this index
    /// can read it: its length, else `None` (the default). With it, a
    /// match that occurs once is followed by comparing the query with the
    /// text at its one occurrence instead of by extending (see [`smem1`]).
    #[inline(always)]
    fn text_len(&self) -> Option<u64> {
        None
    }

    /// Base code (0..=3) of `X` at `pos < text_len`. Only called when
    /// [`BiIndex::text_len`] is `Some`.
    fn text_base(&self, pos: u64) -> u8 {
        let _ = pos;
        unreachable!("text_base on an index without text")
    }

    /// One step of locating `row` in `X` (bwa's `bwt_sa`): `Ok(pos)` when
    /// the row's suffix is known to start at `pos`, else `Err(next)`, the
    /// row of the suffix one position to the left (so the answer is one
    /// more than `next`'s). Only called when [`BiIndex::text_len`] is
    /// `Some`.
    fn locate_step(&self, row: u64) -> Result<u64, u64> {
        let _ = row;
        unreachable!("locate_step on an index without text")
    }

    /// Hints that `locate_step(row)` comes soon. By default nothing.
    #[inline(always)]
    fn prefetch_locate(&self, row: u64) {
        let _ = row;
    }

    /// Hints that the text from `pos` on is read soon. By default nothing.
    #[inline(always)]
    fn prefetch_text(&self, pos: u64) {
        let _ = pos;
    }
}

/// `x[1]` of every seed that occurs once. Seeding follows a single
/// occurrence through the text rather than the index, which leaves the row
/// of the reverse complement unknown; no later stage reads `x[1]`, and a
/// seed of several occurrences always has it exact. Row 0 is the `$` row,
/// which no pattern's interval starts at, so 0 cannot be taken for a row.
pub const SINGLE_X1: u64 = 0;

/// `iv` with `x[1]` set to [`SINGLE_X1`] when it occurs once.
#[inline]
pub(crate) fn single_x1(mut iv: BiInterval) -> BiInterval {
    if iv.x[2] == 1 {
        iv.x[1] = SINGLE_X1;
    }
    iv
}

/// Query start of a seeded interval (`info >> 32`).
#[inline]
pub fn span_start(iv: &BiInterval) -> usize {
    (iv.info >> 32) as usize
}

/// Query end (exclusive) of a seeded interval (low 32 bits of `info`).
#[inline]
pub fn span_end(iv: &BiInterval) -> usize {
    (iv.info as u32) as usize
}

/// `start << 32 | end` as bwa packs a query span into `info`.
#[inline]
fn pack_span(start: usize, end: usize) -> u64 {
    debug_assert!(start <= end && end <= u32::MAX as usize);
    ((start as u64) << 32) | end as u64
}

/// Per-thread buffers of the seeding stage (bwa's `smem_aux_t`); reusing
/// one across reads means no allocation per read once the buffers have
/// grown to the longest read's needs.
#[derive(Debug, Default)]
pub struct SeedWorkspace {
    scratch: SmemScratch,
    mem1: Vec<BiInterval>,
    /// Pass 3's seeds, found alongside passes 1 and 2.
    last_like: Vec<BiInterval>,
}

impl SeedWorkspace {
    pub fn new() -> Self {
        Self::default()
    }
}

/// `(int)(min_seed_len * split_factor + .499)`: the product is a C float,
/// the rounding constant a double (spec §4.3); 28 with the defaults.
fn split_len(opts: &MemOptions) -> i64 {
    ((opts.min_seed_len as f32 * opts.split_factor) as f64 + 0.499) as i32 as i64
}

/// All seed intervals of one read, as `mem_collect_intv` leaves them in
/// `a->mem` (spec §4.2–§4.5): `out` is cleared, then filled with the
/// intervals of the three passes sorted by `info` (query start, then end).
///
/// `query` holds base codes 0..=3, anything greater is an N and breaks seeds.
/// A read shorter than `min_seed_len` gets no seeds (`mem_chain`).
pub fn collect_intervals<I: BiIndex + ?Sized>(
    index: &I,
    query: &[u8],
    opts: &MemOptions,
    ws: &mut SeedWorkspace,
    out: &mut Vec<BiInterval>,
) {
    block_on(seed_passes(Ext::interleaved(index), query, opts, ws, out));
}

/// Reads seeded together by [`collect_intervals_group`].
pub const SEED_GROUP: usize = 4;

/// [`collect_intervals`] of [`SEED_GROUP`] reads at once (an empty query
/// for a read not there): their searches (two per read) take turns, so
/// that eight occurrence-block misses are in flight. Each read's result
/// is what [`collect_intervals`] gives it.
pub fn collect_intervals_group<I: BiIndex + ?Sized>(
    index: &I,
    queries: [&[u8]; SEED_GROUP],
    opts: &MemOptions,
    ws: [&mut SeedWorkspace; SEED_GROUP],
    out: [&mut Vec<BiInterval>; SEED_GROUP],
) {
    let index = Ext::interleaved(index);
    let [w0, w1, w2, w3] = ws;
    let [o0, o1, o2, o3] = out;
    run_both(
        join(
            seed_passes(index, queries[0], opts, w0, o0),
            seed_passes(index, queries[1], opts, w1, o1),
        ),
        join(
            seed_passes(index, queries[2], opts, w2, o2),
            seed_passes(index, queries[3], opts, w3, o3),
        ),
    );
}

/// The three passes of [`collect_intervals`] through `index`.
async fn seed_passes<I: BiIndex + ?Sized>(
    index: Ext<'_, I>,
    query: &[u8],
    opts: &MemOptions,
    ws: &mut SeedWorkspace,
    out: &mut Vec<BiInterval>,
) {
    out.clear();
    let len = query.len();
    let min_seed_len = opts.min_seed_len as i64;
    if (len as i64) < min_seed_len {
        return;
    }
    let long_enough = |iv: &BiInterval| (span_end(iv) - span_start(iv)) as i64 >= min_seed_len;

    // Passes 1 and 2 (one search after another) and pass 3 are
    // independent: run them in turn so that their cache misses overlap.
    let SeedWorkspace {
        scratch,
        mem1,
        last_like,
    } = ws;
    last_like.clear();
    let smems = async {
        // Pass 1: every SMEM, each search starting at the end of the
        // previous longest match.
        let mut x = 0;
        while x < len {
            if query[x] < 4 {
                x = smem1_in(index, query, x, 1, scratch, mem1).await;
                out.extend(mem1.iter().filter(|iv| long_enough(iv)));
            } else {
                x += 1;
            }
        }

        // Pass 2: re-seed the middle of long SMEMs with few occurrences,
        // asking for more occurrences than the SMEM has.
        let split_len = split_len(opts);
        let split_width = opts.split_width as i64 as u64;
        let n_pass1 = out.len();
        for k in 0..n_pass1 {
            let p = out[k];
            let (start, end) = (span_start(&p), span_end(&p));
            if ((end - start) as i64) < split_len || p.x[2] > split_width {
                continue;
            }
            // bwa passes `size + 1` as a C int.
            let min_intv = (p.x[2].wrapping_add(1) as i32).max(1) as u64;
            smem1_in(index, query, (start + end) >> 1, min_intv, scratch, mem1).await;
            out.extend(mem1.iter().filter(|iv| long_enough(iv)));
        }
    };
    // Pass 3: LAST-like seeds. bwa hands `max_mem_intv` (a u64) to an int
    // parameter, and compares sizes with it as u64 again.
    let last_like_seeds = async {
        if opts.max_mem_intv > 0 {
            let max_intv = opts.max_mem_intv as i32 as u64;
            let min_len = opts.min_seed_len as i64;
            let mut x = 0;
            while x < len {
                if query[x] < 4 {
                    let (next, seed) = seed_strategy1_in(index, query, x, min_len, max_intv).await;
                    x = next;
                    if let Some(seed) = seed.filter(|s| s.x[2] > 0) {
                        last_like.push(seed);
                    }
                } else {
                    x += 1;
                }
            }
        }
    };
    join(smems, last_like_seeds).await;
    out.extend_from_slice(last_like);

    ks_introsort(out, |a, b| a.info < b.info);
}

#[cfg(test)]
mod tests;

/// The real FM-index answers seeding's two questions directly.
impl BiIndex for crate::index::FmIndex {
    #[inline]
    fn init_interval(&self, c: u8) -> BiInterval {
        crate::index::FmIndex::init_interval(self, c)
    }

    #[inline]
    fn extend(&self, ik: &BiInterval, is_back: bool) -> [BiInterval; 4] {
        crate::index::FmIndex::extend(self, ik, is_back)
    }

    #[inline(always)]
    fn extend1(&self, ik: &BiInterval, is_back: bool, c: u8) -> BiInterval {
        crate::index::FmIndex::extend1(self, ik, is_back, c)
    }

    #[inline(always)]
    fn prefetch_extend(&self, ik: &BiInterval, is_back: bool) {
        crate::index::FmIndex::prefetch_extend(self, ik, is_back)
    }

    #[inline(always)]
    fn text_len(&self) -> Option<u64> {
        Some(self.seq_len())
    }

    #[inline(always)]
    fn text_base(&self, pos: u64) -> u8 {
        self.base(pos)
    }

    #[inline(always)]
    fn locate_step(&self, row: u64) -> Result<u64, u64> {
        crate::index::FmIndex::locate_step(self, row)
    }

    #[inline(always)]
    fn prefetch_locate(&self, row: u64) {
        crate::index::FmIndex::prefetch_locate(self, row)
    }

    #[inline(always)]
    fn prefetch_text(&self, pos: u64) {
        crate::index::FmIndex::prefetch_text(self, pos)
    }
}
