//! Timings of the FM-index hot paths on a 2 Mbp random genome:
//! `cargo bench --bench occ_smem`. Plain `std::time`, no framework.
//! Reports the run-time-dispatched path and, on x86-64, the portable one
//! (what a CPU without POPCNT runs).

use std::hint::black_box;
use std::time::Instant;

use ferrous::index::FmIndex;
use ferrous::seed::{smem1, BiInterval, SmemScratch};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
}

fn time(name: &str, calls: usize, f: impl FnOnce() -> u64) {
    let start = Instant::now();
    let sum = f();
    let ns = start.elapsed().as_nanos() as f64 / calls as f64;
    println!("{name:<40} {ns:>10.1} ns/call  (checksum {sum})");
}

fn main() {
    let mut rng = Rng(7);
    let genome: Vec<u8> = (0..2_000_000).map(|_| (rng.next() % 4) as u8).collect();
    let mut fasta = String::from(">g\n");
    for line in genome.chunks(80) {
        fasta.extend(line.iter().map(|&c| b"ACGT"[c as usize] as char));
        fasta.push('\n');
    }
    let idx = FmIndex::from_fasta_bytes(fasta.as_bytes(), 16).expect("index builds");
    let n = idx.seq_len();

    // Intervals of random sizes at random rows.
    let ivs: Vec<BiInterval> = (0..200_000)
        .map(|_| {
            let start = (rng.next() as u64) % n + 1;
            let size = ((rng.next() % 300) as u64).min(n + 1 - start);
            BiInterval {
                x: [start, start, size],
                info: 0,
            }
        })
        .collect();
    let rows: Vec<u64> = (0..200_000).map(|_| (rng.next() as u64) % n).collect();
    // 150-base reads drawn from the genome, 2 substitutions each.
    let reads: Vec<Vec<u8>> = (0..2_000)
        .map(|_| {
            let p = rng.next() % (genome.len() - 150);
            let mut r = genome[p..p + 150].to_vec();
            for _ in 0..2 {
                let q = rng.next() % 150;
                r[q] = (r[q] + 1) % 4;
            }
            r
        })
        .collect();

    // Twice over: the first round also warms the caches.
    for _round in 0..2 {
        bench_index(&idx, &ivs, &rows);
    }
    let mut scratch = SmemScratch::default();
    let mut mem = Vec::new();
    let calls = reads.len() * 150;
    time("smem1 (every start of 150-base reads)", calls, || {
        let mut sum = 0u64;
        for r in &reads {
            for x in 0..r.len() {
                sum += smem1(&idx, black_box(r), x, 1, &mut scratch, &mut mem) as u64;
                sum += mem.len() as u64;
            }
        }
        sum
    });
}

fn bench_index(idx: &FmIndex, ivs: &[BiInterval], rows: &[u64]) {
    time("extend (dispatched)", 2 * ivs.len(), || {
        ivs.iter()
            .map(|ik| {
                black_box(idx.extend(black_box(ik), true))[1].x[2]
                    + black_box(idx.extend(ik, false))[2].x[2]
            })
            .sum()
    });
    time("extend_portable", 2 * ivs.len(), || {
        ivs.iter()
            .map(|ik| {
                black_box(idx.extend_portable(black_box(ik), true))[1].x[2]
                    + black_box(idx.extend_portable(ik, false))[2].x[2]
            })
            .sum()
    });
    // What seeding calls: one base's extension (the same checksum as above).
    time("extend1 (dispatched)", 2 * ivs.len(), || {
        ivs.iter()
            .map(|ik| {
                black_box(idx.extend1(black_box(ik), true, 1)).x[2]
                    + black_box(idx.extend1(ik, false, 2)).x[2]
            })
            .sum()
    });
    time("extend1_portable", 2 * ivs.len(), || {
        ivs.iter()
            .map(|ik| {
                black_box(idx.extend1_portable(black_box(ik), true, 1)).x[2]
                    + black_box(idx.extend1_portable(ik, false, 2)).x[2]
            })
            .sum()
    });
    time("sa (dispatched)", rows.len(), || {
        rows.iter().map(|&r| idx.sa(black_box(r))).sum()
    });
    time("sa_portable", rows.len(), || {
        rows.iter().map(|&r| idx.sa_portable(black_box(r))).sum()
    });
    // Batched lookups, in read-sized groups as chaining makes them.
    let mut out = vec![0u64; rows.len()];
    for group in [1usize, 4, 16, 64, 1024] {
        let name = format!("sa_many (groups of {group})");
        time(&name, rows.len(), || {
            for (r, o) in rows.chunks(group).zip(out.chunks_mut(group)) {
                idx.sa_many(black_box(r), o);
            }
            out.iter().sum()
        });
    }
}
