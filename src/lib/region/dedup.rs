//! De-duplication and patching of a read's regions (spec §8;
//! `bwamem.c: mem_sort_dedup_patch`, `mem_patch_reg`).
//!
//! Regions are sorted by end, overlapping near-identical ones are dropped
//! (the lower score loses), colinear pieces that a global alignment joins
//! well are merged, and exact duplicates (same score, `rb`, `qb`) are
//! removed. Both sorts are bwa's unstable introsort: which of two tied
//! regions survives depends on it.

use super::AlnReg;
use crate::options::MemOptions;
use crate::util::ks_introsort;

/// The global alignment score of a query window against a reference window
/// (bwa's `bwa_gen_cigar2` score, spec §11.3): what a patch merge needs from
/// the SW kernel.
pub trait GlobalScorer {
    /// Score of the banded global alignment of `query` (nt4 codes, forward
    /// read orientation) against the concatenated reference `[ref_beg,
    /// ref_end)` with band `band`.
    fn global_score(&mut self, query: &[u8], ref_beg: i64, ref_end: i64, band: i32) -> i32;
}

impl<F: FnMut(&[u8], i64, i64, i32) -> i32> GlobalScorer for F {
    fn global_score(&mut self, query: &[u8], ref_beg: i64, ref_end: i64, band: i32) -> i32 {
        self(query, ref_beg, ref_end, band)
    }
}

/// A scorer that is never called: the type to name when patching is off.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPatch;

impl GlobalScorer for NoPatch {
    fn global_score(&mut self, _: &[u8], _: i64, _: i64, _: i32) -> i32 {
        0
    }
}

/// What a patch merge needs: the read, the forward reference length `L`
/// and a global aligner. bwa patches only in the main de-duplication; the
/// re-deduplication after mate rescue passes none (`None` here).
pub struct PatchContext<'a, G: GlobalScorer> {
    /// The whole read, nt4 codes.
    pub query: &'a [u8],
    /// Length of the forward reference (`bns->l_pac`).
    pub l_pac: i64,
    /// The global alignment kernel.
    pub scorer: G,
}

/// `PATCH_MAX_R_BW` (a C float).
const PATCH_MAX_R_BW: f32 = 0.05;
/// `PATCH_MIN_SC_RATIO` (a C float).
const PATCH_MIN_SC_RATIO: f32 = 0.90;

/// bwa's `mem_patch_reg`: if `a` (left) and `b` (right) are colinear pieces
/// that a global alignment over both joins with a score near the sum of
/// theirs, returns `Some((score, band))`; else `None`.
pub fn patch_reg<G: GlobalScorer>(
    opt: &MemOptions,
    ctx: &mut PatchContext<'_, G>,
    a: &AlnReg,
    b: &AlnReg,
) -> Option<(i32, i32)> {
    debug_assert!(a.rid == b.rid && a.rb <= b.rb);
    if a.rb < ctx.l_pac && b.rb >= ctx.l_pac {
        return None; // different strands
    }
    if a.qb >= b.qb || a.qe >= b.qe || a.re >= b.re {
        return None; // not colinear
    }
    let mut w = ((a.re - b.rb) - i64::from(a.qe - b.qb)).abs();
    let r = ((a.re - b.rb) as f64 / (b.re - a.rb) as f64
        - f64::from(a.qe - b.qb) / f64::from(b.qe - a.qb))
    .abs();
    if a.re < b.rb || a.qe < b.qb {
        // Apart on the query or the reference.
        if w > i64::from(opt.w) << 1 || r >= f64::from(PATCH_MAX_R_BW) {
            return None;
        }
    } else if w > i64::from(opt.w) << 2 || r >= f64::from(PATCH_MAX_R_BW * 2.0) {
        return None;
    }
    w += i64::from(a.w) + i64::from(b.w);
    let w = w.min(i64::from(opt.w) << 2) as i32;
    let (qb, qe) = (a.qb as usize, b.qe as usize);
    let score = match ctx.query.get(qb..qe) {
        Some(q) => ctx.scorer.global_score(q, a.rb, b.re, w),
        None => return None, // a region outside the read: nothing to align
    };
    let sum = f64::from(b.score + a.score);
    let q_s = super::c_int(
        f64::from(b.qe - a.qb) / f64::from((b.qe - b.qb) + (a.qe - a.qb)) * sum + 0.499,
    );
    let r_s =
        super::c_int((b.re - a.rb) as f64 / ((b.re - b.rb) + (a.re - a.rb)) as f64 * sum + 0.499);
    if f64::from(score) / f64::from(q_s.max(r_s)) < f64::from(PATCH_MIN_SC_RATIO) {
        return None;
    }
    Some((score, w))
}

/// bwa's `mem_sort_dedup_patch` on one read's regions, in place. With
/// `patch = None` no merging is tried (the mate-rescue re-dedup).
/// A list of at most one region is left untouched (as bwa returns early).
pub fn sort_dedup_patch<G: GlobalScorer>(
    opt: &MemOptions,
    regs: &mut Vec<AlnReg>,
    mut patch: Option<PatchContext<'_, G>>,
) {
    let n = regs.len();
    if n <= 1 {
        return;
    }
    let a = regs.as_mut_slice();
    ks_introsort(a, |x, y| x.re < y.re);
    for r in a.iter_mut() {
        r.n_comp = 1;
    }
    let gap = i64::from(opt.max_chain_gap);
    let redun = opt.mask_level_redun;
    for i in 1..n {
        let mut p = a[i];
        if p.rid != a[i - 1].rid || p.rb >= a[i - 1].re + gap {
            continue;
        }
        let mut j = i;
        while j > 0 && p.rid == a[j - 1].rid && p.rb < a[j - 1].re + gap {
            j -= 1;
            let q = &mut a[j];
            if q.qe == q.qb {
                continue; // excluded earlier
            }
            let or = q.re - p.rb;
            let oq = if q.qb < p.qb {
                q.qe - p.qb
            } else {
                p.qe - q.qb
            };
            let mr = (q.re - q.rb).min(p.re - p.rb);
            let mq = (q.qe - q.qb).min(p.qe - p.qb);
            // C: int64 * float and int64 > float are float operations.
            if or as f32 > redun * mr as f32 && oq as f32 > redun * mq as f32 {
                if p.score < q.score {
                    p.qe = p.qb;
                    break;
                }
                q.qe = q.qb;
            } else if q.rb < p.rb {
                let merged = match patch.as_mut() {
                    Some(ctx) => patch_reg(opt, ctx, q, &p),
                    None => None,
                };
                if let Some((score, w)) = merged {
                    if score > 0 {
                        p.n_comp += q.n_comp + 1;
                        p.seedcov = p.seedcov.max(q.seedcov);
                        p.sub = p.sub.max(q.sub);
                        p.csub = p.csub.max(q.csub);
                        p.qb = q.qb;
                        p.rb = q.rb;
                        p.score = score;
                        p.truesc = score;
                        p.w = w;
                        q.qb = q.qe;
                    }
                }
            }
        }
        a[i] = p;
    }
    regs.retain(|r| r.qe > r.qb);
    let a = regs.as_mut_slice();
    ks_introsort(a, |x, y| {
        x.score > y.score || (x.score == y.score && (x.rb < y.rb || (x.rb == y.rb && x.qb < y.qb)))
    });
    // Mark exact duplicates (the marking leaves score, rb and qb as they
    // are, so a run of equal regions keeps only its first), then drop them.
    for i in 1..a.len() {
        if a[i].score == a[i - 1].score && a[i].rb == a[i - 1].rb && a[i].qb == a[i - 1].qb {
            a[i].qe = a[i].qb;
        }
    }
    let mut first = true;
    regs.retain(|r| std::mem::replace(&mut first, false) || r.qe > r.qb);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reg(rid: i32, rb: i64, re: i64, qb: i32, qe: i32, score: i32) -> AlnReg {
        AlnReg {
            rb,
            re,
            qb,
            qe,
            rid,
            score,
            truesc: score,
            w: 100,
            seedcov: qe - qb,
            ..AlnReg::default()
        }
    }

    fn dedup(regs: &mut Vec<AlnReg>) {
        sort_dedup_patch(
            &MemOptions::default(),
            regs,
            None::<PatchContext<'_, NoPatch>>,
        );
    }

    #[test]
    fn redundant_lower_score_loses_either_way_round() {
        // p (later end) worse: p goes.
        let mut v = vec![
            reg(0, 1000, 1100, 0, 100, 90),
            reg(0, 1001, 1101, 0, 100, 80),
        ];
        dedup(&mut v);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].score, 90);
        // q (earlier end) worse: q goes.
        let mut v = vec![
            reg(0, 1001, 1101, 0, 100, 90),
            reg(0, 1000, 1100, 0, 100, 80),
        ];
        dedup(&mut v);
        assert_eq!((v.len(), v[0].score, v[0].rb), (1, 90, 1001));
    }

    #[test]
    fn redundant_tie_keeps_the_later_end() {
        // Equal scores: `p.score < q.score` fails, so q (smaller re) goes.
        let mut v = vec![
            reg(0, 1001, 1101, 0, 100, 90),
            reg(0, 1000, 1100, 0, 100, 90),
        ];
        dedup(&mut v);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rb, 1001);
        assert_eq!(v[0].n_comp, 1);
    }

    #[test]
    fn overlap_threshold_is_a_float_comparison() {
        // Overlap 95 of 100 on both axes: 95 > 0.95f * 100 is false in
        // float (0.95f * 100 rounds to 95.0); in double with the widened
        // float it would be true (94.99999988 < 95).
        let mut v = vec![
            reg(0, 1000, 1100, 0, 100, 90),
            reg(0, 1005, 1105, 5, 105, 80),
        ];
        dedup(&mut v);
        assert_eq!(v.len(), 2);
        // One more base of overlap: redundant.
        let mut v = vec![
            reg(0, 1000, 1100, 0, 100, 90),
            reg(0, 1004, 1104, 4, 104, 80),
        ];
        dedup(&mut v);
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn other_contig_in_between_stops_the_scan() {
        // The backward scan stops at the first region of another contig in
        // end order, so two redundant regions around it both survive.
        let mut v = vec![
            reg(0, 1000, 1100, 0, 100, 90),
            reg(1, 500, 1102, 0, 100, 50),
            reg(0, 1001, 1104, 0, 100, 80),
        ];
        dedup(&mut v);
        assert_eq!(v.len(), 3);
        // Without it, the worse one goes.
        v.remove(2);
        let mut w = vec![
            reg(0, 1000, 1100, 0, 100, 90),
            reg(0, 1001, 1104, 0, 100, 80),
        ];
        dedup(&mut w);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn far_apart_regions_are_not_compared() {
        let o = MemOptions::default();
        let mut v = vec![
            reg(0, 0, 100, 0, 100, 90),
            reg(0, 100 + 10_000, 10_200, 0, 100, 80),
        ];
        sort_dedup_patch(&o, &mut v, None::<PatchContext<'_, NoPatch>>);
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].score, v[1].score), (90, 80));
    }

    #[test]
    fn exact_duplicates_keep_the_first_after_sorting() {
        // Same (score, rb, qb), not compared for redundancy (another
        // contig; the duplicate test ignores contigs): after the end sort
        // the shorter comes first, the score sort keeps that tie order, and
        // the first of the run is kept.
        let a = reg(0, 1000, 1100, 10, 110, 90);
        let mut b = reg(1, 1000, 1050, 10, 60, 90);
        b.seedcov = 7;
        let mut v = vec![a, b];
        dedup(&mut v);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].seedcov, 7);
        // Three equal: still one survivor.
        let mut c = b;
        c.rid = 2;
        c.re = 1020;
        c.qe = 30;
        c.seedcov = 3;
        let mut v = vec![a, b, c];
        dedup(&mut v);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].seedcov, 3);
    }

    #[test]
    fn final_order_is_score_then_rb_then_qb() {
        let mut v = vec![
            reg(0, 5000, 5100, 0, 100, 80),
            reg(1, 100, 200, 0, 100, 90),
            reg(0, 100, 200, 0, 100, 80),
            reg(2, 100, 150, 50, 100, 80),
        ];
        dedup(&mut v);
        let got: Vec<(i32, i64, i32)> = v.iter().map(|r| (r.score, r.rb, r.qb)).collect();
        assert_eq!(
            got,
            vec![(90, 100, 0), (80, 100, 0), (80, 100, 50), (80, 5000, 0)]
        );
    }

    /// Two pieces of a read with a 5-bp deletion between them.
    fn patch_pair() -> Vec<AlnReg> {
        let mut q = reg(0, 1000, 1060, 0, 60, 60);
        q.sub = 3;
        q.seedcov = 60;
        let mut p = reg(0, 1075, 1155, 70, 150, 80);
        p.csub = 9;
        p.seedcov = 80;
        vec![p, q]
    }

    fn run_patch(score: i32, calls: &mut Vec<(usize, i64, i64, i32)>) -> Vec<AlnReg> {
        let query = vec![0u8; 150];
        let mut v = patch_pair();
        let scorer = |q: &[u8], rb: i64, re: i64, w: i32| {
            calls.push((q.len(), rb, re, w));
            score
        };
        let ctx = PatchContext {
            query: &query,
            l_pac: 1_000_000,
            scorer,
        };
        sort_dedup_patch(&MemOptions::default(), &mut v, Some(ctx));
        v
    }

    #[test]
    fn patch_merges_colinear_pieces() {
        // w = |(1060-1075) - (60-70)| = 5, band 5 + 100 + 100 = 205.
        // q_s = 150/140*140 = 150, r_s = 155/140*140 = 155; need 155 * 0.9.
        let mut calls = Vec::new();
        let v = run_patch(140, &mut calls);
        assert_eq!(calls, vec![(150, 1000, 1155, 205)]);
        assert_eq!(v.len(), 1);
        let m = v[0];
        assert_eq!((m.qb, m.qe, m.rb, m.re), (0, 150, 1000, 1155));
        assert_eq!((m.score, m.truesc, m.w, m.n_comp), (140, 140, 205, 3));
        assert_eq!((m.seedcov, m.sub, m.csub), (80, 3, 9));
    }

    #[test]
    fn patch_refuses_a_poor_global_score() {
        let mut calls = Vec::new();
        let v = run_patch(139, &mut calls); // 139 / 155 < 0.9
        assert_eq!(calls.len(), 1);
        assert_eq!(v.len(), 2);
        // No patch context: no call, no merge.
        let mut v = patch_pair();
        dedup(&mut v);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn patch_refuses_wide_or_crossing_pieces() {
        let o = MemOptions::default();
        let query = [0u8; 150];
        let mut never = |_: &[u8], _: i64, _: i64, _: i32| -> i32 { panic!("scored") };
        let mut ctx = PatchContext {
            query: &query,
            l_pac: 1_000_000,
            scorer: &mut never,
        };
        let q = reg(0, 1000, 1060, 0, 60, 60);
        // Strands differ.
        let p = reg(0, 1_000_075, 1_000_155, 70, 150, 80);
        let q2 = AlnReg {
            rb: 999_990,
            re: 999_999,
            ..q
        };
        assert_eq!(patch_reg(&o, &mut ctx, &q2, &p), None);
        // Relative band too large: ref gap 300 vs query gap 10.
        let p = reg(0, 1360, 1440, 70, 150, 80);
        assert_eq!(patch_reg(&o, &mut ctx, &q, &p), None);
        // Not colinear on the query.
        let p = reg(0, 1075, 1155, 0, 150, 80);
        assert_eq!(patch_reg(&o, &mut ctx, &q, &p), None);
    }

    fn arb_regs(max_rid: i32) -> impl Strategy<Value = Vec<AlnReg>> {
        proptest::collection::vec(
            (
                0..max_rid,
                0i64..400,
                20i64..120,
                0i32..60,
                20i32..100,
                20i32..60,
            ),
            0..40,
        )
        .prop_map(|v| {
            v.into_iter()
                .map(|(rid, rb, len, qb, ql, sc)| reg(rid, rb, rb + len, qb, qb + ql, sc))
                .collect()
        })
    }

    fn redundant(q: &AlnReg, p: &AlnReg) -> bool {
        let or = q.re - p.rb;
        let oq = if q.qb < p.qb {
            q.qe - p.qb
        } else {
            p.qe - q.qb
        };
        let mr = (q.re - q.rb).min(p.re - p.rb);
        let mq = (q.qe - q.qb).min(p.qe - p.qb);
        or as f32 > 0.95f32 * mr as f32 && oq as f32 > 0.95f32 * mq as f32
    }

    proptest! {
        #[test]
        fn output_is_sorted_unique_and_from_input(v in arb_regs(3)) {
            let input = v.clone();
            let mut out = v;
            dedup(&mut out);
            for w in out.windows(2) {
                let (a, b) = (&w[0], &w[1]);
                prop_assert!(a.score > b.score || (a.score == b.score && (a.rb < b.rb || (a.rb == b.rb && a.qb <= b.qb))));
                prop_assert!((a.score, a.rb, a.qb) != (b.score, b.rb, b.qb));
            }
            for r in &out {
                let found = input.iter().any(|x| AlnReg { n_comp: r.n_comp, ..*x } == *r);
                prop_assert!(found);
            }
        }

        #[test]
        fn a_refusing_scorer_is_the_same_as_no_patching(v in arb_regs(2)) {
            let query = [0u8; 200];
            let mut with = v.clone();
            let scorer = |q: &[u8], rb: i64, re: i64, _w: i32| -> i32 {
                assert!(!q.is_empty() && rb < re);
                0
            };
            let ctx = PatchContext { query: &query, l_pac: 1 << 20, scorer };
            sort_dedup_patch(&MemOptions::default(), &mut with, Some(ctx));
            let mut without = v;
            dedup(&mut without);
            prop_assert_eq!(with, without);
        }

        #[test]
        fn no_redundant_pair_survives_on_one_contig(v in arb_regs(1)) {
            let mut out = v;
            dedup(&mut out);
            for (i, x) in out.iter().enumerate() {
                for y in &out[i + 1..] {
                    let (q, p) = if x.re <= y.re { (x, y) } else { (y, x) };
                    // With equal ends either may have been the later one.
                    let both = redundant(q, p) && (q.re != p.re || redundant(p, q));
                    prop_assert!(!both, "{:?} {:?}", q, p);
                }
            }
        }
    }
}
