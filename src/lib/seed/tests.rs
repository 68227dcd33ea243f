//! Seeding against brute force over the naive index: SMEMs from their
//! definition, the three passes from the spec's statement, and handcrafted
//! cases for re-seeding, LAST-like seeds and N bases.

use super::naive::NaiveBiIndex;
use super::*;
use proptest::prelude::*;

/// The SMEMs covering `x` with at least `min_intv` occurrences, from the
/// definition: among the N-free query segments `[s, e)` with `s <= x < e`
/// occurring at least `min_intv` times, those contained in no other, by
/// increasing start. Returns the end of the longest such segment starting at
/// `x` too. When `query[x]` alone occurs fewer than `min_intv` times bwa
/// reports the longest segment from `x` with as many occurrences as `query[x]`.
fn brute_smem1(
    idx: &NaiveBiIndex,
    q: &[u8],
    x: usize,
    min_intv: u64,
) -> (usize, Vec<(usize, usize)>) {
    if q[x] > 3 {
        return (x + 1, vec![]);
    }
    let min_intv = min_intv.max(1);
    let n_free_end = |s: usize| (s..q.len()).find(|&i| q[i] > 3).unwrap_or(q.len());
    let single = idx.count(&q[x..x + 1]);
    if single < min_intv {
        let mut e = x + 1;
        while e < n_free_end(x) && idx.count(&q[x..e + 1]) == single {
            e += 1;
        }
        return (e, vec![(x, e)]);
    }
    // For each start, the longest qualifying segment covering x.
    let longest = |s: usize| -> Option<usize> {
        let lim = n_free_end(s);
        (x + 1..=lim)
            .rev()
            .find(|&e| idx.count(&q[s..e]) >= min_intv)
    };
    let ret = longest(x).expect("q[x] qualifies");
    let mut out = Vec::new();
    let mut best_end = 0;
    for s in 0..=x {
        if q[s..=x].iter().any(|&c| c > 3) {
            continue;
        }
        if let Some(e) = longest(s) {
            debug_assert!(e >= best_end);
            if e > best_end {
                out.push((s, e));
                best_end = e;
            }
        }
    }
    // Shortening a segment on the left never lowers its count, so the
    // longest end grows with the start: a segment is contained in another
    // iff an earlier start reaches the same end. `out` kept only the first.
    (ret, out)
}

/// [`check_smem1_on`] with the index's text readable and hidden (the two
/// ways of following a single occurrence).
fn check_smem1(forward: &[u8], q: &[u8], min_intv: u64) {
    check_smem1_on(&NaiveBiIndex::new(forward), q, min_intv);
    check_smem1_on(&NaiveBiIndex::new(forward).without_text(), q, min_intv);
}

fn check_smem1_on(idx: &NaiveBiIndex, q: &[u8], min_intv: u64) {
    let mut scratch = SmemScratch::default();
    let mut mem = Vec::new();
    for x in 0..q.len() {
        let ret = smem1(idx, q, x, min_intv, &mut scratch, &mut mem);
        let (want_ret, want) = brute_smem1(idx, q, x, min_intv);
        let got: Vec<(usize, usize)> = mem.iter().map(|m| (span_start(m), span_end(m))).collect();
        assert_eq!(
            (ret, &got),
            (want_ret, &want),
            "x={x} min_intv={min_intv} q={q:?}"
        );
        for m in &mem {
            let mut d = idx.definition(&q[span_start(m)..span_end(m)]);
            d.info = m.info;
            assert_eq!(
                *m,
                single_x1(d),
                "interval of {:?}",
                (span_start(m), span_end(m))
            );
        }
    }
}

/// Small deterministic generator for handcrafted cases.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bases(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() % 4) as u8).collect()
    }
}

/// A read drawn from the text with some substitutions and Ns, or random.
fn query_strategy(
    text_len: usize,
) -> impl Strategy<Value = (bool, usize, usize, Vec<(usize, u8)>)> {
    (
        any::<bool>(),
        0..text_len,
        8usize..60,
        proptest::collection::vec((0usize..60, 0u8..6), 0..4),
    )
}

fn make_query(
    text: &[u8],
    (random, start, len, edits): (bool, usize, usize, Vec<(usize, u8)>),
    rng_seed: u64,
) -> Vec<u8> {
    let mut q: Vec<u8> = if random {
        Rng(rng_seed | 1).bases(len)
    } else {
        text.iter().cycle().skip(start).take(len).copied().collect()
    };
    for (pos, c) in edits {
        if pos < q.len() {
            q[pos] = c.min(4);
        }
    }
    q
}

fn repetitive(unit: &[u8], reps: usize, noise: &[(usize, u8)]) -> Vec<u8> {
    let mut t: Vec<u8> = unit
        .iter()
        .cycle()
        .take(unit.len() * reps)
        .copied()
        .collect();
    for &(p, c) in noise {
        let n = t.len();
        t[p % n] = c;
    }
    t
}

/// A unit of up to `max_unit` bases repeated, with a few substitutions.
fn repetitive_text(
    max_unit: usize,
    reps: std::ops::Range<usize>,
    max_noise: usize,
) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(0u8..4, 2..max_unit),
        reps,
        proptest::collection::vec((0usize..1000, 0u8..4), 0..max_noise),
    )
        .prop_map(|(unit, reps, noise)| repetitive(&unit, reps, &noise))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn smem1_matches_definition_random_text(
        forward in proptest::collection::vec(0u8..4, 20..300),
        qspec in query_strategy(300),
        seed in any::<u64>(),
        min_intv in 1u64..5,
    ) {
        let idx = NaiveBiIndex::new(&forward);
        let q = make_query(idx.text(), qspec, seed);
        check_smem1(&forward, &q, min_intv);
    }

    #[test]
    fn smem1_matches_definition_repetitive_text(
        forward in repetitive_text(12, 3..20, 6),
        qspec in query_strategy(200),
        seed in any::<u64>(),
        min_intv in 1u64..8,
    ) {
        let idx = NaiveBiIndex::new(&forward);
        let q = make_query(idx.text(), qspec, seed);
        check_smem1(&forward, &q, min_intv);
    }
}

/// Pass 3 from its statement (spec §4.4), over the definition.
fn brute_strategy1(
    idx: &NaiveBiIndex,
    q: &[u8],
    x: usize,
    min_len: usize,
    max_intv: u64,
) -> (usize, Option<BiInterval>) {
    for i in x + 1..q.len() {
        if q[i] > 3 {
            return (i + 1, None);
        }
        if i - x >= min_len && idx.count(&q[x..=i]) < max_intv {
            let mut d = idx.definition(&q[x..=i]);
            d.info = pack_span(x, i + 1);
            return (i + 1, Some(single_x1(d)));
        }
    }
    (q.len(), None)
}

/// `mem_collect_intv` from the spec's statement, over brute-force SMEMs.
fn brute_collect(idx: &NaiveBiIndex, q: &[u8], opts: &MemOptions) -> Vec<BiInterval> {
    let k = opts.min_seed_len as usize;
    if q.len() < k {
        return vec![];
    }
    let interval = |s: usize, e: usize| {
        let mut d = idx.definition(&q[s..e]);
        d.info = pack_span(s, e);
        single_x1(d)
    };
    let mut out = Vec::new();
    let mut x = 0;
    while x < q.len() {
        if q[x] > 3 {
            x += 1;
            continue;
        }
        let (ret, smems) = brute_smem1(idx, q, x, 1);
        out.extend(
            smems
                .iter()
                .filter(|&&(s, e)| e - s >= k)
                .map(|&(s, e)| interval(s, e)),
        );
        x = ret;
    }
    let split_len = ((k as f32 * opts.split_factor) as f64 + 0.499) as usize;
    for p in out.clone() {
        let (s, e) = (span_start(&p), span_end(&p));
        if e - s >= split_len && p.x[2] <= opts.split_width as u64 {
            let (_, smems) = brute_smem1(idx, q, (s + e) / 2, p.x[2] + 1);
            out.extend(
                smems
                    .iter()
                    .filter(|&&(s, e)| e - s >= k)
                    .map(|&(s, e)| interval(s, e)),
            );
        }
    }
    if opts.max_mem_intv > 0 {
        let mut x = 0;
        while x < q.len() {
            if q[x] > 3 {
                x += 1;
                continue;
            }
            let (next, seed) = brute_strategy1(idx, q, x, k, opts.max_mem_intv);
            out.extend(seed.filter(|s| s.x[2] > 0));
            x = next;
        }
    }
    out.sort_by_key(|iv| iv.info);
    out
}

fn small_opts(k: i32, split_width: i32, max_mem_intv: u64) -> MemOptions {
    MemOptions {
        min_seed_len: k,
        split_width,
        max_mem_intv,
        ..MemOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn collect_matches_brute_force(
        forward in repetitive_text(30, 1..12, 10),
        qspec in query_strategy(300),
        seed in any::<u64>(),
        k in 2i32..10,
        split_width in 1i32..6,
        max_mem_intv in 0u64..6,
    ) {
        let idx = NaiveBiIndex::new(&forward);
        let q = make_query(idx.text(), qspec, seed);
        let opts = small_opts(k, split_width, max_mem_intv);
        let mut ws = SeedWorkspace::new();
        let mut got = Vec::new();
        collect_intervals(&idx, &q, &opts, &mut ws, &mut got);
        prop_assert_eq!(&got, &brute_collect(&idx, &q, &opts));
        // Following single occurrences by extension gives the same.
        let mut by_extension = Vec::new();
        let hidden = NaiveBiIndex::new(&forward).without_text();
        collect_intervals(&hidden, &q, &opts, &mut SeedWorkspace::new(), &mut by_extension);
        prop_assert_eq!(&got, &by_extension);
        // A warm workspace gives the same answer.
        let mut again = Vec::new();
        collect_intervals(&idx, &q, &opts, &mut ws, &mut again);
        prop_assert_eq!(&got, &again);
    }

    /// Two reads seeded together, their searches interleaved, get what
    /// each gets alone (either read may finish first).
    #[test]
    fn collect_group_matches_one_at_a_time(
        forward in repetitive_text(30, 1..12, 10),
        qspecs in proptest::array::uniform4(query_strategy(300)),
        empty in 0usize..5,
        seed in any::<u64>(),
        k in 2i32..10,
        split_width in 1i32..6,
        max_mem_intv in 0u64..6,
    ) {
        let idx = NaiveBiIndex::new(&forward);
        // A group may be short of reads: an empty query stands for one.
        let queries: Vec<Vec<u8>> = qspecs
            .into_iter()
            .enumerate()
            .map(|(i, q)| if i == empty { Vec::new() } else { make_query(idx.text(), q, seed ^ i as u64) })
            .collect();
        let opts = small_opts(k, split_width, max_mem_intv);
        let mut ws: [SeedWorkspace; SEED_GROUP] = Default::default();
        let mut got: [Vec<BiInterval>; SEED_GROUP] = Default::default();
        {
            let [w0, w1, w2, w3] = &mut ws;
            let [g0, g1, g2, g3] = &mut got;
            collect_intervals_group(
                &idx,
                [&queries[0], &queries[1], &queries[2], &queries[3]],
                &opts,
                [w0, w1, w2, w3],
                [g0, g1, g2, g3],
            );
        }
        let mut alone = Vec::new();
        for (i, q) in queries.iter().enumerate() {
            collect_intervals(&idx, q, &opts, &mut ws[i], &mut alone);
            prop_assert_eq!(&got[i], &alone);
        }
    }
}

fn spans(ivs: &[BiInterval]) -> Vec<(usize, usize, u64)> {
    ivs.iter()
        .map(|iv| (span_start(iv), span_end(iv), iv.x[2]))
        .collect()
}

#[test]
fn split_len_is_28_with_defaults() {
    assert_eq!(split_len(&MemOptions::default()), 28);
}

#[test]
fn pass2_reseeds_the_middle_of_a_long_rare_smem() {
    // A unique 40-base read whose middle 25 bases also occur twice
    // elsewhere (each copy flanked by other bases).
    let mut rng = Rng(7);
    let (left, mid, right) = (rng.bases(8), rng.bases(25), rng.bases(7));
    let mut forward = rng.bases(50);
    forward.extend(&left);
    forward.extend(&mid);
    forward.extend(&right);
    for _ in 0..2 {
        forward.extend(rng.bases(30));
        forward.extend(&mid);
    }
    forward.extend(rng.bases(30));
    let idx = NaiveBiIndex::new(&forward);
    let q: Vec<u8> = [left, mid.clone(), right].concat();
    assert_eq!(idx.count(&q), 1);
    assert_eq!(idx.count(&mid), 3);

    let mut ws = SeedWorkspace::new();
    let mut out = Vec::new();
    let opts = small_opts(19, 10, 0);
    collect_intervals(&idx, &q, &opts, &mut ws, &mut out);
    // The read itself (pass 1), and the middle copy occurring 3 times,
    // possibly a little longer where random flanks happen to agree.
    assert_eq!(out.len(), 2, "{:?}", spans(&out));
    assert_eq!(
        (span_start(&out[0]), span_end(&out[0]), out[0].x[2]),
        (0, 40, 1)
    );
    let m = out[1];
    assert!(
        span_start(&m) <= 8 && span_end(&m) >= 33 && m.x[2] == 3,
        "{:?}",
        spans(&out)
    );

    // Re-seeding is off when the SMEM is shorter than k * split_factor or
    // occurs more than split_width times.
    let opts = MemOptions {
        split_factor: 2.2,
        ..small_opts(19, 10, 0)
    };
    collect_intervals(&idx, &q, &opts, &mut ws, &mut out);
    assert_eq!(spans(&out), vec![(0, 40, 1)]);
    let opts = small_opts(19, 0, 0);
    collect_intervals(&idx, &q, &opts, &mut ws, &mut out);
    assert_eq!(spans(&out), vec![(0, 40, 1)]);
}

#[test]
fn pass3_cuts_last_like_seeds_every_k_plus_one_bases() {
    let mut rng = Rng(11);
    let forward = rng.bases(400);
    let idx = NaiveBiIndex::new(&forward);
    // A unique 70-base read: pass 1 gives the whole read; pass 3 seeds of
    // k + 1 = 20 bases at 0, 20, 40; the last 10 bases make none.
    let q = forward[100..170].to_vec();
    let mut ws = SeedWorkspace::new();
    let mut out = Vec::new();
    collect_intervals(&idx, &q, &small_opts(19, 10, 20), &mut ws, &mut out);
    assert_eq!(
        spans(&out),
        vec![(0, 20, 1), (0, 70, 1), (20, 40, 1), (40, 60, 1)]
    );

    // A substitution the reference never has (in a 20-base window) gives an
    // empty interval: no seed there, and the next search still starts
    // k + 1 bases on.
    let mut q2 = q.clone();
    q2[5] = (q2[5] + 1) % 4;
    let (next, seed) = seed_strategy1(&idx, &q2, 0, 19, 20);
    assert_eq!(next, 20);
    let seed = seed.expect("a seed of size 0");
    assert_eq!(seed.x[2], idx.count(&q2[0..20]));
    assert_eq!(seed.x[2], 0);
    collect_intervals(&idx, &q2, &small_opts(19, 10, 20), &mut ws, &mut out);
    assert!(spans(&out).contains(&(20, 40, 1)));
    assert!(!spans(&out).iter().any(|&(s, e, _)| (s, e) == (0, 20)));

    // A match occurring max_mem_intv times or more never becomes a seed.
    let unit = rng.bases(30);
    let idx = NaiveBiIndex::new(&repetitive(&unit, 12, &[]));
    let q: Vec<u8> = unit.iter().cycle().take(60).copied().collect();
    let (next, seed) = seed_strategy1(&idx, &q, 0, 19, 5);
    assert_eq!((next, seed), (60, None));
}

#[test]
fn n_bases_break_seeds() {
    let mut rng = Rng(3);
    let forward = rng.bases(300);
    let idx = NaiveBiIndex::new(&forward);
    let mut q = forward[50..110].to_vec();
    q[30] = 4;
    let mut ws = SeedWorkspace::new();
    let mut out = Vec::new();
    collect_intervals(&idx, &q, &small_opts(19, 10, 0), &mut ws, &mut out);
    assert_eq!(spans(&out), vec![(0, 30, 1), (31, 60, 1)]);

    // smem1 at an N returns the next position; a search stops before it.
    let mut mem = Vec::new();
    let mut scratch = SmemScratch::default();
    assert_eq!(smem1(&idx, &q, 30, 1, &mut scratch, &mut mem), 31);
    assert!(mem.is_empty());
    assert_eq!(smem1(&idx, &q, 10, 1, &mut scratch, &mut mem), 30);
    assert_eq!(spans(&mem), vec![(0, 30, 1)]);

    // Pass 3 restarts after an N met before the seed is long enough.
    assert_eq!(seed_strategy1(&idx, &q, 20, 19, 20), (31, None));

    // All N: nothing.
    collect_intervals(&idx, &[4; 40], &small_opts(19, 10, 20), &mut ws, &mut out);
    assert!(out.is_empty());
}

#[test]
fn short_reads_get_no_seeds() {
    let mut rng = Rng(5);
    let forward = rng.bases(200);
    let idx = NaiveBiIndex::new(&forward);
    let mut ws = SeedWorkspace::new();
    let mut out = vec![BiInterval::default()];
    collect_intervals(
        &idx,
        &forward[10..28],
        &small_opts(19, 10, 20),
        &mut ws,
        &mut out,
    );
    assert!(out.is_empty());
    collect_intervals(
        &idx,
        &forward[10..29],
        &small_opts(19, 10, 20),
        &mut ws,
        &mut out,
    );
    assert_eq!(spans(&out), vec![(0, 19, 1)]);
}

#[test]
fn smem1_when_the_first_base_is_already_too_rare() {
    // X = A*30 C G T*30: C and G occur once each. With min_intv 3, bwa
    // still reports the longest match from x with as many occurrences as
    // q[x] alone, and resumes after it.
    let mut forward = vec![0u8; 30];
    forward.push(1);
    let idx = NaiveBiIndex::new(&forward);
    let q = [1, 2, 3, 3, 0, 0];
    let mut scratch = SmemScratch::default();
    let mut mem = Vec::new();
    assert_eq!(smem1(&idx, &q, 0, 3, &mut scratch, &mut mem), 4);
    assert_eq!(spans(&mem), vec![(0, 4, 1)]);
    assert_eq!(smem1(&idx, &q, 1, 3, &mut scratch, &mut mem), 4);
    assert_eq!(spans(&mem), vec![(1, 4, 1)]);
    check_smem1(&forward, &q, 3);

    // A base absent from the reference: an empty "match" running to the
    // end of the read (or the next N).
    let idx = NaiveBiIndex::new(&[0u8; 20]);
    let q = [1, 1, 2, 1, 4, 1];
    assert_eq!(smem1(&idx, &q, 0, 1, &mut scratch, &mut mem), 4);
    assert_eq!(spans(&mem), vec![(0, 4, 0)]);
    check_smem1(&[0u8; 20], &q, 1);
}

mod real_index {
    use super::super::naive::NaiveBiIndex;
    use super::super::{collect_intervals, BiIndex, SeedWorkspace};
    use crate::index::FmIndex;
    use crate::options::MemOptions;
    use proptest::prelude::*;

    fn fasta(forward: &[u8]) -> Vec<u8> {
        let mut f = b">t\n".to_vec();
        f.extend(forward.iter().map(|&c| b"ACGT"[usize::from(c)]));
        f.push(b'\n');
        f
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// The FM-index gives seeding exactly the intervals the definition
        /// (naive suffix array of forward + reverse complement) gives.
        #[test]
        fn fm_index_seeds_like_the_naive_index(
            unit in proptest::collection::vec(0u8..4, 3..40),
            copies in 1usize..30,
            noise in proptest::collection::vec((0usize..2000, 0u8..4), 0..40),
            reads in proptest::collection::vec((0usize..4000, 30usize..120, 0usize..200, 0u8..4), 1..8),
        ) {
            let mut text: Vec<u8> = unit.iter().cycle().take(unit.len() * copies + 200).copied().collect();
            for (i, c) in noise { let n = text.len(); text[i % n] = c; }
            let fm = FmIndex::from_fasta_bytes(&fasta(&text), 8).expect("index builds");
            let naive = NaiveBiIndex::new(&text);
            for c in 0..4u8 {
                prop_assert_eq!(BiIndex::init_interval(&fm, c), naive.init_interval(c));
            }
            let opts = MemOptions { min_seed_len: 8, max_mem_intv: 5, ..MemOptions::default() };
            let (mut ws1, mut ws2) = (SeedWorkspace::new(), SeedWorkspace::new());
            let (mut a, mut b) = (Vec::new(), Vec::new());
            // Reads from anywhere in forward + reverse complement (across
            // the junction and up to the end of the text too), some with a
            // changed base.
            let x = naive.text();
            for (start, len, at, c) in reads {
                let s = start % x.len();
                let e = (s + len).min(x.len());
                let mut query = x[s..e].to_vec();
                if at < query.len() {
                    query[at] = c;
                }
                collect_intervals(&fm, &query, &opts, &mut ws1, &mut a);
                collect_intervals(&naive, &query, &opts, &mut ws2, &mut b);
                prop_assert_eq!(&a, &b);
            }
        }
    }
}
