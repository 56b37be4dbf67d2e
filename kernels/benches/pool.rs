//! What handing an operator's work-items to the threads costs: the session's pool
//! (`ferrolite_runtime::pool`) against rayon used the way the runtime used it before
//! (`install` plus a parallel iterator per operator), on 2 threads, for an empty job and for
//! jobs the size of mobilenet's smallest layers (a few to tens of microseconds).
//!
//!     cargo bench -p ferrolite-kernels --bench pool

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::Criterion;
use ferrolite_runtime::kernel::Parallel;
use ferrolite_runtime::pool::ThreadPool;
use rayon::prelude::*;

/// About `n` nanoseconds of integer work on one core.
fn spin_work(n: u64) -> u64 {
    let mut x = 1u64;
    for i in 0..n {
        x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
    x
}

fn main() {
    let mut c = Criterion::default().configure_from_args().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
    let ours = ThreadPool::new(2).expect("pool");
    let theirs = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("rayon");
    let sink = AtomicU64::new(0);
    // (items, work per item): an empty job, then the work of a 10-20 µs layer in 2 or 8 items.
    for (items, work) in [(2usize, 0u64), (2, 4000), (8, 1000)] {
        let mut g = c.benchmark_group(format!("pool/{items}x{work}"));
        g.bench_function("ferrolite", |b| {
            let par = Parallel::new(&ours);
            b.iter(|| par.for_each(items, |i| { sink.fetch_add(spin_work(work) + i as u64, Ordering::Relaxed); }))
        });
        g.bench_function("rayon", |b| {
            b.iter(|| theirs.install(|| (0..items).into_par_iter().for_each(|i| { sink.fetch_add(spin_work(work) + i as u64, Ordering::Relaxed); })))
        });
        g.bench_function("serial", |b| b.iter(|| (0..items).for_each(|i| { sink.fetch_add(spin_work(work) + i as u64, Ordering::Relaxed); })));
        g.finish();
    }
}
