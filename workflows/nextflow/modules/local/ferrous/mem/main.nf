// FERROUS_MEM: `ferrous mem` with the interface of nf-core's BWA_MEM, so that
// a pipeline swaps one for the other by changing its include line:
//
//   include { FERROUS_MEM as BWA_MEM } from '../modules/local/ferrous/mem/main'
//
// ext.args: options of `ferrous mem` (bwa mem's; `--bwa-output 0.7.19` for
// the header and MQ tags of bwa 0.7.19, which BWA_MEM runs). ext.args2:
// options of `samtools sort` (sort_bam true) or `samtools view` (false), which
// pick the output format as for BWA_MEM: BAM by default, SAM with
// `--output-fmt sam`, CRAM with `--output-fmt cram` (or `-O cram` when
// sorting, `-C` when not; the reference is the fasta input), an index beside
// it with `--write-index` (.csi, .crai). ferrous writes SAM and BAM itself,
// sorted BAM too (sort_bam true: `ferrous mem --sort coordinate`, or
// queryname with `-n` in ext.args2; `--write-index` gives PREFIX.bam.csi; the
// order is samtools sort's). Only CRAM, or other samtools options, go through
// samtools: ferrous hands it uncompressed BAM.
process FERROUS_MEM {
    tag "$meta.id"
    label 'process_high'

    conda "${moduleDir}/environment.yml"
    container "ferrous:0.1.0"

    input:
    tuple val(meta) , path(reads)
    tuple val(meta2), path(index)
    tuple val(meta3), path(fasta)
    val   sort_bam

    output:
    tuple val(meta), path("*.bam")  , emit: bam , optional: true
    tuple val(meta), path("*.cram") , emit: cram, optional: true
    tuple val(meta), path("*.csi")  , emit: csi , optional: true
    tuple val(meta), path("*.crai") , emit: crai, optional: true
    tuple val(meta), path("*.sam")  , emit: sam , optional: true
    path "versions.yml"             , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args   = task.ext.args ?: ''
    def args2  = task.ext.args2 ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def extension = args2.contains("--output-fmt sam")    ? "sam"  :
                    args2.contains("--output-fmt cram")   ? "cram" :
                    sort_bam && args2.contains("-O cram") ? "cram" :
                    !sort_bam && args2.contains("-C")     ? "cram" :
                    "bam"
    if (extension == "cram" && !fasta) {
        error "FERROUS_MEM: CRAM output needs the reference FASTA (the fasta input)"
    }
    def reference = extension == "cram" ? "--reference ${fasta}" : ""
    def args2_left = args2.replace("--output-fmt sam", "").replace("--output-fmt bam", "").trim()
    def ferrous_writes = !sort_bam && extension != "cram" && args2_left == ""
    // Sorted BAM from ferrous when args2 asks for nothing else than the
    // order (-n) and the index (--write-index).
    def sort_words = args2_left.tokenize(' ')
    def ferrous_sorts = sort_bam && extension == "bam" &&
        sort_words.every { word -> word in [ '-n', '--write-index' ] }
    def sort_order = sort_words.contains('-n') ? 'queryname' : 'coordinate'
    def write_index = sort_words.contains('--write-index') ? '--write-index' : ''
    def output = ferrous_writes
        ? "-o ${prefix}.${extension}"
        : ferrous_sorts
        ? "--sort ${sort_order} ${write_index} -o ${prefix}.bam"
        : "--output-fmt bam -l 0 | samtools ${sort_bam ? 'sort' : 'view -h'} ${args2} ${reference} --threads ${task.cpus} -o ${prefix}.${extension} -"
    def samtools_version = ferrous_writes || ferrous_sorts ? "" : "samtools: \$(samtools --version | sed '1!d; s/^samtools //')"
    """
    # The index: PREFIX.fmi (ferrous index), else bwa's files PREFIX.amb etc.
    INDEX=\$(find -L ./ -name "*.fmi" | sed 's/\\.fmi\$//')
    [ -n "\$INDEX" ] || INDEX=\$(find -L ./ -name "*.amb" | sed 's/\\.amb\$//')
    case "\$INDEX" in
        "" | *[[:space:]]*)
            echo "error: the index input holds no PREFIX.fmi or bwa index, or more than one: \$INDEX" >&2
            exit 1 ;;
    esac

    ferrous \\
        mem \\
        $args \\
        -t $task.cpus \\
        \$INDEX \\
        $reads \\
        $output

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        ferrous: \$(ferrous --version 2>&1 | sed 's/^ferrous //')
        ${samtools_version}
    END_VERSIONS
    """

    stub:
    def args2  = task.ext.args2 ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def extension = args2.contains("--output-fmt sam")    ? "sam"  :
                    args2.contains("--output-fmt cram")   ? "cram" :
                    sort_bam && args2.contains("-O cram") ? "cram" :
                    !sort_bam && args2.contains("-C")     ? "cram" :
                    "bam"
    """
    touch ${prefix}.${extension}
    touch ${prefix}.csi
    touch ${prefix}.crai

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        ferrous: \$(ferrous --version 2>&1 | sed 's/^ferrous //')
    END_VERSIONS
    """
}
