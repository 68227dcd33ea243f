//! [`RegionBatch`]: the alignment regions of every read of a batch (output
//! of `ferrous extend`, and of pairing / rescue; input of `ferrous emit`).

use serde::{Deserialize, Serialize};

use super::offsets::{ends_ok, range, same_len};
use crate::region::AlnReg;

/// Declares [`RegionBatch`] with one vector per [`AlnReg`] field, named as
/// the field, plus the code that moves regions in and out.
macro_rules! region_columns {
    ($($field:ident: $ty:ty),+ $(,)?) => {
        /// The [`AlnReg`]s of each read, stored as structure-of-arrays:
        /// one vector per `AlnReg` field (same name, same type), and read
        /// `i` owns the run `read_ends[i - 1] .. read_ends[i]` of them.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(try_from = "RegionBatchRepr")]
        pub struct RegionBatch {
            #[serde(with = "crate::batch::columns")]
            read_ends: Vec<u64>,
            $(#[serde(with = "crate::batch::columns")] $field: Vec<$ty>,)+
        }

        /// The serialised shape of [`RegionBatch`], checked on the way in.
        #[derive(Deserialize)]
        struct RegionBatchRepr {
            #[serde(with = "crate::batch::columns")]
            read_ends: Vec<u64>,
            $(#[serde(with = "crate::batch::columns")] $field: Vec<$ty>,)+
        }

        impl RegionBatchRepr {
            fn into_checked(self) -> Result<RegionBatch, String> {
                let n = self.rb.len();
                if !same_len(&[$(self.$field.len()),+]) {
                    return Err("regions: field vectors have different lengths".into());
                }
                if !ends_ok(&self.read_ends, n) {
                    return Err(
                        "regions: read_ends decrease or do not end at the region count".into(),
                    );
                }
                Ok(RegionBatch { read_ends: self.read_ends, $($field: self.$field,)+ })
            }
        }

        impl RegionBatch {
            /// Removes all reads, keeping the allocated memory.
            pub fn clear(&mut self) {
                self.read_ends.clear();
                $(self.$field.clear();)+
            }

            /// Appends the reads of `other` after those of `self` (joins
            /// the pieces a stage builds in parallel).
            pub fn append(&mut self, other: &RegionBatch) {
                let base = self.rb.len() as u64;
                self.read_ends.extend(other.read_ends.iter().map(|&e| e + base));
                $(self.$field.extend_from_slice(&other.$field);)+
            }

            fn push_region(&mut self, r: &AlnReg) {
                $(self.$field.push(r.$field);)+
            }

            fn region(&self, j: usize) -> AlnReg {
                AlnReg { $($field: self.$field[j],)+ }
            }
        }
    };
}

region_columns! {
    rb: i64,
    re: i64,
    qb: i32,
    qe: i32,
    rid: i32,
    score: i32,
    truesc: i32,
    sub: i32,
    alt_sc: i32,
    csub: i32,
    sub_n: i32,
    w: i32,
    seedcov: i32,
    secondary: i32,
    secondary_all: i32,
    seedlen0: i32,
    n_comp: i32,
    is_alt: bool,
    frac_rep: f32,
    hash: u64,
}

impl TryFrom<RegionBatchRepr> for RegionBatch {
    type Error = String;

    fn try_from(r: RegionBatchRepr) -> Result<Self, String> {
        let b = r.into_checked()?;
        let bad = (0..b.rb.len())
            .find(|&j| b.qb[j] < 0 || b.qb[j] > b.qe[j] || b.rb[j] < 0 || b.rb[j] > b.re[j]);
        match bad {
            Some(j) => Err(format!(
                "regions: region {j} has a negative or reversed span"
            )),
            None => Ok(b),
        }
    }
}

impl RegionBatch {
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

    /// Number of regions over all reads.
    pub fn n_regions(&self) -> usize {
        self.rb.len()
    }

    /// Appends the next read's regions.
    pub fn push_read(&mut self, regions: &[AlnReg]) {
        for r in regions {
            self.push_region(r);
        }
        self.read_ends.push(self.rb.len() as u64);
    }

    /// Number of regions of read `i`. Panics if `i >= len()`.
    pub fn read_len(&self, i: usize) -> usize {
        range(&self.read_ends, i).len()
    }

    /// The regions of read `i`, in stored order. Panics if `i >= len()`.
    pub fn read(&self, i: usize) -> impl ExactSizeIterator<Item = AlnReg> + '_ {
        range(&self.read_ends, i).map(move |j| self.region(j))
    }

    /// Replaces `out`'s content with the regions of read `i`. Panics if
    /// `i >= len()`.
    pub fn read_into(&self, i: usize, out: &mut Vec<AlnReg>) {
        out.clear();
        out.extend(self.read(i));
    }

    /// Checks that every region lies on the index's concatenated reference
    /// `[0, 2 * l_pac)` and names one of its `n_contigs`.
    pub(crate) fn check_reference(&self, l_pac: i64, n_contigs: usize) -> Result<(), String> {
        let bad = (0..self.rb.len()).find(|&j| {
            self.re[j] > 2 * l_pac || self.rid[j] < 0 || self.rid[j] as usize >= n_contigs
        });
        match bad {
            Some(j) => Err(format!(
                "regions: region {j} lies outside the index's reference"
            )),
            None => Ok(()),
        }
    }

    /// The largest query end of read `i`'s regions, 0 if none: checked
    /// against the read length on decode.
    pub(crate) fn max_query_end(&self, i: usize) -> u64 {
        self.qe[range(&self.read_ends, i)]
            .iter()
            .map(|&q| q as u64)
            .max()
            .unwrap_or(0)
    }
}
