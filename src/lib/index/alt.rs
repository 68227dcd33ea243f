//! ALT contigs: bwa's `PREFIX.alt` file beside the index (GRCh38's
//! `Homo_sapiens_assembly38.fasta.64.alt`, bwa-kit's `hs38DH.fa.alt`).
//!
//! bwa mem reads it at start-up (`bntseq.c: bns_restore`, spec §2.3): in
//! every line whose first field (up to a TAB, CR or LF) does not start with
//! `@`, that field names a contig, which is marked ALT; names the index
//! lacks are skipped. Everything else in the line (bwa-kit writes SAM
//! records of the ALT contigs against the primary assembly) is not used by
//! `bwa mem`. `-j` clears every mark (`main_mem`), after the file was read.
//!
//! ferrous reads the same file, from the same place ([`alt_path`]), with
//! the same result. Where bwa silently does something the user cannot have
//! meant, ferrous does what bwa does and says so ([`AltFile::warnings`]): a
//! name the index lacks, and a last line without a line end (bwa never
//! looks at it). An `.alt` that exists but cannot be read, and a first
//! field longer than bwa's 1023-byte buffer, are errors ([`AltError`]):
//! bwa would go on without ALT contigs, or overflow its buffer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::frombwa::{bwa_prefix, with_suffix};
use super::{Contig, INDEX_EXT};

/// The longest first field bwa's buffer holds (`char str[1024]`).
pub const MAX_NAME: usize = 1023;

/// Which contigs are ALT contigs, by contig id (bwa's `anns[rid].is_alt`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AltContigs {
    is_alt: Vec<bool>,
    n_alt: usize,
}

impl AltContigs {
    /// No ALT contig among `n_contigs` (no `.alt` file, or `-j`).
    pub fn none(n_contigs: usize) -> Self {
        AltContigs {
            is_alt: vec![false; n_contigs],
            n_alt: 0,
        }
    }

    /// The contigs whose ids are listed (duplicates allowed); ids past
    /// `n_contigs` are ignored.
    pub fn from_ids(n_contigs: usize, ids: impl IntoIterator<Item = usize>) -> Self {
        let mut alt = Self::none(n_contigs);
        for id in ids {
            if let Some(f) = alt.is_alt.get_mut(id) {
                alt.n_alt += usize::from(!*f);
                *f = true;
            }
        }
        alt
    }

    /// Whether contig `rid` is an ALT contig (false for an id out of range,
    /// as for bwa's unmapped `rid = -1`).
    #[inline]
    pub fn is_alt(&self, rid: i32) -> bool {
        usize::try_from(rid).is_ok_and(|r| self.is_alt.get(r).copied().unwrap_or(false))
    }

    /// Number of ALT contigs.
    pub fn count(&self) -> usize {
        self.n_alt
    }

    /// Number of contigs the set is about.
    pub fn n_contigs(&self) -> usize {
        self.is_alt.len()
    }

    /// The ids of the ALT contigs, ascending.
    pub fn ids(&self) -> Vec<u32> {
        (0..self.is_alt.len())
            .filter(|&i| self.is_alt[i])
            .map(|i| i as u32)
            .collect()
    }
}

/// Why an `.alt` file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AltError {
    /// The file is there but cannot be read (permissions, a directory, a
    /// dangling link, an I/O error): bwa would silently map without ALT
    /// contigs.
    #[error("cannot read the ALT contig list {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A first field longer than bwa's buffer (bwa 0.7.17 overflows it).
    #[error(
        "{}: line {line}: a first field of {len} bytes; bwa reads ALT contig names of at most {MAX_NAME} bytes",
        path.display()
    )]
    NameTooLong {
        path: PathBuf,
        line: u64,
        len: usize,
    },
}

/// An `.alt` file as read: the ALT set and what bwa would have passed over
/// in silence.
#[derive(Debug, Clone)]
pub struct AltFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The contigs it marks.
    pub contigs: AltContigs,
    /// First fields (not starting with `@`, not empty) that name no contig
    /// of the index: (line number from 1, the name).
    pub unknown: Vec<(u64, String)>,
    /// The last line, when it has no line end and so is never looked at
    /// (bwa reads a name only at its terminator): (line number, first field).
    pub unterminated: Option<(u64, String)>,
}

impl AltFile {
    /// Reads `path` for the contigs of an index, as bwa's `bns_restore` does.
    pub fn read(path: &Path, contigs: &[Contig]) -> Result<AltFile, AltError> {
        let bytes = std::fs::read(path).map_err(|source| AltError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&bytes, path, contigs)
    }

    /// [`AltFile::read`] of bytes already read (`path` names them in errors).
    pub fn parse(bytes: &[u8], path: &Path, contigs: &[Contig]) -> Result<AltFile, AltError> {
        let by_name: HashMap<&[u8], usize> = contigs
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_bytes(), i))
            .collect();
        let mut ids = Vec::new();
        let mut unknown = Vec::new();
        let mut unterminated = None;
        let mut line = 0u64;
        let mut rest = bytes;
        while !rest.is_empty() {
            line += 1;
            let end = rest
                .iter()
                .position(|&c| matches!(c, b'\t' | b'\n' | b'\r'))
                .unwrap_or(rest.len());
            let field = &rest[..end];
            if field.len() > MAX_NAME {
                return Err(AltError::NameTooLong {
                    path: path.to_path_buf(),
                    line,
                    len: field.len(),
                });
            }
            // bwa keeps the field in a C string: it ends at a NUL byte.
            let name = field.split(|&c| c == 0).next().unwrap_or_default();
            if end == rest.len() {
                // No terminator: bwa's loop ends at EOF without a look.
                unterminated = Some((line, String::from_utf8_lossy(name).into_owned()));
                break;
            }
            if name.first() != Some(&b'@') {
                match by_name.get(name) {
                    Some(&id) => ids.push(id),
                    None if !name.is_empty() => {
                        unknown.push((line, String::from_utf8_lossy(name).into_owned()))
                    }
                    None => {}
                }
            }
            // The rest of the line, up to and past its LF.
            rest = match rest[end..].iter().position(|&c| c == b'\n') {
                Some(nl) => &rest[end + nl + 1..],
                None => &[],
            };
        }
        Ok(AltFile {
            path: path.to_path_buf(),
            contigs: AltContigs::from_ids(contigs.len(), ids),
            unknown,
            unterminated,
        })
    }

    /// One line for each thing bwa passes over in silence, to print as a
    /// warning; empty when there is none.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let path = self.path.display();
        if let Some((line, first)) = self.unknown.first() {
            let n = self.unknown.len();
            out.push(format!(
                "{path}: {n} ALT contig name{} not in the index (line {line}: '{}'{}); ignored, as bwa does",
                if n == 1 { " is" } else { "s are" },
                printable(first),
                if n > 1 { ", ..." } else { "" }
            ));
        }
        if let Some((line, first)) = &self.unterminated {
            if !first.is_empty() && !first.starts_with('@') {
                out.push(format!(
                    "{path}: line {line} ('{}') has no line end, so bwa does not read it; neither does ferrous (end the file with a newline)",
                    printable(first)
                ));
            }
        }
        out
    }
}

/// `text` with control characters escaped and cut to 80 characters, for
/// a one-line message.
fn printable(text: &str) -> String {
    let mut s: String = text
        .chars()
        .take(80)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().count() > 80 {
        s.push_str("...");
    }
    s
}

/// The `.alt` file bwa mem would read for the index argument `idx` (a
/// prefix, or a `PREFIX.fmi` path), or `None` when there is none.
///
/// bwa reads `P.alt` beside its index files, where `P` is `IDX.64` when
/// `IDX.64.bwt` exists (`bwa index -6`: the GATK bundle's
/// `Homo_sapiens_assembly38.fasta.64.alt`) and `IDX` otherwise. With only
/// a `.fmi` (built from FASTA, or converted from a `.64` set whose files
/// are gone), `IDX.alt` is read, else `IDX.64.alt`. A path that exists in
/// any form (also a dangling link or a directory) is returned, so that
/// reading it reports what is wrong.
pub fn alt_path(idx: &Path) -> Option<PathBuf> {
    let prefix = if idx.extension().is_some_and(|e| e == INDEX_EXT) {
        idx.with_extension("")
    } else {
        idx.to_path_buf()
    };
    let exists = |p: &PathBuf| std::fs::symlink_metadata(p).is_ok();
    if let Some(bwa) = bwa_prefix(&prefix) {
        let p = with_suffix(&bwa, ".alt");
        return exists(&p).then_some(p);
    }
    [".alt", ".64.alt"]
        .iter()
        .map(|s| with_suffix(&prefix, s))
        .find(exists)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contigs(names: &[&str]) -> Vec<Contig> {
        names
            .iter()
            .map(|n| Contig {
                name: n.to_string(),
                anno: String::new(),
                offset: 0,
                len: 1,
                n_ambs: 0,
            })
            .collect()
    }

    fn parse(text: &[u8]) -> AltFile {
        AltFile::parse(
            text,
            Path::new("x.alt"),
            &contigs(&["chr1", "chr1_alt", "hla"]),
        )
        .unwrap()
    }

    #[test]
    fn first_fields_of_non_header_lines_mark_contigs() {
        let f = parse(b"@SQ\tSN:chr1\tLN:10\nchr1_alt\t0\tchr1\t5\t255\n\nhla\r\nchr1_alt\n");
        assert_eq!(f.contigs.ids(), vec![1, 2]);
        assert_eq!(f.contigs.count(), 2);
        assert!(f.contigs.is_alt(1) && !f.contigs.is_alt(0) && !f.contigs.is_alt(-1));
        assert!(f.unknown.is_empty() && f.unterminated.is_none());
        assert!(f.warnings().is_empty());
    }

    #[test]
    fn a_space_does_not_end_the_name_and_unknown_names_warn() {
        let f = parse(b"chr1_alt extra\nchrX_alt\t1\n");
        assert_eq!(f.contigs.count(), 0);
        assert_eq!(
            f.unknown,
            vec![
                (1, "chr1_alt extra".to_string()),
                (2, "chrX_alt".to_string())
            ]
        );
        let w = f.warnings();
        assert_eq!(w.len(), 1);
        assert!(w[0]
            .contains("2 ALT contig names are not in the index (line 1: 'chr1_alt extra', ...)"));
    }

    #[test]
    fn an_unterminated_last_line_is_not_read_as_in_bwa() {
        let f = parse(b"hla\nchr1_alt");
        assert_eq!(f.contigs.ids(), vec![2]);
        assert_eq!(f.unterminated, Some((2, "chr1_alt".to_string())));
        assert!(f.warnings()[0].contains("line 2 ('chr1_alt') has no line end"));
        // A CR ends a name as well as a LF does.
        assert_eq!(parse(b"chr1_alt\r").contigs.ids(), vec![1]);
        assert!(parse(b"@HD").warnings().is_empty());
    }

    #[test]
    fn a_name_is_cut_at_a_nul_and_long_names_are_refused() {
        assert_eq!(parse(b"hla\0junk\n").contigs.ids(), vec![2]);
        let long = [vec![b'a'; MAX_NAME], b"\n".to_vec()].concat();
        assert_eq!(parse(&long).unknown.len(), 1);
        let longer = [vec![b'a'; MAX_NAME + 1], b"\n".to_vec()].concat();
        let e = AltFile::parse(&longer, Path::new("x.alt"), &contigs(&["a"])).unwrap_err();
        assert!(e
            .to_string()
            .contains("line 1: a first field of 1024 bytes"));
    }

    #[test]
    fn alt_path_follows_bwa_then_the_fmi() {
        let dir = std::env::temp_dir().join(format!("ferrous-alt-path-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("ref.fa");
        let touch = |s: &str| std::fs::write(with_suffix(&p, s), b"").unwrap();
        assert_eq!(alt_path(&p), None);
        touch(".64.alt");
        assert_eq!(alt_path(&p), Some(with_suffix(&p, ".64.alt")));
        touch(".alt");
        assert_eq!(alt_path(&p), Some(with_suffix(&p, ".alt")));
        assert_eq!(
            alt_path(&with_suffix(&p, ".fmi")),
            Some(with_suffix(&p, ".alt"))
        );
        // bwa's files decide: IDX.64.bwt means IDX.64.alt, and only that.
        touch(".64.bwt");
        assert_eq!(alt_path(&p), Some(with_suffix(&p, ".64.alt")));
        std::fs::remove_file(with_suffix(&p, ".64.alt")).unwrap();
        assert_eq!(alt_path(&p), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
