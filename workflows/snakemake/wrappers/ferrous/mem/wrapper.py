"""Snakemake wrapper for `ferrous mem`, a drop-in for snakemake-wrappers' bio/bwa/mem:
the same input, output, params and threads, so that a rule swaps one for the
other by changing its `wrapper:` line.

input.reads: one FASTQ file (single-end, or interleaved pairs with -p in
             params.extra) or two (R1, R2); plain or gzip.
input.idx:   the index: PREFIX.fmi from `ferrous index -p PREFIX`, or bwa's
             index files PREFIX.{amb,ann,bwt,pac,sa} as bio/bwa/mem takes them
             (ferrous is given PREFIX); with GRCh38's ALT contigs, also
             PREFIX.alt, which ferrous reads as bwa mem does.
input.ref:   the reference FASTA, for CRAM output (optional).
output[0]:   SAM, BAM or CRAM, by its extension; output.idx (optional): its
             index (.csi or .bai; .crai for CRAM).
params.extra:      options of `ferrous mem` (bwa mem's), e.g. r"-R '@RG\\tID:s\\tSM:s'"
params.sorting:    "none" (default: aligner order) or "samtools" (sorted as
                   `samtools sort` sorts)
params.sort_order: "coordinate" (default) or "queryname", with sorting="samtools"
params.sort_extra: more options of `samtools sort`
threads:           ferrous -t; samtools gets --threads (threads - 1)
log:               standard error of ferrous and samtools.

ferrous writes SAM and BAM itself (under a temporary name, renamed when
complete), sorted BAM too (`--sort`, in the order samtools sort gives, with
its index: `--write-index`); `-m SIZE` in sort_extra (samtools' memory per
thread) becomes `--sort-memory` of SIZE times the threads, the temporary
files go to a directory of their own. Only CRAM, or other sort_extra
options, go through samtools: ferrous hands it uncompressed BAM. The alignments are bwa mem 0.7.17's; add `--bwa-output
0.7.19` to params.extra for the header and MQ tags of bwa 0.7.19 (the bwa of
bio/bwa/mem's environment).
"""

__author__ = "ferrous authors"
__license__ = "MIT"

import os
import shlex
import tempfile

from snakemake.shell import shell

# samtools options the wrapper sets itself (as snakemake-wrapper-utils does
# for bio/bwa/mem), so they must not come in sort_extra.
OWN_SAMTOOLS_OPTIONS = {
    "-@": "threads",
    "--threads": "threads",
    "-o": "the output file",
    "-O": "the output file's extension",
    "--output-fmt": "the output file's extension",
    "--write-index": "output.idx",
    "--reference": "input.ref",
}


def as_list(files):
    return [files] if isinstance(files, str) else list(files)


def index_prefix(idx):
    """The prefix ferrous takes: that of PREFIX.fmi, else of bwa's files. An
    ALT contig list among them (GRCh38) must lie where ferrous, as bwa mem,
    reads it: PREFIX.alt (or PREFIX.64.alt beside a .fmi)."""
    fmi = [f for f in idx if f.endswith(".fmi")]
    if len(fmi) > 1:
        raise ValueError(f"input.idx: more than one .fmi file: {fmi}")
    files = [f for f in idx if not f.endswith(".alt")]
    if fmi:
        prefix = fmi[0][: -len(".fmi")]
    elif files:
        prefix = os.path.splitext(files[0])[0]
    else:
        raise ValueError("input.idx: give PREFIX.fmi or bwa's index files")
    for alt in (f for f in idx if f.endswith(".alt")):
        if alt not in (f"{prefix}.alt", f"{prefix}.64.alt"):
            raise ValueError(
                f"input.idx: {alt}: ferrous (as bwa mem) reads the ALT contig list"
                f" beside the index, as {prefix}.alt"
            )
    return prefix


extra = snakemake.params.get("extra", "")
sorting = snakemake.params.get("sorting", "none")
sort_order = snakemake.params.get("sort_order", "coordinate")
sort_extra = snakemake.params.get("sort_extra", "")
log = snakemake.log_fmt_shell(stdout=False, stderr=True)

reads = as_list(snakemake.input.reads)
if len(reads) not in (1, 2):
    raise ValueError("input.reads: give one FASTQ file or two (R1, R2)")
prefix = index_prefix(as_list(snakemake.input.idx))
if sorting not in ("none", "samtools"):
    raise ValueError(
        f"params.sorting: 'none' or 'samtools', not {sorting!r}"
        " (picard and fgbio are not supported: sort the output in a rule of its own)"
    )
if sort_order not in ("coordinate", "queryname"):
    raise ValueError(
        f"params.sort_order: 'coordinate' or 'queryname', not {sort_order!r}"
    )
for word in shlex.split(sort_extra):
    option = word.split("=", 1)[0]
    if option in OWN_SAMTOOLS_OPTIONS:
        raise ValueError(
            f"params.sort_extra: {option} is set from {OWN_SAMTOOLS_OPTIONS[option]}"
        )

out = snakemake.output[0]
out_format = os.path.splitext(out)[1].lstrip(".").lower()
if out_format not in ("sam", "bam", "cram"):
    raise ValueError(f"output {out}: the name must end in .sam, .bam or .cram")
out_idx = snakemake.output.get("idx", "")
ref = snakemake.input.get("ref", "")
if out_format == "cram" and not ref:
    raise ValueError("CRAM output needs the reference FASTA as input.ref")

threads = snakemake.threads
mem = shlex.join(["ferrous", "mem", "-t", str(threads)])
mem += f" {extra} " + shlex.join([prefix, *reads])


def ferrous_sort_args(sort_extra):
    """ferrous's options for sort_extra, or None when it has options only
    samtools takes. samtools' -m is per thread, ferrous's --sort-memory for
    all threads."""
    words = shlex.split(sort_extra)
    if not words:
        return []
    if len(words) == 2 and words[0] == "-m":
        size = words[1]
        suffixes = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
        scale = suffixes.get(size[-1:].lower(), 1)
        number = size[:-1] if scale > 1 else size
        if number.isdigit():
            total = int(number) * scale * max(threads, 1)
            return ["--sort-memory", f"{total // 1024}K"]
    return None


sort_args = ferrous_sort_args(sort_extra) if sorting == "samtools" else None
index_ext = os.path.splitext(out_idx)[1].lstrip(".").lower() if out_idx else ""
if out_idx and sorting == "samtools" and sort_order != "coordinate":
    raise ValueError("output.idx: only coordinate-sorted output can be indexed")

if sorting == "none" and out_format in ("sam", "bam") and not out_idx:
    shell("({mem} -o {out:q}) {log}")
elif (
    sorting == "samtools"
    and out_format == "bam"
    and sort_args is not None
    and index_ext in ("", "csi", "bai")
):
    # ferrous writes the index as OUT.csi or OUT.bai; moved if named otherwise.
    written_idx = f"{out}.{index_ext}" if out_idx else ""
    with tempfile.TemporaryDirectory(dir=os.path.dirname(out) or ".") as tmpdir:
        args = ["--sort", sort_order, "--tmp-dir", tmpdir, *sort_args]
        if out_idx:
            args.append(f"--write-index={index_ext}")
        args += ["-o", out]
        sort_command = shlex.join(args)
        shell("({mem} {sort_command}) {log}")
    if out_idx and os.path.abspath(written_idx) != os.path.abspath(out_idx):
        os.replace(written_idx, out_idx)
else:
    mem += " --output-fmt bam -l 0"
    # OUT##idx##IDX names the index file (htslib's syntax).
    target = f"{out}##idx##{out_idx}" if out_idx else out
    samtools = ["--output-fmt", out_format.upper(), "-o", target]
    if out_idx:
        samtools += ["--write-index"]
    if threads > 1:
        samtools += ["--threads", str(threads - 1)]
    if ref:
        samtools += ["--reference", ref]
    with tempfile.TemporaryDirectory() as tmpdir:
        if sorting == "none":
            command = ["samtools", "view", "-h", *samtools, "-"]
            pipe = shlex.join(command)
        else:
            order = ["-n"] if sort_order == "queryname" else []
            command = ["samtools", "sort", *order, *samtools, "-T", f"{tmpdir}/sort"]
            pipe = shlex.join(command) + f" {sort_extra} -"
        shell("({mem} | {pipe}) {log}")
