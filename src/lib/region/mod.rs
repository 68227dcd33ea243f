//! Alignment regions after extension (bwa's `mem_alnreg_t`) and everything
//! bwa decides about them before CIGARs are drawn:
//!
//! | step | bwa function | here |
//! |------|--------------|------|
//! | de-duplicate, merge colinear pieces (spec §8) | `mem_sort_dedup_patch` | [`dedup::sort_dedup_patch`] |
//! | primary / secondary marking (§9) | `mem_mark_primary_se` | [`primary::mark_primary_se`] |
//! | `-5`: leftmost primary first (§9) | `mem_reorder_primary5` | [`primary::reorder_primary5`] |
//! | single-end MAPQ (§10) | `mem_approx_mapq_se` | [`mapq::approx_mapq_se`] |
//! | which regions become SAM records, XA groups, SA partners (§12) | `mem_reg2sam`, `mem_gen_alt` | [`records`] |
//! | all of the above for one single-end read | `worker2` (SE branch) | [`se::plan_se`] |
//!
//! Everything here is pure logic over a read's region list. The one step
//! that needs the reference (the global alignment score of a patch) is a
//! parameter, [`dedup::GlobalScorer`], so the SW kernel plugs in from the
//! outside.

pub mod dedup;
pub mod mapq;
pub mod primary;
pub mod records;
pub mod se;

#[cfg(test)]
mod bwa_facts;

pub use dedup::{sort_dedup_patch, GlobalScorer, NoPatch, PatchContext};
pub use mapq::approx_mapq_se;
pub use primary::{mark_primary_se, reorder_primary5, PrimaryScratch};
pub use records::{
    select_records, OutputFlags, RecordPlan, XaGroups, FLAG_SECONDARY, FLAG_SUPPLEMENTARY,
    FLAG_SUPP_AS_SECONDARY,
};
pub use se::{plan_se, ReadPlan};

use serde::{Deserialize, Serialize};

/// bwa's marker for "secondary to an ALT hit" (`INT_MAX` in `secondary`).
pub const SECONDARY_ALT: i32 = i32::MAX;

/// One alignment region of a read: bwa's `mem_alnreg_t`, field for field,
/// with bwa's integer widths. Coordinates are half-open. Reference
/// coordinates are in the concatenated space `[0, 2L)` (forward strand, then
/// the reverse complement of the whole reference).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlnReg {
    /// Start on the concatenated reference (`rb`).
    pub rb: i64,
    /// End on the concatenated reference, exclusive (`re`).
    pub re: i64,
    /// Start on the query (`qb`).
    pub qb: i32,
    /// End on the query, exclusive (`qe`). `qe == qb` marks a region
    /// excluded during de-duplication.
    pub qe: i32,
    /// Contig index (`rid`).
    pub rid: i32,
    /// Best local SW score (`score`); becomes `AS`.
    pub score: i32,
    /// Score of the chosen end points (`truesc`), possibly below `score`;
    /// drives the CIGAR band. 0 for rescued mates.
    pub truesc: i32,
    /// Best score of an overlapping lower hit (`sub`), set by primary
    /// marking; becomes `XS` (with `csub`).
    pub sub: i32,
    /// Score of the ALT parent of a non-ALT hit (`alt_sc`); gives `pa:f`.
    pub alt_sc: i32,
    /// Second-best SW score of a mate rescue (`csub`), else 0.
    pub csub: i32,
    /// Number of suboptimal hits within the gap-open cost of this one
    /// (`sub_n`). Primary marking adds to it and never resets it.
    pub sub_n: i32,
    /// Band width actually used in extension (`w`); 0 for rescued mates.
    pub w: i32,
    /// Total length of the chain's seeds inside the region (`seedcov`).
    pub seedcov: i32,
    /// Index of the parent hit when secondary, else negative (`secondary`);
    /// [`SECONDARY_ALT`] for ALT hits shadowed in the first marking round.
    pub secondary: i32,
    /// Parent index over all hits, ALT included (`secondary_all`); decides
    /// the XA group.
    pub secondary_all: i32,
    /// Length of the seed the region was extended from (`seedlen0`).
    pub seedlen0: i32,
    /// 1 + number of merged pieces after de-duplication (`n_comp`, a 30-bit
    /// field in bwa; left as extension set it when a read has one region).
    pub n_comp: i32,
    /// Whether the contig is an ALT contig (`is_alt`, a 2-bit field in bwa
    /// that only ever holds 0 or 1).
    pub is_alt: bool,
    /// Repetitive fraction of the read (`frac_rep`, a C float); scales MAPQ.
    pub frac_rep: f32,
    /// `hash_64(read id + rank)`: breaks score ties in primary marking.
    pub hash: u64,
}

impl Default for AlnReg {
    /// All zero, as bwa's `memset` leaves a fresh region.
    fn default() -> Self {
        AlnReg {
            rb: 0,
            re: 0,
            qb: 0,
            qe: 0,
            rid: 0,
            score: 0,
            truesc: 0,
            sub: 0,
            alt_sc: 0,
            csub: 0,
            sub_n: 0,
            w: 0,
            seedcov: 0,
            secondary: 0,
            secondary_all: 0,
            seedlen0: 0,
            n_comp: 0,
            is_alt: false,
            frac_rep: 0.0,
            hash: 0,
        }
    }
}

impl AlnReg {
    /// Whether this hit is on the reverse strand (`rb ≥ L`).
    #[inline]
    pub fn is_rev(&self, l_pac: i64) -> bool {
        self.rb >= l_pac
    }

    /// Whether the region was excluded (zero query length).
    #[inline]
    pub fn is_excluded(&self) -> bool {
        self.qe == self.qb
    }
}

/// C's `(int)x` for a double as x86-64 computes it (`cvttsd2si`): truncation
/// toward zero, and `INT_MIN` for NaN and for values out of `int` range.
/// (Rust's `as i32` saturates instead, which differs for `+inf` and NaN.)
#[inline]
pub(crate) fn c_int(x: f64) -> i32 {
    if x > -2_147_483_649.0 && x < 2_147_483_648.0 {
        x as i32
    } else {
        i32::MIN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_int_truncates_like_x86() {
        assert_eq!(c_int(2.999), 2);
        assert_eq!(c_int(-2.999), -2);
        assert_eq!(c_int(f64::NAN), i32::MIN);
        assert_eq!(c_int(f64::INFINITY), i32::MIN);
        assert_eq!(c_int(f64::NEG_INFINITY), i32::MIN);
        assert_eq!(c_int(2_147_483_647.9), i32::MAX);
        assert_eq!(c_int(-2_147_483_648.9), i32::MIN);
    }
}
