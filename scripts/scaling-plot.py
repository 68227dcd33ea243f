#!/usr/bin/env python3
"""Draws docs/scaling.png: the busy cores scripts/scaling-model.py predicts
against threads, per data set, with the ideal line and the measured points.

    scripts/scaling-plot.py OUT.png DATA_DIR [DATA_DIR ...]

Each DATA_DIR/scaling-out (written by scripts/scaling.sh) holds
`pred.json` (the set as it is), optionally `pred-long.json` (its reads
cycled to a long input, `--pairs`), and `runs.tsv` (scripts/scaling-validate.sh):
its runs during which other processes took at most 5% of the machine are
drawn as circles (busy cores = CPU time / wall time). Needs matplotlib
(`pip install matplotlib`).
"""
import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().split("\n\n")[1])
    png, dirs = sys.argv[1], sys.argv[2:]
    cores = os.cpu_count()
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    top = 1
    for k, d in enumerate(dirs):
        out = os.path.join(d, "scaling-out")
        name = os.path.basename(os.path.normpath(d))
        color = f"C{k}"
        pred = load(os.path.join(out, "pred.json"))
        xs = [p["threads"] for p in pred["predictions"]]
        top = max(top, *xs)
        ax.plot(xs, [p["busy_cores"] for p in pred["predictions"]], "-", color=color,
                label=f"{name}: {pred['trace']['reads'] // 2:,} pairs (model)")
        long_path = os.path.join(out, "pred-long.json")
        if os.path.exists(long_path):
            lp = load(long_path)
            ax.plot([p["threads"] for p in lp["predictions"]],
                    [p["busy_cores"] for p in lp["predictions"]], "--", color=color,
                    label=f"{name}: cycled to {lp['pairs']:,} pairs (model)")
        runs = os.path.join(out, "runs.tsv")
        if os.path.exists(runs):
            pts = [(int(r["threads"]), float(r["cpu_s"]) / float(r["wall_s"]))
                   for r in csv.DictReader(open(runs), delimiter="\t")
                   if float(r["others_cpu_s"]) <= 0.05 * cores * float(r["wall_s"])]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o", color=color,
                        mfc="none", label=f"{name}: measured")
    ax.plot([1, top], [1, top], ":", color="grey", label="ideal (busy = threads)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("threads (-t)")
    ax.set_ylabel("busy cores (CPU time / wall time)")
    ax.set_title("ferrous mem, paired-end, default options")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
