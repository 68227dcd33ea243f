//! Command-line surface (clap derive). Names and defaults follow `bwa`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the FM-index of a reference FASTA (plain or gzip).
    Index(IndexArgs),
    /// Align reads (the whole pipeline in one process). Not built yet.
    Mem(PendingArgs),
    /// Stage: SMEM seeding of a read batch. Not built yet.
    Seed(PendingArgs),
    /// Stage: chaining of seeds. Not built yet.
    Chain(PendingArgs),
    /// Stage: banded Smith-Waterman extension of chains. Not built yet.
    Extend(PendingArgs),
    /// Stage: pairing of read ends. Not built yet.
    Pair(PendingArgs),
    /// Stage: mate rescue. Not built yet.
    Rescue(PendingArgs),
    /// Stage: SAM output from batch files. Not built yet.
    Emit(PendingArgs),
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Reference FASTA, plain or gzip-compressed.
    pub reference: PathBuf,
    /// Prefix of the index file (default: the reference path); the index is
    /// written to PREFIX.fmi.
    #[arg(short = 'p', value_name = "PREFIX")]
    pub prefix: Option<PathBuf>,
    /// Threads for suffix-array construction.
    #[arg(short = 't', value_name = "INT", default_value_t = 1)]
    pub threads: usize,
}

/// Arguments of a subcommand that is not built yet: accepted as given so the
/// refusal names the subcommand rather than an argument.
#[derive(Debug, Args)]
pub struct PendingArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<OsString>,
}
