//! Softmax along the last axis, f32: per row the maximum is subtracted before `exp` (no
//! overflow for large inputs), the exponentials are written once and scaled by the sum.
//! Other axes are left to the reference operator.

use ferrolite_macros::{algorithm, stage};
use ferrolite_targets::Simd;

use crate::sig::SoftmaxSig;

/// Elements of output per work-item, at least one row.
pub const BLOCK: usize = 16 * 1024;

/// `rows` rows of `len` elements per work-item.
#[stage]
pub fn softmax_rows<V: Simd>(gid: usize, y: &mut [f32], x: &[f32], len: usize, rows: usize) {
    let first = gid * rows * len;
    let full = len / V::LANES;
    let tail = full * V::LANES;
    for r in 0..y.len() / len {
        let o = r * len;
        let src = first + o;
        // Maximum (vector part, then the tail one by one: zero-padded lanes must not count).
        let mut vm = V::splat(f32::NEG_INFINITY);
        for j in 0..full {
            vm = V::max(V::load(&x[src + j * V::LANES..]), vm);
        }
        let mut m = V::reduce_max(vm);
        for i in tail..len {
            m = m.max(x[src + i]);
        }
        // Exponentials and their sum.
        let vmax = V::splat(m);
        let mut vs = V::zero();
        for j in 0..full {
            let e = V::exp(V::sub(V::load(&x[src + j * V::LANES..]), vmax));
            V::store(&mut y[o + j * V::LANES..], e);
            vs = V::add(vs, e);
        }
        let mut s = V::reduce_sum(vs);
        for i in tail..len {
            let e = (x[src + i] - m).exp();
            y[o + i] = e;
            s += e;
        }
        // Scale.
        let vsum = V::splat(s);
        for j in 0..full {
            let k = o + j * V::LANES;
            let q = V::div(V::load(&y[k..]), vsum);
            V::store(&mut y[k..], q);
        }
        for i in tail..len {
            y[o + i] = y[o + i] / s;
        }
    }
}

/// Softmax along the last axis, rows split over the threads.
#[algorithm(
    op = Softmax,
    sig = crate::sig::SoftmaxSig,
    name = "lastaxis",
    targets(scalar, avx2, avx512f, neon, opencl),
    priority = 10,
)]
pub mod softmax_lastaxis {
    use super::*;

    /// One launch over blocks of whole rows.
    pub fn schedule(s: &SoftmaxSig, p: &Params) {
        let _ = p;
        let len = s.len.max(1);
        let rows = (BLOCK / len).max(1);
        launch!(softmax_rows, outs [y => rows * len], ins [x], args [len, rows]);
    }
}
