//! Opening an input (path or `-`, plain or gzip) and reading it line by line
//! through one large buffer.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::thread;

use super::bgzf;
use super::gunzip;
use super::handover::{self, Chunks};
use crate::trace::{self, Kind};

// Under `cargo fuzz` (`cfg(fuzzing)`) the buffers are tiny, so that records
// and gzip members often straddle refills and each input runs fast.

/// Size of the buffer lines are cut from.
const BUF_SIZE: usize = if cfg!(fuzzing) { 61 } else { 1 << 20 };

/// An opened input: its display name, whether it is gzip, and its bytes.
pub(crate) struct Opened {
    pub display: String,
    pub gzip: bool,
    pub reader: Box<dyn Read + Send>,
}

/// Opens `path` (`-` is standard input); gzip is recognised by its magic
/// bytes `1f 8b` and decoded member after member (bgzip output works).
pub(crate) fn open(path: &Path) -> io::Result<Opened> {
    let display = if path.as_os_str() == "-" {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path)?)
    };
    from_reader(display, raw)
}

/// Wraps any byte source, detecting gzip as [`open`] does.
pub(crate) fn from_reader(display: String, mut raw: Box<dyn Read + Send>) -> io::Result<Opened> {
    // Read the first bytes (even from a pipe that delivers one byte at a
    // time), then put them back in front of the rest: two tell gzip, a
    // BGZF header's eighteen tell bgzip's members, inflated in parallel.
    let mut head = [0u8; 18];
    let got = read_up_to(&mut raw, &mut head)?;
    let gzip = got >= 2 && head[..2] == [0x1f, 0x8b];
    let bgzf = bgzf::starts_bgzf(&head[..got]);
    let whole = io::Cursor::new(head).take(got as u64).chain(raw);
    let reader: Box<dyn Read + Send> = if bgzf {
        Box::new(bgzf::ParallelBgzf::spawn(Box::new(whole))?)
    } else if gzip {
        Box::new(ThreadedReader::spawn(move || gunzip::decoder(whole))?)
    } else {
        Box::new(whole)
    };
    Ok(Opened {
        display,
        gzip,
        reader,
    })
}

/// Fills `buf` unless the input ends first (then fewer bytes); the number
/// of bytes read. Short reads (a pipe's) are read on from.
pub(crate) fn read_up_to(input: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Size of the chunks a decoding thread hands over.
const CHUNK_SIZE: usize = if cfg!(fuzzing) { 53 } else { 1 << 20 };
/// Chunks decoded ahead of the parser.
const CHUNKS_AHEAD: usize = 4;

/// Runs a reader (the gzip decoder) on its own thread, so decompression
/// overlaps with parsing, and two files of a pair decompress in parallel.
/// Data arrives in order; an error arrives after the data read before it.
/// Dropping the reader ends the thread at its next hand-over.
struct ThreadedReader {
    chunks: Chunks<Vec<u8>, io::Error>,
    pos: usize,
}

impl ThreadedReader {
    /// Starts the thread, which makes its reader with `make` (a decoder
    /// need not be `Send`).
    fn spawn<F>(make: F) -> io::Result<ThreadedReader>
    where
        F: FnOnce() -> Box<dyn Read> + Send + 'static,
    {
        let (producer, chunks) = handover::channel(CHUNKS_AHEAD);
        let mut decoded = 0u64;
        thread::Builder::new()
            .name("ferrous-gunzip".into())
            .spawn(move || {
                let mut inner = make();
                loop {
                    let mut buf: Vec<u8> = producer.chunk();
                    buf.resize(CHUNK_SIZE, 0);
                    let mut n = 0;
                    let mut failure = None;
                    let mut span = trace::span(Kind::Decompress, 0, decoded);
                    decoded += 1;
                    while n < CHUNK_SIZE {
                        match inner.read(&mut buf[n..]) {
                            Ok(0) => break,
                            Ok(k) => n += k,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => {
                                failure = Some(e);
                                break;
                            }
                        }
                    }
                    buf.truncate(n);
                    span.arg("bytes", n as u64);
                    drop(span);
                    if n > 0 && producer.tx.send(Ok(buf)).is_err() {
                        return;
                    }
                    if let Some(e) = failure {
                        let _ = producer.tx.send(Err(e));
                        return;
                    }
                    if n < CHUNK_SIZE {
                        return; // end of input: dropping `tx` tells the reader
                    }
                }
            })?;
        Ok(ThreadedReader { chunks, pos: 0 })
    }
}

/// Copies what is left of `cur` from `*pos` into `out` (as much as fits),
/// advancing `*pos`; `None` once `cur` is used up, for the caller to fetch
/// the next piece. The `read` of the readers that hand out pieces decoded
/// on other threads.
pub(crate) fn copy_out(cur: &[u8], pos: &mut usize, out: &mut [u8]) -> Option<usize> {
    let left = cur.get(*pos..).filter(|l| !l.is_empty())?;
    let k = out.len().min(left.len());
    out[..k].copy_from_slice(&left[..k]);
    *pos += k;
    Some(k)
}

impl Read for ThreadedReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(k) = copy_out(&self.chunks.cur, &mut self.pos, out) {
                return Ok(k);
            }
            self.pos = 0;
            if !self.chunks.advance()? {
                return Ok(0);
            }
        }
    }
}

/// How a line read by [`LineReader::read_line`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEnd {
    /// A `\n` was found (and consumed).
    Newline,
    /// The input ended after at least one byte of the line.
    Eof,
    /// The input had already ended: nothing was read.
    Nothing,
}

/// A buffered line reader over an opened input that counts lines.
pub(crate) struct LineReader {
    inner: Box<dyn Read + Send>,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    eof: bool,
    /// Number of `\n` consumed so far: the current line is `newlines + 1`.
    pub newlines: u64,
}

impl LineReader {
    pub fn new(inner: Box<dyn Read + Send>) -> Self {
        LineReader {
            inner,
            buf: vec![0u8; BUF_SIZE].into_boxed_slice(),
            pos: 0,
            end: 0,
            eof: false,
            newlines: 0,
        }
    }

    /// Refills the buffer once it is used up; `false` at end of input.
    #[inline]
    fn fill(&mut self) -> io::Result<bool> {
        if self.pos < self.end {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(k) => {
                    self.pos = 0;
                    self.end = k;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next byte without consuming it; `None` at end of input.
    #[inline]
    pub fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(if self.fill()? {
            Some(self.buf[self.pos])
        } else {
            None
        })
    }

    /// Consumes the byte [`LineReader::peek`] returned.
    #[inline]
    pub fn bump(&mut self) {
        debug_assert!(self.pos < self.end);
        if self.buf[self.pos] == b'\n' {
            self.newlines += 1;
        }
        self.pos += 1;
    }

    /// Appends the rest of the current line (without its `\n`) to `out`.
    #[inline]
    pub fn read_line(&mut self, out: &mut Vec<u8>) -> io::Result<LineEnd> {
        self.scan_line(Some(out))
    }

    /// Skips the rest of the current line including its `\n`.
    pub fn skip_line(&mut self) -> io::Result<LineEnd> {
        self.scan_line(None)
    }

    /// Consumes the rest of the current line, copying it to `out` if given.
    #[inline]
    fn scan_line(&mut self, mut out: Option<&mut Vec<u8>>) -> io::Result<LineEnd> {
        let mut any = false;
        loop {
            if !self.fill()? {
                return Ok(if any { LineEnd::Eof } else { LineEnd::Nothing });
            }
            let avail = &self.buf[self.pos..self.end];
            let found = memchr::memchr(b'\n', avail);
            let take = found.unwrap_or(avail.len());
            if let Some(out) = out.as_deref_mut() {
                out.extend_from_slice(&avail[..take]);
            }
            if found.is_some() {
                self.pos += take + 1;
                self.newlines += 1;
                return Ok(LineEnd::Newline);
            }
            self.pos = self.end;
            any = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: &'static [u8]) -> LineReader {
        LineReader::new(Box::new(bytes))
    }

    #[test]
    fn lines_and_ends() {
        let mut r = reader(b"ab\n\ncd");
        let mut v = Vec::new();
        assert_eq!(r.read_line(&mut v).unwrap(), LineEnd::Newline);
        assert_eq!(v, b"ab");
        assert_eq!(r.peek().unwrap(), Some(b'\n'));
        assert_eq!(r.read_line(&mut v).unwrap(), LineEnd::Newline);
        assert_eq!(r.newlines, 2);
        assert_eq!(r.read_line(&mut v).unwrap(), LineEnd::Eof);
        assert_eq!(v, b"abcd");
        assert_eq!(r.read_line(&mut v).unwrap(), LineEnd::Nothing);
        assert_eq!(r.skip_line().unwrap(), LineEnd::Nothing);
        assert_eq!(r.peek().unwrap(), None);
    }

    #[test]
    fn gzip_detected_by_magic() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"hello\n").unwrap();
        let gz = enc.finish().unwrap();
        let mut o = from_reader("x".into(), Box::new(io::Cursor::new(gz))).unwrap();
        assert!(o.gzip);
        let mut s = String::new();
        o.reader.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello\n");
        let o = from_reader("x".into(), Box::new(&b"@r\n"[..])).unwrap();
        assert!(!o.gzip);
        let o = from_reader("x".into(), Box::new(&b""[..])).unwrap();
        assert!(!o.gzip);
    }
}
