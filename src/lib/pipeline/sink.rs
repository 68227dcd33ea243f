//! The pipeline's end of an output: [`TextSink`] takes a batch's SAM text
//! piece by piece, in output order, for an [`output::Sink`] (or a buffer),
//! and [`TextGroups`] gathers small pieces into groups first.

use std::io;
use std::sync::Arc;

use crate::output::{run_on_pool, Chores, Sink};

/// Where a batch's output text goes, piece by piece, in output order: to
/// a run's [`Sink`], or (for callers that want the whole text) to a
/// buffer.
pub struct TextSink<'s> {
    to: SinkTarget<'s>,
    chores: Option<Arc<dyn Chores>>,
}

enum SinkTarget<'s> {
    Output {
        sink: &'s mut dyn Sink,
        /// The output's error, once it has failed.
        failed: Option<io::Error>,
    },
    Buffer(&'s mut Vec<u8>),
}

impl<'s> TextSink<'s> {
    /// A sink that appends every piece to `buf`.
    pub fn buffer(buf: &'s mut Vec<u8>) -> Self {
        TextSink {
            to: SinkTarget::Buffer(buf),
            chores: None,
        }
    }

    /// A sink that hands every piece to `sink`.
    pub fn output(sink: &'s mut dyn Sink) -> Self {
        TextSink {
            chores: sink.chores(),
            to: SinkTarget::Output { sink, failed: None },
        }
    }

    /// The work the output queues for the workers that make its text.
    pub(crate) fn chores(&self) -> Option<Arc<dyn Chores>> {
        self.chores.clone()
    }

    /// Runs the output's queued work on the whole pool (after a batch).
    pub(crate) fn settle(&self) {
        if let Some(chores) = &self.chores {
            run_on_pool(&**chores);
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
    /// Once the output has failed, pieces are dropped: the caller stops
    /// after the batch and reports the output's error.
    pub fn put_all(&mut self, texts: Vec<Vec<u8>>) {
        match &mut self.to {
            SinkTarget::Output { sink, failed } => {
                if failed.is_none() {
                    if let Err(e) = sink.put(texts) {
                        *failed = Some(e);
                    }
                }
            }
            SinkTarget::Buffer(buf) => {
                for t in &texts {
                    buf.extend_from_slice(t);
                }
            }
        }
    }

    /// The output's error, once it has failed (taken: asked once).
    pub(crate) fn take_error(&mut self) -> Option<io::Error> {
        match &mut self.to {
            SinkTarget::Output { failed, .. } => failed.take(),
            SinkTarget::Buffer(_) => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
