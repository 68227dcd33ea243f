//! Command-line surface (clap derive). Names and defaults follow `bwa`.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};
use ferrous::index::Algorithm;
use ferrous::options::{MemFlags, MemOptionArgs, MemOptions, ParamError};

#[derive(Debug, Parser)]
#[command(
    name = "ferrous",
    version,
    about = "Short-read aligner giving bwa mem's alignments",
    disable_version_flag = true
)]
pub struct Cli {
    /// Print the version number and exit.
    #[arg(short = 'V', long = "version")]
    pub version: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

// Parsed once per run: the size of the `mem` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the FM-index of a reference FASTA (plain or gzip).
    Index(IndexArgs),
    /// Align reads (the whole pipeline in one process), with bwa mem's flags.
    #[command(disable_help_flag = true)]
    Mem(MemArgs),
    /// Stage 0: cut reads into batch files exactly as `mem` batches them (-K, -t, -p).
    #[command(disable_help_flag = true)]
    Split(SplitArgs),
    /// Stage: SMEM seeds of a batch of reads.
    #[command(disable_help_flag = true)]
    Seed(StageArgs),
    /// Stage: chains of seeds, filtered.
    #[command(disable_help_flag = true)]
    Chain(StageArgs),
    /// Stage: banded Smith-Waterman extension of chains into regions.
    #[command(disable_help_flag = true)]
    Extend(StageArgs),
    /// Stage: the batch's insert-size model (paired reads).
    #[command(disable_help_flag = true)]
    Pair(StageArgs),
    /// Stage: mate rescue (paired reads).
    #[command(disable_help_flag = true)]
    Rescue(StageArgs),
    /// Stage: SAM output of a whole run from its batch files.
    #[command(disable_help_flag = true)]
    Emit(EmitArgs),
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Reference FASTA, plain or gzip-compressed; with --from-bwa, the
    /// prefix of bwa's index files.
    pub reference: PathBuf,
    /// Prefix of the index file (default: the reference path); the index is
    /// written to PREFIX.fmi.
    #[arg(short = 'p', value_name = "PREFIX")]
    pub prefix: Option<PathBuf>,
    /// Convert bwa's index files REFERENCE.{bwt,sa,pac,ann,amb} (from `bwa
    /// index`) instead of reading a FASTA.
    #[arg(long = "from-bwa")]
    pub from_bwa: bool,
    /// Threads for the build.
    #[arg(short = 't', value_name = "INT", default_value_t = 1)]
    pub threads: usize,
    /// Memory budget of the build (e.g. 5G, 800M); the blockwise build
    /// stays within it, and `auto` takes the whole-text build only when
    /// that fits.
    #[arg(long = "max-memory", value_name = "SIZE", default_value = "5G", value_parser = parse_size)]
    pub max_memory: u64,
    /// Suffix sorting: `whole` (libsais over the whole text, about 5 bytes
    /// per base of text and reverse complement, 9 above 2^31), `blockwise`
    /// (bounded by --max-memory), or `auto`.
    #[arg(long = "algorithm", value_name = "auto|whole|blockwise", default_value = "auto", value_parser = parse_algorithm)]
    pub algorithm: Algorithm,
    /// Directory for temporary files (default: beside the output).
    #[arg(long = "tmp-dir", value_name = "DIR")]
    pub tmp_dir: Option<PathBuf>,
}

/// `5G`, `800M`, `64k` or a plain number of bytes (powers of 1,024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, scale) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let scale: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("'{s}': unknown unit '{c}' (use K, M, G or T)")),
            };
            (&t[..i], scale)
        }
        _ => (t, 1),
    };
    let x: f64 = digits
        .parse()
        .map_err(|_| format!("'{s}' is not a size (e.g. 5G, 800M)"))?;
    if !(x.is_finite() && x > 0.0) {
        return Err(format!("'{s}': the size must be positive"));
    }
    Ok((x * scale as f64) as u64)
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    match s {
        "auto" => Ok(Algorithm::Auto),
        "whole" => Ok(Algorithm::Whole),
        "blockwise" => Ok(Algorithm::Blockwise),
        _ => Err(format!("'{s}': expected auto, whole or blockwise")),
    }
}

/// `ferrous mem [options] IDX R1.fq[.gz] [R2.fq[.gz]]`: bwa mem's flags,
/// names and defaults (`fastmap.c: main_mem`). Absent flags stay `None` so
/// that presets and `-A` rescaling can tell given from default.
#[derive(Debug, Args)]
pub struct MemArgs {
    /// Index prefix.
    #[arg(value_name = "IDX")]
    pub index: PathBuf,
    /// Reads (FASTQ or FASTA, plain or gzip); with -p, interleaved pairs.
    #[arg(value_name = "R1.fq")]
    pub reads1: PathBuf,
    /// Mates of R1, in the same order.
    #[arg(value_name = "R2.fq")]
    pub reads2: Option<PathBuf>,

    #[command(flatten)]
    pub opts: AlignOpts,
    /// SAM file to output results to [stdout]; FILE.bam writes BAM.
    #[arg(
        short = 'o',
        visible_short_alias = 'f',
        value_name = "FILE",
        help_heading = "Input/output"
    )]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputOpts,

    /// Print help.
    #[arg(long = "help", action = ArgAction::Help)]
    pub help: Option<bool>,
}

/// What `mem` and `emit` write: format, compression, bwa version.
#[derive(Debug, Args)]
pub struct OutputOpts {
    /// Output format, sam or bam [by the extension of -o; sam on stdout].
    #[arg(
        long = "output-fmt",
        value_name = "sam|bam",
        help_heading = "Output format"
    )]
    pub output_fmt: Option<String>,
    /// BAM compression level, 0 (none) to 9 (smallest) [6, as samtools].
    #[arg(
        short = 'l',
        long = "compress-level",
        value_name = "INT",
        help_heading = "Output format"
    )]
    pub compress_level: Option<u8>,
    /// Print the SAM of bwa VERSION: 0.7.17 (no @HD line, no MQ tag) or
    /// 0.7.19 (@HD first, MQ tag) [0.7.17].
    #[arg(
        long = "bwa-output",
        value_name = "VERSION",
        help_heading = "Output format"
    )]
    pub bwa_output: Option<String>,
    /// Write BAM sorted by ORDER, coordinate or queryname, as `samtools
    /// sort` orders it (and sets @HD SO:); needs BAM output.
    #[arg(long = "sort", value_name = "ORDER", help_heading = "Sorted output")]
    pub sort: Option<String>,
    /// Memory for sorting, all threads together, with a K, M or G suffix;
    /// beyond it sorted runs spill to temporary files [768M].
    #[arg(
        long = "sort-memory",
        value_name = "SIZE",
        help_heading = "Sorted output"
    )]
    pub sort_memory: Option<String>,
    /// Directory for the temporary files of --sort [the directory of -o;
    /// $TMPDIR when writing to stdout].
    #[arg(long = "tmp-dir", value_name = "DIR", help_heading = "Sorted output")]
    pub tmp_dir: Option<PathBuf>,
    /// With --sort coordinate and -o FILE.bam, write its index too:
    /// FILE.bam.csi (as `samtools sort --write-index`) or FILE.bam.bai.
    #[arg(
        long = "write-index",
        value_name = "csi|bai",
        num_args = 0..=1,
        default_missing_value = "csi",
        require_equals = true,
        help_heading = "Sorted output"
    )]
    pub write_index: Option<String>,
}

/// bwa mem's alignment and output options, shared by `mem` and every
/// stage subcommand (a batch records them; a stage refuses a batch made
/// with others).
#[derive(Debug, Args)]
pub struct AlignOpts {
    /// Number of threads [1].
    #[arg(short = 't', value_name = "INT", help_heading = "Algorithm")]
    pub threads: Option<i32>,
    /// Minimum seed length [19].
    #[arg(short = 'k', value_name = "INT", help_heading = "Algorithm")]
    pub min_seed_len: Option<i32>,
    /// Band width for banded alignment [100].
    #[arg(short = 'w', value_name = "INT", help_heading = "Algorithm")]
    pub band_width: Option<i32>,
    /// Off-diagonal X-dropoff [100].
    #[arg(short = 'd', value_name = "INT", help_heading = "Algorithm")]
    pub zdrop: Option<i32>,
    /// Look for internal seeds inside a seed longer than {-k} * FLOAT [1.5].
    #[arg(short = 'r', value_name = "FLOAT", help_heading = "Algorithm")]
    pub split_factor: Option<f32>,
    /// Seed occurrence for the 3rd round seeding [20].
    #[arg(short = 'y', value_name = "INT", help_heading = "Algorithm")]
    pub max_mem_intv: Option<u64>,
    /// Skip seeds with more than INT occurrences [500].
    #[arg(short = 'c', value_name = "INT", help_heading = "Algorithm")]
    pub max_occ: Option<i32>,
    /// Drop chains shorter than FLOAT fraction of the longest overlapping chain [0.50].
    #[arg(short = 'D', value_name = "FLOAT", help_heading = "Algorithm")]
    pub drop_ratio: Option<f32>,
    /// Discard a chain if seeded bases shorter than INT [0].
    #[arg(short = 'W', value_name = "INT", help_heading = "Algorithm")]
    pub min_chain_weight: Option<i32>,
    /// Perform at most INT rounds of mate rescues for each read [50].
    #[arg(short = 'm', value_name = "INT", help_heading = "Algorithm")]
    pub max_matesw: Option<i32>,
    /// Skip mate rescue.
    #[arg(short = 'S', help_heading = "Algorithm")]
    pub no_rescue: bool,
    /// Skip pairing; mate rescue performed unless -S also in use.
    #[arg(short = 'P', help_heading = "Algorithm")]
    pub no_pairing: bool,

    /// Score for a sequence match, which scales options -TdBOELU unless overridden [1].
    #[arg(
        short = 'A',
        value_name = "INT",
        help_heading = "Scoring",
        allow_negative_numbers = true
    )]
    pub match_score: Option<i32>,
    /// Penalty for a mismatch [4].
    #[arg(
        short = 'B',
        value_name = "INT",
        help_heading = "Scoring",
        allow_negative_numbers = true
    )]
    pub mismatch: Option<i32>,
    /// Gap open penalties for deletions and insertions [6,6].
    #[arg(short = 'O', value_name = "INT[,INT]", help_heading = "Scoring")]
    pub gap_open: Option<String>,
    /// Gap extension penalty; a gap of size k cost '{-O} + {-E}*k' [1,1].
    #[arg(short = 'E', value_name = "INT[,INT]", help_heading = "Scoring")]
    pub gap_extend: Option<String>,
    /// Penalty for 5'- and 3'-end clipping [5,5].
    #[arg(short = 'L', value_name = "INT[,INT]", help_heading = "Scoring")]
    pub clip_penalty: Option<String>,
    /// Penalty for an unpaired read pair [17].
    #[arg(
        short = 'U',
        value_name = "INT",
        help_heading = "Scoring",
        allow_negative_numbers = true
    )]
    pub pen_unpaired: Option<i32>,
    /// Read type: pacbio, ont2d, pbref or intractg; changes several options unless overridden.
    #[arg(short = 'x', value_name = "STR", help_heading = "Scoring")]
    pub preset: Option<String>,

    /// Smart pairing: interleaved pairs in R1 (R2 must not be given).
    #[arg(short = 'p', help_heading = "Input/output")]
    pub smart_pairing: bool,
    /// Read group header line such as '@RG\tID:foo\tSM:bar'.
    #[arg(short = 'R', value_name = "STR", help_heading = "Input/output")]
    pub read_group: Option<String>,
    /// Insert STR to header if it starts with @; or insert lines in FILE (repeatable).
    #[arg(short = 'H', value_name = "STR/FILE", help_heading = "Input/output")]
    pub header: Vec<String>,
    /// Treat ALT contigs as part of the primary assembly (ignore IDX.alt).
    #[arg(short = 'j', help_heading = "Input/output")]
    pub ignore_alt: bool,
    /// For split alignment, take the alignment with the smallest coordinate as primary.
    #[arg(short = '5', help_heading = "Input/output")]
    pub primary5: bool,
    /// Don't modify mapQ of supplementary alignments.
    #[arg(short = 'q', help_heading = "Input/output")]
    pub keep_supp_mapq: bool,
    /// Process INT input bases in each batch regardless of the thread count.
    #[arg(
        short = 'K',
        value_name = "INT",
        help_heading = "Input/output",
        allow_negative_numbers = true
    )]
    pub fixed_batch_size: Option<i64>,
    /// Verbosity level: 1=error, 2=warning, 3=message, 4+=debugging [3].
    #[arg(short = 'v', value_name = "INT", help_heading = "Input/output")]
    pub verbosity: Option<i32>,
    /// Minimum score to output [30].
    #[arg(
        short = 'T',
        value_name = "INT",
        help_heading = "Input/output",
        allow_negative_numbers = true
    )]
    pub min_score: Option<i32>,
    /// If there are <INT hits with score >80% of the max score, output all in XA [5,200].
    #[arg(short = 'h', value_name = "INT[,INT]", help_heading = "Input/output")]
    pub max_xa_hits: Option<String>,
    /// Output all alignments for SE or unpaired PE.
    #[arg(short = 'a', help_heading = "Input/output")]
    pub output_all: bool,
    /// Append FASTA/FASTQ comment to SAM output.
    #[arg(short = 'C', help_heading = "Input/output")]
    pub copy_comment: bool,
    /// Output the reference FASTA header in the XR tag.
    #[arg(short = 'V', help_heading = "Input/output")]
    pub ref_header: bool,
    /// Use soft clipping for supplementary alignments.
    #[arg(short = 'Y', help_heading = "Input/output")]
    pub soft_clip: bool,
    /// Mark shorter split hits as secondary.
    #[arg(short = 'M', help_heading = "Input/output")]
    pub no_multi: bool,
    /// Insert size distribution: mean, standard deviation (10% of the mean if
    /// absent), max (4 sigma from the mean if absent) and min. FR orientation only.
    #[arg(
        short = 'I',
        value_name = "FLOAT[,FLOAT[,INT[,INT]]]",
        help_heading = "Input/output"
    )]
    pub insert_size: Option<String>,

    /// Map the whole index file, never copying its occurrence and SA
    /// sections: processes on one machine share the page cache's copy even
    /// where it is in small pages, on which seeding is slower (about a
    /// fifth). Without this option the page cache's copy is used as it lies
    /// when it is in huge pages, and copied when not.
    #[arg(long = "mmap-index", help_heading = "Input/output")]
    pub mmap_index: bool,

    /// Write a trace of every task (Chrome trace-event JSON; opens in
    /// Perfetto) to FILE, for scripts/scaling-model.py.
    #[arg(long = "trace", value_name = "FILE", help_heading = "Input/output")]
    pub trace: Option<PathBuf>,

    /// bwa's single-threaded I/O switch; accepted, output is the same.
    #[arg(short = '1', hide = true)]
    pub no_mt_io: bool,
    #[arg(short = 's', hide = true)]
    pub split_width: Option<i32>,
    #[arg(short = 'G', hide = true)]
    pub max_chain_gap: Option<i32>,
    #[arg(short = 'N', hide = true)]
    pub max_chain_extend: Option<i32>,
    #[arg(short = 'X', hide = true)]
    pub mask_level: Option<f32>,
    #[arg(short = 'Q', hide = true)]
    pub map_q_coef_len: Option<i32>,
}

/// `ferrous split [options] -o DIR R1.fq [R2.fq]`: reads cut into batch files.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// Reads (FASTQ or FASTA, plain or gzip); with -p, interleaved pairs.
    #[arg(value_name = "R1.fq")]
    pub reads1: PathBuf,
    /// Mates of R1, in the same order.
    #[arg(value_name = "R2.fq")]
    pub reads2: Option<PathBuf>,
    /// Directory for the batch files (NNNNNN.reads.msgpack.zst) and manifest.tsv.
    #[arg(short = 'o', value_name = "DIR", required = true)]
    pub outdir: PathBuf,
    #[command(flatten)]
    pub opts: AlignOpts,
    /// Print help.
    #[arg(long = "help", action = ArgAction::Help)]
    pub help: Option<bool>,
}

/// `ferrous seed|chain|extend|pair|rescue [options] IDX IN -o OUT`.
#[derive(Debug, Args)]
pub struct StageArgs {
    /// Index prefix.
    #[arg(value_name = "IDX")]
    pub index: PathBuf,
    /// Input batch file (written by the previous stage).
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Output batch file.
    #[arg(short = 'o', value_name = "OUT", required = true)]
    pub output: PathBuf,
    #[command(flatten)]
    pub opts: AlignOpts,
    /// Print help.
    #[arg(long = "help", action = ArgAction::Help)]
    pub help: Option<bool>,
}

/// `ferrous emit [options] [-o OUT.sam] IDX BATCH...`.
#[derive(Debug, Args)]
pub struct EmitArgs {
    /// Index prefix.
    #[arg(value_name = "IDX")]
    pub index: PathBuf,
    /// All batch files of the run, any order: `extend`'s output for
    /// single-end reads, `rescue`'s for pairs.
    #[arg(value_name = "BATCH", required = true)]
    pub inputs: Vec<PathBuf>,
    /// SAM file to output results to [stdout]; FILE.bam writes BAM.
    #[arg(short = 'o', visible_short_alias = 'f', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputOpts,
    #[command(flatten)]
    pub opts: AlignOpts,
    /// Print help.
    #[arg(long = "help", action = ArgAction::Help)]
    pub help: Option<bool>,
}

impl AlignOpts {
    /// The flags as the library's resolution takes them.
    pub fn option_args(&self) -> MemOptionArgs {
        MemOptionArgs {
            threads: self.threads,
            min_seed_len: self.min_seed_len,
            band_width: self.band_width,
            zdrop: self.zdrop,
            split_factor: self.split_factor,
            max_mem_intv: self.max_mem_intv,
            max_occ: self.max_occ,
            drop_ratio: self.drop_ratio,
            min_chain_weight: self.min_chain_weight,
            max_matesw: self.max_matesw,
            match_score: self.match_score,
            mismatch: self.mismatch,
            gap_open: self.gap_open.clone(),
            gap_extend: self.gap_extend.clone(),
            clip_penalty: self.clip_penalty.clone(),
            pen_unpaired: self.pen_unpaired,
            min_score: self.min_score,
            max_xa_hits: self.max_xa_hits.clone(),
            preset: self.preset.clone(),
            fixed_batch_size: self.fixed_batch_size,
            insert_size: self.insert_size.clone(),
            read_group: self.read_group.clone(),
            header: self.header.clone(),
            verbosity: self.verbosity,
            split_width: self.split_width,
            max_chain_gap: self.max_chain_gap,
            max_chain_extend: self.max_chain_extend,
            mask_level: self.mask_level,
            map_q_coef_len: self.map_q_coef_len,
            flags: MemFlags {
                output_all: self.output_all,
                no_multi: self.no_multi,
                soft_clip: self.soft_clip,
                copy_comment: self.copy_comment,
                ref_header: self.ref_header,
                primary5: self.primary5,
                keep_supp_mapq: self.keep_supp_mapq,
                ignore_alt: self.ignore_alt,
                smart_pairing: self.smart_pairing,
                no_pairing: self.no_pairing,
                no_rescue: self.no_rescue,
            },
        }
    }

    /// Resolved options (defaults, preset, flags, `-A` rescaling, checks).
    pub fn resolve(&self) -> Result<MemOptions, ParamError> {
        MemOptions::resolve(&self.option_args())
    }

    /// [`AlignOpts::resolve`] for reads from `reads2`'s presence: `-p` with
    /// a second read file is refused, since bwa would ignore the file.
    pub fn resolve_for_reads(&self, reads2: Option<&PathBuf>) -> Result<MemOptions, ParamError> {
        if self.smart_pairing && reads2.is_some() {
            return Err(ParamError::Conflict(
                "-p reads pairs interleaved in one file; give no second read file",
            ));
        }
        self.resolve()
    }
}
