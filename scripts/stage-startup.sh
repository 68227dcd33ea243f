#!/usr/bin/env bash
# Times each stage job on one small batch against a (large) index: its
# start-up (opening and checking the index) is nearly all of its time.
#
#   scripts/stage-startup.sh INDEX_PREFIX READS_1 READS_2 [RUNS] [EXTRA OPTIONS...]
#
# Splits the first 1,000 pairs into one batch, then runs seed, chain,
# extend, pair and rescue in turn, each RUNS times (default 2) under
# /usr/bin/time, and prints wall, user and system seconds, peak RSS and
# how the index was opened (`-v 4`). Work files go to
# ${WORK:-/tmp/ferrous-startup}.
set -euo pipefail
idx=${1:?INDEX_PREFIX}; r1=${2:?READS_1}; r2=${3:?READS_2}; runs=${4:-2}
shift $(( $# < 4 ? $# : 4 ))
extra=("$@")
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${FERROUS:-$here/target/release/ferrous}
work=${WORK:-/tmp/ferrous-startup}
rm -rf "$work"; mkdir -p "$work"
cat_reads() { case $1 in *.gz) gzip -dc "$1" ;; *) cat "$1" ;; esac; }
cat_reads "$r1" | head -n 4000 > "$work/r1.fq" || true
cat_reads "$r2" | head -n 4000 > "$work/r2.fq" || true
"$bin" split -v 1 "${extra[@]}" -o "$work/b" "$work/r1.fq" "$work/r2.fq"
b=$work/b/000000
printf '%-8s %-4s %8s %8s %8s %9s  %s\n' job run wall_s user_s sys_s peak_MB index
prev=reads
for step in seed:seeds chain:chains extend:regions pair:paired rescue:rescued; do
  IFS=: read -r name out <<< "$step"
  for run in $(seq 1 "$runs"); do
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
      "$bin" "$name" -v 4 "${extra[@]}" "$idx" "$b.$prev.msgpack.zst" -o "$b.$out.msgpack.zst" 2> "$work/log"
    read -r wall user sys kb < "$work/time"
    how=$(sed -n 's/^\[ferrous\] opened the index .* in \([0-9.]* s\) (\(.*\))$/\1: \2/p' "$work/log")
    printf '%-8s %-4s %8s %8s %8s %9d  %s\n' "$name" "$run" "$wall" "$user" "$sys" $((kb / 1024)) "$how"
  done
  prev=$out
done
