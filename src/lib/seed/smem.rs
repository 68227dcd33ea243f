//! The two searches of one seeding step: the SMEMs covering a query position
//! (`bwt.c: bwt_smem1a` with `max_intv = 0`, spec §4.1) and the LAST-like
//! seed starting at one (`bwt_seed_strategy1`, spec §4.4).

use super::interleave::{block_on, Ext};
use super::{pack_span, single_x1, span_start, BiIndex, BiInterval, SINGLE_X1};

/// The two interval lists [`smem1`] alternates between (bwa's `tmpvec`),
/// kept across calls so that a warm search allocates nothing.
#[derive(Debug, Default)]
pub struct SmemScratch {
    cands: Vec<BiInterval>,
    next: Vec<BiInterval>,
}

/// The SMEMs covering query position `x` that occur at least `min_intv`
/// times (a `min_intv` below 1 counts as 1), written to `mem` sorted by
/// query start; returns where the next search should start: the end of the
/// longest such match starting at `x` (`x + 1` when `query[x]` is an N).
///
/// Works as `bwt_smem1a` with `max_intv = 0`:
/// * forward phase: extend from `x` to the right, keeping the interval just
///   before each change of size (that is, one per distinct right end worth
///   trying), stopping at an N, at the end of the read, or when the size
///   would fall below `min_intv`;
/// * backward phase: extend all kept intervals to the left together, base by
///   base; an interval that can no longer grow is an SMEM unless a longer
///   one still grows at that base or an SMEM with the same start was already
///   found. Among intervals that grow to the same size only the first (the
///   longest) is kept.
///
/// Once the forward match occurs only once (and `min_intv` is 1), the index
/// is not needed to grow it: where the index can read its text, the one
/// occurrence is located and the query compared with the text after it,
/// which gives the same rows and ends as extending base by base; only the
/// reverse-complement row `x[1]` is then unknown, and every match reported
/// with one occurrence carries [`SINGLE_X1`] there.
///
/// When the single base `query[x]` already occurs fewer than `min_intv`
/// times, bwa still reports one match starting at `x`: the longest whose
/// size equals that of `query[x]` (this happens in re-seeding only).
pub fn smem1<I: BiIndex + ?Sized>(
    index: &I,
    query: &[u8],
    x: usize,
    min_intv: u64,
    scratch: &mut SmemScratch,
    mem: &mut Vec<BiInterval>,
) -> usize {
    block_on(smem1_in(
        Ext::plain(index),
        query,
        x,
        min_intv,
        scratch,
        mem,
    ))
}

/// [`smem1`] as a search that may give way at each extension.
pub(crate) async fn smem1_in<I: BiIndex + ?Sized>(
    index: Ext<'_, I>,
    query: &[u8],
    x: usize,
    min_intv: u64,
    scratch: &mut SmemScratch,
    mem: &mut Vec<BiInterval>,
) -> usize {
    mem.clear();
    let len = query.len();
    debug_assert!(x < len);
    if query[x] > 3 {
        return x + 1;
    }
    let min_intv = min_intv.max(1);
    let SmemScratch { cands, next } = scratch;

    // Forward phase: `info` holds only the end of the match for now.
    cands.clear();
    let mut ik = index.init_interval(query[x]);
    ik.info = (x + 1) as u64;
    let mut i = x + 1;
    while i < len {
        let c = query[i];
        if c > 3 {
            cands.push(ik);
            break;
        }
        if ik.x[2] == 1 && min_intv == 1 {
            if let Some(n) = index.text_len() {
                // One occurrence left: it grows while the text after it
                // matches the query, and the interval stays the same but
                // for `x[1]`, which no one needs (see `single_x1`).
                let pos = index.locate(ik.x[0]).await + (i - x) as u64;
                index.prefetch_text(pos);
                index.give_way().await;
                // The match stops at the read's end, an N, the text's end
                // or the first base that differs.
                let matched = query[i..]
                    .iter()
                    .zip(pos..n)
                    .take_while(|&(&q, p)| q < 4 && index.text_base(p) == q)
                    .count();
                i += matched;
                ik.x[1] = SINGLE_X1;
                ik.info = i as u64;
                // What the extensions would do next: at the read end the
                // loop ends and `ik` is kept below; an N or a mismatch
                // (the text may also end) keeps `ik` and stops.
                if i < len {
                    cands.push(ik);
                }
                break;
            }
        }
        let ok = index.extend1(ik, false, 3 - c).await;
        if ok.x[2] != ik.x[2] {
            cands.push(ik);
            if ok.x[2] < min_intv {
                break;
            }
        }
        ik = ok;
        ik.info = (i + 1) as u64;
        i += 1;
    }
    if i == len {
        cands.push(ik);
    }
    // Longest match (smallest interval) first.
    cands.reverse();
    let ret = cands[0].info as usize;

    // Backward phase, at query positions x-1 down to -1 (the read start
    // acts like an N). The phase always ends at the latest at -1, where no
    // interval can grow.
    let mut i = x as isize - 1;
    loop {
        let c = if i >= 0 && query[i as usize] < 4 {
            Some(query[i as usize] as usize)
        } else {
            None
        };
        let start = (i + 1) as usize;
        next.clear();
        if c.is_some() {
            // The candidates' extensions are independent: start all their
            // loads at once, give way once while they arrive, then extend
            // them all (their intervals are nested, so most share blocks).
            for p in cands.iter() {
                index.prefetch(p, true);
            }
            index.give_way().await;
        }
        for p in cands.iter() {
            let grown = c
                .map(|c| index.extend1_now(p, true, c as u8))
                .filter(|ok| ok.x[2] >= min_intv);
            match grown {
                None => {
                    // An SMEM, unless a longer match still grows here or one
                    // with the same start was already reported.
                    if next.is_empty() && mem.last().is_none_or(|m| start < span_start(m)) {
                        let mut m = *p;
                        m.info |= (start as u64) << 32;
                        mem.push(single_x1(m));
                    }
                }
                Some(mut ok) => {
                    if next.last().is_none_or(|l| l.x[2] != ok.x[2]) {
                        ok.info = p.info;
                        next.push(ok);
                    }
                }
            }
        }
        if next.is_empty() {
            break;
        }
        std::mem::swap(cands, next);
        i -= 1;
    }
    mem.reverse();
    ret
}

/// The LAST-like seed starting at `x` (`bwt_seed_strategy1`): extend to the
/// right until the match is longer than `min_len` bases and occurs fewer
/// than `max_intv` times. Returns the position after the seed's last base
/// and the seed, whose size may be 0 (the caller drops it then); `None`
/// when an N (position after it returned) or the read end (`len` returned)
/// comes first.
pub fn seed_strategy1<I: BiIndex + ?Sized>(
    index: &I,
    query: &[u8],
    x: usize,
    min_len: i64,
    max_intv: u64,
) -> (usize, Option<BiInterval>) {
    block_on(seed_strategy1_in(
        Ext::plain(index),
        query,
        x,
        min_len,
        max_intv,
    ))
}

/// [`seed_strategy1`] as a search that may give way at each extension.
pub(crate) async fn seed_strategy1_in<I: BiIndex + ?Sized>(
    index: Ext<'_, I>,
    query: &[u8],
    x: usize,
    min_len: i64,
    max_intv: u64,
) -> (usize, Option<BiInterval>) {
    let len = query.len();
    debug_assert!(x < len);
    if query[x] > 3 {
        return (x + 1, None);
    }
    let mut ik = index.init_interval(query[x]);
    for (i, &c) in query.iter().enumerate().skip(x + 1) {
        if c > 3 {
            return (i + 1, None);
        }
        let mut ok = index.extend1(ik, false, 3 - c).await;
        if ok.x[2] < max_intv && (i - x) as i64 >= min_len {
            ok.info = pack_span(x, i + 1);
            return (i + 1, Some(single_x1(ok)));
        }
        ik = ok;
    }
    (len, None)
}
