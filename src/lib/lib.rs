//! ferrous: a short-read aligner that computes what `bwa mem` 0.7.17 computes.
//!
//! The library mirrors the pipeline. Each stage is a function from one batch
//! to the next, given the options and the index; the fused runner
//! (`pipeline`) and the stage subcommands call the same functions.
//!
//! | stage                          | module       | subcommand       | status  |
//! |--------------------------------|--------------|------------------|---------|
//! | build FM-index                 | [`index`]    | `ferrous index`  | working |
//! | read FASTA/FASTQ, batches      | [`reads`]    | (all)            | working |
//! | SMEM seeding                   | [`seed`]     | `ferrous seed`   | library only |
//! | chaining, chain filters        | [`chain`]    | `ferrous chain`  | library only |
//! | SW extension, SW kernels       | [`extend`]   | `ferrous extend` | library only |
//! | dedup, primary, MAPQ, records  | [`region`]   | (in `extend`/`emit`) | library only |
//! | insert size, pairing           | [`pair`]     | `ferrous pair`   | library only |
//! | mate rescue                    | [`rescue`]   | `ferrous rescue` | library only |
//! | SAM output                     | [`emit`]     | `ferrous emit`   | library only |
//! | batch files                    | [`batch`]    | (between stages) | format only, stages not wired |
//! | fused run                      | [`pipeline`] | `ferrous mem`    | working (single- and paired-end) |
//!
//! Shared pieces: [`options`] (bwa mem's options and defaults, one type for
//! every stage), [`util`] (bwa's tie-deciding sort and hash) and [`cleanup`]
//! (output files renamed into place when complete, removed on error or
//! SIGTERM). [`trace`] records a span per task (`--trace FILE`) for
//! `scripts/scaling-model.py`.

pub mod batch;
pub mod chain;
pub mod cleanup;
pub mod emit;
pub mod extend;
pub mod index;
pub mod options;
pub mod output;
pub mod pair;
pub mod pipeline;
pub mod reads;
pub mod region;
pub mod rescue;
pub mod seed;
pub mod trace;
pub mod util;
