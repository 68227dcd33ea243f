//! The `SA:Z` and `XA:Z` strings (spec §12.2–12.3; `bwamem.c:
//! mem_aln2sam`, `bwamem_extra.c: mem_gen_alt`), built from structured
//! pieces. CIGARs in both print clips as stored (S), never as H.

use super::num::{put_int, IntText};

/// `MIDSH` by op code, as bwa prints them (`N` for a stray code 5).
const OP_CHARS: &[u8; 6] = b"MIDSHN";

/// Appends a CIGAR in bwa's `len << 4 | op` encoding as text, ops as stored.
pub fn put_cigar(out: &mut Vec<u8>, cigar: &[u32]) {
    for &c in cigar {
        put_int(out, i64::from(c >> 4));
        out.push(op_char(c));
    }
}

/// [`put_cigar`] into a `String`.
fn push_cigar(out: &mut String, cigar: &[u32]) {
    for &c in cigar {
        out.push_str(IntText::new(i64::from(c >> 4)).as_str());
        out.push(char::from(op_char(c)));
    }
}

/// The letter of a packed CIGAR op (`?` outside bwa's range).
pub(crate) fn op_char(c: u32) -> u8 {
    OP_CHARS.get((c & 0xf) as usize).copied().unwrap_or(b'?')
}

/// One SA entry: `rname,pos,strand,CIGAR,MAPQ,NM;` with `pos` 0-based here
/// and printed 1-based.
pub fn push_sa_entry(
    out: &mut Vec<u8>,
    rname: &str,
    pos: i64,
    is_rev: bool,
    cigar: &[u32],
    mapq: u8,
    nm: u32,
) {
    out.extend_from_slice(rname.as_bytes());
    out.push(b',');
    put_int(out, pos + 1);
    out.push(b',');
    out.push(if is_rev { b'-' } else { b'+' });
    out.push(b',');
    put_cigar(out, cigar);
    out.push(b',');
    put_int(out, i64::from(mapq));
    out.push(b',');
    put_int(out, i64::from(nm));
    out.push(b';');
}

/// One XA entry: `rname,±pos,CIGAR,NM;` with `pos` 0-based here and printed
/// 1-based after the strand sign. Append entries of one group in region
/// order; the result (without the `XA:Z:` prefix) goes in [`super::Aln::xa`].
pub fn push_xa_entry(
    out: &mut String,
    rname: &str,
    pos: i64,
    is_rev: bool,
    cigar: &[u32],
    nm: u32,
) {
    out.push_str(rname);
    out.push(',');
    out.push(if is_rev { '-' } else { '+' });
    out.push_str(IntText::new(pos + 1).as_str());
    out.push(',');
    push_cigar(out, cigar);
    out.push(',');
    out.push_str(IntText::new(i64::from(nm)).as_str());
    out.push(';');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::{cigar_op as op, cigar_pack as p};

    #[test]
    fn sa_entry_as_bwa_prints_it() {
        let mut out = Vec::new();
        push_sa_entry(
            &mut out,
            "chr2",
            200,
            true,
            &[p(50, op::M), p(60, op::S)],
            60,
            0,
        );
        push_sa_entry(
            &mut out,
            "chr1",
            700,
            false,
            &[p(60, op::M), p(50, op::S)],
            7,
            3,
        );
        assert_eq!(out, b"chr2,201,-,50M60S,60,0;chr1,701,+,60M50S,7,3;");
    }

    #[test]
    fn xa_entry_as_bwa_prints_it() {
        let mut xa = String::new();
        push_xa_entry(&mut xa, "chr2", 600, false, &[p(100, op::M)], 2);
        push_xa_entry(
            &mut xa,
            "chr1",
            9,
            true,
            &[
                p(3, op::S),
                p(10, op::M),
                p(1, op::I),
                p(5, op::M),
                p(2, op::D),
                p(4, op::M),
            ],
            4,
        );
        assert_eq!(xa, "chr2,+601,100M,2;chr1,-10,3S10M1I5M2D4M,4;");
    }
}
