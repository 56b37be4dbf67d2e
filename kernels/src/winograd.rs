//! Winograd convolution F(m, 3) for 3x3, stride-1 convolutions: F(2,3), F(4,3), F(6,3).
//!
//! Each `m x m` tile of the output is computed from an `n x n` tile of the input (`n = m + 2`,
//! tiles overlap by 2) as `Y = A^T [ sum_ic (G g G^T) ⊙ (B^T d B) ] A`. The element-wise
//! product summed over input channels is, for each of the `n^2` transform-domain points, an
//! independent matrix product `[tiles x IC] x [IC x OC]`: that is where the time goes, and
//! it runs as a register-tiled GEMM (`MR` tiles by `NR` output channels of accumulators).
//!
//! Work is done in *bands* of whole tile rows of one image (about `TILES` tiles), so the
//! transform-domain buffers of a band (input `V` and product `U`) stay in cache and the
//! workspace does not grow with the image's height (a band is at least one tile row). Per
//! band, three launches:
//!
//! 1. [`input_transform`]: one work-item per block of `MR` tiles writes `B^T d B` for every
//!    point, laid out for the GEMM: `[tile block][point][ic / KB][MR][KB]` (`KB = 16` input
//!    channels innermost, so every vector width up to 16 lanes stores whole vectors).
//! 2. [`tile_gemm`]: one work-item per point multiplies the band's tiles by that point's
//!    transformed weights (packed once at load as `[point][oc / NR][ic][NR]`), writing
//!    `[point][oc / NR][tile][NR]`.
//! 3. [`output_transform`]: one work-item per tile row applies `A^T m A`, adds the bias,
//!    applies the fused activation and writes the NHWC output directly (partial tiles at the
//!    right and bottom edges are cut).
//!
//! Interpolation points: F(2,3) `0, ±1, ∞`; F(4,3) `0, ±1, ±2, ∞`; F(6,3)
//! `0, ±1, ±2, ±1/2, ∞` (the usual well-conditioned choice). The error grows with `m` (the
//! transforms have entries up to 32 for F(6,3)); the variant test states the bound per `m`.

use ferrolite_macros::{algorithm, stage};
use ferrolite_targets::Simd;

use crate::epilogue::activate;

/// Input transform of a block of `MR` tiles (work-item `gid` of the band): for each tile and
/// each vector of input channels, `B^T d B` at all `(M + 2)^2` points. Tiles past `ntiles`
/// (padding of the last block) and input pixels outside the image are zeros.
///
/// `v` is this block's chunk: `[point][kp / 16][MR][16]`; `x_off` is where the image starts
/// in `x`; the band's tiles are `tile0..tile0 + ntiles` in row-major order over a grid
/// `tiles_x` wide; `kp` is `ic` rounded up to 16.
#[stage]
pub fn input_transform<V: Simd, const M: usize, const MR: usize>(
    gid: usize,
    v: &mut [f32],
    x: &[f32],
    x_off: usize,
    ih: usize,
    iw: usize,
    ic: usize,
    kp: usize,
    pad_t: usize,
    pad_l: usize,
    tiles_x: usize,
    tile0: usize,
    ntiles: usize,
) {
    let n = M + 2;
    // After the row pass: t[b][i] = entry b of row i of the tile transformed along the row.
    let mut t = [[V::zero(); 8]; 8];
    let mut d = [V::zero(); 8];
    for r in 0..MR {
        let tile = gid * MR + r;
        let live = tile < ntiles;
        let ty = (tile0 + tile) / tiles_x;
        let tx = (tile0 + tile) % tiles_x;
        let y0 = (ty * M) as isize - pad_t as isize;
        let x0 = (tx * M) as isize - pad_l as isize;
        // The whole n x n window inside the image: no per-pixel checks.
        let inside = live && y0 >= 0 && x0 >= 0 && y0 + n as isize <= ih as isize && x0 + n as isize <= iw as isize;
        for c in (0..kp).step_by(V::LANES) {
            let dst = (c / 16) * MR * 16 + r * 16 + c % 16;
            let full = c + V::LANES <= ic;
            for i in 0..n {
                if inside && full {
                    let src = x_off + ((y0 as usize + i) * iw + x0 as usize) * ic + c;
                    for j in 0..n {
                        d[j] = V::load(&x[src + j * ic..]);
                    }
                } else {
                    let iy = y0 + i as isize;
                    for j in 0..n {
                        let ix = x0 + j as isize;
                        d[j] = V::zero();
                        if live && c < ic && iy >= 0 && iy < ih as isize && ix >= 0 && ix < iw as isize {
                            let src = x_off + ((iy as usize) * iw + ix as usize) * ic + c;
                            if full {
                                d[j] = V::load(&x[src..]);
                            } else {
                                d[j] = V::load_partial(&x[src..src + ic - c]);
                            }
                        }
                    }
                }
                    if M == 2 {
                        t[0][i] = V::sub(d[0], d[2]);
                        t[1][i] = V::add(d[1], d[2]);
                        t[2][i] = V::sub(d[2], d[1]);
                        t[3][i] = V::sub(d[1], d[3]);
                    } else if M == 4 {
                        t[0][i] = V::fma(V::splat(4.0), d[0], V::fma(V::splat(-5.0), d[2], d[4]));
                        let a1 = V::fma(V::splat(-4.0), d[2], d[4]);
                        let b1 = V::fma(V::splat(-4.0), d[1], d[3]);
                        t[1][i] = V::add(a1, b1);
                        t[2][i] = V::sub(a1, b1);
                        let a3 = V::sub(d[4], d[2]);
                        let b3 = V::mul(V::splat(2.0), V::sub(d[3], d[1]));
                        t[3][i] = V::add(a3, b3);
                        t[4][i] = V::sub(a3, b3);
                        t[5][i] = V::fma(V::splat(4.0), d[1], V::fma(V::splat(-5.0), d[3], d[5]));
                    } else {
                        t[0][i] = V::fma(V::splat(5.25), V::sub(d[4], d[2]), V::sub(d[0], d[6]));
                        t[7][i] = V::fma(V::splat(5.25), V::sub(d[3], d[5]), V::sub(d[7], d[1]));
                        let a1 = V::fma(V::splat(-4.25), d[4], V::add(d[2], d[6]));
                        let b1 = V::fma(V::splat(-4.25), d[3], V::add(d[1], d[5]));
                        t[1][i] = V::add(a1, b1);
                        t[2][i] = V::sub(a1, b1);
                        let a3 = V::fma(V::splat(-1.25), d[4], V::fma(V::splat(0.25), d[2], d[6]));
                        let b3 = V::fma(V::splat(2.0), d[5], V::fma(V::splat(-2.5), d[3], V::mul(V::splat(0.5), d[1])));
                        t[3][i] = V::add(a3, b3);
                        t[4][i] = V::sub(a3, b3);
                        let a5 = V::fma(V::splat(4.0), V::fma(V::splat(-1.25), d[4], d[2]), d[6]);
                        let b5 = V::fma(V::splat(0.5), d[5], V::fma(V::splat(-2.5), d[3], V::mul(V::splat(2.0), d[1])));
                        t[5][i] = V::add(a5, b5);
                        t[6][i] = V::sub(a5, b5);
                    }
            }
            for b in 0..n {
                let mut o = [V::zero(); 8];
                if M == 2 {
                    o[0] = V::sub(t[b][0], t[b][2]);
                    o[1] = V::add(t[b][1], t[b][2]);
                    o[2] = V::sub(t[b][2], t[b][1]);
                    o[3] = V::sub(t[b][1], t[b][3]);
                } else if M == 4 {
                    o[0] = V::fma(V::splat(4.0), t[b][0], V::fma(V::splat(-5.0), t[b][2], t[b][4]));
                    let a1 = V::fma(V::splat(-4.0), t[b][2], t[b][4]);
                    let b1 = V::fma(V::splat(-4.0), t[b][1], t[b][3]);
                    o[1] = V::add(a1, b1);
                    o[2] = V::sub(a1, b1);
                    let a3 = V::sub(t[b][4], t[b][2]);
                    let b3 = V::mul(V::splat(2.0), V::sub(t[b][3], t[b][1]));
                    o[3] = V::add(a3, b3);
                    o[4] = V::sub(a3, b3);
                    o[5] = V::fma(V::splat(4.0), t[b][1], V::fma(V::splat(-5.0), t[b][3], t[b][5]));
                } else {
                    o[0] = V::fma(V::splat(5.25), V::sub(t[b][4], t[b][2]), V::sub(t[b][0], t[b][6]));
                    o[7] = V::fma(V::splat(5.25), V::sub(t[b][3], t[b][5]), V::sub(t[b][7], t[b][1]));
                    let a1 = V::fma(V::splat(-4.25), t[b][4], V::add(t[b][2], t[b][6]));
                    let b1 = V::fma(V::splat(-4.25), t[b][3], V::add(t[b][1], t[b][5]));
                    o[1] = V::add(a1, b1);
                    o[2] = V::sub(a1, b1);
                    let a3 = V::fma(V::splat(-1.25), t[b][4], V::fma(V::splat(0.25), t[b][2], t[b][6]));
                    let b3 = V::fma(V::splat(2.0), t[b][5], V::fma(V::splat(-2.5), t[b][3], V::mul(V::splat(0.5), t[b][1])));
                    o[3] = V::add(a3, b3);
                    o[4] = V::sub(a3, b3);
                    let a5 = V::fma(V::splat(4.0), V::fma(V::splat(-1.25), t[b][4], t[b][2]), t[b][6]);
                    let b5 = V::fma(V::splat(0.5), t[b][5], V::fma(V::splat(-2.5), t[b][3], V::mul(V::splat(2.0), t[b][1])));
                    o[5] = V::add(a5, b5);
                    o[6] = V::sub(a5, b5);
                }
                for a in 0..n {
                    V::store(&mut v[(a * n + b) * kp * MR + dst..], o[a]);
                }
            }
        }
    }
}

/// The transform-domain products of one point (`gid`): `U[p] = V[p] x W[p]` over the band's
/// `tp` tiles (a multiple of `MR`), `kp` input channels and `ocp` output channels (multiples
/// of 16 and `NR`). `u` is this point's chunk, `[ocp / NR][tp][NR]`; `v` the whole band
/// (`[tp / MR][np][kp / 16][MR][16]`); `w` the packed weights (`[np][ocp / NR][kp][NR]`).
// The `&` on the chunked sub-slices is the subset's sub-slice syntax.
#[allow(clippy::needless_borrow)]
#[stage]
pub fn tile_gemm<V: Simd, const MR: usize, const NR: usize>(
    gid: usize,
    u: &mut [f32],
    v: &[f32],
    w: &[f32],
    np: usize,
    tp: usize,
    kp: usize,
    ocp: usize,
) {
    let npanels = ocp / NR;
    let nv = NR / V::LANES;
    for panel in 0..npanels {
        let wb = (gid * npanels + panel) * kp * NR;
        for tb in 0..tp / MR {
            let vb = (tb * np + gid) * kp * MR;
            // NR / LANES vectors per row are used (array lengths must be constants); the rest
            // are optimized away.
            let mut acc = [[V::zero(); NR]; MR];
            // One step: 16 input channels; `a` holds them for MR tiles ([MR][16]), `b` the
            // weights of those channels for NR output channels ([16][NR]).
            for (a, b) in (&v[vb..vb + kp * MR]).chunks_exact(16 * MR).zip((&w[wb..wb + kp * NR]).chunks_exact(16 * NR)) {
                for kk in 0..16 {
                    let mut bv = [V::zero(); NR];
                    for j in 0..nv {
                        bv[j] = V::load(&b[kk * NR + j * V::LANES..]);
                    }
                    for r in 0..MR {
                        let ar = V::splat(a[r * 16 + kk]);
                        for j in 0..nv {
                            acc[r][j] = V::fma(ar, bv[j], acc[r][j]);
                        }
                    }
                }
            }
            for r in 0..MR {
                let o = (panel * tp + tb * MR + r) * NR;
                for j in 0..nv {
                    V::store(&mut u[o + j * V::LANES..], acc[r][j]);
                }
            }
        }
    }
}

/// Output transform of tile row `gid` of the band: `A^T m A` for every tile of the row and
/// every vector of output channels, plus bias, then the activation (`act`, `act_a`, `act_b`,
/// see [`activate`]), stored in `y`: this row's chunk of the NHWC output (`M` rows of `ow`
/// pixels, fewer at the bottom edge). `u` is the band's products (`[np][ocp / NR][tp][NR]`),
/// `w` the packed weights with the bias at `bias_off`.
#[stage]
pub fn output_transform<V: Simd, const M: usize, const NR: usize>(
    gid: usize,
    y: &mut [f32],
    u: &[f32],
    w: &[f32],
    ow: usize,
    oc: usize,
    ocp: usize,
    tp: usize,
    tiles_x: usize,
    bias_off: usize,
    act: i32,
    act_a: f32,
    act_b: f32,
) {
    let n = M + 2;
    let rows = y.len() / (ow * oc);
    let point_stride = tp * ocp;
    // After the row pass: t[l][a] = entry l of row a of the point tile transformed along the row.
    let mut t = [[V::zero(); 8]; 8];
    let mut m = [V::zero(); 8];
    for tx in 0..tiles_x {
        let tile = gid * tiles_x + tx;
        // Output pixels of this tile inside the image (partial tiles at the right edge).
        let cols = (ow - tx * M).min(M);
        for c in (0..oc).step_by(V::LANES) {
            let src = ((c / NR) * tp + tile) * NR + c % NR;
            let bias = V::load(&w[bias_off + c..]);
            let full = c + V::LANES <= oc;
            for a in 0..n {
                for b in 0..n {
                    m[b] = V::load(&u[(a * n + b) * point_stride + src..]);
                }
                    if M == 2 {
                        t[0][a] = V::add(V::add(m[0], m[1]), m[2]);
                        t[1][a] = V::sub(V::sub(m[1], m[2]), m[3]);
                    } else if M == 4 {
                        let s12 = V::add(m[1], m[2]);
                        let d12 = V::sub(m[1], m[2]);
                        let s34 = V::add(m[3], m[4]);
                        let d34 = V::sub(m[3], m[4]);
                        t[0][a] = V::add(V::add(m[0], s12), s34);
                        t[1][a] = V::fma(V::splat(2.0), d34, d12);
                        t[2][a] = V::fma(V::splat(4.0), s34, s12);
                        t[3][a] = V::add(V::fma(V::splat(8.0), d34, d12), m[5]);
                    } else {
                        let s12 = V::add(m[1], m[2]);
                        let d12 = V::sub(m[1], m[2]);
                        let s34 = V::add(m[3], m[4]);
                        let d34 = V::sub(m[3], m[4]);
                        let s56 = V::add(m[5], m[6]);
                        let d56 = V::sub(m[5], m[6]);
                        t[0][a] = V::add(V::add(m[0], s12), V::add(s34, s56));
                        t[1][a] = V::fma(V::splat(0.5), d56, V::fma(V::splat(2.0), d34, d12));
                        t[2][a] = V::fma(V::splat(0.25), s56, V::fma(V::splat(4.0), s34, s12));
                        t[3][a] = V::fma(V::splat(0.125), d56, V::fma(V::splat(8.0), d34, d12));
                        t[4][a] = V::fma(V::splat(0.0625), s56, V::fma(V::splat(16.0), s34, s12));
                        t[5][a] = V::add(V::fma(V::splat(0.03125), d56, V::fma(V::splat(32.0), d34, d12)), m[7]);
                    }
            }
            for l in 0..cols {
                let mut o = [V::zero(); 8];
                if M == 2 {
                    o[0] = V::add(V::add(t[l][0], t[l][1]), t[l][2]);
                    o[1] = V::sub(V::sub(t[l][1], t[l][2]), t[l][3]);
                } else if M == 4 {
                    let s12 = V::add(t[l][1], t[l][2]);
                    let d12 = V::sub(t[l][1], t[l][2]);
                    let s34 = V::add(t[l][3], t[l][4]);
                    let d34 = V::sub(t[l][3], t[l][4]);
                    o[0] = V::add(V::add(t[l][0], s12), s34);
                    o[1] = V::fma(V::splat(2.0), d34, d12);
                    o[2] = V::fma(V::splat(4.0), s34, s12);
                    o[3] = V::add(V::fma(V::splat(8.0), d34, d12), t[l][5]);
                } else {
                    let s12 = V::add(t[l][1], t[l][2]);
                    let d12 = V::sub(t[l][1], t[l][2]);
                    let s34 = V::add(t[l][3], t[l][4]);
                    let d34 = V::sub(t[l][3], t[l][4]);
                    let s56 = V::add(t[l][5], t[l][6]);
                    let d56 = V::sub(t[l][5], t[l][6]);
                    o[0] = V::add(V::add(t[l][0], s12), V::add(s34, s56));
                    o[1] = V::fma(V::splat(0.5), d56, V::fma(V::splat(2.0), d34, d12));
                    o[2] = V::fma(V::splat(0.25), s56, V::fma(V::splat(4.0), s34, s12));
                    o[3] = V::fma(V::splat(0.125), d56, V::fma(V::splat(8.0), d34, d12));
                    o[4] = V::fma(V::splat(0.0625), s56, V::fma(V::splat(16.0), s34, s12));
                    o[5] = V::add(V::fma(V::splat(0.03125), d56, V::fma(V::splat(32.0), d34, d12)), t[l][7]);
                }
                for k in 0..M {
                    if k < rows {
                        let dst = (k * ow + tx * M + l) * oc + c;
                        let val: V::F32 = activate(V::add(o[k], bias), act, act_a, act_b);
                        if full {
                            V::store(&mut y[dst..], val);
                        } else {
                            V::store_partial(&mut y[dst..dst + oc - c], val);
                        }
                    }
                }
            }
        }
    }
}

/// Winograd F(M, 3) convolution: 3x3, stride 1, no dilation, one group.
#[algorithm(
    op = Conv2d,
    sig = crate::sig::Conv2dSig,
    name = "winograd",
    targets(scalar, avx2, avx512f, neon, opencl),
    priority = 30,
    applies(kernel = [3, 3], stride = [1, 1], dilation = [1, 1], groups = 1, has_residual = false),
)]
pub mod winograd {
    use super::*;
    use crate::sig::Conv2dSig;

    /// Output tile size m of F(m, 3).
    #[param(compile, values = [2, 4, 6], id = "f{}x3")]
    const M: usize = 4;

    /// Tiles per band (rounded to whole tile rows): the unit that the transform-domain
    /// buffers hold, and how often the transformed weights are streamed.
    #[param(runtime, values = [16, 32, 64, 128, 256])]
    const TILES: usize = 64;

    /// Tiles per register block of the GEMM (rows of its accumulator tile).
    const TILE_BLOCK: usize = 6;
    /// The smaller block, for bands whose tile count it pads less (16 tiles: 16 rows of
    /// products instead of 18, 11% less GEMM work on a 14x14 F(4,3) layer).
    const TILE_BLOCK_SMALL: usize = 4;
    /// Output channels per weight panel (columns of the accumulator tile, a multiple of every
    /// target's vector width).
    const PANEL: usize = 16;
    /// Input channels per step of the GEMM (the innermost dimension of the transformed
    /// input; a multiple of every vector width).
    const KB: usize = 16;

    /// `x` rounded up to a multiple of `m`.
    fn round_up(x: usize, m: usize) -> usize {
        x.div_ceil(m) * m
    }

    /// Transform-domain points of F(m, 3).
    fn points(m: usize) -> usize {
        (m + 2) * (m + 2)
    }

    /// Tile rows per band, and the padded tile count of the largest band.
    fn bands(s: &Conv2dSig, m: usize, p: &Params) -> (usize, usize) {
        let (tiles_y, tiles_x) = (s.oh.div_ceil(m), s.ow.div_ceil(m));
        let nbands = (tiles_y * tiles_x).div_ceil(p.TILES.max(1)).clamp(1, tiles_y.max(1));
        let rows = tiles_y.div_ceil(nbands).max(1);
        (rows, round_up(rows * tiles_x, TILE_BLOCK))
    }

    /// Only worth it (and only tested) with more than one input channel.
    pub fn applies(s: &Conv2dSig) -> bool {
        s.ic > 1
    }

    /// `G g G^T` of every (output, input) channel pair, as `[point][oc / PANEL][kp][PANEL]`
    /// (zero-padded), then the bias (`ocp` values, zero without one).
    pub fn prepack(s: &Conv2dSig, consts: &[Option<&[f32]>]) -> Vec<f32> {
        let n = M + 2;
        let np = points(M);
        let (kp, ocp) = (round_up(s.ic, KB), round_up(s.oc, PANEL));
        let npanels = ocp / PANEL;
        let g = transform_g(M);
        let mut packed = vec![0f32; np * ocp * kp + ocp];
        if let Some(Some(w)) = consts.get(1) {
            // OHWI: the 3x3 window of channel pair (o, i) is w[((o * 3 + kh) * 3 + kw) * ic + i].
            for (o, filt) in w.chunks_exact(9 * s.ic).enumerate().take(s.oc) {
                let (panel, lane) = (o / PANEL, o % PANEL);
                for i in 0..s.ic {
                    let k = |kh: usize, kw: usize| f64::from(filt[(kh * 3 + kw) * s.ic + i]);
                    // G g (n x 3), then (G g) G^T (n x n), in f64.
                    let gg: Vec<[f64; 3]> = g[..n].iter().map(|ga| [0, 1, 2].map(|kw| (0..3).map(|kh| ga[kh] * k(kh, kw)).sum())).collect();
                    for (a, gga) in gg.iter().enumerate() {
                        for (b, gb) in g[..n].iter().enumerate() {
                            let val: f64 = (0..3).map(|kw| gga[kw] * gb[kw]).sum();
                            let point = a * n + b;
                            packed[((point * npanels + panel) * kp + i) * PANEL + lane] = val as f32;
                        }
                    }
                }
            }
        }
        if let Some(Some(b)) = consts.get(2) {
            let off = np * ocp * kp;
            let len = s.oc.min(b.len());
            packed[off..off + len].copy_from_slice(&b[..len]);
        }
        packed
    }

    /// The transformed input and the products of the largest band.
    pub fn workspace(s: &Conv2dSig, p: &Params) -> usize {
        let (_, tp) = bands(s, M, p);
        points(M) * tp * (round_up(s.ic, KB) + round_up(s.oc, PANEL))
    }

    /// Per image, per band of tile rows: input transform, the per-point products, output
    /// transform straight into the image's rows of `y`.
    pub fn schedule(s: &Conv2dSig, p: &Params) {
        let np = points(M);
        let (kp, ocp) = (round_up(s.ic, KB), round_up(s.oc, PANEL));
        let (tiles_y, tiles_x) = (s.oh.div_ceil(M), s.ow.div_ceil(M));
        let (rows, tp_max) = bands(s, M, p);
        let v_end = np * tp_max * kp;
        let bias_off = np * ocp * kp;
        let img_out = s.oh * s.ow * s.oc;
        let (code, act_a, act_b) = (s.act.code, s.act.a, s.act.b);
        for img in 0..s.n {
            for r0 in (0..tiles_y).step_by(rows) {
                let r1 = (r0 + rows).min(tiles_y);
                let ntiles = (r1 - r0) * tiles_x;
                // The register block that pads the band's tiles least (never more rows than
                // the workspace was sized for: the small block only when it pads less).
                let small = round_up(ntiles, TILE_BLOCK_SMALL) < round_up(ntiles, TILE_BLOCK);
                let tp = if small { round_up(ntiles, TILE_BLOCK_SMALL) } else { round_up(ntiles, TILE_BLOCK) };
                let v_len = np * tp * kp;
                let u_len = np * tp * ocp;
                let x_off = img * s.ih * s.iw * s.ic;
                if small {
                    launch!(
                        input_transform::<M, TILE_BLOCK_SMALL>,
                        outs [ws[0..v_len] => np * TILE_BLOCK_SMALL * kp],
                        ins [x],
                        args [x_off, s.ih, s.iw, s.ic, kp, s.pad[0], s.pad[1], tiles_x, r0 * tiles_x, ntiles]
                    );
                    launch!(
                        tile_gemm::<TILE_BLOCK_SMALL, PANEL>,
                        outs [ws[v_end..v_end + u_len] => tp * ocp],
                        ins [ws[0..v_len], w],
                        args [np, tp, kp, ocp]
                    );
                } else {
                    launch!(
                        input_transform::<M, TILE_BLOCK>,
                        outs [ws[0..v_len] => np * TILE_BLOCK * kp],
                        ins [x],
                        args [x_off, s.ih, s.iw, s.ic, kp, s.pad[0], s.pad[1], tiles_x, r0 * tiles_x, ntiles]
                    );
                    launch!(
                        tile_gemm::<TILE_BLOCK, PANEL>,
                        outs [ws[v_end..v_end + u_len] => tp * ocp],
                        ins [ws[0..v_len], w],
                        args [np, tp, kp, ocp]
                    );
                }
                let y0 = img * img_out + r0 * M * s.ow * s.oc;
                let y1 = img * img_out + (r1 * M).min(s.oh) * s.ow * s.oc;
                launch!(
                    output_transform::<M, PANEL>,
                    outs [y[y0..y1] => M * s.ow * s.oc],
                    ins [ws[v_end..v_end + u_len], w],
                    args [s.ow, s.oc, ocp, tp, tiles_x, bias_off, code, act_a, act_b]
                );
            }
        }
    }
}

/// `G` of F(m, 3) (`m + 2` rows of 3), for the weight transform; rows past `m + 2` are zero.
fn transform_g(m: usize) -> [[f64; 3]; 8] {
    let mut g = [[0f64; 3]; 8];
    let rows: &[[f64; 3]] = match m {
        2 => &[[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]],
        4 => &[
            [0.25, 0.0, 0.0],
            [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
            [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
            [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
            [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
            [0.0, 0.0, 1.0],
        ],
        _ => &[
            [1.0, 0.0, 0.0],
            [-2.0 / 9.0, -2.0 / 9.0, -2.0 / 9.0],
            [-2.0 / 9.0, 2.0 / 9.0, -2.0 / 9.0],
            [1.0 / 90.0, 1.0 / 45.0, 2.0 / 45.0],
            [1.0 / 90.0, -1.0 / 45.0, 2.0 / 45.0],
            [32.0 / 45.0, 16.0 / 45.0, 8.0 / 45.0],
            [32.0 / 45.0, -16.0 / 45.0, 8.0 / 45.0],
            [0.0, 0.0, 1.0],
        ],
    };
    g[..rows.len()].copy_from_slice(rows);
    g
}

#[cfg(test)]
mod tests {
    use super::transform_g;

    /// `B^T` of F(m, 3), as the input transform stage computes it.
    fn transform_bt(m: usize) -> Vec<Vec<f64>> {
        let rows: Vec<Vec<f64>> = match m {
            2 => vec![vec![1., 0., -1., 0.], vec![0., 1., 1., 0.], vec![0., -1., 1., 0.], vec![0., 1., 0., -1.]],
            4 => vec![
                vec![4., 0., -5., 0., 1., 0.],
                vec![0., -4., -4., 1., 1., 0.],
                vec![0., 4., -4., -1., 1., 0.],
                vec![0., -2., -1., 2., 1., 0.],
                vec![0., 2., -1., -2., 1., 0.],
                vec![0., 4., 0., -5., 0., 1.],
            ],
            _ => vec![
                vec![1., 0., -5.25, 0., 5.25, 0., -1., 0.],
                vec![0., 1., 1., -4.25, -4.25, 1., 1., 0.],
                vec![0., -1., 1., 4.25, -4.25, -1., 1., 0.],
                vec![0., 0.5, 0.25, -2.5, -1.25, 2., 1., 0.],
                vec![0., -0.5, 0.25, 2.5, -1.25, -2., 1., 0.],
                vec![0., 2., 4., -2.5, -5., 0.5, 1., 0.],
                vec![0., -2., 4., 2.5, -5., -0.5, 1., 0.],
                vec![0., -1., 0., 5.25, 0., -5.25, 0., 1.],
            ],
        };
        rows
    }

    /// `A^T` of F(m, 3), as the output transform stage computes it.
    fn transform_at(m: usize) -> Vec<Vec<f64>> {
        match m {
            2 => vec![vec![1., 1., 1., 0.], vec![0., 1., -1., -1.]],
            4 => vec![
                vec![1., 1., 1., 1., 1., 0.],
                vec![0., 1., -1., 2., -2., 0.],
                vec![0., 1., 1., 4., 4., 0.],
                vec![0., 1., -1., 8., -8., 1.],
            ],
            _ => vec![
                vec![1., 1., 1., 1., 1., 1., 1., 0.],
                vec![0., 1., -1., 2., -2., 0.5, -0.5, 0.],
                vec![0., 1., 1., 4., 4., 0.25, 0.25, 0.],
                vec![0., 1., -1., 8., -8., 0.125, -0.125, 0.],
                vec![0., 1., 1., 16., 16., 0.0625, 0.0625, 0.],
                vec![0., 1., -1., 32., -32., 0.03125, -0.03125, 1.],
            ],
        }
    }

    /// The three matrices compute a 1-D correlation exactly: for every input position and
    /// filter tap (unit vectors, which span everything), `A^T ((G g) ⊙ (B^T d))` equals
    /// `y[k] = sum_t d[k + t] g[t]`.
    #[test]
    #[allow(clippy::needless_range_loop)] // indices are the matrices' row and column numbers
    fn transforms_compute_a_correlation() {
        for m in [2, 4, 6] {
            let n = m + 2;
            let (g, bt, at) = (transform_g(m), transform_bt(m), transform_at(m));
            for pos in 0..n {
                for tap in 0..3 {
                    let gg: Vec<f64> = (0..n).map(|a| g[a][tap]).collect();
                    let bd: Vec<f64> = (0..n).map(|a| bt[a][pos]).collect();
                    for k in 0..m {
                        let got: f64 = (0..n).map(|a| at[k][a] * gg[a] * bd[a]).sum();
                        let want = if pos == k + tap { 1.0 } else { 0.0 };
                        assert!((got - want).abs() < 1e-12, "F({m},3): output {k}, input {pos}, tap {tap}: {got}");
                    }
                }
            }
        }
    }
}
