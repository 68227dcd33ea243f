//! [`ReadBatch`]: a batch of reads stored as structure-of-arrays.
//!
//! All names of a batch live in one byte vector, all comments in another, and
//! so on; per-read `*_ends` vectors hold the exclusive end offset of each read's
//! field. Refilling a cleared batch reuses the vectors, so a reader costs no
//! allocation per read once the vectors have grown to a batch's size. The
//! layout maps directly onto the batch file format, in two parts: the bases
//! ([`ReadBases`]) and the labels ([`ReadLabels`]), each a frame of the
//! file (serde derives).

use serde::{Deserialize, Serialize};

use super::ReadsError;
use crate::util::ends_ok;

/// A batch of reads in input order (bwa's `bseq1_t` array from `bseq_read`).
///
/// Read `i` has a name (already trimmed of `/1`, `/2`: spec §3.1), a comment
/// (the header text after the first whitespace; empty when absent), the bases
/// as given in the file (not normalised) and, for FASTQ records, the quality
/// string verbatim. For paired input from two files, reads `2k` and `2k + 1`
/// are mates (R1 then R2).
///
/// In a batch file the bases and the labels (names, comments, qualities)
/// are two parts ([`ReadBases`], [`ReadLabels`]), so that the stage jobs,
/// which align bases only, can leave the labels compressed: such a batch
/// is *bases only* ([`ReadBatch::has_labels`] false), and asking it for a
/// name, comment or quality is a bug that panics. Building a batch from its
/// parts ([`ReadBatch::from_parts`]) checks that the offsets are
/// consistent, so a batch read from a file can be indexed without panics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBatch {
    /// Global index of the first read of this batch: the number of reads in
    /// all earlier batches (bwa's `n_processed`).
    pub first_read: u64,
    seqs: Vec<u8>,
    seq_ends: Vec<u64>,
    /// `None` in a batch of bases only ([`ReadBatch::from_parts`] without
    /// them).
    labels: Option<ReadLabels>,
}

/// An empty batch, with (empty) labels.
impl Default for ReadBatch {
    fn default() -> Self {
        ReadBatch {
            first_read: 0,
            seqs: Vec::new(),
            seq_ends: Vec::new(),
            labels: Some(ReadLabels::default()),
        }
    }
}

/// Why a batch of bases only panics when asked for labels.
const NO_LABELS: &str = "read names, comments and qualities asked of a batch read without them";

/// The bases of a batch's reads, as a batch file stores them (its second
/// zstd frame): the first read's number, all bases back to back, and
/// the exclusive end offset of each read's bases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadBases {
    pub first_read: u64,
    #[serde(with = "serde_bytes")]
    pub seqs: Vec<u8>,
    #[serde(with = "crate::batch::columns")]
    pub seq_ends: Vec<u64>,
}

/// The labels of a batch's reads, as a batch file stores them (its third
/// zstd frame): names, comments and qualities, each back to back with the
/// exclusive end offset of each read's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadLabels {
    #[serde(with = "serde_bytes")]
    pub names: Vec<u8>,
    #[serde(with = "crate::batch::columns")]
    pub name_ends: Vec<u32>,
    #[serde(with = "serde_bytes")]
    pub comments: Vec<u8>,
    #[serde(with = "crate::batch::columns")]
    pub comment_ends: Vec<u32>,
    #[serde(with = "serde_bytes")]
    pub quals: Vec<u8>,
    #[serde(with = "crate::batch::columns")]
    pub qual_ends: Vec<u64>,
}

/// [`ReadBases`] borrowed from a batch, for writing.
#[derive(Serialize)]
pub struct BasesRef<'a> {
    first_read: u64,
    #[serde(with = "serde_bytes")]
    seqs: &'a [u8],
    #[serde(with = "crate::batch::columns")]
    seq_ends: &'a [u64],
}

impl ReadBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// The batch of these parts, checked: every offset list has one entry
    /// per read, offsets never decrease and end at their data's length, and
    /// a quality string is empty or as long as its read. Without `labels`
    /// the batch is bases only.
    pub fn from_parts(bases: ReadBases, labels: Option<ReadLabels>) -> Result<Self, ReadsError> {
        let shape = |what: &'static str| Err(ReadsError::InvalidBatch { what });
        let n = bases.seq_ends.len();
        if !ends_ok(&bases.seq_ends, bases.seqs.len()) {
            return shape("offsets are decreasing or do not end at the data length");
        }
        let Some(l) = labels else {
            return Ok(ReadBatch {
                first_read: bases.first_read,
                seqs: bases.seqs,
                seq_ends: bases.seq_ends,
                labels: None,
            });
        };
        if l.name_ends.len() != n || l.comment_ends.len() != n || l.qual_ends.len() != n {
            return shape("per-read offset lists have different lengths");
        }
        if !ends_ok(&l.name_ends, l.names.len())
            || !ends_ok(&l.comment_ends, l.comments.len())
            || !ends_ok(&l.qual_ends, l.quals.len())
        {
            return shape("offsets are decreasing or do not end at the data length");
        }
        let batch = ReadBatch {
            first_read: bases.first_read,
            seqs: bases.seqs,
            seq_ends: bases.seq_ends,
            labels: Some(l),
        };
        for i in 0..n {
            let q = batch.qual_range(i);
            if !q.is_empty() && q.len() != batch.seq_range(i).len() {
                return shape("a quality string differs in length from its sequence");
            }
        }
        Ok(batch)
    }

    /// The bases part, for writing.
    pub fn bases_part(&self) -> BasesRef<'_> {
        BasesRef {
            first_read: self.first_read,
            seqs: &self.seqs,
            seq_ends: &self.seq_ends,
        }
    }

    /// The labels part, for writing; `None` for a bases-only batch.
    pub fn labels_part(&self) -> Option<&ReadLabels> {
        self.labels.as_ref()
    }

    /// Whether the names, comments and qualities are here (false for a
    /// batch read from a file without them).
    pub fn has_labels(&self) -> bool {
        self.labels.is_some()
    }

    /// The labels; a bases-only batch panics.
    fn labels(&self) -> &ReadLabels {
        self.labels.as_ref().expect(NO_LABELS)
    }

    /// Number of reads.
    pub fn len(&self) -> usize {
        self.seq_ends.len()
    }

    /// Whether the batch holds no read.
    pub fn is_empty(&self) -> bool {
        self.seq_ends.is_empty()
    }

    /// Total number of bases over all reads.
    pub fn total_bases(&self) -> u64 {
        self.seqs.len() as u64
    }

    /// Removes all reads, keeping the allocated capacity; `first_read` is
    /// left as is (the batch reader sets it).
    pub fn clear(&mut self) {
        let l = self.labels.get_or_insert_default();
        l.names.clear();
        l.name_ends.clear();
        l.comments.clear();
        l.comment_ends.clear();
        l.quals.clear();
        l.qual_ends.clear();
        self.seqs.clear();
        self.seq_ends.clear();
    }

    fn start<T: Copy + Into<u64>>(ends: &[T], i: usize) -> usize {
        if i == 0 {
            0
        } else {
            ends[i - 1].into() as usize
        }
    }

    fn name_range(&self, i: usize) -> std::ops::Range<usize> {
        let ends = &self.labels().name_ends;
        Self::start(ends, i)..ends[i] as usize
    }

    fn seq_range(&self, i: usize) -> std::ops::Range<usize> {
        Self::start(&self.seq_ends, i)..self.seq_ends[i] as usize
    }

    fn qual_range(&self, i: usize) -> std::ops::Range<usize> {
        let ends = &self.labels().qual_ends;
        Self::start(ends, i)..ends[i] as usize
    }

    /// Name of read `i` (trimmed of a final `/<digit>`). Panics if `i >= len()`.
    pub fn name(&self, i: usize) -> &[u8] {
        &self.labels().names[self.name_range(i)]
    }

    /// Comment of read `i`: header text after the first whitespace
    /// character (empty if none). Panics if `i >= len()`.
    pub fn comment(&self, i: usize) -> &[u8] {
        let l = self.labels();
        let start = Self::start(&l.comment_ends, i);
        &l.comments[start..l.comment_ends[i] as usize]
    }

    /// Bases of read `i` exactly as in the file. Panics if `i >= len()`.
    pub fn seq(&self, i: usize) -> &[u8] {
        &self.seqs[self.seq_range(i)]
    }

    /// Quality string of read `i`, `None` for FASTA records and for
    /// zero-length FASTQ records (bwa keeps no quality for an empty string
    /// either; both print `*`). Panics if `i >= len()`.
    pub fn qual(&self, i: usize) -> Option<&[u8]> {
        let r = self.qual_range(i);
        if r.is_empty() {
            None
        } else {
            Some(&self.labels().quals[r])
        }
    }

    /// Length of read `i` in bases. Panics if `i >= len()`.
    pub fn seq_len(&self, i: usize) -> usize {
        self.seq_range(i).len()
    }

    /// Appends a read. Fails only when the names or comments of one batch
    /// pass 4 GiB. `qual` must be empty or as long as `seq`.
    pub fn push(
        &mut self,
        name: &[u8],
        comment: &[u8],
        seq: &[u8],
        qual: Option<&[u8]>,
    ) -> Result<(), ReadsError> {
        let qual = qual.unwrap_or(&[]);
        debug_assert!(qual.is_empty() || qual.len() == seq.len());
        let l = self.labels.as_mut().expect(NO_LABELS);
        l.names.extend_from_slice(name);
        l.comments.extend_from_slice(comment);
        l.quals.extend_from_slice(qual);
        self.seqs.extend_from_slice(seq);
        self.finish_read()
    }

    /// Appends a copy of read `i` of `other`. Panics if `i >= other.len()`.
    pub fn push_from(&mut self, other: &ReadBatch, i: usize) -> Result<(), ReadsError> {
        self.push(other.name(i), other.comment(i), other.seq(i), other.qual(i))
    }

    /// Raw buffers a parser appends one record's fields to, before calling
    /// [`ReadBatch::finish_read`] (or [`ReadBatch::abandon_read`]).
    pub(crate) fn buffers(&mut self) -> RawBuffers<'_> {
        let l = self.labels.as_mut().expect(NO_LABELS);
        RawBuffers {
            names: &mut l.names,
            comments: &mut l.comments,
            seqs: &mut self.seqs,
            quals: &mut l.quals,
        }
    }

    /// Length of the field bytes that belong to finished reads.
    pub(crate) fn committed(&self) -> Committed {
        let last = |v: &[u64]| v.last().copied().unwrap_or(0) as usize;
        let last32 = |v: &[u32]| v.last().copied().unwrap_or(0) as usize;
        let l = self.labels();
        Committed {
            names: last32(&l.name_ends),
            comments: last32(&l.comment_ends),
            seqs: last(&self.seq_ends),
            quals: last(&l.qual_ends),
        }
    }

    /// Ends the read whose fields were appended through [`ReadBatch::buffers`].
    pub(crate) fn finish_read(&mut self) -> Result<(), ReadsError> {
        let l = self.labels.as_mut().expect(NO_LABELS);
        let (Ok(name_end), Ok(comment_end)) = (
            u32::try_from(l.names.len()),
            u32::try_from(l.comments.len()),
        ) else {
            self.abandon_read();
            return Err(ReadsError::InvalidBatch {
                what: "names or comments of one batch exceed 4 GiB",
            });
        };
        l.name_ends.push(name_end);
        l.comment_ends.push(comment_end);
        l.qual_ends.push(l.quals.len() as u64);
        self.seq_ends.push(self.seqs.len() as u64);
        Ok(())
    }

    /// Drops the partly appended fields of an unfinished read.
    pub(crate) fn abandon_read(&mut self) {
        let c = self.committed();
        let l = self.labels.as_mut().expect(NO_LABELS);
        l.names.truncate(c.names);
        l.comments.truncate(c.comments);
        l.quals.truncate(c.quals);
        self.seqs.truncate(c.seqs);
    }
}

/// Mutable access to a batch's field buffers while one record is parsed.
pub(crate) struct RawBuffers<'a> {
    pub names: &'a mut Vec<u8>,
    pub comments: &'a mut Vec<u8>,
    pub seqs: &'a mut Vec<u8>,
    pub quals: &'a mut Vec<u8>,
}

/// Byte lengths of the fields of all finished reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Committed {
    pub names: usize,
    pub comments: usize,
    pub seqs: usize,
    pub quals: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ReadBatch {
        let mut b = ReadBatch::new();
        b.push(b"r1", b"c1", b"ACGT", Some(b"IIII")).unwrap();
        b.push(b"r2", b"", b"GG", None).unwrap();
        b.push(b"r3", b"x y", b"", Some(b"")).unwrap();
        b.first_read = 7;
        b
    }

    #[test]
    fn accessors() {
        let b = sample();
        assert_eq!(b.len(), 3);
        assert_eq!(b.total_bases(), 6);
        assert_eq!(b.name(1), b"r2");
        assert_eq!(b.comment(0), b"c1");
        assert_eq!(b.comment(2), b"x y");
        assert_eq!(b.seq(0), b"ACGT");
        assert_eq!(b.qual(0), Some(&b"IIII"[..]));
        assert_eq!(b.qual(1), None);
        assert_eq!(b.qual(2), None);
        assert_eq!(b.seq_len(2), 0);
    }

    #[test]
    fn clear_keeps_first_read_and_empties() {
        let mut b = sample();
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.total_bases(), 0);
        assert_eq!(b.first_read, 7);
    }

    #[test]
    fn parts_round_trip_and_validation() {
        let b = sample();
        let parts = |b: &ReadBatch| {
            let bases = rmp_serde::to_vec_named(&b.bases_part()).unwrap();
            let labels = rmp_serde::to_vec_named(&b.labels_part().unwrap()).unwrap();
            (
                rmp_serde::from_slice::<ReadBases>(&bases).unwrap(),
                rmp_serde::from_slice::<ReadLabels>(&labels).unwrap(),
            )
        };
        let (bases, labels) = parts(&b);
        let back = ReadBatch::from_parts(bases.clone(), Some(labels)).unwrap();
        assert_eq!(back, b);

        let only = ReadBatch::from_parts(bases, None).unwrap();
        assert!(!only.has_labels() && only.labels_part().is_none());
        assert_eq!((only.len(), only.first_read, only.total_bases()), (3, 7, 6));
        assert_eq!((only.seq(0), only.seq_len(2)), (&b"ACGT"[..], 0));

        let mut bad = b.clone();
        bad.seq_ends[0] = 100;
        let (bases, labels) = parts(&bad);
        assert!(ReadBatch::from_parts(bases, Some(labels)).is_err());

        let (bases, mut labels) = parts(&b);
        labels.quals.pop();
        labels.qual_ends[0] = 3;
        labels.qual_ends[1] = 3;
        labels.qual_ends[2] = 3;
        assert!(ReadBatch::from_parts(bases, Some(labels)).is_err());

        // Labels of another number of reads.
        let (bases, mut labels) = parts(&b);
        labels.name_ends.pop();
        assert!(ReadBatch::from_parts(bases, Some(labels)).is_err());
    }

    #[test]
    #[should_panic(expected = "asked of a batch read without them")]
    fn a_bases_only_batch_has_no_names() {
        let b = sample();
        let bases = rmp_serde::to_vec_named(&b.bases_part()).unwrap();
        let only = ReadBatch::from_parts(rmp_serde::from_slice(&bases).unwrap(), None).unwrap();
        only.name(0);
    }
}
