#!/usr/bin/env bash
# Validates scripts/scaling-model.py on one data set, and measures what
# --trace costs:
#
#   scripts/scaling-validate.sh DATA_DIR [ROUNDS] [OUT_DIR]
#
# Each round runs, one after another, `ferrous mem -t 1 --trace` (the trace
# the model reads), `-t 2` without a trace (the wall time to predict) and
# `-t 2 --trace` (the trace's overhead), all paired-end with default options
# on DATA_DIR's reads_1.fq.gz, reads_2.fq.gz (index in DATA_DIR/idx, as
# scripts/bench.sh builds it). Then the model predicts each round's -t 2
# wall time from that round's -t 1 trace.
#
# The machine may be shared: before each run the script waits (up to
# QUIET_WAIT seconds, default 120) until the rest of the machine uses less
# than 0.15 of a core over two seconds, and it records for every run the
# CPU time that other processes took meanwhile (from /proc/stat, less the
# run's own CPU time), and the hypervisor's steal time. Rows where others
# took more than 5% of the run's core-seconds are marked; the summary
# leaves them out.
#
# Writes OUT_DIR/runs.tsv (default DATA_DIR/scaling-out), which
# scripts/scaling-plot.py draws as measured points, and the traces; then
# scripts/scaling-check.py OUT_DIR prints the model's error per round and
# the trace's overhead.
set -euo pipefail
data=${1:?usage: scripts/scaling-validate.sh DATA_DIR [ROUNDS] [OUT_DIR]}
rounds=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
out=${3:-$data/scaling-out}
ferrous=${FERROUS:-$here/target/release/ferrous}
idx=$data/idx
mkdir -p "$out" "$idx"
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time: apt-get install time" >&2; exit 1; }
[ -x "$ferrous" ] || (cd "$here" && cargo build --release --locked)
[ -f "$idx/ref.fa" ] || ln -sf "$(cd "$data" && pwd)/ref.fa" "$idx/ref.fa"
[ -f "$idx/ref.fa.fmi" ] || "$ferrous" index "$idx/ref.fa" 2>/dev/null
r1=$data/reads_1.fq.gz r2=$data/reads_2.fq.gz
hz=$(getconf CLK_TCK)
cores=$(nproc)

# Busy and steal ticks of the whole machine.
ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8, $9}' /proc/stat; }
quiet_wait=${QUIET_WAIT:-120}
wait_quiet() {
  local waited=0
  while :; do
    read -r b0 _ < <(ticks); sleep 2; read -r b1 _ < <(ticks)
    local used; used=$(echo "scale=3; ($b1 - $b0) / $hz / 2" | bc)
    if [ "$(echo "$used < 0.15" | bc)" = 1 ] || [ "$waited" -ge "$quiet_wait" ]; then
      echo "$used"; return
    fi
    waited=$((waited + 2))
  done
}

printf "round\tthreads\ttrace\twall_s\tcpu_s\tothers_cpu_s\tsteal_s\tidle_before\n" > "$out/runs.tsv"
run() { # round threads trace(0/1)
  local round=$1 t=$2 tr=$3 extra=()
  [ "$tr" = 1 ] && extra=(--trace "$out/trace-t$t-r$round.json")
  local before; before=$(wait_quiet)
  sync
  read -r b0 s0 < <(ticks)
  /usr/bin/time -f "%e %U %S" -o "$out/time" "$ferrous" mem -t "$t" "${extra[@]}" \
    "$idx/ref.fa" "$r1" "$r2" > "$out/out.sam" 2> "$out/log"
  read -r b1 s1 < <(ticks)
  read -r w u s < "$out/time"
  local cpu; cpu=$(echo "$u + $s" | bc)
  local others; others=$(echo "scale=2; ($b1 - $b0) / $hz - $cpu" | bc)
  local steal; steal=$(echo "scale=2; ($s1 - $s0) / $hz" | bc)
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$round" "$t" "$tr" "$w" "$cpu" "$others" "$steal" "$before" >> "$out/runs.tsv"
}
# Every run should find the index in the page cache: the model takes the
# start-up (opening the index) as the -t 1 trace measured it, and a first
# read from disk (seconds for a human-size index) is not what -t 2 pays.
cat "$idx/ref.fa.fmi" > /dev/null
for round in $(seq 1 "$rounds"); do
  run "$round" 1 1
  run "$round" 2 0
  run "$round" 2 1
done
rm -f "$out/out.sam" "$out/time"

python3 "$here/scripts/scaling-check.py" "$out"
