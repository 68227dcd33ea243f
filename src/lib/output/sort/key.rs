//! The orders `samtools sort` (1.x) writes, on encoded BAM records (each
//! with its 4-byte length first):
//!
//! * coordinate: reference id (unplaced, id -1, last), then `POS`, then
//!   the reverse-strand flag;
//! * queryname: the names in "natural" order ([`strnum_cmp`]: runs of
//!   digits compare as numbers), then the `READ1`/`READ2` flag bits.
//!
//! samtools keeps ties in input order (a stable sort and a merge that
//! prefers the earlier run). Here every record carries its input ordinal,
//! the last part of the key, so that the order is total and does not
//! depend on how records were cut into runs.

use std::cmp::Ordering;

/// The sort orders of `--sort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Coordinate,
    QueryName,
}

impl SortOrder {
    /// The order `name` names (`coordinate` or `queryname`).
    pub fn from_name(name: &str) -> Option<SortOrder> {
        match name {
            "coordinate" => Some(SortOrder::Coordinate),
            "queryname" => Some(SortOrder::QueryName),
            _ => None,
        }
    }

    /// The `@HD SO:` value samtools writes for this order.
    pub fn name(self) -> &'static str {
        match self {
            SortOrder::Coordinate => "coordinate",
            SortOrder::QueryName => "queryname",
        }
    }

    /// The part of the key held as a number: the whole key but for the
    /// ordinal in coordinate order (`n_ref` places unplaced records
    /// last), the `READ1`/`READ2` bits in queryname order (compared after
    /// the name).
    pub fn primary(self, rec: &[u8], n_ref: u32) -> u64 {
        match self {
            SortOrder::Coordinate => {
                let tid = field_i32(rec, 4);
                let tid = if tid < 0 { n_ref } else { tid as u32 };
                let pos = (i64::from(field_i32(rec, 8)) + 1).max(0) as u64;
                u64::from(tid) << 33 | pos << 1 | u64::from(flag(rec) & 0x10 != 0)
            }
            SortOrder::QueryName => u64::from(flag(rec) & 0xc0),
        }
    }

    /// Compares two records by their keys: `primary` and input ordinal as
    /// given, the names read from the records.
    #[inline]
    pub fn cmp(self, a: Key, ra: &[u8], b: Key, rb: &[u8]) -> Ordering {
        match self {
            SortOrder::Coordinate => (a.primary, a.ord).cmp(&(b.primary, b.ord)),
            SortOrder::QueryName => strnum_cmp(name(ra), name(rb))
                .then(a.primary.cmp(&b.primary))
                .then(a.ord.cmp(&b.ord)),
        }
    }
}

/// A record's sort key, but for the name: see [`SortOrder::primary`]; `ord`
/// is the record's place in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub primary: u64,
    pub ord: u64,
}

fn field_i32(rec: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(rec[at..at + 4].try_into().expect("4 bytes"))
}

/// The record's reference id.
pub fn tid(rec: &[u8]) -> i32 {
    field_i32(rec, 4)
}

/// The record's 0-based position.
pub fn pos(rec: &[u8]) -> i32 {
    field_i32(rec, 8)
}

/// The record's FLAG.
pub fn flag(rec: &[u8]) -> u16 {
    u16::from_le_bytes([rec[18], rec[19]])
}

/// The record's query name, without its NUL.
pub fn name(rec: &[u8]) -> &[u8] {
    let len = usize::from(rec[12]).saturating_sub(1);
    &rec[36..36 + len]
}

/// One past the last reference base the record covers, as htslib's
/// `bam_endpos`: `POS + 1` when unmapped or without reference-consuming
/// CIGAR operations (the `CG` tag's long CIGAR is covered by the `N`
/// operation of its stand-in).
pub fn end_pos(rec: &[u8]) -> i64 {
    let pos = i64::from(pos(rec));
    let n_cigar = usize::from(u16::from_le_bytes([rec[16], rec[17]]));
    if flag(rec) & 0x4 != 0 || n_cigar == 0 {
        return pos + 1;
    }
    let at = 36 + usize::from(rec[12]);
    let rlen: i64 = rec[at..at + 4 * n_cigar]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .filter(|c| matches!(c & 15, 0 | 2 | 3 | 7 | 8))
        .map(|c| i64::from(c >> 4))
        .sum();
    if rlen == 0 {
        pos + 1
    } else {
        pos + rlen
    }
}

/// samtools' "natural" name order: names compare byte by byte, but runs
/// of digits compare as numbers (leading zeros skipped; a longer run is
/// larger); equal numbers with more leading zeros sort later.
pub fn strnum_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let digit = |s: &[u8], i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if !(digit(a, i) && digit(b, j)) {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
            continue;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        while digit(a, i) && digit(b, j) && a[i] == b[j] {
            i += 1;
            j += 1;
        }
        match (digit(a, i), digit(b, j)) {
            (true, true) => {
                // The numbers differ here: the longer is larger, else the
                // first differing digit decides.
                let mut k = 0;
                while digit(a, i + k) && digit(b, j + k) {
                    k += 1;
                }
                return match (digit(a, i + k), digit(b, j + k)) {
                    (true, _) => Ordering::Greater,
                    (_, true) => Ordering::Less,
                    _ => a[i].cmp(&b[j]),
                };
            }
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            // Equal numbers: the one that took more characters (leading
            // zeros) sorts later.
            (false, false) if i != j => return i.cmp(&j).reverse(),
            (false, false) => {}
        }
    }
    // What is left: the string with characters left is the larger.
    match (i < a.len(), j < b.len()) {
        (true, _) => Ordering::Greater,
        (_, true) => Ordering::Less,
        _ => Ordering::Equal,
    }
}
