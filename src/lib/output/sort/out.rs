//! The sorted records out: cut into BGZF blocks where htslib cuts them,
//! compressed in parallel on the current rayon pool, written in order,
//! and, when asked, indexed as they go (each record's virtual offset is
//! known once its block's place in the file is).

use std::cell::RefCell;
use std::io::{self, Write};

use rayon::prelude::*;

use super::key;
use crate::output::bam_index::{BamIndex, IndexBuilder};
use crate::output::bgzf::{BlockCompressor, BlockFiller, Level, EOF};

/// Blocks compressed together, per thread of the pool.
const BATCH_PER_THREAD: usize = 16;

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
            self.placed.push(Placed {
                block,
                offset,
                tid: key::tid(rec),
                beg: i64::from(key::pos(rec)),
                end: key::end_pos(rec),
                mapped: key::flag(rec) & 0x4 == 0,
            });
        }
        let batch = &mut self.batch;
        self.filler.record(rec, |b| batch.push(b.to_vec()));
        if self.batch.len() >= self.batch_size {
            self.flush_batch()?;
        }
        Ok(())
    }

    /// Compresses the full blocks in parallel, writes them, and gives the
    /// records placed so far their offsets.
    fn flush_batch(&mut self) -> io::Result<()> {
        let level = self.level;
        let packed: Vec<Vec<u8>> = self.batch.par_iter().map(|b| compress(level, b)).collect();
        let mut addrs = Vec::with_capacity(packed.len() + 1);
        for p in &packed {
            addrs.push(self.written);
            self.out.write_all(p)?;
            self.written += p.len() as u64;
        }
        // The block being filled starts where the batch ends.
        addrs.push(self.written);
        let first = self.blocks_done;
        self.blocks_done += self.batch.len() as u64;
        self.batch.clear();
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
