//! Paired-end `ferrous mem` against `bwa mem` 0.7.17 on the shipped reads
//! (`data/small`): every SAM line but `@PG` must be identical.
//!
//! Skipped with a note when `bwa` is not on PATH, unless `CI` is set (then
//! a missing bwa is a failure).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

mod common;
use common::{data, run};

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn have_bwa() -> bool {
    let found = Command::new("bwa").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "bwa is not on PATH, and CI is set: install bwa 0.7.17"
        );
        eprintln!("note: bwa is not on PATH; skipping the comparison with bwa mem");
    }
    found
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let s = Setup { dir };
        std::fs::copy(data("ref.fa"), s.path("ref.fa")).expect("copy ref");
        run(Command::new(env!("CARGO_BIN_EXE_ferrous"))
            .arg("index")
            .arg(s.path("ref.fa")));
        run(Command::new("bwa").arg("index").arg(s.path("ref.fa")));
        common::write_interleaved(&s.path("inter.fq"));
        s
    })
}

fn without_pg(sam: &[u8]) -> Vec<&str> {
    std::str::from_utf8(sam)
        .expect("utf-8 SAM")
        .lines()
        .filter(|l| !l.starts_with("@PG"))
        .collect()
}

/// Runs both aligners with `args` then `inputs` and compares the SAM.
fn compare(args: &[&str], inputs: &[PathBuf]) {
    let s = setup();
    let idx = s.path("ref.fa");
    let ours = run(Command::new(env!("CARGO_BIN_EXE_ferrous"))
        .arg("mem")
        .args(args)
        .arg(&idx)
        .args(inputs));
    let theirs = run(Command::new("bwa")
        .arg("mem")
        .args(args)
        .arg(&idx)
        .args(inputs));
    let (o, t) = (without_pg(&ours), without_pg(&theirs));
    for (k, (a, b)) in o.iter().zip(&t).enumerate() {
        assert_eq!(a, b, "{args:?}: line {} differs", k + 1);
    }
    assert_eq!(o.len(), t.len(), "{args:?}: line counts differ");
    assert!(o.len() > 1000, "{args:?}: too little output");
}

fn two_files() -> Vec<PathBuf> {
    vec![data("reads_1.fq.gz"), data("reads_2.fq.gz")]
}

#[test]
fn paired_defaults_and_pairing_switches_match_bwa() {
    if !have_bwa() {
        return;
    }
    for args in [
        &[][..],
        &["-P"][..],
        &["-S"][..],
        &["-I", "350,50"][..],
        &["-a"][..],
    ] {
        compare(args, &two_files());
    }
}

#[test]
fn paired_output_follows_batches_not_threads() {
    if !have_bwa() {
        return;
    }
    compare(&["-K", "100000"], &two_files());
    compare(&["-t", "1"], &two_files());
    compare(&["-t", "2"], &two_files());
    // Within one -K, the thread count changes nothing in ferrous either.
    let s = setup();
    let go = |t: &str| {
        run(Command::new(env!("CARGO_BIN_EXE_ferrous"))
            .args(["mem", "-K", "60000", "-t", t])
            .arg(s.path("ref.fa"))
            .args(two_files()))
    };
    assert_eq!(without_pg(&go("1")), without_pg(&go("2")));
}

#[test]
fn smart_pairing_of_interleaved_reads_matches_bwa() {
    if !have_bwa() {
        return;
    }
    let inter = vec![setup().path("inter.fq")];
    compare(&["-p"], &inter);
    compare(&["-p", "-K", "50000"], &inter);
}
