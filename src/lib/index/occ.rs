//! Occurrence counting over the BWT (spec §2.7): `occ`, `occ4`, the pair
//! variant `bwt_extend` needs, LF, and a prefetch hint.
//!
//! The BWT with `$` removed (length `n`) is stored in 64-byte blocks of 128
//! characters: four cumulative `u64` counts (A, C, G, T in all earlier
//! blocks), then the characters as two bit planes: two words of their low
//! bits and two of their high bits, character `i` of the block at bit
//! `i % 64` of word `i / 64`. A query for row `k` looks at row
//! `k' = k - (k >= primary)` of the `$`-removed string: one cache line, a
//! few word operations and popcounts per base class.
//!
//! The counting functions take `HW`: whether to count bits with the POPCNT
//! instruction ([`ones`]). They are private to the crate and instantiated
//! with `HW = true` only by [`FmIndex`], which checks the CPU once when it
//! opens; so that the whole extension inlines into the seeding loops, which
//! a `#[target_feature]` function could not.

use super::FmIndex;

/// Characters per occurrence block.
pub const OCC_INTERVAL: u64 = 128;

/// One cache line of the occurrence table.
#[repr(C, align(64))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OccBlock {
    /// Occurrences of A, C, G, T before this block.
    pub counts: [u64; 4],
    /// Low bits of the block's 128 characters, character `i` at bit
    /// `i % 64` of word `i / 64`.
    pub lo: [u64; 2],
    /// High bits, laid out as `lo`.
    pub hi: [u64; 2],
}

/// `PREFIX_MASKS.0[j]`: per word, the bits of the first `j` characters of
/// a block. A 2 KiB table read costs less than the clamps and variable
/// shifts at every count.
#[repr(C, align(64))]
struct PrefixMasks([[u64; 2]; OCC_INTERVAL as usize + 1]);

static PREFIX_MASKS: PrefixMasks = {
    let mut t = [[0u64; 2]; OCC_INTERVAL as usize + 1];
    let mut j = 0;
    while j <= OCC_INTERVAL as usize {
        let mut w = 0;
        while w < 2 {
            let m = (j as u64).saturating_sub(64 * w as u64);
            t[j][w] = if m >= 64 { !0 } else { (1u64 << m) - 1 };
            w += 1;
        }
        j += 1;
    }
    PrefixMasks(t)
};

/// Per base `c`, the masks that pick its characters out of the planes:
/// XOR the low plane with the first and the high plane with the second,
/// and the characters equal to `c` are where both are set.
const EQ_FLIP: [[u64; 2]; 4] = [[!0, !0], [0, !0], [!0, 0], [0, 0]];

/// Per base `c`, which of `hi`, `lo` and `lo & hi` (all ones or zeros)
/// make up the characters above `c`: codes 1..=3 are `lo | hi`, 2..=3 are
/// `hi`, 3 is `lo & hi`, none are above 3.
const ABOVE: [[u64; 3]; 4] = [[!0, !0, 0], [!0, 0, 0], [0, 0, !0], [0, 0, 0]];

/// Per base `c`, which of the counts of C, G and T (all ones or zeros) are
/// of bases above `c`.
const ABOVE_COUNTS: [[u64; 3]; 4] = [[!0, !0, !0], [0, !0, !0], [0, 0, !0], [0, 0, 0]];

/// Number of set bits of `x`: the POPCNT instruction when `HW`, else
/// `count_ones` (a dozen instructions unless the build targets POPCNT).
/// Inline assembly rather than `_popcnt64`, because the intrinsic would
/// need the target feature on every caller up to the dispatch.
///
/// `HW = true` may only be instantiated where the CPU is known to have
/// POPCNT ([`FmIndex::hw_popcnt`]).
#[inline(always)]
pub(crate) fn ones<const HW: bool>(x: u64) -> u32 {
    #[cfg(all(target_arch = "x86_64", not(target_feature = "popcnt")))]
    if HW {
        let mut n = x;
        // SAFETY: callers only pass HW = true once the CPU was found to
        // have POPCNT. Source and destination are one register, so the
        // false dependency some CPUs have on the destination is a true one.
        unsafe {
            core::arch::asm!("popcnt {n}, {n}", n = inout(reg) n, options(pure, nomem, nostack));
        }
        return n as u32;
    }
    x.count_ones()
}

impl OccBlock {
    /// Per word, the bits of the first `j` characters of the block
    /// (`j <= 128`).
    #[inline(always)]
    fn prefix_masks(j: u64) -> &'static [u64; 2] {
        debug_assert!(j <= OCC_INTERVAL);
        &PREFIX_MASKS.0[j as usize]
    }

    /// Counts of A, C, G, T among the first `j` bases of the block (`j <= 128`).
    #[inline(always)]
    pub fn count4(&self, j: u64) -> [u64; 4] {
        self.count4_with::<false>(j)
    }

    #[inline(always)]
    pub(crate) fn count4_with<const HW: bool>(&self, j: u64) -> [u64; 4] {
        let m = Self::prefix_masks(j);
        let (mut n1, mut n2, mut n3) = (0u32, 0u32, 0u32);
        for (w, &m) in m.iter().enumerate() {
            let (lo, hi) = (self.lo[w] & m, self.hi[w] & m);
            n1 += ones::<HW>(lo & !hi);
            n2 += ones::<HW>(hi & !lo);
            n3 += ones::<HW>(lo & hi);
        }
        let (n1, n2, n3) = (u64::from(n1), u64::from(n2), u64::from(n3));
        [
            self.counts[0] + j - n1 - n2 - n3,
            self.counts[1] + n1,
            self.counts[2] + n2,
            self.counts[3] + n3,
        ]
    }

    /// The characters equal to `c` in word `w`, among the mask `m`.
    #[inline(always)]
    fn equal(&self, w: usize, c: u8, m: u64) -> u64 {
        let f = &EQ_FLIP[c as usize];
        (self.lo[w] ^ f[0]) & (self.hi[w] ^ f[1]) & m
    }

    /// Count of base `c` among the first `j` bases of the block.
    #[inline(always)]
    pub fn count(&self, j: u64, c: u8) -> u64 {
        self.count_with::<false>(j, c)
    }

    #[inline(always)]
    pub(crate) fn count_with<const HW: bool>(&self, j: u64, c: u8) -> u64 {
        let m = Self::prefix_masks(j);
        let n = ones::<HW>(self.equal(0, c, m[0])) + ones::<HW>(self.equal(1, c, m[1]));
        self.counts[c as usize] + u64::from(n)
    }

    /// Among the first `j` bases of the block (and all earlier blocks):
    /// the count of base `c`, and the count of bases above `c` (codes
    /// `c + 1..4`), which is what a bi-directional extension by `c` needs
    /// of the other bases. Four popcounts.
    #[inline(always)]
    pub fn count_and_above(&self, j: u64, c: u8) -> (u64, u64) {
        self.count_and_above_with::<false>(j, c)
    }

    #[inline(always)]
    pub(crate) fn count_and_above_with<const HW: bool>(&self, j: u64, c: u8) -> (u64, u64) {
        let m = Self::prefix_masks(j);
        let a = &ABOVE[c as usize];
        let (mut eq, mut above) = (0u32, 0u32);
        for (w, &m) in m.iter().enumerate() {
            let (lo, hi) = (self.lo[w], self.hi[w]);
            eq += ones::<HW>(self.equal(w, c, m));
            above += ones::<HW>(((hi & a[0]) | (lo & a[1]) | (lo & hi & a[2])) & m);
        }
        let k = &ABOVE_COUNTS[c as usize];
        let before = (self.counts[1] & k[0]) + (self.counts[2] & k[1]) + (self.counts[3] & k[2]);
        (
            self.counts[c as usize] + u64::from(eq),
            before + u64::from(above),
        )
    }

    /// Base at position `i` (< 128) of the block.
    #[inline(always)]
    pub fn base(&self, i: u64) -> u8 {
        let (w, b) = ((i >> 6) as usize, i & 63);
        (((self.lo[w] >> b) & 1) | (((self.hi[w] >> b) & 1) << 1)) as u8
    }

    /// Sets base `i` (< 128) of a block whose base `i` is still 0.
    #[inline(always)]
    pub fn set_base(&mut self, i: u64, c: u8) {
        let (w, b) = ((i >> 6) as usize, i & 63);
        self.lo[w] |= u64::from(c & 1) << b;
        self.hi[w] |= u64::from(c >> 1 & 1) << b;
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
        if self.hw_popcnt() {
            self.occ_with::<true>(k, c)
        } else {
            self.occ_with::<false>(k, c)
        }
    }

    #[inline(always)]
    pub(crate) fn occ_with<const HW: bool>(&self, k: i64, c: u8) -> u64 {
        debug_assert!(c < 4 && k >= -1 && k <= self.meta.seq_len as i64);
        if k < 0 {
            return 0;
        }
        let kp = self.occ_row(k as u64);
        self.block(kp).count_with::<HW>(kp % OCC_INTERVAL + 1, c)
    }

    /// bwa's `bwt_occ4(k)`: `occ(k, c)` for the four bases at once.
    #[inline]
    pub fn occ4(&self, k: i64) -> [u64; 4] {
        if self.hw_popcnt() {
            self.occ4_with::<true>(k)
        } else {
            self.occ4_with::<false>(k)
        }
    }

    #[inline(always)]
    pub(crate) fn occ4_with<const HW: bool>(&self, k: i64) -> [u64; 4] {
        debug_assert!(k >= -1 && k <= self.meta.seq_len as i64);
        if k < 0 {
            return [0; 4];
        }
        let kp = self.occ_row(k as u64);
        self.block(kp).count4_with::<HW>(kp % OCC_INTERVAL + 1)
    }

    /// bwa's `bwt_2occ4(k1, k2)`: `(occ4(k1), occ4(k2))`, reading the block
    /// once when both rows fall in it.
    #[inline]
    pub fn occ4_pair(&self, k1: i64, k2: i64) -> ([u64; 4], [u64; 4]) {
        if self.hw_popcnt() {
            self.occ4_pair_with::<true>(k1, k2)
        } else {
            self.occ4_pair_with::<false>(k1, k2)
        }
    }

    #[inline(always)]
    pub(crate) fn occ4_pair_with<const HW: bool>(&self, k1: i64, k2: i64) -> ([u64; 4], [u64; 4]) {
        if k1 < 0 || k2 < 0 {
            return (self.occ4_with::<HW>(k1), self.occ4_with::<HW>(k2));
        }
        let (p1, p2) = (self.occ_row(k1 as u64), self.occ_row(k2 as u64));
        if p1 / OCC_INTERVAL == p2 / OCC_INTERVAL {
            let b = self.block(p1);
            (
                b.count4_with::<HW>(p1 % OCC_INTERVAL + 1),
                b.count4_with::<HW>(p2 % OCC_INTERVAL + 1),
            )
        } else {
            (
                self.block(p1).count4_with::<HW>(p1 % OCC_INTERVAL + 1),
                self.block(p2).count4_with::<HW>(p2 % OCC_INTERVAL + 1),
            )
        }
    }

    /// `(occ(k, c), occ of the bases above c at k)`; `(0, 0)` for `k = -1`.
    #[inline(always)]
    fn occ_above<const HW: bool>(&self, k: i64, c: u8) -> (u64, u64) {
        if k < 0 {
            return (0, 0);
        }
        let kp = self.occ_row(k as u64);
        self.block(kp)
            .count_and_above_with::<HW>(kp % OCC_INTERVAL + 1, c)
    }

    /// [`FmIndex::occ_above`] for rows `k1` and `k2`, reading the block
    /// once when both rows fall in it.
    #[inline(always)]
    pub(crate) fn occ_above_pair<const HW: bool>(
        &self,
        k1: i64,
        k2: i64,
        c: u8,
    ) -> ((u64, u64), (u64, u64)) {
        if k1 < 0 || k2 < 0 {
            return (self.occ_above::<HW>(k1, c), self.occ_above::<HW>(k2, c));
        }
        let (p1, p2) = (self.occ_row(k1 as u64), self.occ_row(k2 as u64));
        if p1 / OCC_INTERVAL == p2 / OCC_INTERVAL {
            let b = self.block(p1);
            (
                b.count_and_above_with::<HW>(p1 % OCC_INTERVAL + 1, c),
                b.count_and_above_with::<HW>(p2 % OCC_INTERVAL + 1, c),
            )
        } else {
            (self.occ_above::<HW>(k1, c), self.occ_above::<HW>(k2, c))
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
    #[inline]
    pub fn lf(&self, k: u64) -> u64 {
        if self.hw_popcnt() {
            self.lf_with::<true>(k)
        } else {
            self.lf_with::<false>(k)
        }
    }

    #[inline(always)]
    pub(crate) fn lf_with<const HW: bool>(&self, k: u64) -> u64 {
        if k == self.meta.primary {
            return 0;
        }
        let kp = self.occ_row(k);
        let b = self.block(kp);
        let c = b.base(kp % OCC_INTERVAL);
        self.meta.l2[c as usize] + b.count_with::<HW>(kp % OCC_INTERVAL + 1, c)
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
            ..OccBlock::default()
        };
        for (i, &c) in bases.iter().enumerate() {
            b.set_base(i as u64, c);
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
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            for j in 0..=128u64 {
                assert_eq!(b.count4_with::<true>(j), b.count4(j));
                for c in 0..4u8 {
                    assert_eq!(b.count_with::<true>(j, c), b.count(j, c));
                    assert_eq!(
                        b.count_and_above_with::<true>(j, c),
                        b.count_and_above(j, c)
                    );
                }
            }
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
