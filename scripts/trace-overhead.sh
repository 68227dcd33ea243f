#!/usr/bin/env bash
# What --trace costs: ROUNDS adjacent pairs of `ferrous mem -t THREADS`
# runs, untraced then traced, on the first PAIRS read pairs of DATA_DIR
# (short runs, so that the two of a pair see the same machine speed; this
# VM's speed drifts by a third within minutes). Prints the median and mean
# of traced/untraced wall and CPU time over the pairs.
#
#   scripts/trace-overhead.sh DATA_DIR [ROUNDS] [THREADS] [PAIRS]
#
# DATA_DIR holds reads_{1,2}.fq.gz and its index as DATA_DIR/idx/ref.fa.fmi
# (scripts/scaling-validate.sh builds it). E. coli is the worst case: its
# reads align fastest, so spans per second are most.
set -euo pipefail
data=${1:?usage: scripts/trace-overhead.sh DATA_DIR [ROUNDS] [THREADS] [PAIRS]}
rounds=${2:-15}
threads=${3:-2}
pairs=${4:-50000}
here=$(cd "$(dirname "$0")/.." && pwd)
ferrous=${FERROUS:-$here/target/release/ferrous}
idx=$data/idx/ref.fa
[ -f "$idx.fmi" ] || { echo "no index at $idx.fmi (scripts/scaling-validate.sh builds it)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for m in 1 2; do
  { zcat "$data/reads_$m.fq.gz" || true; } | head -n $((4 * pairs)) | gzip -1 > "$work/r$m.fq.gz"
done
for _ in $(seq "$rounds"); do
  for tr in 0 1; do
    args=()
    [ "$tr" = 1 ] && args=(--trace "$work/t.json")
    /usr/bin/time -f "$tr %e %U %S" -a -o "$work/times" \
      "$ferrous" mem -t "$threads" "${args[@]}" "$idx" "$work/r1.fq.gz" "$work/r2.fq.gz" > /dev/null 2>&1
  done
done
python3 - "$work/times" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
pairs = [(rows[i], rows[i + 1]) for i in range(0, len(rows) - 1, 2)]
wall = [float(b[1]) / float(a[1]) for a, b in pairs]
cpu = [(float(b[2]) + float(b[3])) / (float(a[2]) + float(a[3])) for a, b in pairs]
print(f"{len(pairs)} pairs; traced / untraced: wall median {st.median(wall):.4f} "
      f"(mean {st.mean(wall):.4f}), CPU median {st.median(cpu):.4f} (mean {st.mean(cpu):.4f})")
PY
