//! [`SeedBatch`]: the seed intervals of every read of a batch (output of
//! `ferrous seed`, input of `ferrous chain`).

use serde::{Deserialize, Serialize};

use super::offsets::{ends_ok, range, same_len};
use crate::seed::{span_end, span_start, BiInterval};

/// The [`BiInterval`]s of each read, as `collect_intervals` leaves them,
/// stored as structure-of-arrays: interval `j` is
/// `(x0[j], x1[j], size[j], info[j])`, and read `i` owns the run
/// `read_ends[i - 1] .. read_ends[i]` of the flat vectors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SeedBatchRepr")]
pub struct SeedBatch {
    #[serde(with = "crate::batch::columns")]
    read_ends: Vec<u64>,
    #[serde(with = "crate::batch::columns")]
    x0: Vec<u64>,
    #[serde(with = "crate::batch::columns")]
    x1: Vec<u64>,
    #[serde(with = "crate::batch::columns")]
    size: Vec<u64>,
    #[serde(with = "crate::batch::columns")]
    info: Vec<u64>,
}

/// The serialised shape of [`SeedBatch`], checked on the way in.
#[derive(Deserialize)]
struct SeedBatchRepr {
    #[serde(with = "crate::batch::columns")]
    read_ends: Vec<u64>,
    #[serde(with = "crate::batch::columns")]
    x0: Vec<u64>,
    #[serde(with = "crate::batch::columns")]
    x1: Vec<u64>,
    #[serde(with = "crate::batch::columns")]
    size: Vec<u64>,
    #[serde(with = "crate::batch::columns")]
    info: Vec<u64>,
}

impl TryFrom<SeedBatchRepr> for SeedBatch {
    type Error = String;

    fn try_from(r: SeedBatchRepr) -> Result<Self, String> {
        let n = r.x0.len();
        if !same_len(&[n, r.x1.len(), r.size.len(), r.info.len()]) {
            return Err("seeds: interval vectors have different lengths".into());
        }
        if !ends_ok(&r.read_ends, n) {
            return Err("seeds: read_ends decrease or do not end at the interval count".into());
        }
        if let Some(j) = r.info.iter().position(|&i| (i >> 32) > (i & 0xffff_ffff)) {
            return Err(format!("seeds: interval {j} starts after it ends"));
        }
        Ok(SeedBatch {
            read_ends: r.read_ends,
            x0: r.x0,
            x1: r.x1,
            size: r.size,
            info: r.info,
        })
    }
}

impl SeedBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of reads.
    pub fn len(&self) -> usize {
        self.read_ends.len()
    }

    /// Whether the batch holds no read.
    pub fn is_empty(&self) -> bool {
        self.read_ends.is_empty()
    }

    /// Number of intervals over all reads.
    pub fn n_intervals(&self) -> usize {
        self.x0.len()
    }

    /// Removes all reads, keeping the allocated memory.
    pub fn clear(&mut self) {
        self.read_ends.clear();
        self.x0.clear();
        self.x1.clear();
        self.size.clear();
        self.info.clear();
    }

    /// Appends the next read's intervals.
    pub fn push_read(&mut self, intervals: &[BiInterval]) {
        for iv in intervals {
            debug_assert!(span_start(iv) <= span_end(iv));
            self.x0.push(iv.x[0]);
            self.x1.push(iv.x[1]);
            self.size.push(iv.x[2]);
            self.info.push(iv.info);
        }
        self.read_ends.push(self.x0.len() as u64);
    }

    /// Appends the reads of `other` after those of `self` (joins the
    /// pieces a stage builds in parallel).
    pub fn append(&mut self, other: &SeedBatch) {
        let base = self.x0.len() as u64;
        self.read_ends
            .extend(other.read_ends.iter().map(|&e| e + base));
        self.x0.extend_from_slice(&other.x0);
        self.x1.extend_from_slice(&other.x1);
        self.size.extend_from_slice(&other.size);
        self.info.extend_from_slice(&other.info);
    }

    /// Number of intervals of read `i`. Panics if `i >= len()`.
    pub fn read_len(&self, i: usize) -> usize {
        range(&self.read_ends, i).len()
    }

    /// The intervals of read `i`, in stored order. Panics if `i >= len()`.
    pub fn read(&self, i: usize) -> impl ExactSizeIterator<Item = BiInterval> + '_ {
        range(&self.read_ends, i).map(move |j| BiInterval {
            x: [self.x0[j], self.x1[j], self.size[j]],
            info: self.info[j],
        })
    }

    /// Replaces `out`'s content with the intervals of read `i`. Panics if
    /// `i >= len()`.
    pub fn read_into(&self, i: usize, out: &mut Vec<BiInterval>) {
        out.clear();
        out.extend(self.read(i));
    }

    /// The largest query end (`info` low half) of read `i`'s intervals, 0
    /// if none: checked against the read length on decode.
    /// Checks that every interval lies within the `rows` rows of the
    /// index's BWT, so that locating its occurrences stays in bounds.
    pub(crate) fn check_rows(&self, rows: u64) -> Result<(), String> {
        let bad = (0..self.x0.len()).find(|&j| {
            let size = self.size[j];
            size == 0
                || self.x0[j].checked_add(size).is_none_or(|e| e > rows)
                || self.x1[j].checked_add(size).is_none_or(|e| e > rows)
        });
        match bad {
            Some(j) => Err(format!(
                "seeds: interval {j} lies outside the index's {rows} suffix-array rows"
            )),
            None => Ok(()),
        }
    }

    pub(crate) fn max_query_end(&self, i: usize) -> u64 {
        self.info[range(&self.read_ends, i)]
            .iter()
            .map(|&x| x & 0xffff_ffff)
            .max()
            .unwrap_or(0)
    }
}
