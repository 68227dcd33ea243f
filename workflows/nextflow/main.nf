#!/usr/bin/env nextflow
/*
 * ferrous on Nextflow: align FASTQ pairs (or single-end files) to a reference,
 * one sample spread over many tasks: FERROUS_SPLIT cuts the reads into the
 * batches `ferrous mem` would align, every stage runs once per batch, and
 * FERROUS_EMIT gathers a sample's batches into one SAM, equal to `ferrous mem`'s
 * (and bwa mem 0.7.17's) but for the @PG line; with --sort coordinate (or
 * queryname), into one sorted BAM (and its .csi), sorted by ferrous. See README.md, "Workflows and
 * containers".
 *
 *   nextflow run workflows/nextflow -profile test,docker
 *   nextflow run workflows/nextflow --reads 'data/*_{1,2}.fq.gz' --fasta ref.fa --extra '-K 10000000'
 */
nextflow.enable.dsl = 2

include { FERROUS_INDEX   } from './modules/local/ferrous/index/main'
include { FERROUS_MEM     } from './modules/local/ferrous/mem/main'
include { FERROUS_SCATTER } from './subworkflows/local/ferrous_scatter/main'

workflow {
    if (!params.reads) {
        error "give --reads: a glob of FASTQ pairs ('dir/*_{1,2}.fq.gz'), or of single files with --single_end"
    }
    if (!(params.sort in [ 'none', 'coordinate', 'queryname' ])) {
        error "--sort: none, coordinate or queryname, not '${params.sort}'"
    }
    if (!params.index && !params.fasta) {
        error "give --fasta REF.fa (the index is built) or --index DIR_OR_PREFIX.fmi"
    }

    ch_reads = params.single_end
        ? Channel.fromPath(params.reads, checkIfExists: true)
            .map { fq -> [ [ id: fq.simpleName, single_end: true ], fq ] }
        : Channel.fromFilePairs(params.reads, checkIfExists: true)
            .map { id, fqs -> [ [ id: id, single_end: false ], fqs ] }

    ch_versions = Channel.empty()
    ch_fasta = params.fasta
        ? Channel.value([ [ id: file(params.fasta).baseName ], file(params.fasta, checkIfExists: true) ])
        : Channel.value([ [:], [] ])
    // bwa's ALT contig list (GRCh38's ALT haplotypes) travels with the index,
    // named as bwa mem finds it: PREFIX.alt (or PREFIX.64.alt) beside it.
    def alt_beside = { base -> [ "${base}.alt", "${base}.64.alt" ].collect { file(it) }.find { it.exists() } }
    if (params.index && params.alt) {
        error "--alt goes with --fasta; with --index, put PREFIX.alt beside PREFIX.fmi (where bwa mem reads it)"
    }
    if (params.index) {
        def index = file(params.index, checkIfExists: true)
        def alt = index.isDirectory() ? null : alt_beside(index.toString().replaceAll(/\.fmi$/, ''))
        ch_index = Channel.value([ [ id: 'index' ], alt ? [ index, alt ] : index ])
    } else {
        def alt = params.alt ? file(params.alt, checkIfExists: true) : alt_beside(params.fasta)
        FERROUS_INDEX(ch_fasta, alt ?: [])
        ch_index = FERROUS_INDEX.out.index.first()
        ch_versions = ch_versions.mix(FERROUS_INDEX.out.versions)
    }

    FERROUS_SCATTER(ch_reads, ch_index)
    ch_versions = ch_versions.mix(FERROUS_SCATTER.out.versions)

    if (params.mem) {
        // SAM, or sorted BAM with --sort: ext.args2 in nextflow.config.
        FERROUS_MEM(ch_reads, ch_index, ch_fasta, params.sort != 'none')
        ch_versions = ch_versions.mix(FERROUS_MEM.out.versions.first())
    }

    ch_versions
        .unique()
        .collectFile(name: 'software_versions.yml', storeDir: "${params.outdir}/pipeline_info")
}
