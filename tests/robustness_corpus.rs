//! Replays every file of the fuzz corpora (`fuzz/corpus/<target>/`) through
//! the fuzzed entry points on the stable toolchain, so CI (which has no
//! nightly, hence no `cargo fuzz`) checks that none of them panics.
//!
//! `cargo test --test robustness_corpus -- --ignored write_seed_corpus`
//! regenerates the generated seeds (batches, index images); the FASTQ/FASTA
//! seeds are written by hand.

#[path = "../fuzz/src/entries.rs"]
#[allow(dead_code)]
mod entries;

use std::fs;
use std::path::{Path, PathBuf};

use ferrous::batch::{encode_batch, BatchFile, InsertModel, Payload, RegionBatch, SeedBatch};
use ferrous::chain::{Chain, ChainSet, Seed};
use ferrous::index::{build, fasta, BuildOptions};
use ferrous::options::MemOptions;
use ferrous::reads::{Layout, ReadBatch};
use ferrous::region::AlnReg;
use ferrous::seed::BiInterval;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

fn replay(target: &str, run: fn(&[u8])) {
    for path in corpus(target) {
        let data = fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} panics", path.display());
    }
}

#[test]
fn reads_corpus_replays() {
    replay("reads", entries::reads);
}

#[test]
fn batch_corpus_replays() {
    replay("batch", entries::batch);
}

#[test]
fn index_corpus_replays() {
    replay("index", entries::index);
}

fn small_reads(n: usize) -> ReadBatch {
    let mut r = ReadBatch::new();
    for i in 0..n {
        let seq: Vec<u8> = (0..12 + i).map(|k| b"ACGTN"[(k * 7 + i) % 5]).collect();
        let qual = vec![b'I'; seq.len()];
        let name = format!("r{}", i / 2);
        let q = if i % 3 == 2 { None } else { Some(&qual[..]) };
        r.push(name.as_bytes(), b"BC:Z:AC", &seq, q).unwrap();
    }
    r.first_read = 7;
    r
}

/// The MessagePack content of `batch`'s file: its three frames' values one
/// after the other (what `zstd -dc` gives).
fn msgpack(batch: &BatchFile) -> Vec<u8> {
    let file = encode_batch(batch, 1, Path::new("seed")).unwrap();
    zstd::decode_all(&file[..]).unwrap()
}

#[test]
#[ignore = "writes the generated seed corpora; run by hand"]
fn write_seed_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let opt = MemOptions::default();
    let fp = entries::SEED_INDEX_FP;
    let reads = small_reads(4);
    let mut seeds = SeedBatch::new();
    let mut chains = ferrous::batch::ChainBatch::new();
    let mut regions = RegionBatch::new();
    for i in 0..reads.len() {
        let iv = BiInterval {
            x: [3, 9, 2],
            info: (1u64 << 32) | 10,
        };
        seeds.push_read(&vec![iv; i]);
        let seed = Seed {
            rbeg: 100,
            qbeg: 1,
            len: 8,
            score: 8,
        };
        let set = ChainSet {
            chains: vec![Chain {
                seed_beg: 0,
                n_seeds: 1,
                pos: 100,
                ..Default::default()
            }],
            seeds: vec![seed],
        };
        chains.push_read(&set);
        let reg = AlnReg {
            rb: 100,
            re: 110,
            qb: 0,
            qe: 10,
            score: 10,
            ..AlnReg::default()
        };
        regions.push_read(&[reg]);
    }
    let payloads = [
        Payload::Reads {
            reads: reads.clone(),
        },
        Payload::Seeds {
            reads: reads.clone(),
            seeds,
        },
        Payload::Chains {
            reads: reads.clone(),
            chains,
        },
        Payload::Regions {
            reads: reads.clone(),
            regions: regions.clone(),
        },
        Payload::Paired {
            reads: reads.clone(),
            regions: regions.clone(),
            insert_model: InsertModel::default(),
        },
        Payload::Rescued {
            reads,
            regions,
            insert_model: InsertModel::default(),
        },
    ];
    let dir = root.join("batch");
    fs::create_dir_all(&dir).unwrap();
    for (k, payload) in payloads.into_iter().enumerate() {
        let stage = payload.stage();
        let layout = if k >= 4 {
            Layout::Paired
        } else {
            Layout::Single
        };
        let batch = BatchFile::new(payload, 3, layout, fp, &opt);
        // Selector byte: stage k, even = the file's bytes, odd = the
        // MessagePack of its three frames (framed by `entries::frames`).
        let sel = (k as u8) << 1;
        let mut file = vec![sel];
        file.extend(encode_batch(&batch, 1, Path::new("seed")).unwrap());
        fs::write(dir.join(format!("{stage:?}-file").to_lowercase()), file).unwrap();
        let mut raw = vec![sel | 1];
        raw.extend(msgpack(&batch));
        fs::write(dir.join(format!("{stage:?}-msgpack").to_lowercase()), raw).unwrap();
    }
    let dir = root.join("index");
    fs::create_dir_all(&dir).unwrap();
    let fastas: [(&str, &[u8]); 2] = [
        ("one-contig", b">a\nACGTTGCAACGGTCAGTCCATGACNNNNACGT\n"),
        (
            "holes-and-contigs",
            b">c1 x\nACGTRYACGTTTGACNNNNNNNNNNCAGT\n>c2\nGGGTTTAAACCC\n>c3\nA\n",
        ),
    ];
    for (name, fa) in fastas {
        let parsed = fasta::parse_fasta(fa, Path::new("seed.fa")).unwrap();
        let opts = BuildOptions {
            sa_intv: Some(4),
            ..BuildOptions::default()
        };
        let (cur, _, _) = build::write_index(
            parsed,
            &opts,
            std::io::Cursor::new(Vec::new()),
            Path::new("seed.fmi"),
        )
        .unwrap();
        // Selector byte: 0 = load as is, 1 = recompute checksums first.
        let image = cur.into_inner();
        for sel in [0u8, 1] {
            let mut file = vec![sel];
            file.extend(&image);
            fs::write(dir.join(format!("{name}-{sel}")), file).unwrap();
        }
    }
}

/// The generated seeds are accepted (so the fuzzers start from valid
/// inputs and reach the code behind the checks).
#[test]
fn generated_seeds_are_valid() {
    use ferrous::batch::{decode_batch, Expectation};
    let stages = entries::STAGES;
    for path in corpus("batch") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with("-file") || name.ends_with("-msgpack")) {
            continue;
        }
        let data = fs::read(&path).unwrap();
        let bytes = if data[0] & 1 == 1 {
            entries::frames(&data[1..])
        } else {
            data[1..].to_vec()
        };
        let expect = Expectation {
            stage: stages[(data[0] >> 1) as usize],
            index_fingerprint: entries::SEED_INDEX_FP,
            options_fingerprint: MemOptions::default().fingerprint(),
            alt_contigs: vec![],
        };
        decode_batch(&bytes, &path, &expect).unwrap();
    }
    for name in ["one-contig", "holes-and-contigs"] {
        for sel in [0, 1] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fuzz/corpus/index")
                .join(format!("{name}-{sel}"));
            let data = fs::read(&path).unwrap();
            assert_eq!(data[0], sel);
            ferrous::index::FmIndex::from_bytes(&data[1..], &path).unwrap();
        }
    }
}
