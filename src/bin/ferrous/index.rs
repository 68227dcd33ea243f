//! `ferrous index`: builds `PREFIX.fmi` from a reference FASTA, or
//! (`--from-bwa`) converts bwa's index files.

use ferrous::index::{build_index, convert_bwa_index, BuildOptions};

use crate::cli::IndexArgs;

pub fn run(args: &IndexArgs) -> anyhow::Result<()> {
    let summary = if args.from_bwa {
        convert_bwa_index(&args.reference, args.prefix.as_deref(), true)?
    } else {
        let opts = BuildOptions {
            verbose: true,
            threads: args.threads.max(1),
            algorithm: args.algorithm,
            max_memory: Some(args.max_memory),
            tmp_dir: args.tmp_dir.clone(),
            ..BuildOptions::default()
        };
        build_index(&args.reference, args.prefix.as_deref(), &opts)?
    };
    eprintln!(
        "[ferrous index] {} contigs, {} bp, {} holes; fingerprint {:016x}",
        summary.n_contigs, summary.l_pac, summary.n_holes, summary.fingerprint
    );
    Ok(())
}
