//! [`ReadsError`]: everything that can go wrong while reading reads.

use std::io;

/// An error from reading FASTA/FASTQ input. Each message names the file, the
/// 1-based record number (and name and line where known) and the problem.
/// Line numbers count lines of the decompressed text.
#[derive(Debug, thiserror::Error)]
pub enum ReadsError {
    /// The file could not be opened.
    #[error("{path}: cannot open: {source}")]
    Open {
        path: String,
        #[source]
        source: io::Error,
    },
    /// Reading failed (I/O error) after `records` complete records.
    #[error("{path}: read error after record {records} (line {line}): {source}")]
    Read {
        path: String,
        records: u64,
        line: u64,
        #[source]
        source: io::Error,
    },
    /// The gzip data is truncated or corrupt.
    #[error(
        "{path}: gzip data is truncated or corrupt after record {records} \
         (line {line} of the decompressed text): {source}"
    )]
    Gzip {
        path: String,
        records: u64,
        line: u64,
        #[source]
        source: io::Error,
    },
    /// A record is malformed.
    #[error("{path}: record {record} (name {name:?}, starting at line {line}): {problem}")]
    Record {
        path: String,
        /// 1-based record number in this file.
        record: u64,
        /// Name as read (before trimming), lossily decoded.
        name: String,
        /// Line of the record's header.
        line: u64,
        problem: RecordProblem,
    },
    /// Text other than whitespace where a record header (`@` or `>`) must start.
    #[error(
        "{path}: line {line}: expected '@' or '>' at the start of record {record}, found {found:?}"
    )]
    NotAHeader {
        path: String,
        record: u64,
        line: u64,
        /// The start of the offending line, lossily decoded.
        found: String,
    },
    /// The two files of a pair hold mates with different names.
    #[error(
        "{path1} and {path2}: read pair {pair} has different names: {name1:?} and {name2:?} \
         (compared after removing a final /1 or /2)"
    )]
    PairNames {
        path1: String,
        path2: String,
        /// 1-based pair number (= record number in each file).
        pair: u64,
        name1: String,
        name2: String,
    },
    /// One file of a pair holds more records than the other.
    #[error(
        "{longer}: has more records than {shorter}: record {record} (name {name:?}) has no mate \
         ({shorter} ends after {count} records)"
    )]
    PairCount {
        longer: String,
        shorter: String,
        /// 1-based number of the unmatched record in `longer`.
        record: u64,
        name: String,
        /// Records in `shorter`.
        count: u64,
    },
    /// A batch broke a size limit or, when deserialised, is inconsistent.
    #[error("invalid read batch: {what}")]
    InvalidBatch { what: &'static str },
}

/// What is wrong with one record (see [`ReadsError::Record`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordProblem {
    /// A FASTQ (`@`) record has no `+` line before the next header or the end.
    #[error("no '+' line after the sequence (a FASTQ record needs '+' and a quality line)")]
    MissingPlus,
    /// The input ends on the `+` line: the quality is missing.
    #[error("the file ends on the '+' line: quality string missing")]
    MissingQuality,
    /// The quality string is not as long as the sequence.
    #[error("quality length {qual} differs from sequence length {seq}{}",
        if *at_eof { " (the file ends inside the quality)" } else { "" })]
    QualityLength { qual: u64, seq: u64, at_eof: bool },
    /// The header line ends the file with no name at all (a lone `@`/`>`).
    #[error("the file ends right after the header character")]
    TruncatedHeader,
}
