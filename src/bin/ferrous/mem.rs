//! `ferrous mem`: the whole pipeline in one process.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

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
            let tmp = temp_name(path);
            let result = (|| -> anyhow::Result<()> {
                let file =
                    File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
                let mut out = BufWriter::with_capacity(1 << 20, file);
                out.write_all(&header)
                    .with_context(|| format!("writing {}", tmp.display()))?;
                let summary = pool
                    .install(|| run_all(&mut out))
                    .with_context(|| format!("writing {}", path.display()))?;
                let file = out
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("writing {}", tmp.display()))?;
                file.sync_all()
                    .with_context(|| format!("writing {}", tmp.display()))?;
                fs::rename(&tmp, path)
                    .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
                report(verbose, summary.reads, summary.bases);
                Ok(())
            })();
            if result.is_err() {
                let _ = fs::remove_file(&tmp);
            }
            result?;
        }
    }
    Ok(())
}

fn report(verbose: bool, reads: u64, bases: u64) {
    if verbose {
        eprintln!("[M::mem] processed {reads} reads ({bases} bp)");
    }
}

/// `out.sam` → `out.sam.tmp.<pid>` in the same directory, so the final
/// rename is atomic and a killed run never leaves a complete-looking file.
fn temp_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp.{}", std::process::id()));
    path.with_file_name(name)
}
