//! Helpers shared by the end-to-end tests: the shipped data, running a
//! command that must succeed, and an interleaved copy of the shipped pairs.

#![allow(dead_code)] // each test binary uses its own subset

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A file of `data/small`.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/small")
        .join(name)
}

/// Runs `cmd`, which must succeed, and returns its stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("start command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Reads of a gzipped FASTQ as 4-line records.
pub fn records(path: &Path) -> Vec<String> {
    let f = std::fs::File::open(path).expect("open reads");
    let lines: Vec<String> = BufReader::new(flate2::read::MultiGzDecoder::new(f))
        .lines()
        .map(|l| l.expect("read line"))
        .collect();
    lines.chunks(4).map(|c| c.join("\n") + "\n").collect()
}

/// Writes the shipped pairs interleaved to `path`, every 7th pair without
/// its second read, so that smart pairing sees singles as well as pairs.
pub fn write_interleaved(path: &Path) {
    let r1 = records(&data("reads_1.fq.gz"));
    let r2 = records(&data("reads_2.fq.gz"));
    let mut f = std::fs::File::create(path).expect("create");
    for (k, (a, b)) in r1.iter().zip(&r2).enumerate() {
        f.write_all(a.as_bytes()).expect("write");
        if k % 7 != 2 {
            f.write_all(b.as_bytes()).expect("write");
        }
    }
}

/// Whether `bwa` is on PATH; without it a test returns early with a note,
/// except under CI (`CI` set), where a missing bwa is a failure.
pub fn have_bwa() -> bool {
    let found = Command::new("bwa").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "bwa is not on PATH, and CI is set: install bwa 0.7.17"
        );
        eprintln!("note: bwa is not on PATH; skipping a comparison with bwa");
    }
    found
}

/// Runs `cmd`, which must fail with one `error:` line containing `what`
/// (and no panic); returns the line.
pub fn refused(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().expect("start command");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{cmd:?} should fail; stderr: {err}");
    assert!(
        err.starts_with("error: ") && err.lines().count() == 1,
        "{cmd:?}: not a one-line error: {err}"
    );
    assert!(err.contains(what), "{cmd:?}: {err:?} does not say {what:?}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// The reads batch files `ferrous split` wrote into `dir`, from its manifest.
pub fn manifest(dir: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(dir.join("manifest.tsv")).expect("manifest");
    text.lines()
        .skip(1)
        .map(|l| dir.join(l.split('\t').nth(1).expect("file column")))
        .collect()
}

/// The stage outputs' names beside reads batch file `reads`
/// (`N.reads.msgpack.zst` becomes `N.STAGE.msgpack.zst`).
pub fn stage_path(reads: &Path, stage: &str) -> PathBuf {
    let name = reads.file_name().unwrap().to_str().unwrap();
    reads.with_file_name(name.replace("reads", stage))
}
