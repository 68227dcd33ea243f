process FERROUS_SPLIT {
    tag "$meta.id"
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container "ferrous:0.1.0"

    input:
    tuple val(meta), path(reads)

    output:
    tuple val(meta), path("batches/*.reads.msgpack.zst"), emit: batches
    tuple val(meta), path("batches/manifest.tsv")        , emit: manifest
    path "versions.yml"                                  , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    """
    ferrous \\
        split \\
        $args \\
        -t $task.cpus \\
        -o batches \\
        $reads

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        ferrous: \$(ferrous --version 2>&1 | sed 's/^ferrous //')
    END_VERSIONS
    """

    stub:
    """
    mkdir batches
    touch batches/000000.reads.msgpack.zst
    printf 'batch\\tfile\\tfirst_read\\tn_reads\\n0\\t000000.reads.msgpack.zst\\t0\\t0\\n' > batches/manifest.tsv

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        ferrous: \$(ferrous --version 2>&1 | sed 's/^ferrous //')
    END_VERSIONS
    """
}
