//! `--trace FILE`: a run's task trace (`ferrous::trace`), started before
//! the index opens and completed after the output is.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;

use ferrous::options::MemOptions;
use ferrous::trace::{Meta, Session};

/// The trace of one run, or nothing without `--trace`.
pub struct RunTrace {
    session: Option<(Session, String)>,
    start: Instant,
}

impl RunTrace {
    /// Starts recording into `path` if given.
    pub fn start(path: Option<&Path>) -> anyhow::Result<RunTrace> {
        let session = match path {
            Some(p) => Some((
                Session::start(p).with_context(|| format!("creating {}", p.display()))?,
                p.display().to_string(),
            )),
            None => None,
        };
        Ok(RunTrace {
            session,
            start: Instant::now(),
        })
    }

    /// Completes the file with the run's settings (what the scaling model
    /// needs to replay it) and `extra` numbers.
    pub fn finish(
        self,
        opt: &MemOptions,
        layout: &str,
        extra: &[(&str, u64)],
    ) -> anyhow::Result<()> {
        let Some((session, label)) = self.session else {
            return Ok(());
        };
        let argv: Vec<String> = std::env::args().collect();
        let mut meta = Meta::default();
        meta.text("ferrous", env!("CARGO_PKG_VERSION"))
            .text("command", &argv.join(" "))
            .num("threads", opt.n_threads.max(1) as u64)
            .num("chunk_size", opt.chunk_size.max(0) as u64)
            .num(
                "fixed_batch_size",
                opt.fixed_batch_size.unwrap_or(0).max(0) as u64,
            )
            .num("batch_bases", opt.batch_size().max(0) as u64)
            .text("layout", layout)
            .num("wall_us", self.start.elapsed().as_micros() as u64);
        for &(k, v) in extra {
            meta.num(k, v);
        }
        session
            .finish(&meta)
            .with_context(|| format!("writing {label}"))
    }
}
