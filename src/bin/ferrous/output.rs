//! SAM output to stdout or to a file. A file is written under a temporary
//! name and renamed when complete (`ferrous::cleanup::AtomicFile`), so a
//! failed or killed run never leaves a file that looks finished.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::Context;

use ferrous::cleanup::AtomicFile;
use ferrous::output::{SamWriter, Sink};

/// Why the body of [`write_sam`] failed: writing the output (which the
/// message then names), or anything else (whose error names its own file).
pub enum BodyError {
    Write(io::Error),
    Other(anyhow::Error),
}

/// Writes `header`, then whatever `body` puts into the sink, to `path`
/// (atomically) or to stdout; returns `body`'s result.
pub fn write_sam<T>(
    path: Option<&Path>,
    header: &[u8],
    body: impl FnOnce(&mut dyn Sink) -> Result<T, BodyError>,
) -> anyhow::Result<T> {
    let label = path.map_or_else(|| "SAM output".to_string(), |p| p.display().to_string());
    let explain = |e: BodyError| match e {
        BodyError::Write(io) => anyhow::Error::new(io).context(format!("writing {label}")),
        BodyError::Other(e) => e,
    };
    match path {
        None => {
            let mut out = BufWriter::with_capacity(1 << 20, io::stdout());
            out.write_all(header).context("writing SAM output")?;
            let mut sink = SamWriter::new(out);
            let value = body(&mut sink).map_err(explain)?;
            sink.finish().context("writing SAM output")?;
            Ok(value)
        }
        Some(path) => {
            // On error (or SIGTERM) before `commit`, the temporary file is
            // removed.
            let file =
                AtomicFile::create(path).with_context(|| format!("creating {}", path.display()))?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            out.write_all(header)
                .with_context(|| format!("writing {}", path.display()))?;
            let mut sink = SamWriter::new(out);
            let value = body(&mut sink).map_err(explain)?;
            let file = sink
                .finish()
                .with_context(|| format!("writing {}", path.display()))?
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("writing {}", path.display()))?;
            file.commit()
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(value)
        }
    }
}
