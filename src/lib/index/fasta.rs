//! Reading the reference FASTA (plain or gzip) into base codes, the contig
//! table and the holes table, the way `bwa index` packs it (spec §2.1).
//!
//! Parsing follows kseq: the name runs to the first whitespace, the
//! annotation is the rest of the header line, sequence lines are
//! concatenated, empty lines are skipped and a trailing `\r` is dropped.
//! Every base other than `ACGTacgt` is a *hole*: it is recorded (bwa's
//! splitting rule: a new hole starts whenever the raw character differs from
//! the raw character just before it in the same contig) and replaced by
//! `lrand48() & 3` from a drand48 generator seeded with 11, drawn only for
//! ambiguous bases, in file order.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::contigs::{Contig, Hole};
use super::IndexError;

/// The seed bwa gives `srand48` before packing (stored in its `.ann`).
pub const BWA_RAND_SEED: u64 = 11;

/// POSIX `drand48` family state, enough for `srand48` + `lrand48`.
#[derive(Debug, Clone)]
pub struct Drand48 {
    state: u64,
}

impl Drand48 {
    const A: u64 = 0x5_DEEC_E66D;
    const C: u64 = 0xB;
    const MASK: u64 = (1 << 48) - 1;

    /// `srand48(seed)`: the high 32 bits of the state are the low 32 bits of
    /// the seed, the low 16 bits are 0x330E.
    pub fn new(seed: u64) -> Self {
        Drand48 {
            state: ((seed & 0xFFFF_FFFF) << 16) | 0x330E,
        }
    }

    /// `lrand48()`: advance the state and return its top 31 bits.
    pub fn lrand48(&mut self) -> u64 {
        self.state = (Self::A.wrapping_mul(self.state).wrapping_add(Self::C)) & Self::MASK;
        self.state >> 17
    }
}

/// bwa's `nst_nt4_table`: A/C/G/T in either case map to 0..=3, everything
/// else to 4 (bwa maps `-` to 5, which only yields garbage; ferrous treats
/// it as N). Used for references and reads alike.
pub const fn nt4(b: u8) -> u8 {
    match b {
        b'A' | b'a' => 0,
        b'C' | b'c' => 1,
        b'G' | b'g' => 2,
        b'T' | b't' => 3,
        _ => 4,
    }
}

/// A parsed reference: forward base codes (holes already randomised), the
/// contigs and the holes.
#[derive(Debug, Default)]
pub struct ParsedReference {
    /// Forward strand, one code (0..=3) per byte, `L` bytes.
    pub forward: Vec<u8>,
    pub contigs: Vec<Contig>,
    pub holes: Vec<Hole>,
}

/// Opens `path` (gzip recognised by its magic bytes) and parses it.
pub fn read_reference(path: &Path) -> Result<ParsedReference, IndexError> {
    let read_err = |source| IndexError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        let k = file.read(&mut magic[got..]).map_err(read_err)?;
        if k == 0 {
            break;
        }
        got += k;
    }
    if got == 0 {
        return Err(IndexError::Empty {
            path: path.to_path_buf(),
        });
    }
    let file = File::open(path).map_err(read_err)?;
    if got == 2 && magic == [0x1f, 0x8b] {
        parse_fasta(
            BufReader::with_capacity(1 << 20, MultiGzDecoder::new(file)),
            path,
        )
    } else {
        parse_fasta(BufReader::with_capacity(1 << 20, file), path)
    }
}

/// Parser state for one reference.
struct Packer<'p> {
    path: &'p Path,
    out: ParsedReference,
    rng: Drand48,
    /// Raw previous character of the current contig (0 at contig start).
    last_raw: u8,
    /// Names seen so far → 1-based record number.
    names: HashMap<String, usize>,
}

impl Packer<'_> {
    fn start_record(&mut self, header: &[u8], line: u64) -> Result<(), IndexError> {
        let body = &header[1..];
        let cut = body
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == 0x0b);
        let (name, anno) = match cut {
            None => (body, &b""[..]),
            Some(i) if body[i] == b'\n' => (&body[..i], &b""[..]),
            Some(i) => {
                let mut rest = &body[i + 1..];
                // kseq drops one trailing '\r' from a comment longer than one byte.
                if rest.len() > 1 && rest.last() == Some(&b'\r') {
                    rest = &rest[..rest.len() - 1];
                }
                (&body[..i], rest)
            }
        };
        if header.contains(&0) {
            return Err(self.not_fasta(line, "NUL byte in header (binary file?)".into()));
        }
        let name = String::from_utf8_lossy(name).into_owned();
        let record = self.out.contigs.len() + 1;
        if let Some(&first) = self.names.get(&name) {
            return Err(IndexError::DuplicateName {
                path: self.path.to_path_buf(),
                name,
                first,
                second: record,
            });
        }
        self.names.insert(name.clone(), record);
        let offset = self.out.forward.len() as u64;
        self.out.contigs.push(Contig {
            name,
            anno: String::from_utf8_lossy(anno).into_owned(),
            offset,
            len: 0,
            n_ambs: 0,
        });
        self.last_raw = 0;
        Ok(())
    }

    fn not_fasta(&self, line: u64, what: String) -> IndexError {
        IndexError::NotFasta {
            path: self.path.to_path_buf(),
            line,
            what,
        }
    }

    fn add_bases(&mut self, seq: &[u8], line: u64) -> Result<(), IndexError> {
        if let Some(&b) = seq.iter().find(|&&b| {
            (b < 0x20 && b != b'\t' && b != b'\r' && b != 0x0b && b != 0x0c) || b >= 0x7f
        }) {
            return Err(self.not_fasta(
                line,
                format!("byte 0x{b:02x} is not sequence text (binary file?)"),
            ));
        }
        if self.out.forward.try_reserve(seq.len()).is_err() {
            return Err(IndexError::OutOfMemory {
                path: self.path.to_path_buf(),
                what: "the reference",
                bytes: (self.out.forward.len() + seq.len()) as u64,
            });
        }
        let contig = self
            .out
            .contigs
            .last_mut()
            .expect("add_bases is only called inside a record");
        for &raw in seq {
            let mut code = nt4(raw);
            if code > 3 {
                let pos = self.out.forward.len() as u64;
                match self.out.holes.last_mut() {
                    Some(h) if self.last_raw == raw && h.len < u32::MAX => h.len += 1,
                    _ => {
                        self.out.holes.push(Hole {
                            offset: pos,
                            len: 1,
                            amb: raw,
                        });
                        contig.n_ambs += 1;
                    }
                }
                code = (self.rng.lrand48() & 3) as u8;
            }
            self.last_raw = raw;
            self.out.forward.push(code);
        }
        contig.len += seq.len() as u64;
        Ok(())
    }
}

/// Parses FASTA text from `reader`; `path` only names the file in errors.
pub fn parse_fasta<R: BufRead>(mut reader: R, path: &Path) -> Result<ParsedReference, IndexError> {
    let mut packer = Packer {
        path,
        out: ParsedReference::default(),
        rng: Drand48::new(BWA_RAND_SEED),
        last_raw: 0,
        names: HashMap::new(),
    };
    let read_err = |source| IndexError::Read {
        path: PathBuf::from(path),
        source,
    };
    let mut line = Vec::with_capacity(1 << 16);
    let mut line_no = 0u64;
    let mut any_byte = false;
    loop {
        line.clear();
        let k = reader.read_until(b'\n', &mut line).map_err(read_err)?;
        if k == 0 {
            break;
        }
        any_byte = true;
        line_no += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if line.is_empty() {
            continue;
        }
        match line[0] {
            b'>' => packer.start_record(&line, line_no)?,
            b'@' | b'+' => {
                return Err(packer.not_fasta(
                    line_no,
                    format!(
                        "line starts with '{}' (FASTQ?); expected a FASTA header '>' or sequence",
                        line[0] as char
                    ),
                ))
            }
            _ if packer.out.contigs.is_empty() => {
                let what = if line.iter().any(|&b| b == 0 || b >= 0x80) {
                    "binary data before the first '>' header".to_string()
                } else {
                    "text before the first '>' header".to_string()
                };
                return Err(packer.not_fasta(line_no, what));
            }
            _ => {
                let contig_len = packer.out.contigs.last().map_or(0, |c| c.len);
                // kseq strips a trailing '\r' once the sequence so far is longer than one byte.
                if line.last() == Some(&b'\r') && contig_len + line.len() as u64 > 1 {
                    line.pop();
                }
                packer.add_bases(&line, line_no)?;
            }
        }
    }
    if !any_byte {
        return Err(IndexError::Empty {
            path: path.to_path_buf(),
        });
    }
    if packer.out.forward.is_empty() {
        return Err(IndexError::NoSequence {
            path: path.to_path_buf(),
        });
    }
    Ok(packer.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ParsedReference, IndexError> {
        parse_fasta(text.as_bytes(), Path::new("t.fa"))
    }

    #[test]
    fn drand48_matches_glibc_first_values() {
        // glibc: srand48(11); lrand48() x3
        let mut r = Drand48::new(11);
        let v: Vec<u64> = (0..3).map(|_| r.lrand48()).collect();
        let mut x: u64 = (11 << 16) | 0x330E;
        for &got in &v {
            x = (0x5DEECE66Du64.wrapping_mul(x).wrapping_add(0xB)) & ((1 << 48) - 1);
            assert_eq!(got, x >> 17);
        }
    }

    #[test]
    fn names_annotations_holes() {
        let p = parse(">a first contig\r\nACGN\nnNRY\n\n>b\nAC\r\n").unwrap();
        assert_eq!(p.contigs.len(), 2);
        assert_eq!(p.contigs[0].name, "a");
        assert_eq!(p.contigs[0].anno, "first contig");
        assert_eq!(p.contigs[0].len, 8);
        assert_eq!(p.contigs[1].name, "b");
        assert_eq!(p.contigs[1].anno, "");
        assert_eq!(p.contigs[1].offset, 8);
        assert_eq!(p.contigs[1].len, 2);
        let h: Vec<(u64, u32, u8)> = p.holes.iter().map(|h| (h.offset, h.len, h.amb)).collect();
        assert_eq!(
            h,
            vec![
                (3, 1, b'N'),
                (4, 1, b'n'),
                (5, 1, b'N'),
                (6, 1, b'R'),
                (7, 1, b'Y')
            ]
        );
        assert_eq!(p.contigs[0].n_ambs, 5);
        assert!(p.forward.iter().all(|&c| c < 4));
        assert_eq!(&p.forward[..3], &[0, 1, 2]);
        assert_eq!(&p.forward[8..], &[0, 1]);
    }

    #[test]
    fn hole_runs_merge_and_reset_per_contig() {
        let p = parse(">a\nNN\nNA\n>b\nNN\n").unwrap();
        let h: Vec<(u64, u32)> = p.holes.iter().map(|h| (h.offset, h.len)).collect();
        assert_eq!(h, vec![(0, 3), (4, 2)]);
    }

    #[test]
    fn errors() {
        assert!(matches!(parse(""), Err(IndexError::Empty { .. })));
        assert!(matches!(
            parse(">a\n>b\n"),
            Err(IndexError::NoSequence { .. })
        ));
        assert!(matches!(
            parse(">a\nAC\n>b\nA\n>a x\nC\n"),
            Err(IndexError::DuplicateName {
                first: 1,
                second: 3,
                ..
            })
        ));
        assert!(matches!(
            parse("@r1\nACGT\n+\nIIII\n"),
            Err(IndexError::NotFasta { line: 1, .. })
        ));
        assert!(matches!(
            parse(">a\nACGT\n+\nIIII\n"),
            Err(IndexError::NotFasta { line: 3, .. })
        ));
        assert!(matches!(
            parse("ACGT\n"),
            Err(IndexError::NotFasta { line: 1, .. })
        ));
        assert!(matches!(
            parse(">a\nAC\0GT\n"),
            Err(IndexError::NotFasta { line: 2, .. })
        ));
    }
}
