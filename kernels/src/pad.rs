//! Constant padding of the spatial axes of an NHWC tensor: the zero border a `Pad` node
//! puts around a feature map when it cannot be folded into the layer that reads it (ResNet's
//! zero padding before its first max pooling, whose padding would be `-inf`).
//!
//! One work-item per output row: rows in the top or bottom border are filled, the others
//! are the fill value, the input row (contiguous: `iw * c` values) and the fill value again.

use ferrolite_dsl::ir::{DType, Op, PadMode};
use ferrolite_dsl::kernel::NodeCtx;
use ferrolite_dsl::variant::OpSignature;
use ferrolite_macros::{algorithm, stage};
use ferrolite_targets::Simd;

/// A constant `Pad` of a 4-D f32 tensor that adds rows and columns only (no crop, nothing on
/// the batch and channel axes).
#[derive(Debug, Clone, PartialEq)]
pub struct SpatialPadSig {
    /// Batch.
    pub n: usize,
    /// Input height and width.
    pub ih: usize,
    /// Input width.
    pub iw: usize,
    /// Channels.
    pub c: usize,
    /// Rows added above and columns added on the left.
    pub top: usize,
    /// Columns added on the left.
    pub left: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
    /// The fill value.
    pub value: f32,
}

impl OpSignature for SpatialPadSig {
    fn from_node(ctx: &NodeCtx<'_>) -> Option<Self> {
        let Op::Pad(p) = &ctx.node.op else { return None };
        let (dt, xs) = ctx.inputs.first().copied().flatten()?;
        let (yt, ys) = *ctx.outputs.first()?;
        if p.mode != PadMode::Constant || dt != DType::F32 || yt != DType::F32 || xs.len() != 4 || p.pads.len() != 8 {
            return None;
        }
        let pads: Vec<usize> = p.pads.iter().map(|&v| usize::try_from(v).ok()).collect::<Option<_>>()?;
        // [n, h, w, c] begins, then ends: only h and w may be padded.
        if pads[0] != 0 || pads[3] != 0 || pads[4] != 0 || pads[7] != 0 {
            return None;
        }
        let (oh, ow) = (xs[1] + pads[1] + pads[5], xs[2] + pads[2] + pads[6]);
        if ys != [xs[0], oh, ow, xs[3]] {
            return None;
        }
        Some(SpatialPadSig { n: xs[0], ih: xs[1], iw: xs[2], c: xs[3], top: pads[1], left: pads[2], oh, ow, value: p.value })
    }
}

/// Output row `gid` (`n * oh + r`) of the padded tensor: `y` is the row (`ow * c` values).
#[stage]
pub fn pad_row<V: Simd>(gid: usize, y: &mut [f32], x: &[f32], ih: usize, iw: usize, c: usize, top: usize, left: usize, oh: usize, value: f32) {
    let len = y.len();
    let fill = V::splat(value);
    let r = gid % oh;
    let mut lo = len;
    let mut hi = len;
    let mut src = 0;
    if r >= top && r < top + ih {
        lo = left * c;
        hi = lo + iw * c;
        src = ((gid / oh) * ih + r - top) * iw * c;
    }
    // Fill before and after the copied span, copy the span.
    let before = lo / V::LANES * V::LANES;
    for i in (0..before).step_by(V::LANES) {
        V::store(&mut y[i..], fill);
    }
    if before < lo {
        V::store_partial(&mut y[before..lo], fill);
    }
    let n = hi - lo;
    let full = n / V::LANES * V::LANES;
    for j in (0..full).step_by(V::LANES) {
        V::store(&mut y[lo + j..], V::load(&x[src + j..]));
    }
    if full < n {
        V::store_partial(&mut y[lo + full..hi], V::load_partial(&x[src + full..src + n]));
    }
    let after = (len - hi) / V::LANES * V::LANES;
    for i in (0..after).step_by(V::LANES) {
        V::store(&mut y[hi + i..], fill);
    }
    if hi + after < len {
        V::store_partial(&mut y[hi + after..len], fill);
    }
}

/// Constant padding of rows and columns of an NHWC tensor.
#[algorithm(
    op = Pad,
    sig = crate::pad::SpatialPadSig,
    name = "spatial",
    targets(scalar, avx2, avx512f, neon, opencl),
    priority = 10,
)]
pub mod spatial_pad {
    use super::*;

    pub fn schedule(s: &SpatialPadSig, p: &Params) {
        let _ = p;
        launch!(pad_row, outs [y => s.ow * s.c], ins [x], args [s.ih, s.iw, s.c, s.top, s.left, s.oh, s.value]);
    }
}
