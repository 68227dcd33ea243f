#!/usr/bin/env bash
# The whole of docs/scaling.md's measurement: for each DATA_DIR, validates
# the model (scripts/scaling-validate.sh: ROUNDS rounds of -t 1 --trace,
# -t 2, -t 2 --trace), predicts -t 1 to 128 from round 1's -t 1 trace, as
# the set is (DATA_DIR/scaling-out/pred.json) and cycled to LONG_PAIRS
# pairs (default 300000000, about a 30x human genome; pred-long.json),
# then draws docs/scaling.png (scripts/scaling-plot.py; needs matplotlib).
#
#   scripts/scaling.sh ROUNDS DATA_DIR [DATA_DIR ...]
set -euo pipefail
rounds=${1:?usage: scripts/scaling.sh ROUNDS DATA_DIR [DATA_DIR ...]}
shift
[ $# -ge 1 ] || { echo "usage: scripts/scaling.sh ROUNDS DATA_DIR [DATA_DIR ...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
long=${LONG_PAIRS:-300000000}
for d in "$@"; do
  "$here/scaling-validate.sh" "$d" "$rounds"
  out=$d/scaling-out
  echo "== $(basename "$d"): as it is"
  python3 "$here/scaling-model.py" "$out/trace-t1-r1.json" --json "$out/pred.json"
  echo "== $(basename "$d"): cycled to $long pairs"
  python3 "$here/scaling-model.py" "$out/trace-t1-r1.json" --pairs "$long" --json "$out/pred-long.json"
done
python3 "$here/scaling-plot.py" "$here/../docs/scaling.png" "$@"
