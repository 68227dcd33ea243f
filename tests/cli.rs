//! End-to-end checks of the command-line surface.

use std::process::Command;

fn ferrous() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrous"))
}

#[test]
fn version_prints_a_bare_version_number() {
    let out = ferrous().arg("--version").output().expect("run ferrous");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(text.trim(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn stages_without_arguments_are_usage_errors() {
    for stage in ["split", "seed", "chain", "extend", "pair", "rescue", "emit"] {
        let out = ferrous().arg(stage).output().expect("run ferrous");
        assert_eq!(out.status.code(), Some(2), "{stage} without arguments");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("required"), "{stage}: {err}");
    }
}

#[test]
fn no_subcommand_is_a_usage_error() {
    let out = ferrous().output().expect("run ferrous");
    assert_eq!(out.status.code(), Some(2));
}
