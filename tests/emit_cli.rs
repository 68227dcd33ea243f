//! `ferrous mem` takes bwa mem's flags, and refuses bad values clearly.

use std::process::Command;

fn mem(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrous"))
        .arg("mem")
        .args(args)
        .output()
        .expect("run ferrous");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bwa_flags_parse_and_resolve() {
    // Resolution succeeds; what fails is opening the (missing) index.
    let (ok, err) = mem(&[
        "-t2",
        "-k",
        "17",
        "-w",
        "50",
        "-d",
        "80",
        "-r",
        "2.5",
        "-y",
        "10",
        "-c",
        "300",
        "-D",
        "0.4",
        "-W",
        "5",
        "-m",
        "20",
        "-S",
        "-P",
        "-A",
        "2",
        "-B",
        "3",
        "-O",
        "5,7",
        "-E",
        "2,1",
        "-L",
        "4,6",
        "-U",
        "9",
        "-T",
        "-3",
        "-h",
        "8,100",
        "-aMCVY5qj",
        "-v",
        "1",
        "-K",
        "100000",
        "-I",
        "300,30,500,100",
        "-R",
        r"@RG\tID:g\tSM:s",
        "-H",
        "@CO\tx",
        "-o",
        "/dev/null",
        "IDX",
        "r1.fq",
        "r2.fq",
    ]);
    assert!(!ok);
    assert!(err.contains("opening the index IDX"), "{err}");
    let (_, err) = mem(&["-x", "ont2d", "-p", "IDX", "r.fq"]);
    assert!(err.contains("opening the index IDX"), "{err}");
}

#[test]
fn bad_values_are_refused_with_the_flag_named() {
    for (args, needle) in [
        (&["-k", "0"][..], "option -k"),
        (&["-t", "0"][..], "option -t"),
        (&["-x", "illumina"][..], "option -x"),
        (&["-O", "5,x"][..], "option -O"),
        (&["-I", "abc"][..], "option -I"),
        (&["-R", "@RG\tID:x"][..], "option -R"),
        (
            &["-H", "/nonexistent/header.txt"][..],
            "/nonexistent/header.txt",
        ),
    ] {
        let mut all = args.to_vec();
        all.extend(["IDX", "r.fq"]);
        let (ok, err) = mem(&all);
        assert!(!ok, "{args:?}");
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
    }
    let (ok, err) = mem(&["-p", "IDX", "r1.fq", "r2.fq"]);
    assert!(!ok && err.contains("-p"), "{err}");
}

#[test]
fn help_is_long_only_because_h_is_taken() {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrous"))
        .args(["mem", "--help"])
        .output()
        .expect("run ferrous");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("-h <INT[,INT]>"));
}
