//! The stage subcommands against the fused `ferrous mem` on the shipped
//! reads (`data/small`): `split` → `seed` → `chain` → `extend` (→ `pair` →
//! `rescue`) → `emit` must give the same SAM byte for byte, but for the
//! `@PG` line's `CL:` (which names the command that ran), whatever the
//! thread count and batch size. Then every refusal of a stage, and what a
//! stage leaves behind when it fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;
use common::{data, manifest, records, refused, run, stage_path};
use ferrous::batch::{
    read_batch, write_batch, write_batch_with_level, Expectation, Stage, FORMAT_VERSION,
};
use ferrous::index::FmIndex;
use ferrous::options::MemOptions;

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn ferrous() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrous"))
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let s = Setup {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        run(ferrous()
            .args(["index", "-p"])
            .arg(s.path("ref"))
            .arg(data("ref.fa")));
        // A second index, of a different reference, for the refusals.
        let r1 = records(&data("reads_1.fq.gz"));
        let other: String = r1[..50]
            .iter()
            .enumerate()
            .map(|(k, r)| format!(">o{k}\n{}\n", r.lines().nth(1).unwrap()))
            .collect();
        std::fs::write(s.path("other.fa"), other).expect("write");
        run(ferrous()
            .args(["index", "-p"])
            .arg(s.path("other"))
            .arg(s.path("other.fa")));
        common::write_interleaved(&s.path("inter.fq"));
        std::fs::write(s.path("empty.fq"), "").expect("write");
        s
    })
}

/// The SAM text with the `@PG` line's command line blanked.
fn without_pg_cl(sam: &[u8]) -> String {
    let text = std::str::from_utf8(sam).expect("utf-8 SAM");
    text.lines()
        .map(|l| match l.find("\tCL:") {
            Some(k) if l.starts_with("@PG\t") => &l[..k],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn idx() -> PathBuf {
    setup().path("ref")
}

fn mem(args: &[&str], threads: &str, inputs: &[PathBuf]) -> Vec<u8> {
    run(ferrous()
        .arg("mem")
        .args(["-t", threads])
        .args(args)
        .arg(idx())
        .args(inputs))
}

/// Splits `inputs` into `dir`, runs every stage on every batch, and emits.
fn staged(dir: &Path, args: &[&str], threads: &str, inputs: &[PathBuf], paired: bool) -> Vec<u8> {
    let _ = std::fs::remove_dir_all(dir);
    run(ferrous()
        .arg("split")
        .args(["-t", threads])
        .args(args)
        .arg("-o")
        .arg(dir)
        .args(inputs));
    let mut steps = vec![
        ("seed", "reads", "seeds"),
        ("chain", "seeds", "chains"),
        ("extend", "chains", "regions"),
    ];
    if paired {
        steps.extend([
            ("pair", "regions", "paired"),
            ("rescue", "paired", "rescued"),
        ]);
    }
    let mut last = Vec::new();
    for reads in manifest(dir) {
        for &(step, from, to) in &steps {
            run(ferrous()
                .arg(step)
                .args(["-t", threads])
                .args(args)
                .arg(idx())
                .arg(stage_path(&reads, from))
                .arg("-o")
                .arg(stage_path(&reads, to)));
        }
        last.push(stage_path(&reads, steps.last().unwrap().2));
    }
    // Reversed on purpose: emit orders the batches itself.
    last.reverse();
    run(ferrous()
        .arg("emit")
        .args(["-t", threads])
        .args(args)
        .arg(idx())
        .args(&last))
}

/// Every file of `dir`, by name, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| {
            let e = e.expect("entry");
            let bytes = std::fs::read(e.path()).expect("read");
            (e.file_name().into_string().expect("utf-8 name"), bytes)
        })
        .collect();
    v.sort();
    v
}

fn same_as_mem(name: &str, args: &[&str], inputs: &[PathBuf], paired: bool, min_batches: usize) {
    let s = setup();
    let want = without_pg_cl(&mem(args, "2", inputs));
    // Every batch file, not just the SAM, is the same for any thread count.
    let one = s.path(&format!("{name}-t1"));
    let three = s.path(&format!("{name}-t3"));
    for threads in ["1", "3"] {
        let dir = s.path(&format!("{name}-t{threads}"));
        let got = without_pg_cl(&staged(&dir, args, threads, inputs, paired));
        assert!(
            manifest(&dir).len() >= min_batches,
            "{name}: expected at least {min_batches} batches"
        );
        if got != want {
            let first = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(got.lines().count().min(want.lines().count()));
            panic!(
                "{name} -t {threads} {args:?}: staged output differs from mem at line {}:\n  staged {:?}\n  mem    {:?}",
                first + 1,
                got.lines().nth(first),
                want.lines().nth(first)
            );
        }
    }
    let (a, b) = (files(&one), files(&three));
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for (x, y) in a.iter().zip(&b) {
        assert!(x.1 == y.1, "{name}: {} differs between -t 1 and -t 3", x.0);
    }
}

fn pairs() -> Vec<PathBuf> {
    vec![data("reads_1.fq.gz"), data("reads_2.fq.gz")]
}

#[test]
fn paired_staged_equals_mem_in_several_batch_sizes() {
    same_as_mem("pe-100k", &["-K", "100000"], &pairs(), true, 6);
    same_as_mem("pe-250k", &["-K", "250000"], &pairs(), true, 3);
    // One batch holding everything: the insert-size model of the whole run.
    same_as_mem("pe-all", &["-K", "10000000"], &pairs(), true, 1);
}

#[test]
fn paired_staged_equals_mem_with_output_and_pairing_options() {
    let rg = "@RG\\tID:s1\\tSM:sample";
    same_as_mem(
        "pe-opts",
        &["-K", "150000", "-M", "-Y", "-C", "-R", rg, "-5", "-q"],
        &pairs(),
        true,
        4,
    );
    same_as_mem(
        "pe-noresc",
        &["-K", "150000", "-S", "-P"],
        &pairs(),
        true,
        4,
    );
    same_as_mem(
        "pe-ins",
        &["-K", "150000", "-I", "350,50", "-a"],
        &pairs(),
        true,
        4,
    );
}

#[test]
fn single_end_staged_equals_mem() {
    same_as_mem(
        "se-fq",
        &["-K", "60000"],
        &[data("reads_1.fq.gz")],
        false,
        5,
    );
    // Long, lowercase, IUPAC, comment-carrying and empty reads.
    same_as_mem(
        "se-edge",
        &["-K", "30000", "-C"],
        &[data("reads_edge.fa")],
        false,
        2,
    );
}

#[test]
fn smart_paired_staged_equals_mem() {
    let s = setup();
    same_as_mem(
        "sp",
        &["-p", "-K", "120000"],
        &[s.path("inter.fq")],
        true,
        4,
    );
}

#[test]
fn empty_input_gives_one_empty_batch_and_the_header() {
    let s = setup();
    let inputs = [s.path("empty.fq")];
    same_as_mem("empty-se", &["-K", "1000"], &inputs, false, 1);
    same_as_mem(
        "empty-pe",
        &["-K", "1000"],
        &[s.path("empty.fq"), s.path("empty.fq")],
        true,
        1,
    );
}

/// The reads' frames of the batch file at `path`: all that follows frame 1.
fn reads_frame(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).expect("read");
    let first = zstd::zstd_safe::find_frame_compressed_size(&bytes).expect("frame 1");
    bytes[first..].to_vec()
}

/// Each stage writes the reads' frame of the batch it read back as it is,
/// not compressed anew: a reads batch rewritten at zstd level 19 (ferrous
/// writes level 1) keeps that level's reads frame through every stage,
/// and the run still gives `mem`'s SAM.
#[test]
fn stages_write_the_reads_frame_they_read_verbatim() {
    let s = setup();
    let dir = s.path("carried");
    let args = ["-K", "200000"];
    run(ferrous()
        .arg("split")
        .args(args)
        .arg("-o")
        .arg(&dir)
        .args(pairs()));
    let expect = Expectation {
        stage: Stage::Reads,
        index_fingerprint: 0,
        options_fingerprint: MemOptions::default().fingerprint(),
        alt_contigs: vec![],
    };
    let batches = manifest(&dir);
    for b in &batches {
        let level1 = reads_frame(b);
        let mut batch = read_batch(b, &expect).expect("reads batch");
        drop(batch.take_reads_frame());
        write_batch_with_level(b, &batch, 19).expect("rewrite");
        let level19 = reads_frame(b);
        assert_ne!(level19, level1, "level 19 compresses differently");
        let steps = [
            ("seed", "reads", "seeds"),
            ("chain", "seeds", "chains"),
            ("extend", "chains", "regions"),
            ("pair", "regions", "paired"),
            ("rescue", "paired", "rescued"),
        ];
        for (step, from, to) in steps {
            run(ferrous()
                .arg(step)
                .args(args)
                .arg(idx())
                .arg(stage_path(b, from))
                .arg("-o")
                .arg(stage_path(b, to)));
            assert!(
                reads_frame(&stage_path(b, to)) == level19,
                "{step} did not write the reads' frame it read"
            );
        }
    }
    let last: Vec<PathBuf> = batches.iter().map(|b| stage_path(b, "rescued")).collect();
    let got = run(ferrous().arg("emit").args(args).arg(idx()).args(&last));
    assert_eq!(
        without_pg_cl(&got),
        without_pg_cl(&mem(&args, "2", &pairs()))
    );
}

/// A small paired run in `dir`, one stage output per kind, for the refusals.
fn small_run(dir: &Path) -> Vec<PathBuf> {
    staged(dir, &["-K", "200000"], "2", &pairs(), true);
    manifest(dir)
}

#[test]
fn stages_refuse_batches_from_another_stage_index_or_options() {
    let s = setup();
    let dir = s.path("refusals");
    let batches = small_run(&dir);
    let b0 = &batches[0];
    let out = dir.join("out");
    // Another stage's batch.
    refused(
        ferrous()
            .arg("chain")
            .arg(idx())
            .arg(stage_path(b0, "regions"))
            .arg("-o")
            .arg(&out),
        "written by `extend`",
    );
    refused(
        ferrous()
            .arg("seed")
            .arg(idx())
            .arg(stage_path(b0, "seeds"))
            .arg("-o")
            .arg(&out),
        "expected one written by `reads`",
    );
    // Other options (and the fingerprint ignores -t, -K and -v).
    refused(
        ferrous()
            .args(["extend", "-k", "15"])
            .arg(idx())
            .arg(stage_path(b0, "chains"))
            .arg("-o")
            .arg(&out),
        "made with other options",
    );
    run(ferrous()
        .args(["extend", "-t", "3", "-K", "5", "-v", "1"])
        .arg(idx())
        .arg(stage_path(b0, "chains"))
        .arg("-o")
        .arg(&out));
    // Another index.
    refused(
        ferrous()
            .arg("extend")
            .arg(s.path("other"))
            .arg(stage_path(b0, "chains"))
            .arg("-o")
            .arg(&out),
        "made with another index",
    );
    // Emit wants the last stage of the run's layout.
    refused(
        ferrous()
            .arg("emit")
            .arg(idx())
            .arg(stage_path(b0, "regions")),
        "expected one written by `rescue`",
    );
}

#[test]
fn stages_refuse_damaged_batches_and_leave_no_output() {
    let s = setup();
    let dir = s.path("damaged");
    let batches = small_run(&dir);
    let seeds = stage_path(&batches[0], "seeds");
    let bytes = std::fs::read(&seeds).expect("read");
    let cut = dir.join("cut.seeds");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let out = dir.join("never");
    refused(
        ferrous()
            .arg("chain")
            .arg(idx())
            .arg(&cut)
            .arg("-o")
            .arg(&out),
        "truncated",
    );
    let mut flipped = bytes.clone();
    let k = flipped.len() - 10;
    flipped[k] ^= 0x40;
    let bad = dir.join("bad.seeds");
    std::fs::write(&bad, &flipped).expect("write");
    refused(
        ferrous()
            .arg("chain")
            .arg(idx())
            .arg(&bad)
            .arg("-o")
            .arg(&out),
        "corrupt",
    );
    refused(
        ferrous()
            .arg("chain")
            .arg(idx())
            .arg(data("ref.fa"))
            .arg("-o")
            .arg(&out),
        "not a ferrous batch file",
    );
    // A batch of another format version (re-encoded by the library with
    // the version changed).
    let expect = Expectation {
        stage: Stage::Seeds,
        index_fingerprint: FmIndex::open(idx()).expect("index").fingerprint(),
        options_fingerprint: MemOptions::default().fingerprint(),
        alt_contigs: vec![],
    };
    let mut old = read_batch(&seeds, &expect).expect("valid batch");
    old.header.version = FORMAT_VERSION - 1;
    let old_path = dir.join("old.seeds");
    write_batch(&old_path, &old).expect("write");
    refused(
        ferrous()
            .arg("chain")
            .arg(idx())
            .arg(&old_path)
            .arg("-o")
            .arg(&out),
        &format!("batch format version {}", FORMAT_VERSION - 1),
    );
    assert!(!out.exists(), "a failed stage left {}", out.display());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn pair_and_rescue_refuse_single_end_batches() {
    let s = setup();
    let dir = s.path("se-refusal");
    staged(&dir, &[], "2", &[data("reads_1.fq.gz")], false);
    let b0 = &manifest(&dir)[0];
    refused(
        ferrous()
            .arg("pair")
            .arg(idx())
            .arg(stage_path(b0, "regions"))
            .arg("-o")
            .arg(dir.join("x")),
        "single-end batch",
    );
}

#[test]
fn emit_refuses_an_incomplete_or_mixed_set_of_batches() {
    let s = setup();
    let dir = s.path("emit-sets");
    let batches = small_run(&dir);
    assert!(batches.len() >= 3, "need 3 batches, got {}", batches.len());
    let rescued: Vec<PathBuf> = batches.iter().map(|b| stage_path(b, "rescued")).collect();
    let sam = dir.join("out.sam");
    // A batch missing in the middle, at the start, at the end.
    refused(
        ferrous()
            .arg("emit")
            .arg("-o")
            .arg(&sam)
            .arg(idx())
            .arg(&rescued[0])
            .args(&rescued[2..]),
        "batch 1 is missing",
    );
    refused(
        ferrous().arg("emit").arg(idx()).args(&rescued[1..]),
        "batch 0 is missing",
    );
    refused(
        ferrous()
            .arg("emit")
            .arg(idx())
            .args(&rescued[..rescued.len() - 1]),
        "no later batch was given",
    );
    // The same batch twice.
    refused(
        ferrous()
            .arg("emit")
            .arg(idx())
            .args(&rescued)
            .arg(&rescued[1]),
        "given twice",
    );
    // A batch of another run (different batch size) in place of batch 1.
    let other = s.path("emit-other");
    staged(&other, &["-K", "100000"], "2", &pairs(), true);
    let foreign = stage_path(&manifest(&other)[1], "rescued");
    refused(
        ferrous()
            .arg("emit")
            .arg(idx())
            .arg(&rescued[0])
            .arg(&foreign)
            .args(&rescued[2..]),
        "batches of different runs",
    );
    assert!(!sam.exists(), "a failed emit left {}", sam.display());
    // The whole set, written to a file.
    run(ferrous()
        .arg("emit")
        .arg("-o")
        .arg(&sam)
        .arg(idx())
        .args(&rescued));
    let text = std::fs::read_to_string(&sam).expect("SAM written");
    assert!(text.starts_with("@SQ\t") && text.lines().count() > 4000);
}

#[test]
fn split_writes_batches_as_mem_cuts_them_and_the_manifest_last() {
    let s = setup();
    let dir = s.path("split");
    run(ferrous()
        .args(["split", "-K", "100000", "-o"])
        .arg(&dir)
        .args(pairs()));
    let text = std::fs::read_to_string(dir.join("manifest.tsv")).expect("manifest");
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    // bwa's batches: whole pairs until at least 100000 bases (2 x 150 bp reads).
    assert_eq!(rows.len(), 6);
    let mut next = 0u64;
    for (k, r) in rows.iter().enumerate() {
        assert_eq!(r[0], k.to_string());
        assert_eq!(r[1], format!("{k:06}.reads.msgpack.zst"));
        assert_eq!(r[2].parse::<u64>().unwrap(), next);
        next += r[3].parse::<u64>().unwrap();
    }
    assert_eq!(next, 4000);
    // Each stage says what it did in one line on stderr.
    let out = ferrous()
        .arg("seed")
        .arg(idx())
        .arg(dir.join("000000.reads.msgpack.zst"))
        .arg("-o")
        .arg(dir.join("000000.seeds.msgpack.zst"))
        .output()
        .expect("run seed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("[ferrous seed] batch 0: 668 reads (100200 bp) from read 0 in "),
        "{err}"
    );
    refused(
        ferrous()
            .args(["split", "-p", "-o"])
            .arg(&dir)
            .args(pairs()),
        "-p",
    );
}
