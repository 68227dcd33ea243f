//! One options type for every stage, with `bwa mem`'s names and defaults
//! (`bwamem.c: mem_opt_init`). The resolved options are recorded in batch
//! headers so that a later stage can refuse a batch made with other options.

use serde::{Deserialize, Serialize};

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
    }
}
