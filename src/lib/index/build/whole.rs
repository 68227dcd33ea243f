//! The whole-text build: libsais sorts every suffix of `X` at once (32-bit
//! suffix array while `n` fits `i32`, 64-bit above). Simple and fast, and
//! the reference the blockwise build is tested against; it needs
//! [`super::whole_text_bytes`] of memory.

use libsais::SuffixArrayConstruction;

use super::rows::{RowSink, DOLLAR};
use super::{try_alloc, IndexError, Progress};
use std::io::{Seek, Write};
use std::path::Path;

/// Sorts the suffixes of `forward` + its reverse complement and pushes
/// every row into `sink`.
pub fn build<W: Write + Seek>(
    forward: Vec<u8>,
    sink: &mut RowSink<'_, W>,
    path: &Path,
    progress: Progress,
) -> Result<(), IndexError> {
    let l_pac = forward.len();
    let mut text = forward;
    text.try_reserve_exact(l_pac)
        .map_err(|_| IndexError::OutOfMemory {
            path: path.to_path_buf(),
            what: "the text and its reverse complement",
            bytes: 2 * l_pac as u64,
        })?;
    for i in (0..l_pac).rev() {
        let c = 3 - text[i];
        text.push(c);
    }
    let n = text.len();
    let sa_err = |e: libsais::LibsaisError| IndexError::SuffixArray {
        path: path.to_path_buf(),
        what: format!("{e:?}"),
    };
    if n < i32::MAX as usize {
        let mut sa = try_alloc::<i32>(n, "the suffix array", path)?;
        SuffixArrayConstruction::for_text(&text[..])
            .in_borrowed_buffer(&mut sa[..])
            .single_threaded()
            .run()
            .map_err(sa_err)?;
        progress.note(format_args!("suffix array (32-bit) sorted"));
        push_rows(&text, sa.iter().map(|&p| p as u32 as u64), sink)
    } else {
        let mut sa = try_alloc::<i64>(n, "the suffix array", path)?;
        SuffixArrayConstruction::for_text(&text[..])
            .in_borrowed_buffer(&mut sa[..])
            .single_threaded()
            .run()
            .map_err(sa_err)?;
        progress.note(format_args!("suffix array (64-bit) sorted"));
        push_rows(&text, sa.iter().map(|&p| p as u64), sink)
    }
}

/// Row 0 (the empty suffix `$`), then the suffix array's rows.
fn push_rows<W: Write + Seek>(
    text: &[u8],
    sa: impl Iterator<Item = u64>,
    sink: &mut RowSink<'_, W>,
) -> Result<(), IndexError> {
    let n = text.len() as u64;
    sink.push(n, text[n as usize - 1])?;
    for pos in sa {
        let c = if pos == 0 {
            DOLLAR
        } else {
            text[pos as usize - 1]
        };
        sink.push(pos, c)?;
    }
    Ok(())
}
