//! Plain full-matrix Gotoh alignments for the property tests: no band, no
//! tie rules, no shortcuts. Gaps open from H (textbook) for local
//! alignment, as bwa's striped `ksw_align2` does; for global alignment and
//! extension they open from the match state only, as in `ksw_global2` and
//! `ksw_extend2`, so an insertion is never directly followed by a deletion.

use super::{GapPenalties, ScoreMatrix};
use proptest::prelude::*;

const NEG: i32 = i32::MIN / 4;

fn sc(mat: &ScoreMatrix, t: u8, q: u8) -> i32 {
    i32::from(mat[usize::from(t) * 5 + usize::from(q)])
}

/// Full DP of an alignment that starts in the corner with score `start`;
/// `local` floors every cell at 0 (Smith-Waterman) and lets gaps open from
/// H; otherwise gaps open only from a match cell (or the start corner).
/// Returns H as rows of `q.len() + 1` columns, row 0 and column 0 being
/// the borders.
fn gotoh(
    q: &[u8],
    t: &[u8],
    mat: &ScoreMatrix,
    g: GapPenalties,
    start: i32,
    local: bool,
) -> Vec<Vec<i32>> {
    let (n, m) = (t.len(), q.len());
    let floor = if local { 0 } else { NEG };
    let mut h = vec![vec![NEG; m + 1]; n + 1];
    let mut e = vec![vec![NEG; m + 1]; n + 1];
    let mut f = vec![vec![NEG; m + 1]; n + 1];
    // The cells gaps may open from: H for local, the match state otherwise.
    let mut open = vec![vec![NEG; m + 1]; n + 1];
    h[0][0] = start;
    open[0][0] = start;
    for j in 1..=m {
        f[0][j] = start - g.o_ins - g.e_ins * j as i32;
        h[0][j] = f[0][j].max(floor);
    }
    for i in 1..=n {
        e[i][0] = start - g.o_del - g.e_del * i as i32;
        h[i][0] = e[i][0].max(floor);
        for j in 1..=m {
            e[i][j] = (e[i - 1][j] - g.e_del).max(open[i - 1][j] - g.o_del - g.e_del);
            f[i][j] = (f[i][j - 1] - g.e_ins).max(open[i][j - 1] - g.o_ins - g.e_ins);
            let diag = h[i - 1][j - 1] + sc(mat, t[i - 1], q[j - 1]);
            h[i][j] = diag.max(e[i][j]).max(f[i][j]).max(floor);
            open[i][j] = if local { h[i][j] } else { diag };
        }
    }
    h
}

/// Best score of an extension from a seed scoring `h0` (the seed's cell
/// included), and the best score of one reaching the query end (−1 if the
/// query or target is empty).
pub fn extension_scores(
    q: &[u8],
    t: &[u8],
    mat: &ScoreMatrix,
    g: GapPenalties,
    h0: i32,
) -> (i32, i32) {
    let h = gotoh(q, t, mat, g, h0, false);
    let best = h.iter().flatten().copied().max().unwrap_or(h0);
    let to_end = if q.is_empty() || t.is_empty() {
        -1
    } else {
        h[1..].iter().map(|row| row[q.len()]).max().unwrap_or(-1)
    };
    (best, to_end)
}

/// Global (end-to-end) alignment score.
pub fn global_score(q: &[u8], t: &[u8], mat: &ScoreMatrix, g: GapPenalties) -> i32 {
    gotoh(q, t, mat, g, 0, false)[t.len()][q.len()]
}

/// Best local alignment score (0 if nothing scores above 0).
pub fn local_score(q: &[u8], t: &[u8], mat: &ScoreMatrix, g: GapPenalties) -> i32 {
    let h = gotoh(q, t, mat, g, 0, true);
    h.iter().flatten().copied().max().unwrap_or(0)
}

/// Score of a bwa CIGAR (M/I/D only) aligning all of `q` to all of `t`;
/// `None` if it does not consume both exactly.
pub fn cigar_score(
    cigar: &[u32],
    q: &[u8],
    t: &[u8],
    mat: &ScoreMatrix,
    g: GapPenalties,
) -> Option<i32> {
    let (mut x, mut y, mut s) = (0usize, 0usize, 0i32);
    for &c in cigar {
        let len = (c >> 4) as usize;
        match c & 0xf {
            0 => {
                for k in 0..len {
                    s += sc(mat, *t.get(y + k)?, *q.get(x + k)?);
                }
                x += len;
                y += len;
            }
            1 => {
                s -= g.o_ins + g.e_ins * len as i32;
                x += len;
            }
            2 => {
                s -= g.o_del + g.e_del * len as i32;
                y += len;
            }
            _ => return None,
        }
    }
    (x == q.len() && y == t.len()).then_some(s)
}

/// Applies a list of edits (substitution, insertion, deletion) to `base`.
fn mutate(base: &[u8], edits: &[(u8, usize, u8)]) -> Vec<u8> {
    let mut v = base.to_vec();
    for &(kind, pos, b) in edits {
        if v.is_empty() {
            v.push(b);
            continue;
        }
        let p = pos % v.len();
        match kind {
            0 => v[p] = b,
            1 => v.insert(p, b),
            _ => {
                v.remove(p);
            }
        }
    }
    if v.is_empty() {
        v.push(0);
    }
    v
}

/// A random sequence of up to `max_len` bases (some N) and a copy of it
/// with a few substitutions and indels: pairs whose alignment has gaps.
pub fn related_pair(max_len: usize) -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    (
        proptest::collection::vec(prop_oneof![20 => 0u8..4, 1 => Just(4u8)], 1..max_len),
        proptest::collection::vec((0u8..3, 0usize..1000, 0u8..5), 0..6),
    )
        .prop_map(|(a, edits)| {
            let b = mutate(&a, &edits);
            (a, b)
        })
}
