//! Convolution as a matrix product: Im2Col + GEMM, and 1x1 convolutions as a plain GEMM.
//!
//! In NHWC a convolution is `Y[M, OC] = A[M, K] * B[K, OC]` with `M = n * oh * ow` output
//! pixels and `K = kh * kw * ic`: row `m` of `A` is the receptive field of pixel `m` in
//! `(kh, kw, ic)` order, which is also the order of a row of the OHWI weights. A pointwise
//! convolution (1x1, stride 1, no padding) reads `A` straight from the input; every other
//! one gathers rows of `A` into the workspace (`im2col`), a block of rows at a time so the
//! workspace stays small.
//!
//! The GEMM keeps an `MR x NR` tile of the output in registers (`MR` pixels by `NR = NV *
//! LANES` output channels: `NV` vectors per pixel) and walks `K` in blocks of `KC` so the
//! panel of weights it streams stays in cache. Weights are packed once at load in panels of
//! `NR` output channels (`[panel][k][NR]`, zero-padded), with the bias after the panels.
//! Bias and the fused activation are applied when the last `K` block is stored.
//!
//! The accumulator tile is a local array sized by compile-time parameters only
//! (`[[V::F32; NV]; MR]`), so it lives in registers.

use ferrolite_macros::{algorithm, stage};
use ferrolite_targets::Simd;

use crate::epilogue::activate;
use crate::sig::Conv2dSig;

/// Rows `[gid * rows_per_item, ...)` of `Y = act(A * B + bias [+ R])`: `y` is this
/// work-item's rows (`oc` values each), `a` the whole `A` (row stride `lda`), `w` the packed
/// weights (`npanels` panels of `k x NR`, `NR = NV * LANES`, then the bias). With `has_res`,
/// row `i` of this launch adds row `res_row0 + i` of `res` (`oc` values a row: a fused skip
/// connection) before the activation.
///
/// Loop order: a panel of `NR` output channels, then a `K` block of it (`kc x NR` weights,
/// which stay in L1), then the tiles of `MR` rows (the work-item's rows of `A` in that block
/// stay in L2). `A` is read in place: each step of the inner loop broadcasts one value of each
/// of the tile's `MR` rows (rows past the end repeat the last row: computed, never stored)
/// and loads `NV` vectors of the weight panel, which it walks with `chunks_exact`.
#[stage]
pub fn gemm_rows<V: Simd, const MR: usize, const NV: usize>(
    gid: usize,
    y: &mut [f32],
    a: &[f32],
    w: &[f32],
    res: &[f32],
    lda: usize,
    k: usize,
    oc: usize,
    rows_per_item: usize,
    kc: usize,
    npanels: usize,
    has_res: bool,
    res_row0: usize,
    act: i32,
    act_a: f32,
    act_b: f32,
) {
    let rows = y.len() / oc;
    let row0 = gid * rows_per_item;
    let nr = NV * V::LANES;
    let bias_off = npanels * k * nr;
    for p in 0..npanels {
        let c0 = p * nr;
        let cn = (oc - c0).min(nr);
        for k0 in (0..k).step_by(kc) {
            let k1 = (k0 + kc).min(k);
            let kn = k1 - k0;
            let last = k1 == k;
            let wk0 = (p * k + k0) * nr;
            for t in (0..rows).step_by(MR) {
                let mut ao = [0usize; MR];
                for r in 0..MR {
                    ao[r] = (row0 + (t + r).min(rows - 1)) * lda + k0;
                }
                let mut acc = [[V::zero(); NV]; MR];
                if k0 > 0 {
                    for r in 0..MR {
                        if t + r < rows {
                            let yo = (t + r) * oc + c0;
                            for v in 0..NV {
                                let c = v * V::LANES;
                                if c + V::LANES <= cn {
                                    acc[r][v] = V::load(&y[yo + c..]);
                                } else if c < cn {
                                    acc[r][v] = V::load_partial(&y[yo + c..yo + cn]);
                                }
                            }
                        }
                    }
                }
                let mut kk = 0;
                for bc in (&w[wk0..wk0 + kn * nr]).chunks_exact(nr) {
                    let mut b = [V::zero(); NV];
                    for v in 0..NV {
                        b[v] = V::load(&bc[v * V::LANES..]);
                    }
                    for r in 0..MR {
                        let av = V::splat(a[ao[r] + kk]);
                        for v in 0..NV {
                            acc[r][v] = V::fma(av, b[v], acc[r][v]);
                        }
                    }
                    kk += 1;
                }
                let mut bias = [V::zero(); NV];
                if last {
                    for v in 0..NV {
                        bias[v] = V::load(&w[bias_off + c0 + v * V::LANES..]);
                    }
                }
                for r in 0..MR {
                    if t + r < rows {
                        let yo = (t + r) * oc + c0;
                        for v in 0..NV {
                            let c = v * V::LANES;
                            let mut o = acc[r][v];
                            if last {
                                let mut biased = V::add(o, bias[v]);
                                if has_res {
                                    let ro = (res_row0 + row0 + t + r) * oc + c0 + c;
                                    if c + V::LANES <= cn {
                                        biased = V::add(biased, V::load(&res[ro..]));
                                    } else if c < cn {
                                        biased = V::add(biased, V::load_partial(&res[ro..ro + cn - c]));
                                    }
                                }
                                o = activate(biased, act, act_a, act_b);
                            }
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

/// Rows of the Im2Col matrix, `col.len() / k` of them from row `row0 + gid * pixels`: the
/// receptive field of one output pixel each, in `(kh, kw, ic)` order, zeros where it falls
/// in the padding.
#[stage]
pub fn im2col<V: Simd>(
    gid: usize,
    col: &mut [f32],
    x: &[f32],
    row0: usize,
    pixels: usize,
    ih: usize,
    iw: usize,
    ic: usize,
    oh: usize,
    ow: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    ph: usize,
    pw: usize,
) {
    let k = kh * kw * ic;
    let full = ic / V::LANES * V::LANES;
    for q in 0..col.len() / k {
        let m = row0 + gid * pixels + q;
        let img = m / (oh * ow);
        let rem = m % (oh * ow);
        let oy = rem / ow;
        let ox = rem % ow;
        for i in 0..kh {
            let iy = (oy * sh + i * dh) as isize - ph as isize;
            for j in 0..kw {
                let ix = (ox * sw + j * dw) as isize - pw as isize;
                let dst = q * k + (i * kw + j) * ic;
                if iy >= 0 && iy < ih as isize && ix >= 0 && ix < iw as isize {
                    let src = ((img * ih + iy as usize) * iw + ix as usize) * ic;
                    for c in (0..full).step_by(V::LANES) {
                        V::store(&mut col[dst + c..], V::load(&x[src + c..]));
                    }
                    for c in full..ic {
                        col[dst + c] = x[src + c];
                    }
                } else {
                    for c in (0..full).step_by(V::LANES) {
                        V::store(&mut col[dst + c..], V::zero());
                    }
                    for c in full..ic {
                        col[dst + c] = 0.0;
                    }
                }
            }
        }
    }
}

/// Packs OHWI weights (`[oc, kh, kw, ic / groups]`, node input 1) and the bias (input 2)
/// in panels of `nr` output channels of one group: group `g`'s `ceil(ocg / nr)` panels, each
/// `[kh * kw * icg][nr]` (so the `(ky, kx, c)` depth of a panel row is contiguous), then one
/// bias row of `nr` values per panel; channels past a group's last are zero. With one group
/// this is the GEMM's `[panel][k][nr]` layout with the bias at `panels * k * nr + oc`.
pub fn pack_panels(s: &Conv2dSig, consts: &[Option<&[f32]>], nr: usize) -> Vec<f32> {
    let (icg, ocg) = (s.icg(), s.ocg());
    let k = s.kernel[0] * s.kernel[1] * icg;
    let npg = ocg.div_ceil(nr);
    let panels = s.groups * npg;
    let mut packed = vec![0f32; panels * k * nr + panels * nr];
    let panel_of = |o: usize| {
        let (g, j) = (o / ocg, o % ocg);
        (g * npg + j / nr, j % nr)
    };
    if let Some(Some(w)) = consts.get(1) {
        // OHWI: output channel o's row of k values is contiguous.
        for (o, row) in w.chunks_exact(k).enumerate().take(s.oc) {
            let (p, lane) = panel_of(o);
            for (kk, v) in row.iter().enumerate() {
                packed[(p * k + kk) * nr + lane] = *v;
            }
        }
    }
    if let Some(Some(b)) = consts.get(2) {
        let off = panels * k * nr;
        for (o, v) in b.iter().enumerate().take(s.oc) {
            let (p, lane) = panel_of(o);
            packed[off + p * nr + lane] = *v;
        }
    }
    packed
}

/// Dense convolution (one group) as Im2Col + GEMM; 1x1 stride-1 unpadded ones as a plain
/// GEMM on the input.
#[algorithm(
    op = Conv2d,
    sig = crate::sig::Conv2dSig,
    name = "gemm",
    targets(scalar, avx2, avx512f, neon, opencl),
    priority = 20,
    applies(groups = 1),
    // Register tiles `[MR, NV]`: tall and narrow ones for few output channels, wide ones for
    // many; `MR * NV` accumulators plus `NV + 1` operands fit 32 vector registers (AVX-512,
    // NEON; AVX2 has 16, so the tuner finds its wider tiles slow).
    combos([6, 1], [12, 1], [4, 2], [6, 2], [8, 2], [4, 3], [8, 3]),
)]
pub mod conv_gemm {
    use super::*;
    use crate::sig::Conv2dSig;

    /// Output pixels per register tile.
    #[param(compile, values = [4, 6, 8, 12], id = "mr{}")]
    const MR: usize = 4;

    /// Vectors of output channels per register tile.
    #[param(compile, values = [1, 2, 3], id = "nv{}")]
    const NV: usize = 2;

    /// Output pixels per work-item (the unit of the thread split).
    #[param(runtime, values = [24, 48, 96, 192])]
    const ROWS: usize = 48;

    /// Depth of one pass over `K` (cache blocking of the weight panel).
    #[param(runtime, values = [128, 256, 512, 1024])]
    const KC: usize = 256;

    /// Output pixels gathered by Im2Col per step (bounds the workspace).
    #[param(runtime, values = [128, 256, 512, 1024])]
    const CHUNK: usize = 256;

    /// Rows of the weight matrix.
    fn depth(s: &Conv2dSig) -> usize {
        s.kernel[0] * s.kernel[1] * s.ic
    }

    /// Weights as `[panel][k][NR]` panels (`NR = NV * lanes`), then the bias, zero-padded
    /// to whole panels.
    pub fn prepack(s: &Conv2dSig, consts: &[Option<&[f32]>], lanes: usize) -> Vec<f32> {
        pack_panels(s, consts, NV * lanes)
    }

    /// Im2Col rows of one chunk (none for a pointwise convolution).
    fn im2col_len(s: &Conv2dSig, p: &Params) -> usize {
        if s.is_pointwise() { 0 } else { p.CHUNK.min(s.n * s.oh * s.ow) * depth(s) }
    }

    /// Im2Col rows of one chunk.
    pub fn workspace(s: &Conv2dSig, p: &Params) -> usize {
        im2col_len(s, p)
    }

    pub fn schedule(s: &Conv2dSig, p: &Params) {
        let k = depth(s);
        let npanels = s.oc.div_ceil(NV * lanes);
        let rows = s.n * s.oh * s.ow;
        let (code, a, b) = (s.act.code, s.act.a, s.act.b);
        let kc = p.KC.min(k);
        if s.is_pointwise() {
            let per_item = crate::split::balanced_chunk(rows, MR, p.ROWS, threads);
            if s.has_residual {
                launch!(
                    gemm_rows::<MR, NV>,
                    outs [y => per_item * s.oc],
                    ins [x, w, x3],
                    args [s.ic, k, s.oc, per_item, kc, npanels, true, 0, code, a, b]
                );
            } else {
                launch!(
                    gemm_rows::<MR, NV>,
                    outs [y => per_item * s.oc],
                    ins [x, w, w],
                    args [s.ic, k, s.oc, per_item, kc, npanels, false, 0, code, a, b]
                );
            }
        } else {
            let chunk = p.CHUNK.min(rows);
            for r0 in (0..rows).step_by(chunk) {
                let r1 = (r0 + chunk).min(rows);
                let len = (r1 - r0) * k;
                // Enough pixels per work-item to amortize its dispatch.
                let pixels = 16;
                launch!(
                    im2col,
                    outs [ws[0..len] => pixels * k],
                    ins [x],
                    args [r0, pixels, s.ih, s.iw, s.ic, s.oh, s.ow, s.kernel[0], s.kernel[1], s.stride[0], s.stride[1],
                          s.dilation[0], s.dilation[1], s.pad[0], s.pad[1]]
                );
                let per_item = crate::split::balanced_chunk(r1 - r0, MR, p.ROWS, threads);
                if s.has_residual {
                    launch!(
                        gemm_rows::<MR, NV>,
                        outs [y[r0 * s.oc..r1 * s.oc] => per_item * s.oc],
                        ins [ws[0..len], w, x3],
                        args [k, k, s.oc, per_item, kc, npanels, true, r0, code, a, b]
                    );
                } else {
                    launch!(
                        gemm_rows::<MR, NV>,
                        outs [y[r0 * s.oc..r1 * s.oc] => per_item * s.oc],
                        ins [ws[0..len], w, w],
                        args [k, k, s.oc, per_item, kc, npanels, false, 0, code, a, b]
                    );
                }
            }
        }
    }
}
