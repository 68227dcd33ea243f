//! The difference cover that breaks ties between suffixes equal for `v`
//! bases (Kärkkäinen, "Fast BWT in small space by blockwise suffix
//! sorting", 2007): a set `D` of residues mod `v` such that every residue
//! is a difference of two members. For any suffixes `i` and `j` there is
//! then a `δ < v` with `i + δ` and `j + δ` both in the sample
//! `{p : p mod v ∈ D}`, and once their first `v` bases are equal, `i` and
//! `j` compare as their sample suffixes at `+δ` do. Those are ranked once,
//! up front: sorted by their first `v` bases, named, and the string of
//! names suffix-sorted by libsais.
//!
//! `D` is a Wichmann ruler (39 members for `v` = 1,024: the sample is 3.8%
//! of the text, 4 bytes of rank each).

use std::cmp::Ordering;

use libsais::SuffixArrayConstruction;

use super::sort::{self, Domain, SAME};
use super::text::PackedText;
use super::Params;
use crate::index::build::{try_alloc, Progress};
use crate::index::IndexError;

pub struct Cover {
    v: u64,
    members: Vec<u64>,
    /// Per residue: its index in `members`, or `u32::MAX`.
    slot: Vec<u32>,
    /// Per difference `d`: a member `a` with `a + d` (mod `v`) a member.
    from: Vec<u32>,
}

impl Cover {
    /// The smallest Wichmann ruler that covers every residue mod `v` (a
    /// power of two), checked exhaustively.
    pub fn new(v: u64) -> Cover {
        assert!(v.is_power_of_two() && v >= 2);
        let mut best: Option<Vec<u64>> = None;
        for r in 0..=64u64 {
            for s in 0..=v {
                let size = 4 * r + s + 3;
                if best.as_ref().is_some_and(|b| b.len() as u64 <= size) {
                    break;
                }
                let marks = wichmann(r, s);
                let last = *marks.last().expect("a ruler has marks");
                if last < v && 2 * last + 2 >= v && covers(&marks, v) {
                    best = Some(marks);
                    break;
                }
            }
        }
        // The trivial cover {0, ..., v-1} always works (tiny v).
        let members = best.unwrap_or_else(|| (0..v).collect());
        let mut slot = vec![u32::MAX; v as usize];
        for (k, &m) in members.iter().enumerate() {
            slot[m as usize] = k as u32;
        }
        let mut from = vec![u32::MAX; v as usize];
        for &a in &members {
            for &b in &members {
                let d = (b + v - a) % v;
                if from[d as usize] == u32::MAX {
                    from[d as usize] = a as u32;
                }
            }
        }
        debug_assert!(from.iter().all(|&a| a != u32::MAX));
        Cover {
            v,
            members,
            slot,
            from,
        }
    }

    pub fn period(&self) -> u64 {
        self.v
    }

    pub fn members(&self) -> &[u64] {
        &self.members
    }

    /// `δ < v` with `i + δ` and `j + δ` both in the sample.
    #[inline(always)]
    pub fn delta(&self, i: u64, j: u64) -> u64 {
        let m = self.v - 1;
        let d = (j.wrapping_sub(i)) & m;
        let a = self.from[d as usize] as u64;
        a.wrapping_sub(i) & m
    }

    /// Sample suffixes of a text of length `n` (positions `0..=n`).
    pub fn sample_len(&self, n: u64) -> u64 {
        self.members
            .iter()
            .map(|&d| if d <= n { (n - d) / self.v + 1 } else { 0 })
            .sum()
    }
}

/// Marks of the Wichmann ruler W(r, s): gaps 1^r, r+1, (2r+1)^r,
/// (4r+3)^s, (2r+2)^(r+1), 1^r.
fn wichmann(r: u64, s: u64) -> Vec<u64> {
    let gaps = std::iter::repeat_n(1, r as usize)
        .chain([r + 1])
        .chain(std::iter::repeat_n(2 * r + 1, r as usize))
        .chain(std::iter::repeat_n(4 * r + 3, s as usize))
        .chain(std::iter::repeat_n(2 * r + 2, r as usize + 1))
        .chain(std::iter::repeat_n(1, r as usize));
    let mut marks = vec![0];
    let mut at = 0;
    for g in gaps {
        at += g;
        marks.push(at);
    }
    marks
}

/// Whether every residue mod `v` is a difference of two marks.
fn covers(marks: &[u64], v: u64) -> bool {
    let mut seen = vec![false; v as usize];
    for &a in marks {
        for &b in marks {
            seen[((b + v - a) % v) as usize] = true;
        }
    }
    seen.iter().all(|&x| x)
}

/// Ranks of the sample suffixes among themselves.
pub struct SampleRanks {
    cover: Cover,
    /// Per member: where its positions start in `ranks`.
    starts: Vec<u64>,
    /// Per sample suffix, grouped by residue, in position order.
    ranks: Vec<i32>,
}

impl SampleRanks {
    pub fn build(
        text: &PackedText,
        cover: Cover,
        params: &Params,
        path: &std::path::Path,
        progress: Progress,
    ) -> Result<SampleRanks, IndexError> {
        let n = text.len();
        let v = cover.v;
        let mut starts = Vec::with_capacity(cover.members.len());
        let mut total = 0u64;
        for &d in &cover.members {
            starts.push(total);
            total += if d <= n { (n - d) / v + 1 } else { 0 };
        }
        if total >= i32::MAX as u64 {
            return Err(IndexError::TooLong {
                path: path.to_path_buf(),
                len: n / 2,
            });
        }
        let mut names = try_alloc::<i32>(total as usize, "the sample's names", path)?;
        let mut ranks = SampleRanks {
            cover,
            starts,
            ranks: Vec::new(),
        };
        // The empty suffix (position n), when sampled, is the smallest.
        if ranks.cover.slot[(n % v) as usize] != u32::MAX {
            names[ranks.index(n)] = 0;
        }
        let domain = Domain::Sample(&ranks.cover);
        let blocks = sort::plan(text, domain, params.sample_max_block, params.first_bits);
        let mut name = 0i32;
        let mark_same = |run: &mut [u128]| {
            for it in &mut run[1..] {
                *it |= SAME;
            }
        };
        for (k, (range, count)) in blocks.iter().enumerate() {
            progress.note(format_args!(
                "sample block {} of {}: {count} suffixes",
                k + 1,
                blocks.len()
            ));
            let mut items = sort::collect(text, domain, *range, *count, path)?;
            sort::sort_items(text, &mut items, v, &mark_same);
            for it in &items {
                if it & SAME == 0 {
                    name += 1;
                }
                names[ranks.index(sort::pos(*it))] = name;
            }
        }
        progress.note(format_args!(
            "difference cover (v = {v}, {} residues): {total} sample suffixes in {} blocks, {} names",
            ranks.cover.members.len(),
            blocks.len(),
            name as u64 + 1
        ));
        let mut sa = try_alloc::<i32>(total as usize, "the sample's suffix array", path)?;
        SuffixArrayConstruction::for_text_mut(&mut names[..])
            .in_borrowed_buffer(&mut sa[..])
            .single_threaded()
            .run()
            .map_err(|e| IndexError::SuffixArray {
                path: path.to_path_buf(),
                what: format!("{e:?}"),
            })?;
        for (r, &i) in sa.iter().enumerate() {
            names[i as usize] = r as i32;
        }
        drop(sa);
        ranks.ranks = names;
        progress.note(format_args!("sample suffixes ranked"));
        Ok(ranks)
    }

    /// Where sample position `p` sits in `ranks`.
    #[inline(always)]
    fn index(&self, p: u64) -> usize {
        let v = self.cover.v;
        let m = self.cover.slot[(p & (v - 1)) as usize] as usize;
        (self.starts[m] + p / v) as usize
    }

    /// Order of suffixes `a != b` whose first `v` bases are equal.
    #[inline]
    pub fn cmp(&self, a: u64, b: u64) -> Ordering {
        let d = self.cover.delta(a, b);
        self.ranks[self.index(a + d)].cmp(&self.ranks[self.index(b + d)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_every_difference() {
        for v in [2u64, 4, 8, 16, 32, 64, 128, 256, 1024, 4096] {
            let c = Cover::new(v);
            assert!(covers(&c.members, v), "v = {v}");
            for i in 0..v.min(200) {
                for j in 0..v.min(200) {
                    let d = c.delta(i, j);
                    assert!(d < v);
                    assert_ne!(c.slot[((i + d) % v) as usize], u32::MAX);
                    assert_ne!(c.slot[((j + d) % v) as usize], u32::MAX);
                }
            }
        }
        assert_eq!(Cover::new(1024).members.len(), 39);
    }
}
