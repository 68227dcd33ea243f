//! Size and speed of batch files on real data (ignored by default; needs
//! `/work/runs/ecoli.fmi` and the E. coli reads):
//!
//! `cargo test --release --test batch_measure -- --ignored --nocapture`
//!
//! Prints, per zstd level, bytes per read and MB/s (of uncompressed
//! MessagePack) for a reads batch and a regions batch of 100k reads.

use std::path::Path;
use std::time::Instant;

use ferrous::batch::{decode_batch, encode_batch, BatchFile, Expectation, Payload, RegionBatch};
use ferrous::chain::{chain_seeds, ChainSet, ChainWorkspace, SmemInterval};
use ferrous::extend::{chain_to_regions, Chain2AlnWorkspace};
use ferrous::index::FmIndex;
use ferrous::options::MemOptions;
use ferrous::pipeline::nt4;
use ferrous::reads::{BatchReader, Layout, ReadBatch};
use ferrous::region::{plan_se, sort_dedup_patch, NoPatch, OutputFlags, PatchContext, ReadPlan};
use ferrous::seed::{collect_intervals, SeedWorkspace};
use serde::{Deserialize, Serialize};

const N_READS: usize = 100_000;

fn load_reads() -> ReadBatch {
    let mut reader = BatchReader::single(Path::new("/work/data/ecoli/reads_1.fq.gz")).unwrap();
    let mut batch = ReadBatch::new();
    reader.next_batch(N_READS as i64 * 150, &mut batch).unwrap();
    let mut cut = ReadBatch::new();
    for i in 0..batch.len().min(N_READS) {
        cut.push(batch.name(i), batch.comment(i), batch.seq(i), batch.qual(i))
            .unwrap();
    }
    cut
}

fn regions_of(index: &FmIndex, opt: &MemOptions, reads: &ReadBatch) -> RegionBatch {
    let mat = opt.score_matrix();
    let flags = OutputFlags {
        all: false,
        no_multi: false,
        soft_clip: false,
        primary5: false,
        keep_supp_mapq: false,
    };
    let (mut sw, mut cw, mut c2a) = (
        SeedWorkspace::new(),
        ChainWorkspace::new(),
        Chain2AlnWorkspace::default(),
    );
    let (mut ivs, mut smems, mut chains, mut regs, mut plan) = (
        Vec::new(),
        Vec::new(),
        ChainSet::default(),
        Vec::new(),
        ReadPlan::default(),
    );
    let mut out = RegionBatch::new();
    for i in 0..reads.len() {
        let q: Vec<u8> = reads.seq(i).iter().map(|&b| nt4(b)).collect();
        collect_intervals(index, &q, opt, &mut sw, &mut ivs);
        smems.clear();
        smems.extend(ivs.iter().map(|iv| SmemInterval {
            x0: iv.x[0],
            size: iv.x[2],
            qbeg: (iv.info >> 32) as i32,
            qend: iv.info as u32 as i32,
        }));
        chain_seeds(&smems, q.len() as i32, opt, index, &mut cw, &mut chains);
        regs.clear();
        for (c, seeds) in chains.iter() {
            chain_to_regions(opt, &mat, index, &q, c, seeds, &mut c2a, &mut regs);
        }
        sort_dedup_patch(opt, &mut regs, None::<PatchContext<NoPatch>>);
        plan_se(opt, &flags, &mut regs, i as u64, &mut plan);
        out.push_read(&regs);
    }
    out
}

/// Bytes as MessagePack `bin` (what `serde_bytes` does), for comparison.
struct Bin(Vec<u8>);
impl Serialize for Bin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}
impl<'de> Deserialize<'de> for Bin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Bin;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Bin, E> {
                Ok(Bin(v.to_vec()))
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Bin, E> {
                Ok(Bin(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}
#[derive(Serialize, Deserialize)]
struct BinReads {
    names: Bin,
    seqs: Bin,
    quals: Bin,
    seq_ends: Vec<u64>,
}

fn report(what: &str, n: usize, plain: usize, packed: usize, enc: f64, dec: f64) {
    println!(
        "{what:<32} {:>7.1} B/read ({:>7.1} B/read msgpack)  encode {:>6.0} MB/s {:>5.2} s/Mreads  decode {:>6.0} MB/s {:>5.2} s/Mreads",
        packed as f64 / n as f64,
        plain as f64 / n as f64,
        plain as f64 / enc / 1e6,
        enc / n as f64 * 1e6,
        plain as f64 / dec / 1e6,
        dec / n as f64 * 1e6,
    );
}

fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> (T, f64) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..reps {
        let t = Instant::now();
        out = Some(f());
        best = best.min(t.elapsed().as_secs_f64());
    }
    (out.unwrap(), best)
}

#[test]
#[ignore = "needs /work/runs/ecoli.fmi and the E. coli reads; run in release with --nocapture"]
fn measure_batch_codec() {
    let index = FmIndex::open("/work/runs/ecoli.fmi").unwrap();
    let opt = MemOptions::default();
    let reads = load_reads();
    let n = reads.len();
    let t = Instant::now();
    let regions = regions_of(&index, &opt, &reads);
    println!(
        "{n} reads, {} bases, {} regions (found in {:.1} s)",
        reads.total_bases(),
        regions.n_regions(),
        t.elapsed().as_secs_f64()
    );
    let name = Path::new("measure");
    for (label, payload) in [
        (
            "reads",
            Payload::Reads {
                reads: reads.clone(),
            },
        ),
        (
            "regions (with reads)",
            Payload::Regions {
                reads: reads.clone(),
                regions: regions.clone(),
            },
        ),
    ] {
        let batch = BatchFile::new(payload, 0, Layout::Single, index.fingerprint(), &opt);
        let expect = Expectation {
            stage: batch.header.stage,
            index_fingerprint: index.fingerprint(),
            options_fingerprint: opt.fingerprint(),
            alt_contigs: vec![],
        };
        // The MessagePack of both frames (what `zstd -dc` gives).
        let plain = zstd::decode_all(&encode_batch(&batch, 1, name).unwrap()[..])
            .unwrap()
            .len();
        for level in [1, 3] {
            let (bytes, enc) = time(3, || encode_batch(&batch, level, name).unwrap());
            let (back, dec) = time(3, || decode_batch(&bytes, name, &expect).unwrap());
            assert_eq!(back, batch);
            report(
                &format!("{label}, zstd -{level}"),
                n,
                plain,
                bytes.len(),
                enc,
                dec,
            );
        }
    }
    // Regions alone: the stage's own columns without the reads.
    let plain_regions = rmp_serde::to_vec_named(&regions).unwrap();
    for level in [1, 3] {
        let (z, enc) = time(3, || zstd::encode_all(&plain_regions[..], level).unwrap());
        let (_, dec) = time(3, || {
            let p = zstd::decode_all(&z[..]).unwrap();
            rmp_serde::from_slice::<RegionBatch>(&p).unwrap()
        });
        report(
            &format!("regions columns only, zstd -{level}"),
            n,
            plain_regions.len(),
            z.len(),
            enc,
            dec,
        );
    }
    // The reads with byte vectors as MessagePack bin instead of integer arrays.
    let bin = BinReads {
        names: Bin((0..n).flat_map(|i| reads.name(i).to_vec()).collect()),
        seqs: Bin((0..n).flat_map(|i| reads.seq(i).to_vec()).collect()),
        quals: Bin((0..n)
            .flat_map(|i| reads.qual(i).unwrap_or(&[]).to_vec())
            .collect()),
        seq_ends: (0..n).map(|i| i as u64 * 150).collect(),
    };
    let ints = BinReads2 {
        names: bin.names.0.clone(),
        seqs: bin.seqs.0.clone(),
        quals: bin.quals.0.clone(),
        seq_ends: bin.seq_ends.clone(),
    };
    for (label, plain) in [
        ("reads bytes as bin", rmp_serde::to_vec_named(&bin).unwrap()),
        (
            "reads bytes as int arrays",
            rmp_serde::to_vec_named(&ints).unwrap(),
        ),
    ] {
        for level in [1, 3] {
            let (z, enc) = time(3, || {
                let p = if label.ends_with("bin") {
                    rmp_serde::to_vec_named(&bin).unwrap()
                } else {
                    rmp_serde::to_vec_named(&ints).unwrap()
                };
                zstd::encode_all(&p[..], level).unwrap()
            });
            let (_, dec) = time(3, || {
                let p = zstd::decode_all(&z[..]).unwrap();
                if label.ends_with("bin") {
                    rmp_serde::from_slice::<BinReads>(&p).map(|_| ()).unwrap()
                } else {
                    rmp_serde::from_slice::<BinReads2>(&p).map(|_| ()).unwrap()
                }
            });
            report(
                &format!("{label}, zstd -{level}"),
                n,
                plain.len(),
                z.len(),
                enc,
                dec,
            );
        }
    }
}

#[derive(Serialize, Deserialize)]
struct BinReads2 {
    names: Vec<u8>,
    seqs: Vec<u8>,
    quals: Vec<u8>,
    seq_ends: Vec<u64>,
}
