//! The sorted records out: cut into BGZF blocks where htslib cuts them,
//! compressed in parallel on the current rayon pool, written in order,
//! and, when asked, indexed as they go (each record's virtual offset is
//! known once its block's place in the file is).
//!
//! Records that are all in memory ([`SortedOut::all_records`]) are cut
//! from their lengths alone first; then each block is gathered from the
//! scattered records and compressed by whichever thread takes it, so that
//! the whole end of a run is parallel. Records merged from spilled runs
//! come one at a time ([`SortedOut::record`]): they are gathered into
//! blocks in order and the blocks compressed in parallel.

use std::cell::RefCell;
use std::io::{self, Write};

use rayon::prelude::*;

use super::key;
use crate::output::bam_index::{BamIndex, IndexBuilder};
use crate::output::bgzf::{starts_new_block, BlockCompressor, BlockFiller, Level, BLOCK_DATA, EOF};

/// Blocks compressed together, per thread of the pool.
const BATCH_PER_THREAD: usize = 16;

/// Where a block starts in a sequence of records: the record, and the
/// byte in it (not 0 only for a record longer than a block).
type Cut = (usize, usize);

/// Where a record starts (block number from the first record block,
/// offset in the block), and what the index needs of it.
#[derive(Debug, Clone, Copy)]
struct Placed {
    block: u64,
    offset: u32,
    tid: i32,
    beg: i64,
    end: i64,
    mapped: bool,
}

impl Placed {
    /// Record `rec`, starting at `offset` in block `block`.
    fn at(rec: &[u8], block: u64, offset: u32) -> Placed {
        Placed {
            block,
            offset,
            tid: key::tid(rec),
            beg: i64::from(key::pos(rec)),
            end: key::end_pos(rec),
            mapped: key::flag(rec) & 0x4 == 0,
        }
    }
}

thread_local! {
    static COMPRESSOR: RefCell<Option<BlockCompressor>> = const { RefCell::new(None) };
}

fn compress(level: Level, data: &[u8]) -> Vec<u8> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        let c = match &mut *c {
            Some(c) if c.level() == level => c,
            _ => c.insert(BlockCompressor::new(level)),
        };
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        c.block(data, &mut out);
        out
    })
}

/// Gathers the bytes of the records `rec` from `from` to `to` (a block).
fn gather<'r>(rec: &impl Fn(usize) -> &'r [u8], from: Cut, to: Cut, buf: &mut Vec<u8>) {
    buf.clear();
    let (mut i, mut off) = from;
    while (i, off) < to {
        let r = rec(i);
        let end = if i == to.0 { to.1 } else { r.len() };
        buf.extend_from_slice(&r[off..end]);
        i += 1;
        off = 0;
    }
}

/// Writes sorted records after the header (already written, `written`
/// bytes of it).
pub struct SortedOut<W> {
    out: W,
    level: Level,
    /// Bytes of the file written so far.
    written: u64,
    /// Full blocks waiting to be compressed, and the one being filled.
    batch: Vec<Vec<u8>>,
    filler: BlockFiller,
    batch_size: usize,
    /// Blocks written before the batch.
    blocks_done: u64,
    /// Records placed since the last flush, waiting for their offsets.
    placed: Vec<Placed>,
    index: Option<IndexBuilder>,
    /// The last record given to the index (its start), waiting for its
    /// end: the next record's start.
    last: Option<(Placed, u64)>,
}

impl<W: Write> SortedOut<W> {
    pub fn new(out: W, written: u64, level: Level, index: Option<IndexBuilder>) -> Self {
        SortedOut {
            out,
            level,
            written,
            batch: Vec::new(),
            filler: BlockFiller::default(),
            batch_size: BATCH_PER_THREAD * rayon::current_num_threads(),
            blocks_done: 0,
            placed: Vec::new(),
            index,
            last: None,
        }
    }

    /// Adds one record (4-byte length first).
    pub fn record(&mut self, rec: &[u8]) -> io::Result<()> {
        if self.index.is_some() {
            let current = self.blocks_done + self.batch.len() as u64;
            let (block, offset) = if self.filler.starts_new_block(rec.len()) {
                (current + 1, 0)
            } else {
                (current, self.filler.in_block() as u32)
            };
            self.placed.push(Placed::at(rec, block, offset));
        }
        let batch = &mut self.batch;
        self.filler.record(rec, |b| batch.push(b.to_vec()));
        if self.batch.len() >= self.batch_size {
            self.flush_batch()?;
        }
        Ok(())
    }

    /// Adds `n` records, record `i` being `rec(i)` (4-byte length first),
    /// as [`SortedOut::record`] would one by one, gathering and
    /// compressing their blocks in parallel. Only on a fresh writer.
    pub fn all_records<'r>(
        &mut self,
        n: usize,
        rec: impl Fn(usize) -> &'r [u8] + Sync,
    ) -> io::Result<()> {
        assert!(
            self.blocks_done == 0 && self.batch.is_empty() && self.filler.in_block() == 0,
            "all_records on a fresh writer"
        );
        let cuts = self.plan(n, &rec);
        let level = self.level;
        let blocks = cuts.len() - 1;
        let window = self.batch_size * 4;
        let mut placed = std::mem::take(&mut self.placed).into_iter().peekable();
        let mut start = 0;
        while start < blocks {
            let end = (start + window).min(blocks);
            let packed: Vec<Vec<u8>> = (start..end)
                .into_par_iter()
                .map_init(Vec::new, |buf, b| {
                    gather(&rec, cuts[b], cuts[b + 1], buf);
                    compress(level, buf)
                })
                .collect();
            while let Some(p) = placed.next_if(|p| p.block < end as u64) {
                self.placed.push(p);
            }
            self.write_packed(packed)?;
            start = end;
        }
        Ok(())
    }

    /// Cuts `n` records into blocks as [`BlockFiller`] cuts them, from
    /// their lengths: the start of every block, then `(n, 0)`. Places the
    /// records for the index, when one is built.
    fn plan<'r>(&mut self, n: usize, rec: &impl Fn(usize) -> &'r [u8]) -> Vec<Cut> {
        let mut cuts = vec![(0, 0)];
        let mut fill = 0usize;
        for i in 0..n {
            let r = rec(i);
            let len = r.len();
            if starts_new_block(fill, len) {
                cuts.push((i, 0));
                fill = 0;
            }
            if self.index.is_some() {
                self.placed
                    .push(Placed::at(r, (cuts.len() - 1) as u64, fill as u32));
            }
            let mut off = 0;
            while off < len {
                let take = (BLOCK_DATA - fill).min(len - off);
                fill += take;
                off += take;
                if fill == BLOCK_DATA {
                    cuts.push(if off == len { (i + 1, 0) } else { (i, off) });
                    fill = 0;
                }
            }
        }
        if fill > 0 {
            cuts.push((n, 0));
        }
        cuts
    }

    /// Compresses the full blocks in parallel, writes them, and gives the
    /// records placed so far their offsets.
    fn flush_batch(&mut self) -> io::Result<()> {
        let level = self.level;
        let packed: Vec<Vec<u8>> = self.batch.par_iter().map(|b| compress(level, b)).collect();
        self.batch.clear();
        self.write_packed(packed)
    }

    /// Writes compressed blocks in order and gives the records placed so
    /// far (all in these blocks, or in the one being filled) their
    /// offsets.
    fn write_packed(&mut self, packed: Vec<Vec<u8>>) -> io::Result<()> {
        let mut addrs = Vec::with_capacity(packed.len() + 1);
        for p in &packed {
            addrs.push(self.written);
            self.out.write_all(p)?;
            self.written += p.len() as u64;
        }
        // The block being filled starts where the batch ends.
        addrs.push(self.written);
        let first = self.blocks_done;
        self.blocks_done += packed.len() as u64;
        if let Some(index) = &mut self.index {
            for p in self.placed.drain(..) {
                let addr = addrs[(p.block - first) as usize];
                let start = addr << 16 | u64::from(p.offset);
                if let Some((q, q_start)) = self.last.take() {
                    index
                        .push(q.tid, q.beg, q.end, q.mapped, q_start, start)
                        .map_err(io::Error::other)?;
                }
                self.last = Some((p, start));
            }
        }
        Ok(())
    }

    /// Writes what is left and the EOF block; gives back the writer and
    /// the index.
    pub fn finish(mut self) -> io::Result<(W, Option<BamIndex>)> {
        let batch = &mut self.batch;
        self.filler.finish(|b| batch.push(b.to_vec()));
        self.flush_batch()?;
        // The end of the last record: where the EOF block starts.
        let end = self.written << 16;
        let index = match self.index.take() {
            Some(mut index) => {
                if let Some((q, q_start)) = self.last.take() {
                    index
                        .push(q.tid, q.beg, q.end, q.mapped, q_start, end)
                        .map_err(io::Error::other)?;
                }
                Some(index.finish())
            }
            None => None,
        };
        self.out.write_all(&EOF)?;
        self.out.flush()?;
        Ok((self.out, index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::bam::{encode_line, BamHeader, EncodeBuffers};
    use crate::output::bam_index::IndexFormat;

    const HEADER: &[u8] = b"@SQ\tSN:c\tLN:10000000\n";

    /// Records of many lengths: small ones, ones that fill a block
    /// exactly (alone and in twos), ones longer than one and two blocks.
    fn records() -> Vec<Vec<u8>> {
        let header = BamHeader::from_sam(HEADER).unwrap();
        let mut bufs = EncodeBuffers::default();
        let mut make = |i: usize, pad: usize| {
            let line = format!(
                "r{i:05}\t{}\tc\t{}\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tXZ:Z:{}",
                if i.is_multiple_of(5) { 16 } else { 0 },
                i * 37 + 1,
                "A".repeat(pad)
            );
            let mut out = Vec::new();
            encode_line(&header, line.as_bytes(), &mut bufs, &mut out).unwrap();
            out
        };
        let base = make(0, 0).len();
        let mut pads: Vec<usize> = (0..700).map(|i| (i * 7919) % 2500).collect();
        pads.extend([
            BLOCK_DATA - base,
            3,
            BLOCK_DATA / 2 - base,
            BLOCK_DATA / 2 - base,
        ]);
        pads.extend([70_000, 10, 2 * BLOCK_DATA + 7, 5, BLOCK_DATA - base]);
        pads.extend((0..300).map(|i| (i * 104_729) % 900));
        pads.iter().enumerate().map(|(i, &p)| make(i, p)).collect()
    }

    fn write(recs: &[Vec<u8>], at_once: bool, format: Option<IndexFormat>) -> (Vec<u8>, Vec<u8>) {
        let header = BamHeader::from_sam(HEADER).unwrap();
        let index = format.map(|f| IndexBuilder::new(f, header.refs()).unwrap());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        pool.install(|| {
            let mut out = SortedOut::new(Vec::new(), 0, Level::new(1).unwrap(), index);
            if at_once {
                out.all_records(recs.len(), |i| &recs[i]).unwrap();
            } else {
                for r in recs {
                    out.record(r).unwrap();
                }
            }
            let (bytes, index) = out.finish().unwrap();
            let mut ix = Vec::new();
            if let Some(index) = index {
                index.write(&mut ix).unwrap();
            }
            (bytes, ix)
        })
    }

    #[test]
    fn records_at_once_are_cut_compressed_and_indexed_as_one_by_one() {
        let recs = records();
        for format in [None, Some(IndexFormat::Csi), Some(IndexFormat::Bai)] {
            let (one, one_ix) = write(&recs, false, format);
            let (all, all_ix) = write(&recs, true, format);
            assert!(one == all, "BGZF differs ({format:?})");
            assert!(one_ix == all_ix, "index differs ({format:?})");
            if format.is_some() {
                assert!(!all_ix.is_empty());
            }
        }
        // And the blocks decode to the records in order.
        let (all, _) = write(&recs, true, None);
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut noodles_bgzf::io::Reader::new(&all[..]), &mut data)
            .unwrap();
        assert_eq!(data, recs.concat());
    }

    #[test]
    fn no_records_write_only_the_eof_block() {
        let (all, _) = write(&[], true, None);
        assert_eq!(all, EOF);
    }
}
