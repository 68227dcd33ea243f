//! Banded extension of a seed hit (`ksw.c: ksw_extend2`, spec §7.5).
//!
//! The DP grows from a cell with score `h0` (the seed) into the query and
//! the target. Rows are target positions, columns query positions. Besides
//! the best local score it reports the best score that reaches the query end
//! (`gscore`), which the caller uses to decide between clipping and
//! extending to the end.

use super::{max_score, GapPenalties, ScoreMatrix};

#[cfg(target_arch = "x86_64")]
mod packed;

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

/// Reusable buffers of [`extend_banded`]; grows to the longest query seen.
#[derive(Debug, Default, Clone)]
pub struct ExtendWorkspace {
    scalar: ScalarRows,
    #[cfg(target_arch = "x86_64")]
    packed: packed::PackedRows,
}

impl ExtendWorkspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }
}

/// `(int)((f64)(num) / den + 1.0)` floored at 1: the longest gap worth opening.
fn gap_cap(num: i32, den: i32) -> i32 {
    ((f64::from(num) / f64::from(den) + 1.0) as i32).max(1)
}

/// The DP storage and the work of one row, behind the shared row loop of
/// [`run_rows`]. Column `j` holds `h` = H of the previous row at column
/// `j - 1` and `e` = the deletion score entering column `j` (bwa's `eh`).
trait Rows {
    /// Sizes the storage for `query` and fills the first row: a run of
    /// insertions from the seed scoring `h0`.
    fn start(&mut self, query: &[u8], mat: &ScoreMatrix, h0: i32, oe_ins: i32, e_ins: i32);

    /// Computes row `i` (target base `tb`) over columns `beg..end`, starting
    /// from the boundary score `h1`, and stores `{h1, 0}` at column `end`
    /// as bwa does (also for an empty band). Returns the row's best score
    /// `m`, the last column reaching it (meaningful when `m > 0`) and the
    /// score of the last column computed (`h1` itself for an empty band).
    fn row(
        &mut self,
        tb: u8,
        beg: usize,
        end: usize,
        h1: i32,
        gaps: &GapPenalties,
    ) -> (i32, i32, i32);

    /// Whether column `j` still holds a live `h` or `e`.
    fn alive(&self, j: usize) -> bool;
}

/// Extends from a seed scoring `h0` (> 0) along `query` × `target`, exactly
/// as bwa's `ksw_extend2`: best row strictly greater (earliest row wins),
/// column ties to the later column, `gscore` ties to the later row, a zero
/// diagonal is not extended, gaps open from the match score only.
///
/// Runs the packed kernel (16 × i16 with AVX2, else 8 × i16 with SSE2)
/// when the scores fit its lanes (x86_64), else [`extend_banded_scalar`],
/// whose results it matches exactly.
pub fn extend_banded(
    ws: &mut ExtendWorkspace,
    query: &[u8],
    target: &[u8],
    p: &ExtendParams,
    h0: i32,
) -> ExtendResult {
    #[cfg(target_arch = "x86_64")]
    if packed::fits(query.len(), p, h0) {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, as checked just above.
            return unsafe { packed::extend_avx2(&mut ws.packed, query, target, p, h0) };
        }
        // SAFETY: SSE2 is part of the x86_64 baseline.
        return unsafe { packed::extend_sse2(&mut ws.packed, query, target, p, h0) };
    }
    extend_banded_scalar(ws, query, target, p, h0)
}

/// [`extend_banded`] one cell at a time in `i32`: the reference the packed
/// kernel is tested against, and the path for scores past `i16`.
pub fn extend_banded_scalar(
    ws: &mut ExtendWorkspace,
    query: &[u8],
    target: &[u8],
    p: &ExtendParams,
    h0: i32,
) -> ExtendResult {
    run_rows(&mut ws.scalar, query, target, p, h0)
}

/// The row loop of `ksw_extend2`: band limits, the best cell, `gscore`,
/// z-drop and the shrinking of the band to live columns.
#[inline(always)]
fn run_rows<R: Rows>(
    rows: &mut R,
    query: &[u8],
    target: &[u8],
    p: &ExtendParams,
    h0: i32,
) -> ExtendResult {
    debug_assert!(h0 > 0, "ksw_extend2 needs h0 > 0");
    let ql = query.len() as i32;
    let g = p.gaps;
    rows.start(query, p.mat, h0, g.o_ins + g.e_ins, g.e_ins);

    // The band never needs to exceed the longest affordable gap.
    let top = ql * max_score(p.mat) + p.end_bonus;
    let w =
        p.w.min(gap_cap(top - g.o_ins, g.e_ins))
            .min(gap_cap(top - g.o_del, g.e_del));

    let mut best = h0;
    let (mut best_i, mut best_j) = (-1i32, -1i32);
    let (mut gscore, mut max_ie) = (-1i32, -1i32);
    let mut max_off = 0i32;
    let (mut beg, mut end) = (0i32, ql);

    for (i, &tb) in target.iter().enumerate() {
        let i = i as i32;
        beg = beg.max(i - w);
        end = end.min(i + w + 1).min(ql);
        let h1 = if beg == 0 {
            (h0 - (g.o_del + g.e_del * (i + 1))).max(0)
        } else {
            0
        };
        let (m, mj, h1) = if beg < end {
            rows.row(tb, beg as usize, end as usize, h1, &g)
        } else {
            rows.row(tb, end as usize, end as usize, h1, &g)
        };
        // bwa tests its loop variable, which stays at `beg` when the band is empty.
        if beg.max(end) == ql && h1 >= gscore {
            gscore = h1;
            max_ie = i;
        }
        if m == 0 {
            break;
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
                best - m - (di - dj) * g.e_del
            } else {
                best - m - (dj - di) * g.e_ins
            };
            if drop > p.zdrop {
                break;
            }
        }
        // Shrink the band to the columns still alive.
        let mut j = beg;
        while j < end && !rows.alive(j as usize) {
            j += 1;
        }
        beg = j;
        let mut j = end;
        while j >= beg && !rows.alive(j as usize) {
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

/// The first row's `h` (bwa's `eh[j].h` before row 0): the seed score at
/// column 0, then insertions from it while they stay positive; `set(j, h)`
/// is called for each such column.
fn first_row(qlen: usize, h0: i32, oe_ins: i32, e_ins: i32, mut set: impl FnMut(usize, i32)) {
    set(0, h0);
    if qlen == 0 {
        return;
    }
    let mut h = (h0 - oe_ins).max(0);
    set(1, h);
    for j in 2..=qlen {
        if h <= e_ins {
            break;
        }
        h -= e_ins;
        set(j, h);
    }
}

/// One DP column of the scalar kernel (see [`Rows`]).
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    h: i32,
    e: i32,
}

/// Storage of the scalar kernel.
#[derive(Debug, Default, Clone)]
struct ScalarRows {
    /// Query profile: `profile[base * qlen + j] = mat[base * 5 + query[j]]`.
    profile: Vec<i8>,
    cells: Vec<Cell>,
    qlen: usize,
}

impl Rows for ScalarRows {
    fn start(&mut self, query: &[u8], mat: &ScoreMatrix, h0: i32, oe_ins: i32, e_ins: i32) {
        let qlen = query.len();
        self.qlen = qlen;
        self.profile.clear();
        for base in 0..5 {
            let row = &mat[base * 5..base * 5 + 5];
            self.profile
                .extend(query.iter().map(|&q| row[usize::from(q.min(4))]));
        }
        self.cells.clear();
        self.cells.resize(qlen + 1, Cell::default());
        first_row(qlen, h0, oe_ins, e_ins, |j, h| self.cells[j].h = h);
    }

    #[inline(always)]
    fn row(
        &mut self,
        tb: u8,
        beg: usize,
        end: usize,
        mut h1: i32,
        g: &GapPenalties,
    ) -> (i32, i32, i32) {
        let oe_del = g.o_del + g.e_del;
        let oe_ins = g.o_ins + g.e_ins;
        let (mut f, mut m) = (0i32, 0i32);
        let base = usize::from(tb.min(4)) * self.qlen;
        let prof = &self.profile[base + beg..base + end];
        for (cell, &s) in self.cells[beg..end].iter_mut().zip(prof) {
            let diag = cell.h;
            let e_in = cell.e;
            cell.h = h1;
            let mv = if diag != 0 { diag + i32::from(s) } else { 0 };
            let h = mv.max(e_in).max(f);
            h1 = h;
            m = m.max(h);
            cell.e = (e_in - g.e_del).max((mv - oe_del).max(0));
            f = (f - g.e_ins).max((mv - oe_ins).max(0));
        }
        self.cells[end] = Cell { h: h1, e: 0 };
        // H(i, j) now sits in cells[j + 1]; ties go to the later column.
        let mut mj = end as i32 - 1;
        if m > 0 {
            while self.cells[mj as usize + 1].h != m {
                mj -= 1;
            }
        }
        (m, mj, h1)
    }

    #[inline(always)]
    fn alive(&self, j: usize) -> bool {
        let c = &self.cells[j];
        c.h != 0 || c.e != 0
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

    /// A query and a target that share most of their bases (substitutions,
    /// insertions and deletions at random), or two unrelated sequences.
    fn extension_case(max_len: usize) -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
        prop_oneof![
            3 => naive::related_pair(max_len),
            1 => (
                prop::collection::vec(0u8..5, 0..max_len),
                prop::collection::vec(0u8..5, 0..max_len),
            ),
        ]
    }

    /// Compares the dispatched kernel (packed where it fits) with the
    /// scalar one, field by field.
    fn same_as_scalar(q: &[u8], t: &[u8], p: &ExtendParams, h0: i32) -> Result<(), TestCaseError> {
        let mut ws = ExtendWorkspace::new();
        let fast = extend_banded(&mut ws, q, t, p, h0);
        let slow = extend_banded_scalar(&mut ExtendWorkspace::new(), q, t, p, h0);
        prop_assert_eq!(
            fast,
            slow,
            "q={:?} t={:?} h0={} w={} zdrop={}",
            q,
            t,
            h0,
            p.w,
            p.zdrop
        );
        // A workspace used before gives the same answer.
        prop_assert_eq!(extend_banded(&mut ws, q, t, p, h0), slow);
        // Both register widths, whichever the dispatch picked.
        #[cfg(target_arch = "x86_64")]
        if packed::fits(q.len(), p, h0) {
            // SAFETY: SSE2 is baseline; the scores fit, as checked.
            let sse2 = unsafe { packed::extend_sse2(&mut ws.packed, q, t, p, h0) };
            prop_assert_eq!(sse2, slow, "SSE2");
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 checked just above.
                let avx2 = unsafe { packed::extend_avx2(&mut ws.packed, q, t, p, h0) };
                prop_assert_eq!(avx2, slow, "AVX2");
            }
        }
        Ok(())
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn packed_kernel_used_for_read_sized_scores_only() {
        let mat = MemOptions::default().score_matrix();
        let p = params(&mat, 100, 100);
        assert!(packed::fits(150, &p, 150));
        assert!(packed::fits(10_000, &p, 100));
        assert!(!packed::fits(40_000, &p, 100));
        assert!(!packed::fits(10, &p, 40_000));
    }

    #[test]
    fn long_read_past_the_lanes_matches_scalar() {
        // 33,000 matching bases score past i16: the scalar path runs.
        let mat = MemOptions::default().score_matrix();
        let q: Vec<u8> = (0..33_000u32)
            .map(|i| ((i * 7 + i / 3) % 4) as u8)
            .collect();
        let p = params(&mat, 100, 100);
        let mut ws = ExtendWorkspace::new();
        let r = extend_banded(&mut ws, &q, &q, &p, 50);
        assert_eq!(r.score, 50 + 33_000);
        assert_eq!(r, extend_banded_scalar(&mut ws, &q, &q, &p, 50));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]
        /// The packed kernel gives the scalar kernel's results exactly: every
        /// band, z-drop, seed score and penalty set (including bwa's
        /// defaults and asymmetric gaps).
        #[test]
        fn packed_equals_scalar(
            (q, t) in extension_case(260),
            h0 in prop_oneof![1i32..20, 20i32..200, 200i32..2000],
            w in prop_oneof![1i32..8, 8i32..120],
            zdrop in prop_oneof![Just(0i32), 1i32..40, Just(100)],
            end_bonus in 0i32..10,
            (a, b) in (1i8..4, 1i8..8),
            (o_del, e_del, o_ins, e_ins) in (0i32..12, 0i32..4, 0i32..12, 0i32..4),
        ) {
            let mut mat = [0i8; 25];
            for r in 0..5 {
                for c in 0..5 {
                    mat[r * 5 + c] = if r == 4 || c == 4 { -1 } else if r == c { a } else { -b };
                }
            }
            let p = ExtendParams {
                mat: &mat,
                gaps: GapPenalties { o_del, e_del, o_ins, e_ins },
                w,
                end_bonus,
                zdrop,
            };
            same_as_scalar(&q, &t, &p, h0)?;
        }

        /// bwa's default scoring on read-length extensions.
        #[test]
        fn packed_equals_scalar_with_defaults(
            (q, t) in naive::related_pair(160),
            h0 in 1i32..160,
            w in prop_oneof![Just(100i32), Just(200), 1i32..30],
        ) {
            let mat = MemOptions::default().score_matrix();
            same_as_scalar(&q, &t, &params(&mat, w, 100), h0)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// With a seed score high enough that no cell dies, a band wider
        /// than both sequences and z-drop off, the kernel is plain DP.
        /// (Found flaky: the default end bonus caps the band below a long
        /// deletion against a short query.)
        #[test]
        fn wide_band_without_zdrop_equals_naive(
            (q, t) in naive::related_pair(30),
            h0 in 250i32..300,
        ) {
            let mat = MemOptions::default().score_matrix();
            let g = GapPenalties::from_options(&MemOptions::default());
            let mut ws = ExtendWorkspace::new();
            // The band is capped at the longest gap the query's best score
            // (plus the end bonus) could pay for; a large bonus lifts the cap.
            let p = ExtendParams { end_bonus: 1000, ..params(&mat, 1000, 0) };
            let r = extend_banded(&mut ws, &q, &t, &p, h0);
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
