//! Paired-end decisions (spec §13; `bwamem_pair.c`): the insert-size model
//! of a batch ([`estimate_insert_sizes`], bwa's `mem_pestat`), the pair
//! orientation of two hits ([`infer_dir`]), the scoring of hit pairs
//! ([`best_pair`], bwa's `mem_pair`) and the pair-aware MAPQ pieces used by
//! `mem_sam_pe` ([`raw_mapq`], [`pair_mapq`]).
//!
//! Everything here is pure logic over region lists; the pipeline composes
//! it with mate rescue ([`crate::rescue`]) and SAM output.

use std::fmt::Write as _;

use rayon::slice::ParallelSliceMut;

use crate::options::{InsertSizeOverride, MemOptions};
use crate::region::{c_int, AlnReg};
use crate::util::hash_64;

/// `MIN_RATIO`: a read whose second-best hit scores above this fraction of
/// its best does not count for the insert-size model.
const MIN_RATIO: f64 = 0.8;
/// `MIN_DIR_CNT`: fewer inserts than this in an orientation: not modelled.
const MIN_DIR_CNT: usize = 10;
/// `MIN_DIR_RATIO`: orientations with fewer than this fraction of the most
/// common one's inserts are dropped.
const MIN_DIR_RATIO: f64 = 0.05;
/// `OUTLIER_BOUND`: IQR multiple bounding the values used for mean/std.
const OUTLIER_BOUND: f64 = 2.0;
/// `MAPPING_BOUND`: IQR multiple bounding proper pairs.
const MAPPING_BOUND: f64 = 3.0;
/// `MAX_STDDEV`: std-dev multiple that widens the proper-pair bounds.
const MAX_STDDEV: f64 = 4.0;

/// Orientation names in bwa's order (index = `dir`).
pub const DIR_NAMES: [&str; 4] = ["FF", "FR", "RF", "RR"];

/// The insert-size model of one orientation (bwa's `mem_pestat_t`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct InsertSizeStats {
    /// Smallest insert of a proper pair.
    pub low: i32,
    /// Largest insert of a proper pair.
    pub high: i32,
    /// No model for this orientation: pairs in it are never proper.
    pub failed: bool,
    /// Mean insert.
    pub avg: f64,
    /// Population standard deviation of the insert.
    pub std: f64,
}

/// The models of the four orientations, indexed by `dir` (FF, FR, RF, RR).
pub type PairStats = [InsertSizeStats; 4];

/// The model `-I mean[,std[,max[,min]]]` gives (spec §13.2): FR only.
pub fn stats_from_override(ov: &InsertSizeOverride) -> PairStats {
    let mut pes = [InsertSizeStats {
        failed: true,
        ..InsertSizeStats::default()
    }; 4];
    pes[1] = InsertSizeStats {
        low: ov.low,
        high: ov.high,
        failed: false,
        avg: ov.avg,
        std: ov.std,
    };
    pes
}

/// bwa's `mem_infer_dir`: the orientation (`0..4`) and distance of a hit at
/// `b2` relative to one at `b1`, both in `[0, 2L)`. Read 2's position is
/// first brought onto read 1's strand.
#[inline]
pub fn infer_dir(l_pac: i64, b1: i64, b2: i64) -> (usize, i64) {
    let r1 = b1 >= l_pac;
    let r2 = b2 >= l_pac;
    let p2 = if r1 == r2 { b2 } else { (l_pac << 1) - 1 - b2 };
    let dist = (p2 - b1).abs();
    let dir = usize::from(r1 != r2) ^ if p2 > b1 { 0 } else { 3 };
    (dir, dist)
}

/// bwa's `cal_sub`: the score of the first region after the best that
/// overlaps it on the query by at least `mask_level` of the shorter, else
/// `min_seed_len · a`. `regs` must be non-empty, in dedup order.
pub fn cal_sub(opt: &MemOptions, regs: &[AlnReg]) -> i32 {
    let a0 = &regs[0];
    for r in &regs[1..] {
        let b_max = r.qb.max(a0.qb);
        let e_min = r.qe.min(a0.qe);
        if e_min > b_max {
            let min_l = (r.qe - r.qb).min(a0.qe - a0.qb);
            // C: int >= int * float is a float comparison.
            if (e_min - b_max) as f32 >= min_l as f32 * opt.mask_level {
                return r.score;
            }
        }
    }
    opt.min_seed_len * opt.a
}

/// The insert of one pair for the model, if it counts: both reads have a
/// unique best hit (see [`cal_sub`]) on the same contig, and the distance
/// is in `1..=max_ins`. Returns `(dir, insert)`.
pub fn unique_insert(
    opt: &MemOptions,
    l_pac: i64,
    r1: &[AlnReg],
    r2: &[AlnReg],
) -> Option<(usize, u64)> {
    if r1.is_empty() || r2.is_empty() {
        return None;
    }
    for r in [r1, r2] {
        if f64::from(cal_sub(opt, r)) > MIN_RATIO * f64::from(r[0].score) {
            return None;
        }
    }
    if r1[0].rid != r2[0].rid {
        return None;
    }
    let (dir, is) = infer_dir(l_pac, r1[0].rb, r2[0].rb);
    (is != 0 && is <= i64::from(opt.max_ins)).then_some((dir, is as u64))
}

/// bwa's `mem_pestat` given the inserts of each orientation (from
/// [`unique_insert`] over the pairs of a batch, in any order): the model,
/// and bwa's `[M::mem_pestat]` messages appended to `log` (the candidate
/// count line only when `verbose`, as bwa prints it at `-v 3` and up).
pub fn estimate_insert_sizes(
    mut isize: [Vec<u64>; 4],
    verbose: bool,
    log: &mut String,
) -> PairStats {
    const P: &str = "[M::mem_pestat]";
    let mut pes = [InsertSizeStats::default(); 4];
    if verbose {
        let _ = writeln!(
            log,
            "{P} # candidate unique pairs for (FF, FR, RF, RR): ({}, {}, {}, {})",
            isize[0].len(),
            isize[1].len(),
            isize[2].len(),
            isize[3].len()
        );
    }
    for (d, q) in isize.iter_mut().enumerate() {
        let r = &mut pes[d];
        let name = DIR_NAMES[d];
        if q.len() < MIN_DIR_CNT {
            let _ = writeln!(
                log,
                "{P} skip orientation {name} as there are not enough pairs"
            );
            r.failed = true;
            continue;
        }
        let _ = writeln!(
            log,
            "{P} analyzing insert size distribution for orientation {name}..."
        );
        // In parallel on the current rayon pool: this runs while the
        // batch's other workers wait (the same order as a serial sort).
        q.par_sort_unstable();
        let n = q.len() as f64;
        let pct = |f: f64| q[c_int(f * n + 0.499) as usize] as i32;
        let (p25, p50, p75) = (pct(0.25), pct(0.50), pct(0.75));
        let iqr = f64::from(p75 - p25);
        r.low = c_int(f64::from(p25) - OUTLIER_BOUND * iqr + 0.499).max(1);
        r.high = c_int(f64::from(p75) + OUTLIER_BOUND * iqr + 0.499);
        let _ = writeln!(log, "{P} (25, 50, 75) percentile: ({p25}, {p50}, {p75})");
        let _ = writeln!(
            log,
            "{P} low and high boundaries for computing mean and std.dev: ({}, {})",
            r.low, r.high
        );
        let inside = |v: &&u64| **v as i64 >= i64::from(r.low) && **v as i64 <= i64::from(r.high);
        let mut x = 0u64;
        let mut sum = 0.0f64;
        for v in q.iter().filter(inside) {
            sum += *v as f64;
            x += 1;
        }
        let avg = sum / x as f64;
        let mut var = 0.0f64;
        for v in q.iter().filter(inside) {
            var += (*v as f64 - avg) * (*v as f64 - avg);
        }
        r.avg = avg;
        r.std = (var / x as f64).sqrt();
        let _ = writeln!(log, "{P} mean and std.dev: ({:.2}, {:.2})", r.avg, r.std);
        r.low = c_int(f64::from(p25) - MAPPING_BOUND * iqr + 0.499);
        r.high = c_int(f64::from(p75) + MAPPING_BOUND * iqr + 0.499);
        if f64::from(r.low) > r.avg - MAX_STDDEV * r.std {
            r.low = c_int(r.avg - MAX_STDDEV * r.std + 0.499);
        }
        if f64::from(r.high) < r.avg + MAX_STDDEV * r.std {
            r.high = c_int(r.avg + MAX_STDDEV * r.std + 0.499);
        }
        r.low = r.low.max(1);
        let _ = writeln!(
            log,
            "{P} low and high boundaries for proper pairs: ({}, {})",
            r.low, r.high
        );
    }
    let max = isize.iter().map(Vec::len).max().unwrap_or(0);
    for (d, r) in pes.iter_mut().enumerate() {
        if !r.failed && (isize[d].len() as f64) < max as f64 * MIN_DIR_RATIO {
            r.failed = true;
            let _ = writeln!(log, "{P} skip orientation {}", DIR_NAMES[d]);
        }
    }
    pes
}

/// The best pairing of two reads' hits (bwa's `mem_pair` result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairChoice {
    /// Pair score of the best pair (`o`), > 0.
    pub score: i32,
    /// Pair score of the runner-up (`subo`), 0 if none.
    pub sub: i32,
    /// Candidates other than the best within the gap-open cost of `sub`.
    pub n_sub: i32,
    /// Region index of each read's member of the best pair.
    pub z: [usize; 2],
}

/// Reusable buffers of [`best_pair`].
#[derive(Debug, Default, Clone)]
pub struct PairScratch {
    v: Vec<(u64, u64)>,
    u: Vec<(u64, u64)>,
}

/// `erfc` from the C library, as bwa calls it (glibc on Linux).
fn erfc(x: f64) -> f64 {
    extern "C" {
        fn erfc(x: f64) -> f64;
    }
    // SAFETY: `erfc` is a pure function of a double in every C library.
    unsafe { erfc(x) }
}

/// The 32 bits of the tie-breaking hash of candidate `(k, i)` in pair `id`:
/// bwa passes the pair id as a C `int`, shifts it left by 8 in 32 bits and
/// sign-extends it before the XOR (spec §17.1).
#[inline]
pub fn pair_hash(y: u64, id: u64) -> u64 {
    let sid = ((id as i32).wrapping_shl(8)) as i64 as u64;
    hash_64(y ^ sid) & 0xffff_ffff
}

/// bwa's `mem_pair`: scores every pair of hits (the first `n_pri[r]`
/// regions of read r, after primary marking) whose orientation has a model
/// and whose distance lies within its bounds; returns the best, or `None`.
/// `offsets[rid]` is the contig's start in the forward reference.
#[allow(clippy::too_many_arguments)]
pub fn best_pair(
    opt: &MemOptions,
    l_pac: i64,
    offsets: &[i64],
    pes: &PairStats,
    a: [&[AlnReg]; 2],
    n_pri: [usize; 2],
    id: u64,
    ws: &mut PairScratch,
) -> Option<PairChoice> {
    let PairScratch { v, u } = ws;
    v.clear();
    u.clear();
    for r in 0..2 {
        for (i, e) in a[r][..n_pri[r]].iter().enumerate() {
            let fpos = if e.rb < l_pac {
                e.rb
            } else {
                (l_pac << 1) - 1 - e.rb
            };
            let off = offsets.get(e.rid as usize).copied().unwrap_or(0);
            let x = ((e.rid as u64) << 32) | ((fpos - off) as u64);
            let y = ((e.score as u64) << 32)
                | ((i as u64) << 2)
                | (u64::from(e.rb >= l_pac) << 1)
                | r as u64;
            v.push((x, y));
        }
    }
    v.sort_unstable();
    let mut last = [-1i64; 4];
    for i in 0..v.len() {
        let (xi, yi) = v[i];
        for s0 in 0..2usize {
            let dir = s0 << 1 | (yi >> 1 & 1) as usize;
            let st = &pes[dir];
            if st.failed {
                continue;
            }
            let which = s0 << 1 | ((yi & 1) ^ 1) as usize;
            if last[which] < 0 {
                continue;
            }
            let mut next = last[which];
            while next >= 0 {
                let k = next as usize;
                next -= 1;
                let (xk, yk) = v[k];
                if (yk & 3) as usize != which {
                    continue;
                }
                let dist = xi.wrapping_sub(xk) as i64;
                if dist > i64::from(st.high) {
                    break;
                }
                if dist < i64::from(st.low) {
                    continue;
                }
                let ns = (dist as f64 - st.avg) / st.std;
                let sc = (yi >> 32) as i64 + (yk >> 32) as i64;
                let q = c_int(
                    sc as f64
                        + 0.721
                            * (2.0 * erfc(ns.abs() * std::f64::consts::FRAC_1_SQRT_2)).ln()
                            * f64::from(opt.a)
                        + 0.499,
                )
                .max(0);
                let py = (k as u64) << 32 | i as u64;
                u.push((((q as u64) << 32) | pair_hash(py, id), py));
            }
        }
        last[(yi & 3) as usize] = i as i64;
    }
    if u.is_empty() {
        return None;
    }
    let tmp = (opt.a + opt.b)
        .max(opt.o_del + opt.e_del)
        .max(opt.o_ins + opt.e_ins);
    u.sort_unstable();
    let best = u[u.len() - 1];
    let i = (best.1 >> 32) as usize;
    let k = (best.1 & 0xffff_ffff) as usize;
    let mut z = [0usize; 2];
    for e in [v[i].1, v[k].1] {
        z[(e & 1) as usize] = ((e & 0xffff_ffff) >> 2) as usize;
    }
    let sub = if u.len() > 1 {
        (u[u.len() - 2].0 >> 32) as i32
    } else {
        0
    };
    let n_sub = u[..u.len() - 1]
        .iter()
        .filter(|c| sub - ((c.0 >> 32) as i32) <= tmp)
        .count() as i32;
    Some(PairChoice {
        score: (best.0 >> 32) as i32,
        sub,
        n_sub,
        z,
    })
}

/// bwa's `raw_mapq(diff, a)`: `(int)(6.02 · diff / a + .499)`.
#[inline]
pub fn raw_mapq(diff: i32, a: i32) -> i32 {
    c_int(6.02 * f64::from(diff) / f64::from(a) + 0.499)
}

/// The pair MAPQ `q_pe` of `mem_sam_pe`: from the best pair score `o`,
/// the runner-up `subo` (already raised to the unpaired score), `n_sub`
/// and the two reads' best-hit `frac_rep` (summed as C floats).
pub fn pair_mapq(opt: &MemOptions, o: i32, subo: i32, n_sub: i32, frac_rep: [f32; 2]) -> i32 {
    let mut q = raw_mapq(o - subo, opt.a);
    if n_sub > 0 {
        q -= c_int(4.343 * f64::from(n_sub + 1).ln() + 0.499);
    }
    q = q.clamp(0, 60);
    c_int(f64::from(q) * (1.0 - 0.5 * f64::from(frac_rep[0] + frac_rep[1])) + 0.499)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(rb: i64, qb: i32, qe: i32, score: i32) -> AlnReg {
        AlnReg {
            rb,
            re: rb + i64::from(qe - qb),
            qb,
            qe,
            score,
            truesc: score,
            secondary: -1,
            ..AlnReg::default()
        }
    }

    #[test]
    fn infer_dir_orientations() {
        let l = 1000;
        // Forward read 1 at 100, read 2 reverse whose forward pos is 400: FR.
        assert_eq!(infer_dir(l, 100, 2 * l - 1 - 400), (1, 300));
        // Read 2 left of read 1 on the other strand: RF.
        assert_eq!(infer_dir(l, 500, 2 * l - 1 - 200), (2, 300));
        // Same strand: 0 when downstream, 3 otherwise.
        assert_eq!(infer_dir(l, 100, 300), (0, 200));
        assert_eq!(infer_dir(l, 300, 100), (3, 200));
        assert_eq!(infer_dir(l, 100, 100).1, 0);
    }

    #[test]
    fn hash_sign_extends_the_32_bit_shifted_id() {
        // id 0x0100_0000 << 8 overflows into the sign bit of an int.
        let id = 0x0080_0000u64;
        let sid = 0xffff_ffff_8000_0000u64;
        assert_eq!(pair_hash(5, id), hash_64(5 ^ sid) & 0xffff_ffff);
        // Bits above 32 of the id are dropped.
        assert_eq!(pair_hash(7, (1 << 40) | 3), pair_hash(7, 3));
        assert_eq!(pair_hash(7, 3), hash_64(7 ^ (3 << 8)) & 0xffff_ffff);
    }

    fn fr_inserts(v: &[u64]) -> [Vec<u64>; 4] {
        [Vec::new(), v.to_vec(), Vec::new(), Vec::new()]
    }

    #[test]
    fn pestat_skips_orientations_with_few_pairs() {
        let mut log = String::new();
        let pes = estimate_insert_sizes(fr_inserts(&[300; 9]), true, &mut log);
        assert!(pes.iter().all(|p| p.failed));
        assert!(log.contains("# candidate unique pairs for (FF, FR, RF, RR): (0, 9, 0, 0)"));
        assert!(log.contains("skip orientation FR as there are not enough pairs"));
    }

    #[test]
    fn pestat_bounds_on_a_hand_made_list() {
        // 20 inserts 291..=310 and one outlier at 5000.
        let mut v: Vec<u64> = (291..=310).collect();
        v.push(5000);
        let mut log = String::new();
        let pes = estimate_insert_sizes(fr_inserts(&v), false, &mut log);
        let p = pes[1];
        assert!(!p.failed && pes[0].failed && pes[2].failed && pes[3].failed);
        // n = 21: p25 = v[(int)(5.25 + .499)] = v[5] = 296, p50 = v[10] = 301,
        // p75 = v[(int)(15.75 + .499)] = v[16] = 307; IQR 11.
        assert!(log.contains("(25, 50, 75) percentile: (296, 301, 307)"));
        // 296 - 22 + .499 → 274; 307 + 22 + .499 → 329.
        assert!(log.contains("computing mean and std.dev: (274, 329)"));
        // Mean of 291..=310 = 300.5, std = sqrt((20² - 1) / 12) = 5.766.
        assert!((p.avg - 300.5).abs() < 1e-9);
        assert!((p.std - (399.0f64 / 12.0).sqrt()).abs() < 1e-9);
        assert!(log.contains("mean and std.dev: (300.50, 5.77)"));
        // 296 - 33 + .499 = 263.499 → 263 ≤ 300.5 - 23.06: kept;
        // 307 + 33 + .499 → 340 ≥ 323.56: kept.
        assert_eq!((p.low, p.high), (263, 340));
        assert!(!log.contains("# candidate"));
    }

    #[test]
    fn pestat_widens_to_four_std_and_drops_rare_orientations() {
        // Tight IQR, wide tails: the 4-std bound wins.
        let mut v = vec![100u64; 5];
        v.extend([200u64; 30]);
        v.extend([300u64; 5]);
        let rare = vec![500u64; 10];
        let mut log = String::new();
        let pes = estimate_insert_sizes([Vec::new(), v.clone(), rare, Vec::new()], false, &mut log);
        let p = pes[1];
        assert_eq!((p.avg, p.std), (200.0, 0.0));
        assert_eq!((p.low, p.high), (200, 200));
        // 10 < 0.05 * 40 is false: RF kept. With 300 FR it is dropped.
        assert!(!pes[2].failed);
        let mut big = v;
        big.extend(vec![200u64; 260]);
        let mut log = String::new();
        let pes = estimate_insert_sizes(
            [Vec::new(), big, vec![500u64; 10], Vec::new()],
            false,
            &mut log,
        );
        assert!(pes[2].failed);
        assert!(log.ends_with("[M::mem_pestat] skip orientation RF\n"));
    }

    #[test]
    fn pestat_low_bound_is_at_least_one() {
        let v: Vec<u64> = (1..=40).map(|x| x * 10).collect();
        let mut log = String::new();
        let pes = estimate_insert_sizes(fr_inserts(&v), false, &mut log);
        assert_eq!(pes[1].low, 1);
    }

    #[test]
    fn override_sets_fr_only() {
        let pes = stats_from_override(&InsertSizeOverride {
            avg: 350.0,
            std: 50.0,
            high: 550,
            low: 150,
        });
        assert!(pes[0].failed && pes[2].failed && pes[3].failed && !pes[1].failed);
        assert_eq!((pes[1].low, pes[1].high), (150, 550));
    }

    #[test]
    fn unique_insert_needs_unique_hits_on_one_contig() {
        let o = MemOptions::default();
        let l = 100_000;
        let a = [reg(1000, 0, 100, 100)];
        let b = [reg(2 * l - 1 - 1300, 0, 100, 100)];
        assert_eq!(unique_insert(&o, l, &a, &b), Some((1, 300)));
        // A second hit at 81 > 0.8 · 100 makes read 1 non-unique.
        let a2 = [reg(1000, 0, 100, 100), reg(5000, 0, 100, 81)];
        assert_eq!(unique_insert(&o, l, &a2, &b), None);
        let a3 = [reg(1000, 0, 100, 100), reg(5000, 0, 100, 80)];
        assert!(unique_insert(&o, l, &a3, &b).is_some());
        let mut b2 = b;
        b2[0].rid = 1;
        assert_eq!(unique_insert(&o, l, &a, &b2), None);
        assert_eq!(unique_insert(&o, l, &a, &[]), None);
    }

    fn fr_model() -> PairStats {
        let mut pes = [InsertSizeStats {
            failed: true,
            ..InsertSizeStats::default()
        }; 4];
        pes[1] = InsertSizeStats {
            low: 100,
            high: 500,
            failed: false,
            avg: 300.0,
            std: 50.0,
        };
        pes
    }

    #[test]
    fn best_pair_picks_the_fr_pair_within_bounds() {
        let o = MemOptions::default();
        let l = 100_000;
        // Read 1: forward at 1000 (100) and forward at 50000 (99).
        let r1 = [reg(1000, 0, 100, 100), reg(50_000, 0, 100, 99)];
        // Read 2: reverse, 5' end at forward 1299 (insert 300), score 100.
        let r2 = [reg(2 * l - 1300, 0, 100, 100)];
        let mut ws = PairScratch::default();
        let c =
            best_pair(&o, l, &[0], &fr_model(), [&r1, &r2], [2, 1], 0, &mut ws).expect("a pair");
        assert_eq!(c.z, [0, 0]);
        // 200 + .721 · ln(2 · erfc(0.02 / √2)) ≈ 199.99 → (int)(… + .499) = 200.
        let ns: f64 = (299.0 - 300.0) / 50.0;
        let expect = (200.0
            + 0.721 * (2.0 * erfc(ns.abs() * std::f64::consts::FRAC_1_SQRT_2)).ln()
            + 0.499) as i32;
        assert_eq!(c.score, expect);
        assert_eq!((c.sub, c.n_sub), (0, 0));
        // Nothing within bounds: no pair.
        let far = [reg(2 * l - 9000, 0, 100, 100)];
        assert!(best_pair(&o, l, &[0], &fr_model(), [&r1, &far], [2, 1], 0, &mut ws).is_none());
    }

    #[test]
    fn best_pair_counts_near_equal_runners_up() {
        let o = MemOptions::default();
        let l = 100_000;
        // Two copies of the same FR pair 20 kb apart: a tie.
        let r1 = [reg(1000, 0, 100, 100), reg(21_000, 0, 100, 100)];
        let r2 = [
            reg(2 * l - 1300, 0, 100, 100),
            reg(2 * l - 21_300, 0, 100, 100),
        ];
        let mut ws = PairScratch::default();
        for id in [0u64, 1, 2, 77] {
            let c = best_pair(&o, l, &[0], &fr_model(), [&r1, &r2], [2, 2], id, &mut ws)
                .expect("a pair");
            assert_eq!(c.sub, c.score);
            assert_eq!(c.n_sub, 1);
            assert_eq!(c.z[0], c.z[1]);
        }
    }

    #[test]
    fn pair_mapq_examples() {
        let o = MemOptions::default();
        assert_eq!(raw_mapq(10, 1), 60);
        assert_eq!(pair_mapq(&o, 200, 183, 0, [0.0, 0.0]), 60);
        assert_eq!(pair_mapq(&o, 200, 195, 0, [0.0, 0.0]), 30);
        // 30 - (int)(4.343 · ln 2 + .499) = 30 - 3.
        assert_eq!(pair_mapq(&o, 200, 195, 1, [0.0, 0.0]), 27);
        assert_eq!(pair_mapq(&o, 200, 195, 0, [0.5, 0.5]), 15);
        assert_eq!(pair_mapq(&o, 200, 201, 0, [0.0, 0.0]), 0);
    }
}
