#!/usr/bin/env bash
# Builds the ferrous container image from containers/Dockerfile and runs it on
# the shipped data (README: "Workflows and containers"): `ferrous index` and
# `ferrous mem` inside the container, and split, every stage per batch and
# emit when the binary has them, must give the SAM that the same binary's
# `mem` gives outside (every line but @PG). Takes a few minutes (most of it
# the static build); not part of .ci/run.
#
#   scripts/container-build.sh [--tag TAG] [--runtime-image IMAGE] [--from-source]
#
# Default: the static binary is built here (RUSTFLAGS='-C
# target-feature=+crt-static', stripped, target x86_64-unknown-linux-gnu) and copied
# into a `scratch` image (BINARY_STAGE=prebuilt, RUNTIME_IMAGE=scratch), which
# needs no registry. --runtime-image debian:bookworm-slim gives an image with
# bash (what Nextflow and Snakemake need to run tasks in it); --from-source
# compiles inside the Rust image; both need a registry to pull from.
#
# Engine: docker when its daemon answers; else buildah to build and podman to
# run (Debian's packages, installed with apt-get when missing), in the modes
# that work without a daemon or user namespaces: buildah --isolation chroot
# --storage-driver vfs, podman --runtime runc with lowered ulimits
# (nofile, nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

tag=ferrous:0.1.0
runtime_image=scratch
binary_stage=prebuilt
while [ $# -gt 0 ]; do
  case $1 in
  --tag) tag=$2; shift 2 ;;
  --runtime-image) runtime_image=$2; shift 2 ;;
  --from-source) binary_stage=build; shift ;;
  -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
out=target/container-check
rm -rf "$out"
mkdir -p "$out"
step() { printf '\n== %s\n' "$*"; }

if [ $binary_stage = prebuilt ]; then
  step "static ferrous (crt-static, x86_64-unknown-linux-gnu)"
  RUSTFLAGS='-C target-feature=+crt-static' CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo build --release --locked --target x86_64-unknown-linux-gnu
  bin=target/x86_64-unknown-linux-gnu/release/ferrous
  if ldd "$bin" 2>&1 | grep -q '=>'; then
    echo "error: $bin is dynamically linked:" >&2
    ldd "$bin" >&2
    exit 1
  fi
  file "$bin" 2>/dev/null || true
fi

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  engine=docker
  build=(docker build)
  run=(docker run --rm --network none)
else
  need=()
  command -v buildah >/dev/null || need+=(buildah)
  command -v podman >/dev/null || need+=(podman)
  command -v runc >/dev/null || need+=(runc)
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  engine="buildah + podman (vfs storage, chroot isolation, runc)"
  build=(buildah --storage-driver vfs bud --isolation chroot --ignorefile containers/Dockerfile.dockerignore)
  # podman's defaults exceed what a sandboxed runc may set; stay well below
  # this shell's hard limits (nproc at the hard limit itself is refused too).
  nofile=$(ulimit -Hn)
  if [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ]; then nofile=65536; fi
  nproc=$(ulimit -Hu)
  if [ "$nproc" = unlimited ] || [ "$nproc" -gt 8192 ]; then nproc=4096; fi
  run=(podman --storage-driver vfs run --runtime runc --rm --network none
    --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
fi

step "build $tag with $engine (RUNTIME_IMAGE=$runtime_image, BINARY_STAGE=$binary_stage)"
start=$(date +%s)
"${build[@]}" -f containers/Dockerfile --build-arg "RUNTIME_IMAGE=$runtime_image" \
  --build-arg "BINARY_STAGE=$binary_stage" -t "$tag" .
echo "built in $(($(date +%s) - start)) s"
case $engine in
docker) docker image ls "$tag" ;;
*) podman --storage-driver vfs image ls "$tag" ;;
esac

step "run $tag on data/small"
ctr=("${run[@]}" -v "$PWD/data/small:/data:ro" -v "$PWD/$out:/out" "$tag")
"${ctr[@]}" /usr/local/bin/ferrous --version
"${ctr[@]}" /usr/local/bin/ferrous index -p /out/ref /data/ref.fa
"${ctr[@]}" /usr/local/bin/ferrous mem -t 2 -K 100000 -o /out/container.sam /out/ref \
  /data/reads_1.fq.gz /data/reads_2.fq.gz

scatter=no
if "${ctr[@]}" /usr/local/bin/ferrous split --help >/dev/null 2>&1; then
  step "stage subcommands in $tag: split, each stage per batch, emit"
  "${ctr[@]}" /usr/local/bin/ferrous split -t 2 -K 100000 -o /out/batches \
    /data/reads_1.fq.gz /data/reads_2.fq.gz
  last=()
  for batch in "$out"/batches/*.reads.msgpack.zst; do
    id=$(basename "$batch" .reads.msgpack.zst)
    in=/out/batches/$id.reads.msgpack.zst
    for stage in seed:seeds chain:chains extend:regions pair:paired rescue:rescued; do
      "${ctr[@]}" /usr/local/bin/ferrous "${stage%%:*}" -t 2 -K 100000 /out/ref "$in" \
        -o "/out/batches/$id.${stage#*:}.msgpack.zst"
      in=/out/batches/$id.${stage#*:}.msgpack.zst
    done
    last+=("$in")
  done
  "${ctr[@]}" /usr/local/bin/ferrous emit -t 2 -K 100000 -o /out/container-scatter.sam /out/ref "${last[@]}"
  scatter=yes
fi

step "compare with ferrous outside the container"
host_bin=target/x86_64-unknown-linux-gnu/release/ferrous
[ -x "$host_bin" ] || { cargo build --release --locked && host_bin=target/release/ferrous; }
"$host_bin" mem -t 2 -K 100000 "$out/ref" data/small/reads_1.fq.gz data/small/reads_2.fq.gz \
  >"$out/host.sam" 2>/dev/null
if cmp -s <(grep -v '^@PG' "$out/container.sam") <(grep -v '^@PG' "$out/host.sam"); then
  echo "equal: container SAM vs host SAM ($(grep -vc '^@PG' "$out/host.sam") lines without @PG)"
else
  echo "error: the container's SAM differs from the host's" >&2
  diff <(grep -v '^@PG' "$out/container.sam") <(grep -v '^@PG' "$out/host.sam") | head >&2
  exit 1
fi
if [ $scatter = yes ]; then
  if cmp -s <(grep -v '^@PG' "$out/container-scatter.sam") <(grep -v '^@PG' "$out/host.sam"); then
    echo "equal: container stages (${#last[@]} batches) vs host mem SAM"
  else
    echo "error: the container's staged SAM differs from the host's mem SAM" >&2
    exit 1
  fi
fi
