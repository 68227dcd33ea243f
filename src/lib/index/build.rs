//! Building the index: text `X` = forward + reverse complement, its suffix
//! array (libsais; 32-bit while `n` fits `i32`, 64-bit above), then one
//! streaming pass over the suffix array that emits the occurrence blocks
//! and keeps every `sa_intv`-th SA value (spec §2.4).
//!
//! Peak memory is the text (1 byte per base of `X`) plus the suffix array
//! (4 or 8 bytes per base of `X`) plus the SA samples; see
//! `docs/index-format.md` for measurements.

use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use libsais::SuffixArrayConstruction;

use super::contigs::pack_bases;
use super::fasta::{self, ParsedReference, BWA_RAND_SEED};
use super::format::{self, Meta, SaSamples, Section, SectionWriter};
use super::occ::{OccBlock, OCC_INTERVAL};
use super::{index_path, IndexError};
use crate::cleanup::AtomicFile;

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

/// `ferrous index`: reads `reference`, writes `PREFIX.fmi` (PREFIX defaults
/// to the reference path) through a temporary file in the same directory
/// that is synced and renamed into place only when complete; on any error
/// the temporary file is removed and no index file is left.
pub fn build_index(
    reference: &Path,
    prefix: Option<&Path>,
    opts: &BuildOptions,
) -> Result<BuildSummary, IndexError> {
    let t0 = Instant::now();
    let final_path = index_path(prefix.unwrap_or(reference));
    let parsed = fasta::read_reference(reference)?;
    if opts.verbose {
        eprintln!(
            "[ferrous index] read {} contigs, {} bases, {} holes in {:.2} s",
            parsed.contigs.len(),
            parsed.forward.len(),
            parsed.holes.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    let (l_pac, n_contigs, n_holes) = (
        parsed.forward.len() as u64,
        parsed.contigs.len(),
        parsed.holes.len(),
    );
    let write_err = |source| IndexError::Write {
        path: final_path.clone(),
        source,
    };
    // Written under a temporary name, renamed when complete; removed on
    // error or SIGTERM (see `crate::cleanup`).
    let result = (|| {
        let file = AtomicFile::create(&final_path).map_err(write_err)?;
        let out = BufWriter::with_capacity(1 << 22, file);
        let (out, fingerprint, file_size) = write_index(parsed, opts, out, &final_path)?;
        let file = out.into_inner().map_err(|e| write_err(e.into_error()))?;
        file.commit().map_err(write_err)?;
        Ok((fingerprint, file_size))
    })();
    match result {
        Ok((fingerprint, file_size)) => {
            if opts.verbose {
                eprintln!(
                    "[ferrous index] wrote {} ({} bytes) in {:.2} s",
                    final_path.display(),
                    file_size,
                    t0.elapsed().as_secs_f64()
                );
            }
            Ok(BuildSummary {
                path: final_path,
                l_pac,
                n_contigs,
                n_holes,
                file_size,
                fingerprint,
            })
        }
        Err(e) => Err(e),
    }
}

/// Writes the whole index image of `parsed` into `out`; returns the writer
/// (positioned at the end), the fingerprint and the size. `path` names the
/// output in errors.
pub fn write_index<W: Write + Seek>(
    parsed: ParsedReference,
    opts: &BuildOptions,
    out: W,
    path: &Path,
) -> Result<(W, u64, u64), IndexError> {
    let write_err = |source| IndexError::Write {
        path: path.to_path_buf(),
        source,
    };
    let ParsedReference {
        forward: mut text,
        contigs,
        holes,
    } = parsed;
    let l_pac = text.len() as u64;
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
    let samples = match opts.sa_width {
        Some(width) if format::sa_width_ok(width, n) => SaSamples::with_width(n, sa_intv, width),
        _ => SaSamples::new(n, sa_intv),
    };
    let mut w = SectionWriter::new(out).map_err(write_err)?;
    w.section(Section::Contigs, &format::encode_contigs(&contigs))
        .map_err(write_err)?;
    w.section(Section::Holes, &format::encode_holes(&holes))
        .map_err(write_err)?;
    w.section(Section::Pac, &pack_bases(&text))
        .map_err(write_err)?;

    // X = forward + reverse complement.
    text.reserve_exact(text.len());
    for i in (0..l_pac as usize).rev() {
        let c = 3 - text[i];
        text.push(c);
    }
    debug_assert_eq!(n, text.len() as u64);
    let t = Instant::now();
    let sa_err = |what: String| IndexError::SuffixArray {
        path: path.to_path_buf(),
        what,
    };
    let stream = if n < i32::MAX as u64 {
        let mut sa = vec![0i32; n as usize];
        SuffixArrayConstruction::for_text(&text[..])
            .in_borrowed_buffer(&mut sa[..])
            .single_threaded()
            .run()
            .map_err(|e| sa_err(format!("{e:?}")))?;
        if opts.verbose {
            eprintln!(
                "[ferrous index] suffix array (32-bit) in {:.2} s",
                t.elapsed().as_secs_f64()
            );
        }
        stream_bwt(&text, &sa, sa_intv, samples, &mut w).map_err(write_err)?
    } else {
        let mut sa = vec![0i64; n as usize];
        SuffixArrayConstruction::for_text(&text[..])
            .in_borrowed_buffer(&mut sa[..])
            .single_threaded()
            .run()
            .map_err(|e| sa_err(format!("{e:?}")))?;
        if opts.verbose {
            eprintln!(
                "[ferrous index] suffix array (64-bit) in {:.2} s",
                t.elapsed().as_secs_f64()
            );
        }
        stream_bwt(&text, &sa, sa_intv, samples, &mut w).map_err(write_err)?
    };
    drop(text);
    w.section(Section::Sa, stream.samples.bytes())
        .map_err(write_err)?;
    let mut l2 = [0u64; 5];
    let mut acc = 0;
    for (slot, count) in l2[1..].iter_mut().zip(stream.counts) {
        acc += count;
        *slot = acc;
    }
    let meta = Meta {
        l_pac,
        seq_len: n,
        primary: stream.primary,
        l2,
        sa_intv,
        sa_width: stream.samples.width(),
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

/// What the streaming pass over the suffix array produces besides the
/// occurrence section it writes.
struct Streamed {
    primary: u64,
    counts: [u64; 4],
    samples: SaSamples,
}

/// Suffix-array element types libsais produces.
trait SaValue: Copy {
    fn get(self) -> u64;
}
impl SaValue for i32 {
    #[inline(always)]
    fn get(self) -> u64 {
        self as u32 as u64
    }
}
impl SaValue for i64 {
    #[inline(always)]
    fn get(self) -> u64 {
        self as u64
    }
}

/// One pass over rows `0..=n` of `X$`: BWT characters (without `$`) into
/// occurrence blocks written to `w`, the `$` row, base counts, SA samples.
fn stream_bwt<S: SaValue, W: Write + Seek>(
    text: &[u8],
    sa: &[S],
    sa_intv: u64,
    mut samples: SaSamples,
    w: &mut SectionWriter<W>,
) -> io::Result<Streamed> {
    let n = text.len() as u64;
    let mut counts = [0u64; 4];
    let mut block = OccBlock::default();
    let mut in_block = 0u64;
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 4096);
    let mut primary = 0u64;
    w.begin(Section::Occ)?;
    let emit = |block: &mut OccBlock,
                counts: &[u64; 4],
                buf: &mut Vec<u8>,
                w: &mut SectionWriter<W>|
     -> io::Result<()> {
        for x in block.counts.iter().chain(&block.lo).chain(&block.hi) {
            buf.extend_from_slice(&x.to_le_bytes());
        }
        *block = OccBlock {
            counts: *counts,
            ..OccBlock::default()
        };
        if buf.len() >= 64 * 4096 {
            w.write(buf)?;
            buf.clear();
        }
        Ok(())
    };
    const AHEAD: usize = 24;
    for r in 0..=n {
        let pos = if r == 0 {
            n
        } else {
            sa[(r - 1) as usize].get()
        };
        if r % sa_intv == 0 {
            samples.push(pos);
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(ahead) = sa.get(r as usize + AHEAD) {
            let p = ahead.get().saturating_sub(1) as usize;
            // SAFETY: a prefetch hint never faults; the address is in bounds.
            unsafe {
                core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                    text.as_ptr().add(p) as *const i8,
                )
            };
        }
        if pos == 0 {
            primary = r;
            continue;
        }
        let c = text[(pos - 1) as usize];
        block.set_base(in_block, c);
        counts[c as usize] += 1;
        in_block += 1;
        if in_block == OCC_INTERVAL {
            emit(&mut block, &counts, &mut buf, w)?;
            in_block = 0;
        }
    }
    // The last, partial (possibly empty) block: n / 128 + 1 blocks in all.
    emit(&mut block, &counts, &mut buf, w)?;
    w.write(&buf)?;
    w.end();
    debug_assert!(primary > 0);
    Ok(Streamed {
        primary,
        counts,
        samples,
    })
}
