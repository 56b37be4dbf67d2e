//! # Ferrolite targets
//!
//! What Ferrolite knows about the machines it runs on:
//! - [`Isa`]: the instruction sets kernel variants are compiled for, detected at run time;
//! - [`Simd`]: the per-ISA f32 vector primitives (load, store, splat, fma, max, exp, ...)
//!   that kernels are written with, implemented once per ISA here. This is the only crate
//!   where `core::arch` intrinsics appear;
//! - [`opencl`] (feature `opencl`, on by default): OpenCL device discovery and a host
//!   backend that compiles OpenCL C, manages buffers and launches kernels;
//! - [`device`]: the device fingerprint tuning profiles record and are matched on;
//! - [`peak`]: this machine's fp32 FMA peak, measured, the yardstick of kernel benchmarks.
#![warn(missing_docs)]

pub mod device;
mod isa;
pub mod peak;
#[cfg(feature = "opencl")]
pub mod opencl;
mod simd;

#[cfg(target_arch = "aarch64")]
mod arm;
#[cfg(target_arch = "x86_64")]
mod x86;

#[cfg(target_arch = "aarch64")]
pub use arm::Neon;
pub use isa::Isa;
pub use simd::{Scalar, Simd, WithSimd};
#[cfg(target_arch = "x86_64")]
pub use x86::{Avx2, Avx512f};

/// ISAs the environment variable `FERROLITE_EXPECT_ISAS` (comma-separated names) says this
/// machine must have. Tests use it so that a missing feature on a machine that should have
/// it fails instead of skipping silently.
pub fn expected_isas() -> Result<Vec<Isa>, String> {
    match std::env::var("FERROLITE_EXPECT_ISAS") {
        Err(_) => Ok(Vec::new()),
        Ok(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|n| Isa::from_name(n).ok_or_else(|| format!("FERROLITE_EXPECT_ISAS: unknown ISA {n:?}")))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u32) -> Vec<f32> {
        // A small LCG keeps the crate free of dependencies.
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1664525).wrapping_add(1013904223);
                (s >> 8) as f32 / (1u32 << 24) as f32 * 8.0 - 4.0
            })
            .collect()
    }

    fn close(a: f32, b: f32, rel: f32) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-30) || (a - b).abs() < 1e-30
    }

    /// Every primitive of `S` against plain Rust on random data.
    fn check<S: Simd>(s: S) {
        let l = S::LANES;
        let a = data(l, 1);
        let b = data(l, 2);
        let c = data(l, 3);
        let va = s.load(&a);
        let vb = s.load(&b);
        let vc = s.load(&c);
        let out = |v: S::F32| {
            let mut o = vec![0.0; l];
            s.store(&mut o, v);
            o
        };
        let lane = |v: S::F32, f: &dyn Fn(usize) -> f32, rel: f32, what: &str| {
            let o = out(v);
            for i in 0..l {
                assert!(close(o[i], f(i), rel), "{:?} {what} lane {i}: {} vs {}", S::ISA, o[i], f(i));
            }
        };
        lane(s.add(va, vb), &|i| a[i] + b[i], 0.0, "add");
        lane(s.sub(va, vb), &|i| a[i] - b[i], 0.0, "sub");
        lane(s.mul(va, vb), &|i| a[i] * b[i], 0.0, "mul");
        lane(s.div(va, vb), &|i| a[i] / b[i], 1e-7, "div");
        lane(s.max(va, vb), &|i| a[i].max(b[i]), 0.0, "max");
        lane(s.min(va, vb), &|i| a[i].min(b[i]), 0.0, "min");
        lane(s.fma(va, vb, vc), &|i| a[i].mul_add(b[i], c[i]), 2e-7, "fma");
        lane(s.abs(va), &|i| a[i].abs(), 0.0, "abs");
        lane(s.neg(va), &|i| -a[i], 0.0, "neg");
        lane(s.sqrt(s.abs(va)), &|i| a[i].abs().sqrt(), 1e-7, "sqrt");
        lane(s.floor(va), &|i| a[i].floor(), 0.0, "floor");
        lane(s.splat(1.5), &|_| 1.5, 0.0, "splat");
        lane(s.zero(), &|_| 0.0, 0.0, "zero");
        lane(s.pow2i(s.floor(s.mul(va, s.splat(8.0)))), &|i| 2f32.powi((a[i] * 8.0).floor() as i32), 0.0, "pow2i");
        lane(s.exp(s.mul(va, s.splat(5.0))), &|i| ((a[i] * 5.0) as f64).exp() as f32, 3e-7, "exp");
        lane(s.sigmoid(va), &|i| 1.0 / (1.0 + (-(a[i] as f64)).exp()) as f32, 5e-7, "sigmoid");
        let t = out(s.tanh(va));
        for i in 0..l {
            assert!((t[i] - a[i].tanh()).abs() < 5e-7, "{:?} tanh lane {i}", S::ISA);
        }
        assert!(close(s.reduce_sum(va), a.iter().sum(), 1e-6));
        assert_eq!(s.reduce_max(va), a.iter().copied().fold(f32::MIN, f32::max));
        // Extremes saturate instead of overflowing.
        let big = out(s.exp(s.splat(1000.0)));
        assert!(big[0].is_finite() && big[0] > 1e38);
        assert_eq!(out(s.exp(s.splat(-1000.0)))[0] < 1e-37, true);
        // Partial loads and stores touch only the given elements.
        for n in 0..=l {
            let v = s.load_partial(&a[..n]);
            let o = out(v);
            for i in 0..l {
                assert_eq!(o[i], if i < n { a[i] } else { 0.0 });
            }
            let mut d = vec![9.0; l + 1];
            s.store_partial(&mut d[..n], vb);
            for i in 0..=l {
                assert_eq!(d[i], if i < n { b[i] } else { 9.0 });
            }
        }
    }

    #[test]
    fn scalar_primitives() {
        check(Scalar::new().unwrap());
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x86_primitives() {
        let expected = expected_isas().unwrap();
        match Avx2::new() {
            Some(s) => check(s),
            None => assert!(!expected.contains(&Isa::Avx2), "AVX2 expected but not detected"),
        }
        match Avx512f::new() {
            Some(s) => check(s),
            None => assert!(!expected.contains(&Isa::Avx512f), "AVX-512F expected but not detected"),
        }
    }

    #[cfg(target_arch = "aarch64")]
    #[test]
    fn neon_primitives() {
        check(Neon::new().expect("aarch64 always has NEON"));
    }
}
