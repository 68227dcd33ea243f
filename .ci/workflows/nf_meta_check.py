#!/usr/bin/env python3
"""Structure checks of the nf-core-style modules (what nf-core's `modules lint`
checks first, done here without nf-core tools or Nextflow): for every module
directory, main.nf's input:/output: declarations against meta.yml, the nf-core
conventions in main.nf, environment.yml's shape, the nf-test file, and that no
nf-test snapshot is committed (snapshots come from real nf-test runs only)."""

import os
import re
import subprocess
import sys

import yaml

REQUIRED_IN_MAIN = [
    ("tag ", "a tag directive"),
    ("label 'process_", "a process_* label"),
    ('conda "${moduleDir}/environment.yml"', "conda from environment.yml"),
    ("container ", "a container directive"),
    ("task.ext.when == null || task.ext.when", "the when: block"),
    ("task.ext.args ?: ''", "args from task.ext.args"),
    ('path "versions.yml"', "a versions.yml output"),
    ('"${task.process}":', "versions.yml keyed by task.process"),
    ("\n    stub:\n", "a stub: block"),
]


def section(text, name, following):
    m = re.search(rf"\n    {name}:\n(.*?)\n    (?:{following}):\n", text, re.S)
    return m.group(1) if m else None


def elements(line):
    """Names of the elements of one input/output channel declaration."""
    names = []
    for kind, arg in re.findall(
        r'\b(val|path|env|stdout)\b\s*\(?\s*("[^"]*"|[A-Za-z_][A-Za-z0-9_]*)?', line
    ):
        if arg:
            names.append(arg.strip('"'))
    return names


def meta_names(channel):
    """Element names of one channel in meta.yml (a list of one-key maps, or one map)."""
    items = channel if isinstance(channel, list) else [channel]
    return [next(iter(item)) for item in items]


def check_module(mdir):
    errors = []
    name = os.path.basename(mdir)
    text = open(os.path.join(mdir, "main.nf")).read()
    try:
        meta = yaml.safe_load(open(os.path.join(mdir, "meta.yml")))
        env = yaml.safe_load(open(os.path.join(mdir, "environment.yml")))
    except (OSError, yaml.YAMLError) as e:
        return [f"{name}: {e}"]
    proc = re.search(r"^process (\w+) \{", text, re.M)
    if not proc:
        return [f"{name}: main.nf has no process"]
    process = proc.group(1)
    if process != f"FERROUS_{name.upper()}":
        errors.append(f"{name}: process {process}, expected FERROUS_{name.upper()}")
    if meta.get("name") != process.lower():
        errors.append(
            f"{name}: meta.yml name {meta.get('name')!r} != {process.lower()!r}"
        )
    for key in (
        "description",
        "keywords",
        "tools",
        "input",
        "output",
        "authors",
        "maintainers",
    ):
        if not meta.get(key):
            errors.append(f"{name}: meta.yml lacks {key}")
    for needle, what in REQUIRED_IN_MAIN:
        if needle not in text:
            errors.append(f"{name}: main.nf lacks {what} ({needle.strip()!r})")
    if name != "index" and "-t $task.cpus" not in text:
        errors.append(f"{name}: main.nf does not pass task.cpus as -t")
    if name not in ("split",) and "task.ext.prefix" not in text:
        errors.append(f"{name}: main.nf does not use task.ext.prefix")

    inputs = section(text, "input", "output")
    outputs = section(text, "output", "when")
    if inputs is None or outputs is None:
        return errors + [f"{name}: main.nf input:/output: sections not found"]
    in_decl = [elements(l) for l in inputs.strip().splitlines() if l.strip()]
    in_meta = [meta_names(c) for c in meta.get("input") or []]
    if in_decl != in_meta:
        errors.append(f"{name}: inputs {in_decl} in main.nf, {in_meta} in meta.yml")
    out_decl = {}
    for line in outputs.strip().splitlines():
        m = re.search(r"emit:\s*(\w+)", line)
        if not m:
            errors.append(f"{name}: output without emit: {line.strip()}")
            continue
        out_decl[m.group(1)] = elements(line.split("emit:")[0])
    out_meta = {
        k: [n for c in v for n in meta_names(c)]
        for k, v in (meta.get("output") or {}).items()
    }
    if out_decl != out_meta:
        errors.append(f"{name}: outputs {out_decl} in main.nf, {out_meta} in meta.yml")

    if not isinstance(env, dict) or "channels" not in env or "dependencies" not in env:
        errors.append(f"{name}: environment.yml needs channels and dependencies")

    test = os.path.join(mdir, "tests", "main.nf.test")
    if not os.path.exists(test):
        errors.append(f"{name}: no tests/main.nf.test")
    else:
        t = open(test).read()
        for needle in (
            f'process "{process}"',
            'script "../main.nf"',
            "nextflow_process",
            'options "-stub"',
        ):
            if needle not in t:
                errors.append(f"{name}: tests/main.nf.test lacks {needle!r}")
    return errors


def main():
    root = sys.argv[1]
    mdirs = sorted(
        os.path.join(root, d)
        for d in os.listdir(root)
        if os.path.isdir(os.path.join(root, d))
    )
    errors = []
    for mdir in mdirs:
        found = check_module(mdir)
        errors += found
        print(f"  module {os.path.basename(mdir)}: {'ok' if not found else 'FAILED'}")
    snaps = subprocess.run(
        ["git", "ls-files", "*.nf.test.snap"], capture_output=True, text=True, cwd=root
    ).stdout.split()
    if snaps:
        errors.append(f"committed nf-test snapshots (Nextflow never ran here): {snaps}")
    if errors:
        print("FAILED:\n  " + "\n  ".join(errors), file=sys.stderr)
        sys.exit(1)
    print(f"nf-core structure checks: {len(mdirs)} modules ok")


if __name__ == "__main__":
    main()
