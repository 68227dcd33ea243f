//! The contig and hole tables, the 2-bit packed forward reference, and bwa's
//! coordinate helpers (spec §2.8) over the concatenated space `[0, 2L)`.

use super::FmIndex;

/// One reference sequence (bwa's `bntann1_t`, without `gi`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contig {
    /// Header text up to the first whitespace.
    pub name: String,
    /// Rest of the header line after that whitespace (empty when none; bwa
    /// writes `(null)` in `.ann` and reads it back as empty).
    pub anno: String,
    /// Offset of the first base in the forward concatenation.
    pub offset: u64,
    /// Number of bases.
    pub len: u64,
    /// Number of holes (runs of ambiguous bases) in this contig.
    pub n_ambs: u32,
}

/// A run of one ambiguous character in the forward reference (bwa's
/// `bntamb1_t`); the bases under it hold drand48 pseudo-random bases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hole {
    /// Global forward offset of the first base.
    pub offset: u64,
    /// Length of the run.
    pub len: u32,
    /// The raw character as it appeared in the FASTA (case kept).
    pub amb: u8,
}

/// Base `l` of a bwa-layout packed sequence (first base in the top 2 bits).
#[inline(always)]
pub(crate) fn pac_base(pac: &[u8], l: u64) -> u8 {
    (pac[(l >> 2) as usize] >> ((3 - (l & 3)) << 1)) & 3
}

/// The four bases of each `.pac` byte, first base first.
static PAC_BYTE: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut b = 0;
    while b < 256 {
        let mut i = 0;
        while i < 4 {
            t[b][i] = ((b >> ((3 - i) * 2)) & 3) as u8;
            i += 1;
        }
        b += 1;
    }
    t
};

/// The four bases of each `.pac` byte reverse-complemented: the last base
/// complemented first.
static PAC_BYTE_RC: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut b = 0;
    while b < 256 {
        let mut i = 0;
        while i < 4 {
            t[b][i] = 3 - PAC_BYTE[b][3 - i];
            i += 1;
        }
        b += 1;
    }
    t
};

/// Appends packed bases `beg..end` to `out`, whole bytes through a table.
fn unpack(pac: &[u8], beg: u64, end: u64, out: &mut Vec<u8>) {
    out.reserve((end - beg) as usize);
    let mut k = beg;
    while k < end && !k.is_multiple_of(4) {
        out.push(pac_base(pac, k));
        k += 1;
    }
    let whole = (end - k) / 4;
    let first = (k / 4) as usize;
    for &b in &pac[first..first + whole as usize] {
        out.extend_from_slice(&PAC_BYTE[usize::from(b)]);
    }
    k += 4 * whole;
    while k < end {
        out.push(pac_base(pac, k));
        k += 1;
    }
}

/// Appends the reverse complement of packed bases `beg..end` to `out`
/// (base `end - 1` complemented first), whole bytes through a table.
fn unpack_revcomp(pac: &[u8], beg: u64, end: u64, out: &mut Vec<u8>) {
    out.reserve((end - beg) as usize);
    let mut k = end;
    while k > beg && !k.is_multiple_of(4) {
        k -= 1;
        out.push(3 - pac_base(pac, k));
    }
    let whole = (k - beg) / 4;
    let last = (k / 4) as usize;
    for &b in pac[last - whole as usize..last].iter().rev() {
        out.extend_from_slice(&PAC_BYTE_RC[usize::from(b)]);
    }
    k -= 4 * whole;
    while k > beg {
        k -= 1;
        out.push(3 - pac_base(pac, k));
    }
}

/// Packs base codes (0..=3) in bwa's `.pac` layout, `ceil(len/4)` bytes.
pub(crate) fn pack_bases(codes: &[u8]) -> Vec<u8> {
    let mut pac = vec![0u8; codes.len().div_ceil(4)];
    for (i, &c) in codes.iter().enumerate() {
        pac[i >> 2] |= (c & 3) << ((3 - (i & 3)) << 1);
    }
    pac
}

impl FmIndex {
    /// The contig table, in FASTA order.
    pub fn contigs(&self) -> &[Contig] {
        &self.contigs
    }

    /// The holes table (runs of ambiguous bases), in forward order.
    pub fn holes(&self) -> &[Hole] {
        &self.holes
    }

    /// Base code (0..=3) at `pos` in `[0, 2L)`: the forward reference below
    /// `L`, its reverse complement from `L` on (`3 - fwd[2L-1-pos]`).
    #[inline]
    pub fn base(&self, pos: u64) -> u8 {
        let l_pac = self.meta.l_pac;
        debug_assert!(pos < 2 * l_pac);
        if pos < l_pac {
            pac_base(self.pac(), pos)
        } else {
            3 - pac_base(self.pac(), 2 * l_pac - 1 - pos)
        }
    }

    /// Hints the CPU to load the `.pac` byte holding base `pos` of `X`
    /// (`pos < 2L`; the bases after it lie in the same or the neighbouring
    /// bytes, rising on the forward strand and falling on the reverse).
    #[inline(always)]
    pub fn prefetch_text(&self, pos: u64) {
        let l_pac = self.meta.l_pac;
        let f = if pos < l_pac {
            pos
        } else {
            (2 * l_pac).wrapping_sub(1 + pos)
        };
        let at = (f >> 2) as usize;
        if at < self.pac().len() {
            super::occ::prefetch_line(self.pac().as_ptr().wrapping_add(at));
        }
    }

    /// bwa's `bns_depos`: `(forward position, is_reverse)` of `pos` in `[0, 2L)`.
    #[inline]
    pub fn depos(&self, pos: i64) -> (i64, bool) {
        let l_pac = self.meta.l_pac as i64;
        if pos >= l_pac {
            ((l_pac << 1) - 1 - pos, true)
        } else {
            (pos, false)
        }
    }

    /// bwa's `bns_pos2rid`: index of the contig holding forward position
    /// `pos_f`, or -1 when `pos_f >= L`. Same binary search as bwa, so
    /// zero-length contigs resolve the same way.
    pub fn pos2rid(&self, pos_f: i64) -> i64 {
        if pos_f >= self.meta.l_pac as i64 {
            return -1;
        }
        let anns = &self.contigs;
        let (mut left, mut right, mut mid) = (0usize, anns.len(), 0usize);
        while left < right {
            mid = (left + right) >> 1;
            if pos_f >= anns[mid].offset as i64 {
                if mid == anns.len() - 1 || pos_f < anns[mid + 1].offset as i64 {
                    break;
                }
                left = mid + 1;
            } else {
                right = mid;
            }
        }
        mid as i64
    }

    /// bwa's `bns_intv2rid` for `[rb, re)` in `[0, 2L)`: -2 if the interval
    /// crosses the strand boundary, -1 if it spans two contigs, else the rid.
    pub fn intv2rid(&self, rb: i64, re: i64) -> i64 {
        let l_pac = self.meta.l_pac as i64;
        if rb < l_pac && re > l_pac {
            return -2;
        }
        debug_assert!(rb <= re);
        let rid_b = self.pos2rid(self.depos(rb).0);
        let rid_e = if rb < re {
            self.pos2rid(self.depos(re - 1).0)
        } else {
            rid_b
        };
        if rid_b == rid_e {
            rid_b
        } else {
            -1
        }
    }

    /// bwa's `bns_get_seq`: fills `out` (cleared first) with the bases of
    /// `[beg, end)` in `[0, 2L)` (swapped if `end < beg`, clamped to
    /// `[0, 2L]`); leaves it empty when the interval crosses `L`. Returns the
    /// number of bases written.
    pub fn get_seq(&self, beg: i64, end: i64, out: &mut Vec<u8>) -> usize {
        out.clear();
        let (mut beg, mut end) = if end < beg { (end, beg) } else { (beg, end) };
        let l_pac = self.meta.l_pac as i64;
        end = end.min(l_pac << 1);
        beg = beg.max(0);
        if beg >= end || !(beg >= l_pac || end <= l_pac) {
            return 0;
        }
        let pac = self.pac();
        if beg >= l_pac {
            let beg_f = (l_pac << 1) - 1 - end;
            let end_f = (l_pac << 1) - 1 - beg;
            unpack_revcomp(pac, (beg_f + 1) as u64, (end_f + 1) as u64, out);
        } else {
            unpack(pac, beg as u64, end as u64, out);
        }
        out.len()
    }

    /// bwa's `bns_fetch_seq`: confines `[beg, end)` (swapped if needed; must
    /// hold `mid`) to the contig and strand of `mid`, fills `out` with its
    /// bases and returns the adjusted `(beg, end, rid)`.
    pub fn fetch_seq(&self, beg: i64, mid: i64, end: i64, out: &mut Vec<u8>) -> (i64, i64, usize) {
        let (beg, end) = if end < beg { (end, beg) } else { (beg, end) };
        debug_assert!(beg <= mid && mid < end);
        let (pos_f, is_rev) = self.depos(mid);
        let rid = self.pos2rid(pos_f).max(0) as usize;
        let c = &self.contigs[rid];
        let (mut far_beg, mut far_end) = (c.offset as i64, (c.offset + c.len) as i64);
        if is_rev {
            let l2 = (self.meta.l_pac as i64) << 1;
            (far_beg, far_end) = (l2 - far_end, l2 - far_beg);
        }
        let beg = beg.max(far_beg);
        let end = end.min(far_end);
        self.get_seq(beg, end, out);
        (beg, end, rid)
    }
}

#[cfg(test)]
mod unpack_tests {
    use super::*;

    #[test]
    fn table_unpacking_equals_base_by_base() {
        let codes: Vec<u8> = (0..203u32).map(|i| ((i * 7 + i / 3) % 4) as u8).collect();
        let pac = pack_bases(&codes);
        let mut out = Vec::new();
        for beg in 0..codes.len() as u64 {
            for end in beg..=(codes.len() as u64).min(beg + 40) {
                out.clear();
                unpack(&pac, beg, end, &mut out);
                let want: Vec<u8> = (beg..end).map(|k| pac_base(&pac, k)).collect();
                assert_eq!(out, want, "{beg}..{end}");
                out.clear();
                unpack_revcomp(&pac, beg, end, &mut out);
                let want: Vec<u8> = (beg..end).rev().map(|k| 3 - pac_base(&pac, k)).collect();
                assert_eq!(out, want, "rc {beg}..{end}");
            }
        }
    }
}
