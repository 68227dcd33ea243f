//! BGZF blocks (SAM/BAM specification §4.1) compressed with libdeflate,
//! one block at a time, so that a run's worker threads can compress
//! blocks side by side.
//!
//! Why not `noodles-bgzf`'s writers: they take a byte stream and cut it
//! into blocks themselves, on the calling thread or on a rayon pool of
//! their own, and make a new compressor for every block. ferrous cuts
//! blocks where htslib does (at a record boundary, once the next record
//! would not fit in [`BLOCK_DATA`] bytes), compresses them on the `-t`
//! threads that align, with one compressor per thread. What is left by
//! hand is the 18-byte block header and the 8-byte trailer; the tests
//! read every block back with `noodles-bgzf`.

use libdeflater::{CompressionLvl, Compressor};

/// Uncompressed bytes in a full block: htslib's `BGZF_BLOCK_SIZE`.
pub const BLOCK_DATA: usize = 0xff00;

/// The empty block that ends every BGZF file.
pub const EOF: [u8; 28] = [
    0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02, 0x00,
    0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// The gzip header of a block up to its size field (BSIZE, 2 bytes).
const HEADER: [u8; 16] = [
    0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02, 0x00,
];

/// Bytes of a block around its deflate data: header with BSIZE, CRC32 and
/// ISIZE.
const FRAME: usize = HEADER.len() + 2 + 8;

/// A compression level as samtools and htslib number them: 0 (stored,
/// uncompressed) to 9 (smallest); the default, 6, is samtools'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level(u8);

impl Level {
    /// samtools' default level (`-l` unset).
    pub const DEFAULT: Level = Level(6);

    /// The level `n` (0 to 9).
    pub fn new(n: u8) -> Option<Level> {
        (n <= 9).then_some(Level(n))
    }

    /// The level's number, 0 to 9.
    pub fn get(self) -> u8 {
        self.0
    }

    /// libdeflate's level for this one, as htslib maps zlib's levels to
    /// libdeflate's (`bgzf_compress`): level 6 is libdeflate's 7.
    fn libdeflate(self) -> i32 {
        const MAP: [i32; 10] = [0, 1, 2, 3, 5, 6, 7, 8, 10, 12];
        MAP[self.0 as usize]
    }
}

impl Default for Level {
    fn default() -> Self {
        Level::DEFAULT
    }
}

/// Compresses blocks at one level; one per thread.
pub struct BlockCompressor {
    deflate: Compressor,
    level: Level,
}

impl BlockCompressor {
    pub fn new(level: Level) -> Self {
        let lvl = CompressionLvl::new(level.libdeflate()).expect("levels 0 to 12 are libdeflate's");
        BlockCompressor {
            deflate: Compressor::new(lvl),
            level,
        }
    }

    /// The level this compressor was made for.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Appends `data` (at most [`BLOCK_DATA`] bytes) to `out` as one
    /// BGZF block.
    pub fn block(&mut self, data: &[u8], out: &mut Vec<u8>) {
        assert!(data.len() <= BLOCK_DATA, "a BGZF block holds 0xff00 bytes");
        let start = out.len();
        let bound = self.deflate.deflate_compress_bound(data.len());
        out.extend_from_slice(&HEADER);
        out.extend_from_slice(&[0, 0]);
        let at = out.len();
        out.resize(at + bound, 0);
        let n = self
            .deflate
            .deflate_compress(data, &mut out[at..])
            .expect("the buffer holds the compress bound");
        out.truncate(at + n);
        out.extend_from_slice(&libdeflater::crc32(data).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        let bsize = (out.len() - start - 1) as u16;
        out[start + 16..start + 18].copy_from_slice(&bsize.to_le_bytes());
        debug_assert!(out.len() - start <= FRAME + bound);
    }

    /// Appends `data` (any length) as blocks of [`BLOCK_DATA`] bytes.
    pub fn blocks(&mut self, data: &[u8], out: &mut Vec<u8>) {
        for chunk in data.chunks(BLOCK_DATA) {
            self.block(chunk, out);
        }
    }
}

/// Whether a record of `len` bytes, after `filled` bytes of a block,
/// closes that block first ([`BlockFiller`]'s rule, `bgzf_flush_try`).
pub fn starts_new_block(filled: usize, len: usize) -> bool {
    filled > 0 && filled + len > BLOCK_DATA
}

/// Fills blocks from a stream of BAM records where htslib cuts them: a
/// record that would overflow the block starts a new one
/// (`bgzf_flush_try`), and a record longer than a block is split at block
/// boundaries (`bgzf_write`). Each block, once full or closed, goes to
/// the caller's `full`.
#[derive(Debug)]
pub struct BlockFiller {
    block: Vec<u8>,
}

impl Default for BlockFiller {
    fn default() -> Self {
        BlockFiller {
            block: Vec::with_capacity(BLOCK_DATA),
        }
    }
}

impl BlockFiller {
    /// Whether a record of `len` bytes closes the current block first.
    pub fn starts_new_block(&self, len: usize) -> bool {
        starts_new_block(self.block.len(), len)
    }

    /// Adds one record (its 4-byte length included).
    pub fn record(&mut self, rec: &[u8], mut full: impl FnMut(&[u8])) {
        if self.starts_new_block(rec.len()) {
            self.finish(&mut full);
        }
        self.bytes(rec, full);
    }

    /// Adds bytes regardless of record boundaries: blocks are cut only
    /// when full.
    pub fn bytes(&mut self, mut rest: &[u8], mut full: impl FnMut(&[u8])) {
        while !rest.is_empty() {
            let n = (BLOCK_DATA - self.block.len()).min(rest.len());
            self.block.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if self.block.len() == BLOCK_DATA {
                self.finish(&mut full);
            }
        }
    }

    /// Closes the partial block, if any.
    pub fn finish(&mut self, mut full: impl FnMut(&[u8])) {
        if !self.block.is_empty() {
            full(&self.block);
            self.block.clear();
        }
    }

    /// Uncompressed bytes in the current block.
    pub fn in_block(&self) -> usize {
        self.block.len()
    }
}

/// A [`BlockFiller`] whose blocks are compressed as they fill.
pub struct BlockCutter<'c> {
    compressor: &'c mut BlockCompressor,
    filler: BlockFiller,
}

impl<'c> BlockCutter<'c> {
    pub fn new(compressor: &'c mut BlockCompressor) -> Self {
        BlockCutter {
            compressor,
            filler: BlockFiller::default(),
        }
    }

    /// Adds one record (its 4-byte length included), compressing into
    /// `out` whatever blocks it fills.
    pub fn record(&mut self, rec: &[u8], out: &mut Vec<u8>) {
        let compressor = &mut *self.compressor;
        self.filler.record(rec, |b| compressor.block(b, out));
    }

    /// Compresses the partial block, if any.
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        let compressor = &mut *self.compressor;
        self.filler.finish(|b| compressor.block(b, out));
    }

    /// Uncompressed bytes in the current block.
    pub fn in_block(&self) -> usize {
        self.filler.in_block()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn inflate(bgzf: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        noodles_bgzf::io::Reader::new(bgzf)
            .read_to_end(&mut out)
            .expect("valid BGZF");
        out
    }

    #[test]
    fn blocks_read_back_at_every_level() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 13) as u8 + b'A').collect();
        for n in 0..=9 {
            let mut c = BlockCompressor::new(Level::new(n).unwrap());
            let mut out = Vec::new();
            c.blocks(&data, &mut out);
            c.block(&[], &mut out);
            out.extend_from_slice(&EOF);
            assert_eq!(inflate(&out), data, "level {n}");
        }
        assert!(Level::new(10).is_none());
    }

    #[test]
    fn records_stay_whole_unless_longer_than_a_block() {
        let mut c = BlockCompressor::new(Level::DEFAULT);
        let mut out = Vec::new();
        let mut cut = BlockCutter::new(&mut c);
        let small = vec![1u8; 40_000];
        cut.record(&small, &mut out);
        assert_eq!(cut.in_block(), 40_000);
        // Does not fit: the first block is closed with 40,000 bytes.
        cut.record(&small, &mut out);
        assert_eq!(cut.in_block(), 40_000);
        let big = vec![2u8; 150_000];
        cut.record(&big, &mut out);
        // 150,000 bytes: two full blocks and 19,440 bytes.
        assert_eq!(cut.in_block(), 150_000 - 2 * BLOCK_DATA);
        cut.flush(&mut out);
        let mut sizes = Vec::new();
        let mut at = 0;
        while at < out.len() {
            let bsize = u16::from_le_bytes([out[at + 16], out[at + 17]]) as usize + 1;
            let isize = u32::from_le_bytes(out[at + bsize - 4..at + bsize].try_into().unwrap());
            sizes.push(isize as usize);
            at += bsize;
        }
        assert_eq!(
            sizes,
            [
                40_000,
                40_000,
                BLOCK_DATA,
                BLOCK_DATA,
                150_000 - 2 * BLOCK_DATA
            ]
        );
        let mut all = small.clone();
        all.extend_from_slice(&small);
        all.extend_from_slice(&big);
        assert_eq!(inflate(&out), all);
    }
}
