//! Timings of the Smith-Waterman kernels on read-sized inputs:
//! `cargo bench --bench sw_kernels`. Plain `std::time`, no framework.

use std::hint::black_box;
use std::time::Instant;

use ferrous::extend::{
    extend_banded, extend_banded_scalar, gen_cigar, local_align, local_align_many, CigarWorkspace,
    ExtendParams, ExtendResult, ExtendWorkspace, GapPenalties, LocalFlags, LocalJob,
    LocalWorkspace,
};
use ferrous::options::MemOptions;

/// A deterministic 150-base read and a copy with 3 substitutions and,
/// every other case, a 1-base deletion.
fn cases(n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut x = 1u64;
    let mut rnd = move || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) as usize
    };
    (0..n)
        .map(|k| {
            let q: Vec<u8> = (0..150).map(|_| (rnd() % 4) as u8).collect();
            let mut t = q.clone();
            for _ in 0..3 {
                let p = rnd() % 150;
                t[p] = (t[p] + 1) % 4;
            }
            if k % 2 == 0 {
                t.remove(rnd() % 140);
                t.push(0);
            }
            (q, t)
        })
        .collect()
}

fn time(name: &str, calls: usize, mut f: impl FnMut() -> i64) {
    let start = Instant::now();
    let sum = f();
    let ns = start.elapsed().as_nanos() as f64 / calls as f64;
    println!("{name:<44} {ns:>10.0} ns/call  (checksum {sum})");
}

fn main() {
    let opt = MemOptions::default();
    let mat = opt.score_matrix();
    let gaps = GapPenalties::from_options(&opt);
    let cases = cases(1000);
    let reps = 20;

    let p = ExtendParams {
        mat: &mat,
        gaps,
        w: opt.w,
        end_bonus: opt.pen_clip3,
        zdrop: opt.zdrop,
    };
    let mut ws = ExtendWorkspace::new();
    type Extend = fn(&mut ExtendWorkspace, &[u8], &[u8], &ExtendParams, i32) -> ExtendResult;
    for (name, f) in [
        ("extend_banded 150x150, w=100", extend_banded as Extend),
        ("extend_banded_scalar 150x150, w=100", extend_banded_scalar),
    ] {
        time(name, reps * cases.len(), || {
            let mut s = 0i64;
            for _ in 0..reps {
                for (q, t) in &cases {
                    s += i64::from(f(&mut ws, black_box(q), black_box(t), &p, 30).score);
                }
            }
            s
        });
    }

    let mut cws = CigarWorkspace::new();
    let (mut cigar, mut md) = (Vec::new(), String::new());
    time("gen_cigar 150x150, w=100", reps * cases.len(), || {
        let mut s = 0i64;
        for _ in 0..reps {
            for (q, t) in &cases {
                let r = gen_cigar(&mut cws, q, t, false, &mat, gaps, 100, &mut cigar, &mut md);
                s += r.map_or(0, |r| i64::from(r.score));
            }
        }
        s
    });

    // Mate-rescue shape: a read against a 550-base window holding its mate.
    let windows: Vec<Vec<u8>> = cases
        .iter()
        .map(|(q, t)| {
            let mut v: Vec<u8> = (0..300).map(|i| ((i * 7 + i / 5) % 4) as u8).collect();
            v.extend_from_slice(t);
            v.extend_from_slice(&q[..100]);
            v
        })
        .collect();
    let mut lws = LocalWorkspace::new();
    for (byte, name) in [
        (false, "local_align 150x550, i16, with start"),
        (true, "local_align 150x550, u8, with start"),
    ] {
        let flags = LocalFlags {
            byte,
            min_score: Some(opt.min_seed_len * opt.a),
            start: true,
        };
        time(name, reps * cases.len(), || {
            let mut s = 0i64;
            for _ in 0..reps {
                for ((q, _), w) in cases.iter().zip(&windows) {
                    s += i64::from(local_align(&mut lws, q, w, &mat, gaps, flags).score);
                }
            }
            s
        });
    }
    // A failed rescue: no trace of the read in the window (the common case
    // on repeats), so no start pass.
    let flags = LocalFlags {
        byte: true,
        min_score: Some(opt.min_seed_len * opt.a),
        start: true,
    };
    time(
        "local_align 150x600, u8, nothing found",
        reps * cases.len(),
        || {
            let mut s = 0i64;
            for _ in 0..reps {
                for (k, (q, _)) in cases.iter().enumerate() {
                    let w = &windows[(k + 1) % windows.len()];
                    s += i64::from(
                        local_align(&mut lws, q, &w[..w.len().min(600)], &mat, gaps, flags).score,
                    );
                }
            }
            s
        },
    );
    // The same two workloads through `local_align_many`, as mate rescue
    // runs them: side by side, four at a time, where the CPU has AVX-512BW.
    let mut out = Vec::new();
    for (found, name) in [
        (true, "local_align_many 150x550, u8, with start"),
        (false, "local_align_many 150x600, u8, nothing found"),
    ] {
        let jobs: Vec<LocalJob<'_>> = cases
            .iter()
            .enumerate()
            .map(|(k, (q, _))| {
                let target = if found {
                    &windows[k][..]
                } else {
                    let w = &windows[(k + 1) % windows.len()];
                    &w[..w.len().min(600)]
                };
                LocalJob {
                    query: q,
                    target,
                    flags,
                }
            })
            .collect();
        time(name, reps * jobs.len(), || {
            let mut s = 0i64;
            for _ in 0..reps {
                local_align_many(&mut lws, &jobs, &mat, gaps, &mut out);
                s += out.iter().map(|r| i64::from(r.score)).sum::<i64>();
            }
            s
        });
    }
}
