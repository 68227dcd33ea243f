//! A naive reference for tests: contigs concatenated, their reverse
//! complement appended, and a plainly sorted suffix array over that text.

use super::{ChainReference, SmemInterval};

pub struct TestRef {
    /// Forward then reverse-complement text, nt4 codes.
    text: Vec<u8>,
    /// Suffix array of `text` (plain sort of all suffixes).
    sa: Vec<u64>,
    l_pac: i64,
    /// (offset, len, is_alt) of each contig.
    contigs: Vec<(i64, i64, bool)>,
}

impl TestRef {
    pub fn new(contigs: &[(&[u8], bool)]) -> Self {
        let mut fwd = Vec::new();
        let mut table = Vec::new();
        for (seq, alt) in contigs {
            table.push((fwd.len() as i64, seq.len() as i64, *alt));
            fwd.extend_from_slice(seq);
        }
        let l_pac = fwd.len() as i64;
        let mut text = fwd.clone();
        text.extend(fwd.iter().rev().map(|&b| 3 - b));
        let mut sa: Vec<u64> = (0..text.len() as u64).collect();
        sa.sort_by(|&a, &b| text[a as usize..].cmp(&text[b as usize..]));
        TestRef {
            text,
            sa,
            l_pac,
            contigs: table,
        }
    }

    /// A reference with no text: `l_pac` bases in contigs starting at
    /// `offsets`, and `sa` as the suffix array (any values in `[0, 2 l_pac)`).
    pub fn fake(l_pac: i64, offsets: &[i64], sa: Vec<u64>) -> Self {
        let contigs = offsets
            .iter()
            .enumerate()
            .map(|(i, &off)| {
                let end = offsets.get(i + 1).copied().unwrap_or(l_pac);
                (off, end - off, false)
            })
            .collect();
        TestRef {
            text: Vec::new(),
            sa,
            l_pac,
            contigs,
        }
    }

    /// The SA interval of `read[qbeg..qend]`, as seeding would report it.
    pub fn interval(&self, read: &[u8], qbeg: i32, qend: i32) -> SmemInterval {
        let pat = &read[qbeg as usize..qend as usize];
        let starts_with = |r: u64| self.text[r as usize..].starts_with(pat);
        let lo = self.sa.partition_point(|&r| &self.text[r as usize..] < pat);
        let mut hi = lo;
        while hi < self.sa.len() && starts_with(self.sa[hi]) {
            hi += 1;
        }
        SmemInterval {
            x0: lo as u64,
            size: (hi - lo) as u64,
            qbeg,
            qend,
        }
    }

    fn pos2rid(&self, f: i64) -> i32 {
        if f >= self.l_pac {
            return -1;
        }
        self.contigs
            .iter()
            .rposition(|&(off, _, _)| off <= f)
            .map_or(-1, |r| r as i32)
    }

    fn depos(&self, p: i64) -> (i64, bool) {
        if p >= self.l_pac {
            (2 * self.l_pac - 1 - p, true)
        } else {
            (p, false)
        }
    }
}

impl ChainReference for TestRef {
    fn sa(&self, row: u64) -> u64 {
        self.sa[row as usize]
    }

    fn l_pac(&self) -> i64 {
        self.l_pac
    }

    fn intv2rid(&self, rb: i64, re: i64) -> i32 {
        if rb < self.l_pac && re > self.l_pac {
            return -2;
        }
        let b = self.pos2rid(self.depos(rb).0);
        let e = if rb < re {
            self.pos2rid(self.depos(re - 1).0)
        } else {
            b
        };
        if b == e {
            b
        } else {
            -1
        }
    }

    fn is_alt(&self, rid: i32) -> bool {
        self.contigs[rid as usize].2
    }

    fn fetch_seq(&self, beg: i64, mid: i64, end: i64, buf: &mut Vec<u8>) -> (i64, i64) {
        let (f, rev) = self.depos(mid);
        let rid = self.pos2rid(f) as usize;
        let (off, len, _) = self.contigs[rid];
        let (far_beg, far_end) = if rev {
            (2 * self.l_pac - (off + len), 2 * self.l_pac - off)
        } else {
            (off, off + len)
        };
        let (b, e) = (beg.max(far_beg), end.min(far_end));
        buf.clear();
        if self.text.is_empty() {
            // A fake reference: each base tells its position, mod 251.
            buf.extend((b..e).map(|p| (p % 251) as u8));
        } else {
            buf.extend_from_slice(&self.text[b as usize..e as usize]);
        }
        (b, e)
    }
}

/// Plain local Smith-Waterman with affine gaps (Gotoh), bwa's default
/// scores: match `a`, mismatch `-b`, N -1, gap `o + k * e`.
pub fn naive_local_sw(q: &[u8], t: &[u8], a: i32, b: i32, o: i32, e: i32) -> i32 {
    let n = q.len();
    let mut h = vec![0i32; n + 1];
    let mut ee = vec![0i32; n + 1];
    let mut best = 0;
    for &tc in t {
        let mut diag = 0;
        let mut f = 0;
        let mut hleft = 0;
        for j in 1..=n {
            let qc = q[j - 1];
            let s = if tc > 3 || qc > 3 {
                -1
            } else if tc == qc {
                a
            } else {
                -b
            };
            ee[j] = (ee[j] - e).max(h[j] - o - e);
            f = (f - e).max(hleft - o - e);
            let hv = (diag + s).max(ee[j]).max(f).max(0);
            diag = h[j];
            h[j] = hv;
            hleft = hv;
            best = best.max(hv);
        }
    }
    best
}

/// A deterministic pseudo-random sequence of nt4 codes.
pub fn random_seq(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 33) as u8 & 3
        })
        .collect()
}
