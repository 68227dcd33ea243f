//! Which regions of a read become SAM records, with which flags and MAPQ,
//! and what goes in their XA and SA tags (spec §12; `bwamem.c:
//! mem_reg2sam`, `mem_aln2sam`; `bwamem_extra.c: mem_gen_alt`).
//!
//! This is the decision as data. Drawing the CIGARs, NM and MD of the
//! chosen regions (spec §11) and printing (spec §14) happen elsewhere; the
//! `write_*` helpers here print XA/SA entries in bwa's layout once those
//! are known.

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

#[cfg(test)]
mod tests {
    use super::super::{mark_primary_se, PrimaryScratch};
    use super::*;
    use proptest::prelude::*;

    fn reg(rb: i64, qb: i32, qe: i32, score: i32) -> AlnReg {
        AlnReg {
            rb,
            re: rb + i64::from(qe - qb),
            qb,
            qe,
            score,
            truesc: score,
            seedcov: qe - qb,
            ..AlnReg::default()
        }
    }

    fn marked(mut a: Vec<AlnReg>) -> Vec<AlnReg> {
        mark_primary_se(
            &MemOptions::default(),
            &mut a,
            0,
            &mut PrimaryScratch::default(),
        );
        a
    }

    fn select(flags: OutputFlags, a: &[AlnReg]) -> Vec<RecordPlan> {
        let mut out = Vec::new();
        select_records(&MemOptions::default(), &flags, a, 0, &mut out);
        out
    }

    #[test]
    fn secondaries_are_printed_only_with_a() {
        let a = marked(vec![
            reg(100, 0, 150, 150),
            reg(9000, 0, 150, 140),
            reg(20_000, 0, 150, 70),
        ]);
        let r = select(OutputFlags::default(), &a);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].region, r[0].flag, r[0].xs), (0, 0, Some(140)));
        let all = OutputFlags {
            all: true,
            ..OutputFlags::default()
        };
        let r = select(all, &a);
        // 70 < 0.5 * 150: dropped even with -a.
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[1].region, r[1].flag, r[1].mapq, r[1].xs),
            (1, FLAG_SECONDARY, 0, None)
        );
        assert!(r[1].is_secondary());
    }

    #[test]
    fn drop_ratio_is_a_float_comparison_on_the_parent() {
        // 75 < 150 * 0.5 is false: kept; 74 is dropped.
        let a = marked(vec![reg(100, 0, 150, 150), reg(9000, 0, 150, 75)]);
        let all = OutputFlags {
            all: true,
            ..OutputFlags::default()
        };
        assert_eq!(select(all, &a).len(), 2);
        let a = marked(vec![reg(100, 0, 150, 150), reg(9000, 0, 150, 74)]);
        assert_eq!(select(all, &a).len(), 1);
    }

    #[test]
    fn min_score_t_applies_and_leaves_unmapped() {
        let a = marked(vec![reg(100, 0, 29, 29)]);
        assert!(select(OutputFlags::default(), &a).is_empty());
        let a = marked(vec![reg(100, 0, 30, 30)]);
        assert_eq!(select(OutputFlags::default(), &a).len(), 1);
    }

    #[test]
    fn second_primary_is_supplementary_with_capped_mapq() {
        // A split read: 90 on [60,150) (with a near-equal secondary, so a
        // low MAPQ) and a unique 60 on [0,60).
        let a = marked(vec![
            reg(5000, 60, 150, 90),
            reg(100, 0, 60, 60),
            reg(7000, 60, 150, 88),
        ]);
        assert_eq!(
            a.iter().map(|r| r.score).collect::<Vec<_>>(),
            vec![90, 88, 60]
        );
        let opt = MemOptions::default();
        let first_mapq = approx_mapq_se(&opt, &a[0]);
        let own_mapq = approx_mapq_se(&opt, &a[2]);
        assert!(own_mapq > first_mapq, "{own_mapq} {first_mapq}");
        let r = select(OutputFlags::default(), &a);
        assert_eq!(r.iter().map(|p| p.region).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(r[1].flag, FLAG_SUPPLEMENTARY);
        assert_eq!(i32::from(r[1].mapq), first_mapq);
        assert_eq!(r[1].xs, Some(0));
        // -M: internal 0x10000, printed as 0x100; still a supplementary.
        let m = select(
            OutputFlags {
                no_multi: true,
                ..OutputFlags::default()
            },
            &a,
        );
        assert_eq!(m[1].flag, FLAG_SUPP_AS_SECONDARY);
        assert_eq!(printed_flag(m[1].flag), 0x100);
        assert!(!m[1].is_secondary());
        // -q and -5 keep its own MAPQ.
        let q = select(
            OutputFlags {
                keep_supp_mapq: true,
                ..OutputFlags::default()
            },
            &a,
        );
        assert_eq!(i32::from(q[1].mapq), own_mapq);
        let p5 = select(
            OutputFlags {
                primary5: true,
                ..OutputFlags::default()
            },
            &a,
        );
        assert_eq!(i32::from(p5[1].mapq), own_mapq);
        // An ALT supplementary is not capped either.
        let mut b = a.clone();
        b[2].is_alt = true;
        let r = select(OutputFlags::default(), &b);
        assert_eq!(i32::from(r[1].mapq), own_mapq);
    }

    #[test]
    fn extra_flag_is_ored_into_every_record() {
        let a = marked(vec![reg(5000, 60, 150, 90), reg(100, 0, 60, 60)]);
        let mut out = Vec::new();
        select_records(
            &MemOptions::default(),
            &OutputFlags::default(),
            &a,
            0x41,
            &mut out,
        );
        assert_eq!(
            out.iter().map(|p| p.flag).collect::<Vec<_>>(),
            vec![0x41, 0x841]
        );
    }

    #[test]
    fn sa_lists_the_other_non_secondary_records_in_order() {
        let recs = [
            RecordPlan {
                region: 0,
                flag: 0,
                mapq: 60,
                xs: Some(0),
            },
            RecordPlan {
                region: 1,
                flag: FLAG_SECONDARY,
                mapq: 0,
                xs: None,
            },
            RecordPlan {
                region: 2,
                flag: FLAG_SUPP_AS_SECONDARY,
                mapq: 9,
                xs: Some(0),
            },
            RecordPlan {
                region: 3,
                flag: FLAG_SUPPLEMENTARY,
                mapq: 9,
                xs: Some(0),
            },
        ];
        let of = |w| sa_partners(&recs, w).map(|it| it.collect::<Vec<_>>());
        assert_eq!(of(0), Some(vec![2, 3]));
        assert_eq!(of(1), None);
        assert_eq!(of(2), Some(vec![0, 3]));
        assert_eq!(of(3), Some(vec![0, 2]));
        assert_eq!(sa_partners(&recs[..2], 0).map(|it| it.count()), None);
        assert!(sa_partners(&recs, 9).is_none());
    }

    #[test]
    fn xa_groups_collect_members_above_the_ratio_in_region_order() {
        // Primary 150, secondaries 140, 121, and 120: 120 is *not* a
        // member, since the ratio is the float 0.8 widened to double
        // (0.800000011920929), and 150 times that exceeds 120.
        let a = marked(vec![
            reg(100, 0, 150, 120),
            reg(200, 0, 150, 140),
            reg(300, 0, 150, 150),
            reg(400, 0, 150, 121),
        ]);
        assert_eq!(
            a.iter().map(|r| r.score).collect::<Vec<_>>(),
            vec![150, 140, 121, 120]
        );
        let mut xa = XaGroups::default();
        xa.compute(&MemOptions::default(), &a);
        assert_eq!(xa.group(0), &[1, 2]);
        assert!(xa.group(1).is_empty() && xa.group(3).is_empty() && xa.group(9).is_empty());
        xa.clear();
        assert!(xa.group(0).is_empty());
    }

    #[test]
    fn xa_group_over_the_hit_limit_is_dropped() {
        let o = MemOptions::default();
        let mut xa = XaGroups::default();
        let five: Vec<AlnReg> = (0..6)
            .map(|i| reg(1000 * i, 0, 100, 100 - i as i32))
            .collect();
        xa.compute(&o, &marked(five.clone()));
        assert_eq!(xa.group(0), &[1, 2, 3, 4, 5]);
        let mut six = five;
        six.push(reg(9000, 0, 100, 90));
        let six = marked(six);
        xa.compute(&o, &six);
        assert!(xa.group(0).is_empty());
        // An ALT member lifts the limit to max_xa_hits_alt (200).
        let mut with_alt = six;
        with_alt[6].is_alt = true;
        xa.compute(&o, &with_alt);
        assert_eq!(xa.group(0).len(), 6);
        // -h 6: allowed again.
        let o6 = MemOptions {
            max_xa_hits: 6,
            ..o
        };
        let mut no_alt = with_alt;
        no_alt[6].is_alt = false;
        xa.compute(&o6, &no_alt);
        assert_eq!(xa.group(0).len(), 6);
    }

    #[test]
    fn xa_members_ignore_t_and_each_primary_has_its_group() {
        // Split read: each part has its own group; a 25-point member (< T)
        // is still in XA.
        let a = marked(vec![
            reg(5000, 60, 150, 30),
            reg(100, 0, 60, 31),
            reg(7000, 60, 150, 25),
            reg(8000, 0, 60, 26),
        ]);
        assert_eq!(
            a.iter().map(|r| r.score).collect::<Vec<_>>(),
            vec![31, 30, 26, 25]
        );
        let mut xa = XaGroups::default();
        xa.compute(&MemOptions::default(), &a);
        assert_eq!(xa.group(0), &[2]);
        assert_eq!(xa.group(1), &[3]);
    }

    #[test]
    fn clip_style() {
        assert!(OutputFlags::default().hard_clips(1, false));
        assert!(!OutputFlags::default().hard_clips(0, false));
        assert!(!OutputFlags::default().hard_clips(1, true));
        assert!(!OutputFlags {
            soft_clip: true,
            ..OutputFlags::default()
        }
        .hard_clips(1, false));
    }

    fn arb_regs() -> impl Strategy<Value = Vec<AlnReg>> {
        proptest::collection::vec((0i64..10_000, 0i32..100, 20i32..100, 10i32..60), 0..30).prop_map(
            |v| {
                v.into_iter()
                    .map(|(rb, qb, ql, sc)| reg(rb, qb, qb + ql, sc))
                    .collect()
            },
        )
    }

    proptest! {
        #[test]
        fn records_follow_the_rules(v in arb_regs(), all in any::<bool>(), no_multi in any::<bool>()) {
            let a = marked(v);
            let flags = OutputFlags { all, no_multi, ..OutputFlags::default() };
            let r = select(flags, &a);
            let t = MemOptions::default().t;
            // Every non-secondary region with score ≥ T is printed.
            let expect = a.iter().filter(|x| x.secondary < 0 && x.score >= t).count();
            prop_assert_eq!(r.iter().filter(|p| !p.is_secondary()).count(), expect);
            for (w, p) in r.iter().enumerate() {
                let reg = &a[p.region];
                prop_assert!(reg.score >= t);
                prop_assert!(w == 0 || r[w - 1].region < p.region);
                prop_assert_eq!(p.is_secondary(), reg.secondary >= 0);
                prop_assert!(!p.is_secondary() || all);
                let supp = p.flag & (FLAG_SUPPLEMENTARY | FLAG_SUPP_AS_SECONDARY) != 0;
                prop_assert_eq!(supp, w > 0 && !p.is_secondary());
                prop_assert!(w == 0 || p.mapq <= r[0].mapq);
            }
        }

        #[test]
        fn xa_members_belong_to_one_group(v in arb_regs()) {
            let a = marked(v);
            let mut xa = XaGroups::default();
            xa.compute(&MemOptions::default(), &a);
            let mut seen = vec![false; a.len()];
            for k in 0..a.len() {
                let g = xa.group(k);
                prop_assert!(g.len() <= 5);
                prop_assert!(g.windows(2).all(|w| w[0] < w[1]));
                for &i in g {
                    prop_assert!(!seen[i]);
                    seen[i] = true;
                    prop_assert_eq!(a[i].secondary_all, k as i32);
                    prop_assert!(f64::from(a[i].score) >= f64::from(a[k].score) * f64::from(0.8f32));
                }
            }
        }
    }
}
