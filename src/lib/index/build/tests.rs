//! The blockwise build against the whole-text one: the same file, byte
//! for byte, on random, repetitive and palindromic texts, with blocks,
//! bins and cover periods small enough to exercise every path.

use std::io::Cursor;
use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::index::fasta::parse_fasta;
use crate::index::FmIndex;

fn image(fasta: &str, opts: &BuildOptions) -> Vec<u8> {
    let name = Path::new("t.fa");
    let parsed = parse_fasta(fasta.as_bytes(), name).unwrap();
    let (cursor, _, _) = write_index(parsed, opts, Cursor::new(Vec::new()), name).unwrap();
    cursor.into_inner()
}

/// Asserts that the blockwise image with `params` equals the whole-text one.
fn same_as_whole(fasta: &str, params: BlockwiseParams, sa_intv: u64, sa_width: Option<u64>) {
    let base = BuildOptions {
        sa_intv: Some(sa_intv),
        sa_width,
        threads: 2,
        ..BuildOptions::default()
    };
    let whole = image(
        fasta,
        &BuildOptions {
            algorithm: Algorithm::Whole,
            ..base.clone()
        },
    );
    let tmp = tempfile::tempdir().unwrap();
    let block = image(
        fasta,
        &BuildOptions {
            algorithm: Algorithm::Blockwise,
            blockwise: Some(params),
            tmp_dir: Some(tmp.path().to_path_buf()),
            ..base
        },
    );
    assert!(
        whole == block,
        "blockwise != whole-text for {params:?} on {fasta:?}"
    );
    // The spilled SA samples are gone.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    FmIndex::from_bytes(&block, Path::new("t.fa")).unwrap();
}

fn params(first_bits: u32, max_block: u64, period: u64, spill: bool) -> BlockwiseParams {
    BlockwiseParams {
        first_bits,
        max_block,
        sample_max_block: max_block,
        period,
        spill_samples_above: if spill { 0 } else { u64::MAX },
    }
}

/// Bases of a random text: mostly ACGT, some N runs and IUPAC codes.
fn seq_strategy(max_len: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            20 => prop::sample::select(vec!["A", "C", "G", "T"]).prop_map(str::to_string),
            1 => (1usize..40).prop_map(|k| "N".repeat(k)),
            1 => prop::sample::select(vec!["R", "Y", "K", "M", "S", "W", "n"]).prop_map(str::to_string),
        ],
        1..max_len,
    )
    .prop_map(|v| v.concat())
}

/// A unit repeated with a few point changes, and its reverse complement
/// (suffixes that run across the forward/reverse junction tie long).
fn repeat_strategy() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(vec![b'A', b'C', b'G', b'T']), 1..24),
        2usize..300,
        prop::collection::vec(
            (
                0usize..10_000,
                prop::sample::select(vec![b'A', b'C', b'G', b'T']),
            ),
            0..4,
        ),
        any::<bool>(),
    )
        .prop_map(|(unit, copies, changes, palindrome)| {
            let mut s: Vec<u8> = unit
                .iter()
                .cycle()
                .take(unit.len() * copies)
                .copied()
                .collect();
            for (at, c) in changes {
                let k = at % s.len();
                s[k] = c;
            }
            if palindrome {
                let rc: Vec<u8> = s
                    .iter()
                    .rev()
                    .map(|&b| match b {
                        b'A' => b'T',
                        b'C' => b'G',
                        b'G' => b'C',
                        _ => b'A',
                    })
                    .collect();
                s.extend(rc);
            }
            String::from_utf8(s).unwrap()
        })
}

fn fasta_of(contigs: &[String]) -> String {
    contigs
        .iter()
        .enumerate()
        .map(|(i, s)| format!(">c{i}\n{s}\n"))
        .collect()
}

fn params_strategy() -> impl Strategy<Value = (BlockwiseParams, u64, Option<u64>)> {
    (
        1u32..8,
        1u64..400,
        prop::sample::select(vec![2u64, 4, 8, 32, 64, 1024]),
        any::<bool>(),
        0u32..5,
        prop::sample::select(vec![None, Some(5u64), Some(8)]),
    )
        .prop_map(|(bits, block, period, spill, intv, width)| {
            (params(bits, block, period, spill), 1 << intv, width)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_texts(contigs in prop::collection::vec(seq_strategy(400), 1..4),
                    (p, intv, width) in params_strategy()) {
        same_as_whole(&fasta_of(&contigs), p, intv, width);
    }

    #[test]
    fn repetitive_texts(contigs in prop::collection::vec(repeat_strategy(), 1..3),
                        (p, intv, width) in params_strategy()) {
        same_as_whole(&fasta_of(&contigs), p, intv, width);
    }
}

#[test]
fn homopolymers_and_tandem_repeats() {
    let cases = [
        "A".repeat(5000),
        "AC".repeat(3000),
        format!(
            "{}{}{}",
            "A".repeat(2000),
            "T".repeat(2000),
            "ACGT".repeat(500)
        ),
        "ACGTTGCA".repeat(700),
    ];
    for s in &cases {
        for period in [4, 64, 1024] {
            for max_block in [7, 300, 1 << 20] {
                same_as_whole(
                    &fasta_of(std::slice::from_ref(s)),
                    params(3, max_block, period, true),
                    4,
                    None,
                );
            }
        }
    }
}

#[test]
fn default_params_on_a_larger_text() {
    // 200 kb of pseudo-random bases with a few long copies of one segment.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut s: Vec<u8> = (0..150_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b"ACGT"[(x & 3) as usize]
        })
        .collect();
    let copy = s[1000..6000].to_vec();
    for _ in 0..10 {
        s.extend_from_slice(&copy);
    }
    let fasta = fasta_of(&[String::from_utf8(s).unwrap()]);
    let n = 2 * 200_000;
    let p = BlockwiseParams::for_budget(n, 8 << 20, 2, Path::new("t")).unwrap();
    assert!(p.max_block < n, "the budget makes several blocks");
    same_as_whole(&fasta, p, 16, None);
    same_as_whole(
        &fasta,
        BlockwiseParams::for_budget(n, 1 << 30, 2, Path::new("t")).unwrap(),
        16,
        None,
    );
}

#[test]
fn a_budget_below_the_minimum_is_a_one_line_error() {
    let e = BlockwiseParams::for_budget(6_000_000_000, 1 << 30, 2, Path::new("ref.fa.fmi"))
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("--max-memory 1.0 GiB is too small") && msg.contains("needs at least"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
}

#[test]
fn auto_takes_the_whole_text_build_only_when_it_fits() {
    assert!(whole_text_bytes(126_000_000) < DEFAULT_MAX_MEMORY);
    assert!(whole_text_bytes(6_200_000_000) > 8 * DEFAULT_MAX_MEMORY);
}
