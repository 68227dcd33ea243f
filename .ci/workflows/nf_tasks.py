#!/usr/bin/env python3
"""Run the command lines that the Nextflow modules' script: and stub: blocks
render, on the shipped data, without Nextflow (which cannot be installed here).

A paired (R1, R2) and a single-end (R1) sample. Each task gets its own
directory with its inputs linked in under the names Nextflow would stage
(as Nextflow does); the block is rendered by
nf-render.groovy (Groovy's own GString evaluation of the module's code, with
task, meta and the inputs bound) and run with `bash -euo pipefail` (the
process.shell of nextflow.config). Then every output the module declares
(path(...) in output:, not optional) must exist, versions.yml must hold
{task.process: {ferrous: VERSION}}, and, when the binary has the stage
subcommands, the SAM that FERROUS_EMIT gathers from all batches must equal
FERROUS_MEM's on every line but @PG.

Not checked (needs Nextflow): channel wiring, operators, config selectors,
publishDir, containers, nf-test runs.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

STAGES = ["seed", "chain", "extend", "pair", "rescue"]
STAGE_OUT = {
    "seed": "seeds",
    "chain": "chains",
    "extend": "regions",
    "pair": "paired",
    "rescue": "rescued",
}


class Renderer:
    """One JVM running nf-render.groovy; one JSON task per line."""

    def __init__(self, classpath, script):
        self.proc = subprocess.Popen(
            ["java", "-cp", classpath, "groovy.ui.GroovyMain", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def render(self, spec):
        self.proc.stdin.write(json.dumps(spec) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer.startswith("rendered"):
            raise SystemExit(f"render failed: {answer or 'renderer exited'}")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def declared_outputs(module_nf):
    """The non-optional path patterns of the module's output: block."""
    text = open(module_nf).read()
    section = re.search(r"\n\s*output:\s*\n(.*?)\n\s*when:", text, re.S).group(1)
    patterns = []
    for line in section.splitlines():
        if "optional: true" in line:
            continue
        patterns += re.findall(r'path\(?\s*"([^"]+)"', line)
    return patterns


class Runner:
    def __init__(self, args):
        self.args = args
        self.work = os.path.abspath(args.work)
        self.modules = os.path.abspath(args.modules)
        self.renderer = Renderer(args.classpath, args.render)
        self.failures = []
        self.ran = 0

    def task(
        self,
        module,
        block,
        name,
        inputs,
        meta=None,
        ext_args="",
        cpus=2,
        vals=None,
        ext_args2="",
    ):
        """Stage inputs, bind vals, render, run; return the task directory
        (None on failure)."""
        process = f"FERROUS_{module.upper()}"
        tdir = os.path.join(self.work, block, module, name)
        shutil.rmtree(tdir, ignore_errors=True)
        os.makedirs(tdir)
        bound = {}
        for var, files in inputs.items():
            many = isinstance(files, list)
            names = []
            for src in files if many else [files]:
                dst = os.path.join(tdir, os.path.basename(src))
                if block == "stub" and not os.path.exists(src):
                    open(dst, "w").close()  # a stand-in for an input a stub never reads
                else:
                    os.symlink(os.path.abspath(src), dst)
                names.append(os.path.basename(src))
            bound[var] = names if many else names[0]
        if meta is not None:
            bound["meta"] = meta
        if "index" in inputs:
            bound["meta2"] = {"id": "ref"}
        if "fasta" in inputs and module != "index":
            bound["meta3"] = {"id": "ref"}
        bound.update(vals or {})
        module_nf = os.path.join(self.modules, module, "main.nf")
        self.renderer.render(
            {
                "module": module_nf,
                "block": block,
                "out": os.path.join(tdir, ".command.sh"),
                "task": {
                    "process": process,
                    "cpus": cpus,
                    "ext": {"args": ext_args, "args2": ext_args2},
                },
                "vars": bound,
            }
        )
        with open(os.path.join(tdir, ".command.log"), "w") as log:
            rc = subprocess.call(
                ["bash", "-euo", "pipefail", ".command.sh"],
                cwd=tdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.ran += 1
        where = f"{process} {block} ({name})"
        if rc != 0:
            tail = open(os.path.join(tdir, ".command.log")).read()[-2000:]
            self.failures.append(f"{where}: exit {rc}\n{tail}")
            return None
        for pattern in declared_outputs(module_nf):
            if not glob.glob(os.path.join(tdir, pattern)):
                self.failures.append(f"{where}: declared output {pattern!r} missing")
        try:
            versions = yaml.safe_load(open(os.path.join(tdir, "versions.yml")))
            if not re.fullmatch(r"\d+\.\d+\.\d+\S*", str(versions[process]["ferrous"])):
                raise ValueError(f"version {versions[process]['ferrous']!r}")
        except Exception as e:  # any shape problem is a failure of the module
            self.failures.append(f"{where}: bad versions.yml: {e}")
        print(f"  ran {where}")
        return tdir


def scatter(r, sample, files, meta, index_dir, args):
    """split, every stage per batch, emit (all batches, shuffled order)."""
    split = r.task(
        "split", "script", sample, {"reads": files}, meta=meta, ext_args=args
    )
    if split is None:
        return None
    batches = sorted(glob.glob(os.path.join(split, "batches", "*.reads.msgpack.zst")))
    stages = STAGES[:3] if meta["single_end"] else STAGES
    last = []
    for batch in batches:
        current = batch
        name = f"{sample}-{os.path.basename(batch).split('.')[0]}"
        for stage in stages:
            inputs = {"batch": current, "index": index_dir}
            tdir = r.task(stage, "script", name, inputs, meta=meta, ext_args=args)
            if tdir is None:
                return None
            pattern = os.path.join(tdir, f"*.{STAGE_OUT[stage]}.msgpack.zst")
            current = glob.glob(pattern)[0]
        last.append(current)
    inputs = {"batches": last[::-1], "index": index_dir}
    print(f"  {sample}: {len(batches)} batches through {', '.join(stages)}")
    return r.task("emit", "script", sample, inputs, meta=meta, ext_args=args)


def alt_tasks(r, data, args):
    """FERROUS_INDEX with bwa's .alt of tests/data/alt, then FERROUS_MEM and
    the scatter on its pairs: the .alt must come along in the index folder
    (AH:* on the ALT contigs' @SQ lines, pa:f tags) and EMIT equal MEM."""
    fasta, alt = f"{data}/ref.fa.gz", f"{data}/ref.fa.gz.alt"
    idx = r.task(
        "index", "script", "alt", {"fasta": fasta, "alt": alt}, meta={"id": "alt"}
    )
    if idx is None:
        return "ALT: FERROUS_INDEX failed"
    index_dir = os.path.join(idx, "ferrous")
    if not os.path.exists(os.path.join(index_dir, "ref.fa.alt")):
        r.failures.append("ALT: FERROUS_INDEX did not put ref.fa.alt beside ref.fa.fmi")
        return "ALT: no .alt in the index folder"
    reads = [f"{data}/reads_1.fq.gz", f"{data}/reads_2.fq.gz"]
    meta = {"id": "alt", "single_end": False}
    inputs = {"reads": reads, "index": index_dir, "fasta": fasta}
    mem = r.task(
        "mem",
        "script",
        "alt",
        inputs,
        meta=meta,
        ext_args=args,
        vals={"sort_bam": False},
        ext_args2="--output-fmt sam",
    )
    emit = scatter(r, "alt", reads, meta, index_dir, args)
    if mem is None or emit is None:
        return "ALT: a task failed"
    ours, theirs = sam_body(f"{emit}/alt.sam"), sam_body(f"{mem}/alt.sam")
    n_ah = sum(
        1 for l in theirs if l.startswith("@SQ") and l.rstrip("\n").endswith("\tAH:*")
    )
    n_pa = sum(1 for l in theirs if "\tpa:f:" in l)
    if n_ah == 0 or n_pa == 0:
        r.failures.append(
            f"ALT: FERROUS_MEM's SAM has {n_ah} AH:* @SQ lines, {n_pa} pa:f tags"
        )
    if ours != theirs:
        r.failures.append("ALT: FERROUS_EMIT's SAM differs from FERROUS_MEM's")
    return f"ALT contigs ({n_ah} AH:*, {n_pa} pa:f): FERROUS_EMIT equals FERROUS_MEM"


def records(path, fasta):
    """(header lines but @PG, records) of a SAM, BAM or CRAM file (samtools;
    it writes FASTA.fai if missing)."""
    view = ["samtools", "view", "-h", "--reference", fasta, path]
    lines = subprocess.run(view, check=True, capture_output=True, text=True).stdout
    lines = [line + "\n" for line in lines.splitlines() if not line.startswith("@PG")]
    return [l for l in lines if l.startswith("@")], [l for l in lines if l[0] != "@"]


def tag_set(record):
    """A SAM record with its optional fields in a set."""
    fields = record.rstrip("\n").split("\t")
    return fields[:11], frozenset(fields[11:])


# FERROUS_MEM's outputs as nf-core BWA_MEM's sort_bam and ext.args2 choose
# them: (name, sort_bam, ext.args2, files, through samtools, @HD sort order).
# ferrous sorts BAM itself unless ext.args2 has other samtools options.
MEM_OUTPUTS = [
    ("bam", False, "", ["small.bam"], False, None),
    ("view", False, "--no-PG", ["small.bam"], True, None),
    (
        "sorted",
        True,
        "--write-index",
        ["small.bam", "small.bam.csi"],
        False,
        "coordinate",
    ),
    ("queryname", True, "-n", ["small.bam"], False, "queryname"),
    (
        "sorted-samtools",
        True,
        "-l 1 --write-index",
        ["small.bam", "small.bam.csi"],
        True,
        "coordinate",
    ),
    ("cram", False, "--output-fmt cram", ["small.cram"], True, None),
]


def mem_outputs(r, reads, fasta, index_dir, args, sam):
    """FERROUS_MEM's BAM, sorted BAM and CRAM outputs against its SAM: the
    same header and records (unsorted), or the same records in samtools
    sort's order (sorted)."""
    meta = {"id": "small", "single_end": False}
    inputs = {"reads": reads, "index": index_dir, "fasta": fasta}
    # samtools indexes the reference it reads CRAM with: a copy, not data/.
    fasta = shutil.copy(fasta, os.path.join(r.work, "ref.fa"))
    want_header, want = records(sam, fasta)
    checked = []
    for name, sort_bam, args2, files, via_samtools, order in MEM_OUTPUTS:
        where = f"FERROUS_MEM (sort_bam {sort_bam}, ext.args2 {args2!r})"
        tdir = r.task(
            "mem",
            "script",
            f"small-{name}",
            inputs,
            meta=meta,
            ext_args=args,
            vals={"sort_bam": sort_bam},
            ext_args2=args2,
        )
        if tdir is None:
            continue
        missing = [f for f in files if not os.path.exists(os.path.join(tdir, f))]
        if missing:
            r.failures.append(f"{where}: no {missing}")
            continue
        versions = yaml.safe_load(open(os.path.join(tdir, "versions.yml")))
        if ("samtools" in versions["FERROUS_MEM"]) != via_samtools:
            r.failures.append(
                f"{where}: samtools in versions.yml is {not via_samtools}"
            )
        header, got = records(os.path.join(tdir, files[0]), fasta)
        if files[0].endswith(".cram"):
            # CRAM stores MD and NM apart: samtools puts them last on decoding.
            same = list(map(tag_set, got)) == list(map(tag_set, want))
        elif order is None:
            same = got == want and header == want_header
        else:
            same = sorted(got) == sorted(want) and f"SO:{order}" in header[0]
        if not same:
            r.failures.append(
                f"{where}: {files[0]} differs from FERROUS_MEM's SAM"
                f" ({len(got)} vs {len(want)} records)"
            )
            continue
        checked.append(f"{name} ({', '.join(files)})")
    return checked


def mem_bwa_index(r, reads, fasta, args, sam):
    """FERROUS_MEM given a folder of bwa's index files (what nf-core's
    BWA_INDEX makes for BWA_MEM): the same SAM as with the .fmi."""
    bwa_dir = os.path.join(r.work, "bwa-index", "bwa")
    shutil.rmtree(bwa_dir, ignore_errors=True)
    os.makedirs(bwa_dir)
    index = ["bwa", "index", "-p", os.path.join(bwa_dir, "ref"), fasta]
    subprocess.run(index, check=True, capture_output=True)
    tdir = r.task(
        "mem",
        "script",
        "small-bwa-index",
        {"reads": reads, "index": bwa_dir, "fasta": fasta},
        meta={"id": "small", "single_end": False},
        ext_args=args,
        vals={"sort_bam": False},
        ext_args2="--output-fmt sam",
    )
    if tdir is None:
        return "bwa's index files: failed"
    if sam_body(f"{tdir}/small.sam") != sam_body(sam):
        r.failures.append(
            "FERROUS_MEM with bwa's index files: SAM differs from the .fmi's"
        )
        return "bwa's index files: SAM differs"
    return "bwa's index files: same SAM as with the .fmi"


def sam_body(path):
    with open(path) as f:
        return [line for line in f if not line.startswith("@PG")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--modules", required=True, help="workflows/nextflow/modules/local/ferrous"
    )
    ap.add_argument("--data", required=True, help="data/small")
    ap.add_argument("--work", required=True)
    ap.add_argument("--classpath", required=True, help="Groovy jars")
    ap.add_argument("--render", required=True, help="nf-render.groovy")
    ap.add_argument(
        "--args", default="-K 100000", help="task.ext.args of the aligning modules"
    )
    ap.add_argument(
        "--stages", action="store_true", help="the binary has the stage subcommands"
    )
    ap.add_argument(
        "--alt-data",
        help="tests/data/alt: FERROUS_INDEX given the .alt, FERROUS_MEM and the scatter",
    )
    a = ap.parse_args()
    r = Runner(a)
    data = os.path.abspath(a.data)
    reads = [f"{data}/reads_1.fq.gz", f"{data}/reads_2.fq.gz"]
    meta = {"id": "small", "single_end": False}

    # Stubs: every module, inputs as empty stand-ins with the staged names.
    stub_inputs = {
        "index": {"fasta": f"{data}/ref.fa", "alt": []},
        "mem": {"reads": reads, "index": "ferrous", "fasta": f"{data}/ref.fa"},
        "split": {"reads": reads},
        "emit": {
            "batches": ["000000.rescued.msgpack.zst", "000001.rescued.msgpack.zst"],
            "index": "ferrous",
        },
    }
    prev = "reads"
    for stage in STAGES:
        stub_inputs[stage] = {"batch": f"000000.{prev}.msgpack.zst", "index": "ferrous"}
        prev = STAGE_OUT[stage]
    for module, inputs in stub_inputs.items():
        r.task(
            module,
            "stub",
            "stub",
            inputs,
            meta=None if module == "index" else meta,
            ext_args=a.args,
            vals={"sort_bam": False} if module == "mem" else None,
        )

    # Scripts on the shipped data.
    idx = r.task(
        "index",
        "script",
        "ref",
        {"fasta": f"{data}/ref.fa", "alt": []},
        meta={"id": "ref"},
    )
    if idx is None:
        raise SystemExit("\n".join(r.failures))
    index_dir = os.path.join(idx, "ferrous")
    samples = [
        ("small", reads, False),  # paired: split, seed .. rescue, emit
        ("se", reads[:1], True),  # single-end: split, seed, chain, extend, emit
    ]
    outcome = []
    for sample, files, single_end in samples:
        meta = {"id": sample, "single_end": single_end}
        inputs = {"reads": files, "index": index_dir, "fasta": f"{data}/ref.fa"}
        mem = r.task(
            "mem",
            "script",
            sample,
            inputs,
            meta=meta,
            ext_args=a.args,
            vals={"sort_bam": False},
            ext_args2="--output-fmt sam",
        )
        if mem is not None and sample == "small":
            formats = mem_outputs(
                r, files, f"{data}/ref.fa", index_dir, a.args, f"{mem}/{sample}.sam"
            )
            outcome.append(
                f"FERROUS_MEM outputs equal to its SAM: {'; '.join(formats)}"
            )
            outcome.append(
                mem_bwa_index(r, files, f"{data}/ref.fa", a.args, f"{mem}/{sample}.sam")
            )
        if not a.stages:
            continue
        emit = scatter(r, sample, files, meta, index_dir, a.args)
        if emit is None or mem is None:
            continue
        ours, theirs = sam_body(f"{emit}/{sample}.sam"), sam_body(f"{mem}/{sample}.sam")
        kind = "single-end" if single_end else "paired"
        if ours != theirs:
            r.failures.append(
                f"{kind}: FERROUS_EMIT's SAM differs from FERROUS_MEM's"
                f" ({len(ours)} vs {len(theirs)} lines without @PG)"
            )
        else:
            outcome.append(
                f"FERROUS_EMIT vs FERROUS_MEM, {kind}: equal ({len(ours)} lines without @PG)"
            )
    if a.alt_data and a.stages:
        outcome.append(alt_tasks(r, os.path.abspath(a.alt_data), a.args))
    verdict = "; ".join(outcome) if a.stages else "not run (no stage subcommands)"
    r.renderer.close()
    print(f"nextflow module tasks run without Nextflow: {r.ran}; {verdict}")
    if r.failures:
        print("FAILED:\n" + "\n".join(r.failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
