//! Max and average pooling, windowed and global, NHWC, vectorized over channels.
//!
//! Semantics are the reference operator's (ONNX): padded cells never enter a maximum; an
//! average divides by the input cells of the window, or with `count_include_pad` by the
//! window cells inside the padded input; NaN inputs propagate through the maximum. The
//! vector `max` primitive drops a NaN in one operand, so maxima also add a term that is
//! zero, or NaN when the input is (`min(0, |x|)`), and subtract it at the end.

use ferrolite_macros::{algorithm, dsl_fn, stage};
use ferrolite_targets::Simd;

use crate::sig::{GlobalPoolSig, Pool2dSig};
use crate::window::{end_tap, first_tap};

/// Zero in every lane, except NaN where `x` is NaN (`min` returns its second operand when
/// either is NaN, and `|x| >= 0` otherwise).
#[dsl_fn]
pub fn nan_term<V: Simd>(x: V::F32) -> V::F32 {
    V::min(V::zero(), V::abs(x))
}

/// One output row (`gid = n * oh + r`) of a windowed pooling.
#[stage]
pub fn pool_row<V: Simd>(
    gid: usize,
    y: &mut [f32],
    x: &[f32],
    oh: usize,
    ow: usize,
    ih: usize,
    iw: usize,
    c: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pad_t: usize,
    pad_l: usize,
    pad_b: usize,
    pad_r: usize,
    is_max: bool,
    include_pad: bool,
) {
    let img = (gid / oh) * ih * iw;
    let r = gid % oh;
    // Valid window rows: input row h0 + i * dh inside 0..ih.
    let h0 = (r * sh) as isize - pad_t as isize;
    let i1: usize = end_tap(h0, ih, dh, kh);
    let first_row: usize = first_tap(h0, dh);
    let i0 = first_row.min(i1);
    let mut rows = i1 - i0;
    if include_pad {
        let limit = (ih + pad_t + pad_b) as isize - (r * sh) as isize;
        rows = 0;
        if limit > 0 {
            rows = ((limit as usize + dh - 1) / dh).min(kh);
        }
    }
    for o in 0..ow {
        let w0 = (o * sw) as isize - pad_l as isize;
        let k1: usize = end_tap(w0, iw, dw, kw);
        let first_col: usize = first_tap(w0, dw);
        let k0 = first_col.min(k1);
        let mut cols = k1 - k0;
        if include_pad {
            let limit = (iw + pad_l + pad_r) as isize - (o * sw) as isize;
            cols = 0;
            if limit > 0 {
                cols = ((limit as usize + dw - 1) / dw).min(kw);
            }
        }
        let count = V::splat((rows * cols) as f32);
        let out = o * c;
        let mut ch = 0;
        for j in 0..c / V::LANES {
            ch = j * V::LANES;
            if is_max {
                let mut acc = V::splat(f32::NEG_INFINITY);
                let mut nan = V::zero();
                for i in i0..i1 {
                    let row = img + (h0 + (i * dh) as isize) as usize * iw;
                    for k in k0..k1 {
                        let v = V::load(&x[(row + (w0 + (k * dw) as isize) as usize) * c + ch..]);
                        acc = V::max(v, acc);
                        nan = V::add(nan, nan_term(v));
                    }
                }
                V::store(&mut y[out + ch..], V::sub(acc, nan));
            } else {
                let mut acc = V::zero();
                for i in i0..i1 {
                    let row = img + (h0 + (i * dh) as isize) as usize * iw;
                    for k in k0..k1 {
                        acc = V::add(acc, V::load(&x[(row + (w0 + (k * dw) as isize) as usize) * c + ch..]));
                    }
                }
                V::store(&mut y[out + ch..], V::div(acc, count));
            }
            ch = ch + V::LANES;
        }
        if ch < c {
            if is_max {
                let mut acc = V::splat(f32::NEG_INFINITY);
                let mut nan = V::zero();
                for i in i0..i1 {
                    let row = img + (h0 + (i * dh) as isize) as usize * iw;
                    for k in k0..k1 {
                        let px = (row + (w0 + (k * dw) as isize) as usize) * c;
                        let v = V::load_partial(&x[px + ch..px + c]);
                        acc = V::max(v, acc);
                        nan = V::add(nan, nan_term(v));
                    }
                }
                V::store_partial(&mut y[out + ch..out + c], V::sub(acc, nan));
            } else {
                let mut acc = V::zero();
                for i in i0..i1 {
                    let row = img + (h0 + (i * dh) as isize) as usize * iw;
                    for k in k0..k1 {
                        let px = (row + (w0 + (k * dw) as isize) as usize) * c;
                        acc = V::add(acc, V::load_partial(&x[px + ch..px + c]));
                    }
                }
                V::store_partial(&mut y[out + ch..out + c], V::div(acc, count));
            }
        }
    }
}

/// Global pooling of channels `[gid * chunk, ..)` of image `gid / blocks` (a chunk never
/// spans two images: the schedule makes `chunk` divide into whole images or blocks of one).
#[stage]
pub fn global_pool<V: Simd>(gid: usize, y: &mut [f32], x: &[f32], hw: usize, c: usize, blocks: usize, chunk: usize, is_max: bool) {
    let n = gid / blocks;
    let c0 = (gid % blocks) * chunk;
    let len = y.len();
    let base = n * hw * c + c0;
    let mut ch = 0;
    for j in 0..len / V::LANES {
        ch = j * V::LANES;
        if is_max {
            let mut acc = V::splat(f32::NEG_INFINITY);
            let mut nan = V::zero();
            for p in 0..hw {
                let v = V::load(&x[base + p * c + ch..]);
                acc = V::max(v, acc);
                nan = V::add(nan, nan_term(v));
            }
            V::store(&mut y[ch..], V::sub(acc, nan));
        } else {
            // Pixels summed in blocks of 32, the block sums added up: the rounding error
            // grows with 32 + hw / 32 instead of hw.
            let mut sum = V::zero();
            for q in 0..(hw + 31) / 32 {
                let mut part = V::zero();
                for p in q * 32..(q * 32 + 32).min(hw) {
                    part = V::add(part, V::load(&x[base + p * c + ch..]));
                }
                sum = V::add(sum, part);
            }
            V::store(&mut y[ch..], V::div(sum, V::splat(hw as f32)));
        }
        ch = ch + V::LANES;
    }
    if ch < len {
        if is_max {
            let mut acc = V::splat(f32::NEG_INFINITY);
            let mut nan = V::zero();
            for p in 0..hw {
                let v = V::load_partial(&x[base + p * c + ch..base + p * c + len]);
                acc = V::max(v, acc);
                nan = V::add(nan, nan_term(v));
            }
            V::store_partial(&mut y[ch..len], V::sub(acc, nan));
        } else {
            let mut sum = V::zero();
            for q in 0..(hw + 31) / 32 {
                let mut part = V::zero();
                for p in q * 32..(q * 32 + 32).min(hw) {
                    part = V::add(part, V::load_partial(&x[base + p * c + ch..base + p * c + len]));
                }
                sum = V::add(sum, part);
            }
            V::store_partial(&mut y[ch..len], V::div(sum, V::splat(hw as f32)));
        }
    }
}

/// Windowed max and average pooling, one output row per work-item.
#[algorithm(
    op = Pool2d,
    sig = crate::sig::Pool2dSig,
    name = "direct",
    targets(scalar, avx2, avx512f, neon, opencl),
    priority = 10,
)]
pub mod pool2d_direct {
    use super::*;

    /// One launch over the output rows.
    pub fn schedule(s: &Pool2dSig, p: &Params) {
        let _ = p;
        let [pt, pl, pb, pr] = s.pad;
        launch!(pool_row, outs [y => s.ow * s.c], ins [x],
            args [s.oh, s.ow, s.ih, s.iw, s.c, s.kernel[0], s.kernel[1], s.stride[0], s.stride[1],
                  s.dilation[0], s.dilation[1], pt, pl, pb, pr, s.max, s.count_include_pad]);
    }
}

/// Channels per work-item of a global pooling over one image: blocks of whole cache lines,
/// enough of them to keep every thread busy.
pub fn global_chunk(c: usize) -> usize {
    if c <= 64 { c } else { 64 }
}

/// Global max and average pooling: one image per work-item, or channel blocks of a single
/// image.
#[algorithm(
    op = GlobalPool,
    sig = crate::sig::GlobalPoolSig,
    name = "direct",
    targets(scalar, avx2, avx512f, neon, opencl),
    priority = 10,
)]
pub mod global_pool_direct {
    use super::*;

    /// One launch over images or channel blocks.
    pub fn schedule(s: &GlobalPoolSig, p: &Params) {
        let _ = p;
        // Channel blocks must tile each image exactly: split only a single image.
        let chunk = if s.n == 1 { global_chunk(s.c) } else { s.c };
        let blocks = if s.n == 1 { s.c.div_ceil(chunk.max(1)) } else { 1 };
        launch!(global_pool, outs [y => chunk], ins [x], args [s.hw, s.c, blocks.max(1), chunk, s.max]);
    }
}
