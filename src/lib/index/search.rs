//! Searching the FM-index: bi-directional intervals (bwa's `bwtintv_t` and
//! `bwt_extend`), plain backward search and locating a row (`bwt_sa`).
//! Nothing here allocates.

use super::FmIndex;

/// A bi-directional SA interval, bwa's `bwtintv_t`.
///
/// `x[0]`: first row of the pattern P; `x[1]`: first row of the reverse
/// complement of P; `x[2]`: number of rows (occurrences); `info`: query span,
/// `start << 32 | end` (end exclusive), set by the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BiInterval {
    pub x: [u64; 3],
    pub info: u64,
}

impl BiInterval {
    /// Number of occurrences, `x[2]`.
    #[inline]
    pub fn size(&self) -> u64 {
        self.x[2]
    }
}

impl FmIndex {
    /// bwa's `bwt_set_intv`: the interval of the one-base pattern `c`
    /// (0..=3), `info` = 0.
    #[inline]
    pub fn init_interval(&self, c: u8) -> BiInterval {
        debug_assert!(c < 4);
        let l2 = &self.meta.l2;
        let c = c as usize;
        BiInterval {
            x: [l2[c] + 1, l2[3 - c] + 1, l2[c + 1] - l2[c]],
            info: 0,
        }
    }

    /// bwa's `bwt_extend`: the four one-base extensions of `ik`.
    ///
    /// With `is_back = true`, `result[c]` is the interval of `cP` (backward
    /// extension by base `c`); with `is_back = false`, `result[3 - c]` is the
    /// interval of `Pc` (forward extension by `c`). `info` of the results is
    /// left 0, as bwa leaves it to the caller.
    #[inline]
    pub fn extend(&self, ik: &BiInterval, is_back: bool) -> [BiInterval; 4] {
        if self.hw_popcnt() {
            self.extend_with::<true>(ik, is_back)
        } else {
            self.extend_with::<false>(ik, is_back)
        }
    }

    /// [`FmIndex::extend`] for any CPU; the reference the POPCNT path is
    /// tested against.
    pub fn extend_portable(&self, ik: &BiInterval, is_back: bool) -> [BiInterval; 4] {
        self.extend_with::<false>(ik, is_back)
    }

    /// [`FmIndex::extend`], counting with POPCNT when `HW` (see
    /// [`super::occ::ones`]).
    #[inline(always)]
    pub(crate) fn extend_with<const HW: bool>(
        &self,
        ik: &BiInterval,
        is_back: bool,
    ) -> [BiInterval; 4] {
        // `fwd` is bwa's `x[!is_back]` (the coordinate found by LF from the
        // occurrence counts), `bwd` its `x[is_back]` (derived by ordering).
        let (fwd, bwd) = if is_back { (0, 1) } else { (1, 0) };
        let y = ik.x[fwd];
        let (tk, tl) = self.occ4_pair_with::<HW>(y as i64 - 1, (y + ik.x[2]) as i64 - 1);
        let mut ok = [BiInterval::default(); 4];
        for (c, o) in ok.iter_mut().enumerate() {
            o.x[fwd] = self.meta.l2[c] + 1 + tk[c];
            o.x[2] = tl[c] - tk[c];
        }
        let primary = self.meta.primary;
        let holds_primary = y <= primary && y + ik.x[2] > primary;
        ok[3].x[bwd] = ik.x[bwd] + holds_primary as u64;
        ok[2].x[bwd] = ok[3].x[bwd] + ok[3].x[2];
        ok[1].x[bwd] = ok[2].x[bwd] + ok[2].x[2];
        ok[0].x[bwd] = ok[1].x[bwd] + ok[1].x[2];
        ok
    }

    /// One of [`FmIndex::extend`]'s four results: the interval of `cP`
    /// (`is_back`) or, for the complement `c` of the base added, of `Pc`;
    /// that is `extend(ik, is_back)[c]`, with fewer counts.
    #[inline(always)]
    pub fn extend1(&self, ik: &BiInterval, is_back: bool, c: u8) -> BiInterval {
        if self.hw_popcnt() {
            self.extend1_with::<true>(ik, is_back, c)
        } else {
            self.extend1_with::<false>(ik, is_back, c)
        }
    }

    /// [`FmIndex::extend1`] for any CPU.
    pub fn extend1_portable(&self, ik: &BiInterval, is_back: bool, c: u8) -> BiInterval {
        self.extend1_with::<false>(ik, is_back, c)
    }

    /// [`FmIndex::extend1`], counting with POPCNT when `HW`.
    #[inline(always)]
    pub(crate) fn extend1_with<const HW: bool>(
        &self,
        ik: &BiInterval,
        is_back: bool,
        c: u8,
    ) -> BiInterval {
        debug_assert!(c < 4);
        let (fwd, bwd) = if is_back { (0, 1) } else { (1, 0) };
        let y = ik.x[fwd];
        let ((tk, gk), (tl, gl)) =
            self.occ_above_pair::<HW>(y as i64 - 1, (y + ik.x[2]) as i64 - 1, c);
        let primary = self.meta.primary;
        let holds_primary = y <= primary && y + ik.x[2] > primary;
        let mut o = BiInterval::default();
        o.x[fwd] = self.meta.l2[c as usize] + 1 + tk;
        o.x[2] = tl - tk;
        // The intervals of the bases above `c` come first on the other strand.
        o.x[bwd] = ik.x[bwd] + holds_primary as u64 + (gl - gk);
        o
    }

    /// Hints the CPU to load the occurrence blocks that
    /// `extend(ik, is_back)` reads; changes nothing else.
    #[inline(always)]
    pub fn prefetch_extend(&self, ik: &BiInterval, is_back: bool) {
        let y = ik.x[if is_back { 0 } else { 1 }];
        self.prefetch(y as i64 - 1);
        self.prefetch((y + ik.x[2]) as i64 - 1);
    }

    /// bwa's `bwt_match_exact`: the inclusive row range `(lo, hi)` of the
    /// pattern (codes 0..=3), or `None` when it does not occur or holds a
    /// code above 3. The empty pattern matches every row, `(0, n)`.
    pub fn backward_search(&self, pattern: &[u8]) -> Option<(u64, u64)> {
        let (mut k, mut l) = (0u64, self.meta.seq_len);
        for &c in pattern.iter().rev() {
            if c > 3 {
                return None;
            }
            let ok = self.occ(k as i64 - 1, c);
            let ol = self.occ(l as i64, c);
            k = self.meta.l2[c as usize] + ok + 1;
            l = self.meta.l2[c as usize] + ol;
            if k > l {
                return None;
            }
        }
        Some((k, l))
    }

    /// bwa's `bwt_sa(row)`: the position in the text `X` (forward +
    /// reverse complement, `[0, 2L)`) of the suffix at `row`. Walks LF until
    /// a sampled row (every `sa_intv()` rows). Row 0 (the `$` suffix) gives
    /// `n`, where bwa gives `u64::MAX`; no interval of a non-empty pattern
    /// holds row 0.
    #[inline]
    pub fn sa(&self, row: u64) -> u64 {
        if self.hw_popcnt() {
            self.sa_with::<true>(row)
        } else {
            self.sa_with::<false>(row)
        }
    }

    /// [`FmIndex::sa`] for any CPU; the reference the POPCNT path is tested
    /// against.
    pub fn sa_portable(&self, row: u64) -> u64 {
        self.sa_with::<false>(row)
    }

    #[inline(always)]
    fn sa_with<const HW: bool>(&self, row: u64) -> u64 {
        debug_assert!(row <= self.meta.seq_len);
        let (mut k, mut steps) = (row, 0u64);
        loop {
            match self.locate_step_with::<HW>(k) {
                Ok(pos) => return pos + steps,
                Err(next) => {
                    k = next;
                    steps += 1;
                }
            }
        }
    }

    /// `out[i] = sa(rows[i])` for every `i` (`rows` and `out` of equal
    /// length). The LF walks of up to [`SA_LANES`] rows advance in turn,
    /// each step prefetching the block (or SA sample) the walk reads next,
    /// so the cache misses of independent walks overlap instead of queueing.
    pub fn sa_many(&self, rows: &[u64], out: &mut [u64]) {
        if self.hw_popcnt() {
            self.sa_many_with::<true>(rows, out)
        } else {
            self.sa_many_with::<false>(rows, out)
        }
    }

    /// [`FmIndex::sa_many`] for any CPU.
    pub fn sa_many_portable(&self, rows: &[u64], out: &mut [u64]) {
        self.sa_many_with::<false>(rows, out)
    }

    fn sa_many_with<const HW: bool>(&self, rows: &[u64], out: &mut [u64]) {
        assert_eq!(
            rows.len(),
            out.len(),
            "sa_many: rows and out differ in length"
        );
        let mask = self.meta.sa_intv - 1;
        // A walk in flight: current row, LF steps taken, index into `out`.
        let mut lanes = [(0u64, 0u64, 0usize); SA_LANES];
        let mut active = 0;
        let mut next = 0;
        loop {
            while active < SA_LANES && next < rows.len() {
                let k = rows[next];
                debug_assert!(k <= self.meta.seq_len);
                self.prefetch_walk(k, mask);
                lanes[active] = (k, 0, next);
                active += 1;
                next += 1;
            }
            if active == 0 {
                return;
            }
            let mut j = 0;
            while j < active {
                let (k, steps, at) = lanes[j];
                match self.locate_step_with::<HW>(k) {
                    Ok(pos) => {
                        out[at] = pos + steps;
                        active -= 1;
                        lanes[j] = lanes[active];
                    }
                    Err(k) => {
                        self.prefetch_walk(k, mask);
                        lanes[j] = (k, steps + 1, at);
                        j += 1;
                    }
                }
            }
        }
    }

    /// One step of [`FmIndex::sa`]'s walk from `row`: `Ok(pos)` when the
    /// row is sampled (or the `$` row's neighbour), else `Err(lf(row))`.
    #[inline(always)]
    pub fn locate_step(&self, row: u64) -> Result<u64, u64> {
        if self.hw_popcnt() {
            self.locate_step_with::<true>(row)
        } else {
            self.locate_step_with::<false>(row)
        }
    }

    #[inline(always)]
    fn locate_step_with<const HW: bool>(&self, row: u64) -> Result<u64, u64> {
        if row & (self.meta.sa_intv - 1) == 0 {
            Ok(self.sa_sample((row / self.meta.sa_intv) as usize))
        } else if row == self.meta.primary {
            Ok(0)
        } else {
            Err(self.lf_with::<HW>(row))
        }
    }

    /// Hints the CPU to load what `locate_step(row)` reads.
    #[inline(always)]
    pub fn prefetch_locate(&self, row: u64) {
        self.prefetch_walk(row, self.meta.sa_intv - 1)
    }

    /// Prefetches what the next step of an SA walk at row `k` reads: the SA
    /// sample when `k` is sampled, else its occurrence block.
    #[inline(always)]
    fn prefetch_walk(&self, k: u64, mask: u64) {
        if k & mask == 0 {
            self.prefetch_sa_sample((k / self.meta.sa_intv) as usize);
        } else {
            self.prefetch_row(k);
        }
    }
}

/// How many SA walks [`FmIndex::sa_many`] keeps in flight.
pub const SA_LANES: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A FASTA record of `seq` (codes 0..=3, 4 = N) split over lines.
    fn fasta(seq: &[u8]) -> String {
        let mut s = String::from(">t\n");
        for line in seq.chunks(60) {
            s.extend(line.iter().map(|&c| b"ACGTN"[c as usize] as char));
            s.push('\n');
        }
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// The batched SA lookup gives, row for row, what one-at-a-time
        /// lookups give, for any sampling interval and any row list
        /// (repeats, the `$` row and the last row included).
        #[test]
        fn sa_many_matches_sa(
            seq in prop::collection::vec(prop_oneof![20 => 0u8..4, 1 => Just(4u8)], 1..400),
            log_intv in 0u32..6,
            picks in prop::collection::vec(any::<u64>(), 0..40),
        ) {
            let idx = FmIndex::from_fasta_bytes(fasta(&seq).as_bytes(), 1 << log_intv).unwrap();
            let n = idx.seq_len();
            let mut rows: Vec<u64> = picks.iter().map(|&p| p % (n + 1)).collect();
            rows.extend([0, n, idx.primary()]);
            let want: Vec<u64> = rows.iter().map(|&r| idx.sa_portable(r)).collect();
            let mut out = vec![u64::MAX; rows.len()];
            idx.sa_many(&rows, &mut out);
            prop_assert_eq!(&out, &want);
            out.fill(u64::MAX);
            idx.sa_many_portable(&rows, &mut out);
            prop_assert_eq!(&out, &want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        /// The POPCNT path gives what the portable code gives, for every row
        /// and for intervals of every start and size (on a CPU without POPCNT
        /// both are the portable code and the test compares it with itself).
        #[test]
        fn popcnt_path_matches_portable(
            seq in prop::collection::vec(prop_oneof![20 => 0u8..4, 1 => Just(4u8)], 1..700),
        ) {
            let idx = FmIndex::from_fasta_bytes(fasta(&seq).as_bytes(), 8).unwrap();
            let mut portable = FmIndex::from_fasta_bytes(fasta(&seq).as_bytes(), 8).unwrap();
            portable.force_portable();
            #[cfg(target_arch = "x86_64")]
            prop_assert_eq!(idx.hw_popcnt(), std::arch::is_x86_feature_detected!("popcnt"));
            let n = idx.seq_len();
            for r in 0..=n {
                prop_assert_eq!(idx.sa(r), portable.sa(r));
                prop_assert_eq!(idx.sa(r), idx.sa_portable(r));
                prop_assert_eq!(idx.occ4(r as i64), portable.occ4(r as i64));
                prop_assert_eq!(idx.lf(r), portable.lf(r));
            }
            let rows: Vec<u64> = (0..=n).chain((0..=n).rev().step_by(3)).collect();
            let mut out = vec![u64::MAX; rows.len()];
            idx.sa_many(&rows, &mut out);
            let want: Vec<u64> = rows.iter().map(|&r| idx.sa_portable(r)).collect();
            prop_assert_eq!(&out, &want);
            for start in 0..=n {
                for size in [0, 1, 2, 7, 130, n] {
                    let size = size.min(n + 1 - start);
                    let ik = BiInterval { x: [start, start, size], info: 0 };
                    for back in [false, true] {
                        prop_assert_eq!(idx.extend(&ik, back), portable.extend(&ik, back));
                        prop_assert_eq!(idx.extend(&ik, back), idx.extend_portable(&ik, back));
                        for c in 0..4 {
                            prop_assert_eq!(idx.extend1(&ik, back, c), portable.extend1(&ik, back, c));
                        }
                    }
                }
            }
        }
    }
}
