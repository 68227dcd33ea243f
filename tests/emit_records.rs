//! SAM records and headers built by hand from the alignments bwa mem 0.7.17
//! found, compared line for line with what bwa printed for them
//! (fixtures and how they were made: tests/data/emit/README.md).

use std::collections::HashMap;
use std::path::PathBuf;

use ferrous::emit::{cigar_op, tags, write_header, Aln, SamContig, SamFormatter, SamRead};
use ferrous::options::{MemFlags, MemOptions};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/emit")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A FASTQ read: name, bases as codes 0..=4, qualities, comment.
struct Fq {
    name: String,
    seq: Vec<u8>,
    qual: Vec<u8>,
    comment: String,
}

impl Fq {
    fn view(&self) -> SamRead<'_> {
        SamRead {
            name: self.name.as_bytes(),
            seq: &self.seq,
            qual: Some(&self.qual),
            comment: (!self.comment.is_empty()).then_some(self.comment.as_bytes()),
        }
    }
}

/// Reads of a FASTQ fixture by name (`/1` `/2` trimmed, as bwa does).
fn reads(file: &str) -> HashMap<String, Fq> {
    let text = fixture(file);
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(4)
        .map(|r| {
            let head = &r[0][1..];
            let (name, comment) = head.split_once([' ', '\t']).unwrap_or((head, ""));
            let name = name
                .trim_end_matches("/1")
                .trim_end_matches("/2")
                .to_owned();
            let seq = r[1]
                .bytes()
                .map(|b| match b {
                    b'A' => 0,
                    b'C' => 1,
                    b'G' => 2,
                    b'T' => 3,
                    _ => 4,
                })
                .collect();
            let fq = Fq {
                name: name.clone(),
                seq,
                qual: r[3].as_bytes().to_vec(),
                comment: comment.to_owned(),
            };
            (name, fq)
        })
        .collect()
}

/// bwa's SAM lines for a read name, in order.
fn bwa_lines(sam: &str, name: &str) -> String {
    fixture(sam)
        .lines()
        .filter(|l| l.split('\t').next() == Some(name))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn cigar(text: &str) -> Vec<u32> {
    let mut ops = Vec::new();
    let mut len = 0u32;
    for c in text.bytes() {
        if c.is_ascii_digit() {
            len = len * 10 + u32::from(c - b'0');
            continue;
        }
        let op = match c {
            b'M' => cigar_op::M,
            b'I' => cigar_op::I,
            b'D' => cigar_op::D,
            b'S' => cigar_op::S,
            b'H' => cigar_op::H,
            _ => panic!("bad op in {text}"),
        };
        ops.push(len << 4 | op);
        len = 0;
    }
    ops
}

/// A mapped alignment: contig index, 0-based position, strand, MAPQ,
/// CIGAR (clips as S), NM, MD, AS, XS.
#[allow(clippy::too_many_arguments)]
fn aln(
    rid: i32,
    pos: i64,
    rev: bool,
    mapq: u8,
    cig: &str,
    nm: u32,
    md: &str,
    score: i32,
    sub: i32,
) -> Aln {
    Aln {
        rid,
        pos,
        is_rev: rev,
        is_alt: false,
        mapq,
        nm,
        flag: 0,
        cigar: cigar(cig),
        md: md.to_owned(),
        score,
        sub,
        alt_sc: 0,
        xa: String::new(),
    }
}

fn contigs() -> Vec<SamContig> {
    vec![
        SamContig {
            name: "chr1".into(),
            len: 1200,
            is_alt: false,
            anno: "first contig\tx".into(),
        },
        SamContig {
            name: "chr2".into(),
            len: 900,
            is_alt: false,
            anno: String::new(),
        },
    ]
}

fn opts(f: impl FnOnce(&mut MemFlags)) -> MemOptions {
    let mut o = MemOptions::default();
    f(&mut o.flags);
    o
}

/// Formats the records of one single-end read and returns the text.
fn format_se(o: &MemOptions, read: &Fq, alns: &[Aln]) -> String {
    let contigs = contigs();
    let fmt = SamFormatter::new(&contigs, o);
    let mut out = Vec::new();
    fmt.write_read(&mut out, &read.view(), alns, 0, None);
    String::from_utf8(out).unwrap()
}

fn chim() -> Vec<Aln> {
    let mut supp = aln(1, 200, true, 60, "50M60S", 0, "50", 50, 0);
    supp.flag = 0x800;
    vec![aln(0, 700, false, 60, "60M50S", 0, "60", 60, 0), supp]
}

fn chim2() -> Vec<Aln> {
    let mut supp = aln(1, 400, false, 60, "51M79S", 0, "51", 51, 0);
    supp.flag = 0x800;
    vec![aln(0, 898, false, 60, "48S82M", 0, "82", 82, 0), supp]
}

fn repeat_primary() -> Aln {
    let mut a = aln(0, 1000, false, 26, "100M", 0, "100", 100, 90);
    tags::push_xa_entry(&mut a.xa, "chr2", 600, false, &cigar("100M"), 2);
    a
}

#[test]
fn single_end_records_match_bwa() {
    let r = reads("se.fq");
    let o = MemOptions::default();
    let cases: Vec<(&str, Vec<Aln>)> = vec![
        (
            "fwd",
            vec![aln(0, 100, false, 60, "100M", 0, "100", 100, 0)],
        ),
        ("rev", vec![aln(0, 500, true, 60, "100M", 0, "100", 100, 0)]),
        (
            "del",
            vec![aln(0, 250, false, 60, "50M1D59M", 1, "50^A59", 102, 0)],
        ),
        (
            "delrev",
            vec![aln(0, 250, true, 60, "50M1D59M", 1, "50^A59", 102, 0)],
        ),
        ("chim", chim()),
        ("chim2", chim2()),
        ("unmap", vec![]),
        (
            "mism",
            vec![aln(0, 800, false, 60, "100M", 1, "50C49", 95, 0)],
        ),
        ("repeat", vec![repeat_primary()]),
        (
            "withN",
            vec![aln(1, 10, false, 60, "100M", 1, "50A49", 98, 0)],
        ),
    ];
    for (name, alns) in cases {
        assert_eq!(
            format_se(&o, &r[name], &alns),
            bwa_lines("se.sam", name),
            "{name}"
        );
    }
}

#[test]
fn mark_shorter_split_hits_secondary_with_m() {
    let r = reads("se.fq");
    let o = opts(|f| f.no_multi = true);
    for (name, mut alns) in [("chim", chim()), ("chim2", chim2())] {
        alns[1].flag = 0x10000;
        assert_eq!(
            format_se(&o, &r[name], &alns),
            bwa_lines("se_M.sam", name),
            "{name}"
        );
    }
}

#[test]
fn soft_clipping_with_y() {
    let r = reads("se.fq");
    let o = opts(|f| f.soft_clip = true);
    for (name, alns) in [("chim", chim()), ("chim2", chim2())] {
        assert_eq!(
            format_se(&o, &r[name], &alns),
            bwa_lines("se_Y.sam", name),
            "{name}"
        );
    }
}

#[test]
fn secondary_with_a_has_no_seq_and_no_xs() {
    let r = reads("se.fq");
    let o = opts(|f| f.output_all = true);
    let mut secondary = aln(1, 600, false, 0, "100M", 2, "30A39T29", 90, -1);
    secondary.flag = 0x100;
    let alns = vec![
        aln(0, 1000, false, 26, "100M", 0, "100", 100, 90),
        secondary,
    ];
    assert_eq!(
        format_se(&o, &r["repeat"], &alns),
        bwa_lines("se_a.sam", "repeat")
    );
    // The secondary does not make the primary carry an SA tag.
    assert!(!bwa_lines("se_a.sam", "repeat").contains("SA:Z"));
}

#[test]
fn comment_with_c_and_reference_header_with_v() {
    let r = reads("se.fq");
    let c = opts(|f| f.copy_comment = true);
    assert_eq!(
        format_se(&c, &r["repeat"], &[repeat_primary()]),
        bwa_lines("se_C.sam", "repeat")
    );
    assert_eq!(
        format_se(&c, &r["chim"], &chim()),
        bwa_lines("se_C.sam", "chim")
    );
    // Without -C the comment is not printed.
    assert_eq!(
        format_se(&MemOptions::default(), &r["chim"], &chim()),
        bwa_lines("se.sam", "chim")
    );
    let v = opts(|f| f.ref_header = true);
    assert_eq!(
        format_se(&v, &r["chim"], &chim()),
        bwa_lines("se_V.sam", "chim")
    );
    assert_eq!(
        format_se(&v, &r["repeat"], &[repeat_primary()]),
        bwa_lines("se_V.sam", "repeat")
    );
}

#[test]
fn leftmost_primary_with_5_hard_clips_the_other() {
    let r = reads("se.fq");
    let o = opts(|f| f.primary5 = true);
    let mut alns = chim2();
    alns.swap(0, 1);
    alns[0].flag = 0;
    alns[1].flag = 0x800;
    assert_eq!(
        format_se(&o, &r["chim2"], &alns),
        bwa_lines("se_5.sam", "chim2")
    );
}

#[test]
fn read_group_tag_with_r() {
    let r = reads("se.fq");
    let o = MemOptions {
        read_group: Some("@RG\tID:x\tSM:y".into()),
        ..MemOptions::default()
    };
    let alns = [aln(0, 100, false, 60, "100M", 0, "100", 100, 0)];
    assert_eq!(
        format_se(&o, &r["fwd"], &alns),
        bwa_lines("se_RH.sam", "fwd")
    );
}

fn header_lines(sam: &str) -> String {
    fixture(sam)
        .lines()
        .filter(|l| l.starts_with('@') && !l.starts_with("@PG"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn header_text(o: &MemOptions, contigs: &[SamContig]) -> String {
    let mut out = Vec::new();
    let argv = vec![
        "ferrous".to_owned(),
        "mem".to_owned(),
        "ref.fa".to_owned(),
        "se.fq".to_owned(),
    ];
    let pg = ferrous::emit::header::pg_line("0.1.0", &argv);
    write_header(
        &mut out,
        contigs,
        &o.header_lines,
        o.read_group.as_deref(),
        &pg,
    );
    let text = String::from_utf8(out).unwrap();
    let (body, pg_line) = text
        .trim_end()
        .rsplit_once('\n')
        .unwrap_or(("", text.trim_end()));
    assert_eq!(
        pg_line,
        "@PG\tID:ferrous\tPN:ferrous\tVN:0.1.0\tCL:ferrous mem ref.fa se.fq"
    );
    format!("{body}\n")
}

#[test]
fn header_matches_bwa_but_for_the_pg_line() {
    let plain = MemOptions::default();
    assert_eq!(header_text(&plain, &contigs()), header_lines("se.sam"));
    // 0.7.17 prints no @HD.
    assert!(!fixture("se.sam").contains("@HD"));

    let args = ferrous::options::MemOptionArgs {
        read_group: Some(r"@RG\tID:x\tSM:y".into()),
        header: vec![r"@CO\tline one".into(), r"@CO\\tescaped\q".into()],
        ..Default::default()
    };
    let rh = MemOptions::resolve(&args).unwrap();
    assert_eq!(header_text(&rh, &contigs()), header_lines("se_RH.sam"));

    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/emit/hdr.txt");
    let args = ferrous::options::MemOptionArgs {
        header: vec![file.to_string_lossy().into_owned()],
        ..Default::default()
    };
    let hf = MemOptions::resolve(&args).unwrap();
    // The user's @SQ line replaces bwa's own.
    assert_eq!(header_text(&hf, &contigs()), header_lines("se_Hfile.sam"));
}

fn alt_contigs() -> Vec<SamContig> {
    vec![
        SamContig {
            name: "chrA".into(),
            len: 1000,
            is_alt: false,
            anno: String::new(),
        },
        SamContig {
            name: "chrA_alt".into(),
            len: 300,
            is_alt: true,
            anno: String::new(),
        },
    ]
}

#[test]
fn alt_hits_give_pa_and_ah() {
    let r = reads("alt.fq");
    let contigs = alt_contigs();
    let o = MemOptions::default();
    assert_eq!(header_text(&o, &contigs), header_lines("alt.sam"));

    let mut primary = aln(0, 300, false, 60, "100M", 1, "50G49", 95, 0);
    primary.alt_sc = 100;
    let mut on_alt = aln(1, 100, false, 10, "100M", 0, "100", 100, 95);
    on_alt.is_alt = true;
    on_alt.flag = 0x800;
    tags::push_xa_entry(&mut on_alt.xa, "chrA", 300, false, &cigar("100M"), 1);
    let fmt = SamFormatter::new(&contigs, &o);
    let mut out = Vec::new();
    fmt.write_read(&mut out, &r["onalt"].view(), &[primary, on_alt], 0, None);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        bwa_lines("alt.sam", "onalt")
    );
}

/// Formats a pair: records of read 1 then read 2, each with the other's
/// primary as mate; `flags` are the caller's pair bits per read.
fn format_pair(name: &str, r1: Vec<Aln>, r2: Vec<Aln>, flags: [u32; 2]) -> String {
    let reads1 = reads("r1.fq");
    let reads2 = reads("r2.fq");
    let contigs = contigs();
    let o = MemOptions::default();
    let fmt = SamFormatter::new(&contigs, &o);
    let with_flag = |mut v: Vec<Aln>, f: u32| {
        for a in &mut v {
            a.flag |= f;
        }
        v
    };
    let (r1, r2) = (with_flag(r1, flags[0]), with_flag(r2, flags[1]));
    let primary = |v: &[Aln], f: u32| v.first().cloned().unwrap_or_else(|| Aln::unmapped(f));
    let (m1, m2) = (primary(&r1, flags[0]), primary(&r2, flags[1]));
    let mut out = Vec::new();
    fmt.write_read(&mut out, &reads1[name].view(), &r1, flags[0], Some(&m2));
    fmt.write_read(&mut out, &reads2[name].view(), &r2, flags[1], Some(&m1));
    String::from_utf8(out).unwrap()
}

#[test]
fn paired_records_match_bwa() {
    let m100 = |rid, pos, rev| aln(rid, pos, rev, 60, "100M", 0, "100", 100, 0);
    let cases: Vec<(&str, Vec<Aln>, Vec<Aln>)> = vec![
        ("p1", vec![m100(0, 100, false)], vec![m100(0, 350, true)]),
        ("p2", vec![], vec![m100(0, 600, true)]),
        ("p3", vec![m100(1, 100, false)], vec![]),
        ("p4", vec![m100(0, 100, false)], vec![m100(1, 300, false)]),
        ("p5", chim(), vec![m100(0, 900, true)]),
        ("p6", vec![], vec![]),
        ("p7", vec![m100(0, 400, true)], vec![m100(0, 300, false)]),
    ];
    for (name, r1, r2) in cases {
        assert_eq!(
            format_pair(name, r1, r2, [0x40, 0x80]),
            bwa_lines("pe.sam", name),
            "{name}"
        );
    }
}

#[test]
fn sa_and_xa_builders_match_bwa_text() {
    let mut sa = Vec::new();
    tags::push_sa_entry(&mut sa, "chr2", 200, true, &cigar("50M60S"), 60, 0);
    assert!(
        bwa_lines("se.sam", "chim").contains(&format!("SA:Z:{}", String::from_utf8(sa).unwrap()))
    );
    let mut xa = String::new();
    tags::push_xa_entry(&mut xa, "chr2", 600, false, &cigar("100M"), 2);
    assert!(bwa_lines("se.sam", "repeat").contains(&format!("XA:Z:{xa}")));
}

/// Throughput of the formatter: `cargo test --test emit_records -- --ignored --nocapture`.
#[test]
#[ignore]
fn formatter_throughput() {
    let contigs = contigs();
    let o = MemOptions::default();
    let fmt = SamFormatter::new(&contigs, &o);
    let seq: Vec<u8> = (0..150).map(|i| (i * 7 % 5) as u8).collect();
    let qual = vec![b'I'; 150];
    let read = SamRead {
        name: b"SRR000001.123456789",
        seq: &seq,
        qual: Some(&qual),
        comment: None,
    };
    let mut primary = aln(0, 100_000, true, 60, "3S120M1D27M", 3, "60A20^T66", 131, 40);
    primary.flag = 0x41;
    let mate = aln(0, 100_300, false, 60, "150M", 0, "150", 150, 0);
    let alns = [primary];
    let n = 1_000_000;
    let mut out = Vec::with_capacity(1 << 20);
    let start = std::time::Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        out.clear();
        fmt.write_read(&mut out, &read, &alns, 0x41, Some(&mate));
        bytes += out.len();
    }
    let dt = start.elapsed();
    println!(
        "{n} records, {bytes} bytes in {dt:?}: {:.0} ns/record, {:.0} MB/s",
        dt.as_nanos() as f64 / n as f64,
        bytes as f64 / dt.as_secs_f64() / 1e6
    );
}
