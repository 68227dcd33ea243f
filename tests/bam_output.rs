//! Issue #18: BAM straight from the workers, bwa 0.7.19's output, bwa's
//! run log. BAM is checked against samtools (`samtools view -h` of
//! ferrous's BAM equals it for ferrous's SAM converted by `samtools view
//! -b`; `samtools quickcheck`), 0.7.19's output against what bwa 0.7.19
//! printed (tests/data/bwa0719). Without samtools the BAM comparisons are
//! skipped with a note, unless `CI` is set: then they fail.

mod robustness;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use robustness::*;

fn ok(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("start");
    assert!(out.status.success(), "{cmd:?}: {}", stderr(&out));
    out.stdout
}

/// `ferrous mem -K 100000` (several batches) on the shipped pairs with
/// extra arguments (the last may be `-o`, followed by `out`).
fn mem(args: &[&str], out: Option<&Path>) -> Command {
    let mut c = ferrous();
    c.args(["mem", "-K", "100000", "-v", "1"]).args(args);
    if let Some(out) = out {
        c.arg("-o").arg(out);
    }
    c.arg(indexed().reference())
        .arg(data("reads_1.fq.gz"))
        .arg(data("reads_2.fq.gz"));
    c
}

/// `samtools view -h` of a BAM or SAM, without `@PG` lines.
fn view(path: &Path) -> String {
    without_pg(&ok(Command::new("samtools")
        .args(["view", "-h", "--no-PG"])
        .arg(path)))
}

/// The BGZF blocks of a file, each as (compressed bytes, uncompressed
/// size).
fn blocks(bgzf: &[u8]) -> Vec<(&[u8], usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bgzf.len() {
        let bsize = u16::from_le_bytes([bgzf[at + 16], bgzf[at + 17]]) as usize + 1;
        let b = &bgzf[at..at + bsize];
        let isize = u32::from_le_bytes(b[bsize - 4..].try_into().unwrap()) as usize;
        out.push((b, isize));
        at += bsize;
    }
    out
}

/// The blocks after the header's (the header has blocks of its own, and
/// its `@PG` line holds the command line).
fn record_blocks(bam: &[u8]) -> Vec<u8> {
    let all = blocks(bam);
    let first_record = all
        .iter()
        .position(|(b, _)| {
            // The header block starts with the magic after inflating; a
            // record block does not. Inflate to tell.
            let mut out = vec![0u8; 65536];
            let n = libdeflater::Decompressor::new()
                .deflate_decompress(&b[18..b.len() - 8], &mut out)
                .expect("inflates");
            n > 0 && &out[..4] != b"BAM\x01"
        })
        .expect("records");
    all[first_record..]
        .iter()
        .flat_map(|(b, _)| b.to_vec())
        .collect()
}

#[test]
fn bam_decodes_to_what_samtools_makes_of_the_sam() {
    if !have_samtools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sam = dir.path().join("out.sam");
    let bam = dir.path().join("out.bam");
    ok(&mut mem(&["-t", "2"], Some(&sam)));
    ok(&mut mem(&["-t", "2"], Some(&bam)));
    ok(Command::new("samtools").arg("quickcheck").arg(&bam));
    let bytes = fs::read(&bam).unwrap();
    assert!(bytes.ends_with(&ferrous::output::bgzf::EOF), "EOF block");
    let converted = dir.path().join("converted.bam");
    ok(Command::new("samtools")
        .args(["view", "--no-PG", "-b", "-o"])
        .arg(&converted)
        .arg(&sam));
    assert_eq!(view(&bam), view(&converted));
    // Every block but the last of each job is full or ends at a record.
    assert!(blocks(&bytes).iter().all(|&(_, n)| n <= 0xff00));
}

#[test]
fn bam_bytes_do_not_depend_on_threads_nor_on_mem_or_emit() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    ok(&mut mem(&["-t", "1"], Some(&path("t1.bam"))));
    ok(&mut mem(&["-t", "3"], Some(&path("t3.bam"))));
    // Standard output, by --output-fmt.
    let stdout = ok(&mut mem(&["-t", "2", "--output-fmt", "bam"], None));
    let t1 = record_blocks(&fs::read(path("t1.bam")).unwrap());
    assert_eq!(t1, record_blocks(&fs::read(path("t3.bam")).unwrap()));
    assert_eq!(t1, record_blocks(&stdout));

    // The stages, then emit to BAM.
    let batches = path("batches");
    let idx = indexed().reference();
    let opts = ["-K", "100000", "-v", "1"];
    ok(ferrous()
        .arg("split")
        .args(opts)
        .arg("-o")
        .arg(&batches)
        .arg(data("reads_1.fq.gz"))
        .arg(data("reads_2.fq.gz")));
    let mut last: Vec<PathBuf> = Vec::new();
    let mut reads: Vec<PathBuf> = fs::read_dir(&batches)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".reads.msgpack.zst"))
        .collect();
    reads.sort();
    for r in reads {
        let mut input = r.clone();
        for stage in ["seed", "chain", "extend", "pair", "rescue"] {
            let out =
                PathBuf::from(input.to_string_lossy().replace(".msgpack.zst", "") + "." + stage);
            ok(ferrous()
                .arg(stage)
                .args(opts)
                .arg(&idx)
                .arg(&input)
                .arg("-o")
                .arg(&out));
            input = out;
        }
        last.push(input);
    }
    ok(ferrous()
        .arg("emit")
        .args(opts)
        .arg("-t")
        .arg("2")
        .arg("-o")
        .arg(path("emit.bam"))
        .arg(&idx)
        .args(&last));
    assert_eq!(t1, record_blocks(&fs::read(path("emit.bam")).unwrap()));
}

#[test]
fn output_of_bwa_0_7_19() {
    let expected = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bwa0719");
    let cases: [(&str, &[&str], &[&str]); 3] = [
        ("pe.sam", &[], &["reads_1.fq", "reads_2.fq"]),
        ("se.sam", &[], &["reads_1.fq"]),
        (
            "pe-hd.sam",
            &[
                "-H",
                r"@HD\tVN:1.6\tSO:unsorted",
                "-R",
                r"@RG\tID:g1\tSM:s1",
            ],
            &["reads_1.fq", "reads_2.fq"],
        ),
    ];
    for (name, args, reads) in cases {
        let out = ferrous()
            .args(["mem", "--bwa-output", "0.7.19"])
            .args(args)
            .arg(indexed().reference())
            .args(reads.iter().map(|r| expected.join(r)))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let want = fs::read(expected.join(name)).unwrap();
        assert_eq!(without_pg(&out.stdout), without_pg(&want), "{name}");
        let warned = stderr(&out).contains(
            "[W::bwa_print_sam_hdr] please don't include @HD with option -H. Continue anyway.",
        );
        assert_eq!(warned, name == "pe-hd.sam", "{name}");
    }
    // 0.7.17's output has neither @HD nor MQ.
    let out = ok(ferrous()
        .args(["mem", "-v", "1"])
        .arg(indexed().reference())
        .arg(expected.join("reads_1.fq"))
        .arg(expected.join("reads_2.fq")));
    let text = String::from_utf8(out).unwrap();
    assert!(!text.starts_with("@HD") && !text.contains("\tMQ:i:"));
}

#[test]
fn run_log_and_usage_as_bwa_prints_them() {
    let out = ferrous()
        .arg("mem")
        .arg(indexed().reference())
        .arg(data("reads_1.fq.gz"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = stderr(&out);
    let tail: Vec<&str> = err.lines().rev().take(3).collect();
    assert!(tail[2].starts_with("[main] Version: "), "{err}");
    assert!(
        tail[1].starts_with("[main] CMD: ") && tail[1].ends_with("reads_1.fq.gz"),
        "{err}"
    );
    assert!(
        tail[0].starts_with("[main] Real time: ") && tail[0].contains(" sec; CPU: "),
        "{err}"
    );
    let out = mem(&[], None).output().unwrap();
    assert!(!stderr(&out).contains("[main]"), "-v 1 is quiet");

    let usage = ferrous().arg("mem").output().unwrap();
    assert_eq!(usage.status.code(), Some(1));
    assert!(usage.stdout.is_empty());
    assert!(
        stderr(&usage).contains("Usage: ferrous mem"),
        "{}",
        stderr(&usage)
    );
}

#[test]
fn bad_formats_and_failed_writes_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str, &str); 4] = [
        (&["--output-fmt", "cram"], "out.bam", "--output-fmt"),
        (&[], "out.cram", "not .cram"),
        (&["-l", "12"], "out.bam", "compression level"),
        (&["--bwa-output", "0.7.18"], "out.sam", "0.7.19"),
    ];
    for (args, name, needle) in cases {
        let out = mem(args, Some(&dir.path().join(name))).output().unwrap();
        assert_one_line_error(&out, &[needle]);
    }
    let out = mem(&[], Some(&dir.path().join("missing/out.bam")))
        .output()
        .unwrap();
    assert_one_line_error(&out, &["out.bam"]);
    assert_eq!(entries(dir.path()), Vec::<String>::new());

    // Past the file-size limit (as on a full disk): nothing is left.
    let script = format!(
        "trap '' XFSZ; ulimit -f 64; exec '{}' mem -o '{}' '{}' '{}' '{}'",
        env!("CARGO_BIN_EXE_ferrous"),
        dir.path().join("out.bam").display(),
        indexed().reference().display(),
        data("reads_1.fq.gz").display(),
        data("reads_2.fq.gz").display()
    );
    let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
    assert_one_line_error(&out, &["out.bam", "File too large"]);
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}
