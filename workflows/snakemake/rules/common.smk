# Helpers shared by the rules: configuration checks, index path, batch list.
import os
import re

OUTPUT_FORMATS = ("sam", "bam")
OUTPUT_MODES = ("scatter", "mem")
SORT_ORDERS = ("none", "coordinate", "queryname")


wildcard_constraints:
    sample=r"[^/]+",
    batch=r"[0-9]{6}",
    ext="|".join(OUTPUT_FORMATS),


def _check_config():
    extra = str(config.get("extra", ""))
    if re.search(r"(^|\s)-t(\s|\d|$)", extra):
        raise ValueError("config: set threads with `threads`, not -t in `extra`")
    if config.get("format") not in OUTPUT_FORMATS:
        raise ValueError(f"config: format must be one of {OUTPUT_FORMATS}")
    sort = config.get("sort", "none")
    if sort not in SORT_ORDERS:
        raise ValueError(f"config: sort must be one of {SORT_ORDERS}")
    if sort != "none" and config.get("format") != "bam":
        raise ValueError("config: sorted output is BAM: set format: bam")
    for mode in config.get("outputs", []):
        if mode not in OUTPUT_MODES:
            raise ValueError(f"config: outputs must be among {OUTPUT_MODES}")
    for sample, reads in config["samples"].items():
        if not 1 <= len(reads) <= 2:
            raise ValueError(f"config: sample {sample} needs one or two FASTQ files")


_check_config()


def sort_options():
    """`--sort` and its options for `ferrous emit`, from `sort` and
    `sort_memory` (empty when unsorted); a coordinate sort writes the index."""
    sort = config.get("sort", "none")
    if sort == "none":
        return ""
    options = f"--sort {sort} --sort-memory {config.get('sort_memory', '768M')}"
    if sort == "coordinate":
        options += " --write-index"
    return options


def index_file():
    """The index file PREFIX.fmi: the given prefix, or one built under results/index/."""
    if config.get("index"):
        return f"{config['index']}.fmi"
    return f"results/index/{os.path.basename(config['reference'])}.fmi"


def _existing_alt(base):
    """bwa's ALT contig list beside `base` as bwa mem names it, or None."""
    for suffix in (".alt", ".64.alt"):
        if os.path.exists(base + suffix):
            return base + suffix
    return None


def alt_source():
    """The reference's ALT contig list (GRCh38's ALT haplotypes): config `alt`,
    else REFERENCE.alt or REFERENCE.64.alt when there; None without one."""
    if config.get("alt"):
        if config.get("index"):
            raise ValueError(
                "config: `alt` goes with `reference`; with `index`, put PREFIX.alt"
                " beside PREFIX.fmi, where ferrous (as bwa mem) reads it"
            )
        return config["alt"]
    if config.get("index"):
        return None
    return _existing_alt(config["reference"])


def alt_files():
    """The ALT contig list that travels with the index (an input of every rule
    that opens it): PREFIX.alt beside a given index, or the copy beside the
    index built under results/index/; empty without one."""
    if config.get("index"):
        found = _existing_alt(config["index"])
        return [found] if found else []
    if alt_source():
        return [index_file().removesuffix(".fmi") + ".alt"]
    return []


def index_prefix(wildcards, input):
    """The index prefix ferrous takes (the .fmi path without its extension)."""
    return input.idx.removesuffix(".fmi")


def sample_reads(wildcards):
    return config["samples"][wildcards.sample]


def is_paired(sample):
    """Paired: two FASTQ files, or one interleaved file with -p in `extra`."""
    extra = str(config.get("extra", ""))
    interleaved = re.search(r"(^|\s)-p(\s|$)", extra) is not None
    return len(config["samples"][sample]) == 2 or interleaved


def gathered_batches(wildcards):
    """Every batch of the sample after its last stage, from split's manifest."""
    split_dir = checkpoints.ferrous_split.get(sample=wildcards.sample).output.batches
    stage = "rescued" if is_paired(wildcards.sample) else "regions"
    with open(os.path.join(split_dir, "manifest.tsv")) as manifest:
        header = manifest.readline().rstrip("\n").split("\t")
        column = header.index("file")
        files = [
            line.rstrip("\n").split("\t")[column] for line in manifest if line.strip()
        ]
    batches = [name.removesuffix(".reads.msgpack.zst") for name in files]
    return expand(
        "results/{sample}/stages/{batch}.{stage}.msgpack.zst",
        sample=wildcards.sample,
        batch=batches,
        stage=stage,
    )
