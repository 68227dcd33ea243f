//! Sorted runs: records held in memory with their keys, sorted, and
//! spilled to a temporary file when memory is short; the k-way merge of
//! the runs at the end.
//!
//! A spilled run is a BGZF file (level 1, as samtools' temporary files)
//! of `[ordinal: u64][record]` entries, in order; it is read back block by
//! block while merging.

use std::cmp::Ordering;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use rayon::slice::ParallelSliceMut;

use super::key::{Key, SortOrder};
use crate::cleanup::TempFile;
use crate::output::bgzf::{BlockCompressor, BlockFiller, Level, EOF};

/// A record's place in a run: its key and where its bytes are.
#[derive(Debug, Clone, Copy)]
struct Entry {
    primary: u64,
    ord: u64,
    chunk: u32,
    at: u32,
}

/// Bytes of memory an entry takes besides its record.
pub const ENTRY_BYTES: usize = std::mem::size_of::<Entry>();

/// Encoded records as a job made them, with their keys.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Records, each with its 4-byte length.
    pub data: Vec<u8>,
    /// Each record's key and where it starts in `data`.
    pub keys: Vec<(Key, u32)>,
}

impl Chunk {
    /// Memory the chunk holds once in a run.
    pub fn size(&self) -> usize {
        self.data.len() + self.keys.len() * ENTRY_BYTES
    }
}

/// Records held in memory, in the order they came.
#[derive(Debug, Default)]
pub struct RunBuffer {
    chunks: Vec<Vec<u8>>,
    entries: Vec<Entry>,
    bytes: usize,
}

impl RunBuffer {
    pub fn add(&mut self, chunk: Chunk) {
        self.bytes += chunk.size();
        let c = self.chunks.len() as u32;
        self.entries.extend(chunk.keys.iter().map(|&(k, at)| Entry {
            primary: k.primary,
            ord: k.ord,
            chunk: c,
            at,
        }));
        self.chunks.push(chunk.data);
    }

    /// Memory held: records and entries.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn record(&self, e: &Entry) -> &[u8] {
        record_at(&self.chunks[e.chunk as usize], e.at as usize)
    }

    fn key(e: &Entry) -> Key {
        Key {
            primary: e.primary,
            ord: e.ord,
        }
    }

    /// Sorts the entries on this thread.
    pub fn sort(&mut self, order: SortOrder) {
        let mut entries = std::mem::take(&mut self.entries);
        match order {
            SortOrder::Coordinate => entries.sort_unstable_by_key(|e| (e.primary, e.ord)),
            SortOrder::QueryName => entries.sort_unstable_by(|a, b| self.cmp(order, a, b)),
        }
        self.entries = entries;
    }

    /// Sorts the entries on the current rayon pool.
    pub fn par_sort(&mut self, order: SortOrder) {
        let mut entries = std::mem::take(&mut self.entries);
        match order {
            SortOrder::Coordinate => entries.par_sort_unstable_by_key(|e| (e.primary, e.ord)),
            SortOrder::QueryName => entries.par_sort_unstable_by(|a, b| self.cmp(order, a, b)),
        }
        self.entries = entries;
    }

    /// The number of records.
    pub fn count(&self) -> usize {
        self.entries.len()
    }

    /// The `i`th record in entry order.
    pub fn get(&self, i: usize) -> &[u8] {
        self.record(&self.entries[i])
    }

    fn cmp(&self, order: SortOrder, a: &Entry, b: &Entry) -> Ordering {
        order.cmp(Self::key(a), self.record(a), Self::key(b), self.record(b))
    }

    /// Writes the (sorted) run to a temporary file in `dir`.
    pub fn spill(&self, dir: &Path, stem: &str) -> io::Result<SpilledRun> {
        let mut file = TempFile::create_in(dir, stem).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("creating a temporary file in {}: {e}", dir.display()),
            )
        })?;
        let name = file.path().display().to_string();
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{name}: {e}"));
        {
            let mut out = BufWriter::with_capacity(1 << 20, file.file());
            let mut compressor = BlockCompressor::new(Level::new(1).expect("a level"));
            let mut filler = BlockFiller::default();
            let mut packed = Vec::new();
            for e in &self.entries {
                for piece in [&e.ord.to_le_bytes()[..], self.record(e)] {
                    filler.bytes(piece, |b| compressor.block(b, &mut packed));
                }
                if packed.len() >= 1 << 16 {
                    out.write_all(&packed).map_err(named)?;
                    packed.clear();
                }
            }
            filler.finish(|b| compressor.block(b, &mut packed));
            packed.extend_from_slice(&EOF);
            out.write_all(&packed).map_err(named)?;
            out.flush().map_err(named)?;
        }
        Ok(SpilledRun { file })
    }
}

/// The record starting at `at` in `data` (4-byte length first).
fn record_at(data: &[u8], at: usize) -> &[u8] {
    let len = u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes")) as usize;
    &data[at..at + 4 + len]
}

/// A sorted run on disk.
#[derive(Debug)]
pub struct SpilledRun {
    file: TempFile,
}

/// One input of the merge: a run in memory or on disk, at its next record.
enum Source<'a> {
    Memory {
        run: &'a RunBuffer,
        at: usize,
    },
    Disk {
        reader: noodles_bgzf::io::Reader<BufReader<File>>,
        name: String,
        key: Key,
        rec: Vec<u8>,
        done: bool,
    },
}

impl Source<'_> {
    fn head(&self) -> Option<(Key, &[u8])> {
        match self {
            Source::Memory { run, at } => run
                .entries
                .get(*at)
                .map(|e| (RunBuffer::key(e), run.record(e))),
            Source::Disk { key, rec, done, .. } => (!done).then_some((*key, &rec[..])),
        }
    }

    fn advance(&mut self, order: SortOrder, n_ref: u32) -> io::Result<()> {
        match self {
            Source::Memory { at, .. } => *at += 1,
            Source::Disk {
                reader,
                name,
                key,
                rec,
                done,
            } => {
                let mut ord = [0u8; 8];
                match read_full(reader, &mut ord) {
                    Ok(false) => {
                        *done = true;
                        return Ok(());
                    }
                    Ok(true) => {}
                    Err(e) => return Err(io::Error::new(e.kind(), format!("{name}: {e}"))),
                }
                let bad = |what: &str| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("{name}: {what}"))
                };
                let mut len = [0u8; 4];
                if !read_full(reader, &mut len).map_err(|_| bad("cut short"))? {
                    return Err(bad("cut short"));
                }
                let n = u32::from_le_bytes(len) as usize;
                if n < 32 {
                    return Err(bad("a record shorter than its fixed fields"));
                }
                rec.clear();
                rec.extend_from_slice(&len);
                rec.resize(4 + n, 0);
                reader
                    .read_exact(&mut rec[4..])
                    .map_err(|_| bad("cut short"))?;
                *key = Key {
                    primary: order.primary(rec, n_ref),
                    ord: u64::from_le_bytes(ord),
                };
            }
        }
        Ok(())
    }
}

/// Fills `buf`; `false` when the input ends before its first byte.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Merges the sorted `memory` run and the spilled `runs`, handing each
/// record to `each` in order. The spilled runs' files are removed when
/// this returns.
pub fn merge(
    order: SortOrder,
    n_ref: u32,
    memory: &RunBuffer,
    runs: Vec<SpilledRun>,
    mut each: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut sources = vec![Source::Memory { run: memory, at: 0 }];
    for run in &runs {
        let name = run.file.path().display().to_string();
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{name}: {e}"));
        let mut file = File::open(run.file.path()).map_err(named)?;
        file.seek(SeekFrom::Start(0)).map_err(named)?;
        let reader = noodles_bgzf::io::Reader::new(BufReader::with_capacity(1 << 16, file));
        let mut s = Source::Disk {
            reader,
            name,
            key: Key { primary: 0, ord: 0 },
            rec: Vec::new(),
            done: false,
        };
        s.advance(order, n_ref)?;
        sources.push(s);
    }
    let less = |s: &[Source], i: usize, j: usize| -> bool {
        match (s[i].head(), s[j].head()) {
            (Some((ka, ra)), Some((kb, rb))) => order.cmp(ka, ra, kb, rb) == Ordering::Less,
            (Some(_), None) => true,
            _ => false,
        }
    };
    let mut heap: Vec<usize> = (0..sources.len())
        .filter(|&i| sources[i].head().is_some())
        .collect();
    // Heapify.
    for i in (0..heap.len() / 2).rev() {
        sift_down(&mut heap, i, |a, b| less(&sources, a, b));
    }
    while let Some(&top) = heap.first() {
        let (_, rec) = sources[top]
            .head()
            .expect("sources in the heap have records");
        each(rec)?;
        sources[top].advance(order, n_ref)?;
        if sources[top].head().is_none() {
            heap.swap_remove(0);
        }
        sift_down(&mut heap, 0, |a, b| less(&sources, a, b));
    }
    drop(sources);
    drop(runs);
    Ok(())
}

/// Restores the heap property below `i` (a min-heap by `less`).
fn sift_down(heap: &mut [usize], mut i: usize, less: impl Fn(usize, usize) -> bool) {
    loop {
        let (l, r) = (2 * i + 1, 2 * i + 2);
        let mut m = i;
        if l < heap.len() && less(heap[l], heap[m]) {
            m = l;
        }
        if r < heap.len() && less(heap[r], heap[m]) {
            m = r;
        }
        if m == i {
            return;
        }
        heap.swap(i, m);
        i = m;
    }
}
