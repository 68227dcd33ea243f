# The scattered alignment: `ferrous split` cuts a sample's reads into batches
# exactly as `ferrous mem` does (a checkpoint: the batches are known once it
# ran), each stage runs once per batch as its own job, and `ferrous emit`
# gathers all batches into one SAM or BAM (by the output's extension), sorted
# and indexed when the configuration asks (`sort`).
# Paired data: seed, chain, extend, pair, rescue; single-end data: seed,
# chain, extend. Every command gets the same `extra` options (each batch
# records their fingerprint). The index's ALT contig list (PREFIX.alt) is an
# input of every rule that opens the index: the batches record the ALT set.


checkpoint ferrous_split:
    input:
        reads=sample_reads,
    output:
        batches=directory("results/{sample}/split"),
    log:
        "results/logs/{sample}/split.log",
    threads: config["threads"]
    params:
        extra=config["extra"],
    shell:
        "ferrous split {params.extra} -t {threads} -o {output.batches} {input.reads} 2> {log}"


rule ferrous_seed:
    input:
        batch="results/{sample}/split/{batch}.reads.msgpack.zst",
        idx=index_file(),
        alt=alt_files(),
    output:
        temp("results/{sample}/stages/{batch}.seeds.msgpack.zst"),
    log:
        "results/logs/{sample}/{batch}.seed.log",
    threads: config["threads"]
    params:
        extra=config["extra"],
        idx=index_prefix,
    shell:
        "ferrous seed {params.extra} -t {threads} {params.idx} {input.batch} -o {output} 2> {log}"


rule ferrous_chain:
    input:
        batch="results/{sample}/stages/{batch}.seeds.msgpack.zst",
        idx=index_file(),
        alt=alt_files(),
    output:
        temp("results/{sample}/stages/{batch}.chains.msgpack.zst"),
    log:
        "results/logs/{sample}/{batch}.chain.log",
    threads: config["threads"]
    params:
        extra=config["extra"],
        idx=index_prefix,
    shell:
        "ferrous chain {params.extra} -t {threads} {params.idx} {input.batch} -o {output} 2> {log}"


rule ferrous_extend:
    input:
        batch="results/{sample}/stages/{batch}.chains.msgpack.zst",
        idx=index_file(),
        alt=alt_files(),
    output:
        temp("results/{sample}/stages/{batch}.regions.msgpack.zst"),
    log:
        "results/logs/{sample}/{batch}.extend.log",
    threads: config["threads"]
    params:
        extra=config["extra"],
        idx=index_prefix,
    shell:
        "ferrous extend {params.extra} -t {threads} {params.idx} {input.batch} -o {output} 2> {log}"


rule ferrous_pair:
    input:
        batch="results/{sample}/stages/{batch}.regions.msgpack.zst",
        idx=index_file(),
        alt=alt_files(),
    output:
        temp("results/{sample}/stages/{batch}.paired.msgpack.zst"),
    log:
        "results/logs/{sample}/{batch}.pair.log",
    threads: config["threads"]
    params:
        extra=config["extra"],
        idx=index_prefix,
    shell:
        "ferrous pair {params.extra} -t {threads} {params.idx} {input.batch} -o {output} 2> {log}"


rule ferrous_rescue:
    input:
        batch="results/{sample}/stages/{batch}.paired.msgpack.zst",
        idx=index_file(),
        alt=alt_files(),
    output:
        temp("results/{sample}/stages/{batch}.rescued.msgpack.zst"),
    log:
        "results/logs/{sample}/{batch}.rescue.log",
    threads: config["threads"]
    params:
        extra=config["extra"],
        idx=index_prefix,
    shell:
        "ferrous rescue {params.extra} -t {threads} {params.idx} {input.batch} -o {output} 2> {log}"


rule ferrous_emit:
    input:
        batches=gathered_batches,
        idx=index_file(),
        alt=alt_files(),
    output:
        "results/scatter/{sample}.{ext}",
    log:
        "results/logs/{sample}/emit.{ext}.log",
    threads: config["threads"]
    params:
        extra=config["extra"],
        idx=index_prefix,
        sort=sort_options(),
    shell:
        "ferrous emit {params.extra} {params.sort} -t {threads} -o {output}"
        " {params.idx} {input.batches} 2> {log}"
