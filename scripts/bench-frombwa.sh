#!/usr/bin/env bash
# Times the conversion of bwa's index files into an .fmi: the file
# (`ferrous index --from-bwa`) and the in-memory conversion that
# `ferrous mem` does when only bwa's files exist (read from its stderr note
# on a run of ten read pairs). bwa's files are read once first, so both
# start from the page cache. Prints wall, CPU and peak RSS.
#
# usage: scripts/bench-frombwa.sh PREFIX [READS_1.fq.gz]
#   PREFIX: bwa's index prefix (PREFIX.bwt, .sa, .pac, .ann, .amb), e.g. after
#   `bwa index REF.fa` the prefix is REF.fa. Writes nothing next to it.
#   FERROUS=path/to/ferrous (default target/release/ferrous)
set -euo pipefail
prefix=${1:?usage: $0 PREFIX [READS_1.fq.gz]}
reads=${2:-}
FERROUS=${FERROUS:-target/release/ferrous}
[ -x "$FERROUS" ] || { echo "error: $FERROUS not built (cargo build --release)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat "$prefix".{bwt,sa,pac,ann,amb} > /dev/null
sizes=$(stat -L -c %s "$prefix".{bwt,sa,pac,ann,amb} | awk '{s += $1} END {print s}')
/usr/bin/time -f '%e %U %S %M' -o "$work/t" "$FERROUS" index --from-bwa -p "$work/conv" "$prefix" 2> "$work/log"
awk -v a="$sizes" -v b="$(stat -c %s "$work/conv.fmi")" 'BEGIN {printf "bwa files: %.3f GB; .fmi: %.3f GB\n", a / 1e9, b / 1e9}'
awk '{printf "index --from-bwa (file, fsync included): %.2f s wall, %.2f s cpu, %d MB peak RSS\n", $1, $2 + $3, $4 / 1024}' "$work/t"
rm -f "$work/conv.fmi"
if [ -n "$reads" ]; then
  # A prefix without an .fmi next to it: symbolic links to bwa's files.
  for e in bwt sa pac ann amb; do ln -s "$(realpath "$prefix.$e")" "$work/bwaonly.$e"; done
  { zcat -f "$reads" || true; } | head -n 40 > "$work/r.fq"
  /usr/bin/time -f '%e %U %S %M' -o "$work/t" "$FERROUS" mem -t 2 "$work/bwaonly" "$work/r.fq" > /dev/null 2> "$work/log"
  note=$(grep -o 'in memory in [0-9.]* s' "$work/log")
  awk -v note="$note" '{printf "mem on bwa files, 10 pairs: converted %s; whole run %.2f s wall, %.2f s cpu, %d MB peak RSS\n", note, $1, $2 + $3, $4 / 1024}' "$work/t"
fi
