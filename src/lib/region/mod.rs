//! Alignment regions after extension (bwa's `mem_alnreg_t`): de-duplication,
//! primary/secondary marking and MAPQ. Being built.
