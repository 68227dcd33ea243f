//! One SAM record, as bwa's `mem_aln2sam` writes it (spec §14.2–14.5).

use super::cigar_op;
use super::header::SamContig;
use super::num::{put_fixed3, put_int};
use super::tags::{op_char, push_sa_entry};
use crate::options::MemOptions;

/// One alignment of a read, as bwa's `mem_aln_t`: what `mem_reg2aln` made
/// of a region plus what `mem_reg2sam` added (flags, capped MAPQ, XA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aln {
    /// Contig index, `-1` when unmapped.
    pub rid: i32,
    /// 0-based leftmost position on the contig (`-1` when unmapped).
    pub pos: i64,
    /// Reverse strand.
    pub is_rev: bool,
    /// On an ALT contig: clips stay soft and SEQ untrimmed.
    pub is_alt: bool,
    /// Mapping quality.
    pub mapq: u8,
    /// Edit distance (bwa keeps 22 bits: the producer wraps it).
    pub nm: u32,
    /// bwa's flag before printing: 0x100 secondary, 0x800 supplementary,
    /// 0x10000 supplementary under `-M` (printed as 0x100), 0x4 unmapped,
    /// and the pair bits (0x1 0x2 0x40 0x80) the caller adds. 0x1 0x4 0x8
    /// 0x10 0x20 are also set by the formatter from the record and its mate.
    pub flag: u32,
    /// CIGAR ops as `len << 4 | op` ([`cigar_op`]); clips stored as S.
    /// Empty when unmapped.
    pub cigar: Vec<u32>,
    /// The `MD:Z` value.
    pub md: String,
    /// `AS:i` (printed when `>= 0`).
    pub score: i32,
    /// `XS:i` (printed when `>= 0`; bwa sets `-1` on secondaries).
    pub sub: i32,
    /// Best ALT score; `pa:f` = score/alt_sc is printed when `> 0`.
    pub alt_sc: i32,
    /// The `XA:Z` value (entries from [`super::tags::push_xa_entry`]); empty: no tag.
    pub xa: String,
}

impl Aln {
    /// bwa's unmapped record (`mem_reg2aln` with no region): flag 0x4 plus
    /// `extra_flag`, score and sub 0 (hence `AS:i:0 XS:i:0`).
    pub fn unmapped(extra_flag: u32) -> Aln {
        Aln {
            rid: -1,
            pos: -1,
            is_rev: false,
            is_alt: false,
            mapq: 0,
            nm: 0,
            flag: 0x4 | extra_flag,
            cigar: Vec::new(),
            md: String::new(),
            score: 0,
            sub: 0,
            alt_sc: 0,
            xa: String::new(),
        }
    }

    /// Reference length covered: the sum of M and D lengths (`get_rlen`).
    pub fn ref_len(&self) -> i64 {
        rlen(&self.cigar)
    }

    fn is_mapped(&self) -> bool {
        self.rid >= 0
    }

    /// Shown as a secondary (no SEQ, no SA) — true secondaries only, not
    /// `-M` supplementaries.
    fn is_secondary(&self) -> bool {
        self.flag & 0x100 != 0
    }
}

/// The read a record belongs to.
#[derive(Debug, Clone, Copy)]
pub struct SamRead<'a> {
    /// QNAME (already trimmed of `/1` `/2`).
    pub name: &'a [u8],
    /// Bases as codes 0..=4 (`ACGTN`).
    pub seq: &'a [u8],
    /// Base qualities as in the FASTQ; `None` for FASTA input.
    pub qual: Option<&'a [u8]>,
    /// The FASTA/FASTQ comment, printed verbatim under `-C`.
    pub comment: Option<&'a [u8]>,
}

/// The printing-relevant options and reference names, fixed for a run.
#[derive(Debug, Clone)]
pub struct SamFormatter<'c> {
    contigs: &'c [SamContig],
    soft_clip: bool,
    ref_header: bool,
    copy_comment: bool,
    rg_id: Option<String>,
    mate_mapq: bool,
}

/// Where the mate of a record lies, after bwa's mutual copying of
/// coordinates between an unmapped read and its mapped mate.
struct MateView<'m> {
    rid: i32,
    pos: i64,
    is_rev: bool,
    cigar: &'m [u32],
    is_alt: bool,
}

const FORWARD: &[u8; 5] = b"ACGTN";
const COMPLEMENT: &[u8; 5] = b"TGCAN";

impl<'c> SamFormatter<'c> {
    /// A formatter for `contigs` (index order) under `opts` (`-Y -V -C -R`).
    pub fn new(contigs: &'c [SamContig], opts: &MemOptions) -> SamFormatter<'c> {
        SamFormatter {
            contigs,
            soft_clip: opts.flags.soft_clip,
            ref_header: opts.flags.ref_header,
            copy_comment: opts.flags.copy_comment,
            rg_id: opts.read_group_id().map(str::to_owned),
            mate_mapq: false,
        }
    }

    /// Prints the mate's MAPQ as `MQ:i:` after `MC:Z:` (bwa 0.7.18 on).
    pub fn with_mate_mapq(mut self, on: bool) -> Self {
        self.mate_mapq = on;
        self
    }

    /// Appends the SAM lines of all records of one read: `alns` in order
    /// (the first is the primary), or one unmapped record with
    /// `unmapped_flag` when `alns` is empty. `mate` is the mate's record
    /// used for RNEXT/PNEXT/TLEN/MC (paired-end only).
    pub fn write_read(
        &self,
        out: &mut Vec<u8>,
        read: &SamRead,
        alns: &[Aln],
        unmapped_flag: u32,
        mate: Option<&Aln>,
    ) {
        let _timed = crate::trace::Timed::start();
        if alns.is_empty() {
            let unmapped = Aln::unmapped(unmapped_flag);
            self.write_record(out, read, std::slice::from_ref(&unmapped), 0, mate);
        } else {
            for which in 0..alns.len() {
                self.write_record(out, read, alns, which, mate);
            }
        }
    }

    /// Appends the SAM line (with its newline) of `alns[which]`, the
    /// `which`-th record of `read`; the other records give the `SA:Z` tag.
    pub fn write_record(
        &self,
        out: &mut Vec<u8>,
        read: &SamRead,
        alns: &[Aln],
        which: usize,
        mate: Option<&Aln>,
    ) {
        let p = &alns[which];
        debug_assert!(p.cigar.is_empty() || p.is_mapped());

        // Coordinates after bwa's copying between an unmapped read and a
        // mapped mate (an unmapped one takes the other's rid, pos, strand).
        let mut flag = p.flag;
        let (mut rid, mut pos, mut is_rev, mut cigar) = (p.rid, p.pos, p.is_rev, &p.cigar[..]);
        let mut m = mate.map(|m| MateView {
            rid: m.rid,
            pos: m.pos,
            is_rev: m.is_rev,
            cigar: &m.cigar,
            is_alt: m.is_alt,
        });
        if let Some(m) = &mut m {
            flag |= 0x1;
            if !m.is_mapped() {
                flag |= 0x8;
            }
        }
        if !p.is_mapped() {
            flag |= 0x4;
        }
        if let Some(m) = &mut m {
            if !p.is_mapped() && m.is_mapped() {
                (rid, pos, is_rev, cigar) = (m.rid, m.pos, m.is_rev, &[]);
            } else if !m.is_mapped() && p.is_mapped() {
                (m.rid, m.pos, m.is_rev, m.cigar) = (p.rid, p.pos, p.is_rev, &[]);
            }
        }
        if is_rev {
            flag |= 0x10;
        }
        if m.as_ref().is_some_and(|m| m.is_rev) {
            flag |= 0x20;
        }
        let hard_clip = which > 0 && !self.soft_clip && !p.is_alt;

        out.extend_from_slice(read.name);
        out.push(b'\t');
        put_int(
            out,
            i64::from((flag & 0xffff) | if flag & 0x10000 != 0 { 0x100 } else { 0 }),
        );
        out.push(b'\t');
        if rid >= 0 {
            out.extend_from_slice(self.contig(rid).name.as_bytes());
            out.push(b'\t');
            put_int(out, pos + 1);
            out.push(b'\t');
            put_int(out, i64::from(p.mapq));
            out.push(b'\t');
            put_clipped_cigar(out, cigar, hard_clip);
        } else {
            out.extend_from_slice(b"*\t0\t0\t*");
        }
        out.push(b'\t');

        match &m {
            Some(m) if m.rid >= 0 => {
                if m.rid == rid {
                    out.push(b'=');
                } else {
                    out.extend_from_slice(self.contig(m.rid).name.as_bytes());
                }
                out.push(b'\t');
                put_int(out, m.pos + 1);
                out.push(b'\t');
                let tlen = if m.rid == rid && !cigar.is_empty() && !m.cigar.is_empty() {
                    let p0 = pos + if is_rev { rlen(cigar) - 1 } else { 0 };
                    let p1 = m.pos + if m.is_rev { rlen(m.cigar) - 1 } else { 0 };
                    match p0.cmp(&p1) {
                        std::cmp::Ordering::Less => p1 - p0 + 1,
                        std::cmp::Ordering::Greater => -(p0 - p1 + 1),
                        std::cmp::Ordering::Equal => 0,
                    }
                } else {
                    0
                };
                put_int(out, tlen);
            }
            _ => out.extend_from_slice(b"*\t0\t0"),
        }
        out.push(b'\t');

        if flag & 0x100 != 0 {
            out.extend_from_slice(b"*\t*");
        } else {
            // Clipped bases leave SEQ/QUAL on hard-clipped records.
            let (mut qb, mut qe) = (0, read.seq.len());
            if !cigar.is_empty() && hard_clip {
                let (head, tail) = (clip_len(cigar[0]), clip_len(cigar[cigar.len() - 1]));
                let (five, three) = if is_rev { (tail, head) } else { (head, tail) };
                qb = five.min(qe);
                qe = qe.saturating_sub(three).max(qb);
            }
            put_seq_qual(out, read, qb, qe, is_rev);
        }

        if !cigar.is_empty() {
            out.extend_from_slice(b"\tNM:i:");
            put_int(out, i64::from(p.nm));
            out.extend_from_slice(b"\tMD:Z:");
            out.extend_from_slice(p.md.as_bytes());
        }
        if let Some(m) = m.as_ref().filter(|m| !m.cigar.is_empty()) {
            out.extend_from_slice(b"\tMC:Z:");
            put_clipped_cigar(out, m.cigar, which > 0 && !self.soft_clip && !m.is_alt);
        }
        if let Some(m) = mate.filter(|_| self.mate_mapq) {
            out.extend_from_slice(b"\tMQ:i:");
            put_int(out, i64::from(m.mapq));
        }
        if p.score >= 0 {
            out.extend_from_slice(b"\tAS:i:");
            put_int(out, i64::from(p.score));
        }
        if p.sub >= 0 {
            out.extend_from_slice(b"\tXS:i:");
            put_int(out, i64::from(p.sub));
        }
        if let Some(id) = &self.rg_id {
            out.extend_from_slice(b"\tRG:Z:");
            out.extend_from_slice(id.as_bytes());
        }
        if !p.is_secondary() {
            self.put_sa(out, alns, which);
            if p.alt_sc > 0 {
                out.extend_from_slice(b"\tpa:f:");
                put_fixed3(out, f64::from(p.score) / f64::from(p.alt_sc));
            }
        }
        if !p.xa.is_empty() {
            out.extend_from_slice(b"\tXA:Z:");
            out.extend_from_slice(p.xa.as_bytes());
        }
        if let Some(comment) = read.comment.filter(|c| self.copy_comment && !c.is_empty()) {
            out.push(b'\t');
            out.extend_from_slice(comment);
        }
        if self.ref_header && rid >= 0 {
            let anno = &self.contig(rid).anno;
            if !anno.is_empty() {
                out.extend_from_slice(b"\tXR:Z:");
                out.extend(anno.bytes().map(|b| if b == b'\t' { b' ' } else { b }));
            }
        }
        out.push(b'\n');
    }

    /// `SA:Z`: every other non-secondary record of the read, in order.
    fn put_sa(&self, out: &mut Vec<u8>, alns: &[Aln], which: usize) {
        let others = || {
            alns.iter()
                .enumerate()
                .filter(move |&(i, a)| i != which && !a.is_secondary())
                .map(|(_, a)| a)
        };
        if others().next().is_none() {
            return;
        }
        out.extend_from_slice(b"\tSA:Z:");
        for a in others() {
            let name = &self.contig(a.rid).name;
            push_sa_entry(out, name, a.pos, a.is_rev, &a.cigar, a.mapq, a.nm);
        }
    }

    fn contig(&self, rid: i32) -> &SamContig {
        debug_assert!(rid >= 0 && (rid as usize) < self.contigs.len());
        &self.contigs[rid as usize]
    }
}

impl MateView<'_> {
    fn is_mapped(&self) -> bool {
        self.rid >= 0
    }
}

/// bwa's `get_rlen`: M and D lengths.
fn rlen(cigar: &[u32]) -> i64 {
    cigar
        .iter()
        .filter(|&&c| matches!(c & 0xf, cigar_op::M | cigar_op::D))
        .map(|&c| i64::from(c >> 4))
        .sum()
}

/// Length of a clip op (S or H), 0 for any other op.
fn clip_len(c: u32) -> usize {
    if matches!(c & 0xf, cigar_op::S | cigar_op::H) {
        (c >> 4) as usize
    } else {
        0
    }
}

/// bwa's `add_cigar`: clips as H when `hard`, else as S; `*` when empty.
fn put_clipped_cigar(out: &mut Vec<u8>, cigar: &[u32], hard: bool) {
    if cigar.is_empty() {
        out.push(b'*');
        return;
    }
    for &c in cigar {
        put_int(out, i64::from(c >> 4));
        out.push(match c & 0xf {
            cigar_op::S | cigar_op::H if hard => b'H',
            cigar_op::S | cigar_op::H => b'S',
            _ => op_char(c),
        });
    }
}

/// SEQ and QUAL of read positions `qb..qe`, reverse-complemented and
/// reversed for the reverse strand; QUAL `*` without qualities.
fn put_seq_qual(out: &mut Vec<u8>, read: &SamRead, qb: usize, qe: usize, is_rev: bool) {
    let seq = &read.seq[qb..qe];
    let base = |table: &[u8; 5], code: u8| table[usize::from(code.min(4))];
    if is_rev {
        out.extend(seq.iter().rev().map(|&c| base(COMPLEMENT, c)));
    } else {
        out.extend(seq.iter().map(|&c| base(FORWARD, c)));
    }
    out.push(b'\t');
    match read.qual {
        Some(q) if q.len() == read.seq.len() => {
            let q = &q[qb..qe];
            if is_rev {
                out.extend(q.iter().rev());
            } else {
                out.extend_from_slice(q);
            }
        }
        _ => out.push(b'*'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::{cigar_op as op, cigar_pack as p};

    fn contigs() -> Vec<SamContig> {
        ["c1", "c2"]
            .iter()
            .map(|n| SamContig {
                name: (*n).to_owned(),
                len: 1000,
                is_alt: false,
                anno: "an\tno".to_owned(),
            })
            .collect()
    }

    fn mapped(rid: i32, pos: i64, is_rev: bool, cigar: Vec<u32>) -> Aln {
        Aln {
            rid,
            pos,
            is_rev,
            cigar,
            md: "0".to_owned(),
            score: 7,
            sub: 0,
            ..Aln::unmapped(0)
        }
        .with_flag(0)
    }

    impl Aln {
        fn with_flag(mut self, flag: u32) -> Aln {
            self.flag = flag;
            self
        }
    }

    fn line(
        opts: &MemOptions,
        read: &SamRead,
        alns: &[Aln],
        which: usize,
        mate: Option<&Aln>,
    ) -> String {
        let contigs = contigs();
        let mut out = Vec::new();
        SamFormatter::new(&contigs, opts).write_record(&mut out, read, alns, which, mate);
        String::from_utf8(out).unwrap()
    }

    const SEQ: [u8; 6] = [0, 1, 2, 3, 4, 0];

    fn read() -> SamRead<'static> {
        SamRead {
            name: b"r",
            seq: &SEQ,
            qual: Some(b"ABCDEF"),
            comment: None,
        }
    }

    #[test]
    fn alt_records_keep_soft_clips_and_full_seq() {
        let first = mapped(0, 0, false, vec![p(4, op::M), p(2, op::S)]);
        let mut alt = mapped(1, 9, false, vec![p(2, op::S), p(4, op::M)]).with_flag(0x800);
        alt.is_alt = true;
        let text = line(&MemOptions::default(), &read(), &[first, alt], 1, None);
        assert!(
            text.starts_with("r\t2048\tc2\t10\t0\t2S4M\t*\t0\t0\tACGTNA\tABCDEF\t"),
            "{text}"
        );
    }

    #[test]
    fn mate_cigar_uses_the_current_records_clipping() {
        let first = mapped(0, 0, false, vec![p(4, op::M), p(2, op::S)]);
        let supp = mapped(1, 9, false, vec![p(2, op::S), p(4, op::M)]).with_flag(0x800);
        let mate = mapped(0, 100, true, vec![p(1, op::S), p(5, op::M)]);
        let alns = [first, supp];
        let o = MemOptions::default();
        let t0 = line(&o, &read(), &alns, 0, Some(&mate));
        let t1 = line(&o, &read(), &alns, 1, Some(&mate));
        assert!(t0.contains("\tMC:Z:1S5M\t"), "{t0}");
        assert!(t1.contains("\tMC:Z:1H5M\t"), "{t1}");
        // 5' ends: 0 forward, 100+5-1 reverse.
        assert!(t0.contains("\t=\t101\t105\t"), "{t0}");
        assert!(t1.contains("\tc1\t101\t0\t"), "{t1}");
        // Hard clipping of the forward supplementary drops its first 2 bases.
        assert!(t1.contains("\tGTNA\tCDEF\t"), "{t1}");
    }

    #[test]
    fn equal_five_prime_ends_give_zero_tlen() {
        let a = mapped(0, 10, false, vec![p(6, op::M)]);
        let b = mapped(0, 5, true, vec![p(6, op::M)]);
        let t = line(
            &MemOptions::default(),
            &read(),
            std::slice::from_ref(&a),
            0,
            Some(&b),
        );
        assert!(t.contains("\t=\t6\t0\t"), "{t}");
    }

    #[test]
    fn fasta_reads_print_star_quality_and_rev_strand_is_complemented() {
        let r = SamRead {
            qual: None,
            ..read()
        };
        let a = mapped(0, 0, true, vec![p(6, op::M)]);
        let t = line(&MemOptions::default(), &r, &[a], 0, None);
        assert!(t.contains("\tTNACGT\t*\t"), "{t}");
    }

    #[test]
    fn unmapped_read_with_mapped_mate_takes_its_place_and_prints_xr_under_v() {
        let mut o = MemOptions::default();
        o.flags.ref_header = true;
        let mate = mapped(1, 41, true, vec![p(6, op::M)]).with_flag(0x40);
        let me = Aln::unmapped(0x80);
        let t = line(&o, &read(), &[me], 0, Some(&mate));
        assert_eq!(
            t,
            "r\t181\tc2\t42\t0\t*\t=\t42\t0\tTNACGT\tFEDCBA\tMC:Z:6M\tAS:i:0\tXS:i:0\tXR:Z:an no\n"
        );
    }

    #[test]
    fn pa_tag_only_on_non_secondary_with_alt_score() {
        let mut a = mapped(0, 0, false, vec![p(6, op::M)]);
        a.score = 17;
        a.alt_sc = 16;
        let t = line(
            &MemOptions::default(),
            &read(),
            std::slice::from_ref(&a),
            0,
            None,
        );
        assert!(t.ends_with("\tAS:i:17\tXS:i:0\tpa:f:1.062\n"), "{t}");
        let sec = a.with_flag(0x100);
        let t = line(&MemOptions::default(), &read(), &[sec], 0, None);
        assert!(!t.contains("pa:f") && t.contains("\t*\t*\t"), "{t}");
    }

    proptest::proptest! {
        /// Hard-clipped SEQ keeps exactly the query bases the CIGAR aligns.
        #[test]
        fn hard_clipped_seq_is_the_aligned_part(
            head in 0u32..4, mid in 1u32..5, tail in 0u32..4, rev: bool
        ) {
            let len = (head + mid + tail) as usize;
            let seq: Vec<u8> = (0..len).map(|i| (i % 4) as u8).collect();
            let qual: Vec<u8> = (0..len).map(|i| b'!' + i as u8).collect();
            let r = SamRead { name: b"q", seq: &seq, qual: Some(&qual), comment: None };
            let mut cigar = Vec::new();
            if head > 0 { cigar.push(p(head, op::S)); }
            cigar.push(p(mid, op::M));
            if tail > 0 { cigar.push(p(tail, op::S)); }
            let first = mapped(0, 0, false, vec![p(len as u32, op::M)]);
            let supp = mapped(0, 50, rev, cigar).with_flag(0x800);
            let t = line(&MemOptions::default(), &r, &[first, supp], 1, None);
            let fields: Vec<&str> = t.split('\t').collect();
            // SEQ is in reference orientation: the clips to drop are
            // the CIGAR's, whichever strand.
            let oriented: Vec<u8> = if rev {
                seq.iter().rev().map(|&c| COMPLEMENT[c as usize]).collect()
            } else {
                seq.iter().map(|&c| FORWARD[c as usize]).collect()
            };
            proptest::prop_assert_eq!(fields[9].as_bytes(), &oriented[head as usize..(head + mid) as usize]);
        }
    }
}
