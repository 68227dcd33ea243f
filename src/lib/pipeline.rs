//! The fused runner: the stage functions in a row, for one read and for a
//! batch of reads ([`Aligner`]), plus the batch loop that overlaps reading,
//! aligning and output (`run`, `ferrous mem`), the ordered parallel tasks
//! every stage uses (`ordered`) and the pipeline's end of an output
//! (`sink`).
//!
//! Per read this is bwa's `mem_align1_core` (seeds → chains → chain filter
//! → seed filter → extension → dedup) followed by the single-end half of
//! `worker2` (primary marking, record choice, SAM text). Reads of a batch
//! are aligned in parallel with rayon; each thread keeps one
//! [`ReadWorkspace`], so the hot path allocates nothing per read once warm.

use crate::chain::{
    chain_seeds, filter_seeds_by_sw, ChainReference, ChainSet, ChainWorkspace, SmemInterval,
};
use crate::emit::header::{pg_line, user_lines, BwaVersion, HD_LINE};
use crate::emit::{
    region_to_aln, write_header, Aln, AlnWorkspace, SamContig, SamFormatter, SamRead,
};
use crate::extend::{
    chain_to_regions, gen_cigar, local_align, Chain2AlnWorkspace, CigarWorkspace, GapPenalties,
    LocalFlags, LocalWorkspace, ScoreMatrix,
};
use crate::index::{AltContigs, FmIndex};
use crate::options::MemOptions;
use crate::reads::ReadBatch;
use crate::region::{plan_se, sort_dedup_patch, AlnReg, OutputFlags, PatchContext, ReadPlan};
use crate::seed::{
    collect_intervals, collect_intervals_group, BiInterval, SeedWorkspace, SEED_GROUP,
};
use crate::trace::{self, Kind};

mod files;
mod ordered;
mod paired;
mod run;
mod sink;
mod stages;
pub use files::{
    emit_files, order_run, reads_batch_name, run_step, split_reads, EmitSummary, SplitSummary,
    StageError, StageSummary, Step, EMIT_SECTIONS, MANIFEST,
};
pub(crate) use ordered::{ordered_collect, ordered_tasks_with};
pub use paired::PairWorkspace;
pub(crate) use run::{overlapped, Overlapped};
pub use run::{run_paired_end, run_single_end, RunError, RunSummary};
pub(crate) use sink::TextGroups;
pub use sink::TextSink;

pub use crate::index::nt4;

impl ChainReference for FmIndex {
    #[inline]
    fn sa(&self, row: u64) -> u64 {
        FmIndex::sa(self, row)
    }

    #[inline]
    fn sa_many(&self, rows: &[u64], out: &mut [u64]) {
        FmIndex::sa_many(self, rows, out)
    }

    fn l_pac(&self) -> i64 {
        FmIndex::l_pac(self) as i64
    }

    fn intv2rid(&self, rb: i64, re: i64) -> i32 {
        FmIndex::intv2rid(self, rb, re) as i32
    }

    /// The index alone knows no ALT contigs: [`Reference`] adds them.
    fn is_alt(&self, _rid: i32) -> bool {
        false
    }

    fn fetch_seq(&self, beg: i64, mid: i64, end: i64, buf: &mut Vec<u8>) -> (i64, i64) {
        let (b, e, _rid) = FmIndex::fetch_seq(self, beg, mid, end, buf);
        (b, e)
    }
}

/// The reference as chaining sees it: the index, and the ALT contigs in
/// force (bwa's `bns` with its `is_alt` marks).
#[derive(Clone, Copy)]
pub(crate) struct Reference<'a> {
    index: &'a FmIndex,
    alt: &'a AltContigs,
}

impl ChainReference for Reference<'_> {
    #[inline]
    fn sa(&self, row: u64) -> u64 {
        self.index.sa(row)
    }

    #[inline]
    fn sa_many(&self, rows: &[u64], out: &mut [u64]) {
        self.index.sa_many(rows, out)
    }

    fn l_pac(&self) -> i64 {
        self.index.l_pac() as i64
    }

    fn intv2rid(&self, rb: i64, re: i64) -> i32 {
        self.index.intv2rid(rb, re) as i32
    }

    fn is_alt(&self, rid: i32) -> bool {
        self.alt.is_alt(rid)
    }

    fn fetch_seq(&self, beg: i64, mid: i64, end: i64, buf: &mut Vec<u8>) -> (i64, i64) {
        ChainReference::fetch_seq(self.index, beg, mid, end, buf)
    }
}

/// Everything one thread needs to align reads, reused from read to read.
#[derive(Debug, Default)]
pub struct ReadWorkspace {
    query: Vec<u8>,
    seed: SeedWorkspace,
    intervals: Vec<BiInterval>,
    smems: Vec<SmemInterval>,
    chain: ChainWorkspace,
    chains: ChainSet,
    c2a: Chain2AlnWorkspace,
    local: LocalWorkspace,
    patch: CigarWorkspace,
    patch_ref: Vec<u8>,
    patch_cigar: Vec<u32>,
    patch_md: String,
    regs: Vec<AlnReg>,
    plan: ReadPlan,
    aln: AlnWorkspace,
    alns: Vec<Aln>,
    xa: Vec<String>,
}

/// Workspaces of reads seeded together ([`Aligner::seed_group`]).
pub(crate) type ReadGroup = [ReadWorkspace; SEED_GROUP];

/// A read aligner over one index and one set of options.
pub struct Aligner<'a> {
    index: &'a FmIndex,
    opt: &'a MemOptions,
    mat: ScoreMatrix,
    flags: OutputFlags,
    contigs: Vec<SamContig>,
    /// The ALT contigs in force: those of the `.alt` file, none with `-j`.
    alt: AltContigs,
    /// Forward offset of each contig (bwa's `anns[rid].offset`), for pairing.
    offsets: Vec<i64>,
    /// The bwa release whose SAM is printed.
    version: BwaVersion,
}

impl<'a> Aligner<'a> {
    /// An aligner over `index`, whose ALT contigs are `alt` (bwa's
    /// `.alt` file: [`crate::index::AltFile`]) unless `-j` is among the
    /// options.
    pub fn new(index: &'a FmIndex, alt: &AltContigs, opt: &'a MemOptions) -> Self {
        let f = &opt.flags;
        let alt = if f.ignore_alt {
            AltContigs::none(index.contigs().len())
        } else {
            alt.clone()
        };
        Aligner {
            index,
            opt,
            mat: opt.score_matrix(),
            flags: OutputFlags {
                all: f.output_all,
                no_multi: f.no_multi,
                soft_clip: f.soft_clip,
                primary5: f.primary5,
                keep_supp_mapq: f.keep_supp_mapq,
            },
            contigs: sam_contigs(index, &alt),
            alt,
            offsets: index.contigs().iter().map(|c| c.offset as i64).collect(),
            version: BwaVersion::default(),
        }
    }

    /// Prints the SAM of bwa `version` (header `@HD`, `MQ` tag); 0.7.17's
    /// unless set.
    pub fn set_bwa_version(&mut self, version: BwaVersion) {
        self.version = version;
    }

    /// The record formatter for this run's options and bwa version.
    pub(crate) fn formatter(&self) -> SamFormatter<'_> {
        SamFormatter::new(&self.contigs, self.opt)
            .with_mate_mapq(self.version == BwaVersion::V0_7_19)
    }

    /// The SAM header of a run: for bwa 0.7.19 an `@HD` line (unless
    /// `-H` gives one), `@SQ` lines (unless `-H` gives some), the `-H`
    /// lines, the `-R` line and an `@PG` line whose `CL:` is `argv`.
    /// Warns on stderr, as bwa does, when `-H` gives an `@HD` line (0.7.19)
    /// or another number of `@SQ` lines than the index has contigs.
    pub fn sam_header(&self, argv: &[String]) -> Vec<u8> {
        let mut header = Vec::new();
        if self.version == BwaVersion::V0_7_19 {
            let user: Vec<&str> = self.opt.header_lines.iter().map(String::as_str).collect();
            if user_lines(&user, "@HD\t") == 0 {
                header.extend_from_slice(HD_LINE.as_bytes());
                header.push(b'\n');
            } else if self.opt.verbosity >= 2 {
                eprintln!("[W::bwa_print_sam_hdr] please don't include @HD with option -H. Continue anyway.");
            }
        }
        let user_sq = write_header(
            &mut header,
            &self.contigs,
            &self.opt.header_lines,
            self.opt.read_group.as_deref(),
            &pg_line(env!("CARGO_PKG_VERSION"), argv),
        );
        if user_sq > 0 && user_sq != self.contigs.len() && self.opt.verbosity >= 2 {
            eprintln!(
                "[W::mem] {} @SQ lines provided with -H; {} sequences in the index. Continue anyway.",
                user_sq,
                self.contigs.len()
            );
        }
        header
    }

    /// The ALT contigs in force.
    pub fn alt(&self) -> &AltContigs {
        &self.alt
    }

    /// What chaining sees of the reference.
    fn reference(&self) -> Reference<'_> {
        Reference {
            index: self.index,
            alt: &self.alt,
        }
    }

    /// The contigs as SAM `@SQ` lines name them.
    pub fn contigs(&self) -> &[SamContig] {
        &self.contigs
    }

    /// bwa's `mem_align1_core`: the de-duplicated regions of one read whose
    /// bases (codes 0..4) are in `ws.query`; left in `ws.regs`. The three
    /// steps are the `seed`, `chain` and `extend` stages, which the staged
    /// subcommands call one at a time.
    fn find_regions(&self, ws: &mut ReadWorkspace) {
        self.seed_read(ws);
        self.chain_read(ws);
        self.extend_read(ws);
    }

    /// [`Aligner::find_regions`] of the first `n` reads of a group, their
    /// seeding interleaved ([`Aligner::seed_group`]).
    pub(crate) fn find_regions_group(&self, group: &mut ReadGroup, n: usize) {
        self.seed_group(group, n);
        for ws in &mut group[..n] {
            self.chain_read(ws);
            self.extend_read(ws);
        }
    }

    /// [`Aligner::seed_read`] of the first `n` reads of a group at once:
    /// their FM-index searches take turns so that their cache misses
    /// overlap; each read gets the intervals `seed_read` gives it.
    pub(crate) fn seed_group(&self, group: &mut ReadGroup, n: usize) {
        debug_assert!(n <= SEED_GROUP);
        for ws in &mut group[n..] {
            ws.query.clear();
        }
        let [a, b, c, d] = group;
        collect_intervals_group(
            self.index,
            [&a.query, &b.query, &c.query, &d.query],
            self.opt,
            [&mut a.seed, &mut b.seed, &mut c.seed, &mut d.seed],
            [
                &mut a.intervals,
                &mut b.intervals,
                &mut c.intervals,
                &mut d.intervals,
            ],
        );
    }

    /// Loads reads `idx` (at most [`SEED_GROUP`]) of `batch` into the
    /// group's first workspaces; returns how many.
    pub(crate) fn load_group(
        batch: &ReadBatch,
        idx: impl IntoIterator<Item = usize>,
        group: &mut ReadGroup,
    ) -> usize {
        let mut n = 0;
        for (i, ws) in idx.into_iter().zip(group.iter_mut()) {
            Self::load_query(batch, i, ws);
            n += 1;
        }
        n
    }

    /// Seeding: the SMEM intervals of `ws.query`, left in `ws.intervals`.
    pub(crate) fn seed_read(&self, ws: &mut ReadWorkspace) {
        collect_intervals(
            self.index,
            &ws.query,
            self.opt,
            &mut ws.seed,
            &mut ws.intervals,
        );
    }

    /// Chaining: the chains of the intervals in `ws.intervals`, filtered
    /// (chain filter, then the seed filter by local SW), left in
    /// `ws.chains`.
    pub(crate) fn chain_read(&self, ws: &mut ReadWorkspace) {
        let opt = self.opt;
        let ReadWorkspace {
            query,
            intervals,
            smems,
            chain,
            chains,
            local,
            ..
        } = ws;
        let query = &query[..];
        smems.clear();
        smems.extend(intervals.iter().map(|iv| SmemInterval {
            x0: iv.x[0],
            size: iv.x[2],
            qbeg: (iv.info >> 32) as i32,
            qend: iv.info as u32 as i32,
        }));
        let reference = self.reference();
        chain_seeds(smems, query.len() as i32, opt, &reference, chain, chains);
        let mat = &self.mat;
        let gaps = GapPenalties::from_options(opt);
        filter_seeds_by_sw(opt, query, &reference, chains, chain, |q, t| {
            let flags = LocalFlags {
                byte: false,
                min_score: None,
                start: true,
            };
            local_align(local, q, t, mat, gaps, flags).score
        });
    }

    /// Extension: the regions of the chains in `ws.chains`, de-duplicated
    /// and patched, left in `ws.regs`.
    pub(crate) fn extend_read(&self, ws: &mut ReadWorkspace) {
        let opt = self.opt;
        let ReadWorkspace {
            query,
            chains,
            c2a,
            patch,
            patch_ref,
            patch_cigar,
            patch_md,
            regs,
            ..
        } = ws;
        let query = &query[..];
        regs.clear();
        let mat = &self.mat;
        let gaps = GapPenalties::from_options(opt);
        for (c, seeds) in chains.iter() {
            chain_to_regions(opt, mat, self.index, query, c, seeds, c2a, regs);
        }
        let l_pac = self.index.l_pac() as i64;
        let index = self.index;
        let scorer = |q: &[u8], rb: i64, re: i64, band: i32| -> i32 {
            index.get_seq(rb, re, patch_ref);
            gen_cigar(
                patch,
                q,
                patch_ref,
                rb >= l_pac,
                mat,
                gaps,
                band,
                patch_cigar,
                patch_md,
            )
            .map_or(0, |r| r.score)
        };
        sort_dedup_patch(
            opt,
            regs,
            Some(PatchContext {
                query,
                l_pac,
                scorer,
            }),
        );
        for r in regs.iter_mut() {
            r.is_alt = self.alt.is_alt(r.rid);
        }
    }

    /// Loads read `i` of `batch` into `ws.query` as base codes 0..4.
    pub(crate) fn load_query(batch: &ReadBatch, i: usize, ws: &mut ReadWorkspace) {
        ws.query.clear();
        ws.query.extend(batch.seq(i).iter().map(|&b| nt4(b)));
    }

    /// Aligns read `i` of `batch` as a single-end read and appends its SAM
    /// lines to `out`.
    pub fn align_single(
        &self,
        batch: &ReadBatch,
        i: usize,
        ws: &mut ReadWorkspace,
        out: &mut Vec<u8>,
    ) {
        self.align_single_id(batch, i, batch.first_read + i as u64, ws, out);
    }

    /// [`Aligner::align_single`] with the read id given: smart pairing
    /// numbers the single reads of a batch apart from the pairs.
    fn align_single_id(
        &self,
        batch: &ReadBatch,
        i: usize,
        id: u64,
        ws: &mut ReadWorkspace,
        out: &mut Vec<u8>,
    ) {
        Self::load_query(batch, i, ws);
        self.find_regions(ws);
        self.emit_single(batch, i, id, ws, out);
    }

    /// The output half of a single-end read: from its regions in
    /// `ws.regs` (and its bases in `ws.query`) to SAM lines appended to
    /// `out` (bwa's `worker2` single-end branch). `id` is the read's number
    /// in the run, which breaks ties in primary marking.
    pub(crate) fn emit_single(
        &self,
        batch: &ReadBatch,
        i: usize,
        id: u64,
        ws: &mut ReadWorkspace,
        out: &mut Vec<u8>,
    ) {
        plan_se(self.opt, &self.flags, &mut ws.regs, id, &mut ws.plan);
        self.build_alns(ws);
        let read = SamRead {
            name: batch.name(i),
            seq: &ws.query,
            qual: batch.qual(i),
            comment: Some(batch.comment(i)).filter(|c| !c.is_empty()),
        };
        self.formatter().write_read(out, &read, &ws.alns, 0, None);
    }

    /// bwa's `mem_reg2sam` minus the printing: the XA strings (unless
    /// `-a`), then one alignment per planned record.
    fn build_alns(&self, ws: &mut ReadWorkspace) {
        let ReadWorkspace {
            query,
            regs,
            plan,
            aln,
            alns,
            xa,
            ..
        } = ws;
        let n = regs.len();
        xa.clear();
        xa.resize(n, String::new());
        if !self.flags.all {
            for (k, s) in xa.iter_mut().enumerate() {
                for &m in plan.xa.group(k) {
                    let t = region_to_aln(self.opt, &self.mat, self.index, query, &regs[m], aln);
                    let name = &self.contigs[t.rid as usize].name;
                    crate::emit::tags::push_xa_entry(s, name, t.pos, t.is_rev, &t.cigar, t.nm);
                }
            }
        }
        alns.clear();
        for rec in &plan.records {
            let mut a = region_to_aln(
                self.opt,
                &self.mat,
                self.index,
                query,
                &regs[rec.region],
                aln,
            );
            a.flag |= rec.flag;
            a.mapq = rec.mapq;
            a.sub = rec.xs.unwrap_or(-1);
            a.xa = std::mem::take(&mut xa[rec.region]);
            alns.push(a);
        }
    }

    /// Aligns every read of a single-end batch in parallel and returns the
    /// SAM text in input order. The result does not depend on the number of
    /// threads: each read's output depends only on the read and its global
    /// number.
    pub fn align_batch_single(&self, batch: &ReadBatch) -> Vec<u8> {
        let mut text = Vec::new();
        self.align_batch_single_to(batch, &mut TextSink::buffer(&mut text));
        text
    }

    /// [`Aligner::align_batch_single`] with the text put into `sink` a
    /// group of reads at a time, in input order, as each group is done.
    pub fn align_batch_single_to(&self, batch: &ReadBatch, sink: &mut TextSink) {
        const CHUNK: usize = 64;
        let n = batch.len();
        let chores = sink.chores();
        let mut texts = TextGroups::new(sink);
        ordered_tasks_with(
            n.div_ceil(CHUNK),
            |group: &mut ReadGroup, c| {
                let mut out = Vec::with_capacity(CHUNK * 600);
                let end = ((c + 1) * CHUNK).min(n);
                let mut span = trace::span(Kind::Single, batch.first_read, c as u64);
                span.arg("reads", (end - c * CHUNK) as u64);
                // A group of reads at a time, their seeding interleaved.
                for i in (c * CHUNK..end).step_by(SEED_GROUP) {
                    let k = Self::load_group(batch, i..end.min(i + SEED_GROUP), group);
                    self.find_regions_group(group, k);
                    for (j, ws) in group[..k].iter_mut().enumerate() {
                        self.emit_single(
                            batch,
                            i + j,
                            batch.first_read + (i + j) as u64,
                            ws,
                            &mut out,
                        );
                    }
                }
                out
            },
            |out| texts.push(out),
            chores.as_deref(),
        );
        texts.flush();
    }
}

/// The index's contigs as SAM header lines name them (`AH:*` on ALT ones).
pub fn sam_contigs(index: &FmIndex, alt: &AltContigs) -> Vec<SamContig> {
    index
        .contigs()
        .iter()
        .enumerate()
        .map(|(rid, c)| SamContig {
            name: c.name.clone(),
            len: c.len as i64,
            is_alt: alt.is_alt(rid as i32),
            anno: c.anno.clone(),
        })
        .collect()
}
