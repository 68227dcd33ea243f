//! `ferrous mem`: the whole pipeline in one process.

use anyhow::Context;

use ferrous::pipeline::{run_paired_end, run_single_end, Aligner, RunError};
use ferrous::reads::{BatchReader, Layout};

use crate::cli::MemArgs;
use crate::output::{write_output, BodyError, OutputChoice};
use crate::trace::RunTrace;

pub fn run(args: &MemArgs) -> anyhow::Result<()> {
    let opt = args.opts.resolve_for_reads(args.reads2.as_ref())?;
    let choice = OutputChoice::new(
        args.output.as_deref(),
        &args.out,
        opt.n_threads,
        opt.verbosity,
    )?;
    let trace = RunTrace::start(args.opts.trace.as_deref())?;
    let index = crate::stage::open_index_or_bwa(&args.index, args.opts.mmap_index, opt.verbosity)?;
    let alt = crate::stage::load_alt(&args.index, &index, &opt, true)?;
    let reader = open_reads(
        &args.reads1,
        args.reads2.as_deref(),
        opt.flags.smart_pairing,
    )?;
    let pool = thread_pool(opt.n_threads)?;
    let mut aligner = Aligner::new(&index, &alt, &opt);
    aligner.set_bwa_version(choice.version);
    let argv: Vec<String> = std::env::args().collect();
    let header = aligner.sam_header(&argv);
    let verbose = opt.verbosity >= 3;
    let layout = reader.layout();
    let paired = layout != Layout::Single;
    let summary = write_output(&choice, &header, |sink| {
        pool.install(|| {
            if paired {
                run_paired_end(&aligner, reader, sink, verbose)
            } else {
                run_single_end(&aligner, reader, sink, verbose)
            }
        })
        .map_err(|e| match e {
            // Only write errors are about the output; read errors name
            // their input file themselves.
            RunError::Write(io) => BodyError::Write(io),
            other => BodyError::Other(other.into()),
        })
    })?;
    if verbose {
        eprintln!(
            "[M::mem] processed {} reads ({} bp)",
            summary.reads, summary.bases
        );
        crate::runlog::report();
    }
    trace.finish(
        &opt,
        layout_name(layout),
        &[
            ("reads", summary.reads),
            ("bases", summary.bases),
            ("batches", summary.batches),
        ],
    )
}

/// The reads as `mem` and `split` batch them: one file, two files of
/// mates, or (`-p`) one interleaved file.
pub fn open_reads(
    r1: &std::path::Path,
    r2: Option<&std::path::Path>,
    smart_pairing: bool,
) -> anyhow::Result<BatchReader> {
    Ok(if smart_pairing {
        BatchReader::interleaved(r1)?
    } else if let Some(r2) = r2 {
        BatchReader::paired(r1, r2)?
    } else {
        BatchReader::single(r1)?
    })
}

/// The layout's name in a trace's settings.
pub fn layout_name(layout: Layout) -> &'static str {
    match layout {
        Layout::Single => "single",
        Layout::Paired => "paired",
        Layout::Interleaved => "interleaved",
    }
}

/// The rayon pool of `-t` threads.
pub fn thread_pool(threads: i32) -> anyhow::Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1) as usize)
        .thread_name(|k| format!("worker {k}"))
        .build()
        .context("starting worker threads")
}
