//! Convolution and transposed convolution on NHWC tensors: shape inference and the f32
//! reference kernels.
//!
//! # Kernels
//!
//! `f32-conv2d-reference` packs the OHWI weight once (at load when it is a constant, into
//! the workspace otherwise) so that the innermost loop is a short run of output channels:
//!
//! - **Grouped / dense** convolutions use blocks of [`CO_BLOCK`] output channels laid out
//!   `[group][block][kh][kw][ci][CO_BLOCK]` (zero-padded past the group's last channel).
//!   A tile of output pixels of a row is accumulated together in a small array the
//!   compiler keeps in vector registers: each packed weight vector is loaded once and
//!   used for every pixel of the tile. Pixels whose window crosses the left or right edge
//!   are computed one at a time with the taps clipped, so no inner loop checks bounds and
//!   padded cells are never read.
//!
//!   The row loop is plain Rust compiled twice: for the build's baseline target (2-pixel
//!   tiles, which fit 16 SSE registers) and, on x86-64, with AVX2 enabled (4-pixel
//!   tiles), picked once per kernel by CPU detection. Both perform the same
//!   multiplications and additions in the same order (Rust never fuses them), so their
//!   results are bit-identical; only the vector width differs.
//! - **Depthwise** convolutions (`groups == C == O`) use `[kh][kw][C]` weights and
//!   accumulate blocks of channels per output pixel.
//!
//! Work is split over output rows (`n`, `oh`) on the session's threads.
//!
//! `f32-convtranspose2d-reference` gathers, for each output pixel, the input pixels and
//! taps that reach it (`o = i * stride + k * dilation - pad_begin`), with weights packed
//! `[group][kh][kw][ci][O / groups]`; rows are independent, so it parallelizes the same way.
//!
//! # Padding
//!
//! `Padding::SameUpper`/`SameLower` are resolved against the concrete input size, ONNX
//! style: output `ceil(in / stride)`, total padding `max(0, (out - 1) * stride + extent -
//! in)`, the odd pixel at the end (upper) or the start (lower). For transposed convolution
//! the padding follows ONNX's `ConvTranspose` rules (see [`TransposeAxis::plan`]).

use std::sync::Arc;

use super::util::{check_planned_shapes, expect_dtype, expect_rank, f32_values, fact, unknown_dim};
use super::{Fact, OutFact};
use crate::error::{Error, Result};
use crate::ir::{Activation, Conv2d, ConvTranspose2d, DType, Dim, Op, OpKind, Padding};
use crate::kernel::{Kernel, KernelFactory, KernelIo, KernelRegistry, NodeCtx, Packed, Parallel};

/// Output channels accumulated together by the dense/grouped path.
const CO_BLOCK: usize = 16;
/// Channels accumulated together by the depthwise path.
const DW_BLOCK: usize = 16;

/// Largest spatial size, padding, stride or window extent accepted. It keeps every
/// position computation (`o * stride + k * dilation - pad`) far from `isize` overflow.
pub(super) const MAX_SPATIAL: usize = isize::MAX as usize / 8;

const AXES: [&str; 2] = ["height", "width"];

// ---------------------------------------------------------------------------------------
// Window geometry, shared with pooling.
// ---------------------------------------------------------------------------------------

/// Padding of one spatial axis before it is resolved against the input size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AxisPadding {
    /// Fixed amounts before and after.
    Explicit { begin: usize, end: usize },
    /// Output `ceil(in / stride)`, the odd pixel of padding at the end.
    SameUpper,
    /// Output `ceil(in / stride)`, the odd pixel of padding at the start.
    SameLower,
}

impl AxisPadding {
    /// The padding of axis 0 (height) or 1 (width).
    pub(super) fn of(p: Padding, axis: usize) -> AxisPadding {
        match p {
            Padding::Explicit { top, left, bottom, right } => {
                if axis == 0 {
                    AxisPadding::Explicit { begin: top, end: bottom }
                } else {
                    AxisPadding::Explicit { begin: left, end: right }
                }
            }
            Padding::SameUpper => AxisPadding::SameUpper,
            Padding::SameLower => AxisPadding::SameLower,
        }
    }
}

/// A sliding window along one spatial axis (convolution or pooling).
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub(super) kernel: usize,
    pub(super) stride: usize,
    pub(super) dilation: usize,
    pub(super) padding: AxisPadding,
    /// Pooling's `ceil_mode`: the output rounds up, but a window that would start in the
    /// end padding is dropped (ONNX and PyTorch).
    pub(super) ceil_mode: bool,
}

/// Where a window slides along one axis for a concrete input size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AxisPlan {
    /// Output size.
    pub(super) out: usize,
    /// Padding before the first input element.
    pub(super) pad_begin: usize,
    /// Padding after the last input element (what a SAME or explicit padding adds; a
    /// `ceil_mode` window may reach past it).
    pub(super) pad_end: usize,
}

/// Checks kernel, stride and dilation attributes of a 2-D window.
pub(super) fn check_window_attrs(kernel: [usize; 2], stride: [usize; 2], dilation: [usize; 2]) -> Result<(), String> {
    for (i, axis) in AXES.iter().enumerate() {
        for (name, v) in [("kernel", kernel[i]), ("stride", stride[i]), ("dilation", dilation[i])] {
            if v == 0 {
                return Err(format!("{name} {axis} must be at least 1"));
            }
            if v > MAX_SPATIAL {
                return Err(format!("{name} {axis} {v} is too large"));
            }
        }
    }
    Ok(())
}

impl Window {
    /// The window's extent in input pixels, `dilation * (kernel - 1) + 1`.
    pub(super) fn extent(&self, axis: &str) -> Result<usize, String> {
        (self.kernel - 1)
            .checked_mul(self.dilation)
            .map(|e| e + 1)
            .filter(|&e| e <= MAX_SPATIAL)
            .ok_or_else(|| format!("{axis}: the window (kernel {}, dilation {}) is too large", self.kernel, self.dilation))
    }

    /// Resolves the window against an input of `input` pixels.
    pub(super) fn plan(&self, input: usize, axis: &str) -> Result<AxisPlan, String> {
        let ext = self.extent(axis)?;
        if input > MAX_SPATIAL {
            return Err(format!("{axis}: input size {input} is too large"));
        }
        match self.padding {
            AxisPadding::Explicit { begin, end } => {
                if begin > MAX_SPATIAL || end > MAX_SPATIAL {
                    return Err(format!("{axis}: padding {begin}+{end} is too large"));
                }
                let padded = input + begin + end;
                if padded < ext {
                    return Err(format!(
                        "{axis}: the window spans {ext} pixels but the padded input has only {padded} \
                         ({input} + padding {begin}+{end})"
                    ));
                }
                let span = padded - ext;
                let mut out = if self.ceil_mode { span.div_ceil(self.stride) + 1 } else { span / self.stride + 1 };
                if self.ceil_mode && (out - 1) * self.stride >= input + begin {
                    out -= 1;
                }
                Ok(AxisPlan { out, pad_begin: begin, pad_end: end })
            }
            AxisPadding::SameUpper | AxisPadding::SameLower => {
                let out = input.div_ceil(self.stride);
                let total = if out == 0 { 0 } else { ((out - 1) * self.stride + ext).saturating_sub(input) };
                let begin = if self.padding == AxisPadding::SameUpper { total / 2 } else { total - total / 2 };
                Ok(AxisPlan { out, pad_begin: begin, pad_end: total - begin })
            }
        }
    }

    /// The output size for a possibly symbolic input size: exact when it is fixed, the
    /// input's own symbol when the window preserves the size, `?` otherwise.
    pub(super) fn out_dim(&self, input: &Dim, axis: &str) -> Result<Dim, String> {
        match input {
            Dim::Fixed(n) => Ok(Dim::Fixed(self.plan(*n, axis)?.out)),
            Dim::Sym(_) => {
                let ext = self.extent(axis)?;
                let preserves = self.stride == 1
                    && match self.padding {
                        AxisPadding::Explicit { begin, end } => begin.checked_add(end) == Some(ext - 1),
                        AxisPadding::SameUpper | AxisPadding::SameLower => true,
                    };
                Ok(if preserves { input.clone() } else { unknown_dim() })
            }
        }
    }
}

/// Taps `k` in `0..kernel` whose input position `o * stride - pad + k * dilation` falls
/// inside `0..input`, as a range (valid taps of one output position are contiguous).
pub(super) fn tap_range(o: usize, stride: usize, pad: usize, dilation: usize, kernel: usize, input: usize) -> (usize, usize) {
    // Positions are bounded by MAX_SPATIAL-sized operands (checked when planning), so the
    // signed arithmetic cannot overflow.
    let start = (o * stride) as isize - pad as isize;
    let lo = if start >= 0 { 0 } else { (start.unsigned_abs()).div_ceil(dilation) };
    let last = input as isize - 1 - start;
    let hi = if last < 0 { 0 } else { (last as usize / dilation + 1).min(kernel) };
    (lo.min(hi), hi)
}

/// Output positions `lo..hi` whose whole window lies inside the input.
fn full_window_range(out: usize, stride: usize, pad: usize, dilation: usize, kernel: usize, input: usize) -> (usize, usize) {
    let ext = (kernel - 1) * dilation + 1;
    if input + pad < ext {
        return (0, 0);
    }
    let lo = pad.div_ceil(stride);
    let hi = ((input + pad - ext) / stride + 1).min(out);
    (lo.min(hi), hi)
}

/// The NHWC input shape of a spatial operator, checked for rank 4.
pub(super) fn nhwc<'s>(x: &Fact<'s>) -> Result<Option<&'s [Dim]>, String> {
    x.shape.map(|s| expect_rank(s, 4, "input (NHWC)")).transpose()
}

/// Applies `act` to every value of `v`.
#[inline]
pub(super) fn activate(act: Activation, v: &mut [f32]) {
    if act != Activation::None {
        for x in v {
            *x = act.apply(*x);
        }
    }
}

/// Whether every present input and every output of the node is f32.
pub(super) fn all_f32(ctx: &NodeCtx<'_>) -> bool {
    ctx.inputs.iter().flatten().all(|(d, _)| *d == DType::F32) && ctx.outputs.iter().all(|(d, _)| *d == DType::F32)
}

/// Weights packed by a kernel at load time.
#[derive(Debug)]
pub(crate) struct PackedF32(pub(super) Vec<f32>);

impl PackedF32 {
    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.0.len() * 4
    }
}

/// Takes packed weights made by this module's `prepack` back from the planner.
pub(super) fn downcast_packed(ctx: &NodeCtx<'_>, packed: Option<Packed>, len: usize) -> Result<Option<Arc<PackedF32>>> {
    let Some(p) = packed else { return Ok(None) };
    let p = p.downcast::<PackedF32>().map_err(|_| ctx.err("pre-packed weights come from another kernel"))?;
    if p.0.len() != len {
        return Err(ctx.err(format!("pre-packed weights hold {} values, the kernel needs {len}", p.0.len())));
    }
    Ok(Some(p))
}

/// The workspace viewed as `len` f32 values.
pub(super) fn workspace_f32(ws: &mut [u8], len: usize) -> Result<&mut [f32]> {
    let bytes = ws.get_mut(..len * 4).ok_or_else(|| Error::Graph(format!("workspace smaller than {} bytes", len * 4)))?;
    bytemuck::try_cast_slice_mut(bytes).map_err(|e| Error::Graph(format!("workspace is not f32-aligned: {e}")))
}

/// Input `i` of a running kernel as f32 values, checked to hold `len` of them.
pub(super) fn input_f32<'a>(io: &KernelIo<'a, '_>, i: usize, len: usize) -> Result<&'a [f32]> {
    let v = io.input(i)?.f32()?;
    if v.len() != len {
        return Err(Error::Graph(format!("kernel input {i} holds {} values, expected {len}", v.len())));
    }
    Ok(v)
}

/// Optional input `i` of a running kernel as f32 values, checked to hold `len` of them.
pub(super) fn optional_input_f32<'a>(io: &KernelIo<'a, '_>, i: usize, len: usize) -> Result<Option<&'a [f32]>> {
    match io.inputs.get(i).copied().flatten() {
        Some(_) => input_f32(io, i, len).map(Some),
        None => Ok(None),
    }
}

/// Output `i` of a running kernel as f32 values, checked to hold `len` of them.
pub(super) fn output_f32<'o>(outputs: &'o mut [crate::tensor::TensorViewMut<'_>], i: usize, len: usize) -> Result<&'o mut [f32]> {
    let out = outputs.get_mut(i).ok_or_else(|| Error::Graph(format!("kernel output {i} is missing")))?.f32_mut()?;
    if out.len() != len {
        return Err(Error::Graph(format!("kernel output {i} holds {} values, expected {len}", out.len())));
    }
    Ok(out)
}

/// Shape of input `i`, checked to have `rank` dims.
fn shape_of<'a>(ctx: &NodeCtx<'a>, i: usize, rank: usize) -> Result<&'a [usize]> {
    let s = ctx.input_shape(i)?;
    if s.len() != rank {
        return Err(ctx.err(format!("input {i} has shape {s:?}, expected rank {rank}")));
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------
// Conv2d: shape inference.
// ---------------------------------------------------------------------------------------

fn conv_windows(a: &Conv2d) -> [Window; 2] {
    std::array::from_fn(|i| Window {
        kernel: a.kernel[i],
        stride: a.stride[i],
        dilation: a.dilation[i],
        padding: AxisPadding::of(a.padding, i),
        ceil_mode: false,
    })
}

/// Checks bias and weight against each other and the input; returns the output channels.
fn check_weights(
    x: Option<&[Dim]>,
    w: Option<&[Dim]>,
    bias: Option<Fact<'_>>,
    kernel: [usize; 2],
    groups: usize,
    transposed: bool,
) -> Result<Dim, String> {
    if groups == 0 {
        return Err("groups must be at least 1".into());
    }
    let mut out_channels = unknown_dim();
    if let Some(w) = w {
        for (i, axis) in AXES.iter().enumerate() {
            if let Some(k) = w[1 + i].fixed()
                && k != kernel[i]
            {
                return Err(format!("the weight's kernel {axis} is {k} but the kernel attribute says {}", kernel[i]));
            }
        }
        if transposed {
            // [C, KH, KW, O/groups]: the input channels come first.
            if let Some(c) = w[0].fixed()
                && c % groups != 0
            {
                return Err(format!("the weight's {c} input channels are not divisible by {groups} groups"));
            }
            out_channels = match w[3].fixed() {
                Some(og) => Dim::Fixed(og.checked_mul(groups).ok_or("output channel count overflows")?),
                None if groups == 1 => w[3].clone(),
                None => unknown_dim(),
            };
        } else {
            if let Some(o) = w[0].fixed()
                && o % groups != 0
            {
                return Err(format!("the weight's {o} output channels are not divisible by {groups} groups"));
            }
            out_channels = w[0].clone();
        }
    }
    if let (Some(x), Some(w)) = (x, w)
        && let Some(c) = x[3].fixed()
    {
        if c % groups != 0 {
            return Err(format!("the input's {c} channels are not divisible by {groups} groups"));
        }
        if transposed {
            if let Some(wc) = w[0].fixed()
                && wc != c
            {
                return Err(format!("the input has {c} channels but the weight [C, KH, KW, O/groups] has {wc}"));
            }
        } else if let Some(cg) = w[3].fixed()
            && cg.checked_mul(groups) != Some(c)
        {
            return Err(format!("the input has {c} channels but the weight expects {cg} per group x {groups} groups"));
        }
    }
    if let Some(b) = bias {
        expect_dtype(&b, &[DType::F32], "bias")?;
        if let Some(bs) = b.shape {
            let bs = expect_rank(bs, 1, "bias")?;
            if let (Some(n), Some(o)) = (bs[0].fixed(), out_channels.fixed())
                && n != o
            {
                return Err(format!("the bias has {n} values but there are {o} output channels"));
            }
        }
    }
    Ok(out_channels)
}

/// Shape inference of [`Op::Conv2d`].
pub(super) fn infer_conv(a: &Conv2d, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    check_window_attrs(a.kernel, a.stride, a.dilation)?;
    let x = *fact(inputs, 0, "input")?;
    let w = *fact(inputs, 1, "weight")?;
    expect_dtype(&x, &[DType::F32], "input")?;
    expect_dtype(&w, &[DType::F32], "weight")?;
    let xs = nhwc(&x)?;
    let ws = w.shape.map(|s| expect_rank(s, 4, "weight (OHWI)")).transpose()?;
    let bias = inputs.get(2).copied().flatten();
    let o = check_weights(xs, ws, bias, a.kernel, a.groups, false)?;
    let shape = match xs {
        Some(xs) => {
            let [wh, ww] = conv_windows(a);
            vec![xs[0].clone(), wh.out_dim(&xs[1], AXES[0])?, ww.out_dim(&xs[2], AXES[1])?, o]
        }
        None => vec![unknown_dim(), unknown_dim(), unknown_dim(), o],
    };
    // The residual is added to the output element by element: same shape, where known.
    if let Some(r) = inputs.get(3).copied().flatten() {
        expect_dtype(&r, &[DType::F32], "residual")?;
        if let Some(rs) = r.shape {
            let rs = expect_rank(rs, 4, "residual")?;
            for (i, (a, b)) in rs.iter().zip(&shape).enumerate() {
                if let (Some(a), Some(b)) = (a.fixed(), b.fixed())
                    && a != b
                {
                    return Err(format!("residual dimension {i} is {a}, the output's is {b}"));
                }
            }
        }
    }
    Ok(vec![OutFact { dtype: DType::F32, shape: Some(shape) }])
}

// ---------------------------------------------------------------------------------------
// Conv2d: weights and kernel.
// ---------------------------------------------------------------------------------------

/// The weight of a convolution and how it is packed.
#[derive(Debug, Clone, Copy)]
struct ConvWeights {
    /// Output channels.
    o: usize,
    kh: usize,
    kw: usize,
    /// Input channels per group.
    cg: usize,
    groups: usize,
    /// Output channels per group.
    og: usize,
    /// `groups == C == O`: packed `[kh][kw][C]`.
    depthwise: bool,
    /// Values after packing.
    packed_len: usize,
}

impl ConvWeights {
    fn new(groups: usize, kernel: [usize; 2], w: &[usize]) -> Result<ConvWeights, String> {
        let &[o, kh, kw, cg] = w else { return Err(format!("the weight must be [O, KH, KW, C/groups], got {w:?}")) };
        if groups == 0 || o % groups != 0 {
            return Err(format!("{o} output channels are not divisible by {groups} groups"));
        }
        if [kh, kw] != kernel {
            return Err(format!("the weight's kernel {kh}x{kw} differs from the attribute {}x{}", kernel[0], kernel[1]));
        }
        if kh == 0 || kw == 0 {
            return Err(format!("the weight's kernel {kh}x{kw} is empty"));
        }
        let og = o / groups;
        let depthwise = cg == 1 && og == 1;
        // Packing pads each group's channels to whole blocks; keep the byte count in range.
        let packed_len = if depthwise {
            Some(o * kh * kw)
        } else {
            [og.div_ceil(CO_BLOCK), kh, kw, cg, CO_BLOCK].iter().try_fold(groups, |a, &d| a.checked_mul(d))
        }
        .filter(|&n| n <= isize::MAX as usize / 4)
        .ok_or_else(|| format!("the packed weight of {o}x{kh}x{kw}x{cg} in {groups} groups is too large"))?;
        Ok(ConvWeights { o, kh, kw, cg, groups, og, depthwise, packed_len })
    }

    fn blocks(&self) -> usize {
        self.og.div_ceil(CO_BLOCK)
    }

    /// Packed length of one group's block of output channels.
    fn block_len(&self) -> usize {
        self.kh * self.kw * self.cg * CO_BLOCK
    }

    fn source_len(&self) -> usize {
        self.o * self.kh * self.kw * self.cg
    }

    fn packed_len(&self) -> usize {
        self.packed_len
    }

    /// Packs OHWI weights `w` into `dst` (`packed_len()` values).
    fn pack(&self, w: &[f32], dst: &mut [f32]) {
        let taps = self.kh * self.kw;
        if self.depthwise {
            // [C][kh][kw] -> [kh][kw][C]
            for (ch, src) in w.chunks_exact(taps).enumerate() {
                for (t, &v) in src.iter().enumerate() {
                    dst[t * self.o + ch] = v;
                }
            }
            return;
        }
        dst.fill(0.0);
        let blocks = self.blocks();
        let block_len = self.block_len();
        for co in 0..self.o {
            let (grp, j) = (co / self.og, co % self.og);
            let (cb, lane) = (j / CO_BLOCK, j % CO_BLOCK);
            let block = &mut dst[(grp * blocks + cb) * block_len..][..block_len];
            let src = &w[co * taps * self.cg..][..taps * self.cg];
            // src is [kh][kw][ci] for this output channel; so is the block's row order.
            for (r, &v) in src.iter().enumerate() {
                block[r * CO_BLOCK + lane] = v;
            }
        }
    }
}

/// Everything a convolution kernel needs to know about its shapes.
#[derive(Debug, Clone, Copy)]
struct ConvGeom {
    n: usize,
    ih: usize,
    iw: usize,
    c: usize,
    oh: usize,
    ow: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    /// Padding above / left.
    pt: usize,
    pl: usize,
    w: ConvWeights,
}

impl ConvGeom {
    fn new(a: &Conv2d, x: &[usize], w: &[usize]) -> Result<ConvGeom, String> {
        let weights = ConvWeights::new(a.groups, a.kernel, w)?;
        let &[n, ih, iw, c] = x else { return Err(format!("the input must be NHWC, got {x:?}")) };
        if weights.cg.checked_mul(a.groups) != Some(c) {
            return Err(format!("the input has {c} channels, the weight expects {} x {} groups", weights.cg, a.groups));
        }
        let [wh, ww] = conv_windows(a);
        let ph = wh.plan(ih, AXES[0])?;
        let pw = ww.plan(iw, AXES[1])?;
        Ok(ConvGeom {
            n,
            ih,
            iw,
            c,
            oh: ph.out,
            ow: pw.out,
            sh: a.stride[0],
            sw: a.stride[1],
            dh: a.dilation[0],
            dw: a.dilation[1],
            pt: ph.pad_begin,
            pl: pw.pad_begin,
            w: weights,
        })
    }
}

/// `f32-conv2d-reference`.
#[derive(Debug)]
struct ConvFactory;

impl KernelFactory for ConvFactory {
    fn id(&self) -> &str {
        "f32-conv2d-reference"
    }

    fn op(&self) -> OpKind {
        OpKind::Conv2d
    }

    fn applies(&self, ctx: &NodeCtx<'_>) -> bool {
        matches!(ctx.node.op, Op::Conv2d(_)) && all_f32(ctx)
    }

    fn prepack(&self, ctx: &NodeCtx<'_>) -> Result<Option<Packed>> {
        let Op::Conv2d(a) = &ctx.node.op else { return Err(ctx.err("not a Conv2d node")) };
        let Some(value) = ctx.input_value(1) else { return Ok(None) };
        let weights = ConvWeights::new(a.groups, a.kernel, shape_of(ctx, 1, 4)?).map_err(|e| ctx.err(e))?;
        let w = f32_values(value.bytes()).map_err(|e| ctx.err(format!("weight: {e}")))?;
        if w.len() != weights.source_len() {
            return Err(ctx.err(format!("the weight holds {} values, its shape needs {}", w.len(), weights.source_len())));
        }
        let mut data = vec![0.0; weights.packed_len()];
        weights.pack(&w, &mut data);
        Ok(Some(Arc::new(PackedF32(data))))
    }

    fn build(&self, ctx: &NodeCtx<'_>, packed: Option<Packed>) -> Result<Box<dyn Kernel>> {
        let Op::Conv2d(a) = &ctx.node.op else { return Err(ctx.err("not a Conv2d node")) };
        check_planned_shapes(ctx)?;
        let geom = ConvGeom::new(a, shape_of(ctx, 0, 4)?, shape_of(ctx, 1, 4)?).map_err(|e| ctx.err(e))?;
        let packed = downcast_packed(ctx, packed, geom.w.packed_len())?;
        Ok(Box::new(ConvKernel { g: geom, act: a.activation, packed, avx2: has_avx2() }))
    }
}

#[derive(Debug)]
struct ConvKernel {
    g: ConvGeom,
    act: Activation,
    /// `None` when the weight is not a constant: it is packed into the workspace per run.
    packed: Option<Arc<PackedF32>>,
    /// The CPU supports AVX2: rows run through `conv_row_avx2`.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    avx2: bool,
}

impl Kernel for ConvKernel {
    fn workspace_bytes(&self) -> usize {
        if self.packed.is_some() { 0 } else { self.g.w.packed_len() * 4 }
    }

    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let g = &self.g;
        let x = input_f32(&io, 0, g.n * g.ih * g.iw * g.c)?;
        let bias = optional_input_f32(&io, 2, g.w.o)?;
        let residual = optional_input_f32(&io, 3, g.n * g.oh * g.ow * g.w.o)?;
        let weights: &[f32] = match &self.packed {
            Some(p) => &p.0,
            None => {
                let w = input_f32(&io, 1, g.w.source_len())?;
                let dst = workspace_f32(io.workspace, g.w.packed_len())?;
                g.w.pack(w, dst);
                dst
            }
        };
        let row_len = g.ow * g.w.o;
        let out = output_f32(io.outputs, 0, g.n * g.oh * row_len)?;
        if out.is_empty() {
            return Ok(());
        }
        // With a residual, the activation comes after it is added.
        let act = if residual.is_some() { Activation::None } else { self.act };
        par.for_each_chunk_mut(out, row_len, |r, row| {
            if g.w.depthwise {
                depthwise_row(g, act, x, weights, bias, r, row);
            } else {
                #[cfg(target_arch = "x86_64")]
                if self.avx2 {
                    // SAFETY: `avx2` is set only when the running CPU supports AVX2
                    // (detected in `build`), the one requirement of `conv_row_avx2`.
                    unsafe { conv_row_avx2(g, act, x, weights, bias, r, row) };
                    add_residual(residual, self.act, r, row);
                    return;
                }
                conv_row::<PIXEL_TILE>(g, act, x, weights, bias, r, row);
            }
            add_residual(residual, self.act, r, row);
        });
        Ok(())
    }
}

/// Adds row `r` of the residual (if any) to an output row, then applies the activation.
fn add_residual(residual: Option<&[f32]>, act: Activation, r: usize, row: &mut [f32]) {
    if let Some(res) = residual {
        let n = row.len();
        for (o, &v) in row.iter_mut().zip(&res[r * n..(r + 1) * n]) {
            *o = act.apply(*o + v);
        }
    }
}

/// Output pixels per tile of the dense/grouped path in the baseline build.
const PIXEL_TILE: usize = 2;
/// Output pixels per tile of the dense/grouped path compiled for AVX2.
#[cfg(target_arch = "x86_64")]
const PIXEL_TILE_AVX2: usize = 4;

/// Whether the CPU runs `conv_row_avx2`.
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`conv_row`] compiled with AVX2 enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn conv_row_avx2(g: &ConvGeom, act: Activation, x: &[f32], packed: &[f32], bias: Option<&[f32]>, r: usize, row: &mut [f32]) {
    conv_row::<PIXEL_TILE_AVX2>(g, act, x, packed, bias, r, row);
}

/// Computes output row `r` (`n * OH + oh`) of a dense or grouped convolution, `TILE`
/// pixels at a time where whole windows fit.
#[inline(always)]
fn conv_row<const TILE: usize>(
    g: &ConvGeom,
    act: Activation,
    x: &[f32],
    packed: &[f32],
    bias: Option<&[f32]>,
    r: usize,
    row: &mut [f32],
) {
    let w = &g.w;
    let (n, oh) = (r / g.oh, r % g.oh);
    let image = &x[n * g.ih * g.iw * g.c..][..g.ih * g.iw * g.c];
    let khs = tap_range(oh, g.sh, g.pt, g.dh, w.kh, g.ih);
    let (full_lo, full_hi) = full_window_range(g.ow, g.sw, g.pl, g.dw, w.kw, g.iw);
    let blocks = w.blocks();
    let block_len = w.block_len();
    for grp in 0..w.groups {
        for cb in 0..blocks {
            let block = &packed[(grp * blocks + cb) * block_len..][..block_len];
            let co0 = grp * w.og + cb * CO_BLOCK;
            let width = CO_BLOCK.min(w.og - cb * CO_BLOCK);
            let mut init = [0.0f32; CO_BLOCK];
            if let Some(b) = bias {
                init[..width].copy_from_slice(&b[co0..co0 + width]);
            }
            let tile = Tile { g, image, block, grp, oh, khs, init };
            let mut ow = 0;
            while ow < g.ow {
                if ow >= full_lo && ow + TILE <= full_hi {
                    let acc = tile.compute::<TILE>(ow, (0, w.kw));
                    store(row, &acc, ow, w.o, co0, width, act);
                    ow += TILE;
                } else {
                    let kws = tap_range(ow, g.sw, g.pl, g.dw, w.kw, g.iw);
                    let acc = tile.compute::<1>(ow, kws);
                    store(row, &acc, ow, w.o, co0, width, act);
                    ow += 1;
                }
            }
        }
    }
}

/// One block of output channels over a tile of pixels of one output row.
struct Tile<'a> {
    g: &'a ConvGeom,
    /// The input image of the row's batch item.
    image: &'a [f32],
    /// The block's packed weights, `[kh][kw][ci][CO_BLOCK]`.
    block: &'a [f32],
    grp: usize,
    oh: usize,
    /// Valid kernel rows for this output row.
    khs: (usize, usize),
    /// Bias of the block's channels.
    init: [f32; CO_BLOCK],
}

impl Tile<'_> {
    /// Accumulates output pixels `ow0..ow0 + T` over kernel columns `kws` (every one of
    /// which must be inside the input for all `T` pixels).
    #[inline(always)]
    fn compute<const T: usize>(&self, ow0: usize, kws: (usize, usize)) -> [[f32; CO_BLOCK]; T] {
        let g = self.g;
        let (cg, kw_count) = (g.w.cg, g.w.kw);
        let row_len = g.iw * g.c;
        let mut acc = [self.init; T];
        for kh in self.khs.0..self.khs.1 {
            let ih = self.oh * g.sh + kh * g.dh - g.pt;
            let x_row = &self.image[ih * row_len..][..row_len];
            for kw in kws.0..kws.1 {
                let taps = &self.block[(kh * kw_count + kw) * cg * CO_BLOCK..][..cg * CO_BLOCK];
                let (w_rows, _) = taps.as_chunks::<CO_BLOCK>();
                let xs: [&[f32]; T] = std::array::from_fn(|t| {
                    let iw = (ow0 + t) * g.sw + kw * g.dw - g.pl;
                    &x_row[iw * g.c + self.grp * cg..][..cg]
                });
                for (ci, wv) in w_rows.iter().enumerate() {
                    for t in 0..T {
                        let xv = xs[t][ci];
                        for j in 0..CO_BLOCK {
                            acc[t][j] += xv * wv[j];
                        }
                    }
                }
            }
        }
        acc
    }
}

/// Writes `T` accumulated pixels (the first `width` channels of each) to the row.
#[inline(always)]
fn store<const T: usize>(
    row: &mut [f32],
    acc: &[[f32; CO_BLOCK]; T],
    ow0: usize,
    o: usize,
    co0: usize,
    width: usize,
    act: Activation,
) {
    for (t, px) in acc.iter().enumerate() {
        let dst = &mut row[(ow0 + t) * o + co0..][..width];
        for (d, &v) in dst.iter_mut().zip(px) {
            *d = act.apply(v);
        }
    }
}

/// Computes output row `r` of a depthwise convolution (`groups == C == O`).
fn depthwise_row(g: &ConvGeom, act: Activation, x: &[f32], packed: &[f32], bias: Option<&[f32]>, r: usize, row: &mut [f32]) {
    let (c, kw_count) = (g.c, g.w.kw);
    let (n, oh) = (r / g.oh, r % g.oh);
    let image = &x[n * g.ih * g.iw * c..][..g.ih * g.iw * c];
    let khs = tap_range(oh, g.sh, g.pt, g.dh, g.w.kh, g.ih);
    let full_blocks = c / DW_BLOCK * DW_BLOCK;
    for (ow, out_px) in row.chunks_exact_mut(c).enumerate() {
        let kws = tap_range(ow, g.sw, g.pl, g.dw, kw_count, g.iw);
        // Offsets of channel 0 of the input pixel and of the weights of tap (kh, kw).
        let offsets = |kh: usize, kw: usize| {
            let ih = oh * g.sh + kh * g.dh - g.pt;
            let iw = ow * g.sw + kw * g.dw - g.pl;
            ((ih * g.iw + iw) * c, (kh * kw_count + kw) * c)
        };
        for c0 in (0..full_blocks).step_by(DW_BLOCK) {
            let mut acc = [0.0f32; DW_BLOCK];
            if let Some(b) = bias {
                acc.copy_from_slice(&b[c0..c0 + DW_BLOCK]);
            }
            for kh in khs.0..khs.1 {
                for kw in kws.0..kws.1 {
                    let (xo, wo) = offsets(kh, kw);
                    let xv = &image[xo + c0..][..DW_BLOCK];
                    let wv = &packed[wo + c0..][..DW_BLOCK];
                    for j in 0..DW_BLOCK {
                        acc[j] += xv[j] * wv[j];
                    }
                }
            }
            for (d, v) in out_px[c0..c0 + DW_BLOCK].iter_mut().zip(acc) {
                *d = act.apply(v);
            }
        }
        if full_blocks < c {
            let rest = &mut out_px[full_blocks..];
            match bias {
                Some(b) => rest.copy_from_slice(&b[full_blocks..]),
                None => rest.fill(0.0),
            }
            for kh in khs.0..khs.1 {
                for kw in kws.0..kws.1 {
                    let (xo, wo) = offsets(kh, kw);
                    let xv = &image[xo + full_blocks..xo + c];
                    let wv = &packed[wo + full_blocks..wo + c];
                    for ((d, &a), &b) in rest.iter_mut().zip(xv).zip(wv) {
                        *d += a * b;
                    }
                }
            }
            activate(act, rest);
        }
    }
}

// ---------------------------------------------------------------------------------------
// ConvTranspose2d.
// ---------------------------------------------------------------------------------------

/// One spatial axis of a transposed convolution.
#[derive(Debug, Clone, Copy)]
struct TransposeAxis {
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: AxisPadding,
    output_padding: usize,
    output_size: Option<usize>,
}

fn transpose_axes(a: &ConvTranspose2d) -> [TransposeAxis; 2] {
    std::array::from_fn(|i| TransposeAxis {
        kernel: a.kernel[i],
        stride: a.stride[i],
        dilation: a.dilation[i],
        padding: AxisPadding::of(a.padding, i),
        output_padding: a.output_padding[i],
        output_size: a.output_size.map(|s| s[i]),
    })
}

impl TransposeAxis {
    /// Output size and the padding before the first output pixel (negative when the output
    /// extends past the full result), for an input of `input` pixels.
    ///
    /// ONNX: the full output is `stride * (in - 1) + output_padding + extent`. With
    /// `output_size` (ONNX `output_shape`) or SAME padding (output `in * stride`), the
    /// total padding `full - out` is split with the odd pixel at the end for `SameUpper`
    /// and at the start otherwise; explicit padding is cut from the full output.
    fn plan(&self, input: usize, axis: &str) -> Result<(usize, isize), String> {
        let too_large = || format!("{axis}: the transposed convolution's output is too large");
        let ext =
            Window { kernel: self.kernel, stride: self.stride, dilation: self.dilation, padding: self.padding, ceil_mode: false }
                .extent(axis)?;
        if input == 0 {
            return Err(format!("{axis}: the input is empty"));
        }
        if input > MAX_SPATIAL || self.output_padding > MAX_SPATIAL {
            return Err(too_large());
        }
        let full = self
            .stride
            .checked_mul(input - 1)
            .and_then(|v| v.checked_add(self.output_padding + ext))
            .filter(|&v| v <= MAX_SPATIAL)
            .ok_or_else(too_large)?;
        let out = match (self.output_size, self.padding) {
            (Some(out), _) => out,
            (None, AxisPadding::SameUpper | AxisPadding::SameLower) => input.checked_mul(self.stride).ok_or_else(too_large)?,
            (None, AxisPadding::Explicit { begin, end }) => {
                let cut = begin
                    .checked_add(end)
                    .filter(|&c| c < full)
                    .ok_or_else(|| format!("{axis}: padding {begin}+{end} leaves nothing of the full output of {full}"))?;
                return Ok((full - cut, begin as isize));
            }
        };
        if out == 0 || out > MAX_SPATIAL {
            return Err(format!("{axis}: output size {out} is out of range"));
        }
        let total = full as isize - out as isize;
        let half = total.div_euclid(2);
        let begin = if self.padding == AxisPadding::SameUpper { half } else { total - half };
        Ok((out, begin))
    }

    fn out_dim(&self, input: &Dim, axis: &str) -> Result<Dim, String> {
        match input {
            Dim::Fixed(n) => Ok(Dim::Fixed(self.plan(*n, axis)?.0)),
            Dim::Sym(_) => {
                if let Some(out) = self.output_size {
                    return Ok(Dim::Fixed(out));
                }
                let ext = (self.kernel - 1).checked_mul(self.dilation).map(|e| e + 1);
                let preserves = self.stride == 1
                    && match self.padding {
                        AxisPadding::SameUpper | AxisPadding::SameLower => true,
                        AxisPadding::Explicit { begin, end } => {
                            ext.and_then(|e| (e - 1).checked_add(self.output_padding)) == begin.checked_add(end)
                        }
                    };
                Ok(if preserves { input.clone() } else { unknown_dim() })
            }
        }
    }
}

/// Shape inference of [`Op::ConvTranspose2d`].
pub(super) fn infer_conv_transpose(a: &ConvTranspose2d, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    check_window_attrs(a.kernel, a.stride, a.dilation)?;
    let x = *fact(inputs, 0, "input")?;
    let w = *fact(inputs, 1, "weight")?;
    expect_dtype(&x, &[DType::F32], "input")?;
    expect_dtype(&w, &[DType::F32], "weight")?;
    let xs = nhwc(&x)?;
    let ws = w.shape.map(|s| expect_rank(s, 4, "weight ([C, KH, KW, O/groups])")).transpose()?;
    let bias = inputs.get(2).copied().flatten();
    let o = check_weights(xs, ws, bias, a.kernel, a.groups, true)?;
    let shape = match xs {
        Some(xs) => {
            let [th, tw] = transpose_axes(a);
            vec![xs[0].clone(), th.out_dim(&xs[1], AXES[0])?, tw.out_dim(&xs[2], AXES[1])?, o]
        }
        None => vec![unknown_dim(), unknown_dim(), unknown_dim(), o],
    };
    Ok(vec![OutFact { dtype: DType::F32, shape: Some(shape) }])
}

/// The weight of a transposed convolution, `[C, KH, KW, O/groups]`, packed
/// `[group][kh][kw][ci][og]`.
#[derive(Debug, Clone, Copy)]
struct TransposeWeights {
    c: usize,
    kh: usize,
    kw: usize,
    og: usize,
    groups: usize,
    cg: usize,
}

impl TransposeWeights {
    fn new(groups: usize, kernel: [usize; 2], w: &[usize]) -> Result<TransposeWeights, String> {
        let &[c, kh, kw, og] = w else { return Err(format!("the weight must be [C, KH, KW, O/groups], got {w:?}")) };
        if groups == 0 || c % groups != 0 {
            return Err(format!("{c} input channels are not divisible by {groups} groups"));
        }
        if [kh, kw] != kernel {
            return Err(format!("the weight's kernel {kh}x{kw} differs from the attribute {}x{}", kernel[0], kernel[1]));
        }
        if kh == 0 || kw == 0 {
            return Err(format!("the weight's kernel {kh}x{kw} is empty"));
        }
        Ok(TransposeWeights { c, kh, kw, og, groups, cg: c / groups })
    }

    fn len(&self) -> usize {
        self.c * self.kh * self.kw * self.og
    }

    fn pack(&self, w: &[f32], dst: &mut [f32]) {
        let taps = self.kh * self.kw;
        if self.len() == 0 {
            return;
        }
        for (ch, src) in w.chunks_exact(taps * self.og).enumerate() {
            let (grp, ci) = (ch / self.cg, ch % self.cg);
            for (t, vals) in src.chunks_exact(self.og).enumerate() {
                dst[((grp * taps + t) * self.cg + ci) * self.og..][..self.og].copy_from_slice(vals);
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct TransposeGeom {
    n: usize,
    ih: usize,
    iw: usize,
    oh: usize,
    ow: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: isize,
    pl: isize,
    w: TransposeWeights,
}

impl TransposeGeom {
    fn new(a: &ConvTranspose2d, x: &[usize], w: &[usize]) -> Result<TransposeGeom, String> {
        let weights = TransposeWeights::new(a.groups, a.kernel, w)?;
        let &[n, ih, iw, c] = x else { return Err(format!("the input must be NHWC, got {x:?}")) };
        if c != weights.c {
            return Err(format!("the input has {c} channels, the weight {}", weights.c));
        }
        let [th, tw] = transpose_axes(a);
        let (oh, pt) = th.plan(ih, AXES[0])?;
        let (ow, pl) = tw.plan(iw, AXES[1])?;
        Ok(TransposeGeom {
            n,
            ih,
            iw,
            oh,
            ow,
            sh: a.stride[0],
            sw: a.stride[1],
            dh: a.dilation[0],
            dw: a.dilation[1],
            pt,
            pl,
            w: weights,
        })
    }

    fn o(&self) -> usize {
        self.w.og * self.w.groups
    }
}

/// `f32-convtranspose2d-reference`.
#[derive(Debug)]
struct ConvTransposeFactory;

impl KernelFactory for ConvTransposeFactory {
    fn id(&self) -> &str {
        "f32-convtranspose2d-reference"
    }

    fn op(&self) -> OpKind {
        OpKind::ConvTranspose2d
    }

    fn applies(&self, ctx: &NodeCtx<'_>) -> bool {
        matches!(ctx.node.op, Op::ConvTranspose2d(_)) && all_f32(ctx)
    }

    fn prepack(&self, ctx: &NodeCtx<'_>) -> Result<Option<Packed>> {
        let Op::ConvTranspose2d(a) = &ctx.node.op else { return Err(ctx.err("not a ConvTranspose2d node")) };
        let Some(value) = ctx.input_value(1) else { return Ok(None) };
        let weights = TransposeWeights::new(a.groups, a.kernel, shape_of(ctx, 1, 4)?).map_err(|e| ctx.err(e))?;
        let w = f32_values(value.bytes()).map_err(|e| ctx.err(format!("weight: {e}")))?;
        if w.len() != weights.len() {
            return Err(ctx.err(format!("the weight holds {} values, its shape needs {}", w.len(), weights.len())));
        }
        let mut data = vec![0.0; weights.len()];
        weights.pack(&w, &mut data);
        Ok(Some(Arc::new(PackedF32(data))))
    }

    fn build(&self, ctx: &NodeCtx<'_>, packed: Option<Packed>) -> Result<Box<dyn Kernel>> {
        let Op::ConvTranspose2d(a) = &ctx.node.op else { return Err(ctx.err("not a ConvTranspose2d node")) };
        check_planned_shapes(ctx)?;
        let geom = TransposeGeom::new(a, shape_of(ctx, 0, 4)?, shape_of(ctx, 1, 4)?).map_err(|e| ctx.err(e))?;
        let packed = downcast_packed(ctx, packed, geom.w.len())?;
        Ok(Box::new(ConvTransposeKernel { g: geom, act: a.activation, packed }))
    }
}

#[derive(Debug)]
struct ConvTransposeKernel {
    g: TransposeGeom,
    act: Activation,
    packed: Option<Arc<PackedF32>>,
}

impl Kernel for ConvTransposeKernel {
    fn workspace_bytes(&self) -> usize {
        if self.packed.is_some() { 0 } else { self.g.w.len() * 4 }
    }

    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let g = &self.g;
        let o = g.o();
        let x = input_f32(&io, 0, g.n * g.ih * g.iw * g.w.c)?;
        let bias = optional_input_f32(&io, 2, o)?;
        let weights: &[f32] = match &self.packed {
            Some(p) => &p.0,
            None => {
                let w = input_f32(&io, 1, g.w.len())?;
                let dst = workspace_f32(io.workspace, g.w.len())?;
                g.w.pack(w, dst);
                dst
            }
        };
        let row_len = g.ow * o;
        let out = output_f32(io.outputs, 0, g.n * g.oh * row_len)?;
        if out.is_empty() {
            return Ok(());
        }
        par.for_each_chunk_mut(out, row_len, |r, row| transpose_row(g, self.act, x, weights, bias, r, row));
        Ok(())
    }
}

/// Input position and tap pairs `(i, k)` with `o = i * stride + k * dilation - pad`.
fn transpose_taps(
    o: usize,
    stride: usize,
    dilation: usize,
    pad: isize,
    kernel: usize,
    input: usize,
) -> impl Iterator<Item = (usize, usize)> + Clone {
    (0..kernel).filter_map(move |k| {
        let num = o as isize + pad - (k * dilation) as isize;
        if num < 0 || num % stride as isize != 0 {
            return None;
        }
        let i = (num / stride as isize) as usize;
        (i < input).then_some((i, k))
    })
}

/// Computes output row `r` (`n * OH + oh`) of a transposed convolution.
fn transpose_row(g: &TransposeGeom, act: Activation, x: &[f32], packed: &[f32], bias: Option<&[f32]>, r: usize, row: &mut [f32]) {
    let w = &g.w;
    let o = g.o();
    let (n, oh) = (r / g.oh, r % g.oh);
    let image = &x[n * g.ih * g.iw * w.c..][..g.ih * g.iw * w.c];
    let taps = w.kh * w.kw;
    let rows = transpose_taps(oh, g.sh, g.dh, g.pt, w.kh, g.ih);
    for (ow, out_px) in row.chunks_exact_mut(o).enumerate() {
        match bias {
            Some(b) => out_px.copy_from_slice(b),
            None => out_px.fill(0.0),
        }
        for (ih, kh) in rows.clone() {
            for (iw, kw) in transpose_taps(ow, g.sw, g.dw, g.pl, w.kw, g.iw) {
                let x_px = &image[(ih * g.iw + iw) * w.c..][..w.c];
                let t = kh * w.kw + kw;
                for grp in 0..w.groups {
                    let out_g = &mut out_px[grp * w.og..][..w.og];
                    let w_g = &packed[(grp * taps + t) * w.cg * w.og..][..w.cg * w.og];
                    for (&xv, w_row) in x_px[grp * w.cg..][..w.cg].iter().zip(w_g.chunks_exact(w.og)) {
                        for (d, &wv) in out_g.iter_mut().zip(w_row) {
                            *d += xv * wv;
                        }
                    }
                }
            }
        }
        activate(act, out_px);
    }
}

/// Registers `f32-conv2d-reference` and `f32-convtranspose2d-reference`.
pub(super) fn register(r: &mut KernelRegistry) {
    r.register(Arc::new(ConvFactory));
    r.register(Arc::new(ConvTransposeFactory));
}

/// Helpers for the unit tests of this module and its siblings (pool, matmul, norm, softmax,
/// reduce): deterministic inputs, fixtures, and a runner that mirrors the planner.
#[cfg(test)]
pub(super) mod test_support {
    use crate::error::{Error, Result};
    use crate::ir::{AlignedBytes, ConstData, Dim, Graph, Op, TensorInfo};
    use crate::kernel::{KernelIo, NodeCtx, Parallel};
    use crate::ops::{Fact, infer};
    use crate::tensor::{Tensor, TensorView, TensorViewMut};

    /// An expected output generated by `testdata/gen_fixtures.py`.
    #[derive(Debug)]
    pub struct Fixture {
        pub shape: &'static [usize],
        pub values: &'static [f32],
    }

    /// Deterministic test values, exact in f32 (multiples of 1/16 in [-1.875, 1.875]); the
    /// same formula as `pattern` in `gen_fixtures.py`.
    pub fn pattern(len: usize, seed: usize) -> Vec<f32> {
        (0..len).map(|i| (((i * 37 + seed * 101) % 61) as f32 - 30.0) / 16.0).collect()
    }

    /// An f32 tensor of `shape` filled with [`pattern`].
    pub fn tensor(shape: &[usize], seed: usize) -> Tensor {
        let n = shape.iter().product();
        Tensor::from_slice(shape, &pattern(n, seed)).expect("pattern length matches")
    }

    /// A small deterministic generator for randomized sweeps (no external state).
    #[derive(Debug)]
    pub struct Lcg(pub u64);

    impl Lcg {
        /// A value in `lo..=hi`.
        pub fn range(&mut self, lo: usize, hi: usize) -> usize {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            lo + ((self.0 >> 33) as usize) % (hi - lo + 1)
        }
    }

    /// Checks `got` against `want` within `tol` relative to `max(1, |want|)`.
    pub fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= tol * w.abs().max(1.0);
            assert!(ok, "{what}: element {i} is {g}, expected {w}");
        }
    }

    /// Runs `op` like the planner does: inputs marked constant are known at plan time
    /// (and pre-packed), the others arrive only at run time; the kernel runs on a pool of
    /// `threads` threads (serially for 1).
    pub fn eval_with(op: &Op, inputs: &[Option<(&Tensor, bool)>], num_outputs: usize, threads: usize) -> Result<Vec<Tensor>> {
        let mut graph = Graph::default();
        let mut ids = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            ids.push(input.map(|(t, constant)| {
                let shape = Some(t.shape().iter().map(|&d| Dim::Fixed(d)).collect());
                let data = constant.then(|| ConstData::from_bytes(t.bytes()));
                graph.add_tensor(TensorInfo { name: format!("in{i}"), dtype: t.dtype(), shape, data })
            }));
        }
        let dims: Vec<Option<Vec<Dim>>> =
            inputs.iter().map(|t| t.map(|(t, _)| t.shape().iter().map(|&d| Dim::Fixed(d)).collect())).collect();
        let facts: Vec<Option<Fact<'_>>> = inputs
            .iter()
            .zip(&dims)
            .map(|(t, d)| t.map(|(t, c)| Fact { dtype: t.dtype(), shape: d.as_deref(), value: c.then(|| t.view()) }))
            .collect();
        let outs = infer(op, &facts, num_outputs).map_err(|e| Error::node(op.name(), e))?;
        let mut out_shapes = Vec::new();
        let mut out_ids = Vec::new();
        for (i, f) in outs.iter().enumerate() {
            let shape: Vec<usize> = f
                .shape
                .as_ref()
                .and_then(|s| s.iter().map(Dim::fixed).collect())
                .ok_or_else(|| Error::node(op.name(), "output shape unknown"))?;
            out_ids.push(graph.add_tensor(TensorInfo {
                name: format!("out{i}"),
                dtype: f.dtype,
                shape: Some(shape.iter().map(|&d| Dim::Fixed(d)).collect()),
                data: None,
            }));
            out_shapes.push((f.dtype, shape));
        }
        let node_id = graph.add_node(op.name(), op.clone(), ids, out_ids);
        let node = &graph.nodes[node_id];
        let ctx = NodeCtx {
            graph: &graph,
            node_id,
            node,
            inputs: inputs.iter().map(|t| t.map(|(t, _)| (t.dtype(), t.shape()))).collect(),
            outputs: out_shapes.iter().map(|(d, s)| (*d, s.as_slice())).collect(),
            values: node.inputs.iter().map(|t| t.and_then(|t| graph.tensors[t].data.as_ref())).collect(),
        };
        let registry = crate::ops::reference_registry();
        let factory =
            registry.applicable(&ctx).into_iter().next().ok_or_else(|| Error::node(op.name(), "no kernel applies"))?.clone();
        let packed = factory.prepack(&ctx)?;
        let kernel = factory.build(&ctx, packed)?;
        let mut results: Vec<Tensor> = out_shapes.iter().map(|(d, s)| Tensor::zeros(*d, s)).collect();
        // Garbage in the workspace must not matter.
        let mut workspace = AlignedBytes::from_slice(&vec![0xA5; kernel.workspace_bytes()]);
        let views: Vec<Option<TensorView<'_>>> = inputs.iter().map(|t| t.map(|(t, _)| t.view())).collect();
        let pool = crate::pool::ThreadPool::new(threads).map_err(|e| Error::Graph(e.to_string()))?;
        let par = if threads > 1 { Parallel::new(&pool) } else { Parallel::SERIAL };
        {
            let mut outs: Vec<TensorViewMut<'_>> = results.iter_mut().map(|t| t.view_mut()).collect();
            kernel.run(KernelIo { inputs: &views, outputs: &mut outs, workspace: workspace.as_mut_slice() }, &par)?;
        }
        Ok(results)
    }

    /// Runs `op` on `inputs` through [`crate::ops::eval`] (every input constant, serial)
    /// and through [`eval_with`] (only `consts` constant, 3 threads), checks that both give
    /// `want`, and returns the output.
    pub fn check_op(op: &Op, inputs: &[Option<&Tensor>], consts: &[bool], want: &Fixture, tol: f32) -> Tensor {
        let views: Vec<Option<TensorView<'_>>> = inputs.iter().map(|t| t.map(Tensor::view)).collect();
        let serial = crate::ops::eval(op, &views, 1).unwrap_or_else(|e| panic!("{op:?}: {e}"));
        let marked: Vec<Option<(&Tensor, bool)>> =
            inputs.iter().enumerate().map(|(i, t)| t.map(|t| (t, consts.get(i).copied().unwrap_or(true)))).collect();
        let parallel = eval_with(op, &marked, 1, 3).unwrap_or_else(|e| panic!("{op:?}: {e}"));
        for (label, t) in [("serial", &serial[0]), ("parallel", &parallel[0])] {
            assert_eq!(t.shape(), want.shape, "{label} {op:?}: shape");
            assert_close(t.as_slice::<f32>().expect("f32 output"), want.values, tol, &format!("{label} {op:?}"));
        }
        serial.into_iter().next().expect("one output")
    }

    /// What shape inference knows of one input: dtype and shape (`None`: unknown rank).
    pub type DimsFact = Option<(crate::ir::DType, Option<Vec<Dim>>)>;

    /// Shape inference on possibly symbolic input shapes (`None` for an omitted input).
    pub fn infer_dims(op: &Op, inputs: &[DimsFact]) -> Result<Option<Vec<Dim>>, String> {
        let facts: Vec<Option<Fact<'_>>> = inputs
            .iter()
            .map(|i| i.as_ref().map(|(dtype, s)| Fact { dtype: *dtype, shape: s.as_deref(), value: None }))
            .collect();
        infer(op, &facts, 1).map(|mut v| v.remove(0).shape)
    }

    /// `Dim`s from a compact notation: numbers are fixed, anything else is a symbol.
    pub fn dims(spec: &[&str]) -> Vec<Dim> {
        spec.iter().map(|s| s.parse().map_or_else(|_| Dim::Sym((*s).to_string()), Dim::Fixed)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::tensor::Tensor;

    include!("testdata/conv_fixtures.rs");

    fn conv(
        kernel: [usize; 2],
        stride: [usize; 2],
        dilation: [usize; 2],
        padding: Padding,
        groups: usize,
        activation: Activation,
    ) -> Op {
        Op::Conv2d(Conv2d { kernel, stride, dilation, padding, groups, activation })
    }

    fn pads(top: usize, left: usize, bottom: usize, right: usize) -> Padding {
        Padding::Explicit { top, left, bottom, right }
    }

    /// Runs a Conv2d fixture: inputs from seeds 1 (x), 2 (w), 3 (bias), as the generator.
    fn check_conv(op: Op, x: &[usize], w: &[usize], bias: bool, want: &Fixture) {
        let (xt, wt, bt) = (tensor(x, 1), tensor(w, 2), tensor(&[w[0]], 3));
        // Weights constant (pre-packed) for the serial run, packed per run for the parallel one.
        check_op(&op, &[Some(&xt), Some(&wt), bias.then_some(&bt)], &[false, false, true], want, 1e-5);
    }

    #[test]
    fn conv_asymmetric_padding_stride_dilation() {
        check_conv(
            conv([3, 3], [2, 1], [1, 2], pads(1, 0, 2, 1), 1, Activation::None),
            &[1, 5, 6, 3],
            &[4, 3, 3, 3],
            true,
            &CONV_ASYM_PAD,
        );
    }

    #[test]
    fn conv_same_upper_and_lower() {
        check_conv(
            conv([3, 2], [2, 2], [1, 1], Padding::SameUpper, 1, Activation::None),
            &[2, 7, 5, 5],
            &[6, 3, 2, 5],
            false,
            &CONV_SAME_UPPER,
        );
        check_conv(
            conv([2, 3], [2, 3], [1, 1], Padding::SameLower, 1, Activation::None),
            &[1, 6, 7, 4],
            &[4, 2, 3, 4],
            true,
            &CONV_SAME_LOWER,
        );
    }

    #[test]
    fn conv_groups_with_relu() {
        check_conv(
            conv([3, 3], [1, 1], [1, 1], pads(1, 1, 1, 1), 3, Activation::Relu),
            &[1, 5, 5, 6],
            &[9, 3, 3, 2],
            true,
            &CONV_GROUPS,
        );
    }

    #[test]
    fn conv_pointwise_odd_channels() {
        check_conv(
            conv([1, 1], [1, 1], [1, 1], Padding::VALID, 1, Activation::None),
            &[1, 3, 9, 10],
            &[19, 1, 1, 10],
            true,
            &CONV_1X1_ODD,
        );
    }

    #[test]
    fn conv_row_wider_than_a_tile_with_relu6() {
        check_conv(
            conv([3, 3], [1, 1], [1, 1], pads(1, 1, 1, 1), 1, Activation::Relu6),
            &[1, 4, 13, 5],
            &[12, 3, 3, 5],
            true,
            &CONV_WIDE_ROW,
        );
    }

    #[test]
    fn depthwise_stride2_padded() {
        check_conv(
            conv([3, 3], [2, 2], [1, 1], pads(1, 1, 1, 1), 11, Activation::None),
            &[1, 6, 5, 11],
            &[11, 3, 3, 1],
            true,
            &DW_STRIDE2,
        );
    }

    #[test]
    fn depthwise_dilated_same_upper_relu6() {
        // 20 channels: one full channel block and a remainder.
        check_conv(
            conv([3, 3], [1, 1], [2, 2], Padding::SameUpper, 20, Activation::Relu6),
            &[1, 4, 5, 20],
            &[20, 3, 3, 1],
            false,
            &DW_DILATED_SAME,
        );
    }

    #[test]
    fn depthwise_with_channel_multiplier() {
        check_conv(
            conv([3, 3], [1, 1], [1, 1], pads(0, 1, 2, 1), 3, Activation::None),
            &[1, 5, 5, 3],
            &[6, 3, 3, 1],
            true,
            &DW_MULTIPLIER2,
        );
    }

    fn conv_t(
        kernel: [usize; 2],
        stride: [usize; 2],
        dilation: [usize; 2],
        padding: Padding,
        output_padding: [usize; 2],
        output_size: Option<[usize; 2]>,
        groups: usize,
    ) -> Op {
        Op::ConvTranspose2d(ConvTranspose2d {
            kernel,
            stride,
            dilation,
            padding,
            output_padding,
            output_size,
            groups,
            activation: Activation::None,
        })
    }

    /// Runs a ConvTranspose2d fixture: inputs from seeds 4 (x), 5 (w), 6 (bias).
    fn check_conv_t(op: Op, x: &[usize], w: &[usize], bias: bool, want: &Fixture) {
        let o = w[3] * if let Op::ConvTranspose2d(a) = &op { a.groups } else { 1 };
        let (xt, wt, bt) = (tensor(x, 4), tensor(w, 5), tensor(&[o], 6));
        check_op(&op, &[Some(&xt), Some(&wt), bias.then_some(&bt)], &[false, false, true], want, 1e-5);
    }

    #[test]
    fn conv_transpose_pads_and_output_padding() {
        check_conv_t(
            conv_t([3, 3], [2, 2], [1, 1], pads(1, 0, 0, 1), [1, 1], None, 1),
            &[1, 3, 4, 2],
            &[2, 3, 3, 3],
            true,
            &CT_PADS_OUTPAD,
        );
    }

    #[test]
    fn conv_transpose_output_size() {
        // Larger than the full output: negative total padding, the output extends past it.
        check_conv_t(
            conv_t([3, 3], [3, 2], [1, 1], Padding::VALID, [0, 0], Some([10, 8]), 1),
            &[1, 3, 3, 1],
            &[1, 3, 3, 2],
            false,
            &CT_OUTPUT_SHAPE,
        );
        // Smaller than the full output [9, 6]: pads derived as ONNX specifies (the explicit
        // padding attribute is ignored).
        check_conv_t(
            conv_t([3, 2], [2, 2], [1, 1], pads(5, 5, 5, 5), [0, 0], Some([7, 5]), 1),
            &[1, 4, 3, 2],
            &[2, 3, 2, 2],
            true,
            &CT_OUTPUT_SHAPE_SMALL,
        );
    }

    #[test]
    fn conv_transpose_same_upper_and_lower() {
        check_conv_t(
            conv_t([3, 3], [2, 2], [1, 1], Padding::SameUpper, [0, 0], None, 1),
            &[1, 3, 3, 1],
            &[1, 3, 3, 2],
            false,
            &CT_SAME_UPPER,
        );
        check_conv_t(
            conv_t([3, 3], [2, 2], [1, 1], Padding::SameLower, [0, 0], None, 1),
            &[1, 3, 3, 1],
            &[1, 3, 3, 2],
            true,
            &CT_SAME_LOWER,
        );
    }

    #[test]
    fn conv_transpose_groups_and_dilation() {
        check_conv_t(
            conv_t([2, 2], [2, 2], [2, 2], pads(1, 1, 1, 1), [0, 0], None, 2),
            &[2, 3, 3, 4],
            &[4, 2, 2, 3],
            true,
            &CT_GROUPS_DILATION,
        );
    }

    #[test]
    fn conv_hand_computed() {
        // 1x3x3x1 input 1..9, 2x2 kernel of ones, stride 1, no padding: window sums.
        let x = Tensor::from_slice(&[1, 3, 3, 1], &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]).unwrap();
        let w = Tensor::from_slice(&[1, 2, 2, 1], &[1.0f32; 4]).unwrap();
        let b = Tensor::from_slice(&[1], &[0.5f32]).unwrap();
        let op = conv([2, 2], [1, 1], [1, 1], Padding::VALID, 1, Activation::None);
        let y = crate::ops::eval(&op, &[Some(x.view()), Some(w.view()), Some(b.view())], 1).unwrap();
        assert_eq!(y[0].shape(), &[1, 2, 2, 1]);
        assert_eq!(y[0].as_slice::<f32>().unwrap(), &[12.5, 16.5, 24.5, 28.5]);
    }

    /// Direct NHWC convolution with explicit padding, for randomized comparisons.
    fn naive_conv(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, a: &Conv2d, pads: [usize; 4]) -> Vec<f32> {
        let [n, ih, iw, c] = x.shape().try_into().unwrap();
        let [o, kh, kw, cg] = w.shape().try_into().unwrap();
        let (xs, ws) = (x.as_slice::<f32>().unwrap(), w.as_slice::<f32>().unwrap());
        let og = o / a.groups;
        let ext = |k: usize, d: usize| (k - 1) * d + 1;
        let oh = (ih + pads[0] + pads[2] - ext(kh, a.dilation[0])) / a.stride[0] + 1;
        let ow = (iw + pads[1] + pads[3] - ext(kw, a.dilation[1])) / a.stride[1] + 1;
        let mut y = vec![0.0f32; n * oh * ow * o];
        for b in 0..n {
            for p in 0..oh {
                for q in 0..ow {
                    for oc in 0..o {
                        let g = oc / og;
                        let mut s = bias.map_or(0.0, |t| t.as_slice::<f32>().unwrap()[oc]);
                        for i in 0..kh {
                            for j in 0..kw {
                                let yy = (p * a.stride[0] + i * a.dilation[0]) as isize - pads[0] as isize;
                                let xx = (q * a.stride[1] + j * a.dilation[1]) as isize - pads[1] as isize;
                                if yy < 0 || xx < 0 || yy >= ih as isize || xx >= iw as isize {
                                    continue;
                                }
                                for ci in 0..cg {
                                    let xv = xs[((b * ih + yy as usize) * iw + xx as usize) * c + g * cg + ci];
                                    s += xv * ws[((oc * kh + i) * kw + j) * cg + ci];
                                }
                            }
                        }
                        y[((b * oh + p) * ow + q) * o + oc] = a.activation.apply(s);
                    }
                }
            }
        }
        y
    }

    #[test]
    fn conv_randomized_against_direct_formula() {
        let mut rng = Lcg(7);
        for case in 0..150 {
            let groups = [1, 1, 2, 3][rng.range(0, 3)];
            let depthwise = rng.range(0, 3) == 0;
            let (c, o) = if depthwise {
                let c = rng.range(1, 37);
                (c, c)
            } else {
                (groups * rng.range(1, 7), groups * rng.range(1, 11))
            };
            let groups = if depthwise { c } else { groups };
            let kernel = [rng.range(1, 4), rng.range(1, 4)];
            let stride = [rng.range(1, 3), rng.range(1, 3)];
            let dilation = [rng.range(1, 2), rng.range(1, 3)];
            let p = [rng.range(0, 2), rng.range(0, 3), rng.range(0, 2), rng.range(0, 3)];
            let ext = [(kernel[0] - 1) * dilation[0] + 1, (kernel[1] - 1) * dilation[1] + 1];
            let x_shape = [rng.range(1, 2), ext[0] + rng.range(0, 6), ext[1] + rng.range(0, 14), c];
            let w_shape = [o, kernel[0], kernel[1], c / groups];
            let activation = [Activation::None, Activation::Relu, Activation::LeakyRelu { alpha: 0.1 }][rng.range(0, 2)];
            let a = Conv2d { kernel, stride, dilation, padding: pads(p[0], p[1], p[2], p[3]), groups, activation };
            let (x, w, b) = (tensor(&x_shape, case), tensor(&w_shape, case + 1), tensor(&[o], case + 2));
            let bias = (rng.range(0, 1) == 1).then_some(&b);
            let want = naive_conv(&x, &w, bias, &a, p);
            let op = Op::Conv2d(a);
            let threads = rng.range(1, 3);
            let constant_w = rng.range(0, 1) == 1;
            let got =
                test_support::eval_with(&op, &[Some((&x, false)), Some((&w, constant_w)), bias.map(|b| (b, true))], 1, threads)
                    .unwrap_or_else(|e| panic!("case {case} {op:?} x{x_shape:?}: {e}"));
            assert_close(
                got[0].as_slice::<f32>().unwrap(),
                &want,
                1e-5,
                &format!("case {case} {op:?} x{x_shape:?} w{w_shape:?}"),
            );
        }
    }

    /// The planner picks the AVX2 build of the row loop where it can; this checks the
    /// baseline build too, and that both give bit-identical results.
    #[test]
    fn baseline_and_avx2_rows_agree() {
        let mut rng = Lcg(5);
        for case in 0..40 {
            let groups = rng.range(1, 2);
            let (c, o) = (groups * rng.range(1, 9), groups * rng.range(1, 20));
            let kernel = [rng.range(1, 3), rng.range(1, 3)];
            let p = [rng.range(0, 1), rng.range(0, 2), rng.range(0, 1), rng.range(0, 2)];
            let a = Conv2d {
                kernel,
                stride: [1, rng.range(1, 2)],
                dilation: [1, rng.range(1, 2)],
                padding: pads(p[0], p[1], p[2], p[3]),
                groups,
                activation: Activation::Relu6,
            };
            let x_shape = [1, kernel[0] + rng.range(0, 3), 2 * kernel[1] + rng.range(0, 12), c];
            let w_shape = [o, kernel[0], kernel[1], c / groups];
            let (x, w, b) = (tensor(&x_shape, case), tensor(&w_shape, case + 1), tensor(&[o], case + 2));
            let g = ConvGeom::new(&a, &x_shape, &w_shape).unwrap();
            let mut packed = vec![0.0; g.w.packed_len()];
            g.w.pack(w.as_slice::<f32>().unwrap(), &mut packed);
            let (xs, bs) = (x.as_slice::<f32>().unwrap(), b.as_slice::<f32>().unwrap());
            let row_len = g.ow * o;
            let mut baseline = vec![0.0f32; g.n * g.oh * row_len];
            for (r, row) in baseline.chunks_mut(row_len).enumerate() {
                conv_row::<PIXEL_TILE>(&g, a.activation, xs, &packed, Some(bs), r, row);
            }
            let want = naive_conv(&x, &w, Some(&b), &a, p);
            assert_close(&baseline, &want, 1e-5, &format!("case {case} baseline {a:?} x{x_shape:?}"));
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                let mut wide = vec![0.0f32; baseline.len()];
                for (r, row) in wide.chunks_mut(row_len).enumerate() {
                    // SAFETY: AVX2 was just detected on this CPU.
                    unsafe { conv_row_avx2(&g, a.activation, xs, &packed, Some(bs), r, row) };
                }
                assert!(
                    wide.iter().zip(&baseline).all(|(p, q)| p.to_bits() == q.to_bits()),
                    "case {case}: AVX2 and baseline differ"
                );
            }
        }
    }

    /// Scatter-form transposed convolution with explicit padding.
    fn naive_conv_transpose(x: &Tensor, w: &Tensor, a: &ConvTranspose2d, pads: [usize; 4]) -> (Vec<usize>, Vec<f32>) {
        let [n, ih, iw, c] = x.shape().try_into().unwrap();
        let [_, kh, kw, og] = w.shape().try_into().unwrap();
        let (xs, ws) = (x.as_slice::<f32>().unwrap(), w.as_slice::<f32>().unwrap());
        let (cg, o) = (c / a.groups, og * a.groups);
        let full = |i: usize, ax: usize, k: usize| a.stride[ax] * (i - 1) + a.output_padding[ax] + (k - 1) * a.dilation[ax] + 1;
        let oh = full(ih, 0, kh) - pads[0] - pads[2];
        let ow = full(iw, 1, kw) - pads[1] - pads[3];
        let mut y = vec![0.0f32; n * oh * ow * o];
        for b in 0..n {
            for i in 0..ih {
                for j in 0..iw {
                    for ci in 0..c {
                        let g = ci / cg;
                        let xv = xs[((b * ih + i) * iw + j) * c + ci];
                        for p in 0..kh {
                            for q in 0..kw {
                                let yy = (i * a.stride[0] + p * a.dilation[0]) as isize - pads[0] as isize;
                                let xx = (j * a.stride[1] + q * a.dilation[1]) as isize - pads[1] as isize;
                                if yy < 0 || xx < 0 || yy >= oh as isize || xx >= ow as isize {
                                    continue;
                                }
                                for k in 0..og {
                                    y[((b * oh + yy as usize) * ow + xx as usize) * o + g * og + k] +=
                                        xv * ws[((ci * kh + p) * kw + q) * og + k];
                                }
                            }
                        }
                    }
                }
            }
        }
        (vec![n, oh, ow, o], y)
    }

    #[test]
    fn conv_transpose_randomized_against_scatter_formula() {
        let mut rng = Lcg(11);
        for case in 0..80 {
            let groups = rng.range(1, 3);
            let (cg, og) = (rng.range(1, 4), rng.range(1, 5));
            let kernel = [rng.range(1, 4), rng.range(1, 4)];
            let stride = [rng.range(1, 3), rng.range(1, 3)];
            let dilation = [rng.range(1, 2), rng.range(1, 2)];
            let output_padding = [rng.range(0, stride[0] - 1), rng.range(0, stride[1] - 1)];
            let p = [rng.range(0, 1), rng.range(0, 2), rng.range(0, 1), rng.range(0, 1)];
            let x_shape = [rng.range(1, 2), rng.range(1, 5), rng.range(1, 6), cg * groups];
            let w_shape = [cg * groups, kernel[0], kernel[1], og];
            let a = ConvTranspose2d {
                kernel,
                stride,
                dilation,
                padding: pads(p[0], p[1], p[2], p[3]),
                output_padding,
                output_size: None,
                groups,
                activation: Activation::None,
            };
            let full = |ax: usize| stride[ax] * (x_shape[1 + ax] - 1) + output_padding[ax] + (kernel[ax] - 1) * dilation[ax] + 1;
            if full(0) <= p[0] + p[2] || full(1) <= p[1] + p[3] {
                continue; // nothing left of the output (an error, tested elsewhere)
            }
            let (x, w) = (tensor(&x_shape, case), tensor(&w_shape, case + 1));
            let (shape, want) = naive_conv_transpose(&x, &w, &a, p);
            let op = Op::ConvTranspose2d(a);
            let got = test_support::eval_with(&op, &[Some((&x, false)), Some((&w, rng.range(0, 1) == 1))], 1, rng.range(1, 3))
                .unwrap_or_else(|e| panic!("case {case} {op:?}: {e}"));
            assert_eq!(got[0].shape(), shape.as_slice(), "case {case} {op:?}");
            assert_close(got[0].as_slice::<f32>().unwrap(), &want, 1e-5, &format!("case {case} {op:?}"));
        }
    }

    fn f32_input(shape: &[&str]) -> DimsFact {
        Some((DType::F32, Some(dims(shape))))
    }

    #[test]
    fn conv_shape_inference_with_symbols() {
        let w = f32_input(&["16", "3", "3", "8"]);
        let same = conv([3, 3], [1, 1], [1, 1], pads(1, 1, 1, 1), 1, Activation::None);
        assert_eq!(infer_dims(&same, &[f32_input(&["N", "H", "W", "8"]), w.clone()]), Ok(Some(dims(&["N", "H", "W", "16"]))));
        let strided = conv([3, 3], [2, 2], [1, 1], Padding::SameUpper, 1, Activation::None);
        assert_eq!(
            infer_dims(&strided, &[f32_input(&["N", "H", "224", "8"]), w.clone()]),
            Ok(Some(dims(&["N", "?", "112", "16"])))
        );
        // Unknown rank: the output is still NHWC with O from the weight.
        assert_eq!(infer_dims(&strided, &[Some((DType::F32, None)), w.clone()]), Ok(Some(dims(&["?", "?", "?", "16"]))));
        // Exact with fixed dims: (10 + 0 + 2 - 5) / 2 + 1 = 4 rows, (7 + 1 + 1 - 3) / 1 + 1 = 7 columns.
        let a = conv([3, 3], [2, 1], [2, 1], pads(0, 1, 2, 1), 1, Activation::None);
        assert_eq!(infer_dims(&a, &[f32_input(&["1", "10", "7", "8"]), w]), Ok(Some(dims(&["1", "4", "7", "16"]))));
        let t = conv_t([3, 3], [2, 2], [1, 1], Padding::SameUpper, [0, 0], None, 1);
        let tw = f32_input(&["8", "3", "3", "4"]);
        assert_eq!(infer_dims(&t, &[f32_input(&["N", "H", "5", "8"]), tw.clone()]), Ok(Some(dims(&["N", "?", "10", "4"]))));
        let t_sized = conv_t([3, 3], [2, 2], [1, 1], Padding::VALID, [0, 0], Some([9, 11]), 2);
        let tw2 = f32_input(&["8", "3", "3", "4"]);
        assert_eq!(infer_dims(&t_sized, &[f32_input(&["N", "H", "W", "8"]), tw2]), Ok(Some(dims(&["N", "9", "11", "8"]))));
    }

    fn err_of(op: &Op, inputs: &[DimsFact]) -> String {
        match infer_dims(op, inputs) {
            Err(e) => e,
            Ok(s) => panic!("expected an error, got {s:?}"),
        }
    }

    #[test]
    fn conv_shape_inference_errors() {
        let plain = conv([3, 3], [1, 1], [1, 1], Padding::VALID, 1, Activation::None);
        let x = f32_input(&["1", "8", "8", "4"]);
        let e = err_of(&plain, &[x.clone(), f32_input(&["6", "3", "3", "5"])]);
        assert!(e.contains("4 channels") && e.contains("5 per group"), "{e}");
        let grouped = conv([3, 3], [1, 1], [1, 1], Padding::VALID, 3, Activation::None);
        let e = err_of(&grouped, &[x.clone(), f32_input(&["6", "3", "3", "1"])]);
        assert!(e.contains("not divisible by 3 groups"), "{e}");
        let e = err_of(&grouped, &[f32_input(&["1", "8", "8", "6"]), f32_input(&["7", "3", "3", "2"])]);
        assert!(e.contains("7 output channels"), "{e}");
        let e = err_of(&plain, &[x.clone(), f32_input(&["6", "5", "3", "4"])]);
        assert!(e.contains("kernel height is 5"), "{e}");
        let e = err_of(&plain, &[x.clone(), f32_input(&["6", "3", "3", "4"]), f32_input(&["5"])]);
        assert!(e.contains("bias has 5 values"), "{e}");
        let e = err_of(&plain, &[f32_input(&["1", "8", "4"]), f32_input(&["6", "3", "3", "4"])]);
        assert!(e.contains("rank 4"), "{e}");
        let e = err_of(&plain, &[Some((DType::I64, Some(dims(&["1", "8", "8", "4"])))), f32_input(&["6", "3", "3", "4"])]);
        assert!(e.contains("input must be f32"), "{e}");
        let e = err_of(&plain, &[f32_input(&["1", "2", "8", "4"]), f32_input(&["6", "3", "3", "4"])]);
        assert!(e.contains("height") && e.contains("only 2"), "{e}");
        let zero_stride = conv([3, 3], [0, 1], [1, 1], Padding::VALID, 1, Activation::None);
        assert!(err_of(&zero_stride, &[x.clone(), f32_input(&["6", "3", "3", "4"])]).contains("stride height"));
        let e = err_of(&plain, std::slice::from_ref(&x));
        assert!(e.contains("weight") && e.contains("missing"), "{e}");
        let t = conv_t([3, 3], [1, 1], [1, 1], Padding::VALID, [0, 0], None, 1);
        let e = err_of(&t, &[x, f32_input(&["5", "3", "3", "2"])]);
        assert!(e.contains("4 channels") && e.contains("has 5"), "{e}");
        let t_cut = conv_t([3, 3], [1, 1], [1, 1], pads(2, 0, 2, 0), [0, 0], None, 1);
        let e = err_of(&t_cut, &[f32_input(&["1", "1", "4", "2"]), f32_input(&["2", "3", "3", "2"])]);
        assert!(e.contains("leaves nothing"), "{e}");
    }

    #[test]
    fn window_plans() {
        let w = |kernel, stride, dilation, padding, ceil_mode| Window { kernel, stride, dilation, padding, ceil_mode };
        // SAME: out = ceil(7 / 2) = 4, total = (4 - 1) * 2 + 3 - 7 = 2.
        assert_eq!(w(3, 2, 1, AxisPadding::SameUpper, false).plan(7, "h"), Ok(AxisPlan { out: 4, pad_begin: 1, pad_end: 1 }));
        // total = (3 - 1) * 2 + 3 - 6 = 1: the odd pixel at the end (upper) or start (lower).
        assert_eq!(w(3, 2, 1, AxisPadding::SameUpper, false).plan(6, "h"), Ok(AxisPlan { out: 3, pad_begin: 0, pad_end: 1 }));
        assert_eq!(w(3, 2, 1, AxisPadding::SameLower, false).plan(6, "h"), Ok(AxisPlan { out: 3, pad_begin: 1, pad_end: 0 }));
        // Dilated SAME uses the extent (5): total = 4.
        assert_eq!(w(3, 1, 2, AxisPadding::SameUpper, false).plan(5, "h"), Ok(AxisPlan { out: 5, pad_begin: 2, pad_end: 2 }));
        // ceil_mode: (4 + 0 + 2 - 3) / 2 = 1.5 -> 3 windows, but the third would start at 4
        // (in the end padding) and is dropped.
        let p = AxisPadding::Explicit { begin: 0, end: 2 };
        assert_eq!(w(3, 2, 1, p, true).plan(4, "h").map(|p| p.out), Ok(2));
        assert_eq!(w(3, 2, 1, AxisPadding::Explicit { begin: 0, end: 0 }, true).plan(8, "h").map(|p| p.out), Ok(4));
        assert_eq!(w(3, 2, 1, AxisPadding::Explicit { begin: 0, end: 0 }, false).plan(8, "h").map(|p| p.out), Ok(3));
    }

    #[test]
    fn tap_ranges_clip_to_the_input() {
        // Output 0 of a 3-tap window with padding 1 starts at -1: taps 1..3.
        assert_eq!(tap_range(0, 1, 1, 1, 3, 5), (1, 3));
        // Output 4 reads 3, 4, 5: tap 2 falls past the end.
        assert_eq!(tap_range(4, 1, 1, 1, 3, 5), (0, 2));
        // Dilation 2 from -3: positions -3, -1, 1, 3 -> taps 2..4.
        assert_eq!(tap_range(0, 1, 3, 2, 4, 10), (2, 4));
        // Entirely outside.
        assert_eq!(tap_range(0, 1, 5, 1, 3, 10), (3, 3));
        assert_eq!(full_window_range(10, 1, 1, 1, 3, 10), (1, 9));
        assert_eq!(full_window_range(3, 2, 0, 1, 3, 7), (0, 3));
    }

    #[test]
    fn non_f32_is_not_applicable() {
        let op = conv([1, 1], [1, 1], [1, 1], Padding::VALID, 1, Activation::None);
        let x = Tensor::from_slice(&[1, 1, 1, 1], &[1i64]).unwrap();
        let w = tensor(&[1, 1, 1, 1], 0);
        assert!(crate::ops::eval(&op, &[Some(x.view()), Some(w.view())], 1).is_err());
    }
}
