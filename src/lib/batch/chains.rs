//! [`ChainBatch`]: the chains of every read of a batch with their seeds
//! (output of `ferrous chain`, input of `ferrous extend`).

use serde::{Deserialize, Serialize};

use super::offsets::{ends_ok, range, same_len};
use crate::chain::{Chain, ChainSet, Seed};

/// The [`ChainSet`] of each read, stored as structure-of-arrays on two
/// levels: read `i` owns chains `read_ends[i - 1] .. read_ends[i]` of the
/// chain vectors, and chain `c` owns seeds `seed_ends[c - 1] .. seed_ends[c]`
/// of the seed vectors, in chain order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ChainBatchRepr")]
pub struct ChainBatch {
    #[serde(with = "crate::batch::columns")]
    read_ends: Vec<u64>,
    // One entry per chain.
    #[serde(with = "crate::batch::columns")]
    seed_ends: Vec<u64>,
    #[serde(with = "crate::batch::columns")]
    pos: Vec<i64>,
    #[serde(with = "crate::batch::columns")]
    rid: Vec<i32>,
    #[serde(with = "crate::batch::columns")]
    w: Vec<i32>,
    #[serde(with = "crate::batch::columns")]
    kept: Vec<i32>,
    #[serde(with = "crate::batch::columns")]
    first: Vec<i32>,
    #[serde(with = "crate::batch::columns")]
    is_alt: Vec<bool>,
    #[serde(with = "crate::batch::columns")]
    frac_rep: Vec<f32>,
    // One entry per seed.
    #[serde(with = "crate::batch::columns")]
    rbeg: Vec<i64>,
    #[serde(with = "crate::batch::columns")]
    qbeg: Vec<i32>,
    #[serde(with = "crate::batch::columns")]
    len: Vec<i32>,
    #[serde(with = "crate::batch::columns")]
    score: Vec<i32>,
}

/// The serialised shape of [`ChainBatch`], checked on the way in.
#[derive(Deserialize)]
struct ChainBatchRepr {
    #[serde(with = "crate::batch::columns")]
    read_ends: Vec<u64>,
    #[serde(with = "crate::batch::columns")]
    seed_ends: Vec<u64>,
    #[serde(with = "crate::batch::columns")]
    pos: Vec<i64>,
    #[serde(with = "crate::batch::columns")]
    rid: Vec<i32>,
    #[serde(with = "crate::batch::columns")]
    w: Vec<i32>,
    #[serde(with = "crate::batch::columns")]
    kept: Vec<i32>,
    #[serde(with = "crate::batch::columns")]
    first: Vec<i32>,
    #[serde(with = "crate::batch::columns")]
    is_alt: Vec<bool>,
    #[serde(with = "crate::batch::columns")]
    frac_rep: Vec<f32>,
    #[serde(with = "crate::batch::columns")]
    rbeg: Vec<i64>,
    #[serde(with = "crate::batch::columns")]
    qbeg: Vec<i32>,
    #[serde(with = "crate::batch::columns")]
    len: Vec<i32>,
    #[serde(with = "crate::batch::columns")]
    score: Vec<i32>,
}

impl TryFrom<ChainBatchRepr> for ChainBatch {
    type Error = String;

    fn try_from(r: ChainBatchRepr) -> Result<Self, String> {
        let n_chains = r.seed_ends.len();
        let chain_lens = [
            n_chains,
            r.pos.len(),
            r.rid.len(),
            r.w.len(),
            r.kept.len(),
            r.first.len(),
            r.is_alt.len(),
            r.frac_rep.len(),
        ];
        if !same_len(&chain_lens) {
            return Err("chains: chain vectors have different lengths".into());
        }
        let n_seeds = r.rbeg.len();
        if !same_len(&[n_seeds, r.qbeg.len(), r.len.len(), r.score.len()]) {
            return Err("chains: seed vectors have different lengths".into());
        }
        if !ends_ok(&r.read_ends, n_chains) {
            return Err("chains: read_ends decrease or do not end at the chain count".into());
        }
        if !ends_ok(&r.seed_ends, n_seeds) {
            return Err("chains: seed_ends decrease or do not end at the seed count".into());
        }
        if let Some(j) = (0..n_seeds).find(|&j| r.qbeg[j] < 0 || r.len[j] < 0 || r.rbeg[j] < 0) {
            return Err(format!("chains: seed {j} has a negative start or length"));
        }
        Ok(ChainBatch {
            read_ends: r.read_ends,
            seed_ends: r.seed_ends,
            pos: r.pos,
            rid: r.rid,
            w: r.w,
            kept: r.kept,
            first: r.first,
            is_alt: r.is_alt,
            frac_rep: r.frac_rep,
            rbeg: r.rbeg,
            qbeg: r.qbeg,
            len: r.len,
            score: r.score,
        })
    }
}

impl ChainBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of reads.
    pub fn len(&self) -> usize {
        self.read_ends.len()
    }

    /// Whether the batch holds no read.
    pub fn is_empty(&self) -> bool {
        self.read_ends.is_empty()
    }

    /// Number of chains over all reads.
    pub fn n_chains(&self) -> usize {
        self.seed_ends.len()
    }

    /// Number of seeds over all chains.
    pub fn n_seeds(&self) -> usize {
        self.rbeg.len()
    }

    /// Removes all reads, keeping the allocated memory.
    pub fn clear(&mut self) {
        self.read_ends.clear();
        self.seed_ends.clear();
        self.pos.clear();
        self.rid.clear();
        self.w.clear();
        self.kept.clear();
        self.first.clear();
        self.is_alt.clear();
        self.frac_rep.clear();
        self.rbeg.clear();
        self.qbeg.clear();
        self.len.clear();
        self.score.clear();
    }

    /// Appends the next read's chains, each with the seeds
    /// [`ChainSet::seeds_of`] gives it (seeds no chain owns are dropped).
    pub fn push_read(&mut self, set: &ChainSet) {
        for (c, seeds) in set.iter() {
            for s in seeds {
                self.rbeg.push(s.rbeg);
                self.qbeg.push(s.qbeg);
                self.len.push(s.len);
                self.score.push(s.score);
            }
            self.seed_ends.push(self.rbeg.len() as u64);
            self.pos.push(c.pos);
            self.rid.push(c.rid);
            self.w.push(c.w);
            self.kept.push(c.kept);
            self.first.push(c.first);
            self.is_alt.push(c.is_alt);
            self.frac_rep.push(c.frac_rep);
        }
        self.read_ends.push(self.seed_ends.len() as u64);
    }

    /// Appends the reads of `other` after those of `self` (joins the
    /// pieces a stage builds in parallel).
    pub fn append(&mut self, other: &ChainBatch) {
        let chains = self.seed_ends.len() as u64;
        let seeds = self.rbeg.len() as u64;
        self.read_ends
            .extend(other.read_ends.iter().map(|&e| e + chains));
        self.seed_ends
            .extend(other.seed_ends.iter().map(|&e| e + seeds));
        self.pos.extend_from_slice(&other.pos);
        self.rid.extend_from_slice(&other.rid);
        self.w.extend_from_slice(&other.w);
        self.kept.extend_from_slice(&other.kept);
        self.first.extend_from_slice(&other.first);
        self.is_alt.extend_from_slice(&other.is_alt);
        self.frac_rep.extend_from_slice(&other.frac_rep);
        self.rbeg.extend_from_slice(&other.rbeg);
        self.qbeg.extend_from_slice(&other.qbeg);
        self.len.extend_from_slice(&other.len);
        self.score.extend_from_slice(&other.score);
    }

    /// Number of chains of read `i`. Panics if `i >= len()`.
    pub fn read_len(&self, i: usize) -> usize {
        range(&self.read_ends, i).len()
    }

    /// Replaces `out`'s content with the chains of read `i`: chains in
    /// stored order, each owning a contiguous run of `out.seeds` in chain
    /// order. Panics if `i >= len()`.
    pub fn read_into(&self, i: usize, out: &mut ChainSet) {
        out.clear();
        for c in range(&self.read_ends, i) {
            let seeds = range(&self.seed_ends, c);
            let seed_beg = out.seeds.len();
            out.seeds.extend(seeds.clone().map(|j| Seed {
                rbeg: self.rbeg[j],
                qbeg: self.qbeg[j],
                len: self.len[j],
                score: self.score[j],
            }));
            out.chains.push(Chain {
                seed_beg,
                n_seeds: seeds.len(),
                pos: self.pos[c],
                rid: self.rid[c],
                w: self.w[c],
                kept: self.kept[c],
                first: self.first[c],
                is_alt: self.is_alt[c],
                frac_rep: self.frac_rep[c],
            });
        }
    }

    /// The largest query end (`qbeg + len`) of read `i`'s seeds, 0 if
    /// none: checked against the read length on decode.
    /// Checks that every seed lies on the index's concatenated reference
    /// `[0, 2 * l_pac)` and every chain names one of its `n_contigs`.
    pub(crate) fn check_reference(&self, l_pac: i64, n_contigs: usize) -> Result<(), String> {
        if let Some(j) =
            (0..self.rbeg.len()).find(|&j| self.rbeg[j] + i64::from(self.len[j]) > 2 * l_pac)
        {
            return Err(format!(
                "chains: seed {j} lies past the end of the reference"
            ));
        }
        if let Some(c) = (0..self.rid.len()).find(|&c| {
            self.rid[c] < 0
                || self.rid[c] as usize >= n_contigs
                || self.pos[c] < 0
                || self.pos[c] >= 2 * l_pac
        }) {
            return Err(format!("chains: chain {c} names no contig of the index"));
        }
        Ok(())
    }

    pub(crate) fn max_query_end(&self, i: usize) -> u64 {
        let r = range(&self.read_ends, i);
        if r.is_empty() {
            return 0;
        }
        let seeds = self.seed_ends_start(r.start)..self.seed_ends[r.end - 1] as usize;
        seeds
            .map(|j| self.qbeg[j] as u64 + self.len[j] as u64)
            .max()
            .unwrap_or(0)
    }

    fn seed_ends_start(&self, c: usize) -> usize {
        range(&self.seed_ends, c).start
    }
}
