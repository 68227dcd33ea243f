//! Per-read (or per-chain) offset lists: entry `i` is the exclusive end of
//! item `i`'s run in a flat vector; item `i` starts where item `i - 1` ends
//! (item 0 at 0).

use std::ops::Range;

/// The run of item `i`. Panics if `i >= ends.len()`.
#[inline]
pub(crate) fn range(ends: &[u64], i: usize) -> Range<usize> {
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    start..ends[i] as usize
}

pub(crate) use crate::util::ends_ok;

/// Whether all lengths equal the first one.
pub(crate) fn same_len(lens: &[usize]) -> bool {
    lens.windows(2).all(|w| w[0] == w[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_checks() {
        assert!(ends_ok::<u64>(&[], 0));
        assert!(!ends_ok::<u64>(&[], 1));
        assert!(ends_ok(&[0u64, 2, 2, 5], 5));
        assert!(!ends_ok(&[0u64, 3, 2, 5], 5));
        assert!(!ends_ok(&[0u64, 2, 4], 5));
        assert!(!ends_ok(&[0u64, 2, 6], 5));
        assert_eq!(range(&[0, 2, 2, 5], 0), 0..0);
        assert_eq!(range(&[0, 2, 2, 5], 1), 0..2);
        assert_eq!(range(&[0, 2, 2, 5], 3), 2..5);
        assert!(same_len(&[]));
        assert!(same_len(&[3, 3]));
        assert!(!same_len(&[3, 2]));
    }
}
