//! Mate rescue (spec §13.3; `bwamem_pair.c: mem_matesw`): given a hit of
//! one read, look for its mate by local Smith-Waterman in the windows where
//! each modelled orientation would put it, and add what is found to the
//! mate's regions.

use crate::extend::{local_align, GapPenalties, LocalFlags, LocalWorkspace, ScoreMatrix};
use crate::index::FmIndex;
use crate::options::MemOptions;
use crate::pair::{infer_dir, PairStats};
use crate::region::{sort_dedup_patch, AlnReg, NoPatch};

/// Reusable buffers of [`mate_sw`].
#[derive(Debug, Default)]
pub struct RescueWorkspace {
    rev: Vec<u8>,
    reference: Vec<u8>,
    local: LocalWorkspace,
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
    let l_pac = index.l_pac() as i64;
    let l_ms = mate.len() as i64;
    let mut skip = [false; 4];
    for (r, s) in skip.iter_mut().enumerate() {
        *s = pes[r].failed;
    }
    for m in ma.iter() {
        let (r, dist) = infer_dir(l_pac, anchor.rb, m.rb);
        if dist >= i64::from(pes[r].low) && dist <= i64::from(pes[r].high) {
            skip[r] = true;
        }
    }
    if skip.iter().all(|&s| s) {
        return 0;
    }
    let gaps = GapPenalties::from_options(opt);
    let mut n = 0;
    for r in 0..4 {
        if skip[r] {
            continue;
        }
        let is_rev = (r >> 1) != (r & 1);
        let is_larger = (r >> 1) == 0;
        let (low, high) = (i64::from(pes[r].low), i64::from(pes[r].high));
        let a = anchor.rb;
        let (mut rb, mut re) = if !is_rev {
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
        rb = rb.max(0);
        re = re.min(l_pac << 1);
        if rb < re {
            let (b, e, rid) = index.fetch_seq(rb, (rb + re) >> 1, re, &mut ws.reference);
            (rb, re) = (b, e);
            if anchor.rid as i64 == rid as i64 && re - rb >= i64::from(opt.min_seed_len) {
                let seq: &[u8] = if is_rev {
                    ws.rev.clear();
                    ws.rev
                        .extend(mate.iter().rev().map(|&c| if c < 4 { 3 - c } else { 4 }));
                    &ws.rev
                } else {
                    mate
                };
                let flags = LocalFlags {
                    byte: l_ms * i64::from(opt.a) < 250,
                    min_score: Some(opt.min_seed_len * opt.a),
                    start: true,
                };
                let aln = local_align(&mut ws.local, seq, &ws.reference, mat, gaps, flags);
                if aln.score >= opt.min_seed_len && aln.qb >= 0 {
                    let l_ms32 = l_ms as i32;
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
        }
        if n > 0 {
            sort_dedup_patch::<NoPatch>(opt, ma, None);
        }
    }
    n
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
