//! [`SeqReader`]: one FASTA/FASTQ record at a time, as bwa's `kseq_read`
//! reads them (spec §3.1), but failing loudly where bwa stops silently.

use std::io::{self, Read};
use std::path::Path;

use super::batch::ReadBatch;
use super::source::{self, LineEnd, LineReader};
use super::{ReadsError, RecordProblem};

/// Reads FASTA/FASTQ records from a plain or gzip file (or `-`, stdin).
///
/// Rules (kseq's, spec §3.1):
/// * a record starts at `>` or `@`; FASTA and FASTQ records may be mixed;
/// * the header is split at its first whitespace character (C `isspace`):
///   the name is what comes before, the comment what comes after that one
///   character; a final `/<digit>` is removed from names longer than 2;
/// * sequence lines run until a line starting with `>`, `@` or `+`; they are
///   concatenated verbatim (case, IUPAC codes, any byte kept); empty lines are
///   skipped;
/// * after `+` (rest of that line ignored), quality lines are concatenated
///   until the quality is at least as long as the sequence (at least one line
///   is read, so a zero-length FASTQ read takes one empty quality line);
/// * a `\r` ending a line is removed when the text of the field accumulated
///   so far (this line included) is longer than one byte. This is kseq's rule
///   exactly: CRLF files read the same as LF files, except that a line that is
///   only `\r` at the start of a sequence, quality or comment is kept as `\r`,
///   as bwa keeps it.
///
/// Stricter than bwa (which silently stops reading or guesses): a `@` record
/// without a `+` line, a quality of a different length, a file ending on the
/// `+` line or right after `@`/`>`, text other than whitespace where a header
/// must start, and truncated or corrupt gzip data are errors.
pub struct SeqReader {
    lines: LineReader,
    path: String,
    gzip: bool,
    /// Complete records read so far.
    records: u64,
    /// Scratch: the current header line.
    header: Vec<u8>,
}

/// C `isspace` in the "C" locale.
#[inline]
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Removes a final `\r` from the field `v[start..]` when it is longer than
/// one byte (kseq's rule, applied after each line).
#[inline]
fn strip_cr(v: &mut Vec<u8>, start: usize) {
    if v.len() - start > 1 && v.last() == Some(&b'\r') {
        v.pop();
    }
}

/// bwa's `trim_readno`: drop a final `/<digit>` from names longer than 2.
#[inline]
pub fn trim_read_number(name: &[u8]) -> &[u8] {
    let l = name.len();
    if l > 2 && name[l - 2] == b'/' && name[l - 1].is_ascii_digit() {
        &name[..l - 2]
    } else {
        name
    }
}

/// Where the sequence lines of a record stopped.
enum SeqStop {
    Plus,
    NextHeader,
    End,
}

impl SeqReader {
    /// Opens `path` (`-` for standard input), recognising gzip by its magic
    /// bytes.
    pub fn open(path: &Path) -> Result<SeqReader, ReadsError> {
        let display = if path.as_os_str() == "-" {
            "stdin".to_string()
        } else {
            path.display().to_string()
        };
        let opened = source::open(path).map_err(|source| ReadsError::Open {
            path: display,
            source,
        })?;
        Ok(Self::from_opened(opened))
    }

    /// Reads from any byte source (plain or gzip); `display` names it in
    /// error messages.
    pub fn from_reader<R: Read + Send + 'static>(
        display: &str,
        reader: R,
    ) -> Result<SeqReader, ReadsError> {
        let opened =
            source::from_reader(display.to_string(), Box::new(reader)).map_err(|source| {
                ReadsError::Open {
                    path: display.to_string(),
                    source,
                }
            })?;
        Ok(Self::from_opened(opened))
    }

    fn from_opened(o: source::Opened) -> SeqReader {
        SeqReader {
            lines: LineReader::new(o.reader),
            path: o.display,
            gzip: o.gzip,
            records: 0,
            header: Vec::new(),
        }
    }

    /// The name used for this input in messages (the path, or `stdin`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the input is gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Number of records read so far.
    pub fn records_read(&self) -> u64 {
        self.records
    }

    fn io_error(&self, source: io::Error) -> ReadsError {
        let (path, records, line) = (self.path.clone(), self.records, self.lines.newlines + 1);
        let corrupt = matches!(
            source.kind(),
            io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput
        );
        if self.gzip && corrupt {
            ReadsError::Gzip {
                path,
                records,
                line,
                source,
            }
        } else {
            ReadsError::Read {
                path,
                records,
                line,
                source,
            }
        }
    }

    fn record_error(&self, line: u64, problem: RecordProblem) -> ReadsError {
        let end = self
            .header
            .iter()
            .position(|&c| is_space(c))
            .unwrap_or(self.header.len());
        ReadsError::Record {
            path: self.path.clone(),
            record: self.records + 1,
            name: String::from_utf8_lossy(&self.header[..end]).into_owned(),
            line,
            problem,
        }
    }

    /// Appends the next record to `out`; `Ok(false)` at the end of the
    /// input. On error, `out` holds exactly the reads it held before.
    pub fn read_record(&mut self, out: &mut ReadBatch) -> Result<bool, ReadsError> {
        let result = self.parse_record(out);
        match result {
            Ok(true) => {
                out.finish_read()?;
                self.records += 1;
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => {
                out.abandon_read();
                Err(e)
            }
        }
    }

    /// Skips whitespace up to a header character; `Some(is_fastq_header)`, or
    /// `None` at the end of the input.
    fn find_header(&mut self) -> Result<Option<bool>, ReadsError> {
        loop {
            match self.lines.peek().map_err(|e| self.io_error(e))? {
                None => return Ok(None),
                Some(c @ (b'@' | b'>')) => {
                    self.lines.bump();
                    return Ok(Some(c == b'@'));
                }
                Some(c) if is_space(c) => self.lines.bump(),
                Some(_) => {
                    let line = self.lines.newlines + 1;
                    let mut text = Vec::new();
                    self.lines
                        .read_line(&mut text)
                        .map_err(|e| self.io_error(e))?;
                    text.truncate(40);
                    return Err(ReadsError::NotAHeader {
                        path: self.path.clone(),
                        record: self.records + 1,
                        line,
                        found: String::from_utf8_lossy(&text).into_owned(),
                    });
                }
            }
        }
    }

    /// Parses one record into `out`'s buffers (not yet finished there).
    fn parse_record(&mut self, out: &mut ReadBatch) -> Result<bool, ReadsError> {
        let Some(fastq_header) = self.find_header()? else {
            return Ok(false);
        };
        let line = self.lines.newlines + 1;
        self.header.clear();
        let end = self
            .lines
            .read_line(&mut self.header)
            .map_err(|e| self.io_error(e))?;
        if end == LineEnd::Nothing {
            return Err(self.record_error(line, RecordProblem::TruncatedHeader));
        }

        let buf = out.buffers();
        let split = self.header.iter().position(|&c| is_space(c));
        let name = &self.header[..split.unwrap_or(self.header.len())];
        buf.names.extend_from_slice(trim_read_number(name));
        if let Some(k) = split {
            let start = buf.comments.len();
            buf.comments.extend_from_slice(&self.header[k + 1..]);
            strip_cr(buf.comments, start);
        }

        // Sequence lines.
        let seqs = buf.seqs;
        let seq_start = seqs.len();
        let stop = loop {
            match self.lines.peek().map_err(|e| self.io_error(e))? {
                None => break SeqStop::End,
                Some(b'+') => break SeqStop::Plus,
                Some(b'>' | b'@') => break SeqStop::NextHeader,
                Some(b'\n') => self.lines.bump(),
                Some(_) => {
                    self.lines.read_line(seqs).map_err(|e| self.io_error(e))?;
                    strip_cr(seqs, seq_start);
                }
            }
        };
        let seq_len = seqs.len() - seq_start;
        match stop {
            SeqStop::Plus => {}
            SeqStop::NextHeader | SeqStop::End if fastq_header => {
                return Err(self.record_error(line, RecordProblem::MissingPlus));
            }
            SeqStop::NextHeader | SeqStop::End => return Ok(true),
        }

        // '+' line, then quality lines until the quality is long enough.
        self.lines.bump();
        if self.lines.skip_line().map_err(|e| self.io_error(e))? != LineEnd::Newline {
            return Err(self.record_error(line, RecordProblem::MissingQuality));
        }
        let quals = buf.quals;
        let qual_start = quals.len();
        let at_eof = loop {
            let end = self.lines.read_line(quals).map_err(|e| self.io_error(e))?;
            if end == LineEnd::Nothing {
                break true;
            }
            strip_cr(quals, qual_start);
            if quals.len() - qual_start >= seq_len || end == LineEnd::Eof {
                break end == LineEnd::Eof;
            }
        };
        let qual_len = quals.len() - qual_start;
        if qual_len != seq_len {
            let problem = RecordProblem::QualityLength {
                qual: qual_len as u64,
                seq: seq_len as u64,
                at_eof: at_eof && qual_len < seq_len,
            };
            return Err(self.record_error(line, problem));
        }
        Ok(true)
    }
}
