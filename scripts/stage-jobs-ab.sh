#!/usr/bin/env bash
# CPU time and page faults of each stage job on one batch, for two ferrous
# binaries alternating (e.g. before and after a change to the batch
# format): each binary splits the same reads and runs the stages on its
# own batches, then every job (seed, chain, extend, pair, rescue) on batch
# 0 is timed with `perf stat -r RUNS`, ROUNDS times, the binaries taking
# turns.
#
#   scripts/stage-jobs-ab.sh OLD_BIN NEW_BIN DATA_DIR INDEX_PREFIX [RUNS] [ROUNDS]
#
# DATA_DIR holds reads_1.fq.gz and reads_2.fq.gz; batches are cut with
# -K 10000000 and jobs run with -t 1. Work files go to
# ${WORK:-/tmp/ferrous-stage-ab}. Needs perf.
set -euo pipefail
old=${1:?OLD_BIN}; new=${2:?NEW_BIN}; data=${3:?DATA_DIR}; idx=${4:?INDEX_PREFIX}
runs=${5:-5}; rounds=${6:-2}
work=${WORK:-/tmp/ferrous-stage-ab}
opts=(-t 1 -K 10000000)
steps=(seed:reads:seeds chain:seeds:chains extend:chains:regions pair:regions:paired rescue:paired:rescued)
rm -rf "$work"; mkdir -p "$work"
for side in old new; do
  bin=${!side}
  "$bin" split "${opts[@]}" -o "$work/$side" "$data/reads_1.fq.gz" "$data/reads_2.fq.gz" 2>/dev/null
  for s in "${steps[@]}"; do
    IFS=: read -r step from to <<< "$s"
    "$bin" "$step" "${opts[@]}" "$idx" "$work/$side/000000.$from.msgpack.zst" \
      -o "$work/$side/000000.$to.msgpack.zst" 2>/dev/null
  done
done
printf '%-7s %-4s %10s %12s\n' job bin "CPU ms" "page faults"
for s in "${steps[@]}"; do
  IFS=: read -r step from _ <<< "$s"
  for _ in $(seq "$rounds"); do
    for side in old new; do
      bin=${!side}
      perf stat -r "$runs" -x, -e task-clock,page-faults "$bin" "$step" "${opts[@]}" "$idx" \
        "$work/$side/000000.$from.msgpack.zst" -o "$work/out.msgpack.zst" 2>&1 >/dev/null |
        awk -F, -v job="$step" -v side="$side" '
          /task-clock/ { t = $1 } /page-faults/ { f = $1 }
          END { printf "%-7s %-4s %10.1f %12d\n", job, side, t, f }'
    done
  done
done
