#!/usr/bin/env bash
# Build ferrous and run the main job on the shipped data set (data/small):
# index the reference, align the reads, and compare with bwa mem when bwa
# is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
# The default build compiles ISA-L (gzip inflate): it needs nasm and
# autotools, which build-deps.sh installs when it can; without them, the
# zlib-rs inflate (same results, slower on gzip input).
if bash scripts/build-deps.sh; then
  cargo build --release --locked
else
  cargo build --release --locked --no-default-features
fi
bin=target/release/ferrous
out=target/quickstart
mkdir -p "$out"
echo "== ferrous $($bin --version)"
echo "== indexing data/small/ref.fa"
"$bin" index -p "$out/ref.fa" data/small/ref.fa
reads=(data/small/reads_1.fq.gz data/small/reads_2.fq.gz)
echo "== aligning ${reads[*]} (paired-end) -> $out/small.sam"
"$bin" mem -t 2 -o "$out/small.sam" "$out/ref.fa" "${reads[@]}"
echo "   $(grep -vc '^@' "$out/small.sam") SAM records"
if command -v bwa >/dev/null; then
  cp data/small/ref.fa "$out/bwa-ref.fa"
  bwa index "$out/bwa-ref.fa" 2>/dev/null
  bwa mem -t 2 "$out/bwa-ref.fa" "${reads[@]}" 2>/dev/null > "$out/bwa.sam"
  if diff <(grep -v '^@PG' "$out/small.sam") <(grep -v '^@PG' "$out/bwa.sam") >/dev/null; then
    echo "== identical to bwa mem (all lines but @PG)"
  else
    echo "== differs from bwa mem: diff $out/small.sam $out/bwa.sam"
  fi
else
  echo "== (install bwa to compare: apt-get install bwa)"
fi
