//! Runs of the striped kernel side by side, for
//! [`super::local_align_many`]: four in a 512-bit register (AVX-512BW) or
//! two in a 256-bit one (AVX2).
//!
//! Each 128-bit lane of the register holds one run, laid out exactly as
//! the single 128-bit kernel lays out its one register (16 u8 or 8 i16
//! lanes, query position `s + l * slen` in lane `l` of segment `s`), so the
//! runs only need the same number of segments. Every instruction
//! that moves data between lanes (the lane shift, the horizontal maximum)
//! stays inside a 128-bit lane, and the one data-dependent loop, the lazy-F
//! pass, stops writing a run's lane when that run would have left it. So
//! each run computes what the single kernel computes, step for step.
//!
//! The query profile is looked up per row with one in-lane byte shuffle:
//! a segment holds the query's base codes (5 for padding), and a row's
//! register holds, per lane, the 16-byte score table of that run's target
//! base.

use std::arch::x86_64::*;

use super::{
    finish, note_row, start_inputs, start_pass, wants_start, with_start, LocalJob, LocalResult,
    LocalWorkspace, Pass,
};
use crate::extend::{GapPenalties, ScoreMatrix};

/// The most runs side by side (a 512-bit register).
const RUNS: usize = 4;

/// The base code of a padding query position (scores 0 against anything).
const PAD: u8 = 5;

/// One register's bytes, aligned as 512-bit loads want them.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct Zmm([u8; 64]);

/// Reusable buffers of the side-by-side kernels.
#[derive(Debug, Default, Clone)]
pub(super) struct Buffers {
    regs: Vec<Zmm>,
    subs: [Vec<(i32, i32)>; RUNS],
    order: Vec<usize>,
    results: Vec<LocalResult>,
    rev: Vec<u8>,
    spans: Vec<(usize, usize, usize)>,
}

/// The register width the side-by-side kernels use on this CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Width {
    /// Four runs in a 512-bit register.
    Avx512,
    /// Two runs in a 256-bit register.
    Avx2,
}

impl Width {
    /// The widest this CPU has, if any.
    pub(super) fn detect() -> Option<Width> {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
        {
            Some(Width::Avx512)
        } else if std::arch::is_x86_feature_detected!("avx2") {
            Some(Width::Avx2)
        } else {
            None
        }
    }

    fn runs(self) -> usize {
        match self {
            Width::Avx512 => 4,
            Width::Avx2 => 2,
        }
    }
}

/// The width the side-by-side kernels run at on this CPU, when the
/// penalties suit them (the single kernels' condition, [`Pass::simd_fits`]).
pub(super) fn usable(g: GapPenalties) -> Option<Width> {
    let fits = g.o_del >= 0 && g.e_del >= 0 && g.o_ins >= 0 && g.e_ins >= 0;
    Width::detect().filter(|_| fits)
}

/// One kernel pass to run.
#[derive(Clone, Copy)]
struct Spec<'a> {
    query: &'a [u8],
    target: &'a [u8],
    pass: Pass<'a>,
}

impl Spec<'_> {
    /// Segments of the striped query.
    fn slen(&self) -> usize {
        self.query
            .len()
            .div_ceil(if self.pass.byte { 16 } else { 8 })
    }
}

/// [`super::local_align`] of every job into `out`: all first passes, then
/// the start passes of the results that want one.
///
/// # Safety
/// The CPU must have the features of `width` ([`usable`]).
pub(super) unsafe fn align_all(
    width: Width,
    ws: &mut LocalWorkspace,
    jobs: &[LocalJob<'_>],
    mat: &ScoreMatrix,
    gaps: GapPenalties,
    out: &mut Vec<LocalResult>,
) {
    let mut b = std::mem::take(&mut ws.many);
    let firsts: Vec<Spec<'_>> = jobs
        .iter()
        .map(|j| Spec {
            query: j.query,
            target: j.target,
            pass: super::first_pass(mat, gaps, j.flags),
        })
        .collect();
    run_specs(width, ws, &mut b, &firsts, out);

    // The start passes' inputs, one after another in `rev`: (job, query
    // length, target length).
    let mut rev = std::mem::take(&mut b.rev);
    rev.clear();
    b.spans.clear();
    let (mut rq, mut rt) = (Vec::new(), Vec::new());
    for (k, (j, r)) in jobs.iter().zip(out.iter()).enumerate() {
        if wants_start(j.flags, r) {
            start_inputs(j.query, j.target, r, &mut rq, &mut rt);
            rev.extend_from_slice(&rq);
            rev.extend_from_slice(&rt);
            b.spans.push((k, rq.len(), rt.len()));
        }
    }
    if !b.spans.is_empty() {
        let mut at = 0;
        let starts: Vec<Spec<'_>> = b
            .spans
            .iter()
            .map(|&(k, lq, lt)| {
                let query = &rev[at..at + lq];
                let target = &rev[at + lq..at + lq + lt];
                at += lq + lt;
                Spec {
                    query,
                    target,
                    pass: start_pass(&firsts[k].pass, &out[k]),
                }
            })
            .collect();
        let mut results = std::mem::take(&mut b.results);
        run_specs(width, ws, &mut b, &starts, &mut results);
        for (&(k, _, _), rr) in b.spans.iter().zip(&results) {
            out[k] = with_start(out[k], rr);
        }
        b.results = results;
    }
    b.rev = rev;
    ws.many = b;
}

/// Every pass of `specs`, results in `out` in order. Passes of one lane
/// width and segment count go side by side, in order of target length so
/// that runs beside each other end close together; a pass left alone runs
/// on the single kernel.
unsafe fn run_specs(
    width: Width,
    ws: &mut LocalWorkspace,
    b: &mut Buffers,
    specs: &[Spec<'_>],
    out: &mut Vec<LocalResult>,
) {
    out.clear();
    out.resize(specs.len(), LocalResult::NONE);
    b.order.clear();
    b.order
        .extend((0..specs.len()).filter(|&k| !specs[k].query.is_empty()));
    b.order.sort_by_key(|&k| {
        let s = &specs[k];
        (!s.pass.byte, s.slen(), s.target.len())
    });
    let order = std::mem::take(&mut b.order);
    let mut rest = &order[..];
    while let Some(&k0) = rest.first() {
        let key = |k: usize| (specs[k].pass.byte, specs[k].slen());
        let same = rest
            .iter()
            .take(width.runs())
            .take_while(|&&k| key(k) == key(k0))
            .count();
        let (group, tail) = rest.split_at(same);
        rest = tail;
        if group.len() == 1 {
            let s = &specs[k0];
            out[k0] = s.pass.run(ws, s.query, s.target);
            continue;
        }
        let mut runs = [specs[k0]; RUNS];
        for (r, &k) in runs.iter_mut().zip(group) {
            *r = specs[k];
        }
        let runs = &runs[..group.len()];
        let res = match (width, specs[k0].pass.byte) {
            (Width::Avx512, true) => group_avx512::<true>(b, runs),
            (Width::Avx512, false) => group_avx512::<false>(b, runs),
            (Width::Avx2, true) => group_avx2::<true>(b, runs),
            (Width::Avx2, false) => group_avx2::<false>(b, runs),
        };
        for (&k, r) in group.iter().zip(res) {
            out[k] = r;
        }
    }
    b.order = order;
}

/// One register of runs side by side: the operations the kernel needs,
/// every one of them within 128-bit lanes.
///
/// # Safety
/// Every method needs the CPU features of its implementation.
trait Wide: Copy {
    /// Runs side by side (128-bit lanes).
    const RUNS: usize;
    unsafe fn zero() -> Self;
    unsafe fn splat8(x: u8) -> Self;
    unsafe fn splat16(x: u16) -> Self;
    unsafe fn adds_u8(self, b: Self) -> Self;
    unsafe fn subs_u8(self, b: Self) -> Self;
    unsafe fn max_u8(self, b: Self) -> Self;
    unsafe fn adds_i16(self, b: Self) -> Self;
    unsafe fn subs_u16(self, b: Self) -> Self;
    unsafe fn max_i16(self, b: Self) -> Self;
    /// Each 128-bit lane shifted up (towards higher bytes) by `N` bytes.
    unsafe fn shl<const N: i32>(self) -> Self;
    /// Each 128-bit lane shifted down by `N` bytes.
    unsafe fn shr<const N: i32>(self) -> Self;
    /// Per 128-bit lane, the bytes of `self` picked by `idx`.
    unsafe fn shuffle(self, idx: Self) -> Self;
    /// Lane `g` the 16 bytes of `lanes[g]`.
    unsafe fn from_lanes(lanes: &[*const u8]) -> Self;
    /// `new` in the lanes set in `lanes`, `old` elsewhere.
    unsafe fn blend(old: Self, new: Self, lanes: u32) -> Self;
    /// The lanes in which some u8 element of `self` exceeds `b`'s.
    unsafe fn gt_u8(self, b: Self) -> u32;
    /// The lanes in which some i16 element of `self` exceeds `b`'s.
    unsafe fn gt_i16(self, b: Self) -> u32;
}

#[derive(Clone, Copy)]
struct Z(__m512i);

impl Wide for Z {
    const RUNS: usize = 4;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Z(_mm512_setzero_si512())
    }
    #[inline(always)]
    unsafe fn splat8(x: u8) -> Self {
        Z(_mm512_set1_epi8(x as i8))
    }
    #[inline(always)]
    unsafe fn splat16(x: u16) -> Self {
        Z(_mm512_set1_epi16(x as i16))
    }
    #[inline(always)]
    unsafe fn adds_u8(self, b: Self) -> Self {
        Z(_mm512_adds_epu8(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn subs_u8(self, b: Self) -> Self {
        Z(_mm512_subs_epu8(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn max_u8(self, b: Self) -> Self {
        Z(_mm512_max_epu8(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn adds_i16(self, b: Self) -> Self {
        Z(_mm512_adds_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn subs_u16(self, b: Self) -> Self {
        Z(_mm512_subs_epu16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn max_i16(self, b: Self) -> Self {
        Z(_mm512_max_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn shl<const N: i32>(self) -> Self {
        Z(_mm512_bslli_epi128::<N>(self.0))
    }
    #[inline(always)]
    unsafe fn shr<const N: i32>(self) -> Self {
        Z(_mm512_bsrli_epi128::<N>(self.0))
    }
    #[inline(always)]
    unsafe fn shuffle(self, idx: Self) -> Self {
        Z(_mm512_shuffle_epi8(self.0, idx.0))
    }
    #[inline(always)]
    unsafe fn from_lanes(lanes: &[*const u8]) -> Self {
        let t = |g: usize| _mm_loadu_si128(lanes[g].cast());
        let mut v = _mm512_castsi128_si512(t(0));
        v = _mm512_inserti32x4::<1>(v, t(1));
        v = _mm512_inserti32x4::<2>(v, t(2));
        v = _mm512_inserti32x4::<3>(v, t(3));
        Z(v)
    }
    #[inline(always)]
    unsafe fn blend(old: Self, new: Self, lanes: u32) -> Self {
        let bytes = (0..4)
            .filter(|&g| lanes >> g & 1 != 0)
            .fold(0u64, |m, g| m | 0xffff << (16 * g));
        Z(_mm512_mask_mov_epi8(old.0, bytes, new.0))
    }
    #[inline(always)]
    unsafe fn gt_u8(self, b: Self) -> u32 {
        lanes_of(_mm512_cmpgt_epu8_mask(self.0, b.0), 16, 4)
    }
    #[inline(always)]
    unsafe fn gt_i16(self, b: Self) -> u32 {
        lanes_of(u64::from(_mm512_cmpgt_epi16_mask(self.0, b.0)), 8, 4)
    }
}

#[derive(Clone, Copy)]
struct Y(__m256i);

impl Wide for Y {
    const RUNS: usize = 2;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Y(_mm256_setzero_si256())
    }
    #[inline(always)]
    unsafe fn splat8(x: u8) -> Self {
        Y(_mm256_set1_epi8(x as i8))
    }
    #[inline(always)]
    unsafe fn splat16(x: u16) -> Self {
        Y(_mm256_set1_epi16(x as i16))
    }
    #[inline(always)]
    unsafe fn adds_u8(self, b: Self) -> Self {
        Y(_mm256_adds_epu8(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn subs_u8(self, b: Self) -> Self {
        Y(_mm256_subs_epu8(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn max_u8(self, b: Self) -> Self {
        Y(_mm256_max_epu8(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn adds_i16(self, b: Self) -> Self {
        Y(_mm256_adds_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn subs_u16(self, b: Self) -> Self {
        Y(_mm256_subs_epu16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn max_i16(self, b: Self) -> Self {
        Y(_mm256_max_epi16(self.0, b.0))
    }
    #[inline(always)]
    unsafe fn shl<const N: i32>(self) -> Self {
        Y(_mm256_slli_si256::<N>(self.0))
    }
    #[inline(always)]
    unsafe fn shr<const N: i32>(self) -> Self {
        Y(_mm256_srli_si256::<N>(self.0))
    }
    #[inline(always)]
    unsafe fn shuffle(self, idx: Self) -> Self {
        Y(_mm256_shuffle_epi8(self.0, idx.0))
    }
    #[inline(always)]
    unsafe fn from_lanes(lanes: &[*const u8]) -> Self {
        let t = |g: usize| _mm_loadu_si128(lanes[g].cast());
        Y(_mm256_inserti128_si256::<1>(
            _mm256_castsi128_si256(t(0)),
            t(1),
        ))
    }
    #[inline(always)]
    unsafe fn blend(old: Self, new: Self, lanes: u32) -> Self {
        let mask = _mm256_setr_epi64x(
            -i64::from(lanes & 1),
            -i64::from(lanes & 1),
            -i64::from(lanes >> 1 & 1),
            -i64::from(lanes >> 1 & 1),
        );
        Y(_mm256_blendv_epi8(old.0, new.0, mask))
    }
    #[inline(always)]
    unsafe fn gt_u8(self, b: Self) -> u32 {
        // a > b unsigned where a - b (saturating) is not 0.
        let le = _mm256_cmpeq_epi8(_mm256_subs_epu8(self.0, b.0), _mm256_setzero_si256());
        lanes_of(u64::from(!(_mm256_movemask_epi8(le) as u32)), 16, 2)
    }
    #[inline(always)]
    unsafe fn gt_i16(self, b: Self) -> u32 {
        // Two mask bits per i16 element.
        let gt = _mm256_cmpgt_epi16(self.0, b.0);
        lanes_of(u64::from(_mm256_movemask_epi8(gt) as u32), 16, 2)
    }
}

/// The lanes (bit `g` for lane `g` of `runs`) with a bit set in `m`, each
/// lane owning `per` consecutive bits.
#[inline(always)]
fn lanes_of(m: u64, per: u32, runs: u32) -> u32 {
    let lane = (1u64 << per) - 1;
    (0..runs)
        .filter(|&l| m >> (per * l) & lane != 0)
        .fold(0, |acc, l| acc | 1 << l)
}

/// A penalty splatted to every element, saturated to the element range
/// (which clears a score just as the full penalty would).
#[inline(always)]
unsafe fn penalty<W: Wide, const BYTE: bool>(x: i32) -> W {
    if BYTE {
        W::splat8(x.clamp(0, 255) as u8)
    } else {
        W::splat16(x.clamp(0, 0xffff) as u16)
    }
}

/// `h + s`, clamped as the lanes clamp it (`bias`: the u8 shift).
#[inline(always)]
unsafe fn add_score<W: Wide, const BYTE: bool>(h: W, s: W, bias: W) -> W {
    if BYTE {
        h.adds_u8(s).subs_u8(bias)
    } else {
        h.adds_i16(s)
    }
}

#[inline(always)]
unsafe fn vmax<W: Wide, const BYTE: bool>(a: W, b: W) -> W {
    if BYTE {
        a.max_u8(b)
    } else {
        a.max_i16(b)
    }
}

/// `max(a - b, 0)` on the (non-negative) scores.
#[inline(always)]
unsafe fn sub0<W: Wide, const BYTE: bool>(a: W, b: W) -> W {
    if BYTE {
        a.subs_u8(b)
    } else {
        a.subs_u16(b)
    }
}

/// Moves every element up by one within its 128-bit lane, element 0
/// becoming 0.
#[inline(always)]
unsafe fn lane_up<W: Wide, const BYTE: bool>(a: W) -> W {
    if BYTE {
        a.shl::<1>()
    } else {
        a.shl::<2>()
    }
}

/// The lanes in which `f > g` somewhere: the runs for which the single
/// kernel's `all_le(f, g)` is false.
#[inline(always)]
unsafe fn lanes_gt<W: Wide, const BYTE: bool>(f: W, g: W) -> u32 {
    if BYTE {
        f.gt_u8(g)
    } else {
        f.gt_i16(g)
    }
}

/// Per 128-bit lane, the best carry arriving at each element from the
/// elements below it: `x` holds what arrives from the next element down
/// (already moved up), and a carry loses `decay[0]` per element it crosses
/// (`decay[k]` is `2^k` times that).
#[inline(always)]
unsafe fn carry_scan<W: Wide, const BYTE: bool>(mut x: W, decay: &[W; 4]) -> W {
    if BYTE {
        x = vmax::<W, BYTE>(x, sub0::<W, BYTE>(x.shl::<1>(), decay[0]));
        x = vmax::<W, BYTE>(x, sub0::<W, BYTE>(x.shl::<2>(), decay[1]));
        x = vmax::<W, BYTE>(x, sub0::<W, BYTE>(x.shl::<4>(), decay[2]));
        x = vmax::<W, BYTE>(x, sub0::<W, BYTE>(x.shl::<8>(), decay[3]));
    } else {
        x = vmax::<W, BYTE>(x, sub0::<W, BYTE>(x.shl::<2>(), decay[0]));
        x = vmax::<W, BYTE>(x, sub0::<W, BYTE>(x.shl::<4>(), decay[1]));
        x = vmax::<W, BYTE>(x, sub0::<W, BYTE>(x.shl::<8>(), decay[2]));
    }
    x
}

/// Per 128-bit lane, its largest element, left in element 0.
#[inline(always)]
unsafe fn lane_max<W: Wide, const BYTE: bool>(mut x: W) -> W {
    x = vmax::<W, BYTE>(x, x.shr::<8>());
    x = vmax::<W, BYTE>(x, x.shr::<4>());
    x = vmax::<W, BYTE>(x, x.shr::<2>());
    if BYTE {
        x = vmax::<W, BYTE>(x, x.shr::<1>());
    }
    x
}

/// Element `l` of 128-bit lane `g` of a stored register.
#[inline(always)]
fn element<const BYTE: bool>(v: &[u8], g: usize, l: usize) -> i32 {
    if BYTE {
        i32::from(v[16 * g + l])
    } else {
        i32::from(i16::from_le_bytes([
            v[16 * g + 2 * l],
            v[16 * g + 2 * l + 1],
        ]))
    }
}

/// [`run_group`] with four runs in 512-bit registers.
///
/// # Safety
/// The CPU must have AVX-512F and AVX-512BW.
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn group_avx512<const BYTE: bool>(
    b: &mut Buffers,
    runs: &[Spec<'_>],
) -> [LocalResult; RUNS] {
    run_group::<Z, BYTE>(b, runs)
}

/// [`run_group`] with two runs in 256-bit registers.
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
unsafe fn group_avx2<const BYTE: bool>(b: &mut Buffers, runs: &[Spec<'_>]) -> [LocalResult; RUNS] {
    run_group::<Y, BYTE>(b, runs)
}

/// Runs the passes of `runs` (2 to `W::RUNS`, one lane width, one segment
/// count) side by side; their results in order.
#[inline(always)]
unsafe fn run_group<W: Wide, const BYTE: bool>(
    b: &mut Buffers,
    runs: &[Spec<'_>],
) -> [LocalResult; RUNS] {
    let n = runs.len();
    debug_assert!((2..=W::RUNS).contains(&n));
    let first = &runs[0].pass;
    let (mat, g) = (first.mat, first.gaps);
    let slen = runs[0].slen();
    let sub = if BYTE { 16 } else { 8 };
    let shift = if BYTE {
        -i32::from(mat.iter().copied().min().unwrap_or(0).min(0))
    } else {
        0
    };
    let bytes = std::mem::size_of::<W>();

    // Score tables per target base: entry c for query code c, PAD last.
    let mut tables = [[0u8; 16]; 5];
    for (t, table) in tables.iter_mut().enumerate() {
        for c in 0..=usize::from(PAD) {
            let s = if c < 5 { i32::from(mat[t * 5 + c]) } else { 0 };
            if BYTE {
                table[c] = (s + shift) as u8;
            } else {
                table[2 * c..2 * c + 2].copy_from_slice(&(s as i16).to_le_bytes());
            }
        }
    }

    // Registers: query codes, H of the previous row, H of this row, E, H
    // of each run's best row; `slen` each.
    b.regs.clear();
    b.regs.resize((5 * slen * bytes).div_ceil(64), Zmm([0; 64]));
    let all: &mut [u8] =
        std::slice::from_raw_parts_mut(b.regs.as_mut_ptr().cast::<u8>(), 5 * slen * bytes);
    for (s, reg) in all[..slen * bytes].chunks_exact_mut(bytes).enumerate() {
        for (lane, lane_bytes) in reg.chunks_exact_mut(16).enumerate() {
            for l in 0..sub {
                let c = runs
                    .get(lane)
                    .and_then(|r| r.query.get(s + l * slen))
                    .map_or(PAD, |&q| q.min(4));
                if BYTE {
                    lane_bytes[l] = c;
                } else {
                    lane_bytes[2 * l] = 2 * c;
                    lane_bytes[2 * l + 1] = 2 * c + 1;
                }
            }
        }
    }
    let base = b.regs.as_mut_ptr().cast::<W>();
    let qc = base as *const W;
    let (mut hp, mut hc) = (base.add(slen), base.add(2 * slen));
    let e = base.add(3 * slen);
    let hmax = base.add(4 * slen);

    let oe_del = penalty::<W, BYTE>(g.o_del.saturating_add(g.e_del));
    let e_del = penalty::<W, BYTE>(g.e_del);
    let oe_ins = penalty::<W, BYTE>(g.o_ins.saturating_add(g.e_ins));
    let e_ins = penalty::<W, BYTE>(g.e_ins);
    let bias = W::splat8(shift as u8);
    let zero = W::zero();
    // The lazy-F pass in closed form (module documentation of `ksw_local`)
    // needs insertions that cost more to open than to extend.
    let closed_form = g.o_ins > 0;
    // What a carry loses crossing 1, 2, 4 and 8 elements (a whole segment each).
    let step = (slen as i32).saturating_mul(g.e_ins);
    let decay = [1, 2, 4, 8].map(|k| penalty::<W, BYTE>(step.saturating_mul(k)));

    for s in &mut b.subs[..n] {
        s.clear();
    }
    let mut gmax = [0i32; RUNS];
    let mut te = [-1i32; RUNS];
    let mut overflow = [false; RUNS];
    // Runs still scanning rows, bit per run.
    let mut active: u32 = (0..n)
        .filter(|&k| !runs[k].target.is_empty())
        .fold(0, |m, k| m | 1 << k);
    let mut reduced = Zmm([0; 64]);
    let mut i = 0usize;
    while active != 0 {
        // This row's score tables, per run (N past a run's end).
        let mut rows_of = [tables[4].as_ptr(); RUNS];
        for (k, r) in runs.iter().enumerate() {
            if let Some(&c) = r.target.get(i) {
                rows_of[k] = tables[usize::from(c.min(4))].as_ptr();
            }
        }
        let rows = W::from_lanes(&rows_of[..W::RUNS]);

        // H(i-1, -1) per lane: the previous row's last segment moved up a lane.
        let mut h = lane_up::<W, BYTE>(*hp.add(slen - 1));
        let mut f = zero;
        let mut mx = zero;
        for j in 0..slen {
            let sc = rows.shuffle(*qc.add(j));
            h = add_score::<W, BYTE>(h, sc, bias);
            let ev = *e.add(j);
            h = vmax::<W, BYTE>(vmax::<W, BYTE>(h, ev), f);
            mx = vmax::<W, BYTE>(mx, h);
            *hc.add(j) = h;
            *e.add(j) = vmax::<W, BYTE>(sub0::<W, BYTE>(ev, e_del), sub0::<W, BYTE>(h, oe_del));
            f = vmax::<W, BYTE>(sub0::<W, BYTE>(f, e_ins), sub0::<W, BYTE>(h, oe_ins));
            h = *hp.add(j);
        }
        // Lazy F (E is not revisited). Its first step as the single kernel
        // takes it: when every run stops there, that is all.
        f = lane_up::<W, BYTE>(f);
        let old = *hc;
        let hv = vmax::<W, BYTE>(old, f);
        *hc = W::blend(old, hv, active);
        let f1 = sub0::<W, BYTE>(f, e_ins);
        let going = lanes_gt::<W, BYTE>(f1, sub0::<W, BYTE>(hv, oe_ins)) & active;
        if going != 0 {
            if closed_form {
                // Every carry applied (module documentation of `ksw_local`).
                let mut c = carry_scan::<W, BYTE>(f, &decay);
                for j in 0..slen {
                    *hc.add(j) = vmax::<W, BYTE>(*hc.add(j), c);
                    c = sub0::<W, BYTE>(c, e_ins);
                }
            } else {
                // Per run until that run's stopping point.
                let mut lazy = going;
                f = f1;
                let mut j = 1;
                'lazy: for _ in 0..16 {
                    while j < slen {
                        let old = *hc.add(j);
                        let hv = vmax::<W, BYTE>(old, f);
                        *hc.add(j) = W::blend(old, hv, lazy);
                        f = sub0::<W, BYTE>(f, e_ins);
                        lazy &= lanes_gt::<W, BYTE>(f, sub0::<W, BYTE>(hv, oe_ins));
                        if lazy == 0 {
                            break 'lazy;
                        }
                        j += 1;
                    }
                    f = lane_up::<W, BYTE>(f);
                    j = 0;
                }
            }
        }

        std::ptr::write_unaligned(reduced.0.as_mut_ptr().cast::<W>(), lane_max::<W, BYTE>(mx));
        let mut improved = 0u32;
        for k in 0..n {
            if active >> k & 1 == 0 {
                continue;
            }
            let r = &runs[k];
            let imax = element::<BYTE>(&reduced.0, k, 0);
            note_row(&mut b.subs[k], r.pass.min_sub, imax, i as i32);
            if imax > gmax[k] {
                gmax[k] = imax;
                te[k] = i as i32;
                improved |= 1 << k;
                if BYTE && imax + shift >= 255 {
                    overflow[k] = true;
                    active &= !(1 << k);
                } else if imax >= r.pass.stop_at {
                    active &= !(1 << k);
                }
            }
            if i + 1 >= r.target.len() {
                active &= !(1 << k);
            }
        }
        if improved != 0 {
            for j in 0..slen {
                *hmax.add(j) = W::blend(*hmax.add(j), *hc.add(j), improved);
            }
        }
        std::mem::swap(&mut hp, &mut hc);
        i += 1;
    }

    let all: &[u8] = std::slice::from_raw_parts(b.regs.as_ptr().cast::<u8>(), 5 * slen * bytes);
    let best = &all[4 * slen * bytes..];
    let mut out = [LocalResult::NONE; RUNS];
    for (k, r) in out.iter_mut().enumerate().take(n) {
        let row = best
            .chunks_exact(bytes)
            .enumerate()
            .flat_map(move |(s, v)| {
                (0..sub).map(move |l| (s + l * slen, element::<BYTE>(v, k, l)))
            });
        *r = finish(mat, gmax[k], te[k], overflow[k], row, &b.subs[k]);
    }
    out
}
