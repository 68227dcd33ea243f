process FERROUS_EMIT {
    tag "$meta.id"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container "ferrous:0.1.0"

    input:
    tuple val(meta) , path(batches)
    tuple val(meta2), path(index)

    output:
    tuple val(meta), path("*.sam"), emit: sam, optional: true
    tuple val(meta), path("*.bam"), emit: bam, optional: true
    tuple val(meta), path("*.csi"), emit: csi, optional: true
    path "versions.yml"           , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    // `--sort ORDER` (and `--write-index`) in ext.args: sorted BAM.
    def extension = args.contains("--sort") || args.contains("--output-fmt bam") ? "bam" : "sam"
    """
    INDEX=\$(find -L ./ -name "*.fmi" | sed 's/\\.fmi\$//')

    ferrous \\
        emit \\
        $args \\
        -t $task.cpus \\
        -o ${prefix}.${extension} \\
        \$INDEX \\
        $batches

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        ferrous: \$(ferrous --version 2>&1 | sed 's/^ferrous //')
    END_VERSIONS
    """

    stub:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def extension = args.contains("--sort") || args.contains("--output-fmt bam") ? "bam" : "sam"
    """
    touch ${prefix}.${extension}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        ferrous: \$(ferrous --version 2>&1 | sed 's/^ferrous //')
    END_VERSIONS
    """
}
