# The FM-index, built from config["reference"] unless config["index"] names one,
# and beside it the reference's ALT contig list (config["alt"], REFERENCE.alt).


rule ferrous_index:
    input:
        lambda wildcards: config["reference"],
    output:
        "results/index/{name}.fmi",
    log:
        "results/logs/index/{name}.log",
    params:
        prefix=lambda wildcards, output: output[0].removesuffix(".fmi"),
    shell:
        "ferrous index -p {params.prefix} {input} 2> {log}"


rule ferrous_alt:
    input:
        lambda wildcards: alt_source(),
    output:
        "results/index/{name}.alt",
    log:
        "results/logs/index/{name}.alt.log",
    shell:
        "cp {input} {output} 2> {log}"
