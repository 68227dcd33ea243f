#!/usr/bin/env bash
# Times `ferrous index` and, where installed, `bwa index` on FASTA files and
# prints a table of wall time and peak RSS (from /usr/bin/time -v).
#
# usage: scripts/bench-index.sh REF.fa [REF2.fa ...]
#   FERROUS=path/to/ferrous (default target/release/ferrous)
#   NO_BWA=1 skips bwa.
set -euo pipefail

FERROUS=${FERROUS:-target/release/ferrous}
[ -x "$FERROUS" ] || { echo "error: $FERROUS not built (cargo build --release)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time (GNU time) is needed" >&2; exit 1; }
[ $# -ge 1 ] || { echo "usage: $0 REF.fa [REF2.fa ...]" >&2; exit 2; }

work=$(mktemp -d)
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

printf '%-28s %-8s %12s %10s %10s %10s\n' reference tool bases wall_s cpu_s peak_MB
for ref in "$@"; do
    [ -s "$ref" ] || { echo "skip: $ref missing" >&2; continue; }
    bases=$(grep -v '^>' "$ref" | tr -d '\n\r' | wc -c)
    name=$(basename "$(dirname "$ref")")/$(basename "$ref")
    read -r wall cpu rss < <(measure "$FERROUS" index -p "$work/ferrous" "$ref")
    printf '%-28s %-8s %12s %10s %10s %10s\n' "$name" ferrous "$bases" "$wall" "$cpu" "$rss"
    if [ -z "${NO_BWA:-}" ] && command -v bwa >/dev/null; then
        read -r wall cpu rss < <(measure bwa index -p "$work/bwa" "$ref")
        printf '%-28s %-8s %12s %10s %10s %10s\n' "$name" bwa "$bases" "$wall" "$cpu" "$rss"
    fi
    rm -f "$work"/ferrous* "$work"/bwa*
done
