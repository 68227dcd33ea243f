//! Extension of a chain's seeds into alignment regions (`bwamem.c:
//! mem_chain2aln`, spec §7): fetch the reference window the chain can
//! reach, then extend seeds best-first with banded SW to the left and right,
//! skipping seeds already explained by a region found earlier for the read.

use super::{
    extend_banded, ExtendParams, ExtendResult, ExtendWorkspace, GapPenalties, ScoreMatrix,
};
use crate::chain::{Chain, Seed};
use crate::index::FmIndex;
use crate::options::MemOptions;
use crate::region::AlnReg;

/// bwa tries the band width `w`, then `2w` (`MAX_BAND_TRY`).
const MAX_BAND_TRY: u32 = 2;

/// Per-thread buffers of [`chain_to_regions`].
#[derive(Debug, Default)]
pub struct Chain2AlnWorkspace {
    ext: ExtendWorkspace,
    rseq: Vec<u8>,
    query_rev: Vec<u8>,
    ref_rev: Vec<u8>,
    /// `score << 32 | seed index`, sorted; an entry of 0 marks a skipped seed.
    order: Vec<u64>,
}

impl Chain2AlnWorkspace {
    pub fn new() -> Self {
        Self::default()
    }
}

/// Longest gap worth opening next to a stretch of `qlen` query bases,
/// capped at twice the band (`cal_max_gap`).
pub fn cal_max_gap(opt: &MemOptions, qlen: i32) -> i32 {
    let l_del = (f64::from(qlen * opt.a - opt.o_del) / f64::from(opt.e_del) + 1.0) as i32;
    let l_ins = (f64::from(qlen * opt.a - opt.o_ins) / f64::from(opt.e_ins) + 1.0) as i32;
    l_del.max(l_ins).max(1).min(opt.w << 1)
}

/// One side's extension with bwa's band retries: band `w`, then `2w`,
/// stopping when the score equals the previous try's (`prev` for the
/// first) or the best cell stayed well inside the band. Returns the last
/// try's result and the band it used.
#[allow(clippy::too_many_arguments)]
fn extend_with_retries(
    ext: &mut ExtendWorkspace,
    opt: &MemOptions,
    mat: &ScoreMatrix,
    gaps: GapPenalties,
    query: &[u8],
    target: &[u8],
    end_bonus: i32,
    h0: i32,
    mut prev: i32,
) -> (ExtendResult, i32) {
    let mut w = opt.w;
    let mut res = extend_banded(
        ext,
        query,
        target,
        &params(opt, mat, gaps, w, end_bonus),
        h0,
    );
    for i in 1..MAX_BAND_TRY {
        if res.score == prev || res.max_off < (w >> 1) + (w >> 2) {
            break;
        }
        prev = res.score;
        w = opt.w << i;
        res = extend_banded(
            ext,
            query,
            target,
            &params(opt, mat, gaps, w, end_bonus),
            h0,
        );
    }
    (res, w)
}

fn params<'a>(
    opt: &MemOptions,
    mat: &'a ScoreMatrix,
    gaps: GapPenalties,
    w: i32,
    end_bonus: i32,
) -> ExtendParams<'a> {
    ExtendParams {
        mat,
        gaps,
        w,
        end_bonus,
        zdrop: opt.zdrop,
    }
}

/// Whether region `p` already explains seed `s` (§7.3, first half).
fn covered_by(opt: &MemOptions, l_query: i32, s: &Seed, p: &AlnReg) -> bool {
    let s_rend = s.rbeg + i64::from(s.len);
    if s.rbeg < p.rb || s_rend > p.re || s.qbeg < p.qb || s.qbeg + s.len > p.qe {
        return false;
    }
    if f64::from(s.len - p.seedlen0) > 0.1 * f64::from(l_query) {
        return false;
    }
    let near = |qd: i32, rd: i64| {
        let max_gap = cal_max_gap(opt, (i64::from(qd).min(rd)) as i32);
        let w = i64::from(max_gap.min(p.w));
        let qd = i64::from(qd);
        qd - rd < w && rd - qd < w
    };
    near(s.qbeg - p.qb, s.rbeg - p.rb) || near(p.qe - (s.qbeg + s.len), p.re - s_rend)
}

/// Whether an already-extended seed of the chain overlaps `s` on another
/// diagonal, in which case `s` may still lead to a different alignment.
fn overlaps_other_diagonal(s: &Seed, t: &Seed) -> bool {
    if f64::from(t.len) < f64::from(s.len) * 0.95 {
        return false;
    }
    (s.qbeg <= t.qbeg
        && s.qbeg + s.len - t.qbeg >= s.len >> 2
        && i64::from(t.qbeg - s.qbeg) != t.rbeg - s.rbeg)
        || (t.qbeg <= s.qbeg
            && t.qbeg + t.len - s.qbeg >= s.len >> 2
            && i64::from(s.qbeg - t.qbeg) != s.rbeg - t.rbeg)
}

/// Extends the seeds of `chain` into regions appended to `av` (which holds
/// the regions of earlier chains of the same read). `query` holds base
/// codes 0..4.
#[allow(clippy::too_many_arguments)]
pub fn chain_to_regions(
    opt: &MemOptions,
    mat: &ScoreMatrix,
    index: &FmIndex,
    query: &[u8],
    chain: &Chain,
    seeds: &[Seed],
    ws: &mut Chain2AlnWorkspace,
    av: &mut Vec<AlnReg>,
) {
    if seeds.is_empty() {
        return;
    }
    let l_query = query.len() as i32;
    let l_pac = index.l_pac() as i64;
    // The reference span any seed of the chain could reach.
    let (mut rmax0, mut rmax1) = (l_pac << 1, 0i64);
    for t in seeds {
        let right = l_query - t.qbeg - t.len;
        let b = t.rbeg - i64::from(t.qbeg + cal_max_gap(opt, t.qbeg));
        let e = t.rbeg + i64::from(t.len) + i64::from(right + cal_max_gap(opt, right));
        rmax0 = rmax0.min(b);
        rmax1 = rmax1.max(e);
    }
    rmax0 = rmax0.max(0);
    rmax1 = rmax1.min(l_pac << 1);
    if rmax0 < l_pac && l_pac < rmax1 {
        // All seeds are on one strand: keep that side of the boundary.
        if seeds[0].rbeg < l_pac {
            rmax1 = l_pac;
        } else {
            rmax0 = l_pac;
        }
    }
    let (rmax0, rmax1, _rid) = index.fetch_seq(rmax0, seeds[0].rbeg, rmax1, &mut ws.rseq);
    let rseq = &ws.rseq;

    ws.order.clear();
    ws.order.extend(
        seeds
            .iter()
            .enumerate()
            .map(|(i, s)| (s.score as u64) << 32 | i as u64),
    );
    ws.order.sort_unstable(); // keys are unique

    let gaps = GapPenalties::from_options(opt);
    for k in (0..seeds.len()).rev() {
        let s = seeds[ws.order[k] as u32 as usize];
        if av.iter().any(|p| covered_by(opt, l_query, &s, p)) {
            let differs = ws.order[k + 1..]
                .iter()
                .filter(|&&o| o != 0)
                .any(|&o| overlaps_other_diagonal(&s, &seeds[o as u32 as usize]));
            if !differs {
                ws.order[k] = 0; // not extended
                continue;
            }
        }

        let mut a = AlnReg {
            w: opt.w,
            score: -1,
            truesc: -1,
            rid: chain.rid,
            ..AlnReg::default()
        };
        let mut aw = [opt.w, opt.w];

        if s.qbeg > 0 {
            let qb = s.qbeg as usize;
            ws.query_rev.clear();
            ws.query_rev.extend(query[..qb].iter().rev());
            let tmp = (s.rbeg - rmax0) as usize;
            ws.ref_rev.clear();
            ws.ref_rev.extend(rseq[..tmp].iter().rev());
            let (r, w) = extend_with_retries(
                &mut ws.ext,
                opt,
                mat,
                gaps,
                &ws.query_rev,
                &ws.ref_rev,
                opt.pen_clip5,
                s.len * opt.a,
                a.score,
            );
            a.score = r.score;
            aw[0] = w;
            if r.gscore <= 0 || r.gscore <= a.score - opt.pen_clip5 {
                a.qb = s.qbeg - r.qle;
                a.rb = s.rbeg - i64::from(r.tle);
                a.truesc = a.score;
            } else {
                a.qb = 0;
                a.rb = s.rbeg - i64::from(r.gtle);
                a.truesc = r.gscore;
            }
        } else {
            a.score = s.len * opt.a;
            a.truesc = a.score;
            a.qb = 0;
            a.rb = s.rbeg;
        }

        if s.qbeg + s.len != l_query {
            let sc0 = a.score;
            let qe = (s.qbeg + s.len) as usize;
            let re = (s.rbeg + i64::from(s.len) - rmax0) as usize;
            // The first try compares with the left score, as bwa does.
            let (r, w) = extend_with_retries(
                &mut ws.ext,
                opt,
                mat,
                gaps,
                &query[qe..],
                &rseq[re..],
                opt.pen_clip3,
                sc0,
                a.score,
            );
            a.score = r.score;
            aw[1] = w;
            if r.gscore <= 0 || r.gscore <= a.score - opt.pen_clip3 {
                a.qe = qe as i32 + r.qle;
                a.re = rmax0 + re as i64 + i64::from(r.tle);
                a.truesc += a.score - sc0;
            } else {
                a.qe = l_query;
                a.re = rmax0 + re as i64 + i64::from(r.gtle);
                a.truesc += r.gscore - sc0;
            }
        } else {
            a.qe = l_query;
            a.re = s.rbeg + i64::from(s.len);
        }

        a.seedcov = seeds
            .iter()
            .filter(|t| {
                t.qbeg >= a.qb
                    && t.qbeg + t.len <= a.qe
                    && t.rbeg >= a.rb
                    && t.rbeg + i64::from(t.len) <= a.re
            })
            .map(|t| t.len)
            .sum();
        a.w = aw[0].max(aw[1]);
        a.seedlen0 = s.len;
        a.frac_rep = chain.frac_rep;
        av.push(a);
    }
    let _ = rmax1;
}
