//! The fused run (`ferrous mem`): the batch loop that overlaps reading
//! the next batch, aligning this one and the output's work on the last.

use std::sync::mpsc::sync_channel;
use std::thread;
use std::time::Instant;

use super::{Aligner, TextSink};
use crate::output::Sink;
use crate::reads::{BatchReader, Layout, ReadBatch, ReadsError};
use crate::trace::{self, Kind};

/// Errors of a fused run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Reads(#[from] ReadsError),
    #[error("writing the output: {0}")]
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
/// bwa's `bseq_read`), aligns each batch on the rayon pool and hands its
/// SAM text to `sink` in input order. Reading the next batch and writing the last
/// one overlap with aligning the current one.
pub fn run_single_end(
    aligner: &Aligner,
    reader: BatchReader,
    sink: &mut dyn Sink,
    verbose: bool,
) -> Result<RunSummary, RunError> {
    run_batches(aligner, reader, sink, verbose, |b, sink| {
        aligner.align_batch_single_to(b, sink)
    })
}

/// The fused paired-end run: as [`run_single_end`], with reads from two
/// files (R1, R2 alternating in each batch) or, for `-p`, one interleaved
/// file whose batches are smart-paired. bwa's insert-size messages go to
/// stderr once per batch.
pub fn run_paired_end(
    aligner: &Aligner,
    reader: BatchReader,
    sink: &mut dyn Sink,
    verbose: bool,
) -> Result<RunSummary, RunError> {
    if reader.layout() == Layout::Interleaved {
        run_batches(aligner, reader, sink, verbose, |b, sink| {
            sink.put(aligner.align_batch_interleaved(b))
        })
    } else {
        run_batches(aligner, reader, sink, verbose, |b, sink| {
            aligner.align_batch_paired_to(b, sink)
        })
    }
}

/// The batch loop: reader thread, `align` on this thread, `sink` after.
fn run_batches<F: Fn(&ReadBatch, &mut TextSink)>(
    aligner: &Aligner,
    mut reader: BatchReader,
    sink: &mut dyn Sink,
    verbose: bool,
    align: F,
) -> Result<RunSummary, RunError> {
    let batch_bases = aligner.opt.batch_size();
    let mut summary = RunSummary::default();
    // Aligned batches go back to the reader, which refills them: a fresh
    // batch would grow its vectors (copies and page faults) on the reader
    // thread, which costs more than parsing the reads into it.
    let (recycle, spare) = std::sync::mpsc::sync_channel::<ReadBatch>(1);
    let next = move || {
        let mut batch = spare.try_recv().unwrap_or_default();
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
        let _ = recycle.try_send(batch);
    };
    match overlapped(next, work, sink) {
        Ok(()) => Ok(summary),
        Err(Overlapped::Input(e)) => Err(RunError::Reads(e)),
        Err(Overlapped::Write(e)) => Err(RunError::Write(e)),
    }
}

/// Why [`overlapped`] stopped early.
pub(crate) enum Overlapped<E> {
    /// `next` gave an error.
    Input(E),
    /// The output failed.
    Write(std::io::Error),
}

/// Runs `work` on each item `next` gives; the text `work` puts into its
/// [`TextSink`] goes to `sink` in order. `next` runs on a thread of its
/// own, one item ahead of `work` (two items alive at most), so that input
/// and work overlap (and the sink's own threads overlap both). Stops at
/// the first input or output error.
pub(crate) fn overlapped<T, E>(
    next: impl FnMut() -> Option<Result<T, E>> + Send,
    mut work: impl FnMut(T, &mut TextSink),
    sink: &mut dyn Sink,
) -> Result<(), Overlapped<E>>
where
    T: Send,
    E: Send,
{
    let mut next = next;
    thread::scope(|scope| {
        // A rendezvous channel: the reader holds the next item until
        // `work` takes it, and only then starts on the one after.
        let (item_tx, item_rx) = sync_channel::<Result<T, E>>(0);
        thread::Builder::new()
            .name("reader".into())
            .spawn_scoped(scope, move || {
                while let Some(item) = next() {
                    let failed = item.is_err();
                    if item_tx.send(item).is_err() || failed {
                        return;
                    }
                }
            })
            .expect("the reader thread starts");
        let mut sink = TextSink::output(sink);
        for item in item_rx {
            match item {
                Ok(item) => {
                    work(item, &mut sink);
                    sink.settle();
                    if let Some(e) = sink.take_error() {
                        return Err(Overlapped::Write(e));
                    }
                }
                Err(e) => return Err(Overlapped::Input(e)),
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::SamWriter;
    use std::io::Write;
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
        let mut out = SamWriter::new(Vec::new());
        assert!(overlapped(next, work, &mut out).is_ok());
        let out = out.finish().expect("written");
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
        let mut out = SamWriter::with_budget(Failing { ok: 2500 }, 400);
        match overlapped(next, work, &mut out) {
            Err(Overlapped::Write(e)) => assert_eq!(e.to_string(), "disk full"),
            _ => panic!("the write error is reported"),
        }
        // The writer queues a few pieces: work stops a few items later.
        assert!(worked <= 8, "worked on {worked} items");
    }

    #[test]
    fn overlapped_reports_an_input_error() {
        let mut k = 0;
        let next = || {
            k += 1;
            Some(if k < 3 { Ok(k) } else { Err(k) })
        };
        let work = |n: i32, sink: &mut TextSink| sink.put(n.to_string().into_bytes());
        let mut out = SamWriter::new(Vec::new());
        match overlapped(next, work, &mut out) {
            Err(Overlapped::Input(3)) => {}
            _ => panic!("the input error is reported"),
        }
        assert_eq!(out.finish().expect("written"), b"12");
    }
}
