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
# Prints one row per run and a summary; writes OUT_DIR/runs.tsv (default
# DATA_DIR/scaling-out), which scripts/scaling-plot.py draws as measured
# points.
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
for round in $(seq 1 "$rounds"); do
  run "$round" 1 1
  run "$round" 2 0
  run "$round" 2 1
done
rm -f "$out/out.sam" "$out/time"

python3 - "$out" "$rounds" "$here/scripts/scaling-model.py" "$cores" <<'EOF'
import csv, importlib.util, statistics, sys
out, rounds, model_path, cores = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
spec = importlib.util.spec_from_file_location("model", model_path)
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
rows = list(csv.DictReader(open(f"{out}/runs.tsv"), delimiter="\t"))
def clean(r):  # others took at most 5% of the core-seconds the run had
    return float(r["others_cpu_s"]) <= 0.05 * cores * float(r["wall_s"])
print("round  -t2 measured  predicted  error   | -t1 measured  predicted | others' CPU s (t1, t2)")
errs, overhead_cpu, overhead_wall = [], [], []
for k in range(1, rounds + 1):
    t1 = next(r for r in rows if r["round"] == str(k) and r["threads"] == "1")
    t2 = next(r for r in rows if r["round"] == str(k) and r["threads"] == "2" and r["trace"] == "0")
    t2t = next(r for r in rows if r["round"] == str(k) and r["threads"] == "2" and r["trace"] == "1")
    prof = m.Profile(f"{out}/trace-t1-r{k}.json")
    p2 = m.predict(prof, 2, cores=cores)["wall_s"]
    p1 = m.predict(prof, 1, cores=cores)["wall_s"]
    w2, w1 = float(t2["wall_s"]), float(t1["wall_s"])
    err = (p2 - w2) / w2
    ok = clean(t1) and clean(t2)
    mark = "" if ok else "  (machine busy: left out)"
    if ok:
        errs.append(err)
    if clean(t2) and clean(t2t):
        overhead_cpu.append(float(t2t["cpu_s"]) / float(t2["cpu_s"]) - 1)
        overhead_wall.append(float(t2t["wall_s"]) / w2 - 1)
    print(f"{k:>5}  {w2:>12.2f}  {p2:>9.2f}  {100*err:>+5.1f}%  | {w1:>12.2f}  {p1:>9.2f} | "
          f"{t1['others_cpu_s']}, {t2['others_cpu_s']}{mark}")
if errs:
    print(f"-t 2 prediction error over {len(errs)} clean rounds: mean {100*statistics.mean(errs):+.1f}%, "
          f"range {100*min(errs):+.1f}% to {100*max(errs):+.1f}%")
if overhead_cpu:
    print(f"--trace overhead at -t 2 over {len(overhead_cpu)} clean pairs of runs: CPU time "
          f"{100*statistics.mean(overhead_cpu):+.2f}% (range {100*min(overhead_cpu):+.2f}% to "
          f"{100*max(overhead_cpu):+.2f}%), wall {100*statistics.mean(overhead_wall):+.2f}% "
          f"(range {100*min(overhead_wall):+.2f}% to {100*max(overhead_wall):+.2f}%)")
EOF
