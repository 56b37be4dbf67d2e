//! Element-wise kernels: activations (`Op::Unary(Unary::Act(..))`), binary operators with the common broadcasting patterns (same
//! shape, a repeating operand such as a per-channel vector or a scalar), f32.
//!
//! `Max` and `Min` propagate NaN like the reference (numpy's `maximum`): the vector
//! primitives return their second operand when either is NaN, so the first operand's NaN
//! is added back with a term that is zero unless it is NaN.

use ferrolite_macros::{algorithm, dsl_fn, stage};
use ferrolite_targets::Simd;

use crate::epilogue::activate;
use crate::sig::{ActivationSig, BinarySig, Broadcast};

/// Elements per work-item of the element-wise kernels (64 KiB of output).
pub const BLOCK: usize = 16 * 1024;

/// `a op b` for the operator code of [`BinarySig::op`].
#[dsl_fn]
pub fn binop<V: Simd>(a: V::F32, b: V::F32, op: i32) -> V::F32 {
    let mut r = V::add(a, b);
    if op == 1 {
        r = V::sub(a, b);
    } else if op == 2 {
        r = V::mul(a, b);
    } else if op == 3 {
        r = V::div(a, b);
    } else if op == 4 {
        r = V::sub(V::max(a, b), V::min(V::zero(), V::abs(a)));
    } else if op == 5 {
        r = V::sub(V::min(a, b), V::min(V::zero(), V::abs(a)));
    }
    r
}

/// `y = a op b`, both with the output's elements; work-item `gid` does elements
/// `gid * block ..`.
#[stage]
pub fn binary_same<V: Simd>(gid: usize, y: &mut [f32], a: &[f32], b: &[f32], block: usize, op: i32) {
    let base = gid * block;
    let n = y.len();
    let mut i = 0;
    for j in 0..n / V::LANES {
        i = j * V::LANES;
        let r: V::F32 = binop(V::load(&a[base + i..]), V::load(&b[base + i..]), op);
        V::store(&mut y[i..], r);
        i = i + V::LANES;
    }
    if i < n {
        let r: V::F32 = binop(V::load_partial(&a[base + i..base + n]), V::load_partial(&b[base + i..base + n]), op);
        V::store_partial(&mut y[i..n], r);
    }
}

/// `y = a op b` where one operand is full and the other repeats every `period` elements
/// (`b_repeats`: it is `b`). Work-item `gid` does `rows` whole periods.
#[stage]
pub fn binary_periodic<V: Simd>(
    gid: usize,
    y: &mut [f32],
    a: &[f32],
    b: &[f32],
    period: usize,
    rows: usize,
    op: i32,
    b_repeats: bool,
) {
    let base = gid * rows * period;
    let n = y.len();
    let full = period / V::LANES;
    let tail = full * V::LANES;
    if period == 1 {
        // A scalar operand: one splat, a flat loop.
        let mut i = 0;
        if b_repeats {
            let vb = V::splat(b[0]);
            for j in 0..n / V::LANES {
                i = j * V::LANES;
                V::store(&mut y[i..], binop(V::load(&a[base + i..]), vb, op));
                i = i + V::LANES;
            }
            if i < n {
                V::store_partial(&mut y[i..n], binop(V::load_partial(&a[base + i..base + n]), vb, op));
            }
        } else {
            let va = V::splat(a[0]);
            for j in 0..n / V::LANES {
                i = j * V::LANES;
                V::store(&mut y[i..], binop(va, V::load(&b[base + i..]), op));
                i = i + V::LANES;
            }
            if i < n {
                V::store_partial(&mut y[i..n], binop(va, V::load_partial(&b[base + i..base + n]), op));
            }
        }
    } else {
        for r in 0..n / period {
            let o = r * period;
            if b_repeats {
                for j in 0..full {
                    let k = j * V::LANES;
                    V::store(&mut y[o + k..], binop(V::load(&a[base + o + k..]), V::load(&b[k..]), op));
                }
                if tail < period {
                    let va = V::load_partial(&a[base + o + tail..base + o + period]);
                    let vb = V::load_partial(&b[tail..period]);
                    V::store_partial(&mut y[o + tail..o + period], binop(va, vb, op));
                }
            } else {
                for j in 0..full {
                    let k = j * V::LANES;
                    V::store(&mut y[o + k..], binop(V::load(&a[k..]), V::load(&b[base + o + k..]), op));
                }
                if tail < period {
                    let va = V::load_partial(&a[tail..period]);
                    let vb = V::load_partial(&b[base + o + tail..base + o + period]);
                    V::store_partial(&mut y[o + tail..o + period], binop(va, vb, op));
                }
            }
        }
    }
}

/// Binary Add, Sub, Mul, Div, Max, Min: same shapes, or one operand repeating (scalar,
/// per-channel vector, trailing block).
#[algorithm(
    op = Binary,
    sig = crate::sig::BinarySig,
    name = "direct",
    targets(scalar, avx2, avx512f, neon, opencl),
    priority = 10,
)]
pub mod binary_direct {
    use super::*;

    /// One launch over blocks of the output (whole periods when an operand repeats).
    pub fn schedule(s: &BinarySig, p: &Params) {
        let _ = p;
        if s.broadcast == Broadcast::Same {
            launch!(binary_same, outs [y => BLOCK], ins [x0, x1], args [BLOCK, s.op]);
        } else {
            let period = s.period.max(1);
            let rows = (BLOCK / period).max(1);
            let b_repeats = s.broadcast == Broadcast::PeriodicB;
            launch!(binary_periodic, outs [y => rows * period], ins [x0, x1], args [period, rows, s.op, b_repeats]);
        }
    }
}

/// `y = act(x)` over blocks of `block` elements, one block per work-item.
#[stage]
pub fn act_block<V: Simd>(gid: usize, y: &mut [f32], x: &[f32], block: usize, code: i32, a: f32, b: f32) {
    let base = gid * block;
    let n = y.len();
    let mut i = 0;
    for j in 0..n / V::LANES {
        i = j * V::LANES;
        V::store(&mut y[i..], activate(V::load(&x[base + i..]), code, a, b));
        i = i + V::LANES;
    }
    if i < n {
        V::store_partial(&mut y[i..n], activate(V::load_partial(&x[base + i..base + n]), code, a, b));
    }
}

/// Every activation function as an element-wise operator.
#[algorithm(
    op = Unary,
    sig = crate::sig::ActivationSig,
    name = "activation",
    targets(scalar, avx2, avx512f, neon, opencl),
    priority = 10,
)]
pub mod activation {
    use super::*;
    use crate::sig::Act;

    /// One launch over blocks of the tensor.
    pub fn schedule(s: &ActivationSig, p: &Params) {
        let _ = p;
        let act = Act::from(s.act);
        launch!(act_block, outs [y => BLOCK], ins [x], args [BLOCK, act.code, act.a, act.b]);
    }
}
