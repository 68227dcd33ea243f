//! SAM output, as `bwa mem` 0.7.17 prints it (spec §12.2–12.3 and §14).
//!
//! * [`header`]: the header lines (`@SQ`, `-H`, `-R`, `@PG`) and the
//!   `-R`/`-H` argument rules;
//! * [`record`]: one alignment record ([`Aln`], bwa's `mem_aln_t`) and the
//!   formatter that writes its SAM line into a caller's buffer;
//! * [`tags`]: the `SA:Z` and `XA:Z` strings built from structured pieces.
//!
//! The formatter allocates nothing per record: it appends to a `Vec<u8>`
//! that the caller reuses.

mod aln;
pub use aln::{region_to_aln, AlnWorkspace};
pub mod header;
mod num;
pub mod record;
pub mod tags;

pub use header::{write_header, HeaderError, SamContig};
pub use record::{Aln, SamFormatter, SamRead};

/// CIGAR operation codes, as bwa stores them in `len << 4 | op`.
pub use crate::extend::cigar_op;

/// A packed CIGAR operation: `len << 4 | op` (see [`cigar_op`]).
pub fn cigar_pack(len: u32, op: u32) -> u32 {
    debug_assert!(op <= cigar_op::H);
    len << 4 | op
}
