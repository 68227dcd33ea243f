//! End-to-end: `ferrous mem` against `bwa mem` 0.7.17 on the shipped data,
//! single-end, every SAM line compared. The `@PG` line names the program
//! that wrote the file, so it is the one line that differs by design.
//!
//! Needs `bwa` on PATH (`.ci/run` installs it). Without it the test prints
//! a note and passes, except under CI (`CI` set), where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn ferrous() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrous"))
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/small")
        .join(name)
}

fn bwa_present() -> bool {
    let found = Command::new("bwa").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "bwa must be installed under CI"
        );
        eprintln!("note: bwa is not on PATH; comparison with bwa skipped");
    }
    found
}

/// Both indexes of the shipped reference, built once per test run.
fn indexes() -> &'static (tempfile::TempDir, PathBuf, PathBuf) {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let bwa_ref = dir.path().join("ref.fa");
        std::fs::copy(data("ref.fa"), &bwa_ref).expect("copy reference");
        let st = Command::new("bwa")
            .args(["index"])
            .arg(&bwa_ref)
            .output()
            .expect("run bwa index");
        assert!(st.status.success(), "bwa index failed");
        let ours = dir.path().join("fer");
        let st = ferrous()
            .args(["index", "-p"])
            .arg(&ours)
            .arg(data("ref.fa"))
            .output()
            .expect("run ferrous index");
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        (dir, bwa_ref, ours)
    })
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run aligner");
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("SAM is UTF-8")
}

fn without_pg(sam: &str) -> Vec<&str> {
    sam.lines().filter(|l| !l.starts_with("@PG\t")).collect()
}

/// Runs both aligners with the same options on `reads` and requires the
/// same SAM lines.
fn same_as_bwa(opts: &[&str], reads: &Path) {
    if !bwa_present() {
        return;
    }
    let (_dir, bwa_ref, ours) = indexes();
    let theirs = run(Command::new("bwa")
        .arg("mem")
        .args(opts)
        .arg(bwa_ref)
        .arg(reads));
    let mine = run(ferrous().arg("mem").args(opts).arg(ours).arg(reads));
    let (a, b) = (without_pg(&mine), without_pg(&theirs));
    let differing: Vec<_> = a.iter().zip(&b).filter(|(x, y)| x != y).collect();
    for (x, y) in differing.iter().take(5) {
        eprintln!("ferrous: {x}\nbwa:     {y}\n");
    }
    assert_eq!(a.len(), b.len(), "options {opts:?}: line counts differ");
    assert!(
        differing.is_empty(),
        "options {opts:?}: {} of {} lines differ",
        differing.len(),
        a.len()
    );
}

#[test]
fn default_options_match_bwa() {
    same_as_bwa(&[], &data("reads_1.fq.gz"));
}

#[test]
fn second_reads_file_as_single_end_matches_bwa() {
    same_as_bwa(&[], &data("reads_2.fq.gz"));
}

#[test]
fn output_flags_match_bwa() {
    for opts in [
        &["-M"][..],
        &["-Y"],
        &["-a"],
        &["-5"],
        &["-q"],
        &["-T", "20", "-h", "2"],
    ] {
        same_as_bwa(opts, &data("reads_1.fq.gz"));
    }
}

#[test]
fn scoring_and_seeding_options_match_bwa() {
    for opts in [
        &["-k", "15", "-r", "1.2"][..],
        &["-A", "2", "-B", "5"],
        &["-O", "5,7", "-E", "2,1", "-L", "3,8"],
        &["-w", "20", "-d", "40"],
        &["-c", "50", "-y", "0", "-D", "0.3"],
    ] {
        same_as_bwa(opts, &data("reads_1.fq.gz"));
    }
}

#[test]
fn read_group_and_header_lines_match_bwa() {
    same_as_bwa(
        &["-R", r"@RG\tID:s1\tSM:sample", "-H", "@CO\tmade by a test"],
        &data("reads_1.fq.gz"),
    );
}

/// Output must not depend on the number of threads or, for single-end
/// reads, on the batch size.
#[test]
fn output_does_not_depend_on_threads_or_batch_size() {
    let (_dir, _bwa_ref, ours) = indexes();
    let reads = data("reads_1.fq.gz");
    let base = run(ferrous().args(["mem", "-t", "1"]).arg(ours).arg(&reads));
    for opts in [
        &["-t", "2"][..],
        &["-t", "3", "-K", "50000"],
        &["-t", "1", "-K", "7000"],
    ] {
        let other = run(ferrous().arg("mem").args(opts).arg(ours).arg(&reads));
        assert_eq!(without_pg(&base), without_pg(&other), "options {opts:?}");
    }
}

#[test]
fn output_file_is_written_whole_under_its_name() {
    let (dir, _bwa_ref, ours) = indexes();
    let path = dir.path().join("out.sam");
    let st = ferrous()
        .args(["mem", "-o"])
        .arg(&path)
        .arg(ours)
        .arg(data("reads_1.fq.gz"))
        .output()
        .expect("run ferrous");
    assert!(st.status.success());
    let text = std::fs::read_to_string(&path).expect("output exists");
    assert_eq!(text.lines().filter(|l| !l.starts_with('@')).count(), 2058);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// Long reads (seed filter, z-drop, split alignments), lowercase and IUPAC
/// bases, comments, reads too short to seed and an empty read, in FASTA.
#[test]
fn edge_reads_match_bwa_under_many_options() {
    for opts in [
        &[][..],
        &["-C"],
        &["-V", "-C", "-Y"],
        &["-a", "-M"],
        &["-x", "pacbio"],
        &["-x", "ont2d"],
        &["-x", "intractg"],
        &["-k", "12", "-c", "3"],
        &["-L", "100,100"],
        &["-d", "10", "-w", "5"],
    ] {
        same_as_bwa(opts, &data("reads_edge.fa"));
    }
}
