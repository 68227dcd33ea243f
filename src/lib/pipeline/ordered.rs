//! Ordered parallel tasks: the pipeline's one way of spreading a batch
//! over the rayon pool while handing results on in input order.

use crate::output::Chores;

/// [`ordered_tasks`] with the results collected in order.
pub(crate) fn ordered_collect<W, T, F>(n: usize, task: F) -> Vec<T>
where
    W: Default,
    T: Send,
    F: Fn(&mut W, usize) -> T + Sync,
{
    let mut out = Vec::with_capacity(n);
    ordered_tasks(n, task, |t| out.push(t));
    out
}

/// Runs `task(ws, k)` for every `k` in `0..n` on the current rayon pool
/// and hands each result to `put` in order of `k`, as soon as all before
/// it are done.
///
/// Every worker takes the next task in order of `k` and keeps one
/// workspace `W` for all it takes, so a slow task delays only the results
/// behind it, never a worker: there is no barrier short of the end, and
/// what waits for an earlier task is about one result per worker. The
/// results do not depend on the number of workers.
pub(crate) fn ordered_tasks<W, T, F, P>(n: usize, task: F, put: P)
where
    W: Default,
    T: Send,
    F: Fn(&mut W, usize) -> T + Sync,
    P: FnMut(T) + Send,
{
    ordered_tasks_with(n, task, put, None)
}

/// [`ordered_tasks`] whose workers also run the output's `chores` (BAM
/// compression) after each task, so that the output keeps pace with the
/// batch on the same threads.
pub(crate) fn ordered_tasks_with<W, T, F, P>(n: usize, task: F, put: P, chores: Option<&dyn Chores>)
where
    W: Default,
    T: Send,
    F: Fn(&mut W, usize) -> T + Sync,
    P: FnMut(T) + Send,
{
    struct Order<T, P> {
        next: usize,
        done: std::collections::BTreeMap<usize, T>,
        put: P,
    }
    let order = std::sync::Mutex::new(Order {
        next: 0,
        done: std::collections::BTreeMap::new(),
        put,
    });
    let taken = std::sync::atomic::AtomicUsize::new(0);
    let workers = rayon::current_num_threads().min(n);
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| {
                let mut ws = W::default();
                loop {
                    let k = taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if k >= n {
                        break;
                    }
                    let t = task(&mut ws, k);
                    let mut o = order
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    o.done.insert(k, t);
                    loop {
                        let next = o.next;
                        let Some(t) = o.done.remove(&next) else {
                            break;
                        };
                        (o.put)(t);
                        o.next += 1;
                    }
                    drop(o);
                    if let Some(chores) = chores {
                        chores.run();
                    }
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn ordered_tasks_hand_results_on_in_order_whatever_the_workers() {
        for threads in [1, 2, 5] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            let mut got = Vec::new();
            let used = AtomicUsize::new(0);
            pool.install(|| {
                ordered_tasks(
                    40,
                    |calls: &mut usize, k| {
                        // A fresh workspace per worker, kept across its tasks.
                        *calls += 1;
                        if *calls == 1 {
                            used.fetch_add(1, Ordering::SeqCst);
                        }
                        // Uneven task lengths, so later tasks finish first.
                        std::thread::sleep(std::time::Duration::from_micros(
                            ((k * 7) % 5) as u64 * 300,
                        ));
                        k * 10
                    },
                    |t| got.push(t),
                )
            });
            assert_eq!(got, (0..40).map(|k| k * 10).collect::<Vec<_>>());
            assert!(used.load(Ordering::SeqCst) <= threads);
        }
        let none: Vec<u8> = ordered_collect(0, |_: &mut (), _| 0);
        assert!(none.is_empty());
    }
}
