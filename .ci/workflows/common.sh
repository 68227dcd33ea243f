# shellcheck shell=bash
# Shell functions shared by .ci/workflows.sh and scripts/slurm-check.sh
# (sourced; they expect `set -euo pipefail`).

# apt_install PACKAGE...: installs Debian packages.
apt_install() {
  echo "installing $* (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

# ensure_venv VENV: a venv holding the pinned tools of
# .ci/workflows/requirements.txt; rebuilt when that file changes.
ensure_venv() {
  local venv=$1 req
  req="$(dirname "${BASH_SOURCE[0]}")/requirements.txt"
  if python3 -c 'import venv, ensurepip' 2>/dev/null; then :; else apt_install python3-venv; fi
  if [ -x "$venv/bin/python" ] && cmp -s "$req" "$venv/.requirements.txt"; then
    return
  fi
  echo "installing $(grep -v '^#' "$req" | tr '\n' ' ')(PyPI, venv $venv)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  cp "$req" "$venv/.requirements.txt"
}

# Lines of a SAM or BAM file but @PG (which names the command that ran).
body() {
  case $1 in
  *.bam) samtools view -h "$1" | grep -v '^@PG' ;;
  *) grep -v '^@PG' "$1" ;;
  esac
}

# same A B WHAT: A and B hold the same lines but @PG, or print a diff and fail.
same() {
  if cmp -s <(body "$1") <(body "$2"); then
    echo "equal: $3 ($(body "$1" | wc -l) lines without @PG)"
  else
    echo "DIFFERENT: $3" >&2
    diff <(body "$1") <(body "$2") | head -20 >&2
    exit 1
  fi
}
