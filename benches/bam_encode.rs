//! SAM lines to BAM records, ferrous's encoder against noodles' (parse
//! into a `noodles_sam::Record`, encode with `noodles_bam`), and the
//! cost of BGZF compression per level: `cargo bench --bench bam_encode`.
//! Plain `std::time`, no framework; 40,000 paired records of 150 bp.

use std::hint::black_box;
use std::time::Instant;

use ferrous::output::bam::{encode_text, BamHeader, EncodeBuffers};
use ferrous::output::bgzf::{BlockCompressor, BlockCutter, Level};
use noodles_sam::alignment::io::Write as _;

const HEADER: &str = "@SQ\tSN:chr20\tLN:63025520\n@PG\tID:ferrous\tPN:ferrous\n";

fn sam_text(n: usize) -> String {
    let mut state = 7u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    let mut text = String::new();
    for i in 0..n {
        let seq: String = (0..150).map(|_| b"ACGT"[next() % 4] as char).collect();
        let qual: String = (0..150)
            .map(|_| (b'#' + (next() % 40) as u8) as char)
            .collect();
        let pos = next() % 60_000_000 + 1;
        text.push_str(&format!(
            "read_{i}_chr20_{pos}\t{}\tchr20\t{pos}\t60\t150M\t=\t{}\t{}\t{seq}\t{qual}\tNM:i:{}\tMD:Z:75A74\tMC:Z:150M\tAS:i:{}\tXS:i:0\n",
            if i % 2 == 0 { 99 } else { 147 },
            pos + 250,
            if i % 2 == 0 { 400 } else { -400 },
            next() % 5,
            140 + next() % 10,
        ));
    }
    text
}

fn time(name: &str, records: usize, f: impl FnOnce() -> usize) {
    let start = Instant::now();
    let sum = f();
    let ns = start.elapsed().as_nanos() as f64 / records as f64;
    println!("{name:<44} {ns:>8.1} ns/record  ({sum} bytes)");
}

fn main() {
    let n = 40_000;
    let text = sam_text(n);
    let header = BamHeader::from_sam(HEADER.as_bytes()).expect("header");
    let mut records = Vec::new();
    time("ferrous encoder", n, || {
        encode_text(
            &header,
            text.as_bytes(),
            &mut EncodeBuffers::default(),
            &mut records,
            |_| {},
        )
        .expect("encodes");
        records.len()
    });
    time("noodles (sam::Record, bam::io::Writer)", n, || {
        let mut full = HEADER.to_string();
        full.push_str(&text);
        let mut reader = noodles_sam::io::Reader::new(full.as_bytes());
        let h = reader.read_header().expect("header");
        let mut writer = noodles_bam::io::Writer::from(Vec::new());
        let mut record = noodles_sam::Record::default();
        while reader.read_record(&mut record).expect("reads") > 0 {
            writer.write_alignment_record(&h, &record).expect("encodes");
        }
        black_box(writer.get_ref()).len()
    });
    for level in [1, 6] {
        let mut c = BlockCompressor::new(Level::new(level).expect("level"));
        time(&format!("BGZF blocks at level {level}"), n, || {
            let mut out = Vec::new();
            let mut cut = BlockCutter::new(&mut c);
            let mut at = 0;
            while at < records.len() {
                let len = u32::from_le_bytes(records[at..at + 4].try_into().unwrap()) as usize + 4;
                cut.record(&records[at..at + len], &mut out);
                at += len;
            }
            cut.flush(&mut out);
            out.len()
        });
    }
}
