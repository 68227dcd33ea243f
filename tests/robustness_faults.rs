//! Issue #8, faults: a closed output pipe ends the run quietly and soon; a
//! full disk or a file-size limit is one `error: ` line and no output file;
//! SIGTERM (or SIGINT) mid-run leaves neither the output nor a temporary
//! file; a FIFO given to `-o` stays a FIFO.

mod robustness;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use robustness::*;

/// Writes the shipped single-end reads to `input` over and over (up to
/// `rounds` times), stopping quietly when the reader goes away; returns
/// the number of rounds written.
fn feed(mut input: impl Write + Send + 'static, rounds: usize) -> thread::JoinHandle<usize> {
    let text = fastq_head("reads_1.fq.gz", 2000);
    thread::spawn(move || {
        for k in 0..rounds {
            if input.write_all(text.as_bytes()).is_err() {
                return k;
            }
        }
        rounds
    })
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("ferrous did not end within {limit:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn read_stderr(child: &mut Child) -> String {
    let mut s = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut s).unwrap();
    s
}

/// `ferrous mem ... | head -1`: ferrous stops at its next write, exits 0
/// and says nothing on stderr, long before its input ends.
#[test]
fn closed_output_pipe_ends_quietly_and_promptly() {
    let rounds = 1000; // 2 million reads: minutes of work if not stopped
    let mut child = ferrous()
        .args(["mem", "-v", "1", "-t", "2", "-K", "20000"])
        .arg(indexed().reference())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let feeder = feed(child.stdin.take().unwrap(), rounds);
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("@SQ"), "{first}");
    // stdout is closed here (dropped with the reader).
    let status = wait_with_timeout(&mut child, Duration::from_secs(60));
    let err = read_stderr(&mut child);
    let written = feeder.join().unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(err.trim().is_empty(), "stderr must stay quiet: {err}");
    assert!(written < rounds, "ferrous read all its input");
}

/// The same through a shell pipeline with `pipefail`, as users run it.
#[test]
fn pipe_into_head_with_pipefail() {
    if Command::new("bash").arg("-c").arg("true").status().is_err() {
        eprintln!("note: no bash; test skipped");
        return;
    }
    let script = format!(
        "set -o pipefail; '{}' mem -t 2 '{}' '{}' '{}' | head -1",
        env!("CARGO_BIN_EXE_ferrous"),
        indexed().reference().display(),
        data("reads_1.fq.gz").display(),
        data("reads_2.fq.gz").display()
    );
    let out = Command::new("bash").arg("-c").arg(script).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let err = stderr(&out);
    assert!(!err.contains("error") && !err.contains("panicked"), "{err}");
}

/// Standard output on a full disk: one error line, non-zero exit.
#[test]
fn stdout_on_a_full_disk() {
    let Ok(full) = fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("note: no /dev/full; test skipped");
        return;
    };
    let out = ferrous()
        .arg("mem")
        .arg(indexed().reference())
        .arg(data("reads_1.fq.gz"))
        .stdout(full)
        .output()
        .unwrap();
    assert_one_line_error(&out, &["writing", "No space left on device"]);
}

/// `-o FILE` past the file-size limit (as on a full disk): one error line
/// naming the file; neither it nor a temporary file is left.
#[test]
fn output_file_past_the_size_limit_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.sam");
    // 256 blocks: under the SAM size.
    let Some(out) = mem_past_a_size_limit(256, &[], &out_path) else {
        return;
    };
    assert_one_line_error(&out, &["out.sam", "File too large"]);
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}

/// Starts `ferrous mem -o DIR/out.sam IDX -` fed from a pipe that stays
/// open, and waits until the temporary output exists and has been written
/// to (so the run is surely under way).
/// With `ignore`, the run is started through `sh` with those signals
/// ignored (as `nohup` ignores SIGHUP).
fn start_writing_run(dir: &Path, ignore: &str) -> (Child, thread::JoinHandle<usize>) {
    let mut cmd = if ignore.is_empty() {
        ferrous()
    } else {
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(format!("trap '' {ignore}; exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_ferrous"));
        sh
    };
    // The test may itself run where SIGINT or SIGHUP is ignored (a shell's
    // background job, nohup), which ferrous would inherit and rightly keep:
    // start it with the default dispositions the test assumes.
    // SAFETY: between fork and exec only async-signal-safe `signal` runs.
    unsafe {
        cmd.pre_exec(|| {
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::signal(sig, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    let mut child = cmd
        .args(["mem", "-v", "1", "-K", "20000", "-o"])
        .arg(dir.join("out.sam"))
        .arg(indexed().reference())
        .arg("-")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A few rounds, then the pipe stays open: ferrous waits for more input.
    let mut stdin = child.stdin.take().unwrap();
    let feeder = thread::spawn(move || {
        let text = fastq_head("reads_1.fq.gz", 2000);
        for _ in 0..3 {
            if stdin.write_all(text.as_bytes()).is_err() {
                return 0;
            }
        }
        thread::sleep(Duration::from_secs(120));
        3
    });
    let start = Instant::now();
    loop {
        let tmp: Vec<String> = entries(dir)
            .into_iter()
            .filter(|n| n.contains("out.sam") && n.contains("tmp"))
            .collect();
        if let Some(name) = tmp.first() {
            if fs::metadata(dir.join(name)).is_ok_and(|m| m.len() > (1 << 20)) {
                break;
            }
        }
        assert!(child.try_wait().unwrap().is_none(), "ferrous ended early");
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no temporary output appeared: {:?}",
            entries(dir)
        );
        thread::sleep(Duration::from_millis(20));
    }
    (child, feeder)
}

fn send(child: &Child, signal: &str) {
    let killed = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

fn signal_mid_run(signal: &str, number: i32) {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _feeder) = start_writing_run(dir.path(), "");
    send(&child, signal);
    let status = wait_with_timeout(&mut child, Duration::from_secs(30));
    let err = read_stderr(&mut child);
    assert_eq!(status.signal(), Some(number), "{status:?}; stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        entries(dir.path()),
        Vec::<String>::new(),
        "left behind after SIG{signal}"
    );
}

#[test]
fn sigterm_mid_run_leaves_no_output_and_no_temporary_file() {
    if Command::new("kill").arg("-l").output().is_err() {
        eprintln!("note: no kill command; test skipped");
        return;
    }
    signal_mid_run("TERM", 15);
    signal_mid_run("INT", 2);
}

/// `-o FIFO` writes into the FIFO (a rename would replace it).
#[test]
fn output_to_a_fifo_stays_a_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("sam.fifo");
    if !Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("note: no mkfifo; test skipped");
        return;
    }
    // Read through a channel with a time limit: if the FIFO were replaced,
    // a reader blocked in open() would never return.
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let fifo = fifo.clone();
        thread::spawn(move || tx.send(fs::read(fifo).unwrap()));
    }
    let reads = data("reads_edge.fa");
    let out = ferrous()
        .args(["mem", "-o"])
        .arg(&fifo)
        .arg(indexed().reference())
        .arg(&reads)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let via_fifo = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("nothing arrived through the FIFO");
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(entries(dir.path()), vec!["sam.fifo".to_string()]);
    let direct = ferrous()
        .arg("mem")
        .arg(indexed().reference())
        .arg(&reads)
        .output()
        .unwrap();
    assert_eq!(without_pg(&via_fifo), without_pg(&direct.stdout));
}

/// A signal ignored at start stays ignored (`nohup ferrous ...` survives
/// the hang-up); SIGTERM still cleans up.
#[test]
fn ignored_hangup_stays_ignored() {
    if Command::new("kill").arg("-l").output().is_err() {
        eprintln!("note: no kill command; test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _feeder) = start_writing_run(dir.path(), "HUP");
    send(&child, "HUP");
    thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "SIGHUP ended the run");
    send(&child, "TERM");
    let status = wait_with_timeout(&mut child, Duration::from_secs(30));
    assert_eq!(status.signal(), Some(15), "{status:?}");
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}
