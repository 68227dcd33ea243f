//! The output of `mem` and `emit`: SAM or BAM, to stdout or to a file. A
//! file is written under a temporary name and renamed when complete
//! (`ferrous::cleanup::AtomicFile`), so a failed or killed run never
//! leaves a file that looks finished.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use ferrous::cleanup::AtomicFile;
use ferrous::emit::header::BwaVersion;
use ferrous::output::sort::{parse_memory, DEFAULT_MEMORY};
use ferrous::output::{
    BamIndex, BamWriter, Format, IndexFormat, Level, SamWriter, Sink, SortOptions, SortOrder,
    SortWriter, SAM_TEXT_BYTES_PER_THREAD,
};

use crate::cli::OutputOpts;

/// Why the body of [`write_output`] failed: writing the output (which the
/// message then names), or anything else (whose error names its own file).
pub enum BodyError {
    Write(io::Error),
    Other(anyhow::Error),
}

/// What to write, and where.
pub struct OutputChoice {
    pub path: Option<PathBuf>,
    pub format: Format,
    pub level: Level,
    pub version: BwaVersion,
    /// `--sort` and its options, with the threads that sort.
    pub sort: Option<SortOptions>,
    /// Whether to log the sort's runs (bwa's `-v 3` and up).
    pub verbose: bool,
    /// Bytes of SAM text that may wait for the writer (a default batch's).
    pub text_budget: usize,
}

impl OutputChoice {
    /// The choice `-o` and the output options make; refuses an unknown
    /// format, extension, level or bwa version.
    pub fn new(
        path: Option<&Path>,
        opts: &OutputOpts,
        threads: i32,
        verbosity: i32,
    ) -> anyhow::Result<OutputChoice> {
        let order = match &opts.sort {
            None => None,
            Some(name) => match SortOrder::from_name(name) {
                Some(o) => Some(o),
                None => bail!("--sort {name:?}: ferrous sorts by coordinate or queryname"),
            },
        };
        let format = match (&opts.output_fmt, path) {
            (Some(name), _) => match Format::from_name(name) {
                Some(f) => f,
                None => bail!("--output-fmt {name:?}: ferrous writes sam or bam"),
            },
            (None, Some(path)) => Format::from_path(path).map_err(anyhow::Error::msg)?,
            // samtools sort writes BAM to stdout.
            (None, None) if order.is_some() => Format::Bam,
            (None, None) => Format::Sam,
        };
        let level = match opts.compress_level {
            None => Level::DEFAULT,
            Some(n) => match Level::new(n) {
                Some(l) => l,
                None => bail!("-l {n}: the compression level is 0 to 9"),
            },
        };
        let version = match &opts.bwa_output {
            None => BwaVersion::default(),
            Some(v) => match BwaVersion::from_name(v) {
                Some(v) => v,
                None => bail!("--bwa-output {v:?}: ferrous prints bwa 0.7.17's or 0.7.19's SAM"),
            },
        };
        let sort = match order {
            None => {
                for (given, flag) in [
                    (opts.sort_memory.is_some(), "--sort-memory"),
                    (opts.tmp_dir.is_some(), "--tmp-dir"),
                    (opts.write_index.is_some(), "--write-index"),
                ] {
                    if given {
                        bail!("{flag} goes with --sort");
                    }
                }
                None
            }
            Some(order) => Some(sort_options(path, opts, order, format, level, threads)?),
        };
        Ok(OutputChoice {
            path: path.map(Path::to_path_buf),
            format,
            level,
            version,
            sort,
            verbose: verbosity >= 3,
            text_budget: SAM_TEXT_BYTES_PER_THREAD.saturating_mul(threads.max(1) as usize),
        })
    }

    fn label(&self) -> String {
        match (&self.path, self.format) {
            (Some(p), _) => p.display().to_string(),
            (None, Format::Sam) => "SAM output".into(),
            (None, Format::Bam) => "BAM output".into(),
        }
    }
}

/// `--sort`'s options, checked against the output.
fn sort_options(
    path: Option<&Path>,
    opts: &OutputOpts,
    order: SortOrder,
    format: Format,
    level: Level,
    threads: i32,
) -> anyhow::Result<SortOptions> {
    if format != Format::Bam {
        bail!("--sort writes BAM: name the output FILE.bam or give --output-fmt bam");
    }
    let memory = match &opts.sort_memory {
        None => DEFAULT_MEMORY,
        Some(text) => match parse_memory(text) {
            Some(n) => n,
            None => bail!("--sort-memory {text:?}: give a size such as 768M, 2G or 500000K"),
        },
    };
    let index = match &opts.write_index {
        None => None,
        Some(name) => {
            let Some(f) = IndexFormat::from_name(name) else {
                bail!("--write-index={name}: the index is csi or bai");
            };
            if order != SortOrder::Coordinate {
                bail!("--write-index needs --sort coordinate");
            }
            if path.is_none() {
                bail!("--write-index needs -o FILE.bam");
            }
            Some(f)
        }
    };
    let (tmp_dir, tmp_stem) = match path {
        Some(p) => {
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let stem = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "ferrous".into());
            (dir, stem)
        }
        None => (std::env::temp_dir(), "ferrous".into()),
    };
    let tmp_dir = opts.tmp_dir.clone().unwrap_or(tmp_dir);
    if !tmp_dir.is_dir() {
        bail!("--tmp-dir {}: not a directory", tmp_dir.display());
    }
    Ok(SortOptions {
        order,
        memory,
        tmp_dir,
        tmp_stem,
        threads: threads.max(1) as usize,
        level,
        index,
    })
}

/// The index file for BAM `path`: `PATH.csi` or `PATH.bai`.
fn index_path(path: &Path, index: &BamIndex) -> PathBuf {
    let ext = match index {
        BamIndex::Csi(_) => IndexFormat::Csi,
        BamIndex::Bai(_) => IndexFormat::Bai,
    };
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(ext.extension());
    PathBuf::from(name)
}

/// Writes `header`, then whatever `body` puts into the sink, in the chosen
/// format to the chosen file (atomically) or to stdout; returns `body`'s
/// result.
pub fn write_output<T>(
    choice: &OutputChoice,
    header: &[u8],
    body: impl FnOnce(&mut dyn Sink) -> Result<T, BodyError>,
) -> anyhow::Result<T> {
    let label = choice.label();
    let explain = |e: BodyError| match e {
        BodyError::Write(io) => anyhow::Error::new(io).context(format!("writing {label}")),
        BodyError::Other(e) => e,
    };
    match &choice.path {
        None => {
            let out = BufWriter::with_capacity(1 << 20, io::stdout());
            let (value, _, _) = through_sink(choice, out, header, body, explain)?;
            Ok(value)
        }
        Some(path) => {
            // On error (or SIGTERM) before `commit`, the temporary file is
            // removed.
            let file =
                AtomicFile::create(path).with_context(|| format!("creating {}", path.display()))?;
            let out = BufWriter::with_capacity(1 << 20, file);
            let (value, out, index) = through_sink(choice, out, header, body, explain)?;
            let file = out
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("writing {label}"))?;
            // The index is written before the BAM is in place, and put in
            // place after it (so that it is not older than the BAM).
            let index_file = match index {
                None => None,
                Some(index) => {
                    let ipath = index_path(path, &index);
                    let context = || format!("writing {}", ipath.display());
                    let mut f = AtomicFile::create(&ipath).with_context(context)?;
                    index.write(&mut f).with_context(context)?;
                    Some((f, ipath))
                }
            };
            file.commit().with_context(|| format!("writing {label}"))?;
            if let Some((f, ipath)) = index_file {
                f.commit()
                    .with_context(|| format!("writing {}", ipath.display()))?;
            }
            Ok(value)
        }
    }
}

/// Runs `body` with the chosen format's sink over `out`, and finishes it.
fn through_sink<T, W: Write + Send + 'static>(
    choice: &OutputChoice,
    mut out: W,
    header: &[u8],
    body: impl FnOnce(&mut dyn Sink) -> Result<T, BodyError>,
    explain: impl Fn(BodyError) -> anyhow::Error,
) -> anyhow::Result<(T, W, Option<BamIndex>)> {
    let label = choice.label();
    let context = || format!("writing {label}");
    match choice.format {
        Format::Sam => {
            out.write_all(header).with_context(context)?;
            let mut sink = SamWriter::with_budget(out, choice.text_budget);
            let value = body(&mut sink).map_err(explain)?;
            Ok((value, sink.finish().with_context(context)?, None))
        }
        Format::Bam => match &choice.sort {
            None => {
                let mut sink = BamWriter::new(out, header, choice.level).with_context(context)?;
                let value = body(&mut sink).map_err(explain)?;
                Ok((value, sink.finish().with_context(context)?, None))
            }
            Some(opts) => {
                let mut sink = SortWriter::new(out, header, opts.clone()).with_context(context)?;
                let value = body(&mut sink).map_err(explain)?;
                let start = std::time::Instant::now();
                let done = sink.finish().with_context(context)?;
                if choice.verbose {
                    eprintln!(
                        "[M::sort] {} records sorted by {}; {} runs spilled to {}; merged and written in {:.2} s",
                        done.records,
                        opts.order.name(),
                        done.runs,
                        opts.tmp_dir.display(),
                        start.elapsed().as_secs_f64()
                    );
                }
                Ok((value, done.out, done.index))
            }
        },
    }
}
