//! Epilogue helpers shared by the kernels: the fused activation, applied to a vector.

use ferrolite_macros::dsl_fn;
use ferrolite_targets::Simd;

/// Applies the activation with code `code` and parameters `a`, `b` (see [`crate::sig::Act`])
/// to every lane of `x`.
#[dsl_fn]
pub fn activate<V: Simd>(x: V::F32, code: i32, a: f32, b: f32) -> V::F32 {
    let mut r = x;
    if code == 1 {
        r = V::min(V::max(x, V::splat(a)), V::splat(b));
    } else if code == 2 {
        r = V::add(V::max(x, V::zero()), V::mul(V::splat(a), V::min(x, V::zero())));
    } else if code == 3 {
        r = V::sigmoid(x);
    } else if code == 4 {
        r = V::min(V::max(V::fma(V::splat(a), x, V::splat(b)), V::zero()), V::splat(1.0));
    } else if code == 5 {
        let t = V::min(V::max(V::fma(x, V::splat(0.16666667), V::splat(0.5)), V::zero()), V::splat(1.0));
        r = V::mul(x, t);
    } else if code == 6 {
        r = V::tanh(x);
    }
    r
}
