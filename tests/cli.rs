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
fn unbuilt_stages_refuse_clearly_with_non_zero_exit() {
    for stage in ["seed", "chain", "extend", "pair", "rescue", "emit"] {
        let out = ferrous().args([stage, "x"]).output().expect("run ferrous");
        assert!(!out.status.success(), "{stage} must fail until it is built");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: ") && err.contains("not built yet") && err.lines().count() == 1,
            "{stage}: {err}"
        );
    }
}

#[test]
fn no_subcommand_is_a_usage_error() {
    let out = ferrous().output().expect("run ferrous");
    assert_eq!(out.status.code(), Some(2));
}
