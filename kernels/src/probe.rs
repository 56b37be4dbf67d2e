//! A first kernel to exercise the DSL.
use ferrolite_macros::{algorithm, dsl_fn, stage};
use ferrolite_targets::Simd;

/// `max(x, 0)` on a vector.
#[dsl_fn]
pub fn relu<V: Simd>(x: V::F32) -> V::F32 {
    V::max(x, V::zero())
}

/// `y = relu(a * x + b)` over blocks of `block` elements, one block per work-item.
#[stage]
pub fn axpb_relu<V: Simd, const U: usize>(gid: usize, y: &mut [f32], x: &[f32], block: usize, a: f32, b: f32) {
    let base = gid * block;
    let n = y.len();
    let va = V::splat(a);
    let vb = V::splat(b);
    let mut i = 0;
    for j in (0..n / V::LANES).step_by(1) {
        let off = j * V::LANES;
        let v = V::fma(va, V::load(&x[base + off..]), vb);
        V::store(&mut y[off..], relu(v));
        i = off + V::LANES;
    }
    if i < n {
        let v = V::fma(va, V::load_partial(&x[base + i..base + n]), vb);
        let r: V::F32 = relu(v);
        V::store_partial(&mut y[i..n], r);
    }
}

/// Relu as a DSL algorithm (a test of the algorithm macro).
#[algorithm(
    op = Unary,
    sig = crate::sig::ActivationSig,
    name = "probe",
    targets(scalar, avx2, avx512f, neon),
    priority = -100,
)]
pub mod probe_relu {
    use super::*;
    use ferrolite_dsl::ir::Activation;

    /// Elements per work-item.
    #[param(runtime, values = [1024, 4096])]
    const BLOCK: usize = 4096;

    /// Unroll (does nothing; exercises compile-time parameters).
    #[param(compile, values = [1, 2])]
    const U: usize = 1;

    /// Relu only.
    pub fn applies(s: &crate::sig::ActivationSig) -> bool {
        s.act == Activation::Relu
    }

    pub fn schedule(s: &crate::sig::ActivationSig, p: &Params) {
        let _ = s.len;
        launch!(axpb_relu::<U>, outs [y => p.BLOCK], ins [x], args [p.BLOCK, 1.0, 0.0]);
    }
}
