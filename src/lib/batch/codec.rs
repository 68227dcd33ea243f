//! Encoding and decoding (format version 5): three zstd frames, content
//! checksum on in each, each around one MessagePack value (named fields):
//! frame 1 the header and the payload less its reads ([`FirstFrame`]),
//! frame 2 the reads' bases ([`ReadBases`]), frame 3 their names, comments
//! and qualities ([`ReadLabels`]); atomic writes.
//!
//! The reads have frames of their own so that a stage, which never
//! changes them, can write the compressed frames it read ([`ReadsFrame`])
//! instead of compressing them again; and the labels one of their own so
//! that a stage, which aligns bases only, need not decompress them
//! ([`read_batch_bases`]).

use std::borrow::Cow;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cleanup::AtomicFile;
use crate::reads::{Layout, ReadBases, ReadBatch, ReadLabels};

use super::{
    BatchError, BatchFile, BatchHeader, ChainBatch, Expectation, InsertModel, Payload, RegionBatch,
    SeedBatch, Stage, DEFAULT_LEVEL, FORMAT_VERSION, MAGIC,
};

/// The four bytes every zstd frame starts with.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// What frame 1 holds: the header, and the payload without its reads.
/// Borrowed from the [`BatchFile`] when writing, owned when read.
#[derive(Serialize, Deserialize)]
struct FirstFrame<'a> {
    header: Cow<'a, BatchHeader>,
    payload: Columns<'a>,
}

/// A [`Payload`] less its reads, in the same MessagePack shape (a map of
/// one key, the variant, to a map of its fields): `{"Reads": {}}`,
/// `{"Seeds": {"seeds": ...}}`, ...
#[derive(Serialize, Deserialize)]
enum Columns<'a> {
    Reads {},
    Seeds {
        seeds: Cow<'a, SeedBatch>,
    },
    Chains {
        chains: Cow<'a, ChainBatch>,
    },
    Regions {
        regions: Cow<'a, RegionBatch>,
    },
    Paired {
        regions: Cow<'a, RegionBatch>,
        insert_model: Cow<'a, InsertModel>,
    },
    Rescued {
        regions: Cow<'a, RegionBatch>,
        insert_model: Cow<'a, InsertModel>,
    },
}

impl<'a> Columns<'a> {
    /// `payload`'s data but its reads, borrowed.
    fn of(payload: &'a Payload) -> Self {
        use Cow::Borrowed as B;
        match payload {
            Payload::Reads { .. } => Columns::Reads {},
            Payload::Seeds { seeds, .. } => Columns::Seeds { seeds: B(seeds) },
            Payload::Chains { chains, .. } => Columns::Chains { chains: B(chains) },
            Payload::Regions { regions, .. } => Columns::Regions {
                regions: B(regions),
            },
            Payload::Paired {
                regions,
                insert_model,
                ..
            } => Columns::Paired {
                regions: B(regions),
                insert_model: B(insert_model),
            },
            Payload::Rescued {
                regions,
                insert_model,
                ..
            } => Columns::Rescued {
                regions: B(regions),
                insert_model: B(insert_model),
            },
        }
    }

    /// The whole payload: these columns joined with their `reads` (owned
    /// columns move; borrowed ones are cloned).
    fn with_reads(self, reads: ReadBatch) -> Payload {
        match self {
            Columns::Reads {} => Payload::Reads { reads },
            Columns::Seeds { seeds } => Payload::Seeds {
                reads,
                seeds: seeds.into_owned(),
            },
            Columns::Chains { chains } => Payload::Chains {
                reads,
                chains: chains.into_owned(),
            },
            Columns::Regions { regions } => Payload::Regions {
                reads,
                regions: regions.into_owned(),
            },
            Columns::Paired {
                regions,
                insert_model,
            } => Payload::Paired {
                reads,
                regions: regions.into_owned(),
                insert_model: insert_model.into_owned(),
            },
            Columns::Rescued {
                regions,
                insert_model,
            } => Payload::Rescued {
                reads,
                regions: regions.into_owned(),
                insert_model: insert_model.into_owned(),
            },
        }
    }
}

/// Which reads a [`ReadsFrame`] holds, as far as the encoder checks
/// before writing it for a batch's reads: cheap to compute, and enough to
/// catch a frame handed to the wrong batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReadsIdentity {
    first_read: u64,
    count: u64,
    bases: u64,
}

impl ReadsIdentity {
    fn of(reads: &ReadBatch) -> Self {
        ReadsIdentity {
            first_read: reads.first_read,
            count: reads.len() as u64,
            bases: reads.total_bases(),
        }
    }
}

/// The reads' frames of a decoded batch file (frames 2 and 3, compressed,
/// as the file held them) and which reads they hold. Opaque: the decoder
/// makes it, a stage moves it from the batch it read to the batch it
/// writes ([`BatchFile::take_reads_frame`], [`BatchFile::carry_reads_frame`]),
/// the encoder writes it.
#[derive(Clone)]
pub struct ReadsFrame {
    /// The file's bytes, which hold the two frames from `start` to the end
    /// (kept whole rather than copied out).
    bytes: Vec<u8>,
    start: usize,
    reads: ReadsIdentity,
}

impl ReadsFrame {
    fn frames(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

/// The bytes are not shown: megabytes of compressed reads.
impl fmt::Debug for ReadsFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadsFrame")
            .field("first_read", &self.reads.first_read)
            .field("reads", &self.reads.count)
            .field("bases", &self.reads.bases)
            .field("bytes", &self.frames().len())
            .finish()
    }
}

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

/// Appends the three frames of `batch` to `out`; the reads' frames are the
/// batch's carried frames when they hold these reads, else compressed
/// here (which a batch of bases only cannot be).
fn encode_into<W: Write>(batch: &BatchFile, level: i32, out: W) -> Result<W, String> {
    let first = FirstFrame {
        header: Cow::Borrowed(&batch.header),
        payload: Columns::of(&batch.payload),
    };
    let mut out = compress(&first, level, out)?;
    let reads = batch.payload.reads();
    match &batch.reads_frame {
        Some(frame) if frame.reads == ReadsIdentity::of(reads) => {
            out.write_all(frame.frames()).map_err(|e| e.to_string())?;
            Ok(out)
        }
        _ => {
            let labels = reads.labels_part().ok_or(
                "the reads' names, comments and qualities were not read, and their frame was not \
                 carried: they cannot be written",
            )?;
            let out = compress(&reads.bases_part(), level, out)?;
            compress(&labels, level, out)
        }
    }
}

/// Appends to `out` one zstd frame (content checksum on) of the
/// MessagePack of `value`. Always fed the same way (serialiser, buffer
/// size, no flush, no pledged size), so that the frame's bytes depend only
/// on the value, the level and the zstd version: a carried reads frame is
/// then the frame the next writer would make.
fn compress<T: Serialize + ?Sized, W: Write>(value: &T, level: i32, out: W) -> Result<W, String> {
    let mut z = zstd::Encoder::new(out, level).map_err(|e| e.to_string())?;
    z.include_checksum(true).map_err(|e| e.to_string())?;
    let mut buf = io::BufWriter::with_capacity(1 << 17, z);
    rmp_serde::encode::write_named(&mut buf, value).map_err(|e| e.to_string())?;
    let z = buf.into_inner().map_err(|e| e.error().to_string())?;
    z.finish().map_err(|e| e.to_string())
}

/// Which parts of the reads a reader decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadParts {
    /// Bases and labels, every frame's checksum checked.
    All,
    /// The bases; the labels only for interleaved reads (`-p`), whose
    /// mates are found by name. Otherwise the labels' frame is decompressed
    /// to check its checksum, but its content is not kept: the stage
    /// carries the frame to the next file as it is.
    Bases,
}

/// Decompresses and decodes a batch held in memory and checks it against
/// `expect`; `name` labels errors (a path, or a description of the source).
pub fn decode_batch(
    bytes: &[u8],
    name: &Path,
    expect: &Expectation,
) -> Result<BatchFile, BatchError> {
    let batch = decode_any(bytes.to_vec(), name, ReadParts::All)?;
    check_expectation(&batch, expect, name.to_path_buf())?;
    Ok(batch)
}

/// [`decode_batch`] without an expectation: any stage, index or options,
/// and decoding `parts` of the reads. Frame 1 is decoded and its header
/// checked before the reads' frames are looked for, so that a file of
/// another version, or not a batch, says so rather than lacking a frame.
/// The file's bytes are kept by the batch's [`ReadsFrame`].
fn decode_any(bytes: Vec<u8>, name: &Path, parts: ReadParts) -> Result<BatchFile, BatchError> {
    let path = || name.to_path_buf();
    if bytes.is_empty() {
        return Err(BatchError::NotBatch {
            path: path(),
            why: "the file is empty".into(),
        });
    }
    if !bytes.starts_with(&ZSTD_MAGIC) {
        let why = if bytes.len() < ZSTD_MAGIC.len() && ZSTD_MAGIC.starts_with(&bytes) {
            "it ends inside the zstd magic number"
        } else {
            "it does not start with a zstd frame"
        };
        return Err(BatchError::NotBatch {
            path: path(),
            why: why.into(),
        });
    }
    let first_len = frame_len(&bytes, "its first zstd frame", path())?;
    let first = decode_first(&inflate(&bytes[..first_len], path())?, path())?;
    let labels_at = first_len + next_frame(&bytes[first_len..], BASES, path())?;
    let end = labels_at + next_frame(&bytes[labels_at..], LABELS, path())?;
    if end < bytes.len() {
        return Err(BatchError::Corrupt {
            path: path(),
            detail: format!(
                "{} bytes after {LABELS}, which must end the file",
                bytes.len() - end
            ),
        });
    }
    let bases: ReadBases = decode_part(
        &inflate(&bytes[first_len..labels_at], path())?,
        BASES,
        path(),
    )?;
    let labels = if parts == ReadParts::All || first.header.layout == Layout::Interleaved {
        let plain = inflate(&bytes[labels_at..], path())?;
        Some(decode_part::<ReadLabels>(&plain, LABELS, path())?)
    } else {
        check_frame(&bytes[labels_at..], path())?;
        None
    };
    let reads = ReadBatch::from_parts(bases, labels).map_err(|e| BatchError::Inconsistent {
        path: path(),
        detail: format!("the reads' frames: {e}"),
    })?;
    let batch = BatchFile {
        header: first.header.into_owned(),
        reads_frame: Some(ReadsFrame {
            reads: ReadsIdentity::of(&reads),
            bytes,
            start: first_len,
        }),
        payload: first.payload.with_reads(reads),
    };
    batch.check().map_err(|detail| BatchError::Inconsistent {
        path: path(),
        detail,
    })?;
    Ok(batch)
}

/// The compressed size of the zstd frame `bytes` starts with, from its
/// frame and block headers (nothing is decompressed). `what` names the
/// frame in errors; a frame that runs past the end of the file is
/// `Truncated`.
fn frame_len(bytes: &[u8], what: &str, path: PathBuf) -> Result<usize, BatchError> {
    use zstd::zstd_safe::{find_frame_compressed_size, get_error_name};
    find_frame_compressed_size(bytes).map_err(|code| {
        let name = get_error_name(code);
        // zstd's name for ZSTD_error_srcSize_wrong: the frame's headers
        // announce more bytes than there are.
        if name == "Src size is incorrect" {
            BatchError::Truncated {
                path,
                detail: format!("the file ends inside {what}"),
            }
        } else {
            BatchError::Corrupt {
                path,
                detail: format!("{what}: {name}"),
            }
        }
    })
}

/// The decompressed content of one whole zstd frame.
fn inflate(frame: &[u8], path: PathBuf) -> Result<Vec<u8>, BatchError> {
    zstd::decode_all(frame).map_err(|e| zstd_error(e, path))
}

/// Decompresses the zstd frame `frame` without keeping its content, which
/// checks its checksum (and that it decompresses at all).
fn check_frame(frame: &[u8], path: PathBuf) -> Result<(), BatchError> {
    let mut z = zstd::stream::read::Decoder::with_buffer(frame)
        .map_err(|e| zstd_error(e, path.clone()))?
        .single_frame();
    let mut scratch = vec![0u8; 1 << 17];
    loop {
        match z.read(&mut scratch) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(zstd_error(e, path)),
        }
    }
}

/// Frame 1's content: the header, checked for magic and version, and the
/// payload's columns.
fn decode_first(plain: &[u8], path: PathBuf) -> Result<FirstFrame<'static>, BatchError> {
    let (first, more) = match only_value::<FirstFrame>(plain) {
        Ok(v) => v,
        Err(e) => return Err(explain_msgpack_error(plain, e, path)),
    };
    check_header(&first.header, path.clone())?;
    if more {
        return Err(BatchError::Inconsistent {
            path,
            detail: "the first zstd frame holds more than the header and payload".into(),
        });
    }
    Ok(first)
}

/// How errors name frame 2.
const BASES: &str = "the reads' bases frame (frame 2)";
/// How errors name frame 3.
const LABELS: &str = "the reads' names frame (frame 3)";

/// The length of the zstd frame `what` that `rest`, the bytes after the
/// frames before it, must start with: a missing frame or one cut short is
/// `Truncated`, anything else than a zstd frame `Corrupt`.
fn next_frame(rest: &[u8], what: &str, path: PathBuf) -> Result<usize, BatchError> {
    if rest.is_empty() {
        return Err(BatchError::Truncated {
            path,
            detail: format!("the file ends before {what}: it is missing"),
        });
    }
    if !rest.starts_with(&ZSTD_MAGIC) {
        if rest.len() < ZSTD_MAGIC.len() && ZSTD_MAGIC.starts_with(rest) {
            return Err(BatchError::Truncated {
                path,
                detail: format!("the file ends inside the magic number of {what}"),
            });
        }
        return Err(BatchError::Corrupt {
            path,
            detail: format!("the bytes where {what} should start are not a zstd frame"),
        });
    }
    frame_len(rest, what, path)
}

/// The content of one of the reads' frames, `what`: exactly one value of
/// type `T`.
fn decode_part<'a, T: Deserialize<'a>>(
    plain: &'a [u8],
    what: &str,
    path: PathBuf,
) -> Result<T, BatchError> {
    let detail = match only_value::<T>(plain) {
        Ok((part, false)) => return Ok(part),
        Ok((_, true)) => format!("{what} holds more than one MessagePack value"),
        Err(e) => printable(&format!("{what} does not hold what it should: {e}")),
    };
    Err(BatchError::Inconsistent { path, detail })
}

/// Decodes the MessagePack value at the start of `plain`, and says whether
/// anything follows it (another value, or bytes that are none).
fn only_value<'a, T: Deserialize<'a>>(
    plain: &'a [u8],
) -> Result<(T, bool), rmp_serde::decode::Error> {
    use rmp_serde::decode::Error as E;
    let mut de = rmp_serde::Deserializer::from_read_ref(plain);
    let value = T::deserialize(&mut de)?;
    // The slice reader does not tell how much it consumed: a next value
    // that fails for want of even a marker byte means there is none.
    let more = !matches!(
        serde::de::IgnoredAny::deserialize(&mut de),
        Err(E::InvalidMarkerRead(e)) if e.kind() == io::ErrorKind::UnexpectedEof
    );
    Ok((value, more))
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

/// Why a checksummed frame 1 did not decode as a header and payload:
/// first the header's identity (so that a batch of another version says
/// so), then the payload.
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
        Ok(p) => match check_identity(&p.header.magic, p.header.version, path.clone()) {
            Err(other) => other,
            Ok(()) => {
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
        },
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

fn check_header(h: &BatchHeader, path: PathBuf) -> Result<(), BatchError> {
    check_identity(&h.magic, h.version, path)
}

/// A header's magic, then its version: not a batch, or one of another
/// format version.
fn check_identity(magic: &str, version: u32, path: PathBuf) -> Result<(), BatchError> {
    if magic != MAGIC {
        return Err(not_ours(magic, path));
    }
    if version != FORMAT_VERSION {
        return Err(BatchError::Version {
            path,
            found: version,
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
    read_parts(path.as_ref(), expect, ReadParts::All)
}

/// [`read_batch`] for a stage job, which aligns the reads' bases and
/// passes the rest on: the reads' names, comments and qualities are
/// checked but not decoded (the batch is bases only:
/// [`ReadBatch::has_labels`]), unless the reads are interleaved and paired
/// by name. The batch written from it
/// must carry its reads' frames ([`BatchFile::carry_reads_frame`]).
pub fn read_batch_bases(
    path: impl AsRef<Path>,
    expect: &Expectation,
) -> Result<BatchFile, BatchError> {
    read_parts(path.as_ref(), expect, ReadParts::Bases)
}

fn read_parts(
    path: &Path,
    expect: &Expectation,
    parts: ReadParts,
) -> Result<BatchFile, BatchError> {
    let bytes = fs::read(path).map_err(|source| BatchError::Io {
        path: path.to_path_buf(),
        what: "cannot read the batch file",
        source,
    })?;
    let batch = decode_any(bytes, path, parts)?;
    check_expectation(&batch, expect, path.to_path_buf())?;
    Ok(batch)
}

/// The header of the batch file at `path`, from its first frame alone
/// (decompressed in full, so its checksum is checked, and the payload's
/// columns skipped; the reads' frame is not read): for ordering many
/// batch files before reading them one at a time. A file whose first frame
/// does not give a header of this version is read in full to say
/// precisely why.
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
    let probe = zstd::Decoder::new(file).ok().and_then(|z| {
        let mut plain = Vec::new();
        z.single_frame().read_to_end(&mut plain).ok()?;
        rmp_serde::from_slice::<HeaderOnly>(&plain).ok()
    });
    match probe {
        Some(p) if p.header.magic == MAGIC && p.header.version == FORMAT_VERSION => Ok(p.header),
        _ => {
            let bytes = fs::read(path).map_err(io_err)?;
            decode_any(bytes, path, ReadParts::All).map(|b| b.header)
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
