//! Fully connected layers: `Gemm` nodes `Y = act(alpha * A @ op(B) + beta * C)` with a
//! constant `B` (the weights, stored `[K, N]` or, with `trans_b`, `[N, K]`) and a constant or
//! absent `C` broadcast over the rows (a bias of `N` values or one value).
//!
//! `alpha` and `beta` are folded into the weights and the bias when they are packed at load,
//! in the GEMM's panels of `NR = NV * LANES` columns (`crate::conv_gemm`). A batch of rows
//! runs the convolution GEMM's stage; a single row (the usual classifier head) is a
//! matrix-vector product that streams the weights once, so it is split over the columns
//! instead, with four independent accumulator sets per panel to hide the FMA latency.

use ferrolite_dsl::ir::{DType, Op};
use ferrolite_dsl::kernel::NodeCtx;
use ferrolite_dsl::variant::OpSignature;
use ferrolite_macros::{algorithm, stage};
use ferrolite_targets::Simd;

use crate::conv_gemm::gemm_rows;
use crate::epilogue::activate;
use crate::sig::Act;

/// A `Gemm` node a fully connected kernel can run: f32, `A` not transposed, constant `B`,
/// `C` absent or a constant of `N` values or one value.
#[derive(Debug, Clone, PartialEq)]
pub struct FullyConnectedSig {
    /// Rows of `A` and `Y`.
    pub m: usize,
    /// Depth of the product.
    pub k: usize,
    /// Columns of `Y`.
    pub n: usize,
    /// `B` is stored `[N, K]`.
    pub trans_b: bool,
    /// Scale of the product.
    pub alpha: f32,
    /// Scale of `C`.
    pub beta: f32,
    /// Values of `C` (0: none, 1: one value for every column, `n`: one per column).
    pub c_len: usize,
    /// The fused activation.
    pub act: Act,
}

impl OpSignature for FullyConnectedSig {
    fn from_node(ctx: &NodeCtx<'_>) -> Option<Self> {
        let Op::Gemm(g) = &ctx.node.op else { return None };
        if g.trans_a {
            return None;
        }
        let (ad, a) = ctx.inputs.first().copied().flatten()?;
        let (bd, b) = ctx.inputs.get(1).copied().flatten()?;
        let (yd, y) = *ctx.outputs.first()?;
        if ad != DType::F32 || bd != DType::F32 || yd != DType::F32 || a.len() != 2 || b.len() != 2 {
            return None;
        }
        ctx.input_value(1)?;
        let (m, k) = (a[0], a[1]);
        let (bk, n) = if g.trans_b { (b[1], b[0]) } else { (b[0], b[1]) };
        if bk != k || y != [m, n] {
            return None;
        }
        let c_len = match ctx.inputs.get(2).copied().flatten() {
            None => 0,
            Some((DType::F32, c)) if ctx.input_value(2).is_some() => {
                let len: usize = c.iter().product();
                // A row vector ([N], [1, N]) or a scalar broadcast over everything.
                let row = c.iter().rev().skip(1).all(|&d| d == 1);
                match len {
                    1 => 1,
                    _ if row && len == n => n,
                    _ => return None,
                }
            }
            Some(_) => return None,
        };
        Some(FullyConnectedSig { m, k, n, trans_b: g.trans_b, alpha: g.alpha, beta: g.beta, c_len, act: g.activation.into() })
    }
}

/// Packs `alpha * B` in panels of `nr` columns (`[panel][k][nr]`, zero-padded), then the bias
/// `beta * C` (zeros without one), `nr` values per panel.
pub fn pack_fc(s: &FullyConnectedSig, consts: &[Option<&[f32]>], nr: usize) -> Vec<f32> {
    let (k, n) = (s.k, s.n);
    let npanels = n.div_ceil(nr);
    let mut packed = vec![0f32; npanels * k * nr + npanels * nr];
    if let Some(Some(b)) = consts.get(1) {
        for j in 0..n {
            let (p, lane) = (j / nr, j % nr);
            for kk in 0..k {
                let v = if s.trans_b { b[j * k + kk] } else { b[kk * n + j] };
                packed[(p * k + kk) * nr + lane] = s.alpha * v;
            }
        }
    }
    if let Some(Some(c)) = consts.get(2).filter(|_| s.c_len > 0 && s.beta != 0.0) {
        let off = npanels * k * nr;
        for j in 0..n {
            packed[off + j] = s.beta * c[if s.c_len == 1 { 0 } else { j }];
        }
    }
    packed
}

/// Columns `[gid * panels_per_item * NR, ...)` of a one-row product `y = act(a @ B + bias)`:
/// `y` is this work-item's columns, `a` the row (`k` values), `w` the packed panels and then
/// the bias.
#[stage]
pub fn gemv_panels<V: Simd, const NV: usize>(
    gid: usize,
    y: &mut [f32],
    a: &[f32],
    w: &[f32],
    k: usize,
    npanels: usize,
    panels_per_item: usize,
    act: i32,
    act_a: f32,
    act_b: f32,
) {
    let nr = NV * V::LANES;
    let bias_off = npanels * k * nr;
    let cols = y.len();
    let k4 = k / 4 * 4;
    for q in 0..(cols + nr - 1) / nr {
        let p = gid * panels_per_item + q;
        let cn = (cols - q * nr).min(nr);
        let wo = p * k * nr;
        let mut acc = [[V::zero(); NV]; 4];
        for (ac, bc) in (&a[0..k4]).chunks_exact(4).zip((&w[wo..wo + k4 * nr]).chunks_exact(4 * nr)) {
            for u in 0..4 {
                let av = V::splat(ac[u]);
                for v in 0..NV {
                    acc[u][v] = V::fma(av, V::load(&bc[u * nr + v * V::LANES..]), acc[u][v]);
                }
            }
        }
        for kk in k4..k {
            let av = V::splat(a[kk]);
            for v in 0..NV {
                acc[0][v] = V::fma(av, V::load(&w[wo + kk * nr + v * V::LANES..]), acc[0][v]);
            }
        }
        for v in 0..NV {
            let c = v * V::LANES;
            let sum = V::add(V::add(acc[0][v], acc[1][v]), V::add(acc[2][v], acc[3][v]));
            let biased = V::add(sum, V::load(&w[bias_off + p * nr + c..]));
            let o: V::F32 = activate(biased, act, act_a, act_b);
            if c + V::LANES <= cn {
                V::store(&mut y[q * nr + c..], o);
            } else if c < cn {
                V::store_partial(&mut y[q * nr + c..q * nr + cn], o);
            }
        }
    }
}

/// Fully connected (`Gemm` with constant weights): a matrix-vector product for one row, the
/// GEMM's register tiles for more.
#[algorithm(
    op = Gemm,
    sig = crate::fc::FullyConnectedSig,
    name = "fc",
    targets(scalar, avx2, avx512f, neon, opencl),
    priority = 10,
)]
pub mod fully_connected {
    use super::*;

    /// Rows per register tile (batches of more than one row).
    #[param(compile, values = [4, 6], id = "mr{}")]
    const MR: usize = 4;

    /// Vectors of output columns per register tile.
    #[param(compile, values = [1, 2], id = "nv{}")]
    const NV: usize = 2;

    /// Panels of `NR` columns per work-item (one row).
    #[param(runtime, values = [1, 2, 4, 8])]
    const PANELS: usize = 2;

    /// Rows per work-item (several rows).
    #[param(runtime, values = [16, 48, 96])]
    const ROWS: usize = 48;

    /// Depth of one pass over `K` (several rows).
    #[param(runtime, values = [256, 1024])]
    const KC: usize = 256;

    /// `alpha * B` in panels of `NV * lanes` columns, then `beta * C`.
    pub fn prepack(s: &FullyConnectedSig, consts: &[Option<&[f32]>], lanes: usize) -> Vec<f32> {
        pack_fc(s, consts, NV * lanes)
    }

    pub fn schedule(s: &FullyConnectedSig, p: &Params) {
        let nr = NV * lanes;
        let npanels = s.n.div_ceil(nr);
        let (code, a, b) = (s.act.code, s.act.a, s.act.b);
        if s.m == 1 {
            let panels = crate::split::balanced_chunk(npanels, 1, p.PANELS, threads);
            launch!(
                gemv_panels::<NV>,
                outs [y => panels * nr],
                ins [x, w],
                args [s.k, npanels, panels, code, a, b]
            );
        } else {
            let per_item = crate::split::balanced_chunk(s.m, MR, p.ROWS, threads);
            launch!(
                gemm_rows::<MR, NV>,
                outs [y => per_item * s.n],
                ins [x, w, w],
                args [s.k, s.k, s.n, per_item, p.KC.min(s.k), npanels, false, 0, code, a, b]
            );
        }
    }
}
