//! The stage subcommands: `split`, `seed`, `chain`, `extend`, `pair`,
//! `rescue`, `emit`. Argument handling only; the work is in
//! `ferrous::pipeline`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use ferrous::index::{
    alt_path, bwa_prefix, index_path, AltContigs, AltFile, FmIndex, Residence, Sections,
};
use ferrous::options::MemOptions;
use ferrous::pipeline::{
    emit_files, run_step, split_reads, Aligner, StageError, StageSummary, Step, EMIT_SECTIONS,
};

use crate::cli::{EmitArgs, SplitArgs, StageArgs};
use crate::mem::{open_reads, thread_pool};
use crate::output::{write_output, BodyError, OutputChoice};
use crate::trace::RunTrace;

/// The summary line of a one-batch stage on stderr, at bwa's message
/// verbosity (3); `split` and `emit`, which see many batches, print one
/// line per batch only from verbosity 4 and a total line at 3.
fn report(opt: &MemOptions, name: &str, s: &StageSummary, level: i32) {
    if opt.verbosity >= level {
        eprintln!("[ferrous {name}] {s}");
    }
}

/// Opens and checks the index sections `needs`, those read at random in
/// memory or (`--mmap-index`) all mapped. Where `PREFIX.fmi` is missing but
/// bwa's index files are there, a stage job (one of many per run) refuses
/// with the command that converts them.
pub fn open_index(
    path: &Path,
    mapped: bool,
    needs: Sections,
    verbosity: i32,
) -> anyhow::Result<FmIndex> {
    if let Some(bwa) = only_bwa_files(path) {
        anyhow::bail!(
            "{} not found (bwa's index files {}.* are there): convert them once with `ferrous index --from-bwa {}`",
            index_path(path).display(),
            bwa.display(),
            path.display()
        );
    }
    let _span = ferrous::trace::span(ferrous::trace::Kind::Index, 0, 0);
    let start = Instant::now();
    let index = FmIndex::open_for(path, needs, mapped)
        .with_context(|| format!("opening the index {}", path.display()))?;
    if verbosity >= 4 {
        let how = match index.residence() {
            Residence::Mapped => "mapped",
            Residence::HugeInPlace => "mapped, occurrences and SA in the page cache's huge pages",
            Residence::Copied => "occurrences and SA copied into memory",
        };
        eprintln!(
            "[ferrous] opened the index {} in {:.2} s ({how})",
            index.path().display(),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(index)
}

/// [`open_index`] for `mem`, which, as a drop-in for bwa mem, also takes
/// bwa's index files: without `PREFIX.fmi` it converts them in memory
/// (with every check of `ferrous index --from-bwa`; about what bwa mem
/// spends loading them) and says how to save that step next time.
pub fn open_index_or_bwa(path: &Path, mapped: bool, verbosity: i32) -> anyhow::Result<FmIndex> {
    let Some(bwa) = only_bwa_files(path) else {
        return open_index(path, mapped, Sections::ALL, verbosity);
    };
    let _span = ferrous::trace::span(ferrous::trace::Kind::Index, 0, 0);
    let start = Instant::now();
    let index = FmIndex::from_bwa(path)
        .with_context(|| format!("converting bwa's index files {}.*", bwa.display()))?;
    if verbosity >= 3 {
        eprintln!(
            "[ferrous mem] {} not found: converted bwa's index files {}.* in memory in {:.2} s; `ferrous index --from-bwa {}` saves this step",
            index_path(path).display(),
            bwa.display(),
            start.elapsed().as_secs_f64(),
            path.display()
        );
    }
    Ok(index)
}

/// The ALT contigs of the index `path` names, from the `.alt` file bwa mem
/// would read beside it ([`alt_path`]; none without one), and a warning
/// for what bwa passes over in silence. With `announce` (`mem`), bwa mem's
/// message `read N ALT contigs` (counted before `-j` clears them, as in
/// bwa); the stages, run once per batch, say it only at `-v 4`. A file
/// that is there but cannot be read is an error, unless `-j` says not to
/// use it.
pub fn load_alt(
    path: &Path,
    index: &FmIndex,
    opt: &MemOptions,
    announce: bool,
) -> anyhow::Result<AltContigs> {
    let n = index.contigs().len();
    let alt = match alt_path(path) {
        None => AltContigs::none(n),
        Some(p) => match AltFile::read(&p, index.contigs()) {
            Ok(file) => {
                if opt.verbosity >= 2 {
                    for w in file.warnings() {
                        eprintln!("[W::ferrous] {w}");
                    }
                }
                file.contigs
            }
            Err(e) if opt.flags.ignore_alt => {
                if opt.verbosity >= 2 {
                    eprintln!("[W::ferrous] {:#} (not used: -j)", anyhow::Error::from(e));
                }
                AltContigs::none(n)
            }
            Err(e) => return Err(e.into()),
        },
    };
    if opt.verbosity >= if announce { 3 } else { 4 } {
        eprintln!(
            "[M::bwa_idx_load_from_disk] read {} ALT contigs",
            alt.count()
        );
    }
    Ok(alt)
}

/// A stage job's process lives for one batch (`emit`: one run), so memory
/// it frees is better kept for its next allocations than handed back to
/// the kernel, which gives it back as fresh pages to fault in and clear:
/// glibc's malloc then keeps what it frees (no trimming of the heap) and
/// serves blocks up to 32 MiB (a batch's columns) from the heap rather than
/// from a fresh mapping each. On chr20's first 100,000 pairs this cut a
/// `chain` job's page faults from 27,089 to 18,530 and a `pair` job's from
/// 13,453 to 11,543 (`perf stat -e task-clock,page-faults`, glibc 2.36).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets malloc's parameters; called before the
    // job's threads start.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}

/// bwa's prefix for `path` when there is no `PREFIX.fmi` but bwa's files are.
fn only_bwa_files(path: &Path) -> Option<PathBuf> {
    let missing = matches!(std::fs::metadata(index_path(path)), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
    missing.then(|| bwa_prefix(path)).flatten()
}

pub fn split(args: &SplitArgs) -> anyhow::Result<()> {
    keep_freed_memory();
    let opt = args.opts.resolve_for_reads(args.reads2.as_ref())?;
    let trace = RunTrace::start(args.opts.trace.as_deref())?;
    let reader = open_reads(
        &args.reads1,
        args.reads2.as_deref(),
        opt.flags.smart_pairing,
    )?;
    let start = Instant::now();
    let summary = split_reads(reader, &opt, &args.outdir, |s| report(&opt, "split", s, 4))?;
    if opt.verbosity >= 3 {
        eprintln!(
            "[ferrous split] {} reads ({} bp) in {} batches ({} bytes) written to {} in {:.2} s",
            summary.reads,
            summary.bases,
            summary.batches,
            summary.out_bytes,
            args.outdir.display(),
            start.elapsed().as_secs_f64()
        );
    }
    trace.finish(
        &opt,
        "split",
        &[
            ("reads", summary.reads),
            ("bases", summary.bases),
            ("batches", summary.batches),
        ],
    )
}

pub fn step(step: Step, args: &StageArgs) -> anyhow::Result<()> {
    keep_freed_memory();
    let opt = args.opts.resolve()?;
    let trace = RunTrace::start(args.opts.trace.as_deref())?;
    let index = open_index(
        &args.index,
        args.opts.mmap_index,
        step.index_sections(),
        opt.verbosity,
    )?;
    let alt = load_alt(&args.index, &index, &opt, false)?;
    let pool = thread_pool(opt.n_threads)?;
    let aligner = Aligner::new(&index, &alt, &opt);
    let summary = pool.install(|| run_step(step, &aligner, &args.input, &args.output))?;
    report(&opt, step.name(), &summary, 3);
    trace.finish(
        &opt,
        step.name(),
        &[("reads", summary.reads), ("bases", summary.bases)],
    )
}

pub fn emit(args: &EmitArgs) -> anyhow::Result<()> {
    keep_freed_memory();
    let opt = args.opts.resolve()?;
    let choice = OutputChoice::new(
        args.output.as_deref(),
        &args.out,
        opt.n_threads,
        opt.verbosity,
    )?;
    let trace = RunTrace::start(args.opts.trace.as_deref())?;
    let index = open_index(
        &args.index,
        args.opts.mmap_index,
        EMIT_SECTIONS,
        opt.verbosity,
    )?;
    let alt = load_alt(&args.index, &index, &opt, false)?;
    let pool = thread_pool(opt.n_threads)?;
    let mut aligner = Aligner::new(&index, &alt, &opt);
    aligner.set_bwa_version(choice.version);
    let argv: Vec<String> = std::env::args().collect();
    let header = aligner.sam_header(&argv);
    let start = Instant::now();
    let summary = write_output(&choice, &header, |sink| {
        pool.install(|| emit_files(&aligner, &args.inputs, sink, |s| report(&opt, "emit", s, 4)))
            .map_err(|e| match e {
                StageError::Output(io) => BodyError::Write(io),
                other => BodyError::Other(other.into()),
            })
    })?;
    if opt.verbosity >= 3 {
        eprintln!(
            "[ferrous emit] {} reads ({} bp) from {} batches in {:.2} s",
            summary.reads,
            summary.bases,
            summary.batches,
            start.elapsed().as_secs_f64()
        );
        crate::runlog::report();
    }
    trace.finish(
        &opt,
        "emit",
        &[
            ("reads", summary.reads),
            ("bases", summary.bases),
            ("batches", summary.batches),
        ],
    )
}
