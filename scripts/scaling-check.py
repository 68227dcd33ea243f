#!/usr/bin/env python3
"""The summary of scripts/scaling-validate.sh: for each round, the -t 2 wall
time that scripts/scaling-model.py predicts from that round's -t 1 trace
against the measured one, and the overhead of --trace.

    scripts/scaling-check.py OUT_DIR

A run counts as clean when other processes took at most 5% of the
machine's core-seconds during it (runs.tsv's others_cpu_s). Each row also
gives the prediction with the cores the other processes left (cores less
their average use), which is what a busy machine gives the run, and the
prediction at the run's own speed: this VM's speed drifts by up to a third
between runs a minute apart (the CPU time of one and the same -t 1 run
varies as much), so the predicted wall time is also scaled by the -t 2
run's measured CPU time over the CPU time the model gives it. That
compares the predicted busy cores with the measured ones, which the
machine's speed does not move.
"""
import csv
import importlib.util
import os
import statistics
import sys

out = sys.argv[1]
spec = importlib.util.spec_from_file_location(
    "model", os.path.join(os.path.dirname(os.path.abspath(__file__)), "scaling-model.py"))
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
rows = list(csv.DictReader(open(os.path.join(out, "runs.tsv")), delimiter="\t"))
cores = os.cpu_count()


def clean(r):
    return float(r["others_cpu_s"]) <= 0.05 * cores * float(r["wall_s"])


def pick(k, t, tr):
    return next((r for r in rows if r["round"] == str(k) and r["threads"] == str(t)
                 and r["trace"] == str(tr)), None)


print(f"machine: {cores} cores")
print("round | -t 2 measured  predicted  error | others' cores  predicted with the rest  error "
      "| at its own speed  error | busy measured  predicted | -t 1 measured  predicted")
errs, errs_left, errs_speed, oh_cpu, oh_wall = [], [], [], [], []
for k in sorted({int(r["round"]) for r in rows}):
    t1, t2, t2t = pick(k, 1, 1), pick(k, 2, 0), pick(k, 2, 1)
    if not (t1 and t2):
        continue
    prof = m.Profile(os.path.join(out, f"trace-t1-r{k}.json"))
    w1, w2 = float(t1["wall_s"]), float(t2["wall_s"])
    r2 = m.predict(prof, 2, cores=cores)
    p2 = r2["wall_s"]
    busy_m = float(t2["cpu_s"]) / w2
    p2s = float(t2["cpu_s"]) / r2["busy_cores"]
    err_s = (p2s - w2) / w2
    p1 = m.predict(prof, 1, cores=cores)["wall_s"]
    others = max(0.0, float(t2["others_cpu_s"])) / w2
    left = max(0.5, cores - others)
    p2l = m.predict(prof, 2, cores=left)["wall_s"]
    err, err_l = (p2 - w2) / w2, (p2l - w2) / w2
    ok = clean(t1) and clean(t2)
    (errs if ok else errs_left).append(err if ok else err_l)
    if ok:
        errs_speed.append(err_s)
    if t2t and clean(t2) and clean(t2t):
        oh_cpu.append(float(t2t["cpu_s"]) / float(t2["cpu_s"]) - 1)
        oh_wall.append(float(t2t["wall_s"]) / w2 - 1)
    print(f"{k:>5} | {w2:>13.2f}  {p2:>9.2f}  {100 * err:>+5.1f}% | {others:>13.2f}  {p2l:>23.2f}  "
          f"{100 * err_l:>+5.1f}% | {p2s:>16.2f}  {100 * err_s:>+5.1f}% | {busy_m:>13.3f}  "
          f"{r2['busy_cores']:>9.3f} | {w1:>13.2f}  {p1:>9.2f}{'' if ok else '  (busy machine)'}")


def span(xs):
    return (f"mean {100 * statistics.mean(xs):+.1f}%, range {100 * min(xs):+.1f}% to "
            f"{100 * max(xs):+.1f}%")


if errs:
    print(f"-t 2 prediction error, {len(errs)} clean rounds: {span(errs)}")
if errs_speed:
    print(f"-t 2 prediction error at the run's own speed, {len(errs_speed)} clean rounds: "
          f"{span(errs_speed)}")
if errs_left:
    print(f"-t 2 prediction error with the cores others left, {len(errs_left)} busy rounds: "
          f"{span(errs_left)}")
if oh_cpu:
    print(f"--trace overhead at -t 2, {len(oh_cpu)} clean pairs: CPU time {span(oh_cpu)}; "
          f"wall {span(oh_wall)}")
