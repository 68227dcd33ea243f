//! SAM text out: a writer thread takes groups of text through a queue
//! bounded in bytes and writes them in order, so that writing overlaps
//! aligning.
//!
//! The bound is in bytes, not groups: a paired batch makes all its text
//! in its pairing phase, which on many workers outruns one writer; with
//! room for about a batch's text the workers go on to the next batch's
//! alignment while the writer drains this one (bwa holds a batch's text
//! too). When the writer keeps up, as it does on a few threads, the queue
//! stays nearly empty whatever the bound.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

use super::Sink;
use crate::trace::{self, Kind};

/// Bytes of text that may wait for the writer, per thread of the run:
/// about the text of a default batch (10 Mbp a thread, SAM takes about 3
/// bytes a base).
pub const TEXT_BYTES_PER_THREAD: usize = 30 << 20;

/// The queue between the pipeline and the writer thread.
#[derive(Default)]
struct Queue {
    groups: VecDeque<Vec<Vec<u8>>>,
    /// Bytes in `groups` (not the group being written).
    bytes: usize,
    /// No more groups will come.
    closed: bool,
    /// The writer has stopped (on an error).
    stopped: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a group is taken out (room) or put in (work).
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, q: MutexGuard<'a, Queue>) -> MutexGuard<'a, Queue> {
        self.changed.wait(q).unwrap_or_else(PoisonError::into_inner)
    }

    /// No more groups will come: the writer ends once the queue is empty.
    fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }
}

/// A [`Sink`] that writes the SAM text to `W` on a thread of its own.
pub struct SamWriter<W> {
    shared: Arc<Shared>,
    budget: usize,
    writer: Option<JoinHandle<io::Result<W>>>,
}

impl<W: Write + Send + 'static> SamWriter<W> {
    /// Starts the writer thread, with room for one thread's text
    /// ([`TEXT_BYTES_PER_THREAD`]); `out` should be buffered.
    pub fn new(out: W) -> Self {
        Self::with_budget(out, TEXT_BYTES_PER_THREAD)
    }

    /// Starts the writer thread; up to `budget` bytes of text wait for it
    /// (a group larger than that still goes in when the queue is empty).
    pub fn with_budget(mut out: W, budget: usize) -> Self {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
        });
        let theirs = Arc::clone(&shared);
        let writer = thread::Builder::new()
            .name("writer".into())
            .spawn(move || -> io::Result<W> {
                let result = write_all(&theirs, &mut out);
                let mut q = theirs.lock();
                if result.is_err() {
                    q.stopped = true;
                    q.groups.clear();
                }
                drop(q);
                theirs.changed.notify_all();
                result.map(|()| out)
            })
            .expect("the writer thread starts");
        SamWriter {
            shared,
            budget,
            writer: Some(writer),
        }
    }

    /// Writes what is queued, flushes, and gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.shared.close();
        self.join()
    }

    fn join(&mut self) -> io::Result<W> {
        match self.writer.take() {
            Some(w) => w.join().expect("the SAM writer thread does not panic"),
            None => Err(io::Error::other("the SAM writer has already stopped")),
        }
    }
}

/// The writer thread: writes the groups in order until the queue is
/// closed and empty.
fn write_all<W: Write>(shared: &Shared, out: &mut W) -> io::Result<()> {
    let mut k = 0u64;
    loop {
        let mut q = shared.lock();
        let texts = loop {
            if let Some(texts) = q.groups.pop_front() {
                break texts;
            }
            if q.closed {
                drop(q);
                return out.flush();
            }
            q = shared.wait(q);
        };
        let bytes: usize = texts.iter().map(Vec::len).sum();
        q.bytes -= bytes;
        drop(q);
        shared.changed.notify_all();
        let mut span = trace::span(Kind::Write, 0, k);
        span.arg("bytes", bytes as u64);
        for text in texts {
            out.write_all(&text)?;
        }
        k += 1;
    }
}

impl<W: Write + Send + 'static> Sink for SamWriter<W> {
    fn put(&mut self, texts: Vec<Vec<u8>>) -> io::Result<()> {
        let bytes: usize = texts.iter().map(Vec::len).sum();
        let mut q = self.shared.lock();
        while !q.stopped && q.bytes > 0 && q.bytes + bytes > self.budget {
            q = self.shared.wait(q);
        }
        if !q.stopped && self.writer.is_some() {
            q.groups.push_back(texts);
            q.bytes += bytes;
            drop(q);
            self.shared.changed.notify_all();
            return Ok(());
        }
        drop(q);
        // The writer thread has stopped: only an error stops it early.
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(io::Error::other("the SAM writer stopped early")),
        }
    }
}

impl<W> Drop for SamWriter<W> {
    fn drop(&mut self) {
        self.shared.close();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    /// A writer that holds every write until it is let go.
    struct Gate {
        open: Arc<AtomicBool>,
        out: Vec<u8>,
    }

    impl Write for Gate {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            while !self.open.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(1));
            }
            self.out.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn text_waits_up_to_the_budget_then_put_blocks_until_written() {
        let open = Arc::new(AtomicBool::new(false));
        let gate = Gate {
            open: Arc::clone(&open),
            out: Vec::new(),
        };
        let mut w = SamWriter::with_budget(gate, 10);
        // The first group is taken by the writer (and held at the gate);
        // the next ones queue up to 10 bytes.
        w.put(vec![b"aaaa".to_vec()]).unwrap();
        while w.shared.lock().bytes > 0 {
            thread::sleep(Duration::from_millis(1));
        }
        w.put(vec![b"bbbb".to_vec()]).unwrap();
        w.put(vec![b"cc".to_vec(), b"cccc".to_vec()]).unwrap();
        assert_eq!(w.shared.lock().bytes, 10);
        // The next group does not fit: put waits until the gate opens.
        let opener = {
            let open = Arc::clone(&open);
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(50));
                open.store(true, Ordering::SeqCst);
            })
        };
        w.put(vec![b"d".to_vec()]).unwrap();
        assert!(open.load(Ordering::SeqCst), "put waited for room");
        opener.join().unwrap();
        let gate = w.finish().unwrap();
        assert_eq!(gate.out, b"aaaabbbbccccccd");
    }

    #[test]
    fn a_group_larger_than_the_budget_goes_in_alone() {
        let mut w = SamWriter::with_budget(Vec::new(), 2);
        for k in 0..50u8 {
            w.put(vec![vec![k; 5], vec![k; 3]]).unwrap();
        }
        let out = w.finish().unwrap();
        let want: Vec<u8> = (0..50u8).flat_map(|k| [k; 8]).collect();
        assert_eq!(out, want);
    }

    /// A writer that fails at once.
    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_error_reaches_put_and_nothing_waits_forever() {
        let mut w = SamWriter::with_budget(Broken, 4);
        let mut err = None;
        for _ in 0..1000 {
            if let Err(e) = w.put(vec![b"xxxx".to_vec()]) {
                err = Some(e);
                break;
            }
        }
        assert_eq!(err.expect("put fails").to_string(), "disk full");
    }
}
