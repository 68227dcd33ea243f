/*
 * Scatter-gather alignment of each sample: split into batches, run every
 * stage per batch (paired-end: seed, chain, extend, pair, rescue; single-end:
 * seed, chain, extend), gather each sample's batches with emit.
 * Give every FERROUS_* process the same ext.args (the batches record the
 * options' fingerprint), with -K so that batches do not depend on task.cpus.
 */
include { FERROUS_SPLIT  } from '../../../modules/local/ferrous/split/main'
include { FERROUS_SEED   } from '../../../modules/local/ferrous/seed/main'
include { FERROUS_CHAIN  } from '../../../modules/local/ferrous/chain/main'
include { FERROUS_EXTEND } from '../../../modules/local/ferrous/extend/main'
include { FERROUS_PAIR   } from '../../../modules/local/ferrous/pair/main'
include { FERROUS_RESCUE } from '../../../modules/local/ferrous/rescue/main'
include { FERROUS_EMIT   } from '../../../modules/local/ferrous/emit/main'

workflow FERROUS_SCATTER {

    take:
    ch_reads // channel: [ val(meta), [ reads ] ], meta.single_end set
    ch_index // value channel: [ val(meta2), path(index) ]

    main:
    ch_versions = Channel.empty()

    FERROUS_SPLIT(ch_reads)
    ch_versions = ch_versions.mix(FERROUS_SPLIT.out.versions.first())

    // One item per batch; the meta carries the batch count so that the
    // gather below emits each sample as soon as its last batch is done.
    ch_batches = FERROUS_SPLIT.out.batches
        .flatMap { meta, files ->
            def batches = files instanceof List ? files : [ files ]
            batches.collect { batch -> [ meta + [ n_batches: batches.size() ], batch ] }
        }

    FERROUS_SEED(ch_batches, ch_index)
    FERROUS_CHAIN(FERROUS_SEED.out.seeds, ch_index)
    FERROUS_EXTEND(FERROUS_CHAIN.out.chains, ch_index)

    ch_regions = FERROUS_EXTEND.out.regions
        .branch { meta, batch ->
            single_end: meta.single_end
            paired_end: true
        }
    FERROUS_PAIR(ch_regions.paired_end, ch_index)
    FERROUS_RESCUE(FERROUS_PAIR.out.paired, ch_index)

    ch_gathered = ch_regions.single_end
        .mix(FERROUS_RESCUE.out.rescued)
        .map { meta, batch -> [ groupKey(meta.findAll { key, value -> key != 'n_batches' }, meta.n_batches), batch ] }
        .groupTuple()
        .map { key, batches -> [ key.getGroupTarget(), batches ] }

    FERROUS_EMIT(ch_gathered, ch_index)

    ch_versions = ch_versions
        .mix(FERROUS_SEED.out.versions.first())
        .mix(FERROUS_CHAIN.out.versions.first())
        .mix(FERROUS_EXTEND.out.versions.first())
        .mix(FERROUS_PAIR.out.versions.first())
        .mix(FERROUS_RESCUE.out.versions.first())
        .mix(FERROUS_EMIT.out.versions.first())

    emit:
    sam      = FERROUS_EMIT.out.sam // channel: [ val(meta), path(sam) ]
    bam      = FERROUS_EMIT.out.bam // channel: [ val(meta), path(bam) ] (sorted: ext.args --sort)
    csi      = FERROUS_EMIT.out.csi // channel: [ val(meta), path(csi) ] (--write-index)
    versions = ch_versions          // channel: [ path(versions.yml) ]
}
