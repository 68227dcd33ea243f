"""Snakemake wrapper for `ferrous mem`, in the style of snakemake-wrappers' bio/bwa/mem.

input.reads: one FASTQ file (single-end, or interleaved with -p in params.extra)
             or two (R1, R2); plain or gzip.
input.idx:   the index file PREFIX.fmi made by `ferrous index -p PREFIX` (a list
             may hold other files too; the one ending in .fmi is used).
output:      one file; .sam is written by ferrous itself, .bam/.cram go through
             samtools (which must then be installed).
params.extra:      ferrous mem options (bwa mem's letters), e.g. "-K 100000000 -R '@RG\\tID:s'"
params.sort:       "none" (default, aligner order) or "samtools"
params.sort_order: "coordinate" (default) or "queryname", for sort="samtools"
params.sort_extra: more samtools sort options
log:               stderr of ferrous (and samtools) goes there.
"""

__author__ = "ferrous authors"
__license__ = "MIT"

import os

from snakemake.shell import shell

extra = snakemake.params.get("extra", "")
sort = snakemake.params.get("sort", "none")
sort_order = snakemake.params.get("sort_order", "coordinate")
sort_extra = snakemake.params.get("sort_extra", "")
log = snakemake.log_fmt_shell(stdout=False, stderr=True)

reads = snakemake.input.reads
reads = [reads] if isinstance(reads, str) else list(reads)
if len(reads) not in (1, 2):
    raise ValueError("input.reads: give one FASTQ file or two (R1, R2)")

idx = snakemake.input.idx
idx = [idx] if isinstance(idx, str) else list(idx)
fmi = [f for f in idx if f.endswith(".fmi")]
if len(fmi) != 1:
    raise ValueError("input.idx: give the index file PREFIX.fmi (exactly one)")
prefix = fmi[0][: -len(".fmi")]

if len(snakemake.output) != 1:
    raise ValueError("output: give exactly one SAM, BAM or CRAM file")
out = snakemake.output[0]
out_format = os.path.splitext(out)[1].lstrip(".").lower()
if out_format not in ("sam", "bam", "cram"):
    raise ValueError(f"output {out}: the name must end in .sam, .bam or .cram")
if sort not in ("none", "samtools"):
    raise ValueError(f"params.sort: 'none' or 'samtools', not {sort!r}")
if sort_order not in ("coordinate", "queryname"):
    raise ValueError(
        f"params.sort_order: 'coordinate' or 'queryname', not {sort_order!r}"
    )

threads = snakemake.threads
reads_args = " ".join(f"'{r}'" for r in reads)
mem = f"ferrous mem -t {threads} {extra} '{prefix}' {reads_args}"

if sort == "none" and out_format == "sam":
    # ferrous writes the file itself, under a temporary name renamed at the end.
    shell("({mem} -o '{out}') {log}")
elif sort == "none":
    shell("({mem} | samtools view -h --output-fmt {out_format} -o '{out}' -) {log}")
else:
    order = "-n" if sort_order == "queryname" else ""
    tmp = os.path.join(os.path.dirname(out) or ".", f".{os.path.basename(out)}.sorttmp")
    shell(
        "({mem} | samtools sort {order} {sort_extra} -@ {threads}"
        " -T '{tmp}' --output-fmt {out_format} -o '{out}' -) {log}"
    )
