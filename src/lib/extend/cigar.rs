//! Final CIGAR, NM and MD of a region (`bwa.c: bwa_gen_cigar2`,
//! `bwamem.c: infer_bw`, spec §11.1 and §11.3).

use std::fmt::Write;

use super::ksw_global::{global_banded, GlobalWorkspace};
use super::{cigar_op, GapPenalties, ScoreMatrix};

/// The band `mem_reg2aln` starts from for a region of query length `l1`,
/// reference length `l2` and score `score`, given one gap type's open `q`
/// and extension `r`: 0 when an equal-length alignment cannot afford two
/// gaps, else enough for the gaps the lost score could pay for.
pub fn infer_bw(l1: i32, l2: i32, score: i32, a: i32, q: i32, r: i32) -> i32 {
    if l1 == l2 && l1 * a - score < (q + r - a) << 1 {
        return 0;
    }
    let w = (f64::from(l1.min(l2) * a - score - q) / f64::from(r) + 2.0) as i32;
    w.max((l1 - l2).abs())
}

/// Score and edit distance of a generated CIGAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CigarResult {
    /// Global alignment score of the segment.
    pub score: i32,
    /// Mismatches plus inserted and deleted bases (leading and trailing
    /// deletions excluded).
    pub nm: i32,
}

/// Reusable buffers of [`gen_cigar`].
#[derive(Debug, Default, Clone)]
pub struct CigarWorkspace {
    query: Vec<u8>,
    rseq: Vec<u8>,
    global: GlobalWorkspace,
}

impl CigarWorkspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }
}

/// `(int)((f64)(num) / den + 1.0)`.
fn gap_len(num: i32, den: i32) -> i32 {
    (f64::from(num) / f64::from(den) + 1.0) as i32
}

/// Aligns a query segment to its reference segment end to end, as bwa's
/// `bwa_gen_cigar2`, writing the CIGAR (`len << 4 | op`) into `cigar` and
/// the MD string into `md` (both cleared first).
///
/// `rseq` is the reference as bwa fetches it (`bns_get_seq`: the reverse
/// complement for a region on the reverse strand, `is_rev`). For such a
/// region both sequences are reversed before the DP, so that indels land at
/// the leftmost position in forward-genome coordinates; the CIGAR and MD are
/// in that orientation. `w` is the band asked for (0 with equal lengths
/// means ungapped). Returns `None`, with empty outputs, when either segment
/// is empty (bwa's rejection); the caller checks that `[rb, re)` does not
/// cross the forward/reverse boundary.
#[allow(clippy::too_many_arguments)]
pub fn gen_cigar(
    ws: &mut CigarWorkspace,
    query: &[u8],
    rseq: &[u8],
    is_rev: bool,
    mat: &ScoreMatrix,
    gaps: GapPenalties,
    w: i32,
    cigar: &mut Vec<u32>,
    md: &mut String,
) -> Option<CigarResult> {
    cigar.clear();
    md.clear();
    if query.is_empty() || rseq.is_empty() {
        return None;
    }
    let CigarWorkspace {
        query: qbuf,
        rseq: rbuf,
        global,
    } = ws;
    qbuf.clear();
    rbuf.clear();
    if is_rev {
        qbuf.extend(query.iter().rev());
        rbuf.extend(rseq.iter().rev());
    } else {
        qbuf.extend_from_slice(query);
        rbuf.extend_from_slice(rseq);
    }
    let (q, r) = (&qbuf[..], &rbuf[..]);
    let lq = q.len() as i32;
    let lr = r.len() as i32;
    let score = if lq == lr && w == 0 {
        cigar.push((lq as u32) << 4 | cigar_op::M);
        q.iter()
            .zip(r)
            .map(|(&qb, &rb)| i32::from(mat[usize::from(rb.min(4)) * 5 + usize::from(qb.min(4))]))
            .sum()
    } else {
        let a = i32::from(mat[0]);
        let half = ((lq + 1) >> 1) * a;
        let max_gap = gap_len(half - gaps.o_ins, gaps.e_ins)
            .max(gap_len(half - gaps.o_del, gaps.e_del))
            .max(1);
        let diff = (lr - lq).abs();
        let band = ((max_gap + diff + 1) >> 1).min(w).max(diff + 3);
        global_banded(global, q, r, mat, gaps, band, cigar)
    };
    let nm = write_md(cigar, q, r, is_rev, md);
    Some(CigarResult { score, nm })
}

/// What `mem_reg2aln` knows about a region when it picks the CIGAR band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionBand {
    /// Match score (`-A`).
    pub a: i32,
    /// Band width option (`-w`).
    pub opt_w: i32,
    /// Band the region's extension used (`mem_alnreg_t.w`; 0 for rescued).
    pub reg_w: i32,
    /// Score of the region's chosen end points (`truesc`; 0 for rescued).
    pub truesc: i32,
}

/// [`gen_cigar`] with `mem_reg2aln`'s band choice and retries (spec §11.1):
/// start from the larger [`infer_bw`] of deletions and insertions (capped
/// by the region's band when above `-w`), then double the band, at most
/// three runs and never past `4·w`, while the score stays below
/// `truesc − a` and keeps changing.
#[allow(clippy::too_many_arguments)]
pub fn gen_cigar_for_region(
    ws: &mut CigarWorkspace,
    query: &[u8],
    rseq: &[u8],
    is_rev: bool,
    mat: &ScoreMatrix,
    gaps: GapPenalties,
    band: RegionBand,
    cigar: &mut Vec<u32>,
    md: &mut String,
) -> Option<CigarResult> {
    let (lq, lr) = (query.len() as i32, rseq.len() as i32);
    let RegionBand {
        a,
        opt_w,
        reg_w,
        truesc,
    } = band;
    let mut w2 = infer_bw(lq, lr, truesc, a, gaps.o_del, gaps.e_del)
        .max(infer_bw(lq, lr, truesc, a, gaps.o_ins, gaps.e_ins));
    if w2 > opt_w {
        w2 = w2.min(reg_w);
    }
    let w_max = opt_w << 2;
    let mut last = -(1 << 30);
    let mut runs = 0;
    loop {
        w2 = w2.min(w_max);
        let res = gen_cigar(ws, query, rseq, is_rev, mat, gaps, w2, cigar, md)?;
        if res.score == last || w2 == w_max {
            return Some(res);
        }
        last = res.score;
        w2 <<= 1;
        runs += 1;
        if runs >= 3 || res.score >= truesc - a {
            return Some(res);
        }
    }
}

/// Walks the CIGAR over the (DP-orientation) sequences, writes MD and
/// returns NM. Leading and trailing deletions count for neither.
fn write_md(cigar: &[u32], q: &[u8], r: &[u8], is_rev: bool, md: &mut String) -> i32 {
    let letters: &[u8; 5] = if is_rev { b"TGCAN" } else { b"ACGTN" };
    let letter = |b: u8| char::from(letters[usize::from(b.min(4))]);
    let (mut x, mut y, mut run) = (0usize, 0usize, 0u32);
    let (mut mismatches, mut gap_bases) = (0i32, 0i32);
    let n = cigar.len();
    for (k, &c) in cigar.iter().enumerate() {
        let len = (c >> 4) as usize;
        match c & 0xf {
            cigar_op::M => {
                for (&qb, &rb) in q[x..x + len].iter().zip(&r[y..y + len]) {
                    if qb != rb {
                        let _ = write!(md, "{run}");
                        md.push(letter(rb));
                        mismatches += 1;
                        run = 0;
                    } else {
                        run += 1;
                    }
                }
                x += len;
                y += len;
            }
            cigar_op::D => {
                if k > 0 && k + 1 < n {
                    let _ = write!(md, "{run}^");
                    md.extend(r[y..y + len].iter().map(|&b| letter(b)));
                    run = 0;
                    gap_bases += len as i32;
                }
                y += len;
            }
            cigar_op::I => {
                x += len;
                gap_bases += len as i32;
            }
            _ => {}
        }
    }
    let _ = write!(md, "{run}");
    mismatches + gap_bases
}

/// Removes one terminal deletion as `mem_reg2aln` does: a leading one if
/// present (returning its length, to add to the position), else a trailing
/// one (returning 0). MD needs no change: it never covers terminal
/// deletions.
pub fn squeeze_terminal_deletion(cigar: &mut Vec<u32>) -> u32 {
    match (cigar.first(), cigar.last()) {
        (Some(&c), _) if c & 0xf == cigar_op::D => {
            cigar.remove(0);
            c >> 4
        }
        (_, Some(&c)) if c & 0xf == cigar_op::D => {
            cigar.pop();
            0
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::super::naive;
    use super::*;
    use crate::options::MemOptions;
    use proptest::prelude::*;

    fn defaults() -> (ScoreMatrix, GapPenalties) {
        let o = MemOptions::default();
        (o.score_matrix(), GapPenalties::from_options(&o))
    }

    fn run(q: &[u8], r: &[u8], is_rev: bool, w: i32) -> (CigarResult, Vec<u32>, String) {
        let (mat, g) = defaults();
        let mut ws = CigarWorkspace::new();
        let (mut c, mut md) = (Vec::new(), String::new());
        let res = gen_cigar(&mut ws, q, r, is_rev, &mat, g, w, &mut c, &mut md).unwrap();
        (res, c, md)
    }

    #[test]
    fn infer_bw_matches_hand_values() {
        // Perfect 151-base match: no gaps needed.
        assert_eq!(infer_bw(151, 151, 151, 1, 6, 1), 0);
        // Equal lengths, 20 points lost: (151 - 131 - 6) / 1 + 2 = 16.
        assert_eq!(infer_bw(151, 151, 131, 1, 6, 1), 16);
        // Unequal lengths: at least the length difference.
        assert_eq!(infer_bw(100, 110, 100, 1, 6, 1), 10);
    }

    #[test]
    fn ungapped_with_mismatches_and_md() {
        // query ACGTN vs ref ACTTA: mismatch at 2 (ref T), N vs A at 4.
        let (res, c, md) = run(&[0, 1, 2, 3, 4], &[0, 1, 3, 3, 0], false, 0);
        assert_eq!(c, vec![5 << 4]);
        assert_eq!(
            res,
            CigarResult {
                score: 1 + 1 - 4 + 1 - 1,
                nm: 2
            }
        );
        assert_eq!(md, "2T1A0");
    }

    #[test]
    fn deletion_in_md_and_leftmost() {
        // ref ACAAAG, query ACAAG: 2M1D3M, MD 2^A3.
        let (res, c, md) = run(&[0, 1, 0, 0, 2], &[0, 1, 0, 0, 0, 2], false, 10);
        assert_eq!(c, vec![2 << 4, 1 << 4 | 2, 3 << 4]);
        assert_eq!(md, "2^A3");
        assert_eq!(
            res,
            CigarResult {
                score: 5 - 7,
                nm: 1
            }
        );
    }

    #[test]
    fn reverse_strand_is_aligned_reversed_and_printed_complemented() {
        // bwa's rseq for the reverse strand is already the reverse complement.
        // Reversed: query GAACA... so DP runs on reversed sequences.
        let q = [2u8, 0, 0, 1, 0];
        let r = [2u8, 0, 0, 0, 1, 0];
        let (res, c, md) = run(&q, &r, true, 10);
        // Reversed: q = ACAAG, r = ACAAAG, as in the forward test.
        assert_eq!(c, vec![2 << 4, 1 << 4 | 2, 3 << 4]);
        // Deleted base 0 (A) prints as its complement T.
        assert_eq!(md, "2^T3");
        assert_eq!(res.nm, 1);
    }

    #[test]
    fn region_band_starts_from_infer_bw_and_rescued_regions_go_ungapped() {
        let (mat, g) = defaults();
        // 60 matching bases around a 12-base deletion: truesc = 60 - 18 = 42.
        let left: Vec<u8> = (0..30).map(|i| ((i * 5 + i / 3) % 4) as u8).collect();
        let right: Vec<u8> = (0..30).map(|i| ((i * 3 + i / 4 + 1) % 4) as u8).collect();
        let mut r = left.clone();
        r.extend([2u8, 2, 1, 3, 0, 1, 1, 2, 3, 0, 0, 2]);
        r.extend(&right);
        let mut q = left;
        q.extend(&right);
        let band = RegionBand {
            a: 1,
            opt_w: 100,
            reg_w: 100,
            truesc: 42,
        };
        let mut ws = CigarWorkspace::new();
        let (mut c, mut md) = (Vec::new(), String::new());
        let res =
            gen_cigar_for_region(&mut ws, &q, &r, false, &mat, g, band, &mut c, &mut md).unwrap();
        assert_eq!(res, CigarResult { score: 42, nm: 12 });
        // The deleted run ends with the base before it, so it shifts left by one.
        assert_eq!(c, vec![29 << 4, 12 << 4 | 2, 31 << 4]);
        // A rescued region (w = 0, truesc = 0) of equal lengths goes ungapped.
        let band0 = RegionBand {
            reg_w: 0,
            truesc: 0,
            ..band
        };
        let qq: Vec<u8> = (0..120).map(|i| (i % 4) as u8).collect();
        let res = gen_cigar_for_region(&mut ws, &qq, &qq, false, &mat, g, band0, &mut c, &mut md)
            .unwrap();
        assert_eq!((res.score, c.as_slice()), (120, &[120u32 << 4][..]));
    }

    #[test]
    fn squeezes_one_terminal_deletion_leading_first() {
        let mut c = vec![2 << 4 | 2, 5 << 4, 1 << 4 | 2];
        assert_eq!(squeeze_terminal_deletion(&mut c), 2);
        assert_eq!(c, vec![5 << 4, 1 << 4 | 2]);
        assert_eq!(squeeze_terminal_deletion(&mut c), 0);
        assert_eq!(c, vec![5 << 4]);
        assert_eq!(squeeze_terminal_deletion(&mut c), 0);
        assert_eq!(c, vec![5 << 4]);
    }

    #[test]
    fn empty_segment_is_rejected() {
        let (mat, g) = defaults();
        let mut ws = CigarWorkspace::new();
        let (mut c, mut md) = (vec![1], String::from("x"));
        assert!(gen_cigar(&mut ws, &[], &[0], false, &mat, g, 5, &mut c, &mut md).is_none());
        assert!(c.is_empty() && md.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn cigar_rescores_and_nm_counts_edits(
            (q, r) in naive::related_pair(80),
            is_rev in any::<bool>(),
            w in 0i32..120,
        ) {
            let (mat, g) = defaults();
            let (res, c, md) = run(&q, &r, is_rev, w);
            let (qq, rr): (Vec<u8>, Vec<u8>) = if is_rev {
                (q.iter().rev().copied().collect(), r.iter().rev().copied().collect())
            } else {
                (q.clone(), r.clone())
            };
            prop_assert_eq!(naive::cigar_score(&c, &qq, &rr, &mat, g), Some(res.score));
            // MD's bases and runs cover the reference minus terminal deletions.
            let md_len: usize = md
                .split(|ch: char| !ch.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<usize>().unwrap())
                .sum::<usize>()
                + md.chars().filter(|ch| ch.is_ascii_alphabetic()).count();
            let terminal_del: usize = [c.first(), c.last()]
                .iter()
                .flatten()
                .filter(|&&&op| op & 0xf == 2)
                .map(|&&op| (op >> 4) as usize)
                .sum();
            let terminal_del = if c.len() == 1 { terminal_del / 2 } else { terminal_del };
            prop_assert_eq!(md_len + terminal_del, r.len());
            prop_assert!(res.nm >= 0);
        }
    }
}
