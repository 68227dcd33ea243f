//! Small primitives whose exact behaviour decides bwa's tie-breaking:
//! bwa's unstable introsort (`ksort.h`) and Thomas Wang's 64-bit hash
//! (`utils.h: hash_64`). Output identical to bwa needs these exactly;
//! a stable sort or another hash picks other primaries and duplicates.

/// Thomas Wang's 64-bit integer hash, as bwa uses it to break score ties.
#[inline]
pub fn hash_64(key: u64) -> u64 {
    let mut k = key;
    k = k.wrapping_add(!(k << 32));
    k ^= k >> 22;
    k = k.wrapping_add(!(k << 13));
    k ^= k >> 8;
    k = k.wrapping_add(k << 3);
    k ^= k >> 15;
    k = k.wrapping_add(!(k << 27));
    k ^= k >> 31;
    k
}

/// Whether `ends` (exclusive end offsets of consecutive runs in a flat
/// buffer) never decreases and its last entry is exactly `len` (0 when
/// `ends` is empty), so every run lies inside `0..len`. Checked when a
/// structure-of-arrays batch comes from outside.
pub fn ends_ok<T: Copy + Into<u64>>(ends: &[T], len: usize) -> bool {
    let mut prev = 0u64;
    for &e in ends {
        let e = e.into();
        if e < prev {
            return false;
        }
        prev = e;
    }
    prev == len as u64
}

/// Sorts `a` with bwa's introsort (`ks_introsort` from `ksort.h`), an
/// unstable sort: elements that compare equal end in the same order as bwa
/// leaves them, which decides which of several equal hits bwa keeps.
/// `lt(x, y)` must be a strict "less than".
pub fn ks_introsort<T: Copy, F: FnMut(&T, &T) -> bool>(a: &mut [T], mut lt: F) {
    let n = a.len();
    if n < 2 {
        return;
    }
    if n == 2 {
        if lt(&a[1], &a[0]) {
            a.swap(0, 1);
        }
        return;
    }
    let mut d = 2u32;
    while (1usize << d) < n {
        d += 1;
    }
    let mut stack: Vec<(usize, usize, u32)> = Vec::with_capacity(2 * d as usize + 2);
    let (mut s, mut t, mut depth) = (0usize, n - 1, 2 * d);
    loop {
        if s < t {
            depth -= 1;
            if depth == 0 {
                comb_sort(&mut a[s..=t], &mut lt);
                t = s;
                continue;
            }
            let mut k = s + ((t - s) >> 1) + 1;
            if lt(&a[k], &a[s]) {
                if lt(&a[k], &a[t]) {
                    k = t;
                }
            } else {
                k = if lt(&a[t], &a[s]) { s } else { t };
            }
            let rp = a[k];
            if k != t {
                a.swap(k, t);
            }
            // Partition. Both scans pre-increment as in ksort.h, so the
            // first element of the range is never looked at by the `i` scan
            // before the first step; a[t] == rp stops the `i` scan.
            let mut ii = s as isize;
            let mut jj = t as isize;
            loop {
                loop {
                    ii += 1;
                    if !lt(&a[ii as usize], &rp) {
                        break;
                    }
                }
                loop {
                    jj -= 1;
                    if !(ii <= jj && lt(&rp, &a[jj as usize])) {
                        break;
                    }
                }
                if jj <= ii {
                    break;
                }
                a.swap(ii as usize, jj as usize);
            }
            let i = ii as usize;
            a.swap(i, t);
            if i - s > t - i {
                if i - s > 16 {
                    stack.push((s, i - 1, depth));
                }
                s = if t - i > 16 { i + 1 } else { t };
            } else {
                if t - i > 16 {
                    stack.push((i + 1, t, depth));
                }
                t = if i - s > 16 { i - 1 } else { s };
            }
        } else if let Some((ps, pt, pd)) = stack.pop() {
            s = ps;
            t = pt;
            depth = pd;
        } else {
            insertion_sort(a, &mut lt);
            return;
        }
    }
}

fn insertion_sort<T: Copy, F: FnMut(&T, &T) -> bool>(a: &mut [T], lt: &mut F) {
    for i in 1..a.len() {
        let mut j = i;
        while j > 0 && lt(&a[j], &a[j - 1]) {
            a.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn comb_sort<T: Copy, F: FnMut(&T, &T) -> bool>(a: &mut [T], lt: &mut F) {
    const SHRINK: f64 = 1.247_330_950_103_979;
    let n = a.len();
    let mut gap = n;
    loop {
        if gap > 2 {
            gap = (gap as f64 / SHRINK) as usize;
            if gap == 9 || gap == 10 {
                gap = 11;
            }
        }
        let mut swapped = false;
        for i in 0..n.saturating_sub(gap) {
            if lt(&a[i + gap], &a[i]) {
                a.swap(i, i + gap);
                swapped = true;
            }
        }
        if !(swapped || gap > 2) {
            break;
        }
    }
    if gap != 1 {
        insertion_sort(a, lt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hash_64_known_values() {
        // Values computed from the C definition in bwa's utils.h.
        assert_eq!(hash_64(0), 0x6a39_6cd3_9c35_2659);
        assert_eq!(hash_64(1), 0x2035_3c45_b09b_c659);
    }

    /// Inputs and the permutations bwa's own `ks_introsort` produced for
    /// them (random keys with heavy ties, runs, and a depth-budget killer),
    /// recorded once with bwa's ksort.h; each line pair is `n keys...` then
    /// the original indices in sorted order.
    #[test]
    fn introsort_matches_bwa_tie_order() {
        let text = include_str!("../../tests/data/ks_introsort_cases.txt");
        let mut lines = text.lines().skip(1);
        let mut checked = 0;
        while let (Some(input), Some(expect)) = (lines.next(), lines.next()) {
            let keys: Vec<i32> = input
                .split_whitespace()
                .skip(1)
                .map(|x| x.parse().expect("fixture is numeric"))
                .collect();
            let mut v: Vec<(i32, usize)> = keys.iter().copied().zip(0..).collect();
            ks_introsort(&mut v, |a, b| a.0 < b.0);
            let got: Vec<String> = v.iter().map(|x| x.1.to_string()).collect();
            assert_eq!(got.join(" "), expect.trim(), "case {checked}");
            checked += 1;
        }
        assert_eq!(checked, 57);
    }

    proptest! {
        #[test]
        fn introsort_sorts_like_any_sort(mut v in proptest::collection::vec(0u8..6, 0..200)) {
            let mut expected = v.clone();
            expected.sort();
            ks_introsort(&mut v, |a, b| a < b);
            prop_assert_eq!(v, expected);
        }

        #[test]
        fn introsort_keeps_all_elements_under_ties(v in proptest::collection::vec((0u8..4, 0u16..1000), 0..300)) {
            let mut sorted = v.clone();
            ks_introsort(&mut sorted, |a, b| a.0 < b.0);
            prop_assert!(sorted.windows(2).all(|w| w[0].0 <= w[1].0));
            let mut x = sorted.clone();
            let mut y = v.clone();
            x.sort();
            y.sort();
            prop_assert_eq!(x, y);
        }
    }
}
