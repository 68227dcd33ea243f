//! Sorted BAM, in bounded memory: `--sort coordinate|queryname`.
//!
//! [`SortWriter::put`] (in output order, quick) cuts the SAM text into
//! jobs as [`super::BamWriter`] does; the pipeline's workers run the jobs
//! between their tasks ([`Chores`]), each encoding its lines as BAM
//! records and computing their keys ([`key`]). Encoded records gather in
//! a run ([`run::RunBuffer`]) until it holds half the memory allowed;
//! the run is then sorted and spilled to a temporary file by a worker
//! while the next fills. A worker that would take the memory past the
//! bound runs a waiting spill itself, or waits for one to finish.
//!
//! [`SortWriter::finish`] sorts the last run on the `-t` threads, merges
//! it with the spilled runs (none when everything fitted), and writes the
//! records ([`out`]): BGZF blocks cut as htslib cuts them, compressed in
//! parallel, and indexed on the way when asked ([`super::bam_index`]).
//!
//! Every record's key ends with its place in the input, so that ties keep
//! the input order (as `samtools sort` keeps them) whatever the runs.

pub mod key;
mod out;
mod run;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

pub use key::SortOrder;

use self::key::Key;
use self::out::SortedOut;
use self::run::{Chunk, RunBuffer, SpilledRun};
use super::bam::{encode_text, BamHeader, EncodeBuffers};
use super::bam_index::{BamIndex, IndexBuilder, IndexFormat};
use super::bam_writer::JOB_TEXT;
use super::bgzf::{BlockCompressor, Level};
use super::{Chores, Sink};

/// samtools' default memory per thread, 768 MiB; ferrous's bound is for
/// all threads together.
pub const DEFAULT_MEMORY: usize = 768 << 20;

/// What and how to sort.
#[derive(Debug, Clone)]
pub struct SortOptions {
    pub order: SortOrder,
    /// Bytes of encoded records (and their keys) held in memory at most.
    pub memory: usize,
    /// Where runs are spilled.
    pub tmp_dir: PathBuf,
    /// The name temporary files are named after (the output's).
    pub tmp_stem: String,
    /// Threads for the final sort, merge and compression.
    pub threads: usize,
    pub level: Level,
    pub index: Option<IndexFormat>,
}

/// Parses a memory size as samtools' `-m` takes it: bytes, or with a
/// `K`, `M` or `G` suffix (powers of 1024).
pub fn parse_memory(text: &str) -> Option<usize> {
    let t = text.trim();
    let (digits, shift) = match t.as_bytes().last()?.to_ascii_uppercase() {
        b'K' => (&t[..t.len() - 1], 10),
        b'M' => (&t[..t.len() - 1], 20),
        b'G' => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n: usize = digits.parse().ok()?;
    n.checked_mul(1 << shift).filter(|&n| n > 0)
}

/// The SAM header as `samtools sort` rewrites it: `SO:` set to the order
/// (on `@HD`, or a new `@HD\tVN:1.6` first), `GO:` and `SS:` removed.
pub fn sorted_header(text: &[u8], order: SortOrder) -> Vec<u8> {
    let so = format!("SO:{}", order.name());
    let mut out = Vec::with_capacity(text.len() + 32);
    if !text.starts_with(b"@HD\t") {
        out.extend_from_slice(format!("@HD\tVN:1.6\t{so}\n").as_bytes());
        out.extend_from_slice(text);
        return out;
    }
    let nl = memchr::memchr(b'\n', text).map_or(text.len(), |i| i + 1);
    let hd = text[..nl].strip_suffix(b"\n").unwrap_or(&text[..nl]);
    let mut fields: Vec<Vec<u8>> = Vec::new();
    let mut had_so = false;
    for f in hd.split(|&c| c == b'\t') {
        if f.starts_with(b"SO:") {
            fields.push(so.as_bytes().to_vec());
            had_so = true;
        } else if !(f.starts_with(b"GO:") || f.starts_with(b"SS:")) {
            fields.push(f.to_vec());
        }
    }
    if !had_so {
        fields.push(so.into_bytes());
    }
    out.extend_from_slice(&fields.join(&b'\t'));
    out.push(b'\n');
    out.extend_from_slice(&text[nl..]);
    out
}

struct Job {
    seq: u64,
    text: Vec<u8>,
}

/// What the workers share.
struct Shared {
    header: BamHeader,
    order: SortOrder,
    n_ref: u32,
    memory: usize,
    opts: SortOptions,
    jobs: Mutex<VecDeque<Job>>,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// The run being filled.
    buffer: RunBuffer,
    /// Memory held by the run being filled and the runs being spilled.
    held: usize,
    /// Runs waiting to be spilled, and the number being spilled.
    to_spill: Vec<RunBuffer>,
    spilling: usize,
    spilled: Vec<SpilledRun>,
    error: Option<io::Error>,
}

thread_local! {
    static SPACE: RefCell<(EncodeBuffers, Vec<u8>)> = RefCell::new(Default::default());
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fail(&self, e: io::Error) {
        let mut st = self.state();
        st.error.get_or_insert(e);
        self.changed.notify_all();
    }

    /// Encodes a job's lines and adds them to the run.
    fn encode(&self, job: Job) {
        let (order, n_ref) = (self.order, self.n_ref);
        let chunk = SPACE.with(|space| {
            let (bufs, records) = &mut *space.borrow_mut();
            records.clear();
            let mut keys = Vec::new();
            let mut at = 0usize;
            encode_text(&self.header, &job.text, bufs, records, |rec| {
                let key = Key {
                    primary: order.primary(rec, n_ref),
                    ord: job.seq << 32 | keys.len() as u64,
                };
                keys.push((key, at as u32));
                at += rec.len();
            })?;
            Ok::<_, super::bam::RecordError>(Chunk {
                data: records.clone(),
                keys,
            })
        });
        match chunk {
            Ok(chunk) => self.add(chunk),
            Err(e) => self.fail(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    }

    /// Adds encoded records to the run, spilling to stay within the
    /// memory bound.
    fn add(&self, chunk: Chunk) {
        let size = chunk.size();
        let mut st = self.state();
        loop {
            if st.error.is_some() {
                return;
            }
            if st.held + size <= self.memory || st.held == 0 {
                break;
            }
            if let Some(run) = st.to_spill.pop() {
                drop(st);
                self.spill(run);
                st = self.state();
            } else if st.spilling > 0 {
                st = self
                    .changed
                    .wait(st)
                    .unwrap_or_else(PoisonError::into_inner);
            } else {
                // Nothing on its way out: spill the run being filled.
                let run = std::mem::take(&mut st.buffer);
                st.spilling += 1;
                drop(st);
                self.spill(run);
                st = self.state();
            }
        }
        st.held += size;
        st.buffer.add(chunk);
        if st.buffer.bytes() >= self.memory / 2 {
            let run = std::mem::take(&mut st.buffer);
            st.spilling += 1;
            st.to_spill.push(run);
        }
    }

    /// Sorts a run and writes it to a temporary file (the run was
    /// counted in `spilling`).
    fn spill(&self, mut run: RunBuffer) {
        run.sort(self.order);
        let result = run.spill(&self.opts.tmp_dir, &self.opts.tmp_stem);
        let mut st = self.state();
        st.spilling -= 1;
        st.held -= run.bytes();
        match result {
            Ok(file) => st.spilled.push(file),
            Err(e) => {
                st.error.get_or_insert(e);
            }
        }
        self.changed.notify_all();
    }
}

impl Chores for Shared {
    fn run(&self) {
        loop {
            let spill = self.state().to_spill.pop();
            if let Some(run) = spill {
                self.spill(run);
                continue;
            }
            let job = self
                .jobs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front();
            match job {
                Some(job) => self.encode(job),
                None => return,
            }
        }
    }
}

/// What [`SortWriter::finish`] gives back.
pub struct SortDone<W> {
    pub out: W,
    /// The index, when one was asked for.
    pub index: Option<BamIndex>,
    pub records: u64,
    /// Runs spilled to temporary files (0 when everything fitted).
    pub runs: usize,
}

/// A [`Sink`] that writes sorted BAM to `W`.
pub struct SortWriter<W> {
    shared: Arc<Shared>,
    pending: Vec<u8>,
    next_seq: u64,
    out: W,
    /// Compressed bytes written (the header).
    written: u64,
    /// The index's builder, when one was asked for (made before the run,
    /// so that a reference too long for the format is refused at once).
    index: Option<IndexBuilder>,
    /// SAM text per job: [`JOB_TEXT`], less when memory is short, so that
    /// a run holds many jobs.
    job_text: usize,
}

impl<W: Write + Send> SortWriter<W> {
    /// Writes the header (SAM header `text`, its `@HD` rewritten as
    /// samtools sort rewrites it) and gets ready for records.
    pub fn new(mut out: W, text: &[u8], opts: SortOptions) -> io::Result<Self> {
        let header = BamHeader::from_sam(text).map_err(io::Error::other)?;
        let index = match opts.index {
            Some(format) => {
                Some(IndexBuilder::new(format, header.refs()).map_err(io::Error::other)?)
            }
            None => None,
        };
        let text = sorted_header(text, opts.order);
        let mut compressor = BlockCompressor::new(opts.level);
        let mut block = Vec::new();
        compressor.blocks(&header.encode(&text), &mut block);
        out.write_all(&block)?;
        let n_ref = header.refs().len() as u32;
        let job_text = (opts.memory / 16).clamp(4096, JOB_TEXT);
        Ok(SortWriter {
            shared: Arc::new(Shared {
                header,
                order: opts.order,
                n_ref,
                memory: opts.memory.max(1),
                opts,
                jobs: Mutex::new(VecDeque::new()),
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
            }),
            pending: Vec::new(),
            next_seq: 0,
            out,
            written: block.len() as u64,
            index,
            job_text,
        })
    }

    fn queue(&mut self, text: Vec<u8>) {
        if text.is_empty() {
            return;
        }
        let job = Job {
            seq: self.next_seq,
            text,
        };
        self.next_seq += 1;
        self.shared
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(job);
    }

    /// Sorts what is held, merges it with the spilled runs and writes the
    /// records, on a pool of the threads asked for.
    pub fn finish(mut self) -> io::Result<SortDone<W>> {
        let rest = std::mem::take(&mut self.pending);
        self.queue(rest);
        let SortWriter {
            shared,
            mut out,
            written,
            index,
            ..
        } = self;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(shared.opts.threads.max(1))
            .thread_name(|k| format!("sort {k}"))
            .build()
            .map_err(io::Error::other)?;
        let (index, records, runs) = pool.install(|| {
            super::run_on_pool(&*shared);
            let mut st = shared.state();
            while st.spilling > 0 {
                st = shared
                    .changed
                    .wait(st)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if let Some(e) = st.error.take() {
                return Err(e);
            }
            let mut memory = std::mem::take(&mut st.buffer);
            let spilled = std::mem::take(&mut st.spilled);
            drop(st);
            let opts = &shared.opts;
            let mut out = SortedOut::new(&mut out, written, opts.level, index);
            memory.par_sort(opts.order);
            let runs = spilled.len();
            let mut records = 0u64;
            if spilled.is_empty() {
                records = memory.count() as u64;
                out.all_records(memory.count(), |i| memory.get(i))?;
            } else {
                run::merge(opts.order, shared.n_ref, &memory, spilled, |rec| {
                    records += 1;
                    out.record(rec)
                })?;
            }
            let (_, index) = out.finish()?;
            Ok::<_, io::Error>((index, records, runs))
        })?;
        Ok(SortDone {
            out,
            index,
            records,
            runs,
        })
    }

    fn failed(&self) -> Option<io::Error> {
        let st = self.shared.state();
        st.error
            .as_ref()
            .map(|e| io::Error::new(e.kind(), e.to_string()))
    }
}

impl<W: Write + Send> Sink for SortWriter<W> {
    fn put(&mut self, texts: Vec<Vec<u8>>) -> io::Result<()> {
        if let Some(e) = self.failed() {
            return Err(e);
        }
        let mut pending = std::mem::take(&mut self.pending);
        for text in texts {
            pending.extend_from_slice(&text);
            super::cut_jobs(&mut pending, self.job_text, |job| self.queue(job));
        }
        self.pending = pending;
        Ok(())
    }

    fn chores(&self) -> Option<Arc<dyn Chores>> {
        Some(self.shared.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_header_is_rewritten_as_samtools_sort_rewrites_it() {
        let bare = b"@SQ\tSN:a\tLN:10\n@PG\tID:bwa\n";
        assert_eq!(
            sorted_header(bare, SortOrder::Coordinate),
            b"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:a\tLN:10\n@PG\tID:bwa\n"
        );
        let hd = b"@HD\tVN:1.5\tSO:unsorted\tGO:query\n@SQ\tSN:a\tLN:10\n";
        assert_eq!(
            sorted_header(hd, SortOrder::QueryName),
            b"@HD\tVN:1.5\tSO:queryname\n@SQ\tSN:a\tLN:10\n"
        );
        assert_eq!(
            sorted_header(b"@HD\tVN:1.4\n", SortOrder::Coordinate),
            b"@HD\tVN:1.4\tSO:coordinate\n"
        );
    }

    #[test]
    fn memory_sizes_parse_as_samtools_takes_them() {
        assert_eq!(parse_memory("768M"), Some(768 << 20));
        assert_eq!(parse_memory("2g"), Some(2 << 30));
        assert_eq!(parse_memory("64K"), Some(64 << 10));
        assert_eq!(parse_memory("1000"), Some(1000));
        for bad in ["", "M", "0", "1.5G", "-1M", "lots"] {
            assert_eq!(parse_memory(bad), None, "{bad}");
        }
    }

    const HEADER: &[u8] = b"@SQ\tSN:c1\tLN:100000\n@SQ\tSN:c2\tLN:5000\n";

    /// Lines with many ties (same position and strand) and unplaced reads.
    fn lines() -> Vec<String> {
        (0..6000)
            .map(|i: u32| {
                let h = i.wrapping_mul(2_654_435_761);
                let (contig, flag) = match h % 7 {
                    0 => ("*", 4),
                    1 => ("c2", 16),
                    _ => ("c1", if h.is_multiple_of(3) { 16 } else { 0 }),
                };
                let pos = if contig == "*" { 0 } else { h % 50 + 1 };
                let cigar = if contig == "*" { "*" } else { "10M" };
                format!("r{}\t{flag}\t{contig}\t{pos}\t60\t{cigar}\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tXI:i:{i}\n", h % 300)
            })
            .collect()
    }

    /// Sorts `lines` with `memory` bytes, feeding them in pieces and
    /// running the chores as the pipeline would; gives the BAM, the spill
    /// count, and leaves the temporary directory to check.
    fn sort(
        lines: &[String],
        order: SortOrder,
        memory: usize,
        tmp: &std::path::Path,
    ) -> (Vec<u8>, usize) {
        let opts = SortOptions {
            order,
            memory,
            tmp_dir: tmp.to_path_buf(),
            tmp_stem: "t.bam".into(),
            threads: 2,
            level: Level::new(1).unwrap(),
            index: None,
        };
        let mut w = SortWriter::new(Vec::new(), HEADER, opts).unwrap();
        let chores = w.chores().unwrap();
        for piece in lines.chunks(97) {
            w.put(vec![piece.concat().into_bytes()]).unwrap();
            chores.run();
        }
        let done = w.finish().unwrap();
        (done.out, done.runs)
    }

    /// A decoded record: name, flag, tid, pos, the end of its XI tag.
    type Fields = (Vec<u8>, u16, i32, i32, Vec<u8>);

    /// The records of a BAM, decoded.
    fn records(bam: &[u8]) -> Vec<Fields> {
        let mut data = Vec::new();
        noodles_bgzf::io::Reader::new(bam)
            .read_to_end(&mut data)
            .unwrap();
        let l_text = u32::from_le_bytes(data[4..8].try_into().unwrap()) as usize;
        let mut at = 8 + l_text;
        let n_ref = u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
        at += 4;
        for _ in 0..n_ref {
            let l = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
            at += 8 + l;
        }
        let mut out = Vec::new();
        while at < data.len() {
            let len = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
            let rec = &data[at..at + 4 + len];
            out.push((
                key::name(rec).to_vec(),
                key::flag(rec),
                key::tid(rec),
                key::pos(rec),
                rec[rec.len() - 3..].to_vec(),
            ));
            at += 4 + len;
        }
        out
    }

    #[test]
    fn spilled_runs_merge_into_the_order_of_a_stable_sort() {
        let lines = lines();
        for order in [SortOrder::Coordinate, SortOrder::QueryName] {
            let dir = tempfile::tempdir().unwrap();
            let (whole, runs) = sort(&lines, order, 1 << 30, dir.path());
            assert_eq!(runs, 0);
            let (spilled, runs) = sort(&lines, order, 16 << 10, dir.path());
            assert!(runs > 10, "{runs} runs");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
            let got = records(&spilled);
            assert_eq!(got, records(&whole));
            // A stable sort of the input by samtools' key.
            let mut want = records(&sort(&lines, order, 1 << 30, dir.path()).0);
            want.sort_by(|a, b| match order {
                SortOrder::Coordinate => {
                    let t = |r: &Fields| (r.2 as u32, r.3, r.1 & 16);
                    t(a).cmp(&t(b))
                }
                SortOrder::QueryName => {
                    strnum_cmp_names(&a.0, &b.0).then((a.1 & 0xc0).cmp(&(b.1 & 0xc0)))
                }
            });
            assert_eq!(got, want, "{order:?}");
            assert_eq!(got.len(), lines.len());
        }
    }

    #[test]
    fn a_reference_too_long_for_bai_is_refused_before_any_record() {
        let opts = SortOptions {
            order: SortOrder::Coordinate,
            memory: DEFAULT_MEMORY,
            tmp_dir: std::env::temp_dir(),
            tmp_stem: "t.bam".into(),
            threads: 1,
            level: Level::DEFAULT,
            index: Some(IndexFormat::Bai),
        };
        let long = b"@SQ\tSN:big\tLN:600000000\n";
        let err = SortWriter::new(Vec::new(), long, opts.clone())
            .err()
            .expect("refused");
        assert!(err.to_string().contains("big"), "{err}");
        let csi = SortOptions {
            index: Some(IndexFormat::Csi),
            ..opts
        };
        assert!(SortWriter::new(Vec::new(), long, csi).is_ok());
    }

    fn strnum_cmp_names(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        key::strnum_cmp(a, b)
    }
}
