//! How a batch file stores a column of numbers: one MessagePack `bin`
//! holding the values' little-endian bytes back to back (`u64`: 8 bytes
//! each; `bool`: one byte, 0 or 1), not a MessagePack array of integers.
//!
//! A column is then written and read as one block of bytes: encoding and
//! decoding an array element by element took about a third of the CPU of
//! the stage jobs that compute little (`pair` on synth3g's regions), and
//! zstd packs the fixed-width bytes as tightly as the variable-width
//! integers. In Python a column is `numpy.frombuffer(b, "<u8")` (or `<i4`,
//! `<f4`, `?`...).
//!
//! Use as `#[serde(with = "crate::batch::columns")]` on a `Vec<T>` field of
//! a [`Plain`] type.

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

/// A number stored in a column as `SIZE` little-endian bytes.
pub trait Plain: Copy {
    /// Bytes per value.
    const SIZE: usize;
    /// The type's name in error messages.
    const NAME: &'static str;
    /// Writes the value into `out` (`SIZE` bytes).
    fn put(self, out: &mut [u8]);
    /// The value of `b` (`SIZE` bytes), `None` if no value has these bytes.
    fn get(b: &[u8]) -> Option<Self>;
}

macro_rules! plain_numbers {
    ($($t:ty),+) => {$(
        impl Plain for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            const NAME: &'static str = stringify!($t);
            #[inline(always)]
            fn put(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
            #[inline(always)]
            fn get(b: &[u8]) -> Option<Self> {
                b.try_into().ok().map(<$t>::from_le_bytes)
            }
        }
    )+};
}

plain_numbers!(u32, u64, i32, i64, f32, f64);

impl Plain for bool {
    const SIZE: usize = 1;
    const NAME: &'static str = "bool";
    #[inline(always)]
    fn put(self, out: &mut [u8]) {
        out[0] = self as u8;
    }
    #[inline(always)]
    fn get(b: &[u8]) -> Option<Self> {
        match b {
            [0] => Some(false),
            [1] => Some(true),
            _ => None,
        }
    }
}

/// The bytes of a column.
pub fn to_bytes<T: Plain>(values: &[T]) -> Vec<u8> {
    let mut bytes = vec![0u8; values.len() * T::SIZE];
    for (out, v) in bytes.chunks_exact_mut(T::SIZE).zip(values) {
        v.put(out);
    }
    bytes
}

/// The column of `bytes`, or why they are not one.
pub fn from_bytes<T: Plain>(bytes: &[u8]) -> Result<Vec<T>, String> {
    if !bytes.len().is_multiple_of(T::SIZE) {
        return Err(format!(
            "a column of {} with {} bytes, not a multiple of {}",
            T::NAME,
            bytes.len(),
            T::SIZE
        ));
    }
    bytes
        .chunks_exact(T::SIZE)
        .enumerate()
        .map(|(i, b)| {
            T::get(b).ok_or_else(|| format!("entry {i} of a column of {} is {b:?}", T::NAME))
        })
        .collect()
}

/// Serialises `values` as one `bin`.
pub fn serialize<T: Plain, S: Serializer>(values: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(&to_bytes(values))
}

/// Deserialises a column from one `bin` (a MessagePack array is refused).
pub fn deserialize<'de, T: Plain, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct Column<T>(std::marker::PhantomData<T>);
    impl<T: Plain> Visitor<'_> for Column<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a column of {} as bytes", T::NAME)
        }
        fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Vec<T>, E> {
            from_bytes(b).map_err(E::custom)
        }
    }
    d.deserialize_bytes(Column(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Cols {
        #[serde(with = "super")]
        a: Vec<u64>,
        #[serde(with = "super")]
        b: Vec<i32>,
        #[serde(with = "super")]
        c: Vec<bool>,
        #[serde(with = "super")]
        d: Vec<f32>,
    }

    #[test]
    fn columns_round_trip_as_little_endian_bins() {
        let cols = Cols {
            a: vec![0, 1, u64::MAX, 1 << 40],
            b: vec![-1, i32::MIN, 7],
            c: vec![true, false],
            d: vec![0.5, -2.25],
        };
        let bytes = rmp_serde::to_vec_named(&cols).unwrap();
        // `a` is a bin8 of 32 bytes, the first value 0, the second 1.
        let key = b"\xa1a\xc4\x20";
        let at = bytes.windows(4).position(|w| w == key).unwrap() + 4;
        assert_eq!(
            bytes[at..at + 16],
            [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
        );
        let back: Cols = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back, cols);
    }

    #[test]
    fn bad_columns_are_refused() {
        assert!(from_bytes::<u64>(&[0; 12])
            .unwrap_err()
            .contains("multiple of 8"));
        assert!(from_bytes::<bool>(&[0, 1, 2])
            .unwrap_err()
            .contains("entry 2"));
        assert_eq!(from_bytes::<i32>(&[]).unwrap(), Vec::<i32>::new());
        // An array of integers (the old layout) is not a column.
        #[derive(serde::Serialize)]
        struct Old {
            a: Vec<u64>,
        }
        #[derive(Debug, serde::Deserialize)]
        struct New {
            #[serde(with = "super")]
            #[allow(dead_code)]
            a: Vec<u64>,
        }
        let old = rmp_serde::to_vec_named(&Old { a: vec![1, 2] }).unwrap();
        assert!(rmp_serde::from_slice::<New>(&old).is_err());
    }
}
