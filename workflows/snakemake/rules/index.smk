# The FM-index, built from config["reference"] unless config["index"] names one.


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
