use super::testref::{naive_local_sw, random_seq, TestRef};
use super::*;
use crate::util::ks_introsort;

fn iv(qbeg: i32, qend: i32, x0: u64, size: u64) -> SmemInterval {
    SmemInterval {
        x0,
        size,
        qbeg,
        qend,
    }
}

fn seed(rbeg: i64, qbeg: i32, len: i32) -> Seed {
    Seed {
        rbeg,
        qbeg,
        len,
        score: len,
    }
}

fn build(ivs: &[SmemInterval], len: i32, opts: &MemOptions, r: &TestRef) -> ChainSet {
    let mut ws = ChainWorkspace::new();
    let mut out = ChainSet::default();
    build_chains(ivs, len, opts, r, &mut ws, &mut out);
    out
}

fn rbegs(set: &ChainSet) -> Vec<Vec<i64>> {
    set.iter()
        .map(|(_, s)| s.iter().map(|s| s.rbeg).collect())
        .collect()
}

// ---- §5.1 ----

#[test]
fn frac_rep_is_the_union_of_repetitive_spans() {
    let ivs = [
        iv(0, 30, 0, 600),
        iv(20, 50, 0, 600),
        iv(55, 58, 0, 500), // not repetitive: size == max_occ
        iv(60, 80, 0, 501),
        iv(80, 85, 0, 900), // starts at the running end: merged
        iv(90, 100, 0, 3),
    ];
    assert_eq!(repetitive_fraction(&ivs, 100, 500), 75.0 / 100.0);
    assert_eq!(repetitive_fraction(&ivs[5..], 100, 500), 0.0);
    // f32 division, as in C.
    assert_eq!(repetitive_fraction(&ivs[..1], 151, 500), 30f32 / 151f32);
}

// ---- §5.2 ----

#[test]
fn sampling_takes_max_occ_rows_at_an_even_step() {
    let sa: Vec<u64> = (0..3000u64).map(|r| r * 1000).collect();
    let r = TestRef::fake(10_000_000, &[0], sa);
    let opts = MemOptions {
        max_occ: 3,
        ..MemOptions::default()
    };
    // size 10 > 3: step 10 / 3 = 3, rows 0, 3, 6 (count stops at 3).
    let set = build(&[iv(0, 20, 5, 10)], 100, &opts, &r);
    assert_eq!(rbegs(&set), [vec![5000], vec![8000], vec![11000]]);
    // size 3 <= 3: every row.
    let set = build(&[iv(0, 20, 0, 3)], 100, &opts, &r);
    assert_eq!(set.len(), 3);
    // size 2000 with max_occ 500: step 4, 500 seeds, last row 1996.
    let set = build(&[iv(0, 20, 0, 2000)], 100, &MemOptions::default(), &r);
    assert_eq!(set.len(), 500);
    assert_eq!(set.chains.last().map(|c| c.pos), Some(1_996_000));
    // size 7 with max_occ 3: step 2, rows 0, 2, 4.
    let set = build(&[iv(0, 20, 0, 7)], 100, &opts, &r);
    assert_eq!(rbegs(&set), [vec![0], vec![2000], vec![4000]]);
}

#[test]
fn short_read_has_no_chain() {
    let r = TestRef::fake(1000, &[0], vec![0, 10, 20]);
    let set = build(&[iv(0, 18, 0, 1)], 18, &MemOptions::default(), &r);
    assert!(set.is_empty());
    let set = build(&[iv(0, 19, 0, 1)], 19, &MemOptions::default(), &r);
    assert_eq!(set.len(), 1);
}

// ---- §5.3 ----

#[test]
fn test_and_merge_cases() {
    let lim = MergeLimits {
        w: 100,
        max_chain_gap: 10000,
        l_pac: 1_000_000,
    };
    let f = seed(1000, 0, 30);
    let l = seed(1050, 50, 30); // chain spans q [0,80), r [1000,1080)
    let t = |s: Seed, rid: i32| test_and_merge(&lim, 0, &f, &l, &s, rid);
    // Other contig.
    assert_eq!(t(seed(1060, 60, 20), 1), Merge::Reject);
    // Contained in the chain's span (also when not on the diagonal).
    assert_eq!(t(seed(1060, 60, 20), 0), Merge::Contained);
    assert_eq!(t(seed(1000, 40, 40), 0), Merge::Contained);
    // Colinear continuation.
    assert_eq!(t(seed(1100, 100, 20), 0), Merge::Append);
    // Band: |x - y| <= w.
    assert_eq!(t(seed(1050 + 150, 50 + 50, 20), 0), Merge::Append);
    assert_eq!(t(seed(1050 + 151, 50 + 50, 20), 0), Merge::Reject);
    assert_eq!(t(seed(1050 + 100, 50 + 200, 20), 0), Merge::Append);
    assert_eq!(t(seed(1050 + 100, 50 + 201, 20), 0), Merge::Reject);
    // y < 0: the seed starts before the last seed on the reference.
    assert_eq!(t(seed(1049, 90, 20), 0), Merge::Reject);
    // Gap: x - len < max_chain_gap and y - len < max_chain_gap.
    assert_eq!(t(seed(1050 + 10029, 50 + 10029, 20), 0), Merge::Append);
    assert_eq!(t(seed(1050 + 10030, 50 + 10030, 20), 0), Merge::Reject);
    // Strand change: chain forward, seed reverse.
    let g = MergeLimits { l_pac: 1100, ..lim };
    assert_eq!(
        test_and_merge(&g, 0, &f, &l, &seed(1100, 100, 20), 0),
        Merge::Reject
    );
    // Both on the reverse strand: fine.
    let g = MergeLimits { l_pac: 900, ..lim };
    assert_eq!(
        test_and_merge(&g, 0, &f, &l, &seed(1100, 100, 20), 0),
        Merge::Append
    );
}

#[test]
fn seeds_across_contigs_or_strands_are_dropped() {
    // Contigs [0,100), [100,200); l_pac 200.
    let r = TestRef::fake(200, &[0, 100], vec![90, 95, 150, 195, 380]);
    let set = build(&[iv(0, 10, 0, 5)], 50, &MemOptions::default(), &r);
    // 90 fits contig 0 (90..100); 95 crosses into contig 1; 150 fits;
    // 195 crosses the strand boundary; 380 is reverse of contig 0.
    let starts: Vec<i64> = set.chains.iter().map(|c| c.pos).collect();
    assert_eq!(starts, [90, 150, 380]);
    let rids: Vec<i32> = set.chains.iter().map(|c| c.rid).collect();
    assert_eq!(rids, [0, 1, 0]);
}

#[test]
fn colinear_seeds_form_one_chain_and_contained_ones_vanish() {
    let sa = vec![1000, 1040, 1045, 5000];
    let r = TestRef::fake(100_000, &[0], sa);
    let ivs = [
        iv(0, 30, 0, 1),  // r 1000
        iv(40, 70, 1, 1), // r 1040: appended
        iv(45, 60, 2, 1), // r 1045: contained
        iv(45, 60, 3, 1), // r 5000: new chain
    ];
    let set = build(&ivs, 100, &MemOptions::default(), &r);
    assert_eq!(rbegs(&set), [vec![1000, 1040], vec![5000]]);
    assert!(set
        .chains
        .iter()
        .all(|c| c.frac_rep == 0.0 && c.first == -1));
}

#[test]
fn equal_positions_follow_the_tree() {
    // The same reference position seen from read offsets far apart (out of
    // band) makes chains with equal keys.
    let r = TestRef::fake(100_000, &[0], vec![1000, 1000, 1000, 1300, 1000]);
    let ivs = [
        iv(0, 20, 0, 1),    // chain A at 1000
        iv(300, 320, 1, 1), // x - y = 300 from A: chain B at 1000
        iv(600, 620, 2, 1), // chain C at 1000, inserted right after A
        // Lookup of 1300: no equal key; the leaf [A, C, B] gives its last
        // key below 1300, B (not A): x = y = 300 from B's seed: appended.
        iv(600, 620, 3, 1),
        // Lookup of 1000: equal keys; the leftmost, A, is returned:
        // x = 20, y = 0 from A's seed: appended to A.
        iv(20, 40, 4, 1),
    ];
    let set = build(&ivs, 700, &MemOptions::default(), &r);
    let qs: Vec<Vec<i32>> = set
        .iter()
        .map(|(_, s)| s.iter().map(|s| s.qbeg).collect())
        .collect();
    assert_eq!(qs, [vec![0, 20], vec![600], vec![300, 600]]);
    assert_eq!(rbegs(&set)[2], [1000, 1300]);
}

#[test]
fn read_from_a_real_reference() {
    let c0 = random_seq(500, 1);
    let c1 = random_seq(700, 2);
    let r = TestRef::new(&[(&c0, false), (&c1, true)]);
    // A read from contig 1's reverse strand, with one mismatch at 60.
    let mut read: Vec<u8> = c1[200..320].iter().rev().map(|&b| 3 - b).collect();
    read[60] = (read[60] + 1) & 3;
    let ivs = [r.interval(&read, 0, 60), r.interval(&read, 61, 120)];
    assert!(ivs.iter().all(|i| i.size == 1));
    let set = build(&ivs, 120, &MemOptions::default(), &r);
    assert_eq!(set.len(), 1);
    let (c, s) = set.iter().next().unwrap();
    assert_eq!((c.rid, c.is_alt), (1, true));
    // Reverse coordinate of forward 319 (read base 0) = 2L - 1 - (500+319).
    let l = r.l_pac();
    assert_eq!(s[0].rbeg, 2 * l - 1 - (500 + 319));
    assert_eq!(s[1].rbeg, s[0].rbeg + 61);
    assert_eq!(c.pos, s[0].rbeg);
}

// ---- §6.1 ----

#[test]
fn weight_is_the_smaller_coverage_in_chain_order() {
    assert_eq!(chain_weight(&[seed(100, 0, 30)]), 30);
    // Query overlap of 10, reference gap.
    assert_eq!(chain_weight(&[seed(100, 0, 30), seed(200, 20, 30)]), 50);
    // Reference overlap of 15, query disjoint.
    assert_eq!(chain_weight(&[seed(100, 0, 30), seed(115, 40, 30)]), 45);
    // Contained in query: adds nothing.
    assert_eq!(chain_weight(&[seed(100, 0, 30), seed(300, 5, 10)]), 30);
    // Out of reference order: the running end does not look back, so the
    // reference coverage counts only the first seed.
    assert_eq!(
        chain_weight(&[seed(500, 0, 20), seed(100, 30, 20), seed(110, 60, 20)]),
        20
    );
}

// ---- §6.2 ----

/// One-seed chains (qbeg, len, rbeg) in this order, weighted by len.
fn chains_of(spec: &[(i32, i32, i64)]) -> ChainSet {
    let mut set = ChainSet::default();
    for (i, &(q, l, r)) in spec.iter().enumerate() {
        set.seeds.push(seed(r, q, l));
        set.chains.push(Chain {
            seed_beg: i,
            n_seeds: 1,
            pos: r,
            first: 7,
            kept: 9,
            ..Chain::default()
        });
    }
    set
}

fn filter(set: &mut ChainSet, opts: &MemOptions) -> Vec<(i64, i32, i32)> {
    let mut ws = ChainWorkspace::new();
    filter_chains(opts, set, &mut ws);
    set.chains.iter().map(|c| (c.pos, c.w, c.kept)).collect()
}

#[test]
fn heavy_chain_drops_a_light_overlapping_one_but_resurrects_the_first() {
    let opts = MemOptions::default();
    // A: q [0,60) w 60; B: q [10,30) w 20; C: q [30,50) w 20; D: q [70,90).
    let mut set = chains_of(&[
        (10, 20, 2000),
        (0, 60, 1000),
        (30, 20, 3000),
        (70, 20, 4000),
    ]);
    let got = filter(&mut set, &opts);
    // Sorted by weight: A, then the ties B, C, D. B and C are shadowed by A
    // (overlap >= half, 20 < 0.5 * 60 and 60 - 20 >= 38): dropped, but B is
    // A's first shadowed chain, so it comes back with kept = 1.
    assert_eq!(got, [(1000, 60, 3), (2000, 20, 1), (4000, 20, 3)]);
    assert_eq!(set.chains[0].first, 1);
    assert_eq!(set.chains[2].first, -1);
}

#[test]
fn overlap_without_enough_weight_gap_keeps_both() {
    let opts = MemOptions::default();
    // A w 50 on q [0,50); B w 30 on q [10,40): 30 < 25 is false, so B is
    // kept (2), then marked 1 as A's first shadowed chain.
    let mut set = chains_of(&[(0, 50, 100), (10, 30, 900)]);
    assert_eq!(filter(&mut set, &opts), [(100, 50, 3), (900, 30, 1)]);
    // Two chains overlapping A and kept: only A's first one is marked 1,
    // the other keeps 2; a disjoint one keeps 3.
    // (D on [35, 50) overlaps B by 5 < 15 / 2; 15 < 25 but 50 - 15 < 38.)
    let mut set = chains_of(&[(0, 50, 100), (10, 30, 900), (60, 30, 950), (35, 15, 990)]);
    assert_eq!(
        filter(&mut set, &opts),
        [(100, 50, 3), (900, 30, 1), (950, 30, 3), (990, 15, 2)]
    );
    // w_j - w_i = 38 >= 2 * 19 and 20 < 29: dropped; the first one (950:
    // bwa's introsort turns [58, 20, 20] into A, 950, 900) is resurrected.
    let mut set = chains_of(&[(0, 58, 100), (10, 20, 900), (20, 20, 950)]);
    assert_eq!(filter(&mut set, &opts), [(100, 58, 3), (950, 20, 1)]);
    // Small overlap (< mask_level of the shorter): no shadowing at all.
    let mut set = chains_of(&[(0, 58, 100), (50, 20, 900)]);
    assert_eq!(filter(&mut set, &opts), [(100, 58, 3), (900, 20, 3)]);
}

#[test]
fn alt_chain_does_not_shadow_a_primary_one() {
    let opts = MemOptions::default();
    let mut set = chains_of(&[(0, 60, 100), (10, 20, 900)]);
    set.chains[0].is_alt = true;
    assert_eq!(filter(&mut set, &opts), [(100, 60, 3), (900, 20, 3)]);
    // But a primary chain shadows an ALT one.
    // (The introsort puts the tie 950 before 900, so 950 is the first
    // shadowed chain.)
    let mut set = chains_of(&[(0, 60, 100), (10, 20, 900), (12, 20, 950)]);
    set.chains[1].is_alt = true;
    set.chains[2].is_alt = true;
    assert_eq!(filter(&mut set, &opts), [(100, 60, 3), (950, 20, 1)]);
}

#[test]
fn min_chain_weight_drops_light_chains_first() {
    let opts = MemOptions {
        min_chain_weight: 25,
        ..MemOptions::default()
    };
    let mut set = chains_of(&[(0, 20, 100), (100, 25, 200), (200, 40, 300)]);
    assert_eq!(filter(&mut set, &opts), [(300, 40, 3), (200, 25, 3)]);
    let mut set = chains_of(&[(0, 20, 100)]);
    assert_eq!(filter(&mut set, &opts), []);
}

#[test]
fn max_chain_extend_cuts_shadowed_chains() {
    // Chains of kind 1 or 2 are counted; from the one reaching the limit
    // on, all chains below kind 3 go.
    let spec = [(0, 60, 100), (0, 50, 200), (0, 45, 300), (100, 30, 400)];
    let opts = MemOptions::default();
    let mut set = chains_of(&spec);
    let all = filter(&mut set, &opts);
    // B and C both overlap A heavily but are kept; A.first = B and
    // B.first = C, so both become 1.
    assert_eq!(all.iter().map(|x| x.2).collect::<Vec<_>>(), [3, 1, 1, 3]);
    let opts = MemOptions {
        max_chain_extend: 2,
        ..MemOptions::default()
    };
    let mut set = chains_of(&spec);
    assert_eq!(
        filter(&mut set, &opts),
        [(100, 60, 3), (200, 50, 1), (400, 30, 3)]
    );
    let opts = MemOptions {
        max_chain_extend: 1,
        ..MemOptions::default()
    };
    let mut set = chains_of(&spec);
    assert_eq!(filter(&mut set, &opts), [(100, 60, 3), (400, 30, 3)]);
}

#[test]
fn weight_ties_keep_bwa_introsort_order() {
    // Disjoint one-seed chains (all kept), weights with many ties: the
    // output order must be bwa's introsort order, which for some of these
    // inputs differs from a stable sort.
    let mut differs = 0;
    for case in 0..200u64 {
        let x = random_seq(40, case + 100);
        let n = 3 + (case as usize % 37);
        let spec: Vec<(i32, i32, i64)> = (0..n)
            .map(|i| (i as i32 * 100, 20 + i32::from(x[i]), i as i64))
            .collect();
        let mut set = chains_of(&spec);
        let got: Vec<i64> = filter(&mut set, &MemOptions::default())
            .iter()
            .map(|c| c.0)
            .collect();
        let mut want: Vec<(i32, i64)> = spec.iter().map(|s| (s.1, s.2)).collect();
        ks_introsort(&mut want, |a, b| a.0 > b.0);
        let want: Vec<i64> = want.iter().map(|s| s.1).collect();
        assert_eq!(got, want, "case {case}");
        let mut stable: Vec<(i32, i64)> = spec.iter().map(|s| (s.1, s.2)).collect();
        stable.sort_by_key(|a| std::cmp::Reverse(a.0));
        if stable.iter().map(|s| s.1).collect::<Vec<_>>() != want {
            differs += 1;
        }
    }
    assert!(differs > 10, "only {differs} cases tell the sorts apart");
}

#[test]
fn chain_seeds_runs_build_and_filter() {
    let sa = vec![1000, 1040, 50_000];
    let r = TestRef::fake(100_000, &[0], sa);
    let ivs = [iv(0, 30, 0, 1), iv(40, 70, 1, 1), iv(45, 65, 2, 1)];
    let mut ws = ChainWorkspace::new();
    let mut out = ChainSet::default();
    chain_seeds(&ivs, 100, &MemOptions::default(), &r, &mut ws, &mut out);
    // Chain 1000 weighs 60; chain 50000 weighs 20 and is shadowed: kept 1.
    let got: Vec<(i64, i32, i32)> = out.chains.iter().map(|c| (c.pos, c.w, c.kept)).collect();
    assert_eq!(got, [(1000, 60, 3), (50_000, 20, 1)]);
    // Reuse of the workspace and output gives the same result.
    chain_seeds(&ivs, 100, &MemOptions::default(), &r, &mut ws, &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out.seeds.len(), 3);
}

#[test]
fn warm_workspace_does_not_grow() {
    let sa: Vec<u64> = (0..2000u64).map(|r| r * 37 % 50_000).collect();
    let r = TestRef::fake(100_000, &[0, 30_000], sa);
    let ivs: Vec<SmemInterval> = (0..40)
        .map(|i| iv(i * 3, i * 3 + 25, u64::from(i as u32) * 40, 60))
        .collect();
    let mut ws = ChainWorkspace::new();
    let mut out = ChainSet::default();
    chain_seeds(&ivs, 200, &MemOptions::default(), &r, &mut ws, &mut out);
    let caps = |ws: &ChainWorkspace, out: &ChainSet| {
        [
            ws.pool.capacity(),
            ws.next.capacity(),
            ws.growing.capacity(),
            ws.kept.capacity(),
            out.chains.capacity(),
            out.seeds.capacity(),
        ]
    };
    let before = caps(&ws, &out);
    let n = out.len();
    assert!(n > 0 && ws.pool.len() > 100);
    for _ in 0..3 {
        chain_seeds(&ivs, 200, &MemOptions::default(), &r, &mut ws, &mut out);
    }
    assert_eq!(out.len(), n);
    assert_eq!(caps(&ws, &out), before);
}

// ---- §6.3 ----

#[test]
fn long_read_seeds_are_rescored_and_weak_ones_dropped() {
    let c0 = random_seq(3000, 7);
    let r = TestRef::new(&[(&c0, false)]);
    let opts = MemOptions::default();
    // 1000-bp read from c0[1000..2000]: min_l = 5.5 ln 1000 = 37.99 <= 50,
    // min HSP score 38.
    let read: Vec<u8> = c0[1000..2000].to_vec();
    let mut set = ChainSet {
        seeds: vec![
            seed(1100, 100, 25),  // true seed, flanks match: SW >= 125
            seed(2500, 300, 25),  // spurious: random flanks, SW well below 38
            seed(1400, 400, 250), // too long for SW: score = len * a
            seed(1980, 980, 20),  // read end clamps the window
        ],
        chains: vec![Chain {
            n_seeds: 4,
            ..Chain::default()
        }],
    };
    let mut ws = ChainWorkspace::new();
    let mut calls = Vec::new();
    filter_seeds_by_sw(&opts, &read, &r, &mut set, &mut ws, |q, t| {
        calls.push((q.len(), t.len()));
        naive_local_sw(q, t, 1, 4, 6, 1)
    });
    let kept: Vec<(i64, i32)> = set
        .seeds_of(&set.chains[0])
        .iter()
        .map(|s| (s.rbeg, s.score))
        .collect();
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert_eq!(kept[0], (1100, 125));
    assert_eq!(kept[1], (1400, 250));
    assert_eq!(kept[2], (1980, 70));
    assert_eq!(calls, [(125, 125), (125, 125), (70, 120)]);
}

#[test]
fn short_reads_skip_the_seed_filter() {
    let c0 = random_seq(1000, 8);
    let r = TestRef::new(&[(&c0, false)]);
    let read: Vec<u8> = c0[0..700].to_vec();
    let mut set = ChainSet {
        seeds: vec![seed(500, 300, 25)],
        chains: vec![Chain {
            n_seeds: 1,
            ..Chain::default()
        }],
    };
    let mut ws = ChainWorkspace::new();
    filter_seeds_by_sw(
        &MemOptions::default(),
        &read,
        &r,
        &mut set,
        &mut ws,
        |_, _| panic!("no SW for a 700-bp read"),
    );
    assert_eq!(set.seeds[0].score, 25);
}

#[test]
fn seed_window_stays_on_one_strand_and_contig() {
    // Two contigs of 400; a seed near the end of contig 0 forward: the
    // reference window is clipped to contig 0 by fetch_seq.
    let c0 = random_seq(400, 9);
    let c1 = random_seq(400, 10);
    let r = TestRef::new(&[(&c0, false), (&c1, false)]);
    let opts = MemOptions {
        min_chain_weight: 20, // min_l = 22, runs for reads >= 440
        ..MemOptions::default()
    };
    let read: Vec<u8> = c0[0..400].iter().chain(&c1[0..100]).copied().collect();
    // Seed on forward c0[370..390] (read 370..390); reverse-strand seed
    // near l_pac: rbeg 800 is the reverse of forward 799 (end of c1).
    let mut set = ChainSet {
        seeds: vec![seed(370, 370, 20), seed(800, 0, 20)],
        chains: vec![Chain {
            n_seeds: 2,
            ..Chain::default()
        }],
    };
    let mut ws = ChainWorkspace::new();
    let mut lens = Vec::new();
    filter_seeds_by_sw(&opts, &read, &r, &mut set, &mut ws, |q, t| {
        lens.push((q.len(), t.len()));
        100
    });
    // Window r [320, 440) clipped to contig 0: [320, 400).
    // Second: r [750, 870) crosses l_pac = 800; mid 810 >= 800: [800, 870).
    assert_eq!(lens, [(120, 80), (70, 70)]);
    assert_eq!(set.seeds_of(&set.chains[0]).len(), 2);
}

// ---- against bwa ----

fn gunzip(gz: &[u8]) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz), &mut text)
        .expect("fixture is gzip text");
    text
}

/// The numbers of a fixture line after its tag.
fn nums(l: &str) -> Vec<i64> {
    l.split_whitespace()
        .skip(1)
        .map(|x| x.parse().expect("fixture is numeric"))
        .collect()
}

/// The `L l_pac n` line and the `O offset len is_alt` lines after it.
fn contig_table<'a>(lines: &mut impl Iterator<Item = &'a str>) -> (i64, Vec<i64>) {
    let head = nums(lines.next().expect("L line"));
    let (l_pac, n_ctg) = (head[0], head[1] as usize);
    let offsets = (0..n_ctg)
        .map(|_| nums(lines.next().expect("O line"))[0])
        .collect();
    (l_pac, offsets)
}

/// 410 reads (70-250 bp, mutated, some across contigs, some with N, half
/// reverse-complemented; 10 inside a 1100-copy tandem repeat, so sampled
/// with a step and with frac_rep > 0) against a 4-contig reference, run once
/// through bwa 0.7.17's own `mem_chain` and `mem_chain_flt` with default
/// options. Each read records its intervals with the SA values bwa sampled
/// from them, the chains before filtering (in B-tree order, with seeds) and
/// after filtering (with w, kept, first).
#[test]
fn matches_bwa_mem_chain() {
    let text = gunzip(include_bytes!("../../../tests/data/chain_cases.txt.gz"));
    let mut lines = text.lines().skip(1);
    let (l_pac, offsets) = contig_table(&mut lines);
    let opts = MemOptions::default();
    let mut ws = ChainWorkspace::new();
    let mut out = ChainSet::default();
    let (mut reads, mut n_chains) = (0, 0);
    while let Some(line) = lines.next() {
        let r = nums(line);
        let (len, n_iv) = (r[0] as i32, r[1] as usize);
        let mut sa = vec![u64::MAX; 2 * l_pac as usize + 2];
        let mut ivs = Vec::new();
        for _ in 0..n_iv {
            let v = nums(lines.next().expect("I line"));
            let (x0, size) = (v[0] as u64, v[1] as u64);
            let step = if size > 500 { size / 500 } else { 1 };
            for (k, &val) in v[4..].iter().enumerate() {
                sa[(x0 + k as u64 * step) as usize] = val as u64;
            }
            ivs.push(iv(v[2] as i32, v[3] as i32, x0, size));
        }
        let reference = TestRef::fake(l_pac, &offsets, sa);
        build_chains(&ivs, len, &opts, &reference, &mut ws, &mut out);
        let c_line = nums(lines.next().expect("C line"));
        let n_c = c_line[0] as usize;
        assert_eq!(out.len(), n_c, "read {reads}: chain count");
        for c in &out.chains {
            assert_eq!(
                i64::from(c.frac_rep.to_bits()),
                c_line[1],
                "read {reads}: frac_rep"
            );
            let want = nums(lines.next().expect("c line"));
            let mut got = vec![c.pos, i64::from(c.rid), c.n_seeds as i64];
            for s in out.seeds_of(c) {
                got.extend([s.rbeg, i64::from(s.qbeg), i64::from(s.len)]);
            }
            assert_eq!(got, want, "read {reads}: chain before filtering");
        }
        filter_chains(&opts, &mut out, &mut ws);
        let n_k = nums(lines.next().expect("K line"))[0] as usize;
        assert_eq!(out.len(), n_k, "read {reads}: kept chain count");
        for c in &out.chains {
            let want = nums(lines.next().expect("k line"));
            let got = vec![
                c.pos,
                i64::from(c.w),
                i64::from(c.kept),
                i64::from(c.first),
                c.n_seeds as i64,
            ];
            assert_eq!(got, want, "read {reads}: chain after filtering");
        }
        n_chains += n_c;
        reads += 1;
    }
    assert_eq!((reads, n_chains), (410, 4921));
}

/// 40 long reads (700-2500 bp, 1-12% mutated, some with a 200-bp random
/// insert) run once through bwa 0.7.17's `mem_chain`, `mem_chain_flt` and
/// `mem_flt_chained_seeds`: per seed, the windows `mem_seed_sw` aligns and
/// the `ksw_align2` score it got (-1: no SW), then the seeds bwa kept with
/// their scores. The SW closure here checks the windows and replays bwa's
/// scores, so this tests everything of §6.3 but the SW kernel.
#[test]
fn seed_filter_matches_bwa() {
    let text = gunzip(include_bytes!("../../../tests/data/seed_sw_cases.txt.gz"));
    let mut lines = text.lines().skip(1);
    let (l_pac, offsets) = contig_table(&mut lines);
    let reference = TestRef::fake(l_pac, &offsets, Vec::new());
    let opts = MemOptions::default();
    let mut ws = ChainWorkspace::new();
    let (mut reads, mut sw_runs, mut dropped) = (0, 0, 0);
    while let Some(line) = lines.next() {
        let mut f = line.split_whitespace().skip(2);
        let read: Vec<u8> = f
            .next()
            .expect("read bases")
            .bytes()
            .map(|b| b"ACGT".iter().position(|&x| x == b).unwrap_or(4) as u8)
            .collect();
        let n_chains = nums(lines.next().expect("C line"))[0] as usize;
        let mut set = ChainSet::default();
        // Per SW call in order: (qb, qe, rb, re, score).
        let mut expected_sw = Vec::new();
        for _ in 0..n_chains {
            let v = nums(lines.next().expect("c line"));
            let seed_beg = set.seeds.len();
            for s in v[1..].chunks(7) {
                set.seeds.push(seed(s[0], s[1] as i32, s[2] as i32));
                if s[3] >= 0 {
                    let qe = (s[1] + s[2] + 50).min(read.len() as i64);
                    expected_sw.push((s[4], qe, s[5], s[6], s[3] as i32));
                }
            }
            set.chains.push(Chain {
                seed_beg,
                n_seeds: v[0] as usize,
                ..Chain::default()
            });
        }
        let n_before = set.seeds.len();
        let mut call = 0;
        filter_seeds_by_sw(&opts, &read, &reference, &mut set, &mut ws, |q, t| {
            let (qb, qe, rb, re, score) = expected_sw[call];
            call += 1;
            assert_eq!(
                q,
                &read[qb as usize..qe as usize],
                "read {reads}: query window"
            );
            assert_eq!(
                t.len() as i64,
                re - rb,
                "read {reads}: reference window length"
            );
            assert_eq!(
                i64::from(t[0]),
                rb % 251,
                "read {reads}: reference window start"
            );
            score
        });
        // (bwa's harness ran SW for every seed; the filter itself skips
        // reads shorter than about 730 bp, which the k lines then show.)
        if read.len() >= 800 {
            assert_eq!(call, expected_sw.len(), "read {reads}: SW calls");
        } else {
            assert_eq!(call, 0, "read {reads}: short read");
        }
        let mut kept = 0;
        for c in &set.chains {
            let want = nums(lines.next().expect("k line"));
            let mut got = vec![c.n_seeds as i64];
            for s in set.seeds_of(c) {
                got.extend([
                    s.rbeg,
                    i64::from(s.qbeg),
                    i64::from(s.len),
                    i64::from(s.score),
                ]);
            }
            assert_eq!(got, want, "read {reads}: seeds after the filter");
            kept += c.n_seeds;
        }
        sw_runs += call;
        dropped += n_before - kept;
        reads += 1;
    }
    assert_eq!(reads, 40);
    assert!(
        sw_runs > 1000 && dropped > 5,
        "{sw_runs} SW runs, {dropped} seeds dropped"
    );
}
