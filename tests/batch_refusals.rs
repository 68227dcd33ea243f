//! Every way a batch file can be refused: each gives its own typed error
//! naming the file, never a panic.

use std::io::Write;
use std::path::Path;

use ferrous::batch::{
    decode_batch, encode_batch, read_batch, write_batch, BatchError, BatchFile, BatchHeader,
    Expectation, Payload, RegionBatch, SeedBatch, Stage, FORMAT_VERSION,
};
use ferrous::options::MemOptions;
use ferrous::reads::{Layout, ReadBases, ReadBatch};
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

/// Where the reads' frame (frame 2) starts: the length of frame 1.
fn first_frame_len(bytes: &[u8]) -> usize {
    zstd::zstd_safe::find_frame_compressed_size(bytes).unwrap()
}

/// One zstd frame (checksum on, as in batch files) of `plain`.
fn frame(plain: &[u8]) -> Vec<u8> {
    let mut z = zstd::Encoder::new(Vec::new(), 1).unwrap();
    z.include_checksum(true).unwrap();
    z.write_all(plain).unwrap();
    z.finish().unwrap()
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
    let first = first_frame_len(&bytes);
    // Inside frame 1, at its end, inside the reads' magic, inside frame 2.
    for cut in [
        5,
        12,
        first / 2,
        first - 1,
        first,
        first + 2,
        first + 5,
        first + (n - first) / 2,
        n - 5,
        n - 4,
        n - 1,
    ] {
        let e = refuse(&bytes[..cut]);
        assert!(
            matches!(e, BatchError::Truncated { .. }),
            "cut at {cut}/{n}: {e:?}"
        );
    }
}

#[test]
fn only_the_first_frame() {
    let bytes = encoded();
    let e = refuse(&bytes[..first_frame_len(&bytes)]);
    assert!(matches!(e, BatchError::Truncated { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("ends before the reads' bases frame (frame 2): it is missing"),
        "{e}"
    );
    // Frame 3, the reads' names, missing.
    let two = bytes.len() - reads_frames(&bytes).1.len();
    let e = refuse(&bytes[..two]);
    assert!(matches!(e, BatchError::Truncated { .. }), "{e:?}");
    assert!(e.to_string().contains("frame 3): it is missing"), "{e}");
}

#[test]
fn bytes_after_the_reads_frame() {
    let bytes = encoded();
    let first = first_frame_len(&bytes);
    let empty_frame = frame(b"");
    for tail in [&b"x"[..], &[0u8; 4][..], &empty_frame[..], &bytes[first..]] {
        let mut b = bytes.clone();
        b.extend_from_slice(tail);
        let e = refuse(&b);
        assert!(matches!(e, BatchError::Corrupt { .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains("after the reads' names frame (frame 3)"),
            "{e}"
        );
    }
    // Something else than a zstd frame after frame 1.
    let mut b = bytes[..first].to_vec();
    b.extend_from_slice(b"reads, in plain text");
    let e = refuse(&b);
    assert!(matches!(e, BatchError::Corrupt { .. }), "{e:?}");
}

/// The reads' frames of `bytes` (2 and 3).
fn reads_frames(bytes: &[u8]) -> (&[u8], &[u8]) {
    let rest = &bytes[first_frame_len(bytes)..];
    rest.split_at(first_frame_len(rest))
}

#[test]
fn reads_frames_that_do_not_hold_reads() {
    let bytes = encoded();
    let first = &bytes[..first_frame_len(&bytes)];
    let (bases, labels) = reads_frames(&bytes);
    let all = reads();
    let bases_plain = rmp_serde::to_vec_named(&all.bases_part()).unwrap();
    let labels_plain = rmp_serde::to_vec_named(&all.labels_part().unwrap()).unwrap();
    for (frame_no, plain_part) in [(2, &bases_plain), (3, &labels_plain)] {
        let cases: [(&str, Vec<u8>); 5] = [
            ("empty", vec![]),
            (
                "an array",
                rmp_serde::to_vec_named(&vec![1u32, 2, 3]).unwrap(),
            ),
            ("cut short", plain_part[..plain_part.len() / 2].to_vec()),
            ("twice", plain_part.repeat(2)),
            ("and a byte", [&plain_part[..], b"\xc1"].concat()),
        ];
        for (what, plain) in cases {
            let file = if frame_no == 2 {
                [first, &frame(&plain), labels].concat()
            } else {
                [first, bases, &frame(&plain)].concat()
            };
            let e = refuse(&file);
            assert!(
                matches!(e, BatchError::Inconsistent { .. }),
                "frame {frame_no}, {what}: {e:?}"
            );
            assert!(
                e.to_string().contains(&format!("(frame {frame_no})")),
                "frame {frame_no}, {what}: {e}"
            );
        }
    }
    // Labels whose offsets do not fit their data (the first name ending
    // past the second): refused by ReadBatch's own checks.
    let key = b"\xa9name_ends\xc5\x03\x20";
    let at = labels_plain
        .windows(key.len())
        .position(|w| w == key)
        .expect("name_ends: a bin16 of 200 little-endian u32");
    let mut bad = labels_plain.clone();
    bad[at + key.len()] = 0x7f;
    let e = refuse(&[first, bases, &frame(&bad)].concat());
    assert!(matches!(e, BatchError::Inconsistent { .. }), "{e:?}");
    assert!(e.to_string().contains("offsets"), "{e}");
    // Labels of another batch's reads (fewer of them).
    let mut fewer = ReadBatch::new();
    for i in 1..all.len() {
        fewer
            .push(all.name(i), all.comment(i), all.seq(i), all.qual(i))
            .unwrap();
    }
    let other = rmp_serde::to_vec_named(&fewer.labels_part().unwrap()).unwrap();
    let e = refuse(&[first, bases, &frame(&other)].concat());
    assert!(e.to_string().contains("different lengths"), "{e}");
}

/// The reads' frame of another batch: the header and payload checks,
/// which run on the joined batch, refuse it.
#[test]
fn reads_frame_of_another_batch() {
    let bytes = encoded();
    let first = &bytes[..first_frame_len(&bytes)];
    let reads_frame_of = |reads: ReadBatch| {
        let b = BatchFile::new(
            Payload::Reads { reads },
            0,
            Layout::Single,
            INDEX_FP,
            &MemOptions::default(),
        );
        let other = encode_batch(&b, 1, name()).unwrap();
        other[first_frame_len(&other)..].to_vec()
    };
    let all = reads();
    let mut renumbered = all.clone();
    renumbered.first_read = 0;
    let (mut fewer, mut shorter) = (ReadBatch::new(), ReadBatch::new());
    for i in 0..all.len() {
        if i % 2 == 0 {
            fewer
                .push(all.name(i), all.comment(i), all.seq(i), all.qual(i))
                .unwrap();
        }
        shorter
            .push(all.name(i), b"", &all.seq(i)[..50], Some(&[b'I'; 50]))
            .unwrap();
    }
    fewer.first_read = all.first_read;
    shorter.first_read = all.first_read;
    for (what, reads, says) in [
        ("other numbering", renumbered, "header says reads"),
        ("fewer reads", fewer, "header says reads"),
        ("shorter reads", shorter, "past its 50 bases"),
    ] {
        let e = refuse(&[first, &reads_frame_of(reads)].concat());
        assert!(
            matches!(e, BatchError::Inconsistent { .. }),
            "{what}: {e:?}"
        );
        assert!(e.to_string().contains(says), "{what}: {e}");
    }
}

#[test]
fn flipped_bytes_inside_the_frames() {
    let bytes = encoded();
    let n = bytes.len();
    let first = first_frame_len(&bytes);
    // The last four bytes of each frame are its content checksum.
    for at in [first - 1, n - 1] {
        let mut b = bytes.clone();
        b[at] ^= 0x01;
        let e = refuse(&b);
        assert!(
            matches!(e, BatchError::Checksum { .. }),
            "flip at {at}: {e:?}"
        );
    }
    // Anywhere past frame 1's header, and in the reads' frame's magic and
    // first block: refused, whatever zstd notices first. (Not bytes 4 and
    // 5 of a frame, its header's flags and window size: zstd has bits
    // there that a frame decodes the same without.)
    let original = decode(&bytes).unwrap();
    let mut checksum_seen = false;
    let spread = (8..n - 4).step_by((n / 40).max(1));
    let header_flags = first + 4..first + 6;
    let places = spread.chain(first..first + 12);
    for at in places.filter(|at| !header_flags.contains(at)) {
        for bit in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[at] ^= bit;
            let e = match decode(&b) {
                // Some bits of a zstd frame are redundant (a table's
                // description, a block's unused bits): the content, which
                // the checksum covers, is then the same.
                Ok(same) => {
                    assert!(
                        same == original,
                        "flip {bit:#x} at {at} (frame 2 at {first}) gave other content"
                    );
                    continue;
                }
                Err(e) => e,
            };
            assert!(e.to_string().contains("batch-007.regions.fb"), "{e}");
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

    // A version 3 file: one frame, the reads inside the payload.
    #[derive(Serialize)]
    struct V3File {
        header: BatchHeader,
        payload: V3Payload,
    }
    #[derive(Serialize)]
    enum V3Payload {
        Regions {
            reads: ReadBases,
            regions: RegionBatch,
        },
    }
    let b = regions_batch();
    let Payload::Regions { reads, regions } = b.payload else {
        panic!("stage")
    };
    let v3 = V3File {
        header: BatchHeader {
            version: 3,
            ..b.header
        },
        payload: V3Payload::Regions {
            // Its reads' shape does not matter: the version is refused first.
            reads: ReadBases {
                first_read: reads.first_read,
                ..ReadBases::default()
            },
            regions,
        },
    };
    let e = refuse(&frame(&rmp_serde::to_vec_named(&v3).unwrap()));
    assert!(matches!(e, BatchError::Version { found: 3, .. }), "{e:?}");

    // A future version whose header and payload no longer parse as this
    // one's, in one frame: the version is named, not the missing frame.
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

/// A seeds batch written by hand (frame 1, then the reads' frames), to put
/// bad offsets in.
#[derive(Serialize)]
struct RawFile {
    header: BatchHeader,
    payload: RawPayload,
}
#[derive(Serialize)]
enum RawPayload {
    Seeds { seeds: RawSeeds },
}
#[derive(Serialize, Clone)]
struct RawSeeds {
    #[serde(with = "ferrous::batch::columns")]
    read_ends: Vec<u64>,
    #[serde(with = "ferrous::batch::columns")]
    x0: Vec<u64>,
    #[serde(with = "ferrous::batch::columns")]
    x1: Vec<u64>,
    #[serde(with = "ferrous::batch::columns")]
    size: Vec<u64>,
    #[serde(with = "ferrous::batch::columns")]
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
        payload: RawPayload::Seeds { seeds },
    };
    [
        frame(&rmp_serde::to_vec_named(&f).unwrap()),
        frame(&rmp_serde::to_vec_named(&reads.bases_part()).unwrap()),
        frame(&rmp_serde::to_vec_named(&reads.labels_part().unwrap()).unwrap()),
    ]
    .concat()
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
