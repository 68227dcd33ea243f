//! bwa's index files: `ferrous index --from-bwa` against the FASTA build,
//! `ferrous mem` given only bwa's files against `bwa mem`, and damaged,
//! truncated or mixed-up file sets refused with one line, leaving nothing.
//!
//! Needs `bwa` (0.7.17) on PATH: skipped with a note without it, except
//! under CI (`CI` set), where a missing bwa is a failure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ferrous::index::{build_index, BuildOptions, FmIndex};

mod common;
use common::{data, have_bwa, run};

const BIN: &str = env!("CARGO_BIN_EXE_ferrous");
const EXTS: [&str; 5] = ["bwt", "sa", "pac", "ann", "amb"];

fn file(prefix: &Path, ext: &str) -> PathBuf {
    PathBuf::from(format!("{}.{ext}", prefix.display()))
}

/// `bwa index -p PREFIX FASTA`.
fn bwa_index(fasta: &Path, prefix: &Path) {
    run(Command::new("bwa")
        .args(["index", "-p"])
        .arg(prefix)
        .arg(fasta));
}

/// A reference of `contigs` pseudo-random contigs (annotations, runs of N,
/// IUPAC codes, lowercase) of `len` bases in all.
fn fasta(len: usize, contigs: usize, seed: u64) -> String {
    let mut x = seed;
    let mut s = String::new();
    for c in 0..contigs {
        s.push_str(&format!(">ctg{c}"));
        if c % 2 == 0 {
            s.push_str(&format!(" annotation of\tcontig {c}"));
        }
        s.push('\n');
        let part = len / contigs + if c == 0 { len % contigs } else { 0 };
        for i in 0..part {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let b = match i % 997 {
                0..=9 if c == 1 => b'N',
                10 => b"RYKMSWn"[(x >> 61) as usize % 7],
                _ => b"ACGTacgt"[(x >> 61) as usize],
            };
            s.push(b as char);
            if i % 70 == 69 {
                s.push('\n');
            }
        }
        s.push('\n');
    }
    s
}

/// A fresh directory with `fasta` indexed by bwa under `dir/bwa`.
fn bwa_set(fasta_text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("ref.fa");
    fs::write(&fa, fasta_text).unwrap();
    let prefix = dir.path().join("bwa");
    bwa_index(&fa, &prefix);
    (dir, prefix)
}

fn from_bwa(prefix: &Path, out: Option<&Path>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["index", "--from-bwa"]).arg(prefix);
    if let Some(out) = out {
        cmd.arg("-p").arg(out);
    }
    cmd.output().unwrap()
}

/// The converted index is the FASTA build with bwa's SA interval, byte for
/// byte, whether `n` is a multiple of 128 (a closing block of totals) or
/// not; the in-memory conversion gives the same image.
#[test]
fn converted_index_is_the_fasta_build() {
    if !have_bwa() {
        return;
    }
    for (len, contigs) in [(6400, 3), (7001, 4), (64, 1), (3, 1)] {
        let text = fasta(len, contigs, len as u64);
        let (dir, prefix) = bwa_set(&text);
        let out = from_bwa(&prefix, Some(&dir.path().join("conv")));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let own = dir.path().join("own");
        let opts = BuildOptions {
            sa_intv: Some(32),
            ..BuildOptions::default()
        };
        build_index(&dir.path().join("ref.fa"), Some(&own), &opts).unwrap();
        let conv_bytes = fs::read(dir.path().join("conv.fmi")).unwrap();
        assert!(
            conv_bytes == fs::read(dir.path().join("own.fmi")).unwrap(),
            "L = {len}: converted and FASTA-built indexes differ"
        );
        let file_idx = FmIndex::open(dir.path().join("conv")).unwrap();
        let mem_idx = FmIndex::from_bwa(&prefix).unwrap();
        assert_eq!(file_idx.fingerprint(), mem_idx.fingerprint());
        mem_idx.verify().unwrap();
        assert_eq!(file_idx.sa_intv(), 32);
        assert_eq!(file_idx.contigs(), mem_idx.contigs());
    }
}

fn without_pg(sam: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(sam)
        .lines()
        .filter(|l| !l.starts_with("@PG"))
        .map(str::to_owned)
        .collect()
}

/// `ferrous mem PREFIX` where only bwa's files exist converts them in
/// memory (and says so); its SAM, and that from the converted file, equal
/// bwa mem's. A stage job refuses with the command that converts them.
#[test]
fn mem_on_bwa_files_matches_bwa_mem() {
    if !have_bwa() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("ref.fa");
    fs::copy(data("ref.fa"), &fa).unwrap();
    run(Command::new("bwa").arg("index").arg(&fa));
    let reads = [data("reads_1.fq.gz"), data("reads_2.fq.gz")];
    let theirs = run(Command::new("bwa").arg("mem").arg(&fa).args(&reads));
    let out = Command::new(BIN)
        .arg("mem")
        .arg(&fa)
        .args(&reads)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(
        note.contains("converted bwa's index files") && note.contains("--from-bwa"),
        "{note}"
    );
    let want = without_pg(&theirs);
    assert!(want.len() > 1000);
    assert_eq!(without_pg(&out.stdout), want, "in-memory conversion");

    let stage = Command::new(BIN)
        .args(["seed", "-t", "1"])
        .arg(&fa)
        .arg(dir.path().join("none.reads.msgpack.zst"))
        .arg("-o")
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&stage.stderr);
    assert!(!stage.status.success());
    assert!(err.contains("ferrous index --from-bwa"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    let conv = from_bwa(&fa, None);
    assert!(
        conv.status.success(),
        "{}",
        String::from_utf8_lossy(&conv.stderr)
    );
    assert!(dir.path().join("ref.fa.fmi").is_file());
    let ours = run(Command::new(BIN).arg("mem").arg(&fa).args(&reads));
    assert_eq!(without_pg(&ours), want, "converted file");
}

/// A damage to one of bwa's files (by extension).
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// The last bytes cut off (all of them with `usize::MAX`).
    Cut(&'static str, usize),
    /// Byte `at` (from the end when negative) XORed with a mask.
    Flip(&'static str, isize, u8),
    /// Ten pairs of neighbouring SA samples swapped.
    SwapSamples,
    /// The file of the other reference (same length) copied in.
    Other(&'static str),
    /// `.amb`'s length one more.
    AmbLength,
    Remove(&'static str),
}

impl Damage {
    fn apply(self, prefix: &Path, other: &Path) {
        let path = |ext| file(prefix, ext);
        let edit = |ext, f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = fs::read(path(ext)).unwrap();
            f(&mut b);
            fs::write(path(ext), b).unwrap();
        };
        match self {
            Damage::Cut(ext, by) => edit(ext, &|b| b.truncate(b.len().saturating_sub(by))),
            Damage::Flip(ext, at, mask) => edit(ext, &|b| {
                let at = if at < 0 {
                    b.len() - at.unsigned_abs()
                } else {
                    at as usize
                };
                b[at] ^= mask;
            }),
            Damage::SwapSamples => edit("sa", &|b| swap_samples(b)),
            Damage::Other(ext) => {
                fs::copy(file(other, ext), path(ext)).unwrap();
            }
            Damage::AmbLength => edit("amb", &|b| {
                let text = String::from_utf8(b.clone()).unwrap();
                let (head, rest) = text.split_once(' ').unwrap();
                let l: u64 = head.parse().unwrap();
                *b = format!("{} {rest}", l + 1).into_bytes();
            }),
            Damage::Remove(ext) => fs::remove_file(path(ext)).unwrap(),
        }
    }
}

/// Swaps ten pairs of neighbouring SA samples in the middle of `.sa`.
fn swap_samples(b: &mut [u8]) {
    let n = (b.len() - 56) / 8;
    for k in 0..10 {
        let i = 56 + 8 * (n / 3 + 7 * k);
        let (x, y) = b.split_at_mut(i + 8);
        x[i..].swap_with_slice(&mut y[..8]);
    }
}

/// The one error line of a failed run (progress lines may come before it).
fn error_line(out: &Output, what: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{what}: {err}");
    assert!(err.trim_end().ends_with(errors[0]), "{what}: {err}");
    errors[0].to_owned()
}

/// Each damage gives a failure, one line of error naming the damaged file
/// (or one it disagrees with) and what is wrong, and no index file, final
/// or temporary; `ferrous mem` is refused the same way.
#[test]
fn damaged_or_mixed_sets_are_refused() {
    if !have_bwa() {
        return;
    }
    use Damage::*;
    let cases = [
        ("truncated .sa", "bwa.sa", Cut("sa", 8)),
        ("truncated .bwt", "bwa.bwt", Cut("bwt", 4)),
        ("truncated .pac", "bwa.pac", Cut("pac", 1)),
        ("empty .sa", "bwa.sa", Cut("sa", usize::MAX)),
        (
            "a BWT character",
            "bwa.bwt",
            Flip("bwt", 40 + 64 * 20 + 40, 0x01),
        ),
        ("the last BWT character", "bwa.bwt", Flip("bwt", -33, 0x40)),
        ("a BWT count", "bwa.bwt", Flip("bwt", 40 + 64 * 5, 0x01)),
        ("the primary row", "bwa.bwt", Flip("bwt", 0, 0x04)),
        ("SA samples", "bwa.sa", SwapSamples),
        (
            "an SA sample's high byte",
            "bwa.sa",
            Flip("sa", 56 + 8 * 40 + 6, 0x01),
        ),
        ("the .pac trailer", "bwa.pac", Flip("pac", -1, 0x04)),
        ("one base of .pac", "bwa.pac", Flip("pac", 1234, 0x10)),
        ("another reference's .sa", "bwa.sa", Other("sa")),
        ("another reference's .pac", "bwa.pac", Other("pac")),
        ("another reference's .bwt", "bwa.bwt", Other("bwt")),
        ("an .amb of another length", "bwa.amb", AmbLength),
        ("an .ann cut short", "bwa.ann", Cut("ann", 12)),
        ("a missing .ann", "bwa.ann", Remove("ann")),
        ("a missing .sa", "bwa.sa", Remove("sa")),
    ];
    // Two references of the same length: one to damage, one to mix in.
    let (_clean_dir, clean) = bwa_set(&fasta(20000, 3, 5));
    let (_other_dir, other) = bwa_set(&fasta(20000, 3, 6));
    for (what, names, damage) in cases {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("bwa");
        for ext in EXTS {
            fs::copy(file(&clean, ext), file(&prefix, ext)).unwrap();
        }
        damage.apply(&prefix, &other);
        let out = from_bwa(&prefix, None);
        assert!(!out.status.success(), "{what}: accepted");
        let err = error_line(&out, what);
        assert!(
            err.contains(names),
            "{what}: error does not name {names}: {err}"
        );
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("fmi") || n.contains("tmp"))
            .collect();
        assert!(left.is_empty(), "{what}: left {left:?}");

        let sam = dir.path().join("out.sam");
        let mem = Command::new(BIN)
            .arg("mem")
            .arg(&prefix)
            .arg(data("reads_1.fq.gz"))
            .arg("-o")
            .arg(&sam)
            .output()
            .unwrap();
        assert!(!mem.status.success(), "mem, {what}: accepted");
        assert!(error_line(&mem, what).contains(names));
        assert!(!sam.exists(), "mem, {what}: wrote output");
    }
}
