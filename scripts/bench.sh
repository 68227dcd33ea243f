#!/usr/bin/env bash
# Times ferrous mem against bwa mem (and bwa-mem2 and minimap2 when they are
# installed) on one data set, and checks ferrous's SAM against bwa's.
#
#   [SKIP="minimap2"] scripts/bench.sh DATA_DIR [THREADS]
#
# DATA_DIR holds ref.fa, reads_1.fq.gz and reads_2.fq.gz (as made by
# ../shared/bench/make-data.sh). Indexes are built once into DATA_DIR/idx/.
# Prints one row per tool: wall seconds, CPU seconds, cores busy, cores of
# the machine left idle meanwhile (Linux), peak RSS,
# and wall time relative to bwa; then samcmp.py's verdict on ferrous vs bwa.
set -euo pipefail
data=${1:?usage: scripts/bench.sh DATA_DIR [THREADS]}
t=${2:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
ferrous=${FERROUS:-$here/target/release/ferrous}
samcmp=${SAMCMP:-$here/../shared/bench/samcmp.py}
idx=$data/idx
out=${OUT:-$data/bench-out}
mkdir -p "$idx" "$out"
for need in /usr/bin/time bc; do command -v "$need" >/dev/null || { echo "needs $need: apt-get install time bc" >&2; exit 1; }; done
[ -x "$ferrous" ] || (cd "$here" && cargo build --release --locked)

[ -f "$idx/ref.fa" ] || ln -sf "$(cd "$data" && pwd)/ref.fa" "$idx/ref.fa"
[ -f "$idx/ref.fa.fmi" ] || "$ferrous" index "$idx/ref.fa" 2>/dev/null
if command -v bwa >/dev/null && [ ! -f "$idx/ref.fa.bwt" ]; then bwa index "$idx/ref.fa" 2>/dev/null; fi
if command -v bwa-mem2 >/dev/null && [ ! -f "$idx/ref.fa.bwt.2bit.64" ]; then bwa-mem2 index "$idx/ref.fa" >/dev/null 2>&1; fi

r1=$data/reads_1.fq.gz r2=$data/reads_2.fq.gz
declare -A wall cpu rss idle
# Idle plus I/O-wait ticks of the whole machine (Linux), to tell a tool that
# leaves cores unused from one whose cores other processes take.
idle_ticks() { [ -r /proc/stat ] && awk '/^cpu /{print $5 + $6}' /proc/stat || echo 0; }
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
run() { # name command...
  local name=$1; shift
  # Write back the previous tool's output first, so that no tool pays for
  # another's disk writes.
  sync
  local i0; i0=$(idle_ticks)
  /usr/bin/time -f "%e %U %S %M" -o "$out/$name.time" "$@" > "$out/$name.sam" 2> "$out/$name.log"
  local i1; i1=$(idle_ticks)
  read -r w u s m < "$out/$name.time"
  wall[$name]=$w; cpu[$name]=$(echo "$u + $s" | bc); rss[$name]=$m
  idle[$name]=$(echo "scale=2; ($i1 - $i0) / $hz / $w" | bc)
}
# SKIP="minimap2 ..." leaves tools out (minimap2 indexes the FASTA on every
# run: minutes and about 12 GB for a human-size genome).
want() { command -v "$1" >/dev/null && [[ " ${SKIP:-} " != *" $1 "* ]]; }
run ferrous "$ferrous" mem -t "$t" "$idx/ref.fa" "$r1" "$r2"
want bwa && run bwa bwa mem -t "$t" "$idx/ref.fa" "$r1" "$r2"
want bwa-mem2 && run bwa-mem2 bwa-mem2 mem -t "$t" "$idx/ref.fa" "$r1" "$r2"
want minimap2 && run minimap2 minimap2 -ax sr -t "$t" "$idx/ref.fa" "$r1" "$r2"

# Wall time relative to another tool's, or "-" when that one did not run.
ratio() { [ -n "${wall[$2]:-}" ] && echo "scale=2; ${wall[$1]} / ${wall[$2]}" | bc || echo -; }
# cores: the tool's CPU time over its wall time; idle: cores of the whole
# machine idle meanwhile (what neither it nor anything else used).
printf "%-10s %8s %8s %6s %6s %9s %9s %12s\n" tool wall_s cpu_s cores idle peak_MB vs_bwa vs_bwa-mem2
for name in ferrous bwa bwa-mem2 minimap2; do
  [ -n "${wall[$name]:-}" ] || continue
  printf "%-10s %8s %8s %6s %6s %9s %9s %12s\n" "$name" "${wall[$name]}" "${cpu[$name]}" \
    "$(echo "scale=2; ${cpu[$name]} / ${wall[$name]}" | bc)" "${idle[$name]}" "$((rss[$name] / 1024))" \
    "$(ratio "$name" bwa)" "$(ratio "$name" bwa-mem2)"
done
if [ -n "${wall[bwa]:-}" ] && [ -f "$samcmp" ]; then
  python3 "$samcmp" "$out/ferrous.sam" "$out/bwa.sam" | tail -1
fi
