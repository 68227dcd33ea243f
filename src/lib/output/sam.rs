//! SAM text out: a writer thread takes pieces of text through a short
//! queue and writes them in order, so that writing overlaps aligning.

use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::{self, JoinHandle};

use super::Sink;
use crate::trace::{self, Kind};

/// Pieces of output text that may wait for the writer: enough to keep it
/// busy while the next batch aligns, few enough that a batch's text is
/// never held whole (a piece is a few thousand reads' lines).
const TEXT_QUEUE: usize = 4;

/// A [`Sink`] that writes the SAM text to `W` on a thread of its own.
pub struct SamWriter<W> {
    tx: Option<SyncSender<Vec<Vec<u8>>>>,
    writer: Option<JoinHandle<io::Result<W>>>,
}

impl<W: Write + Send + 'static> SamWriter<W> {
    /// Starts the writer thread; `out` should be buffered.
    pub fn new(mut out: W) -> Self {
        let (tx, rx) = sync_channel::<Vec<Vec<u8>>>(TEXT_QUEUE);
        let writer = thread::Builder::new()
            .name("writer".into())
            .spawn(move || -> io::Result<W> {
                for (k, texts) in rx.into_iter().enumerate() {
                    let mut span = trace::span(Kind::Write, 0, k as u64);
                    span.arg("bytes", texts.iter().map(|t| t.len() as u64).sum());
                    for text in texts {
                        out.write_all(&text)?;
                    }
                }
                out.flush()?;
                Ok(out)
            })
            .expect("the writer thread starts");
        SamWriter {
            tx: Some(tx),
            writer: Some(writer),
        }
    }

    /// Writes what is queued, flushes, and gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.tx = None;
        self.join()
    }

    fn join(&mut self) -> io::Result<W> {
        match self.writer.take() {
            Some(w) => w.join().expect("the SAM writer thread does not panic"),
            None => Err(io::Error::other("the SAM writer has already stopped")),
        }
    }
}

impl<W: Write + Send + 'static> Sink for SamWriter<W> {
    fn put(&mut self, texts: Vec<Vec<u8>>) -> io::Result<()> {
        let sent = match &self.tx {
            Some(tx) => tx.send(texts).is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The writer thread has stopped: only an error stops it early.
        self.tx = None;
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(io::Error::other("the SAM writer stopped early")),
        }
    }
}

impl<W> Drop for SamWriter<W> {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}
