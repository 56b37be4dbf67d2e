//! aarch64 implementation of [`Simd`]: Advanced SIMD (NEON, 4 lanes).

use std::arch::aarch64::*;

use crate::{Isa, Simd, WithSimd};

/// Runs intrinsics that need the token's CPU features.
macro_rules! feat {
    ($e:expr) => {
        // SAFETY: a `Neon` token is only constructed by `Simd::new` after run-time
        // detection found NEON, so calling these intrinsics is sound; every memory access
        // goes through a slice whose length was checked before the call.
        unsafe { $e }
    };
}

/// NEON token (4 f32 lanes).
#[derive(Debug, Clone, Copy)]
pub struct Neon(());

impl Simd for Neon {
    const ISA: Isa = Isa::Neon;
    const LANES: usize = 4;
    type F32 = float32x4_t;

    #[inline(always)]
    fn new() -> Option<Self> {
        Isa::Neon.available().then_some(Neon(()))
    }
    #[inline(always)]
    fn vectorize<W: WithSimd>(self, work: W) -> W::Output {
        #[target_feature(enable = "neon")]
        #[inline]
        fn compiled_for_neon<W: WithSimd>(simd: Neon, work: W) -> W::Output {
            work.with_simd(simd)
        }
        // SAFETY: a `Neon` token exists only if run-time detection found NEON, the feature
        // `compiled_for_neon` is compiled with.
        unsafe { compiled_for_neon(self, work) }
    }
    #[inline(always)]
    fn splat(self, x: f32) -> float32x4_t {
        feat!(vdupq_n_f32(x))
    }
    #[inline(always)]
    fn load(self, src: &[f32]) -> float32x4_t {
        let src = &src[..4];
        feat!(vld1q_f32(src.as_ptr()))
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32], v: float32x4_t) {
        let dst = &mut dst[..4];
        feat!(vst1q_f32(dst.as_mut_ptr(), v))
    }
    #[inline(always)]
    fn load_partial(self, src: &[f32]) -> float32x4_t {
        let n = src.len().min(4);
        let mut buf = [0f32; 4];
        buf[..n].copy_from_slice(&src[..n]);
        self.load(&buf)
    }
    #[inline(always)]
    fn store_partial(self, dst: &mut [f32], v: float32x4_t) {
        let n = dst.len().min(4);
        let mut buf = [0f32; 4];
        self.store(&mut buf, v);
        dst[..n].copy_from_slice(&buf[..n]);
    }
    #[inline(always)]
    fn add(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        feat!(vaddq_f32(a, b))
    }
    #[inline(always)]
    fn sub(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        feat!(vsubq_f32(a, b))
    }
    #[inline(always)]
    fn mul(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        feat!(vmulq_f32(a, b))
    }
    #[inline(always)]
    fn div(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        feat!(vdivq_f32(a, b))
    }
    #[inline(always)]
    fn max(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        feat!(vmaxq_f32(a, b))
    }
    #[inline(always)]
    fn min(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        feat!(vminq_f32(a, b))
    }
    #[inline(always)]
    fn fma(self, a: float32x4_t, b: float32x4_t, c: float32x4_t) -> float32x4_t {
        feat!(vfmaq_f32(c, a, b))
    }
    #[inline(always)]
    fn abs(self, a: float32x4_t) -> float32x4_t {
        feat!(vabsq_f32(a))
    }
    #[inline(always)]
    fn neg(self, a: float32x4_t) -> float32x4_t {
        feat!(vnegq_f32(a))
    }
    #[inline(always)]
    fn sqrt(self, a: float32x4_t) -> float32x4_t {
        feat!(vsqrtq_f32(a))
    }
    #[inline(always)]
    fn floor(self, a: float32x4_t) -> float32x4_t {
        feat!(vrndmq_f32(a))
    }
    #[inline(always)]
    fn pow2i(self, n: float32x4_t) -> float32x4_t {
        feat!(vreinterpretq_f32_s32(vshlq_n_s32::<23>(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)))))
    }
    #[inline(always)]
    fn reduce_sum(self, a: float32x4_t) -> f32 {
        feat!(vaddvq_f32(a))
    }
    #[inline(always)]
    fn reduce_max(self, a: float32x4_t) -> f32 {
        feat!(vmaxvq_f32(a))
    }
}
