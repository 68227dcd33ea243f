//! The packed kernel of [`super::extend_banded`]: each row is computed a
//! register of `i16` lanes at a time (8 with SSE2, 16 with AVX2).
//!
//! The horizontal (insertion) score of bwa's recurrence depends only on
//! the diagonal scores of earlier columns, never on H, so a register of it
//! is one max-plus prefix scan (log2(lanes) shifted maxima) and a row needs
//! no sequential pass over its columns.

use super::{
    first_row, max_score, run_rows, ExtendParams, ExtendResult, GapPenalties, Rows, ScoreMatrix,
};
use std::arch::x86_64::*;

/// Padding of every buffer: the widest register, so that the last, partial
/// register of a row can be loaded whole.
const PAD: usize = 16;

/// Largest score the lanes may hold; a score plus one matrix entry stays
/// below `i16::MAX`.
const LIMIT: i32 = i16::MAX as i32 - 256;

/// Whether every score of the extension fits the lanes: H never exceeds
/// `h0` plus the best score of each query base, and gap penalties are not
/// negative (so scores only fall along a gap). Column and register numbers
/// are lanes too.
pub(super) fn fits(qlen: usize, p: &ExtendParams, h0: i32) -> bool {
    let g = p.gaps;
    let gaps_ok = g.o_del.min(g.e_del).min(g.o_ins).min(g.e_ins) >= 0
        && g.o_del.max(g.e_del).max(g.o_ins).max(g.e_ins) <= LIMIT / 16;
    let top = i64::from(h0) + qlen as i64 * i64::from(max_score(p.mat));
    gaps_ok && qlen <= LIMIT as usize && top <= i64::from(LIMIT)
}

/// The register operations the row kernel needs, on `i16` lanes.
///
/// # Safety
/// Every method needs the CPU features of its implementation.
pub(super) trait Lanes: Copy {
    const N: usize;
    unsafe fn zero() -> Self;
    unsafe fn splat(x: i16) -> Self;
    /// Lane `l` holds `l`.
    unsafe fn iota() -> Self;
    unsafe fn load(p: *const i16) -> Self;
    unsafe fn store(self, p: *mut i16);
    unsafe fn adds(self, b: Self) -> Self;
    unsafe fn subs(self, b: Self) -> Self;
    unsafe fn max(self, b: Self) -> Self;
    /// All ones where equal.
    unsafe fn eq(self, b: Self) -> Self;
    /// All ones where `self > b`.
    unsafe fn gt(self, b: Self) -> Self;
    unsafe fn and(self, b: Self) -> Self;
    /// `!self & b`.
    unsafe fn andnot(self, b: Self) -> Self;
    /// Lanes of `a` where `self` is set, of `b` elsewhere.
    unsafe fn select(self, a: Self, b: Self) -> Self;
    /// Lanes moved up by one, zero in lane 0.
    unsafe fn up1(self) -> Self;
    /// The max-plus prefix scan `Y[l] = max over k <= l of X[k] - (l - k) * e`
    /// for lanes of `X >= 0`; `pens` holds `e`, `2e`, `4e` splatted and,
    /// for 16 lanes, `max(l - 7, 0) * e` per lane.
    unsafe fn prefix_max(self, pens: &[Self; 4]) -> Self;
    /// The largest lane.
    unsafe fn hmax(self) -> i16;
    unsafe fn last(self) -> i16;
}

#[derive(Clone, Copy)]
pub(super) struct Sse2(__m128i);

impl Lanes for Sse2 {
    const N: usize = 8;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Sse2(_mm_setzero_si128())
    }
    #[inline(always)]
    unsafe fn splat(x: i16) -> Self {
        Sse2(_mm_set1_epi16(x))
    }
    #[inline(always)]
    unsafe fn iota() -> Self {
        Sse2(_mm_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7))
    }
    #[inline(always)]
    unsafe fn load(p: *const i16) -> Self {
        Sse2(_mm_loadu_si128(p.cast()))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut i16) {
        _mm_storeu_si128(p.cast(), self.0)
    }
    #[inline(always)]
    unsafe fn adds(self, b: Self) -> Self {
        Sse2(_mm_adds_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn subs(self, b: Self) -> Self {
        Sse2(_mm_subs_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        Sse2(_mm_max_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn eq(self, b: Self) -> Self {
        Sse2(_mm_cmpeq_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn gt(self, b: Self) -> Self {
        Sse2(_mm_cmpgt_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn and(self, b: Self) -> Self {
        Sse2(_mm_and_si128(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn andnot(self, b: Self) -> Self {
        Sse2(_mm_andnot_si128(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn select(self, a: Self, b: Self) -> Self {
        Sse2(_mm_or_si128(
            _mm_and_si128(self.0, a.0),
            _mm_andnot_si128(self.0, b.0),
        ))
    }
    #[inline(always)]
    unsafe fn up1(self) -> Self {
        Sse2(_mm_slli_si128::<2>(self.0))
    }
    #[inline(always)]
    unsafe fn prefix_max(self, pens: &[Self; 4]) -> Self {
        let mut x = self.0;
        x = _mm_max_epi16(x, _mm_subs_epi16(_mm_slli_si128::<2>(x), pens[0].0));
        x = _mm_max_epi16(x, _mm_subs_epi16(_mm_slli_si128::<4>(x), pens[1].0));
        x = _mm_max_epi16(x, _mm_subs_epi16(_mm_slli_si128::<8>(x), pens[2].0));
        Sse2(x)
    }
    #[inline(always)]
    unsafe fn hmax(self) -> i16 {
        hmax128(self.0)
    }
    #[inline(always)]
    unsafe fn last(self) -> i16 {
        _mm_extract_epi16::<7>(self.0) as i16
    }
}

/// The largest of 8 `i16` lanes.
#[inline(always)]
unsafe fn hmax128(mut x: __m128i) -> i16 {
    x = _mm_max_epi16(x, _mm_shuffle_epi32::<0x4e>(x));
    x = _mm_max_epi16(x, _mm_shuffle_epi32::<0xb1>(x));
    x = _mm_max_epi16(x, _mm_shufflelo_epi16::<0xb1>(x));
    _mm_cvtsi128_si32(x) as i16
}

#[derive(Clone, Copy)]
pub(super) struct Avx2(__m256i);

impl Lanes for Avx2 {
    const N: usize = 16;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Avx2(_mm256_setzero_si256())
    }
    #[inline(always)]
    unsafe fn splat(x: i16) -> Self {
        Avx2(_mm256_set1_epi16(x))
    }
    #[inline(always)]
    unsafe fn iota() -> Self {
        Avx2(_mm256_setr_epi16(
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        ))
    }
    #[inline(always)]
    unsafe fn load(p: *const i16) -> Self {
        Avx2(_mm256_loadu_si256(p.cast()))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut i16) {
        _mm256_storeu_si256(p.cast(), self.0)
    }
    #[inline(always)]
    unsafe fn adds(self, b: Self) -> Self {
        Avx2(_mm256_adds_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn subs(self, b: Self) -> Self {
        Avx2(_mm256_subs_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        Avx2(_mm256_max_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn eq(self, b: Self) -> Self {
        Avx2(_mm256_cmpeq_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn gt(self, b: Self) -> Self {
        Avx2(_mm256_cmpgt_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn and(self, b: Self) -> Self {
        Avx2(_mm256_and_si256(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn andnot(self, b: Self) -> Self {
        Avx2(_mm256_andnot_si256(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn select(self, a: Self, b: Self) -> Self {
        Avx2(_mm256_blendv_epi8(b.0, a.0, self.0))
    }
    #[inline(always)]
    unsafe fn up1(self) -> Self {
        // Byte shifts work per 128-bit half; `alignr` against the low half
        // moved up carries lane 7 across the middle.
        let t = _mm256_permute2x128_si256::<0x08>(self.0, self.0);
        Avx2(_mm256_alignr_epi8::<14>(self.0, t))
    }
    #[inline(always)]
    unsafe fn prefix_max(self, pens: &[Self; 4]) -> Self {
        // Scan each half, then carry the low half's last lane across.
        let mut x = self.0;
        x = _mm256_max_epi16(x, _mm256_subs_epi16(_mm256_slli_si256::<2>(x), pens[0].0));
        x = _mm256_max_epi16(x, _mm256_subs_epi16(_mm256_slli_si256::<4>(x), pens[1].0));
        x = _mm256_max_epi16(x, _mm256_subs_epi16(_mm256_slli_si256::<8>(x), pens[2].0));
        let low_up = _mm256_permute2x128_si256::<0x08>(x, x);
        let lane7 = _mm256_shuffle_epi8(low_up, _mm256_set1_epi16(0x0f0e));
        Avx2(_mm256_max_epi16(x, _mm256_subs_epi16(lane7, pens[3].0)))
    }
    #[inline(always)]
    unsafe fn hmax(self) -> i16 {
        hmax128(_mm_max_epi16(
            _mm256_castsi256_si128(self.0),
            _mm256_extracti128_si256::<1>(self.0),
        ))
    }
    #[inline(always)]
    unsafe fn last(self) -> i16 {
        _mm256_extract_epi16::<15>(self.0) as i16
    }
}

/// Storage of the packed kernel: `h` and `e` as separate `i16` columns and
/// a query profile per target base, each padded by [`PAD`].
#[derive(Debug, Default, Clone)]
pub(super) struct PackedRows {
    profile: Vec<i16>,
    stride: usize,
    h: Vec<i16>,
    e: Vec<i16>,
}

/// [`PackedRows`] working with registers `L`.
struct With<'a, L> {
    rows: &'a mut PackedRows,
    lanes: std::marker::PhantomData<L>,
}

impl<L: Lanes> Rows for With<'_, L> {
    fn start(&mut self, query: &[u8], mat: &ScoreMatrix, h0: i32, oe_ins: i32, e_ins: i32) {
        let r = &mut *self.rows;
        let qlen = query.len();
        let stride = qlen + PAD;
        r.stride = stride;
        r.profile.clear();
        r.profile.resize(5 * stride, 0);
        for (base, prof) in r.profile.chunks_exact_mut(stride).enumerate() {
            let row = &mat[base * 5..base * 5 + 5];
            for (p, &q) in prof.iter_mut().zip(query) {
                *p = i16::from(row[usize::from(q.min(4))]);
            }
        }
        let cols = qlen + 2 + PAD;
        r.h.clear();
        r.h.resize(cols, 0);
        r.e.clear();
        r.e.resize(cols, 0);
        // Scores fit (see `fits`), so the casts are exact.
        first_row(qlen, h0, oe_ins, e_ins, |j, h| r.h[j] = h as i16);
    }

    #[inline(always)]
    fn row(
        &mut self,
        tb: u8,
        beg: usize,
        end: usize,
        h1: i32,
        g: &GapPenalties,
    ) -> (i32, i32, i32) {
        let r = &mut *self.rows;
        debug_assert!(end + PAD < r.h.len() && end + PAD <= r.stride);
        let base = usize::from(tb.min(4)) * r.stride;
        // SAFETY: the caller of `extend` guarantees the CPU features of
        // `L`; every access is within `beg..end + PAD`, inside the buffers.
        unsafe {
            row_packed::<L>(
                r.h.as_mut_ptr(),
                r.e.as_mut_ptr(),
                r.profile.as_ptr().add(base),
                beg,
                end,
                h1,
                g,
            )
        }
    }

    #[inline(always)]
    fn alive(&self, j: usize) -> bool {
        self.rows.h[j] != 0 || self.rows.e[j] != 0
    }
}

/// One row over columns `beg..end` (see [`Rows::row`]).
///
/// Per register of columns `j..j + N`, with `H` the previous row's scores
/// one column to the left, `E` the deletion scores and `S` the profile:
/// `M = H ? H + S : 0`; the insertion score entering column `j + l` is the
/// best of `max(M - oe_ins, 0)` at each earlier column less `e_ins` per
/// column since; `h = max(M, E, F)`, stored one column to the right (the
/// next register's `H` is loaded before that store overwrites it). The
/// scan of a register leaves out the earlier registers, whose part comes
/// from a scalar carry, so registers do not wait for each other's scans.
/// The row's best score and its last column are tracked per lane.
///
/// # Safety
/// The CPU features of `L`; `h` and `e` must hold `end + N + 1` columns and
/// `prof` `end + N` entries; `beg <= end`.
#[inline(always)]
unsafe fn row_packed<L: Lanes>(
    h: *mut i16,
    e: *mut i16,
    prof: *const i16,
    beg: usize,
    end: usize,
    h1: i32,
    g: &GapPenalties,
) -> (i32, i32, i32) {
    debug_assert!(beg <= end);
    // Scores and penalties fit i16 (see `fits`).
    let zero = L::zero();
    let oe_del = L::splat((g.o_del + g.e_del) as i16);
    let oe_ins = L::splat((g.o_ins + g.e_ins) as i16);
    let e_del = L::splat(g.e_del as i16);
    let e_ins = g.e_ins;
    let e_ins1 = L::splat(e_ins as i16);
    // ramp[l] = l * e_ins: what the carry loses by lane l; cross[l] what
    // lane 7 loses by lane l of the upper half.
    let (mut ramp, mut cross) = ([0i16; PAD], [0i16; PAD]);
    for l in 0..PAD {
        ramp[l] = (l as i32 * e_ins) as i16;
        cross[l] = (l.saturating_sub(7) as i32 * e_ins) as i16;
    }
    let ramp = L::load(ramp.as_ptr());
    let pens = [
        e_ins1,
        L::splat((2 * e_ins) as i16),
        L::splat((4 * e_ins) as i16),
        L::load(cross.as_ptr()),
    ];
    let carry_loss = L::N as i32 * e_ins;

    let mut vh = L::load(h.add(beg));
    *h.add(beg) = h1 as i16;
    let mut f_carry = 0i32;
    let mut best = zero;
    let mut best_col = zero;
    // Column offset (from `beg`) of each lane of the current register.
    let mut col = L::iota();
    let step = L::splat(L::N as i16);
    let mut j = beg;
    while j < end {
        let ve = L::load(e.add(j));
        let vs = L::load(prof.add(j));
        let vm = vh.eq(zero).andnot(vh.adds(vs));
        let gap_from = vm.subs(oe_ins).max(zero);
        let local = gap_from.up1().prefix_max(&pens);
        let out_local = local.subs(e_ins1).max(gap_from).last();
        let vf = local.max(L::splat(f_carry as i16).subs(ramp));
        f_carry = i32::from(out_local).max(f_carry - carry_loss);
        let mut vnew = vm.max(ve).max(vf);
        let e_next = ve.subs(e_del).max(vm.subs(oe_del).max(zero));
        let valid = end - j;
        if valid > L::N {
            let next = L::load(h.add(j + L::N));
            vnew.store(h.add(j + 1));
            e_next.store(e.add(j));
            vh = next;
        } else if valid == L::N {
            vnew.store(h.add(j + 1));
            e_next.store(e.add(j));
        } else {
            let keep = L::splat(valid as i16).gt(L::iota());
            let old = L::load(h.add(j + 1));
            keep.select(vnew, old).store(h.add(j + 1));
            keep.select(e_next, ve).store(e.add(j));
            vnew = vnew.and(keep);
        }
        let at_least = vnew.max(best).eq(vnew);
        best_col = at_least.select(col, best_col);
        best = best.max(vnew);
        col = col.adds(step);
        j += L::N;
    }
    *e.add(end) = 0;
    let h_last = i32::from(*h.add(end));

    let m = best.hmax();
    // The last column reaching `m`: the largest column among the lanes
    // whose best is `m`.
    let mj = if m > 0 {
        beg as i32 + i32::from(best.eq(L::splat(m)).select(best_col, L::splat(-1)).hmax())
    } else {
        beg as i32
    };
    (i32::from(m), mj, h_last)
}

/// The packed extension with 8 lanes of SSE2.
///
/// # Safety
/// The scores must fit the lanes ([`fits`]).
pub(super) unsafe fn extend_sse2(
    rows: &mut PackedRows,
    query: &[u8],
    target: &[u8],
    p: &ExtendParams,
    h0: i32,
) -> ExtendResult {
    debug_assert!(fits(query.len(), p, h0));
    let mut with = With::<Sse2> {
        rows,
        lanes: std::marker::PhantomData,
    };
    run_rows(&mut with, query, target, p, h0)
}

/// The packed extension with 16 lanes of AVX2.
///
/// # Safety
/// The CPU must support AVX2 and the scores must fit the lanes ([`fits`]).
#[target_feature(enable = "avx2")]
pub(super) unsafe fn extend_avx2(
    rows: &mut PackedRows,
    query: &[u8],
    target: &[u8],
    p: &ExtendParams,
    h0: i32,
) -> ExtendResult {
    debug_assert!(fits(query.len(), p, h0));
    let mut with = With::<Avx2> {
        rows,
        lanes: std::marker::PhantomData,
    };
    run_rows(&mut with, query, target, p, h0)
}
