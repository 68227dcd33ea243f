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
