//! Seed filtering for long reads (spec §6.3, `bwamem.c:
//! mem_flt_chained_seeds`, `mem_seed_sw`): a seed whose neighbourhood does
//! not align well locally is dropped before extension.

use super::{ChainReference, ChainSet, ChainWorkspace, Seed};
use crate::options::MemOptions;

/// Seeds at least this long, or windows at least this long, skip SW.
const SHORT_LEN: i64 = 200;
/// Bases added on each side of the seed for the SW window.
const SHORT_EXT: i64 = 50;
/// `MEM_HSP_COEF`, a C float.
const HSP_COEF: f32 = 1.1;
/// `MEM_MINSC_COEF`, a C float.
const MINSC_COEF: f32 = 5.5;
/// `MEM_SEEDSW_COEF`, a C float.
const SEEDSW_COEF: f32 = 0.05;

/// Spec §6.3: for reads long enough (about 730 bp and up with default
/// options), rescore every seed of every chain with a local SW of its
/// surroundings and keep only seeds with no SW (-1) or a score of at least
/// the minimum HSP score; kept seeds get `score` = the SW score, or
/// `len * a` when SW was skipped. `query` is the read in nt4 codes.
/// `sw(query_window, ref_window)` must return the score of bwa's
/// `ksw_align2` (16-bit, `KSW_XSTART`, bwa's scoring matrix and gap
/// penalties from `opts`).
pub fn filter_seeds_by_sw<R: ChainReference>(
    opts: &MemOptions,
    query: &[u8],
    reference: &R,
    set: &mut ChainSet,
    ws: &mut ChainWorkspace,
    mut sw: impl FnMut(&[u8], &[u8]) -> i32,
) {
    let l_query = query.len() as i32;
    let min_l: f64 = if opts.min_chain_weight != 0 {
        f64::from(HSP_COEF * opts.min_chain_weight as f32)
    } else {
        f64::from(MINSC_COEF) * f64::from(l_query).ln()
    };
    let min_hsp = (f64::from(opts.a) * min_l + 0.499) as i32;
    if min_l > f64::from(SEEDSW_COEF * l_query as f32) {
        return; // short read
    }
    let ChainSet { chains, seeds } = set;
    for c in chains.iter_mut() {
        let mut k = 0;
        for j in 0..c.n_seeds {
            let mut s = seeds[c.seed_beg + j];
            let sc = seed_sw(query, reference, &s, &mut ws.ref_buf, &mut sw);
            if sc < 0 || sc >= min_hsp {
                s.score = if sc < 0 { s.len * opts.a } else { sc };
                seeds[c.seed_beg + k] = s;
                k += 1;
            }
        }
        c.n_seeds = k;
    }
}

/// `mem_seed_sw`: local SW score of the seed's read window against its
/// reference window (both the seed plus 50 bases each side, clamped to the
/// read, and to one strand and contig of the reference), or -1 when the
/// seed or a window is 200 bases or longer.
fn seed_sw<R: ChainReference>(
    query: &[u8],
    reference: &R,
    s: &Seed,
    buf: &mut Vec<u8>,
    sw: &mut impl FnMut(&[u8], &[u8]) -> i32,
) -> i32 {
    let len = i64::from(s.len);
    if len >= SHORT_LEN {
        return -1;
    }
    let l_query = query.len() as i64;
    debug_assert!(s.qbeg >= 0 && i64::from(s.qbeg) + len <= l_query);
    let l_pac = reference.l_pac();
    let qb = (i64::from(s.qbeg) - SHORT_EXT).max(0);
    let qe = (i64::from(s.qbeg) + len + SHORT_EXT).min(l_query);
    let mid = (s.rbeg + (s.rbeg + len)) >> 1;
    let mut rb = (s.rbeg - SHORT_EXT).max(0);
    let mut re = (s.rbeg + len + SHORT_EXT).min(l_pac << 1);
    if rb < l_pac && l_pac < re {
        if mid < l_pac {
            re = l_pac;
        } else {
            rb = l_pac;
        }
    }
    if qe - qb >= SHORT_LEN || re - rb >= SHORT_LEN {
        return -1;
    }
    reference.fetch_seq(rb, mid, re, buf);
    sw(&query[qb as usize..qe as usize], buf)
}
