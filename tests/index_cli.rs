//! End-to-end tests of `ferrous index`: round trip, error cases, the write
//! error path, and agreement with `bwa index` (skipped when bwa is absent).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ferrous::index::FmIndex;

const BIN: &str = env!("CARGO_BIN_EXE_ferrous");

fn index_cmd(args: &[&Path]) -> Output {
    Command::new(BIN).arg("index").args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Files in `dir` whose names contain `.fmi`.
fn fmi_files(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".fmi"))
        .collect()
}

fn tiny_fasta() -> String {
    // N runs, IUPAC codes, lowercase, CRLF, empty lines, a comment.
    let mut s = String::from(">chrA first contig\r\nACGTNNNNACGTRYKMacgtnnACGGT\r\n\r\n");
    s.push_str("TTGACCANNNNNNNNNNGGCATCGATCGATCGSWBDHVNACGTAGCTAGCTA\n");
    s.push_str(">chrB\nGGGGCCCCAAAATTTTNNNNNacgtacgtNnNnACGTTGCA\nACGT\n");
    s.push_str(">chrC  two  spaces\nTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTT\n");
    s
}

#[test]
fn round_trip_and_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("ref.fa");
    fs::write(&fa, tiny_fasta()).unwrap();
    let out = index_cmd(&[&fa]);
    assert!(out.status.success(), "{}", stderr(&out));
    let idx = FmIndex::open(&fa).unwrap();
    idx.verify().unwrap();
    let names: Vec<&str> = idx.contigs().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["chrA", "chrB", "chrC"]);
    assert_eq!(idx.contigs()[0].anno, "first contig");
    assert_eq!(idx.contigs()[2].anno, " two  spaces");
    // Same content through PREFIX.fmi and through -p gives the same fingerprint.
    let again = FmIndex::open(dir.path().join("ref.fa.fmi")).unwrap();
    assert_eq!(again.fingerprint(), idx.fingerprint());
    let p = dir.path().join("other");
    let out = Command::new(BIN)
        .args(["index", "-p"])
        .arg(&p)
        .arg(&fa)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(FmIndex::open(&p).unwrap().fingerprint(), idx.fingerprint());
    // gzip input gives the same index.
    let gz = dir.path().join("ref.fa.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, tiny_fasta().as_bytes()).unwrap();
    fs::write(&gz, enc.finish().unwrap()).unwrap();
    let out = index_cmd(&[&gz]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(FmIndex::open(&gz).unwrap().fingerprint(), idx.fingerprint());
    // A damaged big section is caught by verify(), not by open().
    let fmi = dir.path().join("ref.fa.fmi");
    let mut bytes = fs::read(&fmi).unwrap();
    let last = bytes.len() - 200;
    bytes[last] ^= 0xff;
    fs::write(&fmi, &bytes).unwrap();
    let damaged = FmIndex::open(&fmi);
    if let Ok(d) = damaged {
        assert!(d.verify().is_err());
    }
    // Truncation is caught at open.
    fs::write(&fmi, &bytes[..bytes.len() - 64]).unwrap();
    assert!(FmIndex::open(&fmi).is_err());
    fs::write(&fmi, b"not an index").unwrap();
    assert!(FmIndex::open(&fmi).is_err());
}

fn expect_failure(dir: &Path, input: &[u8], needle: &str) {
    let fa = dir.join("bad.fa");
    fs::write(&fa, input).unwrap();
    let out = index_cmd(&[&fa]);
    let err = stderr(&out);
    assert!(!out.status.success(), "should fail: {needle}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    assert!(fmi_files(dir).is_empty(), "left {:?}", fmi_files(dir));
}

#[test]
fn error_cases() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = index_cmd(&[&d.join("missing.fa")]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    expect_failure(d, b"", "empty");
    expect_failure(d, b">a\n>b\n\n", "no sequence");
    expect_failure(d, b">a\nACGT\n>b\nAC\n>a\nGG\n", "records 1 and 3");
    expect_failure(d, b"@r1\nACGT\n+\nIIII\n", "line 1");
    expect_failure(d, b">a\nACGT\nAC\x00\x01GT\n", "line 3");
    expect_failure(d, b"\x7fELF\x02\x01\x01\x00\x00\x00", "line 1");
}

#[test]
fn write_error_leaves_nothing() {
    if Command::new("sh").arg("-c").arg("true").status().is_err() {
        eprintln!("note: no sh; write-error test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("ref.fa");
    let mut s = String::from(">a\n");
    let mut x: u64 = 1;
    for _ in 0..40_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s.push(b"ACGT"[(x >> 62) as usize] as char);
    }
    s.push('\n');
    fs::write(&fa, s).unwrap();
    // Ignored signals stay ignored across exec, so the write fails with EFBIG.
    let script = format!(
        "trap '' XFSZ; ulimit -f 16; exec '{BIN}' index '{}'",
        fa.display()
    );
    let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
    assert!(
        fmi_files(dir.path()).is_empty(),
        "left {:?}",
        fmi_files(dir.path())
    );
}

fn read_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Compares pac, holes, contigs, BWT and SA with `bwa index` output.
#[test]
fn agrees_with_bwa_index() {
    if Command::new("bwa").output().is_err() {
        eprintln!("note: `bwa` not on PATH; comparison with bwa index skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("ref.fa");
    let mut s = tiny_fasta();
    // Long enough for several occurrence blocks and SA samples.
    let mut x: u64 = 7;
    s.push_str(">chrD\n");
    for i in 0..3000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let c = if i % 500 < 7 {
            b"NRYN"[(x >> 62) as usize]
        } else {
            b"ACGT"[(x >> 62) as usize]
        };
        s.push(c as char);
        if i % 60 == 59 {
            s.push('\n');
        }
    }
    s.push('\n');
    fs::write(&fa, &s).unwrap();
    let prefix = dir.path().join("bwa");
    let st = Command::new("bwa")
        .arg("index")
        .arg("-p")
        .arg(&prefix)
        .arg(&fa)
        .output()
        .unwrap();
    assert!(st.status.success());
    let out = index_cmd(&[&fa]);
    assert!(out.status.success(), "{}", stderr(&out));
    let idx = FmIndex::open(&fa).unwrap();
    let l = idx.l_pac();

    let pac = fs::read(prefix.with_extension("pac")).unwrap();
    assert_eq!(pac.len() as u64, l / 4 + 2);
    assert_eq!(
        &pac[..l.div_ceil(4) as usize],
        idx.pac(),
        "randomised forward bases"
    );

    let amb = fs::read_to_string(prefix.with_extension("amb")).unwrap();
    let holes: Vec<String> = amb.lines().skip(1).map(str::to_owned).collect();
    let ours: Vec<String> = idx
        .holes()
        .iter()
        .map(|h| format!("{} {} {}", h.offset, h.len, h.amb as char))
        .collect();
    assert_eq!(holes, ours);
    let ann = fs::read_to_string(prefix.with_extension("ann")).unwrap();
    let ann: Vec<&str> = ann.lines().collect();
    for (i, c) in idx.contigs().iter().enumerate() {
        let anno = if c.anno.is_empty() { "(null)" } else { &c.anno };
        assert_eq!(ann[1 + 2 * i], format!("0 {} {}", c.name, anno));
        assert_eq!(
            ann[2 + 2 * i],
            format!("{} {} {}", c.offset, c.len, c.n_ambs)
        );
    }

    let bwt = fs::read(prefix.with_extension("bwt")).unwrap();
    assert_eq!(read_u64(&bwt, 0), idx.primary());
    let l2: Vec<u64> = (0..4).map(|i| read_u64(&bwt, 8 + 8 * i)).collect();
    assert_eq!(l2, idx.l2()[1..]);
    let words: Vec<u32> = bwt[40..]
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
        .collect();
    let n = idx.seq_len();
    for k in 0..n {
        // k indexes the $-removed BWT; our row is k + (k >= primary).
        let w = words[((k >> 7) * 16 + 8 + ((k & 127) >> 4)) as usize];
        let c = ((w >> ((15 - (k & 15)) * 2)) & 3) as u8;
        let row = k + (k >= idx.primary()) as u64;
        assert_eq!(idx.bwt_char(row), Some(c), "BWT at {k}");
    }
    let sa = fs::read(prefix.with_extension("sa")).unwrap();
    let intv = read_u64(&sa, 40) & 0xffff_ffff;
    assert_eq!(read_u64(&sa, 48), n);
    for (i, at) in (56..sa.len()).step_by(8).enumerate() {
        let row = intv * (i as u64 + 1);
        assert_eq!(idx.sa(row), read_u64(&sa, at), "SA[{row}]");
    }
}

/// A FASTA of `len` pseudo-random bases in one record.
fn random_fasta(path: &Path, len: usize, seed: u64) {
    let mut s = String::with_capacity(len + len / 60 + 8);
    s.push_str(">r\n");
    let mut x = seed | 1;
    for i in 0..len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push(b"ACGT"[(x & 3) as usize] as char);
        if i % 60 == 59 {
            s.push('\n');
        }
    }
    s.push('\n');
    fs::write(path, s).unwrap();
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

#[test]
fn blockwise_build_equals_whole_text_build() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let fa = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/small/ref.fa");
    let fa = fa.to_str().unwrap();
    let whole = run(&["index", "--algorithm", "whole", "-p", &format!("{d}/w"), fa]);
    assert!(whole.status.success(), "{}", stderr(&whole));
    let block = run(&[
        "index",
        "-t",
        "2",
        "--algorithm",
        "blockwise",
        "--max-memory",
        "12M",
        "--tmp-dir",
        tmp.path().to_str().unwrap(),
        "-p",
        &format!("{d}/b"),
        fa,
    ]);
    assert!(block.status.success(), "{}", stderr(&block));
    assert!(
        stderr(&block).contains("blocks planned"),
        "{}",
        stderr(&block)
    );
    let (w, b) = (
        fs::read(dir.path().join("w.fmi")).unwrap(),
        fs::read(dir.path().join("b.fmi")).unwrap(),
    );
    assert!(w == b, "blockwise and whole-text files differ");
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "temporary files left"
    );
    FmIndex::open(dir.path().join("b.fmi")).unwrap();
}

#[test]
fn memory_budget_and_out_of_memory_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("ref.fa");
    random_fasta(&fa, 4_000_000, 7);
    let fa_s = fa.to_str().unwrap();
    let out_prefix = dir.path().join("x");
    let p = out_prefix.to_str().unwrap();
    let small = run(&[
        "index",
        "--max-memory",
        "1M",
        "--algorithm",
        "blockwise",
        "-p",
        p,
        fa_s,
    ]);
    assert!(!small.status.success());
    let err = stderr(&small);
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.starts_with("error: ") && last.contains("--max-memory 1.0 MiB is too small"),
        "{err}"
    );
    assert!(fmi_files(dir.path()).is_empty());
    for bad in ["0", "5Q", "lots"] {
        let o = run(&["index", "--max-memory", bad, "-p", p, fa_s]);
        assert!(
            !o.status.success() && stderr(&o).contains("--max-memory"),
            "{bad}: {}",
            stderr(&o)
        );
    }

    // Under an address-space limit the whole-text arrays (8M text + 32 MB
    // suffix array and more) cannot be had: a one-line error, no files.
    if Command::new("prlimit").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "prlimit (util-linux) is missing"
        );
        eprintln!("note: no prlimit; out-of-memory test skipped");
        return;
    }
    let limited = Command::new("prlimit")
        .arg(format!("--as={}", 40 << 20))
        .args([BIN, "index", "--algorithm", "whole", "-p", p, fa_s])
        .output()
        .unwrap();
    let err = stderr(&limited);
    assert!(!limited.status.success());
    assert_eq!(limited.status.code(), Some(1), "{err}");
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.starts_with("error: ") && last.contains("out of memory") && last.contains("MiB"),
        "{err}"
    );
    assert!(
        fmi_files(dir.path()).is_empty(),
        "left {:?}",
        fmi_files(dir.path())
    );
}
