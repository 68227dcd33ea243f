//! Smith-Waterman kernels with bwa's exact tie rules (spec §7.5, §11, §13.7).
//!
//! Every kernel works on plain byte slices of base codes (0..=3 for ACGT,
//! 4 for N) and a 5x5 score matrix laid out `ref * 5 + query`, as
//! [`crate::options::MemOptions::score_matrix`] gives it. None of them
//! knows about the index: callers fetch the reference bytes.
//!
//! | kernel | bwa function | used for |
//! |---|---|---|
//! | [`extend_banded`] | `ksw_extend2` | seed extension (§7.4) |
//! | [`global_banded`] | `ksw_global2` | final CIGAR (§11.4) |
//! | [`local_align`] | `ksw_align2` | mate rescue, seed SW (§13.7) |
//! | [`gen_cigar`], [`infer_bw`] | `bwa_gen_cigar2`, `infer_bw` | CIGAR, NM, MD (§11.1, §11.3) |
//!
//! Each kernel takes a reusable workspace so that a warmed-up thread does
//! not allocate per call.

mod chain2aln;
mod cigar;
mod ksw_extend;
mod ksw_global;
mod ksw_local;

#[cfg(test)]
mod naive;

pub use chain2aln::{cal_max_gap, chain_to_regions, Chain2AlnWorkspace};
pub use cigar::{
    gen_cigar, gen_cigar_for_region, infer_bw, squeeze_terminal_deletion, CigarResult,
    CigarWorkspace, RegionBand,
};
pub use ksw_extend::{
    extend_banded, extend_banded_scalar, ExtendParams, ExtendResult, ExtendWorkspace,
};
pub use ksw_global::{global_banded, GlobalWorkspace};
pub use ksw_local::{
    local_align, local_align_many, LocalFlags, LocalJob, LocalResult, LocalWorkspace,
};

/// A 5x5 substitution matrix, `mat[ref * 5 + query]`.
pub type ScoreMatrix = [i8; 25];

/// CIGAR operation codes as bwa stores them (`len << 4 | op`).
pub mod cigar_op {
    /// Alignment match or mismatch.
    pub const M: u32 = 0;
    /// Insertion to the reference (consumes query).
    pub const I: u32 = 1;
    /// Deletion from the reference (consumes reference).
    pub const D: u32 = 2;
    /// Soft clip.
    pub const S: u32 = 3;
    /// Hard clip.
    pub const H: u32 = 4;
}

/// Affine gap penalties: a gap of length k costs `open + k * extend`,
/// separately for deletions (gap in the query) and insertions (gap in the
/// reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapPenalties {
    /// `-O`, deletion part.
    pub o_del: i32,
    /// `-E`, deletion part.
    pub e_del: i32,
    /// `-O`, insertion part.
    pub o_ins: i32,
    /// `-E`, insertion part.
    pub e_ins: i32,
}

impl GapPenalties {
    /// The penalties of resolved options.
    pub fn from_options(opt: &crate::options::MemOptions) -> Self {
        GapPenalties {
            o_del: opt.o_del,
            e_del: opt.e_del,
            o_ins: opt.o_ins,
            e_ins: opt.e_ins,
        }
    }
}

/// The largest entry of the matrix, at least 0 (bwa's `max` in the kernels).
fn max_score(mat: &ScoreMatrix) -> i32 {
    mat.iter().fold(0i32, |m, &x| m.max(i32::from(x)))
}

/// Appends `len` of `op` to a bwa-style CIGAR, merging with the last op.
#[inline]
fn push_op(cigar: &mut Vec<u32>, op: u32, len: u32) {
    match cigar.last_mut() {
        Some(last) if *last & 0xf == op => *last += len << 4,
        _ => cigar.push(len << 4 | op),
    }
}
