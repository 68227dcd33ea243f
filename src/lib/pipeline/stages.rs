//! The stages as functions from one batch to the next, for the stage
//! subcommands (`ferrous seed`, `chain`, `extend`, `pair`, `rescue`,
//! `emit`). Each calls, per read or per pair, the same [`Aligner`] steps
//! that the fused runner chains together in memory (`seed_read`,
//! `chain_read`, `extend_read`, `rescue_pair`, `emit_single`,
//! `emit_pair`), so the two paths cannot drift apart. Reads are processed
//! in parallel on the current rayon pool; the result never depends on the
//! number of threads.

use super::{ordered_collect, Aligner, PairWorkspace, ReadGroup, ReadWorkspace};
use crate::batch::{ChainBatch, InsertModel, RegionBatch, SeedBatch};
use crate::pair::PairStats;
use crate::reads::{Layout, ReadBatch, SmartPairs};
use crate::region::AlnReg;
use crate::seed::SEED_GROUP;
use crate::trace::{self, Kind};

/// Reads per parallel task of the per-read stages.
const READ_CHUNK: usize = 64;
/// Output units (reads or pairs) per parallel task of the per-pair stages.
const UNIT_CHUNK: usize = 32;

/// What the output of a stage is made of, one read after another: joined
/// in order from the pieces built in parallel.
trait Columns: Default + Send {
    fn append(&mut self, other: &Self);
}

impl Columns for SeedBatch {
    fn append(&mut self, other: &Self) {
        SeedBatch::append(self, other);
    }
}

impl Columns for ChainBatch {
    fn append(&mut self, other: &Self) {
        ChainBatch::append(self, other);
    }
}

impl Columns for RegionBatch {
    fn append(&mut self, other: &Self) {
        RegionBatch::append(self, other);
    }
}

/// Runs `step` on every read of `reads` in parallel, each chunk of reads
/// into its own piece, and joins the pieces in read order.
fn per_read<C, F>(reads: &ReadBatch, kind: Kind, step: F) -> C
where
    C: Columns,
    F: Fn(&mut ReadWorkspace, usize, &mut C) + Sync,
{
    per_chunk(reads, kind, |ws: &mut ReadWorkspace, chunk, piece| {
        for i in chunk {
            step(ws, i, piece);
        }
    })
}

/// Runs `step` on every chunk of reads (a range of read numbers) of
/// `reads` in parallel, each into its own piece with a workspace `W` kept
/// per task (traced as a task of `kind`), and joins the pieces in read
/// order.
fn per_chunk<C, W, F>(reads: &ReadBatch, kind: Kind, step: F) -> C
where
    C: Columns,
    W: Default + Send,
    F: Fn(&mut W, std::ops::Range<usize>, &mut C) + Sync,
{
    let n = reads.len();
    let pieces: Vec<C> = ordered_collect(n.div_ceil(READ_CHUNK), |ws: &mut W, c| {
        let chunk = c * READ_CHUNK..((c + 1) * READ_CHUNK).min(n);
        let mut span = trace::span(kind, reads.first_read, c as u64);
        span.arg("reads", chunk.len() as u64);
        let mut piece = C::default();
        step(ws, chunk, &mut piece);
        piece
    });
    join(&pieces)
}

/// The pieces built in parallel, joined in order.
fn join<C: Columns>(pieces: &[C]) -> C {
    let mut out = C::default();
    for p in pieces {
        out.append(p);
    }
    out
}

/// Loads pair `idx` of `reads` (bases into `ws.queries`, regions from
/// `regions` into `ws.staged`), runs `f` on its two region lists, and
/// keeps the lists' buffers in `ws` for the next pair.
fn with_pair<R>(
    reads: &ReadBatch,
    regions: &RegionBatch,
    idx: [usize; 2],
    ws: &mut PairWorkspace,
    f: impl FnOnce([&mut Vec<AlnReg>; 2], &mut PairWorkspace) -> R,
) -> R {
    Aligner::load_pair(reads, idx, ws);
    let mut a = std::mem::take(&mut ws.staged);
    regions.read_into(idx[0], &mut a[0]);
    regions.read_into(idx[1], &mut a[1]);
    let [a0, a1] = &mut a;
    let r = f([a0, a1], ws);
    ws.staged = a;
    r
}

/// One output unit of a batch: a read aligned alone or a pair, with the
/// number bwa gives it (it breaks ties in primary marking and pairing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Single { read: usize, id: u64 },
    Pair { reads: [usize; 2], id: u64 },
}

impl Unit {
    fn first_read(&self) -> usize {
        match *self {
            Unit::Single { read, .. } => read,
            Unit::Pair { reads, .. } => reads[0],
        }
    }
}

/// The units of a batch in read order, numbered as `ferrous mem` (and
/// bwa's `mem_process_seqs`) numbers them: single-end reads from
/// `first_read`; pairs from `first_read / 2`; with smart pairing, the
/// unpaired reads from `first_read` and the pairs from
/// `(first_read + unpaired) / 2`.
pub(crate) fn units(reads: &ReadBatch, layout: Layout) -> Vec<Unit> {
    let first = reads.first_read;
    match layout {
        Layout::Single => (0..reads.len())
            .map(|i| Unit::Single {
                read: i,
                id: first + i as u64,
            })
            .collect(),
        Layout::Paired => (0..reads.len() / 2)
            .map(|k| Unit::Pair {
                reads: [2 * k, 2 * k + 1],
                id: (first >> 1) + k as u64,
            })
            .collect(),
        Layout::Interleaved => {
            let mut sp = SmartPairs::default();
            sp.classify(reads);
            let first_pair = (first + sp.singles.len() as u64) >> 1;
            let mut units: Vec<Unit> = sp
                .singles
                .iter()
                .enumerate()
                .map(|(k, &r)| Unit::Single {
                    read: r,
                    id: first + k as u64,
                })
                .chain(
                    sp.pairs
                        .chunks_exact(2)
                        .enumerate()
                        .map(|(k, p)| Unit::Pair {
                            reads: [p[0], p[1]],
                            id: first_pair + k as u64,
                        }),
                )
                .collect();
            units.sort_by_key(Unit::first_read);
            units
        }
    }
}

impl Aligner<'_> {
    /// `ferrous seed`: the SMEM intervals of every read.
    pub fn seed_batch(&self, reads: &ReadBatch) -> SeedBatch {
        per_chunk(
            reads,
            Kind::Seed,
            |group: &mut ReadGroup, chunk, out: &mut SeedBatch| {
                // A group of reads at a time, their seeding interleaved, as
                // `mem` runs it.
                let end = chunk.end;
                for i in chunk.step_by(SEED_GROUP) {
                    let n = Self::load_group(reads, i..end.min(i + SEED_GROUP), group);
                    self.seed_group(group, n);
                    for ws in &group[..n] {
                        out.push_read(&ws.intervals);
                    }
                }
            },
        )
    }

    /// `ferrous chain`: the filtered chains of every read's seeds.
    pub fn chain_batch(&self, reads: &ReadBatch, seeds: &SeedBatch) -> ChainBatch {
        per_read(reads, Kind::Chain, |ws, i, out: &mut ChainBatch| {
            Self::load_query(reads, i, ws);
            seeds.read_into(i, &mut ws.intervals);
            self.chain_read(ws);
            out.push_read(&ws.chains);
        })
    }

    /// `ferrous extend`: the de-duplicated regions of every read's chains.
    pub fn extend_batch(&self, reads: &ReadBatch, chains: &ChainBatch) -> RegionBatch {
        per_read(reads, Kind::Extend, |ws, i, out: &mut RegionBatch| {
            Self::load_query(reads, i, ws);
            chains.read_into(i, &mut ws.chains);
            self.extend_read(ws);
            out.push_read(&ws.regs);
        })
    }

    /// `ferrous pair`: the batch's insert-size model from the regions of
    /// its pairs (`-I` when given), with bwa's messages on stderr.
    pub fn pair_batch(
        &self,
        reads: &ReadBatch,
        layout: Layout,
        regions: &RegionBatch,
    ) -> InsertModel {
        let pairs: Vec<[usize; 2]> = units(reads, layout)
            .into_iter()
            .filter_map(|u| match u {
                Unit::Pair { reads, .. } => Some(reads),
                Unit::Single { .. } => None,
            })
            .collect();
        let _span = trace::span(Kind::InsertSize, reads.first_read, 0);
        let stats = self.pair_stats(pairs.len(), |p, [a, b]| {
            regions.read_into(pairs[p][0], a);
            regions.read_into(pairs[p][1], b);
        });
        InsertModel::from(&stats)
    }

    /// `ferrous rescue`: every pair's regions after mate rescue; reads
    /// without a mate keep theirs.
    pub fn rescue_batch(
        &self,
        reads: &ReadBatch,
        layout: Layout,
        regions: &RegionBatch,
        model: &InsertModel,
    ) -> RegionBatch {
        let pes = model.stats();
        let units = units(reads, layout);
        let chunks: Vec<&[Unit]> = units.chunks(UNIT_CHUNK).collect();
        let pieces: Vec<RegionBatch> =
            ordered_collect(chunks.len(), |ws: &mut PairWorkspace, c| {
                let chunk = chunks[c];
                let _span = trace::span(Kind::Rescue, reads.first_read, c as u64);
                let pairs: Vec<[usize; 2]> = chunk
                    .iter()
                    .filter_map(|u| match *u {
                        Unit::Pair { reads, .. } => Some(reads),
                        Unit::Single { .. } => None,
                    })
                    .collect();
                ws.fill_slots(pairs.len(), |k, slot| {
                    Self::load_bases(reads, pairs[k], &mut slot.queries);
                    regions.read_into(pairs[k][0], &mut slot.regs[0]);
                    regions.read_into(pairs[k][1], &mut slot.regs[1]);
                });
                self.rescue_pairs(pairs.len(), &pes, ws);
                let mut piece = RegionBatch::new();
                let mut k = 0;
                for u in chunk {
                    match *u {
                        Unit::Single { read, .. } => {
                            regions.read_into(read, &mut ws.staged[0]);
                            piece.push_read(&ws.staged[0]);
                        }
                        Unit::Pair { .. } => {
                            for regs in &ws.slots[k].regs {
                                piece.push_read(regs);
                            }
                            k += 1;
                        }
                    }
                }
                piece
            });
        join(&pieces)
    }

    /// `ferrous emit`: the SAM text of a batch, in read order, from its
    /// final regions (and, for pairs, the batch's insert-size model).
    pub fn emit_batch(
        &self,
        reads: &ReadBatch,
        layout: Layout,
        regions: &RegionBatch,
        model: Option<&InsertModel>,
    ) -> Vec<u8> {
        let pes: PairStats = model.map(InsertModel::stats).unwrap_or_default();
        let units = units(reads, layout);
        let chunks: Vec<&[Unit]> = units.chunks(UNIT_CHUNK).collect();
        let texts: Vec<Vec<u8>> = ordered_collect(chunks.len(), |ws: &mut PairWorkspace, c| {
            let chunk = chunks[c];
            let _span = trace::span(Kind::Emit, reads.first_read, c as u64);
            let mut out = Vec::with_capacity(chunk.len() * 1200);
            for u in chunk {
                match *u {
                    Unit::Single { read, id } => {
                        let rw = &mut ws.read;
                        Self::load_query(reads, read, rw);
                        regions.read_into(read, &mut rw.regs);
                        self.emit_single(reads, read, id, rw, &mut out);
                    }
                    Unit::Pair { reads: idx, id } => {
                        with_pair(reads, regions, idx, ws, |a, ws| {
                            self.emit_pair(reads, idx, a, id, &pes, ws, &mut out);
                        });
                    }
                }
            }
            out
        });
        texts.concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(names: &[&str], first_read: u64) -> ReadBatch {
        let mut b = ReadBatch::new();
        b.first_read = first_read;
        for n in names {
            b.push(n.as_bytes(), b"", b"ACGT", None).unwrap();
        }
        b
    }

    #[test]
    fn units_number_reads_as_the_fused_runner_does() {
        let b = batch(&["a", "b", "c", "d"], 10);
        assert_eq!(
            units(&b, Layout::Single),
            (0..4)
                .map(|i| Unit::Single {
                    read: i,
                    id: 10 + i as u64
                })
                .collect::<Vec<_>>()
        );
        assert_eq!(
            units(&b, Layout::Paired),
            vec![
                Unit::Pair {
                    reads: [0, 1],
                    id: 5
                },
                Unit::Pair {
                    reads: [2, 3],
                    id: 6
                }
            ]
        );
    }

    #[test]
    fn smart_pairing_numbers_singles_then_pairs_in_read_order() {
        // x, (p, p), y, (q, q): singles x, y get 20, 21; pairs from (20 + 2) / 2.
        let b = batch(&["x", "p", "p", "y", "q", "q"], 20);
        assert_eq!(
            units(&b, Layout::Interleaved),
            vec![
                Unit::Single { read: 0, id: 20 },
                Unit::Pair {
                    reads: [1, 2],
                    id: 11
                },
                Unit::Single { read: 3, id: 21 },
                Unit::Pair {
                    reads: [4, 5],
                    id: 12
                },
            ]
        );
    }
}
