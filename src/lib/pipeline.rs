//! The fused runner: the stage functions in a row, for one read and for a
//! batch of reads, plus the batch loop that overlaps reading, aligning and
//! writing (`ferrous mem`).
//!
//! Per read this is bwa's `mem_align1_core` (seeds → chains → chain filter
//! → seed filter → extension → dedup) followed by the single-end half of
//! `worker2` (primary marking, record choice, SAM text). Reads of a batch
//! are aligned in parallel with rayon; each thread keeps one
//! [`ReadWorkspace`], so the hot path allocates nothing per read once warm.

use std::io::Write;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread;
use std::time::Instant;

use crate::chain::{
    chain_seeds, filter_seeds_by_sw, ChainReference, ChainSet, ChainWorkspace, SmemInterval,
};
use crate::emit::header::pg_line;
use crate::emit::{
    region_to_aln, write_header, Aln, AlnWorkspace, SamContig, SamFormatter, SamRead,
};
use crate::extend::{
    chain_to_regions, gen_cigar, local_align, Chain2AlnWorkspace, CigarWorkspace, GapPenalties,
    LocalFlags, LocalWorkspace, ScoreMatrix,
};
use crate::index::FmIndex;
use crate::options::MemOptions;
use crate::reads::{BatchReader, Layout, ReadBatch, ReadsError};
use crate::region::{plan_se, sort_dedup_patch, AlnReg, OutputFlags, PatchContext, ReadPlan};
use crate::seed::{
    collect_intervals, collect_intervals_group, BiInterval, SeedWorkspace, SEED_GROUP,
};
use crate::trace::{self, Kind};

mod files;
mod paired;
mod stages;
pub use files::{
    emit_files, order_run, reads_batch_name, run_step, split_reads, EmitSummary, SplitSummary,
    StageError, StageSummary, Step, MANIFEST,
};
pub use paired::PairWorkspace;

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

    fn is_alt(&self, _rid: i32) -> bool {
        // ferrous indexes carry no ALT contigs yet (bwa's `.alt` file).
        false
    }

    fn fetch_seq(&self, beg: i64, mid: i64, end: i64, buf: &mut Vec<u8>) -> (i64, i64) {
        let (b, e, _rid) = FmIndex::fetch_seq(self, beg, mid, end, buf);
        (b, e)
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
    /// Forward offset of each contig (bwa's `anns[rid].offset`), for pairing.
    offsets: Vec<i64>,
}

impl<'a> Aligner<'a> {
    pub fn new(index: &'a FmIndex, opt: &'a MemOptions) -> Self {
        let f = &opt.flags;
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
            contigs: sam_contigs(index),
            offsets: index.contigs().iter().map(|c| c.offset as i64).collect(),
        }
    }

    /// The SAM header of a run: `@SQ` lines (unless `-H` gives some), the
    /// `-H` lines, the `-R` line and an `@PG` line whose `CL:` is `argv`.
    /// Warns on stderr, as bwa does, when `-H` gives another number of
    /// `@SQ` lines than the index has contigs.
    pub fn sam_header(&self, argv: &[String]) -> Vec<u8> {
        let mut header = Vec::new();
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
        chain_seeds(smems, query.len() as i32, opt, self.index, chain, chains);
        let mat = &self.mat;
        let gaps = GapPenalties::from_options(opt);
        filter_seeds_by_sw(opt, query, self.index, chains, chain, |q, t| {
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
            r.is_alt = self.index.is_alt(r.rid);
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
        SamFormatter::new(&self.contigs, self.opt).write_read(out, &read, &ws.alns, 0, None);
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
        let mut texts = TextGroups::new(sink);
        ordered_tasks(
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
        );
        texts.flush();
    }
}

/// Pieces of text gathered into groups for a [`TextSink`]: a group is
/// about 2000 reads' lines (1 MB of SAM), a few of which may wait for the
/// writer, so that a batch's text is never held whole.
pub(crate) struct TextGroups<'a, 's> {
    sink: &'a mut TextSink<'s>,
    group: Vec<Vec<u8>>,
}

impl<'a, 's> TextGroups<'a, 's> {
    /// Pieces per group.
    const PIECES: usize = 32;

    pub(crate) fn new(sink: &'a mut TextSink<'s>) -> Self {
        TextGroups {
            sink,
            group: Vec::with_capacity(Self::PIECES),
        }
    }

    /// The next piece of text, in output order.
    pub(crate) fn push(&mut self, text: Vec<u8>) {
        self.group.push(text);
        if self.group.len() == Self::PIECES {
            self.flush();
        }
    }

    /// Hands the pieces gathered so far to the sink.
    pub(crate) fn flush(&mut self) {
        if !self.group.is_empty() {
            let group = std::mem::replace(&mut self.group, Vec::with_capacity(Self::PIECES));
            self.sink.put_all(group);
        }
    }
}

/// [`ordered_tasks`] with the results collected in order.
pub(crate) fn ordered_collect<W, T, F>(n: usize, task: F) -> Vec<T>
where
    W: Default,
    T: Send,
    F: Fn(&mut W, usize) -> T + Sync,
{
    let mut out = Vec::with_capacity(n);
    ordered_tasks(n, task, |t| out.push(t));
    out
}

/// Runs `task(ws, k)` for every `k` in `0..n` on the current rayon pool
/// and hands each result to `put` in order of `k`, as soon as all before
/// it are done.
///
/// Every worker takes the next task in order of `k` and keeps one
/// workspace `W` for all it takes, so a slow task delays only the results
/// behind it, never a worker: there is no barrier short of the end, and
/// what waits for an earlier task is about one result per worker. The
/// results do not depend on the number of workers.
pub(crate) fn ordered_tasks<W, T, F, P>(n: usize, task: F, put: P)
where
    W: Default,
    T: Send,
    F: Fn(&mut W, usize) -> T + Sync,
    P: FnMut(T) + Send,
{
    struct Order<T, P> {
        next: usize,
        done: std::collections::BTreeMap<usize, T>,
        put: P,
    }
    let order = std::sync::Mutex::new(Order {
        next: 0,
        done: std::collections::BTreeMap::new(),
        put,
    });
    let taken = std::sync::atomic::AtomicUsize::new(0);
    let workers = rayon::current_num_threads().min(n);
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| {
                let mut ws = W::default();
                loop {
                    let k = taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if k >= n {
                        break;
                    }
                    let t = task(&mut ws, k);
                    let mut o = order
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    o.done.insert(k, t);
                    loop {
                        let next = o.next;
                        let Some(t) = o.done.remove(&next) else {
                            break;
                        };
                        (o.put)(t);
                        o.next += 1;
                    }
                }
            });
        }
    });
}

/// The index's contigs as SAM header lines name them.
pub fn sam_contigs(index: &FmIndex) -> Vec<SamContig> {
    index
        .contigs()
        .iter()
        .map(|c| SamContig {
            name: c.name.clone(),
            len: c.len as i64,
            is_alt: false,
            anno: c.anno.clone(),
        })
        .collect()
}

/// Errors of a fused run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Reads(#[from] ReadsError),
    #[error("writing SAM output: {0}")]
    Write(#[source] std::io::Error),
}

/// What a run did, for the summary line on stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunSummary {
    pub reads: u64,
    pub bases: u64,
    pub batches: u64,
}

/// The fused single-end run: reads batches of `opt.batch_size()` bases (as
/// bwa's `bseq_read`), aligns each batch on the rayon pool and writes its
/// SAM text in input order. Reading the next batch and writing the last
/// one overlap with aligning the current one.
pub fn run_single_end<W: Write + Send>(
    aligner: &Aligner,
    reader: BatchReader,
    out: &mut W,
    verbose: bool,
) -> Result<RunSummary, RunError> {
    run_batches(aligner, reader, out, verbose, |b, sink| {
        aligner.align_batch_single_to(b, sink)
    })
}

/// The fused paired-end run: as [`run_single_end`], with reads from two
/// files (R1, R2 alternating in each batch) or, for `-p`, one interleaved
/// file whose batches are smart-paired. bwa's insert-size messages go to
/// stderr once per batch.
pub fn run_paired_end<W: Write + Send>(
    aligner: &Aligner,
    reader: BatchReader,
    out: &mut W,
    verbose: bool,
) -> Result<RunSummary, RunError> {
    if reader.layout() == Layout::Interleaved {
        run_batches(aligner, reader, out, verbose, |b, sink| {
            sink.put(aligner.align_batch_interleaved(b))
        })
    } else {
        run_batches(aligner, reader, out, verbose, |b, sink| {
            aligner.align_batch_paired_to(b, sink)
        })
    }
}

/// The batch loop: reader thread, `align` on this thread, writer thread.
fn run_batches<W: Write + Send, F: Fn(&ReadBatch, &mut TextSink)>(
    aligner: &Aligner,
    mut reader: BatchReader,
    out: &mut W,
    verbose: bool,
    align: F,
) -> Result<RunSummary, RunError> {
    let batch_bases = aligner.opt.batch_size();
    let mut summary = RunSummary::default();
    let next = move || {
        let mut batch = ReadBatch::new();
        match reader.next_batch(batch_bases, &mut batch) {
            Ok(true) => Some(Ok(batch)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    };
    let work = |batch: ReadBatch, sink: &mut TextSink| {
        let start = Instant::now();
        let mut span = trace::span(Kind::Batch, batch.first_read, summary.batches);
        span.arg("reads", batch.len() as u64);
        span.arg("bases", batch.total_bases());
        align(&batch, sink);
        drop(span);
        summary.reads += batch.len() as u64;
        summary.bases += batch.total_bases();
        summary.batches += 1;
        if verbose {
            eprintln!(
                "[M::mem] aligned {} reads ({} bp) in {:.2} s",
                batch.len(),
                batch.total_bases(),
                start.elapsed().as_secs_f64()
            );
        }
    };
    match overlapped(next, work, out) {
        Ok(()) => Ok(summary),
        Err(Overlapped::Input(e)) => Err(RunError::Reads(e)),
        Err(Overlapped::Write(e)) => Err(RunError::Write(e)),
    }
}

/// Why [`overlapped`] stopped early.
pub(crate) enum Overlapped<E> {
    /// `next` gave an error.
    Input(E),
    /// Writing the output failed.
    Write(std::io::Error),
}

/// Pieces of output text that may wait for the writer: enough to keep it
/// busy while the next batch aligns, few enough that a batch's text is
/// never held whole (a piece is a few thousand reads' lines).
const TEXT_QUEUE: usize = 4;

/// Where a batch's output text goes, piece by piece, in output order: to
/// the writer thread of [`overlapped`], or (for callers that want the
/// whole text) to a buffer.
pub struct TextSink<'s> {
    to: SinkTarget<'s>,
}

enum SinkTarget<'s> {
    Writer {
        tx: SyncSender<Vec<Vec<u8>>>,
        closed: bool,
    },
    Buffer(&'s mut Vec<u8>),
}

impl<'s> TextSink<'s> {
    /// A sink that appends every piece to `buf`.
    pub fn buffer(buf: &'s mut Vec<u8>) -> Self {
        TextSink {
            to: SinkTarget::Buffer(buf),
        }
    }

    /// Hands the next piece of text on.
    pub fn put(&mut self, text: Vec<u8>) {
        match &mut self.to {
            SinkTarget::Buffer(buf) if buf.is_empty() => **buf = text,
            _ => self.put_all(vec![text]),
        }
    }

    /// Hands the next pieces of text on (built in parallel, in order).
    /// Once the writer has failed, pieces are dropped: the caller stops
    /// after the batch and reports the writer's error.
    pub fn put_all(&mut self, texts: Vec<Vec<u8>>) {
        match &mut self.to {
            SinkTarget::Writer { tx, closed } => {
                if !*closed && tx.send(texts).is_err() {
                    *closed = true;
                }
            }
            SinkTarget::Buffer(buf) => {
                for t in &texts {
                    buf.extend_from_slice(t);
                }
            }
        }
    }

    /// Whether the writer behind this sink has stopped.
    fn closed(&self) -> bool {
        matches!(self.to, SinkTarget::Writer { closed: true, .. })
    }
}

/// Runs `work` on each item `next` gives; the text `work` puts into its
/// sink is written to `out` in order. `next` runs on a thread of its own,
/// one item ahead of `work` (two items alive at most), and writing on
/// another, fed through a short queue of text pieces, so that input, work
/// and output overlap. Stops at the first input or write error.
pub(crate) fn overlapped<T, E, W>(
    next: impl FnMut() -> Option<Result<T, E>> + Send,
    mut work: impl FnMut(T, &mut TextSink),
    out: &mut W,
) -> Result<(), Overlapped<E>>
where
    T: Send,
    E: Send,
    W: Write + Send,
{
    let mut next = next;
    thread::scope(|scope| {
        // A rendezvous channel: the reader holds the next item until
        // `work` takes it, and only then starts on the one after.
        let (item_tx, item_rx) = sync_channel::<Result<T, E>>(0);
        let (text_tx, text_rx) = sync_channel::<Vec<Vec<u8>>>(TEXT_QUEUE);
        let reader = thread::Builder::new().name("reader".into());
        reader
            .spawn_scoped(scope, move || {
                while let Some(item) = next() {
                    let failed = item.is_err();
                    if item_tx.send(item).is_err() || failed {
                        return;
                    }
                }
            })
            .expect("the reader thread starts");
        let writer = thread::Builder::new().name("writer".into());
        let writer = writer
            .spawn_scoped(scope, move || -> std::io::Result<()> {
                for (k, texts) in text_rx.into_iter().enumerate() {
                    let mut span = trace::span(Kind::Write, 0, k as u64);
                    span.arg("bytes", texts.iter().map(|t| t.len() as u64).sum());
                    for text in texts {
                        out.write_all(&text)?;
                    }
                }
                out.flush()
            })
            .expect("the writer thread starts");
        let mut sink = TextSink {
            to: SinkTarget::Writer {
                tx: text_tx,
                closed: false,
            },
        };
        let mut result = Ok(());
        for item in item_rx {
            match item {
                Ok(item) => {
                    work(item, &mut sink);
                    if sink.closed() {
                        break; // the writer failed; its error is reported below
                    }
                }
                Err(e) => {
                    result = Err(Overlapped::Input(e));
                    break;
                }
            }
        }
        drop(sink);
        let written = writer.join().expect("writer thread does not panic");
        result?;
        written.map_err(Overlapped::Write)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An item that counts how many of its kind are alive.
    struct Counted<'a> {
        n: u8,
        alive: &'a AtomicUsize,
    }

    impl<'a> Counted<'a> {
        fn new(n: u8, alive: &'a AtomicUsize, most: &AtomicUsize) -> Self {
            let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            Counted { n, alive }
        }
    }

    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.alive.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn ordered_tasks_hand_results_on_in_order_whatever_the_workers() {
        for threads in [1, 2, 5] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            let mut got = Vec::new();
            let used = AtomicUsize::new(0);
            pool.install(|| {
                ordered_tasks(
                    40,
                    |calls: &mut usize, k| {
                        // A fresh workspace per worker, kept across its tasks.
                        *calls += 1;
                        if *calls == 1 {
                            used.fetch_add(1, Ordering::SeqCst);
                        }
                        // Uneven task lengths, so later tasks finish first.
                        std::thread::sleep(std::time::Duration::from_micros(
                            ((k * 7) % 5) as u64 * 300,
                        ));
                        k * 10
                    },
                    |t| got.push(t),
                )
            });
            assert_eq!(got, (0..40).map(|k| k * 10).collect::<Vec<_>>());
            assert!(used.load(Ordering::SeqCst) <= threads);
        }
        let none: Vec<u8> = ordered_collect(0, |_: &mut (), _| 0);
        assert!(none.is_empty());
    }

    #[test]
    fn overlapped_writes_pieces_in_order_with_two_items_alive_at_most() {
        let (alive, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let mut k = 0u8;
        let next = || {
            k += 1;
            (k <= 20).then(|| Ok::<_, ()>(Counted::new(k, &alive, &most)))
        };
        let work = |item: Counted, sink: &mut TextSink| {
            // Slow enough that the reader is always waiting with the next item.
            thread::sleep(std::time::Duration::from_millis(2));
            sink.put(vec![item.n]);
            sink.put_all(vec![vec![item.n; 2], Vec::new(), vec![item.n + 100]]);
        };
        let mut out = Vec::new();
        assert!(overlapped(next, work, &mut out).is_ok());
        let want: Vec<u8> = (1..=20u8).flat_map(|n| [n, n, n, n + 100]).collect();
        assert_eq!(out, want);
        assert_eq!(alive.load(Ordering::SeqCst), 0);
        assert_eq!(most.load(Ordering::SeqCst), 2, "items alive at once");
    }

    /// A writer that fails after `ok` bytes.
    struct Failing {
        ok: usize,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.ok < buf.len() {
                return Err(std::io::Error::other("disk full"));
            }
            self.ok -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn overlapped_stops_soon_after_a_write_error() {
        let mut given = 0;
        let next = || {
            given += 1;
            Some(Ok::<_, ()>(given))
        };
        let mut worked = 0;
        let work = |_: i32, sink: &mut TextSink| {
            worked += 1;
            for _ in 0..10 {
                sink.put(vec![b'x'; 100]);
            }
        };
        let mut out = Failing { ok: 2500 };
        match overlapped(next, work, &mut out) {
            Err(Overlapped::Write(e)) => assert_eq!(e.to_string(), "disk full"),
            _ => panic!("the write error is reported"),
        }
        assert!(worked <= 3 + TEXT_QUEUE, "worked on {worked} items");
    }

    #[test]
    fn overlapped_reports_an_input_error() {
        let mut k = 0;
        let next = || {
            k += 1;
            Some(if k < 3 { Ok(k) } else { Err(k) })
        };
        let work = |n: i32, sink: &mut TextSink| sink.put(n.to_string().into_bytes());
        let mut out = Vec::new();
        match overlapped(next, work, &mut out) {
            Err(Overlapped::Input(3)) => {}
            _ => panic!("the input error is reported"),
        }
        assert_eq!(out, b"12");
    }

    #[test]
    fn a_buffer_sink_keeps_everything_in_order() {
        let mut buf = Vec::new();
        let mut sink = TextSink::buffer(&mut buf);
        sink.put(b"ab".to_vec());
        sink.put_all(vec![b"c".to_vec(), b"de".to_vec()]);
        sink.put(b"f".to_vec());
        assert_eq!(buf, b"abcdef");
    }
}
