#!/usr/bin/env bash
# The scattered Snakemake workflow on a real scheduler. Starts a single-node
# SLURM cluster on this machine (munged, MariaDB, slurmdbd for accounting,
# slurmctld, slurmd; configuration, state and logs in a temporary folder, on
# free ports), runs workflows/snakemake through snakemake-executor-plugin-slurm
# with the workflow's profile (profiles/slurm: one SLURM job per rule, so one
# per batch and stage), checks the results, and stops every daemon it started,
# also on failure or interruption.
#
#   scripts/slurm-check.sh
#
# The sample is data/small's 2,000 pairs 16 times over, aligned with
# -K 4000000: 3 batches, so 15 stage jobs besides the index, split and emit
# jobs. While `ferrous seed` writes its output in the job of batch 000001,
# that job is cancelled (scancel); the partial file must be gone (removed on
# SIGTERM, or completed first) and never appear under its final name, and
# Snakemake submits the job again (the profile's `retries: 1`). Then the
# gathered SAM must equal `ferrous mem`'s but for @PG, sacct must list exactly
# one COMPLETED job of this run for each rule and wildcards (the index, the
# split, every batch and stage, the emit; the cancelled one CANCELLED first)
# and no other, and no temporary file may be left behind.
#
# It installs what is missing: slurm-wlm, slurmdbd, munge, mariadb-server
# (Debian), Snakemake and the SLURM executor plugin (PyPI, pinned in
# .ci/workflows/requirements.txt, venv target/ci-venv). Needs root (apt; slurmd
# starts jobs). FERROUS_BIN=PATH tests that binary (default: a release build);
# KEEP=1 keeps the cluster's folder (logs) after the run. Results:
# target/slurm-check/. .ci/workflows.sh runs it as part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/target/slurm-check
VENV=$ROOT/target/ci-venv
SMK=$ROOT/workflows/snakemake
EXTRA="-K 4000000"
read -ra extra_args <<<"$EXTRA"
# shellcheck source=.ci/workflows/common.sh
. .ci/workflows/common.sh

step() { printf '\n== %s (%ds)\n' "$*" "$SECONDS"; }
die() {
  echo "error: $*" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || die "run as root (apt-get, and slurmd starts the jobs)"

step "software"
missing=()
for tool in slurmctld:slurm-wlm slurmd:slurm-wlm sbatch:slurm-wlm slurmdbd:slurmdbd \
  munged:munge mariadbd:mariadb-server; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  apt_install "${missing[@]}"
fi
slurmctld -V
ensure_venv "$VENV"
echo "snakemake $("$VENV/bin/snakemake" --version), $("$VENV/bin/pip" list 2>/dev/null | grep -i '^snakemake-executor-plugin-slurm ' | tr -s ' ')"
if [ -n "${FERROUS_BIN:-}" ]; then
  bin=$(readlink -f "$FERROUS_BIN")
else
  cargo build --release --locked --bin ferrous
  bin=$ROOT/target/release/ferrous
fi
rm -rf "$OUT"
mkdir -p "$OUT/bin"
ln -s "$bin" "$OUT/bin/ferrous"
export PATH="$OUT/bin:$PATH"
ferrous --version

# ---------------------------------------------------------------- the cluster
CLUSTER=$(mktemp -d "${TMPDIR:-/tmp}/ferrous-slurm.XXXXXX")
daemons=() # "name:pid", in start order
smk_pid=""
# stop_process NAME PID: SIGTERM, then SIGKILL after 30 s; reaps it.
stop_process() {
  kill "$2" 2>/dev/null || return 0
  for _ in $(seq 150); do
    kill -0 "$2" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$2" 2>/dev/null; then
    echo "$1 (pid $2) still runs 30 s after SIGTERM: SIGKILL" >&2
    kill -9 "$2"
  fi
  wait "$2" 2>/dev/null
}
stop_all() {
  local rc=$? i
  set +e
  trap - EXIT INT TERM HUP
  # Snakemake cancels its jobs when it gets SIGTERM.
  [ -n "$smk_pid" ] && stop_process snakemake "$smk_pid"
  if [ -n "${SLURM_CONF:-}" ] && squeue -h -o %i >/dev/null 2>&1; then
    squeue -h -o %i | xargs -r scancel
    for i in $(seq 100); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do
    stop_process "${daemons[i]%%:*}" "${daemons[i]#*:}"
  done
  [ ${#daemons[@]} -gt 0 ] && echo "stopped: ${daemons[*]%%:*}"
  if [ "$rc" != 0 ]; then
    for log in "$CLUSTER"/log/*.log; do
      [ -s "$log" ] && printf '\n-- %s (last lines)\n' "$log" >&2 && tail -5 "$log" >&2
    done
  fi
  if [ "${KEEP:-0}" = 1 ]; then
    echo "cluster folder kept: $CLUSTER"
  else
    rm -rf "$CLUSTER"
  fi
  exit "$rc"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_open() {
  python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1"
}
# wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
  local what=$1 end=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || die "$what did not come up (logs in $CLUSTER/log)"
    sleep 0.2
  done
}
# start NAME COMMAND...: a daemon in the foreground of a background job.
start() {
  local name=$1
  shift
  "$@" >>"$CLUSTER/log/$name.out" 2>&1 &
  daemons+=("$name:$!")
}

step "single-node SLURM cluster in $CLUSTER"
mkdir -p "$CLUSTER"/{log,db,ctld,spool,bin}
mkdir -m 700 "$CLUSTER/munge"
host=$(hostname -s)
user=$(id -un)
port_db=$(free_port)
port_dbd=$(free_port)
port_ctld=$(free_port)
port_slurmd=$(free_port)
mem_mb=$(awk '/^MemTotal/ { m = int($2 / 2048); print (m > 4096 ? 4096 : m) }' /proc/meminfo)
sock=$CLUSTER/munge/munge.sock

dd if=/dev/urandom of="$CLUSTER/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$CLUSTER/munge/munge.key"
# --force: munged refuses to run as root without it.
start munged munged --foreground --force --socket="$sock" \
  --key-file="$CLUSTER/munge/munge.key" --pid-file="$CLUSTER/munge/munged.pid" \
  --seed-file="$CLUSTER/munge/munged.seed" --log-file="$CLUSTER/log/munged.log"
wait_for munged 20 test -S "$sock"

mariadb-install-db --no-defaults --datadir="$CLUSTER/db" --user="$user" \
  --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
  >"$CLUSTER/log/mariadb-install-db.log" 2>&1
start mariadbd mariadbd --no-defaults --datadir="$CLUSTER/db" --user="$user" \
  --socket="$CLUSTER/mysql.sock" --bind-address=127.0.0.1 --port="$port_db" \
  --skip-name-resolve --innodb-buffer-pool-size=16M \
  --pid-file="$CLUSTER/mariadbd.pid" --log-error="$CLUSTER/log/mariadbd.log"
sql() { mariadb --no-defaults --socket="$CLUSTER/mysql.sock" -u root -e "$1"; }
wait_for mariadbd 60 sql 'SELECT 1'
sql "CREATE USER 'slurm'@'127.0.0.1'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"

# slurmdbd reads slurmdbd.conf from the folder of $SLURM_CONF.
export SLURM_CONF=$CLUSTER/slurm.conf
cat >"$CLUSTER/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$sock
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$port_dbd
SlurmUser=$user
PidFile=$CLUSTER/slurmdbd.pid
LogFile=$CLUSTER/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$port_db
StorageUser=slurm
StorageLoc=slurm_acct_db
EOF
chmod 600 "$CLUSTER/slurmdbd.conf"
# One node with this machine's cores; MinJobAge keeps finished jobs in
# squeue too; job comments (the plugin's rule and wildcards) go to sacct.
cat >"$SLURM_CONF" <<EOF
ClusterName=ferrous
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port_ctld
SlurmdPort=$port_slurmd
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
SlurmUser=$user
SlurmdUser=root
StateSaveLocation=$CLUSTER/ctld
SlurmdSpoolDir=$CLUSTER/spool
SlurmctldPidFile=$CLUSTER/slurmctld.pid
SlurmdPidFile=$CLUSTER/slurmd.pid
SlurmctldLogFile=$CLUSTER/log/slurmctld.log
SlurmdLogFile=$CLUSTER/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$port_dbd
AccountingStoragePass=$sock
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=600
NodeName=node1 NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$(nproc) RealMemory=$mem_mb State=UNKNOWN
PartitionName=main Nodes=node1 Default=YES MaxTime=INFINITE State=UP
EOF
start slurmdbd slurmdbd -D
wait_for slurmdbd 60 port_open "$port_dbd"
sacctmgr -i add cluster ferrous >/dev/null
sacctmgr -i add account ferrous Cluster=ferrous Description=ferrous Organization=ferrous >/dev/null
sacctmgr -i add user "$user" Account=ferrous Cluster=ferrous >/dev/null
start slurmctld slurmctld -D
start slurmd slurmd -D -N node1
wait_for "node1 (idle)" 60 bash -c 'sinfo -h -o %T | grep -qx idle'
# The jobstep plugin runs each job's command through srun with every SLURM_*
# variable but a few removed, SLURM_CONF too (snakemake-executor-plugin-slurm
# issue #164); on a cluster whose slurm.conf lies in /etc/slurm that does not
# matter. Here an srun on PATH puts it back.
printf '#!/bin/sh\nSLURM_CONF=%s exec %s "$@"\n' "$SLURM_CONF" "$(command -v srun)" >"$CLUSTER/bin/srun"
chmod +x "$CLUSTER/bin/srun"
export PATH="$CLUSTER/bin:$PATH"
sinfo
echo "daemons: ${daemons[*]}"

# ---------------------------------------------------------------- the runs
# The workflow's SLURM profile, with this cluster's account and partition,
# first status check after 1 s (default 40), logs of successful jobs kept.
"$VENV/bin/python" - "$SMK/profiles/slurm/config.yaml" "$OUT/profile/config.yaml" <<'EOF'
import os, sys, yaml
profile = yaml.safe_load(open(sys.argv[1]))
profile["default-resources"] += ["slurm_account=ferrous", "slurm_partition=main"]
profile.update({
    "jobs": 8,
    "latency-wait": 5,
    "slurm-init-seconds-before-status-checks": 1,
    "slurm-keep-successful-logs": True,
})
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
yaml.safe_dump(profile, open(sys.argv[2], "w"), sort_keys=False)
EOF

# config DIR SAMPLE R1 R2 EXTRA: the workflow's config for one sample.
config() {
  mkdir -p "$1"
  cat >"$1/config.yaml" <<EOF
samples:
  $2: [$3, $4]
reference: $ROOT/data/small/ref.fa
index: ''
extra: '$5'
threads: 1
format: sam
outputs: [scatter]
container: ''
EOF
}
run_id() { sed -n 's/^SLURM run ID: //p' "$1/snakemake.log"; }
# check_jobs DIR SAMPLE [CANCELLED_COMMENT]: sacct's jobs of the run in DIR
# are exactly one COMPLETED job per rule and wildcards (the cancelled one: a
# CANCELLED job, then a COMPLETED one).
check_jobs() {
  sacct -X --parsable2 --noheader --starttime now-1days --name "$(run_id "$1")" \
    --format=JobIdRaw,State,Comment,Elapsed >"$1/sacct.txt"
  # CPU time is counted per step (the batch script, the srun step).
  sacct --parsable2 --noheader -j "$(cut -d'|' -f1 "$1/sacct.txt" | paste -sd,)" \
    --format=JobID,TotalCPU >"$1/sacct-steps.txt"
  "$VENV/bin/python" - "$@" <<'EOF'
import os, sys
from collections import defaultdict
wdir, sample, cancelled = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(os.path.join(wdir, "results", sample, "split", "manifest.tsv")) as f:
    header = f.readline().rstrip("\n").split("\t")
    col = header.index("file")
    batches = [l.split("\t")[col].split(".")[0] for l in f if l.strip()]
expected = {f"rule_ferrous_split_wildcards_{sample}", f"rule_ferrous_emit_wildcards_{sample}_sam"}
if os.path.isdir(os.path.join(wdir, "results", "index")):
    expected.add("rule_ferrous_index_wildcards_ref.fa")
for b in batches:
    for stage in ("seed", "chain", "extend", "pair", "rescue"):
        expected.add(f"rule_ferrous_{stage}_wildcards_{sample}_{b}")
def seconds(t):  # sacct's [D-][HH:]MM:SS[.mmm]
    days, _, t = t.rpartition("-")
    parts = [float(p) for p in t.split(":")]
    return int(days or 0) * 86400 + sum(p * 60**i for i, p in enumerate(reversed(parts)))
states = defaultdict(list)
cpu = elapsed = 0.0
for line in open(os.path.join(wdir, "sacct.txt")):
    jobid, state, comment, wall = line.rstrip("\n").split("|")
    states[comment].append((int(jobid), state.split()[0]))
    elapsed += seconds(wall)
for line in open(os.path.join(wdir, "sacct-steps.txt")):
    step, total_cpu = line.rstrip("\n").split("|")
    if "." in step:
        cpu += seconds(total_cpu)
errors = [f"no SLURM job for {c}" for c in sorted(expected - states.keys())]
errors += [f"unexpected SLURM job {c}: {states[c]}" for c in sorted(states.keys() - expected)]
for c in sorted(expected & states.keys()):
    got = [s for _, s in sorted(states[c])]
    want = ["CANCELLED", "COMPLETED"] if c in cancelled else ["COMPLETED"]
    if got != want:
        errors.append(f"{c}: SLURM states {got}, expected {want}")
if errors:
    sys.exit("sacct: " + "; ".join(errors))
n = sum(len(v) for v in states.values())
print(f"sacct: {n} SLURM jobs of this run, one COMPLETED per rule and wildcards"
      f" ({len(batches)} batches x 5 stages, split, emit"
      + (", index" if "rule_ferrous_index_wildcards_ref.fa" in expected else "")
      + (f"; {len(cancelled)} cancelled and run again" if cancelled else "") + ")"
      f"; they ran {elapsed:.0f} s in all and used {cpu:.0f} s of CPU")
EOF
}

step "the scatter on SLURM, one stage job cancelled while ferrous runs in it"
W=$OUT/run
sample=small16
mkdir -p "$W/reads"
for _ in $(seq 16); do zcat data/small/reads_1.fq.gz; done >"$W/reads/${sample}_1.fq"
for _ in $(seq 16); do zcat data/small/reads_2.fq.gz; done >"$W/reads/${sample}_2.fq"
config "$W" "$sample" "$W/reads/${sample}_1.fq" "$W/reads/${sample}_2.fq" "$EXTRA"
target=rule_ferrous_seed_wildcards_${sample}_000001
t0=$SECONDS
"$VENV/bin/snakemake" -s "$SMK/Snakefile" --directory "$W" --configfile "$W/config.yaml" \
  --profile "$OUT/profile" >"$W/snakemake.log" 2>&1 &
smk_pid=$!
# The target job's ferrous: the process named ferrous that runs in this
# run's folder with this batch on its command line.
batch=results/$sample/split/000001.reads.msgpack.zst
stages=$W/results/$sample/stages
output=000001.seeds.msgpack.zst
pid=""
while [ -z "$pid" ] && kill -0 "$smk_pid" 2>/dev/null && [ $((SECONDS - t0)) -lt 900 ]; do
  for p in $(pgrep -x ferrous); do
    if [ "$(readlink "/proc/$p/cwd")" = "$W" ] &&
      tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "^ferrous seed .*$batch "; then
      pid=$p
      break
    fi
  done
  sleep 0.02
done
[ -n "$pid" ] || die "never saw ferrous run in the job of $target"
# Pause it, then let it run a millisecond at a time until it has begun to
# write its output (.NAME.tmp-PID-N), so that the cancel lands mid-write
# however fast or loaded the machine is. On scancel, SLURM sends the job's
# processes SIGCONT and SIGTERM. The pause forks nothing (`sleep` is a
# process of its own: on a loaded machine starting it took long enough for
# the job to write, sync and rename its whole output in one slice): it
# waits for input that never comes on a pipe this shell holds open.
exec {nap}<> <(:)
kill -STOP "$pid"
partial=""
while [ -z "$partial" ]; do
  partial=$(compgen -G "$stages/.$output.tmp-$pid-*" || true)
  [ -n "$partial" ] && break
  kill -CONT "$pid" 2>/dev/null || break
  read -r -t 0.001 -u "$nap" _ || true
  kill -STOP "$pid" 2>/dev/null || break
done
exec {nap}<&-
[ -n "$partial" ] || die "ferrous (pid $pid) ended before it wrote $output"
cancelled=$(squeue -h -o '%i|%k' | sed -n "s/|$target\$//p")
[ -n "$cancelled" ] || die "no SLURM job $target in squeue"
written=$(stat -c %s "$partial")
scancel "$cancelled"
echo "cancelled SLURM job $cancelled ($target) while its ferrous (pid $pid) was writing $(basename "$partial") ($written bytes so far)"
for _ in $(seq 150); do
  [ "$(sacct -X -n -j "$cancelled" -o State | awk '{ print $1 }')" = CANCELLED ] && break
  sleep 0.2
done
# Before Snakemake submits the job again: the partial file is gone. SLURM
# sends SIGCONT first, so ferrous may finish writing before SIGTERM comes;
# then the file under the final name must be complete (a stage reads it).
! kill -0 "$pid" 2>/dev/null || die "ferrous (pid $pid) still runs after scancel"
[ ! -e "$partial" ] || die "the cancelled job left its partial output $partial"
if cp "$stages/$output" "$W/cancelled-attempt.$output" 2>/dev/null; then
  ferrous chain "${extra_args[@]}" "$W/results/index/ref.fa" "$W/cancelled-attempt.$output" \
    -o /dev/null 2>"$W/cancelled-attempt.check.log" ||
    die "the cancelled job left an incomplete $output: $(cat "$W/cancelled-attempt.check.log")"
  outcome="ferrous finished writing $output before SIGTERM came (a complete file, which Snakemake discarded)"
else
  outcome="ferrous removed its partial $(basename "$partial") on SIGTERM"
fi
echo "$outcome"
if ! wait "$smk_pid"; then
  smk_pid=""
  tail -30 "$W/snakemake.log" >&2
  die "snakemake failed on SLURM (log: $W/snakemake.log)"
fi
smk_pid=""
elapsed=$((SECONDS - t0))
leftover=$(find "$W/results" -name '.*.tmp-*')
[ -z "$leftover" ] || die "temporary files left behind: $leftover"
ferrous mem -t 2 "${extra_args[@]}" "$W/results/index/ref.fa" "$W/reads/${sample}"_{1,2}.fq \
  >"$W/direct.sam" 2>/dev/null
same "$W/results/scatter/$sample.sam" "$W/direct.sam" "SLURM scatter vs ferrous mem"
check_jobs "$W" "$sample" "$target" | tee "$W/jobs.txt"

step "summary"
echo "  snakemake on SLURM: ${elapsed}s for data/small x16 ($EXTRA); SAM equals ferrous mem's but for @PG"
echo "  $(cat "$W/jobs.txt")"
echo "  job $cancelled cancelled while its ferrous wrote its output, submitted again by Snakemake: $outcome; no temporary file left"
echo "  total ${SECONDS}s"
