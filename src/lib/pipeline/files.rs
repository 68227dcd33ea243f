//! The stage subcommands over batch files: `split` cuts reads into batch
//! files, [`run_step`] turns one batch file into the next (`seed`, `chain`,
//! `extend`, `pair`, `rescue`), and [`emit_files`] writes the SAM text of
//! a whole run from its last batch files. The per-batch work is the
//! functions of [`super::stages`]; this module reads, checks and writes.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{overlapped, Aligner, Overlapped, TextSink};
use crate::batch::{
    read_batch, read_batch_bases, read_header, write_batch, BatchError, BatchFile, BatchHeader,
    Expectation, Payload, ReferenceBounds, Stage,
};
use crate::cleanup::AtomicFile;
use crate::index::{FmIndex, Sections};
use crate::options::MemOptions;
use crate::output::Sink;
use crate::reads::{BatchReader, Layout, ReadBatch, ReadsError};
use crate::trace::{self, Kind};

/// Why a stage over batch files failed. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error(transparent)]
    Reads(#[from] ReadsError),
    /// A batch this stage cannot take, or a set of batches that is not
    /// one whole run.
    #[error("{}: {detail}", path.display())]
    Refused { path: PathBuf, detail: String },
    /// The SAM output could not be written (the caller knows its name).
    #[error("{0}")]
    Output(#[source] std::io::Error),
    /// The output could not be written.
    #[error("{}: {what}: {source}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// A stage that turns one batch file into the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Seed,
    Chain,
    Extend,
    Pair,
    Rescue,
}

impl Step {
    /// The subcommand's name.
    pub fn name(self) -> &'static str {
        match self {
            Step::Seed => "seed",
            Step::Chain => "chain",
            Step::Extend => "extend",
            Step::Pair => "pair",
            Step::Rescue => "rescue",
        }
    }

    /// The big index sections the step reads: its job checks and loads
    /// only these ([`FmIndex::open_for`]).
    pub fn index_sections(self) -> Sections {
        match self {
            // Seeding follows single occurrences through the text; chaining
            // filters the seeds of long reads against it.
            Step::Seed | Step::Chain => Sections::ALL,
            Step::Extend | Step::Rescue => Sections::TEXT,
            Step::Pair => Sections::NONE,
        }
    }

    /// The stage whose batches this step reads.
    pub fn input(self) -> Stage {
        match self {
            Step::Seed => Stage::Reads,
            Step::Chain => Stage::Seeds,
            Step::Extend => Stage::Chains,
            Step::Pair => Stage::Regions,
            Step::Rescue => Stage::Paired,
        }
    }
}

/// The big index sections `emit` reads (the reference text, for `MD`
/// and `NM`).
pub const EMIT_SECTIONS: Sections = Sections::TEXT;

/// What one stage run did, for its summary line on stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageSummary {
    pub batch_index: u64,
    pub first_read: u64,
    pub reads: u64,
    pub bases: u64,
    /// Seconds reading and decoding the input.
    pub read_s: f64,
    /// Seconds of the stage's own work.
    pub compute_s: f64,
    /// Seconds encoding and writing the output.
    pub write_s: f64,
    /// Bytes of the output batch file (0 for SAM text).
    pub out_bytes: u64,
}

impl fmt::Display for StageSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "batch {}: {} reads ({} bp) from read {} in {:.2} s (read {:.2} s, compute {:.2} s, write {:.2} s)",
            self.batch_index,
            self.reads,
            self.bases,
            self.first_read,
            self.read_s + self.compute_s + self.write_s,
            self.read_s,
            self.compute_s,
            self.write_s
        )?;
        if self.out_bytes > 0 {
            write!(f, ", {} bytes written", self.out_bytes)?;
        }
        Ok(())
    }
}

/// The bounds a batch's reference coordinates must keep for `index`.
fn bounds(index: &FmIndex) -> ReferenceBounds {
    ReferenceBounds {
        rows: index.seq_len() + 1,
        l_pac: index.l_pac() as i64,
        n_contigs: index.contigs().len(),
    }
}

/// Reads the batch at `path` that `stage` wrote with this index and these
/// options, refusing anything else; with `labels`, the reads' names,
/// comments and qualities too (for `emit`), else as a stage reads it
/// ([`read_batch_bases`]).
fn read_checked(
    aligner: &Aligner,
    path: &Path,
    stage: Stage,
    labels: bool,
) -> Result<BatchFile, StageError> {
    let expect = Expectation {
        stage,
        index_fingerprint: aligner.index.fingerprint(),
        options_fingerprint: aligner.opt.fingerprint(),
        alt_contigs: aligner.alt().ids(),
    };
    let batch = if labels {
        read_batch(path, &expect)?
    } else {
        read_batch_bases(path, &expect)?
    };
    batch
        .check_reference(bounds(aligner.index))
        .map_err(|detail| StageError::Refused {
            path: path.to_path_buf(),
            detail: format!("inconsistent batch: {detail}"),
        })?;
    Ok(batch)
}

/// A batch whose reads do not pair up refused by `pair` / `rescue`.
fn needs_pairs(step: Step, path: &Path) -> StageError {
    StageError::Refused {
        path: path.to_path_buf(),
        detail: format!(
            "a single-end batch; `ferrous {}` works on paired reads (two read files, or -p): give `ferrous emit` the output of `extend` instead",
            step.name()
        ),
    }
}

/// Runs `step` on the batch file `input` and writes the next batch to
/// `output` (through a temporary file and a rename).
pub fn run_step(
    step: Step,
    aligner: &Aligner,
    input: &Path,
    output: &Path,
) -> Result<StageSummary, StageError> {
    let t0 = Instant::now();
    let span = trace::span(Kind::ReadBatch, 0, 0);
    let mut batch = read_checked(aligner, input, step.input(), false)?;
    drop(span);
    // Every step passes the reads on unchanged: their compressed frames are
    // written again as they were read, not compressed anew (the names,
    // comments and qualities were not even decompressed).
    let reads_frame = batch.take_reads_frame();
    let h = &batch.header;
    let t1 = Instant::now();
    let payload = match batch.payload {
        Payload::Reads { reads } => {
            let seeds = aligner.seed_batch(&reads);
            Payload::Seeds { reads, seeds }
        }
        Payload::Seeds { reads, seeds } => {
            let chains = aligner.chain_batch(&reads, &seeds);
            Payload::Chains { reads, chains }
        }
        Payload::Chains { reads, chains } => {
            let regions = aligner.extend_batch(&reads, &chains);
            Payload::Regions { reads, regions }
        }
        Payload::Regions { reads, regions } => {
            if h.layout == Layout::Single {
                return Err(needs_pairs(step, input));
            }
            let insert_model = aligner.pair_batch(&reads, h.layout, &regions);
            Payload::Paired {
                reads,
                regions,
                insert_model,
            }
        }
        Payload::Paired {
            reads,
            regions,
            insert_model,
        } => {
            if h.layout == Layout::Single {
                return Err(needs_pairs(step, input));
            }
            let regions = aligner.rescue_batch(&reads, h.layout, &regions, &insert_model);
            Payload::Rescued {
                reads,
                regions,
                insert_model,
            }
        }
        // `read_checked` let through only the step's input stage.
        Payload::Rescued { .. } => unreachable!("rescued batches are emitted, not staged"),
    };
    let t2 = Instant::now();
    let mut next = BatchFile::new(
        payload,
        h.batch_index,
        h.layout,
        aligner.index.fingerprint(),
        aligner.opt,
    );
    next.header.last_batch = h.last_batch;
    next.header.alt_contigs = Some(aligner.alt().ids());
    // The options as the batch cutter recorded them (equal but for the
    // batch size, which only the cutter uses): the output's bytes then do
    // not depend on this stage's -t, -K or -v.
    next.header.options = h.options.clone();
    next.carry_reads_frame(reads_frame);
    let span = trace::span(Kind::WriteBatch, h.first_read, 0);
    write_batch(output, &next)?;
    drop(span);
    let t3 = Instant::now();
    let reads = next.payload.reads();
    Ok(StageSummary {
        batch_index: h.batch_index,
        first_read: h.first_read,
        reads: reads.len() as u64,
        bases: reads.total_bases(),
        read_s: (t1 - t0).as_secs_f64(),
        compute_s: (t2 - t1).as_secs_f64(),
        write_s: (t3 - t2).as_secs_f64(),
        out_bytes: fs::metadata(output).map_or(0, |m| m.len()),
    })
}

/// The file `split` writes for batch `index`.
pub fn reads_batch_name(index: u64) -> String {
    format!("{index:06}.reads.msgpack.zst")
}

/// The manifest `split` writes last, listing its batches.
pub const MANIFEST: &str = "manifest.tsv";

/// What `split` did.
#[derive(Debug, Clone, Default)]
pub struct SplitSummary {
    pub batches: u64,
    pub reads: u64,
    pub bases: u64,
    pub out_bytes: u64,
}

/// `ferrous split`: cuts the reads of `reader` into batches of
/// `opt.batch_size()` bases exactly as `ferrous mem` does, and writes them
/// to `outdir` as `NNNNNN.reads.msgpack.zst` (at least one batch, maybe
/// empty; the last one flagged), then `manifest.tsv`. `on_batch` sees each
/// batch's summary as it is written.
pub fn split_reads(
    mut reader: BatchReader,
    opt: &MemOptions,
    outdir: &Path,
    mut on_batch: impl FnMut(&StageSummary),
) -> Result<SplitSummary, StageError> {
    fs::create_dir_all(outdir).map_err(|source| StageError::Io {
        path: outdir.to_path_buf(),
        what: "cannot create the output directory",
        source,
    })?;
    let layout = reader.layout();
    let batch_bases = opt.batch_size();
    let mut summary = SplitSummary::default();
    let mut manifest = String::from("batch\tfile\tfirst_read\tn_reads\n");
    // One batch is read ahead, so that the last one can say so.
    let mut t0 = Instant::now();
    let mut current = ReadBatch::new();
    let mut have = reader.next_batch(batch_bases, &mut current)?;
    for index in 0u64.. {
        let mut next = ReadBatch::new();
        let more = have && reader.next_batch(batch_bases, &mut next)?;
        let t1 = Instant::now();
        let name = reads_batch_name(index);
        let path = outdir.join(&name);
        let (first_read, n_reads, bases) = (
            current.first_read,
            current.len() as u64,
            current.total_bases(),
        );
        let mut file = BatchFile::new(Payload::Reads { reads: current }, index, layout, 0, opt);
        file.header.last_batch = !more;
        let span = trace::span(Kind::WriteBatch, first_read, index);
        write_batch(&path, &file)?;
        drop(span);
        let t2 = Instant::now();
        let bytes = fs::metadata(&path).map_or(0, |m| m.len());
        manifest.push_str(&format!("{index}\t{name}\t{first_read}\t{n_reads}\n"));
        summary.batches += 1;
        summary.reads += n_reads;
        summary.bases += bases;
        summary.out_bytes += bytes;
        on_batch(&StageSummary {
            batch_index: index,
            first_read,
            reads: n_reads,
            bases,
            read_s: (t1 - t0).as_secs_f64(),
            compute_s: 0.0,
            write_s: (t2 - t1).as_secs_f64(),
            out_bytes: bytes,
        });
        if !more {
            break;
        }
        current = next;
        have = true;
        t0 = Instant::now();
    }
    write_atomically(&outdir.join(MANIFEST), manifest.as_bytes())?;
    Ok(summary)
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StageError> {
    let io = |what| {
        let path = path.to_path_buf();
        move |source| StageError::Io { path, what, source }
    };
    let mut file = AtomicFile::create(path).map_err(io("cannot create"))?;
    file.write_all(bytes).map_err(io("cannot write"))?;
    file.commit().map_err(io("cannot write"))
}

/// What `emit` did.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmitSummary {
    pub batches: u64,
    pub reads: u64,
    pub bases: u64,
}

/// The batch files of one whole run, in batch order, with the stage
/// `emit` needs them to come from: `extend`'s regions for single-end
/// reads, `rescue`'s for pairs. Refuses a set with a batch missing,
/// repeated, or from another run.
pub fn order_run(inputs: &[PathBuf]) -> Result<(Vec<PathBuf>, Stage), StageError> {
    let mut headers: Vec<(BatchHeader, &PathBuf)> = Vec::with_capacity(inputs.len());
    for p in inputs {
        headers.push((read_header(p)?, p));
    }
    let Some((first, first_path)) = headers.first() else {
        return Err(StageError::Refused {
            path: PathBuf::from("-"),
            detail: "no batch files given".into(),
        });
    };
    let stage = if first.layout == Layout::Single {
        Stage::Regions
    } else {
        Stage::Rescued
    };
    let refuse = |path: &Path, detail: String| StageError::Refused {
        path: path.to_path_buf(),
        detail,
    };
    for (h, p) in &headers {
        if h.stage != stage {
            return Err(BatchError::WrongStage {
                path: p.to_path_buf(),
                expected: stage,
                found: h.stage,
            }
            .into());
        }
        if h.layout != first.layout {
            return Err(refuse(
                p,
                format!(
                    "{:?} reads, but {} holds {:?} reads: batches of different runs",
                    h.layout,
                    first_path.display(),
                    first.layout
                ),
            ));
        }
    }
    headers.sort_by_key(|(h, _)| h.batch_index);
    let mut expect_read = 0u64;
    let mut ended: Option<&Path> = None;
    for (expect_index, (h, p)) in headers.iter().enumerate() {
        let expect_index = expect_index as u64;
        if let Some(last) = ended {
            return Err(refuse(
                p,
                format!(
                    "batch {} comes after {}, the run's last batch",
                    h.batch_index,
                    last.display()
                ),
            ));
        }
        if h.batch_index < expect_index {
            return Err(refuse(p, format!("batch {} is given twice", h.batch_index)));
        }
        if h.batch_index > expect_index {
            return Err(refuse(
                p,
                format!(
                    "batch {expect_index} is missing (this is batch {})",
                    h.batch_index
                ),
            ));
        }
        if h.first_read != expect_read {
            return Err(refuse(
                p,
                format!(
                    "batch {} starts at read {}, but the batches before it end at read {expect_read}: batches of different runs",
                    h.batch_index, h.first_read
                ),
            ));
        }
        expect_read += h.n_reads;
        if h.last_batch {
            ended = Some(p);
        }
    }
    if ended.is_none() {
        let (h, p) = headers.last().expect("at least one header");
        return Err(refuse(
            p,
            format!(
                "the run goes on after batch {}, but no later batch was given",
                h.batch_index
            ),
        ));
    }
    Ok((headers.into_iter().map(|(_, p)| p.clone()).collect(), stage))
}

/// `ferrous emit`: the SAM records of the whole run whose batch files are
/// `inputs` (any order; see [`order_run`]), handed to `sink` in read order
/// (the caller writes the header). Decoding the next batch and writing the
/// last one overlap with formatting the current one.
pub fn emit_files(
    aligner: &Aligner,
    inputs: &[PathBuf],
    sink: &mut dyn Sink,
    mut on_batch: impl FnMut(&StageSummary),
) -> Result<EmitSummary, StageError> {
    let (paths, stage) = order_run(inputs)?;
    let mut summary = EmitSummary::default();
    let mut paths = paths.iter();
    let next = move || {
        let p = paths.next()?;
        let t = Instant::now();
        let _span = trace::span(Kind::ReadBatch, 0, 0);
        let batch = read_checked(aligner, p, stage, true).map(|mut b| {
            // Nothing is written from it: free the compressed reads now.
            drop(b.take_reads_frame());
            b
        });
        Some(batch.map(|b| (b, t.elapsed().as_secs_f64())))
    };
    let work = |(batch, read_s): (BatchFile, f64), sink: &mut TextSink| {
        let t = Instant::now();
        let h = &batch.header;
        let text = match &batch.payload {
            Payload::Regions { reads, regions } => {
                aligner.emit_batch(reads, h.layout, regions, None)
            }
            Payload::Rescued {
                reads,
                regions,
                insert_model,
            } => aligner.emit_batch(reads, h.layout, regions, Some(insert_model)),
            _ => unreachable!("order_run and read_checked let only {stage} batches through"),
        };
        let reads = batch.payload.reads();
        summary.batches += 1;
        summary.reads += reads.len() as u64;
        summary.bases += reads.total_bases();
        on_batch(&StageSummary {
            batch_index: h.batch_index,
            first_read: h.first_read,
            reads: reads.len() as u64,
            bases: reads.total_bases(),
            read_s,
            compute_s: t.elapsed().as_secs_f64(),
            write_s: 0.0,
            out_bytes: 0,
        });
        sink.put(text);
    };
    match overlapped(next, work, sink) {
        Ok(()) => Ok(summary),
        Err(Overlapped::Input(e)) => Err(e),
        Err(Overlapped::Write(e)) => Err(StageError::Output(e)),
    }
}
