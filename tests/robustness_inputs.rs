//! Issue #8, inputs: every malformed input fails with one `error: ` line
//! naming the file and the record, a non-zero exit status and no output
//! file; every unusual input bwa accepts gives bwa's SAM (skipped with a
//! note when bwa is absent, except under CI).

mod robustness;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use robustness::*;

/// `ferrous mem [opts] -o DIR/out.sam IDX reads...` in a fresh directory
/// holding the inputs; returns the output and the directory.
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(files: &[(&str, &[u8])]) -> Case {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            fs::write(dir.path().join(name), bytes).unwrap();
        }
        Case { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `mem -o out.sam` with the files of this case as reads.
    fn mem(&self, opts: &[&str], reads: &[&str]) -> Output {
        let mut cmd = ferrous();
        cmd.arg("mem")
            .args(opts)
            .arg("-o")
            .arg(self.path("out.sam"));
        cmd.arg(indexed().reference());
        for r in reads {
            cmd.arg(self.path(r));
        }
        cmd.output().unwrap()
    }

    /// Asserts a one-line error containing `needles` (the file name is
    /// checked by the caller's needles) and that nothing was left behind.
    fn refused(&self, opts: &[&str], reads: &[&str], needles: &[&str]) {
        let before: Vec<String> = entries(self.dir.path());
        let out = self.mem(opts, reads);
        assert_one_line_error(&out, needles);
        assert_eq!(entries(self.dir.path()), before, "left files behind");
    }
}

fn fq(name: &str, seq: &str, qual: &str) -> String {
    format!("@{name}\n{seq}\n+\n{qual}\n")
}

#[test]
fn malformed_fastq_names_file_record_and_problem() {
    let good = fq("r1", "ACGTACGTAC", "IIIIIIIIII");
    let no_plus = format!("{good}@r2\nACGT\nIIII\n{good}");
    let short_qual = format!("{good}{}", fq("r2", "ACGTACGT", "IIIIII"));
    let on_plus = format!("{good}@r2\nACGT\n+\n");
    let garbage = b"\x00\x01\x02 binary\n".to_vec();
    let case = Case::new(&[
        ("no_plus.fq", no_plus.as_bytes()),
        ("short_qual.fq", short_qual.as_bytes()),
        ("on_plus.fq", on_plus.as_bytes()),
        ("garbage.fq", &garbage),
    ]);
    case.refused(
        &[],
        &["no_plus.fq"],
        &["no_plus.fq", "record 2", "r2", "'+'"],
    );
    case.refused(
        &[],
        &["short_qual.fq"],
        &[
            "short_qual.fq",
            "record 2",
            "r2",
            "quality length 6",
            "sequence length 8",
        ],
    );
    case.refused(&[], &["on_plus.fq"], &["on_plus.fq", "record 2", "quality"]);
    case.refused(&[], &["garbage.fq"], &["garbage.fq", "record 1", "line 1"]);
    // The same problems in the second file of a pair name that file.
    let r1 = format!("{good}{}{good}", fq("r2", "ACGT", "IIII"));
    let case = Case::new(&[("r1.fq", r1.as_bytes()), ("r2.fq", no_plus.as_bytes())]);
    case.refused(&[], &["r1.fq", "r2.fq"], &["r2.fq", "record 2"]);
}

#[test]
fn truncated_and_corrupt_gzip() {
    let text = fastq_head("reads_1.fq.gz", 400);
    let gz = gzip(text.as_bytes());
    let truncated = &gz[..gz.len() / 2];
    let mut bad_crc = gz.clone();
    let n = bad_crc.len();
    bad_crc[n - 6] ^= 0x55; // inside the CRC-32 of the gzip trailer
    let mut bad_length = gz.clone();
    bad_length[n - 2] ^= 0x55; // inside the ISIZE field
    let case = Case::new(&[
        ("trunc.fq.gz", truncated),
        ("crc.fq.gz", &bad_crc),
        ("isize.fq.gz", &bad_length),
        ("magic_only.fq.gz", &gz[..2]),
    ]);
    for name in [
        "trunc.fq.gz",
        "crc.fq.gz",
        "isize.fq.gz",
        "magic_only.fq.gz",
    ] {
        case.refused(&[], &[name], &[name, "gzip", "after record"]);
    }
    // Damage inside the deflate data: reported either as bad gzip or as a
    // malformed record, but always naming the file, as one line.
    let mut hit = 0;
    for at in [20, gz.len() / 3, gz.len() / 2, 2 * gz.len() / 3] {
        let mut bad = gz.clone();
        bad[at] ^= 0xa5;
        let case = Case::new(&[("bad.fq.gz", &bad)]);
        let out = case.mem(&[], &["bad.fq.gz"]);
        if !out.status.success() {
            assert_one_line_error(&out, &["bad.fq.gz"]);
            assert!(!case.path("out.sam").exists());
            hit += 1;
        }
    }
    assert!(hit >= 3, "most damaged streams must be refused");
}

#[test]
fn mates_that_do_not_match() {
    let r1 = fastq_head("reads_1.fq.gz", 10);
    let r2 = fastq_head("reads_2.fq.gz", 10);
    let r2_short = fastq_head("reads_2.fq.gz", 6);
    let mut lines: Vec<String> = r2.lines().map(String::from).collect();
    lines[4 * 3] = "@someone_else/2".into();
    let r2_renamed = lines.join("\n") + "\n";
    let case = Case::new(&[
        ("r1.fq", r1.as_bytes()),
        ("r2.fq", r2.as_bytes()),
        ("r2_short.fq", r2_short.as_bytes()),
        ("r2_renamed.fq", r2_renamed.as_bytes()),
    ]);
    case.refused(
        &[],
        &["r1.fq", "r2_short.fq"],
        &["r1.fq", "r2_short.fq", "record 7", "no mate"],
    );
    case.refused(
        &[],
        &["r2_short.fq", "r1.fq"],
        &["r1.fq", "r2_short.fq", "record 7", "no mate"],
    );
    case.refused(
        &[],
        &["r1.fq", "r2_renamed.fq"],
        &["r1.fq", "r2_renamed.fq", "pair 4", "someone_else"],
    );
    // With -K small enough that earlier batches were already written, the
    // output file must still not appear.
    case.refused(
        &["-K", "300"],
        &["r1.fq", "r2_short.fq"],
        &["record 7", "no mate"],
    );
}

#[test]
fn missing_and_unreadable_inputs() {
    let case = Case::new(&[]);
    case.refused(&[], &["absent.fq"], &["absent.fq", "cannot open"]);
    fs::create_dir(case.path("a_dir")).unwrap();
    case.refused(&[], &["a_dir"], &["a_dir"]);
    // An index path that is not an index.
    let out = ferrous()
        .args(["mem", "-o"])
        .arg(case.path("out.sam"))
        .arg(data("ref.fa"))
        .arg(data("reads_edge.fa"))
        .output()
        .unwrap();
    assert_one_line_error(&out, &["ref.fa.fmi"]);
    assert!(!case.path("out.sam").exists());
}

/// Damaged or foreign index files: one line naming the file, never a
/// panic or a silently wrong alignment.
#[test]
fn bad_index_files() {
    let good = fs::read(indexed().dir.path().join("ref.fa.fmi")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let reads = dir.path().join("r.fq");
    fs::write(&reads, fastq_head("reads_1.fq.gz", 20)).unwrap();
    let check = |name: &str, bytes: &[u8], needles: &[&str]| {
        let p = dir.path().join(name);
        fs::write(&p, bytes).unwrap();
        // Read into memory (the default) or mapped: the same checks.
        for mode in [&[][..], &["--mmap-index"][..]] {
            let out = ferrous()
                .args(["mem"])
                .args(mode)
                .arg(&p)
                .arg(&reads)
                .output()
                .unwrap();
            let mut all = vec![name];
            all.extend(needles);
            assert_one_line_error(&out, &all);
            assert!(out.stdout.is_empty(), "{name} {mode:?}: wrote output");
        }
    };
    check("empty.fmi", b"", &["not a ferrous index"]);
    check("text.fmi", b">chr1\nACGT\n", &["not a ferrous index"]);
    let mut other = good.clone();
    // The format version follows the 8 magic bytes.
    let next = ferrous::index::FORMAT_VERSION + 1;
    other[8..12].copy_from_slice(&next.to_le_bytes());
    check("other-version.fmi", &other, &[&format!("version {next}")]);
    check("half.fmi", &good[..good.len() / 2], &["truncated"]);
    check("short.fmi", &good[..good.len() - 1], &["truncated"]);
    let mut longer = good.clone();
    longer.extend_from_slice(&[0; 64]);
    check("long.fmi", &longer, &["bytes"]);
    // Damage anywhere in the big sections (occurrences, suffix array,
    // packed reference) is found by the section checksums.
    for k in 1..8 {
        let mut bad = good.clone();
        let at = good.len() / 4 + k * (good.len() * 3 / 4 - 64) / 8;
        bad[at] ^= 0x41;
        check(&format!("flip{k}.fmi"), &bad, &["checksum"]);
    }
}

/// A mapped index (`--mmap-index`) aligns exactly as one read into memory.
#[test]
fn mapped_index_gives_the_same_sam() {
    let idx = indexed();
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = (dir.path().join("r1.fq"), dir.path().join("r2.fq"));
    fs::write(&r1, fastq_head("reads_1.fq.gz", 200)).unwrap();
    fs::write(&r2, fastq_head("reads_2.fq.gz", 200)).unwrap();
    let run = |mode: &[&str]| {
        let out = ferrous()
            .arg("mem")
            .args(mode)
            .arg(idx.reference())
            .args([&r1, &r2])
            .output()
            .unwrap();
        assert!(out.status.success(), "{mode:?}: {}", stderr(&out));
        without_pg(&out.stdout)
    };
    let loaded = run(&[]);
    assert!(loaded.lines().count() > 400);
    assert_eq!(loaded, run(&["--mmap-index"]));
}

/// bwa writes what it writes on `-o`-less runs; compare ours to it.
fn same_as_bwa(opts: &[&str], reads: &[&Path]) {
    let idx = indexed();
    if !idx.with_bwa {
        return;
    }
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{cmd:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("error"), "{}", stderr(&out));
        out.stdout
    };
    let ours = run(ferrous()
        .arg("mem")
        .args(opts)
        .arg(idx.reference())
        .args(reads));
    let theirs = run(Command::new("bwa")
        .arg("mem")
        .args(opts)
        .arg(idx.reference())
        .args(reads));
    assert_eq!(
        without_pg(&ours),
        without_pg(&theirs),
        "opts {opts:?} reads {reads:?}"
    );
}

/// Per-record rewrite of a FASTQ text.
fn map_records(text: &str, f: impl Fn(usize, [&str; 4]) -> String) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(4)
        .enumerate()
        .map(|(i, r)| f(i, [r[0], r[1], r[2], r[3]]))
        .collect()
}

#[test]
fn unusual_reads_bwa_accepts_align_as_bwa_aligns_them() {
    let base = fastq_head("reads_1.fq.gz", 60);
    let crlf = base.replace('\n', "\r\n");
    let lower = map_records(&base, |i, [h, s, p, q]| {
        let s = if i % 2 == 0 {
            s.to_lowercase()
        } else {
            s.into()
        };
        format!("{h}\n{s}\n{p}\n{q}\n")
    });
    let iupac = map_records(&base, |i, [h, s, p, q]| {
        let mut s = s.to_string();
        let at = 10 + (i * 7) % 100;
        s.replace_range(at..at + 11, "RYKMSWBDHVN");
        format!("{h}\n{s}\n{p}\n{q}\n")
    });
    let zero_len = map_records(&base, |i, [h, s, p, q]| {
        let extra = if i % 20 == 5 {
            format!("@empty{i}\n\n+\n\n")
        } else {
            String::new()
        };
        format!("{extra}{h}\n{s}\n{p}\n{q}\n")
    });
    let names = map_records(&base, |i, [h, s, p, q]| {
        let h = match i % 4 {
            0 => format!("{h} BC:Z:ACGT\tXX:i:{i}"),
            1 => format!("{h}\tcomment with  spaces"),
            2 => format!("{h} "),
            _ => h.to_string(),
        };
        format!("{h}\n{s}\n{p}\n{q}\n")
    });
    let fasta = map_records(&base, |_, [h, s, _, _]| format!(">{}\n{s}\n", &h[1..]));
    let fasta_wrapped = map_records(&base, |_, [h, s, _, _]| {
        format!(">{}\n{}\n{}\n", &h[1..], &s[..70], &s[70..])
    });
    let mixed = map_records(&base, |i, [h, s, p, q]| {
        if i % 3 == 0 {
            format!(">{}\n{s}\n", &h[1..])
        } else {
            format!("{h}\n{s}\n{p}\n{q}\n")
        }
    });
    let case = Case::new(&[
        ("crlf.fq", crlf.as_bytes()),
        ("lower.fq", lower.as_bytes()),
        ("iupac.fq", iupac.as_bytes()),
        ("zero.fq", zero_len.as_bytes()),
        ("names.fq", names.as_bytes()),
        ("reads.fa", fasta.as_bytes()),
        ("wrapped.fa", fasta_wrapped.as_bytes()),
        ("mixed.fq", mixed.as_bytes()),
        ("crlf.fq.gz", &gzip(crlf.as_bytes())),
        ("empty.fq", b""),
        ("blank.fq", b"\n\n\n"),
    ]);
    for name in [
        "crlf.fq",
        "lower.fq",
        "iupac.fq",
        "zero.fq",
        "names.fq",
        "reads.fa",
        "wrapped.fa",
        "mixed.fq",
        "crlf.fq.gz",
        "empty.fq",
        "blank.fq",
    ] {
        same_as_bwa(&[], &[&case.path(name)]);
    }
    same_as_bwa(&["-C"], &[&case.path("names.fq")]);
    // Empty input: a header and nothing else, exit 0.
    let out = case.mem(&[], &["empty.fq"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sam = fs::read_to_string(case.path("out.sam")).unwrap();
    assert!(sam.lines().all(|l| l.starts_with('@')) && sam.contains("@SQ"));
}

#[test]
fn paired_inputs_bwa_accepts() {
    let r1 = fastq_head("reads_1.fq.gz", 40);
    let r2 = fastq_head("reads_2.fq.gz", 40);
    // Mates of different lengths, R1 in FASTA and R2 in CRLF FASTQ, and
    // names without /1 /2 on one side.
    let r2_trimmed = map_records(&r2, |i, [h, s, p, q]| {
        let k = 60 + i % 80;
        format!(
            "{}\n{}\n{p}\n{}\n",
            h.trim_end_matches("/2"),
            &s[..k],
            &q[..k]
        )
    });
    let r1_fasta = map_records(&r1, |_, [h, s, _, _]| format!(">{}\n{s}\n", &h[1..]));
    let case = Case::new(&[
        ("r1.fq", r1.as_bytes()),
        ("r1.fa", r1_fasta.as_bytes()),
        ("r2_trimmed.fq", r2_trimmed.as_bytes()),
        ("r2_crlf.fq", r2.replace('\n', "\r\n").as_bytes()),
    ]);
    same_as_bwa(&[], &[&case.path("r1.fq"), &case.path("r2_trimmed.fq")]);
    same_as_bwa(&[], &[&case.path("r1.fa"), &case.path("r2_crlf.fq")]);
}

/// A 100 kbp read (a stretch of the reference with a substitution every
/// 997 bases) next to a short one.
#[test]
fn very_long_read() {
    let reference: String = fs::read_to_string(data("ref.fa"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('>'))
        .collect();
    let mut long: Vec<u8> = reference.as_bytes()[1000..101_000].to_vec();
    for i in (0..long.len()).step_by(997) {
        long[i] = match long[i] {
            b'A' => b'C',
            b'C' => b'G',
            b'G' => b'T',
            _ => b'A',
        };
    }
    let long = String::from_utf8(long).unwrap();
    let text = format!(
        "{}{}",
        fq("long100k", &long, &"I".repeat(long.len())),
        fastq_head("reads_1.fq.gz", 2)
    );
    let case = Case::new(&[("long.fq", text.as_bytes())]);
    same_as_bwa(&[], &[&case.path("long.fq")]);
    let out = case.mem(&[], &["long.fq"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sam = fs::read_to_string(case.path("out.sam")).unwrap();
    assert!(sam.lines().any(|l| l.starts_with("long100k\t0\tchr")));
}

/// FASTQ where `ferrous index` expects FASTA (the reverse, FASTA reads for
/// `mem`, is accepted as bwa accepts it: see above).
#[test]
fn fastq_given_as_reference() {
    let dir = tempfile::tempdir().unwrap();
    let fq = dir.path().join("reads.fq");
    fs::write(&fq, fastq_head("reads_1.fq.gz", 5)).unwrap();
    let out = ferrous().arg("index").arg(&fq).output().unwrap();
    assert_one_line_error(&out, &["reads.fq", "line 1", "not FASTA"]);
    assert_eq!(entries(dir.path()), vec!["reads.fq".to_string()]);
}
