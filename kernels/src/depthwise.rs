//! Depthwise 2-D convolution (`groups == ic == oc`), NHWC.
//!
//! Vectorized over channels: the weights are packed at load into `[kh * kw][cp]` rows
//! (`cp` = channels rounded up to 16, the widest vector), followed by the bias row (zeros
//! without a bias), so every weight load is a full vector. One work-item computes one
//! output row over all channels. Pixels whose window lies wholly inside the input take the
//! fast path; the border pixels clip their window to the input.
//!
//! The 3x3 stride-1 and stride-2 cases keep the nine weights of a channel vector in
//! registers while sweeping a block of output pixels (two at a time, so that with stride 1
//! and 2 the columns both pixels read are loaded once); the block is sized so that the
//! input rows it reads stay in L1. Everything else (any window, stride, dilation) goes
//! through the clipped per-pixel loop.

use ferrolite_macros::{algorithm, dsl_fn, stage};
use ferrolite_targets::Simd;

use crate::epilogue::activate;
use crate::sig::Conv2dSig;
use crate::window::{end_tap, first_tap};

/// Channels of a packed weight row: a multiple of the widest vector (16 lanes).
pub fn padded_channels(c: usize) -> usize {
    c.next_multiple_of(16)
}

/// Packs OHWI depthwise weights `[c, kh, kw, 1]` and the bias into `[kh * kw + 1][cp]`.
pub fn pack_depthwise(s: &Conv2dSig, w: Option<&[f32]>, bias: Option<&[f32]>) -> Vec<f32> {
    let (c, taps) = (s.oc, s.kernel[0] * s.kernel[1]);
    let cp = padded_channels(c);
    let mut packed = vec![0.0f32; (taps + 1) * cp];
    if let Some(w) = w {
        for (ch, row) in w.chunks_exact(taps).take(c).enumerate() {
            for (t, &v) in row.iter().enumerate() {
                packed[t * cp + ch] = v;
            }
        }
    }
    if let Some(b) = bias {
        for (d, &v) in packed[taps * cp..].iter_mut().zip(b) {
            *d = v;
        }
    }
    packed
}

/// One output pixel, channels `c0..c`, window clipped to the input. `h0`, `w0`: input
/// position of tap (0, 0) (negative in the padding).
#[dsl_fn]
pub fn dw_pixel<V: Simd>(
    y: &mut [f32],
    x: &[f32],
    w: &[f32],
    img: usize,
    ih: usize,
    iw: usize,
    c: usize,
    cp: usize,
    kh: usize,
    kw: usize,
    h0: isize,
    w0: isize,
    dh: usize,
    dw: usize,
    c0: usize,
    code: i32,
    a: f32,
    b: f32,
) {
    // Valid taps form a contiguous range per axis.
    let kh0: usize = first_tap(h0, dh);
    let kh1: usize = end_tap(h0, ih, dh, kh);
    let kw0: usize = first_tap(w0, dw);
    let kw1: usize = end_tap(w0, iw, dw, kw);
    let bias_row = kh * kw * cp;
    let mut ch = c0;
    for j in 0..(c - c0) / V::LANES {
        let mut acc = V::load(&w[bias_row + ch..]);
        for i in kh0..kh1 {
            let row = img + (h0 + (i * dh) as isize) as usize * iw;
            for k in kw0..kw1 {
                let px = (row + (w0 + (k * dw) as isize) as usize) * c + ch;
                acc = V::fma(V::load(&x[px..]), V::load(&w[(i * kw + k) * cp + ch..]), acc);
            }
        }
        V::store(&mut y[ch..], activate(acc, code, a, b));
        ch = c0 + (j + 1) * V::LANES;
    }
    if ch < c {
        let mut acc = V::load(&w[bias_row + ch..]);
        for i in kh0..kh1 {
            let row = img + (h0 + (i * dh) as isize) as usize * iw;
            for k in kw0..kw1 {
                let px = (row + (w0 + (k * dw) as isize) as usize) * c;
                acc = V::fma(V::load_partial(&x[px + ch..px + c]), V::load(&w[(i * kw + k) * cp + ch..]), acc);
            }
        }
        V::store_partial(&mut y[ch..c], activate(acc, code, a, b));
    }
}

/// One output row (`gid = n * oh + r`) of any depthwise convolution.
#[stage]
pub fn dw_general<V: Simd>(
    gid: usize,
    y: &mut [f32],
    x: &[f32],
    w: &[f32],
    oh: usize,
    ow: usize,
    ih: usize,
    iw: usize,
    c: usize,
    cp: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pad_t: usize,
    pad_l: usize,
    code: i32,
    a: f32,
    b: f32,
) {
    let img = (gid / oh) * ih * iw;
    let h0 = ((gid % oh) * sh) as isize - pad_t as isize;
    for o in 0..ow {
        let w0 = (o * sw) as isize - pad_l as isize;
        dw_pixel(&mut y[o * c..o * c + c], x, w, img, ih, iw, c, cp, kh, kw, h0, w0, dh, dw, 0, code, a, b);
    }
}

/// One output row of a 3x3 depthwise convolution with stride `STRIDE` in both directions and no
/// dilation. Output pixels `ow_lo..ow_hi` have their whole window inside the input
/// horizontally; they are computed `block` at a time, channel vector by channel vector,
/// with the nine weights in registers.
#[stage]
pub fn dw3x3<V: Simd, const STRIDE: usize>(
    gid: usize,
    y: &mut [f32],
    x: &[f32],
    w: &[f32],
    oh: usize,
    ow: usize,
    ih: usize,
    iw: usize,
    c: usize,
    cp: usize,
    pad_t: usize,
    pad_l: usize,
    ow_lo: usize,
    ow_hi: usize,
    block: usize,
    code: i32,
    a: f32,
    b: f32,
) {
    let img = (gid / oh) * ih * iw;
    let h0 = ((gid % oh) * STRIDE) as isize - pad_t as isize;
    let mut lo = ow_lo;
    let mut hi = ow_hi;
    if h0 < 0 || h0 + 3 > ih as isize || lo >= hi {
        lo = 0;
        hi = 0;
    }
    // Border pixels: the window is clipped.
    for o in 0..lo {
        let w0 = (o * STRIDE) as isize - pad_l as isize;
        dw_pixel(&mut y[o * c..o * c + c], x, w, img, ih, iw, c, cp, 3, 3, h0, w0, 1, 1, 0, code, a, b);
    }
    for o in hi..ow {
        let w0 = (o * STRIDE) as isize - pad_l as isize;
        dw_pixel(&mut y[o * c..o * c + c], x, w, img, ih, iw, c, cp, 3, 3, h0, w0, 1, 1, 0, code, a, b);
    }
    if lo < hi {
        let full = c / V::LANES;
        let c_tail = full * V::LANES;
        let r0 = (img + h0 as usize * iw) * c;
        let r1 = r0 + iw * c;
        let r2 = r1 + iw * c;
        let sc = STRIDE * c;
        for blk in (lo..hi).step_by(block) {
            let end = (blk + block).min(hi);
            let pairs = (end - blk) / 2;
            for j in 0..full {
                let ch = j * V::LANES;
                let w00 = V::load(&w[ch..]);
                let w01 = V::load(&w[cp + ch..]);
                let w02 = V::load(&w[2 * cp + ch..]);
                let w10 = V::load(&w[3 * cp + ch..]);
                let w11 = V::load(&w[4 * cp + ch..]);
                let w12 = V::load(&w[5 * cp + ch..]);
                let w20 = V::load(&w[6 * cp + ch..]);
                let w21 = V::load(&w[7 * cp + ch..]);
                let w22 = V::load(&w[8 * cp + ch..]);
                let bias = V::load(&w[9 * cp + ch..]);
                for p in 0..pairs {
                    let o = blk + 2 * p;
                    let col = (o * STRIDE - pad_l) * c + ch;
                    let mut a0 = V::fma(V::load(&x[r0 + col..]), w00, bias);
                    let mut a1 = V::fma(V::load(&x[r0 + col + sc..]), w00, bias);
                    a0 = V::fma(V::load(&x[r0 + col + c..]), w01, a0);
                    a1 = V::fma(V::load(&x[r0 + col + sc + c..]), w01, a1);
                    a0 = V::fma(V::load(&x[r0 + col + 2 * c..]), w02, a0);
                    a1 = V::fma(V::load(&x[r0 + col + sc + 2 * c..]), w02, a1);
                    a0 = V::fma(V::load(&x[r1 + col..]), w10, a0);
                    a1 = V::fma(V::load(&x[r1 + col + sc..]), w10, a1);
                    a0 = V::fma(V::load(&x[r1 + col + c..]), w11, a0);
                    a1 = V::fma(V::load(&x[r1 + col + sc + c..]), w11, a1);
                    a0 = V::fma(V::load(&x[r1 + col + 2 * c..]), w12, a0);
                    a1 = V::fma(V::load(&x[r1 + col + sc + 2 * c..]), w12, a1);
                    a0 = V::fma(V::load(&x[r2 + col..]), w20, a0);
                    a1 = V::fma(V::load(&x[r2 + col + sc..]), w20, a1);
                    a0 = V::fma(V::load(&x[r2 + col + c..]), w21, a0);
                    a1 = V::fma(V::load(&x[r2 + col + sc + c..]), w21, a1);
                    a0 = V::fma(V::load(&x[r2 + col + 2 * c..]), w22, a0);
                    a1 = V::fma(V::load(&x[r2 + col + sc + 2 * c..]), w22, a1);
                    V::store(&mut y[o * c + ch..], activate(a0, code, a, b));
                    V::store(&mut y[o * c + c + ch..], activate(a1, code, a, b));
                }
                if blk + 2 * pairs < end {
                    let o = end - 1;
                    let col = (o * STRIDE - pad_l) * c + ch;
                    let mut a0 = V::fma(V::load(&x[r0 + col..]), w00, bias);
                    a0 = V::fma(V::load(&x[r0 + col + c..]), w01, a0);
                    a0 = V::fma(V::load(&x[r0 + col + 2 * c..]), w02, a0);
                    a0 = V::fma(V::load(&x[r1 + col..]), w10, a0);
                    a0 = V::fma(V::load(&x[r1 + col + c..]), w11, a0);
                    a0 = V::fma(V::load(&x[r1 + col + 2 * c..]), w12, a0);
                    a0 = V::fma(V::load(&x[r2 + col..]), w20, a0);
                    a0 = V::fma(V::load(&x[r2 + col + c..]), w21, a0);
                    a0 = V::fma(V::load(&x[r2 + col + 2 * c..]), w22, a0);
                    V::store(&mut y[o * c + ch..], activate(a0, code, a, b));
                }
            }
            // Channels past the last full vector.
            if c_tail < c {
                for o in blk..end {
                    let w0 = (o * STRIDE) as isize - pad_l as isize;
                    dw_pixel(&mut y[o * c..o * c + c], x, w, img, ih, iw, c, cp, 3, 3, h0, w0, 1, 1, c_tail, code, a, b);
                }
            }
        }
    }
}

/// Rows of a 1x1 depthwise convolution with stride 1 and no padding: a per-channel
/// `act(x * w[c] + b[c])` over `y.len() / c` pixels (work-item `gid` starts at pixel
/// `gid * pixels`). The scale and shift vectors of a channel block are loaded once per block
/// of pixels; what an unfused batch norm and activation after a skip connection become.
#[stage]
pub fn dw1x1<V: Simd>(gid: usize, y: &mut [f32], x: &[f32], w: &[f32], c: usize, cp: usize, pixels: usize, code: i32, a: f32, b: f32) {
    let n = y.len() / c;
    let base = gid * pixels * c;
    let full = c / V::LANES * V::LANES;
    for ch in (0..full).step_by(V::LANES) {
        let scale = V::load(&w[ch..]);
        let shift = V::load(&w[cp + ch..]);
        for q in 0..n {
            let o = q * c + ch;
            let v = V::fma(V::load(&x[base + o..]), scale, shift);
            V::store(&mut y[o..], activate(v, code, a, b));
        }
    }
    if full < c {
        let scale = V::load(&w[full..]);
        let shift = V::load(&w[cp + full..]);
        for q in 0..n {
            let o = q * c + full;
            let v = V::fma(V::load_partial(&x[base + o..base + q * c + c]), scale, shift);
            V::store_partial(&mut y[o..q * c + c], activate(v, code, a, b));
        }
    }
}

/// Output positions `lo..hi` along one axis whose whole 3-tap window (stride `s`) lies
/// inside `0..input` after `pad` leading padding.
pub fn interior_range(out: usize, input: usize, pad: usize, s: usize) -> (usize, usize) {
    let lo = pad.div_ceil(s).min(out);
    // o * s - pad + 2 < input  <=>  o * s < input + pad - 2.
    let hi = if input + pad < 3 { 0 } else { ((input + pad - 3) / s + 1).min(out) };
    (lo, hi.max(lo))
}

/// Output pixels per block of the 3x3 path: the three input rows a block reads
/// (`3 * (block * s + 2)` pixels of `c` channels) should fit in about 24 KiB of L1.
pub fn block_pixels(c: usize, s: usize) -> usize {
    let budget = 24 * 1024 / (3 * 4 * c.max(1) * s);
    budget.clamp(4, 64)
}

/// Depthwise convolution: 3x3 stride 1 and 2 with weights in registers, 1x1 (a per-channel
/// affine map) as a streaming pass, anything else (window, stride, dilation, padding) with
/// clipped per-pixel windows.
#[algorithm(
    op = Conv2d,
    sig = crate::sig::Conv2dSig,
    name = "depthwise",
    targets(scalar, avx2, avx512f, neon, opencl),
    priority = 10,
)]
pub mod depthwise {
    use super::*;

    /// Depthwise with one output channel per input channel.
    pub fn applies(s: &Conv2dSig) -> bool {
        s.is_depthwise() && !s.has_residual
    }

    /// Weights and bias in `[kh * kw + 1][cp]` rows.
    pub fn prepack(s: &Conv2dSig, consts: &[Option<&[f32]>]) -> Vec<f32> {
        let w = consts.get(1).copied().flatten();
        let bias = if s.has_bias { consts.get(2).copied().flatten() } else { None };
        pack_depthwise(s, w, bias)
    }

    /// One launch over the output rows: the 3x3 stage for stride 1 or 2, else the general one.
    pub fn schedule(s: &Conv2dSig, p: &Params) {
        let _ = p;
        let c = s.oc;
        let cp = padded_channels(c);
        let row = s.ow * c;
        let (code, a, b) = (s.act.code, s.act.a, s.act.b);
        let fast = s.kernel == [3, 3] && s.dilation == [1, 1];
        if s.kernel == [1, 1] && s.stride == [1, 1] && s.no_padding {
            // About 16 KiB of output per work-item, evened out over the threads.
            let pixels = crate::split::balanced_chunk(s.n * s.oh * s.ow, 1, (4096 / c).max(1), threads);
            launch!(dw1x1, outs [y => pixels * c], ins [x, w], args [c, cp, pixels, code, a, b]);
        } else if fast && s.stride == [1, 1] {
            let (lo, hi) = interior_range(s.ow, s.iw, s.pad[1], 1);
            let block = block_pixels(c, 1);
            launch!(dw3x3::<1>, outs [y => row], ins [x, w],
                args [s.oh, s.ow, s.ih, s.iw, c, cp, s.pad[0], s.pad[1], lo, hi, block, code, a, b]);
        } else if fast && s.stride == [2, 2] {
            let (lo, hi) = interior_range(s.ow, s.iw, s.pad[1], 2);
            let block = block_pixels(c, 2);
            launch!(dw3x3::<2>, outs [y => row], ins [x, w],
                args [s.oh, s.ow, s.ih, s.iw, c, cp, s.pad[0], s.pad[1], lo, hi, block, code, a, b]);
        } else {
            launch!(dw_general, outs [y => row], ins [x, w],
                args [s.oh, s.ow, s.ih, s.iw, c, cp, s.kernel[0], s.kernel[1], s.stride[0], s.stride[1],
                      s.dilation[0], s.dilation[1], s.pad[0], s.pad[1], code, a, b]);
        }
    }
}
