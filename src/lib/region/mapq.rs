//! Single-end mapping quality (spec §10; `bwamem.c: mem_approx_mapq_se`).
//!
//! Every operation keeps C's types: `mapQ_coef_len` and `frac_rep` are
//! floats, `mapQ_coef_fac` is an int, the rest is evaluated left to right
//! in double, and `(int)` truncates toward zero.

use super::{c_int, AlnReg};
use crate::options::MemOptions;

/// `MEM_MAPQ_COEF`: the `-Q 0` formula's scale.
const MAPQ_COEF: f64 = 30.0;
/// `MEM_MAPQ_MAX`.
const MAPQ_MAX: i32 = 60;

/// MAPQ of a primary (or supplementary) region; bwa gives secondaries 0
/// without calling this. Always in `0..=60`.
pub fn approx_mapq_se(opt: &MemOptions, r: &AlnReg) -> i32 {
    let mut sub = if r.sub != 0 {
        r.sub
    } else {
        opt.min_seed_len * opt.a
    };
    sub = sub.max(r.csub);
    if sub >= r.score {
        return 0;
    }
    let l = (r.qe - r.qb).max((r.re - r.rb) as i32);
    let identity = 1.0 - f64::from(l * opt.a - r.score) / f64::from(opt.a + opt.b) / f64::from(l);
    let mut mapq = if r.score == 0 {
        0
    } else if opt.map_q_coef_len > 0.0 {
        let mut tmp = if (l as f32) < opt.map_q_coef_len {
            1.0
        } else {
            f64::from(opt.map_q_coef_fac) / f64::from(l).ln()
        };
        tmp *= identity * identity;
        c_int(6.02 * f64::from(r.score - sub) / f64::from(opt.a) * tmp * tmp + 0.499)
    } else {
        let m = c_int(
            MAPQ_COEF * (1.0 - f64::from(sub) / f64::from(r.score)) * f64::from(r.seedcov).ln()
                + 0.499,
        );
        if identity < 0.95 {
            c_int(f64::from(m) * identity * identity + 0.499)
        } else {
            m
        }
    };
    if r.sub_n > 0 {
        mapq = mapq.wrapping_sub(c_int(4.343 * f64::from(r.sub_n + 1).ln() + 0.499));
    }
    mapq = mapq.clamp(0, MAPQ_MAX);
    c_int(f64::from(mapq) * (1.0 - f64::from(r.frac_rep)) + 0.499)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(score: i32, sub: i32, sub_n: i32) -> AlnReg {
        AlnReg {
            rb: 1000,
            re: 1151,
            qb: 0,
            qe: 151,
            score,
            truesc: score,
            sub,
            sub_n,
            seedcov: 151,
            ..AlnReg::default()
        }
    }

    /// §18: values bwa printed for a 151-bp read with a perfect hit and one
    /// near-repeat.
    #[test]
    fn mapq_matches_bwa_runs() {
        let o = MemOptions::default();
        assert_eq!(approx_mapq_se(&o, &reg(151, 136, 0)), 32);
        assert_eq!(approx_mapq_se(&o, &reg(151, 141, 0)), 22);
        assert_eq!(approx_mapq_se(&o, &reg(151, 146, 1)), 8);
    }

    #[test]
    fn unique_perfect_hit_is_60_and_equal_sub_is_0() {
        let o = MemOptions::default();
        assert_eq!(approx_mapq_se(&o, &reg(151, 0, 0)), 60);
        assert_eq!(approx_mapq_se(&o, &reg(151, 151, 1)), 0);
        // csub counts as a sub.
        let mut r = reg(151, 0, 0);
        r.csub = 151;
        assert_eq!(approx_mapq_se(&o, &r), 0);
    }

    #[test]
    fn short_reads_use_factor_one_and_frac_rep_scales() {
        let o = MemOptions::default();
        // l = 40 < 50: t = identity^2 = 1; 6.02 * (40 - 19) = 126.4 → 60.
        let mut r = AlnReg {
            rb: 0,
            re: 40,
            qb: 0,
            qe: 40,
            score: 40,
            ..AlnReg::default()
        };
        assert_eq!(approx_mapq_se(&o, &r), 60);
        r.score = 22; // 6.02 * (22 - 19) * (1 - 18/5/40)^4 + .499 = 12.88 → 12
        assert_eq!(approx_mapq_se(&o, &r), 12);
        r.score = 40;
        r.frac_rep = 0.5;
        assert_eq!(approx_mapq_se(&o, &r), 30);
        r.frac_rep = 0.3; // 60 * (1 - 0.3f32) + .499 = 42.49899 → 42
        assert_eq!(approx_mapq_se(&o, &r), 42);
    }

    #[test]
    fn coef_len_zero_uses_seed_coverage_formula() {
        let o = MemOptions {
            map_q_coef_len: 0.0,
            ..MemOptions::default()
        };
        // 30 * (1 - 100/151) * ln(151) + .499 = 51.34 → 51 (identity 1).
        assert_eq!(approx_mapq_se(&o, &reg(151, 100, 0)), 51);
        // identity = 1 - (151-131)/5/151 = 0.97351 ≥ 0.95: no scaling.
        let mut r = reg(131, 100, 0);
        r.seedcov = 60;
        // 30 * (1 - 100/131) * ln(60) + .499 = 29.57 → 29
        assert_eq!(approx_mapq_se(&o, &r), 29);
    }
}
