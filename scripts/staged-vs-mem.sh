#!/usr/bin/env bash
# Runs one data set through `ferrous mem` and through the stage subcommands
# (split, then seed/chain/extend[/pair/rescue] per batch, then emit), checks
# that the two SAM files are identical but for the @PG line's CL:, and
# reports each stage's file sizes (total and per million reads) and its
# read / compute / write seconds, and the CPU time (user + system) of all
# stage commands against `mem`'s.
#
#   scripts/staged-vs-mem.sh DATA_DIR INDEX_PREFIX [THREADS] [EXTRA OPTIONS...]
#
# DATA_DIR holds reads_1.fq.gz (and reads_2.fq.gz for pairs); set SE=1 to
# align reads_1 alone. Work files go to ${WORK:-/tmp/ferrous-staged}.
set -euo pipefail
data=${1:?DATA_DIR}; idx=${2:?INDEX_PREFIX}; threads=${3:-2}; shift $(( $# < 3 ? $# : 3 ))
extra=("$@")
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${FERROUS:-$here/target/release/ferrous}
work=${WORK:-/tmp/ferrous-staged}
rm -rf "$work"; mkdir -p "$work"
if [[ ${SE:-0} == 1 ]]; then
  reads=("$data/reads_1.fq.gz"); steps=(seed:reads:seeds chain:seeds:chains extend:chains:regions); last=regions
else
  reads=("$data/reads_1.fq.gz" "$data/reads_2.fq.gz")
  steps=(seed:reads:seeds chain:seeds:chains extend:chains:regions pair:regions:paired rescue:paired:rescued); last=rescued
fi
opts=(-t "$threads" "${extra[@]}")

/usr/bin/time -f '%e s wall, %M KB max RSS, %U %S' -o "$work/mem.time" \
  "$bin" mem "${opts[@]}" "$idx" "${reads[@]}" > "$work/mem.sam" 2> "$work/mem.log"
start=$(date +%s.%N)
/usr/bin/time -f "[rss split] 0 %U %S" "$bin" split "${opts[@]}" -v 4 -o "$work/b" "${reads[@]}" 2> "$work/stages.log"
for b in $(tail -n +2 "$work/b/manifest.tsv" | cut -f2); do
  n=$work/b/${b%.reads.msgpack.zst}
  for s in "${steps[@]}"; do
    IFS=: read -r step from to <<< "$s"
    /usr/bin/time -f "[rss $step] %M %U %S" "$bin" "$step" "${opts[@]}" "$idx" "$n.$from.msgpack.zst" -o "$n.$to.msgpack.zst" 2>> "$work/stages.log"
  done
done
/usr/bin/time -f '[rss emit] %M %U %S' "$bin" emit "${opts[@]}" -v 4 -o "$work/staged.sam" "$idx" "$work"/b/*."$last".msgpack.zst 2>> "$work/stages.log"
end=$(date +%s.%N)

strip() { sed -E '/^@PG\t/s/\tCL:.*//' "$1"; }
if cmp -s <(strip "$work/mem.sam") <(strip "$work/staged.sam"); then same=yes; else same=NO; fi
python3 - "$work" "$same" "$start" "$end" <<'PY'
import re, sys, collections
work, same, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
tot = collections.defaultdict(lambda: [0, 0.0, 0.0, 0.0, 0])  # bytes, read, compute, write, batches
rss = collections.defaultdict(int)
reads = 0
cpu = 0.0  # user + system of every stage command
for line in open(f"{work}/stages.log"):
    m = re.match(r"\[ferrous (\w+)\] batch \d+: (\d+) reads .* \(read ([\d.]+) s, compute ([\d.]+) s, write ([\d.]+) s\)(?:, (\d+) bytes)?", line)
    if m:
        st, n, r, c, w, b = m.groups()
        t = tot[st]; t[0] += int(b or 0); t[1] += float(r); t[2] += float(c); t[3] += float(w); t[4] += 1
        if st == "split": reads += int(n)
    m = re.match(r"\[rss (\w+)\] (\d+) ([\d.]+) ([\d.]+)", line)
    if m:
        rss[m.group(1)] = max(rss[m.group(1)], int(m.group(2)))
        cpu += float(m.group(3)) + float(m.group(4))
mem_time, mem_cpu_text = open(f"{work}/mem.time").read().strip().rsplit(", ", 1)
mem_cpu = sum(float(x) for x in mem_cpu_text.split())
print(f"reads: {reads}; batches: {tot['split'][4]}; staged == mem (but @PG CL): {same}")
print(f"mem: {mem_time}; staged, all commands one after another: {end - start:.1f} s wall")
print(f"CPU (user + system): mem {mem_cpu:.2f} s; staged {cpu:.2f} s ({cpu / mem_cpu:.2f}x)")
print(f"{'stage':8} {'MB out':>9} {'MB/M reads':>11} {'read s':>8} {'compute s':>10} {'write s':>8} {'max RSS MB':>10}")
for st in ["split", "seed", "chain", "extend", "pair", "rescue", "emit"]:
    if st not in tot: continue
    b, r, c, w, _ = tot[st]
    print(f"{st:8} {b/1e6:9.1f} {b/1e6/(reads/1e6):11.1f} {r:8.2f} {c:10.2f} {w:8.2f} {rss.get(st, 0)/1024:10.0f}")
PY
[[ $same == yes ]]
