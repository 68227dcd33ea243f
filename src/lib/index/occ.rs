//! Occurrence counting over the BWT (spec §2.7): `occ`, `occ4`, the pair
//! variant `bwt_extend` needs, LF, and a prefetch hint.
//!
//! The BWT with `$` removed (length `n`) is stored in 64-byte blocks of 128
//! characters: four cumulative `u64` counts (A, C, G, T in all earlier
//! blocks) then four `u64` words holding 32 bases each, base `j` of a word in
//! bits `2j..2j+2`. A query for row `k` looks at row `k' = k - (k >= primary)`
//! of the `$`-removed string: one cache line, a few popcounts.

use super::FmIndex;

/// Characters per occurrence block.
pub const OCC_INTERVAL: u64 = 128;

/// One cache line of the occurrence table.
#[repr(C, align(64))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OccBlock {
    /// Occurrences of A, C, G, T before this block.
    pub counts: [u64; 4],
    /// 128 bases, 2 bits each, base `j` of word `w` at bits `2j`.
    pub bases: [u64; 4],
}

const LO: u64 = 0x5555_5555_5555_5555;

/// Mask (on the low bit of each 2-bit cell) of the first `m` cells, `m <= 32`.
const fn cell_mask(m: u64) -> u64 {
    if m >= 32 {
        LO
    } else {
        LO & ((1u64 << (2 * m)) - 1)
    }
}

/// `PREFIX_MASKS.0[j][w]`: the low-bit mask of the cells of word `w` among
/// the first `j` bases of a block. A 4 KiB table read costs less than
/// computing the four masks (clamps and variable shifts) at every count.
#[repr(C, align(64))]
struct PrefixMasks([[u64; 4]; OCC_INTERVAL as usize + 1]);

static PREFIX_MASKS: PrefixMasks = {
    let mut t = [[0u64; 4]; OCC_INTERVAL as usize + 1];
    let mut j = 0;
    while j <= OCC_INTERVAL as usize {
        let mut w = 0;
        while w < 4 {
            let m = (j as u64).saturating_sub(32 * w as u64);
            t[j][w] = cell_mask(m);
            w += 1;
        }
        j += 1;
    }
    PrefixMasks(t)
};

/// The set bits of four words whose set bits all sit on even positions:
/// two words merged per popcount.
#[inline(always)]
fn merged_popcount(v: &[u64; 4]) -> u64 {
    u64::from((v[0] | (v[1] << 1)).count_ones() + (v[2] | (v[3] << 1)).count_ones())
}

impl OccBlock {
    /// Per word, the low-bit mask of the cells among the first `j` bases of
    /// the block (`j <= 128`): full words, one partial word, then zeros.
    #[inline(always)]
    fn prefix_masks(j: u64) -> &'static [u64; 4] {
        debug_assert!(j <= OCC_INTERVAL);
        &PREFIX_MASKS.0[j as usize]
    }

    /// Counts of A, C, G, T among the first `j` bases of the block (`j <= 128`).
    ///
    /// The indicator bits of one base class sit on the even bits of each
    /// word; two words' indicators are merged (one shifted onto the odd bits)
    /// before counting, so the block needs six popcounts instead of twelve.
    #[inline(always)]
    pub fn count4(&self, j: u64) -> [u64; 4] {
        let m = Self::prefix_masks(j);
        let mut ind = [[0u64; 4]; 3];
        for w in 0..4 {
            let lo = self.bases[w] & m[w];
            let hi = (self.bases[w] >> 1) & m[w];
            ind[0][w] = lo & !hi;
            ind[1][w] = hi & !lo;
            ind[2][w] = lo & hi;
        }
        let n: [u64; 3] = std::array::from_fn(|c| {
            let x = &ind[c];
            ((x[0] | (x[1] << 1)).count_ones() + (x[2] | (x[3] << 1)).count_ones()) as u64
        });
        [
            self.counts[0] + j - n[0] - n[1] - n[2],
            self.counts[1] + n[0],
            self.counts[2] + n[1],
            self.counts[3] + n[2],
        ]
    }

    /// Count of base `c` among the first `j` bases of the block (two
    /// popcounts, words merged in pairs as in [`OccBlock::count4`]).
    #[inline(always)]
    pub fn count(&self, j: u64, c: u8) -> u64 {
        let pattern = LO * c as u64;
        let m = Self::prefix_masks(j);
        let hit: [u64; 4] = std::array::from_fn(|w| {
            let x = self.bases[w] ^ pattern;
            !(x | (x >> 1)) & m[w]
        });
        let n = (hit[0] | (hit[1] << 1)).count_ones() + (hit[2] | (hit[3] << 1)).count_ones();
        self.counts[c as usize] + n as u64
    }

    /// Among the first `j` bases of the block (and all earlier blocks):
    /// the count of base `c`, and the count of bases above `c` (codes
    /// `c + 1..4`), which is what a bi-directional extension by `c` needs
    /// of the other bases. Four popcounts instead of [`OccBlock::count4`]'s
    /// six.
    #[inline(always)]
    pub fn count_and_above(&self, j: u64, c: u8) -> (u64, u64) {
        let m = Self::prefix_masks(j);
        let pattern = LO * c as u64;
        let (mut hit, mut above) = ([0u64; 4], [0u64; 4]);
        for w in 0..4 {
            let b = self.bases[w];
            let x = b ^ pattern;
            hit[w] = !(x | (x >> 1)) & m[w];
            // A cell above `c`: nonzero (c = 0), high bit set (c = 1), both
            // bits set (c = 2); none above 3.
            above[w] = match c {
                0 => (b | (b >> 1)) & m[w],
                1 => (b >> 1) & m[w],
                2 => (b & (b >> 1)) & m[w],
                _ => 0,
            };
        }
        let before: u64 = self.counts[c as usize + 1..].iter().sum();
        (
            self.counts[c as usize] + merged_popcount(&hit),
            before + merged_popcount(&above),
        )
    }

    /// Base at position `i` (< 128) of the block.
    #[inline(always)]
    pub fn base(&self, i: u64) -> u8 {
        ((self.bases[(i >> 5) as usize] >> (2 * (i & 31))) & 3) as u8
    }
}

/// Hints the CPU to load the cache line holding `p` into all cache levels.
/// Never faults, whatever `p` is. A no-op off x86_64.
#[inline(always)]
pub(crate) fn prefetch_line<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint and never faults, even on a bad address.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

impl FmIndex {
    /// Row of the `$`-removed BWT for row `k` (>= 0).
    #[inline(always)]
    fn occ_row(&self, k: u64) -> u64 {
        k - (k >= self.meta.primary) as u64
    }

    #[inline(always)]
    fn block(&self, kp: u64) -> &OccBlock {
        &self.occ_blocks()[(kp / OCC_INTERVAL) as usize]
    }

    /// bwa's `bwt_occ(k, c)`: occurrences of base `c` (0..=3) in BWT rows
    /// `0..=k`, the `$` row not counted; `occ(-1, c) = 0`.
    #[inline]
    pub fn occ(&self, k: i64, c: u8) -> u64 {
        debug_assert!(c < 4 && k >= -1 && k <= self.meta.seq_len as i64);
        if k < 0 {
            return 0;
        }
        let kp = self.occ_row(k as u64);
        self.block(kp).count(kp % OCC_INTERVAL + 1, c)
    }

    /// bwa's `bwt_occ4(k)`: `occ(k, c)` for the four bases at once.
    #[inline(always)]
    pub fn occ4(&self, k: i64) -> [u64; 4] {
        debug_assert!(k >= -1 && k <= self.meta.seq_len as i64);
        if k < 0 {
            return [0; 4];
        }
        let kp = self.occ_row(k as u64);
        self.block(kp).count4(kp % OCC_INTERVAL + 1)
    }

    /// bwa's `bwt_2occ4(k1, k2)`: `(occ4(k1), occ4(k2))`, reading the block
    /// once when both rows fall in it.
    #[inline(always)]
    pub fn occ4_pair(&self, k1: i64, k2: i64) -> ([u64; 4], [u64; 4]) {
        if k1 < 0 || k2 < 0 {
            return (self.occ4(k1), self.occ4(k2));
        }
        let (p1, p2) = (self.occ_row(k1 as u64), self.occ_row(k2 as u64));
        if p1 / OCC_INTERVAL == p2 / OCC_INTERVAL {
            let b = self.block(p1);
            (
                b.count4(p1 % OCC_INTERVAL + 1),
                b.count4(p2 % OCC_INTERVAL + 1),
            )
        } else {
            (
                self.block(p1).count4(p1 % OCC_INTERVAL + 1),
                self.block(p2).count4(p2 % OCC_INTERVAL + 1),
            )
        }
    }

    /// `(occ(k, c), occ of the bases above c at k)`; `(0, 0)` for `k = -1`.
    #[inline(always)]
    fn occ_above(&self, k: i64, c: u8) -> (u64, u64) {
        if k < 0 {
            return (0, 0);
        }
        let kp = self.occ_row(k as u64);
        self.block(kp).count_and_above(kp % OCC_INTERVAL + 1, c)
    }

    /// [`FmIndex::occ_above`] for rows `k1` and `k2`, reading the block
    /// once when both rows fall in it. (No closures here: a closure would
    /// not inherit the POPCNT target feature of `extend1_popcnt`.)
    #[inline(always)]
    pub fn occ_above_pair(&self, k1: i64, k2: i64, c: u8) -> ((u64, u64), (u64, u64)) {
        if k1 < 0 || k2 < 0 {
            return (self.occ_above(k1, c), self.occ_above(k2, c));
        }
        let (p1, p2) = (self.occ_row(k1 as u64), self.occ_row(k2 as u64));
        if p1 / OCC_INTERVAL == p2 / OCC_INTERVAL {
            let b = self.block(p1);
            (
                b.count_and_above(p1 % OCC_INTERVAL + 1, c),
                b.count_and_above(p2 % OCC_INTERVAL + 1, c),
            )
        } else {
            (self.occ_above(k1, c), self.occ_above(k2, c))
        }
    }

    /// BWT character of row `k` (0..=3), or `None` for the `$` row (`primary`).
    #[inline]
    pub fn bwt_char(&self, k: u64) -> Option<u8> {
        if k == self.meta.primary {
            return None;
        }
        let kp = self.occ_row(k);
        Some(self.block(kp).base(kp % OCC_INTERVAL))
    }

    /// LF mapping (bwa's `bwt_invPsi`): the row of the suffix one position
    /// to the left; `LF(primary) = 0`.
    #[inline(always)]
    pub fn lf(&self, k: u64) -> u64 {
        if k == self.meta.primary {
            return 0;
        }
        let kp = self.occ_row(k);
        let b = self.block(kp);
        let c = b.base(kp % OCC_INTERVAL);
        self.meta.l2[c as usize] + b.count(kp % OCC_INTERVAL + 1, c)
    }

    /// Hints the CPU to load the occurrence block of row `k` (any `k`,
    /// including -1; out-of-range rows are ignored). A no-op off x86_64.
    #[inline(always)]
    pub fn prefetch(&self, k: i64) {
        if k >= 0 && (k as u64) <= self.meta.seq_len {
            self.prefetch_row(k as u64);
        }
    }

    /// [`FmIndex::prefetch`] for a row known to be in `0..=seq_len`.
    #[inline(always)]
    pub fn prefetch_row(&self, k: u64) {
        debug_assert!(k <= self.meta.seq_len);
        let kp = self.occ_row(k);
        prefetch_line(
            self.occ_blocks()
                .as_ptr()
                .wrapping_add((kp / OCC_INTERVAL) as usize),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_counts_match_naive() {
        let bases: Vec<u8> = (0..128u32).map(|i| ((i * 7 + i / 5) % 4) as u8).collect();
        let mut b = OccBlock {
            counts: [5, 6, 7, 8],
            bases: [0; 4],
        };
        for (i, &c) in bases.iter().enumerate() {
            b.bases[i / 32] |= (c as u64) << (2 * (i % 32));
        }
        for j in 0..=128u64 {
            let mut want = b.counts;
            for &c in &bases[..j as usize] {
                want[c as usize] += 1;
            }
            assert_eq!(b.count4(j), want, "j={j}");
            for c in 0..4u8 {
                assert_eq!(b.count(j, c), want[c as usize]);
            }
        }
        for (i, &c) in bases.iter().enumerate() {
            assert_eq!(b.base(i as u64), c);
        }
        for j in 0..=128u64 {
            let all = b.count4(j);
            for c in 0..4u8 {
                let above: u64 = all[c as usize + 1..].iter().sum();
                assert_eq!(
                    b.count_and_above(j, c),
                    (all[c as usize], above),
                    "j={j} c={c}"
                );
            }
        }
    }
}
