//! Tests of the reads module: kseq rules, errors, batching, smart pairing,
//! and a property test that writes random records and reads them back.

use std::io::{Cursor, Write};

use proptest::prelude::*;

use super::*;

/// One read as expected back: (name, comment, seq, qual).
type Rec = (Vec<u8>, Vec<u8>, Vec<u8>, Option<Vec<u8>>);

fn reader(bytes: &[u8]) -> SeqReader {
    SeqReader::from_reader("t.fq", Cursor::new(bytes.to_vec())).unwrap()
}

fn parse(bytes: &[u8]) -> Result<Vec<Rec>, ReadsError> {
    let mut r = reader(bytes);
    let mut b = ReadBatch::new();
    while r.read_record(&mut b)? {}
    Ok(collect(&b))
}

fn collect(b: &ReadBatch) -> Vec<Rec> {
    (0..b.len())
        .map(|i| {
            (
                b.name(i).to_vec(),
                b.comment(i).to_vec(),
                b.seq(i).to_vec(),
                b.qual(i).map(<[u8]>::to_vec),
            )
        })
        .collect()
}

fn rec(name: &str, comment: &str, seq: &str, qual: Option<&str>) -> Rec {
    (
        name.into(),
        comment.into(),
        seq.into(),
        qual.map(|q| q.as_bytes().to_vec()),
    )
}

fn err_msg(bytes: &[u8]) -> String {
    parse(bytes).unwrap_err().to_string()
}

pub(super) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn mixed_fasta_fastq_multiline() {
    let text =
        b">f1 desc here\nACGT\nacgt\n\nNNRY\n@q1\nAC\nGT\n+q1\nII\nJJ\n>f2\n@q2 c\nA\n+\nI\n";
    assert_eq!(
        parse(text).unwrap(),
        vec![
            rec("f1", "desc here", "ACGTacgtNNRY", None),
            rec("q1", "", "ACGT", Some("IIJJ")),
            rec("f2", "", "", None),
            rec("q2", "c", "A", Some("I")),
        ]
    );
}

#[test]
fn fasta_header_with_plus_line_is_fastq_and_quality_may_start_with_at() {
    let text = b">r\nACG\n+\n@+>\n@s\nA\n+\n@\n";
    assert_eq!(
        parse(text).unwrap(),
        vec![
            rec("r", "", "ACG", Some("@+>")),
            rec("s", "", "A", Some("@"))
        ]
    );
}

#[test]
fn crlf_reads_like_lf() {
    let lf = b"@r1/1 c1\tc2\nACGT\nAC\n+\nIIII\nII\n>f x\nAC\nGT\n";
    let crlf: Vec<u8> = String::from_utf8_lossy(lf)
        .replace('\n', "\r\n")
        .into_bytes();
    assert_eq!(parse(&crlf).unwrap(), parse(lf).unwrap());
    assert_eq!(
        parse(lf).unwrap()[0],
        rec("r1", "c1\tc2", "ACGTAC", Some("IIIIII"))
    );
}

#[test]
fn lone_cr_line_at_field_start_is_kept_as_kseq_does() {
    // kseq strips a final '\r' only when the field is longer than one byte.
    let text = b">r \r\n\r\nAC\r\n";
    assert_eq!(parse(text).unwrap(), vec![rec("r", "\r", "\rAC", None)]);
    // ... so a zero-length FASTQ read in a CRLF file has quality "\r".
    assert_eq!(
        err_msg(b"@r\r\n+\r\n\r\n"),
        "t.fq: record 1 (name \"r\", starting at line 1): \
         quality length 1 differs from sequence length 0"
    );
}

#[test]
fn header_splitting() {
    let text = b">a\tb c\n>b  two spaces\n>c\x0bv\n>\n> only comment\n";
    let got: Vec<(Vec<u8>, Vec<u8>)> = parse(text)
        .unwrap()
        .into_iter()
        .map(|r| (r.0, r.1))
        .collect();
    let want: Vec<(Vec<u8>, Vec<u8>)> = [
        ("a", "b c"),
        ("b", " two spaces"),
        ("c", "v"),
        ("", ""),
        ("", "only comment"),
    ]
    .iter()
    .map(|(n, c)| (n.as_bytes().to_vec(), c.as_bytes().to_vec()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn name_trimming() {
    let cases: [(&[u8], &[u8]); 9] = [
        (b"r/1", b"r"),
        (b"read/2", b"read"),
        (b"read/7", b"read"),
        (b"/1", b"/1"),
        (b"a1", b"a1"),
        (b"r/12", b"r/12"),
        (b"r/a", b"r/a"),
        (b"/1/2", b"/1"),
        (b"r", b"r"),
    ];
    for (name, want) in cases {
        assert_eq!(trim_read_number(name), want, "{name:?}");
        let mut text = b">".to_vec();
        text.extend_from_slice(name);
        text.extend_from_slice(b"\nA\n");
        assert_eq!(parse(&text).unwrap()[0].0, want);
    }
}

#[test]
fn empty_and_blank_inputs() {
    assert_eq!(parse(b"").unwrap(), vec![]);
    assert_eq!(parse(b"\n\r\n  \n").unwrap(), vec![]);
    assert_eq!(parse(&gzip(b"")).unwrap(), vec![]);
}

#[test]
fn zero_length_reads() {
    let text = b"@r\n+\n\n@s\n+\n\n>f\n@t\nAC\n+\nII\n";
    assert_eq!(
        parse(text).unwrap(),
        vec![
            rec("r", "", "", None),
            rec("s", "", "", None),
            rec("f", "", "", None),
            rec("t", "", "AC", Some("II")),
        ]
    );
    // The quality line of a zero-length read is required: kseq reads the
    // next line as its quality, here a header.
    assert_eq!(
        err_msg(b"@s\n+\n>f\n"),
        "t.fq: record 1 (name \"s\", starting at line 1): quality length 2 differs \
         from sequence length 0"
    );
    // A zero-length FASTQ record as the last one, with or without its
    // empty quality line.
    assert_eq!(parse(b"@r\n+\n").unwrap(), vec![rec("r", "", "", None)]);
    assert_eq!(parse(b"@r\n+\n\n").unwrap(), vec![rec("r", "", "", None)]);
    // A header at the very end is a zero-length FASTA record.
    assert_eq!(parse(b">r").unwrap(), vec![rec("r", "", "", None)]);
}

#[test]
fn no_final_newline() {
    assert_eq!(
        parse(b"@r\nAC\n+\nII").unwrap(),
        vec![rec("r", "", "AC", Some("II"))]
    );
    assert_eq!(parse(b">r\nAC").unwrap(), vec![rec("r", "", "AC", None)]);
}

#[test]
fn long_read_spanning_buffers() {
    let seq: Vec<u8> = (0..3_000_000).map(|i| b"ACGT"[i % 4]).collect();
    let mut text = b"@long\n".to_vec();
    text.extend_from_slice(&seq);
    text.extend_from_slice(b"\n+\n");
    text.extend(std::iter::repeat_n(b'I', seq.len()));
    text.extend_from_slice(b"\n>next\nA\n");
    let got = parse(&text).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].2, seq);
    assert_eq!(got[0].3.as_ref().map(Vec::len), Some(seq.len()));
}

#[test]
fn malformed_records_name_file_record_and_problem() {
    let ok = b"@r1\nACGT\n+\nIIII\n";
    let cases: [(&[u8], &str); 7] = [
        (
            b"@r2\nACGT\n+\nIII\n",
            "t.fq: record 2 (name \"r2\", starting at line 5): quality length 3 differs \
             from sequence length 4 (the file ends inside the quality)",
        ),
        (
            b"@r2\nACGT\n+\nIIIII\n@r3\n",
            "t.fq: record 2 (name \"r2\", starting at line 5): quality length 5 differs \
             from sequence length 4",
        ),
        (
            b"@r2/1 c\nACGT\n@r3\nACGT\n+\nIIII\n",
            "t.fq: record 2 (name \"r2/1\", starting at line 5): no '+' line after the \
             sequence (a FASTQ record needs '+' and a quality line)",
        ),
        (
            b"@r2\nACGT\n",
            "t.fq: record 2 (name \"r2\", starting at line 5): no '+' line after the \
             sequence (a FASTQ record needs '+' and a quality line)",
        ),
        (
            b"@r2\nACGT\n+",
            "t.fq: record 2 (name \"r2\", starting at line 5): the file ends on the '+' \
             line: quality string missing",
        ),
        (
            b"\n@",
            "t.fq: record 2 (name \"\", starting at line 6): the file ends right after \
             the header character",
        ),
        (
            b"\nACGT\n@r3\n",
            "t.fq: line 6: expected '@' or '>' at the start of record 2, found \"ACGT\"",
        ),
    ];
    for (tail, want) in cases {
        let mut text = ok.to_vec();
        text.extend_from_slice(tail);
        let mut r = reader(&text);
        let mut b = ReadBatch::new();
        assert!(r.read_record(&mut b).unwrap());
        let e = r.read_record(&mut b).unwrap_err();
        assert_eq!(e.to_string(), want);
        // The batch is left with the complete reads only.
        assert_eq!(collect(&b), vec![rec("r1", "", "ACGT", Some("IIII"))]);
    }
}

#[test]
fn not_a_fastq_file() {
    let e = err_msg(b"\x00\x01binary\n");
    assert!(
        e.starts_with("t.fq: line 1: expected '@' or '>' at the start of record 1"),
        "{e}"
    );
}

pub(super) fn fastq_text(n: usize) -> Vec<u8> {
    let mut t = Vec::new();
    for i in 0..n {
        write!(t, "@r{i}\nACGTACGTAC\n+\nIIIIIIIIII\n").unwrap();
    }
    t
}

#[test]
fn gzip_single_and_multi_member() {
    let text = fastq_text(50);
    assert_eq!(parse(&gzip(&text)).unwrap(), parse(&text).unwrap());
    let mut multi = gzip(&text[..101]);
    multi.extend(gzip(&text[101..1000]));
    multi.extend(gzip(&text[1000..]));
    assert_eq!(parse(&multi).unwrap(), parse(&text).unwrap());
    assert!(reader(&multi).is_gzip());
}

/// BGZF (bgzip output): gzip members with a `BC` extra field, at most
/// 64 KiB each, ending with an empty member.
pub(super) fn bgzf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut member = |data: &[u8]| {
        let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        d.write_all(data).unwrap();
        let body = d.finish().unwrap();
        let bsize = (body.len() + 25) as u16; // total member size - 1
        out.extend_from_slice(&[
            0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, b'B', b'C', 2, 0,
        ]);
        out.extend_from_slice(&bsize.to_le_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    };
    for block in bytes.chunks(60_000) {
        member(block);
    }
    member(b"");
    out
}

#[test]
fn bgzip_output_reads_like_plain() {
    let text = fastq_text(10_000);
    assert_eq!(parse(&bgzf(&text)).unwrap(), parse(&text).unwrap());
}

#[test]
fn truncated_and_corrupt_gzip_are_errors() {
    let text = fastq_text(2000);
    let gz = gzip(&text);
    for cut in [10, gz.len() / 2, gz.len() - 4, gz.len() - 1] {
        let e = parse(&gz[..cut]).unwrap_err();
        assert!(matches!(e, ReadsError::Gzip { .. }), "cut {cut}: {e}");
        assert!(e
            .to_string()
            .starts_with("t.fq: gzip data is truncated or corrupt after record"));
    }
    let mut bad = gz.clone();
    let mid = bad.len() / 2;
    for b in &mut bad[mid..mid + 16] {
        *b ^= 0x5a;
    }
    let e = parse(&bad).unwrap_err();
    assert!(matches!(e, ReadsError::Gzip { .. }), "{e}");
    // A damaged trailer (CRC) is caught too.
    let mut bad = gz;
    let n = bad.len();
    bad[n - 6] ^= 1;
    let e = parse(&bad).unwrap_err();
    assert!(matches!(e, ReadsError::Gzip { .. }), "{e}");
}

#[test]
fn open_reports_missing_file_and_reads_files() {
    let e = SeqReader::open("/nonexistent/x.fq".as_ref()).err().unwrap();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/x.fq: cannot open: "),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.fq.gz");
    std::fs::write(&p, gzip(&fastq_text(3))).unwrap();
    let mut r = SeqReader::open(&p).unwrap();
    let mut b = ReadBatch::new();
    while r.read_record(&mut b).unwrap() {}
    assert_eq!(b.len(), 3);
    assert_eq!(r.records_read(), 3);
}

// ---- batching ----

/// Reads of the given lengths as FASTA text named r0, r1, ...
fn fasta_of_lengths(lens: &[usize], suffix: &str) -> Vec<u8> {
    let mut t = Vec::new();
    for (i, &l) in lens.iter().enumerate() {
        writeln!(t, ">r{i}{suffix}").unwrap();
        t.extend(std::iter::repeat_n(b'A', l));
        t.push(b'\n');
    }
    t
}

/// bwa's `bseq_read` rule stated plainly: batch sizes in reads.
fn naive_batches(lens: &[usize], step: usize, batch_bases: i64) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lens.len() {
        let (mut size, start) = (0i64, i);
        while i < lens.len() {
            for l in &lens[i..i + step] {
                size += *l as i64;
            }
            i += step;
            if size >= batch_bases && (i - start) % 2 == 0 {
                break;
            }
        }
        out.push(i - start);
    }
    out
}

fn batch_sizes(mut input: BatchReader, batch_bases: i64) -> Vec<usize> {
    let mut b = ReadBatch::new();
    let mut sizes = Vec::new();
    let mut done = 0;
    while input.next_batch(batch_bases, &mut b).unwrap() {
        assert_eq!(b.first_read, done);
        done += b.len() as u64;
        sizes.push(b.len());
    }
    assert_eq!(input.reads_done(), done);
    assert!(!input.next_batch(batch_bases, &mut b).unwrap());
    assert!(b.is_empty());
    sizes
}

#[test]
fn single_end_batches_end_on_even_counts() {
    let lens = [10, 10, 10, 10, 10, 10, 10];
    let text = fasta_of_lengths(&lens, "");
    let single = || BatchReader::from_readers(reader(&text), None);
    // 25 bases: 3 reads reach it, but the batch ends at the 4th (even).
    assert_eq!(batch_sizes(single(), 25), vec![4, 3]);
    assert_eq!(batch_sizes(single(), 20), vec![2, 2, 2, 1]);
    assert_eq!(batch_sizes(single(), 1), vec![2, 2, 2, 1]);
    assert_eq!(batch_sizes(single(), 0), vec![2, 2, 2, 1]);
    assert_eq!(batch_sizes(single(), 1000), vec![7]);
    let lens = [5, 0, 7, 100, 3, 3, 0, 0, 50, 1, 2, 80, 0];
    let text = fasta_of_lengths(&lens, "");
    for bases in [0, 1, 5, 6, 12, 13, 50, 100, 112, 113, 160, 254, 1000] {
        let got = batch_sizes(BatchReader::from_readers(reader(&text), None), bases);
        assert_eq!(got, naive_batches(&lens, 1, bases), "batch_bases {bases}");
    }
}

#[test]
fn paired_batches_alternate_mates() {
    let lens1 = [5, 0, 7, 100, 3, 3, 50];
    let lens2 = [9, 9, 0, 1, 30, 3, 2];
    let (t1, t2) = (
        fasta_of_lengths(&lens1, "/1"),
        fasta_of_lengths(&lens2, "/2"),
    );
    let both: Vec<usize> = lens1
        .iter()
        .zip(&lens2)
        .flat_map(|(a, b)| [*a, *b])
        .collect();
    for bases in [0, 1, 14, 15, 120, 121, 200, 1000] {
        let paired = BatchReader::from_readers(reader(&t1), Some(reader(&t2)));
        assert_eq!(paired.layout(), Layout::Paired);
        assert_eq!(
            batch_sizes(paired, bases),
            naive_batches(&both, 2, bases),
            "{bases}"
        );
    }
    let mut paired = BatchReader::from_readers(reader(&t1), Some(reader(&t2)));
    let mut b = ReadBatch::new();
    assert!(paired.next_batch(15, &mut b).unwrap());
    assert_eq!(b.len(), 4);
    assert_eq!(
        (b.name(0), b.name(1), b.name(2)),
        (&b"r0"[..], &b"r0"[..], &b"r1"[..])
    );
    assert_eq!((b.seq_len(0), b.seq_len(1), b.seq_len(3)), (5, 9, 9));
}

#[test]
fn paired_count_mismatch_is_an_error() {
    let t1 = fasta_of_lengths(&[1, 1, 1], "");
    let t2 = fasta_of_lengths(&[1, 1], "");
    let mut b = ReadBatch::new();
    let mut p = BatchReader::from_readers(
        SeqReader::from_reader("a.fq", Cursor::new(t1.clone())).unwrap(),
        Some(SeqReader::from_reader("b.fq", Cursor::new(t2.clone())).unwrap()),
    );
    assert_eq!(
        p.next_batch(1000, &mut b).unwrap_err().to_string(),
        "a.fq: has more records than b.fq: record 3 (name \"r2\") has no mate \
         (b.fq ends after 2 records)"
    );
    let mut p = BatchReader::from_readers(
        SeqReader::from_reader("a.fq", Cursor::new(t2)).unwrap(),
        Some(SeqReader::from_reader("b.fq", Cursor::new(t1)).unwrap()),
    );
    // The shorter first file ends exactly at a batch boundary.
    assert!(p.next_batch(2, &mut b).unwrap());
    assert!(p.next_batch(2, &mut b).unwrap());
    assert_eq!(
        p.next_batch(2, &mut b).unwrap_err().to_string(),
        "b.fq: has more records than a.fq: record 3 (name \"r2\") has no mate \
         (a.fq ends after 2 records)"
    );
}

/// Two mate files are parsed on threads of their own, many chunks ahead:
/// the batches and the first error are still those of reading the files
/// in turn (R1 record k, R2 record k, ...).
#[test]
fn paired_files_parsed_on_threads_keep_batches_and_first_error() {
    let n = 5000; // several chunks per file
    let (t1, t2) = (fastq_text(n), fastq_text(n));
    let lens = vec![10; 2 * n];
    for bases in [1, 999, 20_000, 1 << 30] {
        let threaded = BatchReader::from_readers(reader(&t1), Some(reader(&t2)));
        let got = batch_sizes(threaded, bases);
        assert!(got == naive_batches(&lens, 2, bases), "{bases}");
    }
    // R2 breaks at record 3000, R1 at record 4000: R2's error is first.
    // A record without its `+` line (record k + 1 is read r{k}).
    let drop_plus = |k: usize| {
        let t = String::from_utf8(fastq_text(n)).unwrap();
        let rec = format!("@r{k}\nACGTACGTAC\n+\n");
        t.replace(&rec, &format!("@r{k}\nACGTACGTAC\n"))
            .into_bytes()
    };
    let (bad1, bad2) = (drop_plus(3999), drop_plus(2999));
    let mut p = BatchReader::from_readers(reader(&bad1), Some(reader(&bad2)));
    let mut b = ReadBatch::new();
    let e = loop {
        match p.next_batch(1000, &mut b) {
            Ok(true) => {}
            Ok(false) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert!(e.to_string().starts_with("t.fq: record 3000 "), "{e}");
}

#[test]
fn paired_name_mismatch_is_an_error() {
    let t1 = b">x/1\nA\n>y/1\nA\n";
    let t2 = b">x/2\nA\n>z/2\nA\n";
    let mut p = BatchReader::from_readers(
        SeqReader::from_reader("a.fq", Cursor::new(t1.to_vec())).unwrap(),
        Some(SeqReader::from_reader("b.fq", Cursor::new(t2.to_vec())).unwrap()),
    );
    let mut b = ReadBatch::new();
    assert_eq!(
        p.next_batch(1000, &mut b).unwrap_err().to_string(),
        "a.fq and b.fq: read pair 2 has different names: \"y\" and \"z\" \
         (compared after removing a final /1 or /2)"
    );
}

#[test]
fn smart_pairing_like_bseq_classify() {
    let text = b">a/1\nA\n>a/2\nA\n>b\nA\n>c\nA\n>c\nA\n>c\nA\n>d/1\nA\n";
    let mut input = BatchReader::from_readers(reader(text), None);
    input.set_interleaved();
    assert_eq!(input.layout(), Layout::Interleaved);
    let mut b = ReadBatch::new();
    assert!(input.next_batch(1000, &mut b).unwrap());
    let mut sp = SmartPairs::default();
    sp.classify(&b);
    assert_eq!(sp.pairs, vec![0, 1, 3, 4]);
    assert_eq!(sp.singles, vec![2, 5, 6]);
    sp.classify(&ReadBatch::new());
    assert!(sp.pairs.is_empty() && sp.singles.is_empty());
}

// ---- property test: random records written out and read back ----

#[derive(Debug, Clone)]
struct GenRec {
    name: String,
    comment: Option<String>,
    seq: Vec<u8>,
    qual: Option<Vec<u8>>,
    plus_name: bool,
    blank_after: bool,
}

fn gen_rec() -> impl Strategy<Value = GenRec> {
    let seq_len = prop_oneof![0..5usize, 0..300usize];
    (
        "[A-Za-z0-9_.:|/-]{0,12}",
        proptest::option::of("[ -~\t]{1,20}"),
        seq_len,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(name, comment, len, fastq, plus_name, blank_after, seed)| {
                let mut x = seed | 1;
                let mut next = move || {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x
                };
                let alphabet = b"ACGTNacgtnRYKM";
                let seq: Vec<u8> = (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect();
                let qual = fastq.then(|| (0..len).map(|_| b'!' + (next() % 94) as u8).collect());
                GenRec {
                    name,
                    comment,
                    seq,
                    qual,
                    plus_name,
                    blank_after,
                }
            },
        )
}

fn write_wrapped(out: &mut Vec<u8>, data: &[u8], width: usize, eol: &[u8]) {
    for chunk in data.chunks(width) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(eol);
    }
}

fn render(recs: &[GenRec], width: usize, crlf: bool) -> Vec<u8> {
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut t = Vec::new();
    for r in recs {
        t.push(if r.qual.is_some() { b'@' } else { b'>' });
        t.extend_from_slice(r.name.as_bytes());
        if let Some(c) = &r.comment {
            t.push(b' ');
            t.extend_from_slice(c.as_bytes());
        }
        t.extend_from_slice(eol);
        write_wrapped(&mut t, &r.seq, width, eol);
        if let Some(q) = &r.qual {
            t.push(b'+');
            if r.plus_name {
                t.extend_from_slice(r.name.as_bytes());
            }
            t.extend_from_slice(eol);
            if q.is_empty() {
                // One (empty) quality line; LF only, since kseq keeps a lone
                // '\r' as quality (see lone_cr_line_at_field_start...).
                t.push(b'\n');
            } else {
                write_wrapped(&mut t, q, width, eol);
            }
        }
        if r.blank_after {
            t.push(b'\n');
        }
    }
    t
}

fn expected(recs: &[GenRec]) -> Vec<Rec> {
    recs.iter()
        .map(|r| {
            (
                trim_read_number(r.name.as_bytes()).to_vec(),
                r.comment.clone().unwrap_or_default().into_bytes(),
                r.seq.clone(),
                r.qual.clone().filter(|q| !q.is_empty()),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_records_round_trip(
        recs in proptest::collection::vec(gen_rec(), 0..40),
        width in prop_oneof![1..4usize, 1..400usize],
        crlf: bool,
        compression in 0..3u8,
        split in any::<prop::sample::Index>(),
    ) {
        let text = render(&recs, width, crlf);
        let bytes = match compression {
            0 => text,
            1 => gzip(&text),
            _ => {
                // Two gzip members split at an arbitrary byte.
                let k = if text.is_empty() { 0 } else { split.index(text.len()) };
                let mut g = gzip(&text[..k]);
                g.extend(gzip(&text[k..]));
                g
            }
        };
        prop_assert_eq!(parse(&bytes).unwrap(), expected(&recs));
    }
}
