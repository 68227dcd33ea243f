//! The on-disk layout of `PREFIX.fmi` (see `docs/index-format.md`): a
//! 64-byte header, a section table, and 64-byte aligned sections, all
//! little-endian. Writing streams sections and patches the header last;
//! reading validates the header and the small sections.

use std::io::{self, Seek, SeekFrom, Write};

use super::contigs::{Contig, Hole};

#[cfg(not(target_endian = "little"))]
compile_error!("the .fmi format is read in place and needs a little-endian target");

/// First 8 bytes of every `.fmi` file.
pub const MAGIC: [u8; 8] = *b"FERRFMI\0";
/// Bump on any change of layout or meaning.
pub const FORMAT_VERSION: u32 = 2;
/// Fixed header size; the section table follows.
pub const HEADER_LEN: u64 = 64;
/// Size of one section-table entry.
pub const ENTRY_LEN: u64 = 32;
/// Alignment of every section.
pub const ALIGN: u64 = 64;
/// Size of the META section.
pub const META_LEN: u64 = 15 * 8;
/// Size of one HOLES record.
pub const HOLE_LEN: u64 = 16;

/// The sections, in the order they appear in the file and the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Section {
    Contigs = 1,
    Holes = 2,
    Pac = 3,
    Occ = 4,
    Sa = 5,
    Meta = 6,
}

impl Section {
    pub const ALL: [Section; 6] = [
        Section::Contigs,
        Section::Holes,
        Section::Pac,
        Section::Occ,
        Section::Sa,
        Section::Meta,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Section::Contigs => "contigs",
            Section::Holes => "holes",
            Section::Pac => "pac",
            Section::Occ => "occ",
            Section::Sa => "sa",
            Section::Meta => "meta",
        }
    }

    /// Small sections are checksummed at open; big ones only by `verify()`.
    pub fn is_small(self) -> bool {
        matches!(self, Section::Contigs | Section::Holes | Section::Meta)
    }
}

/// One row of the section table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SectionEntry {
    pub kind: u32,
    pub offset: u64,
    pub len: u64,
    pub crc: u32,
}

/// The META section: the scalar facts of the index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meta {
    /// `L`, forward length.
    pub l_pac: u64,
    /// `n = 2L`, length of the indexed text.
    pub seq_len: u64,
    /// Row whose BWT character is `$` (SA = 0).
    pub primary: u64,
    /// bwa's C array `L2[0..=4]`.
    pub l2: [u64; 5],
    /// Sampling interval of the suffix array (power of two).
    pub sa_intv: u64,
    /// Bytes per SA sample: [`sa_width`]`(n)` when built (4 or 5); 8 is
    /// also read.
    pub sa_width: u64,
    /// Number of SA samples, `n / sa_intv + 1`.
    pub n_sa: u64,
    /// Number of 64-byte occurrence blocks, `n / 128 + 1`.
    pub n_occ_blocks: u64,
    pub n_contigs: u64,
    pub n_holes: u64,
    /// drand48 seed used for ambiguous bases (11, as bwa).
    pub seed: u64,
}

impl Meta {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(META_LEN as usize);
        let mut put = |x: u64| v.extend_from_slice(&x.to_le_bytes());
        put(self.l_pac);
        put(self.seq_len);
        put(self.primary);
        for x in self.l2 {
            put(x);
        }
        put(self.sa_intv);
        put(self.sa_width);
        put(self.n_sa);
        put(self.n_occ_blocks);
        put(self.n_contigs);
        put(self.n_holes);
        put(self.seed);
        debug_assert_eq!(v.len() as u64, META_LEN);
        v
    }

    pub fn decode(b: &[u8]) -> Option<Meta> {
        if b.len() as u64 != META_LEN {
            return None;
        }
        let g = |i: usize| u64_at(b, i * 8);
        Some(Meta {
            l_pac: g(0),
            seq_len: g(1),
            primary: g(2),
            l2: [g(3), g(4), g(5), g(6), g(7)],
            sa_intv: g(8),
            sa_width: g(9),
            n_sa: g(10),
            n_occ_blocks: g(11),
            n_contigs: g(12),
            n_holes: g(13),
            seed: g(14),
        })
    }
}

/// The longest text (`n = 2L`) the format holds: SA values up to `n` must
/// fit the 40 bits of a 5-byte sample.
pub const MAX_SEQ_LEN: u64 = (1 << 40) - 1;

/// Bytes per SA sample of a text of length `n`: 4 while SA values (which
/// run to `n`) fit 32 bits, else 5 (40 bits). Every builder takes the width
/// from here. A reader also accepts 8 (files written before 5-byte samples).
pub fn sa_width(n: u64) -> u64 {
    if n <= u32::MAX as u64 {
        4
    } else {
        5
    }
}

/// Whether a reader accepts `width`-byte SA samples for a text of length `n`.
pub fn sa_width_ok(width: u64, n: u64) -> bool {
    matches!(width, 4 | 5 | 8) && width >= sa_width(n)
}

/// The default SA sampling interval for a text of length `n`: 16 while
/// samples are 4 bytes (`n/4` bytes of samples), 32 above, as bwa's, so a
/// human index (`n` = 6.2·10^9, 5-byte samples: `5n/32` ≈ 0.97 GB) stays
/// below the size of bwa's (`8n/32`).
pub fn default_sa_intv(n: u64) -> u64 {
    if sa_width(n) == 4 {
        16
    } else {
        32
    }
}

/// The SA section being built: samples appended in row order, each as its
/// low `width` bytes, little-endian.
#[derive(Debug, Clone)]
pub struct SaSamples {
    width: usize,
    bytes: Vec<u8>,
}

impl SaSamples {
    /// Room for the `n / sa_intv + 1` samples of a text of length `n`, each
    /// [`sa_width`]`(n)` bytes wide.
    pub fn new(n: u64, sa_intv: u64) -> SaSamples {
        Self::with_width(n, sa_intv, sa_width(n))
    }

    /// As [`SaSamples::new`] with a given width (4, 5 or 8; at least
    /// [`sa_width`]`(n)`): tests use it to read wide samples on small texts.
    pub fn with_width(n: u64, sa_intv: u64, width: u64) -> SaSamples {
        debug_assert!(sa_width_ok(width, n));
        let count = (n / sa_intv.max(1) + 1) as usize;
        SaSamples {
            width: width as usize,
            bytes: Vec::with_capacity(count * width as usize),
        }
    }

    /// Appends one SA value (it must fit the width).
    #[inline]
    pub fn push(&mut self, value: u64) {
        debug_assert!(self.width == 8 || value >> (8 * self.width) == 0);
        self.bytes
            .extend_from_slice(&value.to_le_bytes()[..self.width]);
    }

    pub fn width(&self) -> u64 {
        self.width as u64
    }

    /// Samples pushed so far.
    pub fn len(&self) -> u64 {
        (self.bytes.len() / self.width) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The section's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

/// CONTIGS: per contig `offset u64, len u64, n_ambs u32, name_len u32,
/// anno_len u32`, then the name and annotation bytes.
pub fn encode_contigs(contigs: &[Contig]) -> Vec<u8> {
    let mut v = Vec::new();
    for c in contigs {
        v.extend_from_slice(&c.offset.to_le_bytes());
        v.extend_from_slice(&c.len.to_le_bytes());
        v.extend_from_slice(&c.n_ambs.to_le_bytes());
        v.extend_from_slice(&(c.name.len() as u32).to_le_bytes());
        v.extend_from_slice(&(c.anno.len() as u32).to_le_bytes());
        v.extend_from_slice(c.name.as_bytes());
        v.extend_from_slice(c.anno.as_bytes());
    }
    v
}

pub fn decode_contigs(mut b: &[u8], n: u64) -> Option<Vec<Contig>> {
    let mut out = Vec::with_capacity(n.min(1 << 20) as usize);
    for _ in 0..n {
        if b.len() < 28 {
            return None;
        }
        let offset = u64_at(b, 0);
        let len = u64_at(b, 8);
        let n_ambs = u32_at(b, 16);
        let name_len = u32_at(b, 20) as usize;
        let anno_len = u32_at(b, 24) as usize;
        b = &b[28..];
        if b.len() < name_len + anno_len {
            return None;
        }
        let name = String::from_utf8(b[..name_len].to_vec()).ok()?;
        let anno = String::from_utf8(b[name_len..name_len + anno_len].to_vec()).ok()?;
        b = &b[name_len + anno_len..];
        out.push(Contig {
            name,
            anno,
            offset,
            len,
            n_ambs,
        });
    }
    b.is_empty().then_some(out)
}

/// HOLES: per hole `offset u64, len u32, amb u8, 3 zero bytes`.
pub fn encode_holes(holes: &[Hole]) -> Vec<u8> {
    let mut v = Vec::with_capacity(holes.len() * HOLE_LEN as usize);
    for h in holes {
        v.extend_from_slice(&h.offset.to_le_bytes());
        v.extend_from_slice(&h.len.to_le_bytes());
        v.extend_from_slice(&[h.amb, 0, 0, 0]);
    }
    v
}

pub fn decode_holes(b: &[u8], n: u64) -> Option<Vec<Hole>> {
    if b.len() as u64 != n.checked_mul(HOLE_LEN)? {
        return None;
    }
    Some(
        b.chunks_exact(HOLE_LEN as usize)
            .map(|r| Hole {
                offset: u64_at(r, 0),
                len: u32_at(r, 8),
                amb: r[12],
            })
            .collect(),
    )
}

/// The fingerprint: a 64-bit mix of every section's kind, length and CRC.
/// Two indexes with the same content have the same fingerprint.
pub fn fingerprint(entries: &[SectionEntry]) -> u64 {
    let mut h: u64 = 0x6665_7272_6f75_7321; // "ferrous!"
    for e in entries {
        for x in [e.kind as u64, e.len, e.crc as u64] {
            h = splitmix64(h ^ x);
        }
    }
    h
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Header + table bytes for the given entries and total file size.
pub fn encode_header(entries: &[SectionEntry], file_size: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity((HEADER_LEN + ENTRY_LEN * entries.len() as u64) as usize);
    v.extend_from_slice(&MAGIC);
    v.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    v.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    v.extend_from_slice(&file_size.to_le_bytes());
    v.extend_from_slice(&fingerprint(entries).to_le_bytes());
    v.extend_from_slice(&[0u8; 4]); // header CRC, patched below
    v.resize(HEADER_LEN as usize, 0);
    for e in entries {
        v.extend_from_slice(&e.kind.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&e.offset.to_le_bytes());
        v.extend_from_slice(&e.len.to_le_bytes());
        v.extend_from_slice(&e.crc.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
    }
    let crc = header_crc(&v);
    v[32..36].copy_from_slice(&crc.to_le_bytes());
    v
}

/// CRC32 of the header and table with the CRC field itself taken as zero.
pub fn header_crc(bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&bytes[..32]);
    h.update(&[0u8; 4]);
    h.update(&bytes[36..]);
    h.finalize()
}

/// Parsed header: version, declared file size, fingerprint, table.
#[derive(Debug, Clone)]
pub struct Header {
    pub version: u32,
    pub file_size: u64,
    pub fingerprint: u64,
    pub entries: Vec<SectionEntry>,
}

/// Why a header could not be parsed (mapped to `IndexError` by the caller).
#[derive(Debug)]
pub enum HeaderProblem {
    Magic,
    Version(u32),
    Corrupt(String),
}

pub fn decode_header(bytes: &[u8]) -> Result<Header, HeaderProblem> {
    if bytes.len() < HEADER_LEN as usize || bytes[..8] != MAGIC {
        return Err(HeaderProblem::Magic);
    }
    let version = u32_at(bytes, 8);
    if version != FORMAT_VERSION {
        return Err(HeaderProblem::Version(version));
    }
    let n = u32_at(bytes, 12) as usize;
    if n != Section::ALL.len() {
        return Err(HeaderProblem::Corrupt(format!("{n} sections in the table")));
    }
    let table_end = HEADER_LEN as usize + n * ENTRY_LEN as usize;
    if bytes.len() < table_end {
        return Err(HeaderProblem::Corrupt("section table cut short".into()));
    }
    let stored_crc = u32_at(bytes, 32);
    if header_crc(&bytes[..table_end]) != stored_crc {
        return Err(HeaderProblem::Corrupt("header checksum mismatch".into()));
    }
    let entries: Vec<SectionEntry> = (0..n)
        .map(|i| {
            let at = HEADER_LEN as usize + i * ENTRY_LEN as usize;
            SectionEntry {
                kind: u32_at(bytes, at),
                offset: u64_at(bytes, at + 8),
                len: u64_at(bytes, at + 16),
                crc: u32_at(bytes, at + 24),
            }
        })
        .collect();
    Ok(Header {
        version,
        file_size: u64_at(bytes, 16),
        fingerprint: u64_at(bytes, 24),
        entries,
    })
}

/// Where [`SectionWriter`] puts sections of the given lengths (in table
/// order): their offsets and the file size.
pub fn layout(lens: &[u64]) -> (Vec<u64>, u64) {
    let mut pos = HEADER_LEN + ENTRY_LEN * lens.len() as u64;
    let offsets = lens
        .iter()
        .map(|len| {
            let at = pos.next_multiple_of(ALIGN);
            pos = at + len;
            at
        })
        .collect();
    (offsets, pos.next_multiple_of(ALIGN))
}

/// Bytes [`ChunkWriter`] hands the file per write: two huge pages.
const CHUNK: usize = 4 << 20;

/// A buffered writer for an index file that hands the file only whole
/// chunks of [`CHUNK`] bytes, each at an offset that is a multiple of it
/// (until it seeks, which only [`SectionWriter::finish`] does, to write
/// the header). Linux then caches the file in 2 MiB folios, which a job
/// reading the index can map with huge pages instead of copying it (see
/// `FmIndex::open_for`); `BufWriter`'s writes start wherever its buffer
/// happened to be flushed, and every 2 MiB they straddle is cached in
/// small folios (a third of a freshly written chr20 index).
pub struct ChunkWriter<W: Write + Seek> {
    out: W,
    buf: Vec<u8>,
}

impl<W: Write + Seek> ChunkWriter<W> {
    pub fn new(out: W) -> Self {
        ChunkWriter {
            out,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    /// Writes what is buffered and returns the inner writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(self.out)
    }
}

impl<W: Write + Seek> Write for ChunkWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }
}

impl<W: Write + Seek> Seek for ChunkWriter<W> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.flush()?;
        self.out.seek(pos)
    }
}

/// Streams sections into `W`, recording offsets, lengths and CRCs, and
/// writes the header over the reserved space at the end.
pub struct SectionWriter<W: Write + Seek> {
    out: W,
    pos: u64,
    entries: Vec<SectionEntry>,
    current: Option<(Section, u64, crc32fast::Hasher)>,
}

impl<W: Write + Seek> SectionWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        let reserved = HEADER_LEN + ENTRY_LEN * Section::ALL.len() as u64;
        out.write_all(&vec![0u8; reserved as usize])?;
        Ok(SectionWriter {
            out,
            pos: reserved,
            entries: Vec::new(),
            current: None,
        })
    }

    pub fn begin(&mut self, kind: Section) -> io::Result<()> {
        debug_assert!(self.current.is_none());
        let pad = self.pos.next_multiple_of(ALIGN) - self.pos;
        self.out.write_all(&[0u8; ALIGN as usize][..pad as usize])?;
        self.pos += pad;
        self.current = Some((kind, self.pos, crc32fast::Hasher::new()));
        Ok(())
    }

    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some((_, _, h)) = self.current.as_mut() {
            h.update(bytes);
        }
        self.out.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    pub fn end(&mut self) {
        if let Some((kind, start, h)) = self.current.take() {
            self.entries.push(SectionEntry {
                kind: kind as u32,
                offset: start,
                len: self.pos - start,
                crc: h.finalize(),
            });
        }
    }

    /// Writes one whole section.
    pub fn section(&mut self, kind: Section, bytes: &[u8]) -> io::Result<()> {
        self.begin(kind)?;
        self.write(bytes)?;
        self.end();
        Ok(())
    }

    /// Pads the file to a multiple of 64, writes the header, returns the
    /// writer, the fingerprint and the file size.
    pub fn finish(mut self) -> io::Result<(W, u64, u64)> {
        let pad = self.pos.next_multiple_of(ALIGN) - self.pos;
        self.out.write_all(&[0u8; ALIGN as usize][..pad as usize])?;
        self.pos += pad;
        let header = encode_header(&self.entries, self.pos);
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&header)?;
        self.out.seek(SeekFrom::Start(self.pos))?;
        self.out.flush()?;
        Ok((self.out, fingerprint(&self.entries), self.pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that records where each write landed and how long it was.
    #[derive(Default)]
    struct Recorder {
        file: io::Cursor<Vec<u8>>,
        writes: Vec<(u64, usize)>,
    }

    impl Write for Recorder {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.writes.push((self.file.position(), data.len()));
            self.file.write(data)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Seek for Recorder {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            self.file.seek(pos)
        }
    }

    /// Whatever the sizes of the pieces a section writer gives it, the file
    /// gets whole aligned chunks until the header is written, and the same
    /// bytes as through a plain writer.
    #[test]
    fn chunk_writer_writes_whole_aligned_chunks() {
        let mut plain = SectionWriter::new(io::Cursor::new(Vec::new())).unwrap();
        let mut chunked = SectionWriter::new(ChunkWriter::new(Recorder::default())).unwrap();
        let pieces: Vec<Vec<u8>> = (0..400u32)
            .map(|i| vec![i as u8; (i as usize * 7919) % 100_003 + 1])
            .collect();
        for (k, section) in [Section::Contigs, Section::Pac, Section::Occ]
            .into_iter()
            .enumerate()
        {
            plain.begin(section).unwrap();
            chunked.begin(section).unwrap();
            for p in pieces.iter().skip(k).step_by(3) {
                plain.write(p).unwrap();
                chunked.write(p).unwrap();
            }
            plain.end();
            chunked.end();
        }
        let (plain, fp1, len1) = plain.finish().unwrap();
        let (chunked, fp2, len2) = chunked.finish().unwrap();
        let rec = chunked.into_inner().unwrap();
        assert_eq!((fp1, len1), (fp2, len2));
        assert_eq!(rec.file.get_ref(), plain.get_ref());
        assert!(len1 > 3 * CHUNK as u64);
        // Every write before the header's is a whole chunk at a multiple of
        // it, but the last (the file's tail); then the header at 0.
        let header = 1 + rec.writes[1..].iter().position(|w| w.0 == 0).unwrap();
        let body = &rec.writes[..header];
        assert_eq!(
            rec.writes[header].1,
            HEADER_LEN as usize + 3 * ENTRY_LEN as usize
        );
        for (k, &(at, len)) in body.iter().enumerate() {
            assert_eq!(at, (k * CHUNK) as u64);
            assert!(len == CHUNK || k == body.len() - 1);
        }
    }
}
