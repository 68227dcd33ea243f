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

/// 300 reads of 150 pseudo-random bases, from read 1000.
fn random_reads() -> ReadBatch {
    let mut r = ReadBatch::new();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut seq = vec![0u8; 150];
    for i in 0..300 {
        for b in &mut seq {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = b"ACGT"[(x >> 62) as usize];
        }
        let qual: Vec<u8> = seq.iter().map(|&b| b'!' + b % 41).collect();
        r.push(format!("r{i}").as_bytes(), b"", &seq, Some(&qual))
            .unwrap();
    }
    r.first_read = 1000;
    r
}

fn seeds_batch(reads: ReadBatch) -> BatchFile {
    let mut seeds = SeedBatch::new();
    for _ in 0..reads.len() {
        seeds.push_read(&[]);
    }
    BatchFile::new(
        Payload::Seeds { reads, seeds },
        2,
        Layout::Single,
        1,
        &MemOptions::default(),
    )
}

fn reads_batch(reads: ReadBatch) -> BatchFile {
    BatchFile::new(
        Payload::Reads { reads },
        2,
        Layout::Single,
        1,
        &MemOptions::default(),
    )
}

fn expect(stage: Stage) -> Expectation {
    Expectation {
        stage,
        index_fingerprint: 1,
        options_fingerprint: MemOptions::default().fingerprint(),
        alt_contigs: vec![],
    }
}

fn encode(batch: &BatchFile, level: i32) -> Vec<u8> {
    encode_batch(batch, level, std::path::Path::new("mem")).unwrap()
}

fn decode(bytes: &[u8], stage: Stage) -> BatchFile {
    decode_batch(bytes, std::path::Path::new("mem"), &expect(stage)).unwrap()
}

/// The file's first frame, and the reads' two frames (bases, labels) after it.
fn frames(bytes: &[u8]) -> (&[u8], &[u8]) {
    bytes.split_at(zstd::zstd_safe::find_frame_compressed_size(bytes).unwrap())
}

#[test]
fn a_file_is_three_frames_header_then_bases_then_labels() {
    use crate::reads::{ReadBases, ReadLabels};
    use serde::de::IgnoredAny;
    use std::collections::BTreeMap;
    #[derive(Deserialize)]
    struct First {
        header: BatchHeader,
        payload: BTreeMap<String, BTreeMap<String, IgnoredAny>>,
    }
    let reads = random_reads();
    for (batch, kind, fields) in [
        (reads_batch(reads.clone()), "Reads", vec![]),
        (seeds_batch(reads.clone()), "Seeds", vec!["seeds"]),
    ] {
        let bytes = encode(&batch, 1);
        let (one, rest) = frames(&bytes);
        let (two, three) = frames(rest);
        assert_eq!(
            zstd::zstd_safe::find_frame_compressed_size(three),
            Ok(three.len())
        );
        let plain1 = zstd::decode_all(one).unwrap();
        let first: First = rmp_serde::from_slice(&plain1).unwrap();
        assert_eq!(first.header, batch.header);
        assert_eq!(first.header.version, 5);
        let (k, v) = first.payload.iter().next().unwrap();
        assert_eq!((first.payload.len(), k.as_str()), (1, kind));
        assert_eq!(v.keys().map(String::as_str).collect::<Vec<_>>(), fields);
        let plain2 = zstd::decode_all(two).unwrap();
        let plain3 = zstd::decode_all(three).unwrap();
        let bases: ReadBases = rmp_serde::from_slice(&plain2).unwrap();
        let labels: ReadLabels = rmp_serde::from_slice(&plain3).unwrap();
        assert_eq!(ReadBatch::from_parts(bases, Some(labels)).unwrap(), reads);
        // `zstd -dc` gives the three values one after the other.
        assert_eq!(
            zstd::decode_all(&bytes[..]).unwrap(),
            [plain1, plain2, plain3].concat()
        );
    }
}

/// A stage reads the bases alone, carries the labels' frame it did not
/// decode, and writes the file it would have written with them; it still
/// refuses a damaged labels' frame. A batch of bases only cannot be
/// written without its frames. Interleaved reads, paired by name, are
/// read with their labels.
#[test]
fn a_stage_reads_the_bases_alone_and_carries_the_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.reads");
    let input = reads_batch(random_reads());
    write_batch(&path, &input).unwrap();
    let mut read = read_batch_bases(&path, &expect(Stage::Reads)).unwrap();
    let reads = read.payload.reads();
    assert!(!reads.has_labels());
    assert_eq!(reads.len(), input.payload.reads().len());
    assert_eq!(reads.seq(3), input.payload.reads().seq(3));
    let mut next = seeds_batch(reads.clone());
    let e = encode_batch(&next, 1, std::path::Path::new("mem")).unwrap_err();
    assert!(e.to_string().contains("cannot be written"), "{e}");
    next.carry_reads_frame(read.take_reads_frame());
    let full = seeds_batch(input.payload.reads().clone());
    assert_eq!(encode(&next, 1), encode(&full, 1));

    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 1; // frame 3's checksum
    std::fs::write(&path, &bytes).unwrap();
    for e in [
        read_batch_bases(&path, &expect(Stage::Reads)).unwrap_err(),
        read_batch(&path, &expect(Stage::Reads)).unwrap_err(),
    ] {
        assert!(matches!(e, BatchError::Checksum { .. }), "{e:?}");
    }
    std::fs::write(&path, &bytes[..n - 1]).unwrap();
    let e = read_batch_bases(&path, &expect(Stage::Reads)).unwrap_err();
    assert!(e.to_string().contains("names frame (frame 3)"), "{e}");

    let mut interleaved = reads_batch(random_reads());
    interleaved.header.layout = Layout::Interleaved;
    write_batch(&path, &interleaved).unwrap();
    let read = read_batch_bases(&path, &expect(Stage::Reads)).unwrap();
    assert!(read.payload.reads().has_labels());
    assert_eq!(read, interleaved);
}

/// A stage's output written with the reads' frame it read is the same
/// file as one whose reads are compressed anew, at the same level.
#[test]
fn a_carried_reads_frame_gives_the_same_bytes() {
    for level in [1, 3] {
        let input = encode(&reads_batch(random_reads()), level);
        let mut read = decode(&input, Stage::Reads);
        let frame = read.take_reads_frame();
        assert!(frame.is_some());
        assert!(read.take_reads_frame().is_none());
        let mut next = seeds_batch(read.payload.reads().clone());
        let fresh = encode(&next, level);
        next.carry_reads_frame(frame);
        let carried = encode(&next, level);
        assert_eq!(carried, fresh, "level {level}");
        assert_eq!(frames(&carried).1, frames(&input).1);
    }
}

/// The carried frame is written as it was read: from a file written at
/// another level it is not the frame this writer would make, yet decodes
/// to the same batch.
#[test]
fn a_carried_reads_frame_is_written_verbatim() {
    let input = encode(&reads_batch(random_reads()), 19);
    let mut read = decode(&input, Stage::Reads);
    let mut next = seeds_batch(read.payload.reads().clone());
    let fresh = encode(&next, 1);
    next.carry_reads_frame(read.take_reads_frame());
    let carried = encode(&next, 1);
    assert_eq!(frames(&carried).0, frames(&fresh).0);
    assert_eq!(frames(&carried).1, frames(&input).1);
    assert_ne!(frames(&carried).1, frames(&fresh).1);
    assert_eq!(decode(&carried, Stage::Seeds), next);
}

/// A frame carried to a batch of other reads is not written: the reads
/// are compressed anew.
#[test]
fn a_reads_frame_of_other_reads_is_not_written() {
    let input = encode(&reads_batch(random_reads()), 1);
    let frame = decode(&input, Stage::Reads).take_reads_frame();
    let mut renumbered = random_reads();
    renumbered.first_read += 1;
    let mut fewer = ReadBatch::new();
    let all = random_reads();
    for i in 1..all.len() {
        fewer
            .push(all.name(i), all.comment(i), all.seq(i), all.qual(i))
            .unwrap();
    }
    fewer.first_read = all.first_read;
    for other in [renumbered, fewer] {
        let mut next = seeds_batch(other);
        let fresh = encode(&next, 1);
        next.carry_reads_frame(frame.clone());
        assert_eq!(encode(&next, 1), fresh);
        assert_eq!(decode(&fresh, Stage::Seeds), next);
    }
}

/// `read_header` reads frame 1 only: a damaged reads' frame does not stop
/// it (reading the batch does).
#[test]
fn read_header_reads_the_first_frame_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.seeds");
    let batch = seeds_batch(random_reads());
    let mut bytes = encode(&batch, 1);
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(read_header(&path).unwrap(), batch.header);
    let e = read_batch(&path, &expect(Stage::Seeds)).unwrap_err();
    assert!(matches!(e, BatchError::Checksum { .. }), "{e:?}");
    // A damaged first frame: the full decoder's precise error.
    let mut bytes = encode(&batch, 1);
    let first = frames(&bytes).0.len();
    bytes[first - 1] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let e = read_header(&path).unwrap_err();
    assert!(matches!(e, BatchError::Checksum { .. }), "{e:?}");
}
