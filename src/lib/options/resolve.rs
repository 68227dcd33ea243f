//! From the flags of `ferrous mem` to [`MemOptions`], in bwa's order
//! (`fastmap.c: main_mem`, `update_a`; spec §1.2).

use std::path::PathBuf;

use thiserror::Error;

use super::{InsertSizeOverride, MemFlags, MemOptions};
use crate::emit::header::{self, HeaderError};

/// What was given on the `ferrous mem` command line, before resolution.
/// `None` means "not given": bwa treats given and defaulted values
/// differently (`-x` presets and `-A` rescaling only touch what was not given).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemOptionArgs {
    /// `-t`
    pub threads: Option<i32>,
    /// `-k`
    pub min_seed_len: Option<i32>,
    /// `-w`
    pub band_width: Option<i32>,
    /// `-d`
    pub zdrop: Option<i32>,
    /// `-r`
    pub split_factor: Option<f32>,
    /// `-y`
    pub max_mem_intv: Option<u64>,
    /// `-c`
    pub max_occ: Option<i32>,
    /// `-D`
    pub drop_ratio: Option<f32>,
    /// `-W`
    pub min_chain_weight: Option<i32>,
    /// `-m`
    pub max_matesw: Option<i32>,
    /// `-A`
    pub match_score: Option<i32>,
    /// `-B`
    pub mismatch: Option<i32>,
    /// `-O del[,ins]`
    pub gap_open: Option<String>,
    /// `-E del[,ins]`
    pub gap_extend: Option<String>,
    /// `-L 5[,3]`
    pub clip_penalty: Option<String>,
    /// `-U`
    pub pen_unpaired: Option<i32>,
    /// `-T`
    pub min_score: Option<i32>,
    /// `-h n[,alt]`
    pub max_xa_hits: Option<String>,
    /// `-x`: `intractg`, `pacbio`, `pbref` or `ont2d`.
    pub preset: Option<String>,
    /// `-K`
    pub fixed_batch_size: Option<i64>,
    /// `-I mean[,std[,max[,min]]]`
    pub insert_size: Option<String>,
    /// `-R`, as typed (escapes untranslated).
    pub read_group: Option<String>,
    /// `-H`, each as typed: a line starting with `@`, or a file of lines.
    pub header: Vec<String>,
    /// `-v`
    pub verbosity: Option<i32>,
    /// hidden `-s`
    pub split_width: Option<i32>,
    /// hidden `-G`
    pub max_chain_gap: Option<i32>,
    /// hidden `-N`
    pub max_chain_extend: Option<i32>,
    /// hidden `-X`
    pub mask_level: Option<f32>,
    /// hidden `-Q`
    pub map_q_coef_len: Option<i32>,
    /// `-a -M -Y -C -V -5 -q -j -p -P -S` (`-5` implies `-q` on resolution).
    pub flags: MemFlags,
}

/// A `ferrous mem` option value that bwa would not accept or that makes no sense.
#[derive(Debug, Error)]
pub enum ParamError {
    #[error("option -{flag}: {value:?} is out of range: {why}")]
    OutOfRange {
        flag: char,
        value: String,
        why: &'static str,
    },
    #[error("option -{flag}: cannot parse {value:?}; expected {expected}")]
    Malformed {
        flag: char,
        value: String,
        expected: &'static str,
    },
    #[error("{0}")]
    Conflict(&'static str),
    #[error("option -x: unknown read type {0:?} (expected intractg, pacbio, pbref or ont2d)")]
    UnknownPreset(String),
    #[error("option -R: {0}")]
    ReadGroup(#[source] HeaderError),
    #[error("option -H: {0}")]
    Header(#[source] HeaderError),
    #[error("option -H: cannot read header file {path}")]
    HeaderFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl MemOptions {
    /// Resolves command-line flags into options: defaults → `-x` preset →
    /// explicit flags → `-A` rescaling of the penalties not given (only
    /// without `-x`) → derived fields (`-Q`, `-5`) → validation.
    pub fn resolve(args: &MemOptionArgs) -> Result<MemOptions, ParamError> {
        let mut o = MemOptions::default();
        if let Some(mode) = &args.preset {
            apply_preset(&mut o, mode)?;
        }
        apply_explicit(&mut o, args)?;
        if args.preset.is_none() {
            rescale_by_match_score(&mut o, args);
        }
        if let Some(q) = args.map_q_coef_len {
            // An int in bwa, stored in a float; its log stored in an int.
            o.map_q_coef_len = q as f32;
            o.map_q_coef_fac = if q > 0 { f64::from(q).ln() as i32 } else { 0 };
        }
        o.flags = args.flags;
        o.flags.keep_supp_mapq |= args.flags.primary5;
        validate(&o)?;
        Ok(o)
    }
}

/// `-x`: each value only where the option itself is not given; the explicit
/// flags applied afterwards have the last word.
fn apply_preset(o: &mut MemOptions, mode: &str) -> Result<(), ParamError> {
    match mode {
        "intractg" => {
            o.o_del = 16;
            o.o_ins = 16;
            o.b = 9;
            o.pen_clip5 = 5;
            o.pen_clip3 = 5;
        }
        "pacbio" | "pbref" | "ont2d" => {
            o.o_del = 1;
            o.e_del = 1;
            o.o_ins = 1;
            o.e_ins = 1;
            o.b = 1;
            o.split_factor = 10.0;
            o.pen_clip5 = 0;
            o.pen_clip3 = 0;
            (o.min_chain_weight, o.min_seed_len) =
                if mode == "ont2d" { (20, 14) } else { (40, 17) };
        }
        _ => return Err(ParamError::UnknownPreset(mode.to_owned())),
    }
    Ok(())
}

fn apply_explicit(o: &mut MemOptions, a: &MemOptionArgs) -> Result<(), ParamError> {
    fn set<T: Copy>(field: &mut T, v: Option<T>) {
        if let Some(v) = v {
            *field = v;
        }
    }
    set(&mut o.n_threads, a.threads);
    set(&mut o.min_seed_len, a.min_seed_len);
    set(&mut o.w, a.band_width);
    set(&mut o.zdrop, a.zdrop);
    set(&mut o.split_factor, a.split_factor);
    set(&mut o.max_mem_intv, a.max_mem_intv);
    set(&mut o.max_occ, a.max_occ);
    set(&mut o.drop_ratio, a.drop_ratio);
    set(&mut o.min_chain_weight, a.min_chain_weight);
    set(&mut o.max_matesw, a.max_matesw);
    set(&mut o.a, a.match_score);
    set(&mut o.b, a.mismatch);
    set(&mut o.pen_unpaired, a.pen_unpaired);
    set(&mut o.t, a.min_score);
    set(&mut o.verbosity, a.verbosity);
    set(&mut o.split_width, a.split_width);
    set(&mut o.max_chain_gap, a.max_chain_gap);
    set(&mut o.max_chain_extend, a.max_chain_extend);
    set(&mut o.mask_level, a.mask_level);
    if let Some(s) = &a.gap_open {
        (o.o_del, o.o_ins) = int_pair('O', s)?;
    }
    if let Some(s) = &a.gap_extend {
        (o.e_del, o.e_ins) = int_pair('E', s)?;
    }
    if let Some(s) = &a.clip_penalty {
        (o.pen_clip5, o.pen_clip3) = int_pair('L', s)?;
    }
    if let Some(s) = &a.max_xa_hits {
        (o.max_xa_hits, o.max_xa_hits_alt) = int_pair('h', s)?;
    }
    if let Some(k) = a.fixed_batch_size {
        if k <= 0 {
            return Err(out_of_range('K', k, "must be at least 1"));
        }
        o.fixed_batch_size = Some(k);
    }
    if let Some(s) = &a.insert_size {
        o.insert_size = Some(insert_size(s)?);
    }
    if let Some(rg) = &a.read_group {
        o.read_group = Some(header::parse_read_group(rg).map_err(ParamError::ReadGroup)?);
    }
    for h in &a.header {
        o.header_lines.extend(header_arg(h)?);
    }
    Ok(())
}

/// `-H`: a line starting with `@`, or a file whose `@` lines are taken.
fn header_arg(arg: &str) -> Result<Vec<String>, ParamError> {
    if arg.starts_with('@') {
        return Ok(vec![header::escape(arg)]);
    }
    let text = std::fs::read_to_string(arg).map_err(|source| ParamError::HeaderFile {
        path: PathBuf::from(arg),
        source,
    })?;
    header::header_file_lines(&text).map_err(ParamError::Header)
}

/// bwa's `update_a`: with `-A` given and no `-x`, every penalty not given
/// explicitly is multiplied by the match score.
fn rescale_by_match_score(o: &mut MemOptions, a: &MemOptionArgs) {
    if a.match_score.is_none() {
        return;
    }
    let m = o.a;
    let scale = |field: &mut i32, given: bool| {
        if !given {
            *field *= m;
        }
    };
    scale(&mut o.b, a.mismatch.is_some());
    scale(&mut o.t, a.min_score.is_some());
    scale(&mut o.o_del, a.gap_open.is_some());
    scale(&mut o.e_del, a.gap_extend.is_some());
    scale(&mut o.o_ins, a.gap_open.is_some());
    scale(&mut o.e_ins, a.gap_extend.is_some());
    scale(&mut o.zdrop, a.zdrop.is_some());
    scale(&mut o.pen_clip5, a.clip_penalty.is_some());
    scale(&mut o.pen_clip3, a.clip_penalty.is_some());
    scale(&mut o.pen_unpaired, a.pen_unpaired.is_some());
}

fn validate(o: &MemOptions) -> Result<(), ParamError> {
    let checks: [(char, i64, i64, &'static str); 14] = [
        ('t', o.n_threads.into(), 1, "must be at least 1"),
        ('k', o.min_seed_len.into(), 1, "must be at least 1"),
        ('A', o.a.into(), 1, "must be at least 1"),
        ('B', o.b.into(), 0, "must not be negative"),
        ('O', o.o_del.into(), 0, "must not be negative"),
        ('O', o.o_ins.into(), 0, "must not be negative"),
        ('E', o.e_del.into(), 0, "must not be negative"),
        ('E', o.e_ins.into(), 0, "must not be negative"),
        ('L', o.pen_clip5.into(), 0, "must not be negative"),
        ('L', o.pen_clip3.into(), 0, "must not be negative"),
        ('w', o.w.into(), 0, "must not be negative"),
        ('c', o.max_occ.into(), 1, "must be at least 1"),
        ('m', o.max_matesw.into(), 0, "must not be negative"),
        (
            'h',
            o.max_xa_hits.min(o.max_xa_hits_alt).into(),
            0,
            "must not be negative",
        ),
    ];
    for (flag, value, min, why) in checks {
        if value < min {
            return Err(out_of_range(flag, value, why));
        }
    }
    // The scoring matrix holds `a` and `-b` as C chars.
    if o.a > 127 {
        return Err(out_of_range('A', o.a, "must be at most 127"));
    }
    if o.b > 127 {
        return Err(out_of_range('B', o.b, "must be at most 127"));
    }
    if !(o.split_factor.is_finite() && o.split_factor > 0.0) {
        return Err(out_of_range(
            'r',
            o.split_factor,
            "must be a positive number",
        ));
    }
    if !(0.0..=1.0).contains(&o.drop_ratio) {
        return Err(out_of_range('D', o.drop_ratio, "must be between 0 and 1"));
    }
    if !(0.0..=1.0).contains(&o.mask_level) {
        return Err(out_of_range('X', o.mask_level, "must be between 0 and 1"));
    }
    Ok(())
}

fn out_of_range(flag: char, value: impl ToString, why: &'static str) -> ParamError {
    ParamError::OutOfRange {
        flag,
        value: value.to_string(),
        why,
    }
}

/// The numbers of a bwa multi-value option: the first, then more each after
/// one punctuation character that is followed by a digit (`6,6`, `5:200`).
/// Anything else left over is an error, where bwa would silently stop.
fn numbers(s: &str, max: usize, number: fn(&str) -> usize) -> Option<Vec<&str>> {
    let mut out = Vec::with_capacity(max);
    let mut rest = s;
    loop {
        let n = number(rest);
        if n == 0 || out.len() == max {
            return None;
        }
        out.push(&rest[..n]);
        rest = &rest[n..];
        let mut chars = rest.chars();
        match (chars.next(), chars.next()) {
            (None, _) => return Some(out),
            (Some(sep), Some(d)) if sep.is_ascii_punctuation() && d.is_ascii_digit() => {
                rest = &rest[1..];
            }
            _ => return None,
        }
    }
}

/// Length of the integer (`[+-]?[0-9]+`) at the start of `s`, 0 if none.
fn int_len(s: &str) -> usize {
    let sign = usize::from(s.starts_with(['+', '-']));
    let digits = s[sign..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        0
    } else {
        sign + digits
    }
}

/// Length of the decimal number (`[+-]?digits[.digits][e[+-]digits]`) at the start of `s`.
fn float_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = usize::from(s.starts_with(['+', '-']));
    let int_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        frac_digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += 1 + frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return 0;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        let exp = b[i + 1 + sign..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if exp > 0 {
            i += 1 + sign + exp;
        }
    }
    i
}

/// `-O 6[,6]`-style values: one number sets both, two set each.
fn int_pair(flag: char, s: &str) -> Result<(i32, i32), ParamError> {
    let malformed = || ParamError::Malformed {
        flag,
        value: s.to_owned(),
        expected: "INT or INT,INT",
    };
    let parts = numbers(s, 2, int_len).ok_or_else(malformed)?;
    let parse = |p: &str| p.parse::<i32>().map_err(|_| malformed());
    let first = parse(parts[0])?;
    let second = match parts.get(1) {
        Some(p) => parse(p)?,
        None => first,
    };
    Ok((first, second))
}

/// `-I mean[,std[,max[,min]]]` as bwa computes `pes[1]`.
fn insert_size(s: &str) -> Result<InsertSizeOverride, ParamError> {
    let malformed = || ParamError::Malformed {
        flag: 'I',
        value: s.to_owned(),
        expected: "FLOAT[,FLOAT[,INT[,INT]]]",
    };
    let parts = numbers(s, 4, float_len).ok_or_else(malformed)?;
    let values = parts
        .iter()
        .map(|p| p.parse::<f64>().map_err(|_| malformed()))
        .collect::<Result<Vec<f64>, _>>()?;
    let avg = values[0];
    let std = values.get(1).copied().unwrap_or(avg * 0.1);
    let mut high = (avg + 4.0 * std + 0.499) as i32;
    let mut low = ((avg - 4.0 * std + 0.499) as i32).max(1);
    if let Some(h) = values.get(2) {
        high = (h + 0.499) as i32;
    }
    if let Some(l) = values.get(3) {
        low = (l + 0.499) as i32;
    }
    if !(avg.is_finite() && avg > 0.0 && std.is_finite() && std >= 0.0) {
        return Err(out_of_range(
            'I',
            s,
            "needs a positive mean and a non-negative deviation",
        ));
    }
    if low > high {
        return Err(out_of_range(
            'I',
            s,
            "the minimum insert exceeds the maximum",
        ));
    }
    Ok(InsertSizeOverride {
        avg,
        std,
        high,
        low,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(f: impl FnOnce(&mut MemOptionArgs)) -> Result<MemOptions, ParamError> {
        let mut a = MemOptionArgs::default();
        f(&mut a);
        MemOptions::resolve(&a)
    }

    #[test]
    fn no_flags_give_bwa_defaults() {
        assert_eq!(resolve(|_| {}).unwrap(), MemOptions::default());
    }

    #[test]
    fn match_score_rescales_penalties_not_given() {
        let o = resolve(|a| {
            a.match_score = Some(2);
            a.mismatch = Some(5);
            a.gap_open = Some("7".into());
        })
        .unwrap();
        assert_eq!((o.a, o.b), (2, 5));
        assert_eq!((o.o_del, o.o_ins), (7, 7));
        assert_eq!((o.e_del, o.e_ins), (2, 2));
        assert_eq!((o.pen_clip5, o.pen_clip3), (10, 10));
        assert_eq!((o.pen_unpaired, o.t, o.zdrop), (34, 60, 200));
        // Not penalties: untouched.
        assert_eq!((o.w, o.min_seed_len), (100, 19));
        assert_eq!(o.score_matrix()[0], 2);
        assert_eq!(o.score_matrix()[1], -5);
    }

    #[test]
    fn a_preset_turns_off_rescaling() {
        let o = resolve(|a| {
            a.preset = Some("pacbio".into());
            a.match_score = Some(2);
            a.min_seed_len = Some(15);
        })
        .unwrap();
        assert_eq!(
            (o.a, o.b, o.o_del, o.e_ins, o.t, o.zdrop),
            (2, 1, 1, 1, 30, 100)
        );
        assert_eq!((o.min_seed_len, o.min_chain_weight), (15, 40));
        assert_eq!((o.split_factor, o.pen_clip5, o.pen_clip3), (10.0, 0, 0));
        let ont = resolve(|a| a.preset = Some("ont2d".into())).unwrap();
        assert_eq!((ont.min_seed_len, ont.min_chain_weight), (14, 20));
        let ctg = resolve(|a| {
            a.preset = Some("intractg".into());
            a.mismatch = Some(3);
        })
        .unwrap();
        assert_eq!((ctg.b, ctg.o_del, ctg.o_ins, ctg.e_del), (3, 16, 16, 1));
    }

    #[test]
    fn pairs_split_like_bwa() {
        let o = resolve(|a| {
            a.gap_open = Some("5,7".into());
            a.gap_extend = Some("2".into());
            a.clip_penalty = Some("3:9".into());
            a.max_xa_hits = Some("8,300".into());
        })
        .unwrap();
        assert_eq!((o.o_del, o.o_ins, o.e_del, o.e_ins), (5, 7, 2, 2));
        assert_eq!((o.pen_clip5, o.pen_clip3), (3, 9));
        assert_eq!((o.max_xa_hits, o.max_xa_hits_alt), (8, 300));
        let h = resolve(|a| a.max_xa_hits = Some("3".into())).unwrap();
        assert_eq!((h.max_xa_hits, h.max_xa_hits_alt), (3, 3));
    }

    #[test]
    fn malformed_and_out_of_range_values_are_refused() {
        for bad in ["", "x", "5,", "5,x", "5,6,7", "5,-6", "5 6"] {
            let e = resolve(|a| a.gap_open = Some(bad.into())).unwrap_err();
            assert!(
                matches!(e, ParamError::Malformed { flag: 'O', .. }),
                "{bad}: {e}"
            );
        }
        let e = resolve(|a| a.min_seed_len = Some(0)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("option -k: \"0\" is out of range"),
            "{e}"
        );
        assert!(resolve(|a| a.threads = Some(0)).is_err());
        assert!(resolve(|a| a.fixed_batch_size = Some(0)).is_err());
        assert!(resolve(|a| a.match_score = Some(200)).is_err());
        assert!(resolve(|a| a.gap_extend = Some("-1".into())).is_err());
        let e = resolve(|a| a.preset = Some("illumina".into())).unwrap_err();
        assert!(matches!(e, ParamError::UnknownPreset(_)), "{e}");
        assert!(resolve(|a| a.insert_size = Some("abc".into())).is_err());
        assert!(resolve(|a| a.insert_size = Some("300,30,100,200".into())).is_err());
    }

    #[test]
    fn map_q_coefficient_and_primary5() {
        let o = resolve(|a| {
            a.map_q_coef_len = Some(100);
            a.flags.primary5 = true;
        })
        .unwrap();
        assert_eq!((o.map_q_coef_len, o.map_q_coef_fac), (100.0, 4));
        assert!(o.flags.primary5 && o.flags.keep_supp_mapq);
        let z = resolve(|a| a.map_q_coef_len = Some(0)).unwrap();
        assert_eq!(z.map_q_coef_fac, 0);
    }

    #[test]
    fn insert_size_as_bwa_computes_it() {
        let i = |s: &str| {
            resolve(|a| a.insert_size = Some(s.into()))
                .unwrap()
                .insert_size
                .unwrap()
        };
        let one = i("300");
        assert_eq!(
            (one.avg, one.std, one.high, one.low),
            (300.0, 30.0, 420, 180)
        );
        let two = i("250.5,50");
        assert_eq!((two.std, two.high, two.low), (50.0, 450, 50));
        let small = i("10,5");
        assert_eq!((small.high, small.low), (30, 1));
        let four = i("300,20,500,100.6");
        assert_eq!((four.high, four.low), (500, 101));
    }

    #[test]
    fn read_group_and_header_lines() {
        let o = resolve(|a| {
            a.read_group = Some(r"@RG\tID:grp1\tSM:s".into());
            a.header = vec![r"@CO\tone".into()];
        })
        .unwrap();
        assert_eq!(o.read_group.as_deref(), Some("@RG\tID:grp1\tSM:s"));
        assert_eq!(o.read_group_id(), Some("grp1"));
        assert_eq!(o.header_lines, vec!["@CO\tone".to_owned()]);
        assert!(resolve(|a| a.read_group = Some("@RG\tID:x".into())).is_err());
        assert!(resolve(|a| a.read_group = Some(r"@RG\tSM:x".into())).is_err());
        assert!(resolve(|a| a.read_group = Some(r"RG\tID:x".into())).is_err());
        let e = resolve(|a| a.header = vec!["/nonexistent/hdr.txt".into()]).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/hdr.txt"), "{e}");
    }
}
