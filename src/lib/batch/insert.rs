//! [`InsertModel`]: a batch's insert-size model (bwa's four `mem_pestat_t`),
//! computed by `ferrous pair` from the batch itself and used by `rescue`
//! and `emit`, as bwa computes one per batch.

use serde::{Deserialize, Serialize};

use crate::pair::{InsertSizeStats, PairStats};

/// The model of the four orientations FF, FR, RF, RR (index = bwa's
/// `dir`), one array of four per field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "InsertModelRepr")]
pub struct InsertModel {
    low: Vec<i32>,
    high: Vec<i32>,
    failed: Vec<bool>,
    avg: Vec<f64>,
    std: Vec<f64>,
}

#[derive(Deserialize)]
struct InsertModelRepr {
    low: Vec<i32>,
    high: Vec<i32>,
    failed: Vec<bool>,
    avg: Vec<f64>,
    std: Vec<f64>,
}

impl TryFrom<InsertModelRepr> for InsertModel {
    type Error = String;

    fn try_from(r: InsertModelRepr) -> Result<Self, String> {
        let lens = [
            r.low.len(),
            r.high.len(),
            r.failed.len(),
            r.avg.len(),
            r.std.len(),
        ];
        if lens.iter().any(|&n| n != 4) {
            return Err(format!(
                "insert_model: every field needs 4 entries (FF, FR, RF, RR), found {lens:?}"
            ));
        }
        Ok(InsertModel {
            low: r.low,
            high: r.high,
            failed: r.failed,
            avg: r.avg,
            std: r.std,
        })
    }
}

impl From<&PairStats> for InsertModel {
    fn from(pes: &PairStats) -> Self {
        InsertModel {
            low: pes.iter().map(|p| p.low).collect(),
            high: pes.iter().map(|p| p.high).collect(),
            failed: pes.iter().map(|p| p.failed).collect(),
            avg: pes.iter().map(|p| p.avg).collect(),
            std: pes.iter().map(|p| p.std).collect(),
        }
    }
}

impl Default for InsertModel {
    /// No model in any orientation.
    fn default() -> Self {
        InsertModel::from(&PairStats::default())
    }
}

impl InsertModel {
    /// The model as the pairing code takes it.
    pub fn stats(&self) -> PairStats {
        std::array::from_fn(|d| InsertSizeStats {
            low: self.low[d],
            high: self.high[d],
            failed: self.failed[d],
            avg: self.avg[d],
            std: self.std[d],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_pair_stats_and_msgpack() {
        let mut pes = PairStats::default();
        pes[1] = InsertSizeStats {
            low: 100,
            high: 700,
            failed: false,
            avg: 400.25,
            std: 50.5,
        };
        for d in [0, 2, 3] {
            pes[d].failed = true;
        }
        let m = InsertModel::from(&pes);
        assert_eq!(m.stats(), pes);
        let bytes = rmp_serde::to_vec_named(&m).unwrap();
        let back: InsertModel = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn refuses_a_model_without_four_orientations() {
        let bad = InsertModel {
            low: vec![0; 3],
            ..InsertModel::from(&PairStats::default())
        };
        let bytes = rmp_serde::to_vec_named(&bad).unwrap();
        let err = rmp_serde::from_slice::<InsertModel>(&bytes).unwrap_err();
        assert!(err.to_string().contains("4 entries"), "{err}");
    }
}
