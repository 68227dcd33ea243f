use super::*;
use crate::chain::{Chain, ChainSet, Seed};

fn reads(lens: &[usize]) -> ReadBatch {
    let mut r = ReadBatch::new();
    for &l in lens {
        r.push(b"r", b"", &vec![b'A'; l], None).unwrap();
    }
    r
}

#[test]
fn stage_names() {
    assert_eq!(Stage::Regions.writer(), "extend");
    assert_eq!(Stage::Seeds.to_string(), "Seeds");
    // The documented encoding: a unit variant is its name as a string.
    let bytes = rmp_serde::to_vec_named(&Stage::Paired).unwrap();
    assert_eq!(bytes, b"\xa6Paired");
}

#[test]
fn chain_seeds_must_stay_inside_their_read() {
    let seed = |qbeg, len| Seed {
        rbeg: 0,
        qbeg,
        len,
        score: len,
    };
    let set = |s: Seed| ChainSet {
        chains: vec![Chain {
            n_seeds: 1,
            ..Chain::default()
        }],
        seeds: vec![s],
    };
    let mut chains = ChainBatch::new();
    chains.push_read(&set(seed(0, 10)));
    chains.push_read(&ChainSet::default());
    chains.push_read(&set(seed(5, 5)));
    let ok = Payload::Chains {
        reads: reads(&[10, 0, 10]),
        chains: chains.clone(),
    };
    assert_eq!(ok.check(), Ok(()));
    let bad = Payload::Chains {
        reads: reads(&[10, 0, 9]),
        chains,
    };
    assert!(bad.check().unwrap_err().contains("read 2"));
}

#[test]
fn header_must_match_payload() {
    let opts = MemOptions::default();
    let b = BatchFile::new(
        Payload::Reads {
            reads: reads(&[3, 3, 3]),
        },
        0,
        Layout::Paired,
        1,
        &opts,
    );
    assert!(b.check().unwrap_err().contains("odd number"));
    let mut b = BatchFile::new(
        Payload::Reads {
            reads: reads(&[3, 3]),
        },
        0,
        Layout::Paired,
        1,
        &opts,
    );
    assert_eq!(b.check(), Ok(()));
    b.header.first_read = 5;
    assert!(b.check().is_err());
}
