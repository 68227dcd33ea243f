#!/usr/bin/env bash
# Times `ferrous index` (at each of THREADS) and, where installed, `bwa index`
# on FASTA files, one after the other in one run, and prints a table of wall
# time, CPU time (user + system) and peak RSS (from /usr/bin/time -v).
#
# usage: scripts/bench-index.sh REF.fa [REF2.fa ...]
#   FERROUS=path/to/ferrous (default target/release/ferrous)
#   THREADS="1 2"        ferrous index -t values (default "1 2")
#   FERROUS_ARGS="..."   more ferrous index flags (e.g. --algorithm blockwise)
#   BWA_B=N              bwa index -b (default 10000000, bwa's own default)
#   NO_BWA=1             skips bwa (synth3g: bwa takes two hours; see
#                        shared/bench/synth3g/bwa-index.time)
#   OUT=DIR              where the indexes go (default: a temporary folder,
#                        removed); the disk must hold one index at a time
#   KEEP=PREFIX          keeps the last ferrous index built as PREFIX.fmi
set -euo pipefail

FERROUS=${FERROUS:-target/release/ferrous}
[ -x "$FERROUS" ] || { echo "error: $FERROUS not built (cargo build --release)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time (GNU time) is needed" >&2; exit 1; }
[ $# -ge 1 ] || { echo "usage: $0 REF.fa [REF2.fa ...]" >&2; exit 2; }

THREADS=${THREADS:-1 2}
BWA_B=${BWA_B:-10000000}
work=$(mktemp -d "${OUT:-${TMPDIR:-/tmp}}/bench-index.XXXXXX")
trap 'rm -rf "$work"' EXIT

# measure CMD...: prints "wall_s cpu_s peak_rss_mb" from GNU time's report
# (cpu = user + system; on a loaded machine wall >> cpu).
measure() {
    local log="$work/time.log"
    if ! /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$work/stderr.log"; then
        echo "error: $* failed:" >&2; cat "$work/stderr.log" >&2; return 1
    fi
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; wall = s }
        /User time \(seconds\)/ { cpu += $2 }
        /System time \(seconds\)/ { cpu += $2 }
        /Maximum resident set size/ { rss = $2 / 1024 }
        END { printf "%.1f %.1f %.0f\n", wall, cpu, rss }' "$log"
}

row() { printf '%-22s %-18s %12s %9s %9s %9s\n' "$@"; }
row reference tool bases wall_s cpu_s peak_MB
for ref in "$@"; do
    [ -s "$ref" ] || { echo "skip: $ref missing" >&2; continue; }
    bases=$(grep -v '^>' "$ref" | tr -d '\n\r' | wc -c)
    name=$(basename "$(dirname "$ref")")/$(basename "$ref")
    for t in $THREADS; do
        # shellcheck disable=SC2086
        read -r wall cpu rss < <(measure "$FERROUS" index -t "$t" ${FERROUS_ARGS:-} -p "$work/ferrous" "$ref")
        row "$name" "ferrous -t $t" "$bases" "$wall" "$cpu" "$rss"
        grep -o 'blockwise build\|whole-text suffix array\|[0-9]* blocks planned' "$work/stderr.log" | tr '\n' ' ' >&2; echo >&2
        if [ -n "${KEEP:-}" ]; then mv "$work/ferrous.fmi" "$KEEP.fmi"; fi
        rm -f "$work"/ferrous*
    done
    if [ -z "${NO_BWA:-}" ] && command -v bwa >/dev/null; then
        read -r wall cpu rss < <(measure bwa index -b "$BWA_B" -p "$work/bwa" "$ref")
        row "$name" "bwa -b $BWA_B" "$bases" "$wall" "$cpu" "$rss"
        rm -f "$work"/bwa*
    fi
done
