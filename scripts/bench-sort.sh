#!/usr/bin/env bash
# What sorting costs, and what sorting inside ferrous saves: paired-end
# alignment to a coordinate-sorted BAM three ways, interleaved in ROUNDS
# rounds so that the ratios come from runs minutes apart at most (the
# machine's speed drifts):
#
#   ferrous-sort      ferrous mem -t T --sort coordinate -o out.bam
#   ferrous-sort-64M  the same with --sort-memory 64M (runs spilled to disk)
#   ferrous|samtools  ferrous mem -t T | samtools sort -@T -o out.bam
#   bwa|samtools      bwa mem -t T | samtools sort -@T -o out.bam
#
# Prints wall and CPU seconds (all processes of the run), peak memory (of
# the largest process: for a pipe, the larger of the two) and the load
# average when each run started; then the medians and each way's median
# wall time over ferrous-sort's. The sorted records of the ferrous runs
# are checked to be the same (`samtools view`).
#
#   scripts/bench-sort.sh DATA_DIR [THREADS] [ROUNDS]
#
# DATA_DIR holds ref.fa and reads_{1,2}.fq.gz; ferrous's and bwa's indexes
# are built into $WORK (default target/bench-sort) when missing.
# FERROUS=path/to/ferrous uses that binary instead of building one.
set -euo pipefail
dir=${1:?usage: scripts/bench-sort.sh DATA_DIR [THREADS] [ROUNDS]}
threads=${2:-2}
rounds=${3:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$root/target/bench-sort}
mkdir -p "$work"
if [ -z "${FERROUS:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml"
fi
ferrous=${FERROUS:-$root/target/release/ferrous}
name=$(basename "$dir")
idx=$work/$name
[ -e "$idx.fmi" ] || "$ferrous" index -p "$idx" "$dir/ref.fa" >/dev/null 2>&1
[ -e "$idx.bwt" ] || bwa index -p "$idx" "$dir/ref.fa" >/dev/null 2>&1
reads=("$dir/reads_1.fq.gz" "$dir/reads_2.fq.gz")

run() { # label, output file, command line (run by bash)
  local label=$1 out=$2 cmd=$3 load
  sync
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" bash -c "$cmd" 2>/dev/null
  read -r wall user sys rss <"$work/time"
  printf '%s\t%s\t%s\t%s\t%.2f\t%d\t%d\n' "$label" "$(date -u +%H:%M:%S)" "$load" "$wall" \
    "$(echo "$user + $sys" | bc)" "$((rss / 1024))" "$(stat -c %s "$out")" | tee -a "$work/runs.tsv"
}

: >"$work/runs.tsv"
printf 'way\tstart\tload\twall_s\tcpu_s\tpeak_MB\tbytes\n'
q() { printf '%q ' "$@"; }
for _ in $(seq "$rounds"); do
  run ferrous-sort "$work/a.bam" \
    "$(q "$ferrous" mem -t "$threads" -v 1 --sort coordinate -o "$work/a.bam" "$idx" "${reads[@]}")"
  run ferrous-sort-64M "$work/b.bam" \
    "$(q "$ferrous" mem -t "$threads" -v 1 --sort coordinate --sort-memory 64M --tmp-dir "$work" -o "$work/b.bam" "$idx" "${reads[@]}")"
  run 'ferrous|samtools' "$work/c.bam" \
    "$(q "$ferrous" mem -t "$threads" -v 1 "$idx" "${reads[@]}") | $(q samtools sort -@"$threads" -T "$work/c.sort" -o "$work/c.bam" -)"
  run 'bwa|samtools' "$work/d.bam" \
    "$(q bwa mem -t "$threads" -v 1 "$idx" "${reads[@]}") | $(q samtools sort -@"$threads" -T "$work/d.sort" -o "$work/d.bam" -)"
done
for f in a b c; do samtools view "$work/$f.bam" | md5sum; done | uniq | wc -l | grep -qx 1 ||
  { echo "the ferrous runs' sorted records differ" >&2; exit 1; }
python3 - "$work/runs.tsv" <<'PY'
import statistics, sys
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1]) if l.strip()]
med = statistics.median
ways = list(dict.fromkeys(r[0] for r in rows))
col = lambda k, i: [float(r[i]) for r in rows if r[0] == k]
base = med(col('ferrous-sort', 3))
for k in ways:
    print(f"{k}: median wall {med(col(k, 3)):.2f} s ({med(col(k, 3)) / base:.2f}x ferrous-sort's), "
          f"median CPU {med(col(k, 4)):.2f} s, peak {max(col(k, 5)):.0f} MB")
PY
rm -f "$work"/{a,b,c,d}.bam
