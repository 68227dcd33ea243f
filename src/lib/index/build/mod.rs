//! Building the index (`ferrous index`): the text `X` = forward + reverse
//! complement, its suffix array, and one pass over the rows of the BWT
//! matrix in order that emits the occurrence blocks and keeps every
//! `sa_intv`-th SA value (spec §2.4). Two builders feed the same
//! [`rows::RowSink`], so their files are byte-identical:
//!
//! * [`whole`]: libsais over the whole text: 1 byte per base of `X` plus a
//!   4- or 8-byte suffix array entry per base; fast, and the reference the
//!   other builder is tested against.
//! * [`blockwise`]: the suffixes sorted a block at a time (blocks are
//!   ranges of 32-base prefixes), ties past 1,024 bases broken by a
//!   difference-cover sample; memory bounded by `--max-memory` (default
//!   [`DEFAULT_MAX_MEMORY`]), so a human genome indexes in about 5 GB.
//!
//! [`Algorithm::Auto`] takes the whole-text build when it fits the memory
//! budget and the blockwise one otherwise. `docs/index-format.md` has the
//! measured times and memory.

mod blockwise;
mod rows;
#[cfg(test)]
mod tests;
mod whole;

use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::contigs::pack_bases;
use super::fasta::{self, ParsedReference, BWA_RAND_SEED};
use super::format::{self, Meta, Section, SectionWriter};
use super::occ::OCC_INTERVAL;
use super::{index_path, IndexError};
use crate::cleanup::AtomicFile;

pub use blockwise::Params as BlockwiseParams;

/// Default memory budget of a build: 5 GiB.
pub const DEFAULT_MAX_MEMORY: u64 = 5 << 30;

/// Which suffix sorter builds the index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Algorithm {
    /// Whole-text when it fits `max_memory`, else blockwise.
    #[default]
    Auto,
    /// libsais over the whole text (about 5 or 9 bytes per base of `X`).
    Whole,
    /// Blockwise sorting in bounded memory.
    Blockwise,
}

/// Knobs of `ferrous index`.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Keep the SA value of every row `k` with `k % sa_intv == 0` (power of
    /// two); `None`: [`format::default_sa_intv`] of the text length.
    pub sa_intv: Option<u64>,
    /// Bytes per SA sample; `None` (always, but in tests): the narrowest
    /// that holds the text, [`format::sa_width`].
    pub sa_width: Option<u64>,
    /// Print progress to stderr.
    pub verbose: bool,
    /// Worker threads (0: one).
    pub threads: usize,
    pub algorithm: Algorithm,
    /// Memory budget in bytes; `None`: [`DEFAULT_MAX_MEMORY`].
    pub max_memory: Option<u64>,
    /// Where temporary files go (default: beside the output).
    pub tmp_dir: Option<PathBuf>,
    /// Block sizes and cover period of the blockwise build; `None`: chosen
    /// from the text length and the memory budget. Tests set small ones.
    pub blockwise: Option<BlockwiseParams>,
}

impl BuildOptions {
    fn max_memory(&self) -> u64 {
        self.max_memory.unwrap_or(DEFAULT_MAX_MEMORY)
    }
}

/// What a finished build reports.
#[derive(Debug, Clone)]
pub struct BuildSummary {
    pub path: PathBuf,
    pub l_pac: u64,
    pub n_contigs: usize,
    pub n_holes: usize,
    pub file_size: u64,
    pub fingerprint: u64,
}

/// Bytes of memory the whole-text build needs for a text of `n` bases
/// (text, suffix array and samples).
pub fn whole_text_bytes(n: u64) -> u64 {
    let sa = if n < i32::MAX as u64 { 4 } else { 8 };
    n * (1 + sa) + n / format::default_sa_intv(n) * format::sa_width(n)
}

/// A vector of `len` default values, or the typed error that says how much
/// memory `what` needed, instead of an abort.
pub(crate) fn try_alloc<T: Clone + Default>(
    len: usize,
    what: &'static str,
    path: &Path,
) -> Result<Vec<T>, IndexError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| IndexError::OutOfMemory {
            path: path.to_path_buf(),
            what,
            bytes: (len as u64).saturating_mul(std::mem::size_of::<T>() as u64),
        })?;
    v.resize(len, T::default());
    Ok(v)
}

/// Progress notes on stderr, with the time since the build started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Progress {
    pub verbose: bool,
    pub t0: Instant,
}

impl Progress {
    pub fn note(&self, what: std::fmt::Arguments) {
        if self.verbose {
            eprintln!(
                "[ferrous index] {:7.1} s  {what}",
                self.t0.elapsed().as_secs_f64()
            );
        }
    }
}

/// `ferrous index`: reads `reference`, writes `PREFIX.fmi` (PREFIX defaults
/// to the reference path) through a temporary file in the same directory
/// that is synced and renamed into place only when complete; on any error
/// (or SIGTERM/SIGINT) the temporary files are removed and no index file is
/// left.
pub fn build_index(
    reference: &Path,
    prefix: Option<&Path>,
    opts: &BuildOptions,
) -> Result<BuildSummary, IndexError> {
    let progress = Progress {
        verbose: opts.verbose,
        t0: Instant::now(),
    };
    let final_path = index_path(prefix.unwrap_or(reference));
    let parsed = fasta::read_reference(reference)?;
    progress.note(format_args!(
        "read {} contigs, {} bases, {} holes",
        parsed.contigs.len(),
        parsed.forward.len(),
        parsed.holes.len(),
    ));
    let (l_pac, n_contigs, n_holes) = (
        parsed.forward.len() as u64,
        parsed.contigs.len(),
        parsed.holes.len(),
    );
    let write_err = |source| IndexError::Write {
        path: final_path.clone(),
        source,
    };
    let file = AtomicFile::create(&final_path).map_err(write_err)?;
    let out = format::ChunkWriter::new(file);
    let (out, fingerprint, file_size) = write_index_with(parsed, opts, out, &final_path, progress)?;
    let file = out.into_inner().map_err(write_err)?;
    file.commit().map_err(write_err)?;
    progress.note(format_args!(
        "wrote {} ({} bytes)",
        final_path.display(),
        file_size
    ));
    Ok(BuildSummary {
        path: final_path,
        l_pac,
        n_contigs,
        n_holes,
        file_size,
        fingerprint,
    })
}

/// Writes the whole index image of `parsed` into `out`; returns the writer
/// (positioned at the end), the fingerprint and the size. `path` names the
/// output in errors (and places temporary files).
pub fn write_index<W: Write + Seek + Send>(
    parsed: ParsedReference,
    opts: &BuildOptions,
    out: W,
    path: &Path,
) -> Result<(W, u64, u64), IndexError> {
    let progress = Progress {
        verbose: opts.verbose,
        t0: Instant::now(),
    };
    write_index_with(parsed, opts, out, path, progress)
}

fn write_index_with<W: Write + Seek + Send>(
    parsed: ParsedReference,
    opts: &BuildOptions,
    out: W,
    path: &Path,
    progress: Progress,
) -> Result<(W, u64, u64), IndexError> {
    let write_err = |source| IndexError::Write {
        path: path.to_path_buf(),
        source,
    };
    let ParsedReference {
        forward,
        contigs,
        holes,
    } = parsed;
    let l_pac = forward.len() as u64;
    if l_pac == 0 {
        return Err(IndexError::NoSequence {
            path: path.to_path_buf(),
        });
    }
    let n = 2 * l_pac;
    if n > format::MAX_SEQ_LEN {
        return Err(IndexError::TooLong {
            path: path.to_path_buf(),
            len: l_pac,
        });
    }
    let sa_intv = match opts.sa_intv {
        Some(intv) if intv.is_power_of_two() => intv,
        _ => format::default_sa_intv(n),
    };
    let sa_width = match opts.sa_width {
        Some(width) if format::sa_width_ok(width, n) => width,
        _ => format::sa_width(n),
    };
    let mut w = SectionWriter::new(out).map_err(write_err)?;
    w.section(Section::Contigs, &format::encode_contigs(&contigs))
        .map_err(write_err)?;
    w.section(Section::Holes, &format::encode_holes(&holes))
        .map_err(write_err)?;
    w.section(Section::Pac, &pack_bases(&forward))
        .map_err(write_err)?;

    let whole = match opts.algorithm {
        Algorithm::Whole => true,
        Algorithm::Blockwise => false,
        Algorithm::Auto => whole_text_bytes(n) <= opts.max_memory(),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
        .map_err(|e| write_err(std::io::Error::other(e)))?;
    let mut sink = rows::RowSink::new(&mut w, n, sa_intv, sa_width, path, opts, whole)?;
    if whole {
        progress.note(format_args!(
            "whole-text suffix array of {n} bases (about {})",
            super::error::human_bytes(whole_text_bytes(n))
        ));
        whole::build(forward, &mut sink, path, progress)?;
    } else {
        pool.install(|| blockwise::build(forward, &mut sink, path, opts, progress))?;
    }
    let rows = sink.finish()?;
    let mut l2 = [0u64; 5];
    let mut acc = 0;
    for (slot, count) in l2[1..].iter_mut().zip(rows.counts) {
        acc += count;
        *slot = acc;
    }
    let meta = Meta {
        l_pac,
        seq_len: n,
        primary: rows.primary,
        l2,
        sa_intv,
        sa_width,
        n_sa: n / sa_intv + 1,
        n_occ_blocks: n / OCC_INTERVAL + 1,
        n_contigs: contigs.len() as u64,
        n_holes: holes.len() as u64,
        seed: BWA_RAND_SEED,
    };
    w.section(Section::Meta, &meta.encode())
        .map_err(write_err)?;
    w.finish().map_err(write_err)
}
