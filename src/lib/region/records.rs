//! Which regions of a read become SAM records, with which flags and MAPQ,
//! and what goes in their XA and SA tags (spec §12; `bwamem.c:
//! mem_reg2sam`, `mem_aln2sam`; `bwamem_extra.c: mem_gen_alt`).
//!
//! This is the decision as data. Drawing the CIGARs, NM and MD of the
//! chosen regions (spec §11) and printing (spec §14) happen elsewhere; the
//! `write_*` helpers here print XA/SA entries in bwa's layout once those
//! are known.

use std::fmt::{Display, Write};

use super::{approx_mapq_se, AlnReg, SECONDARY_ALT};
use crate::options::MemOptions;

/// SAM flag 0x100: a secondary record (`-a`).
pub const FLAG_SECONDARY: u32 = 0x100;
/// SAM flag 0x800: a supplementary record.
pub const FLAG_SUPPLEMENTARY: u32 = 0x800;
/// bwa's internal flag for a `-M` supplementary: printed as 0x100 but
/// otherwise treated as supplementary (SEQ printed, XS kept, listed in SA).
pub const FLAG_SUPP_AS_SECONDARY: u32 = 0x10000;

/// The `bwa mem` switches that decide records (`opt->flag` bits in bwa).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputFlags {
    /// `-a` (`MEM_F_ALL`): print secondaries; no XA.
    pub all: bool,
    /// `-M` (`MEM_F_NO_MULTI`): flag supplementaries 0x100 instead of 0x800.
    pub no_multi: bool,
    /// `-Y` (`MEM_F_SOFTCLIP`): soft clips on every record.
    pub soft_clip: bool,
    /// `-5` (`MEM_F_PRIMARY5`): leftmost primary first; implies `-q`.
    pub primary5: bool,
    /// `-q` (`MEM_F_KEEP_SUPP_MAPQ`): do not cap supplementary MAPQ.
    pub keep_supp_mapq: bool,
}

impl OutputFlags {
    /// Whether supplementary MAPQs are left uncapped (`-q`, or `-5`).
    pub fn keeps_supp_mapq(&self) -> bool {
        self.keep_supp_mapq || self.primary5
    }

    /// Whether the clips of a record print as H (else S): bwa's `add_cigar`
    /// hard-clips records after the first (`which > 0`) unless `-Y` or ALT.
    /// The same test decides whether SEQ/QUAL are trimmed.
    pub fn hard_clips(&self, which: usize, is_alt: bool) -> bool {
        which > 0 && !self.soft_clip && !is_alt
    }
}

/// One SAM record to print for a read: what bwa's `mem_aln_t` holds apart
/// from the CIGAR, NM and position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPlan {
    /// Index of the region (in the list given to [`select_records`]).
    pub region: usize,
    /// Flags known at this stage: [`FLAG_SECONDARY`], [`FLAG_SUPPLEMENTARY`]
    /// or [`FLAG_SUPP_AS_SECONDARY`], and the caller's `extra_flag`. Strand,
    /// pairing and mate bits are added at printing; print with
    /// [`printed_flag`].
    pub flag: u32,
    /// MAPQ (0 for secondaries; supplementaries capped at the first
    /// record's unless `-q`/`-5`).
    pub mapq: u8,
    /// Value of `XS:i` (`max(sub, csub)`), or `None` for secondaries.
    pub xs: Option<i32>,
}

impl RecordPlan {
    /// Whether this record carries 0x100 inside bwa (a true secondary, not
    /// a `-M` supplementary): no SEQ/QUAL, no SA, not listed in others' SA.
    pub fn is_secondary(&self) -> bool {
        self.flag & FLAG_SECONDARY != 0
    }
}

/// The FLAG value bwa prints for internal flags `flag`:
/// `(flag & 0xFFFF) | (0x100 if 0x10000 is set)`.
pub fn printed_flag(flag: u32) -> u32 {
    (flag & 0xFFFF)
        | if flag & FLAG_SUPP_AS_SECONDARY != 0 {
            FLAG_SECONDARY
        } else {
            0
        }
}

/// bwa's `mem_reg2sam` record choice over regions `regs` marked by
/// [`super::mark_primary_se`] (and `-5`), in their order. Fills `out` in
/// record order; the first record is the primary. An empty `out` means
/// bwa prints one unmapped record (flag `0x4 | extra_flag`).
pub fn select_records(
    opt: &MemOptions,
    flags: &OutputFlags,
    regs: &[AlnReg],
    extra_flag: u32,
    out: &mut Vec<RecordPlan>,
) {
    out.clear();
    for (k, p) in regs.iter().enumerate() {
        if p.score < opt.t {
            continue;
        }
        if p.secondary >= 0 && (p.is_alt || !flags.all) {
            continue;
        }
        if p.secondary >= 0 && p.secondary < SECONDARY_ALT {
            // C: int < int * float is a float comparison.
            let parent = regs.get(p.secondary as usize).map_or(0, |r| r.score);
            if (p.score as f32) < parent as f32 * opt.drop_ratio {
                continue;
            }
        }
        let secondary = p.secondary >= 0;
        let mut flag = if secondary { FLAG_SECONDARY } else { 0 };
        flag |= extra_flag;
        let mut mapq = if secondary { 0 } else { approx_mapq_se(opt, p) };
        if let Some(first) = out.first() {
            if !secondary {
                flag |= if flags.no_multi {
                    FLAG_SUPP_AS_SECONDARY
                } else {
                    FLAG_SUPPLEMENTARY
                };
            }
            if !flags.keeps_supp_mapq() && !p.is_alt && mapq > i32::from(first.mapq) {
                mapq = i32::from(first.mapq);
            }
        }
        out.push(RecordPlan {
            region: k,
            flag,
            mapq: mapq.clamp(0, 255) as u8,
            xs: if secondary {
                None
            } else {
                Some(p.sub.max(p.csub))
            },
        });
    }
}

/// The records listed in the SA tag of record `which` (indices into
/// `records`, in record order), or `None` when that record gets no SA:
/// it is a secondary, or no other record is non-secondary.
pub fn sa_partners(
    records: &[RecordPlan],
    which: usize,
) -> Option<impl Iterator<Item = usize> + '_> {
    let me = records.get(which)?;
    if me.is_secondary() {
        return None;
    }
    let mut others = records
        .iter()
        .enumerate()
        .filter(move |(i, r)| *i != which && !r.is_secondary())
        .map(|(i, _)| i)
        .peekable();
    others.peek()?;
    Some(others)
}

/// XA groups of a read (bwa's `mem_gen_alt`, run unless `-a`): for each
/// region k, the regions whose hit goes in the XA tag of k's record, in
/// region order. Reusable across reads.
#[derive(Debug, Clone, Default)]
pub struct XaGroups {
    /// `start[k]..start[k+1]` indexes `members` for group k.
    start: Vec<usize>,
    members: Vec<usize>,
    cnt: Vec<i32>,
    has_alt: Vec<bool>,
    fill: Vec<usize>,
}

impl XaGroups {
    /// Recomputes the groups for `regs` (after primary marking).
    /// Region i joins group `k = secondary_all` when `k ≥ 0` and
    /// `score_i ≥ score_k · XA_drop_ratio` (in double). A group larger than
    /// `max_xa_hits` (or `max_xa_hits_alt` when it holds an ALT hit) gets no
    /// XA at all. Members are not filtered by `-T`.
    pub fn compute(&mut self, opt: &MemOptions, regs: &[AlnReg]) {
        let n = regs.len();
        self.cnt.clear();
        self.cnt.resize(n, 0);
        self.has_alt.clear();
        self.has_alt.resize(n, false);
        self.start.clear();
        self.start.resize(n + 1, 0);
        self.members.clear();
        let ratio = f64::from(opt.xa_drop_ratio);
        let group_of = |i: usize| -> Option<usize> {
            let k = regs[i].secondary_all;
            if k < 0 {
                return None;
            }
            let head = regs.get(k as usize)?;
            (f64::from(regs[i].score) >= f64::from(head.score) * ratio).then_some(k as usize)
        };
        for (i, r) in regs.iter().enumerate() {
            if let Some(k) = group_of(i) {
                self.cnt[k] += 1;
                self.has_alt[k] |= r.is_alt;
            }
        }
        let kept = |k: usize| {
            !(self.cnt[k] > opt.max_xa_hits_alt
                || (!self.has_alt[k] && self.cnt[k] > opt.max_xa_hits))
        };
        // Counting sort by group, stable in region order.
        self.fill.clear();
        self.fill.resize(n, 0);
        for i in 0..n {
            if let Some(k) = group_of(i).filter(|&k| kept(k)) {
                self.fill[k] += 1;
            }
        }
        for k in 0..n {
            self.start[k + 1] = self.start[k] + self.fill[k];
        }
        self.members.resize(self.start[n], 0);
        self.fill.copy_from_slice(&self.start[..n]);
        for i in 0..n {
            if let Some(k) = group_of(i).filter(|&k| kept(k)) {
                self.members[self.fill[k]] = i;
                self.fill[k] += 1;
            }
        }
    }

    /// The XA members of region k's record, in region order (empty: no XA).
    pub fn group(&self, k: usize) -> &[usize] {
        match (self.start.get(k), self.start.get(k + 1)) {
            (Some(&b), Some(&e)) => &self.members[b..e],
            _ => &[],
        }
    }

    /// Empties all groups (what `-a` leaves: no XA anywhere).
    pub fn clear(&mut self) {
        self.start.clear();
        self.members.clear();
    }
}

/// Appends one XA entry in bwa's layout: `name,±pos,CIGAR,NM;` with `pos0`
/// the 0-based leftmost position and the CIGAR's clips as S.
pub fn write_xa_entry(
    out: &mut String,
    rname: &str,
    is_rev: bool,
    pos0: i64,
    cigar: impl Display,
    nm: u32,
) {
    let strand = if is_rev { '-' } else { '+' };
    let _ = write!(out, "{rname},{strand}{},{cigar},{nm};", pos0 + 1);
}

/// Appends one SA entry in bwa's layout: `name,pos,±,CIGAR,MAPQ,NM;` with
/// `pos0` 0-based and the CIGAR's clips as S (as stored, never H).
pub fn write_sa_entry(
    out: &mut String,
    rname: &str,
    is_rev: bool,
    pos0: i64,
    cigar: impl Display,
    mapq: u8,
    nm: u32,
) {
    let strand = if is_rev { '-' } else { '+' };
    let _ = write!(out, "{rname},{},{strand},{cigar},{mapq},{nm};", pos0 + 1);
}

/// The `pa:f` value text for a non-secondary record with `alt_sc > 0`:
/// `score / alt_sc` printed with `%.3f`.
pub fn format_pa(score: i32, alt_sc: i32) -> String {
    format!("{:.3}", f64::from(score) / f64::from(alt_sc))
}
