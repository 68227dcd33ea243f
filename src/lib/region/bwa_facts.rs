//! Facts observed by running `bwa mem` 0.7.17 (Debian's) on tiny
//! references, replayed through this module with the regions bwa's
//! extension produces for them (exact hits, so the regions are known).
//!
//! Set-ups (random sequence, `bwa index`, `bwa mem ref.fa reads.fq`):
//! * three exact copies of a 100-bp segment S at 0-based 300, 900 and 1500
//!   of a 2000-bp contig; reads 0–3 are S, reads 4–7 its reverse
//!   complement: each read's primary copy follows `hash_64(read id + rank)`;
//! * S at 300 plus copies with mismatches or a clipped tail: MAPQ, XS and
//!   which hits make XA (score 80 vs 100 is not in XA, 81 is);
//! * a split read (60 + 90 bases) under `-q`, `-5`, `-M`, `-a`;
//! * an ALT contig (`ref.fa.alt`) holding S, with and without a mismatch
//!   in the primary-assembly copy.

use super::{
    plan_se, sort_dedup_patch, AlnReg, NoPatch, OutputFlags, PatchContext, ReadPlan, RecordPlan,
    XaGroups,
};
use crate::options::MemOptions;

const L: i64 = 2000;

/// A hit of query `[0, qlen)` at forward 0-based `pos`, on the reverse
/// strand when `rev`.
fn hit(pos: i64, qlen: i32, score: i32, rev: bool) -> AlnReg {
    let rb = if rev {
        2 * L - pos - i64::from(qlen)
    } else {
        pos
    };
    AlnReg {
        rb,
        re: rb + i64::from(qlen),
        qb: 0,
        qe: qlen,
        score,
        truesc: score,
        w: 100,
        seedcov: qlen,
        ..AlnReg::default()
    }
}

/// Forward 1-based leftmost position of a region, as SAM prints it.
fn pos1(r: &AlnReg) -> i64 {
    if r.rb >= L {
        2 * L - r.re + 1
    } else {
        r.rb + 1
    }
}

struct Out {
    regs: Vec<AlnReg>,
    records: Vec<RecordPlan>,
    xa: XaGroups,
}

fn finalize(mut regs: Vec<AlnReg>, id: u64, flags: OutputFlags) -> Out {
    let o = MemOptions::default();
    sort_dedup_patch(&o, &mut regs, None::<PatchContext<'_, NoPatch>>);
    let mut plan = ReadPlan::default();
    plan_se(&o, &flags, &mut regs, id, &mut plan);
    Out {
        regs,
        records: plan.records,
        xa: plan.xa,
    }
}

#[test]
fn equal_hits_primary_and_xa_order_follow_the_read_id_hash() {
    // bwa's output: (primary POS, XA positions in order), reads r0..r7.
    let seen: [(i64, [i64; 2]); 8] = [
        (901, [1501, 301]),
        (301, [901, 1501]),
        (1501, [301, 901]),
        (901, [1501, 301]),
        (301, [1501, 901]),
        (901, [1501, 301]),
        (1501, [301, 901]),
        (301, [901, 1501]),
    ];
    for (id, (primary, xa)) in seen.iter().enumerate() {
        let rev = id >= 4;
        let regs = vec![
            hit(300, 100, 100, rev),
            hit(900, 100, 100, rev),
            hit(1500, 100, 100, rev),
        ];
        let out = finalize(regs, id as u64, OutputFlags::default());
        assert_eq!(out.records.len(), 1, "read {id}");
        let rec = out.records[0];
        let r = &out.regs[rec.region];
        assert_eq!(pos1(r), *primary, "read {id}: primary");
        assert_eq!((rec.flag, rec.mapq, rec.xs), (0, 0, Some(100)), "read {id}");
        let got: Vec<i64> = out
            .xa
            .group(rec.region)
            .iter()
            .map(|&i| pos1(&out.regs[i]))
            .collect();
        assert_eq!(got, xa.to_vec(), "read {id}: XA");
    }
}

#[test]
fn mapq_and_xs_against_one_lower_copy() {
    // 3 mismatches (AS 85): MAPQ 38, XS 85, XA has it. 2 mismatches
    // (AS 90): MAPQ 26, XS 90.
    for (sub, mapq) in [(85, 38u8), (90, 26)] {
        let out = finalize(
            vec![hit(1500, 100, sub, false), hit(300, 100, 100, false)],
            0,
            OutputFlags::default(),
        );
        assert_eq!(out.records.len(), 1);
        let rec = out.records[0];
        assert_eq!(
            (pos1(&out.regs[rec.region]), rec.mapq, rec.xs),
            (301, mapq, Some(sub))
        );
        assert_eq!(out.xa.group(rec.region).len(), 1);
    }
}

#[test]
fn xa_ratio_boundary_and_dash_a_secondaries() {
    // S at 300; at 900 the first 80 bases (AS 80, 80M20S); at 1500 the
    // first 81 (AS 81). bwa: MAPQ 49, XS 81, XA only the 81 hit; with -a
    // the secondaries 81 then 80 follow, MAPQ 0, no XS.
    let regs = || {
        vec![
            hit(900, 80, 80, false),
            hit(300, 100, 100, false),
            hit(1500, 81, 81, false),
        ]
    };
    let out = finalize(regs(), 0, OutputFlags::default());
    assert_eq!(out.records.len(), 1);
    let rec = out.records[0];
    assert_eq!(
        (pos1(&out.regs[rec.region]), rec.mapq, rec.xs),
        (301, 49, Some(81))
    );
    let xa: Vec<i64> = out
        .xa
        .group(rec.region)
        .iter()
        .map(|&i| pos1(&out.regs[i]))
        .collect();
    assert_eq!(xa, vec![1501]);

    let all = finalize(
        regs(),
        0,
        OutputFlags {
            all: true,
            ..OutputFlags::default()
        },
    );
    let got: Vec<(i64, u32, u8, Option<i32>)> = all
        .records
        .iter()
        .map(|p| (pos1(&all.regs[p.region]), p.flag, p.mapq, p.xs))
        .collect();
    assert_eq!(
        got,
        vec![
            (301, 0, 49, Some(81)),
            (1501, 0x100, 0, None),
            (901, 0x100, 0, None)
        ]
    );
    assert!(all.xa.group(all.records[0].region).is_empty());
}

/// 1-based POS of a forward hit (the split-read reference is longer than
/// `L`, and all its hits are forward).
fn fwd_pos1(r: &AlnReg) -> i64 {
    r.rb + 1
}

/// A 150-bp read: bases [0,60) unique at 6000, bases [60,150) at 1000 and,
/// with one mismatch, at 2999 (bwa extends that one from query 59: AS 86).
fn split_read() -> Vec<AlnReg> {
    let at = |rb: i64, qb: i32, qe: i32, score: i32| AlnReg {
        rb,
        re: rb + i64::from(qe - qb),
        qb,
        qe,
        score,
        truesc: score,
        w: 100,
        seedcov: qe - qb,
        ..AlnReg::default()
    };
    vec![
        at(6000, 0, 60, 60),
        at(2999, 59, 150, 86),
        at(1000, 60, 150, 90),
    ]
}

#[test]
fn split_read_supplementary_mapq_cap_and_switches() {
    // bwa 0.7.17, per switch: (POS, FLAG, MAPQ, XS) of each record, and
    // which record carries XA (the hit at 2999+1).
    type Rec = (i64, u32, u8, Option<i32>);
    let cases: [(OutputFlags, &[Rec]); 5] = [
        (
            OutputFlags::default(),
            &[(1001, 0, 8, Some(86)), (6001, 0x800, 8, Some(0))],
        ),
        (
            OutputFlags {
                keep_supp_mapq: true,
                ..OutputFlags::default()
            },
            &[(1001, 0, 8, Some(86)), (6001, 0x800, 60, Some(0))],
        ),
        (
            OutputFlags {
                primary5: true,
                ..OutputFlags::default()
            },
            &[(6001, 0, 60, Some(0)), (1001, 0x800, 8, Some(86))],
        ),
        (
            OutputFlags {
                no_multi: true,
                ..OutputFlags::default()
            },
            &[(1001, 0, 8, Some(86)), (6001, 0x10000, 8, Some(0))],
        ),
        (
            OutputFlags {
                all: true,
                ..OutputFlags::default()
            },
            &[
                (1001, 0, 8, Some(86)),
                (3000, 0x100, 0, None),
                (6001, 0x800, 8, Some(0)),
            ],
        ),
    ];
    for (flags, want) in cases {
        let Out { regs, records, xa } = finalize(split_read(), 0, flags);
        let got: Vec<Rec> = records
            .iter()
            .map(|p| (fwd_pos1(&regs[p.region]), p.flag, p.mapq, p.xs))
            .collect();
        assert_eq!(got, want.to_vec(), "{flags:?}");
        for p in &records {
            let members: Vec<i64> = xa
                .group(p.region)
                .iter()
                .map(|&i| fwd_pos1(&regs[i]))
                .collect();
            let expect = if fwd_pos1(&regs[p.region]) == 1001 && !flags.all {
                vec![3000]
            } else {
                vec![]
            };
            assert_eq!(members, expect, "{flags:?}");
        }
        // SA: every non-secondary record lists the other one.
        for w in 0..records.len() {
            let sa: Option<Vec<usize>> =
                super::records::sa_partners(&records, w).map(|it| it.collect());
            if records[w].is_secondary() {
                assert_eq!(sa, None);
            } else {
                let others: Vec<usize> = (0..records.len())
                    .filter(|&i| i != w && !records[i].is_secondary())
                    .collect();
                assert_eq!(sa, Some(others));
            }
        }
    }
}

/// S at 300 of `chr1` (1100 bp) and at 200 of the ALT contig `chr1_alt`
/// (offset 1100); `alt_wins`: the `chr1` copy has one mismatch (AS 95).
fn alt_case(alt_wins: bool) -> Vec<AlnReg> {
    let chr1 = AlnReg {
        rid: 0,
        ..hit(300, 100, if alt_wins { 95 } else { 100 }, false)
    };
    let alt = AlnReg {
        rid: 1,
        is_alt: true,
        ..hit(1300, 100, 100, false)
    };
    vec![alt, chr1]
}

#[test]
fn alt_hits_in_xa_pa_and_supplementary() {
    // Equal hits: the primary-assembly hit is primary with MAPQ 60 and
    // XS 0 (the second marking round forgets the ALT copy); the ALT hit is
    // in its XA; -a does not print ALT secondaries.
    for all in [false, true] {
        let flags = OutputFlags {
            all,
            ..OutputFlags::default()
        };
        let out = finalize(alt_case(false), 0, flags);
        assert_eq!(out.records.len(), 1);
        let rec = out.records[0];
        let r = out.regs[rec.region];
        assert_eq!(
            (r.rid, r.rb, rec.flag, rec.mapq, rec.xs),
            (0, 300, 0, 60, Some(0))
        );
        let xa: Vec<i32> = out
            .xa
            .group(rec.region)
            .iter()
            .map(|&i| out.regs[i].rid)
            .collect();
        assert_eq!(xa, if all { vec![] } else { vec![1] });
    }
    // The ALT copy is better: chr1 stays primary (MAPQ 60, pa:f 0.950);
    // the ALT hit becomes a supplementary with its own MAPQ 10, XS 95 and
    // an XA naming the chr1 hit.
    let out = finalize(alt_case(true), 0, OutputFlags::default());
    let got: Vec<(i32, u32, u8, Option<i32>)> = out
        .records
        .iter()
        .map(|p| (out.regs[p.region].rid, p.flag, p.mapq, p.xs))
        .collect();
    assert_eq!(got, vec![(0, 0, 60, Some(0)), (1, 0x800, 10, Some(95))]);
    let chr1 = out.regs[out.records[0].region];
    assert_eq!(f64::from(chr1.score) / f64::from(chr1.alt_sc), 0.95);
    assert!(out.xa.group(out.records[0].region).is_empty());
    let xa: Vec<i32> = out
        .xa
        .group(out.records[1].region)
        .iter()
        .map(|&i| out.regs[i].rid)
        .collect();
    assert_eq!(xa, vec![0]);
}
