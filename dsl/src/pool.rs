//! The thread pool sessions run kernels on: a few workers that spin briefly between jobs,
//! so that handing an operator's work-items to them costs about a microsecond instead of a
//! wake-up through the OS.
//!
//! A network runs dozens to hundreds of operators per inference, each split into
//! work-items over the threads; mobilenet's smallest layers take 10-20 µs. A general
//! work-stealing pool (rayon) parks idle workers and wakes them per parallel call, and its
//! adaptive splitting adds hand-offs of its own; `kernels/benches/pool.rs` measures both.
//!
//! One job at a time: [`ThreadPool::run`] publishes `n` items and a function, the calling
//! thread takes items itself, and workers that are awake join in; each item index is claimed
//! once through an atomic counter. The caller closes the job once every item is claimed and
//! waits only for the workers that joined, so a worker that is asleep or late never delays
//! a run. Workers spin for [`SPIN`] checks after each job, then sleep on a condition
//! variable until the next job.
//!
//! The spin loops do not execute `pause` (`std::hint::spin_loop`): under KVM, a vCPU that
//! pauses in a loop triggers pause-loop exiting and is descheduled as if it waited for a
//! preempted lock holder. On the 2-vCPU machines Ferrolite is measured on, that made
//! mobilenet_v2 at 2 threads take 8.9-9.4 ms instead of 4.6 ms.

use std::cell::{Cell, UnsafeCell};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// Checks of the job word a worker makes before it goes to sleep (about 100 µs).
pub const SPIN: u32 = 1 << 16;

/// Bit of the job word: the current job accepts workers.
const OPEN: u64 = 1 << 31;
/// Bits of the job word counting the workers inside the current job.
const JOINED: u64 = OPEN - 1;

/// The function of the current job, lifetime erased (see [`ThreadPool::run`]).
type JobFn = *const (dyn Fn(usize) + Sync);

/// A value alone on its own cache lines (128 bytes: adjacent-line prefetchers pair lines),
/// so that threads polling it do not slow down writes to its neighbours, and the reverse.
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// What the caller and the workers share.
struct Shared {
    /// `epoch << 32 | OPEN? | joined workers`: the job protocol's one synchronizing word,
    /// polled by idle workers.
    state: Padded<AtomicU64>,
    /// Next unclaimed item of the current job, written by every thread taking items.
    next: Padded<AtomicUsize>,
    /// Items of the current job.
    items: AtomicUsize,
    /// The current job's function; written only while no worker is inside a job.
    job: UnsafeCell<Option<JobFn>>,
    /// A panic caught in a worker during the current job.
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
    /// Workers asleep (or about to be).
    sleepers: AtomicUsize,
    sleep_lock: Mutex<()>,
    wake: Condvar,
    shutdown: AtomicBool,
}

// SAFETY: every field but `job` is a thread-safe type. `job` is written only by the thread
// that owns the job (inside `ThreadPool::run`, which takes `&self` but holds the `running`
// mutex for the whole job) while the job word
// says no worker is inside a job, and read by a worker only after it joined the current job
// (a successful compare-exchange on `state` with acquire ordering, which happens after the
// release store that published the job). So no read ever races a write.
unsafe impl Sync for Shared {}
// SAFETY: the raw pointer in `job` is only dereferenced under the protocol above; moving
// `Shared` between threads does not touch it.
unsafe impl Send for Shared {}

thread_local! {
    /// Set while this thread runs items of a pool job: a nested parallel call runs serially
    /// instead of publishing a second job while the first is open.
    static IN_JOB: Cell<bool> = const { Cell::new(false) };
}

/// A fixed set of worker threads (see the module documentation).
pub struct ThreadPool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    /// Serializes jobs from several threads sharing one pool.
    running: Mutex<()>,
}

impl std::fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadPool").field("threads", &self.threads()).finish()
    }
}

impl ThreadPool {
    /// A pool running jobs on `threads` threads: the caller of [`ThreadPool::run`] and
    /// `threads - 1` workers started here.
    pub fn new(threads: usize) -> std::io::Result<ThreadPool> {
        let shared = Arc::new(Shared {
            state: Padded(AtomicU64::new(0)),
            next: Padded(AtomicUsize::new(0)),
            items: AtomicUsize::new(0),
            job: UnsafeCell::new(None),
            panic: Mutex::new(None),
            sleepers: AtomicUsize::new(0),
            sleep_lock: Mutex::new(()),
            wake: Condvar::new(),
            shutdown: AtomicBool::new(false),
        });
        let mut workers = Vec::new();
        for i in 1..threads.max(1) {
            let s = shared.clone();
            let handle = std::thread::Builder::new().name(format!("ferrolite-{i}")).spawn(move || worker(&s));
            match handle {
                Ok(h) => workers.push(h),
                Err(e) => {
                    let pool = ThreadPool { shared, workers, running: Mutex::new(()) };
                    drop(pool);
                    return Err(e);
                }
            }
        }
        Ok(ThreadPool { shared, workers, running: Mutex::new(()) })
    }

    /// Threads a job runs on (the caller included).
    pub fn threads(&self) -> usize {
        self.workers.len() + 1
    }

    /// Calls `f(i)` once for every `i` in `0..n`, on the calling thread and the workers;
    /// returns when every call has returned. A panic in `f` is re-raised here.
    pub fn run(&self, n: usize, f: &(dyn Fn(usize) + Sync)) {
        if n == 0 {
            return;
        }
        if n == 1 || self.workers.is_empty() || IN_JOB.with(Cell::get) {
            (0..n).for_each(f);
            return;
        }
        let _one_job = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let s = &*self.shared;
        // SAFETY: the lifetime of `f` is erased to store it in the job slot. It stays valid
        // for as long as any thread can call it: workers call it only after joining the job,
        // and this function returns only after closing the job and seeing every joined
        // worker leave, so no call outlives the borrow of `f`.
        let erased: JobFn = unsafe { std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), JobFn>(f) };
        // SAFETY: no worker is inside a job (the previous `run` waited for all to leave, and
        // a closed job admits none), so nothing reads the slot while it is written.
        unsafe { *s.job.get() = Some(erased) };
        s.items.store(n, Ordering::Relaxed);
        s.next.store(0, Ordering::Relaxed);
        let epoch = (s.state.load(Ordering::Relaxed) >> 32).wrapping_add(1);
        // SeqCst: ordered before the load of `sleepers` below (see `worker`'s sleep check).
        s.state.store((epoch << 32) | OPEN, Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = s.sleep_lock.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_all();
        }
        let caught = catch_unwind(AssertUnwindSafe(|| take_items(s, f)));
        // Close the job: no worker joins after this; wait for those inside to leave.
        s.state.fetch_and(!OPEN, Ordering::AcqRel);
        let mut spins = 0u32;
        while s.state.load(Ordering::Acquire) & JOINED != 0 {
            spins = spins.saturating_add(1);
            if spins < 1 << 16 {
                continue;
            } else {
                std::thread::yield_now();
            }
        }
        // SAFETY: the job is closed and no worker is inside it (checked just above), so no
        // thread reads the slot.
        unsafe { *s.job.get() = None };
        let worker_panic = s.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Err(p) = caught {
            resume_unwind(p);
        }
        if let Some(p) = worker_panic {
            resume_unwind(p);
        }
    }
}

/// Claims and runs items of the current job until none is left.
fn take_items(s: &Shared, f: &(dyn Fn(usize) + Sync)) {
    let n = s.items.load(Ordering::Relaxed);
    IN_JOB.with(|j| j.set(true));
    loop {
        let i = s.next.fetch_add(1, Ordering::Relaxed);
        if i >= n {
            break;
        }
        f(i);
    }
    IN_JOB.with(|j| j.set(false));
}

fn worker(s: &Shared) {
    let mut seen = 0u64;
    loop {
        // Wait for a job newer than the last one seen: spin, then sleep.
        let mut spins = 0u32;
        let state = loop {
            let st = s.state.load(Ordering::Acquire);
            if st >> 32 != seen && st & OPEN != 0 {
                break st;
            }
            if s.shutdown.load(Ordering::Acquire) {
                return;
            }
            spins += 1;
            if spins < SPIN {
                continue;
            }
            let guard = s.sleep_lock.lock().unwrap_or_else(|e| e.into_inner());
            s.sleepers.fetch_add(1, Ordering::SeqCst);
            let st = s.state.load(Ordering::SeqCst);
            let job_waiting = st >> 32 != seen && st & OPEN != 0;
            if !job_waiting && !s.shutdown.load(Ordering::SeqCst) {
                drop(s.wake.wait(guard).unwrap_or_else(|e| e.into_inner()));
            }
            s.sleepers.fetch_sub(1, Ordering::SeqCst);
            spins = 0;
        };
        seen = state >> 32;
        // Join, unless the caller closed the job (or published another) meanwhile.
        let mut st = state;
        let joined = loop {
            if st >> 32 != seen || st & OPEN == 0 {
                break false;
            }
            match s.state.compare_exchange_weak(st, st + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break true,
                Err(now) => st = now,
            }
        };
        if !joined {
            continue;
        }
        // SAFETY: this worker joined the open job (acquire on `state`, after the caller's
        // release store that followed writing the slot), and the caller neither rewrites
        // the slot nor returns (ending the borrow behind the pointer) until every joined
        // worker has left below.
        let job = unsafe { *s.job.get() };
        if let Some(f) = job {
            // SAFETY: see above: the pointee outlives this call.
            let f: &(dyn Fn(usize) + Sync) = unsafe { &*f };
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| take_items(s, f))) {
                IN_JOB.with(|j| j.set(false));
                *s.panic.lock().unwrap_or_else(|e| e.into_inner()) = Some(p);
            }
        }
        s.state.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        {
            let _guard = self.shared.sleep_lock.lock().unwrap_or_else(|e| e.into_inner());
            self.shared.wake.notify_all();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_runs_once() {
        for threads in [1, 2, 3, 8] {
            let pool = ThreadPool::new(threads).unwrap();
            for n in [0, 1, 2, 7, 1000] {
                let counts: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
                pool.run(n, &|i| {
                    counts[i].fetch_add(1, Ordering::Relaxed);
                });
                assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1), "threads {threads}, n {n}");
            }
        }
    }

    #[test]
    fn many_small_jobs_and_sleeping_workers() {
        let pool = ThreadPool::new(2).unwrap();
        let total = AtomicUsize::new(0);
        for round in 0..20_000 {
            pool.run(3, &|i| {
                total.fetch_add(i + 1, Ordering::Relaxed);
            });
            if round % 5000 == 0 {
                // Long enough for the worker to go to sleep.
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        assert_eq!(total.load(Ordering::Relaxed), 20_000 * 6);
    }

    #[test]
    fn nested_calls_run_serially() {
        let pool = ThreadPool::new(2).unwrap();
        let total = AtomicUsize::new(0);
        pool.run(4, &|_| {
            pool.run(5, &|_| {
                total.fetch_add(1, Ordering::Relaxed);
            });
        });
        assert_eq!(total.load(Ordering::Relaxed), 20);
    }

    #[test]
    fn a_panic_reaches_the_caller_and_the_pool_goes_on() {
        let pool = ThreadPool::new(2).unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| {
            pool.run(64, &|i| {
                if i == 40 {
                    panic!("item 40");
                }
            })
        }));
        assert!(r.is_err());
        let total = AtomicUsize::new(0);
        pool.run(10, &|_| {
            total.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(total.load(Ordering::Relaxed), 10);
    }

    #[test]
    fn several_threads_share_one_pool() {
        let pool = Arc::new(ThreadPool::new(2).unwrap());
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    let total = AtomicUsize::new(0);
                    for _ in 0..2000 {
                        pool.run(4, &|_| {
                            total.fetch_add(1, Ordering::Relaxed);
                        });
                    }
                    total.load(Ordering::Relaxed)
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 8000);
        }
    }
}
