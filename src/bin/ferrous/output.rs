//! SAM output to stdout or to a file; a file is written under a temporary
//! name and renamed when complete, so a failed or killed run never leaves
//! a file that looks finished.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Writes `header`, then whatever `body` writes, to `path` (atomically) or
/// to stdout; returns `body`'s result.
pub fn write_sam<T>(
    path: Option<&Path>,
    header: &[u8],
    body: impl FnOnce(&mut (dyn Write + Send)) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    match path {
        None => {
            let mut out = BufWriter::with_capacity(1 << 20, io::stdout());
            out.write_all(header).context("writing SAM output")?;
            let value = body(&mut out)?;
            out.flush().context("writing SAM output")?;
            Ok(value)
        }
        Some(path) => {
            let tmp = temp_name(path);
            let result = (|| -> anyhow::Result<T> {
                let file =
                    File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
                let mut out = BufWriter::with_capacity(1 << 20, file);
                out.write_all(header)
                    .with_context(|| format!("writing {}", tmp.display()))?;
                let value =
                    body(&mut out).with_context(|| format!("writing {}", path.display()))?;
                let file = out
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("writing {}", tmp.display()))?;
                file.sync_all()
                    .with_context(|| format!("writing {}", tmp.display()))?;
                fs::rename(&tmp, path)
                    .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
                Ok(value)
            })();
            if result.is_err() {
                let _ = fs::remove_file(&tmp);
            }
            result
        }
    }
}

/// `out.sam` → `out.sam.tmp.<pid>` in the same directory, so the final
/// rename is atomic and a killed run never leaves a complete-looking file.
fn temp_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp.{}", std::process::id()));
    path.with_file_name(name)
}
