//! [`BatchError`]: why a batch file could not be written or read. Every
//! message names the file.

use std::path::PathBuf;

use super::Stage;

/// An error writing or reading a batch file.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The file could not be opened, read, written, synced or renamed.
    #[error("{}: {what}: {source}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The batch could not be serialised (a bug, or an I/O failure while
    /// compressing in memory).
    #[error("{}: cannot encode the batch: {detail}", path.display())]
    Encode { path: PathBuf, detail: String },
    /// Empty, not zstd, not MessagePack, or not a ferrous batch inside.
    #[error("{}: not a ferrous batch file: {why}", path.display())]
    NotBatch { path: PathBuf, why: String },
    /// A batch of another format version.
    #[error(
        "{}: batch format version {found}, but this ferrous ({}) reads version {expected}",
        path.display(),
        env!("CARGO_PKG_VERSION")
    )]
    Version {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    /// A batch written by another stage than the one expected.
    #[error(
        "{}: this batch was written by `{}` ({found} batch); expected one written by `{}` ({expected} batch)",
        path.display(), found.writer(), expected.writer()
    )]
    WrongStage {
        path: PathBuf,
        expected: Stage,
        found: Stage,
    },
    /// A batch made with another index.
    #[error(
        "{}: made with another index (fingerprint {found:016x}; this index is {expected:016x})",
        path.display()
    )]
    OtherIndex {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    /// A batch made with other alignment options.
    #[error(
        "{}: made with other options (fingerprint {found:016x}; these options are {expected:016x})",
        path.display()
    )]
    OtherOptions {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    /// A batch made with another set of ALT contigs (another `.alt` file
    /// beside the index, or none).
    #[error(
        "{}: made with another set of ALT contigs ({found} ALT contigs; this run has {expected}): give every stage the same index and .alt file",
        path.display()
    )]
    OtherAlt {
        path: PathBuf,
        expected: usize,
        found: usize,
    },
    /// The file ends early.
    #[error("{}: truncated: {detail}", path.display())]
    Truncated { path: PathBuf, detail: String },
    /// The zstd content checksum does not match the data.
    #[error("{}: corrupt: checksum mismatch ({detail})", path.display())]
    Checksum { path: PathBuf, detail: String },
    /// The zstd frame is damaged.
    #[error("{}: corrupt: {detail}", path.display())]
    Corrupt { path: PathBuf, detail: String },
    /// The decoded batch contradicts itself (offsets out of range, vectors
    /// of different lengths, counts that differ from the header, ...).
    #[error("{}: inconsistent batch: {detail}", path.display())]
    Inconsistent { path: PathBuf, detail: String },
}
