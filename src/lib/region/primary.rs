//! Primary / secondary marking of one read's regions (spec §9;
//! `bwamem.c: mem_mark_primary_se`, `mem_mark_primary_se_core`,
//! `mem_reorder_primary5`).
//!
//! Regions are ranked by score, ties broken by `hash_64(read id + index)`;
//! walking down the ranking, a region that overlaps a better primary on the
//! query by at least `mask_level` of the shorter becomes that primary's
//! secondary, otherwise it is another primary (a supplementary candidate).
//! With ALT contigs the ranking is done over all hits first (for XA groups
//! and `pa:f`), then again over the primary-assembly hits alone.

use super::{AlnReg, SECONDARY_ALT};
use crate::options::MemOptions;
use crate::util::{hash_64, ks_introsort};

/// Reusable buffers for [`mark_primary_se`] (no allocation per read once
/// warm).
#[derive(Debug, Default, Clone)]
pub struct PrimaryScratch {
    z: Vec<usize>,
    rank: Vec<usize>,
}

/// The core: given regions sorted best first, sets `sub`, `sub_n` and
/// `secondary` of `a` (whose `secondary` must be negative on entry).
fn mark_core(opt: &MemOptions, a: &mut [AlnReg], z: &mut Vec<usize>) {
    let tmp = (opt.a + opt.b)
        .max(opt.o_del + opt.e_del)
        .max(opt.o_ins + opt.e_ins);
    z.clear();
    if a.is_empty() {
        return;
    }
    z.push(0);
    for i in 1..a.len() {
        let mut parent = None;
        for &j in z.iter() {
            let b_max = a[j].qb.max(a[i].qb);
            let e_min = a[j].qe.min(a[i].qe);
            if e_min > b_max {
                let min_l = (a[i].qe - a[i].qb).min(a[j].qe - a[j].qb);
                // C: int >= int * float is a float comparison.
                if (e_min - b_max) as f32 >= min_l as f32 * opt.mask_level {
                    if a[j].sub == 0 {
                        a[j].sub = a[i].score;
                    }
                    if a[j].score - a[i].score <= tmp && (a[j].is_alt || !a[i].is_alt) {
                        a[j].sub_n += 1;
                    }
                    parent = Some(j);
                    break;
                }
            }
        }
        match parent {
            Some(j) => a[i].secondary = j as i32,
            None => z.push(i),
        }
    }
}

/// bwa's `mem_mark_primary_se`: re-orders `a` (best first) and sets `sub`,
/// `sub_n` (added to, never reset), `alt_sc`, `secondary`, `secondary_all`
/// and `hash`. `id` is the read's global number (single-end) or
/// `pair << 1 | read` (paired-end). Returns the number of non-ALT regions.
pub fn mark_primary_se(
    opt: &MemOptions,
    a: &mut [AlnReg],
    id: u64,
    ws: &mut PrimaryScratch,
) -> usize {
    let n = a.len();
    if n == 0 {
        return 0;
    }
    let mut n_pri = 0;
    for (i, r) in a.iter_mut().enumerate() {
        r.sub = 0;
        r.alt_sc = 0;
        r.secondary = -1;
        r.secondary_all = -1;
        r.hash = hash_64(id.wrapping_add(i as u64));
        if !r.is_alt {
            n_pri += 1;
        }
    }
    ks_introsort(a, |x, y| {
        x.score > y.score
            || (x.score == y.score
                && ((!x.is_alt & y.is_alt) || (x.is_alt == y.is_alt && x.hash < y.hash)))
    });
    mark_core(opt, a, &mut ws.z);
    for i in 0..n {
        a[i].secondary_all = i as i32; // rank in the first round
        let s = a[i].secondary;
        if !a[i].is_alt && s >= 0 && a[s as usize].is_alt {
            a[i].alt_sc = a[s as usize].score;
        }
    }
    if n_pri < n {
        if n_pri > 0 {
            ks_introsort(a, |x, y| {
                (!x.is_alt & y.is_alt)
                    || (x.is_alt == y.is_alt
                        && (x.score > y.score || (x.score == y.score && x.hash < y.hash)))
            });
        }
        // rank[first-round index] = index now.
        ws.rank.clear();
        ws.rank.resize(n, 0);
        for (i, r) in a.iter().enumerate() {
            ws.rank[r.secondary_all as usize] = i;
        }
        for r in a.iter_mut() {
            if r.secondary >= 0 {
                r.secondary_all = ws.rank[r.secondary as usize] as i32;
                if r.is_alt {
                    r.secondary = SECONDARY_ALT;
                }
            } else {
                r.secondary_all = -1;
            }
        }
        if n_pri > 0 {
            // Primary assembly only; sub_n keeps what the first round added.
            for r in &mut a[..n_pri] {
                r.sub = 0;
                r.secondary = -1;
            }
            mark_core(opt, &mut a[..n_pri], &mut ws.z);
        }
    } else {
        for r in a.iter_mut() {
            r.secondary_all = r.secondary;
        }
    }
    n_pri
}

/// bwa's `mem_reorder_primary5` (`-5`): when at least two primaries (not
/// ALT, score ≥ `t`) exist, moves the one with the smallest `qb` (the first
/// on ties) to the front, swapping it with `a[0]` and fixing `secondary`
/// and `secondary_all` references to the two swapped indices.
pub fn reorder_primary5(t: i32, a: &mut [AlnReg]) {
    let eligible = |r: &AlnReg| r.secondary < 0 && !r.is_alt && r.score >= t;
    if a.iter().filter(|r| eligible(r)).count() <= 1 {
        return;
    }
    let mut left_st = i32::MAX;
    let mut left_k = 0;
    for (k, r) in a.iter().enumerate() {
        if eligible(r) && r.qb < left_st {
            left_st = r.qb;
            left_k = k;
        }
    }
    debug_assert!(a[0].secondary < 0);
    if left_k == 0 {
        return;
    }
    a.swap(0, left_k);
    let lk = left_k as i32;
    let swap_ref = |x: &mut i32| {
        if *x == 0 {
            *x = lk;
        } else if *x == lk {
            *x = 0;
        }
    };
    for r in &mut a[1..] {
        swap_ref(&mut r.secondary);
        swap_ref(&mut r.secondary_all);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reg(rb: i64, qb: i32, qe: i32, score: i32) -> AlnReg {
        AlnReg {
            rb,
            re: rb + i64::from(qe - qb),
            qb,
            qe,
            score,
            truesc: score,
            ..AlnReg::default()
        }
    }

    fn mark(a: &mut [AlnReg], id: u64) -> usize {
        mark_primary_se(
            &MemOptions::default(),
            a,
            id,
            &mut PrimaryScratch::default(),
        )
    }

    #[test]
    fn overlapping_lower_hit_becomes_secondary_and_sets_sub() {
        let mut a = [
            reg(5000, 0, 100, 94),
            reg(100, 0, 100, 100),
            reg(9000, 0, 100, 80),
        ];
        assert_eq!(mark(&mut a, 0), 3);
        let s: Vec<i32> = a.iter().map(|r| r.score).collect();
        assert_eq!(s, vec![100, 94, 80]);
        assert_eq!((a[0].secondary, a[1].secondary, a[2].secondary), (-1, 0, 0));
        // sub: the first shadowed score; sub_n: hits within 7 (6 = o+e).
        assert_eq!((a[0].sub, a[0].sub_n), (94, 1));
        assert_eq!(a[1].secondary_all, 0);
        assert_eq!(a[0].secondary_all, -1);
        assert_eq!(a[1].sub, 0);
    }

    #[test]
    fn sub_n_counts_within_max_of_mismatch_and_gap_costs() {
        // tmp = max(a+b, o_del+e_del, o_ins+e_ins) = max(5, 7, 7) = 7.
        let mut a = [
            reg(0, 0, 100, 100),
            reg(500, 0, 100, 93),
            reg(900, 0, 100, 92),
        ];
        mark(&mut a, 7);
        assert_eq!((a[0].sub, a[0].sub_n), (93, 1));
    }

    #[test]
    fn sub_n_is_added_to_not_reset() {
        let mut a = [reg(0, 0, 100, 100), reg(500, 0, 100, 99)];
        a[0].sub_n = 5;
        a[1].sub_n = 5;
        mark(&mut a, 0);
        assert_eq!((a[0].sub_n, a[1].sub_n), (6, 5));
    }

    #[test]
    fn equal_scores_are_ordered_by_hash_of_id_plus_index() {
        // hash_64(0) = 0x6a39.., hash_64(1) = 0x2035..: index 1 ranks first.
        let mut a = [reg(100, 0, 100, 100), reg(900, 0, 100, 100)];
        mark(&mut a, 0);
        assert_eq!((a[0].rb, a[0].secondary), (900, -1));
        assert_eq!((a[1].rb, a[1].secondary), (100, 0));
        assert_eq!(a[0].hash, hash_64(1));
        assert_eq!((a[0].sub, a[0].sub_n), (100, 1));
        // Another id, the rule computed.
        for id in [1u64, 2, 12345, u64::MAX] {
            let mut a = [reg(100, 0, 100, 100), reg(900, 0, 100, 100)];
            mark(&mut a, id);
            let first = if hash_64(id) < hash_64(id.wrapping_add(1)) {
                100
            } else {
                900
            };
            assert_eq!(a[0].rb, first, "id {id}");
        }
    }

    #[test]
    fn non_overlapping_hits_are_both_primary() {
        // A split read: [0,60) and [60,150).
        let mut a = [reg(100, 0, 60, 60), reg(5000, 60, 150, 90)];
        mark(&mut a, 0);
        assert_eq!((a[0].score, a[0].secondary), (90, -1));
        assert_eq!((a[1].score, a[1].secondary), (60, -1));
        assert_eq!(a[0].sub, 0);
    }

    #[test]
    fn mask_level_is_half_the_shorter_inclusive() {
        // Shorter is 60; overlap 30 ≥ 0.5·60 → secondary.
        let mut a = [reg(100, 0, 100, 100), reg(5000, 70, 130, 60)];
        mark(&mut a, 0);
        assert_eq!(a[1].secondary, 0);
        // Overlap 29 → another primary.
        let mut a = [reg(100, 0, 100, 100), reg(5000, 71, 131, 60)];
        mark(&mut a, 0);
        assert_eq!(a[1].secondary, -1);
    }

    #[test]
    fn a_hit_joins_the_first_overlapping_primary_in_rank_order() {
        // Primaries A [0,80) and B [80,150); C [70,150) overlaps A by 10
        // (< half of 80) and B by 70: C is B's secondary.
        let mut a = [
            reg(100, 0, 80, 80),
            reg(3000, 80, 150, 70),
            reg(6000, 70, 150, 65),
        ];
        mark(&mut a, 0);
        assert_eq!(
            a.iter().map(|r| r.secondary).collect::<Vec<_>>(),
            vec![-1, -1, 1]
        );
        assert_eq!((a[0].sub, a[1].sub, a[1].sub_n), (0, 65, 1));
    }

    #[test]
    fn alt_hits_are_ranked_twice() {
        // ALT 100 and primary-assembly 95 on the same part of the read.
        let mut alt = reg(100, 0, 100, 100);
        alt.is_alt = true;
        let mut a = [reg(5000, 0, 100, 95), alt];
        assert_eq!(mark(&mut a, 0), 1);
        // Second round order: non-ALT first.
        assert_eq!((a[0].is_alt, a[1].is_alt), (false, true));
        // The non-ALT hit is primary again, with the ALT parent's score.
        assert_eq!((a[0].secondary, a[0].alt_sc, a[0].sub), (-1, 100, 0));
        // It stays in the ALT hit's XA group (secondary_all = new index 1).
        assert_eq!(a[0].secondary_all, 1);
        // The ALT hit was a first-round primary: secondary and
        // secondary_all -1; its sub/sub_n are from the first round.
        assert_eq!((a[1].secondary, a[1].secondary_all), (-1, -1));
        assert_eq!((a[1].sub, a[1].sub_n), (95, 1));
    }

    #[test]
    fn alt_secondary_gets_int_max() {
        let mut alt = reg(100, 0, 100, 90);
        alt.is_alt = true;
        let mut a = [alt, reg(5000, 0, 100, 100)];
        mark(&mut a, 0);
        assert_eq!(a[0].score, 100);
        assert_eq!((a[1].secondary, a[1].secondary_all), (SECONDARY_ALT, 0));
        // The non-ALT primary's sub_n: an ALT hit below does not count.
        assert_eq!((a[0].sub, a[0].sub_n), (0, 0));
    }

    #[test]
    fn only_alt_hits_keep_first_round_order() {
        let mut x = reg(100, 0, 100, 90);
        x.is_alt = true;
        let mut y = reg(900, 0, 100, 99);
        y.is_alt = true;
        let mut a = [x, y];
        assert_eq!(mark(&mut a, 0), 0);
        assert_eq!(a[0].score, 99);
        assert_eq!((a[1].secondary, a[1].secondary_all), (SECONDARY_ALT, 0));
        // ALT parent and ALT child count in sub_n.
        assert_eq!(a[0].sub_n, 0); // 99 - 90 > 7
    }

    #[test]
    fn reorder_primary5_moves_the_leftmost_primary_first() {
        let o = MemOptions::default();
        // Split read: 90 on [60,150), 60 on [0,60), a secondary of each.
        let mut a = [
            reg(5000, 60, 150, 90),
            reg(100, 0, 60, 60),
            reg(8000, 60, 150, 85),
            reg(9000, 0, 60, 55),
        ];
        mark_primary_se(&o, &mut a, 0, &mut PrimaryScratch::default());
        assert_eq!(
            a.iter().map(|r| r.score).collect::<Vec<_>>(),
            vec![90, 85, 60, 55]
        );
        assert_eq!(
            a.iter().map(|r| r.secondary).collect::<Vec<_>>(),
            vec![-1, 0, -1, 2]
        );
        reorder_primary5(o.t, &mut a);
        assert_eq!(
            a.iter().map(|r| r.score).collect::<Vec<_>>(),
            vec![60, 85, 90, 55]
        );
        assert_eq!(
            a.iter().map(|r| r.secondary).collect::<Vec<_>>(),
            vec![-1, 2, -1, 0]
        );
        assert_eq!(
            a.iter().map(|r| r.secondary_all).collect::<Vec<_>>(),
            vec![-1, 2, -1, 0]
        );
        // Already leftmost first: nothing moves.
        let mut b = a;
        reorder_primary5(o.t, &mut b);
        assert_eq!(b, a);
        // Below -T the left piece does not count: nothing moves.
        let mut c = [reg(5000, 60, 150, 90), reg(100, 0, 60, 25)];
        mark_primary_se(&o, &mut c, 0, &mut PrimaryScratch::default());
        let before = c;
        reorder_primary5(o.t, &mut c);
        assert_eq!(c, before);
    }

    fn arb_regs() -> impl Strategy<Value = Vec<AlnReg>> {
        proptest::collection::vec(
            (
                0i64..10_000,
                0i32..100,
                20i32..100,
                20i32..40,
                any::<bool>(),
            ),
            0..30,
        )
        .prop_map(|v| {
            v.into_iter()
                .map(|(rb, qb, ql, sc, alt)| AlnReg {
                    is_alt: alt && rb % 3 == 0,
                    ..reg(rb, qb, qb + ql, sc)
                })
                .collect()
        })
    }

    fn significant(x: &AlnReg, y: &AlnReg) -> bool {
        let o = x.qe.min(y.qe) - x.qb.max(y.qb);
        let min_l = (x.qe - x.qb).min(y.qe - y.qb);
        o > 0 && o as f32 >= min_l as f32 * 0.5
    }

    proptest! {
        #[test]
        fn marking_invariants(v in arb_regs(), id in any::<u64>()) {
            let mut a = v.clone();
            let n_pri = mark(&mut a, id);
            prop_assert_eq!(n_pri, v.iter().filter(|r| !r.is_alt).count());
            prop_assert_eq!(a.len(), v.len());
            // Non-ALT hits first, best first.
            let (pri, alt) = a.split_at(n_pri);
            prop_assert!(alt.iter().all(|r| r.is_alt) && pri.iter().all(|r| !r.is_alt));
            for w in pri.windows(2) {
                prop_assert!(w[0].score >= w[1].score);
            }
            // Among non-ALT hits: primaries never overlap each other
            // significantly; every secondary points to an earlier primary it
            // overlaps, with a score no better.
            for (i, r) in pri.iter().enumerate() {
                if r.secondary < 0 {
                    for q in &pri[..i] {
                        prop_assert!(q.secondary >= 0 || !significant(q, r));
                    }
                } else {
                    let j = r.secondary as usize;
                    prop_assert!(j < i && pri[j].secondary < 0);
                    prop_assert!(significant(&pri[j], r) && pri[j].score >= r.score);
                }
            }
            if !pri.is_empty() {
                prop_assert!(pri[0].secondary < 0);
            }
        }

        #[test]
        fn reorder5_keeps_references_consistent(v in arb_regs(), id in any::<u64>()) {
            let mut a: Vec<AlnReg> = v.iter().map(|r| AlnReg { is_alt: false, ..*r }).collect();
            mark(&mut a, id);
            let before = a.clone();
            reorder_primary5(30, &mut a);
            // Every secondary still names the parent it named before the
            // swap (hashes are distinct: hash_64 is a bijection).
            for (k, r) in before.iter().enumerate() {
                if r.secondary >= 0 {
                    let parent = before[r.secondary as usize];
                    let now = a.iter().position(|x| x.hash == r.hash).unwrap();
                    prop_assert_eq!(a[a[now].secondary as usize].hash, parent.hash, "k {}", k);
                }
            }
        }
    }
}
