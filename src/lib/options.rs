//! One options type for every stage, with `bwa mem`'s names and defaults
//! (`bwamem.c: mem_opt_init`). The resolved options are recorded in batch
//! headers so that a later stage can refuse a batch made with other options.
//!
//! [`MemOptions::resolve`] turns the flags given on the command line
//! ([`MemOptionArgs`]) into options in one place, in bwa's order
//! (`fastmap.c: main_mem`): defaults, then the `-x` preset, then the explicit
//! flags, then `-A` rescaling of the penalties not given (skipped when `-x`
//! is given), then derived fields, then validation.

mod resolve;

use serde::{Deserialize, Serialize};

pub use resolve::{MemOptionArgs, ParamError};

/// Alignment options, named after the fields of bwa's `mem_opt_t`.
/// Each field's doc names the `bwa mem` flag that sets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemOptions {
    /// `-A`: match score.
    pub a: i32,
    /// `-B`: mismatch penalty.
    pub b: i32,
    /// `-O` (deletion part): gap open penalty; a gap of length k costs O + k*E.
    pub o_del: i32,
    /// `-E` (deletion part): gap extension penalty.
    pub e_del: i32,
    /// `-O` (insertion part).
    pub o_ins: i32,
    /// `-E` (insertion part).
    pub e_ins: i32,
    /// `-L` (5' part): clipping penalty; decides clipping, never subtracted from AS.
    pub pen_clip5: i32,
    /// `-L` (3' part).
    pub pen_clip3: i32,
    /// `-U`: penalty for an unpaired read pair.
    pub pen_unpaired: i32,
    /// `-w`: band width.
    pub w: i32,
    /// `-d`: Z-dropoff.
    pub zdrop: i32,
    /// `-y`: occurrence threshold of the third seeding round (0 disables it).
    pub max_mem_intv: u64,
    /// `-T`: minimum score to output.
    pub t: i32,
    /// `-k`: minimum seed length.
    pub min_seed_len: i32,
    /// `-W`: drop chains lighter than this.
    pub min_chain_weight: i32,
    /// hidden `-N`: maximum number of chains to extend.
    pub max_chain_extend: i32,
    /// `-r`: re-seed SMEMs longer than `min_seed_len * split_factor` (a C float).
    pub split_factor: f32,
    /// hidden `-s`: re-seed only SMEMs with at most this many occurrences.
    pub split_width: i32,
    /// `-c`: sample at most this many occurrences per SMEM.
    pub max_occ: i32,
    /// hidden `-G`: maximum gap when chaining.
    pub max_chain_gap: i32,
    /// `-t`: threads; also scales the default batch size.
    pub n_threads: i32,
    /// bases per batch per thread; `-K` sets the whole batch size instead.
    pub chunk_size: i64,
    /// hidden `-X`: overlap fraction for "the same region" (a C float).
    pub mask_level: f32,
    /// `-D`: chain and secondary drop ratio (a C float).
    pub drop_ratio: f32,
    /// `-z`: XA score ratio (a C float).
    pub xa_drop_ratio: f32,
    /// redundancy threshold used in de-duplication (a C float).
    pub mask_level_redun: f32,
    /// `-Q`: MAPQ length coefficient (a C float).
    pub map_q_coef_len: f32,
    /// `(int)ln(map_q_coef_len)`: an int in bwa, so 3 by default, not 3.912.
    pub map_q_coef_fac: i32,
    /// maximum insert size used when estimating insert-size statistics.
    pub max_ins: i32,
    /// `-m`: maximum mate-rescue rounds per read.
    pub max_matesw: i32,
    /// `-h` (first part): maximum XA hits.
    pub max_xa_hits: i32,
    /// `-h` (second part): maximum XA hits when an ALT hit is among them.
    pub max_xa_hits_alt: i32,
    /// The on/off flags of bwa's `opt->flag` and `main_mem`.
    pub flags: MemFlags,
    /// `-K`: bases per batch regardless of the thread count.
    pub fixed_batch_size: Option<i64>,
    /// `-I`: insert-size model of the FR orientation, instead of estimating it.
    pub insert_size: Option<InsertSizeOverride>,
    /// `-R`: the read-group line, escapes already translated (starts `@RG\t`).
    pub read_group: Option<String>,
    /// `-H`: header lines in command-line order, escapes translated; one
    /// entry may hold several lines joined by `\n`.
    pub header_lines: Vec<String>,
    /// `-v`: stderr verbosity (1 error, 2 warning, 3 message, 4+ debug).
    /// It changes no output, so [`MemOptions::fingerprint`] leaves it out.
    pub verbosity: i32,
}

/// bwa's boolean options (`MEM_F_*` bits and `main_mem` locals), one field each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemFlags {
    /// `-a` (`MEM_F_ALL`): output all alignments for single-end or unpaired reads.
    pub output_all: bool,
    /// `-M` (`MEM_F_NO_MULTI`): flag supplementary alignments 0x100, not 0x800.
    pub no_multi: bool,
    /// `-Y` (`MEM_F_SOFTCLIP`): soft clipping on supplementary alignments.
    pub soft_clip: bool,
    /// `-C`: append the FASTA/FASTQ comment to each record.
    pub copy_comment: bool,
    /// `-V` (`MEM_F_REF_HDR`): the reference FASTA header in an `XR` tag.
    pub ref_header: bool,
    /// `-5` (`MEM_F_PRIMARY5`): the split hit with the smallest coordinate is primary.
    pub primary5: bool,
    /// `-q` (`MEM_F_KEEP_SUPP_MAPQ`, also set by `-5`): keep supplementary MAPQ.
    pub keep_supp_mapq: bool,
    /// `-j`: treat ALT contigs as primary assembly (ignore `<idxbase>.alt`).
    pub ignore_alt: bool,
    /// `-p` (`MEM_F_PE | MEM_F_SMARTPE`): interleaved pairs in one file.
    pub smart_pairing: bool,
    /// `-P` (`MEM_F_NOPAIRING`): skip pairing; mate rescue still runs unless `-S`.
    pub no_pairing: bool,
    /// `-S` (`MEM_F_NO_RESCUE`): skip mate rescue.
    pub no_rescue: bool,
}

/// `-I mean[,std[,max[,min]]]`: bwa's `pes[1]` (FR orientation) as given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InsertSizeOverride {
    /// Mean insert size.
    pub avg: f64,
    /// Standard deviation (10% of the mean when not given).
    pub std: f64,
    /// Largest proper insert (mean + 4 std, rounded, when not given).
    pub high: i32,
    /// Smallest proper insert (mean - 4 std rounded, at least 1, when not given).
    pub low: i32,
}

impl Default for MemOptions {
    fn default() -> Self {
        MemOptions {
            a: 1,
            b: 4,
            o_del: 6,
            e_del: 1,
            o_ins: 6,
            e_ins: 1,
            pen_clip5: 5,
            pen_clip3: 5,
            pen_unpaired: 17,
            w: 100,
            zdrop: 100,
            max_mem_intv: 20,
            t: 30,
            min_seed_len: 19,
            min_chain_weight: 0,
            max_chain_extend: 1 << 30,
            split_factor: 1.5,
            split_width: 10,
            max_occ: 500,
            max_chain_gap: 10000,
            n_threads: 1,
            chunk_size: 10_000_000,
            mask_level: 0.50,
            drop_ratio: 0.50,
            xa_drop_ratio: 0.80,
            mask_level_redun: 0.95,
            map_q_coef_len: 50.0,
            map_q_coef_fac: 3,
            max_ins: 10000,
            max_matesw: 50,
            max_xa_hits: 5,
            max_xa_hits_alt: 200,
            flags: MemFlags::default(),
            fixed_batch_size: None,
            insert_size: None,
            read_group: None,
            header_lines: Vec::new(),
            verbosity: 3,
        }
    }
}

impl MemOptions {
    /// The 5x5 scoring matrix (`bwa.c: bwa_fill_scmat`), row-major by
    /// `ref * 5 + query`: `a` on the diagonal, `-b` off it, `-1` wherever
    /// either base is N (code 4).
    pub fn score_matrix(&self) -> [i8; 25] {
        let mut mat = [0i8; 25];
        for i in 0..5 {
            for j in 0..5 {
                mat[i * 5 + j] = if i == 4 || j == 4 {
                    -1
                } else if i == j {
                    self.a as i8
                } else {
                    -(self.b as i8)
                };
            }
        }
        mat
    }

    /// Batch size in bases: `-K` when given, else `chunk_size * n_threads`,
    /// as bwa ties it to the thread count so that one command line gives
    /// bwa's output.
    pub fn batch_bases(&self, fixed_batch_size: Option<i64>) -> i64 {
        match fixed_batch_size {
            Some(k) if k > 0 => k,
            _ => self.chunk_size * i64::from(self.n_threads.max(1)),
        }
    }

    /// Batch size in bases under these options (`-K` or the thread default).
    pub fn batch_size(&self) -> i64 {
        self.batch_bases(self.fixed_batch_size)
    }

    /// The `RG:Z:` value of every record: the `ID:` of the `-R` line.
    pub fn read_group_id(&self) -> Option<&str> {
        self.read_group
            .as_deref()
            .and_then(crate::emit::header::read_group_id)
    }

    /// A stable 64-bit hash of the serialized options (FNV-1a over their
    /// MessagePack form), equal across runs and machines for equal options.
    /// Left out, because they change no alignment once batches are cut:
    /// `verbosity`, the thread count and the batch size (`-t`, `-K`: only
    /// the batch cutter uses them, and a batch records where it was cut).
    pub fn fingerprint(&self) -> u64 {
        let d = MemOptions::default();
        let quiet = MemOptions {
            verbosity: d.verbosity,
            n_threads: d.n_threads,
            chunk_size: d.chunk_size,
            fixed_batch_size: d.fixed_batch_size,
            ..self.clone()
        };
        // Serializing plain fields cannot fail; the Debug text is a stable
        // stand-in should it ever do so.
        let bytes = rmp_serde::to_vec(&quiet).unwrap_or_else(|_| format!("{quiet:?}").into_bytes());
        fnv1a64(&bytes)
    }
}

/// FNV-1a, 64-bit: stable, unlike std's randomly seeded hasher.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_matrix_matches_bwa_defaults() {
        let m = MemOptions::default().score_matrix();
        assert_eq!(m[0], 1); // A vs A
        assert_eq!(m[1], -4); // A vs C
        assert_eq!(m[4], -1); // A vs N
        assert_eq!(m[24], -1); // N vs N
    }

    #[test]
    fn default_batch_size_scales_with_threads_unless_fixed() {
        let o = MemOptions {
            n_threads: 4,
            ..MemOptions::default()
        };
        assert_eq!(o.batch_bases(None), 40_000_000);
        assert_eq!(o.batch_bases(Some(1_000_000)), 1_000_000);
        let k = MemOptions {
            fixed_batch_size: Some(5_000),
            ..o.clone()
        };
        assert_eq!(k.batch_size(), 5_000);
        assert_eq!(o.batch_size(), 40_000_000);
    }

    #[test]
    fn fingerprint_is_stable_and_sees_options_but_not_verbosity_threads_or_batch_size() {
        let d = MemOptions::default();
        assert_eq!(d.fingerprint(), MemOptions::default().fingerprint());
        let loud = MemOptions {
            verbosity: 4,
            ..d.clone()
        };
        assert_eq!(d.fingerprint(), loud.fingerprint());
        let cut = MemOptions {
            n_threads: 8,
            fixed_batch_size: Some(1000),
            ..d.clone()
        };
        assert_eq!(d.fingerprint(), cut.fingerprint());
        let mut m = d.clone();
        m.flags.no_multi = true;
        assert_ne!(d.fingerprint(), m.fingerprint());
        let k = MemOptions {
            min_seed_len: 20,
            ..d.clone()
        };
        assert_ne!(d.fingerprint(), k.fingerprint());
    }

    #[test]
    fn options_round_trip_through_messagepack() {
        let mut o = MemOptions {
            read_group: Some("@RG\tID:x".into()),
            insert_size: Some(InsertSizeOverride {
                avg: 300.0,
                std: 30.0,
                high: 420,
                low: 180,
            }),
            ..MemOptions::default()
        };
        o.header_lines.push("@CO\thello".into());
        let bytes = rmp_serde::to_vec(&o).expect("serialize");
        let back: MemOptions = rmp_serde::from_slice(&bytes).expect("deserialize");
        assert_eq!(back, o);
        assert_eq!(back.read_group_id(), Some("x"));
    }
}
