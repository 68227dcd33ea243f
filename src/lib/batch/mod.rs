//! Batch files: what one pipeline stage writes and the next one reads, so
//! that a workflow engine can run `ferrous seed`, `chain`, `extend`, `pair`,
//! `rescue` and `emit` as separate jobs. The layout is specified in
//! `docs/batch-format.md`.
//!
//! A [`BatchFile`] is a [`BatchHeader`] (magic, format version, the
//! [`Stage`] that wrote it, read numbering, index and options fingerprints,
//! the options themselves) and a [`Payload`]: the reads, plus the output of
//! the writing stage as structure-of-arrays ([`SeedBatch`], [`ChainBatch`],
//! [`RegionBatch`], [`InsertModel`]).
//!
//! On disk (format version 5) it is three zstd frames, content checksum
//! on in each, each holding one MessagePack value (named fields): first
//! the header with the payload less its reads, then the reads' bases, then
//! their names, comments and qualities. The reads come last and apart
//! because no stage changes them: a stage keeps the compressed frames it
//! read ([`BatchFile::take_reads_frame`]) and writes them again as they
//! are ([`BatchFile::carry_reads_frame`]), instead of compressing the same
//! reads once per stage, which was most of the CPU of the cheap stages
//! (`pair`); and the labels apart from the bases because the stages align
//! bases only: they check the labels' frame but do not decode it
//! ([`read_batch_bases`]); the labels are more than half of the reads'
//! bytes.
//!
//! [`write_batch`] writes through a temporary file and renames it, so a
//! reader never sees half a batch; [`read_batch`] checks everything it can
//! (frame checksums, magic, version, stage, fingerprints, offsets, counts)
//! and answers a [`BatchError`] naming the file, never a panic.

mod chains;
mod codec;
pub mod columns;
mod error;
mod insert;
mod offsets;
mod regions;
mod seeds;

pub use chains::ChainBatch;
pub use codec::{
    decode_batch, encode_batch, read_batch, read_batch_bases, read_header, write_batch,
    write_batch_with_level, ReadsFrame,
};
pub use error::BatchError;
pub use insert::InsertModel;
pub use regions::RegionBatch;
pub use seeds::SeedBatch;

use serde::{Deserialize, Serialize};

use crate::options::MemOptions;
use crate::reads::{Layout, ReadBatch};

/// The `magic` of every batch header.
pub const MAGIC: &str = "ferrous-batch";

/// The format version this build writes and reads. Bumped on any change a
/// reader of the previous version would misread (see the docs).
pub const FORMAT_VERSION: u32 = 5;

/// zstd level [`write_batch`] uses.
pub const DEFAULT_LEVEL: i32 = 1;

/// The stage that wrote a batch, which is what the batch holds besides
/// its reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stage {
    /// Reads only, cut from FASTA/FASTQ input (input of `ferrous seed`).
    Reads,
    /// Reads and their seed intervals (written by `ferrous seed`).
    Seeds,
    /// Reads and their chains (written by `ferrous chain`).
    Chains,
    /// Reads and their de-duplicated regions (written by `ferrous extend`).
    Regions,
    /// Reads, their regions and the batch's insert-size model (written by
    /// `ferrous pair`).
    Paired,
    /// Reads, their regions after mate rescue, and the insert-size model
    /// (written by `ferrous rescue`).
    Rescued,
}

impl Stage {
    /// The subcommand (or step) that writes batches of this stage.
    pub fn writer(self) -> &'static str {
        match self {
            Stage::Reads => "reads",
            Stage::Seeds => "seed",
            Stage::Chains => "chain",
            Stage::Regions => "extend",
            Stage::Paired => "pair",
            Stage::Rescued => "rescue",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// Everything about a batch but its data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchHeader {
    /// Always [`MAGIC`].
    pub magic: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub version: u32,
    /// The stage that wrote the batch.
    pub stage: Stage,
    /// Number of the batch in the run, from 0.
    pub batch_index: u64,
    /// Global index of the batch's first read (bwa's `n_processed`); equals
    /// the reads' `first_read`.
    pub first_read: u64,
    /// Number of reads (for paired input, twice the number of pairs).
    pub n_reads: u64,
    /// How the reads pair up: `Single`, `Paired` (reads `2k` and `2k + 1`
    /// are mates) or `Interleaved` (`-p`: consecutive reads with equal
    /// names are mates, found anew by each stage).
    pub layout: Layout,
    /// Whether this is the run's last batch (set by the batch cutter, which
    /// reads one batch ahead), so that `emit` can tell a complete run.
    pub last_batch: bool,
    /// [`crate::index::FmIndex::fingerprint`] of the index used (0 for a
    /// [`Stage::Reads`] batch made without one).
    pub index_fingerprint: u64,
    /// The ids of the ALT contigs in force (bwa's `.alt` file, none with
    /// `-j`), ascending; `None` in a [`Stage::Reads`] batch, which is cut
    /// without the index.
    pub alt_contigs: Option<Vec<u32>>,
    /// [`MemOptions::fingerprint`] of `options`.
    pub options_fingerprint: u64,
    /// The resolved options of the run, as [`MemOptions::as_recorded`]
    /// gives them (batch size explicit, thread count and verbosity reset).
    pub options: MemOptions,
    /// Version of the ferrous that wrote the batch (informational).
    pub ferrous_version: String,
}

/// A batch's data: the reads, and what the writing stage computed for
/// each of them (one entry per read, in read order). Not serialised as
/// such: the file holds the reads apart from the rest (see the module's
/// docs).
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Reads {
        reads: ReadBatch,
    },
    Seeds {
        reads: ReadBatch,
        seeds: SeedBatch,
    },
    Chains {
        reads: ReadBatch,
        chains: ChainBatch,
    },
    Regions {
        reads: ReadBatch,
        regions: RegionBatch,
    },
    Paired {
        reads: ReadBatch,
        regions: RegionBatch,
        insert_model: InsertModel,
    },
    Rescued {
        reads: ReadBatch,
        regions: RegionBatch,
        insert_model: InsertModel,
    },
}

impl Payload {
    /// The stage whose output this is.
    pub fn stage(&self) -> Stage {
        match self {
            Payload::Reads { .. } => Stage::Reads,
            Payload::Seeds { .. } => Stage::Seeds,
            Payload::Chains { .. } => Stage::Chains,
            Payload::Regions { .. } => Stage::Regions,
            Payload::Paired { .. } => Stage::Paired,
            Payload::Rescued { .. } => Stage::Rescued,
        }
    }

    /// The reads.
    pub fn reads(&self) -> &ReadBatch {
        match self {
            Payload::Reads { reads }
            | Payload::Seeds { reads, .. }
            | Payload::Chains { reads, .. }
            | Payload::Regions { reads, .. }
            | Payload::Paired { reads, .. }
            | Payload::Rescued { reads, .. } => reads,
        }
    }

    /// Checks that the stage's data has one entry per read and stays
    /// within each read's length.
    fn check(&self) -> Result<(), String> {
        let reads = self.reads();
        let n = reads.len();
        let (what, len, max_end): (&str, usize, &dyn Fn(usize) -> u64) = match self {
            Payload::Reads { .. } => return Ok(()),
            Payload::Seeds { seeds, .. } => ("seeds", seeds.len(), &|i| seeds.max_query_end(i)),
            Payload::Chains { chains, .. } => {
                ("chains", chains.len(), &|i| chains.max_query_end(i))
            }
            Payload::Regions { regions, .. }
            | Payload::Paired { regions, .. }
            | Payload::Rescued { regions, .. } => {
                ("regions", regions.len(), &|i| regions.max_query_end(i))
            }
        };
        if len != n {
            return Err(format!("{what} for {len} reads, but {n} reads"));
        }
        match (0..n).find(|&i| max_end(i) > reads.seq_len(i) as u64) {
            Some(i) => Err(format!(
                "{what} of read {} reach past its {} bases",
                reads.first_read + i as u64,
                reads.seq_len(i)
            )),
            None => Ok(()),
        }
    }
}

/// What [`BatchFile::check_reference`] needs to know of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceBounds {
    /// Rows of the BWT (`2L + 1`).
    pub rows: u64,
    /// `L`, the forward reference length.
    pub l_pac: i64,
    /// Number of contigs.
    pub n_contigs: usize,
}

/// A whole batch file.
#[derive(Debug, Clone)]
pub struct BatchFile {
    pub header: BatchHeader,
    pub payload: Payload,
    /// The compressed frame the reads were decoded from, to be written
    /// again instead of compressing the reads anew (see
    /// [`BatchFile::carry_reads_frame`]).
    reads_frame: Option<ReadsFrame>,
}

/// Two batches are equal when their header and payload are: a carried
/// reads frame is only a cached encoding of the payload's reads.
impl PartialEq for BatchFile {
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header && self.payload == other.payload
    }
}

impl BatchFile {
    /// A batch of `payload`, with the header filled in from it (stage, read
    /// numbering) and from the arguments (options and their fingerprint,
    /// this build's version). `last_batch` starts false; the ALT set is
    /// empty (`None` in a reads batch) until set.
    pub fn new(
        payload: Payload,
        batch_index: u64,
        layout: Layout,
        index_fingerprint: u64,
        options: &MemOptions,
    ) -> Self {
        let reads = payload.reads();
        BatchFile {
            header: BatchHeader {
                magic: MAGIC.to_string(),
                version: FORMAT_VERSION,
                stage: payload.stage(),
                batch_index,
                first_read: reads.first_read,
                n_reads: reads.len() as u64,
                layout,
                last_batch: false,
                index_fingerprint,
                // No ALT contig until the stage says otherwise.
                alt_contigs: (payload.stage() != Stage::Reads).then(Vec::new),
                options_fingerprint: options.fingerprint(),
                options: options.as_recorded(),
                ferrous_version: env!("CARGO_PKG_VERSION").to_string(),
            },
            payload,
            reads_frame: None,
        }
    }

    /// Takes the compressed frame this batch's reads were decoded from
    /// (`None` for a batch not read from a file, or taken already), so that
    /// a stage can hand it to the batch it writes with the same reads.
    pub fn take_reads_frame(&mut self) -> Option<ReadsFrame> {
        self.reads_frame.take()
    }

    /// Gives this batch the compressed frame of its reads, taken from the
    /// batch they were read with ([`Self::take_reads_frame`]): the encoder
    /// then writes that frame as it is instead of compressing the reads
    /// again. Only for reads passed on unchanged: the encoder checks the
    /// frame against the reads' first read number, count and total bases
    /// (and compresses the reads if they differ), not byte by byte. The
    /// frame is the previous writer's compression: at the same zstd level
    /// and zstd version, the same bytes as compressing anew.
    pub fn carry_reads_frame(&mut self, frame: Option<ReadsFrame>) {
        self.reads_frame = frame;
    }

    /// Checks the reference coordinates of the payload against the index
    /// the reading stage uses (the decoder cannot: it has no index). A
    /// batch of the right fingerprint passes; this guards against a
    /// crafted or damaged file whose checksum happens to hold.
    pub fn check_reference(&self, bounds: ReferenceBounds) -> Result<(), String> {
        let ReferenceBounds {
            rows,
            l_pac,
            n_contigs,
        } = bounds;
        match &self.payload {
            Payload::Reads { .. } => Ok(()),
            Payload::Seeds { seeds, .. } => seeds.check_rows(rows),
            Payload::Chains { chains, .. } => chains.check_reference(l_pac, n_contigs),
            Payload::Regions { regions, .. }
            | Payload::Paired { regions, .. }
            | Payload::Rescued { regions, .. } => regions.check_reference(l_pac, n_contigs),
        }
    }

    /// The header's claims against the payload and the options.
    fn check(&self) -> Result<(), String> {
        let h = &self.header;
        let reads = self.payload.reads();
        if h.stage != self.payload.stage() {
            return Err(format!(
                "header says stage {} but the payload holds {} data",
                h.stage,
                self.payload.stage()
            ));
        }
        if h.n_reads != reads.len() as u64 || h.first_read != reads.first_read {
            return Err(format!(
                "header says reads {}..+{} but the payload holds {}..+{}",
                h.first_read,
                h.n_reads,
                reads.first_read,
                reads.len()
            ));
        }
        if h.layout == Layout::Paired && !reads.len().is_multiple_of(2) {
            return Err(format!(
                "paired batch with an odd number of reads ({})",
                reads.len()
            ));
        }
        if h.stage != Stage::Reads && h.alt_contigs.is_none() {
            return Err(format!(
                "a {} batch that records no ALT contig set",
                h.stage
            ));
        }
        if let Some(ids) = &h.alt_contigs {
            if ids.windows(2).any(|w| w[0] >= w[1]) {
                return Err("ALT contig ids not in ascending order".into());
            }
        }
        if h.options_fingerprint != h.options.fingerprint() {
            return Err("options_fingerprint is not the fingerprint of options".into());
        }
        self.payload.check()
    }
}

/// What a stage requires of the batch it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The stage that must have written the batch.
    pub stage: Stage,
    /// The fingerprint of the index in use.
    pub index_fingerprint: u64,
    /// The fingerprint of the options in use.
    pub options_fingerprint: u64,
    /// The ids of the ALT contigs in force, ascending (checked where the
    /// batch records a set).
    pub alt_contigs: Vec<u32>,
}

#[cfg(test)]
mod tests;
