//! x86_64 implementations of [`Simd`]: AVX2 + FMA (8 lanes) and AVX-512F (16 lanes).

use std::arch::x86_64::*;

use crate::{Isa, Simd, WithSimd};

/// Runs intrinsics that need the token's CPU features.
macro_rules! feat {
    ($e:expr) => {
        // SAFETY: a token (`Avx2` / `Avx512f`) is only constructed by `Simd::new` after
        // run-time detection found the features these intrinsics need, so calling them is
        // sound; every memory access goes through a slice whose length was checked (or
        // through a mask that covers only checked elements) before the call.
        unsafe { $e }
    };
}

/// AVX2 + FMA token (8 f32 lanes).
#[derive(Debug, Clone, Copy)]
pub struct Avx2(());

impl Simd for Avx2 {
    const ISA: Isa = Isa::Avx2;
    const LANES: usize = 8;
    type F32 = __m256;

    #[inline(always)]
    fn new() -> Option<Self> {
        Isa::Avx2.available().then_some(Avx2(()))
    }
    #[inline(always)]
    fn vectorize<W: WithSimd>(self, work: W) -> W::Output {
        #[target_feature(enable = "avx,avx2,fma")]
        #[inline]
        fn compiled_for_avx2<W: WithSimd>(simd: Avx2, work: W) -> W::Output {
            work.with_simd(simd)
        }
        // SAFETY: an `Avx2` token exists only if run-time detection found AVX2 and FMA, the
        // features `compiled_for_avx2` is compiled with.
        unsafe { compiled_for_avx2(self, work) }
    }
    #[inline(always)]
    fn splat(self, x: f32) -> __m256 {
        feat!(_mm256_set1_ps(x))
    }
    #[inline(always)]
    fn zero(self) -> __m256 {
        feat!(_mm256_setzero_ps())
    }
    #[inline(always)]
    fn load(self, src: &[f32]) -> __m256 {
        let src = &src[..8];
        feat!(_mm256_loadu_ps(src.as_ptr()))
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32], v: __m256) {
        let dst = &mut dst[..8];
        feat!(_mm256_storeu_ps(dst.as_mut_ptr(), v))
    }
    #[inline(always)]
    fn load_partial(self, src: &[f32]) -> __m256 {
        let n = src.len().min(8);
        let mut buf = [0f32; 8];
        buf[..n].copy_from_slice(&src[..n]);
        self.load(&buf)
    }
    #[inline(always)]
    fn store_partial(self, dst: &mut [f32], v: __m256) {
        let n = dst.len().min(8);
        let mut buf = [0f32; 8];
        self.store(&mut buf, v);
        dst[..n].copy_from_slice(&buf[..n]);
    }
    #[inline(always)]
    fn add(self, a: __m256, b: __m256) -> __m256 {
        feat!(_mm256_add_ps(a, b))
    }
    #[inline(always)]
    fn sub(self, a: __m256, b: __m256) -> __m256 {
        feat!(_mm256_sub_ps(a, b))
    }
    #[inline(always)]
    fn mul(self, a: __m256, b: __m256) -> __m256 {
        feat!(_mm256_mul_ps(a, b))
    }
    #[inline(always)]
    fn div(self, a: __m256, b: __m256) -> __m256 {
        feat!(_mm256_div_ps(a, b))
    }
    #[inline(always)]
    fn max(self, a: __m256, b: __m256) -> __m256 {
        feat!(_mm256_max_ps(a, b))
    }
    #[inline(always)]
    fn min(self, a: __m256, b: __m256) -> __m256 {
        feat!(_mm256_min_ps(a, b))
    }
    #[inline(always)]
    fn fma(self, a: __m256, b: __m256, c: __m256) -> __m256 {
        feat!(_mm256_fmadd_ps(a, b, c))
    }
    #[inline(always)]
    fn abs(self, a: __m256) -> __m256 {
        feat!(_mm256_andnot_ps(_mm256_set1_ps(-0.0), a))
    }
    #[inline(always)]
    fn neg(self, a: __m256) -> __m256 {
        feat!(_mm256_xor_ps(_mm256_set1_ps(-0.0), a))
    }
    #[inline(always)]
    fn sqrt(self, a: __m256) -> __m256 {
        feat!(_mm256_sqrt_ps(a))
    }
    #[inline(always)]
    fn floor(self, a: __m256) -> __m256 {
        feat!(_mm256_floor_ps(a))
    }
    #[inline(always)]
    fn pow2i(self, n: __m256) -> __m256 {
        feat!(_mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
            _mm256_cvtps_epi32(n),
            _mm256_set1_epi32(127)
        ))))
    }
    #[inline(always)]
    fn reduce_sum(self, a: __m256) -> f32 {
        feat!({
            let s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps::<1>(a));
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_add_ss(s, _mm_movehdup_ps(s));
            _mm_cvtss_f32(s)
        })
    }
    #[inline(always)]
    fn reduce_max(self, a: __m256) -> f32 {
        feat!({
            let s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps::<1>(a));
            let s = _mm_max_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_max_ss(s, _mm_movehdup_ps(s));
            _mm_cvtss_f32(s)
        })
    }
}

/// AVX-512 Foundation token (16 f32 lanes).
#[derive(Debug, Clone, Copy)]
pub struct Avx512f(());

impl Simd for Avx512f {
    const ISA: Isa = Isa::Avx512f;
    const LANES: usize = 16;
    type F32 = __m512;

    #[inline(always)]
    fn new() -> Option<Self> {
        Isa::Avx512f.available().then_some(Avx512f(()))
    }
    #[inline(always)]
    fn vectorize<W: WithSimd>(self, work: W) -> W::Output {
        #[target_feature(enable = "avx512f,avx,avx2,fma")]
        #[inline]
        fn compiled_for_avx512f<W: WithSimd>(simd: Avx512f, work: W) -> W::Output {
            work.with_simd(simd)
        }
        // SAFETY: an `Avx512f` token exists only if run-time detection found AVX-512F, and
        // every CPU with AVX-512F has AVX2 and FMA; these are the features
        // `compiled_for_avx512f` is compiled with.
        unsafe { compiled_for_avx512f(self, work) }
    }
    #[inline(always)]
    fn splat(self, x: f32) -> __m512 {
        feat!(_mm512_set1_ps(x))
    }
    #[inline(always)]
    fn zero(self) -> __m512 {
        feat!(_mm512_setzero_ps())
    }
    #[inline(always)]
    fn load(self, src: &[f32]) -> __m512 {
        let src = &src[..16];
        feat!(_mm512_loadu_ps(src.as_ptr()))
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32], v: __m512) {
        let dst = &mut dst[..16];
        feat!(_mm512_storeu_ps(dst.as_mut_ptr(), v))
    }
    #[inline(always)]
    fn load_partial(self, src: &[f32]) -> __m512 {
        let n = src.len().min(16);
        let mask: __mmask16 = ((1u32 << n) - 1) as u16;
        // Masked-off lanes are not read, so only `src[..n]` is accessed.
        feat!(_mm512_maskz_loadu_ps(mask, src.as_ptr()))
    }
    #[inline(always)]
    fn store_partial(self, dst: &mut [f32], v: __m512) {
        let n = dst.len().min(16);
        let mask: __mmask16 = ((1u32 << n) - 1) as u16;
        // Masked-off lanes are not written, so only `dst[..n]` is accessed.
        feat!(_mm512_mask_storeu_ps(dst.as_mut_ptr(), mask, v))
    }
    #[inline(always)]
    fn add(self, a: __m512, b: __m512) -> __m512 {
        feat!(_mm512_add_ps(a, b))
    }
    #[inline(always)]
    fn sub(self, a: __m512, b: __m512) -> __m512 {
        feat!(_mm512_sub_ps(a, b))
    }
    #[inline(always)]
    fn mul(self, a: __m512, b: __m512) -> __m512 {
        feat!(_mm512_mul_ps(a, b))
    }
    #[inline(always)]
    fn div(self, a: __m512, b: __m512) -> __m512 {
        feat!(_mm512_div_ps(a, b))
    }
    #[inline(always)]
    fn max(self, a: __m512, b: __m512) -> __m512 {
        feat!(_mm512_max_ps(a, b))
    }
    #[inline(always)]
    fn min(self, a: __m512, b: __m512) -> __m512 {
        feat!(_mm512_min_ps(a, b))
    }
    #[inline(always)]
    fn fma(self, a: __m512, b: __m512, c: __m512) -> __m512 {
        feat!(_mm512_fmadd_ps(a, b, c))
    }
    #[inline(always)]
    fn abs(self, a: __m512) -> __m512 {
        feat!(_mm512_abs_ps(a))
    }
    #[inline(always)]
    fn neg(self, a: __m512) -> __m512 {
        feat!(_mm512_castsi512_ps(_mm512_xor_epi32(_mm512_castps_si512(a), _mm512_set1_epi32(i32::MIN))))
    }
    #[inline(always)]
    fn sqrt(self, a: __m512) -> __m512 {
        feat!(_mm512_sqrt_ps(a))
    }
    #[inline(always)]
    fn floor(self, a: __m512) -> __m512 {
        feat!(_mm512_roundscale_ps::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(a))
    }
    #[inline(always)]
    fn pow2i(self, n: __m512) -> __m512 {
        feat!(_mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_add_epi32(
            _mm512_cvtps_epi32(n),
            _mm512_set1_epi32(127)
        ))))
    }
    #[inline(always)]
    fn reduce_sum(self, a: __m512) -> f32 {
        feat!(_mm512_reduce_add_ps(a))
    }
    #[inline(always)]
    fn reduce_max(self, a: __m512) -> f32 {
        feat!(_mm512_reduce_max_ps(a))
    }
}
