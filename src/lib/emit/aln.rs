//! From a region to a final alignment: band choice, CIGAR, NM, MD,
//! position and clipping (`bwamem.c: mem_reg2aln`, spec §11).

use crate::extend::{
    cigar_op, gen_cigar, infer_bw, squeeze_terminal_deletion, CigarWorkspace, GapPenalties,
    ScoreMatrix,
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
    query: Vec<u8>,
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
    let lq = qe - qb;
    let lr = (re - rb) as i32;
    let mut w2 = infer_bw(lq, lr, ar.truesc, opt.a, opt.o_del, opt.e_del)
        .max(infer_bw(lq, lr, ar.truesc, opt.a, opt.o_ins, opt.e_ins));
    if w2 > opt.w {
        w2 = w2.min(ar.w);
    }
    let gaps = GapPenalties::from_options(opt);
    let is_rev_region = rb >= l_pac;
    // bwa rejects a window that crosses the strand boundary; regions never do.
    let crosses = rb < l_pac && l_pac < re;
    if !crosses {
        index.get_seq(rb, re, &mut ws.rseq);
    } else {
        ws.rseq.clear();
    }
    ws.query.clear();
    ws.query.extend_from_slice(&query[qb as usize..qe as usize]);
    let mut last_sc = -(1 << 30);
    let mut nm;
    let mut tries = 0;
    loop {
        w2 = w2.min(opt.w << 2);
        let res = if crosses {
            None
        } else {
            gen_cigar(
                &mut ws.cigar,
                &ws.query,
                &ws.rseq,
                is_rev_region,
                mat,
                gaps,
                w2,
                &mut a.cigar,
                &mut a.md,
            )
        };
        let score = res.map_or(0, |r| r.score);
        nm = res.map_or(0, |r| r.nm);
        if score == last_sc || w2 == opt.w << 2 {
            break;
        }
        last_sc = score;
        w2 <<= 1;
        tries += 1;
        if !(tries < 3 && score < ar.truesc - opt.a) {
            break;
        }
    }
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
