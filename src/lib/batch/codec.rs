//! Encoding and decoding: zstd frame (content checksum on) around the
//! MessagePack form of a [`BatchFile`]; atomic writes.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cleanup::AtomicFile;

use super::{
    BatchError, BatchFile, BatchHeader, Expectation, Stage, DEFAULT_LEVEL, FORMAT_VERSION, MAGIC,
};

/// The four bytes every zstd frame starts with.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Serialises `batch` and compresses it at zstd `level`, checksum on.
/// `name` only labels errors.
pub fn encode_batch(batch: &BatchFile, level: i32, name: &Path) -> Result<Vec<u8>, BatchError> {
    let mut out = Vec::new();
    encode_into(batch, level, &mut out).map_err(|detail| BatchError::Encode {
        path: name.to_path_buf(),
        detail,
    })?;
    Ok(out)
}

fn encode_into<W: Write>(batch: &BatchFile, level: i32, out: W) -> Result<W, String> {
    let mut z = zstd::Encoder::new(out, level).map_err(|e| e.to_string())?;
    z.include_checksum(true).map_err(|e| e.to_string())?;
    let mut buf = io::BufWriter::with_capacity(1 << 17, z);
    rmp_serde::encode::write_named(&mut buf, batch).map_err(|e| e.to_string())?;
    let z = buf.into_inner().map_err(|e| e.error().to_string())?;
    z.finish().map_err(|e| e.to_string())
}

/// Decompresses and decodes a batch held in memory and checks it against
/// `expect`; `name` labels errors (a path, or a description of the source).
pub fn decode_batch(
    bytes: &[u8],
    name: &Path,
    expect: &Expectation,
) -> Result<BatchFile, BatchError> {
    let batch = decode_any(bytes, name)?;
    check_expectation(&batch, expect, name.to_path_buf())?;
    Ok(batch)
}

/// [`decode_batch`] without an expectation: any stage, index or options.
fn decode_any(bytes: &[u8], name: &Path) -> Result<BatchFile, BatchError> {
    let path = || name.to_path_buf();
    if bytes.is_empty() {
        return Err(BatchError::NotBatch {
            path: path(),
            why: "the file is empty".into(),
        });
    }
    if !bytes.starts_with(&ZSTD_MAGIC) {
        let why = if bytes.len() < ZSTD_MAGIC.len() && ZSTD_MAGIC.starts_with(bytes) {
            "it ends inside the zstd magic number"
        } else {
            "it does not start with a zstd frame"
        };
        return Err(BatchError::NotBatch {
            path: path(),
            why: why.into(),
        });
    }
    let plain = zstd::decode_all(bytes).map_err(|e| zstd_error(e, path()))?;
    let batch: BatchFile = match rmp_serde::from_slice(&plain) {
        Ok(b) => b,
        Err(e) => return Err(explain_msgpack_error(&plain, e, path())),
    };
    check_header(&batch, path())?;
    batch.check().map_err(|detail| BatchError::Inconsistent {
        path: path(),
        detail,
    })?;
    Ok(batch)
}

/// A zstd failure: a stream that ends early, a checksum mismatch, or other
/// damage.
fn zstd_error(e: io::Error, path: PathBuf) -> BatchError {
    let detail = printable(&e.to_string());
    if e.kind() == io::ErrorKind::UnexpectedEof || detail.contains("incomplete frame") {
        BatchError::Truncated { path, detail }
    } else if detail.to_ascii_lowercase().contains("checksum") {
        BatchError::Checksum { path, detail }
    } else {
        BatchError::Corrupt { path, detail }
    }
}

/// Why a checksummed frame did not decode as a [`BatchFile`]: first the
/// header's identity (so that a batch of another version says so), then
/// the payload.
fn explain_msgpack_error(plain: &[u8], e: rmp_serde::decode::Error, path: PathBuf) -> BatchError {
    #[derive(Deserialize)]
    struct Probe {
        header: ProbeHeader,
    }
    #[derive(Deserialize)]
    struct ProbeHeader {
        magic: String,
        version: u32,
    }
    match rmp_serde::from_slice::<Probe>(plain) {
        Ok(p) if p.header.magic != MAGIC => not_ours(&p.header.magic, path),
        Ok(p) if p.header.version != FORMAT_VERSION => BatchError::Version {
            path,
            found: p.header.version,
            expected: FORMAT_VERSION,
        },
        Ok(_) => {
            use rmp_serde::decode::Error as E;
            let detail = printable(&e.to_string());
            match e {
                E::InvalidMarkerRead(io) | E::InvalidDataRead(io)
                    if io.kind() == io::ErrorKind::UnexpectedEof =>
                {
                    BatchError::Truncated { path, detail }
                }
                _ => BatchError::Inconsistent { path, detail },
            }
        }
        Err(_) => BatchError::NotBatch {
            path,
            why: printable(&format!("no batch header in the zstd frame ({e})")),
        },
    }
}

/// A decoder's message made safe for a one-line error: it may quote bytes
/// of the damaged file (a variant or field name), so control characters are
/// escaped and the length is capped.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(300));
    for c in text.chars() {
        if out.len() >= 300 {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn not_ours(magic: &str, path: PathBuf) -> BatchError {
    let shown: String = magic.chars().take(40).collect();
    BatchError::NotBatch {
        path,
        why: format!("magic {shown:?}, expected {MAGIC:?}"),
    }
}

fn check_header(batch: &BatchFile, path: PathBuf) -> Result<(), BatchError> {
    let h = &batch.header;
    if h.magic != MAGIC {
        return Err(not_ours(&h.magic, path));
    }
    if h.version != FORMAT_VERSION {
        return Err(BatchError::Version {
            path,
            found: h.version,
            expected: FORMAT_VERSION,
        });
    }
    Ok(())
}

fn check_expectation(
    batch: &BatchFile,
    expect: &Expectation,
    path: PathBuf,
) -> Result<(), BatchError> {
    let h = &batch.header;
    if h.stage != expect.stage {
        return Err(BatchError::WrongStage {
            path,
            expected: expect.stage,
            found: h.stage,
        });
    }
    // A reads batch cut without an index carries fingerprint 0.
    let no_index_yet = h.stage == Stage::Reads && h.index_fingerprint == 0;
    if h.index_fingerprint != expect.index_fingerprint && !no_index_yet {
        return Err(BatchError::OtherIndex {
            path,
            expected: expect.index_fingerprint,
            found: h.index_fingerprint,
        });
    }
    if h.options_fingerprint != expect.options_fingerprint {
        return Err(BatchError::OtherOptions {
            path,
            expected: expect.options_fingerprint,
            found: h.options_fingerprint,
        });
    }
    match &h.alt_contigs {
        Some(ids) if *ids != expect.alt_contigs => Err(BatchError::OtherAlt {
            path,
            expected: expect.alt_contigs.len(),
            found: ids.len(),
        }),
        _ => Ok(()),
    }
}

/// Reads the batch file at `path` and checks it against `expect`.
pub fn read_batch(path: impl AsRef<Path>, expect: &Expectation) -> Result<BatchFile, BatchError> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|source| BatchError::Io {
        path: path.to_path_buf(),
        what: "cannot read the batch file",
        source,
    })?;
    decode_batch(&bytes, path, expect)
}

/// The header of the batch file at `path`, read without keeping the
/// payload (which is decompressed and skipped): for ordering many batch
/// files before reading them one at a time. A file that does not decode is
/// read in full to say precisely why.
pub fn read_header(path: impl AsRef<Path>) -> Result<BatchHeader, BatchError> {
    #[derive(Deserialize)]
    struct HeaderOnly {
        header: BatchHeader,
    }
    let path = path.as_ref();
    let io_err = |source| BatchError::Io {
        path: path.to_path_buf(),
        what: "cannot read the batch file",
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let probe = zstd::Decoder::new(file)
        .ok()
        .and_then(|z| rmp_serde::from_read::<_, HeaderOnly>(z).ok());
    match probe {
        Some(p) if p.header.magic == MAGIC && p.header.version == FORMAT_VERSION => Ok(p.header),
        _ => {
            let bytes = fs::read(path).map_err(io_err)?;
            decode_any(&bytes, path).map(|b| b.header)
        }
    }
}

/// [`write_batch_with_level`] at [`DEFAULT_LEVEL`].
pub fn write_batch(path: impl AsRef<Path>, batch: &BatchFile) -> Result<(), BatchError> {
    write_batch_with_level(path, batch, DEFAULT_LEVEL)
}

/// Writes `batch` to `path` atomically: into a temporary file in the same
/// directory ([`AtomicFile`]), synced to disk, then renamed over `path` (and
/// the directory synced where the platform allows). On failure, or if the
/// process is terminated by SIGTERM/SIGINT/SIGHUP meanwhile, the temporary
/// file is removed and `path` is untouched.
pub fn write_batch_with_level(
    path: impl AsRef<Path>,
    batch: &BatchFile,
    level: i32,
) -> Result<(), BatchError> {
    let path = path.as_ref();
    let io_err = |what: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| BatchError::Io {
            path: p,
            what,
            source,
        }
    };
    let file =
        AtomicFile::create(path).map_err(io_err("cannot create a temporary batch file", path))?;
    let tmp = file.path().to_path_buf();
    let file = encode_into(batch, level, io::BufWriter::with_capacity(1 << 20, file)).map_err(
        |detail| BatchError::Encode {
            path: tmp.clone(),
            detail,
        },
    )?;
    let file = file
        .into_inner()
        .map_err(|e| e.into_error())
        .map_err(io_err("cannot write the batch file", &tmp))?;
    file.commit()
        .map_err(io_err("cannot sync and rename the batch file", path))
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn printable_escapes_control_characters_and_caps_length() {
        assert_eq!(
            printable("unknown variant `R\0\n`"),
            "unknown variant `R\\u{0}\\n`"
        );
        let long = printable(&"x".repeat(1000));
        assert!(long.len() < 310 && long.ends_with("..."));
    }
}
