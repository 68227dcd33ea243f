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
/// larger); of equal numbers, the one with more leading zeros sorts
/// first (`a001`, `a01`, `a1`, as samtools sort -n orders them).
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
            // zeros) sorts first.
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Ordering::*;

    #[test]
    fn names_compare_naturally_as_in_samtools() {
        let cases: [(&str, &str, Ordering); 10] = [
            ("a1", "a2", Less),
            ("a10", "a9", Greater),
            ("a1", "a01", Greater),
            ("a001", "a01", Less),
            ("a", "ab", Less),
            ("r1:2", "r1:10", Less),
            ("abc", "abd", Less),
            ("x12y3", "x12y3", Equal),
            ("x12y", "x12", Greater),
            ("9", "a", Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(strnum_cmp(a.as_bytes(), b.as_bytes()), want, "{a} vs {b}");
            assert_eq!(
                strnum_cmp(b.as_bytes(), a.as_bytes()),
                want.reverse(),
                "{b} vs {a}"
            );
        }
    }

    proptest! {
        /// A total order: antisymmetric and transitive, equal only when
        /// the names are.
        #[test]
        fn strnum_cmp_is_a_total_order(
            a in "[a0-2:]{0,6}", b in "[a0-2:]{0,6}", c in "[a0-2:]{0,6}"
        ) {
            let (a, b, c) = (a.as_bytes(), b.as_bytes(), c.as_bytes());
            prop_assert_eq!(strnum_cmp(a, b), strnum_cmp(b, a).reverse());
            prop_assert_eq!(strnum_cmp(a, b) == Equal, a == b);
            if strnum_cmp(a, b) != Greater && strnum_cmp(b, c) != Greater {
                prop_assert_ne!(strnum_cmp(a, c), Greater);
            }
        }
    }

    /// A record's fixed fields with `name`, for key tests.
    fn record(tid: i32, pos: i32, flag: u16, name: &[u8]) -> Vec<u8> {
        let mut r = vec![0u8; 36];
        r[4..8].copy_from_slice(&tid.to_le_bytes());
        r[8..12].copy_from_slice(&pos.to_le_bytes());
        r[12] = name.len() as u8 + 1;
        r[18..20].copy_from_slice(&flag.to_le_bytes());
        r.extend_from_slice(name);
        r.push(0);
        r
    }

    #[test]
    fn coordinate_keys_put_unplaced_last_and_forward_first() {
        let key = |tid, pos, flag| SortOrder::Coordinate.primary(&record(tid, pos, flag, b"r"), 3);
        assert!(key(0, 5, 0) < key(0, 5, 16));
        assert!(key(0, 5, 16) < key(0, 6, 0));
        assert!(key(0, i32::MAX - 1, 16) < key(1, -1, 0));
        assert!(key(2, i32::MAX - 1, 16) < key(-1, -1, 0));
        assert!(key(0, -1, 0) < key(0, 0, 0));
    }

    #[test]
    fn queryname_keys_compare_names_then_mate_bits_then_input_order() {
        let o = SortOrder::QueryName;
        let (r1, r2) = (record(0, 9, 0x40, b"q10"), record(0, 1, 0x80, b"q10"));
        let r3 = record(0, 1, 0x40, b"q9");
        let k = |r: &[u8], ord| Key {
            primary: o.primary(r, 1),
            ord,
        };
        assert_eq!(o.cmp(k(&r1, 5), &r1, k(&r2, 1), &r2), Less);
        assert_eq!(o.cmp(k(&r3, 9), &r3, k(&r1, 0), &r1), Less);
        assert_eq!(o.cmp(k(&r1, 1), &r1, k(&r1, 2), &r1), Less);
        assert_eq!(name(&r1), b"q10");
        assert_eq!(end_pos(&r1), 10);
    }
}
