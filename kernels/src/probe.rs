//! The smallest DSL example: a helper and one stage, launched directly (see
//! `kernels/tests/probe.rs`). The element-wise activation operator itself is
//! [`crate::eltwise::activation`].
use ferrolite_macros::{dsl_fn, stage};
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
