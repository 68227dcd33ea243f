//! Where a run's alignments go. The pipeline makes SAM text, whole lines
//! in output order, and hands it to a [`Sink`]; each output format is a
//! sink of its own, so that the pipeline knows nothing of formats:
//!
//! * [`SamWriter`]: the text as it is, written by a thread of its own
//!   (up to a batch's text may wait for it);
//! * [`BamWriter`]: BAM, encoded and compressed on the pipeline's worker
//!   threads ([`bam`] encodes records, [`bgzf`] compresses blocks);
//! * [`SortWriter`]: sorted BAM ([`sort`]) in bounded memory, spilling
//!   sorted runs to temporary files, with its index ([`bam_index`]).
//!
//! A sink's [`Sink::put`] is called in output order, from whichever
//! thread holds the turn (a worker of the rayon pool, or the batch loop);
//! it must return quickly. Slow work goes to a thread of the sink's own,
//! or is queued as [`Chores`] that the pipeline's workers run between
//! their tasks and that the batch loop runs on the whole pool after each
//! batch: so BGZF blocks are compressed by the `-t` threads, not by one
//! writer thread, and no more threads run than `-t` asks for.

use std::io;
use std::path::Path;
use std::sync::Arc;

pub mod bam;
pub mod bam_index;
mod bam_writer;
pub mod bgzf;
mod sam;
pub mod sort;
pub use bam_index::{BamIndex, IndexFormat};
pub use bam_writer::BamWriter;
pub use bgzf::Level;
pub use sam::{SamWriter, TEXT_BYTES_PER_THREAD as SAM_TEXT_BYTES_PER_THREAD};
pub use sort::{SortOptions, SortOrder, SortWriter};

/// The output of a run, fed SAM text in output order.
pub trait Sink: Send {
    /// Takes the next pieces of text: whole SAM lines, in output order.
    /// An error means the output has failed (it names the cause, e.g. a
    /// full disk): the caller stops and reports it.
    fn put(&mut self, texts: Vec<Vec<u8>>) -> io::Result<()>;

    /// The work this sink queues for the pipeline's workers, if any.
    fn chores(&self) -> Option<Arc<dyn Chores>> {
        None
    }
}

/// Work a sink queues for whoever has a moment: the pipeline's workers
/// between tasks, the batch loop after each batch.
pub trait Chores: Send + Sync {
    /// Runs queued work until none is left.
    fn run(&self);
}

/// Runs `chores` on every thread of the current rayon pool until none is
/// left.
pub fn run_on_pool(chores: &dyn Chores) {
    rayon::scope(|s| {
        for _ in 0..rayon::current_num_threads() {
            s.spawn(|_| chores.run());
        }
    });
}

/// Moves whole lines from the front of `pending` to `queue`, in pieces
/// of about `size` bytes (each cut after the first newline from `size`
/// on), so that jobs are cut from the text alone, not from how the
/// pipeline pieced it.
fn cut_jobs(pending: &mut Vec<u8>, size: usize, mut queue: impl FnMut(Vec<u8>)) {
    while pending.len() >= size {
        let Some(nl) = memchr::memchr(b'\n', &pending[size - 1..]) else {
            break;
        };
        let rest = pending.split_off(size + nl);
        queue(std::mem::replace(pending, rest));
    }
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Sam,
    Bam,
}

impl Format {
    /// The format `name` (`sam` or `bam`) as `--output-fmt` takes it.
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "sam" => Some(Format::Sam),
            "bam" => Some(Format::Bam),
            _ => None,
        }
    }

    /// The format a file name asks for: `.bam` is BAM; an extension of
    /// another format ferrous does not write (`.cram`, `.gz`, `.bai`,
    /// ...) is refused, naming it; anything else is SAM (`.sam`, no
    /// extension, `/dev/stdout`, a FIFO), as bwa's `-o` writes SAM under
    /// any name.
    pub fn from_path(path: &Path) -> Result<Format, String> {
        const OTHERS: [&str; 16] = [
            "cram", "crai", "bai", "csi", "gz", "bgz", "bgzf", "zst", "bcf", "vcf", "fq", "fastq",
            "fa", "fasta", "fmi", "json",
        ];
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("bam") => Ok(Format::Bam),
            Some(e) if OTHERS.contains(&e) => Err(format!(
                "{}: ferrous writes SAM or BAM, not .{e} (name the file .sam or .bam, or give --output-fmt)",
                path.display()
            )),
            _ => Ok(Format::Sam),
        }
    }
}
