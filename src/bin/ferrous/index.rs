//! `ferrous index`: builds `PREFIX.fmi` from a reference FASTA.

use ferrous::index::{build_index, BuildOptions};

use crate::cli::IndexArgs;

pub fn run(args: &IndexArgs) -> anyhow::Result<()> {
    let opts = BuildOptions {
        verbose: true,
        ..BuildOptions::default()
    };
    let summary = build_index(&args.reference, args.prefix.as_deref(), &opts)?;
    eprintln!(
        "[ferrous index] {} contigs, {} bp, {} holes; fingerprint {:016x}",
        summary.n_contigs, summary.l_pac, summary.n_holes, summary.fingerprint
    );
    Ok(())
}
