//! The blockwise build: suffixes sorted a block at a time in bounded
//! memory, streamed out in row order (Kärkkäinen 2007; the route
//! bowtie2-build takes).
//!
//! 1. `X` packed at 2 bits per base ([`text`]).
//! 2. The difference-cover sample ranked ([`cover`]): afterwards any two
//!    suffixes equal for `v` bases compare in O(1).
//! 3. Blocks planned as ranges of 32-base prefixes of at most `max_block`
//!    suffixes ([`sort::plan`]); for each block in order, its suffixes are
//!    gathered by one parallel scan of the text, sorted ([`sort`]), and
//!    their rows pushed into the row sink.
//!
//! Memory: `n/4` bytes of text, `4·|sample|` of ranks (about `0.15·n`),
//! 17 bytes per suffix of the current block, and the SA samples unless
//! they are spilled to a temporary file ([`super::rows`]).

mod cover;
mod sort;
mod text;

use std::io::{Seek, Write};
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use super::rows::{RowSink, DOLLAR};
use super::{try_alloc, BuildOptions, Progress};
use crate::index::error::human_bytes;
use crate::index::IndexError;
use cover::{Cover, SampleRanks};
use text::PackedText;

/// Sizes of the blockwise build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Bits of a key binned in one histogram pass (22: 11 bases).
    pub first_bits: u32,
    /// Most suffixes in one block of the main sort.
    pub max_block: u64,
    /// Most suffixes in one block of the sample's sort.
    pub sample_max_block: u64,
    /// The difference cover's period `v` (a power of two).
    pub period: u64,
    /// SA samples above this many bytes go to a temporary file.
    pub spill_samples_above: u64,
}

/// The default period: ties broken after 1,024 equal bases.
pub const PERIOD: u64 = 1024;
const FIRST_BITS: u32 = 22;
/// Bytes per suffix of a block: its item, and its BWT character.
const PER_SUFFIX: u64 = 16 + 1;

impl Params {
    /// Sizes for a text of length `n` within `budget` bytes, or the error
    /// that says the budget is too small.
    pub fn for_budget(
        n: u64,
        budget: u64,
        threads: usize,
        path: &Path,
    ) -> Result<Params, IndexError> {
        let mut period = PERIOD;
        while Cover::new(period).sample_len(n) >= i32::MAX as u64 {
            period *= 2;
        }
        let cover = Cover::new(period);
        // Histogram bins: about one per 4 suffixes, 2^22 at most.
        let first_bits = (64 - n.leading_zeros())
            .saturating_sub(2)
            .clamp(8, FIRST_BITS);
        let text = PackedText::bytes(n);
        let sample = cover.sample_len(n);
        let histograms = threads as u64 * (4 << first_bits) + (8 << first_bits);
        // Samples at most n/4 bytes (4 bytes every 16 rows), or spilled.
        let samples_in_memory = (n / 4 + 64).min(super::rows::SPILL_SAMPLES_ABOVE);
        let fixed = text + 4 * sample + histograms + samples_in_memory + (4 << 20);
        // The sample's sort holds its names (4 bytes each) and a block;
        // libsais then its names and suffix array (8 bytes each).
        let min_block = 1 << 16;
        let need = (fixed + min_block * PER_SUFFIX).max(text + 8 * sample + histograms);
        if budget < need {
            return Err(IndexError::BudgetTooSmall {
                path: path.to_path_buf(),
                budget: human_bytes(budget),
                need: human_bytes(need),
                n,
            });
        }
        let max_block = (budget - fixed) / PER_SUFFIX;
        let sample_max_block = (budget - text - 4 * sample - histograms - (4 << 20)) / 16;
        Ok(Params {
            first_bits,
            max_block: max_block.min(n + 1),
            sample_max_block: sample_max_block.max(min_block),
            period,
            spill_samples_above: super::rows::SPILL_SAMPLES_ABOVE,
        })
    }
}

/// Sorts the suffixes of `forward` + its reverse complement block by block
/// and pushes every row into `sink`.
pub fn build<W: Write + Seek + Send>(
    forward: Vec<u8>,
    sink: &mut RowSink<'_, W>,
    path: &Path,
    opts: &BuildOptions,
    progress: Progress,
) -> Result<(), IndexError> {
    let n = 2 * forward.len() as u64;
    let threads = rayon::current_num_threads();
    let params = match opts.blockwise {
        Some(p) => p,
        None => Params::for_budget(n, opts.max_memory(), threads, path)?,
    };
    let text = PackedText::new(&forward, path)?;
    drop(forward);
    progress.note(format_args!(
        "blockwise build of {n} bases on {threads} threads: text packed ({}), blocks of at most {} suffixes",
        human_bytes(PackedText::bytes(n)),
        params.max_block
    ));
    let ranks = SampleRanks::build(&text, Cover::new(params.period), &params, path, progress)?;
    let blocks = sort::plan(
        &text,
        sort::Domain::All,
        params.max_block,
        params.first_bits,
    );
    let largest = blocks.iter().map(|b| b.1).max().unwrap_or(0);
    progress.note(format_args!(
        "{} blocks planned (largest {largest} suffixes)",
        blocks.len()
    ));
    let mut chars = try_alloc::<u8>(largest as usize, "a block's BWT characters", path)?;
    // Row 0: the empty suffix.
    sink.push(n, text.base(n - 1))?;
    let tie =
        |run: &mut [u128]| run.sort_unstable_by(|a, b| ranks.cmp(sort::pos(*a), sort::pos(*b)));
    let mut last_note = Instant::now();
    for (k, (range, count)) in blocks.iter().enumerate() {
        let mut items = sort::collect(&text, sort::Domain::All, *range, *count, path)?;
        sort::sort_items(&text, &mut items, params.period, &tie);
        let chars = &mut chars[..items.len()];
        // The preceding bases lie all over the text: fetched ahead.
        const AHEAD: usize = 16;
        chars
            .par_chunks_mut(1 << 14)
            .zip(items.par_chunks(1 << 14))
            .for_each(|(cs, its)| {
                for (k, (c, it)) in cs.iter_mut().zip(its).enumerate() {
                    if let Some(ahead) = its.get(k + AHEAD) {
                        text.prefetch(sort::pos(*ahead).saturating_sub(1));
                    }
                    let p = sort::pos(*it);
                    *c = if p == 0 { DOLLAR } else { text.base(p - 1) };
                }
            });
        for (it, &c) in items.iter().zip(chars.iter()) {
            sink.push(sort::pos(*it), c)?;
        }
        if last_note.elapsed().as_secs() >= 10 || k + 1 == blocks.len() {
            progress.note(format_args!(
                "block {} of {} sorted and written",
                k + 1,
                blocks.len()
            ));
            last_note = Instant::now();
        }
    }
    Ok(())
}
