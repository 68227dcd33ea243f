//! bwa's closing lines on stderr, which wrappers and pipelines read:
//! `[main] Version: ...`, `[main] CMD: ...`, `[main] Real time: X sec;
//! CPU: Y sec` (bwa's `main.c`).

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

/// Marks the start of the run (call first thing).
pub fn start() {
    START.get_or_init(Instant::now);
}

/// Prints the three lines; real time since [`start`], CPU time of the
/// process (user and system, all threads).
pub fn report() {
    let real = START.get().map_or(0.0, |t| t.elapsed().as_secs_f64());
    let argv: Vec<String> = std::env::args().collect();
    eprintln!("[main] Version: {}", env!("CARGO_PKG_VERSION"));
    eprintln!("[main] CMD: {}", argv.join(" "));
    eprintln!(
        "[main] Real time: {real:.3} sec; CPU: {:.3} sec",
        cpu_seconds()
    );
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut u) != 0 {
            return 0.0;
        }
        u
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}
