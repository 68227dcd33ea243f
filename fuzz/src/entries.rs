//! The fuzzed entry points, shared by the `cargo fuzz` targets
//! (`fuzz/fuzz_targets/*.rs`) and by the stable replay test
//! (`tests/robustness_corpus.rs`), which runs every corpus file through them.
//!
//! Each function must return normally for any input: an `Err` is fine, a
//! panic, a hang or an out-of-bounds access is a bug. Where an input is
//! accepted, the functions also check properties that must then hold.

use std::io::{Cursor, Write};
use std::path::Path;

use ferrous::batch::{decode_batch, encode_batch, Expectation, Payload, Stage};
use ferrous::index::FmIndex;
use ferrous::options::MemOptions;
use ferrous::reads::{BatchReader, ReadBatch, SeqReader, SmartPairs};

/// Index fingerprint the batch seeds are written with.
pub const SEED_INDEX_FP: u64 = 0xfeed_beef;

/// Every record of `data` read as FASTA/FASTQ (plain, or gzip when it starts
/// with the gzip magic); `None` when reading fails.
fn read_all(data: Vec<u8>) -> Option<ReadBatch> {
    let mut reader = SeqReader::from_reader("fuzz-input", Cursor::new(data)).ok()?;
    let mut batch = ReadBatch::new();
    loop {
        match reader.read_record(&mut batch) {
            Ok(true) => {}
            Ok(false) => return Some(batch),
            Err(e) => {
                // Every error names the input and is one line.
                let msg = e.to_string();
                assert!(msg.contains("fuzz-input"), "{msg}");
                assert!(!msg.contains('\n'), "{msg:?}");
                return None;
            }
        }
    }
}

/// FASTA/FASTQ reader: the bytes as given, the same bytes gzip-compressed
/// (which must read the same), and batching with smart pairing.
pub fn reads(data: &[u8]) {
    let plain = read_all(data.to_vec());
    if data.starts_with(&[0x1f, 0x8b]) {
        return;
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    let gz = gz.finish().unwrap();
    assert_eq!(read_all(gz), plain, "gzip input reads differently");
    if let Some(all) = &plain {
        for i in 0..all.len() {
            let (s, q) = (all.seq(i), all.qual(i));
            if let Some(q) = q {
                assert_eq!(q.len(), s.len());
            }
            let _ = (all.name(i), all.comment(i));
        }
        // Batches of 100 bases: same reads in the same order.
        let reader = SeqReader::from_reader("fuzz-input", Cursor::new(data.to_vec())).unwrap();
        let mut input = BatchReader::from_readers(reader, None);
        input.set_interleaved();
        let (mut batch, mut pairs, mut n) = (ReadBatch::new(), SmartPairs::default(), 0);
        while input.next_batch(100, &mut batch).unwrap() {
            assert_eq!(batch.first_read, n as u64);
            pairs.classify(&batch);
            assert_eq!(pairs.singles.len() + pairs.pairs.len(), batch.len());
            for i in 0..batch.len() {
                assert_eq!(batch.seq(i), all.seq(n + i));
            }
            n += batch.len();
        }
        assert_eq!(n, all.len());
    }
    // The two halves as R1 and R2: an error or mates with equal names.
    let mid = data.len() / 2;
    let r1 = SeqReader::from_reader("fuzz-r1", Cursor::new(data[..mid].to_vec())).unwrap();
    let r2 = SeqReader::from_reader("fuzz-r2", Cursor::new(data[mid..].to_vec())).unwrap();
    let mut input = BatchReader::from_readers(r1, Some(r2));
    let mut batch = ReadBatch::new();
    while let Ok(true) = input.next_batch(100, &mut batch) {
        assert_eq!(batch.len() % 2, 0);
        for k in (0..batch.len()).step_by(2) {
            assert_eq!(batch.name(k), batch.name(k + 1));
        }
    }
}

fn expectation(stage: Stage) -> Expectation {
    Expectation {
        stage,
        index_fingerprint: SEED_INDEX_FP,
        options_fingerprint: MemOptions::default().fingerprint(),
        alt_contigs: vec![],
    }
}

pub const STAGES: [Stage; 6] = [
    Stage::Reads,
    Stage::Seeds,
    Stage::Chains,
    Stage::Regions,
    Stage::Paired,
    Stage::Rescued,
];

/// A batch file's bytes around `plain`, the content of its three frames
/// one after the other (what `zstd -dc FILE` gives): cut after the first
/// and the second MessagePack value, each part in a zstd frame of its own
/// (checksum on); the parts after a cut that finds no whole value are one
/// frame.
pub fn frames(plain: &[u8]) -> Vec<u8> {
    let mut parts = Vec::new();
    let mut rest = plain;
    for _ in 0..2 {
        let mut after = rest;
        match rmp_serde::from_read::<_, serde::de::IgnoredAny>(&mut after) {
            Ok(_) => {
                parts.push(&rest[..rest.len() - after.len()]);
                rest = after;
            }
            Err(_) => break,
        }
    }
    parts.push(rest);
    let mut out = Vec::new();
    for part in parts {
        if part.is_empty() && !out.is_empty() {
            break;
        }
        let mut z = zstd::Encoder::new(out, 1).unwrap();
        z.include_checksum(true).unwrap();
        z.write_all(part).unwrap();
        out = z.finish().unwrap();
    }
    out
}

/// Batch decoder. The first byte picks the stage expected; when it is odd,
/// the rest is taken as the MessagePack content of the file's frames and
/// framed first ([`frames`]), so that the fuzzer reaches the decoder
/// behind the frame checksums; else the rest is decoded as a file's bytes.
pub fn batch(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let name = Path::new("fuzz.batch");
    let expect = expectation(STAGES[(sel as usize >> 1) % STAGES.len()]);
    let framed;
    let bytes = if sel & 1 == 1 {
        framed = frames(rest);
        &framed[..]
    } else {
        rest
    };
    let batch = match decode_batch(bytes, name, &expect) {
        Ok(b) => b,
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("fuzz.batch") && !msg.contains('\n'), "{msg:?}");
            return;
        }
    };
    // Accepted: every accessor stays in bounds, and it survives a round trip.
    let reads = batch.payload.reads();
    for i in 0..reads.len() {
        let _ = (reads.name(i), reads.comment(i), reads.seq(i), reads.qual(i));
    }
    match &batch.payload {
        Payload::Reads { .. } => {}
        Payload::Seeds { seeds, .. } => {
            let mut v = Vec::new();
            for i in 0..seeds.len() {
                seeds.read_into(i, &mut v);
                assert_eq!(v.len(), seeds.read_len(i));
            }
        }
        Payload::Chains { chains, .. } => {
            let mut set = Default::default();
            for i in 0..chains.len() {
                chains.read_into(i, &mut set);
            }
        }
        Payload::Regions { regions, .. }
        | Payload::Paired { regions, .. }
        | Payload::Rescued { regions, .. } => {
            let mut v = Vec::new();
            for i in 0..regions.len() {
                regions.read_into(i, &mut v);
                assert_eq!(v.len(), regions.read_len(i));
            }
        }
    }
    // Written again, the reads' frame it was read with carried verbatim.
    let again = encode_batch(&batch, 1, name).unwrap();
    assert_eq!(decode_batch(&again, name, &expect).unwrap(), batch);
    let first = zstd::zstd_safe::find_frame_compressed_size(bytes).unwrap();
    assert!(again.ends_with(&bytes[first..]), "reads' frame not carried");
}

/// Re-computes the checksums of an index image after mutation: each
/// in-bounds section's CRC32, the file size, the fingerprint and the header
/// CRC (layout: `docs/index-format.md`), so that the fuzzer reaches the
/// checks behind them.
fn reseal_index(b: &mut [u8]) {
    use ferrous::index::format::{fingerprint, header_crc, SectionEntry};
    const HEADER: usize = 64;
    const ENTRY: usize = 32;
    if b.len() < HEADER {
        return;
    }
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let n = (u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize).min(16);
    let table_end = HEADER + ENTRY * n;
    if b.len() < table_end {
        return;
    }
    let len = b.len() as u64;
    b[16..24].copy_from_slice(&len.to_le_bytes());
    let mut entries = Vec::with_capacity(n);
    for i in 0..n {
        let at = HEADER + ENTRY * i;
        let kind = u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let (offset, sec_len) = (u64_at(b, at + 8), u64_at(b, at + 16));
        let mut crc = u32::from_le_bytes(b[at + 24..at + 28].try_into().unwrap());
        if let Some(end) = offset.checked_add(sec_len).filter(|&e| e <= len) {
            crc = crc32fast::hash(&b[offset as usize..end as usize]);
            b[at + 24..at + 28].copy_from_slice(&crc.to_le_bytes());
        }
        entries.push(SectionEntry {
            kind,
            offset,
            len: sec_len,
            crc,
        });
    }
    b[24..32].copy_from_slice(&fingerprint(&entries).to_le_bytes());
    let crc = header_crc(&b[..table_end]);
    b[32..36].copy_from_slice(&crc.to_le_bytes());
}

/// Index loader: an index image in memory (all checks of `FmIndex::open`).
/// When the first byte is odd, the rest has its checksums recomputed first
/// ([`reseal_index`]), so the fuzzer reaches the table, meta and contig
/// checks; else it is loaded as it is. An accepted image must answer the
/// accessors that need no search without panicking.
pub fn index(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut image = rest.to_vec();
    if sel & 1 == 1 {
        reseal_index(&mut image);
    }
    let idx = match FmIndex::from_bytes(&image, "fuzz.fmi") {
        Ok(idx) => idx,
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("fuzz.fmi") && !msg.contains('\n'), "{msg:?}");
            return;
        }
    };
    let n = idx.l_pac() as i64;
    let mut seq = Vec::new();
    for c in idx.contigs() {
        let _ = idx.pos2rid(c.offset as i64);
        let _ = idx.pos2rid((c.offset + c.len) as i64 - 1);
    }
    let _ = idx.get_seq(0, n.min(64), &mut seq);
    let _ = idx.get_seq((n - 64).max(0), n, &mut seq);
    let _ = idx.get_seq(n - 8, n + 8, &mut seq);
    let _ = idx.depos(0);
    let _ = idx.depos(2 * n - 1);
    for h in idx.holes() {
        let _ = idx.intv2rid(h.offset as i64, h.offset as i64 + h.len as i64);
    }
}
