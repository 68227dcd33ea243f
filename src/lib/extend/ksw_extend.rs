//! Banded extension of a seed hit (`ksw.c: ksw_extend2`, spec §7.5).
//!
//! The DP grows from a cell with score `h0` (the seed) into the query and
//! the target. Rows are target positions, columns query positions. Besides
//! the best local score it reports the best score that reaches the query end
//! (`gscore`), which the caller uses to decide between clipping and
//! extending to the end.

use super::{max_score, GapPenalties, ScoreMatrix};

/// Parameters of one extension that stay the same across seeds.
#[derive(Debug, Clone, Copy)]
pub struct ExtendParams<'a> {
    /// Substitution matrix, `mat[ref * 5 + query]`.
    pub mat: &'a ScoreMatrix,
    /// Gap penalties.
    pub gaps: GapPenalties,
    /// Band width (`-w`, or its doubling on the retry).
    pub w: i32,
    /// Clipping penalty of this end (`-L`); only widens the band cap.
    pub end_bonus: i32,
    /// Z-dropoff (`-d`); 0 or less disables it.
    pub zdrop: i32,
}

/// What `ksw_extend2` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtendResult {
    /// Best score (at least `h0`).
    pub score: i32,
    /// Query length of the best extension.
    pub qle: i32,
    /// Target length of the best extension.
    pub tle: i32,
    /// Target length of the best extension reaching the query end.
    pub gtle: i32,
    /// Best score reaching the query end, −1 if none.
    pub gscore: i32,
    /// Largest |column − row| at a new best cell.
    pub max_off: i32,
}

/// One DP column: `h` is H of the previous row one column to the left,
/// `e` the deletion score entering this column in the current row.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    h: i32,
    e: i32,
}

/// Reusable buffers of [`extend_banded`]; grows to the longest query seen.
#[derive(Debug, Default, Clone)]
pub struct ExtendWorkspace {
    /// Query profile: `profile[base * qlen + j] = mat[base * 5 + query[j]]`.
    profile: Vec<i8>,
    cells: Vec<Cell>,
}

impl ExtendWorkspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }

    fn prepare(&mut self, query: &[u8], mat: &ScoreMatrix) {
        let qlen = query.len();
        self.profile.clear();
        for base in 0..5 {
            let row = &mat[base * 5..base * 5 + 5];
            self.profile
                .extend(query.iter().map(|&q| row[usize::from(q.min(4))]));
        }
        self.cells.clear();
        self.cells.resize(qlen + 1, Cell::default());
    }
}

/// `(int)((f64)(num) / den + 1.0)` floored at 1: the longest gap worth opening.
fn gap_cap(num: i32, den: i32) -> i32 {
    ((f64::from(num) / f64::from(den) + 1.0) as i32).max(1)
}

/// Extends from a seed scoring `h0` (> 0) along `query` × `target`, exactly
/// as bwa's `ksw_extend2`: best row strictly greater (earliest row wins),
/// column ties to the later column, `gscore` ties to the later row, a zero
/// diagonal is not extended, gaps open from the match score only.
pub fn extend_banded(
    ws: &mut ExtendWorkspace,
    query: &[u8],
    target: &[u8],
    p: &ExtendParams,
    h0: i32,
) -> ExtendResult {
    debug_assert!(h0 > 0, "ksw_extend2 needs h0 > 0");
    let qlen = query.len();
    let ql = qlen as i32;
    let GapPenalties {
        o_del,
        e_del,
        o_ins,
        e_ins,
    } = p.gaps;
    let oe_del = o_del + e_del;
    let oe_ins = o_ins + e_ins;
    ws.prepare(query, p.mat);
    let ExtendWorkspace { profile, cells } = ws;
    let cells = &mut cells[..qlen + 1];

    // First row: a run of insertions from the seed.
    cells[0].h = h0;
    if qlen >= 1 {
        cells[1].h = (h0 - oe_ins).max(0);
        let mut j = 2;
        while j <= qlen && cells[j - 1].h > e_ins {
            cells[j].h = cells[j - 1].h - e_ins;
            j += 1;
        }
    }

    // The band never needs to exceed the longest affordable gap.
    let top = ql * max_score(p.mat) + p.end_bonus;
    let w =
        p.w.min(gap_cap(top - o_ins, e_ins))
            .min(gap_cap(top - o_del, e_del));

    let mut best = h0;
    let (mut best_i, mut best_j) = (-1i32, -1i32);
    let (mut gscore, mut max_ie) = (-1i32, -1i32);
    let mut max_off = 0i32;
    let (mut beg, mut end) = (0i32, ql);

    for (i, &tb) in target.iter().enumerate() {
        let i = i as i32;
        beg = beg.max(i - w);
        end = end.min(i + w + 1).min(ql);
        let mut h1 = if beg == 0 {
            (h0 - (o_del + e_del * (i + 1))).max(0)
        } else {
            0
        };
        let mut f = 0i32;
        let mut m = 0i32;
        if beg < end {
            let (b, e) = (beg as usize, end as usize);
            let base = usize::from(tb.min(4)) * qlen;
            let prof = &profile[base + b..base + e];
            let band = &mut cells[b..e];
            for (cell, &s) in band.iter_mut().zip(prof) {
                let diag = cell.h;
                let e_in = cell.e;
                cell.h = h1;
                let mv = if diag != 0 { diag + i32::from(s) } else { 0 };
                let h = mv.max(e_in).max(f);
                h1 = h;
                m = m.max(h);
                cell.e = (e_in - e_del).max((mv - oe_del).max(0));
                f = (f - e_ins).max((mv - oe_ins).max(0));
            }
        }
        // bwa tests its loop variable, which stays at `beg` when the band is empty.
        let last = beg.max(end);
        let endu = end as usize;
        cells[endu].h = h1;
        cells[endu].e = 0;
        if last == ql && h1 >= gscore {
            gscore = h1;
            max_ie = i;
        }
        if m == 0 {
            break;
        }
        // H(i, j) now sits in cells[j + 1]; ties go to the later column.
        let mut mj = end - 1;
        while cells[mj as usize + 1].h != m {
            mj -= 1;
        }
        if m > best {
            best = m;
            best_i = i;
            best_j = mj;
            max_off = max_off.max((mj - i).abs());
        } else if p.zdrop > 0 {
            let di = i - best_i;
            let dj = mj - best_j;
            let drop = if di > dj {
                best - m - (di - dj) * e_del
            } else {
                best - m - (dj - di) * e_ins
            };
            if drop > p.zdrop {
                break;
            }
        }
        // Shrink the band to the columns still alive.
        let alive = |c: &Cell| c.h != 0 || c.e != 0;
        let mut j = beg;
        while j < end && !alive(&cells[j as usize]) {
            j += 1;
        }
        beg = j;
        let mut j = end;
        while j >= beg && !alive(&cells[j as usize]) {
            j -= 1;
        }
        end = (j + 2).min(ql);
    }
    ExtendResult {
        score: best,
        qle: best_j + 1,
        tle: best_i + 1,
        gtle: max_ie + 1,
        gscore,
        max_off,
    }
}

#[cfg(test)]
mod tests {
    use super::super::naive;
    use super::*;
    use crate::options::MemOptions;
    use proptest::prelude::*;

    fn params(mat: &ScoreMatrix, w: i32, zdrop: i32) -> ExtendParams<'_> {
        ExtendParams {
            mat,
            gaps: GapPenalties::from_options(&MemOptions::default()),
            w,
            end_bonus: 5,
            zdrop,
        }
    }

    #[test]
    fn exact_match_extends_to_both_ends() {
        let mat = MemOptions::default().score_matrix();
        let q = [0u8, 1, 2, 3, 0, 1];
        let mut ws = ExtendWorkspace::new();
        let r = extend_banded(&mut ws, &q, &q, &params(&mat, 100, 100), 10);
        assert_eq!(
            r,
            ExtendResult {
                score: 16,
                qle: 6,
                tle: 6,
                gtle: 6,
                gscore: 16,
                max_off: 0
            }
        );
    }

    #[test]
    fn empty_target_returns_h0() {
        let mat = MemOptions::default().score_matrix();
        let mut ws = ExtendWorkspace::new();
        let r = extend_banded(&mut ws, &[0, 1], &[], &params(&mat, 100, 100), 7);
        assert_eq!(
            (r.score, r.qle, r.tle, r.gtle, r.gscore, r.max_off),
            (7, 0, 0, 0, -1, 0)
        );
    }

    #[test]
    fn mismatch_at_end_is_clipped_but_gscore_reaches_the_end() {
        let mat = MemOptions::default().score_matrix();
        // query ACGTA vs target ACGTC: best is 4 bases; to-end costs the mismatch.
        let q = [0u8, 1, 2, 3, 0];
        let t = [0u8, 1, 2, 3, 1];
        let mut ws = ExtendWorkspace::new();
        let r = extend_banded(&mut ws, &q, &t, &params(&mat, 100, 100), 20);
        assert_eq!((r.score, r.qle, r.tle), (24, 4, 4));
        assert_eq!((r.gscore, r.gtle), (20, 5));
    }

    #[test]
    fn zdrop_stops_after_a_bad_stretch() {
        let mat = MemOptions::default().score_matrix();
        let mut x = 12345u32;
        let q: Vec<u8> = (0..58)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((x >> 16) & 3) as u8
            })
            .collect();
        // 10 matches, 3 mismatches, 45 matches.
        let mut t = q.clone();
        for b in &mut t[10..13] {
            *b = (*b + 2) % 4;
        }
        let mut ws = ExtendWorkspace::new();
        let with = extend_banded(&mut ws, &q, &t, &params(&mat, 100, 5), 10);
        assert_eq!((with.score, with.qle, with.tle), (20, 10, 10));
        let without = extend_banded(&mut ws, &q, &t, &params(&mat, 100, 0), 10);
        assert_eq!((without.score, without.qle, without.tle), (53, 58, 58));
        assert_eq!((without.gscore, without.gtle), (53, 58));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// With a seed score high enough that no cell dies, a band wider
        /// than both sequences and z-drop off, the kernel is plain DP.
        #[test]
        fn wide_band_without_zdrop_equals_naive(
            (q, t) in naive::related_pair(30),
            h0 in 250i32..300,
        ) {
            let mat = MemOptions::default().score_matrix();
            let g = GapPenalties::from_options(&MemOptions::default());
            let mut ws = ExtendWorkspace::new();
            let r = extend_banded(&mut ws, &q, &t, &params(&mat, 1000, 0), h0);
            let (best, gbest) = naive::extension_scores(&q, &t, &mat, g, h0);
            prop_assert_eq!(r.score, best);
            prop_assert_eq!(r.gscore, gbest);
        }

        /// Dead cells, a narrow band and z-drop only ever lose paths.
        #[test]
        fn never_above_naive(
            (q, t) in naive::related_pair(50),
            h0 in 1i32..40,
            w in 1i32..20,
            zdrop in 0i32..30,
        ) {
            let mat = MemOptions::default().score_matrix();
            let g = GapPenalties::from_options(&MemOptions::default());
            let mut ws = ExtendWorkspace::new();
            let r = extend_banded(&mut ws, &q, &t, &params(&mat, w, zdrop), h0);
            let (best, gbest) = naive::extension_scores(&q, &t, &mat, g, h0);
            prop_assert!(r.score <= best);
            prop_assert!(r.gscore <= gbest.max(0));
            prop_assert!(r.qle as usize <= q.len() && r.tle as usize <= t.len());
        }
    }
}
