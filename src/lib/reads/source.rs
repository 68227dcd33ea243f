//! Opening an input (path or `-`, plain or gzip) and reading it line by line
//! through one large buffer.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

/// Size of the buffer lines are cut from.
const BUF_SIZE: usize = 1 << 20;
/// Size of the buffer that feeds compressed bytes to the gzip decoder.
const GZ_IN_SIZE: usize = 256 << 10;

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
    // Read the first two bytes (even from a pipe that delivers one byte at a
    // time), then put them back in front of the rest.
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match raw.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let gzip = got == 2 && head == [0x1f, 0x8b];
    let whole = io::Cursor::new(head).take(got as u64).chain(raw);
    let reader: Box<dyn Read + Send> = if gzip {
        let compressed = BufReader::with_capacity(GZ_IN_SIZE, whole);
        Box::new(MultiGzDecoder::new(compressed))
    } else {
        Box::new(whole)
    };
    Ok(Opened {
        display,
        gzip,
        reader,
    })
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
