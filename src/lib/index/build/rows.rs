//! The one place rows of the BWT matrix become bytes: both builders push
//! `(SA value, BWT character)` for rows `0..=n` in order, and the sink
//! writes the occurrence blocks as it goes and keeps every `sa_intv`-th SA
//! value. SA samples of a big text (about 1 GB for a human genome) go to a
//! temporary file beside the output (or in `--tmp-dir`) rather than
//! memory; it is removed when the build ends, fails or is killed by
//! SIGTERM/SIGINT (it is an uncommitted [`AtomicFile`]).

use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{BuildOptions, IndexError};
use crate::cleanup::AtomicFile;
use crate::index::format::{Section, SectionWriter};
use crate::index::occ::{OccBlock, OCC_INTERVAL};

/// SA samples above this many bytes are spilled to a temporary file by the
/// blockwise build (unless its parameters say otherwise).
pub const SPILL_SAMPLES_ABOVE: u64 = 256 << 20;

/// The BWT character pushed for the row whose suffix is the whole text.
pub const DOLLAR: u8 = 4;

enum Samples {
    Memory(Vec<u8>),
    File(BufWriter<AtomicFile>),
}

/// What the pass produced besides the sections it wrote.
pub struct Rows {
    pub primary: u64,
    pub counts: [u64; 4],
}

pub struct RowSink<'w, W: Write + Seek> {
    w: &'w mut SectionWriter<W>,
    path: PathBuf,
    n: u64,
    sa_intv: u64,
    width: usize,
    row: u64,
    counts: [u64; 4],
    block: OccBlock,
    in_block: u64,
    buf: Vec<u8>,
    primary: Option<u64>,
    samples: Samples,
}

impl<'w, W: Write + Seek> RowSink<'w, W> {
    /// Starts the occurrence section of a text of length `n`; `whole` keeps
    /// the samples in memory (the whole-text build holds far more anyway).
    pub fn new(
        w: &'w mut SectionWriter<W>,
        n: u64,
        sa_intv: u64,
        width: u64,
        path: &Path,
        opts: &BuildOptions,
        whole: bool,
    ) -> Result<Self, IndexError> {
        let write_err = |source| IndexError::Write {
            path: path.to_path_buf(),
            source,
        };
        let sample_bytes = (n / sa_intv + 1) * width;
        let spill_above = opts
            .blockwise
            .map_or(SPILL_SAMPLES_ABOVE, |p| p.spill_samples_above);
        let samples = if !whole && sample_bytes > spill_above {
            let temp = temp_path(path, opts.tmp_dir.as_deref(), "sa-samples");
            let file = AtomicFile::create(&temp).map_err(|source| IndexError::Write {
                path: temp.clone(),
                source,
            })?;
            Samples::File(BufWriter::with_capacity(1 << 20, file))
        } else {
            let mut v = Vec::new();
            v.try_reserve_exact(sample_bytes as usize)
                .map_err(|_| IndexError::OutOfMemory {
                    path: path.to_path_buf(),
                    what: "SA samples",
                    bytes: sample_bytes,
                })?;
            Samples::Memory(v)
        };
        w.begin(Section::Occ).map_err(write_err)?;
        Ok(RowSink {
            w,
            path: path.to_path_buf(),
            n,
            sa_intv,
            width: width as usize,
            row: 0,
            counts: [0; 4],
            block: OccBlock::default(),
            in_block: 0,
            buf: Vec::with_capacity(1 << 18),
            primary: None,
            samples,
        })
    }

    fn write_err(&self, source: io::Error) -> IndexError {
        IndexError::Write {
            path: self.path.clone(),
            source,
        }
    }

    /// The next row: suffix `pos` of the text, whose preceding character
    /// is `c` ([`DOLLAR`] when `pos == 0`).
    #[inline]
    pub fn push(&mut self, pos: u64, c: u8) -> Result<(), IndexError> {
        if self.row.is_multiple_of(self.sa_intv) {
            let bytes = &pos.to_le_bytes()[..self.width];
            match &mut self.samples {
                Samples::Memory(v) => v.extend_from_slice(bytes),
                Samples::File(f) => {
                    if let Err(e) = f.write_all(bytes) {
                        return Err(self.write_err(e));
                    }
                }
            }
        }
        self.row += 1;
        if c == DOLLAR {
            debug_assert_eq!(pos, 0);
            self.primary = Some(self.row - 1);
            return Ok(());
        }
        self.block.set_base(self.in_block, c);
        self.counts[c as usize] += 1;
        self.in_block += 1;
        if self.in_block == OCC_INTERVAL {
            self.emit_block()?;
        }
        Ok(())
    }

    fn emit_block(&mut self) -> Result<(), IndexError> {
        for x in self
            .block
            .counts
            .iter()
            .chain(&self.block.lo)
            .chain(&self.block.hi)
        {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
        self.block = OccBlock {
            counts: self.counts,
            ..OccBlock::default()
        };
        self.in_block = 0;
        if self.buf.len() >= 1 << 18 {
            let r = self.w.write(&self.buf);
            self.buf.clear();
            r.map_err(|e| self.write_err(e))?;
        }
        Ok(())
    }

    /// Ends the occurrence section (after all `n + 1` rows), writes the SA
    /// section, removes the temporary file.
    pub fn finish(mut self) -> Result<Rows, IndexError> {
        assert_eq!(self.row, self.n + 1, "every row is pushed exactly once");
        // The last, partial (possibly empty) block: n / 128 + 1 blocks.
        self.emit_block()?;
        let r = self.w.write(&self.buf);
        r.map_err(|e| self.write_err(e))?;
        self.w.end();
        let path = self.path.clone();
        let werr = |source| IndexError::Write {
            path: path.clone(),
            source,
        };
        self.w.begin(Section::Sa).map_err(werr)?;
        match std::mem::replace(&mut self.samples, Samples::Memory(Vec::new())) {
            Samples::Memory(v) => self.w.write(&v).map_err(werr)?,
            Samples::File(f) => {
                let temp = f.into_inner().map_err(|e| werr(e.into_error()))?;
                let temp_path = temp.path().to_path_buf();
                let rerr = |source| IndexError::Read {
                    path: temp_path.clone(),
                    source,
                };
                let mut file = temp.file();
                file.seek(SeekFrom::Start(0)).map_err(rerr)?;
                let mut chunk = vec![0u8; 1 << 20];
                loop {
                    let k = file.read(&mut chunk).map_err(rerr)?;
                    if k == 0 {
                        break;
                    }
                    self.w.write(&chunk[..k]).map_err(werr)?;
                }
                // Dropped uncommitted: the temporary file is removed.
                drop(temp);
            }
        }
        self.w.end();
        Ok(Rows {
            primary: self.primary.expect("one row holds the whole text"),
            counts: self.counts,
        })
    }
}

/// `DIR/NAME.WHAT` for the output `.../NAME`, `DIR` being `tmp_dir` or the
/// output's directory; [`AtomicFile`] makes it `DIR/.NAME.WHAT.tmp-PID-N`.
pub fn temp_path(output: &Path, tmp_dir: Option<&Path>, what: &str) -> PathBuf {
    let name = output
        .file_name()
        .map_or_else(|| "index".into(), |s| s.to_string_lossy().into_owned());
    let dir = match tmp_dir {
        Some(d) => d.to_path_buf(),
        None => output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    dir.join(format!("{name}.{what}"))
}
