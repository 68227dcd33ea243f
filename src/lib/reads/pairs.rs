//! [`BatchReader`]: batches of reads as bwa's `bseq_read` cuts them, from
//! one file, two files of mates, or one interleaved file; and smart pairing
//! ([`SmartPairs`], bwa's `bseq_classify`) within an interleaved batch.

use crate::trace::{self, Kind};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;

use super::batch::ReadBatch;
use super::handover::{self, Chunks, Producer};
use super::parser::SeqReader;
use super::ReadsError;

/// How the input files hold the reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Layout {
    /// One file of single-end reads.
    Single,
    /// Two files, R1 and R2; a batch alternates R1, R2.
    Paired,
    /// One file whose consecutive reads may be mates (`bwa mem -p`); pair
    /// them per batch with [`SmartPairs::classify`].
    Interleaved,
}

/// Cuts input into batches of about `batch_bases` bases, counting reads
/// across batches (bwa's `n_processed`).
pub struct BatchReader {
    first: Source,
    second: Option<Source>,
    layout: Layout,
    reads_done: u64,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl BatchReader {
    /// Single-end reads from `path` (`-` for stdin).
    pub fn single(path: &Path) -> Result<BatchReader, ReadsError> {
        Ok(Self::from_readers(SeqReader::open(path)?, None))
    }

    /// Mates from two files: record `k` of `r1` pairs with record `k` of
    /// `r2`. Different record counts or names (after trimming) are errors.
    pub fn paired(r1: &Path, r2: &Path) -> Result<BatchReader, ReadsError> {
        let first = SeqReader::open(r1)?;
        let second = SeqReader::open(r2)?;
        Ok(Self::from_readers(first, Some(second)))
    }

    /// Interleaved reads from one file (`bwa mem -p`): batched like
    /// single-end input; see [`SmartPairs`].
    pub fn interleaved(path: &Path) -> Result<BatchReader, ReadsError> {
        let mut reader = Self::from_readers(SeqReader::open(path)?, None);
        reader.layout = Layout::Interleaved;
        Ok(reader)
    }

    /// Batches from readers already opened: paired when `second` is given,
    /// else single-end (use [`BatchReader::set_interleaved`] for `-p`).
    ///
    /// With two files each is parsed on a thread of its own (`Parsed`),
    /// so that reading keeps up with twice as many workers; the batches are
    /// the same either way. One file is parsed by the caller of
    /// [`BatchReader::next_batch`] (in `ferrous mem`, the reader thread).
    pub fn from_readers(first: SeqReader, second: Option<SeqReader>) -> BatchReader {
        let (layout, first, second) = match second {
            Some(second) => (
                Layout::Paired,
                Source::threaded(first, 0),
                Some(Source::threaded(second, 1)),
            ),
            None => (Layout::Single, Source::Here(first), None),
        };
        BatchReader {
            first,
            second,
            layout,
            reads_done: 0,
        }
    }

    /// Marks single-file input as interleaved (no effect on paired input).
    pub fn set_interleaved(&mut self) {
        if self.second.is_none() {
            self.layout = Layout::Interleaved;
        }
    }

    /// How the reads are laid out.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Reads in all batches returned so far.
    pub fn reads_done(&self) -> u64 {
        self.reads_done
    }

    /// Refills `out` with the next batch (bwa's `bseq_read`, spec §3.3):
    /// records (both mates for paired input) are added until the total
    /// number of bases is at least `batch_bases` and the number of reads is
    /// even, or the input ends. Sets `out.first_read`. `Ok(false)` (and an
    /// empty `out`) once the input is exhausted.
    pub fn next_batch(
        &mut self,
        batch_bases: i64,
        out: &mut ReadBatch,
    ) -> Result<bool, ReadsError> {
        out.clear();
        out.first_read = self.reads_done;
        let mut span = trace::span(Kind::Parse, self.reads_done, 0);
        let mut size: i64 = 0;
        while self.first.read_record(out)? {
            size += out.seq_len(out.len() - 1) as i64;
            if let Some(second) = self.second.as_mut() {
                if !second.read_record(out)? {
                    return Err(ReadsError::PairCount {
                        longer: self.first.path().to_string(),
                        shorter: second.path().to_string(),
                        record: self.first.records_read(),
                        name: lossy(out.name(out.len() - 1)),
                        count: second.records_read(),
                    });
                }
                let n = out.len();
                if out.name(n - 2) != out.name(n - 1) {
                    return Err(ReadsError::PairNames {
                        path1: self.first.path().to_string(),
                        path2: second.path().to_string(),
                        pair: self.first.records_read(),
                        name1: lossy(out.name(n - 2)),
                        name2: lossy(out.name(n - 1)),
                    });
                }
                size += out.seq_len(n - 1) as i64;
            }
            if size >= batch_bases && out.len().is_multiple_of(2) {
                break;
            }
        }
        if out.is_empty() {
            if let Some(second) = self.second.as_mut() {
                if second.read_record(out)? {
                    return Err(ReadsError::PairCount {
                        longer: second.path().to_string(),
                        shorter: self.first.path().to_string(),
                        record: second.records_read(),
                        name: lossy(out.name(0)),
                        count: self.first.records_read(),
                    });
                }
            }
        }
        self.reads_done += out.len() as u64;
        span.arg("reads", out.len() as u64);
        span.arg("bases", out.total_bases());
        Ok(!out.is_empty())
    }
}

/// Where a file's records come from: parsed by the caller, or by a thread.
enum Source {
    Here(SeqReader),
    Thread(Parsed),
}

impl Source {
    /// `reader` parsed on a thread of its own, or here if no thread starts.
    fn threaded(reader: SeqReader, file: u64) -> Source {
        match Parsed::spawn(reader, file) {
            Ok(parsed) => Source::Thread(parsed),
            Err(reader) => Source::Here(*reader),
        }
    }

    fn read_record(&mut self, out: &mut ReadBatch) -> Result<bool, ReadsError> {
        match self {
            Source::Here(r) => r.read_record(out),
            Source::Thread(p) => p.read_record(out),
        }
    }

    fn path(&self) -> &str {
        match self {
            Source::Here(r) => r.path(),
            Source::Thread(p) => &p.path,
        }
    }

    fn records_read(&self) -> u64 {
        match self {
            Source::Here(r) => r.records_read(),
            Source::Thread(p) => p.taken,
        }
    }
}

/// Records a chunk holds at most (a chunk of 150 bp reads is about 0.7 MB).
const CHUNK_READS: usize = if cfg!(fuzzing) { 3 } else { 2048 };
/// Bases a chunk holds at most, for long reads.
const CHUNK_BASES: u64 = if cfg!(fuzzing) { 500 } else { 1 << 20 };
/// Chunks parsed ahead of the batch being cut.
const CHUNKS_AHEAD: usize = 4;

/// The records of one file, parsed on a thread of its own and handed over
/// in chunks, in order; a parse error arrives after the records before it,
/// so the batches and the first error are those of parsing in the caller.
/// Dropping it ends the thread at its next hand-over.
struct Parsed {
    path: String,
    chunks: Chunks<ReadBatch, ReadsError>,
    pos: usize,
    /// Records handed out so far.
    taken: u64,
}

impl Parsed {
    /// Starts the parser thread of `reader` (file 0 or 1 of a pair, in the
    /// trace); gives the reader back if the thread cannot start.
    fn spawn(reader: SeqReader, file: u64) -> Result<Parsed, Box<SeqReader>> {
        let path = reader.path().to_string();
        let (producer, chunks) = handover::channel(CHUNKS_AHEAD);
        // The reader comes back through this slot when spawning fails.
        let slot = Arc::new(Mutex::new(Some(reader)));
        let theirs = Arc::clone(&slot);
        let started = thread::Builder::new()
            .name("ferrous-parse".into())
            .spawn(move || {
                let Some(mut reader) = theirs.lock().ok().and_then(|mut r| r.take()) else {
                    return;
                };
                drop(theirs);
                parse_chunks(&mut reader, file, &producer);
            });
        match started {
            Ok(_) => Ok(Parsed {
                path,
                chunks,
                pos: 0,
                taken: 0,
            }),
            Err(_) => {
                let reader = slot.lock().ok().and_then(|mut r| r.take());
                Err(Box::new(reader.expect("the thread did not start")))
            }
        }
    }

    /// Appends the next record to `out`; `Ok(false)` at the end of the file.
    fn read_record(&mut self, out: &mut ReadBatch) -> Result<bool, ReadsError> {
        while self.pos == self.chunks.cur.len() {
            self.pos = 0;
            if !self.chunks.advance()? {
                return Ok(false);
            }
        }
        out.push_from(&self.chunks.cur, self.pos)?;
        self.pos += 1;
        self.taken += 1;
        Ok(true)
    }
}

/// The parser thread: chunks of records until the end, an error, or the
/// receiver is gone.
fn parse_chunks(reader: &mut SeqReader, file: u64, out: &Producer<ReadBatch, ReadsError>) {
    for k in 0.. {
        let mut chunk = out.chunk();
        chunk.clear();
        let mut span = trace::span(Kind::ParseFile, file, k);
        let mut failure = None;
        let mut ended = false;
        while chunk.len() < CHUNK_READS && chunk.total_bases() < CHUNK_BASES {
            match reader.read_record(&mut chunk) {
                Ok(true) => {}
                Ok(false) => {
                    ended = true;
                    break;
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        span.arg("reads", chunk.len() as u64);
        drop(span);
        if !chunk.is_empty() && out.tx.send(Ok(chunk)).is_err() {
            return;
        }
        if let Some(e) = failure {
            let _ = out.tx.send(Err(e));
            return;
        }
        if ended {
            return; // dropping `tx` tells the receiver
        }
    }
}

/// Smart pairing of one batch of interleaved reads (bwa's `bseq_classify`):
/// scanning in order, a read pairs with the next one when their (trimmed)
/// names are equal; all other reads are single.
///
/// bwa aligns the singles as single-end reads with read ids starting at
/// `batch.first_read`, and the pairs as paired-end reads with ids starting at
/// `batch.first_read + singles.len()`; output stays in input order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmartPairs {
    /// Indices of unpaired reads, in batch order.
    pub singles: Vec<usize>,
    /// Indices of paired reads, in batch order: `pairs[2k]` and
    /// `pairs[2k + 1]` (= `pairs[2k] + 1`) are mates.
    pub pairs: Vec<usize>,
}

impl SmartPairs {
    /// Refills `self` from `batch`, reusing the vectors.
    pub fn classify(&mut self, batch: &ReadBatch) {
        self.singles.clear();
        self.pairs.clear();
        let n = batch.len();
        let mut i = 0;
        while i < n {
            if i + 1 < n && batch.name(i) == batch.name(i + 1) {
                self.pairs.extend([i, i + 1]);
                i += 2;
            } else {
                self.singles.push(i);
                i += 1;
            }
        }
    }
}
