//! The task trace (`ferrous mem --trace FILE`, and the stage subcommands):
//! one span for every task of a run, written as Chrome trace-event JSON
//! (it opens in Perfetto, <https://ui.perfetto.dev>, and in
//! `chrome://tracing`), and read by `scripts/scaling-model.py`, which
//! replays it with any number of virtual workers.
//!
//! The pipeline marks a task by holding a [`Span`] while it works:
//!
//! ```
//! use ferrous::trace::{self, Kind};
//! let mut span = trace::span(Kind::Align, 0, 3); // batch from read 0, task 3
//! // ... the task's work ...
//! span.arg("reads", 64);
//! // dropped: recorded with its thread, start, end and thread CPU time
//! ```
//!
//! Off (no [`Session`] running), a span is one relaxed atomic load and
//! records nothing. On, a span costs two clock reads of each kind (wall
//! and the thread's CPU time, about a microsecond in all); tasks are
//! thousands of times longer. Each thread keeps its finished spans in a
//! buffer of its own and hands them to the file a few thousand at a
//! time, so threads do not contend for it.
//!
//! Time a thread spends in [`Timed`] sections (SAM formatting inside the
//! pairing tasks) is added up and reported as an argument of the span
//! that ends next on that thread, rather than as a span per read.

mod chrome;

use std::cell::{Cell, RefCell};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

pub use chrome::Meta;

/// What a span was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Opening the index (reading it into memory).
    Index,
    /// Reading and inflating one chunk of a gzip input (its decoder thread).
    Decompress,
    /// Cutting one batch of reads (reader thread): the parsing itself for
    /// one file, the hand-over from the files' parser threads for two.
    Parse,
    /// Parsing one chunk of records of one mate file (its parser thread;
    /// paired input from two files).
    ParseFile,
    /// Aligning one batch (the thread driving it): encloses the batch's
    /// phases and whatever tasks that thread ran itself.
    Batch,
    /// Seeding, chaining and extension of a group of reads (fused run).
    Align,
    /// The batch's insert-size model (serial, between the phases).
    InsertSize,
    /// Mate rescue, pairing and SAM formatting of a group of pairs.
    Pair,
    /// Alignment and SAM formatting of a group of single-end reads.
    Single,
    /// Writing one group of output text (writer thread).
    Write,
    /// Reading and decoding a batch file (stage subcommands).
    ReadBatch,
    /// Encoding and writing a batch file (stage subcommands).
    WriteBatch,
    /// `ferrous seed`: seeding of a group of reads.
    Seed,
    /// `ferrous chain`: chaining of a group of reads.
    Chain,
    /// `ferrous extend`: extension of a group of reads.
    Extend,
    /// `ferrous rescue`: mate rescue of a group of pairs.
    Rescue,
    /// `ferrous emit`: SAM records of a group of reads or pairs.
    Emit,
}

impl Kind {
    /// The span's name in the trace file.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Index => "index",
            Kind::Decompress => "decompress",
            Kind::Parse => "parse",
            Kind::ParseFile => "parse_file",
            Kind::Batch => "batch",
            Kind::Align => "align",
            Kind::InsertSize => "insert_size",
            Kind::Pair => "pair",
            Kind::Single => "single",
            Kind::Write => "write",
            Kind::ReadBatch => "read_batch",
            Kind::WriteBatch => "write_batch",
            Kind::Seed => "seed",
            Kind::Chain => "chain",
            Kind::Extend => "extend",
            Kind::Rescue => "rescue",
            Kind::Emit => "emit",
        }
    }

    /// The category: `task` for work the worker pool shares, `io` for the
    /// reader, decoder and writer threads, `serial` for work one thread
    /// does while the batch waits.
    pub fn category(self) -> &'static str {
        match self {
            Kind::Index | Kind::Batch | Kind::InsertSize => "serial",
            Kind::Decompress
            | Kind::Parse
            | Kind::ParseFile
            | Kind::Write
            | Kind::ReadBatch
            | Kind::WriteBatch => "io",
            _ => "task",
        }
    }
}

/// Whether a session is recording; the only thing a span looks at when off.
static ON: AtomicBool = AtomicBool::new(false);
/// Number of the current session, so that a thread's buffer from an
/// earlier one is not mixed in.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// The running session's recorder.
static RECORDER: Mutex<Option<Recorder>> = Mutex::new(None);

/// Spans a thread keeps before handing them to the file.
const LOCAL_SPANS: usize = 4096;

fn recorder() -> MutexGuard<'static, Option<Recorder>> {
    RECORDER.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One finished span.
#[derive(Debug, Clone, Copy)]
struct Event {
    kind: Kind,
    /// Start, nanoseconds since the session started.
    start: u64,
    dur: u64,
    /// The thread's CPU time during the span.
    cpu: u64,
    first_read: u64,
    task: u64,
    /// Up to two more numbers (name, value).
    args: [Option<(&'static str, u64)>; 2],
    /// Time in [`Timed`] sections that ended inside the span.
    format: u64,
}

/// A thread's spans not yet written.
#[derive(Debug)]
struct Local {
    tid: u32,
    events: Vec<Event>,
}

/// What a thread knows of the session it records into.
struct Registration {
    generation: u64,
    epoch: Instant,
    local: Arc<Mutex<Local>>,
}

/// The session's file and threads.
struct Recorder {
    epoch: Instant,
    generation: u64,
    out: chrome::Writer,
    /// Every thread that recorded a span, with its buffer.
    threads: Vec<Arc<Mutex<Local>>>,
}

thread_local! {
    static LOCAL: RefCell<Option<Registration>> = const { RefCell::new(None) };
    /// Nanoseconds in [`Timed`] sections not yet reported by a span.
    static TIMED: Cell<u64> = const { Cell::new(0) };
}

/// A task being timed; recorded when dropped. See the module docs.
#[must_use = "a span records when it is dropped"]
#[derive(Debug)]
pub struct Span {
    /// `None` when no session is recording.
    live: Option<Live>,
}

#[derive(Debug)]
struct Live {
    kind: Kind,
    start: Instant,
    cpu: u64,
    first_read: u64,
    task: u64,
    args: [Option<(&'static str, u64)>; 2],
}

/// Starts a span of `kind` for task `task` of the batch whose first read
/// is number `first_read` in the run.
#[inline]
pub fn span(kind: Kind, first_read: u64, task: u64) -> Span {
    if !ON.load(Ordering::Relaxed) {
        return Span { live: None };
    }
    Span {
        live: Some(Live {
            kind,
            start: Instant::now(),
            cpu: thread_cpu_ns(),
            first_read,
            task,
            args: [None; 2],
        }),
    }
}

/// Whether a session is recording (to skip work done only for the trace).
#[inline]
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

impl Span {
    /// Adds a number to the span's arguments (two at most; more are
    /// ignored).
    pub fn arg(&mut self, name: &'static str, value: u64) {
        if let Some(live) = &mut self.live {
            if let Some(slot) = live.args.iter_mut().find(|a| a.is_none()) {
                *slot = Some((name, value));
            }
        }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(live) = self.live.take() {
            let end = Instant::now();
            let cpu = thread_cpu_ns().saturating_sub(live.cpu);
            let format = TIMED.with(|t| t.replace(0));
            record(live, end, cpu, format);
        }
    }
}

/// A section whose time is added to the span that ends next on this
/// thread (as its `format_us` argument): SAM formatting, which runs a read
/// at a time inside the pairing tasks.
#[must_use = "a timed section counts until it is dropped"]
#[derive(Debug)]
pub struct Timed {
    start: Option<Instant>,
}

impl Timed {
    /// Starts timing (nothing when off).
    #[inline]
    pub fn start() -> Timed {
        Timed {
            start: enabled().then(Instant::now),
        }
    }
}

impl Drop for Timed {
    #[inline]
    fn drop(&mut self) {
        if let Some(start) = self.start {
            let ns = start.elapsed().as_nanos() as u64;
            TIMED.with(|t| t.set(t.get() + ns));
        }
    }
}

/// Files a finished span in this thread's buffer, registering the thread
/// with the session first, and hands the buffer on when it is full. Only
/// the hand-over takes the session's lock.
fn record(live: Live, end: Instant, cpu: u64, format: u64) {
    let generation = GENERATION.load(Ordering::Acquire);
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        if l.as_ref().is_none_or(|r| r.generation != generation) {
            *l = register(generation);
        }
        let Some(reg) = l.as_ref() else { return };
        let since = |t: Instant| t.saturating_duration_since(reg.epoch).as_nanos() as u64;
        let start = since(live.start);
        let mut buf = reg.local.lock().unwrap_or_else(PoisonError::into_inner);
        buf.events.push(Event {
            kind: live.kind,
            start,
            dur: since(end).saturating_sub(start),
            cpu,
            first_read: live.first_read,
            task: live.task,
            args: live.args,
            format,
        });
        if buf.events.len() >= LOCAL_SPANS {
            if let Some(r) = recorder().as_mut().filter(|r| r.generation == generation) {
                r.out.events(buf.tid, &buf.events);
            }
            buf.events.clear();
        }
    });
}

/// Registers the current thread with session `generation`; `None` when
/// that session is no longer running.
fn register(generation: u64) -> Option<Registration> {
    let mut rec = recorder();
    let r = rec.as_mut().filter(|r| r.generation == generation)?;
    let tid = r.threads.len() as u32 + 1;
    let thread = std::thread::current();
    let name = thread
        .name()
        .map_or_else(|| format!("thread {tid}"), str::to_string);
    r.out.thread_name(tid, &name);
    let local = Arc::new(Mutex::new(Local {
        tid,
        events: Vec::with_capacity(LOCAL_SPANS),
    }));
    r.threads.push(Arc::clone(&local));
    Some(Registration {
        generation,
        epoch: r.epoch,
        local,
    })
}

/// A recording session: spans are recorded from [`Session::start`] until
/// [`Session::finish`], which completes the file. The file is written
/// under a temporary name and renamed when complete
/// ([`crate::cleanup::AtomicFile`]); a session dropped unfinished (an
/// error) removes it. One session at a time per process.
pub struct Session {
    generation: u64,
}

impl Session {
    /// Starts recording into `path`.
    pub fn start(path: &Path) -> io::Result<Session> {
        let out = chrome::Writer::create(path)?;
        let mut rec = recorder();
        if rec.is_some() {
            return Err(io::Error::other("a trace is already being recorded"));
        }
        let generation = GENERATION.fetch_add(1, Ordering::AcqRel) + 1;
        *rec = Some(Recorder {
            epoch: Instant::now(),
            generation,
            out,
            threads: Vec::new(),
        });
        ON.store(true, Ordering::Release);
        Ok(Session { generation })
    }

    /// Stops recording, writes the spans still buffered and `meta` (the
    /// run's settings, in the file's `otherData`), and renames the file
    /// into place. Spans still open are not recorded.
    pub fn finish(self, meta: &Meta) -> io::Result<()> {
        let r = self.stop();
        let Some(mut r) = r else {
            return Err(io::Error::other("the trace was not recording"));
        };
        for local in &r.threads {
            let mut buf = local.lock().unwrap_or_else(PoisonError::into_inner);
            let tid = buf.tid;
            r.out.events(tid, &buf.events);
            buf.events.clear();
        }
        r.out.finish(meta)
    }

    /// Takes this session's recorder out, which ends it.
    fn stop(&self) -> Option<Recorder> {
        ON.store(false, Ordering::Release);
        let mut rec = recorder();
        if rec
            .as_ref()
            .is_some_and(|r| r.generation == self.generation)
        {
            rec.take()
        } else {
            None
        }
    }
}

impl Drop for Session {
    /// An unfinished session ends and its temporary file is removed.
    fn drop(&mut self) {
        drop(self.stop());
    }
}

/// The calling thread's CPU time in nanoseconds (0 where unsupported).
fn thread_cpu_ns() -> u64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
        }
    }
    0
}

#[cfg(test)]
mod tests;
