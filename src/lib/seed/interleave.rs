//! Running independent FM-index searches in turn, so that their cache
//! misses overlap.
//!
//! Almost all the time of a search goes to waiting for occurrence blocks,
//! and each extension needs the result of the one before, so one search
//! cannot go faster; but the passes of seeding are independent of each
//! other. The searches are written once, as `async fn`s that extend through
//! an [`Ext`]: an interleaved `Ext` prefetches what an extension reads and
//! gives way before extending, and [`run_both`] polls two searches in turn,
//! so that one's miss is in flight while the other computes. A plain `Ext`
//! never gives way, and [`block_on`] runs a single search to the end.
//! No executor, waker or allocation is involved: the futures live on the
//! stack and are polled until done.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use super::{BiIndex, BiInterval};

/// How a search reaches the index: see the module documentation.
pub(crate) struct Ext<'a, I: ?Sized> {
    index: &'a I,
    yields: bool,
}

impl<I: ?Sized> Clone for Ext<'_, I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I: ?Sized> Copy for Ext<'_, I> {}

impl<'a, I: BiIndex + ?Sized> Ext<'a, I> {
    /// Extensions that never give way.
    pub(crate) fn plain(index: &'a I) -> Self {
        Ext {
            index,
            yields: false,
        }
    }

    /// Extensions that prefetch, then give way once.
    pub(crate) fn interleaved(index: &'a I) -> Self {
        Ext {
            index,
            yields: true,
        }
    }

    /// [`BiIndex::init_interval`] (no memory access worth hiding).
    #[inline(always)]
    pub(crate) fn init_interval(&self, c: u8) -> BiInterval {
        self.index.init_interval(c)
    }

    /// [`BiIndex::prefetch_extend`] when interleaved.
    #[inline(always)]
    pub(crate) fn prefetch(&self, ik: &BiInterval, is_back: bool) {
        if self.yields {
            self.index.prefetch_extend(ik, is_back);
        }
    }

    /// Gives way once when interleaved (after prefetching what is next).
    #[inline(always)]
    pub(crate) fn give_way(&self) -> GiveWay {
        // A plain search's give-way is ready at once.
        GiveWay(!self.yields)
    }

    /// [`BiIndex::text_len`].
    #[inline(always)]
    pub(crate) fn text_len(&self) -> Option<u64> {
        self.index.text_len()
    }

    /// [`BiIndex::text_base`].
    #[inline(always)]
    pub(crate) fn text_base(&self, pos: u64) -> u8 {
        self.index.text_base(pos)
    }

    /// [`BiIndex::prefetch_text`] when interleaved.
    #[inline(always)]
    pub(crate) fn prefetch_text(&self, pos: u64) {
        if self.yields {
            self.index.prefetch_text(pos);
        }
    }

    /// Where the suffix of `row` starts in the text: [`BiIndex::locate_step`]
    /// until it answers, giving way before each step when interleaved.
    pub(crate) async fn locate(&self, row: u64) -> u64 {
        let (mut k, mut steps) = (row, 0);
        loop {
            if self.yields {
                self.index.prefetch_locate(k);
                GiveWay(false).await;
            }
            match self.index.locate_step(k) {
                Ok(pos) => return pos + steps,
                Err(next) => {
                    k = next;
                    steps += 1;
                }
            }
        }
    }

    /// [`BiIndex::extend1`] at once, for blocks already asked for.
    #[inline(always)]
    pub(crate) fn extend1_now(&self, ik: &BiInterval, is_back: bool, c: u8) -> BiInterval {
        self.index.extend1(ik, is_back, c)
    }

    /// [`BiIndex::extend1`], giving way first when interleaved.
    ///
    /// A hand-written future rather than an `async fn`: its `poll` inlines
    /// into the search's, where the nested state machine of an `async fn`
    /// stayed a call per extension.
    #[inline(always)]
    pub(crate) fn extend1(&self, ik: BiInterval, is_back: bool, c: u8) -> Extend1<'a, I> {
        Extend1 {
            ext: *self,
            ik,
            is_back,
            c,
            waited: false,
        }
    }
}

/// The future of [`Ext::extend1`]: when interleaved, the first poll
/// prefetches and is pending; the next one extends.
pub(crate) struct Extend1<'a, I: ?Sized> {
    ext: Ext<'a, I>,
    ik: BiInterval,
    is_back: bool,
    c: u8,
    waited: bool,
}

impl<I: BiIndex + ?Sized> Future for Extend1<'_, I> {
    type Output = BiInterval;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<BiInterval> {
        let this = &mut *self;
        if this.ext.yields && !this.waited {
            this.ext.index.prefetch_extend(&this.ik, this.is_back);
            this.waited = true;
            return Poll::Pending;
        }
        Poll::Ready(this.ext.index.extend1(&this.ik, this.is_back, this.c))
    }
}

/// Pending on the first poll, ready on the second. It wakes nobody: only
/// the pollers of this module, which poll until done, may await it.
pub(crate) struct GiveWay(bool);

impl Future for GiveWay {
    type Output = ();

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

/// A waker that does nothing (nothing here waits on events).
fn noop_waker() -> Waker {
    fn noop(_: *const ()) {}
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: the vtable's functions ignore the data pointer and do nothing,
    // which satisfies the `RawWaker` contract trivially.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

/// Polls `fut` until it is done.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Polls `a` and `b` in turn until both are done.
pub(crate) fn run_both(a: impl Future<Output = ()>, b: impl Future<Output = ()>) {
    block_on(join(a, b));
}

/// A future of `a` and `b` together: each poll polls both (until done), so
/// that searches nested in joins still take turns at every give-way.
pub(crate) async fn join(a: impl Future<Output = ()>, b: impl Future<Output = ()>) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut a_done, mut b_done) = (false, false);
    std::future::poll_fn(|cx| {
        if !a_done {
            a_done = a.as_mut().poll(cx).is_ready();
        }
        if !b_done {
            b_done = b.as_mut().poll(cx).is_ready();
        }
        if a_done && b_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// An index that logs the `x[2]` of each interval it extends.
    #[derive(Default)]
    struct Log(RefCell<Vec<u64>>, RefCell<Vec<u64>>);

    impl BiIndex for Log {
        fn init_interval(&self, _c: u8) -> BiInterval {
            BiInterval::default()
        }
        fn extend(&self, ik: &BiInterval, _is_back: bool) -> [BiInterval; 4] {
            self.0.borrow_mut().push(ik.x[2]);
            [*ik; 4]
        }
        fn prefetch_extend(&self, ik: &BiInterval, _is_back: bool) {
            self.1.borrow_mut().push(ik.x[2]);
        }
    }

    async fn search(ext: Ext<'_, Log>, tag: u64, n: usize) -> u64 {
        let mut sum = 0;
        for _ in 0..n {
            let ik = BiInterval {
                x: [0, 0, tag],
                info: 0,
            };
            sum += ext.extend1(ik, false, 0).await.x[2];
        }
        sum
    }

    #[test]
    fn interleaved_searches_alternate_and_finish() {
        let log = Log::default();
        let ext = Ext::interleaved(&log);
        let (mut a, mut b) = (0, 0);
        run_both(async { a = search(ext, 1, 3).await }, async {
            b = search(ext, 2, 5).await
        });
        assert_eq!((a, b), (3, 10));
        // Each extension was prefetched first, and the two searches took
        // turns while both were running.
        assert_eq!(*log.0.borrow(), [1, 2, 1, 2, 1, 2, 2, 2]);
        assert_eq!(*log.1.borrow(), [1, 2, 1, 2, 1, 2, 2, 2]);
    }

    #[test]
    fn plain_search_neither_prefetches_nor_waits() {
        let log = Log::default();
        assert_eq!(block_on(search(Ext::plain(&log), 4, 2)), 8);
        assert_eq!(*log.0.borrow(), [4, 4]);
        assert!(log.1.borrow().is_empty());
    }
}
