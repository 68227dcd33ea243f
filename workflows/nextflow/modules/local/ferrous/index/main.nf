process FERROUS_INDEX {
    tag "$fasta"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container "ferrous:0.1.0"

    input:
    tuple val(meta), path(fasta)
    path  alt // bwa's ALT contig list of the reference (hs38DH.fa.alt), or []

    output:
    tuple val(meta), path("ferrous"), emit: index
    path "versions.yml"             , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${fasta.baseName}"
    // Beside the index, where ferrous (as bwa mem) reads it: PREFIX.alt.
    def copy_alt = alt ? "cp ${alt} ferrous/${prefix}.alt" : ""
    """
    mkdir ferrous
    ferrous \\
        index \\
        $args \\
        -p ferrous/${prefix} \\
        $fasta
    $copy_alt

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        ferrous: \$(ferrous --version 2>&1 | sed 's/^ferrous //')
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${fasta.baseName}"
    def touch_alt = alt ? "touch ferrous/${prefix}.alt" : ""
    """
    mkdir ferrous
    touch ferrous/${prefix}.fmi
    $touch_alt

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        ferrous: \$(ferrous --version 2>&1 | sed 's/^ferrous //')
    END_VERSIONS
    """
}
