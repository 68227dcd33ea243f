//! `ferrous index`: calls into `ferrous::index`.

use crate::cli::IndexArgs;

pub fn run(args: &IndexArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("`ferrous index` is being built")
}
