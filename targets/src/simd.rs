//! The `Simd` abstraction: the primitives kernels are written with, implemented once per
//! ISA.
//!
//! A value of an ISA type (`Scalar`, `Avx2`, `Avx512f`, `Neon`) is a *token*: it can only be
//! made by [`Simd::new`], which checks at run time that the CPU has the ISA. Every primitive
//! takes the token, so holding one is the proof that its intrinsics may be called. Kernels
//! are generic over `S: Simd`, written once; each ISA's copy is compiled inside a
//! `#[target_feature]` wrapper so the primitives (all `#[inline(always)]`) inline into it.

use crate::Isa;

/// The per-ISA f32 vector primitives.
///
/// Loads and stores take slices and read or write the first [`Simd::LANES`] elements; they
/// panic (a kernel bug, never an input problem) if the slice is shorter. The `_partial`
/// forms handle tails shorter than a vector.
pub trait Simd: Copy + Send + Sync + std::fmt::Debug + 'static {
    /// The ISA.
    const ISA: Isa;
    /// f32 lanes per vector.
    const LANES: usize;
    /// A vector of [`Simd::LANES`] f32.
    type F32: Copy + Send + Sync + std::fmt::Debug;

    /// The token, if this CPU supports the ISA.
    fn new() -> Option<Self>;

    /// Runs `work` compiled for this ISA: inside a `#[target_feature]` function, so that the
    /// `#[inline(always)]` primitives `work` calls inline into it as single instructions.
    fn vectorize<W: WithSimd>(self, work: W) -> W::Output;

    /// Every lane `x`.
    fn splat(self, x: f32) -> Self::F32;
    /// Every lane zero.
    fn zero(self) -> Self::F32 {
        self.splat(0.0)
    }
    /// Loads `src[..LANES]`.
    fn load(self, src: &[f32]) -> Self::F32;
    /// Stores into `dst[..LANES]`.
    fn store(self, dst: &mut [f32], v: Self::F32);
    /// Loads `min(src.len(), LANES)` elements; the other lanes are zero.
    fn load_partial(self, src: &[f32]) -> Self::F32;
    /// Stores the first `min(dst.len(), LANES)` lanes.
    fn store_partial(self, dst: &mut [f32], v: Self::F32);

    /// `a + b`.
    fn add(self, a: Self::F32, b: Self::F32) -> Self::F32;
    /// `a - b`.
    fn sub(self, a: Self::F32, b: Self::F32) -> Self::F32;
    /// `a * b`.
    fn mul(self, a: Self::F32, b: Self::F32) -> Self::F32;
    /// `a / b`.
    fn div(self, a: Self::F32, b: Self::F32) -> Self::F32;
    /// Lane-wise maximum (`b` when either is NaN, as `maxps` does).
    fn max(self, a: Self::F32, b: Self::F32) -> Self::F32;
    /// Lane-wise minimum.
    fn min(self, a: Self::F32, b: Self::F32) -> Self::F32;
    /// `a * b + c`, fused (one rounding) where the ISA has FMA.
    fn fma(self, a: Self::F32, b: Self::F32, c: Self::F32) -> Self::F32;
    /// `|a|`.
    fn abs(self, a: Self::F32) -> Self::F32;
    /// `-a`.
    fn neg(self, a: Self::F32) -> Self::F32;
    /// Square root.
    fn sqrt(self, a: Self::F32) -> Self::F32;
    /// Round toward negative infinity.
    fn floor(self, a: Self::F32) -> Self::F32;
    /// `2^n` for lanes holding integral values in `[-126, 127]`.
    fn pow2i(self, n: Self::F32) -> Self::F32;
    /// Sum of the lanes.
    fn reduce_sum(self, a: Self::F32) -> f32;
    /// Maximum of the lanes.
    fn reduce_max(self, a: Self::F32) -> f32;

    /// `e^x`, relative error below 2e-7 on `[-87, 88]`; saturates outside.
    #[inline(always)]
    fn exp(self, x: Self::F32) -> Self::F32 {
        // exp(x) = 2^n * exp(r), n = round(x / ln 2), |r| <= ln2 / 2 (Cody-Waite split of
        // ln 2 keeps r exact), exp(r) by a degree-6 Taylor polynomial in Horner form.
        let x = self.min(self.max(x, self.splat(-87.336_55)), self.splat(88.376_26));
        let n = self.floor(self.fma(x, self.splat(std::f32::consts::LOG2_E), self.splat(0.5)));
        let r = self.fma(n, self.splat(-0.693_145_75), x);
        let r = self.fma(n, self.splat(-1.428_606_8e-6), r);
        let mut p = self.splat(1.0 / 720.0);
        p = self.fma(p, r, self.splat(1.0 / 120.0));
        p = self.fma(p, r, self.splat(1.0 / 24.0));
        p = self.fma(p, r, self.splat(1.0 / 6.0));
        p = self.fma(p, r, self.splat(0.5));
        p = self.fma(p, r, self.splat(1.0));
        p = self.fma(p, r, self.splat(1.0));
        self.mul(p, self.pow2i(n))
    }

    /// `1 / (1 + e^-x)`.
    #[inline(always)]
    fn sigmoid(self, x: Self::F32) -> Self::F32 {
        let one = self.splat(1.0);
        self.div(one, self.add(one, self.exp(self.neg(x))))
    }

    /// Hyperbolic tangent, as `1 - 2 / (e^(2x) + 1)` (absolute error below 3e-7).
    #[inline(always)]
    fn tanh(self, x: Self::F32) -> Self::F32 {
        let one = self.splat(1.0);
        let e = self.exp(self.add(x, x));
        self.sub(one, self.div(self.splat(2.0), self.add(e, one)))
    }
}

/// Work generic over the ISA, handed to [`Simd::vectorize`]. Implement `with_simd` with
/// `#[inline(always)]` so it is compiled inside the ISA's `#[target_feature]` context.
pub trait WithSimd {
    /// What the work returns.
    type Output;
    /// Does the work with the token `simd`.
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output;
}

/// Portable one-lane implementation: the scalar variants, and the reference semantics of
/// every primitive.
#[derive(Debug, Clone, Copy)]
pub struct Scalar(());

impl Simd for Scalar {
    const ISA: Isa = Isa::Scalar;
    const LANES: usize = 1;
    type F32 = f32;

    #[inline(always)]
    fn new() -> Option<Self> {
        Some(Scalar(()))
    }
    #[inline(always)]
    fn vectorize<W: WithSimd>(self, work: W) -> W::Output {
        work.with_simd(self)
    }
    #[inline(always)]
    fn splat(self, x: f32) -> f32 {
        x
    }
    #[inline(always)]
    fn load(self, src: &[f32]) -> f32 {
        src[0]
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32], v: f32) {
        dst[0] = v;
    }
    #[inline(always)]
    fn load_partial(self, src: &[f32]) -> f32 {
        src.first().copied().unwrap_or(0.0)
    }
    #[inline(always)]
    fn store_partial(self, dst: &mut [f32], v: f32) {
        if let Some(d) = dst.first_mut() {
            *d = v;
        }
    }
    #[inline(always)]
    fn add(self, a: f32, b: f32) -> f32 {
        a + b
    }
    #[inline(always)]
    fn sub(self, a: f32, b: f32) -> f32 {
        a - b
    }
    #[inline(always)]
    fn mul(self, a: f32, b: f32) -> f32 {
        a * b
    }
    #[inline(always)]
    fn div(self, a: f32, b: f32) -> f32 {
        a / b
    }
    #[inline(always)]
    fn max(self, a: f32, b: f32) -> f32 {
        if a > b { a } else { b }
    }
    #[inline(always)]
    fn min(self, a: f32, b: f32) -> f32 {
        if a < b { a } else { b }
    }
    #[inline(always)]
    fn fma(self, a: f32, b: f32, c: f32) -> f32 {
        // Not `mul_add`: without hardware FMA it is a slow library call.
        a * b + c
    }
    #[inline(always)]
    fn abs(self, a: f32) -> f32 {
        a.abs()
    }
    #[inline(always)]
    fn neg(self, a: f32) -> f32 {
        -a
    }
    #[inline(always)]
    fn sqrt(self, a: f32) -> f32 {
        a.sqrt()
    }
    #[inline(always)]
    fn floor(self, a: f32) -> f32 {
        a.floor()
    }
    #[inline(always)]
    fn pow2i(self, n: f32) -> f32 {
        f32::from_bits(((n as i32 + 127) as u32) << 23)
    }
    #[inline(always)]
    fn reduce_sum(self, a: f32) -> f32 {
        a
    }
    #[inline(always)]
    fn reduce_max(self, a: f32) -> f32 {
        a
    }
}
