//! From a region to a final alignment: band choice, CIGAR, NM, MD,
//! position and clipping (`bwamem.c: mem_reg2aln`, spec §11).

use crate::extend::{
    cigar_op, gen_cigar_for_region, squeeze_terminal_deletion, CigarWorkspace, GapPenalties,
    RegionBand, ScoreMatrix,
};
use crate::index::FmIndex;
use crate::options::MemOptions;
use crate::region::{approx_mapq_se, AlnReg};

use super::Aln;

/// Per-thread buffers of [`region_to_aln`].
#[derive(Debug, Default)]
pub struct AlnWorkspace {
    cigar: CigarWorkspace,
    rseq: Vec<u8>,
}

impl AlnWorkspace {
    pub fn new() -> Self {
        Self::default()
    }
}

/// bwa keeps NM in 22 bits of `mem_aln_t`.
const NM_MASK: u32 = (1 << 22) - 1;

/// Converts region `ar` of a read (`query`: base codes 0..4) into an
/// alignment as bwa's `mem_reg2aln`: MAPQ (0 for secondaries), the global
/// alignment in a band inferred from the score, one terminal deletion
/// squeezed out, soft clips added, contig-relative position.
pub fn region_to_aln(
    opt: &MemOptions,
    mat: &ScoreMatrix,
    index: &FmIndex,
    query: &[u8],
    ar: &AlnReg,
    ws: &mut AlnWorkspace,
) -> Aln {
    if ar.rb < 0 || ar.re < 0 {
        return Aln::unmapped(0);
    }
    let l_query = query.len() as i32;
    let l_pac = index.l_pac() as i64;
    let (qb, qe, rb, re) = (ar.qb, ar.qe, ar.rb, ar.re);
    let mut a = Aln::unmapped(0);
    a.flag = 0;
    a.mapq = if ar.secondary < 0 {
        approx_mapq_se(opt, ar) as u8
    } else {
        0
    };
    if ar.secondary >= 0 {
        a.flag |= 0x100;
    }
    let gaps = GapPenalties::from_options(opt);
    let band = RegionBand {
        a: opt.a,
        opt_w: opt.w,
        reg_w: ar.w,
        truesc: ar.truesc,
    };
    // bwa rejects a window that crosses the strand boundary; regions never do.
    let res = if rb < l_pac && l_pac < re {
        a.cigar.clear();
        a.md.clear();
        None
    } else {
        index.get_seq(rb, re, &mut ws.rseq);
        let query = &query[qb as usize..qe as usize];
        gen_cigar_for_region(
            &mut ws.cigar,
            query,
            &ws.rseq,
            rb >= l_pac,
            mat,
            gaps,
            band,
            &mut a.cigar,
            &mut a.md,
        )
    };
    let nm = res.map_or(0, |r| r.nm);
    a.nm = (nm as u32) & NM_MASK;
    let (mut pos, is_rev) = index.depos(if rb < l_pac { rb } else { re - 1 });
    a.is_rev = is_rev;
    if !a.cigar.is_empty() {
        pos += i64::from(squeeze_terminal_deletion(&mut a.cigar));
    }
    if qb != 0 || qe != l_query {
        let (clip5, clip3) = if is_rev {
            (l_query - qe, qb)
        } else {
            (qb, l_query - qe)
        };
        if clip5 > 0 {
            a.cigar.insert(0, (clip5 as u32) << 4 | cigar_op::S);
        }
        if clip3 > 0 {
            a.cigar.push((clip3 as u32) << 4 | cigar_op::S);
        }
    }
    let rid = index.pos2rid(pos);
    debug_assert_eq!(rid, i64::from(ar.rid));
    a.rid = rid as i32;
    a.pos = pos - index.contigs()[rid.max(0) as usize].offset as i64;
    a.score = ar.score;
    a.sub = ar.sub.max(ar.csub);
    a.is_alt = ar.is_alt;
    a.alt_sc = ar.alt_sc;
    a
}
