//! Issue #20: sorted, indexed BAM from `ferrous mem` and `ferrous emit`.
//! Checked against samtools: `samtools view` of ferrous's sorted BAM equals
//! it for `samtools sort` of ferrous's SAM (coordinate and queryname
//! order, ties in input order), the header as samtools sort rewrites it,
//! and the index equal in content to `samtools index`'s (read back with
//! noodles: bins, chunks, linear index or per-bin offsets, counts).
//! Without samtools the comparisons are skipped with a note, unless `CI`
//! is set: then they fail.

mod robustness;

use std::fs;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use robustness::*;

fn ok(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("start");
    assert!(out.status.success(), "{cmd:?}: {}", stderr(&out));
    out.stdout
}

/// `ferrous mem -K 20000` (many batches) on the shipped pairs with `args`
/// (`-v 1` unless they set `-v`) and output `out`.
fn mem(args: &[&str], out: &Path) -> Command {
    let mut c = ferrous();
    c.args(["mem", "-K", "20000"]);
    if !args.contains(&"-v") {
        c.args(["-v", "1"]);
    }
    c.args(args)
        .arg("-o")
        .arg(out)
        .arg(indexed().reference())
        .arg(data("reads_1.fq.gz"))
        .arg(data("reads_2.fq.gz"));
    c
}

/// `samtools view` of a BAM: its records.
fn view(path: &Path, region: &[&str]) -> String {
    String::from_utf8(ok(Command::new("samtools")
        .arg("view")
        .arg(path)
        .args(region)))
    .unwrap()
}

/// The header of a BAM without `@PG` lines (samtools sort adds its own;
/// ferrous's names the command line).
fn header(path: &Path) -> String {
    without_pg(&ok(Command::new("samtools")
        .args(["view", "-H", "--no-PG"])
        .arg(path)))
}

/// ferrous's SAM sorted by `samtools sort` with `args`.
fn samtools_sort(sam: &Path, args: &[&str], out: &Path) {
    ok(Command::new("samtools")
        .arg("sort")
        .args(args)
        .arg("-o")
        .arg(out)
        .arg(sam));
}

/// ferrous's SAM (`mem` with `args`) in `dir`, sorted by `samtools sort`
/// with `sort_args`.
fn sorted_by_samtools(dir: &Path, args: &[&str], sort_args: &[&str]) -> PathBuf {
    let sam = dir.join("out.sam");
    ok(&mut mem(args, &sam));
    let sorted = dir.join(format!("samtools{}.bam", sort_args.concat()));
    samtools_sort(&sam, sort_args, &sorted);
    sorted
}

/// Asserts that the index ferrous wrote beside `bam` equals in content
/// the one `samtools index` makes of the same file.
fn assert_index_as_samtools(bam: &Path, ext: &str) {
    let ours = PathBuf::from(format!("{}.{ext}", bam.display()));
    let theirs = PathBuf::from(format!("{}.samtools.{ext}", bam.display()));
    let flag = if ext == "csi" { "-c" } else { "-b" };
    ok(Command::new("samtools")
        .args(["index", flag])
        .arg(bam)
        .arg(&theirs));
    if ext == "csi" {
        let a = noodles_csi::fs::read(&ours).expect("ferrous's .csi reads back");
        let b = noodles_csi::fs::read(&theirs).expect("samtools' .csi");
        assert_eq!(a, b, "{}", bam.display());
    } else {
        let a = noodles_bam::bai::fs::read(&ours).expect("ferrous's .bai reads back");
        let b = noodles_bam::bai::fs::read(&theirs).expect("samtools' .bai");
        assert_eq!(a, b, "{}", bam.display());
    }
    fs::remove_file(theirs).unwrap();
}

/// The `[M::sort]` line's count of spilled runs.
fn runs_spilled(err: &str) -> usize {
    let line = err
        .lines()
        .find(|l| l.starts_with("[M::sort]"))
        .unwrap_or_else(|| panic!("no [M::sort] line: {err}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|&w| w == "runs").expect("runs");
    words[at - 1].parse().unwrap()
}

#[test]
fn coordinate_order_and_index_as_samtools() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let want = sorted_by_samtools(dir.path(), &["-t", "2"], &[]);
    for threads in ["1", "3"] {
        let bam = dir.path().join(format!("t{threads}.bam"));
        ok(&mut mem(
            &["-t", threads, "--sort", "coordinate", "--write-index"],
            &bam,
        ));
        assert_eq!(view(&bam, &[]), view(&want, &[]), "-t {threads}");
        assert_eq!(header(&bam), header(&want));
        assert!(header(&bam).starts_with("@HD\tVN:1.6\tSO:coordinate\n"));
        ok(Command::new("samtools").arg("quickcheck").arg(&bam));
        assert_index_as_samtools(&bam, "csi");
    }
    // A region read through ferrous's index.
    ok(Command::new("samtools").arg("index").arg(&want));
    let region = ["chrA:50000-90000", "chrC"];
    let got = view(&dir.path().join("t1.bam"), &region);
    assert!(got.lines().count() > 100);
    assert_eq!(got, view(&want, &region));

    let bai = dir.path().join("bai.bam");
    ok(&mut mem(
        &["--sort", "coordinate", "--write-index=bai"],
        &bai,
    ));
    assert!(!dir.path().join("bai.bam.csi").exists());
    assert_index_as_samtools(&bai, "bai");
}

#[test]
fn queryname_order_as_samtools() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let want = sorted_by_samtools(dir.path(), &["-t", "2"], &["-n"]);
    let bam = dir.path().join("q.bam");
    ok(&mut mem(&["-t", "2", "--sort", "queryname"], &bam));
    assert_eq!(view(&bam, &[]), view(&want, &[]));
    assert_eq!(header(&bam), header(&want));
    assert!(header(&bam).starts_with("@HD\tVN:1.6\tSO:queryname\n"));
}

/// bwa 0.7.19's `@HD` (SO:unsorted GO:query) becomes samtools sort's.
#[test]
fn an_existing_hd_line_is_rewritten_as_samtools_sort_does() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let want = sorted_by_samtools(dir.path(), &["--bwa-output", "0.7.19"], &[]);
    let bam = dir.path().join("s.bam");
    ok(&mut mem(
        &["--bwa-output", "0.7.19", "--sort", "coordinate"],
        &bam,
    ));
    assert_eq!(header(&bam), header(&want));
    assert_eq!(view(&bam, &[]), view(&want, &[]));
}

/// A tiny `--sort-memory` spills many runs; the merge gives the same
/// records and index, and no temporary file is left.
#[test]
fn tiny_sort_memory_spills_runs_and_merges_them_to_the_same_output() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    fs::create_dir(&tmp).unwrap();
    let whole = dir.path().join("whole.bam");
    ok(&mut mem(&["--sort", "coordinate", "--write-index"], &whole));
    for (order, threads) in [("coordinate", "1"), ("coordinate", "3"), ("queryname", "2")] {
        let bam = dir.path().join(format!("{order}-{threads}.bam"));
        let t = tmp.to_str().unwrap();
        let mut args = vec!["-t", threads, "-v", "3", "--sort", order];
        args.extend(["--sort-memory", "64K", "--tmp-dir", t]);
        if order == "coordinate" {
            args.push("--write-index");
        }
        let mut c = mem(&args, &bam);
        let out = c.output().unwrap();
        let err = stderr(&out);
        assert!(out.status.success(), "{err}");
        let runs = runs_spilled(&err);
        assert!(runs >= 4, "{runs} runs spilled: {err}");
        assert_eq!(entries(&tmp), Vec::<String>::new(), "temporary files left");
        if order == "coordinate" {
            assert_eq!(view(&bam, &[]), view(&whole, &[]));
            assert_index_as_samtools(&bam, "csi");
        } else {
            let want = sorted_by_samtools(dir.path(), &[], &["-n"]);
            assert_eq!(view(&bam, &[]), view(&want, &[]));
        }
    }
}

/// The stage subcommands end in `emit`, which sorts and indexes as `mem`.
#[test]
fn emit_writes_the_same_sorted_bam_and_index_as_mem() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let batches = dir.path().join("batches");
    let idx = indexed().reference();
    ok(ferrous()
        .args(["split", "-K", "40000", "-o"])
        .arg(&batches)
        .arg(data("reads_1.fq.gz"))
        .arg(data("reads_2.fq.gz")));
    let manifest = fs::read_to_string(batches.join("manifest.tsv")).unwrap();
    let mut last = Vec::new();
    for line in manifest.lines().skip(1) {
        let reads = batches.join(line.split('\t').nth(1).unwrap());
        let name = reads.file_name().unwrap().to_str().unwrap().to_string();
        let at = |stage: &str| reads.with_file_name(name.replace("reads", stage));
        for (step, from, to) in [
            ("seed", "reads", "seeds"),
            ("chain", "seeds", "chains"),
            ("extend", "chains", "regions"),
            ("pair", "regions", "paired"),
            ("rescue", "paired", "rescued"),
        ] {
            ok(ferrous()
                .arg(step)
                .arg(&idx)
                .arg(at(from))
                .arg("-o")
                .arg(at(to)));
        }
        last.push(at("rescued"));
    }
    assert!(last.len() > 1, "one batch only");
    let emitted = dir.path().join("emit.bam");
    ok(ferrous()
        .args([
            "emit",
            "-t",
            "2",
            "--sort",
            "coordinate",
            "--write-index",
            "-o",
        ])
        .arg(&emitted)
        .arg(&idx)
        .args(&last));
    let fused = dir.path().join("mem.bam");
    let mut c = ferrous();
    c.args([
        "mem",
        "-K",
        "40000",
        "-v",
        "1",
        "--sort",
        "coordinate",
        "-o",
    ])
    .arg(&fused)
    .arg(&idx)
    .arg(data("reads_1.fq.gz"))
    .arg(data("reads_2.fq.gz"));
    ok(&mut c);
    assert_eq!(view(&emitted, &[]), view(&fused, &[]));
    assert_index_as_samtools(&emitted, "csi");
}

#[test]
fn sort_options_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let cases: [(&[&str], PathBuf, &[&str]); 8] = [
        (
            &["--sort", "coordinate"],
            p("x.sam"),
            &["--sort writes BAM"],
        ),
        (
            &["--sort", "position"],
            p("x.bam"),
            &["--sort \"position\""],
        ),
        (
            &["--write-index"],
            p("x.bam"),
            &["--write-index goes with --sort"],
        ),
        (
            &["--sort-memory", "1G"],
            p("x.bam"),
            &["--sort-memory goes with --sort"],
        ),
        (
            &["--sort", "queryname", "--write-index"],
            p("x.bam"),
            &["--write-index needs --sort coordinate"],
        ),
        (
            &["--sort", "coordinate", "--sort-memory", "lots"],
            p("x.bam"),
            &["--sort-memory \"lots\""],
        ),
        (
            &["--sort", "coordinate", "--write-index=tbi"],
            p("x.bam"),
            &["csi or bai"],
        ),
        (
            &["--sort", "coordinate", "--tmp-dir", "/no/such/dir"],
            p("x.bam"),
            &["/no/such/dir", "not a directory"],
        ),
    ];
    for (args, out, needles) in cases {
        let o = mem(args, &out).output().unwrap();
        assert_one_line_error(&o, needles);
    }
    // --write-index needs a file.
    let o = ferrous()
        .args(["mem", "--sort", "coordinate", "--write-index"])
        .arg(indexed().reference())
        .arg(data("reads_1.fq.gz"))
        .output()
        .unwrap();
    assert_one_line_error(&o, &["--write-index needs -o FILE.bam"]);
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}

/// Spilling onto a full disk (the file-size limit stands in for one):
/// one error line naming the temporary file, and no file left, final or
/// temporary.
#[test]
fn a_full_disk_while_spilling_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.bam");
    let args = ["-v", "1", "--sort", "coordinate", "--sort-memory", "2M"];
    let Some(out) = mem_past_a_size_limit(64, &[&args[..], &["--write-index"]].concat(), &out_path)
    else {
        return;
    };
    assert_one_line_error(&out, &["out.bam", ".sort-", "File too large"]);
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}

/// SIGTERM while runs are spilled: neither the output nor a temporary
/// file is left.
#[test]
fn sigterm_while_spilling_leaves_nothing() {
    if Command::new("kill").arg("-l").output().is_err() {
        eprintln!("note: no kill; test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ferrous();
    // SAFETY: between fork and exec only async-signal-safe `signal` runs.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut child = cmd
        .args(["mem", "-v", "1", "-K", "20000", "--sort", "coordinate"])
        .args(["--sort-memory", "64K", "-o"])
        .arg(dir.path().join("out.bam"))
        .arg(indexed().reference())
        .arg("-")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = thread::spawn(move || {
        let text = fastq_head("reads_1.fq.gz", 2000);
        for _ in 0..3 {
            if stdin.write_all(text.as_bytes()).is_err() {
                return;
            }
        }
        // The pipe stays open: ferrous waits for more.
        thread::sleep(Duration::from_secs(60));
    });
    let start = Instant::now();
    while !entries(dir.path()).iter().any(|n| n.contains(".sort-")) {
        assert!(child.try_wait().unwrap().is_none(), "ferrous ended early");
        assert!(start.elapsed() < Duration::from_secs(60), "no run spilled");
        thread::sleep(Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert_eq!(entries(dir.path()), Vec::<String>::new());
    drop(feeder);
}
