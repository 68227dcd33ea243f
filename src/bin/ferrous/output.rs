//! The output of `mem` and `emit`: SAM or BAM, to stdout or to a file. A
//! file is written under a temporary name and renamed when complete
//! (`ferrous::cleanup::AtomicFile`), so a failed or killed run never
//! leaves a file that looks finished.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use ferrous::cleanup::AtomicFile;
use ferrous::emit::header::BwaVersion;
use ferrous::output::{BamWriter, Format, Level, SamWriter, Sink};

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
}

impl OutputChoice {
    /// The choice `-o` and the output options make; refuses an unknown
    /// format, extension, level or bwa version.
    pub fn new(path: Option<&Path>, opts: &OutputOpts) -> anyhow::Result<OutputChoice> {
        let format = match (&opts.output_fmt, path) {
            (Some(name), _) => match Format::from_name(name) {
                Some(f) => f,
                None => bail!("--output-fmt {name:?}: ferrous writes sam or bam"),
            },
            (None, Some(path)) => Format::from_path(path).map_err(anyhow::Error::msg)?,
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
        Ok(OutputChoice {
            path: path.map(Path::to_path_buf),
            format,
            level,
            version,
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
            let (value, _) = through_sink(choice, out, header, body, explain)?;
            Ok(value)
        }
        Some(path) => {
            // On error (or SIGTERM) before `commit`, the temporary file is
            // removed.
            let file =
                AtomicFile::create(path).with_context(|| format!("creating {}", path.display()))?;
            let out = BufWriter::with_capacity(1 << 20, file);
            let (value, out) = through_sink(choice, out, header, body, explain)?;
            let file = out
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("writing {label}"))?;
            file.commit().with_context(|| format!("writing {label}"))?;
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
) -> anyhow::Result<(T, W)> {
    let label = choice.label();
    let context = || format!("writing {label}");
    match choice.format {
        Format::Sam => {
            out.write_all(header).with_context(context)?;
            let mut sink = SamWriter::new(out);
            let value = body(&mut sink).map_err(explain)?;
            Ok((value, sink.finish().with_context(context)?))
        }
        Format::Bam => {
            let mut sink = BamWriter::new(out, header, choice.level).with_context(context)?;
            let value = body(&mut sink).map_err(explain)?;
            Ok((value, sink.finish().with_context(context)?))
        }
    }
}
