//! Mate rescue (spec §13.3; `bwamem_pair.c: mem_matesw`): given a hit of
//! one read, look for its mate by local Smith-Waterman in the windows where
//! each modelled orientation would put it, and add what is found to the
//! mate's regions.

use crate::extend::{
    local_align, local_align_many, GapPenalties, LocalFlags, LocalJob, LocalResult, LocalWorkspace,
    ScoreMatrix,
};
use crate::index::FmIndex;
use crate::options::MemOptions;
use crate::pair::{infer_dir, PairStats};
use crate::region::{sort_dedup_patch, AlnReg, NoPatch};

/// Reusable buffers of [`mate_sw`] and [`RescuePlan`].
#[derive(Debug, Default)]
pub struct RescueWorkspace {
    rev: Vec<u8>,
    reference: Vec<u8>,
    local: LocalWorkspace,
}

/// The orientations (0..4, bwa's `r`) in which rescue is not tried for
/// `anchor`: those without a model, and those in which the mate already
/// has a hit `ma` at a proper distance.
fn skipped(l_pac: i64, pes: &PairStats, anchor: &AlnReg, ma: &[AlnReg]) -> [bool; 4] {
    let mut skip = [false; 4];
    for (r, s) in skip.iter_mut().enumerate() {
        *s = pes[r].failed;
    }
    for m in ma {
        let (r, dist) = infer_dir(l_pac, anchor.rb, m.rb);
        if dist >= i64::from(pes[r].low) && dist <= i64::from(pes[r].high) {
            skip[r] = true;
        }
    }
    skip
}

/// Whether the mate is reverse-complemented in orientation `r`.
fn mate_is_rev(r: usize) -> bool {
    (r >> 1) != (r & 1)
}

/// Where orientation `r` of the model puts the mate (`l_ms` bases) of
/// `anchor`, clipped to the doubled reference; `None` when that is empty.
fn window(pes: &PairStats, anchor: &AlnReg, r: usize, l_ms: i64, l_pac: i64) -> Option<(i64, i64)> {
    let is_larger = (r >> 1) == 0;
    let (low, high) = (i64::from(pes[r].low), i64::from(pes[r].high));
    let a = anchor.rb;
    let (rb, re) = if !mate_is_rev(r) {
        (
            if is_larger { a + low } else { a - high },
            (if is_larger { a + high } else { a - low }) + l_ms,
        )
    } else {
        (
            (if is_larger { a + low } else { a - high }) - l_ms,
            if is_larger { a + high } else { a - low },
        )
    };
    let (rb, re) = (rb.max(0), re.min(l_pac << 1));
    (rb < re).then_some((rb, re))
}

/// Fetches the reference of window `w` into `reference`, cut to one
/// contig; the start of the span fetched when the rescue SW runs on it
/// (the contig is the anchor's and the span at least `-k` long).
fn fetch_window(
    opt: &MemOptions,
    index: &FmIndex,
    anchor: &AlnReg,
    (rb, re): (i64, i64),
    reference: &mut Vec<u8>,
) -> Option<i64> {
    let (b, e, rid) = index.fetch_seq(rb, (rb + re) >> 1, re, reference);
    (anchor.rid as i64 == rid as i64 && e - b >= i64::from(opt.min_seed_len)).then_some(b)
}

/// The flags of the rescue SW of a mate of `l_ms` bases.
fn rescue_flags(opt: &MemOptions, l_ms: i64) -> LocalFlags {
    LocalFlags {
        byte: l_ms * i64::from(opt.a) < 250,
        min_score: Some(opt.min_seed_len * opt.a),
        start: true,
    }
}

/// `mate` reverse-complemented into `out`.
fn reverse_complement(mate: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(mate.iter().rev().map(|&c| if c < 4 { 3 - c } else { 4 }));
}

/// One rescue SW: where it ran (the start of the reference fetched) and
/// what it found.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    rb: i64,
    aln: LocalResult,
}

/// bwa's `mem_matesw`: rescues the mate (`mate`: base codes 0..4) of hit
/// `anchor` into `ma`, the mate's regions (kept sorted by score; re-deduped
/// without patching after each orientation once any SW ran). Orientations
/// without a model, or in which the mate already has a hit at a proper
/// distance, are skipped. Returns the number of SW runs.
#[allow(clippy::too_many_arguments)]
pub fn mate_sw(
    opt: &MemOptions,
    mat: &ScoreMatrix,
    index: &FmIndex,
    pes: &PairStats,
    anchor: &AlnReg,
    mate: &[u8],
    ma: &mut Vec<AlnReg>,
    ws: &mut RescueWorkspace,
) -> usize {
    mate_sw_with(opt, index, pes, anchor, mate.len(), ma, |r, w| {
        attempt_now(opt, mat, index, anchor, mate, r, w, ws)
    })
}

/// The rescue SW of orientation `r` in window `w`, run now.
#[allow(clippy::too_many_arguments)]
fn attempt_now(
    opt: &MemOptions,
    mat: &ScoreMatrix,
    index: &FmIndex,
    anchor: &AlnReg,
    mate: &[u8],
    r: usize,
    w: (i64, i64),
    ws: &mut RescueWorkspace,
) -> Option<Attempt> {
    let rb = fetch_window(opt, index, anchor, w, &mut ws.reference)?;
    let seq: &[u8] = if mate_is_rev(r) {
        reverse_complement(mate, &mut ws.rev);
        &ws.rev
    } else {
        mate
    };
    let gaps = GapPenalties::from_options(opt);
    let flags = rescue_flags(opt, mate.len() as i64);
    let aln = local_align(&mut ws.local, seq, &ws.reference, mat, gaps, flags);
    Some(Attempt { rb, aln })
}

/// [`mate_sw`] with the SW of orientation `r` in window `w` given by
/// `attempt(r, w)` (`None`: no SW runs there).
fn mate_sw_with(
    opt: &MemOptions,
    index: &FmIndex,
    pes: &PairStats,
    anchor: &AlnReg,
    l_ms: usize,
    ma: &mut Vec<AlnReg>,
    mut attempt: impl FnMut(usize, (i64, i64)) -> Option<Attempt>,
) -> usize {
    let l_pac = index.l_pac() as i64;
    let skip = skipped(l_pac, pes, anchor, ma);
    if skip.iter().all(|&s| s) {
        return 0;
    }
    let l_ms = l_ms as i64;
    let mut n = 0;
    for (r, &skip) in skip.iter().enumerate() {
        if skip {
            continue;
        }
        let tried = window(pes, anchor, r, l_ms, l_pac).and_then(|w| attempt(r, w));
        if let Some(Attempt { rb, aln }) = tried {
            if aln.score >= opt.min_seed_len && aln.qb >= 0 {
                let l_ms32 = l_ms as i32;
                let is_rev = mate_is_rev(r);
                let (qb, qe) = if is_rev {
                    (l_ms32 - (aln.qe + 1), l_ms32 - aln.qb)
                } else {
                    (aln.qb, aln.qe + 1)
                };
                let (brb, bre) = if is_rev {
                    (
                        (l_pac << 1) - (rb + i64::from(aln.te) + 1),
                        (l_pac << 1) - (rb + i64::from(aln.tb)),
                    )
                } else {
                    (rb + i64::from(aln.tb), rb + i64::from(aln.te) + 1)
                };
                let b = AlnReg {
                    rid: anchor.rid,
                    is_alt: anchor.is_alt,
                    qb,
                    qe,
                    rb: brb,
                    re: bre,
                    score: aln.score,
                    csub: aln.score2,
                    secondary: -1,
                    seedcov: ((bre - brb).min(i64::from(qe - qb)) >> 1) as i32,
                    ..AlnReg::default()
                };
                let at = ma
                    .iter()
                    .position(|x| x.score < b.score)
                    .unwrap_or(ma.len());
                ma.insert(at, b);
            }
            n += 1;
        }
        if n > 0 {
            sort_dedup_patch::<NoPatch>(opt, ma, None);
        }
    }
    n
}

/// The two reads of a pair as mate rescue needs them: their bases (codes
/// 0..4) and regions, which rescue extends.
#[derive(Debug, Default)]
pub struct RescuePair {
    pub queries: [Vec<u8>; 2],
    pub regs: [Vec<AlnReg>; 2],
    /// The bases reverse-complemented, for the SW runs that want them.
    rc: [Vec<u8>; 2],
}

/// A rescue SW planned ahead: pair, direction (the read whose hit is the
/// anchor), anchor, orientation; where the reference fetched starts, and
/// where its bases lie in the plan's buffer.
#[derive(Debug, Clone, Copy)]
struct Planned {
    key: (u32, u8, u32, u8),
    rb: i64,
    bases: (usize, usize),
}

/// Mate rescue of many pairs at once, with the same result as bwa's
/// `mem_sam_pe` rescue loop run pair by pair.
///
/// Within one direction a rescue's result decides whether a later anchor
/// still needs one (a rescued hit can put the mate at a proper distance),
/// so bwa's loop is sequential. But every SW it may run is known from the
/// regions before rescue, and its result depends only on the anchor and
/// the model: so every SW that the regions before rescue call for is run
/// first, side by side ([`local_align_many`]), and then bwa's loop is
/// replayed pair by pair, taking each SW from the ones run (those the
/// replay skips are wasted; one it needs beyond them, possible only when
/// a de-duplication drops a hit, runs then).
#[derive(Debug, Default)]
pub struct RescuePlan {
    anchors: Vec<AlnReg>,
    /// Per pair and direction, its anchors in `anchors` (start, count).
    spans: Vec<[(usize, usize); 2]>,
    planned: Vec<Planned>,
    reference: Vec<u8>,
    results: Vec<LocalResult>,
    ws: RescueWorkspace,
}

impl RescuePlan {
    /// bwa's rescue of every pair of `pairs`: the hits of each read (those
    /// within `-U` of its best, at most `max_matesw`, all taken before any
    /// rescue) look for the other read near them.
    pub fn rescue(
        &mut self,
        opt: &MemOptions,
        mat: &ScoreMatrix,
        index: &FmIndex,
        pes: &PairStats,
        pairs: &mut [RescuePair],
    ) {
        if opt.flags.no_rescue {
            return;
        }
        let l_pac = index.l_pac() as i64;
        self.anchors.clear();
        self.spans.clear();
        self.planned.clear();
        self.reference.clear();
        for (p, pair) in pairs.iter_mut().enumerate() {
            let mut spans = [(0, 0); 2];
            for (i, span) in spans.iter_mut().enumerate() {
                let regs = &pair.regs[i];
                let start = self.anchors.len();
                if let Some(best) = regs.first().map(|r| r.score) {
                    self.anchors.extend(
                        regs.iter()
                            .filter(|r| r.score >= best - opt.pen_unpaired)
                            .copied(),
                    );
                }
                let n = self.anchors.len() - start;
                *span = (start, n.min(opt.max_matesw.max(0) as usize));
            }
            self.spans.push(spans);
            for (i, &(start, n)) in spans.iter().enumerate() {
                let l_ms = pair.queries[1 - i].len() as i64;
                for j in 0..n {
                    let anchor = self.anchors[start + j];
                    let skip = skipped(l_pac, pes, &anchor, &pair.regs[1 - i]);
                    for r in (0..4).filter(|&r| !skip[r]) {
                        let Some(w) = window(pes, &anchor, r, l_ms, l_pac) else {
                            continue;
                        };
                        let at = self.reference.len();
                        let Some(rb) = fetch_window(opt, index, &anchor, w, &mut self.ws.reference)
                        else {
                            continue;
                        };
                        self.reference.extend_from_slice(&self.ws.reference);
                        self.planned.push(Planned {
                            key: (p as u32, i as u8, j as u32, r as u8),
                            rb,
                            bases: (at, self.reference.len()),
                        });
                    }
                }
            }
            let mut rc = [false; 2];
            for pl in self
                .planned
                .iter()
                .rev()
                .take_while(|pl| pl.key.0 == p as u32)
            {
                rc[1 - pl.key.1 as usize] |= mate_is_rev(pl.key.3 as usize);
            }
            for i in (0..2).filter(|&i| rc[i]) {
                reverse_complement(&pair.queries[i], &mut pair.rc[i]);
            }
        }

        let jobs: Vec<LocalJob<'_>> = self
            .planned
            .iter()
            .map(|pl| {
                let (p, i, _, r) = pl.key;
                let pair = &pairs[p as usize];
                let mate = 1 - i as usize;
                LocalJob {
                    query: if mate_is_rev(r as usize) {
                        &pair.rc[mate]
                    } else {
                        &pair.queries[mate]
                    },
                    target: &self.reference[pl.bases.0..pl.bases.1],
                    flags: rescue_flags(opt, pair.queries[mate].len() as i64),
                }
            })
            .collect();
        let gaps = GapPenalties::from_options(opt);
        local_align_many(&mut self.ws.local, &jobs, mat, gaps, &mut self.results);
        drop(jobs);

        // The replay, in bwa's order; `next` walks the planned SWs, which
        // were planned in that order.
        let mut next = 0;
        for (p, pair) in pairs.iter_mut().enumerate() {
            let RescuePair { queries, regs, .. } = pair;
            for (i, &(start, n)) in self.spans[p].iter().enumerate() {
                let (mine, theirs) = regs.split_at_mut(1);
                let ma = if i == 0 { &mut theirs[0] } else { &mut mine[0] };
                let mate = &queries[1 - i];
                for j in 0..n {
                    let anchor = self.anchors[start + j];
                    let (planned, results, ws) = (&self.planned, &self.results, &mut self.ws);
                    mate_sw_with(opt, index, pes, &anchor, mate.len(), ma, |r, w| {
                        let key = (p as u32, i as u8, j as u32, r as u8);
                        while next < planned.len() && planned[next].key < key {
                            next += 1;
                        }
                        match planned.get(next) {
                            Some(pl) if pl.key == key => Some(Attempt {
                                rb: pl.rb,
                                aln: results[next],
                            }),
                            _ => attempt_now(opt, mat, index, &anchor, mate, r, w, ws),
                        }
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pair::InsertSizeStats;

    fn reference() -> Vec<u8> {
        // A deterministic pseudo-random 4 kb contig.
        let mut x: u64 = 12345;
        let mut s = Vec::with_capacity(4000);
        for _ in 0..4000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.push(b"ACGT"[(x >> 33) as usize & 3]);
        }
        s
    }

    fn nt4(b: u8) -> u8 {
        crate::pipeline::nt4(b)
    }

    fn fr_model() -> PairStats {
        let mut pes = [InsertSizeStats {
            failed: true,
            ..InsertSizeStats::default()
        }; 4];
        pes[1] = InsertSizeStats {
            low: 200,
            high: 400,
            failed: false,
            avg: 300.0,
            std: 25.0,
        };
        pes
    }

    #[test]
    fn rescues_a_reverse_mate_in_the_fr_window() {
        let refseq = reference();
        let mut fa = b">c1\n".to_vec();
        fa.extend_from_slice(&refseq);
        fa.push(b'\n');
        let index = FmIndex::from_fasta_bytes(&fa, 32).expect("index");
        let l = index.l_pac() as i64;
        let opt = MemOptions::default();
        let mat = opt.score_matrix();
        // Read 1 forward at 1000..1100; its mate is the reverse complement
        // of 1200..1300 (insert 300).
        let anchor = AlnReg {
            rb: 1000,
            re: 1100,
            qb: 0,
            qe: 100,
            score: 100,
            secondary: -1,
            ..AlnReg::default()
        };
        let mate: Vec<u8> = refseq[1200..1300]
            .iter()
            .rev()
            .map(|&b| 3 - nt4(b))
            .collect();
        let mut ma = Vec::new();
        let mut ws = RescueWorkspace::default();
        let n = mate_sw(
            &opt,
            &mat,
            &index,
            &fr_model(),
            &anchor,
            &mate,
            &mut ma,
            &mut ws,
        );
        assert_eq!(n, 1);
        assert_eq!(ma.len(), 1);
        let b = ma[0];
        assert_eq!((b.qb, b.qe, b.score), (0, 100, 100));
        assert_eq!((b.rb, b.re), (2 * l - 1300, 2 * l - 1200));
        assert_eq!((b.w, b.truesc, b.sub_n, b.seedcov), (0, 0, 0, 50));
        // Now that the mate has a proper hit, nothing more is tried.
        let n = mate_sw(
            &opt,
            &mat,
            &index,
            &fr_model(),
            &anchor,
            &mate,
            &mut ma,
            &mut ws,
        );
        assert_eq!((n, ma.len()), (0, 1));
        // -S style: all orientations failed, nothing tried.
        let none = [InsertSizeStats {
            failed: true,
            ..InsertSizeStats::default()
        }; 4];
        let mut mb = Vec::new();
        assert_eq!(
            mate_sw(&opt, &mat, &index, &none, &anchor, &mate, &mut mb, &mut ws),
            0
        );
    }
}
