//! SAM text to BAM (SAM/BAM specification §4.2): the header, and records
//! encoded line by line as htslib's `sam_parse1` and `bam_write1` encode
//! them, so that `samtools view` of ferrous's BAM prints what it prints
//! for ferrous's SAM converted by `samtools view -b`.
//!
//! Hand-written rather than through `noodles-sam` and `noodles-bam`:
//! `noodles` writes every integer tag as `i` (int32), where htslib (and
//! so `samtools view -b`, `samtools sort`) takes the smallest type; the
//! lines come from ferrous's own formatter, so the parser can be short;
//! and it is no slower than parsing into `noodles` records and encoding
//! those (`cargo bench --bench bam_encode`). The tests encode the same
//! lines with `noodles` and compare the fields and tags.
//!
//! Choices that follow htslib: an integer tag takes the smallest type that
//! holds it (`C`, `S`, `I` if not negative, else `c`, `s`, `i`); `f` is
//! parsed as a double and rounded to single precision; the bin of a
//! record without a mapped CIGAR covers one base (4680 when unplaced); a
//! CIGAR of more than 65,535 operations moves to a `CG:B:I` tag behind a
//! `<len>S<rlen>N` stand-in; the query name may not exceed 254 bytes.

use std::collections::HashMap;

use thiserror::Error;

/// A SAM line that cannot be written as BAM.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("read {name}: cannot be written as BAM: {what}")]
pub struct RecordError {
    /// The record's query name (or its first bytes).
    pub name: String,
    pub what: String,
}

/// The reference sequences of a header (its `@SQ` lines), for record
/// encoding: names to ids, and the BAM header block.
#[derive(Debug, Clone, Default)]
pub struct BamHeader {
    refs: Vec<(Vec<u8>, u32)>,
    ids: HashMap<Vec<u8>, i32>,
}

/// A header line that cannot be written as BAM.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("header line {line:?}: {what}")]
pub struct HeaderError {
    pub line: String,
    pub what: &'static str,
}

impl BamHeader {
    /// The references of the SAM header `text`: each `@SQ` line's `SN`
    /// and `LN`, in order.
    pub fn from_sam(text: &[u8]) -> Result<BamHeader, HeaderError> {
        let mut h = BamHeader::default();
        for line in text.split(|&c| c == b'\n') {
            if !line.starts_with(b"@SQ\t") {
                continue;
            }
            let err = |what| HeaderError {
                line: String::from_utf8_lossy(line).into_owned(),
                what,
            };
            let field = |key: &[u8]| {
                line.split(|&c| c == b'\t')
                    .find(|f| f.starts_with(key))
                    .map(|f| &f[key.len()..])
            };
            let name = field(b"SN:").ok_or_else(|| err("no SN: field"))?;
            let len = field(b"LN:")
                .and_then(|l| std::str::from_utf8(l).ok()?.parse::<u32>().ok())
                .filter(|&l| l > 0 && l < 1 << 31)
                .ok_or_else(|| err("no valid LN: field"))?;
            let id = h.refs.len() as i32;
            if h.ids.insert(name.to_vec(), id).is_some() {
                return Err(err("a reference name given twice"));
            }
            h.refs.push((name.to_vec(), len));
        }
        Ok(h)
    }

    /// The references, name and length, in id order.
    pub fn refs(&self) -> &[(Vec<u8>, u32)] {
        &self.refs
    }

    /// The BAM header block for SAM header `text`: magic, text,
    /// references.
    pub fn encode(&self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(12 + text.len() + self.refs.len() * 32);
        out.extend_from_slice(b"BAM\x01");
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        out.extend_from_slice(text);
        out.extend_from_slice(&(self.refs.len() as u32).to_le_bytes());
        for (name, len) in &self.refs {
            out.extend_from_slice(&(name.len() as u32 + 1).to_le_bytes());
            out.extend_from_slice(name);
            out.push(0);
            out.extend_from_slice(&len.to_le_bytes());
        }
        out
    }

    fn id(&self, name: &[u8]) -> Option<i32> {
        self.ids.get(name).copied()
    }
}

/// 4-bit base codes (`seq_nt16_table`): `=ACMGRSVTWYHKDBN`, either case;
/// anything else is N.
const NT16: [u8; 256] = {
    let mut t = [15u8; 256];
    let codes = b"=ACMGRSVTWYHKDBN";
    let mut i = 0;
    while i < 16 {
        t[codes[i] as usize] = i as u8;
        t[codes[i].to_ascii_lowercase() as usize] = i as u8;
        i += 1;
    }
    t
};

/// CIGAR operation codes by letter (`MIDNSHP=X`), 255 for none.
const CIGAR_OP: [u8; 256] = {
    let mut t = [255u8; 256];
    let ops = b"MIDNSHP=X";
    let mut i = 0;
    while i < ops.len() {
        t[ops[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Whether a CIGAR operation consumes reference bases (M D N = X).
fn consumes_ref(op: u32) -> bool {
    matches!(op, 0 | 2 | 3 | 7 | 8)
}

/// htslib's `hts_reg2bin(beg, end, 14, 5)`: the smallest bin holding
/// `[beg, end)`.
pub fn reg2bin(beg: i64, end: i64) -> u16 {
    let end = end - 1;
    let mut s = 14;
    let mut t = ((1i64 << 15) - 1) / 7;
    for l in (1..=5).rev() {
        if beg >> s == end >> s {
            return (t + (beg >> s)) as u16;
        }
        s += 3;
        t -= 1 << (3 * (l - 1));
    }
    0
}

/// Per-thread buffers for [`encode_line`].
#[derive(Debug, Default)]
pub struct EncodeBuffers {
    cigar: Vec<u32>,
}

/// Encodes the SAM records in `text` (whole lines) and appends each, with
/// its 4-byte length, to `out`; `each` sees each record's bytes.
pub fn encode_text(
    header: &BamHeader,
    text: &[u8],
    bufs: &mut EncodeBuffers,
    out: &mut Vec<u8>,
    mut each: impl FnMut(&[u8]),
) -> Result<(), RecordError> {
    for line in text.split(|&c| c == b'\n') {
        if line.is_empty() {
            continue;
        }
        let at = out.len();
        encode_line(header, line, bufs, out)?;
        each(&out[at..]);
    }
    Ok(())
}

/// Encodes one SAM line (no newline) as a BAM record appended to `out`,
/// its 4-byte length first.
pub fn encode_line(
    header: &BamHeader,
    line: &[u8],
    bufs: &mut EncodeBuffers,
    out: &mut Vec<u8>,
) -> Result<(), RecordError> {
    let mut fields = line.splitn(12, |&c| c == b'\t');
    let qname = fields.next().unwrap_or_default();
    let fail = |what: String| RecordError {
        name: String::from_utf8_lossy(&qname[..qname.len().min(300)]).into_owned(),
        what,
    };
    let mut next = |what: &str| {
        fields
            .next()
            .ok_or_else(|| fail(format!("the line ends before its {what} field")))
    };
    let flag = next("FLAG")?;
    let rname = next("RNAME")?;
    let pos = next("POS")?;
    let mapq = next("MAPQ")?;
    let cigar_text = next("CIGAR")?;
    let rnext = next("RNEXT")?;
    let pnext = next("PNEXT")?;
    let tlen = next("TLEN")?;
    let seq = next("SEQ")?;
    let qual = next("QUAL")?;
    let tags = fields.next().unwrap_or_default();

    if qname.len() > 254 {
        return Err(fail("a query name longer than 254 characters".into()));
    }
    let num = |f: &[u8], what: &str| {
        parse_i64(f).ok_or_else(|| fail(format!("{what} {:?} is not a number", lossy(f))))
    };
    let mut flag = num(flag, "FLAG")? as u16;
    let ref_id = |name: &[u8]| -> Result<i32, RecordError> {
        if name == b"*" {
            return Ok(-1);
        }
        header.id(name).ok_or_else(|| {
            fail(format!(
                "contig {:?} is not in the header's @SQ lines",
                lossy(name)
            ))
        })
    };
    let tid = ref_id(rname)?;
    let pos = num(pos, "POS")? - 1;
    if tid < 0 {
        flag |= 0x4;
    }
    let mapq = num(mapq, "MAPQ")? as u8;

    bufs.cigar.clear();
    if cigar_text != b"*" {
        let mut len: u32 = 0;
        for &c in cigar_text {
            if c.is_ascii_digit() {
                len = len * 10 + u32::from(c - b'0');
            } else {
                let op = CIGAR_OP[c as usize];
                if op == 255 {
                    return Err(fail(format!("CIGAR {:?} is malformed", lossy(cigar_text))));
                }
                bufs.cigar.push(len << 4 | u32::from(op));
                len = 0;
            }
        }
    } else {
        flag |= 0x4;
    }
    let ref_len: i64 = bufs
        .cigar
        .iter()
        .filter(|&&c| consumes_ref(c & 15))
        .map(|&c| i64::from(c >> 4))
        .sum();
    let span = if flag & 0x4 != 0 || ref_len == 0 {
        1
    } else {
        ref_len
    };
    let bin = reg2bin(pos, pos + span);
    let mtid = if rnext == b"=" { tid } else { ref_id(rnext)? };
    let mpos = num(pnext, "PNEXT")? - 1;
    let tlen = num(tlen, "TLEN")?;
    let seq: &[u8] = if seq == b"*" { &[] } else { seq };
    let long_cigar = bufs.cigar.len() > 0xffff;

    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&tid.to_le_bytes());
    out.extend_from_slice(&(pos as i32).to_le_bytes());
    out.push(qname.len() as u8 + 1);
    out.push(mapq);
    out.extend_from_slice(&bin.to_le_bytes());
    let n_cigar = if long_cigar {
        2
    } else {
        bufs.cigar.len() as u16
    };
    out.extend_from_slice(&n_cigar.to_le_bytes());
    out.extend_from_slice(&flag.to_le_bytes());
    out.extend_from_slice(&(seq.len() as u32).to_le_bytes());
    out.extend_from_slice(&mtid.to_le_bytes());
    out.extend_from_slice(&(mpos as i32).to_le_bytes());
    out.extend_from_slice(&(tlen as i32).to_le_bytes());
    out.extend_from_slice(qname);
    out.push(0);
    if long_cigar {
        out.extend_from_slice(&((seq.len() as u32) << 4 | 4).to_le_bytes());
        out.extend_from_slice(&((ref_len as u32) << 4 | 3).to_le_bytes());
    } else {
        for c in &bufs.cigar {
            out.extend_from_slice(&c.to_le_bytes());
        }
    }
    for pair in seq.chunks(2) {
        let hi = NT16[pair[0] as usize] << 4;
        let lo = pair.get(1).map_or(0, |&b| NT16[b as usize]);
        out.push(hi | lo);
    }
    if qual == b"*" {
        out.resize(out.len() + seq.len(), 0xff);
    } else {
        if qual.len() != seq.len() {
            return Err(fail("QUAL and SEQ differ in length".into()));
        }
        if qual.iter().any(|&q| q < 33) {
            return Err(fail("a quality below '!'".into()));
        }
        out.extend(qual.iter().map(|&q| q - 33));
    }
    if !tags.is_empty() {
        for tag in tags.split(|&c| c == b'\t') {
            put_tag(tag, out).map_err(|what| fail(format!("tag {:?}: {what}", lossy(tag))))?;
        }
    }
    if long_cigar {
        out.extend_from_slice(b"CGBI");
        out.extend_from_slice(&(bufs.cigar.len() as u32).to_le_bytes());
        for c in &bufs.cigar {
            out.extend_from_slice(&c.to_le_bytes());
        }
    }
    let block_size = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&block_size.to_le_bytes());
    Ok(())
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A decimal integer, optionally signed.
fn parse_i64(f: &[u8]) -> Option<i64> {
    let (neg, digits) = match f.first()? {
        b'-' => (true, &f[1..]),
        b'+' => (false, &f[1..]),
        _ => (false, f),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(if neg { -v } else { v })
}

/// Appends one `TG:T:VALUE` tag in BAM form.
fn put_tag(tag: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    if tag.len() < 5 || tag[2] != b':' || tag[4] != b':' {
        return Err("not of the form TG:TYPE:VALUE");
    }
    let value = &tag[5..];
    out.extend_from_slice(&tag[..2]);
    match tag[3] {
        b'A' | b'a' | b'c' | b'C' => {
            let &[c] = value else {
                return Err("an A value is one character");
            };
            out.extend_from_slice(&[b'A', c]);
        }
        b'i' | b'I' => {
            let v = parse_i64(value).ok_or("not an integer")?;
            put_int(v, out)?;
        }
        b'f' => {
            let v = parse_float(value)?;
            out.push(b'f');
            out.extend_from_slice(&v.to_le_bytes());
        }
        b'd' => {
            let v: f64 = std::str::from_utf8(value)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or("not a number")?;
            out.push(b'd');
            out.extend_from_slice(&v.to_le_bytes());
        }
        b'Z' | b'H' => {
            if tag[3] == b'H' && !value.len().is_multiple_of(2) {
                return Err("a hex value has an odd number of digits");
            }
            out.push(tag[3]);
            out.extend_from_slice(value);
            out.push(0);
        }
        b'B' => put_array(value, out)?,
        _ => return Err("an unknown type"),
    }
    Ok(())
}

/// An integer in the smallest BAM type that holds it, as htslib chooses.
fn put_int(v: i64, out: &mut Vec<u8>) -> Result<(), &'static str> {
    if v < 0 {
        if v >= i64::from(i8::MIN) {
            out.extend_from_slice(&[b'c', v as i8 as u8]);
        } else if v >= i64::from(i16::MIN) {
            out.push(b's');
            out.extend_from_slice(&(v as i16).to_le_bytes());
        } else if v >= i64::from(i32::MIN) {
            out.push(b'i');
            out.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            return Err("an integer out of range");
        }
    } else if v <= i64::from(u8::MAX) {
        out.extend_from_slice(&[b'C', v as u8]);
    } else if v <= i64::from(u16::MAX) {
        out.push(b'S');
        out.extend_from_slice(&(v as u16).to_le_bytes());
    } else if v <= i64::from(u32::MAX) {
        out.push(b'I');
        out.extend_from_slice(&(v as u32).to_le_bytes());
    } else {
        return Err("an integer out of range");
    }
    Ok(())
}

/// A float as htslib reads it: a double rounded to single precision.
fn parse_float(value: &[u8]) -> Result<f32, &'static str> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map(|d| d as f32)
        .ok_or("not a number")
}

/// A `B` array: `T,v1,v2,...`.
fn put_array(value: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    let (&ty, rest) = value.split_first().ok_or("an empty B array")?;
    let items: Vec<&[u8]> = match rest {
        [] => Vec::new(),
        [b',', items @ ..] => items.split(|&c| c == b',').collect(),
        _ => return Err("the B array type is not followed by ','"),
    };
    out.extend_from_slice(&[b'B', ty]);
    out.extend_from_slice(&(items.len() as u32).to_le_bytes());
    for item in items {
        if ty == b'f' {
            out.extend_from_slice(&parse_float(item)?.to_le_bytes());
            continue;
        }
        let v = parse_i64(item).ok_or("not an integer")?;
        let fits = |lo: i64, hi: i64| (lo..=hi).contains(&v);
        match ty {
            b'c' if fits(-128, 127) => out.push(v as i8 as u8),
            b'C' if fits(0, 255) => out.push(v as u8),
            b's' if fits(-32768, 32767) => out.extend_from_slice(&(v as i16).to_le_bytes()),
            b'S' if fits(0, 65535) => out.extend_from_slice(&(v as u16).to_le_bytes()),
            b'i' if fits(i64::from(i32::MIN), i64::from(i32::MAX)) => {
                out.extend_from_slice(&(v as i32).to_le_bytes())
            }
            b'I' if fits(0, i64::from(u32::MAX)) => {
                out.extend_from_slice(&(v as u32).to_le_bytes())
            }
            b'c' | b'C' | b's' | b'S' | b'i' | b'I' => {
                return Err("a B array value out of its type's range")
            }
            _ => return Err("an unknown B array type"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use noodles_sam::alignment::io::Write as _;

    const HEADER: &[u8] =
        b"@SQ\tSN:chr1\tLN:248956422\n@SQ\tSN:c2\tLN:1000\n@PG\tID:ferrous\tPN:ferrous\n";

    /// The record as noodles encodes it (the reference this encoder is
    /// checked against).
    fn noodles_bytes(line: &[u8]) -> Vec<u8> {
        let mut text = HEADER.to_vec();
        text.extend_from_slice(line);
        text.push(b'\n');
        let mut reader = noodles_sam::io::Reader::new(&text[..]);
        let header = reader.read_header().expect("header");
        let record = reader
            .records()
            .next()
            .expect("a record")
            .expect("valid SAM");
        let mut writer = noodles_bam::io::Writer::from(Vec::new());
        writer
            .write_alignment_record(&header, &record)
            .expect("encodes");
        writer.get_ref().clone()
    }

    /// A BAM record's tags as noodles decodes them, integers widened (noodles
    /// writes every integer as `i`; htslib, and so ferrous, the smallest
    /// type that holds it).
    fn tags(rec: &[u8]) -> Vec<(Vec<u8>, String)> {
        let mut record = noodles_bam::Record::default();
        noodles_bam::io::Reader::from(rec)
            .read_record(&mut record)
            .expect("decodes");
        record
            .data()
            .iter()
            .map(|f| {
                let (tag, value) = f.expect("a tag");
                let text = match value.as_int() {
                    Some(n) => n.to_string(),
                    None => format!("{value:?}"),
                };
                (tag.as_ref().to_vec(), text)
            })
            .collect()
    }

    /// Where the tags of a record start.
    fn tags_start(rec: &[u8]) -> usize {
        let l_name = rec[12] as usize;
        let n_cigar = u16::from_le_bytes([rec[16], rec[17]]) as usize;
        let l_seq = u32::from_le_bytes(rec[20..24].try_into().unwrap()) as usize;
        36 + l_name + 4 * n_cigar + l_seq.div_ceil(2) + l_seq
    }

    fn ours(line: &[u8]) -> Vec<u8> {
        let h = BamHeader::from_sam(HEADER).unwrap();
        let mut out = Vec::new();
        encode_line(&h, line, &mut EncodeBuffers::default(), &mut out).expect("encodes");
        out
    }

    #[test]
    fn records_encode_as_noodles_encodes_them() {
        let lines: [&[u8]; 8] = [
            b"r1\t99\tchr1\t100\t60\t5S10M1D5M\t=\t300\t351\tACGTNACGTNACGTNACGTN\tABCDEFGHIJABCDEFGHIJ\tNM:i:1\tMD:Z:70^A75\tMC:Z:150M\tMQ:i:60\tAS:i:140\tXS:i:0\tRG:Z:g1",
            b"r2\t4\t*\t0\t0\t*\t*\t0\t0\tACGTA\t*\tAS:i:0\tXS:i:0",
            b"r3\t181\tc2\t42\t0\t*\t=\t42\t0\tTNACGT\tFEDCBA\tMC:Z:6M\tAS:i:0\tXS:i:0",
            b"r4\t2113\tchr1\t248956000\t3\t80H71M\tc2\t5\t0\t*\t*\tNM:i:300\tSA:Z:c2,5,+,80M71S,60,0;\tXA:Z:chr1,+5,71M,1;",
            b"r5\t0\tc2\t1\t60\t3M\t*\t0\t0\tacg\t!!~\tXS:i:-1\tXT:i:-200\tXU:i:-40000\tXV:i:70000\tXW:i:2147483647",
            b"r6\t0\tc2\t1\t60\t3M\t*\t0\t0\tACG\tIII\tpa:f:0.123\tXF:f:1e-3\tXA:A:x\tXH:H:1AE3\tXB:B:c,-1,2\tXC:B:S,1,65535\tXD:B:f,0.5,1.25\tXE:B:I",
            b"r7\t16\tchr1\t16385\t60\t10M16384N10M\t*\t0\t0\tACGTACGTACGTACGTACGT\t*",
            b"r8\t0\tchr1\t1\t60\t1=1X1M1I1P1D1N\t*\t0\t0\tACGT\tIIII",
        ];
        for line in lines {
            let (a, b) = (ours(line), noodles_bytes(line));
            let (ta, tb) = (tags_start(&a), tags_start(&b));
            assert_eq!(a[4..ta], b[4..tb], "{}", lossy(line));
            assert_eq!(tags(&a), tags(&b), "{}", lossy(line));
        }
    }

    #[test]
    fn a_cigar_of_more_than_65535_operations_moves_to_a_cg_tag() {
        let n = 70_000;
        let cigar = "1M1I".repeat(n / 2);
        let seq = "A".repeat(n);
        let line = format!("long\t0\tchr1\t1\t60\t{cigar}\t*\t0\t0\t{seq}\t*\tNM:i:0");
        let rec = ours(line.as_bytes());
        // n_cigar_op is 2 (the stand-in), the CG tag ends the record.
        assert_eq!(u16::from_le_bytes([rec[16], rec[17]]), 2);
        let tail = &rec[rec.len() - 4 * n - 8..];
        assert_eq!(&tail[..4], b"CGBI");
        assert_eq!(u32::from_le_bytes(tail[4..8].try_into().unwrap()), n as u32);
    }

    #[test]
    fn integers_take_the_smallest_type_as_in_htslib() {
        let rec = ours(b"r\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*\tXA:i:-1\tXB:i:-200\tXC:i:-40000\tXD:i:200\tXE:i:60000\tXF:i:4294967295");
        let t = &rec[tags_start(&rec)..];
        let types: Vec<u8> = [0usize, 4, 9, 16, 20, 25]
            .iter()
            .map(|&i| t[i + 2])
            .collect();
        assert_eq!(types, b"csiCSI");
    }

    #[test]
    fn bins_follow_htslib() {
        assert_eq!(reg2bin(-1, 0), 4680);
        assert_eq!(reg2bin(0, 1), 4681);
        assert_eq!(reg2bin(16383, 16385), 585);
        assert_eq!(reg2bin(0, 1 << 29), 0);
    }

    #[test]
    fn bad_lines_are_refused_naming_the_read() {
        let h = BamHeader::from_sam(HEADER).unwrap();
        let bad: [(&[u8], &str); 5] = [
            (b"r\t0\tchrX\t1\t60\t1M\t*\t0\t0\tA\tI", "chrX"),
            (
                b"r\t0\tc2\t1\t60\t1M\t*\t0\t0\tA\tI\tXX:i:1:2",
                "not an integer",
            ),
            (
                b"r\t0\tc2\t1\t60\t1M\t*\t0\t0\tA\tI\tbroken",
                "TG:TYPE:VALUE",
            ),
            (b"r\t0\tc2\t1\t60\t1M\t*\t0\t0\tAC\tI", "differ in length"),
            (b"r\t0\tc2\t1", "before its MAPQ"),
        ];
        for (line, what) in bad {
            let err = encode_line(&h, line, &mut EncodeBuffers::default(), &mut Vec::new())
                .expect_err("refused");
            assert_eq!(err.name, "r");
            assert!(err.to_string().contains(what), "{err}");
        }
        let long = format!("{}\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*", "n".repeat(255));
        assert!(encode_line(
            &h,
            long.as_bytes(),
            &mut EncodeBuffers::default(),
            &mut Vec::new()
        )
        .is_err());
    }

    #[test]
    fn the_header_block_lists_the_sq_lines() {
        let h = BamHeader::from_sam(HEADER).unwrap();
        let block = h.encode(HEADER);
        assert_eq!(&block[..4], b"BAM\x01");
        let mut reader = noodles_bam::io::Reader::from(&block[..]);
        let header = reader.read_header().expect("a BAM header");
        let names: Vec<String> = header
            .reference_sequences()
            .keys()
            .map(|k| k.to_string())
            .collect();
        assert_eq!(names, ["chr1", "c2"]);
        assert!(BamHeader::from_sam(b"@SQ\tSN:a\tLN:1\n@SQ\tSN:a\tLN:2\n").is_err());
        assert!(BamHeader::from_sam(b"@SQ\tSN:a\n").is_err());
    }
}
