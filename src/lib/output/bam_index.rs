//! The index of a coordinate-sorted BAM (`.csi`, or `.bai`), built as its
//! records are written, holding what `samtools index` finds reading the
//! file back (htslib's `hts_idx_push` and `hts_idx_finish`):
//!
//! * a chunk per run of consecutive records in the same bin, from the
//!   first record's start to the next record's start (virtual offsets as
//!   a reader sees them: a record that starts a block is at offset 0 of
//!   that block);
//! * the linear index: for each 16 kb window, the start of the first
//!   record overlapping it; a window no record overlaps takes the next
//!   window's value;
//! * per reference, a pseudo-bin with the offsets of its first and past
//!   its last record and its counts of mapped and unmapped records; the
//!   count of unplaced records at the end;
//! * then, as htslib compresses the bins: a bin whose chunks span less
//!   than 64 kb of compressed file moves into its parent (when the parent
//!   exists), deepest level first; chunks that start in the block where
//!   the previous ends are merged.
//!
//! A CSI index stores no linear index: each bin carries the linear
//! offset of its first window instead (`loffset`, taken before the bins
//! are compressed). Its depth grows with the longest reference, as
//! htslib's does (14-bit windows; one more level for each factor of 8).
//!
//! The result is noodles' index, written by noodles-csi (`.csi`) and
//! noodles-bam (`.bai`).

use std::collections::BTreeMap;
use std::io::{self, Write};

use indexmap::IndexMap;
use noodles_bgzf::VirtualPosition;
use noodles_csi::binning_index::index::reference_sequence::{
    bin::Chunk, index::BinnedIndex, index::LinearIndex, Bin, Metadata,
};
use noodles_csi::binning_index::index::ReferenceSequence;

/// The index formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexFormat {
    Csi,
    Bai,
}

impl IndexFormat {
    /// The format `name` (`csi` or `bai`) names.
    pub fn from_name(name: &str) -> Option<IndexFormat> {
        match name.to_ascii_lowercase().as_str() {
            "csi" => Some(IndexFormat::Csi),
            "bai" => Some(IndexFormat::Bai),
            _ => None,
        }
    }

    /// The file extension (`csi` or `bai`), added to the BAM's name.
    pub fn extension(self) -> &'static str {
        match self {
            IndexFormat::Csi => "csi",
            IndexFormat::Bai => "bai",
        }
    }
}

/// Window size of the linear index, as a shift.
const MIN_SHIFT: u32 = 14;
/// A bin is moved into its parent when its chunks span less than this
/// many bytes of compressed file (`HTS_MIN_MARKER_DIST`).
const MIN_MARKER_DIST: u64 = 0x10000;

/// htslib's `hts_reg2bin`: the smallest bin holding `[beg, end)`.
fn reg2bin(beg: i64, end: i64, depth: u32) -> u32 {
    let end = end - 1;
    let mut s = MIN_SHIFT;
    let mut t = ((1i64 << (3 * depth + 3)) - 1) / 7;
    for l in (1..=depth).rev() {
        t -= 1 << (3 * l);
        if beg >> s == end >> s {
            return (t + (beg >> s)) as u32;
        }
        s += 3;
    }
    0
}

/// The first bin of level `l`.
fn bin_first(l: u32) -> u32 {
    ((1u32 << (3 * l)) - 1) / 7
}

fn bin_parent(bin: u32) -> u32 {
    (bin - 1) >> 3
}

fn bin_level(mut bin: u32) -> u32 {
    let mut l = 0;
    while bin > 0 {
        bin = bin_parent(bin);
        l += 1;
    }
    l
}

/// The first linear-index window a bin covers.
fn bin_first_window(bin: u32, depth: u32) -> usize {
    let l = bin_level(bin);
    ((bin - bin_first(l)) as usize) << (3 * (depth - l))
}

/// One reference's part of the index.
#[derive(Debug, Default)]
struct RefIndex {
    /// Chunks (start, end) by bin.
    bins: BTreeMap<u32, Vec<(u64, u64)>>,
    /// The first record's start in each window; `u64::MAX` for none yet.
    linear: Vec<u64>,
    /// First record's start, last record's end, mapped, unmapped.
    meta: Option<(u64, u64, u64, u64)>,
}

/// Builds the index of records pushed in coordinate order.
#[derive(Debug)]
pub struct IndexBuilder {
    format: IndexFormat,
    depth: u32,
    refs: Vec<RefIndex>,
    unplaced: u64,
    /// The reference of the records being pushed, if placed.
    current: Option<usize>,
    /// The bin of the current run of records, and where the run starts.
    run: Option<(u32, u64)>,
    /// Where the current reference's records start; its counts.
    ref_start: u64,
    mapped: u64,
    unmapped: u64,
    last_beg: i64,
    /// Where the last record pushed ends.
    last_end: u64,
}

/// Records that cannot be indexed: out of order, or past what the format
/// can address.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("records are not in coordinate order at reference #{tid}, position {pos}")]
    Unsorted { tid: i32, pos: i64 },
    #[error(
        "reference {name} ({len} bp) is too long for a .bai index (2^29 bp at most): use .csi"
    )]
    TooLongForBai { name: String, len: u64 },
}

impl IndexBuilder {
    /// A builder for a BAM whose references are `refs` (name, length).
    pub fn new(format: IndexFormat, refs: &[(Vec<u8>, u32)]) -> Result<Self, IndexError> {
        let depth = match format {
            IndexFormat::Bai => {
                if let Some((name, len)) = refs.iter().find(|(_, l)| u64::from(*l) > 1 << 29) {
                    return Err(IndexError::TooLongForBai {
                        name: String::from_utf8_lossy(name).into_owned(),
                        len: u64::from(*len),
                    });
                }
                5
            }
            IndexFormat::Csi => {
                // htslib: levels until 2^(14 + 3 * depth) holds the longest
                // reference plus 256.
                let max_len = refs.iter().map(|(_, l)| u64::from(*l)).max().unwrap_or(0) + 256;
                let mut depth = 0;
                let mut span = 1u64 << MIN_SHIFT;
                while max_len > span {
                    depth += 1;
                    span <<= 3;
                }
                depth
            }
        };
        Ok(IndexBuilder {
            format,
            depth,
            refs: (0..refs.len()).map(|_| RefIndex::default()).collect(),
            unplaced: 0,
            current: None,
            run: None,
            ref_start: 0,
            mapped: 0,
            unmapped: 0,
            last_beg: -1,
            last_end: 0,
        })
    }

    /// Adds the record at reference `tid` (-1: unplaced), covering `[beg,
    /// end)`, that starts at virtual offset `start` and ends at `end_off`.
    pub fn push(
        &mut self,
        tid: i32,
        beg: i64,
        end: i64,
        mapped: bool,
        start: u64,
        end_off: u64,
    ) -> Result<(), IndexError> {
        let unsorted = || IndexError::Unsorted { tid, pos: beg + 1 };
        if tid < 0 || tid as usize >= self.refs.len() {
            if tid >= 0 {
                return Err(unsorted());
            }
            self.close_reference(start);
            self.unplaced += 1;
            self.last_end = end_off;
            return Ok(());
        }
        let tid_u = tid as usize;
        match self.current {
            Some(t) if t == tid_u => {
                if beg < self.last_beg {
                    return Err(unsorted());
                }
            }
            Some(t) if t > tid_u => return Err(unsorted()),
            _ => {
                if self.unplaced > 0 || self.refs[tid_u].meta.is_some() {
                    return Err(unsorted());
                }
                self.close_reference(start);
                self.current = Some(tid_u);
                self.ref_start = start;
            }
        }
        let (beg, end) = (beg.max(0), end.max(1));
        let r = &mut self.refs[tid_u];
        // The linear index: windows this record overlaps that have none.
        let first = (beg >> MIN_SHIFT) as usize;
        let last = ((end - 1) >> MIN_SHIFT).max(-1);
        let len = (last + 1) as usize;
        if r.linear.len() < len {
            r.linear.resize(len, u64::MAX);
        }
        for w in first..len {
            if r.linear[w] == u64::MAX {
                r.linear[w] = start;
            }
        }
        let bin = reg2bin(beg, end, self.depth);
        match self.run {
            Some((b, _)) if b == bin => {}
            Some((b, run_start)) => {
                r.bins.entry(b).or_default().push((run_start, start));
                self.run = Some((bin, start));
            }
            None => self.run = Some((bin, start)),
        }
        if mapped {
            self.mapped += 1;
        } else {
            self.unmapped += 1;
        }
        self.last_beg = beg;
        self.last_end = end_off;
        Ok(())
    }

    /// Ends the current reference's last run and its pseudo-bin at `end`.
    fn close_reference(&mut self, end: u64) {
        let Some(t) = self.current.take() else { return };
        let r = &mut self.refs[t];
        if let Some((b, run_start)) = self.run.take() {
            r.bins.entry(b).or_default().push((run_start, end));
        }
        r.meta = Some((self.ref_start, end, self.mapped, self.unmapped));
        self.mapped = 0;
        self.unmapped = 0;
        self.last_beg = -1;
    }

    /// The finished index, ready to write.
    pub fn finish(mut self) -> BamIndex {
        self.close_reference(self.last_end);
        let depth = self.depth;
        let mut csi = Vec::new();
        let mut bai = Vec::new();
        for mut r in self.refs {
            // Windows no record overlaps take the next window's value (the
            // last is always set).
            for w in (0..r.linear.len().saturating_sub(1)).rev() {
                if r.linear[w] == u64::MAX {
                    r.linear[w] = r.linear[w + 1];
                }
            }
            let loffsets: BinnedIndex = r
                .bins
                .keys()
                .map(|&b| {
                    let w = bin_first_window(b, depth);
                    (b as usize, vpos(r.linear.get(w).copied().unwrap_or(0)))
                })
                .collect();
            compress_bins(&mut r.bins, depth);
            let bins: IndexMap<usize, Bin> = r
                .bins
                .iter()
                .map(|(&b, chunks)| {
                    let chunks = chunks
                        .iter()
                        .map(|&(s, e)| Chunk::new(vpos(s), vpos(e)))
                        .collect();
                    (b as usize, Bin::new(chunks))
                })
                .collect();
            let meta = r
                .meta
                .map(|(s, e, m, u)| Metadata::new(vpos(s), vpos(e), m, u));
            match self.format {
                IndexFormat::Csi => {
                    let loffsets = loffsets
                        .into_iter()
                        .filter(|(b, _)| bins.contains_key(b))
                        .collect();
                    csi.push(ReferenceSequence::new(bins, loffsets, meta));
                }
                IndexFormat::Bai => {
                    let linear: LinearIndex = r.linear.iter().map(|&o| vpos(o)).collect();
                    bai.push(ReferenceSequence::new(bins, linear, meta));
                }
            }
        }
        let depth = depth as u8;
        match self.format {
            IndexFormat::Csi => BamIndex::Csi(
                noodles_csi::binning_index::Index::builder()
                    .set_min_shift(MIN_SHIFT as u8)
                    .set_depth(depth)
                    .set_reference_sequences(csi)
                    .set_unplaced_unmapped_record_count(self.unplaced)
                    .build(),
            ),
            IndexFormat::Bai => BamIndex::Bai(
                noodles_csi::binning_index::Index::builder()
                    .set_min_shift(MIN_SHIFT as u8)
                    .set_depth(depth)
                    .set_reference_sequences(bai)
                    .set_unplaced_unmapped_record_count(self.unplaced)
                    .build(),
            ),
        }
    }
}

fn vpos(v: u64) -> VirtualPosition {
    VirtualPosition::from(v)
}

/// htslib's `compress_binning`: small bins into their parents, deepest
/// level first, then chunks that touch the same block merged.
fn compress_bins(bins: &mut BTreeMap<u32, Vec<(u64, u64)>>, depth: u32) {
    for l in (1..=depth).rev() {
        let level: Vec<u32> = bins
            .range(bin_first(l)..bin_first(l + 1))
            .map(|(&b, _)| b)
            .collect();
        for b in level {
            let parent = bin_parent(b);
            let chunks = bins.get_mut(&b).expect("listed");
            chunks.sort_unstable_by_key(|c| c.0);
            let span = (chunks[chunks.len() - 1].1 >> 16) - (chunks[0].0 >> 16);
            if span < MIN_MARKER_DIST && bins.contains_key(&parent) {
                let moved = bins.remove(&b).expect("listed");
                bins.get_mut(&parent).expect("present").extend(moved);
            }
        }
    }
    for chunks in bins.values_mut() {
        chunks.sort_unstable_by_key(|c| c.0);
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(chunks.len());
        for &(s, e) in chunks.iter() {
            match merged.last_mut() {
                Some(last) if last.1 >> 16 >= s >> 16 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        *chunks = merged;
    }
}

/// A finished index.
#[derive(Debug)]
pub enum BamIndex {
    Csi(noodles_csi::Index),
    Bai(noodles_bam::bai::Index),
}

impl BamIndex {
    /// Writes the index in its format.
    pub fn write(&self, out: impl Write) -> io::Result<()> {
        match self {
            BamIndex::Csi(index) => {
                let mut w = noodles_csi::io::Writer::new(out);
                w.write_index(index)?;
                w.into_inner().finish()?;
                Ok(())
            }
            BamIndex::Bai(index) => {
                let mut w = noodles_bam::bai::io::Writer::new(out);
                w.write_index(index)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_follow_htslib() {
        assert_eq!(reg2bin(0, 1, 5), 4681);
        assert_eq!(reg2bin(16383, 16385, 5), 585);
        assert_eq!(reg2bin(0, 1 << 29, 5), 0);
        assert_eq!(reg2bin(0, 1, 4), 585);
        assert_eq!(bin_first_window(4681, 5), 0);
        assert_eq!(bin_first_window(4682, 5), 1);
        assert_eq!(bin_first_window(1, 5), 0);
        assert_eq!(bin_first_window(2, 5), 1 << 12);
        assert_eq!(bin_first_window(586, 4), 1);
    }

    #[test]
    fn small_bins_move_to_their_parent_and_touching_chunks_merge() {
        let mut bins = BTreeMap::new();
        // Leaves 4681 and 4682 (parent 585, present), leaf 4690 (parent
        // 586, absent), each small.
        bins.insert(585, vec![(10 << 16, 11 << 16)]);
        bins.insert(4681, vec![(1 << 16, 2 << 16)]);
        bins.insert(4682, vec![(2 << 16 | 5, 3 << 16)]);
        bins.insert(4690, vec![(20 << 16, 21 << 16)]);
        compress_bins(&mut bins, 5);
        assert_eq!(bins.keys().copied().collect::<Vec<_>>(), [585, 4690]);
        assert_eq!(bins[&585], [(1 << 16, 3 << 16), (10 << 16, 11 << 16)]);
    }

    #[test]
    fn out_of_order_records_are_refused() {
        let refs = [(b"a".to_vec(), 1000), (b"b".to_vec(), 1000)];
        let mut b = IndexBuilder::new(IndexFormat::Csi, &refs).unwrap();
        b.push(1, 10, 20, true, 0, 10).unwrap();
        assert!(b.push(1, 5, 20, true, 10, 20).is_err());
        assert!(b.push(0, 50, 60, true, 10, 20).is_err());
        let long = [(b"a".to_vec(), 1 << 30)];
        assert!(IndexBuilder::new(IndexFormat::Bai, &long).is_err());
        assert!(IndexBuilder::new(IndexFormat::Csi, &long).is_ok());
    }
}
