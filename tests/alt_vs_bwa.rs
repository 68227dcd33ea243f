//! ALT-aware alignment (bwa's `PREFIX.alt`, GRCh38's ALT haplotypes)
//! against `bwa mem` 0.7.17 on `tests/data/alt` (made by
//! `scripts/make-alt-data.py`: two primary chromosomes, six ALT contigs
//! diverged 0.5-3%, reads from both): every SAM line but `@PG` must be
//! identical, with and without `-j`, single-end, paired-end and `-p`, from
//! a FASTA-built index, from bwa's own index files (`.64` naming too) and
//! through the stage subcommands. Then what ferrous does with an `.alt`
//! file bwa would misread, and the stages' refusal of a batch made with
//! another ALT set.
//!
//! The comparisons are skipped with a note when `bwa` is not on PATH,
//! unless `CI` is set (then a missing bwa is a failure).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;
use common::{have_bwa, manifest, records, refused, run, stage_path};

/// How many ALT contigs `tests/data/alt/ref.fa.gz.alt` names.
const N_ALT: usize = 6;

fn alt_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/alt")
        .join(name)
}

fn ferrous() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrous"))
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// `ref.fa.gz` with its `.alt`, indexed by ferrous (and by bwa when it is
/// there); `b64/ref.fa.gz.64.*`, bwa's `-6` index files with the GATK
/// bundle's `.64.alt` naming; `inter.fq`, the pairs interleaved with every
/// 7th read 2 left out.
fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let s = Setup {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        std::fs::copy(alt_data("ref.fa.gz"), s.path("ref.fa.gz")).expect("copy ref");
        std::fs::copy(alt_data("ref.fa.gz.alt"), s.path("ref.fa.gz.alt")).expect("copy alt");
        run(ferrous().arg("index").arg(s.path("ref.fa.gz")));
        if Command::new("bwa").output().is_ok() {
            run(Command::new("bwa").arg("index").arg(s.path("ref.fa.gz")));
            std::fs::create_dir(s.path("b64")).expect("mkdir");
            std::fs::copy(alt_data("ref.fa.gz"), s.path("b64/ref.fa.gz")).expect("copy");
            std::fs::copy(alt_data("ref.fa.gz.alt"), s.path("b64/ref.fa.gz.64.alt")).expect("copy");
            run(Command::new("bwa")
                .args(["index", "-6"])
                .arg(s.path("b64/ref.fa.gz")));
        }
        let r1 = records(&alt_data("reads_1.fq.gz"));
        let r2 = records(&alt_data("reads_2.fq.gz"));
        let mut inter = String::new();
        for (k, (a, b)) in r1.iter().zip(&r2).enumerate() {
            inter.push_str(a);
            if k % 7 != 2 {
                inter.push_str(b);
            }
        }
        std::fs::write(s.path("inter.fq"), inter).expect("write");
        s
    })
}

fn idx() -> PathBuf {
    setup().path("ref.fa.gz")
}

fn pairs() -> Vec<PathBuf> {
    vec![alt_data("reads_1.fq.gz"), alt_data("reads_2.fq.gz")]
}

fn single() -> Vec<PathBuf> {
    vec![alt_data("reads_1.fq.gz")]
}

fn without_pg(sam: &[u8]) -> Vec<String> {
    std::str::from_utf8(sam)
        .expect("utf-8 SAM")
        .lines()
        .filter(|l| !l.starts_with("@PG"))
        .map(str::to_owned)
        .collect()
}

/// Runs `cmd`, which must succeed; returns stdout and stderr.
fn run_both(cmd: &mut Command) -> (Vec<u8>, String) {
    let out = cmd.output().expect("start command");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{cmd:?} failed: {err}");
    (out.stdout, err)
}

fn bwa_mem(idx: &Path, args: &[&str], inputs: &[PathBuf]) -> Vec<String> {
    without_pg(&run(Command::new("bwa")
        .arg("mem")
        .args(args)
        .arg(idx)
        .args(inputs)))
}

/// Line by line, then the counts; and that the run used the ALT logic:
/// `AH:*` on the ALT contigs' `@SQ` lines (none with `-j`), `pa:f` tags.
fn assert_same(what: &str, ours: &[String], theirs: &[String], ignore_alt: bool) {
    for (k, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert_eq!(a, b, "{what}: line {} differs", k + 1);
    }
    assert_eq!(ours.len(), theirs.len(), "{what}: line counts differ");
    assert!(ours.len() > 1000, "{what}: too little output");
    let ah = ours.iter().filter(|l| l.ends_with("\tAH:*")).count();
    let pa = ours.iter().filter(|l| l.contains("\tpa:f:")).count();
    if ignore_alt {
        assert_eq!((ah, pa), (0, 0), "{what}: ALT marks with -j");
    } else {
        assert_eq!(ah, N_ALT, "{what}: @SQ lines with AH:*");
        assert!(pa > 100, "{what}: only {pa} pa:f tags");
    }
}

/// `ferrous mem` and `bwa mem` with `args` then `inputs` on `idx`.
fn compare_at(idx: &Path, args: &[&str], inputs: &[PathBuf]) {
    let (sam, err) = run_both(ferrous().arg("mem").args(args).arg(idx).args(inputs));
    assert!(
        err.contains(&format!(
            "[M::bwa_idx_load_from_disk] read {N_ALT} ALT contigs\n"
        )),
        "{args:?}: stderr says {err}"
    );
    let ignore_alt = args.contains(&"-j");
    let what = format!("{args:?} on {}", idx.display());
    assert_same(
        &what,
        &without_pg(&sam),
        &bwa_mem(idx, args, inputs),
        ignore_alt,
    );
}

fn compare(args: &[&str], inputs: &[PathBuf]) {
    compare_at(&idx(), args, inputs)
}

#[test]
fn single_end_alt_aware_and_with_j_matches_bwa() {
    if !have_bwa() {
        return;
    }
    for args in [
        &[][..],
        &["-j"][..],
        &["-a"][..],
        &["-h", "3,5"][..],
        &["-h", "2,3", "-j"][..],
        &["-M", "-Y"][..],
        &["-5"][..],
        &["-T", "60"][..],
    ] {
        compare(args, &single());
    }
}

#[test]
fn paired_end_alt_aware_and_with_j_matches_bwa() {
    if !have_bwa() {
        return;
    }
    for args in [
        &[][..],
        &["-j"][..],
        &["-P"][..],
        &["-S"][..],
        &["-a", "-M"][..],
        &["-h", "2,3"][..],
        &["-I", "380,50"][..],
        &["-K", "100000", "-t", "2"][..],
    ] {
        compare(args, &pairs());
    }
}

#[test]
fn interleaved_pairs_alt_aware_and_with_j_match_bwa() {
    if !have_bwa() {
        return;
    }
    let inter = vec![setup().path("inter.fq")];
    compare(&["-p"], &inter);
    compare(&["-p", "-j"], &inter);
}

#[test]
fn bwa_index_files_with_the_64_alt_naming_match_bwa() {
    if !have_bwa() {
        return;
    }
    // Only bwa's files (converted in memory) ...
    let b64 = setup().path("b64/ref.fa.gz");
    compare_at(&b64, &[], &pairs());
    compare_at(&b64, &["-j"], &single());
    // ... and the .fmi converted from them, read beside the .64.alt.
    let dir = tempfile::tempdir().expect("temp dir");
    let fmi = dir.path().join("ref.fa.gz");
    run(ferrous()
        .args(["index", "--from-bwa", "-p"])
        .arg(&fmi)
        .arg(&b64));
    std::fs::copy(
        alt_data("ref.fa.gz.alt"),
        dir.path().join("ref.fa.gz.64.alt"),
    )
    .expect("copy");
    let (sam, _) = run_both(ferrous().arg("mem").arg(&fmi).args(pairs()));
    assert_same(
        "converted .fmi",
        &without_pg(&sam),
        &bwa_mem(&b64, &[], &pairs()),
        false,
    );
}

const STEPS: [(&str, &str); 5] = [
    ("seed", "seeds"),
    ("chain", "chains"),
    ("extend", "regions"),
    ("pair", "paired"),
    ("rescue", "rescued"),
];

/// split → every stage on every batch → emit; returns emit's SAM.
fn staged(dir: &Path, args: &[&str], inputs: &[PathBuf]) -> Vec<u8> {
    run(ferrous()
        .arg("split")
        .args(args)
        .arg("-o")
        .arg(dir)
        .args(inputs));
    let n_steps = if inputs.len() == 2 { 5 } else { 3 };
    let mut last = Vec::new();
    for reads in manifest(dir) {
        let mut from = reads.clone();
        for &(step, to) in &STEPS[..n_steps] {
            let out = stage_path(&reads, to);
            run(ferrous()
                .arg(step)
                .args(args)
                .arg(idx())
                .arg(&from)
                .arg("-o")
                .arg(&out));
            from = out;
        }
        last.push(from);
    }
    run(ferrous().arg("emit").args(args).arg(idx()).args(&last))
}

#[test]
fn stages_alt_aware_and_with_j_match_bwa() {
    if !have_bwa() {
        return;
    }
    for (args, inputs) in [
        (&["-K", "100000"][..], pairs()),
        (&["-K", "100000", "-j"][..], pairs()),
        (&["-K", "60000"][..], single()),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let sam = staged(dir.path(), args, &inputs);
        let what = format!("staged {args:?}");
        let ignore_alt = args.contains(&"-j");
        assert_same(
            &what,
            &without_pg(&sam),
            &bwa_mem(&idx(), args, &inputs),
            ignore_alt,
        );
    }
}

/// A folder holding `name.fmi`, a link to the test index, and `name.alt`
/// with `alt` (or, for `None`, no `.alt`); returns the prefix.
fn variant(dir: &Path, name: &str, alt: Option<&[u8]>) -> PathBuf {
    let prefix = dir.join(name);
    std::os::unix::fs::symlink(
        setup().path("ref.fa.gz.fmi"),
        dir.join(format!("{name}.fmi")),
    )
    .expect("link");
    if let Some(text) = alt {
        std::fs::write(dir.join(format!("{name}.alt")), text).expect("write");
    }
    prefix
}

#[test]
fn a_stage_refuses_a_batch_made_with_another_alt_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let bare = variant(d, "bare", None);
    run(ferrous()
        .args(["split", "-o"])
        .arg(d.join("b"))
        .args(single()));
    let reads = manifest(&d.join("b")).remove(0);
    let seeds = d.join("seeds.zst");
    run(ferrous()
        .arg("seed")
        .arg(idx())
        .arg(&reads)
        .arg("-o")
        .arg(&seeds));
    // Same index, no .alt: refused, as is the other way round.
    let err = refused(
        ferrous()
            .arg("chain")
            .arg(&bare)
            .arg(&seeds)
            .arg("-o")
            .arg(d.join("c")),
        "made with another set of ALT contigs (6 ALT contigs; this run has 0)",
    );
    assert!(err.contains("seeds.zst"), "{err}");
    let bare_seeds = d.join("bare-seeds.zst");
    run(ferrous()
        .arg("seed")
        .arg(&bare)
        .arg(&reads)
        .arg("-o")
        .arg(&bare_seeds));
    refused(
        ferrous()
            .arg("chain")
            .arg(idx())
            .arg(&bare_seeds)
            .arg("-o")
            .arg(d.join("c")),
        "(0 ALT contigs; this run has 6)",
    );
    // One fewer ALT contig is another set too.
    let text = std::fs::read_to_string(alt_data("ref.fa.gz.alt")).expect("read");
    let fewer: String = text
        .lines()
        .filter(|l| !l.starts_with("chr2_"))
        .map(|l| l.to_owned() + "\n")
        .collect();
    let five = variant(d, "five", Some(fewer.as_bytes()));
    refused(
        ferrous()
            .arg("chain")
            .arg(&five)
            .arg(&seeds)
            .arg("-o")
            .arg(d.join("c")),
        "(6 ALT contigs; this run has 5)",
    );
    assert!(!d.join("c").exists());
}

/// `ferrous mem -v 3 IDX reads_1` on `prefix`: SAM lines and stderr.
fn mem_at(prefix: &Path, args: &[&str]) -> (Vec<String>, String) {
    let (sam, err) = run_both(ferrous().arg("mem").args(args).arg(prefix).args(single()));
    (without_pg(&sam), err)
}

#[test]
fn alt_files_bwa_would_misread_are_refused_or_warned_about() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let text = std::fs::read(alt_data("ref.fa.gz.alt")).expect("read");
    let (want, _) = mem_at(&idx(), &[]);

    // Names the index lacks: a warning, and the others are used as bwa does.
    let mut extra = text.clone();
    extra.extend_from_slice(
        b"chr9_KI000001v1_alt\t0\tchr9\t1\t255\t*\t*\t0\t0\t*\t*\nchr1_alt with spaces\n",
    );
    let (sam, err) = mem_at(&variant(d, "extra", Some(&extra)), &[]);
    assert_eq!(sam, want);
    assert!(
        err.contains("[M::bwa_idx_load_from_disk] read 6 ALT contigs"),
        "{err}"
    );
    assert!(
        err.contains("extra.alt: 2 ALT contig names are not in the index (line 9: 'chr9_KI000001v1_alt', ...); ignored, as bwa does"),
        "{err}"
    );

    // No ALT name known at all (another naming): bwa maps without ALT
    // contigs; ferrous too, but says so.
    let (sam, err) = mem_at(&variant(d, "other", Some(b"1_KI270706v1_alt\n")), &[]);
    assert!(
        err.contains("read 0 ALT contigs") && err.contains("1 ALT contig name is not in the index"),
        "{err}"
    );
    assert!(!sam.iter().any(|l| l.ends_with("AH:*")));

    // Unreadable: a directory, a dangling link.
    std::os::unix::fs::symlink(setup().path("ref.fa.gz.fmi"), d.join("dir.fmi")).expect("link");
    std::fs::create_dir(d.join("dir.alt")).expect("mkdir");
    refused(
        ferrous().arg("mem").arg(d.join("dir")).args(single()),
        "cannot read the ALT contig list",
    );
    std::os::unix::fs::symlink(setup().path("ref.fa.gz.fmi"), d.join("gone.fmi")).expect("link");
    std::os::unix::fs::symlink(d.join("nowhere"), d.join("gone.alt")).expect("link");
    let err = refused(
        ferrous().arg("mem").arg(d.join("gone")).args(single()),
        "gone.alt",
    );
    assert!(err.contains("No such file"), "{err}");
    // -j does not use the file: a warning, and the run goes on.
    let (sam, err) = mem_at(&d.join("gone"), &["-j"]);
    assert!(
        err.contains("[W::ferrous] cannot read the ALT contig list")
            && err.contains("(not used: -j)"),
        "{err}"
    );
    assert!(err.contains("read 0 ALT contigs"), "{err}");
    assert!(sam.len() > 1000);
    // The stages refuse alike.
    run(ferrous()
        .args(["split", "-o"])
        .arg(d.join("b"))
        .args(single()));
    let reads = manifest(&d.join("b")).remove(0);
    refused(
        ferrous()
            .arg("seed")
            .arg(d.join("dir"))
            .arg(reads)
            .arg("-o")
            .arg(d.join("s")),
        "dir.alt",
    );

    // A first field longer than bwa's buffer.
    let mut long = vec![b'x'; 1500];
    long.push(b'\n');
    refused(
        ferrous()
            .arg("mem")
            .arg(variant(d, "long", Some(&long)))
            .args(single()),
        "long.alt: line 1: a first field of 1500 bytes",
    );
}

#[test]
fn an_unterminated_last_line_is_passed_over_as_bwa_does_with_a_warning() {
    if !have_bwa() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // bwa's index beside an .alt whose last line has no newline.
    for ext in ["amb", "ann", "bwt", "pac", "sa"] {
        std::os::unix::fs::symlink(
            setup().path(&format!("ref.fa.gz.{ext}")),
            d.join(format!("cut.{ext}")),
        )
        .expect("link");
    }
    // The last line holds only the name (bwa would read it at a TAB).
    let text = std::fs::read_to_string(alt_data("ref.fa.gz.alt")).expect("read");
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.pop().unwrap().split('\t').next().unwrap().to_owned();
    let cut_text = lines.join("\n") + "\n" + &last;
    let cut = variant(d, "cut", Some(cut_text.as_bytes()));
    let (sam, err) = mem_at(&cut, &[]);
    assert!(err.contains("read 5 ALT contigs"), "{err}");
    assert!(
        err.contains("cut.alt: line 8 ('chr2_KI270711v1_alt') has no line end"),
        "{err}"
    );
    let theirs = bwa_mem(&cut, &[], &single());
    assert_eq!(sam.len(), theirs.len());
    for (k, (a, b)) in sam.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "line {} differs", k + 1);
    }
}
