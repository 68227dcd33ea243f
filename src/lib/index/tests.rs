//! Property tests of the whole index against a naive suffix array and BWT.

use proptest::prelude::*;

use super::fasta::parse_fasta;
use super::format::Section;
use super::{build, BiInterval, BuildOptions, FmIndex, IndexError, Placement, Residence, Sections};

/// Naive reference model of an index: text X, full SA of X$ and BWT.
struct Naive {
    x: Vec<u8>,
    sa: Vec<u64>,
    /// BWT of X$ per row; 4 marks `$`.
    bwt: Vec<u8>,
}

impl Naive {
    fn new(fasta: &str) -> Naive {
        let parsed = parse_fasta(fasta.as_bytes(), std::path::Path::new("t")).unwrap();
        let mut x = parsed.forward.clone();
        x.extend(parsed.forward.iter().rev().map(|&c| 3 - c));
        let n = x.len();
        let mut sa: Vec<u64> = (0..=n as u64).collect();
        sa.sort_by(|&a, &b| x[a as usize..].cmp(&x[b as usize..]));
        let bwt = sa
            .iter()
            .map(|&p| if p == 0 { 4 } else { x[p as usize - 1] })
            .collect();
        Naive { x, sa, bwt }
    }

    fn occ(&self, k: i64, c: u8) -> u64 {
        if k < 0 {
            return 0;
        }
        self.bwt[..=k as usize].iter().filter(|&&b| b == c).count() as u64
    }

    /// (first row, count) of the rows whose suffix starts with `p`.
    fn range(&self, p: &[u8]) -> (u64, u64) {
        let starts = |r: &u64| self.x[*r as usize..].starts_with(p);
        let first = self.sa.iter().position(starts);
        let count = self.sa.iter().filter(|r| starts(r)).count() as u64;
        (first.map_or(0, |f| f as u64), count)
    }
}

fn revcomp(p: &[u8]) -> Vec<u8> {
    p.iter().rev().map(|&c| 3 - c).collect()
}

/// FASTA with random or highly repetitive contigs, N runs and IUPAC codes.
fn fasta_strategy() -> impl Strategy<Value = String> {
    let contig = prop_oneof![
        // random DNA with sprinkled ambiguity codes
        prop::collection::vec(
            prop_oneof![8 => prop::sample::select(b"ACGTacgt".to_vec()), 1 => prop::sample::select(b"NnRY".to_vec())],
            1..120
        ),
        // a short unit repeated, with an N run in the middle
        (
            prop::collection::vec(prop::sample::select(b"ACGT".to_vec()), 1..5),
            1usize..40,
            0usize..6
        )
            .prop_map(|(unit, reps, ns)| {
                let mut s: Vec<u8> = unit
                    .iter()
                    .cycle()
                    .take(unit.len() * reps)
                    .copied()
                    .collect();
                let mid = s.len() / 2;
                s.splice(mid..mid, std::iter::repeat_n(b'N', ns));
                s
            }),
    ];
    prop::collection::vec(contig, 1..4).prop_map(|contigs| {
        let mut s = String::new();
        for (i, c) in contigs.iter().enumerate() {
            s.push_str(&format!(">c{i} some text\n"));
            for line in c.chunks(7) {
                s.push_str(std::str::from_utf8(line).unwrap());
                s.push('\n');
            }
        }
        s
    })
}

fn check_all(fasta: &str, sa_intv: u64, pats: &[(usize, usize, Vec<bool>)]) {
    let idx = FmIndex::from_fasta_bytes(fasta.as_bytes(), sa_intv).unwrap();
    let nv = Naive::new(fasta);
    let n = nv.x.len() as u64;
    assert_eq!(idx.seq_len(), n);
    assert_eq!(idx.l_pac() * 2, n);
    assert_eq!(nv.bwt[idx.primary() as usize], 4);
    let mut l2 = [0u64; 5];
    for c in 0..4 {
        l2[c + 1] = l2[c] + nv.x.iter().filter(|&&b| b == c as u8).count() as u64;
    }
    assert_eq!(idx.l2(), l2);
    idx.verify().unwrap();
    for k in -1..=n as i64 {
        let want: [u64; 4] = std::array::from_fn(|c| nv.occ(k, c as u8));
        assert_eq!(idx.occ4(k), want, "occ4({k})");
        for c in 0..4u8 {
            assert_eq!(idx.occ(k, c), want[c as usize], "occ({k},{c})");
        }
        let k2 = (k + 1 + (k * 37).rem_euclid(200)).min(n as i64);
        assert_eq!(idx.occ4_pair(k, k2), (want, idx.occ4(k2)), "pair {k} {k2}");
        idx.prefetch(k);
    }
    for r in 0..=n {
        assert_eq!(idx.sa(r), nv.sa[r as usize], "sa({r})");
        let c = nv.bwt[r as usize];
        assert_eq!(idx.bwt_char(r), (c < 4).then_some(c));
    }
    for p in 0..n {
        assert_eq!(idx.base(p), nv.x[p as usize]);
    }
    // Patterns: substrings of X, extended in a random mix of directions.
    for (start, len, dirs) in pats {
        let start = start % n as usize;
        let len = (*len).min(n as usize - start).max(1);
        let pat = &nv.x[start..start + len];
        let (lo, cnt) = nv.range(pat);
        let got = idx.backward_search(pat).unwrap();
        assert_eq!((got.0, got.1 + 1 - got.0), (lo, cnt));
        // Bi-directional: grow [b, e) from one base in the middle.
        let mid = len / 2;
        let (mut b, mut e) = (mid, mid + 1);
        let mut ik: BiInterval = idx.init_interval(pat[mid]);
        let mut d = dirs.iter().cycle();
        while b > 0 || e < len {
            let back = if b == 0 {
                false
            } else if e == len {
                true
            } else {
                *d.next().unwrap()
            };
            // Every one-base extension, by all four bases, as `extend1`
            // gives it too.
            let all = idx.extend(&ik, back);
            for c in 0..4u8 {
                assert_eq!(idx.extend1(&ik, back, c), all[c as usize]);
                assert_eq!(idx.extend1_portable(&ik, back, c), all[c as usize]);
            }
            if back {
                b -= 1;
                ik = all[pat[b] as usize];
            } else {
                ik = all[3 - pat[e] as usize];
                e += 1;
            }
            let sub = &pat[b..e];
            let (lo, cnt) = nv.range(sub);
            let (rlo, rcnt) = nv.range(&revcomp(sub));
            assert_eq!(ik.x[2], cnt);
            assert_eq!(rcnt, cnt);
            assert_eq!((ik.x[0], ik.x[1]), (lo, rlo), "bi-interval of {sub:?}");
        }
    }
    // A pattern absent from X.
    let absent: Vec<u8> = (0..40).map(|i| (i % 4) as u8).chain([0; 40]).collect();
    if nv.range(&absent).1 == 0 {
        assert_eq!(idx.backward_search(&absent), None);
    }
    assert_eq!(idx.backward_search(&[0, 4]), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn index_matches_naive(
        fasta in fasta_strategy(),
        intv_log in 0u32..5,
        pats in prop::collection::vec((0usize..1000, 1usize..30, prop::collection::vec(any::<bool>(), 1..8)), 1..8),
    ) {
        check_all(&fasta, 1 << intv_log, &pats);
    }
}

#[test]
fn many_blocks_and_intervals() {
    // Longer than several occurrence blocks and SA intervals, repetitive.
    let unit = "ACGTTGCAAGGCTTAACCGGTATATCGCGNNNA";
    let mut s = String::from(">r1\n");
    for i in 0..40 {
        s.push_str(&unit[..(i % unit.len()) + 1]);
        s.push('\n');
    }
    s.push_str(">r2 x\nACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGT\n");
    check_all(
        &s,
        16,
        &[
            (5, 25, vec![true, false]),
            (300, 12, vec![false]),
            (1100, 20, vec![true]),
        ],
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// 5- and 8-byte SA samples (what texts of 2^32 bases and more get)
    /// give every row the SA value of the naive suffix array, as 4-byte
    /// ones do, the last samples (read byte by byte) included.
    #[test]
    fn wide_sa_samples_read_back(fasta in fasta_strategy(), intv_log in 0u32..5) {
        let nv = Naive::new(&fasta);
        let name = std::path::Path::new("t");
        for width in [4, 5, 8] {
            let parsed = parse_fasta(fasta.as_bytes(), name).unwrap();
            let opts = BuildOptions {
                sa_intv: Some(1 << intv_log),
                sa_width: Some(width),
                ..BuildOptions::default()
            };
            let (cursor, _, _) =
                build::write_index(parsed, &opts, std::io::Cursor::new(Vec::new()), name).unwrap();
            let idx = FmIndex::from_bytes(&cursor.into_inner(), name).unwrap();
            prop_assert_eq!(idx.meta().sa_width, width);
            for (row, &want) in nv.sa.iter().enumerate() {
                prop_assert_eq!(idx.sa(row as u64), want);
            }
        }
    }
}

#[test]
fn sa_width_and_interval_follow_the_text_length() {
    use super::format::{default_sa_intv, sa_width, sa_width_ok, SaSamples, MAX_SEQ_LEN};
    let big = u32::MAX as u64 + 1;
    assert_eq!((sa_width(big - 1), default_sa_intv(big - 1)), (4, 16));
    assert_eq!((sa_width(big), default_sa_intv(big)), (5, 32));
    assert_eq!(sa_width(MAX_SEQ_LEN), 5);
    assert!(sa_width_ok(8, big) && sa_width_ok(5, big) && !sa_width_ok(4, big));
    assert!(sa_width_ok(4, 100) && !sa_width_ok(3, 100) && !sa_width_ok(6, 100));
    let mut s = SaSamples::with_width(64, 16, 5);
    s.push(MAX_SEQ_LEN);
    s.push(7);
    assert_eq!(s.bytes(), &[255, 255, 255, 255, 255, 7, 0, 0, 0, 0]);
    assert_eq!(s.len(), 2);
}

#[test]
fn coordinate_helpers() {
    let idx = FmIndex::from_fasta_bytes(b">a\nACGTACGTAC\n>b\nGGGTTT\n>c\nA\n", 16).unwrap();
    assert_eq!(idx.l_pac(), 17);
    assert_eq!(idx.pos2rid(0), 0);
    assert_eq!(idx.pos2rid(9), 0);
    assert_eq!(idx.pos2rid(10), 1);
    assert_eq!(idx.pos2rid(16), 2);
    assert_eq!(idx.pos2rid(17), -1);
    assert_eq!(idx.depos(17), (16, true));
    assert_eq!(idx.depos(33), (0, true));
    assert_eq!(idx.intv2rid(15, 19), -2);
    assert_eq!(idx.intv2rid(8, 12), -1);
    assert_eq!(idx.intv2rid(18, 20), 1);
    let mut buf = Vec::new();
    assert_eq!(idx.get_seq(10, 13, &mut buf), 3);
    assert_eq!(buf, [2, 2, 2]);
    // Reverse strand: [17, 20) is revcomp of forward [14, 17) = "TTA" -> "TAA".
    idx.get_seq(17, 20, &mut buf);
    assert_eq!(buf, [3, 0, 0]);
    assert_eq!(idx.get_seq(15, 19, &mut buf), 0);
    // fetch_seq confines to the contig of `mid`, on its strand.
    let (b, e, rid) = idx.fetch_seq(5, 12, 20, &mut buf);
    assert_eq!((b, e, rid), (10, 16, 1));
    assert_eq!(buf, [2, 2, 2, 3, 3, 3]);
    // mid = 20 is reverse of forward 13 (contig b, reverse span [18, 24)).
    let (b, e, rid) = idx.fetch_seq(15, 20, 30, &mut buf);
    assert_eq!((b, e, rid), (18, 24, 1));
    assert_eq!(buf, [0, 0, 0, 1, 1, 1]);
}

/// The next value of a xorshift64 generator (Marsaglia's 13, 7, 17): test
/// data that is the same on every run.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Throughput of the search primitives on a real index:
/// `FERROUS_BENCH_INDEX=path.fmi cargo test --release -- --ignored lookup_throughput --nocapture`
#[test]
#[ignore]
fn lookup_throughput() {
    let Ok(path) = std::env::var("FERROUS_BENCH_INDEX") else {
        eprintln!("note: set FERROUS_BENCH_INDEX to an .fmi file");
        return;
    };
    let idx = FmIndex::open(path).unwrap();
    let n = idx.seq_len();
    let mut x: u64 = 0x1234_5678;
    let mut rnd = || xorshift(&mut x);
    let reps = 2_000_000u64;
    let t = std::time::Instant::now();
    let mut acc = 0u64;
    for _ in 0..reps {
        let k = (rnd() % n) as i64;
        acc = acc.wrapping_add(idx.occ4(k)[(k & 3) as usize]);
    }
    let occ_ns = t.elapsed().as_nanos() as f64 / reps as f64;
    // Backward extension of 32-mers taken from the text.
    let t = std::time::Instant::now();
    let mut steps = 0u64;
    for _ in 0..reps / 32 {
        let start = rnd() % (n - 40);
        let mut ik = idx.init_interval(idx.base(start + 32));
        for i in (start..start + 32).rev() {
            ik = idx.extend(&ik, true)[idx.base(i) as usize];
            steps += 1;
        }
        acc = acc.wrapping_add(ik.x[2]);
    }
    let ext_ns = t.elapsed().as_nanos() as f64 / steps as f64;
    let t = std::time::Instant::now();
    let locs = 200_000u64;
    for _ in 0..locs {
        acc = acc.wrapping_add(idx.sa(rnd() % (n + 1)));
    }
    let sa_ns = t.elapsed().as_nanos() as f64 / locs as f64;
    eprintln!("n={n}: occ4 {occ_ns:.0} ns, extend {ext_ns:.0} ns/step, sa {sa_ns:.0} ns ({acc})");
}

/// The parallel read gives the file's bytes exactly, over many pieces and
/// a short last one, and fails (rather than leaving zeros) when the file
/// is shorter than the buffer.
#[test]
fn parallel_read_gives_the_whole_file() {
    use std::io::Write;
    let len = (8 << 20) * 3 + 12_345;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let bytes: Vec<u8> = (0..len).map(|_| xorshift(&mut state) as u8).collect();
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&bytes).unwrap();
    let mut buf = vec![0u8; len];
    super::read_in_parallel(&file, &mut buf, 0).unwrap();
    assert!(buf == bytes, "bytes differ");
    let mut tail = vec![0u8; len - 777];
    super::read_in_parallel(&file, &mut tail, 777).unwrap();
    assert!(tail == bytes[777..], "bytes from an offset differ");
    let mut longer = vec![0u8; len + 1];
    assert!(super::read_in_parallel(&file, &mut longer, 0).is_err());
    assert!(super::read_in_parallel(&file, &mut tail, 778).is_err());
}

/// A random reference of `len` bases in two contigs, written as an index
/// file in `dir`; returns the file's path.
fn index_file(dir: &std::path::Path, len: usize) -> std::path::PathBuf {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut fasta = String::from(">one\n");
    for i in 0..len {
        let r = xorshift(&mut state);
        if i == len / 2 {
            fasta.push_str("\n>two\n");
        }
        fasta.push(b"ACGT"[(r >> 33) as usize % 4] as char);
    }
    let idx = FmIndex::from_fasta_bytes(fasta.as_bytes(), 8).unwrap();
    let path = dir.join("ref.fmi");
    std::fs::write(&path, idx.storage.whole.bytes()).unwrap();
    path
}

/// Every way of opening gives the same lookups as the whole file in
/// memory; a section out of reach is empty.
#[test]
fn open_for_reads_the_same_sections() {
    let dir = tempfile::tempdir().unwrap();
    let path = index_file(dir.path(), 5000);
    let whole = FmIndex::from_bytes(&std::fs::read(&path).unwrap(), "whole").unwrap();
    let n = whole.seq_len();
    let rows: Vec<u64> = (1..=n).step_by(7).collect();
    let mut want = vec![0; rows.len()];
    whole.sa_many(&rows, &mut want);
    for mapped in [false, true] {
        let idx = FmIndex::open_for(&path, Sections::ALL, mapped).unwrap();
        assert_eq!(idx.sections(), Sections::ALL);
        // In memory, a file this small (under one huge page) is copied.
        assert_eq!(matches!(idx.storage.random, Placement::Copied(_)), !mapped);
        let residence = if mapped {
            Residence::Mapped
        } else {
            Residence::Copied
        };
        assert_eq!(idx.residence(), residence);
        let mut got = vec![0; rows.len()];
        idx.sa_many(&rows, &mut got);
        assert_eq!(got, want, "mapped: {mapped}");
        assert_eq!(idx.pac(), whole.pac());
        assert_eq!(idx.occ_blocks(), whole.occ_blocks());
        idx.verify().unwrap();
    }
    for (needs, mapped) in [(Sections::TEXT, false), (Sections::NONE, true)] {
        let idx = FmIndex::open_for(&path, needs, mapped).unwrap();
        assert_eq!(idx.sections(), needs);
        assert!(
            matches!(idx.storage.random, Placement::Mapped),
            "nothing read at random to copy"
        );
        assert!(idx.occ_blocks().is_empty());
        assert_eq!(idx.pac().is_empty(), !needs.pac);
        assert_eq!(idx.contigs(), whole.contigs());
        assert_eq!(idx.fingerprint(), whole.fingerprint());
    }
}

/// An index as `ferrous index` writes it (in aligned 4 MiB chunks), large
/// enough for huge pages, opened in memory: on Linux 6.x with large folios
/// it is used in place, elsewhere copied; either way its lookups are those
/// of the whole file read into memory.
#[test]
fn an_index_written_by_the_builder_looks_up_the_same_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut fasta = String::from(">big\n");
    for _ in 0..6_000_000 {
        fasta.push(b"ACGT"[(xorshift(&mut state) >> 33) as usize % 4] as char);
    }
    let fa = dir.path().join("big.fa");
    std::fs::write(&fa, fasta).unwrap();
    let built = build::build_index(&fa, None, &BuildOptions::default()).unwrap();
    let whole = FmIndex::from_bytes(&std::fs::read(&built.path).unwrap(), "whole").unwrap();
    let idx = FmIndex::open(&built.path).unwrap();
    assert_ne!(idx.residence(), Residence::Mapped);
    eprintln!("residence: {:?}", idx.residence());
    let rows: Vec<u64> = (1..=whole.seq_len()).step_by(997).collect();
    let (mut want, mut got) = (vec![0; rows.len()], vec![0; rows.len()]);
    whole.sa_many(&rows, &mut want);
    idx.sa_many(&rows, &mut got);
    assert_eq!(got, want);
    assert!(idx.occ_blocks() == whole.occ_blocks());
}

/// A damaged section is refused by every job that reads it, in memory or
/// mapped, and by no job that does not.
#[test]
fn open_for_checks_the_sections_it_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let path = index_file(dir.path(), 5000);
    let clean = FmIndex::open(&path).unwrap();
    for section in [Section::Pac, Section::Occ, Section::Sa] {
        let e = clean.header.entries[section as usize - 1];
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[(e.offset + e.len / 2) as usize] ^= 0x10;
        let damaged = dir.path().join(format!("{}.fmi", section.name()));
        std::fs::write(&damaged, &bytes).unwrap();
        for needs in [Sections::ALL, Sections::TEXT, Sections::NONE] {
            for mapped in [false, true] {
                let got = FmIndex::open_for(&damaged, needs, mapped);
                if needs.has(section) {
                    let e = got.unwrap_err();
                    assert!(
                        matches!(e, IndexError::Checksum { section: s, .. } if s == section.name()),
                        "{e:?}"
                    );
                } else {
                    assert!(got.is_ok(), "{section:?} read though not needed");
                }
            }
        }
    }
}

#[test]
fn layout_is_where_the_writer_puts_sections() {
    let idx = FmIndex::from_fasta_bytes(b">a\nACGTNACGT\n>b x\nGGG\n", 4).unwrap();
    let lens: Vec<u64> = idx.header.entries.iter().map(|e| e.len).collect();
    let (offsets, size) = super::format::layout(&lens);
    let want: Vec<u64> = idx.header.entries.iter().map(|e| e.offset).collect();
    assert_eq!(offsets, want);
    assert_eq!(size, idx.header.file_size);
}
