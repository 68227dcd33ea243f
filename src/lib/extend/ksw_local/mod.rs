//! Local Smith-Waterman with suboptimal hits and start finding
//! (`ksw.c: ksw_align2`, spec §13.7), as mate rescue and seed SW use it.
//!
//! bwa runs a striped SSE2 kernel (Farrar) whose query is padded to a whole
//! number of vectors (16 lanes of u8 or 8 lanes of i16); the padding
//! columns score 0 against everything and take part in the row maxima, and
//! the "lazy F" pass that carries insertions across lanes does not update
//! the deletion scores. This module emulates that kernel lane by lane in
//! scalar code, saturation included, so its results are bwa's in every
//! corner case (a plain padded Gotoh differs when an insertion costs no
//! more to open than to extend). The packed kernels run the same
//! recurrences on real registers; [`local_align_many`] runs alignments side
//! by side, one per 128-bit lane (four with AVX-512BW, two with AVX2).
//!
//! # The lazy-F pass in closed form
//!
//! bwa's lazy-F pass carries the insertion score `f` out of the last
//! segment into the next lane up, then walks the segments (up to 16
//! times), raising `H` to `f` and lowering `f` by the extension penalty,
//! and stops at the first segment where, in every lane, the lowered `f` is
//! at most `H - (open + extend)` there. `f` is never raised from `H`, so
//! what the whole pass can give a cell is fixed before it starts: the best
//! of the carries out of the lanes below, each lowered by the extension
//! penalty once per segment it travels. When opening costs more than
//! extending, stopping early loses none of it: at a segment where `H` was
//! just raised, `f - extend > H - (open + extend)` unless `f` is spent, so
//! the pass stops only at segments it left alone, where the main loop's own
//! insertion score already covers what `f` would still bring, in this lane
//! and (through the carries out of it) in the lanes above. So the pass's
//! result is every carry applied, which the packed kernels compute with a
//! prefix scan over the lanes and one walk over the segments, after bwa's
//! first step has shown that anything is left to carry. With a free
//! insertion open the stopping test can pass at a segment just raised, so
//! there they walk as bwa does. The lane emulation ([`Pass::run_lanes`])
//! keeps bwa's loop; the tests compare the two.

use super::{max_score, GapPenalties, ScoreMatrix};

#[cfg(target_arch = "x86_64")]
mod many;

/// The `xtra` flags of `ksw_align2`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalFlags {
    /// `KSW_XBYTE`: 8-bit scores (16 lanes); the score saturates at 255.
    pub byte: bool,
    /// `KSW_XSUBO`: record suboptimal rows scoring at least this much, and
    /// skip start finding below it. Only the low 16 bits count, as in bwa.
    pub min_score: Option<i32>,
    /// `KSW_XSTART`: also find the start (`qb`, `tb`).
    pub start: bool,
}

/// What `ksw_align2` returns (`kswr_t`); −1 where not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalResult {
    /// Best local score (255 when an 8-bit run overflows).
    pub score: i32,
    /// Last target position of the best alignment (inclusive).
    pub te: i32,
    /// Last query position of the best alignment (inclusive).
    pub qe: i32,
    /// Best score on rows away from `te`, or −1.
    pub score2: i32,
    /// Target end of `score2`, or −1.
    pub te2: i32,
    /// First target position (with [`LocalFlags::start`]).
    pub tb: i32,
    /// First query position (with [`LocalFlags::start`]).
    pub qb: i32,
}

impl LocalResult {
    const NONE: LocalResult = LocalResult {
        score: 0,
        te: -1,
        qe: -1,
        score2: -1,
        te2: -1,
        tb: -1,
        qb: -1,
    };
}

/// A vector of lanes; the i16 kernel uses the first 8.
type Lanes = [i32; 16];

/// Reusable buffers of [`local_align`].
#[derive(Debug, Default, Clone)]
pub struct LocalWorkspace {
    /// Per segment: H of the previous row, H of this row, E, H of the best row.
    h_prev: Vec<Lanes>,
    h_cur: Vec<Lanes>,
    e: Vec<Lanes>,
    h_best: Vec<Lanes>,
    /// Striped query profile, `profile[base * slen + s][l]`.
    profile: Vec<Lanes>,
    /// Rows scoring at least the minimum: `(score, row)`.
    subs: Vec<(i32, i32)>,
    rev_query: Vec<u8>,
    rev_target: Vec<u8>,
    /// The packed kernels' profile and rows.
    vecs: Vec<Block>,
    /// The side-by-side kernels' buffers.
    #[cfg(target_arch = "x86_64")]
    many: many::Buffers,
}

/// One 128-bit vector of lanes, aligned as SSE2 loads want it.
#[derive(Debug, Default, Clone, Copy)]
#[repr(C, align(16))]
struct Block([u8; 16]);

impl Block {
    #[allow(dead_code)]
    const ZERO: Block = Block([0; 16]);
}

impl LocalWorkspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }
}

/// One pass of the kernel (`ksw_u8` / `ksw_i16`).
#[derive(Clone, Copy)]
struct Pass<'a> {
    mat: &'a ScoreMatrix,
    gaps: GapPenalties,
    byte: bool,
    /// Rows at or above this go to the suboptimal list.
    min_sub: i32,
    /// Stop once the best score reaches this.
    stop_at: i32,
}

impl Pass<'_> {
    fn run(&self, ws: &mut LocalWorkspace, query: &[u8], target: &[u8]) -> LocalResult {
        #[cfg(target_arch = "x86_64")]
        if self.simd_fits() {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, as checked just above.
                return unsafe { self.run_simd_vex(ws, query, target) };
            }
            // SAFETY: SSE2 is part of the x86_64 baseline.
            return unsafe { self.run_simd(ws, query, target) };
        }
        self.run_portable(ws, query, target)
    }

    /// Whether the packed kernels give the lane-emulating kernel's results:
    /// they need gap penalties that are not negative (a penalty past the
    /// lane width is saturated, which clears a score just as it would).
    fn simd_fits(&self) -> bool {
        let g = self.gaps;
        g.o_del >= 0 && g.e_del >= 0 && g.o_ins >= 0 && g.e_ins >= 0
    }

    /// The packed kernels with VEX encoding (fewer register copies).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_simd_vex(
        &self,
        ws: &mut LocalWorkspace,
        query: &[u8],
        target: &[u8],
    ) -> LocalResult {
        self.run_simd(ws, query, target)
    }

    /// The packed SSE2 kernels: 16 lanes of saturating u8, or 8 lanes of
    /// i16, one 128-bit register per segment, as bwa runs them.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn run_simd(&self, ws: &mut LocalWorkspace, query: &[u8], target: &[u8]) -> LocalResult {
        if query.is_empty() {
            return LocalResult::NONE;
        }
        if self.byte {
            simd::run::<simd::U8>(self, ws, query, target)
        } else {
            simd::run::<simd::I16>(self, ws, query, target)
        }
    }

    #[inline(always)]
    fn run_portable(&self, ws: &mut LocalWorkspace, query: &[u8], target: &[u8]) -> LocalResult {
        if self.byte {
            self.run_lanes::<16>(ws, query, target)
        } else {
            self.run_lanes::<8>(ws, query, target)
        }
    }

    /// The striped kernel with `L` lanes (16: u8 scores, 8: i16 scores).
    /// Lane l of segment s holds query position `s + l * slen`.
    #[inline(always)]
    fn run_lanes<const L: usize>(
        &self,
        ws: &mut LocalWorkspace,
        query: &[u8],
        target: &[u8],
    ) -> LocalResult {
        let byte = L == 16;
        let qlen = query.len();
        if qlen == 0 {
            return LocalResult::NONE;
        }
        let slen = qlen.div_ceil(L);
        // u8 scores are kept biased by −min(mat) and saturate at 255; i16
        // scores saturate at i16::MAX.
        let shift = -i32::from(self.mat.iter().copied().min().unwrap_or(0).min(0));
        let (lo, hi) = if byte {
            (0, 255 - shift)
        } else {
            (i32::from(i16::MIN), i32::from(i16::MAX))
        };
        let GapPenalties {
            o_del,
            e_del,
            o_ins,
            e_ins,
        } = self.gaps;
        let (oe_del, oe_ins) = (o_del + e_del, o_ins + e_ins);

        let LocalWorkspace {
            h_prev,
            h_cur,
            e,
            h_best,
            profile,
            subs,
            ..
        } = ws;
        profile.clear();
        for base in 0..5 {
            let row = &self.mat[base * 5..base * 5 + 5];
            for s in 0..slen {
                let mut v = [0i32; 16];
                for (l, x) in v.iter_mut().enumerate().take(L) {
                    *x = query
                        .get(s + l * slen)
                        .map_or(0, |&q| i32::from(row[usize::from(q.min(4))]));
                }
                profile.push(v);
            }
        }
        for v in [&mut *h_prev, &mut *h_cur, &mut *e, &mut *h_best] {
            v.clear();
            v.resize(slen, [0; 16]);
        }
        subs.clear();

        let mut gmax = 0i32;
        let mut te = -1i32;
        for (i, &tb) in target.iter().enumerate() {
            let i = i as i32;
            let base = usize::from(tb.min(4)) * slen;
            let prof = &profile[base..base + slen];
            // H(i-1, -1) per lane: the previous row's last segment moved up a lane.
            let mut hv = [0i32; L];
            hv[1..].copy_from_slice(&h_prev[slen - 1][..L - 1]);
            let mut fv = [0i32; L];
            let mut mv = [0i32; L];
            for (s, ((pr, ev), hc)) in prof
                .iter()
                .zip(e.iter_mut())
                .zip(h_cur.iter_mut())
                .enumerate()
            {
                let mut h = [0i32; L];
                for l in 0..L {
                    h[l] = (hv[l] + pr[l]).max(lo).min(hi).max(ev[l]).max(fv[l]);
                }
                for l in 0..L {
                    mv[l] = mv[l].max(h[l]);
                    hc[l] = h[l];
                    ev[l] = (ev[l] - e_del).max(h[l] - oe_del).max(0);
                    fv[l] = (fv[l] - e_ins).max(h[l] - oe_ins).max(0);
                }
                hv.copy_from_slice(&h_prev[s][..L]);
            }
            // Lazy F: carry insertions across lane boundaries; E is not revisited.
            'lazy: for _ in 0..16 {
                fv.copy_within(..L - 1, 1);
                fv[0] = 0;
                for hc in h_cur.iter_mut() {
                    let mut done = true;
                    for l in 0..L {
                        let h = hc[l].max(fv[l]);
                        hc[l] = h;
                        fv[l] = (fv[l] - e_ins).max(0);
                        done &= fv[l] <= (h - oe_ins).max(0);
                    }
                    if done {
                        break 'lazy;
                    }
                }
            }
            let imax = mv.iter().copied().max().unwrap_or(0);
            note_row(subs, self.min_sub, imax, i);
            if imax > gmax {
                gmax = imax;
                te = i;
                h_best.copy_from_slice(h_cur);
                if (byte && gmax + shift >= 255) || gmax >= self.stop_at {
                    break;
                }
            }
            std::mem::swap(h_prev, h_cur);
        }

        let lanes = h_best.iter().enumerate().flat_map(|(s, v)| {
            v[..L]
                .iter()
                .enumerate()
                .map(move |(l, &h)| (s + l * slen, h))
        });
        finish(self.mat, gmax, te, byte && gmax + shift >= 255, lanes, subs)
    }
}

/// The end of a kernel pass: the score (255 after an 8-bit overflow, and
/// then nothing more), the smallest query end holding the best row's
/// maximum (`best_row` gives `(query position, H)` for every lane of the
/// saved row, padding included), and the best suboptimal row away from `te`.
fn finish(
    mat: &ScoreMatrix,
    gmax: i32,
    te: i32,
    overflow: bool,
    best_row: impl Iterator<Item = (usize, i32)> + Clone,
    subs: &[(i32, i32)],
) -> LocalResult {
    let mut r = LocalResult::NONE;
    r.te = te;
    if overflow {
        r.score = 255;
        return r;
    }
    r.score = gmax;
    let best = best_row.clone().map(|(_, h)| h).max().unwrap_or(0);
    r.qe = best_row
        .filter(|&(_, h)| h == best)
        .map(|(k, _)| k as i32)
        .min()
        .unwrap_or(-1);
    if !subs.is_empty() {
        let a = max_score(mat).max(1);
        let c = (r.score + a - 1) / a;
        let (low, high) = (te - c, te + c);
        for &(s, row) in subs {
            if (row < low || row > high) && s > r.score2 {
                r.score2 = s;
                r.te2 = row;
            }
        }
    }
    r
}

/// Records row `i`'s maximum `imax` in the suboptimal list when it reaches
/// `min_sub`; a run of consecutive rows keeps one entry, its best.
#[inline(always)]
fn note_row(subs: &mut Vec<(i32, i32)>, min_sub: i32, imax: i32, i: i32) {
    if imax >= min_sub {
        match subs.last_mut() {
            Some(last) if last.1 + 1 == i => {
                if last.0 < imax {
                    *last = (imax, i);
                }
            }
            _ => subs.push((imax, i)),
        }
    }
}

/// The packed kernels. They run the same recurrences as
/// [`Pass::run_lanes`] on real 8- and 16-bit lanes, whose saturating
/// arithmetic gives the clamps that the emulation spells out.
#[cfg(target_arch = "x86_64")]
mod simd {
    use super::{finish, note_row, Block, LocalResult, LocalWorkspace, Pass};
    use std::arch::x86_64::*;

    /// A lane width: the operations the kernel needs on one register.
    pub(super) trait Width {
        /// Lanes per register.
        const LANES: usize;
        /// Whether scores overflow at 255 (and stop the scan).
        const BYTE: bool;
        /// A penalty, saturated to the lane range (which clears a score
        /// just as the full penalty would).
        unsafe fn penalty(x: i32) -> __m128i;
        /// The profile register of `scores`; `shift` is the u8 bias.
        unsafe fn pack(scores: &[i32; 16], shift: i32) -> __m128i;
        /// `h + s`, clamped as the lanes clamp it (`bias`: the u8 shift).
        unsafe fn add_score(h: __m128i, s: __m128i, bias: __m128i) -> __m128i;
        unsafe fn max(a: __m128i, b: __m128i) -> __m128i;
        /// `max(a - b, 0)` on the (non-negative) scores.
        unsafe fn sub0(a: __m128i, b: __m128i) -> __m128i;
        /// Moves every lane up by one, lane 0 becoming 0.
        unsafe fn lane_up(a: __m128i) -> __m128i;
        /// Whether `f <= g` in every lane.
        unsafe fn all_le(f: __m128i, g: __m128i) -> bool;
        /// Per lane, the best carry arriving from the lanes below: `x`
        /// holds what arrives from the next lane down, and a carry loses
        /// `decay[0]` per lane it crosses (`decay[k]`: `2^k` times that).
        unsafe fn carry_scan(x: __m128i, decay: &[__m128i; 4]) -> __m128i;
        /// The largest lane.
        unsafe fn hmax(a: __m128i) -> i32;
        /// Lane `l` of a stored register.
        fn lane(v: &Block, l: usize) -> i32;
    }

    /// 16 lanes of u8; the profile holds scores plus `shift`, taken off
    /// again after the saturating add.
    pub(super) struct U8;

    impl Width for U8 {
        const LANES: usize = 16;
        const BYTE: bool = true;
        #[inline(always)]
        unsafe fn penalty(x: i32) -> __m128i {
            _mm_set1_epi8(x.clamp(0, 255) as u8 as i8)
        }
        #[inline(always)]
        unsafe fn pack(scores: &[i32; 16], shift: i32) -> __m128i {
            let v = scores.map(|x| (x + shift) as u8);
            _mm_loadu_si128(v.as_ptr().cast())
        }
        #[inline(always)]
        unsafe fn add_score(h: __m128i, s: __m128i, bias: __m128i) -> __m128i {
            _mm_subs_epu8(_mm_adds_epu8(h, s), bias)
        }
        #[inline(always)]
        unsafe fn max(a: __m128i, b: __m128i) -> __m128i {
            _mm_max_epu8(a, b)
        }
        #[inline(always)]
        unsafe fn sub0(a: __m128i, b: __m128i) -> __m128i {
            _mm_subs_epu8(a, b)
        }
        #[inline(always)]
        unsafe fn lane_up(a: __m128i) -> __m128i {
            _mm_slli_si128(a, 1)
        }
        #[inline(always)]
        unsafe fn all_le(f: __m128i, g: __m128i) -> bool {
            let over = _mm_subs_epu8(f, g);
            _mm_movemask_epi8(_mm_cmpeq_epi8(over, _mm_setzero_si128())) == 0xffff
        }
        #[inline(always)]
        unsafe fn carry_scan(mut x: __m128i, d: &[__m128i; 4]) -> __m128i {
            x = _mm_max_epu8(x, _mm_subs_epu8(_mm_slli_si128(x, 1), d[0]));
            x = _mm_max_epu8(x, _mm_subs_epu8(_mm_slli_si128(x, 2), d[1]));
            x = _mm_max_epu8(x, _mm_subs_epu8(_mm_slli_si128(x, 4), d[2]));
            _mm_max_epu8(x, _mm_subs_epu8(_mm_slli_si128(x, 8), d[3]))
        }
        #[inline(always)]
        unsafe fn hmax(mut x: __m128i) -> i32 {
            x = _mm_max_epu8(x, _mm_srli_si128(x, 8));
            x = _mm_max_epu8(x, _mm_srli_si128(x, 4));
            x = _mm_max_epu8(x, _mm_srli_si128(x, 2));
            x = _mm_max_epu8(x, _mm_srli_si128(x, 1));
            _mm_cvtsi128_si32(x) & 0xff
        }
        fn lane(v: &Block, l: usize) -> i32 {
            i32::from(v.0[l])
        }
    }

    /// 8 lanes of i16, saturating at `i16::MAX`.
    pub(super) struct I16;

    impl Width for I16 {
        const LANES: usize = 8;
        const BYTE: bool = false;
        #[inline(always)]
        unsafe fn penalty(x: i32) -> __m128i {
            _mm_set1_epi16(x.clamp(0, 0xffff) as u16 as i16)
        }
        #[inline(always)]
        unsafe fn pack(scores: &[i32; 16], _shift: i32) -> __m128i {
            let mut v = [0i16; 8];
            for (x, &y) in v.iter_mut().zip(scores) {
                *x = y as i16;
            }
            _mm_loadu_si128(v.as_ptr().cast())
        }
        #[inline(always)]
        unsafe fn add_score(h: __m128i, s: __m128i, _bias: __m128i) -> __m128i {
            _mm_adds_epi16(h, s)
        }
        #[inline(always)]
        unsafe fn max(a: __m128i, b: __m128i) -> __m128i {
            _mm_max_epi16(a, b)
        }
        #[inline(always)]
        unsafe fn sub0(a: __m128i, b: __m128i) -> __m128i {
            _mm_subs_epu16(a, b)
        }
        #[inline(always)]
        unsafe fn lane_up(a: __m128i) -> __m128i {
            _mm_slli_si128(a, 2)
        }
        #[inline(always)]
        unsafe fn all_le(f: __m128i, g: __m128i) -> bool {
            _mm_movemask_epi8(_mm_cmpgt_epi16(f, g)) == 0
        }
        #[inline(always)]
        unsafe fn carry_scan(mut x: __m128i, d: &[__m128i; 4]) -> __m128i {
            x = _mm_max_epi16(x, _mm_subs_epu16(_mm_slli_si128(x, 2), d[0]));
            x = _mm_max_epi16(x, _mm_subs_epu16(_mm_slli_si128(x, 4), d[1]));
            _mm_max_epi16(x, _mm_subs_epu16(_mm_slli_si128(x, 8), d[2]))
        }
        #[inline(always)]
        unsafe fn hmax(mut x: __m128i) -> i32 {
            x = _mm_max_epi16(x, _mm_srli_si128(x, 8));
            x = _mm_max_epi16(x, _mm_srli_si128(x, 4));
            x = _mm_max_epi16(x, _mm_srli_si128(x, 2));
            i32::from(_mm_cvtsi128_si32(x) as i16)
        }
        fn lane(v: &Block, l: usize) -> i32 {
            i32::from(i16::from_le_bytes([v.0[2 * l], v.0[2 * l + 1]]))
        }
    }

    /// Splits the workspace's vector buffer into the striped profile
    /// (5 * slen) and H of the previous row, H of this row, E, and H of the
    /// best row (slen each).
    #[allow(clippy::type_complexity)]
    fn carve(
        ws: &mut LocalWorkspace,
        slen: usize,
    ) -> (
        &mut [__m128i],
        &mut [__m128i],
        &mut [__m128i],
        &mut [__m128i],
        &mut [__m128i],
    ) {
        ws.vecs.clear();
        ws.vecs.resize(9 * slen, Block::ZERO);
        let v: &mut [Block] = &mut ws.vecs;
        // SAFETY: Block is a 16-byte aligned, 16-byte plain value, as
        // __m128i is.
        let v: &mut [__m128i] =
            unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast(), v.len()) };
        let (prof, rest) = v.split_at_mut(5 * slen);
        let (h0, rest) = rest.split_at_mut(slen);
        let (h1, rest) = rest.split_at_mut(slen);
        let (e, hmax) = rest.split_at_mut(slen);
        (prof, h0, h1, e, hmax)
    }

    /// One pass with lanes `W`, for a non-empty query.
    #[inline(always)]
    pub(super) unsafe fn run<W: Width>(
        pass: &Pass<'_>,
        ws: &mut LocalWorkspace,
        query: &[u8],
        target: &[u8],
    ) -> LocalResult {
        let lanes = W::LANES;
        let slen = query.len().div_ceil(lanes);
        let mat = pass.mat;
        let shift = if W::BYTE {
            -i32::from(mat.iter().copied().min().unwrap_or(0).min(0))
        } else {
            0
        };
        let g = pass.gaps;
        let oe_del = W::penalty(g.o_del.saturating_add(g.e_del));
        let e_del = W::penalty(g.e_del);
        let oe_ins = W::penalty(g.o_ins.saturating_add(g.e_ins));
        let e_ins = W::penalty(g.e_ins);
        let bias = _mm_set1_epi8(shift as u8 as i8);
        let zero = _mm_setzero_si128();
        // The lazy-F pass in closed form (module documentation) needs
        // insertions that cost more to open than to extend.
        let closed_form = g.o_ins > 0;
        let step = (slen as i32).saturating_mul(g.e_ins);
        let decay = [1, 2, 4, 8].map(|k| W::penalty(step.saturating_mul(k)));

        let mut subs = std::mem::take(&mut ws.subs);
        subs.clear();
        let (prof, h0, h1, e, hmax) = carve(ws, slen);
        for base in 0..5 {
            let row = &mat[base * 5..base * 5 + 5];
            for (s, p) in prof[base * slen..(base + 1) * slen].iter_mut().enumerate() {
                let mut v = [0i32; 16];
                for (l, x) in v.iter_mut().enumerate().take(lanes) {
                    *x = query
                        .get(s + l * slen)
                        .map_or(0, |&q| i32::from(row[usize::from(q.min(4))]));
                }
                *p = W::pack(&v, shift);
            }
        }

        let (mut hp, mut hc) = (h0, h1);
        let e = e.as_mut_ptr();
        let mut gmax = 0i32;
        let mut te = -1i32;
        let mut overflow = false;
        for (i, &tb) in target.iter().enumerate() {
            let i = i as i32;
            let sp = prof.as_ptr().add(usize::from(tb.min(4)) * slen);
            let (hpp, hcp) = (hp.as_ptr(), hc.as_mut_ptr());
            // H(i-1, -1) per lane: the previous row's last segment moved up a lane.
            let mut h = W::lane_up(*hpp.add(slen - 1));
            let mut f = zero;
            let mut mx = zero;
            for j in 0..slen {
                h = W::add_score(h, *sp.add(j), bias);
                let ev = *e.add(j);
                h = W::max(W::max(h, ev), f);
                mx = W::max(mx, h);
                *hcp.add(j) = h;
                *e.add(j) = W::max(W::sub0(ev, e_del), W::sub0(h, oe_del));
                f = W::max(W::sub0(f, e_ins), W::sub0(h, oe_ins));
                h = *hpp.add(j);
            }
            // Lazy F: carry insertions across lane boundaries; E is not
            // revisited. Its first step decides whether anything is left.
            f = W::lane_up(f);
            let h = W::max(*hcp, f);
            *hcp = h;
            let f1 = W::sub0(f, e_ins);
            if !W::all_le(f1, W::sub0(h, oe_ins)) {
                if closed_form {
                    // Every carry applied (module documentation).
                    let mut c = W::carry_scan(f, &decay);
                    for j in 0..slen {
                        *hcp.add(j) = W::max(*hcp.add(j), c);
                        c = W::sub0(c, e_ins);
                    }
                } else {
                    f = f1;
                    let mut j = 1;
                    'lazy: for _ in 0..16 {
                        while j < slen {
                            let h = W::max(*hcp.add(j), f);
                            *hcp.add(j) = h;
                            f = W::sub0(f, e_ins);
                            if W::all_le(f, W::sub0(h, oe_ins)) {
                                break 'lazy;
                            }
                            j += 1;
                        }
                        f = W::lane_up(f);
                        j = 0;
                    }
                }
            }
            let imax = W::hmax(mx);
            note_row(&mut subs, pass.min_sub, imax, i);
            if imax > gmax {
                gmax = imax;
                te = i;
                hmax.copy_from_slice(hc);
                if W::BYTE && gmax + shift >= 255 {
                    overflow = true;
                    break;
                }
                if gmax >= pass.stop_at {
                    break;
                }
            }
            std::mem::swap(&mut hp, &mut hc);
        }

        let best: &[Block] = std::slice::from_raw_parts(hmax.as_ptr().cast(), slen);
        let row = best
            .iter()
            .enumerate()
            .flat_map(|(s, v)| (0..lanes).map(move |l| (s + l * slen, W::lane(v, l))));
        let r = finish(mat, gmax, te, overflow, row, &subs);
        ws.subs = subs;
        r
    }
}

/// The score that no row reaches: "no suboptimal list", "no stop score".
const OFF: i32 = 0x10000;

/// The first pass of `ksw_align2` with `flags`.
fn first_pass<'a>(mat: &'a ScoreMatrix, gaps: GapPenalties, flags: LocalFlags) -> Pass<'a> {
    Pass {
        mat,
        gaps,
        byte: flags.byte,
        min_sub: flags.min_score.map_or(OFF, |m| m & 0xffff),
        stop_at: OFF,
    }
}

/// Whether `ksw_align2` runs its start pass after a first pass giving `r`.
fn wants_start(flags: LocalFlags, r: &LocalResult) -> bool {
    // `r.qe < 0` only after an 8-bit overflow; bwa's start pass is
    // undefined then.
    flags.start && flags.min_score.is_none_or(|m| r.score >= (m & 0xffff)) && r.qe >= 0
}

/// The start pass's inputs after a first pass giving `r`: the query up to
/// `r.qe` reversed into `rq`, and the target with its prefix up to `r.te`
/// reversed in place (bwa scans the whole target) into `rt`.
fn start_inputs(query: &[u8], target: &[u8], r: &LocalResult, rq: &mut Vec<u8>, rt: &mut Vec<u8>) {
    let qe = r.qe as usize;
    let te1 = (r.te + 1) as usize;
    rq.clear();
    rq.extend(query[..=qe.min(query.len() - 1)].iter().rev());
    rt.clear();
    rt.extend(target[..te1].iter().rev());
    rt.extend_from_slice(&target[te1..]);
}

/// The start pass: the first pass's thresholds off, stopping at the
/// score found.
fn start_pass<'a>(first: &Pass<'a>, r: &LocalResult) -> Pass<'a> {
    Pass {
        min_sub: OFF,
        stop_at: r.score & 0xffff,
        ..*first
    }
}

/// `r` with the start that the start pass's result `rr` gives.
fn with_start(mut r: LocalResult, rr: &LocalResult) -> LocalResult {
    if rr.score == r.score {
        r.tb = r.te - rr.te;
        r.qb = r.qe - rr.qe;
    }
    r
}

/// Local alignment of `query` against `target` with bwa's `ksw_align2`
/// semantics: earliest best row, smallest query end on ties, suboptimal
/// score from rows more than `ceil(score / max(mat))` away from `te`, and
/// with `flags.start` the start found by aligning the reversed prefixes.
pub fn local_align(
    ws: &mut LocalWorkspace,
    query: &[u8],
    target: &[u8],
    mat: &ScoreMatrix,
    gaps: GapPenalties,
    flags: LocalFlags,
) -> LocalResult {
    let pass = first_pass(mat, gaps, flags);
    let r = pass.run(ws, query, target);
    if !wants_start(flags, &r) {
        return r;
    }
    let mut rq = std::mem::take(&mut ws.rev_query);
    let mut rt = std::mem::take(&mut ws.rev_target);
    start_inputs(query, target, &r, &mut rq, &mut rt);
    let rr = start_pass(&pass, &r).run(ws, &rq, &rt);
    ws.rev_query = rq;
    ws.rev_target = rt;
    with_start(r, &rr)
}

/// One alignment for [`local_align_many`].
#[derive(Debug, Clone, Copy)]
pub struct LocalJob<'a> {
    pub query: &'a [u8],
    pub target: &'a [u8],
    pub flags: LocalFlags,
}

/// [`local_align`] of every job, results in `out` in job order. Jobs of
/// equal query layout run side by side in one register, four (AVX-512BW)
/// or two (AVX2), each in a 128-bit lane laid out as the single kernel lays
/// it out, so that every result is [`local_align`]'s. Without AVX2 it is
/// [`local_align`] job by job.
pub fn local_align_many(
    ws: &mut LocalWorkspace,
    jobs: &[LocalJob<'_>],
    mat: &ScoreMatrix,
    gaps: GapPenalties,
    out: &mut Vec<LocalResult>,
) {
    out.clear();
    #[cfg(target_arch = "x86_64")]
    if jobs.len() > 1 {
        if let Some(width) = many::usable(gaps) {
            // SAFETY: `usable` checked the CPU features of `width`.
            unsafe { many::align_all(width, ws, jobs, mat, gaps, out) };
            return;
        }
    }
    out.extend(
        jobs.iter()
            .map(|j| local_align(ws, j.query, j.target, mat, gaps, j.flags)),
    );
}

#[cfg(test)]
mod tests {
    use super::super::naive;
    use super::*;
    use crate::options::MemOptions;
    use proptest::prelude::*;

    fn defaults() -> (ScoreMatrix, GapPenalties) {
        let o = MemOptions::default();
        (o.score_matrix(), GapPenalties::from_options(&o))
    }

    #[test]
    fn finds_embedded_query() {
        let (mat, g) = defaults();
        let q = [1u8, 2, 3, 0, 1, 2, 3, 0];
        let mut t = vec![0u8; 5];
        t.extend_from_slice(&q);
        t.extend_from_slice(&[3, 3, 3]);
        let mut ws = LocalWorkspace::new();
        let flags = LocalFlags {
            start: true,
            ..Default::default()
        };
        let r = local_align(&mut ws, &q, &t, &mat, g, flags);
        assert_eq!((r.score, r.qb, r.qe, r.tb, r.te), (8, 0, 7, 5, 12));
        assert_eq!((r.score2, r.te2), (-1, -1));
    }

    #[test]
    fn suboptimal_hit_away_from_the_best() {
        let (mat, g) = defaults();
        let q: Vec<u8> = (0..20).map(|i| ((i * 7 + 3) % 4) as u8).collect();
        let mut t = q[..15].to_vec();
        t.extend([4u8; 30]);
        t.extend_from_slice(&q);
        let mut ws = LocalWorkspace::new();
        let flags = LocalFlags {
            byte: true,
            min_score: Some(10),
            start: true,
        };
        let r = local_align(&mut ws, &q, &t, &mat, g, flags);
        assert_eq!((r.score, r.te, r.qe, r.tb, r.qb), (20, 64, 19, 45, 0));
        assert_eq!((r.score2, r.te2), (15, 14));
    }

    #[test]
    fn below_min_score_skips_start() {
        let (mat, g) = defaults();
        let mut ws = LocalWorkspace::new();
        let flags = LocalFlags {
            byte: false,
            min_score: Some(30),
            start: true,
        };
        let r = local_align(&mut ws, &[0, 1, 2], &[0, 1, 2], &mat, g, flags);
        assert_eq!((r.score, r.te, r.qe, r.tb, r.qb), (3, 2, 2, -1, -1));
    }

    /// Query, target and scoring of a case where bwa's lane structure
    /// shows: with a free insertion open the lazy-F pass leaves deletion
    /// scores stale.
    #[allow(clippy::type_complexity)]
    fn zero_open_case() -> (Vec<u8>, Vec<u8>, ScoreMatrix, GapPenalties, LocalFlags) {
        let digits = |s: &str| s.bytes().map(|c| c - b'0').collect::<Vec<u8>>();
        let q = digits(
            "13110030312301113201012113203031131102013032203213100012322202102102322000310013\
             022021322033123211012010030001434022303322113313003102123330013",
        );
        let t = digits(
            "00232310223103210330212233010211221321001133210113131313300000131131130122234000\
             0003330120033231301232133333132202302033003",
        );
        let mat = MemOptions {
            a: 1,
            b: 1,
            ..MemOptions::default()
        }
        .score_matrix();
        let g = GapPenalties {
            o_del: 8,
            e_del: 1,
            o_ins: 0,
            e_ins: 1,
        };
        let flags = LocalFlags {
            byte: true,
            min_score: Some(60),
            start: true,
        };
        (q, t, mat, g, flags)
    }

    /// [`zero_open_case`]. Expected values are bwa 0.7.17's `ksw_align2`
    /// output; a plain padded Gotoh gives te 79, qe 53 here.
    #[test]
    fn zero_insertion_open_matches_bwa_striped_kernel() {
        let (q, t, mat, g, flags) = zero_open_case();
        let r = local_align(&mut LocalWorkspace::new(), &q, &t, &mat, g, flags);
        assert_eq!(
            (r.score, r.te, r.qe, r.score2, r.te2, r.tb, r.qb),
            (8, 119, 91, -1, -1, -1, -1)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// The AVX2 build of the kernel agrees with the portable one.
        #[test]
        fn vector_build_equals_portable_build(
            (q, t) in naive::related_pair(80),
            byte in any::<bool>(),
            min_sub in 0i32..30,
        ) {
            let (mat, g) = defaults();
            let pass = Pass { mat: &mat, gaps: g, byte, min_sub, stop_at: 0x10000 };
            let mut ws = LocalWorkspace::new();
            let fast = pass.run(&mut ws, &q, &t);
            let plain = pass.run_portable(&mut ws, &q, &t);
            prop_assert_eq!(fast, plain);
        }
    }

    /// Every build of the kernel on this machine: the portable
    /// emulation first, then the packed SSE2 and AVX2-encoded ones.
    fn all_builds(pass: &Pass<'_>, q: &[u8], t: &[u8]) -> Vec<LocalResult> {
        let mut ws = LocalWorkspace::new();
        let mut out = vec![pass.run_portable(&mut ws, q, t)];
        #[cfg(target_arch = "x86_64")]
        if pass.simd_fits() {
            // SAFETY: SSE2 is part of the x86_64 baseline.
            out.push(unsafe { pass.run_simd(&mut ws, q, t) });
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: checked just above.
                out.push(unsafe { pass.run_simd_vex(&mut ws, q, t) });
            }
        }
        out.push(pass.run(&mut ws, q, t));
        out
    }

    fn assert_builds_agree(pass: &Pass<'_>, q: &[u8], t: &[u8]) -> LocalResult {
        let all = all_builds(pass, q, t);
        for r in &all[1..] {
            assert_eq!(*r, all[0], "q {q:?} t {t:?}");
        }
        all[0]
    }

    #[test]
    fn packed_kernels_saturate_as_the_emulation_does() {
        let mat = MemOptions {
            a: 6,
            ..MemOptions::default()
        }
        .score_matrix();
        let (_, g) = defaults();
        let q: Vec<u8> = (0..6000).map(|i| ((i * 7 + i / 3) % 4) as u8).collect();
        let mut t = vec![4u8; 20];
        t.extend_from_slice(&q);
        // u8 lanes overflow at 255 minus the bias; the i16 ones clamp at
        // i16::MAX and go on.
        for (byte, len) in [(true, 150), (true, 40), (false, 6000)] {
            let pass = Pass {
                mat: &mat,
                gaps: g,
                byte,
                min_sub: 10,
                stop_at: 0x10000,
            };
            let r = assert_builds_agree(&pass, &q[..len], &t[..20 + len]);
            let want = if byte { 255.min(6 * len as i32) } else { 32767 };
            assert_eq!(r.score, want);
        }
        // A stop score ends the scan at the first row reaching it.
        let pass = Pass {
            mat: &mat,
            gaps: g,
            byte: false,
            min_sub: 0x10000,
            stop_at: 60,
        };
        let r = assert_builds_agree(&pass, &q[..100], &t[..120]);
        assert_eq!((r.score, r.te), (60, 29));
    }

    /// Random scoring: a matrix of small entries, gaps that may be free to
    /// open or wider than the lanes.
    fn scoring() -> impl Strategy<Value = (ScoreMatrix, GapPenalties)> {
        let pen = || prop_oneof![8 => 0i32..8, 1 => 250i32..70000];
        (
            proptest::array::uniform25(-12i8..13),
            pen(),
            0i32..4,
            pen(),
            0i32..4,
        )
            .prop_map(|(mat, o_del, e_del, o_ins, e_ins)| {
                let g = GapPenalties {
                    o_del,
                    e_del,
                    o_ins,
                    e_ins,
                };
                (mat, g)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// The packed kernels agree with the lane emulation on any
        /// sequences (N included), lengths around the lane counts, and
        /// scoring.
        #[test]
        fn packed_builds_equal_emulation(
            (q, t) in prop_oneof![
                naive::related_pair(200),
                (
                    proptest::collection::vec(0u8..5, 1..70),
                    proptest::collection::vec(0u8..5, 0..120),
                ),
            ],
            (mat, g) in prop_oneof![
                3 => Just(defaults()),
                2 => scoring(),
            ],
            byte in any::<bool>(),
            min_sub in prop_oneof![0i32..40, Just(0x10000)],
            stop_at in prop_oneof![3 => Just(0x10000), 1 => 1i32..60],
        ) {
            let pass = Pass { mat: &mat, gaps: g, byte, min_sub, stop_at };
            let all = all_builds(&pass, &q, &t);
            for r in &all[1..] {
                prop_assert_eq!(*r, all[0]);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn score_equals_naive_local(
            (q, t) in naive::related_pair(60),
            byte in any::<bool>(),
        ) {
            let (mat, g) = defaults();
            let mut ws = LocalWorkspace::new();
            let flags = LocalFlags { byte, min_score: None, start: true };
            let r = local_align(&mut ws, &q, &t, &mat, g, flags);
            prop_assert_eq!(r.score, naive::local_score(&q, &t, &mat, g));
            if r.score > 0 {
                // The reported span scores the best score on its own.
                let (qb, qe, tb, te) = (r.qb as usize, r.qe as usize, r.tb as usize, r.te as usize);
                prop_assert_eq!(
                    naive::global_score(&q[qb..=qe], &t[tb..=te], &mat, g),
                    r.score
                );
            }
        }
    }

    /// Jobs for the side-by-side kernels: query lengths close together
    /// (so that several share a segment count), any targets, both lane
    /// widths, with and without start finding and suboptimal lists.
    fn job_set() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>, LocalFlags)>> {
        (1usize..70).prop_flat_map(|len| {
            let job = (
                prop_oneof![
                    3 => naive::related_pair(len + 3).prop_map(move |(q, t)| (q[..q.len().min(len + 3)].to_vec(), t)),
                    1 => (
                        proptest::collection::vec(0u8..5, len..len + 4),
                        proptest::collection::vec(0u8..5, 0..150),
                    ),
                    1 => (
                        proptest::collection::vec(0u8..5, 0..3),
                        proptest::collection::vec(0u8..5, 0..10),
                    ),
                ],
                any::<bool>(),
                prop_oneof![Just(None), (0i32..40).prop_map(Some)],
                any::<bool>(),
            )
                .prop_map(|((q, t), byte, min_score, start)| {
                    (q, t, LocalFlags { byte, min_score, start })
                });
            proptest::collection::vec(job, 0..14)
        })
    }

    /// `local_align_many` of `list`, then the side-by-side kernels at
    /// every width this CPU has (AVX-512BW and AVX2 where present).
    fn many_builds(
        list: &[LocalJob<'_>],
        mat: &ScoreMatrix,
        g: GapPenalties,
    ) -> Vec<Vec<LocalResult>> {
        let mut all = Vec::new();
        let mut out = Vec::new();
        local_align_many(&mut LocalWorkspace::new(), list, mat, g, &mut out);
        all.push(out);
        #[cfg(target_arch = "x86_64")]
        if g.o_del >= 0 && g.e_del >= 0 && g.o_ins >= 0 && g.e_ins >= 0 {
            let mut widths = Vec::new();
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
            {
                widths.push(many::Width::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                widths.push(many::Width::Avx2);
            }
            for w in widths {
                let mut out = Vec::new();
                // SAFETY: the CPU has the features of `w`, checked above.
                unsafe { many::align_all(w, &mut LocalWorkspace::new(), list, mat, g, &mut out) };
                all.push(out);
            }
        }
        all
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// `local_align_many`, at every width the CPU has, gives each job
        /// `local_align`'s result (on a CPU without AVX2 both are the
        /// single kernel).
        #[test]
        fn many_equals_one_at_a_time(
            jobs in job_set(),
            (mat, g) in prop_oneof![
                3 => Just(defaults()),
                2 => scoring(),
            ],
        ) {
            let list: Vec<LocalJob<'_>> = jobs
                .iter()
                .map(|(q, t, flags)| LocalJob { query: q, target: t, flags: *flags })
                .collect();
            for many in many_builds(&list, &mat, g) {
                prop_assert_eq!(many.len(), list.len());
                for (j, r) in list.iter().zip(&many) {
                    let one = local_align(&mut LocalWorkspace::new(), j.query, j.target, &mat, g, j.flags);
                    prop_assert_eq!(*r, one, "q {:?} t {:?} flags {:?}", j.query, j.target, j.flags);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Long insertion carries: a strong match at the query start and
        /// cheap insertions, so that the lazy-F pass carries scores across
        /// many lanes (the side-by-side kernels' closed form of that pass).
        #[test]
        fn many_equals_one_on_long_insertion_carries(
            slen in 1usize..5,
            byte in any::<bool>(),
            head in proptest::collection::vec(0u8..4, 1..6),
            tails in proptest::collection::vec(proptest::collection::vec(0u8..5, 64), 4),
            target_tail in proptest::collection::vec(0u8..5, 0..40),
            o_ins in 0i32..4,
            e_ins in 0i32..3,
            m in 5i8..13,
        ) {
            let mut mat = [-2i8; 25];
            for c in 0..4 {
                mat[c * 5 + c] = m;
            }
            let g = GapPenalties { o_del: 5, e_del: 2, o_ins, e_ins };
            let qlen = slen * if byte { 16 } else { 8 };
            let queries: Vec<Vec<u8>> = tails
                .iter()
                .map(|t| head.iter().chain(t).copied().take(qlen.max(head.len())).collect())
                .collect();
            let mut target = head.clone();
            target.extend_from_slice(&target_tail);
            let flags = LocalFlags { byte, min_score: Some(5), start: true };
            let list: Vec<LocalJob<'_>> = queries
                .iter()
                .map(|q| LocalJob { query: q, target: &target, flags })
                .collect();
            for many in many_builds(&list, &mat, g) {
                for (j, r) in list.iter().zip(&many) {
                    let one = local_align(&mut LocalWorkspace::new(), j.query, j.target, &mat, g, j.flags);
                    prop_assert_eq!(*r, one);
                    let pass = first_pass(&mat, g, flags);
                    let plain = pass.run_portable(&mut LocalWorkspace::new(), j.query, j.target);
                    prop_assert_eq!((r.score, r.te, r.qe, r.score2, r.te2), (plain.score, plain.te, plain.qe, plain.score2, plain.te2));
                }
            }
        }
    }

    /// The case where bwa's lane structure shows (see above), run beside
    /// three other jobs: each run keeps its own lazy-F stopping point.
    #[test]
    fn many_keeps_each_runs_lazy_f() {
        let (q, t, mat, g, flags) = zero_open_case();
        let q2: Vec<u8> = q.iter().map(|&c| if c < 4 { 3 - c } else { c }).collect();
        let t2: Vec<u8> = t.iter().rev().copied().collect();
        let list = [
            LocalJob {
                query: &q2,
                target: &t,
                flags,
            },
            LocalJob {
                query: &q,
                target: &t,
                flags,
            },
            LocalJob {
                query: &q,
                target: &t2,
                flags,
            },
            LocalJob {
                query: &q2,
                target: &t2,
                flags,
            },
        ];
        for out in many_builds(&list, &mat, g) {
            let r = out[1];
            assert_eq!(
                (r.score, r.te, r.qe, r.score2, r.te2, r.tb, r.qb),
                (8, 119, 91, -1, -1, -1, -1)
            );
            for (j, r) in list.iter().zip(&out) {
                let one = local_align(
                    &mut LocalWorkspace::new(),
                    j.query,
                    j.target,
                    &mat,
                    g,
                    j.flags,
                );
                assert_eq!(*r, one);
            }
        }
    }
}
