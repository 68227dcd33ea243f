#!/usr/bin/env bash
# What BAM output costs: `ferrous mem` to SAM, to BAM at samtools' default
# level (6) and at level 1, alternating in ROUNDS rounds so that the
# ratios come from runs minutes apart at most (the machine's speed
# drifts). Prints wall and CPU seconds, peak memory and output size per
# run, then each format's median wall and CPU time over SAM's (on a busy
# shared machine the CPU ratio is the steadier one).
#
#   scripts/bench-bam.sh DATA_DIR [THREADS] [ROUNDS]
#
# DATA_DIR holds ref.fa and reads_{1,2}.fq.gz (../shared/bench/make-data.sh);
# the index is built into $WORK (default target/bench-bam) when missing.
# FERROUS=path/to/ferrous uses that binary instead of building one.
set -euo pipefail
dir=${1:?usage: scripts/bench-bam.sh DATA_DIR [THREADS] [ROUNDS]}
threads=${2:-2}
rounds=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$root/target/bench-bam}
mkdir -p "$work"
if [ -z "${FERROUS:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml"
fi
ferrous=${FERROUS:-$root/target/release/ferrous}
name=$(basename "$dir")
idx=$work/$name
[ -e "$idx.fmi" ] || "$ferrous" index -p "$idx" "$dir/ref.fa" >/dev/null 2>&1

run() { # label, output file, extra args...
  local label=$1 out=$2
  shift 2
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" \
    "$ferrous" mem -t "$threads" -v 1 "$@" -o "$out" "$idx" "$dir/reads_1.fq.gz" "$dir/reads_2.fq.gz" 2>/dev/null
  read -r wall user sys rss <"$work/time"
  printf '%s\t%s\t%s\t%.2f\t%d\t%d\n' "$label" "$(date -u +%H:%M:%S)" "$wall" \
    "$(echo "$user + $sys" | bc)" "$((rss / 1024))" "$(stat -c %s "$out")" | tee -a "$work/runs.tsv"
}

: >"$work/runs.tsv"
printf 'output\tstart\twall_s\tcpu_s\tpeak_MB\tbytes\n'
for _ in $(seq "$rounds"); do
  run sam "$work/out.sam"
  run bam "$work/out.bam"
  run bam-l1 "$work/out-l1.bam" -l 1
done
python3 - "$work/runs.tsv" <<'EOF'
import statistics, sys
rows = [l.split('\t') for l in open(sys.argv[1]) if l.strip()]
wall, cpu = {}, {}
for r in rows:
    wall.setdefault(r[0], []).append(float(r[2]))
    cpu.setdefault(r[0], []).append(float(r[3]))
med = statistics.median
for k in wall:
    print(f"{k}: median wall {med(wall[k]):.2f} s ({med(wall[k]) / med(wall['sam']):.3f}x SAM's), "
          f"median CPU {med(cpu[k]):.2f} s ({med(cpu[k]) / med(cpu['sam']):.3f}x SAM's)")
EOF
rm -f "$work/out.sam" "$work/out.bam" "$work/out-l1.bam"
