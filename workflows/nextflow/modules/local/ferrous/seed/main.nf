process FERROUS_SEED {
    tag "${meta.id}:${batch.name}"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container "ferrous:0.1.0"

    input:
    tuple val(meta) , path(batch)
    tuple val(meta2), path(index)

    output:
    tuple val(meta), path("*.seeds.msgpack.zst"), emit: seeds
    path "versions.yml"                         , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${batch.name.tokenize('.')[0]}"
    """
    INDEX=\$(find -L ./ -name "*.fmi" | sed 's/\\.fmi\$//')

    ferrous \\
        seed \\
        $args \\
        -t $task.cpus \\
        -o ${prefix}.seeds.msgpack.zst \\
        \$INDEX \\
        $batch

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        ferrous: \$(ferrous --version 2>&1 | sed 's/^ferrous //')
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${batch.name.tokenize('.')[0]}"
    """
    touch ${prefix}.seeds.msgpack.zst

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        ferrous: \$(ferrous --version 2>&1 | sed 's/^ferrous //')
    END_VERSIONS
    """
}
