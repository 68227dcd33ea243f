//! Banded global alignment with affine gaps and traceback (`ksw.c:
//! ksw_global2`, spec §11.4).
//!
//! Cells outside `|row − column| ≤ w` are −∞. Each computed cell records
//! where its H came from (match, deletion, insertion, with that priority on
//! ties) and whether the deletion and insertion scores leaving it extend an
//! open gap (only when strictly better than opening a new one).

use super::{cigar_op, push_op, GapPenalties, ScoreMatrix};

/// bwa's −∞: low enough to lose every comparison, high enough not to wrap.
const NEG_INF: i32 = -0x4000_0000;

/// Bits of a traceback cell.
const FROM_DEL: u8 = 1;
const FROM_INS: u8 = 2;
const DEL_EXTENDS: u8 = 1 << 2;
const INS_EXTENDS: u8 = 2 << 4;

/// Reusable buffers of [`global_banded`].
#[derive(Debug, Default, Clone)]
pub struct GlobalWorkspace {
    profile: Vec<i8>,
    /// `(H of the previous row one column left, E entering this column)`.
    h: Vec<i32>,
    e: Vec<i32>,
    /// Traceback cells, `n_col` per target row.
    z: Vec<u8>,
}

impl GlobalWorkspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Globally aligns `query` to `target` within band `w`, as bwa's
/// `ksw_global2`, and returns the score. The CIGAR (bwa's `len << 4 | op`)
/// replaces the contents of `cigar`; it is empty when either sequence is
/// empty and the other is too.
pub fn global_banded(
    ws: &mut GlobalWorkspace,
    query: &[u8],
    target: &[u8],
    mat: &ScoreMatrix,
    gaps: GapPenalties,
    w: i32,
    cigar: &mut Vec<u32>,
) -> i32 {
    cigar.clear();
    let qlen = query.len();
    let tlen = target.len();
    let w = w.max(0) as usize;
    let GapPenalties {
        o_del,
        e_del,
        o_ins,
        e_ins,
    } = gaps;
    let oe_del = o_del + e_del;
    let oe_ins = o_ins + e_ins;
    let n_col = qlen.min(w.saturating_mul(2).saturating_add(1));

    let GlobalWorkspace { profile, h, e, z } = ws;
    profile.clear();
    for base in 0..5 {
        let row = &mat[base * 5..base * 5 + 5];
        profile.extend(query.iter().map(|&q| row[usize::from(q.min(4))]));
    }
    h.clear();
    h.resize(qlen + 1, NEG_INF);
    e.clear();
    e.resize(qlen + 1, NEG_INF);
    z.clear();
    z.resize(n_col * tlen, 0);

    // First row: a leading insertion, inside the band only.
    h[0] = 0;
    for (j, hj) in h.iter_mut().enumerate().take(qlen.min(w) + 1).skip(1) {
        *hj = -(o_ins + e_ins * j as i32);
    }

    for (i, &tb) in target.iter().enumerate() {
        let beg = i.saturating_sub(w);
        let end = (i + w + 1).min(qlen);
        let mut f = NEG_INF;
        let mut h1 = if beg == 0 {
            -(o_del + e_del * (i as i32 + 1))
        } else {
            NEG_INF
        };
        if beg < end {
            let base = usize::from(tb.min(4)) * qlen;
            let prof = &profile[base + beg..base + end];
            let zi = &mut z[i * n_col..i * n_col + (end - beg)];
            let hs = &mut h[beg..end];
            let es = &mut e[beg..end];
            for (((hc, ec), &s), zc) in hs.iter_mut().zip(es.iter_mut()).zip(prof).zip(zi) {
                let m = *hc + i32::from(s);
                let e_in = *ec;
                *hc = h1;
                let (mut hv, mut d) = if m >= e_in { (m, 0) } else { (e_in, FROM_DEL) };
                if hv < f {
                    hv = f;
                    d = FROM_INS;
                }
                h1 = hv;
                let open = m - oe_del;
                let ext = e_in - e_del;
                if ext > open {
                    d |= DEL_EXTENDS;
                    *ec = ext;
                } else {
                    *ec = open;
                }
                let open = m - oe_ins;
                let ext = f - e_ins;
                if ext > open {
                    d |= INS_EXTENDS;
                    f = ext;
                } else {
                    f = open;
                }
                *zc = d;
            }
        }
        h[end] = h1;
        e[end] = NEG_INF;
    }
    let score = h[qlen];

    // Traceback from the last cell of the last row's band.
    let mut i = tlen as isize - 1;
    let mut k = (tlen + w).min(qlen) as isize - 1;
    let mut state = 0u8;
    while i >= 0 && k >= 0 {
        let row_beg = (i as usize).saturating_sub(w);
        let cell = (k as usize)
            .checked_sub(row_beg)
            .filter(|&c| c < n_col)
            .and_then(|c| z.get(i as usize * n_col + c))
            .copied()
            .unwrap_or(0);
        debug_assert!((k as usize) >= row_beg && (k as usize) - row_beg < n_col);
        state = (cell >> (state << 1)) & 3;
        match state {
            0 => {
                push_op(cigar, cigar_op::M, 1);
                i -= 1;
                k -= 1;
            }
            1 => {
                push_op(cigar, cigar_op::D, 1);
                i -= 1;
            }
            _ => {
                push_op(cigar, cigar_op::I, 1);
                k -= 1;
            }
        }
    }
    if i >= 0 {
        push_op(cigar, cigar_op::D, (i + 1) as u32);
    }
    if k >= 0 {
        push_op(cigar, cigar_op::I, (k + 1) as u32);
    }
    cigar.reverse();
    score
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

    fn run(q: &[u8], t: &[u8], w: i32) -> (i32, Vec<u32>) {
        let (mat, g) = defaults();
        let mut ws = GlobalWorkspace::new();
        let mut cigar = Vec::new();
        let s = global_banded(&mut ws, q, t, &mat, g, w, &mut cigar);
        (s, cigar)
    }

    #[test]
    fn identical_sequences_give_all_match() {
        let q = [0u8, 1, 2, 3, 3, 2];
        assert_eq!(run(&q, &q, 3), (6, vec![6 << 4]));
    }

    #[test]
    fn homopolymer_deletion_is_placed_leftmost() {
        // ref ACAAAG, query ACAAG: the deleted A goes to the first A of the run.
        let t = [0u8, 1, 0, 0, 0, 2];
        let q = [0u8, 1, 0, 0, 2];
        let (s, c) = run(&q, &t, 5);
        assert_eq!(s, 5 - 7);
        assert_eq!(c, vec![2 << 4, 1 << 4 | 2, 3 << 4]);
    }

    #[test]
    fn homopolymer_insertion_is_placed_leftmost() {
        let q = [0u8, 1, 0, 0, 0, 2];
        let t = [0u8, 1, 0, 0, 2];
        let (s, c) = run(&q, &t, 5);
        assert_eq!(s, 5 - 7);
        assert_eq!(c, vec![2 << 4, 1 << 4 | 1, 3 << 4]);
    }

    #[test]
    fn empty_target_is_one_insertion() {
        let (s, c) = run(&[0, 1, 2], &[], 5);
        assert_eq!((s, c), (-9, vec![3 << 4 | 1]));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn wide_band_equals_naive_and_cigar_rescores(
            q in proptest::collection::vec(0u8..5, 1..40),
            t in proptest::collection::vec(0u8..5, 1..40),
        ) {
            let (mat, g) = defaults();
            let (s, c) = run(&q, &t, 64);
            prop_assert_eq!(s, naive::global_score(&q, &t, &mat, g));
            prop_assert_eq!(naive::cigar_score(&c, &q, &t, &mat, g), Some(s));
        }

        #[test]
        fn narrow_band_cigar_still_rescores(
            (q, t) in naive::related_pair(60),
            w in 0i32..8,
        ) {
            let (mat, g) = defaults();
            let w = w + (q.len() as i32 - t.len() as i32).abs();
            let (s, c) = run(&q, &t, w);
            prop_assert!(s <= naive::global_score(&q, &t, &mat, g));
            prop_assert_eq!(naive::cigar_score(&c, &q, &t, &mat, g), Some(s));
        }
    }
}
