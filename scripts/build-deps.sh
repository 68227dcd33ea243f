#!/usr/bin/env bash
# Makes sure the tools that build ferrous's default features are installed:
# the `isal` feature (ISA-L's inflate for gzip input, src/lib/reads/gunzip.rs)
# builds ISA-L from source with nasm and autotools. Installs them from
# Debian/Ubuntu when missing and possible; otherwise says so and exits 1
# (then build with `cargo build --no-default-features`: zlib-rs inflate).
set -euo pipefail
need=()
command -v nasm >/dev/null || need+=(nasm)
command -v autoreconf >/dev/null || need+=(autoconf)
command -v automake >/dev/null || need+=(automake)
command -v libtoolize >/dev/null || need+=(libtool)
command -v make >/dev/null || need+=(make)
[ ${#need[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null && [ "$(id -u)" -eq 0 ]; then
  echo "installing ${need[*]} (to build ISA-L, ferrous's gzip inflate)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
  exit 0
fi
echo "missing ${need[*]}: install them to build ISA-L (the default gzip inflate)," \
  "or build with --no-default-features (zlib-rs inflate)" >&2
exit 1
