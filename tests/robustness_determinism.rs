//! Issue #8, determinism: with `-K` fixed, the SAM output does not depend
//! on the number of threads (`-t 1`, `-t 2`, `-t 8`), single-end,
//! paired-end and interleaved (`-p`), on the shipped data. (Staged against
//! fused runs is checked with the stage subcommands.)

mod robustness;

use std::path::PathBuf;

use robustness::*;

fn sam(threads: &str, opts: &[&str], reads: &[PathBuf]) -> String {
    let out = ferrous()
        .args(["mem", "-v", "1", "-K", "50000", "-t", threads])
        .args(opts)
        .arg(indexed().reference())
        .args(reads)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // @PG records the command line, which names -t.
    without_pg(&out.stdout)
}

fn same_for_all_thread_counts(opts: &[&str], reads: &[PathBuf]) {
    let one = sam("1", opts, reads);
    assert!(one.lines().filter(|l| !l.starts_with('@')).count() > 50);
    for t in ["2", "8"] {
        assert!(
            sam(t, opts, reads) == one,
            "-t {t} differs from -t 1 for {opts:?} {reads:?}"
        );
    }
}

#[test]
fn single_end_output_is_independent_of_threads() {
    same_for_all_thread_counts(&[], &[data("reads_1.fq.gz")]);
    same_for_all_thread_counts(&["-a", "-Y"], &[data("reads_edge.fa")]);
}

#[test]
fn paired_end_output_is_independent_of_threads() {
    same_for_all_thread_counts(&[], &[data("reads_1.fq.gz"), data("reads_2.fq.gz")]);
}

#[test]
fn interleaved_output_is_independent_of_threads() {
    let r1 = fastq_head("reads_1.fq.gz", 2000);
    let r2 = fastq_head("reads_2.fq.gz", 2000);
    let mut text = String::new();
    let (a, b): (Vec<&str>, Vec<&str>) = (r1.lines().collect(), r2.lines().collect());
    for k in (0..a.len()).step_by(4) {
        // Every fifth pair loses its second mate: singles between pairs.
        for l in &a[k..k + 4] {
            text.push_str(l);
            text.push('\n');
        }
        if (k / 4) % 5 != 2 {
            for l in &b[k..k + 4] {
                text.push_str(l);
                text.push('\n');
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("interleaved.fq");
    std::fs::write(&path, text).unwrap();
    same_for_all_thread_counts(&["-p"], &[path]);
}
