//! Chunks handed from a producer thread (a gzip decoder, a file's parser)
//! to the reader, in order, with the spent chunks handed back for reuse.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// The producer's end: send `Ok(chunk)`s, then at most one `Err`; dropping
/// it ends the stream. Spent chunks to refill come back on `spare`.
pub(crate) struct Producer<T, E> {
    pub tx: SyncSender<Result<T, E>>,
    pub spare: Receiver<T>,
}

/// The reader's end: the chunk being read, and the way to the next one.
pub(crate) struct Chunks<T, E> {
    rx: Receiver<Result<T, E>>,
    recycle: SyncSender<T>,
    /// The chunk being read (empty before the first [`Chunks::advance`]).
    pub cur: T,
    done: bool,
}

/// A hand-over with room for `ahead` chunks in flight.
pub(crate) fn channel<T: Default, E>(ahead: usize) -> (Producer<T, E>, Chunks<T, E>) {
    let (tx, rx) = sync_channel(ahead);
    let (recycle, spare) = sync_channel(ahead + 2);
    (
        Producer { tx, spare },
        Chunks {
            rx,
            recycle,
            cur: T::default(),
            done: false,
        },
    )
}

impl<T: Default, E> Producer<T, E> {
    /// A spent chunk to refill, or a new one.
    pub fn chunk(&self) -> T {
        self.spare.try_recv().unwrap_or_default()
    }
}

impl<T: Default, E> Chunks<T, E> {
    /// Hands `cur` back and makes the next chunk `cur`: `Ok(false)` at the
    /// end of the stream (and ever after), the producer's error once.
    pub fn advance(&mut self) -> Result<bool, E> {
        if self.done {
            return Ok(false);
        }
        let _ = self.recycle.try_send(std::mem::take(&mut self.cur));
        match self.rx.recv() {
            Ok(Ok(chunk)) => {
                self.cur = chunk;
                Ok(true)
            }
            Ok(Err(e)) => {
                self.done = true;
                Err(e)
            }
            Err(_) => {
                self.done = true;
                Ok(false)
            }
        }
    }
}
