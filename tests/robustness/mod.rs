//! Helpers shared by the `robustness_*` tests: running the binary, one
//! index of the shipped reference per test binary, checking that a failure
//! is one `error: ` line naming what it should, and listing leftovers.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn ferrous() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrous"))
}

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/small")
        .join(name)
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A directory with `ref.fa` (the shipped reference) indexed by ferrous
/// (`ref.fa.fmi`) and, when bwa is installed, by bwa.
pub struct Indexed {
    pub dir: tempfile::TempDir,
    pub with_bwa: bool,
}

impl Indexed {
    pub fn reference(&self) -> PathBuf {
        self.dir.path().join("ref.fa")
    }
}

pub fn have_bwa() -> bool {
    let found = Command::new("bwa").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "bwa must be installed under CI"
        );
        eprintln!("note: bwa is not on PATH; comparisons with bwa skipped");
    }
    found
}

/// Whether samtools is on PATH (under `CI`, it must be).
pub fn have_samtools() -> bool {
    let found = Command::new("samtools").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "samtools must be installed under CI"
        );
        eprintln!("note: samtools is not on PATH; comparisons with samtools skipped");
    }
    found
}

pub fn indexed() -> &'static Indexed {
    static DIR: OnceLock<Indexed> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("ref.fa");
        fs::copy(data("ref.fa"), &fa).unwrap();
        let out = ferrous().arg("index").arg(&fa).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let with_bwa = have_bwa();
        if with_bwa {
            let out = Command::new("bwa").arg("index").arg(&fa).output().unwrap();
            assert!(out.status.success(), "bwa index failed");
        }
        Indexed { dir, with_bwa }
    })
}

/// Asserts that `out` is a failure reported as exactly one line
/// `error: ...` that contains every one of `needles`, with no panic.
pub fn assert_one_line_error(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert!(!out.status.success(), "should fail; stderr: {err}");
    assert_ne!(out.status.code(), Some(101), "panic exit status: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "exactly one error line: {err}");
    let last = err.lines().last().unwrap_or("");
    assert!(last.starts_with("error: "), "last line is the error: {err}");
    for n in needles {
        assert!(last.contains(n), "{last:?} lacks {n:?}");
    }
}

/// Names of the entries of `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// SAM text without the `@PG` line (it names the program and command).
pub fn without_pg(sam: &[u8]) -> String {
    String::from_utf8_lossy(sam)
        .lines()
        .filter(|l| !l.starts_with("@PG"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The first `n` records of a shipped FASTQ (gzip) as text.
pub fn fastq_head(name: &str, n: usize) -> String {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(data(name)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines().take(4 * n).map(|l| format!("{l}\n")).collect()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// `ferrous mem ARGS -o OUT` on the shipped pairs under a file-size limit
/// of `blocks` (as on a full disk): through `sh`, with SIGXFSZ ignored
/// (an ignored signal stays ignored across exec), so that a write past
/// the limit fails with EFBIG instead of killing the process. `None`
/// where there is no `sh`.
pub fn mem_past_a_size_limit(blocks: u32, args: &[&str], out: &Path) -> Option<Output> {
    if Command::new("sh").arg("-c").arg("true").status().is_err() {
        eprintln!("note: no sh; test skipped");
        return None;
    }
    let script = format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\"");
    Some(
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_ferrous"))
            .arg("mem")
            .args(args)
            .arg("-o")
            .arg(out)
            .arg(indexed().reference())
            .arg(data("reads_1.fq.gz"))
            .arg(data("reads_2.fq.gz"))
            .output()
            .unwrap(),
    )
}
