//! Chaining (spec §5–§6): from the SMEM intervals of one read to the chains
//! of colinear seeds that extension will turn into alignments, as bwa mem
//! 0.7.17 does it (`bwamem.c: mem_chain`, `test_and_merge`,
//! `mem_chain_flt`, `mem_flt_chained_seeds`).
//!
//! Steps, each with the option that drives it:
//! 1. [`repetitive_fraction`]: the share of the read covered by intervals
//!    with more than `max_occ` (`-c`) occurrences (kept with every chain).
//! 2. [`build_chains`]: each interval gives up to `max_occ` seeds (its
//!    suffix-array rows sampled evenly); each seed joins the chain found by
//!    a B-tree lookup ([`kbtree`]) when [`test_and_merge`] allows it (band
//!    `-w`, gap limit `-G`), else starts a new chain.
//! 3. [`filter_chains`]: weight each chain, drop those under `-W`, sort by
//!    weight with bwa's unstable introsort and drop chains shadowed by a
//!    much heavier one (`-D`, overlap fraction `mask_level`).
//! 4. [`filter_seeds_by_sw`] (long reads only): drop seeds whose local
//!    Smith-Waterman score around them is too low.
//!
//! [`chain_seeds`] runs steps 1–3. Chains are stored flat in a
//! [`ChainSet`] (one seed buffer shared by all chains of a read), and all
//! scratch lives in a [`ChainWorkspace`], so a warm thread allocates
//! nothing per read.

pub mod filter;
pub mod kbtree;
pub mod seed_sw;
#[cfg(test)]
mod testref;

pub use filter::{chain_weight, filter_chains};
pub use seed_sw::filter_seeds_by_sw;

use crate::options::MemOptions;
use kbtree::{Entry, KbTree};

/// One exact match between the read and the reference (`mem_seed_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Seed {
    /// Start on the reference, in the concatenated forward + reverse
    /// coordinate space `[0, 2 * l_pac)`.
    pub rbeg: i64,
    /// Start on the read.
    pub qbeg: i32,
    /// Length of the match.
    pub len: i32,
    /// The match length, or after [`filter_seeds_by_sw`] its local SW score.
    pub score: i32,
}

/// One SMEM (or re-seeded / LAST-like) interval from seeding: the
/// suffix-array rows `x0 .. x0 + size` of the read span `[qbeg, qend)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SmemInterval {
    /// First suffix-array row (bwa's `x[0]`).
    pub x0: u64,
    /// Number of occurrences (bwa's `x[2]`).
    pub size: u64,
    /// Read span start (high half of bwa's `info`).
    pub qbeg: i32,
    /// Read span end, exclusive (low half of bwa's `info`).
    pub qend: i32,
}

/// A chain of colinear seeds (`mem_chain_t`). Its seeds are
/// `ChainSet::seeds[seed_beg .. seed_beg + n_seeds]`, in the order they
/// joined the chain.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Chain {
    /// Index of the chain's first seed in [`ChainSet::seeds`].
    pub seed_beg: usize,
    /// Number of seeds (bwa's `n`).
    pub n_seeds: usize,
    /// `rbeg` of the chain's first seed: its key in the B-tree.
    pub pos: i64,
    /// Contig of every seed of the chain.
    pub rid: i32,
    /// Weight from [`chain_weight`] (a 29-bit field in bwa); set by
    /// [`filter_chains`].
    pub w: i32,
    /// 0 = dropped, 1 = shadowed but kept for MAPQ, 2 = kept with a large
    /// overlap, 3 = kept; set by [`filter_chains`].
    pub kept: i32,
    /// Index (after sorting) of the first chain this one shadowed, or -1.
    pub first: i32,
    /// Whether the contig is an ALT contig.
    pub is_alt: bool,
    /// Repetitive fraction of the read ([`repetitive_fraction`]), an f32.
    pub frac_rep: f32,
}

/// The chains of one read with their seeds, reused from read to read.
#[derive(Debug, Clone, Default)]
pub struct ChainSet {
    /// Chains in bwa's order: by `pos` (B-tree order) after
    /// [`build_chains`], by weight after [`filter_chains`].
    pub chains: Vec<Chain>,
    /// Seed storage for all chains; a chain owns a contiguous run of it.
    pub seeds: Vec<Seed>,
}

impl ChainSet {
    /// Empties the set, keeping its memory.
    pub fn clear(&mut self) {
        self.chains.clear();
        self.seeds.clear();
    }

    /// The seeds of `c`, in chain order.
    pub fn seeds_of(&self, c: &Chain) -> &[Seed] {
        &self.seeds[c.seed_beg..c.seed_beg + c.n_seeds]
    }

    /// Number of chains.
    pub fn len(&self) -> usize {
        self.chains.len()
    }

    /// Whether there is no chain.
    pub fn is_empty(&self) -> bool {
        self.chains.is_empty()
    }

    /// Each chain with its seeds, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Chain, &[Seed])> + '_ {
        self.chains.iter().map(move |c| (c, self.seeds_of(c)))
    }
}

/// What chaining needs from the index. Implemented for the real FM-index
/// and packed reference by the index module; tests use a naive one.
pub trait ChainReference {
    /// Suffix-array value of `row` (`bwt_sa`): a position in `[0, 2 * l_pac)`.
    /// Rows are numbered as in [`SmemInterval::x0`] (bwa's numbering, where
    /// row 0 is the suffix starting with the sentinel).
    fn sa(&self, row: u64) -> u64;
    /// `out[i] = sa(rows[i])` for every `i` (`rows` and `out` of equal
    /// length); an index may overlap the lookups.
    fn sa_many(&self, rows: &[u64], out: &mut [u64]) {
        debug_assert_eq!(rows.len(), out.len());
        for (o, &r) in out.iter_mut().zip(rows) {
            *o = self.sa(r);
        }
    }
    /// Length of the forward reference (`bns->l_pac`).
    fn l_pac(&self) -> i64;
    /// Contig holding `[rb, re)` (`bns_intv2rid`, spec §2.8): -2 if the span
    /// crosses the forward/reverse boundary, -1 if it spans two contigs.
    fn intv2rid(&self, rb: i64, re: i64) -> i32;
    /// Whether contig `rid` is an ALT contig.
    fn is_alt(&self, rid: i32) -> bool;
    /// `bns_fetch_seq` (spec §2.8): clamps `[beg, end)` to the contig and
    /// strand holding `mid` (`beg <= mid < end`), writes the bases of the
    /// clamped span into `buf` (replacing its content; nt4 codes, reverse
    /// strand read as the reverse complement) and returns the clamped span.
    fn fetch_seq(&self, beg: i64, mid: i64, end: i64, buf: &mut Vec<u8>) -> (i64, i64);
}

/// A chain while seeds are still being added: seeds form a linked list in
/// the workspace's seed pool.
#[derive(Debug, Clone, Copy)]
struct Growing {
    pos: i64,
    rid: i32,
    is_alt: bool,
    first: u32,
    last: u32,
    n: u32,
}

/// Per-thread scratch for chaining; keeps its memory between reads.
#[derive(Debug, Clone, Default)]
pub struct ChainWorkspace {
    tree: KbTree,
    growing: Vec<Growing>,
    pool: Vec<Seed>,
    next: Vec<u32>,
    kept: Vec<usize>,
    ref_buf: Vec<u8>,
    /// The SA rows of one read's seeds, then their positions.
    rows: Vec<u64>,
    positions: Vec<u64>,
}

impl ChainWorkspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Spec §5.1: the length of the union of read spans of intervals with more
/// than `max_occ` occurrences, over `read_len`, as an f32. `intervals` must
/// be in seeding's final order (by start, then end).
pub fn repetitive_fraction(intervals: &[SmemInterval], read_len: i32, max_occ: i32) -> f32 {
    // C compares the u64 size with the int option converted to u64.
    let max_occ = max_occ as i64 as u64;
    let (mut b, mut e, mut l_rep) = (0i32, 0i32, 0i32);
    for p in intervals.iter().filter(|p| p.size > max_occ) {
        if p.qbeg > e {
            l_rep += e - b;
            b = p.qbeg;
            e = p.qend;
        } else {
            e = e.max(p.qend);
        }
    }
    l_rep += e - b;
    l_rep as f32 / read_len as f32
}

/// Outcome of [`test_and_merge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// The seed belongs elsewhere: start a new chain.
    Reject,
    /// The seed lies inside the chain's span; it is dropped.
    Contained,
    /// The seed extends the chain: append it.
    Append,
}

/// The limits [`test_and_merge`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeLimits {
    /// Band width (`-w`): largest allowed difference of the read and
    /// reference distances from the chain's last seed.
    pub w: i64,
    /// Largest gap after the chain's last seed (hidden `-G`).
    pub max_chain_gap: i64,
    /// Length of the forward reference, to detect strand changes.
    pub l_pac: i64,
}

impl MergeLimits {
    /// The limits from the options, for a reference of `l_pac` bases.
    pub fn new(opts: &MemOptions, l_pac: i64) -> Self {
        MergeLimits {
            w: i64::from(opts.w),
            max_chain_gap: i64::from(opts.max_chain_gap),
            l_pac,
        }
    }
}

/// Spec §5.3 `test_and_merge`: whether seed `s` (on contig `seed_rid`) can
/// join a chain on contig `chain_rid` whose first and last seeds are `first`
/// and `last`.
pub fn test_and_merge(
    lim: &MergeLimits,
    chain_rid: i32,
    first: &Seed,
    last: &Seed,
    s: &Seed,
    seed_rid: i32,
) -> Merge {
    if seed_rid != chain_rid {
        return Merge::Reject;
    }
    let qend = i64::from(last.qbeg) + i64::from(last.len);
    let rend = last.rbeg + i64::from(last.len);
    if s.qbeg >= first.qbeg
        && i64::from(s.qbeg) + i64::from(s.len) <= qend
        && s.rbeg >= first.rbeg
        && s.rbeg + i64::from(s.len) <= rend
    {
        return Merge::Contained;
    }
    if (last.rbeg < lim.l_pac || first.rbeg < lim.l_pac) && s.rbeg >= lim.l_pac {
        return Merge::Reject;
    }
    let x = i64::from(s.qbeg) - i64::from(last.qbeg);
    let y = s.rbeg - last.rbeg;
    let (w, gap, len) = (lim.w, lim.max_chain_gap, i64::from(last.len));
    if y >= 0 && x - y <= w && y - x <= w && x - len < gap && y - len < gap {
        Merge::Append
    } else {
        Merge::Reject
    }
}

/// Spec §5: turns the sorted intervals of one read into chains, in bwa's
/// B-tree order, with `frac_rep` set (`w`, `kept`, `first` are left for
/// [`filter_chains`]). A read shorter than `min_seed_len` gets no chain.
pub fn build_chains(
    intervals: &[SmemInterval],
    read_len: i32,
    opts: &MemOptions,
    reference: &impl ChainReference,
    ws: &mut ChainWorkspace,
    out: &mut ChainSet,
) {
    out.clear();
    if read_len < opts.min_seed_len {
        return;
    }
    ws.tree.clear();
    ws.growing.clear();
    ws.pool.clear();
    ws.next.clear();
    let lim = MergeLimits::new(opts, reference.l_pac());
    let frac_rep = repetitive_fraction(intervals, read_len, opts.max_occ);
    let max_occ = opts.max_occ as i64 as u64;
    // The rows of every seed of the read, located in one batch so that the
    // index can overlap the lookups; then the seeds in bwa's order.
    // bwa takes rows `x0, x0 + step, ...` below `x0 + size`, at most
    // `max_occ` of them: (count, step).
    let sampling = |p: &SmemInterval| {
        let step = if p.size > max_occ && max_occ > 0 {
            p.size / max_occ
        } else {
            1
        };
        (p.size.div_ceil(step).min(opts.max_occ.max(0) as u64), step)
    };
    ws.rows.clear();
    for p in intervals {
        let (n, step) = sampling(p);
        ws.rows.extend((0..n).map(|i| p.x0 + i * step));
    }
    ws.positions.clear();
    ws.positions.resize(ws.rows.len(), 0);
    reference.sa_many(&ws.rows, &mut ws.positions);
    let mut at = 0;
    for p in intervals {
        let slen = p.qend - p.qbeg;
        for _ in 0..sampling(p).0 {
            let rbeg = ws.positions[at] as i64;
            at += 1;
            let s = Seed {
                rbeg,
                qbeg: p.qbeg,
                len: slen,
                score: slen,
            };
            let rid = reference.intv2rid(rbeg, rbeg + i64::from(slen));
            if rid < 0 {
                continue; // crosses a contig or strand boundary: dropped
            }
            if !ws.tree.is_empty() {
                if let Some(e) = ws.tree.lower(rbeg) {
                    if ws.try_merge(e.id, &s, rid, &lim) {
                        continue;
                    }
                }
            }
            ws.start_chain(s, rid, reference.is_alt(rid));
        }
    }
    let ChainWorkspace {
        tree,
        growing,
        pool,
        next,
        ..
    } = ws;
    tree.for_each(|e| {
        let g = &growing[e.id as usize];
        let seed_beg = out.seeds.len();
        let mut at = g.first;
        for _ in 0..g.n {
            out.seeds.push(pool[at as usize]);
            at = next[at as usize];
        }
        out.chains.push(Chain {
            seed_beg,
            n_seeds: g.n as usize,
            pos: g.pos,
            rid: g.rid,
            w: 0,
            kept: 0,
            first: -1,
            is_alt: g.is_alt,
            frac_rep,
        });
    });
}

impl ChainWorkspace {
    /// Applies [`test_and_merge`] of seed `s` to growing chain `id`;
    /// appends the seed on success. Returns whether the seed was taken.
    fn try_merge(&mut self, id: u32, s: &Seed, rid: i32, lim: &MergeLimits) -> bool {
        let g = self.growing[id as usize];
        let first = self.pool[g.first as usize];
        let last = self.pool[g.last as usize];
        match test_and_merge(lim, g.rid, &first, &last, s, rid) {
            Merge::Reject => false,
            Merge::Contained => true,
            Merge::Append => {
                let at = self.push_seed(*s);
                self.next[g.last as usize] = at;
                let g = &mut self.growing[id as usize];
                g.last = at;
                g.n += 1;
                true
            }
        }
    }

    fn push_seed(&mut self, s: Seed) -> u32 {
        self.pool.push(s);
        self.next.push(u32::MAX);
        (self.pool.len() - 1) as u32
    }

    fn start_chain(&mut self, s: Seed, rid: i32, is_alt: bool) {
        let at = self.push_seed(s);
        let id = self.growing.len() as u32;
        self.growing.push(Growing {
            pos: s.rbeg,
            rid,
            is_alt,
            first: at,
            last: at,
            n: 1,
        });
        self.tree.insert(Entry { pos: s.rbeg, id });
    }
}

/// Spec §5 then §6.2 for one read: [`build_chains`] followed by
/// [`filter_chains`]. The long-read seed filter ([`filter_seeds_by_sw`])
/// is a separate step because it needs the Smith-Waterman kernel.
pub fn chain_seeds(
    intervals: &[SmemInterval],
    read_len: i32,
    opts: &MemOptions,
    reference: &impl ChainReference,
    ws: &mut ChainWorkspace,
    out: &mut ChainSet,
) {
    build_chains(intervals, read_len, opts, reference, ws, out);
    filter_chains(opts, out, ws);
}

#[cfg(test)]
mod tests;
