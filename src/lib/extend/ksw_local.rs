//! Local Smith-Waterman with suboptimal hits and start finding
//! (`ksw.c: ksw_align2`, spec §13.7), as mate rescue and seed SW use it.
//!
//! bwa runs a striped SSE2 kernel (Farrar) whose query is padded to a whole
//! number of vectors (16 lanes of u8 or 8 lanes of i16); the padding
//! columns score 0 against everything and take part in the row maxima, and
//! the "lazy F" pass that carries insertions across lanes does not update
//! the deletion scores. This module emulates that kernel lane by lane in
//! scalar code, saturation included, so its results are bwa's in every
//! corner case (a plain padded Gotoh differs when an insertion costs no
//! more to open than to extend).

use super::{max_score, GapPenalties, ScoreMatrix};

/// The `xtra` flags of `ksw_align2`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalFlags {
    /// `KSW_XBYTE`: 8-bit scores (16 lanes); the score saturates at 255.
    pub byte: bool,
    /// `KSW_XSUBO`: record suboptimal rows scoring at least this much, and
    /// skip start finding below it. Only the low 16 bits count, as in bwa.
    pub min_score: Option<i32>,
    /// `KSW_XSTART`: also find the start (`qb`, `tb`).
    pub start: bool,
}

/// What `ksw_align2` returns (`kswr_t`); −1 where not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalResult {
    /// Best local score (255 when an 8-bit run overflows).
    pub score: i32,
    /// Last target position of the best alignment (inclusive).
    pub te: i32,
    /// Last query position of the best alignment (inclusive).
    pub qe: i32,
    /// Best score on rows away from `te`, or −1.
    pub score2: i32,
    /// Target end of `score2`, or −1.
    pub te2: i32,
    /// First target position (with [`LocalFlags::start`]).
    pub tb: i32,
    /// First query position (with [`LocalFlags::start`]).
    pub qb: i32,
}

impl LocalResult {
    const NONE: LocalResult = LocalResult {
        score: 0,
        te: -1,
        qe: -1,
        score2: -1,
        te2: -1,
        tb: -1,
        qb: -1,
    };
}

/// A vector of lanes; the i16 kernel uses the first 8.
type Lanes = [i32; 16];

/// Reusable buffers of [`local_align`].
#[derive(Debug, Default, Clone)]
pub struct LocalWorkspace {
    /// Per segment: H of the previous row, H of this row, E, H of the best row.
    h_prev: Vec<Lanes>,
    h_cur: Vec<Lanes>,
    e: Vec<Lanes>,
    h_best: Vec<Lanes>,
    /// Striped query profile, `profile[base * slen + s][l]`.
    profile: Vec<Lanes>,
    /// Rows scoring at least the minimum: `(score, row)`.
    subs: Vec<(i32, i32)>,
    rev_query: Vec<u8>,
    rev_target: Vec<u8>,
}

impl LocalWorkspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }
}

/// One pass of the kernel (`ksw_u8` / `ksw_i16`).
struct Pass<'a> {
    mat: &'a ScoreMatrix,
    gaps: GapPenalties,
    byte: bool,
    /// Rows at or above this go to the suboptimal list.
    min_sub: i32,
    /// Stop once the best score reaches this.
    stop_at: i32,
}

impl Pass<'_> {
    fn run(&self, ws: &mut LocalWorkspace, query: &[u8], target: &[u8]) -> LocalResult {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, as checked just above.
            return unsafe { self.run_avx2(ws, query, target) };
        }
        self.run_portable(ws, query, target)
    }

    /// The kernel compiled for AVX2, where the lane loops become vector
    /// instructions (i32 max needs more than the SSE2 baseline).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(&self, ws: &mut LocalWorkspace, query: &[u8], target: &[u8]) -> LocalResult {
        self.run_portable(ws, query, target)
    }

    #[inline(always)]
    fn run_portable(&self, ws: &mut LocalWorkspace, query: &[u8], target: &[u8]) -> LocalResult {
        if self.byte {
            self.run_lanes::<16>(ws, query, target)
        } else {
            self.run_lanes::<8>(ws, query, target)
        }
    }

    /// The striped kernel with `L` lanes (16: u8 scores, 8: i16 scores).
    /// Lane l of segment s holds query position `s + l * slen`.
    #[inline(always)]
    fn run_lanes<const L: usize>(
        &self,
        ws: &mut LocalWorkspace,
        query: &[u8],
        target: &[u8],
    ) -> LocalResult {
        let byte = L == 16;
        let mut r = LocalResult::NONE;
        let qlen = query.len();
        if qlen == 0 {
            return r;
        }
        let slen = qlen.div_ceil(L);
        // u8 scores are kept biased by −min(mat) and saturate at 255; i16
        // scores saturate at i16::MAX.
        let shift = -i32::from(self.mat.iter().copied().min().unwrap_or(0).min(0));
        let (lo, hi) = if byte {
            (0, 255 - shift)
        } else {
            (i32::from(i16::MIN), i32::from(i16::MAX))
        };
        let GapPenalties {
            o_del,
            e_del,
            o_ins,
            e_ins,
        } = self.gaps;
        let (oe_del, oe_ins) = (o_del + e_del, o_ins + e_ins);

        let LocalWorkspace {
            h_prev,
            h_cur,
            e,
            h_best,
            profile,
            subs,
            ..
        } = ws;
        profile.clear();
        for base in 0..5 {
            let row = &self.mat[base * 5..base * 5 + 5];
            for s in 0..slen {
                let mut v = [0i32; 16];
                for (l, x) in v.iter_mut().enumerate().take(L) {
                    *x = query
                        .get(s + l * slen)
                        .map_or(0, |&q| i32::from(row[usize::from(q.min(4))]));
                }
                profile.push(v);
            }
        }
        for v in [&mut *h_prev, &mut *h_cur, &mut *e, &mut *h_best] {
            v.clear();
            v.resize(slen, [0; 16]);
        }
        subs.clear();

        let mut gmax = 0i32;
        let mut te = -1i32;
        for (i, &tb) in target.iter().enumerate() {
            let i = i as i32;
            let base = usize::from(tb.min(4)) * slen;
            let prof = &profile[base..base + slen];
            // H(i-1, -1) per lane: the previous row's last segment moved up a lane.
            let mut hv = [0i32; L];
            hv[1..].copy_from_slice(&h_prev[slen - 1][..L - 1]);
            let mut fv = [0i32; L];
            let mut mv = [0i32; L];
            for (s, ((pr, ev), hc)) in prof
                .iter()
                .zip(e.iter_mut())
                .zip(h_cur.iter_mut())
                .enumerate()
            {
                let mut h = [0i32; L];
                for l in 0..L {
                    h[l] = (hv[l] + pr[l]).max(lo).min(hi).max(ev[l]).max(fv[l]);
                }
                for l in 0..L {
                    mv[l] = mv[l].max(h[l]);
                    hc[l] = h[l];
                    ev[l] = (ev[l] - e_del).max(h[l] - oe_del).max(0);
                    fv[l] = (fv[l] - e_ins).max(h[l] - oe_ins).max(0);
                }
                hv.copy_from_slice(&h_prev[s][..L]);
            }
            // Lazy F: carry insertions across lane boundaries; E is not revisited.
            'lazy: for _ in 0..16 {
                fv.copy_within(..L - 1, 1);
                fv[0] = 0;
                for hc in h_cur.iter_mut() {
                    let mut done = true;
                    for l in 0..L {
                        let h = hc[l].max(fv[l]);
                        hc[l] = h;
                        fv[l] = (fv[l] - e_ins).max(0);
                        done &= fv[l] <= (h - oe_ins).max(0);
                    }
                    if done {
                        break 'lazy;
                    }
                }
            }
            let imax = mv.iter().copied().max().unwrap_or(0);
            if imax >= self.min_sub {
                match subs.last_mut() {
                    Some(last) if last.1 + 1 == i => {
                        if last.0 < imax {
                            *last = (imax, i);
                        }
                    }
                    _ => subs.push((imax, i)),
                }
            }
            if imax > gmax {
                gmax = imax;
                te = i;
                h_best.copy_from_slice(h_cur);
                if (byte && gmax + shift >= 255) || gmax >= self.stop_at {
                    break;
                }
            }
            std::mem::swap(h_prev, h_cur);
        }

        r.te = te;
        if byte && gmax + shift >= 255 {
            r.score = 255;
            return r;
        }
        r.score = gmax;
        // The smallest query position holding the saved row's maximum.
        let best = h_best
            .iter()
            .flat_map(|v| &v[..L])
            .copied()
            .max()
            .unwrap_or(0);
        r.qe = h_best
            .iter()
            .enumerate()
            .flat_map(|(s, v)| {
                v[..L]
                    .iter()
                    .enumerate()
                    .map(move |(l, &h)| (s + l * slen, h))
            })
            .filter(|&(_, h)| h == best)
            .map(|(k, _)| k as i32)
            .min()
            .unwrap_or(-1);
        if !subs.is_empty() {
            let a = max_score(self.mat).max(1);
            let c = (r.score + a - 1) / a;
            let (low, high) = (te - c, te + c);
            for &(s, row) in subs.iter() {
                if (row < low || row > high) && s > r.score2 {
                    r.score2 = s;
                    r.te2 = row;
                }
            }
        }
        r
    }
}

/// Local alignment of `query` against `target` with bwa's `ksw_align2`
/// semantics: earliest best row, smallest query end on ties, suboptimal
/// score from rows more than `ceil(score / max(mat))` away from `te`, and
/// with `flags.start` the start found by aligning the reversed prefixes.
pub fn local_align(
    ws: &mut LocalWorkspace,
    query: &[u8],
    target: &[u8],
    mat: &ScoreMatrix,
    gaps: GapPenalties,
    flags: LocalFlags,
) -> LocalResult {
    const OFF: i32 = 0x10000;
    let min_score = flags.min_score.map(|m| m & 0xffff);
    let pass = Pass {
        mat,
        gaps,
        byte: flags.byte,
        min_sub: min_score.unwrap_or(OFF),
        stop_at: OFF,
    };
    let mut r = pass.run(ws, query, target);
    if !flags.start || min_score.is_some_and(|m| r.score < m) {
        return r;
    }
    if r.qe < 0 {
        // Only after an 8-bit overflow; bwa's start pass is undefined then.
        return r;
    }
    let qe = r.qe as usize;
    let te1 = (r.te + 1) as usize;
    let mut rq = std::mem::take(&mut ws.rev_query);
    let mut rt = std::mem::take(&mut ws.rev_target);
    rq.clear();
    rq.extend(query[..=qe.min(query.len() - 1)].iter().rev());
    // bwa reverses the target prefix in place and scans the whole target.
    rt.clear();
    rt.extend(target[..te1].iter().rev());
    rt.extend_from_slice(&target[te1..]);
    let back = Pass {
        min_sub: OFF,
        stop_at: r.score & 0xffff,
        ..pass
    };
    let rr = back.run(ws, &rq, &rt);
    ws.rev_query = rq;
    ws.rev_target = rt;
    if rr.score == r.score {
        r.tb = r.te - rr.te;
        r.qb = r.qe - rr.qe;
    }
    r
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

    #[test]
    fn finds_embedded_query() {
        let (mat, g) = defaults();
        let q = [1u8, 2, 3, 0, 1, 2, 3, 0];
        let mut t = vec![0u8; 5];
        t.extend_from_slice(&q);
        t.extend_from_slice(&[3, 3, 3]);
        let mut ws = LocalWorkspace::new();
        let flags = LocalFlags {
            start: true,
            ..Default::default()
        };
        let r = local_align(&mut ws, &q, &t, &mat, g, flags);
        assert_eq!((r.score, r.qb, r.qe, r.tb, r.te), (8, 0, 7, 5, 12));
        assert_eq!((r.score2, r.te2), (-1, -1));
    }

    #[test]
    fn suboptimal_hit_away_from_the_best() {
        let (mat, g) = defaults();
        let q: Vec<u8> = (0..20).map(|i| ((i * 7 + 3) % 4) as u8).collect();
        let mut t = q[..15].to_vec();
        t.extend([4u8; 30]);
        t.extend_from_slice(&q);
        let mut ws = LocalWorkspace::new();
        let flags = LocalFlags {
            byte: true,
            min_score: Some(10),
            start: true,
        };
        let r = local_align(&mut ws, &q, &t, &mat, g, flags);
        assert_eq!((r.score, r.te, r.qe, r.tb, r.qb), (20, 64, 19, 45, 0));
        assert_eq!((r.score2, r.te2), (15, 14));
    }

    #[test]
    fn below_min_score_skips_start() {
        let (mat, g) = defaults();
        let mut ws = LocalWorkspace::new();
        let flags = LocalFlags {
            byte: false,
            min_score: Some(30),
            start: true,
        };
        let r = local_align(&mut ws, &[0, 1, 2], &[0, 1, 2], &mat, g, flags);
        assert_eq!((r.score, r.te, r.qe, r.tb, r.qb), (3, 2, 2, -1, -1));
    }

    /// A case where the lane structure shows: with a free insertion open
    /// the lazy-F pass leaves deletion scores stale. Expected values are
    /// bwa 0.7.17's `ksw_align2` output; a plain padded Gotoh gives
    /// te 79, qe 53 here.
    #[test]
    fn zero_insertion_open_matches_bwa_striped_kernel() {
        let digits = |s: &str| s.bytes().map(|c| c - b'0').collect::<Vec<u8>>();
        let q = digits(
            "13110030312301113201012113203031131102013032203213100012322202102102322000310013\
             022021322033123211012010030001434022303322113313003102123330013",
        );
        let t = digits(
            "00232310223103210330212233010211221321001133210113131313300000131131130122234000\
             0003330120033231301232133333132202302033003",
        );
        let mat = MemOptions {
            a: 1,
            b: 1,
            ..MemOptions::default()
        }
        .score_matrix();
        let g = GapPenalties {
            o_del: 8,
            e_del: 1,
            o_ins: 0,
            e_ins: 1,
        };
        let flags = LocalFlags {
            byte: true,
            min_score: Some(60),
            start: true,
        };
        let r = local_align(&mut LocalWorkspace::new(), &q, &t, &mat, g, flags);
        assert_eq!(
            (r.score, r.te, r.qe, r.score2, r.te2, r.tb, r.qb),
            (8, 119, 91, -1, -1, -1, -1)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// The AVX2 build of the kernel agrees with the portable one.
        #[test]
        fn vector_build_equals_portable_build(
            (q, t) in naive::related_pair(80),
            byte in any::<bool>(),
            min_sub in 0i32..30,
        ) {
            let (mat, g) = defaults();
            let pass = Pass { mat: &mat, gaps: g, byte, min_sub, stop_at: 0x10000 };
            let mut ws = LocalWorkspace::new();
            let fast = pass.run(&mut ws, &q, &t);
            let plain = pass.run_portable(&mut ws, &q, &t);
            prop_assert_eq!(fast, plain);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn score_equals_naive_local(
            (q, t) in naive::related_pair(60),
            byte in any::<bool>(),
        ) {
            let (mat, g) = defaults();
            let mut ws = LocalWorkspace::new();
            let flags = LocalFlags { byte, min_score: None, start: true };
            let r = local_align(&mut ws, &q, &t, &mat, g, flags);
            prop_assert_eq!(r.score, naive::local_score(&q, &t, &mat, g));
            if r.score > 0 {
                // The reported span scores the best score on its own.
                let (qb, qe, tb, te) = (r.qb as usize, r.qe as usize, r.tb as usize, r.te as usize);
                prop_assert_eq!(
                    naive::global_score(&q[qb..=qe], &t[tb..=te], &mat, g),
                    r.score
                );
            }
        }
    }
}
