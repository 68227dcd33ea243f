//! Four runs of the striped kernel side by side (AVX-512BW), for
//! [`super::local_align_many`].
//!
//! Each 128-bit lane of a 512-bit register holds one run, laid out exactly
//! as the single 128-bit kernel lays out its one register (16 u8 or 8 i16
//! lanes, query position `s + l * slen` in lane `l` of segment `s`), so the
//! four runs only need the same number of segments. Every instruction
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

/// Runs side by side.
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

/// Whether this CPU runs the side-by-side kernels and the penalties suit
/// them (the single kernels' condition, [`Pass::simd_fits`]).
pub(super) fn usable(g: GapPenalties) -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && g.o_del >= 0
        && g.e_del >= 0
        && g.o_ins >= 0
        && g.e_ins >= 0
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
/// The CPU must have AVX-512F and AVX-512BW ([`usable`]).
pub(super) unsafe fn align_all(
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
    run_specs(ws, &mut b, &firsts, out);

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
        run_specs(ws, &mut b, &starts, &mut results);
        for (&(k, _, _), rr) in b.spans.iter().zip(&results) {
            out[k] = with_start(out[k], rr);
        }
        b.results = results;
    }
    b.rev = rev;
    ws.many = b;
}

/// Every pass of `specs`, results in `out` in order. Passes of one lane
/// width and segment count go four at a time, in order of target length
/// so that the four end close together; a pass left alone runs on the
/// single kernel.
unsafe fn run_specs(
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
            .take(RUNS)
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
        let res = if specs[k0].pass.byte {
            run_group::<true>(b, &runs[..group.len()])
        } else {
            run_group::<false>(b, &runs[..group.len()])
        };
        for (&k, r) in group.iter().zip(res) {
            out[k] = r;
        }
    }
    b.order = order;
}

/// Byte mask of 128-bit lane `g`.
const fn lane_bytes(g: usize) -> u64 {
    0xffff << (16 * g)
}

/// Byte mask of the lanes whose bit is set in `lanes`.
#[inline(always)]
fn lanes_bytes(lanes: u32) -> u64 {
    (0..RUNS)
        .filter(|&g| lanes >> g & 1 != 0)
        .fold(0, |m, g| m | lane_bytes(g))
}

/// A penalty splatted to every lane, saturated to the lane range (which
/// clears a score just as the full penalty would).
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn penalty<const BYTE: bool>(x: i32) -> __m512i {
    if BYTE {
        _mm512_set1_epi8(x.clamp(0, 255) as u8 as i8)
    } else {
        _mm512_set1_epi16(x.clamp(0, 0xffff) as u16 as i16)
    }
}

/// `h + s`, clamped as the lanes clamp it (`bias`: the u8 shift).
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn add_score<const BYTE: bool>(h: __m512i, s: __m512i, bias: __m512i) -> __m512i {
    if BYTE {
        _mm512_subs_epu8(_mm512_adds_epu8(h, s), bias)
    } else {
        _mm512_adds_epi16(h, s)
    }
}

#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn vmax<const BYTE: bool>(a: __m512i, b: __m512i) -> __m512i {
    if BYTE {
        _mm512_max_epu8(a, b)
    } else {
        _mm512_max_epi16(a, b)
    }
}

/// `max(a - b, 0)` on the (non-negative) scores.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn sub0<const BYTE: bool>(a: __m512i, b: __m512i) -> __m512i {
    if BYTE {
        _mm512_subs_epu8(a, b)
    } else {
        _mm512_subs_epu16(a, b)
    }
}

/// Moves every lane up by one within its 128-bit lane, lane 0 becoming 0.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn lane_up<const BYTE: bool>(a: __m512i) -> __m512i {
    if BYTE {
        _mm512_bslli_epi128::<1>(a)
    } else {
        _mm512_bslli_epi128::<2>(a)
    }
}

/// The 128-bit lanes (bit `g` for lane `g`) in which `f > g` somewhere:
/// the runs for which the single kernel's `all_le(f, g)` is false.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn lanes_gt<const BYTE: bool>(f: __m512i, g: __m512i) -> u32 {
    // Mask bits per 128-bit lane: 16 (u8 elements) or 8 (i16).
    let (m, per): (u64, u32) = if BYTE {
        (_mm512_cmpgt_epu8_mask(f, g), 16)
    } else {
        (u64::from(_mm512_cmpgt_epi16_mask(f, g)), 8)
    };
    let lane = (1u64 << per) - 1;
    (0..RUNS as u32)
        .filter(|&l| m >> (per * l) & lane != 0)
        .fold(0, |acc, l| acc | 1 << l)
}

/// Per 128-bit lane, the best carry arriving at each element from the
/// elements below it: `x` holds what arrives from the next lane down
/// (already moved up), and a carry loses `decay[0]` per lane it crosses
/// (`decay[k]` is `2^k` times that).
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn carry_scan<const BYTE: bool>(mut x: __m512i, decay: &[__m512i; 4]) -> __m512i {
    if BYTE {
        x = vmax::<BYTE>(x, sub0::<BYTE>(_mm512_bslli_epi128::<1>(x), decay[0]));
        x = vmax::<BYTE>(x, sub0::<BYTE>(_mm512_bslli_epi128::<2>(x), decay[1]));
        x = vmax::<BYTE>(x, sub0::<BYTE>(_mm512_bslli_epi128::<4>(x), decay[2]));
        x = vmax::<BYTE>(x, sub0::<BYTE>(_mm512_bslli_epi128::<8>(x), decay[3]));
    } else {
        x = vmax::<BYTE>(x, sub0::<BYTE>(_mm512_bslli_epi128::<2>(x), decay[0]));
        x = vmax::<BYTE>(x, sub0::<BYTE>(_mm512_bslli_epi128::<4>(x), decay[1]));
        x = vmax::<BYTE>(x, sub0::<BYTE>(_mm512_bslli_epi128::<8>(x), decay[2]));
    }
    x
}

/// Per 128-bit lane, its largest element, left in element 0.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn lane_max<const BYTE: bool>(mut x: __m512i) -> __m512i {
    x = vmax::<BYTE>(x, _mm512_bsrli_epi128::<8>(x));
    x = vmax::<BYTE>(x, _mm512_bsrli_epi128::<4>(x));
    x = vmax::<BYTE>(x, _mm512_bsrli_epi128::<2>(x));
    if BYTE {
        x = vmax::<BYTE>(x, _mm512_bsrli_epi128::<1>(x));
    }
    x
}

/// Element `l` of 128-bit lane `g` of a stored register.
#[inline(always)]
fn element<const BYTE: bool>(v: &Zmm, g: usize, l: usize) -> i32 {
    if BYTE {
        i32::from(v.0[16 * g + l])
    } else {
        i32::from(i16::from_le_bytes([
            v.0[16 * g + 2 * l],
            v.0[16 * g + 2 * l + 1],
        ]))
    }
}

/// Runs the passes of `runs` (2 to 4, one lane width, one segment count)
/// side by side; their results in order.
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn run_group<const BYTE: bool>(b: &mut Buffers, runs: &[Spec<'_>]) -> [LocalResult; RUNS] {
    let n = runs.len();
    debug_assert!((2..=RUNS).contains(&n));
    let first = &runs[0].pass;
    let (mat, g) = (first.mat, first.gaps);
    let slen = runs[0].slen();
    let sub = if BYTE { 16 } else { 8 };
    let shift = if BYTE {
        -i32::from(mat.iter().copied().min().unwrap_or(0).min(0))
    } else {
        0
    };

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
    b.regs.resize(5 * slen, Zmm([0; 64]));
    for (s, reg) in b.regs[..slen].iter_mut().enumerate() {
        for (lane, bytes) in reg.0.chunks_exact_mut(16).enumerate() {
            for l in 0..sub {
                let c = runs
                    .get(lane)
                    .and_then(|r| r.query.get(s + l * slen))
                    .map_or(PAD, |&q| q.min(4));
                if BYTE {
                    bytes[l] = c;
                } else {
                    bytes[2 * l] = 2 * c;
                    bytes[2 * l + 1] = 2 * c + 1;
                }
            }
        }
    }
    let base = b.regs.as_mut_ptr().cast::<__m512i>();
    let qc = base as *const __m512i;
    let (mut hp, mut hc) = (base.add(slen), base.add(2 * slen));
    let e = base.add(3 * slen);
    let hmax = base.add(4 * slen);

    let oe_del = penalty::<BYTE>(g.o_del.saturating_add(g.e_del));
    let e_del = penalty::<BYTE>(g.e_del);
    let oe_ins = penalty::<BYTE>(g.o_ins.saturating_add(g.e_ins));
    let e_ins = penalty::<BYTE>(g.e_ins);
    let bias = _mm512_set1_epi8(shift as u8 as i8);
    let zero = _mm512_setzero_si512();
    let closed_form = g.o_ins > 0;
    // What a carry loses crossing 1, 2, 4 and 8 lanes (a whole segment each).
    let step = (slen as i32).saturating_mul(g.e_ins);
    let decay = [1, 2, 4, 8].map(|k| penalty::<BYTE>(step.saturating_mul(k)));

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
        let t = |k: usize| -> __m128i {
            let c = runs
                .get(k)
                .and_then(|r| r.target.get(i))
                .map_or(4, |&c| c.min(4));
            _mm_loadu_si128(tables[usize::from(c)].as_ptr().cast())
        };
        let mut rows = _mm512_castsi128_si512(t(0));
        rows = _mm512_inserti32x4::<1>(rows, t(1));
        rows = _mm512_inserti32x4::<2>(rows, t(2));
        rows = _mm512_inserti32x4::<3>(rows, t(3));

        // H(i-1, -1) per lane: the previous row's last segment moved up a lane.
        let mut h = lane_up::<BYTE>(*hp.add(slen - 1));
        let mut f = zero;
        let mut mx = zero;
        for j in 0..slen {
            let sc = _mm512_shuffle_epi8(rows, *qc.add(j));
            h = add_score::<BYTE>(h, sc, bias);
            let ev = *e.add(j);
            h = vmax::<BYTE>(vmax::<BYTE>(h, ev), f);
            mx = vmax::<BYTE>(mx, h);
            *hc.add(j) = h;
            *e.add(j) = vmax::<BYTE>(sub0::<BYTE>(ev, e_del), sub0::<BYTE>(h, oe_del));
            f = vmax::<BYTE>(sub0::<BYTE>(f, e_ins), sub0::<BYTE>(h, oe_ins));
            h = *hp.add(j);
        }
        // Lazy F (E is not revisited). Its first step as the single kernel
        // takes it: when every run stops there, that is all.
        f = lane_up::<BYTE>(f);
        let old = *hc;
        let hv = vmax::<BYTE>(old, f);
        *hc = _mm512_mask_mov_epi8(old, lanes_bytes(active), hv);
        let f1 = sub0::<BYTE>(f, e_ins);
        let going = lanes_gt::<BYTE>(f1, sub0::<BYTE>(hv, oe_ins)) & active;
        if going != 0 {
            if closed_form {
                // Every carry applied (module documentation of `ksw_local`).
                let mut c = carry_scan::<BYTE>(f, &decay);
                for j in 0..slen {
                    *hc.add(j) = vmax::<BYTE>(*hc.add(j), c);
                    c = sub0::<BYTE>(c, e_ins);
                }
            } else {
                // Per run until that run's stopping point.
                let mut lazy = lanes_bytes(going);
                f = f1;
                let mut j = 1;
                'lazy: for _ in 0..16 {
                    while j < slen {
                        let old = *hc.add(j);
                        let hv = vmax::<BYTE>(old, f);
                        *hc.add(j) = _mm512_mask_mov_epi8(old, lazy, hv);
                        f = sub0::<BYTE>(f, e_ins);
                        lazy &= lanes_bytes(lanes_gt::<BYTE>(f, sub0::<BYTE>(hv, oe_ins)));
                        if lazy == 0 {
                            break 'lazy;
                        }
                        j += 1;
                    }
                    f = lane_up::<BYTE>(f);
                    j = 0;
                }
            }
        }

        _mm512_store_si512(reduced.0.as_mut_ptr().cast(), lane_max::<BYTE>(mx));
        let mut improved = 0u64;
        for k in 0..n {
            if active >> k & 1 == 0 {
                continue;
            }
            let r = &runs[k];
            let imax = element::<BYTE>(&reduced, k, 0);
            note_row(&mut b.subs[k], r.pass.min_sub, imax, i as i32);
            if imax > gmax[k] {
                gmax[k] = imax;
                te[k] = i as i32;
                improved |= lane_bytes(k);
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
                *hmax.add(j) = _mm512_mask_mov_epi8(*hmax.add(j), improved, *hc.add(j));
            }
        }
        std::mem::swap(&mut hp, &mut hc);
        i += 1;
    }

    let best: &[Zmm] = &b.regs[4 * slen..5 * slen];
    let mut out = [LocalResult::NONE; RUNS];
    for (k, r) in out.iter_mut().enumerate().take(n) {
        let row = best.iter().enumerate().flat_map(move |(s, v)| {
            (0..sub).map(move |l| (s + l * slen, element::<BYTE>(v, k, l)))
        });
        *r = finish(mat, gmax[k], te[k], overflow[k], row, &b.subs[k]);
    }
    out
}
