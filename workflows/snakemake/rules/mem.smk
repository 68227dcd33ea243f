# The fused alignment: `ferrous mem` over the whole sample in one job, through
# the wrapper in wrappers/ferrous/mem (the interface of snakemake-wrappers'
# bio/bwa/mem: input `reads` and `idx`, params `extra` and `sorting`, log on stderr).


rule ferrous_mem:
    input:
        reads=sample_reads,
        idx=[index_file(), *alt_files()],
    output:
        "results/mem/{sample}.{ext}",
    log:
        "results/logs/{sample}/mem.{ext}.log",
    threads: config["threads"]
    params:
        extra=config["extra"],
        sorting="none" if config.get("sort", "none") == "none" else "samtools",
        sort_order="queryname" if config.get("sort") == "queryname" else "coordinate",
    wrapper:
        f"file:{workflow.basedir}/wrappers/ferrous/mem"
