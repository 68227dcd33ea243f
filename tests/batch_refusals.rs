//! Every way a batch file can be refused: each gives its own typed error
//! naming the file, never a panic.

use std::path::Path;

use ferrous::batch::{
    decode_batch, encode_batch, read_batch, write_batch, BatchError, BatchFile, BatchHeader,
    Expectation, Payload, RegionBatch, SeedBatch, Stage, FORMAT_VERSION,
};
use ferrous::options::MemOptions;
use ferrous::reads::{Layout, ReadBatch};
use ferrous::region::AlnReg;
use ferrous::seed::BiInterval;
use serde::Serialize;

const INDEX_FP: u64 = 0xfeed_beef;

fn reads() -> ReadBatch {
    let mut r = ReadBatch::new();
    for i in 0..200u32 {
        let seq: Vec<u8> = (0..100)
            .map(|k| b"ACGT"[((k * 31 + i * 7) % 4) as usize])
            .collect();
        let name = format!("r{i}");
        r.push(name.as_bytes(), b"", &seq, Some(&[b'I'; 100]))
            .unwrap();
    }
    r.first_read = 1000;
    r
}

fn regions_batch() -> BatchFile {
    let reads = reads();
    let mut regions = RegionBatch::new();
    for i in 0..reads.len() {
        let r = AlnReg {
            rb: 5000 + i as i64 * 37,
            re: 5100 + i as i64 * 37,
            qe: 100,
            score: 100,
            truesc: 100,
            hash: i as u64 * 0x9e37_79b9,
            ..AlnReg::default()
        };
        regions.push_read(&[r]);
    }
    BatchFile::new(
        Payload::Regions { reads, regions },
        0,
        Layout::Single,
        INDEX_FP,
        &MemOptions::default(),
    )
}

fn expect(stage: Stage) -> Expectation {
    Expectation {
        stage,
        index_fingerprint: INDEX_FP,
        options_fingerprint: MemOptions::default().fingerprint(),
        alt_contigs: vec![],
    }
}

fn name() -> &'static Path {
    Path::new("batch-007.regions.fb")
}

fn encoded() -> Vec<u8> {
    encode_batch(&regions_batch(), 1, name()).unwrap()
}

fn decode(bytes: &[u8]) -> Result<BatchFile, BatchError> {
    decode_batch(bytes, name(), &expect(Stage::Regions))
}

/// The error, checking that its message names the file.
fn refuse(bytes: &[u8]) -> BatchError {
    let e = decode(bytes).expect_err("decoding must fail");
    assert!(
        e.to_string().contains("batch-007.regions.fb"),
        "message does not name the file: {e}"
    );
    e
}

#[test]
fn accepts_the_intact_batch() {
    assert_eq!(decode(&encoded()).unwrap(), regions_batch());
}

#[test]
fn empty_file() {
    let e = refuse(&[]);
    assert!(matches!(e, BatchError::NotBatch { .. }), "{e:?}");
    assert!(e.to_string().contains("empty"), "{e}");
}

#[test]
fn plain_garbage() {
    for bytes in [
        &b"@read1\nACGT\n+\nIIII\n"[..],
        &[0xffu8; 1000][..],
        &[0x28][..],
        b"\x28\xb5\x2f\xfdgarbage after a zstd magic",
    ] {
        let e = refuse(bytes);
        assert!(
            matches!(
                e,
                BatchError::NotBatch { .. }
                    | BatchError::Corrupt { .. }
                    | BatchError::Truncated { .. }
            ),
            "{e:?}"
        );
    }
    // A valid zstd frame around something that is not a batch.
    let z = zstd::encode_all(&b"hello, world"[..], 1).unwrap();
    assert!(matches!(refuse(&z), BatchError::NotBatch { .. }));
    let not_header = rmp_serde::to_vec_named(&vec![1u32, 2, 3]).unwrap();
    let z = zstd::encode_all(&not_header[..], 1).unwrap();
    assert!(matches!(refuse(&z), BatchError::NotBatch { .. }));
}

#[test]
fn truncated_at_several_points() {
    let bytes = encoded();
    let n = bytes.len();
    for cut in [5, 12, n / 4, n / 2, n - 5, n - 4, n - 1] {
        let e = refuse(&bytes[..cut]);
        assert!(
            matches!(e, BatchError::Truncated { .. }),
            "cut at {cut}/{n}: {e:?}"
        );
    }
}

#[test]
fn flipped_bytes_inside_the_frame() {
    let bytes = encoded();
    let n = bytes.len();
    // The last four bytes are the content checksum.
    let mut b = bytes.clone();
    b[n - 1] ^= 0x01;
    assert!(matches!(refuse(&b), BatchError::Checksum { .. }));
    // Anywhere past the frame header: refused, whatever zstd notices first.
    let mut checksum_seen = false;
    for at in (8..n - 4).step_by((n / 40).max(1)) {
        for bit in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[at] ^= bit;
            let e = refuse(&b);
            checksum_seen |= matches!(e, BatchError::Checksum { .. });
            assert!(
                matches!(
                    e,
                    BatchError::Checksum { .. }
                        | BatchError::Corrupt { .. }
                        | BatchError::Truncated { .. }
                ),
                "flip at {at}: {e:?}"
            );
        }
    }
    assert!(checksum_seen, "no flip reached the checksum test");
}

#[test]
fn wrong_stage_names_both() {
    let e = decode_batch(&encoded(), name(), &expect(Stage::Chains)).unwrap_err();
    assert!(
        matches!(
            e,
            BatchError::WrongStage {
                expected: Stage::Chains,
                found: Stage::Regions,
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(msg.contains("`extend`") && msg.contains("`chain`"), "{msg}");
    assert!(msg.contains("batch-007.regions.fb"), "{msg}");
}

#[test]
fn other_index_or_options() {
    let mut ex = expect(Stage::Regions);
    ex.index_fingerprint ^= 1;
    let e = decode_batch(&encoded(), name(), &ex).unwrap_err();
    assert!(matches!(e, BatchError::OtherIndex { .. }), "{e:?}");
    assert!(e.to_string().contains("batch-007.regions.fb"));

    let mut ex = expect(Stage::Regions);
    ex.options_fingerprint = MemOptions {
        min_seed_len: 25,
        ..MemOptions::default()
    }
    .fingerprint();
    let e = decode_batch(&encoded(), name(), &ex).unwrap_err();
    assert!(matches!(e, BatchError::OtherOptions { .. }), "{e:?}");
}

#[test]
fn reads_batch_without_index_is_accepted_by_any_index() {
    let b = BatchFile::new(
        Payload::Reads { reads: reads() },
        0,
        Layout::Single,
        0,
        &MemOptions::default(),
    );
    let bytes = encode_batch(&b, 1, name()).unwrap();
    assert!(decode_batch(&bytes, name(), &expect(Stage::Reads)).is_ok());
    let b = BatchFile::new(
        Payload::Reads { reads: reads() },
        0,
        Layout::Single,
        7,
        &MemOptions::default(),
    );
    let bytes = encode_batch(&b, 1, name()).unwrap();
    let e = decode_batch(&bytes, name(), &expect(Stage::Reads)).unwrap_err();
    assert!(matches!(e, BatchError::OtherIndex { .. }), "{e:?}");
}

#[test]
fn wrong_magic_and_version() {
    let mut b = regions_batch();
    b.header.magic = "ferrous-index".into();
    let e = refuse(&encode_batch(&b, 1, name()).unwrap());
    assert!(matches!(e, BatchError::NotBatch { .. }), "{e:?}");

    let mut b = regions_batch();
    b.header.version = 1;
    let e = refuse(&encode_batch(&b, 1, name()).unwrap());
    assert!(
        matches!(
            e,
            BatchError::Version {
                found: 1,
                expected: FORMAT_VERSION,
                ..
            }
        ),
        "{e:?}"
    );

    // A future version whose header and payload no longer parse as version 2.
    #[derive(Serialize)]
    struct Future {
        header: FutureHeader,
        payload: String,
    }
    #[derive(Serialize)]
    struct FutureHeader {
        magic: &'static str,
        version: u32,
        stage: u8,
    }
    let f = Future {
        header: FutureHeader {
            magic: "ferrous-batch",
            version: 9,
            stage: 3,
        },
        payload: "columns elsewhere".into(),
    };
    let z = zstd::encode_all(&rmp_serde::to_vec_named(&f).unwrap()[..], 1).unwrap();
    let e = refuse(&z);
    assert!(matches!(e, BatchError::Version { found: 9, .. }), "{e:?}");
}

#[test]
fn header_disagreeing_with_payload() {
    let mut b = regions_batch();
    b.header.n_reads += 1;
    let e = refuse(&encode_batch(&b, 1, name()).unwrap());
    assert!(matches!(e, BatchError::Inconsistent { .. }), "{e:?}");

    let mut b = regions_batch();
    b.header.stage = Stage::Seeds;
    let e = decode_batch(
        &encode_batch(&b, 1, name()).unwrap(),
        name(),
        &expect(Stage::Seeds),
    )
    .unwrap_err();
    assert!(matches!(e, BatchError::Inconsistent { .. }), "{e:?}");

    let mut b = regions_batch();
    b.header.options.min_seed_len = 25; // fingerprint no longer matches
    let e = refuse(&encode_batch(&b, 1, name()).unwrap());
    assert!(matches!(e, BatchError::Inconsistent { .. }), "{e:?}");
}

/// A seeds payload written by hand, to put bad offsets in.
#[derive(Serialize)]
struct RawFile {
    header: BatchHeader,
    payload: RawPayload,
}
#[derive(Serialize)]
enum RawPayload {
    Seeds { reads: ReadBatch, seeds: RawSeeds },
}
#[derive(Serialize, Clone)]
struct RawSeeds {
    read_ends: Vec<u64>,
    x0: Vec<u64>,
    x1: Vec<u64>,
    size: Vec<u64>,
    info: Vec<u64>,
}

fn raw_seeds(seeds: RawSeeds) -> Vec<u8> {
    let reads = reads();
    let header = BatchFile::new(
        Payload::Seeds {
            reads: reads.clone(),
            seeds: SeedBatch::new(),
        },
        0,
        Layout::Single,
        INDEX_FP,
        &MemOptions::default(),
    )
    .header;
    let f = RawFile {
        header,
        payload: RawPayload::Seeds { reads, seeds },
    };
    zstd::encode_all(&rmp_serde::to_vec_named(&f).unwrap()[..], 1).unwrap()
}

#[test]
fn inconsistent_payload_offsets() {
    let n = reads().len();
    let good = RawSeeds {
        read_ends: (1..=n as u64).collect(),
        x0: vec![1; n],
        x1: vec![2; n],
        size: vec![3; n],
        info: vec![(5 << 32) | 30; n],
    };
    let ok = raw_seeds(good.clone());
    let b = decode_batch(&ok, name(), &expect(Stage::Seeds)).unwrap();
    let Payload::Seeds { seeds, .. } = b.payload else {
        panic!("stage")
    };
    let want = BiInterval {
        x: [1, 2, 3],
        info: (5 << 32) | 30,
    };
    assert_eq!(seeds.read(7).collect::<Vec<_>>(), vec![want]);

    let cases: Vec<(&str, RawSeeds)> = vec![
        ("decreasing offsets", {
            let mut s = good.clone();
            s.read_ends.swap(3, 4);
            s
        }),
        ("offset past the end", {
            let mut s = good.clone();
            *s.read_ends.last_mut().unwrap() += 1;
            s
        }),
        ("vectors of different lengths", {
            let mut s = good.clone();
            s.x1.pop();
            s
        }),
        ("one read missing", {
            let mut s = good.clone();
            s.read_ends.pop();
            s.x0.pop();
            s.x1.pop();
            s.size.pop();
            s.info.pop();
            s
        }),
        ("span past the read", {
            let mut s = good.clone();
            s.info[9] = (5 << 32) | 101;
            s
        }),
        ("reversed span", {
            let mut s = good.clone();
            s.info[9] = (50 << 32) | 10;
            s
        }),
    ];
    for (what, s) in cases {
        let e = decode_batch(&raw_seeds(s), name(), &expect(Stage::Seeds)).unwrap_err();
        assert!(
            matches!(e, BatchError::Inconsistent { .. }),
            "{what}: {e:?}"
        );
        assert!(
            e.to_string().contains("batch-007.regions.fb"),
            "{what}: {e}"
        );
    }
}

#[test]
fn files_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b0.regions");
    let b = regions_batch();
    write_batch(&path, &b).unwrap();
    write_batch(&path, &b).unwrap(); // replaces atomically
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("b0.regions")]);
    assert_eq!(read_batch(&path, &expect(Stage::Regions)).unwrap(), b);

    let missing = dir.path().join("nope");
    let e = read_batch(&missing, &expect(Stage::Regions)).unwrap_err();
    assert!(
        matches!(e, BatchError::Io { .. }) && e.to_string().contains("nope"),
        "{e}"
    );

    let empty = dir.path().join("empty.batch");
    std::fs::write(&empty, b"").unwrap();
    let e = read_batch(&empty, &expect(Stage::Regions)).unwrap_err();
    assert!(matches!(e, BatchError::NotBatch { .. }), "{e:?}");
    assert!(e.to_string().contains("empty.batch"), "{e}");

    let e = write_batch(dir.path().join("no/such/dir/b"), &b).unwrap_err();
    assert!(matches!(e, BatchError::Io { .. }), "{e:?}");
}
