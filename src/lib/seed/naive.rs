//! A naive bi-directional index for tests: the text bwa indexes (forward
//! sequence then its reverse complement, spec §2.4), its suffix array built
//! by sorting suffixes, and per-row occurrence counts. `extend` applies
//! bwa's `bwt_extend` formula to these counts, including the `primary` test
//! in the other coordinate; `definition` gives an interval straight from its
//! meaning. A test checks that the two agree, empty intervals included.

use super::{BiIndex, BiInterval};

pub(crate) struct NaiveBiIndex {
    /// `X`: forward + reverse complement, codes 0..=3.
    text: Vec<u8>,
    /// Rows 0..=n: start of each sorted suffix of `X$`; row 0 is `$`.
    sa: Vec<usize>,
    /// `occ_before[r][c]`: number of `c` in BWT rows `0..r` (the `$` not
    /// counted); n + 2 entries.
    occ_before: Vec<[u64; 4]>,
    /// bwa's `L2`: `l2[c]` = number of bases smaller than `c` in `X`.
    l2: [u64; 5],
    /// The row whose BWT character is `$` (`SA = 0`).
    primary: u64,
    /// Whether seeding may read the text ([`BiIndex::text_len`]), so that
    /// tests cover both ways of following a single occurrence.
    with_text: bool,
}

pub(crate) fn revcomp(p: &[u8]) -> Vec<u8> {
    p.iter().rev().map(|&c| 3 - c).collect()
}

impl NaiveBiIndex {
    /// Index of `forward` (codes 0..=3) and its reverse complement.
    pub(crate) fn new(forward: &[u8]) -> Self {
        assert!(forward.iter().all(|&c| c < 4));
        let mut text = forward.to_vec();
        text.extend(revcomp(forward));
        let n = text.len();
        let mut sa: Vec<usize> = (0..=n).collect();
        // Slice order puts a proper prefix first: `$` is the smallest.
        sa.sort_by(|&a, &b| text[a..].cmp(&text[b..]));
        let mut occ_before = Vec::with_capacity(n + 2);
        let mut counts = [0u64; 4];
        occ_before.push(counts);
        let mut primary = 0;
        for (row, &s) in sa.iter().enumerate() {
            if s == 0 {
                primary = row as u64;
            } else {
                counts[text[s - 1] as usize] += 1;
            }
            occ_before.push(counts);
        }
        let mut l2 = [0u64; 5];
        for c in 0..4 {
            l2[c + 1] = l2[c] + counts[c];
        }
        NaiveBiIndex {
            text,
            sa,
            occ_before,
            l2,
            primary,
            with_text: true,
        }
    }

    /// The same index, hiding its text from seeding.
    pub(crate) fn without_text(mut self) -> Self {
        self.with_text = false;
        self
    }

    pub(crate) fn text(&self) -> &[u8] {
        &self.text
    }

    /// First row whose suffix is not smaller than `p` (the first row of
    /// `p` when it occurs).
    fn lower_bound(&self, p: &[u8]) -> u64 {
        self.sa.partition_point(|&s| &self.text[s..] < p) as u64
    }

    /// Number of occurrences of `p` in the text.
    pub(crate) fn count(&self, p: &[u8]) -> u64 {
        let lo = self.lower_bound(p);
        let hi = self
            .sa
            .partition_point(|&s| &self.text[s..] < p || self.text[s..].starts_with(p));
        hi as u64 - lo
    }

    /// The interval of `p` by definition: first row of `p`, first row of
    /// its reverse complement, number of occurrences (`info` 0).
    pub(crate) fn definition(&self, p: &[u8]) -> BiInterval {
        BiInterval {
            x: [
                self.lower_bound(p),
                self.lower_bound(&revcomp(p)),
                self.count(p),
            ],
            info: 0,
        }
    }
}

impl BiIndex for NaiveBiIndex {
    fn init_interval(&self, c: u8) -> BiInterval {
        let c = c as usize;
        BiInterval {
            x: [
                self.l2[c] + 1,
                self.l2[3 - c] + 1,
                self.l2[c + 1] - self.l2[c],
            ],
            info: 0,
        }
    }

    fn extend(&self, ik: &BiInterval, is_back: bool) -> [BiInterval; 4] {
        let (fw, bw) = if is_back { (0, 1) } else { (1, 0) };
        // `fw` is bwa's `!is_back` coordinate, counted with occ; `bw` the
        // other one, laid out from ik's by cumulative sizes.
        let y = ik.x[fw];
        let tk = self.occ_before[y as usize];
        let tl = self.occ_before[(y + ik.x[2]) as usize];
        let mut ok = [BiInterval::default(); 4];
        for c in 0..4 {
            ok[c].x[fw] = self.l2[c] + 1 + tk[c];
            ok[c].x[2] = tl[c] - tk[c];
        }
        let has_primary = y <= self.primary && y + ik.x[2] > self.primary;
        ok[3].x[bw] = ik.x[bw] + has_primary as u64;
        ok[2].x[bw] = ok[3].x[bw] + ok[3].x[2];
        ok[1].x[bw] = ok[2].x[bw] + ok[2].x[2];
        ok[0].x[bw] = ok[1].x[bw] + ok[1].x[2];
        ok
    }

    fn text_len(&self) -> Option<u64> {
        self.with_text.then_some(self.text.len() as u64)
    }

    fn text_base(&self, pos: u64) -> u8 {
        self.text[pos as usize]
    }

    fn locate_step(&self, row: u64) -> Result<u64, u64> {
        Ok(self.sa[row as usize] as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tiny_text_rows_by_hand() {
        // X = AC + GT = "ACGT"; suffixes of ACGT$: $, ACGT$, CGT$, GT$, T$.
        let idx = NaiveBiIndex::new(&[0, 1]);
        assert_eq!(idx.text(), &[0, 1, 2, 3]);
        assert_eq!(idx.primary, 1);
        assert_eq!(idx.l2, [0, 1, 2, 3, 4]);
        assert_eq!(idx.definition(&[1, 2]).x, [2, 2, 1]);
        assert_eq!(idx.definition(&[0, 0]).x, [1, 5, 0]);
        assert_eq!(idx.init_interval(2).x, [3, 2, 1]);
    }

    /// Walks one pattern outwards from a single base, by random directions
    /// and bases, and checks every interval `extend` gives against the
    /// definition.
    fn walk_agrees(forward: &[u8], steps: &[(bool, u8)], first: u8) {
        let idx = NaiveBiIndex::new(forward);
        let mut p = vec![first];
        let mut ik = idx.init_interval(first);
        assert_eq!(ik, idx.definition(&p), "init {first}");
        for &(is_back, c) in steps {
            let ok = idx.extend(&ik, is_back);
            for b in 0..4u8 {
                let q = if is_back {
                    let mut q = vec![b];
                    q.extend_from_slice(&p);
                    q
                } else {
                    let mut q = p.clone();
                    q.push(3 - b);
                    q
                };
                assert_eq!(ok[b as usize], idx.definition(&q), "{q:?}");
            }
            ik = ok[c as usize];
            if is_back {
                p.insert(0, c);
            } else {
                p.push(3 - c);
            }
        }
    }

    proptest! {
        #[test]
        fn extend_agrees_with_definition(
            forward in proptest::collection::vec(0u8..4, 1..60),
            first in 0u8..4,
            steps in proptest::collection::vec((any::<bool>(), 0u8..4), 0..12),
        ) {
            walk_agrees(&forward, &steps, first);
        }

        #[test]
        fn extend_agrees_on_repeats(
            unit in proptest::collection::vec(0u8..2, 1..5),
            reps in 1usize..12,
            first in 0u8..2,
            steps in proptest::collection::vec((any::<bool>(), 0u8..4), 0..12),
        ) {
            // Few distinct bases and many repeats: prefixes of X and
            // palindromes, where the `primary` row matters.
            let forward: Vec<u8> = unit.iter().cycle().take(unit.len() * reps).copied().collect();
            walk_agrees(&forward, &steps, first);
        }
    }
}
