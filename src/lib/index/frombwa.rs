//! bwa's index files (`PREFIX.{bwt,sa,pac,ann,amb}`, as `bwa index` 0.7
//! writes them) turned into the `.fmi` layout: [`convert_bwa_index`]
//! writes `PREFIX.fmi` (`ferrous index --from-bwa`), [`FmIndex::from_bwa`]
//! builds the same image in memory (`ferrous mem` given only bwa's files).
//!
//! bwa's files hold what an `.fmi` holds, in other layouts (described in
//! `docs/index-format.md`), so the conversion is one pass over each file,
//! in order: `.ann` and `.amb` (text, small) become the contig and hole
//! tables; `.pac` is copied and kept in memory; `.bwt` is recoded block by
//! block (bwa's 128 characters of 2-bit cells become two bit planes; the
//! counts stay); `.sa` samples are narrowed to [`format::sa_width`] bytes.
//! Memory beyond the output is the forward reference (`L/4` bytes) and
//! 2 bits per SA sample.
//!
//! bwa's files carry no checksums, so the conversion checks what can be
//! checked while it streams, and refuses a damaged, truncated or mixed-up
//! set with a one-line error naming the file, before anything is written
//! under the final name: every file's size against the lengths the others
//! declare; `.ann` against `.amb` (`L`, number of sequences), `.sa`'s
//! header against `.bwt`'s (primary row, C array, length); every block
//! count stored in `.bwt` against a recount of its characters (a damaged
//! character changes the next count), the totals against the C array; and
//! every SA sample against the text and the BWT: the character before
//! position `SA[k]` in the text (from `.pac`) must be the BWT character of
//! row `k`. An `.sa` or `.pac` of another reference fails that test at
//! three samples in four.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::contigs::{pac_base, Contig, Hole};
use super::format::{self, Meta, Section, SectionEntry, SectionWriter};
use super::occ::{prefetch_line, OccBlock, OCC_INTERVAL};
use super::{index_path, Backing, BuildSummary, FmIndex, IndexError, Storage};
use crate::cleanup::AtomicFile;

/// Bytes before the characters in `.bwt`: `primary` and `L2[1..=4]`.
const BWT_HEADER: u64 = 40;
/// Bytes before the samples in `.sa`: `primary`, `L2[1..=4]`, the
/// interval, `n`.
const SA_HEADER: u64 = 56;
/// Bytes of one full bwa block: four `u64` counts, eight `u32` words of
/// 16 two-bit characters.
const BWA_BLOCK: usize = 64;

/// The prefix bwa mem itself would use for `hint`: `HINT.64` when
/// `HINT.64.bwt` exists (`bwa index -6`), else `HINT` when `HINT.bwt`
/// exists; `None` when neither does.
pub fn bwa_prefix(hint: &Path) -> Option<PathBuf> {
    [".64.bwt", ".bwt"].iter().find_map(|ext| {
        let bwt = with_suffix(hint, ext);
        bwt.is_file()
            .then(|| with_suffix(hint, &ext[..ext.len() - 4]))
    })
}

pub(super) fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A bwa index file set whose text files are parsed and whose binary files
/// have been checked for size and header agreement; the streaming passes
/// come next.
struct BwaSet {
    prefix: PathBuf,
    contigs: Vec<Contig>,
    holes: Vec<Hole>,
    seed: u64,
    l_pac: u64,
    /// `n = 2L`.
    n: u64,
    primary: u64,
    l2: [u64; 5],
    sa_intv: u64,
}

/// An error about one of bwa's files.
fn bad(path: &Path, what: impl Into<String>) -> IndexError {
    IndexError::BwaFiles {
        path: path.to_path_buf(),
        what: what.into(),
    }
}

fn read_err(path: &Path) -> impl Fn(io::Error) -> IndexError + Copy + '_ {
    move |source| IndexError::Read {
        path: path.to_path_buf(),
        source,
    }
}

fn write_err(path: &Path) -> impl Fn(io::Error) -> IndexError + Copy + '_ {
    move |source| IndexError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// `read_exact`, a short file reported as truncated.
fn read_exact(r: &mut impl Read, buf: &mut [u8], path: &Path) -> Result<(), IndexError> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            bad(path, "file is truncated")
        } else {
            read_err(path)(e)
        }
    })
}

fn u64s<const N: usize>(b: &[u8]) -> [u64; N] {
    std::array::from_fn(|i| format::u64_at(b, 8 * i))
}

/// The size of `path`, which must be `want` bytes.
fn check_size(path: &Path, want: u64, what: &str) -> Result<File, IndexError> {
    let file = File::open(path).map_err(read_err(path))?;
    let size = file.metadata().map_err(read_err(path))?.len();
    if size != want {
        return Err(bad(
            path,
            format!(
                "file is {size} bytes, {want} expected for {what} (truncated, damaged or of another reference)"
            ),
        ));
    }
    Ok(file)
}

/// The lines of a small text file, numbered from 1, as byte strings.
fn text_lines(path: &Path) -> Result<Vec<Vec<u8>>, IndexError> {
    let mut lines = Vec::new();
    for line in BufReader::new(File::open(path).map_err(read_err(path))?).split(b'\n') {
        lines.push(line.map_err(read_err(path))?);
    }
    Ok(lines)
}

/// The whitespace-separated numbers of line `at` (0-based) of a text file.
fn numbers<const N: usize>(
    lines: &[Vec<u8>],
    at: usize,
    path: &Path,
) -> Result<[u64; N], IndexError> {
    let err = || bad(path, format!("line {}: expected {N} numbers", at + 1));
    let line = lines.get(at).ok_or_else(err)?;
    let fields: Vec<&[u8]> = line
        .split(|&b| b == b' ')
        .filter(|f| !f.is_empty())
        .collect();
    if fields.len() != N {
        return Err(err());
    }
    let mut out = [0u64; N];
    for (slot, f) in out.iter_mut().zip(fields) {
        *slot = std::str::from_utf8(f)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(err)?;
    }
    Ok(out)
}

/// `.ann`: `L n_seqs seed`, then per sequence `gi name[ anno]` and
/// `offset len n_ambs` (bwa writes an empty annotation as `(null)`).
fn read_ann(path: &Path) -> Result<(u64, u64, Vec<Contig>), IndexError> {
    let lines = text_lines(path)?;
    let [l_pac, n_seqs, seed] = numbers(&lines, 0, path)?;
    let expected_lines = n_seqs.checked_mul(2).and_then(|x| x.checked_add(1));
    let trailing = lines.len() as u64 == expected_lines.unwrap_or(0) + 1
        && lines.last().is_some_and(|l| l.is_empty());
    if Some(lines.len() as u64) != expected_lines && !trailing {
        return Err(bad(
            path,
            format!("{} lines for {n_seqs} sequences", lines.len()),
        ));
    }
    let mut contigs = Vec::with_capacity(n_seqs as usize);
    let mut names = std::collections::HashMap::new();
    let mut next = 0u64;
    for i in 0..n_seqs as usize {
        let head = &lines[1 + 2 * i];
        let line_no = 2 + 2 * i;
        let mut parts = head.splitn(3, |&b| b == b' ');
        let gi = parts.next().unwrap_or_default();
        let name = parts.next().unwrap_or_default();
        let anno = parts.next().unwrap_or_default();
        if gi.is_empty() || !gi.iter().all(u8::is_ascii_digit) || name.is_empty() {
            return Err(bad(
                path,
                format!("line {line_no}: expected `gi name [annotation]`"),
            ));
        }
        let name = String::from_utf8_lossy(name).into_owned();
        if let Some(first) = names.insert(name.clone(), i + 1) {
            return Err(bad(
                path,
                format!(
                    "sequences {first} and {} have the same name '{name}'",
                    i + 1
                ),
            ));
        }
        let anno = if anno == b"(null)" { &b""[..] } else { anno };
        let [offset, len, n_ambs] = numbers(&lines, 2 + 2 * i, path)?;
        if offset != next || n_ambs > u32::MAX as u64 {
            return Err(bad(
                path,
                format!(
                    "line {}: sequence '{name}' at offset {offset}, {next} expected",
                    line_no + 1
                ),
            ));
        }
        next = next.saturating_add(len);
        contigs.push(Contig {
            name,
            anno: String::from_utf8_lossy(anno).into_owned(),
            offset,
            len,
            n_ambs: n_ambs as u32,
        });
    }
    if next != l_pac || l_pac == 0 {
        return Err(bad(
            path,
            format!("sequence lengths add up to {next}, the header says {l_pac}"),
        ));
    }
    Ok((l_pac, seed, contigs))
}

/// `.amb`: `L n_seqs n_holes`, then per hole `offset len char`.
fn read_amb(path: &Path, l_pac: u64, n_seqs: u64) -> Result<Vec<Hole>, IndexError> {
    let lines = text_lines(path)?;
    let [l, seqs, n_holes] = numbers(&lines, 0, path)?;
    if (l, seqs) != (l_pac, n_seqs) {
        return Err(bad(
            path,
            format!("{l} bases in {seqs} sequences, the .ann says {l_pac} in {n_seqs} (files of different references)"),
        ));
    }
    let body = lines.len().saturating_sub(1);
    let body = if lines.last().is_some_and(|l| l.is_empty()) {
        body.saturating_sub(1)
    } else {
        body
    };
    if body as u64 != n_holes {
        return Err(bad(
            path,
            format!("{body} holes listed, the header says {n_holes}"),
        ));
    }
    let mut holes = Vec::with_capacity(body);
    for (i, line) in lines[1..=body].iter().enumerate() {
        let err = || {
            bad(
                path,
                format!("line {}: expected `offset length character`", i + 2),
            )
        };
        let (nums, amb) = match line.as_slice() {
            [nums @ .., b' ', amb] => (nums, *amb),
            _ => return Err(err()),
        };
        let [offset, len] = numbers(&[nums.to_vec()], 0, path).map_err(|_| err())?;
        if len == 0 || len > u32::MAX as u64 || offset.saturating_add(len) > l_pac {
            return Err(bad(
                path,
                format!("line {}: hole outside the reference", i + 2),
            ));
        }
        holes.push(Hole {
            offset,
            len: len as u32,
            amb,
        });
    }
    Ok(holes)
}

/// bwa's `.pac` size for `L` bases: `ceil(L/4)` bytes, a zero byte when
/// `4 | L`, then one byte `L % 4`.
fn pac_file_len(l_pac: u64) -> u64 {
    l_pac / 4 + 2
}

/// `.bwt` words: `ceil(n/16)` of characters, 8 per count record, one
/// record per started block of 128 and one after the last.
fn bwt_file_len(n: u64) -> u64 {
    BWT_HEADER + 4 * (n.div_ceil(16) + 8 * (n.div_ceil(OCC_INTERVAL) + 1))
}

impl BwaSet {
    fn file(&self, ext: &str) -> PathBuf {
        with_suffix(&self.prefix, ext)
    }

    /// bwa's file `ext`, opened and read past its `header` bytes.
    fn body(&self, ext: &str, header: u64) -> Result<(PathBuf, File), IndexError> {
        let path = self.file(ext);
        let mut f = File::open(&path).map_err(read_err(&path))?;
        let mut skip = vec![0u8; header as usize];
        read_exact(&mut f, &mut skip, &path)?;
        Ok((path, f))
    }

    /// The set bwa mem would use for `hint` ([`bwa_prefix`]), opened.
    fn find(hint: &Path) -> Result<(PathBuf, BwaSet), IndexError> {
        let prefix = bwa_prefix(hint).ok_or_else(|| IndexError::Read {
            path: with_suffix(hint, ".bwt"),
            source: io::Error::new(
                io::ErrorKind::NotFound,
                "not found: no bwa index files with this prefix",
            ),
        })?;
        let set = BwaSet::open(&prefix)?;
        Ok((prefix, set))
    }

    /// Parses `.ann` and `.amb`, checks the sizes of `.pac`, `.bwt` and
    /// `.sa` and the headers of the last two.
    fn open(prefix: &Path) -> Result<BwaSet, IndexError> {
        let ann = with_suffix(prefix, ".ann");
        let (l_pac, seed, contigs) = read_ann(&ann)?;
        let holes = read_amb(&with_suffix(prefix, ".amb"), l_pac, contigs.len() as u64)?;
        if holes.len() as u64 != contigs.iter().map(|c| c.n_ambs as u64).sum::<u64>() {
            return Err(bad(&ann, "hole counts do not match the .amb file"));
        }
        let n = 2 * l_pac;
        if n > format::MAX_SEQ_LEN {
            return Err(IndexError::TooLong {
                path: ann,
                len: l_pac,
            });
        }
        let mut set = BwaSet {
            prefix: prefix.to_path_buf(),
            contigs,
            holes,
            seed,
            l_pac,
            n,
            primary: 0,
            l2: [0; 5],
            sa_intv: 0,
        };
        let pac = set.file(".pac");
        check_size(&pac, pac_file_len(l_pac), &format!("{l_pac} bases"))?;

        let bwt = set.file(".bwt");
        let mut head = [0u8; BWT_HEADER as usize];
        let mut f = File::open(&bwt).map_err(read_err(&bwt))?;
        read_exact(&mut f, &mut head, &bwt)?;
        let [primary, a, c, g, t] = u64s::<5>(&head);
        if t != n {
            return Err(bad(
                &bwt,
                format!("BWT of {t} characters, the .ann says {l_pac} bases (2L = {n}): files of different references"),
            ));
        }
        if primary == 0 || primary > n || !(a <= c && c <= g && g <= t) {
            return Err(bad(&bwt, "damaged header (primary row or C array)"));
        }
        check_size(&bwt, bwt_file_len(n), &format!("a BWT of {n} characters"))?;
        set.primary = primary;
        set.l2 = [0, a, c, g, t];

        let sa = set.file(".sa");
        let mut head = [0u8; SA_HEADER as usize];
        let mut f = File::open(&sa).map_err(read_err(&sa))?;
        read_exact(&mut f, &mut head, &sa)?;
        let [sa_primary, a, c, g, t, intv, sa_n] = u64s::<7>(&head);
        if sa_primary != primary || [a, c, g, t] != set.l2[1..] || sa_n != n {
            return Err(bad(
                &sa,
                format!(
                    "does not belong with {}: another reference's suffix array",
                    bwt.display()
                ),
            ));
        }
        // bwa writes its `int` interval as 8 bytes: the high 4 are not its.
        let intv = intv & 0xffff_ffff;
        if !intv.is_power_of_two() {
            return Err(bad(
                &sa,
                format!("SA interval {intv} is not a power of two (ferrous needs one)"),
            ));
        }
        check_size(
            &sa,
            SA_HEADER + 8 * (n / intv),
            &format!("{} samples", n / intv),
        )?;
        set.sa_intv = intv;
        Ok(set)
    }

    fn meta(&self) -> Meta {
        Meta {
            l_pac: self.l_pac,
            seq_len: self.n,
            primary: self.primary,
            l2: self.l2,
            sa_intv: self.sa_intv,
            sa_width: format::sa_width(self.n),
            n_sa: self.n / self.sa_intv + 1,
            n_occ_blocks: self.n / OCC_INTERVAL + 1,
            n_contigs: self.contigs.len() as u64,
            n_holes: self.holes.len() as u64,
            seed: self.seed,
        }
    }

    /// Lengths of the six sections, in table order.
    fn section_lens(&self, contigs: &[u8], holes: &[u8]) -> [u64; 6] {
        let m = self.meta();
        [
            contigs.len() as u64,
            holes.len() as u64,
            self.l_pac.div_ceil(4),
            64 * m.n_occ_blocks,
            m.sa_width * m.n_sa,
            format::META_LEN,
        ]
    }

    /// Fills `pac` (`ceil(L/4)` bytes) from `.pac` and checks its last byte.
    fn read_pac(&self, pac: &mut [u8]) -> Result<(), IndexError> {
        let path = self.file(".pac");
        let mut f = BufReader::with_capacity(1 << 22, File::open(&path).map_err(read_err(&path))?);
        read_exact(&mut f, pac, &path)?;
        let mut tail = vec![0u8; (pac_file_len(self.l_pac) - pac.len() as u64) as usize];
        read_exact(&mut f, &mut tail, &path)?;
        if tail.last() != Some(&((self.l_pac % 4) as u8)) {
            return Err(bad(&path, "damaged: the last byte is not L mod 4"));
        }
        // The text is the forward strand and its reverse complement: its
        // count of A (and of T) is the forward count of A plus that of T.
        let [a, c, g, t] = base_counts(pac, self.l_pac);
        let l2 = self.l2;
        if [a + t, c + g] != [l2[1] - l2[0], l2[2] - l2[1]] {
            return Err(bad(
                &path,
                format!(
                    "base counts do not match {} (damaged, or of another reference)",
                    self.file(".bwt").display()
                ),
            ));
        }
        Ok(())
    }

    /// Streams `.bwt` into occurrence blocks written to `out`, checking
    /// every stored count; returns the BWT character of every sampled row
    /// (2 bits each, sample `i` for row `i·sa_intv`, `i ≥ 1`; 0 for the
    /// `$` row).
    fn stream_occ(
        &self,
        out: &mut dyn FnMut(&[u8]) -> io::Result<()>,
        out_path: &Path,
    ) -> Result<Vec<u8>, IndexError> {
        let (path, mut f) = self.body(".bwt", BWT_HEADER)?;
        let write_err = write_err(out_path);
        let (n, intv, primary) = (self.n, self.sa_intv, self.primary);
        let mut chars = vec![0u8; (n / intv).div_ceil(4) as usize];
        // The next sampled row and its character's index in the $-less BWT.
        let mut next_row = intv;
        let char_index = |row: u64| row - u64::from(row > primary);
        let mut counts = [0u64; 4];
        let n_blocks = n.div_ceil(OCC_INTERVAL);
        const CHUNK: usize = 1 << 14; // blocks per read: 1 MiB
        let mut buf = vec![0u8; CHUNK * BWA_BLOCK];
        let mut occ = Vec::with_capacity(CHUNK * 64);
        let mut b = 0u64;
        while b < n_blocks {
            let take = (n_blocks - b).min(CHUNK as u64) as usize;
            // The last block may be partial; its byte count follows `n`.
            let last_chars = n - (b + take as u64 - 1) * OCC_INTERVAL;
            let bytes = (take - 1) * BWA_BLOCK + 32 + 4 * last_chars.min(128).div_ceil(16) as usize;
            read_exact(&mut f, &mut buf[..bytes], &path)?;
            occ.clear();
            for k in 0..take {
                let block = &buf[k * BWA_BLOCK..bytes.min((k + 1) * BWA_BLOCK)];
                let stored = u64s::<4>(block);
                if stored != counts {
                    return Err(bad(
                        &path,
                        format!(
                            "damaged: the counts before character {} do not match the characters",
                            b * OCC_INTERVAL
                        ),
                    ));
                }
                let len = (n - b * OCC_INTERVAL).min(OCC_INTERVAL);
                let mut block_out = OccBlock {
                    counts,
                    ..OccBlock::default()
                };
                recode_block(&block[32..], len, &mut block_out);
                counts = block_out.count4(len);
                let end = b * OCC_INTERVAL + len;
                while next_row <= n {
                    if next_row != primary {
                        let j = char_index(next_row);
                        if j >= end {
                            break;
                        }
                        let c = block_out.base(j - b * OCC_INTERVAL);
                        let i = (next_row / intv - 1) as usize;
                        chars[i / 4] |= c << (2 * (i % 4));
                    }
                    next_row += intv;
                }
                push_block(&mut occ, &block_out);
                b += 1;
            }
            out(&occ).map_err(write_err)?;
        }
        let mut last = [0u8; 32];
        read_exact(&mut f, &mut last, &path)?;
        if u64s::<4>(&last) != counts {
            return Err(bad(
                &path,
                "damaged: the final counts do not match the characters",
            ));
        }
        let mut acc = 0;
        for (c, count) in counts.iter().enumerate() {
            acc += count;
            if self.l2[c + 1] != acc {
                return Err(bad(
                    &path,
                    "damaged: the C array does not match the characters",
                ));
            }
        }
        if n % OCC_INTERVAL == 0 {
            // The block of totals that closes an occurrence table of full blocks.
            let mut occ = Vec::with_capacity(64);
            push_block(
                &mut occ,
                &OccBlock {
                    counts,
                    ..OccBlock::default()
                },
            );
            out(&occ).map_err(write_err)?;
        }
        Ok(chars)
    }

    /// Streams `.sa` into samples of [`format::sa_width`] bytes written to
    /// `out` (row 0's, `n`, first), checking each against `pac` and the
    /// BWT characters [`BwaSet::stream_occ`] returned.
    fn stream_sa(
        &self,
        pac: &[u8],
        chars: &[u8],
        out: &mut dyn FnMut(&[u8]) -> io::Result<()>,
        out_path: &Path,
    ) -> Result<(), IndexError> {
        let (path, mut f) = self.body(".sa", SA_HEADER)?;
        let write_err = write_err(out_path);
        let (n, l) = (self.n, self.l_pac);
        let width = format::sa_width(n) as usize;
        // The text character before position p of X, from the forward strand.
        let before = |p: u64| -> (u64, bool) {
            let q = p - 1;
            if q < l {
                (q, false)
            } else {
                (2 * l - 1 - q, true)
            }
        };
        let mut first = Vec::with_capacity(8);
        first.extend_from_slice(&n.to_le_bytes()[..width]);
        out(&first).map_err(write_err)?;
        const CHUNK: usize = 1 << 16;
        const AHEAD: usize = 16;
        let mut buf = vec![0u8; CHUNK * 8];
        let mut samples = Vec::with_capacity(CHUNK * width);
        let total = n / self.sa_intv;
        let mut done = 0u64;
        while done < total {
            let take = (total - done).min(CHUNK as u64) as usize;
            read_exact(&mut f, &mut buf[..take * 8], &path)?;
            let value = |k: usize| format::u64_at(&buf, 8 * k);
            samples.clear();
            for k in 0..take {
                if k + AHEAD < take {
                    let v = value(k + AHEAD);
                    if (1..=n).contains(&v) {
                        prefetch_line(pac.as_ptr().wrapping_add((before(v).0 / 4) as usize));
                    }
                }
                let i = done + k as u64; // sample i + 1, row (i + 1)·intv
                let row = (i + 1) * self.sa_intv;
                let v = value(k);
                let c = (chars[(i / 4) as usize] >> (2 * (i % 4))) & 3;
                let fits = if row == self.primary {
                    v == 0
                } else if v == 0 || v >= n {
                    false
                } else {
                    let (q, rev) = before(v);
                    let t = pac_base(pac, q);
                    (if rev { 3 - t } else { t }) == c
                };
                if !fits {
                    return Err(bad(
                        &path,
                        format!(
                            "SA[{row}] = {v} does not match {} and {}: one of the three is damaged or of another reference",
                            self.file(".bwt").display(),
                            self.file(".pac").display()
                        ),
                    ));
                }
                samples.extend_from_slice(&v.to_le_bytes()[..width]);
            }
            out(&samples).map_err(write_err)?;
            done += take as u64;
        }
        Ok(())
    }
}

/// Counts of A, C, G, T among the first `len` bases of a packed sequence.
fn base_counts(pac: &[u8], len: u64) -> [u64; 4] {
    const LO: u64 = 0x5555_5555_5555_5555;
    let full = (len / 4) as usize;
    let mut counts = [0u64; 4];
    let words = pac[..full].chunks_exact(8);
    let rest = words.remainder();
    for w in words {
        let x = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        let (lo, hi) = (x & LO, (x >> 1) & LO);
        counts[1] += u64::from((lo & !hi).count_ones());
        counts[2] += u64::from((hi & !lo).count_ones());
        counts[3] += u64::from((lo & hi).count_ones());
    }
    let tail = (full - rest.len()) as u64 * 4..len;
    counts[0] = (full - rest.len()) as u64 * 4 - counts[1] - counts[2] - counts[3];
    for l in tail {
        counts[pac_base(pac, l) as usize] += 1;
    }
    counts
}

/// One occurrence block's 64 bytes, little-endian.
fn push_block(out: &mut Vec<u8>, b: &OccBlock) {
    for x in b.counts.iter().chain(&b.lo).chain(&b.hi) {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// bwa's words of one block (up to eight little-endian `u32`, 16
/// characters each, the first in the top two bits) into the bit planes of
/// `out`, keeping the first `len` characters (the rest stay 0).
fn recode_block(words: &[u8], len: u64, out: &mut OccBlock) {
    for (w, word) in words.chunks_exact(4).enumerate() {
        let x = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        let lo = u64::from(even_bits(x).reverse_bits());
        let hi = u64::from(even_bits(x >> 1).reverse_bits());
        let shift = 16 * (w % 4);
        out.lo[w / 4] |= lo << shift;
        out.hi[w / 4] |= hi << shift;
    }
    for (w, (lo, hi)) in out.lo.iter_mut().zip(out.hi.iter_mut()).enumerate() {
        let keep = len.saturating_sub(64 * w as u64);
        let mask = if keep >= 64 { !0 } else { (1u64 << keep) - 1 };
        *lo &= mask;
        *hi &= mask;
    }
}

/// Bits 0, 2, 4, ..., 30 of `x` gathered into bits 0..16.
fn even_bits(x: u32) -> u16 {
    let mut x = x & 0x5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333;
    x = (x | (x >> 2)) & 0x0f0f_0f0f;
    x = (x | (x >> 4)) & 0x00ff_00ff;
    x = (x | (x >> 8)) & 0x0000_ffff;
    x as u16
}

/// `ferrous index --from-bwa PREFIX`: converts bwa's index files into
/// `OUT.fmi` (`OUT` defaults to `PREFIX`; bwa's `PREFIX.64` files are used
/// when present, as bwa mem uses them), through a temporary file renamed
/// into place only when every check has passed.
pub fn convert_bwa_index(
    prefix: &Path,
    out: Option<&Path>,
    verbose: bool,
) -> Result<BuildSummary, IndexError> {
    let t0 = Instant::now();
    let (bwa, set) = BwaSet::find(prefix)?;
    let final_path = index_path(out.unwrap_or(prefix));
    let write_err = |source| IndexError::Write {
        path: final_path.clone(),
        source,
    };
    let contigs = format::encode_contigs(&set.contigs);
    let holes = format::encode_holes(&set.holes);
    let file = AtomicFile::create(&final_path).map_err(write_err)?;
    let mut w = SectionWriter::new(format::ChunkWriter::new(file)).map_err(write_err)?;
    w.section(Section::Contigs, &contigs).map_err(write_err)?;
    w.section(Section::Holes, &holes).map_err(write_err)?;
    let mut pac = crate::index::build::try_alloc::<u8>(
        set.l_pac.div_ceil(4) as usize,
        "the packed reference",
        &final_path,
    )?;
    set.read_pac(&mut pac)?;
    w.section(Section::Pac, &pac).map_err(write_err)?;
    w.begin(Section::Occ).map_err(write_err)?;
    let chars = set.stream_occ(&mut |b| w.write(b), &final_path)?;
    w.end();
    if verbose {
        eprintln!(
            "[ferrous index] {}: BWT recoded in {:.2} s",
            bwa.display(),
            t0.elapsed().as_secs_f64()
        );
    }
    w.begin(Section::Sa).map_err(write_err)?;
    set.stream_sa(&pac, &chars, &mut |b| w.write(b), &final_path)?;
    w.end();
    drop((pac, chars));
    w.section(Section::Meta, &set.meta().encode())
        .map_err(write_err)?;
    let (out, fingerprint, file_size) = w.finish().map_err(write_err)?;
    let file = out.into_inner().map_err(write_err)?;
    file.commit().map_err(write_err)?;
    if verbose {
        eprintln!(
            "[ferrous index] wrote {} ({file_size} bytes) in {:.2} s",
            final_path.display(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(BuildSummary {
        path: final_path,
        l_pac: set.l_pac,
        n_contigs: set.contigs.len(),
        n_holes: set.holes.len(),
        file_size,
        fingerprint,
    })
}

impl FmIndex {
    /// The index of bwa's files `PREFIX.{bwt,sa,pac,ann,amb}` (or
    /// `PREFIX.64.*`) built in memory, with the checks of
    /// [`convert_bwa_index`]: the image `ferrous index --from-bwa` would
    /// write, in an anonymous mapping (no file is written). Memory beyond
    /// the image: 2 bits per SA sample.
    pub fn from_bwa(prefix: &Path) -> Result<FmIndex, IndexError> {
        let (bwa, set) = BwaSet::find(prefix)?;
        let contigs = format::encode_contigs(&set.contigs);
        let holes = format::encode_holes(&set.holes);
        let lens = set.section_lens(&contigs, &holes);
        let (offsets, size) = format::layout(&lens);
        let name = index_path(prefix);
        let mem_err = |source| IndexError::Read {
            path: bwa.clone(),
            source,
        };
        let mut image =
            memmap2::MmapMut::map_anon(size as usize).map_err(|e| match e.raw_os_error() {
                Some(libc::ENOMEM) => IndexError::OutOfMemory {
                    path: bwa.clone(),
                    what: "the index in memory (converted from bwa's files)",
                    bytes: size,
                },
                _ => mem_err(e),
            })?;
        #[cfg(target_os = "linux")]
        let _ = image.advise(memmap2::Advice::HugePage);
        let range = |s: Section| {
            let i = s as usize - 1;
            offsets[i] as usize..(offsets[i] + lens[i]) as usize
        };
        let mut crcs = [0u32; 6];
        {
            let (front, back) = image.split_at_mut(offsets[Section::Occ as usize - 1] as usize);
            front[range(Section::Contigs)].copy_from_slice(&contigs);
            front[range(Section::Holes)].copy_from_slice(&holes);
            set.read_pac(&mut front[range(Section::Pac)])?;
            let front: &[u8] = front;
            let pac = &front[range(Section::Pac)];
            let at = |s: Section| {
                let r = range(s);
                r.start - front.len()..r.end - front.len()
            };
            let (occ_part, rest) = back.split_at_mut(at(Section::Sa).start);
            let occ_part = &mut occ_part[at(Section::Occ)];
            let mut occ_w = Filler::new(occ_part);
            let chars = set.stream_occ(&mut |b| occ_w.put(b), &name)?;
            crcs[Section::Occ as usize - 1] = occ_w.finish(&name)?;
            let sa_range = 0..lens[Section::Sa as usize - 1] as usize;
            let meta_at = at(Section::Meta).start - at(Section::Sa).start;
            let (sa_part, meta_part) = rest.split_at_mut(meta_at);
            let mut sa_w = Filler::new(&mut sa_part[sa_range]);
            set.stream_sa(pac, &chars, &mut |b| sa_w.put(b), &name)?;
            crcs[Section::Sa as usize - 1] = sa_w.finish(&name)?;
            let meta = set.meta().encode();
            meta_part[..meta.len()].copy_from_slice(&meta);
            crcs[Section::Meta as usize - 1] = crc32fast::hash(&meta);
            crcs[Section::Pac as usize - 1] = crc32fast::hash(pac);
            crcs[Section::Contigs as usize - 1] = crc32fast::hash(&contigs);
            crcs[Section::Holes as usize - 1] = crc32fast::hash(&holes);
        }
        let entries: Vec<SectionEntry> = Section::ALL
            .iter()
            .enumerate()
            .map(|(i, s)| SectionEntry {
                kind: *s as u32,
                offset: offsets[i],
                len: lens[i],
                crc: crcs[i],
            })
            .collect();
        let header = format::encode_header(&entries, size);
        image[..header.len()].copy_from_slice(&header);
        let storage = Storage::new(Backing::Mapped(image.make_read_only().map_err(mem_err)?));
        FmIndex::from_storage(storage, name)
    }
}

/// Fills a slice front to back, checksumming what it writes.
struct Filler<'a> {
    rest: &'a mut [u8],
    crc: crc32fast::Hasher,
}

impl<'a> Filler<'a> {
    fn new(slice: &'a mut [u8]) -> Self {
        Filler {
            rest: slice,
            crc: crc32fast::Hasher::new(),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.crc.update(bytes);
        self.rest.write_all(bytes)
    }

    /// The CRC32 of what was written, which must have filled the slice.
    fn finish(self, name: &Path) -> Result<u32, IndexError> {
        if !self.rest.is_empty() {
            return Err(IndexError::Corrupt {
                path: name.to_path_buf(),
                what: format!("{} bytes of a section left unwritten", self.rest.len()),
            });
        }
        Ok(self.crc.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pac_file_lengths() {
        // ceil(L/4) bytes, a zero byte when 4 | L, then L % 4.
        assert_eq!(pac_file_len(1), 2);
        assert_eq!(pac_file_len(3), 2);
        assert_eq!(pac_file_len(4), 3);
        assert_eq!(pac_file_len(5), 3);
        assert_eq!(pac_file_len(8), 4);
    }

    #[test]
    fn base_counts_match_the_bases() {
        let bases: Vec<u8> = (0..103u64)
            .map(|i| ((i * i + 3 * i) % 7 % 4) as u8)
            .collect();
        let mut pac = vec![0u8; bases.len().div_ceil(4)];
        for (l, &c) in bases.iter().enumerate() {
            pac[l / 4] |= c << ((3 - l % 4) * 2);
        }
        for len in [0, 1, 4, 31, 32, 33, 100, 103] {
            let mut want = [0u64; 4];
            for &c in &bases[..len] {
                want[c as usize] += 1;
            }
            assert_eq!(base_counts(&pac, len as u64), want, "{len} bases");
        }
    }

    #[test]
    fn recode_gives_the_characters_in_order() {
        // Characters 0..16 of word 0 are 0,1,2,3,0,1,...; word 1 all 3 (T).
        let mut word0 = 0u32;
        for i in 0..16u32 {
            word0 |= (i % 4) << (2 * (15 - i));
        }
        let mut bytes = word0.to_le_bytes().to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        let mut b = OccBlock::default();
        recode_block(&bytes, 20, &mut b);
        for i in 0..16 {
            assert_eq!(b.base(i), (i % 4) as u8, "character {i}");
        }
        for i in 16..20 {
            assert_eq!(b.base(i), 3);
        }
        for i in 20..128 {
            assert_eq!(b.base(i), 0, "beyond the length");
        }
    }
}
