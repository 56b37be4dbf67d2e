//! Sliding-window (direct) convolution: the output computed straight from the input, with
//! no Im2Col copy, for any window, stride, dilation, padding and group count (depthwise has
//! its own kernel).
//!
//! A register tile holds `MR` neighbouring output pixels of one row by `NR = NV * LANES`
//! output channels of one group. For every tap `(ky, kx)` of the window the tile walks the
//! group's input channels: one broadcast of each pixel's input value, `NV` vector loads of
//! the weight panel, `MR * NV` FMAs. It is the Im2Col + GEMM product with the rows of `A`
//! read where they lie in the input, which pays off where Im2Col's copy costs as much as
//! the product: few input channels (the stem convolutions), strided and long windows.
//!
//! Window rows that fall in the padding are skipped for the whole tile. Tiles whose pixels
//! all see every column of their window run the plain loop; the tiles at the left and right
//! edges weight each pixel's tap by 1 or 0 and read a valid address for the ones outside.
//!
//! Weights are packed once at load in panels of `NR` channels of one group
//! (`[group][panel][ky][kx][ic / groups][NR]`, zero-padded), then the bias per panel, the
//! layout of the GEMM's panels (`crate::conv_gemm::pack_panels`).

use ferrolite_macros::{algorithm, stage};
use ferrolite_targets::Simd;

use crate::conv_gemm::pack_panels;
use crate::epilogue::activate;
use crate::window::{end_tap, first_tap};

/// Output rows `[gid * rows_per_item, ...)` (image-major: row `n * oh + oy`) of a
/// convolution: `y` is this work-item's rows (`ow * oc` values each), `x` the whole input
/// (NHWC), `w` the packed panels (`npg` per group, `kh * kw * icg * NR` values each) and
/// then the bias (`NR` per panel). Output pixels `ox_lo..ox_hi` have their whole window
/// inside the input horizontally.
#[stage]
pub fn direct_rows<V: Simd, const MR: usize, const NV: usize>(
    gid: usize,
    y: &mut [f32],
    x: &[f32],
    w: &[f32],
    oh: usize,
    ow: usize,
    ih: usize,
    iw: usize,
    ic: usize,
    oc: usize,
    groups: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    ph: usize,
    pw: usize,
    ox_lo: usize,
    ox_hi: usize,
    rows_per_item: usize,
    act: i32,
    act_a: f32,
    act_b: f32,
) {
    let nr = NV * V::LANES;
    let icg = ic / groups;
    let ocg = oc / groups;
    let npg = (ocg + nr - 1) / nr;
    let panel_len = kh * kw * icg * nr;
    let bias_off = groups * npg * panel_len;
    let nrows = y.len() / (ow * oc);
    for q in 0..nrows {
        let row = gid * rows_per_item + q;
        let img = row / oh;
        let iy0 = ((row % oh) * sh) as isize - ph as isize;
        let ky0: usize = first_tap(iy0, dh);
        let ky1: usize = end_tap(iy0, ih, dh, kh);
        let yrow = q * ow * oc;
        for t in (0..ow).step_by(MR) {
            let interior = t >= ox_lo && t + MR <= ox_hi;
            for p in 0..groups * npg {
                let g = p / npg;
                let j0 = (p % npg) * nr;
                let cn = (ocg - j0).min(nr);
                let c0 = g * ocg + j0;
                let mut acc = [[V::zero(); NV]; MR];
                for ky in ky0..ky1 {
                    let iy = (iy0 + (ky * dh) as isize) as usize;
                    let in_row = (img * ih + iy) * iw;
                    // One group, no horizontal dilation, every column inside: a pixel's taps
                    // of this window row are `kw * ic` consecutive inputs, and so are their
                    // weights, so the row is one loop (a 3-channel stem: 9 steps, not 3 x 3).
                    let run = interior && groups == 1 && dw == 1;
                    if run {
                        let mut ao = [0usize; MR];
                        for r in 0..MR {
                            ao[r] = (in_row + (t + r) * sw - pw) * ic;
                        }
                        let wo = p * panel_len + ky * kw * ic * nr;
                        let mut kk = 0;
                        for bc in (&w[wo..wo + kw * ic * nr]).chunks_exact(nr) {
                            let mut b = [V::zero(); NV];
                            for v in 0..NV {
                                b[v] = V::load(&bc[v * V::LANES..]);
                            }
                            for r in 0..MR {
                                let av = V::splat(x[ao[r] + kk]);
                                for v in 0..NV {
                                    acc[r][v] = V::fma(av, b[v], acc[r][v]);
                                }
                            }
                            kk += 1;
                        }
                    }
                    for kx in 0..(if run { 0 } else { kw }) {
                        let wo = p * panel_len + (ky * kw + kx) * icg * nr;
                        // Where each pixel's tap reads its input channels, and whether it lies
                        // inside the input (pixels past the row's end repeat the last one).
                        let mut ao = [0usize; MR];
                        let mut on = [1.0f32; MR];
                        for r in 0..MR {
                            let ox = (t + r).min(ow - 1);
                            let ix = (ox * sw + kx * dw) as isize - pw as isize;
                            if ix >= 0 && ix < iw as isize {
                                ao[r] = (in_row + ix as usize) * ic + g * icg;
                            } else {
                                ao[r] = g * icg;
                                on[r] = 0.0;
                            }
                        }
                        let mut kk = 0;
                        if interior {
                            for bc in (&w[wo..wo + icg * nr]).chunks_exact(nr) {
                                let mut b = [V::zero(); NV];
                                for v in 0..NV {
                                    b[v] = V::load(&bc[v * V::LANES..]);
                                }
                                for r in 0..MR {
                                    let av = V::splat(x[ao[r] + kk]);
                                    for v in 0..NV {
                                        acc[r][v] = V::fma(av, b[v], acc[r][v]);
                                    }
                                }
                                kk += 1;
                            }
                        } else {
                            for bc in (&w[wo..wo + icg * nr]).chunks_exact(nr) {
                                let mut b = [V::zero(); NV];
                                for v in 0..NV {
                                    b[v] = V::load(&bc[v * V::LANES..]);
                                }
                                for r in 0..MR {
                                    let av = V::splat(x[ao[r] + kk] * on[r]);
                                    for v in 0..NV {
                                        acc[r][v] = V::fma(av, b[v], acc[r][v]);
                                    }
                                }
                                kk += 1;
                            }
                        }
                    }
                }
                for r in 0..MR {
                    if t + r < ow {
                        let yo = yrow + (t + r) * oc + c0;
                        for v in 0..NV {
                            let c = v * V::LANES;
                            let biased = V::add(acc[r][v], V::load(&w[bias_off + p * nr + c..]));
                            let o: V::F32 = activate(biased, act, act_a, act_b);
                            if c + V::LANES <= cn {
                                V::store(&mut y[yo + c..], o);
                            } else if c < cn {
                                V::store_partial(&mut y[yo + c..yo + cn], o);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Output positions `lo..hi` along one axis whose whole window (`k` taps, dilation `d`,
/// stride `s`, `pad` leading padding) lies inside `0..input`.
pub fn interior(out: usize, input: usize, pad: usize, k: usize, s: usize, d: usize) -> (usize, usize) {
    let ext = (k - 1) * d + 1;
    let lo = pad.div_ceil(s).min(out);
    // o * s - pad + ext <= input  <=>  o * s <= input + pad - ext.
    let hi = if input + pad < ext { 0 } else { ((input + pad - ext) / s + 1).min(out) };
    (lo, hi.max(lo))
}

/// Sliding-window convolution: any window, stride, dilation, padding and group count except
/// depthwise.
#[algorithm(
    op = Conv2d,
    sig = crate::sig::Conv2dSig,
    name = "direct",
    targets(scalar, avx2, avx512f, neon, opencl),
    priority = 15,
)]
pub mod conv_direct {
    use super::*;
    use crate::sig::Conv2dSig;

    /// Output pixels per register tile (along a row).
    #[param(compile, values = [4, 6, 8], id = "mr{}")]
    const MR: usize = 4;

    /// Vectors of output channels per register tile.
    #[param(compile, values = [1, 2], id = "nv{}")]
    const NV: usize = 2;

    /// Output rows per work-item (the unit of the thread split).
    #[param(runtime, values = [1, 2, 4, 8])]
    const ROWS: usize = 1;

    /// Every convolution but depthwise (which has its own kernel) and those with a fused
    /// residual (the GEMM's epilogue adds it).
    pub fn applies(s: &Conv2dSig) -> bool {
        !s.is_depthwise() && !s.has_residual
    }

    /// Weights in panels of `NV * lanes` channels of one group, then the bias.
    pub fn prepack(s: &Conv2dSig, consts: &[Option<&[f32]>], lanes: usize) -> Vec<f32> {
        pack_panels(s, consts, NV * lanes)
    }

    pub fn schedule(s: &Conv2dSig, p: &Params) {
        let (lo, hi) = interior(s.ow, s.iw, s.pad[1], s.kernel[1], s.stride[1], s.dilation[1]);
        let (code, a, b) = (s.act.code, s.act.a, s.act.b);
        let rows = crate::split::balanced_chunk(s.n * s.oh, 1, p.ROWS, threads);
        launch!(
            direct_rows::<MR, NV>,
            outs [y => rows * s.ow * s.oc],
            ins [x, w],
            args [s.oh, s.ow, s.ih, s.iw, s.ic, s.oc, s.groups, s.kernel[0], s.kernel[1], s.stride[0], s.stride[1],
                  s.dilation[0], s.dilation[1], s.pad[0], s.pad[1], lo, hi, rows, code, a, b]
        );
    }
}
