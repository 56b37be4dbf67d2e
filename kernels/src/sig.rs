//! Operator signatures: what kernels know of a node at plan time (attributes resolved against
//! the concrete shapes), and the fused-activation encoding that epilogues take as scalars.

use ferrolite_dsl::ir::{Activation, DType, Op, Padding, PoolKind, Unary};
use ferrolite_dsl::kernel::NodeCtx;
use ferrolite_dsl::variant::OpSignature;

/// An activation as the scalars a stage takes: a code and two parameters (see
/// [`crate::epilogue::activate`]). Every [`Activation`] has one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Act {
    /// One of the `ACT_*` codes.
    pub code: i32,
    /// First parameter (clip minimum, leaky slope, hard-sigmoid slope).
    pub a: f32,
    /// Second parameter (clip maximum, hard-sigmoid offset).
    pub b: f32,
}

/// Identity.
pub const ACT_NONE: i32 = 0;
/// `min(max(x, a), b)`: relu, relu6 and clip.
pub const ACT_CLIP: i32 = 1;
/// `x < 0 ? a * x : x`.
pub const ACT_LEAKY: i32 = 2;
/// `1 / (1 + exp(-x))`.
pub const ACT_SIGMOID: i32 = 3;
/// `clamp(a * x + b, 0, 1)`.
pub const ACT_HARD_SIGMOID: i32 = 4;
/// `x * clamp(x / 6 + 1 / 2, 0, 1)`.
pub const ACT_HARD_SWISH: i32 = 5;
/// `tanh(x)`.
pub const ACT_TANH: i32 = 6;

impl From<Activation> for Act {
    fn from(a: Activation) -> Act {
        let act = |code, a, b| Act { code, a, b };
        match a {
            Activation::None => act(ACT_NONE, 0.0, 0.0),
            Activation::Relu => act(ACT_CLIP, 0.0, f32::MAX),
            Activation::Relu6 => act(ACT_CLIP, 0.0, 6.0),
            Activation::Clip { min, max } => act(ACT_CLIP, min, max),
            Activation::LeakyRelu { alpha } => act(ACT_LEAKY, alpha, 0.0),
            Activation::Sigmoid => act(ACT_SIGMOID, 0.0, 0.0),
            Activation::HardSigmoid { alpha, beta } => act(ACT_HARD_SIGMOID, alpha, beta),
            Activation::HardSwish => act(ACT_HARD_SWISH, 0.0, 0.0),
            Activation::Tanh => act(ACT_TANH, 0.0, 0.0),
        }
    }
}

/// An element-wise activation over `len` f32 values.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationSig {
    /// Number of elements.
    pub len: usize,
    /// The activation.
    pub act: Activation,
}

impl OpSignature for ActivationSig {
    fn from_node(ctx: &NodeCtx<'_>) -> Option<Self> {
        let Op::Unary(Unary::Act(act)) = ctx.node.op else { return None };
        let (dtype, shape) = ctx.inputs.first().copied().flatten()?;
        (dtype == DType::F32).then(|| ActivationSig { len: shape.iter().product(), act })
    }
}

/// A 2-D convolution, NHWC activations, OHWI weights (`[oc, kh, kw, ic / groups]`) known at
/// plan time, f32, with its padding resolved to explicit amounts.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2dSig {
    /// Batch.
    pub n: usize,
    /// Input height.
    pub ih: usize,
    /// Input width.
    pub iw: usize,
    /// Input channels.
    pub ic: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
    /// Output channels.
    pub oc: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Vertical and horizontal stride.
    pub stride: [usize; 2],
    /// Vertical and horizontal dilation.
    pub dilation: [usize; 2],
    /// Rows of padding above and columns on the left (the other sides follow from the
    /// output size).
    pub pad: [usize; 2],
    /// Rows of padding below and columns on the right.
    pub pad_end: [usize; 2],
    /// Groups (`groups == ic == oc` is depthwise).
    pub groups: usize,
    /// Whether every padding amount (all four sides) is zero.
    pub no_padding: bool,
    /// Whether a bias input is present.
    pub has_bias: bool,
    /// Whether a residual input (input 3, the output's shape) is added before the activation.
    pub has_residual: bool,
    /// The fused activation.
    pub act: Act,
}

impl Conv2dSig {
    /// Input channels per group.
    pub fn icg(&self) -> usize {
        self.ic / self.groups
    }

    /// Output channels per group.
    pub fn ocg(&self) -> usize {
        self.oc / self.groups
    }

    /// Whether this is a depthwise convolution (one input and one output channel per group).
    pub fn is_depthwise(&self) -> bool {
        self.groups == self.ic && self.groups == self.oc && self.groups > 1
    }

    /// Whether the convolution is a plain matrix product over the pixels: 1x1 window, stride
    /// 1, no padding, one group.
    pub fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.no_padding && self.groups == 1
    }

    /// Multiply-accumulates of one run.
    pub fn macs(&self) -> usize {
        self.n * self.oh * self.ow * self.oc * self.kernel[0] * self.kernel[1] * self.icg()
    }
}

/// Explicit `(begin, end)` padding of one axis, resolved against the output size the
/// planner inferred (the reference operator's rule: `Same*` puts the odd pixel at the end or
/// the start).
fn axis_padding(padding: Padding, axis: usize, input: usize, out: usize, ext: usize, stride: usize) -> Option<(usize, usize)> {
    match padding {
        Padding::Explicit { top, left, bottom, right } => Some(if axis == 0 { (top, bottom) } else { (left, right) }),
        Padding::SameUpper | Padding::SameLower => {
            let total = if out == 0 { 0 } else { ((out - 1) * stride + ext).saturating_sub(input) };
            let begin = if padding == Padding::SameUpper { total / 2 } else { total - total / 2 };
            Some((begin, total - begin))
        }
    }
}

impl OpSignature for Conv2dSig {
    fn from_node(ctx: &NodeCtx<'_>) -> Option<Self> {
        let Op::Conv2d(c) = &ctx.node.op else { return None };
        let (xd, xs) = ctx.inputs.first().copied().flatten()?;
        let (wd, ws) = ctx.inputs.get(1).copied().flatten()?;
        let (yd, ys) = *ctx.outputs.first()?;
        if xd != DType::F32 || wd != DType::F32 || yd != DType::F32 || xs.len() != 4 || ws.len() != 4 || ys.len() != 4 {
            return None;
        }
        // Weights must be known at plan time (they are packed at load).
        ctx.input_value(1)?;
        let has_bias = match ctx.inputs.get(2).copied().flatten() {
            None => false,
            Some((DType::F32, s)) if s.len() == 1 && s[0] == ys[3] && ctx.input_value(2).is_some() => true,
            Some(_) => return None,
        };
        let has_residual = match ctx.inputs.get(3).copied().flatten() {
            None => false,
            Some((DType::F32, rs)) if rs == ys => true,
            Some(_) => return None,
        };
        let [n, ih, iw, ic] = [xs[0], xs[1], xs[2], xs[3]];
        let [oh, ow, oc] = [ys[1], ys[2], ys[3]];
        let g = c.groups;
        if g == 0 || ic % g != 0 || oc % g != 0 || ws != [oc, c.kernel[0], c.kernel[1], ic / g] || ys[0] != n {
            return None;
        }
        if c.stride.contains(&0) || c.dilation.contains(&0) {
            return None;
        }
        let ext = |a: usize| (c.kernel[a] - 1) * c.dilation[a] + 1;
        let (top, bottom) = axis_padding(c.padding, 0, ih, oh, ext(0), c.stride[0])?;
        let (left, right) = axis_padding(c.padding, 1, iw, ow, ext(1), c.stride[1])?;
        Some(Conv2dSig {
            n,
            ih,
            iw,
            ic,
            oh,
            ow,
            oc,
            kernel: c.kernel,
            stride: c.stride,
            dilation: c.dilation,
            pad: [top, left],
            pad_end: [bottom, right],
            groups: g,
            no_padding: top == 0 && bottom == 0 && left == 0 && right == 0,
            has_bias,
            has_residual,
            act: c.activation.into(),
        })
    }
}

/// A 2-D max or average pooling (NHWC, f32) with its padding resolved to explicit amounts on
/// all four sides.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool2dSig {
    /// Batch.
    pub n: usize,
    /// Input height.
    pub ih: usize,
    /// Input width.
    pub iw: usize,
    /// Channels.
    pub c: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
    /// Window height and width.
    pub kernel: [usize; 2],
    /// Vertical and horizontal stride.
    pub stride: [usize; 2],
    /// Vertical and horizontal dilation.
    pub dilation: [usize; 2],
    /// Padding: top, left, bottom, right.
    pub pad: [usize; 4],
    /// Maximum (else average).
    pub max: bool,
    /// Averages divide by the window cells inside the padded input, not only the input.
    pub count_include_pad: bool,
}

impl OpSignature for Pool2dSig {
    fn from_node(ctx: &NodeCtx<'_>) -> Option<Self> {
        let Op::Pool2d(p) = &ctx.node.op else { return None };
        let (xd, xs) = ctx.inputs.first().copied().flatten()?;
        let (yd, ys) = *ctx.outputs.first()?;
        if xd != DType::F32 || yd != DType::F32 || xs.len() != 4 || ys.len() != 4 || xs[0] != ys[0] || xs[3] != ys[3] {
            return None;
        }
        if p.stride.contains(&0) || p.dilation.contains(&0) || p.kernel.contains(&0) {
            return None;
        }
        let ext = |a: usize| (p.kernel[a] - 1) * p.dilation[a] + 1;
        let (top, bottom) = axis_padding(p.padding, 0, xs[1], ys[1], ext(0), p.stride[0])?;
        let (left, right) = axis_padding(p.padding, 1, xs[2], ys[2], ext(1), p.stride[1])?;
        Some(Pool2dSig {
            n: xs[0],
            ih: xs[1],
            iw: xs[2],
            c: xs[3],
            oh: ys[1],
            ow: ys[2],
            kernel: p.kernel,
            stride: p.stride,
            dilation: p.dilation,
            pad: [top, left, bottom, right],
            max: p.kind == PoolKind::Max,
            count_include_pad: p.count_include_pad,
        })
    }
}

/// A global max or average pooling over the spatial axes (NHWC, f32).
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalPoolSig {
    /// Batch.
    pub n: usize,
    /// Pixels per image (`h * w`).
    pub hw: usize,
    /// Channels.
    pub c: usize,
    /// Maximum (else average).
    pub max: bool,
}

impl OpSignature for GlobalPoolSig {
    fn from_node(ctx: &NodeCtx<'_>) -> Option<Self> {
        let Op::GlobalPool(kind) = &ctx.node.op else { return None };
        let (xd, xs) = ctx.inputs.first().copied().flatten()?;
        let (yd, ys) = *ctx.outputs.first()?;
        if xd != DType::F32 || yd != DType::F32 || xs.len() != 4 || ys != [xs[0], 1, 1, xs[3]] {
            return None;
        }
        Some(GlobalPoolSig { n: xs[0], hw: xs[1] * xs[2], c: xs[3], max: *kind == PoolKind::Max })
    }
}

/// How the two operands of a binary element-wise operator broadcast against the output,
/// for the patterns kernels handle (others are left to the reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broadcast {
    /// Both operands have the output's elements.
    Same,
    /// `b` repeats with a period of [`BinarySig::period`] elements (a per-channel vector, a
    /// trailing block); `a` is full.
    PeriodicB,
    /// `a` repeats with a period; `b` is full.
    PeriodicA,
}

/// A binary element-wise operator on f32 (`Add`, `Sub`, `Mul`, `Div`, `Max`, `Min`).
#[derive(Debug, Clone, PartialEq)]
pub struct BinarySig {
    /// Output elements.
    pub len: usize,
    /// The operator as a code: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min.
    pub op: i32,
    /// The broadcasting pattern.
    pub broadcast: Broadcast,
    /// Elements of the repeating operand (the output's length for [`Broadcast::Same`]).
    pub period: usize,
}

impl OpSignature for BinarySig {
    fn from_node(ctx: &NodeCtx<'_>) -> Option<Self> {
        use ferrolite_dsl::ir::Binary;
        let Op::Binary(b) = ctx.node.op else { return None };
        let op = match b {
            Binary::Add => 0,
            Binary::Sub => 1,
            Binary::Mul => 2,
            Binary::Div => 3,
            Binary::Max => 4,
            Binary::Min => 5,
            _ => return None,
        };
        let (ad, as_) = ctx.inputs.first().copied().flatten()?;
        let (bd, bs) = ctx.inputs.get(1).copied().flatten()?;
        let (yd, ys) = *ctx.outputs.first()?;
        if ad != DType::F32 || bd != DType::F32 || yd != DType::F32 {
            return None;
        }
        let len: usize = ys.iter().product();
        // An operand repeats with its own length as the period when its shape, without
        // leading ones, is a suffix of the output's shape.
        let strip = |s: &'_ [usize]| -> Vec<usize> { s.iter().copied().skip_while(|&d| d == 1).collect() };
        let periodic = |s: &[usize]| {
            let t = strip(s);
            let o = strip(ys);
            t.len() <= o.len() && o[o.len() - t.len()..] == t[..]
        };
        let (an, bn): (usize, usize) = (as_.iter().product(), bs.iter().product());
        let broadcast = if an == len && bn == len && periodic(as_) && periodic(bs) {
            Broadcast::Same
        } else if an == len && periodic(as_) && periodic(bs) {
            Broadcast::PeriodicB
        } else if bn == len && periodic(as_) && periodic(bs) {
            Broadcast::PeriodicA
        } else {
            return None;
        };
        let period = match broadcast {
            Broadcast::Same => len,
            Broadcast::PeriodicB => bn,
            Broadcast::PeriodicA => an,
        };
        (period > 0 || len == 0).then_some(BinarySig { len, op, broadcast, period })
    }
}

/// Softmax along the last axis of an f32 tensor: `rows` rows of `len` contiguous elements.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftmaxSig {
    /// Number of rows (the product of the other axes).
    pub rows: usize,
    /// Row length (the last axis).
    pub len: usize,
}

impl OpSignature for SoftmaxSig {
    fn from_node(ctx: &NodeCtx<'_>) -> Option<Self> {
        let Op::Softmax { axis } = ctx.node.op else { return None };
        let (xd, xs) = ctx.inputs.first().copied().flatten()?;
        let (yd, ys) = *ctx.outputs.first()?;
        if xd != DType::F32 || yd != DType::F32 || xs != ys || xs.is_empty() {
            return None;
        }
        let rank = xs.len() as i64;
        let last = axis == -1 || axis == rank - 1;
        let len = *xs.last()?;
        last.then(|| SoftmaxSig { rows: xs.iter().product::<usize>() / len.max(1), len })
    }
}
