//! Round trips of every batch payload through the file format (proptest),
//! including empty batches and zero-length reads.

use ferrous::batch::{
    decode_batch, encode_batch, BatchFile, ChainBatch, Expectation, InsertModel, Payload,
    RegionBatch, SeedBatch, Stage,
};
use ferrous::chain::{Chain, ChainSet, Seed};
use ferrous::options::MemOptions;
use ferrous::pair::InsertSizeStats;
use ferrous::reads::{Layout, ReadBatch};
use ferrous::region::AlnReg;
use ferrous::seed::BiInterval;
use proptest::prelude::*;
use std::path::Path;

const INDEX_FP: u64 = 0x1234_5678_9abc_def0;

/// Reads of the given lengths; odd reads are FASTA (no quality).
fn reads_of(lens: &[usize], first_read: u64) -> ReadBatch {
    let mut b = ReadBatch::new();
    for (i, &l) in lens.iter().enumerate() {
        let seq: Vec<u8> = (0..l).map(|k| b"ACGTN"[(k * 7 + i) % 5]).collect();
        let qual: Vec<u8> = (0..l).map(|k| b'!' + ((k + i) % 41) as u8).collect();
        let name = format!("read{i}");
        let comment = if i % 3 == 0 { "BC:Z:x" } else { "" };
        let q = (i % 2 == 0).then_some(&qual[..]);
        b.push(name.as_bytes(), comment.as_bytes(), &seq, q)
            .unwrap();
    }
    b.first_read = first_read;
    b
}

fn round_trip(payload: Payload, paired: bool) -> BatchFile {
    let opts = MemOptions::default();
    let layout = if paired {
        Layout::Paired
    } else {
        Layout::Single
    };
    let mut batch = BatchFile::new(payload, 3, layout, INDEX_FP, &opts);
    batch.header.last_batch = true;
    let bytes = encode_batch(&batch, 1, Path::new("mem")).unwrap();
    let expect = Expectation {
        stage: batch.header.stage,
        index_fingerprint: INDEX_FP,
        options_fingerprint: opts.fingerprint(),
        alt_contigs: vec![],
    };
    let back = decode_batch(&bytes, Path::new("mem"), &expect).unwrap();
    assert_eq!(back, batch);
    // Written again, with the reads' frame it was read with carried: the
    // same bytes.
    assert_eq!(encode_batch(&back, 1, Path::new("mem")).unwrap(), bytes);
    back
}

fn arb_lens() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![Just(0usize), 1usize..300], 0..12)
}

/// Intervals of one read of length `len` (none when `len` is 0).
fn arb_intervals(len: usize) -> BoxedStrategy<Vec<BiInterval>> {
    if len == 0 {
        return Just(Vec::new()).boxed();
    }
    prop::collection::vec(
        (any::<u64>(), any::<u64>(), any::<u64>(), 0..=len, 0..=len),
        0..8,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(x0, x1, s, a, b)| BiInterval {
                x: [x0, x1, s],
                info: ((a.min(b) as u64) << 32) | a.max(b) as u64,
            })
            .collect()
    })
    .boxed()
}

fn arb_seed(len: usize) -> impl Strategy<Value = Seed> {
    (0i64..1 << 40, 0..=len, 0..=len, any::<i32>()).prop_map(|(rbeg, a, b, score)| Seed {
        rbeg,
        qbeg: a.min(b) as i32,
        len: (a.max(b) - a.min(b)) as i32,
        score,
    })
}

/// A chain set of one read: chains with seeds laid out in arbitrary order
/// in the shared buffer, as `ChainSet` allows.
fn arb_chain_set(len: usize) -> BoxedStrategy<ChainSet> {
    let chain = (
        prop::collection::vec(arb_seed(len), 0..5),
        any::<i64>(),
        any::<i32>(),
        any::<i32>(),
        0i32..4,
        any::<i32>(),
        any::<bool>(),
        0f32..1.0,
    );
    prop::collection::vec(chain, 0..5)
        .prop_map(|chains| {
            let mut set = ChainSet::default();
            for (seeds, pos, rid, w, kept, first, is_alt, frac_rep) in chains.into_iter().rev() {
                let seed_beg = set.seeds.len();
                set.seeds.extend(&seeds);
                set.chains.insert(
                    0,
                    Chain {
                        seed_beg,
                        n_seeds: seeds.len(),
                        pos,
                        rid,
                        w,
                        kept,
                        first,
                        is_alt,
                        frac_rep,
                    },
                );
            }
            set
        })
        .boxed()
}

fn arb_region(len: usize) -> impl Strategy<Value = AlnReg> {
    (
        (0i64..1 << 40, 0i64..1000, 0..=len, 0..=len, any::<i32>()),
        prop::array::uniform12(any::<i32>()),
        (any::<bool>(), any::<f32>(), any::<u64>()),
    )
        .prop_map(
            |((rb, rl, a, b, rid), v, (is_alt, frac_rep, hash))| AlnReg {
                rb,
                re: rb + rl,
                qb: a.min(b) as i32,
                qe: a.max(b) as i32,
                rid,
                score: v[0],
                truesc: v[1],
                sub: v[2],
                alt_sc: v[3],
                csub: v[4],
                sub_n: v[5],
                w: v[6],
                seedcov: v[7],
                secondary: v[8],
                secondary_all: v[9],
                seedlen0: v[10],
                n_comp: v[11],
                is_alt,
                frac_rep: if frac_rep.is_nan() { 0.5 } else { frac_rep },
                hash,
            },
        )
}

fn per_read<T: std::fmt::Debug + 'static>(
    lens: Vec<usize>,
    f: fn(usize) -> BoxedStrategy<T>,
) -> impl Strategy<Value = (Vec<usize>, Vec<T>)> {
    let items: Vec<_> = lens.iter().map(|&l| f(l)).collect();
    (Just(lens), items)
}

fn arb_regions(len: usize) -> BoxedStrategy<Vec<AlnReg>> {
    prop::collection::vec(arb_region(len), 0..6).boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn reads_round_trip(lens in arb_lens(), first in any::<u32>()) {
        let reads = reads_of(&lens, first as u64);
        let back = round_trip(Payload::Reads { reads: reads.clone() }, false);
        prop_assert_eq!(back.payload.reads(), &reads);
        prop_assert_eq!(back.header.n_reads, lens.len() as u64);
    }

    #[test]
    fn seeds_round_trip((lens, ivs) in arb_lens().prop_flat_map(|l| per_read(l, arb_intervals))) {
        let mut seeds = SeedBatch::new();
        for v in &ivs {
            seeds.push_read(v);
        }
        let reads = reads_of(&lens, 10);
        let back = round_trip(Payload::Seeds { reads, seeds }, false);
        let Payload::Seeds { seeds, .. } = back.payload else { panic!("stage") };
        prop_assert_eq!(seeds.len(), ivs.len());
        let mut got = Vec::new();
        for (i, v) in ivs.iter().enumerate() {
            seeds.read_into(i, &mut got);
            prop_assert_eq!(&got, v);
            prop_assert_eq!(seeds.read(i).len(), v.len());
        }
    }

    #[test]
    fn chains_round_trip((lens, sets) in arb_lens().prop_flat_map(|l| per_read(l, arb_chain_set))) {
        let mut chains = ChainBatch::new();
        for s in &sets {
            chains.push_read(s);
        }
        let reads = reads_of(&lens, 0);
        let back = round_trip(Payload::Chains { reads, chains }, false);
        let Payload::Chains { chains, .. } = back.payload else { panic!("stage") };
        let mut got = ChainSet::default();
        for (i, want) in sets.iter().enumerate() {
            chains.read_into(i, &mut got);
            prop_assert_eq!(got.len(), want.len());
            for ((gc, gs), (wc, ws)) in got.iter().zip(want.iter()) {
                prop_assert_eq!(gs, ws);
                let strip = |c: &Chain| Chain { seed_beg: 0, ..*c };
                prop_assert_eq!(strip(gc), strip(wc));
            }
        }
    }

    #[test]
    fn regions_round_trip(
        (lens, regs) in arb_lens().prop_flat_map(|l| per_read(l, arb_regions)),
        paired_stage in any::<Option<bool>>(),
    ) {
        let mut regions = RegionBatch::new();
        for r in &regs {
            regions.push_read(r);
        }
        let reads = reads_of(&lens, 0);
        let insert_model = InsertModel::from(&[InsertSizeStats { low: 10, high: 900, failed: false, avg: 400.5, std: 40.25 }; 4]);
        let payload = match paired_stage {
            Some(false) if lens.len() % 2 == 0 => Payload::Paired { reads, regions, insert_model: insert_model.clone() },
            Some(true) if lens.len() % 2 == 0 => Payload::Rescued { reads, regions, insert_model: insert_model.clone() },
            _ => Payload::Regions { reads, regions },
        };
        let paired = payload.stage() != Stage::Regions;
        let back = round_trip(payload, paired);
        match &back.payload {
            Payload::Paired { insert_model: m, .. } | Payload::Rescued { insert_model: m, .. } => prop_assert_eq!(m, &insert_model),
            _ => {}
        }
        let (Payload::Regions { regions, .. } | Payload::Paired { regions, .. } | Payload::Rescued { regions, .. }) = back.payload
        else { panic!("stage") };
        let mut got = Vec::new();
        for (i, want) in regs.iter().enumerate() {
            regions.read_into(i, &mut got);
            prop_assert_eq!(&got, want);
        }
    }
}

#[test]
fn empty_batches_round_trip() {
    let reads = ReadBatch::new();
    round_trip(
        Payload::Reads {
            reads: reads.clone(),
        },
        false,
    );
    round_trip(
        Payload::Seeds {
            reads: reads.clone(),
            seeds: SeedBatch::new(),
        },
        false,
    );
    round_trip(
        Payload::Chains {
            reads: reads.clone(),
            chains: ChainBatch::new(),
        },
        false,
    );
    round_trip(
        Payload::Regions {
            reads: reads.clone(),
            regions: RegionBatch::new(),
        },
        false,
    );
    round_trip(
        Payload::Paired {
            reads: reads.clone(),
            regions: RegionBatch::new(),
            insert_model: InsertModel::default(),
        },
        true,
    );
    round_trip(
        Payload::Rescued {
            reads,
            regions: RegionBatch::new(),
            insert_model: InsertModel::default(),
        },
        true,
    );
}
