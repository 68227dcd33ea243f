//! Whether the page cache's copy of an index file can be used as it lies.
//!
//! The occurrence and SA lookups of seeding and chaining land at random in
//! gigabytes of index: on 4 KiB pages nearly every one misses the TLB as
//! well as the caches, so [`FmIndex::open_for`](super::FmIndex::open_for)
//! copies those sections into anonymous memory that Linux backs with 2 MiB
//! pages. The copy has a price: every fresh page is cleared by the kernel
//! before it is filled (4 GB for a human index; on a virtual machine whose
//! freed memory goes back to the host, 15 s of system time), and each
//! process on a machine holds a copy of its own.
//!
//! Linux 6.x keeps a file in the page cache in large folios when it was
//! read or written in large pieces (ext4, xfs, btrfs; `ferrous index`
//! writes 4 MiB at a time), and maps a 2 MiB folio into a process with one
//! huge-page entry when the mapping is aligned (the kernel aligns file
//! mappings of 2 MiB and more). A file not yet cached is read in 2 MiB
//! folios when faulted through a mapping advised `MADV_HUGEPAGE`. Where
//! the page cache holds the sections in such folios, mapping them gives
//! the lookups the same huge pages as the copy, with no page cleared and
//! one copy shared by every process; where it holds them in small pages
//! (read by a program that read little at a time, or a kernel without
//! large folios), the copy is still the faster choice.
//!
//! [`huge_in_place`] decides by trying: it faults the sections in through
//! the mapping (`MADV_POPULATE_READ`, which also reads a file not yet
//! cached) and asks the kernel how much of them it mapped with 2 MiB
//! entries (`FilePmdMapped` of the mapping in `/proc/self/smaps`). A small
//! piece first, so that a file cached in small pages costs next to
//! nothing before the copy is made; on a refusal the pages faulted in are
//! unmapped again, so that a process never holds both the mapping and the
//! copy.

use std::io;

/// Bytes faulted in first: if these are not in huge pages, the rest is not
/// tried.
const PROBE: usize = 64 << 20;

/// Share of the bytes faulted in that must be mapped with 2 MiB entries.
/// Not all: the first and last partial huge page of a range never are, and
/// the kernel falls back to small folios where it finds no free 2 MiB of
/// memory when it reads the file (on our VM, 14% of the chr20 index read
/// after hours of other jobs). Lookups in the rest then miss the TLB,
/// which costs a few percent of seeding time at three quarters in huge
/// pages; the copy costs clearing every page (a second per 4 GB on bare
/// metal, many on a VM) and a private copy per process.
const MIN_SHARE: f64 = 0.75;

/// Whether `map[start..end]` is (now) mapped in huge pages, after faulting
/// it in: first `PROBE` bytes, then the rest. On `false` the range's pages
/// are unmapped from this process again (the page cache keeps them), and
/// the caller copies the range instead. Any error of the kernel (no
/// `MADV_POPULATE_READ` before Linux 5.14, no `/proc`, a read error) is a
/// `false`: the copy then reads the file and reports what is wrong.
#[cfg(target_os = "linux")]
pub(super) fn huge_in_place(map: &memmap2::Mmap, start: usize, end: usize) -> bool {
    let probe_end = end.min(start + PROBE);
    let ok = |upto: usize| -> io::Result<bool> {
        map.advise_range(memmap2::Advice::PopulateRead, start, upto - start)?;
        let smaps = std::fs::read_to_string("/proc/self/smaps")?;
        let pmd = pmd_mapped_bytes(&smaps, map.as_ptr() as usize).unwrap_or(0);
        Ok(pmd as f64 >= MIN_SHARE * (upto - start) as f64)
    };
    let in_place =
        matches!(ok(probe_end), Ok(true)) && (probe_end == end || matches!(ok(end), Ok(true)));
    if !in_place {
        // SAFETY: a read-only shared mapping of a file: dropping its pages
        // only makes the next access fault them in again from the page
        // cache, with the same bytes; nothing holds references into the
        // range yet.
        let _ = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
        };
    }
    in_place
}

/// Off Linux the sections are always copied.
#[cfg(not(target_os = "linux"))]
pub(super) fn huge_in_place(_map: &memmap2::Mmap, _start: usize, _end: usize) -> bool {
    false
}

/// The `FilePmdMapped` bytes of the mapping that starts at address
/// `start`, from the text of `/proc/self/smaps`: `None` when no mapping
/// starts there or it has no such line (kernels before 4.19).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn pmd_mapped_bytes(smaps: &str, start: usize) -> Option<u64> {
    let mut lines = smaps.lines();
    // A mapping's first line: `7f95...-7f96... r--s 00000000 fd:00 12 /path`.
    let header_start = |line: &str| {
        let (range, _) = line.split_once(' ')?;
        let (from, _) = range.split_once('-')?;
        usize::from_str_radix(from, 16).ok()
    };
    lines.by_ref().find(|l| header_start(l) == Some(start))?;
    for line in lines {
        if let Some(rest) = line.strip_prefix("FilePmdMapped:") {
            let kb = rest.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
            return Some(kb * 1024);
        }
        if header_start(line).is_some() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0c0a00000-55d0c0c00000 r--p 00000000 fd:00 123   /usr/bin/ferrous
Size:               2048 kB
FilePmdMapped:         0 kB
7f956fc00000-7f9a7fc00000 r--s 00000000 fd:00 4567  /data/ref.fa.fmi
Size:            4718592 kB
Rss:             4718592 kB
AnonHugePages:         0 kB
FilePmdMapped:   4716544 kB
Locked:                0 kB
VmFlags: rd sh mr mw me ms hg
7fff00000000-7fff00021000 rw-p 00000000 00:00 0   [stack]
Size:                132 kB
";

    #[test]
    fn reads_the_pmd_mapped_bytes_of_the_mapping_at_an_address() {
        assert_eq!(
            pmd_mapped_bytes(SMAPS, 0x7f956fc00000),
            Some(4716544 * 1024)
        );
        assert_eq!(pmd_mapped_bytes(SMAPS, 0x55d0c0a00000), Some(0));
        // No mapping starts there, or it has no FilePmdMapped line.
        assert_eq!(pmd_mapped_bytes(SMAPS, 0x7f956fc01000), None);
        assert_eq!(pmd_mapped_bytes(SMAPS, 0x7fff00000000), None);
        assert_eq!(pmd_mapped_bytes("", 0x7f956fc00000), None);
    }

    /// On any kernel the answer is a yes or a no, and a no leaves nothing
    /// of the range mapped in (nothing to check on one that says yes).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_is_either_in_huge_pages_or_unmapped_again() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![7u8; 4 << 20];
        for _ in 0..4 {
            f.write_all(&block).unwrap();
        }
        drop(f);
        let file = std::fs::File::open(&path).unwrap();
        let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
        let _ = map.advise(memmap2::Advice::HugePage);
        let yes = huge_in_place(&map, 0, map.len());
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let pmd = pmd_mapped_bytes(&smaps, map.as_ptr() as usize);
        if yes {
            assert!(pmd.unwrap() as f64 >= MIN_SHARE * map.len() as f64);
        } else {
            assert!(pmd.unwrap_or(0) == 0);
        }
        assert!(map.iter().all(|&b| b == 7));
    }
}
