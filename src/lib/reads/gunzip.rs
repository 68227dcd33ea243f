//! Inflating gzip input (plain gzip, multi-member gzip, bgzip's BGZF).
//!
//! Inflating is the costliest part of reading a compressed FASTQ: one
//! decoder thread per file must keep up with every worker (docs/scaling.md,
//! "Headroom"). By default ferrous inflates with ISA-L's igzip (the `isal`
//! feature, through the `isal-rs` crate, which builds ISA-L from source and
//! so needs `nasm` and autotools at build time): on chr20's reads it
//! inflates in 0.11 s what zlib-rs inflates in 0.20 s. Without the feature
//! (`cargo build --no-default-features`) it is zlib-rs through `flate2`,
//! which is also the portable twin the tests compare ISA-L against.
//!
//! Both check every member's CRC and length, read member after member, and
//! report truncated or corrupt data as [`io::ErrorKind::InvalidData`] (or
//! `UnexpectedEof`), which the parser turns into a one-line gzip error.

#[cfg(any(test, feature = "isal"))]
use std::io;
use std::io::{BufReader, Read};

/// Size of the buffer that feeds compressed bytes to the decoder.
const GZ_IN_SIZE: usize = if cfg!(fuzzing) { 37 } else { 256 << 10 };

/// An inflating reader over the gzip bytes `compressed`. It is not `Send`
/// (ISA-L's state holds pointers into its own buffer): make it on the thread
/// that reads it.
pub(crate) fn decoder<R: Read + 'static>(compressed: R) -> Box<dyn Read> {
    #[cfg(feature = "isal")]
    {
        Box::new(Igzip::new(compressed))
    }
    #[cfg(not(feature = "isal"))]
    {
        portable(compressed)
    }
}

/// zlib-rs through `flate2`: the decoder without the `isal` feature.
#[cfg(any(test, not(feature = "isal")))]
pub(crate) fn portable<R: Read + 'static>(compressed: R) -> Box<dyn Read> {
    Box::new(flate2::bufread::MultiGzDecoder::new(
        BufReader::with_capacity(GZ_IN_SIZE, compressed),
    ))
}

/// ISA-L's inflate (`isal::read::GzipDecoder`), reading member after
/// member.
///
/// The crate's reader takes a call of `isal_inflate` that produces nothing
/// twice in a row as corrupt input, which a short read (a pipe delivering
/// a few bytes) can cause on good data; so its input comes through
/// [`FullReads`], which returns short reads only at the end of the input.
/// Its errors (all but those of the input itself) become `InvalidData`.
/// The crate's reader keeps pointers into its own input buffer once read
/// from, so it must not move after the first read: [`decoder`] boxes it.
#[cfg(feature = "isal")]
pub(crate) struct Igzip<R: Read> {
    inner: isal::read::GzipDecoder<FullReads<BufReader<R>>>,
}

#[cfg(feature = "isal")]
impl<R: Read> Igzip<R> {
    pub(crate) fn new(compressed: R) -> Self {
        let input = FullReads(BufReader::with_capacity(GZ_IN_SIZE, compressed));
        Igzip {
            inner: isal::read::GzipDecoder::new(input),
        }
    }
}

#[cfg(feature = "isal")]
impl<R: Read> Read for Igzip<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.inner.read(out).map_err(|e| {
            let Some(err) = e
                .get_ref()
                .and_then(|x| x.downcast_ref::<isal::error::Error>())
            else {
                return e; // the input's own error, passed through
            };
            let what = match err {
                isal::error::Error::DecompressionError(isal::DecompCode::IncorrectChecksum) => {
                    "a gzip member's CRC does not match its data".to_string()
                }
                isal::error::Error::Io(inner) => {
                    return io::Error::new(inner.kind(), inner.to_string())
                }
                other => format!("truncated or corrupt gzip data ({other})"),
            };
            io::Error::new(io::ErrorKind::InvalidData, what)
        })
    }
}

/// A reader whose reads fill the buffer unless the input ends first.
#[cfg(feature = "isal")]
pub(crate) struct FullReads<R>(pub R);

#[cfg(feature = "isal")]
impl<R: Read> Read for FullReads<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        super::source::read_up_to(&mut self.0, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Delivers at most `step` bytes per read, as a slow pipe does.
    struct Drip {
        data: Vec<u8>,
        pos: usize,
        step: usize,
    }

    impl Read for Drip {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let k = self.step.min(out.len()).min(self.data.len() - self.pos);
            out[..k].copy_from_slice(&self.data[self.pos..self.pos + k]);
            self.pos += k;
            Ok(k)
        }
    }

    fn gzip(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Text with FASTQ's mix of repeats and noise.
    fn text(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        let mut out = Vec::new();
        for i in 0..n {
            out.extend_from_slice(format!("@read{i}\n").as_bytes());
            for _ in 0..2 {
                for _ in 0..100 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    out.push(b"ACGTFFF:,#"[(x % 10) as usize]);
                }
                out.extend_from_slice(b"\n+\n");
            }
        }
        out
    }

    fn inflate(r: &mut dyn Read) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        r.read_to_end(&mut out).map(|_| out)
    }

    #[test]
    fn members_empty_members_and_short_reads() {
        let a = text(300, 7);
        let b = text(5, 9);
        // Members of several levels, empty ones among them (bgzip ends
        // with one), fed in reads of every size a pipe may give.
        let mut gz = gzip(&a, 6);
        gz.extend(gzip(b"", 6));
        gz.extend(gzip(&b, 1));
        gz.extend(gzip(b"", 9));
        let mut want = a.clone();
        want.extend_from_slice(&b);
        for step in [1, 3, 100, 70_000, usize::MAX] {
            let drip = || Drip {
                data: gz.clone(),
                pos: 0,
                step,
            };
            assert_eq!(inflate(&mut *decoder(drip())).unwrap(), want, "step {step}");
            assert_eq!(
                inflate(&mut *portable(drip())).unwrap(),
                want,
                "step {step}"
            );
        }
        assert!(inflate(&mut *decoder(io::Cursor::new(gzip(b"", 6))))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn damage_is_invalid_data_for_both_decoders() {
        let gz = gzip(&text(500, 3), 6);
        let mut cases: Vec<Vec<u8>> = [10, gz.len() / 2, gz.len() - 4, gz.len() - 1]
            .iter()
            .map(|&cut| gz[..cut].to_vec())
            .collect();
        let mut flipped = gz.clone();
        let mid = flipped.len() / 2;
        for b in &mut flipped[mid..mid + 16] {
            *b ^= 0x5a;
        }
        cases.push(flipped);
        let mut crc = gz.clone();
        let n = crc.len();
        crc[n - 6] ^= 1;
        cases.push(crc);
        let mut trailing = gz.clone();
        trailing.extend_from_slice(b"\x1f\x8b\x08garbage");
        cases.push(trailing);
        for (k, bad) in cases.into_iter().enumerate() {
            for (which, mut r) in [
                ("default", decoder(io::Cursor::new(bad.clone()))),
                ("portable", portable(io::Cursor::new(bad.clone()))),
            ] {
                let e = inflate(&mut *r).unwrap_err();
                assert!(
                    matches!(
                        e.kind(),
                        io::ErrorKind::InvalidData
                            | io::ErrorKind::UnexpectedEof
                            | io::ErrorKind::InvalidInput
                    ),
                    "case {k}, {which}: {e:?}"
                );
            }
        }
    }

    #[test]
    fn errors_of_the_input_pass_through() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::PermissionDenied, "no"))
            }
        }
        let e = inflate(&mut *decoder(Broken)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
    }
}
