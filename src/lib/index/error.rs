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
    /// A large allocation failed: the build (or the index in memory) needs
    /// more memory than the machine or its limits give.
    #[error(
        "{}: out of memory: {what} needs {}; {}",
        path.display(),
        human_bytes(*bytes),
        oom_hint(what)
    )]
    OutOfMemory {
        path: PathBuf,
        what: &'static str,
        bytes: u64,
    },
    /// `--max-memory` is below what the blockwise build needs at least.
    #[error("{}: --max-memory {budget} is too small to index {n} bases (text and reverse complement); it needs at least {need}", path.display())]
    BudgetTooSmall {
        path: PathBuf,
        budget: String,
        need: String,
        n: u64,
    },
    /// The header or a small section is inconsistent.
    #[error("{}: corrupt index: {what}", path.display())]
    Corrupt { path: PathBuf, what: String },
}

/// What to do when `what` could not be allocated.
fn oom_hint(what: &str) -> &'static str {
    if what.starts_with("the index") {
        "give the job more memory, or use --mmap-index to share the page cache's copy"
    } else if what.starts_with("the reference") {
        "give the job more memory"
    } else {
        "lower --max-memory (ferrous index --help) or give the job more memory"
    }
}

/// `1.5 GiB`-style sizes for messages.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut x = bytes as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}
