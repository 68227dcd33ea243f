//! Where a run's alignments go. The pipeline makes SAM text, whole lines
//! in output order, and hands it to a [`Sink`]; each output format is a
//! sink of its own, so that the pipeline knows nothing of formats:
//!
//! * [`SamWriter`]: the text as it is, written by a thread of its own.
//!
//! A sink's [`Sink::put`] is called in output order, from whichever
//! thread holds the turn (a worker of the rayon pool, or the batch loop);
//! it must return quickly, leaving slow work to threads of its own or to
//! the pool.

use std::io;

mod sam;
pub use sam::SamWriter;

/// The output of a run, fed SAM text in output order.
pub trait Sink: Send {
    /// Takes the next pieces of text: whole SAM lines, in output order.
    /// An error means the output has failed (it names the cause, e.g. a
    /// full disk): the caller stops and reports it.
    fn put(&mut self, texts: Vec<Vec<u8>>) -> io::Result<()>;
}
