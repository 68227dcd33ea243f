//! BAM out, compressed on the run's worker threads.
//!
//! [`BamWriter::put`] (in output order, quick) cuts the SAM text into
//! jobs of about [`JOB_TEXT`] bytes of whole lines and queues them; the
//! pipeline's workers run queued jobs between their own tasks
//! ([`Chores`]), each job encoding its lines as BAM records and
//! compressing them into BGZF blocks; a writer thread puts the jobs'
//! blocks back in order and writes them. Blocks are cut within a job as
//! htslib cuts them, and jobs are cut from the text alone, so the bytes
//! do not depend on the thread count nor on how the pipeline pieced the
//! text (`mem` and `emit` write the same BAM).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

use super::bam::{encode_text, BamHeader, EncodeBuffers, RecordError};
use super::bgzf::{BlockCompressor, BlockCutter, Level, EOF};
use super::{Chores, Sink};

/// SAM text per job: about 16 BGZF blocks of BAM.
pub const JOB_TEXT: usize = 1 << 20;

/// A job's result: its blocks, or why its text could not be encoded.
type Done = (u64, Result<Vec<u8>, RecordError>);

/// Compressed jobs that may wait for the writer.
const DONE_QUEUE: usize = 16;

struct Job {
    seq: u64,
    text: Vec<u8>,
    done: SyncSender<Done>,
}

/// What the jobs share: the references and the level.
struct Shared {
    header: BamHeader,
    level: Level,
    queue: Mutex<VecDeque<Job>>,
}

/// A thread's encoder and compressor, kept from job to job.
struct JobSpace {
    compressor: BlockCompressor,
    bufs: EncodeBuffers,
    records: Vec<u8>,
}

thread_local! {
    static SPACE: RefCell<Option<JobSpace>> = const { RefCell::new(None) };
}

impl Shared {
    fn run(&self, job: Job) {
        let result = SPACE.with(|space| {
            let mut space = space.borrow_mut();
            let s = match &mut *space {
                Some(s) if s.compressor.level() == self.level => s,
                _ => space.insert(JobSpace {
                    compressor: BlockCompressor::new(self.level),
                    bufs: EncodeBuffers::default(),
                    records: Vec::new(),
                }),
            };
            compress_text(&self.header, &job.text, s)
        });
        // A closed channel means the writer has failed and said why.
        let _ = job.done.send((job.seq, result));
    }
}

/// Encodes `text` and compresses its records into blocks.
fn compress_text(
    header: &BamHeader,
    text: &[u8],
    s: &mut JobSpace,
) -> Result<Vec<u8>, RecordError> {
    s.records.clear();
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut cut = BlockCutter::new(&mut s.compressor);
    let mut bounds = Vec::new();
    encode_text(header, text, &mut s.bufs, &mut s.records, |r| {
        bounds.push(r.len())
    })?;
    let mut at = 0;
    for len in bounds {
        cut.record(&s.records[at..at + len], &mut out);
        at += len;
    }
    cut.flush(&mut out);
    Ok(out)
}

impl Chores for Shared {
    fn run(&self) {
        loop {
            let job = self
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front();
            match job {
                Some(job) => Shared::run(self, job),
                None => return,
            }
        }
    }
}

/// A [`Sink`] that writes BAM to `W`.
pub struct BamWriter<W> {
    shared: Arc<Shared>,
    pending: Vec<u8>,
    next_seq: u64,
    done: Option<SyncSender<Done>>,
    writer: Option<JoinHandle<io::Result<W>>>,
}

impl<W: Write + Send + 'static> BamWriter<W> {
    /// Writes the header block for SAM header `text` and starts the
    /// writer thread. Records must name contigs of the header's `@SQ`
    /// lines.
    pub fn new(mut out: W, text: &[u8], level: Level) -> io::Result<Self> {
        let header = BamHeader::from_sam(text).map_err(io::Error::other)?;
        // The header in blocks of its own, as htslib writes it.
        let mut compressor = BlockCompressor::new(level);
        let mut block = Vec::new();
        compressor.blocks(&header.encode(text), &mut block);
        out.write_all(&block)?;
        let (tx, rx) = sync_channel::<Done>(DONE_QUEUE);
        let writer = thread::Builder::new()
            .name("writer".into())
            .spawn(move || write_in_order(rx, out))?;
        Ok(BamWriter {
            shared: Arc::new(Shared {
                header,
                level,
                queue: Mutex::new(VecDeque::new()),
            }),
            pending: Vec::new(),
            next_seq: 0,
            done: Some(tx),
            writer: Some(writer),
        })
    }

    /// Encodes and writes what is left, ends the file (the EOF block) and
    /// gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        let rest = std::mem::take(&mut self.pending);
        self.queue(rest);
        Chores::run(&*self.shared);
        self.done = None;
        self.join()
    }

    fn queue(&mut self, text: Vec<u8>) {
        let Some(done) = &self.done else { return };
        if text.is_empty() {
            return;
        }
        let job = Job {
            seq: self.next_seq,
            text,
            done: done.clone(),
        };
        self.next_seq += 1;
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(job);
    }

    fn join(&mut self) -> io::Result<W> {
        match self.writer.take() {
            Some(w) => w.join().expect("the BAM writer thread does not panic"),
            None => Err(io::Error::other("the BAM writer has already stopped")),
        }
    }

    fn failed(&self) -> bool {
        self.writer.as_ref().is_none_or(|w| w.is_finished())
    }
}

/// The writer thread: blocks of each job in job order, then EOF.
fn write_in_order<W: Write>(rx: Receiver<Done>, mut out: W) -> io::Result<W> {
    let mut waiting: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut next = 0u64;
    for (seq, result) in rx {
        let blocks = result.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        waiting.insert(seq, blocks);
        while let Some(blocks) = waiting.remove(&next) {
            out.write_all(&blocks)?;
            next += 1;
        }
    }
    if !waiting.is_empty() {
        return Err(io::Error::other("BAM blocks went missing"));
    }
    out.write_all(&EOF)?;
    out.flush()?;
    Ok(out)
}

impl<W: Write + Send + 'static> Sink for BamWriter<W> {
    fn put(&mut self, texts: Vec<Vec<u8>>) -> io::Result<()> {
        if self.failed() {
            self.done = None;
            return match self.join() {
                Err(e) => Err(e),
                Ok(_) => Err(io::Error::other("the BAM writer stopped early")),
            };
        }
        let mut pending = std::mem::take(&mut self.pending);
        for text in texts {
            pending.extend_from_slice(&text);
            super::cut_jobs(&mut pending, JOB_TEXT, |job| self.queue(job));
        }
        self.pending = pending;
        Ok(())
    }

    fn chores(&self) -> Option<Arc<dyn Chores>> {
        Some(self.shared.clone())
    }
}

impl<W> Drop for BamWriter<W> {
    fn drop(&mut self) {
        self.done = None;
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    const HEADER: &[u8] = b"@SQ\tSN:c1\tLN:100000\n@PG\tID:ferrous\n";

    fn line(i: usize) -> String {
        format!(
            "read{i}\t0\tc1\t{}\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tAS:i:{i}\n",
            i % 90_000 + 1
        )
    }

    fn decode(bam: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        noodles_bgzf::io::Reader::new(bam)
            .read_to_end(&mut out)
            .expect("valid BGZF");
        out
    }

    /// Writes `lines` in pieces of `piece` lines, running the chores as
    /// a pipeline worker would.
    fn write(lines: &[String], piece: usize) -> Vec<u8> {
        let mut w = BamWriter::new(Vec::new(), HEADER, Level::DEFAULT).unwrap();
        let chores = w.chores().unwrap();
        for group in lines.chunks(piece) {
            w.put(vec![group.concat().into_bytes()]).unwrap();
            chores.run();
        }
        w.finish().unwrap()
    }

    #[test]
    fn the_bytes_do_not_depend_on_how_the_text_was_pieced() {
        let lines: Vec<String> = (0..40_000).map(line).collect();
        let a = write(&lines, 7);
        let b = write(&lines, 5000);
        assert_eq!(a, b);
        assert!(a.ends_with(&EOF));
        // The records decode in order after the header.
        let header = BamHeader::from_sam(HEADER).unwrap();
        let mut want = header.encode(HEADER);
        let text = lines.concat();
        encode_text(
            &header,
            text.as_bytes(),
            &mut EncodeBuffers::default(),
            &mut want,
            |_| {},
        )
        .unwrap();
        assert_eq!(decode(&a), want);
    }

    #[test]
    fn a_bad_record_fails_the_output_with_its_name() {
        let mut w = BamWriter::new(Vec::new(), HEADER, Level::DEFAULT).unwrap();
        let chores = w.chores().unwrap();
        w.put(vec![b"bad\t0\tnowhere\t1\t60\t1M\t*\t0\t0\tA\tI\n".to_vec()])
            .unwrap();
        w.put(vec![vec![b'x'; 10]]).unwrap();
        let _ = w.put(vec![line(1).repeat(JOB_TEXT / 50).into_bytes()]);
        chores.run();
        let err = w.finish().expect_err("refused");
        assert!(err.to_string().contains("read bad"), "{err}");
    }
}
