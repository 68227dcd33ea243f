//! `--trace FILE` end to end on the shipped reads: the trace has a span
//! of every kind the pipeline runs, with the reads of each batch's tasks
//! adding up, and turning it on changes no output byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{data, run};

fn ferrous() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrous"))
}

/// The SAM text without the `@PG` line (whose `CL:` names the command).
fn without_pg(sam: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(sam).expect("utf-8 SAM");
    text.lines()
        .filter(|l| !l.starts_with("@PG\t"))
        .flat_map(|l| [l, "\n"])
        .collect::<String>()
        .into_bytes()
}

/// The complete events of a trace file as (name, args text), one per
/// line as ferrous writes them.
fn spans(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).expect("trace written");
    assert!(text.starts_with("{\"traceEvents\":[\n"), "{text:.80}");
    assert!(text.trim_end().ends_with("}}"));
    text.lines()
        .filter(|l| l.contains("\"ph\":\"X\""))
        .map(|l| {
            let name = l["{\"name\":\"".len()..].split('"').next().unwrap();
            let args = &l[l.find("\"args\":{").expect("args") + 8..];
            (name.to_string(), args.to_string())
        })
        .collect()
}

/// The number after `"key":` in an event's args.
fn arg(args: &str, key: &str) -> Option<u64> {
    let at = args.find(&format!("\"{key}\":"))? + key.len() + 3;
    let digits: String = args[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn index(dir: &Path) -> PathBuf {
    let idx = dir.join("ref");
    run(ferrous()
        .args(["index", "-p"])
        .arg(&idx)
        .arg(data("ref.fa")));
    idx
}

#[test]
fn mem_traces_every_task_and_writes_the_same_sam() {
    let dir = tempfile::tempdir().expect("temp dir");
    let idx = index(dir.path());
    let reads = [data("reads_1.fq.gz"), data("reads_2.fq.gz")];
    let mem = |extra: &[&str]| {
        run(ferrous()
            .args(["mem", "-t", "2", "-K", "200000"])
            .args(extra)
            .arg(&idx)
            .args(&reads))
    };
    let trace = dir.path().join("run.json");
    let traced = mem(&["--trace", trace.to_str().unwrap()]);
    assert_eq!(without_pg(&traced), without_pg(&mem(&[])));
    let spans = spans(&trace);
    let kinds: BTreeMap<&str, usize> = spans.iter().fold(BTreeMap::new(), |mut m, (n, _)| {
        *m.entry(n.as_str()).or_default() += 1;
        m
    });
    for kind in [
        "index",
        "decompress",
        "parse",
        "batch",
        "align",
        "insert_size",
        "pair",
        "write",
    ] {
        assert!(kinds.contains_key(kind), "no {kind} span in {kinds:?}");
    }
    // Per batch (by first read), align and pair tasks cover its reads.
    let mut per_batch: BTreeMap<u64, [u64; 3]> = BTreeMap::new();
    for (name, args) in &spans {
        let b = arg(args, "first_read").expect("first_read");
        let slot = match name.as_str() {
            "batch" => 0,
            "align" => 1,
            "pair" => 2,
            _ => continue,
        };
        per_batch.entry(b).or_default()[slot] += arg(args, "reads").expect("reads");
    }
    assert!(per_batch.len() >= 3, "several batches: {per_batch:?}");
    for (b, [reads, aligned, paired]) in &per_batch {
        assert!(
            *reads > 0 && reads == aligned && reads == paired,
            "batch {b}"
        );
    }
    let total: u64 = per_batch.values().map(|v| v[0]).sum();
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(
        text.contains(&format!("\"reads\":{total},")),
        "run totals in otherData"
    );
    assert!(text.contains("\"threads\":2,") && text.contains("\"layout\":\"paired\""));
    assert!(arg(
        &spans.iter().find(|s| s.0 == "pair").unwrap().1,
        "format_us"
    )
    .is_some());
}

#[test]
fn stage_subcommands_trace_their_tasks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let idx = index(dir.path());
    let batches = dir.path().join("b");
    let split_trace = dir.path().join("split.json");
    run(ferrous()
        .args(["split", "-t", "2", "--trace"])
        .arg(&split_trace)
        .arg("-o")
        .arg(&batches)
        .arg(data("reads_1.fq.gz"))
        .arg(data("reads_2.fq.gz")));
    let names: Vec<String> = spans(&split_trace).into_iter().map(|s| s.0).collect();
    assert!(names.iter().any(|n| n == "parse") && names.iter().any(|n| n == "write_batch"));
    let seed_trace = dir.path().join("seed.json");
    run(ferrous()
        .args(["seed", "-t", "2", "--trace"])
        .arg(&seed_trace)
        .arg(&idx)
        .arg(batches.join("000000.reads.msgpack.zst"))
        .arg("-o")
        .arg(dir.path().join("s.zst")));
    let names: Vec<String> = spans(&seed_trace).into_iter().map(|s| s.0).collect();
    for kind in ["index", "read_batch", "seed", "write_batch"] {
        assert!(names.iter().any(|n| n == kind), "no {kind} in {names:?}");
    }
}

#[test]
fn a_trace_that_cannot_be_created_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = ferrous()
        .args(["mem", "--trace"])
        .arg(dir.path().join("no/such/dir/t.json"))
        .arg(dir.path().join("ref"))
        .arg(data("reads_1.fq.gz"))
        .output()
        .expect("run ferrous");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.starts_with("error: creating ") && err.contains("t.json") && err.lines().count() == 1,
        "{err}"
    );
}
