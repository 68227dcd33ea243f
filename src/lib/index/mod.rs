//! The FM-index of a reference: what `bwa index` computes (packed forward
//! reference, contig and hole tables, BWT of forward + reverse complement,
//! occurrence counts, sampled suffix array), in one memory-mapped file
//! `PREFIX.fmi` (layout: `docs/index-format.md`).
//!
//! * [`build`] parses the FASTA and writes the file (`ferrous index`).
//! * [`FmIndex::open_for`] maps it, checks it, and copies the sections a
//!   job reads at random into memory.
//! * Search ([`FmIndex::extend`], [`FmIndex::sa`], ...) and reference access
//!   ([`FmIndex::get_seq`], [`FmIndex::fetch_seq`], ...) follow bwa's
//!   `bwt.c` and `bntseq.c` semantics (spec §2.7, §2.8), without allocating.

pub mod alt;
pub mod build;
pub mod contigs;
mod error;
pub mod fasta;
pub mod format;
pub mod frombwa;
mod in_place;
pub mod occ;
pub mod search;

use std::fs::File;
use std::path::{Path, PathBuf};

pub use alt::{alt_path, AltContigs, AltError, AltFile};
pub use build::{build_index, Algorithm, BuildOptions, BuildSummary};
pub use contigs::{Contig, Hole};
pub use error::{human_bytes, IndexError};
pub use fasta::nt4;
pub use format::{Meta, FORMAT_VERSION};
pub use frombwa::{bwa_prefix, convert_bwa_index};
pub use occ::OccBlock;
pub use search::BiInterval;

use format::{Header, HeaderProblem, Section, SectionEntry};

/// File-name extension of an index.
pub const INDEX_EXT: &str = "fmi";

/// The bytes of an index file: a read-only mapping (of the file, or of
/// anonymous memory holding an image of it), or an owned buffer aligned to
/// 64 bytes (in-memory builds, tests).
enum Backing {
    Mapped(memmap2::Mmap),
    Owned(Vec<OccBlock>, usize),
}

impl Backing {
    fn bytes(&self) -> &[u8] {
        match self {
            Backing::Mapped(m) => m,
            Backing::Owned(v, len) => {
                // SAFETY: `OccBlock` is plain `u64`s; the byte view covers
                // `len <= 64 * v.len()` initialised bytes of the vector.
                unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, *len) }
            }
        }
    }
}

/// Everything the sections of an open index point into: the file's bytes,
/// and where the sections read at random are (from [`FmIndex::open_for`]
/// in memory: possibly a copy in anonymous memory, which the index then
/// uses instead).
struct Storage {
    whole: Backing,
    random: Placement,
}

impl Storage {
    fn new(whole: Backing) -> Self {
        Storage {
            whole,
            random: Placement::Mapped,
        }
    }
}

/// [`Residence`], holding the copy where there is one (kept only to keep
/// it mapped: the index reads it through its section slices).
enum Placement {
    Mapped,
    HugeInPlace,
    Copied(#[allow(dead_code)] memmap2::Mmap),
}

/// Where the sections an open index reads at random (occurrences and SA)
/// are read from: see [`FmIndex::open_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Residence {
    /// The file's mapping, in whatever pages the page cache holds
    /// (`--mmap-index`; also a job that reads neither section, and an index
    /// held in memory).
    Mapped,
    /// The file's mapping, checked to be in 2 MiB pages: the page cache's
    /// copy used as it lies.
    HugeInPlace,
    /// A copy in anonymous memory (2 MiB pages where Linux can).
    Copied,
}

/// The big sections of an index a job reads (the small ones, contigs,
/// holes and meta, are always read). [`FmIndex::open_for`] checksums only
/// these and leaves the others out of reach: a stage job that reads 16 MB
/// of reference text does not check 94 MB of FM-index first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections {
    /// The packed reference (`.pac`): extension, rescue, SAM records, and
    /// seeding and chaining where they follow one occurrence or filter
    /// seeds of long reads.
    pub pac: bool,
    /// The occurrence table: seeding, and the LF walks of SA lookups.
    pub occ: bool,
    /// The sampled suffix array: SA lookups (seeding, chaining).
    pub sa: bool,
}

impl Sections {
    /// Every section: `ferrous mem`, seeding, chaining.
    pub const ALL: Sections = Sections {
        pac: true,
        occ: true,
        sa: true,
    };
    /// Only the reference text: extension, rescue, SAM records.
    pub const TEXT: Sections = Sections {
        pac: true,
        occ: false,
        sa: false,
    };
    /// None: contig names and lengths only (pairing).
    pub const NONE: Sections = Sections {
        pac: false,
        occ: false,
        sa: false,
    };

    fn has(self, s: Section) -> bool {
        match s {
            Section::Pac => self.pac,
            Section::Occ => self.occ,
            Section::Sa => self.sa,
            Section::Contigs | Section::Holes | Section::Meta => true,
        }
    }
}

/// The sections [`FmIndex::open_for`] copies into memory (unless mapped):
/// those read at random, whose lookups the TLB misses on 4 KiB pages.
const COPIED: [Section; 2] = [Section::Occ, Section::Sa];

/// An opened FM-index. Read-only and shareable across threads.
pub struct FmIndex {
    storage: Storage,
    path: PathBuf,
    header: Header,
    meta: Meta,
    contigs: Vec<Contig>,
    holes: Vec<Hole>,
    pac: RawSlice<u8>,
    occ: RawSlice<OccBlock>,
    sa: RawSlice<u8>,
    /// The low `8 * sa_width` bits set.
    sa_mask: u64,
    /// The big sections in reach; the others are empty slices.
    sections: Sections,
    /// Whether this CPU has POPCNT: see [`FmIndex::hw_popcnt`].
    hw_popcnt: bool,
}

/// A slice into `FmIndex::storage`, kept as a pointer so hot lookups do not
/// re-derive it from the storage enum. Valid as long as the storage lives:
/// the mapping or heap buffer never moves when `FmIndex` moves.
#[derive(Clone, Copy)]
struct RawSlice<T> {
    ptr: *const T,
    len: usize,
}

impl<T> RawSlice<T> {
    /// The elements as bytes.
    ///
    /// # Safety
    /// The storage the slice points into must outlive the result.
    unsafe fn bytes<'a>(self) -> &'a [u8] {
        std::slice::from_raw_parts(self.ptr as *const u8, self.len * std::mem::size_of::<T>())
    }

    /// A section out of reach: no element, so any access is out of bounds.
    fn empty() -> Self {
        RawSlice {
            ptr: std::ptr::NonNull::dangling().as_ptr(),
            len: 0,
        }
    }

    /// # Safety
    /// `bytes[at..at+len]` must be in bounds and aligned for `T`, and any
    /// bit pattern must be a valid `T`.
    unsafe fn new(bytes: &[u8], at: usize, len: usize) -> Self {
        debug_assert!(at + len <= bytes.len());
        let ptr = bytes.as_ptr().add(at) as *const T;
        debug_assert!((ptr as usize).is_multiple_of(std::mem::align_of::<T>()));
        RawSlice {
            ptr,
            len: len / std::mem::size_of::<T>(),
        }
    }
}

// SAFETY: the storage is read-only after construction and owned by the
// index; the raw slices only point into it.
unsafe impl Send for FmIndex {}
// SAFETY: as above; no interior mutability.
unsafe impl Sync for FmIndex {}

impl std::fmt::Debug for FmIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FmIndex")
            .field("path", &self.path)
            .field("meta", &self.meta)
            .field("n_contigs", &self.contigs.len())
            .field(
                "fingerprint",
                &format_args!("{:016x}", self.header.fingerprint),
            )
            .finish()
    }
}

/// `PREFIX` → `PREFIX.fmi`; a path already ending in `.fmi` is kept.
pub fn index_path(prefix: &Path) -> PathBuf {
    if prefix.extension().is_some_and(|e| e == INDEX_EXT) {
        prefix.to_path_buf()
    } else {
        let mut s = prefix.as_os_str().to_owned();
        s.push(".");
        s.push(INDEX_EXT);
        PathBuf::from(s)
    }
}

impl FmIndex {
    /// Opens `PREFIX.fmi` (or the given `.fmi` path) for a job that reads
    /// every section ([`FmIndex::open_for`] with [`Sections::ALL`], in
    /// memory): checks magic, version, header checksum, file size, section
    /// bounds, the consistency of the small sections and the CRC32 of every
    /// section ([`FmIndex::verify`]), so that a damaged index is refused
    /// here rather than giving wrong alignments or a crash later.
    pub fn open(path: impl AsRef<Path>) -> Result<FmIndex, IndexError> {
        Self::open_for(path, Sections::ALL, false)
    }

    /// [`FmIndex::open`], but every section is mapped, none copied or
    /// faulted in ahead: processes on one machine share the page cache's
    /// copy, in whatever pages it holds (lookups on 4 KiB pages are about a
    /// fifth slower). Checks the same.
    pub fn open_mapped(path: impl AsRef<Path>) -> Result<FmIndex, IndexError> {
        Self::open_for(path, Sections::ALL, true)
    }

    /// Opens the index for a job that reads the big sections `needs`: maps
    /// the file, checks the header and small sections, leaves the other big
    /// sections out of reach (empty: reading them is a bug that panics, not
    /// unchecked data), and checks the CRC32 of those it keeps.
    ///
    /// Unless `mapped`, the sections read at random (occurrences and SA)
    /// must be in 2 MiB pages: the occurrence and SA lookups of seeding and
    /// chaining, nearly all TLB misses on 4 KiB pages, then cost about a
    /// fifth less. Where the page cache holds them in large folios (or the
    /// file is not cached yet, and is read into such folios now), the
    /// mapping is used as it is, in huge pages ([`Residence::HugeInPlace`]);
    /// otherwise they are copied into anonymous memory, as bwa reads its
    /// index ([`Residence::Copied`]). See the `in_place` module. The
    /// reference text, read a few hundred bases at a time, stays mapped
    /// either way: copying it would cost more (fresh pages cleared, then
    /// filled) than its lookups gain.
    pub fn open_for(
        path: impl AsRef<Path>,
        needs: Sections,
        mapped: bool,
    ) -> Result<FmIndex, IndexError> {
        let (file, mut index) = Self::map(path)?;
        index.keep_only(needs);
        if !mapped {
            index.place_random_access(&file)?;
        }
        index.verify()?;
        Ok(index)
    }

    /// [`FmIndex::open`] without the checksums of the big sections (pac,
    /// occ, sa), which are mapped but neither read nor copied: for callers
    /// that have verified the file already. A damaged big section may then
    /// give wrong results or a panic.
    pub fn open_unverified(path: impl AsRef<Path>) -> Result<FmIndex, IndexError> {
        Self::map(path).map(|(_, index)| index)
    }

    /// The file, mapped, with its header and small sections checked.
    fn map(path: impl AsRef<Path>) -> Result<(File, FmIndex), IndexError> {
        let path = index_path(path.as_ref());
        let read_err = |source| IndexError::Read {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(read_err)?;
        // SAFETY: the mapping is read-only; the index file is not modified
        // while in use (it is replaced by rename, never rewritten in place).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(read_err)?;
        // Only a hint: a file not yet cached is then read in 2 MiB folios
        // when faulted in, which the kernel can map with huge pages.
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        let index = Self::from_storage(Storage::new(Backing::Mapped(map)), path)?;
        Ok((file, index))
    }

    /// Puts the big sections not in `needs` out of reach.
    fn keep_only(&mut self, needs: Sections) {
        if !needs.pac {
            self.pac = RawSlice::empty();
        }
        if !needs.occ {
            self.occ = RawSlice::empty();
        }
        if !needs.sa {
            self.sa = RawSlice::empty();
        }
        self.sections = needs;
    }

    /// The file's bytes `start..end` that hold the sections of [`COPIED`]
    /// in reach; `None` when none is.
    fn random_access_span(&self) -> Option<(usize, usize)> {
        let entries = COPIED
            .into_iter()
            .filter(|&s| self.sections.has(s))
            .map(|s| &self.header.entries[s as usize - 1]);
        let start = entries.clone().map(|e| e.offset).min()?;
        let end = entries.map(|e| e.offset + e.len).max()?;
        Some((start as usize, end as usize))
    }

    /// Puts the sections in reach of [`COPIED`] in huge pages: the file's
    /// mapping where the page cache holds them so, else a copy.
    fn place_random_access(&mut self, file: &File) -> Result<(), IndexError> {
        let Some((start, end)) = self.random_access_span() else {
            return Ok(());
        };
        if let Backing::Mapped(map) = &self.storage.whole {
            if in_place::huge_in_place(map, start, end) {
                self.storage.random = Placement::HugeInPlace;
                return Ok(());
            }
        }
        self.copy_random_access(file, start, end)
    }

    /// Reads the file's bytes `start..end`, which hold the sections in
    /// reach of [`COPIED`], into anonymous memory, advised (on Linux) to
    /// use huge pages, and points the index at that copy.
    fn copy_random_access(
        &mut self,
        file: &File,
        start: usize,
        end: usize,
    ) -> Result<(), IndexError> {
        let len = end - start;
        let oom = |source: std::io::Error| match source.raw_os_error() {
            Some(libc::ENOMEM) => IndexError::OutOfMemory {
                what: "the index in memory",
                bytes: len as u64,
                path: self.path.clone(),
            },
            _ => IndexError::Read {
                path: self.path.clone(),
                source,
            },
        };
        let mut copy = memmap2::MmapMut::map_anon(len).map_err(oom)?;
        // Only a hint: without huge pages everything works the same, slower.
        #[cfg(target_os = "linux")]
        let _ = copy.advise(memmap2::Advice::HugePage);
        read_in_parallel(file, &mut copy, start as u64).map_err(oom)?;
        let copy = copy.make_read_only().map_err(oom)?;
        for section in COPIED.into_iter().filter(|&s| self.sections.has(s)) {
            let e = &self.header.entries[section as usize - 1];
            let (at, len) = (e.offset as usize - start, e.len as usize);
            // SAFETY: the copy holds the file's bytes `start..end`, which
            // cover the copied sections; it is page-aligned and the
            // sections' offsets are multiples of 64; the element types are
            // plain integers.
            unsafe {
                match section {
                    Section::Occ => self.occ = RawSlice::new(&copy, at, len),
                    Section::Sa => self.sa = RawSlice::new(&copy, at, len),
                    _ => unreachable!("only occ and sa are copied"),
                }
            }
        }
        self.storage.random = Placement::Copied(copy);
        Ok(())
    }

    /// Opens an index image held in memory (as written by
    /// [`build::write_index`]), with all the checks of [`FmIndex::open`];
    /// `name` is used in error messages.
    pub fn from_bytes(bytes: &[u8], name: impl Into<PathBuf>) -> Result<FmIndex, IndexError> {
        let mut v = vec![OccBlock::default(); bytes.len().div_ceil(64)];
        // SAFETY: `v` holds at least `bytes.len()` bytes of plain integers.
        let dst = unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, bytes.len()) };
        dst.copy_from_slice(bytes);
        let index = Self::from_storage(Storage::new(Backing::Owned(v, bytes.len())), name.into())?;
        index.verify()?;
        Ok(index)
    }

    /// Builds the index of FASTA text in memory (no file); for tests and tools.
    pub fn from_fasta_bytes(fasta: &[u8], sa_intv: u64) -> Result<FmIndex, IndexError> {
        let name = PathBuf::from("<memory>");
        let parsed = fasta::parse_fasta(fasta, &name)?;
        let opts = BuildOptions {
            sa_intv: Some(sa_intv),
            ..BuildOptions::default()
        };
        let (cursor, _, _) =
            build::write_index(parsed, &opts, std::io::Cursor::new(Vec::new()), &name)?;
        Self::from_bytes(&cursor.into_inner(), name)
    }

    fn from_storage(storage: Storage, path: PathBuf) -> Result<FmIndex, IndexError> {
        let corrupt = |what: String| IndexError::Corrupt {
            path: path.clone(),
            what,
        };
        let bytes = storage.whole.bytes();
        let header = format::decode_header(bytes).map_err(|p| match p {
            HeaderProblem::Magic => IndexError::BadMagic { path: path.clone() },
            HeaderProblem::Version(found) => IndexError::Version {
                path: path.clone(),
                found,
                expected: FORMAT_VERSION,
            },
            HeaderProblem::Corrupt(what) => corrupt(what),
        })?;
        if header.file_size != bytes.len() as u64 {
            return Err(IndexError::Size {
                path: path.clone(),
                expected: header.file_size,
                actual: bytes.len() as u64,
            });
        }
        if header.fingerprint != format::fingerprint(&header.entries) {
            return Err(corrupt(
                "fingerprint does not match the section table".into(),
            ));
        }
        let mut ranges = [(0usize, 0usize); 6];
        for (i, (kind, e)) in Section::ALL.iter().zip(&header.entries).enumerate() {
            let end = e.offset.checked_add(e.len);
            if e.kind != *kind as u32
                || e.offset % format::ALIGN != 0
                || !matches!(end, Some(end) if end <= bytes.len() as u64)
            {
                return Err(corrupt(format!(
                    "bad table entry for section '{}'",
                    kind.name()
                )));
            }
            ranges[i] = (e.offset as usize, e.len as usize);
            if kind.is_small() {
                let data = &bytes[e.offset as usize..(e.offset + e.len) as usize];
                check_crc(data, e, *kind, &path)?;
            }
        }
        let sec = |s: Section| {
            let (o, l) = ranges[s as usize - 1];
            &bytes[o..o + l]
        };
        let meta =
            Meta::decode(sec(Section::Meta)).ok_or_else(|| corrupt("meta section size".into()))?;
        check_meta(&meta, &ranges).map_err(corrupt)?;
        let contigs = format::decode_contigs(sec(Section::Contigs), meta.n_contigs)
            .ok_or_else(|| corrupt("contig table".into()))?;
        let holes = format::decode_holes(sec(Section::Holes), meta.n_holes)
            .ok_or_else(|| corrupt("holes table".into()))?;
        let mut next = 0u64;
        for c in &contigs {
            if c.offset != next {
                return Err(corrupt(format!("contig {:?} offset", c.name)));
            }
            next = next.saturating_add(c.len);
        }
        let hole_outside = |h: &Hole| h.offset.saturating_add(h.len as u64) > meta.l_pac;
        if next != meta.l_pac || holes.iter().any(hole_outside) {
            return Err(corrupt("contig lengths or holes do not add up".into()));
        }
        let r = |s: Section| ranges[s as usize - 1];
        // SAFETY: ranges were checked to lie inside the storage; sections
        // are 64-byte aligned in a page- or 64-byte-aligned buffer; the
        // element types are plain integers.
        let (pac, occ, sa) = unsafe {
            (
                RawSlice::new(bytes, r(Section::Pac).0, r(Section::Pac).1),
                RawSlice::new(bytes, r(Section::Occ).0, r(Section::Occ).1),
                RawSlice::new(bytes, r(Section::Sa).0, r(Section::Sa).1),
            )
        };
        Ok(FmIndex {
            storage,
            path,
            header,
            meta,
            contigs,
            holes,
            pac,
            occ,
            sa,
            sa_mask: u64::MAX >> (64 - 8 * meta.sa_width),
            sections: Sections::ALL,
            hw_popcnt: cpu_has_popcnt(),
        })
    }

    /// Whether occurrence counts use the POPCNT instruction: found out once,
    /// when the index opens, so that each count needs no check of its own
    /// and inlines into its caller. Without POPCNT every count is the
    /// portable one, with the same results.
    #[inline(always)]
    pub fn hw_popcnt(&self) -> bool {
        self.hw_popcnt
    }

    /// Makes every count portable, as on a CPU without POPCNT (tests and
    /// benchmarks compare the two ways).
    pub fn force_portable(&mut self) {
        self.hw_popcnt = false;
    }

    /// Recomputes the CRC32 of every section in reach, from the bytes the
    /// lookups read (the copy in memory, where there is one).
    pub fn verify(&self) -> Result<(), IndexError> {
        let whole = self.storage.whole.bytes();
        for (kind, e) in Section::ALL.iter().zip(&self.header.entries) {
            if !self.sections.has(*kind) {
                continue;
            }
            // SAFETY: see `RawSlice`; the storage outlives `&self`.
            let data = unsafe {
                match kind {
                    Section::Pac => self.pac.bytes(),
                    Section::Occ => self.occ.bytes(),
                    Section::Sa => self.sa.bytes(),
                    _ => &whole[e.offset as usize..(e.offset + e.len) as usize],
                }
            };
            check_crc(data, e, *kind, &self.path)?;
        }
        Ok(())
    }

    /// The big sections in reach (see [`FmIndex::open_for`]).
    pub fn sections(&self) -> Sections {
        self.sections
    }

    /// Where the occurrences and SA are read from (see
    /// [`FmIndex::open_for`]).
    pub fn residence(&self) -> Residence {
        match self.storage.random {
            Placement::Mapped => Residence::Mapped,
            Placement::HugeInPlace => Residence::HugeInPlace,
            Placement::Copied(_) => Residence::Copied,
        }
    }

    /// The file this index was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// 64-bit content fingerprint (from the sections' lengths and CRCs);
    /// equal for indexes of the same reference built the same way.
    pub fn fingerprint(&self) -> u64 {
        self.header.fingerprint
    }

    /// The scalar facts of the index.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// `n = 2L`, length of the indexed text (forward + reverse complement).
    pub fn seq_len(&self) -> u64 {
        self.meta.seq_len
    }

    /// `L`, length of the forward reference.
    pub fn l_pac(&self) -> u64 {
        self.meta.l_pac
    }

    /// Row whose BWT character is `$`.
    pub fn primary(&self) -> u64 {
        self.meta.primary
    }

    /// bwa's C array `L2[0..=4]`.
    pub fn l2(&self) -> [u64; 5] {
        self.meta.l2
    }

    /// Sampling interval of the suffix array.
    pub fn sa_intv(&self) -> u64 {
        self.meta.sa_intv
    }

    /// The forward reference in bwa's `.pac` layout (`ceil(L/4)` bytes).
    #[inline(always)]
    pub fn pac(&self) -> &[u8] {
        // SAFETY: see `RawSlice`; the storage outlives `&self`.
        unsafe { std::slice::from_raw_parts(self.pac.ptr, self.pac.len) }
    }

    /// The occurrence table.
    #[inline(always)]
    pub fn occ_blocks(&self) -> &[OccBlock] {
        // SAFETY: see `RawSlice`; checked aligned and in bounds at open.
        unsafe { std::slice::from_raw_parts(self.occ.ptr, self.occ.len) }
    }

    /// Hints the CPU to load sampled SA value number `i` (any `i`;
    /// out-of-range ones are ignored). A no-op off x86_64.
    #[inline(always)]
    fn prefetch_sa_sample(&self, i: usize) {
        let at = i.wrapping_mul(self.meta.sa_width as usize);
        if at < self.sa.len {
            occ::prefetch_line(self.sa.ptr.wrapping_add(at));
        }
    }

    /// Sampled SA value number `i` (row `i * sa_intv`): one unaligned
    /// 8-byte load masked to the sample width (4, 5 or 8 bytes), byte by
    /// byte only for the last samples, whose 8 bytes would pass the end.
    #[inline(always)]
    fn sa_sample(&self, i: usize) -> u64 {
        let width = self.meta.sa_width as usize;
        let at = width * i;
        if at + 8 <= self.sa.len {
            // SAFETY: `at..at + 8` lies inside the SA section (see `RawSlice`).
            let x = unsafe { (self.sa.ptr.add(at) as *const u64).read_unaligned() };
            u64::from_le(x) & self.sa_mask
        } else {
            // SAFETY: see `RawSlice`.
            let b = unsafe { std::slice::from_raw_parts(self.sa.ptr, self.sa.len) };
            let mut x = [0u8; 8];
            x[..width].copy_from_slice(&b[at..at + width]);
            u64::from_le_bytes(x)
        }
    }
}

/// Whether the CPU running this has the POPCNT instruction.
fn cpu_has_popcnt() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("popcnt")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Fills `buf` with the bytes of `file` from `offset`, several pieces at
/// once: most of the time goes to the kernel clearing and mapping fresh
/// pages, which threads do side by side (a few of them, for a moment, at
/// start-up).
fn read_in_parallel(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    /// Pieces of 8 MiB: whole huge pages, and enough pieces to share out.
    const PIECE: usize = 8 << 20;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4)
        .min(buf.len().div_ceil(PIECE).max(1));
    let pieces = std::sync::Mutex::new(buf.chunks_mut(PIECE).enumerate());
    let read_pieces = || -> std::io::Result<()> {
        loop {
            let next = pieces.lock().unwrap_or_else(|e| e.into_inner()).next();
            let Some((i, piece)) = next else {
                return Ok(());
            };
            read_exact_at(file, piece, offset + (i * PIECE) as u64)?;
        }
    };
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(read_pieces)).collect();
        let mine = read_pieces();
        helpers
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .chain([mine])
            .collect()
    })
}

/// `buf.len()` bytes of `file` from `offset`.
#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file.try_clone()?;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

/// Checks `data`, the bytes of section `kind`, against the CRC32 its table
/// entry `e` records.
fn check_crc(data: &[u8], e: &SectionEntry, kind: Section, path: &Path) -> Result<(), IndexError> {
    if crc32fast::hash(data) != e.crc {
        return Err(IndexError::Checksum {
            path: path.to_path_buf(),
            section: kind.name(),
        });
    }
    Ok(())
}

/// Consistency of META with itself and with the section sizes.
fn check_meta(m: &Meta, ranges: &[(usize, usize); 6]) -> Result<(), String> {
    let len = |s: Section| ranges[s as usize - 1].1 as u64;
    let n = m.seq_len;
    // Checked arithmetic throughout: the values come from the file.
    if m.l_pac == 0 || m.l_pac.checked_mul(2) != Some(n) {
        return Err(format!("seq_len {n} is not twice l_pac {}", m.l_pac));
    }
    if m.l2[0] != 0 || m.l2[4] != n || m.l2.windows(2).any(|w| w[0] > w[1]) {
        return Err("C array".into());
    }
    if m.primary == 0 || m.primary > n {
        return Err("primary row".into());
    }
    if !m.sa_intv.is_power_of_two() || !format::sa_width_ok(m.sa_width, n) {
        return Err(format!(
            "SA sampling parameters (interval {}, {}-byte samples for a text of {n})",
            m.sa_intv, m.sa_width
        ));
    }
    if m.n_sa != n / m.sa_intv + 1 || m.n_sa.checked_mul(m.sa_width) != Some(len(Section::Sa)) {
        return Err("SA section size".into());
    }
    if m.n_occ_blocks != n / occ::OCC_INTERVAL + 1
        || m.n_occ_blocks.checked_mul(64) != Some(len(Section::Occ))
    {
        return Err("occurrence section size".into());
    }
    if len(Section::Pac) != m.l_pac.div_ceil(4) {
        return Err("pac section size".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
