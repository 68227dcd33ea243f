//! Read input: FASTA/FASTQ, plain or gzip, from a path or `-` (stdin), cut
//! into batches exactly as bwa cuts them (spec §3).
//!
//! * [`SeqReader`] reads one record at a time with kseq's rules (mixed
//!   FASTA/FASTQ, multi-line records, CRLF, name trimming), and turns the
//!   cases where bwa silently stops reading into [`ReadsError`]s that name
//!   the file, the record and the problem.
//! * [`BatchReader`] cuts single-end, paired (two files) or interleaved
//!   input into [`ReadBatch`]es by bwa's `bseq_read` rule: stop after the read
//!   that brings the batch to the requested number of bases, but only at an
//!   even number of reads.
//! * [`SmartPairs`] pairs consecutive reads with equal names within a batch
//!   (`bwa mem -p`, bwa's `bseq_classify`).
//!
//! ```no_run
//! use ferrous::reads::{BatchReader, ReadBatch};
//! # fn main() -> Result<(), ferrous::reads::ReadsError> {
//! let mut input = BatchReader::paired("r1.fq.gz".as_ref(), "r2.fq.gz".as_ref())?;
//! let mut batch = ReadBatch::new();
//! while input.next_batch(10_000_000, &mut batch)? {
//!     for i in 0..batch.len() {
//!         let (_name, _seq, _qual) = (batch.name(i), batch.seq(i), batch.qual(i));
//!     }
//! }
//! # Ok(()) }
//! ```

mod batch;
mod bgzf;
mod error;
mod gunzip;
mod handover;
mod pairs;
mod parser;
mod source;

pub use batch::{BasesRef, ReadBases, ReadBatch, ReadLabels};
pub use error::{ReadsError, RecordProblem};
pub use pairs::{BatchReader, Layout, SmartPairs};
pub use parser::{trim_read_number, SeqReader};

#[cfg(test)]
mod tests;
