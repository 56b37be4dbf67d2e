//! This machine's fp32 FMA peak, measured: the yardstick kernel benchmarks report their
//! fraction of (`ferrolite bench --peak`, the criterion benches).
//!
//! One thread runs [`CHAINS`] independent chains of fused multiply-adds on full vectors of
//! the widest ISA available, enough to cover FMA latency times throughput on current cores
//! (4-cycle latency x 2 pipes needs 8; 16 leaves headroom), so the loop is bound by FMA
//! throughput alone.

use std::time::{Duration, Instant};

use crate::{Isa, Simd, WithSimd};

/// Independent FMA chains.
pub const CHAINS: usize = 16;

/// A peak measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// The ISA measured.
    pub isa: Isa,
    /// f32 lanes per vector.
    pub lanes: usize,
    /// Best GFLOP/s over the repetitions (an FMA counts two flops).
    pub gflops: f64,
}

struct Chains {
    iters: usize,
}

impl WithSimd for Chains {
    type Output = f32;

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) -> f32 {
        let a = s.splat(0.999_999);
        let b = s.splat(1e-7);
        let mut acc = [s.splat(1.0); CHAINS];
        for _ in 0..self.iters {
            for v in acc.iter_mut() {
                *v = s.fma(*v, a, b);
            }
        }
        let mut sum = s.zero();
        for v in acc {
            sum = s.add(sum, v);
        }
        s.reduce_sum(sum)
    }
}

fn measure<S: Simd>(s: S, budget: Duration) -> Peak {
    let iters = 1 << 16;
    let flops = (iters * CHAINS * S::LANES * 2) as f64;
    let mut best = 0f64;
    let start = Instant::now();
    let mut sink = 0f32;
    while start.elapsed() < budget || best == 0.0 {
        let t = Instant::now();
        sink += s.vectorize(Chains { iters: std::hint::black_box(iters) });
        let secs = t.elapsed().as_secs_f64();
        if secs > 0.0 {
            best = best.max(flops / secs / 1e9);
        }
    }
    std::hint::black_box(sink);
    Peak { isa: S::ISA, lanes: S::LANES, gflops: best }
}

/// Measures one thread's fp32 FMA peak with the widest ISA this machine has, repeating for
/// about `budget` and keeping the best repetition.
pub fn fma_peak(budget: Duration) -> Peak {
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(s) = crate::Avx512f::new() {
            return measure(s, budget);
        }
        if let Some(s) = crate::Avx2::new() {
            return measure(s, budget);
        }
    }
    #[cfg(target_arch = "aarch64")]
    if let Some(s) = crate::Neon::new() {
        return measure(s, budget);
    }
    match crate::Scalar::new() {
        Some(s) => measure(s, budget),
        None => Peak { isa: Isa::Scalar, lanes: 1, gflops: 0.0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_something_plausible() {
        let p = fma_peak(Duration::from_millis(20));
        // A finite positive rate below 10 TFLOP/s on one thread (emulators such as
        // qemu-user run far below real hardware, so no lower bound beyond zero).
        assert!(p.gflops.is_finite() && p.gflops > 0.0 && p.gflops < 10_000.0, "{p:?}");
    }
}
