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
    /// Lanes moved up by `k` (1, 2, 4 or 8 < N), zeros shifted in.
    unsafe fn up(self, k: usize) -> Self;
    /// Lanes moved up by one, `x` in lane 0.
    unsafe fn up1_with(self, x: i16) -> Self;
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
    unsafe fn up(self, k: usize) -> Self {
        Sse2(match k {
            1 => _mm_slli_si128::<2>(self.0),
            2 => _mm_slli_si128::<4>(self.0),
            _ => _mm_slli_si128::<8>(self.0),
        })
    }
    #[inline(always)]
    unsafe fn up1_with(self, x: i16) -> Self {
        Sse2(_mm_insert_epi16::<0>(
            _mm_slli_si128::<2>(self.0),
            i32::from(x),
        ))
    }
    #[inline(always)]
    unsafe fn last(self) -> i16 {
        _mm_extract_epi16::<7>(self.0) as i16
    }
}

#[derive(Clone, Copy)]
pub(super) struct Avx2(__m256i);

impl Avx2 {
    /// `[0, low half]`: the low half moved into the high half.
    #[inline(always)]
    unsafe fn low_up(self) -> __m256i {
        _mm256_permute2x128_si256::<0x08>(self.0, self.0)
    }
}

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
    unsafe fn up(self, k: usize) -> Self {
        // Byte shifts work per 128-bit half; `alignr` against the low
        // half moved up carries lanes across the middle.
        let t = self.low_up();
        Avx2(match k {
            1 => _mm256_alignr_epi8::<14>(self.0, t),
            2 => _mm256_alignr_epi8::<12>(self.0, t),
            4 => _mm256_alignr_epi8::<8>(self.0, t),
            _ => t,
        })
    }
    #[inline(always)]
    unsafe fn up1_with(self, x: i16) -> Self {
        Avx2(_mm256_insert_epi16::<0>(self.up(1).0, x))
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
        let cols = qlen + 1 + PAD;
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
        debug_assert!(end + PAD <= r.h.len() && end + PAD <= r.stride);
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
/// column since (seeded with the carry from the previous register);
/// `h = max(M, E, F)`. The row's best score and its last column are tracked
/// per lane (value and register number).
///
/// # Safety
/// The CPU features of `L`; `h` and `e` must hold `end + N` columns and
/// `prof` `end + N` entries.
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
    // Scores and penalties fit i16 (see `fits`).
    let zero = L::zero();
    let oe_del = L::splat((g.o_del + g.e_del) as i16);
    let oe_ins = L::splat((g.o_ins + g.e_ins) as i16);
    let e_del = L::splat(g.e_del as i16);
    let mut scan_pen = [zero; 4];
    for (s, pen) in scan_pen.iter_mut().enumerate() {
        *pen = L::splat(((1 << s) * g.e_ins) as i16);
    }
    let e_ins = g.e_ins;

    let mut h_carry = h1 as i16;
    let mut f_carry = 0i16;
    let mut best = zero;
    let mut best_reg = zero;
    let mut reg = 0i16;
    let mut j = beg;
    while j < end {
        let vh = L::load(h.add(j));
        let ve = L::load(e.add(j));
        let vs = L::load(prof.add(j));
        let vm = vh.eq(zero).andnot(vh.adds(vs));
        let gap_from = vm.subs(oe_ins).max(zero);
        // F[l] = max over k <= l of X[k] - (l - k) * e_ins, X = gap_from
        // moved up one lane with the carry in lane 0.
        let mut vf = gap_from.up1_with(f_carry);
        let mut k = 1;
        for pen in &scan_pen {
            if k >= L::N {
                break;
            }
            vf = vf.max(vf.up(k).subs(*pen));
            k *= 2;
        }
        let mut vnew = vm.max(ve).max(vf);
        let e_next = ve.subs(e_del).max(vm.subs(oe_del).max(zero));
        // Column j + l keeps H(i, j + l - 1).
        let h_store = vnew.up1_with(h_carry);
        let valid = end - j;
        if valid >= L::N {
            h_store.store(h.add(j));
            e_next.store(e.add(j));
            h_carry = vnew.last();
            f_carry = (i32::from(vf.last()) - e_ins).max(i32::from(gap_from.last())) as i16;
        } else {
            let keep = L::splat(valid as i16).gt(L::iota());
            keep.select(h_store, vh).store(h.add(j));
            keep.select(e_next, ve).store(e.add(j));
            let mut lanes = [0i16; PAD];
            vnew.store(lanes.as_mut_ptr());
            h_carry = lanes[valid - 1];
            vnew = vnew.and(keep);
        }
        let at_least = vnew.max(best).eq(vnew);
        best_reg = at_least.select(L::splat(reg), best_reg);
        best = best.max(vnew);
        reg += 1;
        j += L::N;
    }
    *h.add(end) = h_carry;
    *e.add(end) = 0;

    let mut lane_best = [0i16; PAD];
    let mut lane_reg = [0i16; PAD];
    best.store(lane_best.as_mut_ptr());
    best_reg.store(lane_reg.as_mut_ptr());
    let (lane_best, lane_reg) = (&lane_best[..L::N], &lane_reg[..L::N]);
    let m = lane_best.iter().copied().max().unwrap_or(0);
    let mj = (0..L::N)
        .filter(|&l| lane_best[l] == m)
        .map(|l| beg as i32 + L::N as i32 * i32::from(lane_reg[l]) + l as i32)
        .max()
        .unwrap_or(beg as i32);
    (i32::from(m), mj, i32::from(h_carry))
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
