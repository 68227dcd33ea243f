//! Parallel inflate of BGZF input (`bgzip`'s gzip, SAM/BAM specification
//! §4.1): gzip members of at most 64 KiB of text, each with its own size in
//! a `BC` extra field, so that they can be cut apart without inflating them
//! and inflated on several threads at once.
//!
//! A framer thread cuts the members and deals them out in jobs of about
//! 1 MiB of text to a few inflater threads (libdeflate, which checks each
//! member's CRC and length); the reader takes the jobs' text back in input
//! order. A member that is not BGZF (a plain gzip file appended to a
//! bgzipped one) switches the rest of the input to the streaming decoder
//! of [`super::gunzip`], on the framer thread, in order.
//!
//! Plain gzip, which is most FASTQ, cannot be cut this way: it is inflated
//! on one thread per file.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;

use crate::trace::{self, Kind};

use super::gunzip;
use super::source::{copy_out, read_up_to};

/// Bytes of a BGZF header up to and including a leading `BC` subfield.
const HEADER: usize = 18;
/// The largest member and the most text one member may hold.
const MAX_BLOCK: usize = 1 << 16;
/// Text a job holds (about; whole members).
const JOB_TEXT: usize = if cfg!(fuzzing) { 100 } else { 1 << 20 };
/// Jobs between the framer and the reader at most.
const IN_FLIGHT: usize = 8;
/// Inflater threads per file.
const MAX_INFLATERS: usize = 4;

/// Whether `head` (the first bytes of a file) starts a BGZF member: gzip,
/// deflate, an extra field whose first subfield is `BC` of length 2.
pub(crate) fn starts_bgzf(head: &[u8]) -> bool {
    head.len() >= HEADER
        && head[..4] == [0x1f, 0x8b, 8, 4]
        && u16::from_le_bytes([head[10], head[11]]) >= 6
        && head[12..16] == [b'B', b'C', 2, 0]
}

/// What one job gives the reader, in input order.
enum Piece {
    Text(Vec<u8>),
    Failed(io::Error),
    /// The input ended after the pieces before this one.
    End,
}

/// Members to inflate: their bytes back to back, and each one's length.
struct Job {
    seq: u64,
    bytes: Vec<u8>,
    members: Vec<usize>,
    text: usize,
}

/// The reader's end: text in input order.
pub(crate) struct ParallelBgzf {
    results: Receiver<(u64, Piece)>,
    waiting: BTreeMap<u64, Piece>,
    next: u64,
    /// Taken back from the framer when a job is read: bounds the jobs alive.
    tokens: Receiver<()>,
    cur: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ParallelBgzf {
    /// Starts the framer and the inflaters over `input`, which starts with
    /// a BGZF member ([`starts_bgzf`]).
    pub(crate) fn spawn(input: Box<dyn Read + Send>) -> io::Result<ParallelBgzf> {
        let inflaters = thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_INFLATERS);
        let (results_tx, results) = channel();
        let (tokens_tx, tokens) = sync_channel(IN_FLIGHT);
        let (jobs_tx, jobs_rx) = sync_channel::<Job>(inflaters);
        let jobs_rx = Arc::new(Mutex::new(jobs_rx));
        for _ in 0..inflaters {
            let jobs = Arc::clone(&jobs_rx);
            let out = results_tx.clone();
            thread::Builder::new()
                .name("ferrous-bgzf".into())
                .spawn(move || inflate_jobs(&jobs, &out))?;
        }
        thread::Builder::new()
            .name("ferrous-bgzf-cut".into())
            .spawn(move || frame(input, &jobs_tx, &results_tx, &tokens_tx))?;
        Ok(ParallelBgzf {
            results,
            waiting: BTreeMap::new(),
            next: 0,
            tokens,
            cur: Vec::new(),
            pos: 0,
            done: false,
        })
    }

    /// The next piece in input order.
    fn next_piece(&mut self) -> Piece {
        loop {
            if let Some(p) = self.waiting.remove(&self.next) {
                self.next += 1;
                let _ = self.tokens.try_recv();
                return p;
            }
            match self.results.recv() {
                Ok((seq, p)) => {
                    self.waiting.insert(seq, p);
                }
                // Every sender gone without an end: a thread died.
                Err(_) => return Piece::Failed(io::Error::other("a BGZF inflater thread stopped")),
            }
        }
    }
}

impl Read for ParallelBgzf {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(k) = copy_out(&self.cur, &mut self.pos, out) {
                return Ok(k);
            }
            if self.done {
                return Ok(0);
            }
            self.pos = 0;
            match self.next_piece() {
                Piece::Text(t) => self.cur = t,
                Piece::Failed(e) => {
                    self.done = true;
                    self.cur.clear();
                    return Err(e);
                }
                Piece::End => {
                    self.done = true;
                    self.cur.clear();
                }
            }
        }
    }
}

fn corrupt(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` if the input ended before
/// the first byte, an error if it ended inside.
fn read_full(input: &mut dyn Read, buf: &mut [u8], what: &str) -> io::Result<bool> {
    match read_up_to(input, buf)? {
        0 if !buf.is_empty() => Ok(false),
        n if n < buf.len() => Err(corrupt(format!("truncated gzip data (inside {what})"))),
        _ => Ok(true),
    }
}

/// The framer thread: cuts members into jobs until the input ends, fails,
/// holds a member that is not BGZF (the rest is inflated here, streaming),
/// or the reader is gone.
fn frame(
    mut input: Box<dyn Read + Send>,
    jobs: &SyncSender<Job>,
    results: &Sender<(u64, Piece)>,
    tokens: &SyncSender<()>,
) {
    let mut seq = 0u64;
    let mut job = Job {
        seq,
        bytes: Vec::new(),
        members: Vec::new(),
        text: 0,
    };
    let mut offset = 0u64;
    // Hands `job` to the inflaters and starts the next one; false when the
    // reader is gone.
    let take = |job: &mut Job, seq: &mut u64| -> bool {
        if tokens.send(()).is_err() {
            return false;
        }
        let next = Job {
            seq: *seq + 1,
            bytes: Vec::new(),
            members: Vec::new(),
            text: 0,
        };
        *seq += 1;
        jobs.send(std::mem::replace(job, next)).is_ok()
    };
    let end = loop {
        let mut head = [0u8; HEADER];
        match read_full(&mut input, &mut head, "a gzip header") {
            Ok(true) => {}
            Ok(false) => break Piece::End,
            Err(e) => break Piece::Failed(e),
        }
        if !starts_bgzf(&head) {
            // Not BGZF: the rest streams through one decoder, in order.
            if !job.members.is_empty() && !take(&mut job, &mut seq) {
                return;
            }
            let rest = io::Cursor::new(head).chain(input);
            stream_rest(gunzip::decoder(rest), seq, results, tokens);
            return;
        }
        let size = u16::from_le_bytes([head[16], head[17]]) as usize + 1;
        let xlen = u16::from_le_bytes([head[10], head[11]]) as usize;
        if size < 12 + xlen + 8 {
            break Piece::Failed(corrupt(format!(
                "BGZF block at byte {offset} claims {size} bytes, too few for its header"
            )));
        }
        let start = job.bytes.len();
        job.bytes.extend_from_slice(&head);
        job.bytes.resize(start + size, 0);
        match read_full(&mut input, &mut job.bytes[start + HEADER..], "a BGZF block") {
            Ok(true) => {}
            Ok(false) => {
                break Piece::Failed(corrupt(format!(
                    "truncated gzip data (inside the BGZF block at byte {offset})"
                )))
            }
            Err(e) => break Piece::Failed(e),
        }
        let isize = u32::from_le_bytes(
            job.bytes[start + size - 4..start + size]
                .try_into()
                .unwrap(),
        );
        if isize as usize > MAX_BLOCK {
            break Piece::Failed(corrupt(format!(
                "BGZF block at byte {offset} claims {isize} bytes of text, more than 64 KiB"
            )));
        }
        offset += size as u64;
        job.members.push(size);
        job.text += isize as usize;
        if job.text >= JOB_TEXT && !take(&mut job, &mut seq) {
            return;
        }
    };
    if !job.members.is_empty() && !take(&mut job, &mut seq) {
        return;
    }
    if tokens.send(()).is_ok() {
        let _ = results.send((seq, end));
    }
}

/// The rest of the input after a member that is not BGZF, inflated on the
/// framer thread and handed on in pieces numbered from `seq`.
fn stream_rest(
    mut decoder: Box<dyn Read>,
    mut seq: u64,
    results: &Sender<(u64, Piece)>,
    tokens: &SyncSender<()>,
) {
    loop {
        let mut text = vec![0u8; JOB_TEXT.max(MAX_BLOCK)];
        let piece = match read_up_to(&mut *decoder, &mut text) {
            Ok(0) => Piece::End,
            Ok(n) => {
                text.truncate(n);
                Piece::Text(text)
            }
            Err(e) => Piece::Failed(e),
        };
        let last = !matches!(piece, Piece::Text(_));
        if tokens.send(()).is_err() || results.send((seq, piece)).is_err() || last {
            return;
        }
        seq += 1;
    }
}

/// An inflater thread: jobs until there are none or the reader is gone.
fn inflate_jobs(jobs: &Mutex<Receiver<Job>>, out: &Sender<(u64, Piece)>) {
    let mut inflater = libdeflater::Decompressor::new();
    loop {
        let job = match jobs.lock() {
            Ok(rx) => match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
            Err(_) => return,
        };
        let mut span = trace::span(Kind::Decompress, 0, job.seq);
        let piece = inflate(&mut inflater, &job);
        span.arg("bytes", job.text as u64);
        drop(span);
        if out.send((job.seq, piece)).is_err() {
            return;
        }
    }
}

/// Inflates a job's members into one text, checking each one's CRC and
/// length.
fn inflate(inflater: &mut libdeflater::Decompressor, job: &Job) -> Piece {
    let mut text = vec![0u8; job.text];
    let (mut at, mut filled) = (0, 0);
    for &size in &job.members {
        let member = &job.bytes[at..at + size];
        let want = u32::from_le_bytes(member[size - 4..].try_into().unwrap()) as usize;
        match inflater.gzip_decompress(member, &mut text[filled..filled + want]) {
            Ok(n) if n == want => filled += n,
            Ok(n) => {
                return Piece::Failed(corrupt(format!(
                    "a BGZF block holds {n} bytes of text, its trailer says {want}"
                )))
            }
            Err(e) => {
                return Piece::Failed(corrupt(format!(
                    "truncated or corrupt gzip data (a BGZF block: {e})"
                )))
            }
        }
        at += size;
    }
    Piece::Text(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reads::tests::{bgzf, fastq_text, gzip};

    /// Delivers at most `step` bytes per read, as a slow pipe does.
    struct Drip(io::Cursor<Vec<u8>>, usize);

    impl Read for Drip {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let k = self.1.min(out.len());
            self.0.read(&mut out[..k])
        }
    }

    fn inflate_all(bytes: Vec<u8>, step: usize) -> io::Result<Vec<u8>> {
        assert!(starts_bgzf(&bytes));
        let mut r = ParallelBgzf::spawn(Box::new(Drip(io::Cursor::new(bytes), step)))?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn many_jobs_in_order_whatever_the_reads() {
        let text = fastq_text(60_000); // about 2.5 MB: several jobs
        for step in [7, 4096, usize::MAX] {
            assert!(inflate_all(bgzf(&text), step).unwrap() == text, "{step}");
        }
        assert!(inflate_all(bgzf(b""), 1).unwrap().is_empty());
    }

    #[test]
    fn plain_gzip_after_bgzf_streams_on() {
        let text = fastq_text(30_000);
        let (a, b) = text.split_at(text.len() / 3);
        let mut bytes = bgzf(a);
        bytes.extend(gzip(b));
        bytes.extend(bgzf(b"@x\nA\n+\nI\n"));
        let mut want = text.clone();
        want.extend_from_slice(b"@x\nA\n+\nI\n");
        assert!(inflate_all(bytes, 1000).unwrap() == want);
    }

    #[test]
    fn damage_is_an_error_in_its_place() {
        let text = fastq_text(30_000);
        let good = bgzf(&text);
        let first = u16::from_le_bytes([good[16], good[17]]) as usize + 1;
        let mut cases = vec![
            good[..good.len() / 2].to_vec(), // cut inside a block
            good[..first + 5].to_vec(),      // cut inside a header
            good[..good.len() - 1].to_vec(), // cut in the EOF block
        ];
        let mut crc = good.clone();
        crc[first - 8] ^= 1; // the first member's CRC
        cases.push(crc);
        let mut big = good.clone();
        big[first - 1] = 2; // ISIZE of 128 KiB
        cases.push(big);
        let mut small = good.clone();
        small[16..18].copy_from_slice(&10u16.to_le_bytes()); // BSIZE too small
        cases.push(small);
        for (k, bad) in cases.into_iter().enumerate() {
            let e = inflate_all(bad, usize::MAX).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "case {k}: {e}");
        }
    }

    #[test]
    fn dropping_the_reader_stops_its_threads() {
        let text = fastq_text(60_000);
        let mut r = ParallelBgzf::spawn(Box::new(io::Cursor::new(bgzf(&text)))).unwrap();
        let mut some = [0u8; 100];
        r.read_exact(&mut some).unwrap();
        assert_eq!(&some[..], &text[..100]);
        drop(r); // the framer and inflaters see closed channels and end
    }
}
