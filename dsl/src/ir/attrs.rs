//! Operators and their attributes.
//!
//! Inputs that ONNX passes as tensors but that change shapes (Reshape's shape, Slice's
//! starts, Resize's sizes, ...) stay tensor inputs here. They must be known at plan time:
//! constants, or computed from shapes by `Shape`/`Gather`/`Concat` chains that the planner
//! evaluates once the input shapes are known. Their values never depend on input *data*.
//!
//! Axes are stored as the source model gives them (`i64`, negative counts from the end) and
//! normalized against the rank during shape inference.

use serde::{Deserialize, Serialize};

use super::DType;

/// An operator with its attributes. See each variant for its inputs and outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// NHWC convolution. Inputs: `x [N,H,W,C]`, `w [O,KH,KW,C/groups]`, `bias [O]?`,
    /// `residual [N,OH,OW,O]?`. Output `[N,OH,OW,O]`: the convolution plus the bias plus the
    /// residual (a skip connection's `Add` fused into the layer), then the fused activation.
    Conv2d(Conv2d),
    /// NHWC transposed convolution. Inputs: `x [N,H,W,C]`, `w [C,KH,KW,O/groups]`,
    /// `bias [O]?`. Output `[N,OH,OW,O]`.
    ConvTranspose2d(ConvTranspose2d),
    /// NHWC max / average pooling. Input `x [N,H,W,C]`.
    Pool2d(Pool2d),
    /// NHWC global pooling over H and W. Input `x [N,H,W,C]`, output `[N,1,1,C]`.
    GlobalPool(PoolKind),
    /// 2-D matrix product with optional bias `C`: `alpha * op(A) @ op(B) + beta * C`, then the
    /// activation. Inputs: `A`, `B`, `C?`.
    Gemm(Gemm),
    /// Numpy-style matrix product with batch broadcasting (1-D operands promoted as numpy
    /// does). Inputs: `A`, `B`.
    MatMul,
    /// Inference batch normalization over channel axis `axis`. Inputs: `x`, `scale`, `bias`,
    /// `mean`, `var` (each `[C]`).
    BatchNorm(BatchNorm),
    /// Element-wise unary operator (activations included).
    Unary(Unary),
    /// Element-wise binary operator with numpy broadcasting. Inputs: `a`, `b`.
    Binary(Binary),
    /// Element-wise select with broadcasting. Inputs: `cond (bool)`, `a`, `b`.
    Where,
    /// Concatenation along `axis`; any number of inputs.
    Concat {
        /// Axis (negative counts from the end).
        axis: i64,
    },
    /// Split along `axis` into the node's outputs.
    Split(Split),
    /// ONNX Slice. Inputs: `x`, `starts`, `ends`, `axes?`, `steps?` (i64 or i32 tensors,
    /// known at plan time).
    Slice,
    /// Reshape to the shape given by input 1 (i64, known at plan time). `0` copies the
    /// input dimension unless `allow_zero`; `-1` is inferred.
    Reshape {
        /// ONNX `allowzero`: a `0` means a zero-sized dimension.
        allow_zero: bool,
    },
    /// Flatten to 2-D: `[prod(dims[..axis]), prod(dims[axis..])]`.
    Flatten {
        /// Split point (negative counts from the end).
        axis: i64,
    },
    /// Remove the size-1 axes listed (all size-1 axes when empty).
    Squeeze {
        /// Axes to remove.
        axes: Vec<i64>,
    },
    /// Insert size-1 axes at the listed positions of the output.
    Unsqueeze {
        /// Output positions of the new axes.
        axes: Vec<i64>,
    },
    /// Permute axes: output axis `i` is input axis `perm[i]`.
    Transpose {
        /// The permutation.
        perm: Vec<usize>,
    },
    /// Pad (or crop, with negative amounts).
    Pad(Pad),
    /// ONNX Resize. Inputs: `x`, `roi?` (f32), `scales?` (f32), `sizes?` (i64), the last
    /// three known at plan time. Exactly one of `scales` / `sizes` is given.
    Resize(Resize),
    /// Softmax along `axis`.
    Softmax {
        /// Axis (negative counts from the end).
        axis: i64,
    },
    /// Log-softmax along `axis`.
    LogSoftmax {
        /// Axis (negative counts from the end).
        axis: i64,
    },
    /// Reduction over `axes`.
    Reduce(Reduce),
    /// Gather slices along `axis`. Inputs: `data`, `indices` (i64 or i32; negative indices
    /// count from the end).
    Gather {
        /// Axis (negative counts from the end).
        axis: i64,
    },
    /// Element type conversion.
    Cast {
        /// Target type.
        to: DType,
    },
    /// Copy of the input (removed by the converter; kept valid for hand-built graphs).
    Identity,
    /// The input's shape as a 1-D i64 tensor, dims `[start, end)`.
    Shape {
        /// First dimension (negative counts from the end).
        start: i64,
        /// One past the last dimension; `None` means the rank.
        end: Option<i64>,
    },
    /// `[start, start + delta, ...)` up to `limit`. Inputs: three scalars of one type.
    Range,
    /// Broadcast input 0 to the shape in input 1 (numpy rules, both ways).
    Expand,
    /// A tensor of the shape in input 0 filled with `value`.
    ConstantOfShape {
        /// Element type of the output.
        dtype: DType,
        /// Fill value (converted to `dtype`).
        value: f64,
    },
    /// Convert f16 (later: quantized) data to f32. Input: `x`.
    Dequantize,
}

/// The kind of an [`Op`], without attributes: the key kernels register under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum OpKind {
    Conv2d,
    ConvTranspose2d,
    Pool2d,
    GlobalPool,
    Gemm,
    MatMul,
    BatchNorm,
    Unary,
    Binary,
    Where,
    Concat,
    Split,
    Slice,
    Reshape,
    Flatten,
    Squeeze,
    Unsqueeze,
    Transpose,
    Pad,
    Resize,
    Softmax,
    LogSoftmax,
    Reduce,
    Gather,
    Cast,
    Identity,
    Shape,
    Range,
    Expand,
    ConstantOfShape,
    Dequantize,
}

impl Op {
    /// The kind of this operator.
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Conv2d(_) => OpKind::Conv2d,
            Op::ConvTranspose2d(_) => OpKind::ConvTranspose2d,
            Op::Pool2d(_) => OpKind::Pool2d,
            Op::GlobalPool(_) => OpKind::GlobalPool,
            Op::Gemm(_) => OpKind::Gemm,
            Op::MatMul => OpKind::MatMul,
            Op::BatchNorm(_) => OpKind::BatchNorm,
            Op::Unary(_) => OpKind::Unary,
            Op::Binary(_) => OpKind::Binary,
            Op::Where => OpKind::Where,
            Op::Concat { .. } => OpKind::Concat,
            Op::Split(_) => OpKind::Split,
            Op::Slice => OpKind::Slice,
            Op::Reshape { .. } => OpKind::Reshape,
            Op::Flatten { .. } => OpKind::Flatten,
            Op::Squeeze { .. } => OpKind::Squeeze,
            Op::Unsqueeze { .. } => OpKind::Unsqueeze,
            Op::Transpose { .. } => OpKind::Transpose,
            Op::Pad(_) => OpKind::Pad,
            Op::Resize(_) => OpKind::Resize,
            Op::Softmax { .. } => OpKind::Softmax,
            Op::LogSoftmax { .. } => OpKind::LogSoftmax,
            Op::Reduce(_) => OpKind::Reduce,
            Op::Gather { .. } => OpKind::Gather,
            Op::Cast { .. } => OpKind::Cast,
            Op::Identity => OpKind::Identity,
            Op::Shape { .. } => OpKind::Shape,
            Op::Range => OpKind::Range,
            Op::Expand => OpKind::Expand,
            Op::ConstantOfShape { .. } => OpKind::ConstantOfShape,
            Op::Dequantize => OpKind::Dequantize,
        }
    }

    /// Operator name for messages and statistics (`Conv2d`, `Add`, `Relu`, ...).
    pub fn name(&self) -> String {
        match self {
            Op::Unary(u) => u.name().to_string(),
            Op::Binary(b) => format!("{b:?}"),
            Op::Pool2d(p) => format!("{:?}Pool2d", p.kind),
            Op::GlobalPool(k) => format!("Global{k:?}Pool"),
            Op::Reduce(r) => format!("Reduce{:?}", r.kind),
            other => format!("{:?}", other.kind()),
        }
    }

    /// Whether the output is the input with another shape: same bytes, no kernel needed.
    pub fn is_reshape_like(&self) -> bool {
        matches!(
            self,
            Op::Reshape { .. } | Op::Flatten { .. } | Op::Squeeze { .. } | Op::Unsqueeze { .. } | Op::Identity
        )
    }
}

/// Padding of a spatial operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Padding {
    /// Explicit amounts, in pixels.
    Explicit {
        /// Rows added above.
        top: usize,
        /// Columns added on the left.
        left: usize,
        /// Rows added below.
        bottom: usize,
        /// Columns added on the right.
        right: usize,
    },
    /// Output size `ceil(in / stride)`, the odd pixel of padding at the end (TFLite `SAME`,
    /// ONNX `SAME_UPPER`).
    SameUpper,
    /// As `SameUpper` with the odd pixel at the start (ONNX `SAME_LOWER`).
    SameLower,
}

impl Padding {
    /// No padding (`VALID`).
    pub const VALID: Padding = Padding::Explicit { top: 0, left: 0, bottom: 0, right: 0 };
}

/// Activation fused into the epilogue of a convolution or GEMM, or applied on its own.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub enum Activation {
    /// Identity.
    #[default]
    None,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `min(max(x, min), max)`.
    Clip {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
    /// `x < 0 ? alpha * x : x`.
    LeakyRelu {
        /// Slope for negative inputs.
        alpha: f32,
    },
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `max(0, min(1, alpha * x + beta))`.
    HardSigmoid {
        /// Slope.
        alpha: f32,
        /// Offset.
        beta: f32,
    },
    /// `x * max(0, min(1, x / 6 + 1 / 2))`.
    HardSwish,
    /// Hyperbolic tangent.
    Tanh,
}

impl Activation {
    /// Applies the activation to one value (the scalar reference semantics).
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::None => x,
            Activation::Relu => x.max(0.0),
            Activation::Relu6 => x.clamp(0.0, 6.0),
            Activation::Clip { min, max } => x.max(min).min(max),
            Activation::LeakyRelu { alpha } => {
                if x < 0.0 {
                    alpha * x
                } else {
                    x
                }
            }
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Activation::HardSigmoid { alpha, beta } => (alpha * x + beta).clamp(0.0, 1.0),
            Activation::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
            Activation::Tanh => x.tanh(),
        }
    }

    /// Name used in messages and kernel parameters (`relu`, `relu6`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Activation::None => "none",
            Activation::Relu => "relu",
            Activation::Relu6 => "relu6",
            Activation::Clip { .. } => "clip",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Sigmoid => "sigmoid",
            Activation::HardSigmoid { .. } => "hard_sigmoid",
            Activation::HardSwish => "hard_swish",
            Activation::Tanh => "tanh",
        }
    }
}

/// Attributes of [`Op::Conv2d`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conv2d {
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Vertical and horizontal stride.
    pub stride: [usize; 2],
    /// Vertical and horizontal dilation.
    pub dilation: [usize; 2],
    /// Padding.
    pub padding: Padding,
    /// Number of groups (`groups == C == O` is depthwise).
    pub groups: usize,
    /// Fused activation.
    pub activation: Activation,
}

/// Attributes of [`Op::ConvTranspose2d`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvTranspose2d {
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Vertical and horizontal stride.
    pub stride: [usize; 2],
    /// Vertical and horizontal dilation.
    pub dilation: [usize; 2],
    /// Padding removed from the full output; `SameUpper`/`SameLower` make the output
    /// `in * stride` (ONNX `auto_pad`, TFLite `SAME`).
    pub padding: Padding,
    /// Extra rows / columns added at the end of the output (ONNX `output_padding`).
    pub output_padding: [usize; 2],
    /// Requested output height and width (ONNX `output_shape`, TFLite's output shape
    /// input); when set, the padding is derived from it as ONNX specifies.
    pub output_size: Option<[usize; 2]>,
    /// Number of groups.
    pub groups: usize,
    /// Fused activation.
    pub activation: Activation,
}

/// Max or average.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PoolKind {
    /// Maximum.
    Max,
    /// Average.
    Avg,
}

/// Attributes of [`Op::Pool2d`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pool2d {
    /// Max or average.
    pub kind: PoolKind,
    /// Window height and width.
    pub kernel: [usize; 2],
    /// Vertical and horizontal stride.
    pub stride: [usize; 2],
    /// Vertical and horizontal dilation.
    pub dilation: [usize; 2],
    /// Padding.
    pub padding: Padding,
    /// Output size rounds up (a last window may start in the padding's end region).
    pub ceil_mode: bool,
    /// Average pooling divides by the full window, padding included.
    pub count_include_pad: bool,
}

/// Attributes of [`Op::Gemm`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gemm {
    /// Scale of the product.
    pub alpha: f32,
    /// Scale of `C`.
    pub beta: f32,
    /// `A` is stored transposed (`[K, M]`).
    pub trans_a: bool,
    /// `B` is stored transposed (`[N, K]`).
    pub trans_b: bool,
    /// Fused activation.
    pub activation: Activation,
}

/// Attributes of [`Op::BatchNorm`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchNorm {
    /// Added to the variance.
    pub epsilon: f32,
    /// Channel axis (negative counts from the end).
    pub axis: i64,
}

/// Element-wise unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Unary {
    /// An activation function.
    Act(Activation),
    Sqrt,
    Exp,
    Log,
    Neg,
    Abs,
    Reciprocal,
    Floor,
    Ceil,
    Round,
    Erf,
    Sin,
    Cos,
    Not,
}

impl Unary {
    /// Name for messages (`Relu`, `Sqrt`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Unary::Act(a) => match a {
                Activation::None => "Identity",
                Activation::Relu => "Relu",
                Activation::Relu6 => "Relu6",
                Activation::Clip { .. } => "Clip",
                Activation::LeakyRelu { .. } => "LeakyRelu",
                Activation::Sigmoid => "Sigmoid",
                Activation::HardSigmoid { .. } => "HardSigmoid",
                Activation::HardSwish => "HardSwish",
                Activation::Tanh => "Tanh",
            },
            Unary::Sqrt => "Sqrt",
            Unary::Exp => "Exp",
            Unary::Log => "Log",
            Unary::Neg => "Neg",
            Unary::Abs => "Abs",
            Unary::Reciprocal => "Reciprocal",
            Unary::Floor => "Floor",
            Unary::Ceil => "Ceil",
            Unary::Round => "Round",
            Unary::Erf => "Erf",
            Unary::Sin => "Sin",
            Unary::Cos => "Cos",
            Unary::Not => "Not",
        }
    }
}

/// Element-wise binary operators (numpy broadcasting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
    Pow,
    /// `a < 0 ? b * a : a` (`b` is the slope).
    PRelu,
    /// Output bool.
    Equal,
    /// Output bool.
    Less,
    /// Output bool.
    Greater,
    /// Bool inputs and output.
    And,
    /// Bool inputs and output.
    Or,
}

/// Attributes of [`Op::Split`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// Axis (negative counts from the end).
    pub axis: i64,
    /// Output sizes along `axis`; `None` splits into equal parts, one per output (the last
    /// part smaller when the size does not divide, as ONNX specifies).
    pub sizes: Option<Vec<usize>>,
}

/// How [`Op::Pad`] fills the border.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PadMode {
    /// A constant value.
    Constant,
    /// Mirror without repeating the edge (`[1,2,3]` -> `3,2,|1,2,3|,2,1`).
    Reflect,
    /// Repeat the edge value.
    Edge,
    /// Wrap around (periodic).
    Wrap,
}

/// Attributes of [`Op::Pad`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pad {
    /// Fill mode.
    pub mode: PadMode,
    /// `[begin_0, ..., begin_{r-1}, end_0, ..., end_{r-1}]` for every axis of the input;
    /// negative values crop.
    pub pads: Vec<i64>,
    /// Fill value for [`PadMode::Constant`].
    pub value: f32,
}

/// Interpolation of [`Op::Resize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResizeMode {
    /// Nearest neighbour.
    Nearest,
    /// (Multi-)linear.
    Linear,
    /// Cubic (not implemented by the reference kernels yet).
    Cubic,
}

/// How an output coordinate maps back to an input coordinate (ONNX names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum CoordTransform {
    HalfPixel,
    HalfPixelSymmetric,
    PytorchHalfPixel,
    AlignCorners,
    Asymmetric,
    TfCropAndResize,
}

/// Rounding of [`ResizeMode::Nearest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum NearestMode {
    RoundPreferFloor,
    RoundPreferCeil,
    Floor,
    Ceil,
}

/// ONNX `keep_aspect_ratio_policy` for `sizes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum AspectPolicy {
    Stretch,
    NotLarger,
    NotSmaller,
}

/// Attributes of [`Op::Resize`] (ONNX opset 19 semantics; older opsets map onto it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resize {
    /// Interpolation.
    pub mode: ResizeMode,
    /// Coordinate transformation.
    pub coord: CoordTransform,
    /// Rounding for nearest.
    pub nearest: NearestMode,
    /// Axes that `roi`, `scales` and `sizes` refer to; `None` means all, in order.
    pub axes: Option<Vec<i64>>,
    /// Aspect ratio policy when `sizes` is given.
    pub aspect: AspectPolicy,
    /// Value for samples outside the input with `TfCropAndResize`.
    pub extrapolation_value: f32,
    /// Anti-aliasing filter when downsampling (linear and cubic).
    pub antialias: bool,
    /// Cubic coefficient `a`.
    pub cubic_coeff_a: f32,
    /// Cubic: weights of samples outside the input are zeroed and renormalized.
    pub exclude_outside: bool,
}

/// Reduction of [`Op::Reduce`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum ReduceKind {
    Mean,
    Max,
    Min,
    Sum,
    Prod,
}

/// Attributes of [`Op::Reduce`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reduce {
    /// The reduction.
    pub kind: ReduceKind,
    /// Axes to reduce; empty reduces all axes.
    pub axes: Vec<i64>,
    /// Keep reduced axes with size 1.
    pub keep_dims: bool,
}
