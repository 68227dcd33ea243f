//! The single-end finishing of one read, as bwa's `worker2` does it after
//! extension and de-duplication: primary marking, `-5`, XA groups (unless
//! `-a`) and the record choice.

use super::{
    mark_primary_se, reorder_primary5, select_records, AlnReg, OutputFlags, PrimaryScratch,
    RecordPlan, XaGroups,
};
use crate::options::MemOptions;

/// What one read's SAM records are made of, reusable across reads.
#[derive(Debug, Clone, Default)]
pub struct ReadPlan {
    /// The records to print, in order (empty: one unmapped record).
    pub records: Vec<RecordPlan>,
    /// XA members per region (empty everywhere with `-a`).
    pub xa: XaGroups,
    scratch: PrimaryScratch,
}

/// Finishes a single-end read whose regions `regs` came out of
/// [`super::sort_dedup_patch`] (with `is_alt` set from the contigs):
/// re-orders and marks `regs`, then fills `plan`. `id` is the read's
/// global number (reads of earlier batches included).
pub fn plan_se(
    opt: &MemOptions,
    flags: &OutputFlags,
    regs: &mut [AlnReg],
    id: u64,
    plan: &mut ReadPlan,
) {
    mark_primary_se(opt, regs, id, &mut plan.scratch);
    if flags.primary5 {
        reorder_primary5(opt.t, regs);
    }
    if flags.all {
        plan.xa.clear();
    } else {
        plan.xa.compute(opt, regs);
    }
    select_records(opt, flags, regs, 0, &mut plan.records);
}
