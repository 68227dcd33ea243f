//! Number printing without allocation, with C `printf` semantics where
//! bwa relies on them.

/// The decimal text of an integer, on the stack.
pub(crate) struct IntText {
    buf: [u8; 20],
    start: usize,
}

impl IntText {
    pub(crate) fn new(v: i64) -> IntText {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        let mut n = v.unsigned_abs();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if v < 0 {
            i -= 1;
            buf[i] = b'-';
        }
        IntText { buf, start: i }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits and '-' were written.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// Appends the decimal text of `v`.
pub(crate) fn put_int(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(IntText::new(v).as_bytes());
}

/// Appends `x` as C's `printf("%.3f", x)` does for finite `x` (exact
/// binary value, ties to even, as glibc does).
pub(crate) fn put_fixed3(out: &mut Vec<u8>, x: f64) {
    use std::io::Write;
    // Rust formats the exact binary value and rounds ties to even, as
    // glibc does; writing into a Vec cannot fail.
    let _ = write!(out, "{x:.3}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int_text(v: i64) -> String {
        let mut out = Vec::new();
        put_int(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    fn fixed3_text(x: f64) -> String {
        let mut out = Vec::new();
        put_fixed3(&mut out, x);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn integers_match_std_formatting() {
        for v in [0, 1, -1, 9, 10, 4_194_303, i64::MAX, i64::MIN, -350] {
            assert_eq!(int_text(v), v.to_string());
            assert_eq!(IntText::new(v).as_str(), v.to_string());
        }
    }

    #[test]
    fn fixed3_matches_glibc_printf() {
        // Values from `printf '%.3f'` (glibc): ties go to even.
        let cases = [
            (0.0625, "0.062"),
            (1.0625, "1.062"),
            (0.5625, "0.562"),
            (0.95, "0.950"),
            (100.0 / 98.0, "1.020"),
            (2.0005, "2.001"),
            (1.0, "1.000"),
        ];
        for (x, want) in cases {
            assert_eq!(fixed3_text(x), want, "{x}");
        }
    }

    proptest::proptest! {
        #[test]
        fn int_writer_equals_to_string(v in proptest::num::i64::ANY) {
            proptest::prop_assert_eq!(int_text(v), v.to_string());
        }
    }
}
