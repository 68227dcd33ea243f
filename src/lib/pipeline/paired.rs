//! The paired-end half of the fused runner: bwa's `mem_process_seqs` with
//! `MEM_F_PE` (regions of every read, the batch's insert-size model, then
//! `mem_sam_pe` per pair) and smart pairing for `-p` (`bseq_classify`).

use std::sync::{Mutex, PoisonError};

use super::{
    nt4, ordered_collect, ordered_tasks_with, Aligner, ReadGroup, ReadWorkspace, TextGroups,
    TextSink,
};
use crate::emit::{region_to_aln, Aln, AlnWorkspace, SamRead};
use crate::output::Chores;
use crate::pair::{
    best_pair, estimate_insert_sizes, infer_dir, pair_mapq, raw_mapq, stats_from_override,
    unique_insert, PairScratch, PairStats,
};
use crate::reads::{ReadBatch, SmartPairs};
use crate::region::{
    approx_mapq_se, mark_primary_se, reorder_primary5, select_records, AlnReg, PrimaryScratch,
    XaGroups,
};
use crate::rescue::{RescuePair, RescuePlan};
use crate::seed::SEED_GROUP;
use crate::trace::{self, Kind};

/// Pairs finished per rayon task.
const PAIR_CHUNK: usize = 32;

/// Chunks of pairs whose text goes to the writer together (about 2000
/// reads' lines).
const PAIR_GROUP: usize = 32;

/// Per-thread buffers for finishing pairs, reused from pair to pair.
#[derive(Debug, Default)]
pub struct PairWorkspace {
    pub(super) read: ReadWorkspace,
    queries: [Vec<u8>; 2],
    /// The pairs of one group, loaded for mate rescue.
    pub(super) slots: Vec<RescuePair>,
    rescue: RescuePlan,
    primary: PrimaryScratch,
    pair: PairScratch,
    xa: XaGroups,
    aln: AlnWorkspace,
    recs: [Vec<Aln>; 2],
    mates: Vec<Aln>,
    /// The two reads' regions, loaded from a batch's region store.
    pub(super) staged: [Vec<AlnReg>; 2],
}

impl PairWorkspace {
    /// Makes `n` slots ready and fills slot `k` with `load(k, slot)`.
    pub(super) fn fill_slots(&mut self, n: usize, mut load: impl FnMut(usize, &mut RescuePair)) {
        if self.slots.len() < n {
            self.slots.resize_with(n, RescuePair::default);
        }
        for (k, slot) in self.slots[..n].iter_mut().enumerate() {
            load(k, slot);
        }
    }

    /// Runs `f` on the regions of the pair in slot `k`, with its bases in
    /// `self.queries` (where [`Aligner::emit_pair`] wants them).
    pub(super) fn emit_slot<R>(
        &mut self,
        k: usize,
        f: impl FnOnce([&mut Vec<AlnReg>; 2], &mut PairWorkspace) -> R,
    ) -> R {
        let slot = &mut self.slots[k];
        std::mem::swap(&mut self.queries, &mut slot.queries);
        let mut regs = std::mem::take(&mut slot.regs);
        let [a0, a1] = &mut regs;
        let r = f([a0, a1], self);
        let slot = &mut self.slots[k];
        slot.regs = regs;
        std::mem::swap(&mut self.queries, &mut slot.queries);
        r
    }
}

/// Reads per piece of a batch's region store; even, so that the two reads
/// of a pair are always in one piece.
const REGION_PIECE: usize = 64;

/// The de-duplicated regions of a batch's reads, in the order they were
/// aligned: one flat vector per piece of [`REGION_PIECE`] reads, as the
/// parallel tasks built them, rather than one vector per read; each region
/// without the fields that only later steps fill in.
#[derive(Debug, Default)]
struct BatchRegions {
    /// Locked only so that the tasks finishing pairs can each take theirs.
    pieces: Vec<Mutex<RegionPiece>>,
}

/// The regions of up to [`REGION_PIECE`] consecutive reads.
#[derive(Debug, Default)]
struct RegionPiece {
    regs: Vec<StoredReg>,
    /// End of each read's regions in `regs`.
    ends: Vec<u32>,
    /// The regions (by place in `regs`) that [`StoredReg`] cannot hold,
    /// whole; none in practice.
    whole: Vec<(u32, AlnReg)>,
    /// The pairs' inserts for the batch's insert-size model (orientation,
    /// insert: [`unique_insert`]), found as the regions are: the model then
    /// only gathers them instead of visiting every pair while the other
    /// workers wait.
    inserts: Vec<(u8, u64)>,
}

/// A region as extension and de-duplication leave it: [`AlnReg`] less the
/// fields that primary marking, rescue and pairing fill in later (`sub`,
/// `alt_sc`, `csub`, `sub_n`, `secondary`, `secondary_all`, `hash`), which
/// are still zero. Two thirds of the size.
#[derive(Debug, Clone, Copy)]
struct StoredReg {
    rb: i64,
    re: i64,
    qb: i32,
    qe: i32,
    rid: i32,
    score: i32,
    truesc: i32,
    w: i32,
    seedcov: i32,
    seedlen0: i32,
    n_comp: i32,
    frac_rep: f32,
    is_alt: bool,
}

impl StoredReg {
    /// `r` as stored, or `None` when a field left out is not zero.
    fn pack(r: &AlnReg) -> Option<StoredReg> {
        // No `..`: a new field of `AlnReg` must be placed here.
        let AlnReg {
            rb,
            re,
            qb,
            qe,
            rid,
            score,
            truesc,
            sub,
            alt_sc,
            csub,
            sub_n,
            w,
            seedcov,
            secondary,
            secondary_all,
            seedlen0,
            n_comp,
            is_alt,
            frac_rep,
            hash,
        } = *r;
        let later = [sub, alt_sc, csub, sub_n, secondary, secondary_all];
        (later == [0; 6] && hash == 0).then_some(StoredReg {
            rb,
            re,
            qb,
            qe,
            rid,
            score,
            truesc,
            w,
            seedcov,
            seedlen0,
            n_comp,
            frac_rep,
            is_alt,
        })
    }

    fn unpack(&self) -> AlnReg {
        AlnReg {
            rb: self.rb,
            re: self.re,
            qb: self.qb,
            qe: self.qe,
            rid: self.rid,
            score: self.score,
            truesc: self.truesc,
            w: self.w,
            seedcov: self.seedcov,
            seedlen0: self.seedlen0,
            n_comp: self.n_comp,
            frac_rep: self.frac_rep,
            is_alt: self.is_alt,
            ..AlnReg::default()
        }
    }
}

impl RegionPiece {
    /// Appends the regions of the next read.
    fn push_read(&mut self, regs: &[AlnReg]) {
        for r in regs {
            let stored = StoredReg::pack(r).unwrap_or_else(|| {
                self.whole.push((self.regs.len() as u32, *r));
                StoredReg::pack(&AlnReg::default()).expect("the default region packs")
            });
            self.regs.push(stored);
        }
        self.ends.push(self.regs.len() as u32);
    }

    /// The piece at its exact size.
    fn exact(&self) -> RegionPiece {
        RegionPiece {
            regs: self.regs.clone(),
            ends: self.ends.clone(),
            whole: self.whole.clone(),
            inserts: self.inserts.clone(),
        }
    }

    fn clear(&mut self) {
        self.regs.clear();
        self.ends.clear();
        self.whole.clear();
        self.inserts.clear();
    }
}

impl RegionPiece {
    /// Replaces `out`'s content with the regions of the piece's `j`-th read.
    fn read_into(&self, j: usize, out: &mut Vec<AlnReg>) {
        let start = if j == 0 { 0 } else { self.ends[j - 1] };
        let end = self.ends[j];
        out.clear();
        out.extend(
            self.regs[start as usize..end as usize]
                .iter()
                .map(StoredReg::unpack),
        );
        for (at, r) in &self.whole {
            if (start..end).contains(at) {
                out[(at - start) as usize] = *r;
            }
        }
    }
}

impl BatchRegions {
    /// Replaces `out`'s content with the regions of the `k`-th read aligned.
    #[cfg(test)]
    fn read_into(&self, k: usize, out: &mut Vec<AlnReg>) {
        let piece = self.pieces[k / REGION_PIECE]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        piece.read_into(k % REGION_PIECE, out);
    }

    /// The inserts the pieces found, by orientation.
    fn gather_inserts(&self, inserts: &mut [Vec<u64>; 4]) {
        for piece in &self.pieces {
            let piece = piece.lock().unwrap_or_else(PoisonError::into_inner);
            for &(d, is) in &piece.inserts {
                inserts[usize::from(d)].push(is);
            }
        }
    }

    /// Piece `c` (reads `c * REGION_PIECE..`), taken out of the store: its
    /// regions are freed when the caller drops it.
    fn take_piece(&self, c: usize) -> RegionPiece {
        std::mem::take(
            &mut *self.pieces[c]
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}

impl Aligner<'_> {
    /// The de-duplicated regions of reads `reads` of `batch` (bwa's
    /// `worker1`), computed in parallel, in the order given; `reads[2k]`
    /// and `reads[2k + 1]` are mates, whose insert each piece keeps.
    fn regions_of(&self, batch: &ReadBatch, reads: &[usize]) -> BatchRegions {
        // Both mates of a pair are in one piece and one seeding group.
        const { assert!(REGION_PIECE.is_multiple_of(SEED_GROUP) && SEED_GROUP.is_multiple_of(2)) };
        let l_pac = self.index.l_pac() as i64;
        let modelled = self.opt.insert_size.is_none();
        let chunks: Vec<&[usize]> = reads.chunks(REGION_PIECE).collect();
        let pieces = ordered_collect(
            chunks.len(),
            |(group, piece): &mut (ReadGroup, RegionPiece), c| {
                let mut span = trace::span(Kind::Align, batch.first_read, c as u64);
                span.arg("reads", chunks[c].len() as u64);
                piece.clear();
                // A group of reads at a time, their seeding interleaved.
                for idx in chunks[c].chunks(SEED_GROUP) {
                    let n = Self::load_group(batch, idx.iter().copied(), group);
                    self.find_regions_group(group, n);
                    for ws in &group[..n] {
                        piece.push_read(&ws.regs);
                    }
                    for mates in group[..n].chunks_exact(2).filter(|_| modelled) {
                        let [a, b] = mates else { unreachable!() };
                        if let Some((d, is)) = unique_insert(self.opt, l_pac, &a.regs, &b.regs) {
                            piece.inserts.push((d as u8, is));
                        }
                    }
                }
                Mutex::new(piece.exact())
            },
        );
        BatchRegions { pieces }
    }

    /// The insert-size model of `n_pairs` pairs whose regions (read 1,
    /// read 2) `load` puts in its second argument, pair by pair: `-I` when
    /// given, else bwa's `mem_pestat` with its messages on stderr.
    pub(super) fn pair_stats(
        &self,
        n_pairs: usize,
        mut load: impl FnMut(usize, &mut [Vec<AlnReg>; 2]),
    ) -> PairStats {
        let l_pac = self.index.l_pac() as i64;
        let mut pair: [Vec<AlnReg>; 2] = Default::default();
        self.pair_stats_of(|inserts| {
            for p in 0..n_pairs {
                load(p, &mut pair);
                if let Some((d, is)) = unique_insert(self.opt, l_pac, &pair[0], &pair[1]) {
                    inserts[d].push(is);
                }
            }
        })
    }

    /// The insert-size model from the inserts `gather` puts in its
    /// argument by orientation (any order): `-I` when given (then `gather`
    /// is not called), else bwa's `mem_pestat` with its messages on stderr.
    fn pair_stats_of(&self, gather: impl FnOnce(&mut [Vec<u64>; 4])) -> PairStats {
        if let Some(ov) = &self.opt.insert_size {
            return stats_from_override(ov);
        }
        let mut inserts: [Vec<u64>; 4] = Default::default();
        gather(&mut inserts);
        let mut log = String::new();
        let pes = estimate_insert_sizes(inserts, self.opt.verbosity >= 3, &mut log);
        eprint!("{log}");
        pes
    }

    /// Aligns a paired batch (read `2k` and `2k + 1` are mates) and returns
    /// its SAM text in input order. Pair ids start at `first_read / 2`, as
    /// bwa numbers them; the text does not depend on the thread count.
    pub fn align_batch_paired(&self, batch: &ReadBatch) -> Vec<u8> {
        let mut text = Vec::new();
        self.align_batch_paired_to(batch, &mut TextSink::buffer(&mut text));
        text
    }

    /// [`Aligner::align_batch_paired`] with the text put into `sink` a
    /// group of pairs at a time, in input order, as each group is done.
    pub fn align_batch_paired_to(&self, batch: &ReadBatch, sink: &mut TextSink) {
        let reads: Vec<usize> = (0..batch.len() & !1).collect();
        let chores = sink.chores();
        let mut texts = TextGroups::new(sink);
        let chores = chores.as_deref();
        self.align_pairs(batch, &reads, batch.first_read >> 1, chores, |group| {
            for (text, _) in group {
                texts.push(text);
            }
        });
        texts.flush();
    }

    /// Aligns a batch of interleaved reads with smart pairing (`-p`):
    /// consecutive reads with equal names are a pair, other reads are
    /// aligned as single-end reads with ids from `first_read`; pair ids
    /// start at `(first_read + singles) / 2`. Output in input order.
    pub fn align_batch_interleaved(&self, batch: &ReadBatch) -> Vec<u8> {
        let mut sp = SmartPairs::default();
        sp.classify(batch);
        if self.opt.verbosity >= 3 {
            eprintln!(
                "[M::process] {} single-end sequences; {} paired-end sequences",
                sp.singles.len(),
                sp.pairs.len()
            );
        }
        let n = batch.len();
        let mut per_read: Vec<Vec<u8>> = vec![Vec::new(); n];
        let singles: Vec<Vec<u8>> =
            ordered_collect(sp.singles.len(), |ws: &mut ReadWorkspace, k| {
                let _span = trace::span(Kind::Single, batch.first_read, k as u64);
                let mut out = Vec::new();
                let r = sp.singles[k];
                self.align_single_id(batch, r, batch.first_read + k as u64, ws, &mut out);
                out
            });
        for (&r, t) in sp.singles.iter().zip(singles) {
            per_read[r] = t;
        }
        if !sp.pairs.is_empty() {
            let first = (batch.first_read + sp.singles.len() as u64) >> 1;
            let mut k = 0;
            self.align_pairs(batch, &sp.pairs, first, None, |texts| {
                for (text, ends) in texts {
                    let mut at = 0;
                    for end in ends {
                        per_read[sp.pairs[2 * k]] = text[at..end].to_vec();
                        at = end;
                        k += 1;
                    }
                }
            });
        }
        per_read.concat()
    }

    /// bwa's paired `mem_process_seqs` over the reads `reads` of `batch`
    /// (mates at `2k`, `2k + 1`): regions, model, then the pairs finished
    /// in parallel, [`PAIR_CHUNK`] at a time. Hands `take` the text of
    /// each chunk and where each of its pairs' text ends, a group of
    /// chunks at a time, in order.
    fn align_pairs(
        &self,
        batch: &ReadBatch,
        reads: &[usize],
        first_pair: u64,
        chores: Option<&dyn Chores>,
        mut take: impl FnMut(Vec<(Vec<u8>, Vec<usize>)>) + Send,
    ) {
        let regions = self.regions_of(batch, reads);
        let mut span = trace::span(Kind::InsertSize, batch.first_read, 0);
        span.arg("pairs", (reads.len() / 2) as u64);
        let pes = self.pair_stats_of(|inserts| regions.gather_inserts(inserts));
        drop(span);
        // A chunk of pairs is one piece of the region store, which it
        // frees when done.
        const { assert!(2 * PAIR_CHUNK == REGION_PIECE) };
        let chunks: Vec<&[usize]> = reads.chunks(REGION_PIECE).collect();
        let mut group = Vec::new();
        ordered_tasks_with(
            chunks.len(),
            |ws: &mut PairWorkspace, c| {
                let idx = chunks[c];
                let first = c * REGION_PIECE;
                let n = idx.len() / 2;
                let mut span = trace::span(Kind::Pair, batch.first_read, c as u64);
                span.arg("reads", idx.len() as u64);
                let piece = regions.take_piece(c);
                ws.fill_slots(n, |k, slot| {
                    Self::load_bases(batch, [idx[2 * k], idx[2 * k + 1]], &mut slot.queries);
                    piece.read_into(2 * k, &mut slot.regs[0]);
                    piece.read_into(2 * k + 1, &mut slot.regs[1]);
                });
                drop(piece);
                self.rescue_pairs(n, &pes, ws);
                let mut out = Vec::with_capacity(n * 1200);
                let mut ends = Vec::with_capacity(n);
                for k in 0..n {
                    let id = first_pair + ((first + 2 * k) / 2) as u64;
                    let pair = [idx[2 * k], idx[2 * k + 1]];
                    ws.emit_slot(k, |a, ws| {
                        self.emit_pair(batch, pair, a, id, &pes, ws, &mut out)
                    });
                    ends.push(out.len());
                }
                (out, ends)
            },
            |text| {
                group.push(text);
                if group.len() == PAIR_GROUP {
                    take(std::mem::take(&mut group));
                }
            },
            chores,
        );
        if !group.is_empty() {
            take(group);
        }
    }

    /// Loads the bases of reads `idx` of `batch` into `out`.
    pub(crate) fn load_bases(batch: &ReadBatch, idx: [usize; 2], out: &mut [Vec<u8>; 2]) {
        for (q, &i) in out.iter_mut().zip(idx.iter()) {
            q.clear();
            q.extend(batch.seq(i).iter().map(|&b| nt4(b)));
        }
    }

    /// Loads the bases of reads `idx` of `batch` into `ws.queries`.
    pub(crate) fn load_pair(batch: &ReadBatch, idx: [usize; 2], ws: &mut PairWorkspace) {
        Self::load_bases(batch, idx, &mut ws.queries);
    }

    /// Mate rescue (bwa's `mem_sam_pe` up to `mem_matesw`) of the pairs
    /// loaded in `ws.slots[..n]`: each good hit of one read looks for its
    /// mate near it; found mates join the other read's regions. The pairs
    /// are rescued together ([`RescuePlan`]), with the result of rescuing
    /// each alone.
    pub(crate) fn rescue_pairs(&self, n: usize, pes: &PairStats, ws: &mut PairWorkspace) {
        let PairWorkspace { slots, rescue, .. } = ws;
        rescue.rescue(self.opt, &self.mat, self.index, pes, &mut slots[..n]);
    }

    /// The rest of bwa's `mem_sam_pe` after rescue: primary marking,
    /// pairing, MAPQ and flags; appends the SAM lines of read 1 then read
    /// 2. Needs the bases in `ws.queries`; `id` is the pair's number.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn emit_pair(
        &self,
        batch: &ReadBatch,
        idx: [usize; 2],
        a: [&mut Vec<AlnReg>; 2],
        id: u64,
        pes: &PairStats,
        ws: &mut PairWorkspace,
        out: &mut Vec<u8>,
    ) {
        let opt = self.opt;
        let l_pac = self.index.l_pac() as i64;
        let mut n_pri = [0usize; 2];
        for i in 0..2 {
            n_pri[i] = mark_primary_se(opt, a[i], (id << 1) | i as u64, &mut ws.primary);
        }
        if self.flags.primary5 {
            reorder_primary5(opt.t, a[0]);
            reorder_primary5(opt.t, a[1]);
        }
        if !opt.flags.no_pairing && n_pri[0] > 0 && n_pri[1] > 0 {
            let choice = best_pair(
                opt,
                l_pac,
                &self.offsets,
                pes,
                [&a[0][..], &a[1][..]],
                n_pri,
                id,
                &mut ws.pair,
            );
            if let Some(c) = choice.filter(|c| c.score > 0) {
                let is_multi = |r: &[AlnReg], n: usize| {
                    r[1..n].iter().any(|x| x.secondary < 0 && x.score >= opt.t)
                };
                if !is_multi(a[0], n_pri[0]) && !is_multi(a[1], n_pri[1]) {
                    self.write_paired(batch, idx, a, n_pri, c, ws, out);
                    return;
                }
            }
        }
        self.write_unpaired(batch, idx, a, n_pri, pes, ws, out);
    }

    /// The pairing path of `mem_sam_pe`: one record per read (plus an ALT
    /// supplementary), MAPQ from the pair.
    #[allow(clippy::too_many_arguments)]
    fn write_paired(
        &self,
        batch: &ReadBatch,
        idx: [usize; 2],
        a: [&mut Vec<AlnReg>; 2],
        n_pri: [usize; 2],
        c: crate::pair::PairChoice,
        ws: &mut PairWorkspace,
        out: &mut Vec<u8>,
    ) {
        let opt = self.opt;
        let o = c.score;
        let mut z = c.z;
        let score_un = a[0][0].score + a[1][0].score - opt.pen_unpaired;
        let subo = c.sub.max(score_un);
        let q_pe = pair_mapq(opt, o, subo, c.n_sub, [a[0][0].frac_rep, a[1][0].frac_rep]);
        let mut q_se = [0i32; 2];
        let mut extra_flag = 1u32;
        if o > score_un {
            for i in 0..2 {
                let s = a[i][z[i]].secondary;
                if s >= 0 {
                    let parent = a[i][s as usize].score;
                    let ci = &mut a[i][z[i]];
                    ci.sub = parent;
                    ci.secondary = -2;
                }
                let ci = &a[i][z[i]];
                let q = approx_mapq_se(opt, ci);
                let q = if q > q_pe { q } else { q_pe.min(q + 40) };
                q_se[i] = q.min(raw_mapq(ci.score - ci.csub, opt.a));
            }
            extra_flag |= 2;
        } else {
            z = [0, 0];
            for i in 0..2 {
                q_se[i] = approx_mapq_se(opt, &a[i][0]);
            }
        }
        for i in 0..2 {
            let k = a[i][z[i]].secondary_all;
            if k >= 0 && (k as usize) < n_pri[i] {
                for j in 0..a[i].len() {
                    if a[i][j].secondary_all == k || j == k as usize {
                        a[i][j].secondary_all = z[i] as i32;
                    }
                }
                a[i][z[i]].secondary_all = -1;
            }
        }
        for i in 0..2 {
            let regs = &a[i][..];
            let query = &ws.queries[i];
            if self.flags.all {
                ws.xa.clear();
            } else {
                ws.xa.compute(opt, regs);
            }
            let recs = &mut ws.recs[i];
            recs.clear();
            let mut h = region_to_aln(opt, &self.mat, self.index, query, &regs[z[i]], &mut ws.aln);
            h.mapq = q_se[i].clamp(0, 255) as u8;
            h.flag |= (0x40 << i) | extra_flag;
            h.xa = self.xa_string(&ws.xa, z[i], regs, query, &mut ws.aln);
            recs.push(h);
            if n_pri[i] < regs.len() {
                let p = &regs[n_pri[i]];
                if p.score >= opt.t && p.secondary < 0 && p.is_alt {
                    let mut g = region_to_aln(opt, &self.mat, self.index, query, p, &mut ws.aln);
                    g.flag |= 0x800 | (0x40 << i) | extra_flag;
                    g.xa = self.xa_string(&ws.xa, n_pri[i], regs, query, &mut ws.aln);
                    recs.push(g);
                }
            }
        }
        let fmt = self.formatter();
        for (i, &r) in idx.iter().enumerate() {
            let read = sam_read(batch, r, &ws.queries[i]);
            fmt.write_read(out, &read, &ws.recs[i], 0, Some(&ws.recs[1 - i][0]));
        }
    }

    /// The XA text of region `k`'s record from groups `xa`.
    fn xa_string(
        &self,
        xa: &XaGroups,
        k: usize,
        regs: &[AlnReg],
        query: &[u8],
        aln: &mut AlnWorkspace,
    ) -> String {
        let mut s = String::new();
        for &m in xa.group(k) {
            let t = region_to_aln(self.opt, &self.mat, self.index, query, &regs[m], aln);
            let name = &self.contigs[t.rid as usize].name;
            crate::emit::tags::push_xa_entry(&mut s, name, t.pos, t.is_rev, &t.cigar, t.nm);
        }
        s
    }

    /// The no-pairing path of `mem_sam_pe` (also `-P`): each read printed
    /// as single-end (`mem_reg2sam`) with its mate's best hit as the mate,
    /// and 0x2 when those best hits happen to be a proper pair.
    #[allow(clippy::too_many_arguments)]
    fn write_unpaired(
        &self,
        batch: &ReadBatch,
        idx: [usize; 2],
        a: [&mut Vec<AlnReg>; 2],
        n_pri: [usize; 2],
        pes: &PairStats,
        ws: &mut PairWorkspace,
        out: &mut Vec<u8>,
    ) {
        let opt = self.opt;
        ws.mates.clear();
        for i in 0..2 {
            let r = &a[i];
            let which = if r.is_empty() {
                None
            } else if r[0].score >= opt.t {
                Some(0)
            } else if n_pri[i] < r.len() && r[n_pri[i]].score >= opt.t {
                Some(n_pri[i])
            } else {
                None
            };
            let h = match which {
                Some(w) => region_to_aln(
                    opt,
                    &self.mat,
                    self.index,
                    &ws.queries[i],
                    &r[w],
                    &mut ws.aln,
                ),
                None => Aln::unmapped(0),
            };
            ws.mates.push(h);
        }
        let mut extra_flag = 1u32;
        let (h0, h1) = (&ws.mates[0], &ws.mates[1]);
        if !opt.flags.no_pairing && h0.rid == h1.rid && h0.rid >= 0 {
            let (d, dist) = infer_dir(self.index.l_pac() as i64, a[0][0].rb, a[1][0].rb);
            let p = &pes[d];
            if !p.failed && dist >= i64::from(p.low) && dist <= i64::from(p.high) {
                extra_flag |= 2;
            }
        }
        let fmt = self.formatter();
        let [a0, a1] = a;
        for (i, regs) in [a0, a1].into_iter().enumerate() {
            let flag = ((0x40 << i) | 1) | extra_flag;
            let rw = &mut ws.read;
            std::mem::swap(&mut rw.query, &mut ws.queries[i]);
            std::mem::swap(&mut rw.regs, regs);
            if self.flags.all {
                rw.plan.xa.clear();
            } else {
                rw.plan.xa.compute(opt, &rw.regs);
            }
            select_records(opt, &self.flags, &rw.regs, flag, &mut rw.plan.records);
            self.build_alns(rw);
            let read = sam_read(batch, idx[i], &rw.query);
            fmt.write_read(out, &read, &rw.alns, flag, Some(&ws.mates[1 - i]));
            std::mem::swap(&mut rw.query, &mut ws.queries[i]);
            std::mem::swap(&mut rw.regs, regs);
        }
    }
}

/// What the formatter needs of read `i` of `batch` (bases already coded).
fn sam_read<'b>(batch: &'b ReadBatch, i: usize, seq: &'b [u8]) -> SamRead<'b> {
    SamRead {
        name: batch.name(i),
        seq,
        qual: batch.qual(i),
        comment: Some(batch.comment(i)).filter(|c| !c.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Region `m` of read `k`: as extension leaves it, but now and then
    /// with a field that later steps fill in already set.
    fn region(k: usize, m: usize) -> AlnReg {
        let mut r = AlnReg {
            rb: (k * 1000 + m) as i64,
            re: (k * 1000 + m + 150) as i64,
            qe: 150,
            score: k as i32,
            n_comp: m as i32,
            frac_rep: 0.25,
            ..AlnReg::default()
        };
        if (k + m) % 7 == 3 {
            r.csub = 5;
            r.hash = 9;
        }
        r
    }

    /// A store of `n` reads where read `k` has `k % 3` regions, built as
    /// `regions_of` builds it.
    fn store(n: usize) -> BatchRegions {
        let reads: Vec<usize> = (0..n).collect();
        let pieces = reads
            .chunks(REGION_PIECE)
            .map(|chunk| {
                let mut p = RegionPiece::default();
                for &k in chunk {
                    let regs: Vec<AlnReg> = (0..k % 3).map(|m| region(k, m)).collect();
                    p.push_read(&regs);
                }
                Mutex::new(p.exact())
            })
            .collect();
        BatchRegions { pieces }
    }

    #[test]
    fn the_region_store_gives_each_read_its_own_regions_unchanged() {
        let n = 3 * REGION_PIECE + 10;
        let s = store(n);
        assert!(s.pieces.iter().any(|p| !p.lock().unwrap().whole.is_empty()));
        let mut out = vec![AlnReg::default(); 5];
        for k in 0..n {
            s.read_into(k, &mut out);
            let want: Vec<AlnReg> = (0..k % 3).map(|m| region(k, m)).collect();
            assert_eq!(out, want, "read {k}");
        }
    }

    #[test]
    fn a_taken_piece_holds_its_reads_and_leaves_the_rest() {
        let n = 3 * REGION_PIECE + 10;
        let s = store(n);
        let piece = s.take_piece(1);
        let mut out = Vec::new();
        let k = REGION_PIECE + 3;
        piece.read_into(3, &mut out);
        let want: Vec<AlnReg> = (0..k % 3).map(|m| region(k, m)).collect();
        assert!(!want.is_empty());
        assert_eq!(out, want);
        assert!(s.pieces[1].lock().unwrap().regs.is_empty());
        s.read_into(1, &mut out);
        assert_eq!(out, vec![region(1, 0)]);
        s.read_into(3 * REGION_PIECE + 2, &mut out);
        assert_eq!(out.len(), (3 * REGION_PIECE + 2) % 3);
    }

    proptest! {
        #[test]
        fn a_stored_region_reads_back_as_it_was(
            a in any::<[i32; 15]>(),
            rb in any::<i64>(),
            re in any::<i64>(),
            hash in any::<u64>(),
            frac_rep in any::<f32>(),
            is_alt in any::<bool>(),
            zero_later in any::<bool>(),
        ) {
            let mut r = AlnReg {
                rb, re, qb: a[0], qe: a[1], rid: a[2], score: a[3], truesc: a[4],
                sub: a[5], alt_sc: a[6], csub: a[7], sub_n: a[8], w: a[9],
                seedcov: a[10], secondary: a[11], secondary_all: a[12],
                seedlen0: a[13], n_comp: a[14], is_alt, frac_rep, hash,
            };
            if zero_later {
                (r.sub, r.alt_sc, r.csub, r.sub_n, r.secondary, r.secondary_all, r.hash) =
                    (0, 0, 0, 0, 0, 0, 0);
            }
            let mut p = RegionPiece::default();
            p.push_read(&[r, r]);
            prop_assert_eq!(p.whole.is_empty(), zero_later);
            let s = BatchRegions { pieces: vec![Mutex::new(p)] };
            let mut out = Vec::new();
            s.read_into(0, &mut out);
            prop_assert_eq!(out.len(), 2);
            for x in &out {
                prop_assert_eq!(x.frac_rep.to_bits(), r.frac_rep.to_bits());
                let (mut x, mut r) = (*x, r);
                (x.frac_rep, r.frac_rep) = (0.0, 0.0);
                prop_assert_eq!(x, r);
            }
        }
    }
}
