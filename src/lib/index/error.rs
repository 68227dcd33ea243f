//! The typed error of the index boundary: building (`ferrous index`) and
//! opening (`FmIndex::open`). Every variant names the file it is about.

use std::path::PathBuf;

/// What can go wrong while building, writing or opening an index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The reference (or index) could not be opened or read.
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The reference file holds no bytes at all.
    #[error("{}: the file is empty", path.display())]
    Empty { path: PathBuf },
    /// The reference has headers but not a single base.
    #[error("{}: no sequence (total length 0)", path.display())]
    NoSequence { path: PathBuf },
    /// Two records carry the same name.
    #[error("{}: records {first} and {second} have the same name '{name}'", path.display())]
    DuplicateName {
        path: PathBuf,
        name: String,
        first: usize,
        second: usize,
    },
    /// The input is not FASTA text (FASTQ, binary, text before the first header, ...).
    #[error("{}: line {line}: not FASTA: {what}", path.display())]
    NotFasta {
        path: PathBuf,
        line: u64,
        what: String,
    },
    /// The reference is longer than this build can index.
    #[error("{}: reference too long ({len} bases)", path.display())]
    TooLong { path: PathBuf, len: u64 },
    /// Suffix-array construction failed inside libsais.
    #[error("{}: suffix-array construction failed: {what}", path.display())]
    SuffixArray { path: PathBuf, what: String },
    /// Writing the index failed (disk full, file-size limit, permissions, ...).
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a ferrous index (wrong magic bytes).
    #[error("{}: not a ferrous index (bad magic bytes)", path.display())]
    BadMagic { path: PathBuf },
    /// The index was written by an incompatible format version.
    #[error("{}: index format version {found}, this build reads version {expected}; rebuild it with `ferrous index`", path.display())]
    Version {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    /// The file is shorter or longer than its section table says.
    #[error("{}: file is {actual} bytes, the header says {expected} (truncated or damaged)", path.display())]
    Size {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    /// A section's CRC32 does not match its contents.
    #[error("{}: checksum mismatch in section '{section}' (damaged file)", path.display())]
    Checksum {
        path: PathBuf,
        section: &'static str,
    },
    /// One of bwa's index files (`--from-bwa`) is damaged, truncated or
    /// does not belong with the others.
    #[error("{}: {what}", path.display())]
    BwaFiles { path: PathBuf, what: String },
    /// The header or a small section is inconsistent.
    #[error("{}: corrupt index: {what}", path.display())]
    Corrupt { path: PathBuf, what: String },
}
