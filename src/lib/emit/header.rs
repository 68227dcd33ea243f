//! The SAM header as bwa mem 0.7.17 prints it (`bwa.c: bwa_print_sam_hdr`,
//! `bwa_set_rg`, `bwa_insert_header`, `bwa_escape`; spec §14.1): `@SQ` per
//! contig unless `-H` supplies `@SQ` lines, the `-H` lines, the `-R` line,
//! then `@PG`. 0.7.17 prints no `@HD`; 0.7.19 prints [`HD_LINE`] first
//! ([`BwaVersion`]).

use thiserror::Error;

/// One reference sequence, as the header and the records name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamContig {
    /// Name (the FASTA header up to the first white space).
    pub name: String,
    /// Length in bases.
    pub len: i64,
    /// ALT contig (listed in `<idxbase>.alt`): `AH:*` in `@SQ`, soft clips.
    pub is_alt: bool,
    /// The rest of the FASTA header line, printed by `-V` as `XR:Z:`.
    pub anno: String,
}

/// A `-R` or `-H` value bwa would refuse.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("the read group line does not start with @RG: {0:?}")]
    NotReadGroup(String),
    #[error("the read group line contains literal TAB characters; write them as \\t: {0:?}")]
    LiteralTab(String),
    #[error("the read group line has no \\tID: field: {0:?}")]
    NoId(String),
    #[error("the read group ID is longer than 255 characters")]
    IdTooLong,
    #[error("line {line} of the header file does not fit in 65535 bytes")]
    LineTooLong { line: usize },
}

/// bwa's `bwa_escape`: `\t \n \r \\` become TAB, newline, CR and backslash;
/// any other escaped character is dropped together with its backslash.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            _ => {}
        }
    }
    out
}

/// Checks a `-R` value as bwa's `bwa_set_rg` does and returns the line with
/// its escapes translated.
pub fn parse_read_group(arg: &str) -> Result<String, HeaderError> {
    if !arg.starts_with("@RG") {
        return Err(HeaderError::NotReadGroup(arg.to_owned()));
    }
    if arg.contains('\t') {
        return Err(HeaderError::LiteralTab(arg.to_owned()));
    }
    let line = escape(arg);
    let id = read_group_id(&line).ok_or_else(|| HeaderError::NoId(arg.to_owned()))?;
    if id.len() > 255 {
        return Err(HeaderError::IdTooLong);
    }
    Ok(line)
}

/// The read-group ID of an escaped `@RG` line: the text after the first
/// `\tID:` up to the next TAB or newline. This is the `RG:Z:` value.
pub fn read_group_id(line: &str) -> Option<&str> {
    let start = line.find("\tID:")? + 4;
    let rest = &line[start..];
    let end = rest.find(['\t', '\n']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The lines of a `-H` file that bwa takes: those starting with `@`, each
/// with its escapes translated; the others are ignored.
pub fn header_file_lines(text: &str) -> Result<Vec<String>, HeaderError> {
    let mut lines = Vec::new();
    for (i, line) in text.split_terminator('\n').enumerate() {
        // bwa reads lines with a 64 KiB buffer and stops on longer ones.
        if line.len() >= 0xffff {
            return Err(HeaderError::LineTooLong { line: i + 1 });
        }
        if line.starts_with('@') {
            lines.push(escape(line));
        }
    }
    Ok(lines)
}

/// The `@PG` line: `@PG\tID:ferrous\tPN:ferrous\tVN:<version>\tCL:<argv>`,
/// the arguments joined by single spaces, unquoted, as bwa does.
pub fn pg_line(version: &str, argv: &[String]) -> String {
    format!(
        "@PG\tID:ferrous\tPN:ferrous\tVN:{version}\tCL:{}",
        argv.join(" ")
    )
}

/// The bwa release whose SAM ferrous prints: they differ in the header's
/// `@HD` line and the `MQ` tag (spec §14.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BwaVersion {
    /// No `@HD` line, no `MQ` tag (Debian's bwa, bwa-mem2).
    #[default]
    V0_7_17,
    /// `@HD` first, `MQ:i:` (the mate's MAPQ) after `MC:Z:`.
    V0_7_19,
}

impl BwaVersion {
    /// `0.7.17` or `0.7.19`.
    pub fn from_name(name: &str) -> Option<BwaVersion> {
        match name {
            "0.7.17" => Some(BwaVersion::V0_7_17),
            "0.7.19" => Some(BwaVersion::V0_7_19),
            _ => None,
        }
    }
}

/// bwa 0.7.19's first header line, unless `-H` gives an `@HD` line.
pub const HD_LINE: &str = "@HD\tVN:1.5\tSO:unsorted\tGO:query";

/// Number of lines starting with `tag` in the user's header text.
pub fn user_lines(user: &[&str], tag: &str) -> usize {
    user.iter()
        .flat_map(|entry| entry.split('\n'))
        .filter(|line| line.starts_with(tag))
        .count()
}

fn user_sq_lines(user: &[&str]) -> usize {
    user_lines(user, "@SQ\t")
}

/// Writes the whole header: `@SQ` lines for `contigs` (with `AH:*` for ALT
/// contigs) unless `header_lines` holds an `@SQ` line, then `header_lines`
/// (the `-H` entries, escaped), then the `-R` line, then `pg`.
/// Returns the number of `@SQ` lines the user supplied, so that the caller
/// can warn as bwa does when it differs from the number of contigs.
pub fn write_header(
    out: &mut Vec<u8>,
    contigs: &[SamContig],
    header_lines: &[String],
    read_group: Option<&str>,
    pg: &str,
) -> usize {
    let user: Vec<&str> = header_lines
        .iter()
        .map(String::as_str)
        .chain(read_group)
        .collect();
    let n_sq = user_sq_lines(&user);
    if n_sq == 0 {
        for c in contigs {
            out.extend_from_slice(b"@SQ\tSN:");
            out.extend_from_slice(c.name.as_bytes());
            out.extend_from_slice(b"\tLN:");
            super::num::put_int(out, c.len);
            if c.is_alt {
                out.extend_from_slice(b"\tAH:*");
            }
            out.push(b'\n');
        }
    }
    for line in user {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(pg.as_bytes());
    out.push(b'\n');
    n_sq
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_bwa() {
        assert_eq!(escape(r"@CO\tA\nB\rC\\D"), "@CO\tA\nB\rC\\D");
        assert_eq!(escape(r"@CO\qx\"), "@COx");
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn read_group_rules() {
        assert_eq!(
            parse_read_group(r"@RG\tID:x\tSM:y").as_deref(),
            Ok("@RG\tID:x\tSM:y")
        );
        assert!(matches!(
            parse_read_group(r"@CO\tID:x"),
            Err(HeaderError::NotReadGroup(_))
        ));
        assert!(matches!(
            parse_read_group("@RG\tID:x"),
            Err(HeaderError::LiteralTab(_))
        ));
        assert!(matches!(
            parse_read_group(r"@RG\tSM:x"),
            Err(HeaderError::NoId(_))
        ));
        let long = format!(r"@RG\tID:{}", "a".repeat(256));
        assert_eq!(parse_read_group(&long), Err(HeaderError::IdTooLong));
        assert_eq!(read_group_id("@RG\tSM:y\tID:abc\tPL:z"), Some("abc"));
        assert_eq!(read_group_id("@RG\tID:abc\nX"), Some("abc"));
    }

    #[test]
    fn file_lines_keep_only_header_lines() {
        let lines = header_file_lines("@SQ\tSN:chrX\tLN:5\nnot a header\n@CO\\tx\n").unwrap();
        assert_eq!(lines, vec!["@SQ\tSN:chrX\tLN:5", "@CO\tx"]);
    }
}
