//! `ferrous mem`: the whole pipeline in one process.

use std::io::{self, BufWriter, Write};

use anyhow::Context;

use ferrous::cleanup::AtomicFile;
use ferrous::emit::header::pg_line;
use ferrous::emit::write_header;
use ferrous::index::FmIndex;
use ferrous::pipeline::{run_paired_end, run_single_end, Aligner, RunError, RunSummary};
use ferrous::reads::{BatchReader, Layout};

use crate::cli::MemArgs;

pub fn run(args: &MemArgs) -> anyhow::Result<()> {
    let opt = args.resolve()?;
    let index = FmIndex::open(&args.index)
        .with_context(|| format!("opening the index {}", args.index.display()))?;
    let reader = if opt.flags.smart_pairing {
        if args.reads2.is_some() && opt.verbosity >= 2 {
            eprintln!("[W::mem] when '-p' is in use, the second query file is ignored.");
        }
        BatchReader::interleaved(&args.reads1)?
    } else if let Some(r2) = &args.reads2 {
        BatchReader::paired(&args.reads1, r2)?
    } else {
        BatchReader::single(&args.reads1)?
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opt.n_threads.max(1) as usize)
        .build()
        .context("starting worker threads")?;
    let aligner = Aligner::new(&index, &opt);
    let argv: Vec<String> = std::env::args().collect();
    let mut header = Vec::new();
    let user_sq = write_header(
        &mut header,
        aligner.contigs(),
        &opt.header_lines,
        opt.read_group.as_deref(),
        &pg_line(env!("CARGO_PKG_VERSION"), &argv),
    );
    if user_sq > 0 && user_sq != aligner.contigs().len() {
        eprintln!(
            "[W::mem] {} @SQ lines provided with -H; {} sequences in the index. Continue anyway.",
            user_sq,
            aligner.contigs().len()
        );
    }
    let verbose = opt.verbosity >= 3;
    let paired = reader.layout() != Layout::Single;
    let run_all = |out: &mut (dyn Write + Send)| -> Result<RunSummary, RunError> {
        let mut out = out;
        if paired {
            run_paired_end(&aligner, reader, &mut out, verbose)
        } else {
            run_single_end(&aligner, reader, &mut out, verbose)
        }
    };
    match &args.output {
        None => {
            let mut out = BufWriter::with_capacity(1 << 20, io::stdout());
            out.write_all(&header).context("writing SAM output")?;
            let summary = pool.install(|| run_all(&mut out))?;
            report(verbose, summary.reads, summary.bases);
        }
        Some(path) => {
            // Written under a temporary name and renamed when complete; on
            // error (or SIGTERM) the temporary file is removed.
            let file =
                AtomicFile::create(path).with_context(|| format!("creating {}", path.display()))?;
            let tmp = file.path().to_path_buf();
            let mut out = BufWriter::with_capacity(1 << 20, file);
            out.write_all(&header)
                .with_context(|| format!("writing {}", tmp.display()))?;
            // Only write errors are about the output file; read errors
            // name their input file themselves.
            let summary = pool.install(|| run_all(&mut out)).map_err(|e| match e {
                RunError::Write(io) => {
                    anyhow::Error::new(io).context(format!("writing {}", path.display()))
                }
                other => other.into(),
            })?;
            let file = out
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("writing {}", tmp.display()))?;
            file.commit()
                .with_context(|| format!("writing {}", path.display()))?;
            report(verbose, summary.reads, summary.bases);
        }
    }
    Ok(())
}

fn report(verbose: bool, reads: u64, bases: u64) {
    if verbose {
        eprintln!("[M::mem] processed {reads} reads ({bases} bp)");
    }
}
