//! Throughput of the read parser on a real file (not run by default):
//! `FERROUS_READS_BENCH=reads.fq.gz cargo test --release --test reads_bench -- --ignored --nocapture`
//! (set `FERROUS_READS_BENCH2` to a second file to time paired input).

use std::path::PathBuf;
use std::time::Instant;

use ferrous::reads::{BatchReader, ReadBatch};

#[test]
#[ignore = "benchmark: set FERROUS_READS_BENCH to a FASTQ path"]
fn parse_throughput() {
    let Some(path) = std::env::var_os("FERROUS_READS_BENCH").map(PathBuf::from) else {
        return;
    };
    for round in 0..3 {
        let start = Instant::now();
        let mut input = match std::env::var_os("FERROUS_READS_BENCH2") {
            Some(r2) => BatchReader::paired(&path, r2.as_ref()).unwrap(),
            None => BatchReader::single(&path).unwrap(),
        };
        let mut batch = ReadBatch::new();
        let (mut reads, mut bytes) = (0u64, 0u64);
        while input.next_batch(10_000_000, &mut batch).unwrap() {
            reads += batch.len() as u64;
            for i in 0..batch.len() {
                // Text bytes: header, sequence, '+' line, quality, newlines.
                let q = batch.qual(i).map_or(0, <[u8]>::len);
                bytes += (batch.name(i).len() + batch.comment(i).len() + 2 * q + 8) as u64;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "round {round}: {} reads, ~{:.1} MB text in {secs:.3} s: {:.0} MB/s of text, {:.2} M reads/s",
            reads,
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs,
            reads as f64 / 1e6 / secs
        );
    }
}
