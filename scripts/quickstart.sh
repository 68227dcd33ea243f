#!/usr/bin/env bash
# Build ferrous and run the main job on the shipped data set (data/small).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
bin=target/release/ferrous
out=target/quickstart
mkdir -p "$out"
echo "== ferrous $($bin --version): indexing data/small/ref.fa"
/usr/bin/env time -f "   %es wall, %MKB peak" "$bin" index -p "$out/ref.fa" data/small/ref.fa 2>&1 \
  || "$bin" index -p "$out/ref.fa" data/small/ref.fa
ls -l "$out/ref.fa.fmi"
if "$bin" mem "$out/ref.fa" data/small/reads_1.fq.gz data/small/reads_2.fq.gz > "$out/small.sam" 2> "$out/mem.log"; then
  echo "== aligned: $(grep -vc '^@' "$out/small.sam") SAM records in $out/small.sam"
else
  echo "== ferrous mem: $(tail -1 "$out/mem.log")"
fi
