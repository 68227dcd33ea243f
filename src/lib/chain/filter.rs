//! Chain weighting and filtering (spec §6.1–§6.2, `bwamem.c:
//! mem_chain_weight`, `mem_chain_flt`).

use super::{Chain, ChainSet, ChainWorkspace, Seed};
use crate::options::MemOptions;
use crate::util::ks_introsort;

/// Largest weight bwa stores before truncating to its 29-bit field.
const WEIGHT_CAP: i64 = (1 << 30) - 1;
/// bwa keeps `w` in a 29-bit unsigned bitfield.
const WEIGHT_MASK: i64 = (1 << 29) - 1;

/// Spec §6.1: the smaller of the read and reference coverage of the seeds,
/// each a union length computed in chain order with a running end (so
/// seeds out of reference order are only approximately merged).
pub fn chain_weight(seeds: &[Seed]) -> i32 {
    fn coverage(seeds: &[Seed], beg: impl Fn(&Seed) -> i64) -> i64 {
        let (mut end, mut w) = (0i64, 0i64);
        for s in seeds {
            let (b, len) = (beg(s), i64::from(s.len));
            if b >= end {
                w += len;
            } else if b + len > end {
                w += b + len - end;
            }
            end = end.max(b + len);
        }
        w
    }
    let q = coverage(seeds, |s| i64::from(s.qbeg));
    let r = coverage(seeds, |s| s.rbeg);
    // The C sums in an int; weights of real reads are far from overflowing.
    let w = q.min(r).min(WEIGHT_CAP);
    (w & WEIGHT_MASK) as i32
}

fn chain_beg(set: &ChainSet, c: &Chain) -> i32 {
    set.seeds[c.seed_beg].qbeg
}

/// End of the **last** seed on the read, not the largest end.
fn chain_end(set: &ChainSet, c: &Chain) -> i32 {
    let s = &set.seeds[c.seed_beg + c.n_seeds - 1];
    s.qbeg + s.len
}

/// Spec §6.2 (`mem_chain_flt`): weighs every chain, drops chains lighter
/// than `min_chain_weight`, sorts by weight (bwa's unstable introsort, so
/// ties keep bwa's order), marks each chain `kept` 0–3 and `first`, applies
/// `max_chain_extend`, and removes the chains with `kept == 0`.
pub fn filter_chains(opts: &MemOptions, set: &mut ChainSet, ws: &mut ChainWorkspace) {
    if set.chains.is_empty() {
        return;
    }
    for i in 0..set.chains.len() {
        let c = set.chains[i];
        let w = chain_weight(set.seeds_of(&c));
        let c = &mut set.chains[i];
        c.first = -1;
        c.kept = 0;
        c.w = w;
    }
    set.chains.retain(|c| c.w >= opts.min_chain_weight);
    if set.chains.is_empty() {
        return;
    }
    ks_introsort(&mut set.chains, |a, b| a.w > b.w);

    let n = set.chains.len();
    let kept = &mut ws.kept;
    kept.clear();
    set.chains[0].kept = 3;
    kept.push(0);
    for i in 1..n {
        let ci = set.chains[i];
        let (beg_i, end_i) = (chain_beg(set, &ci), chain_end(set, &ci));
        let mut large_ovlp = false;
        let mut dropped = false;
        for &j in kept.iter() {
            let cj = set.chains[j];
            let (beg_j, end_j) = (chain_beg(set, &cj), chain_end(set, &cj));
            let b_max = beg_i.max(beg_j);
            let e_min = end_i.min(end_j);
            // An ALT chain does not shadow a primary one.
            if e_min > b_max && (!cj.is_alt || ci.is_alt) {
                let min_l = (end_i - beg_i).min(end_j - beg_j);
                // C: int compared with int * float, in float.
                if (e_min - b_max) as f32 >= min_l as f32 * opts.mask_level
                    && min_l < opts.max_chain_gap
                {
                    large_ovlp = true;
                    if set.chains[j].first < 0 {
                        set.chains[j].first = i as i32;
                    }
                    if (ci.w as f32) < cj.w as f32 * opts.drop_ratio
                        && cj.w - ci.w >= opts.min_seed_len << 1
                    {
                        dropped = true;
                        break;
                    }
                }
            }
        }
        if !dropped {
            kept.push(i);
            set.chains[i].kept = if large_ovlp { 2 } else { 3 };
        }
    }
    // Keep the first chain each kept chain shadowed, for a better MAPQ.
    for &j in kept.iter() {
        let first = set.chains[j].first;
        if first >= 0 {
            set.chains[first as usize].kept = 1;
        }
    }
    // Extend at most max_chain_extend - 1 chains of kind 1 or 2.
    let mut i = 0;
    let mut k = 0;
    while i < n {
        let kind = set.chains[i].kept;
        if kind == 1 || kind == 2 {
            k += 1;
            if k >= opts.max_chain_extend {
                break;
            }
        }
        i += 1;
    }
    for c in &mut set.chains[i..] {
        if c.kept < 3 {
            c.kept = 0;
        }
    }
    set.chains.retain(|c| c.kept != 0);
}
