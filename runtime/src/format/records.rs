//! The records of the GRAPH and METADATA sections: serde mirrors of the IR, encoded with
//! postcard.
//!
//! These types *are* the file format. They are deliberately separate from the in-memory IR so
//! that the IR can change freely: a change there breaks the exhaustive conversions below at
//! compile time instead of silently changing what files mean.
//!
//! Postcard encodes an enum as the varint index of its variant followed by the variant's
//! fields, and a struct as its fields in order. So, for every type in this module:
//! - never reorder, remove or retype variants or fields;
//! - new enum variants are appended at the end (older readers reject them by name);
//! - any other change (a new struct field, ...) needs a new [`super::FORMAT_VERSION`].
//!
//! `usize` values are stored as `u64` so files are the same on every platform; the reader
//! converts them back with a check.

use serde::{Deserialize, Serialize};

use crate::ir::{self, DType, Op};

/// One tensor of the graph.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TensorRecord {
    pub name: String,
    pub dtype: DTypeRecord,
    pub shape: Option<Vec<DimRecord>>,
    /// Where the value lies in the WEIGHTS section, for constants.
    pub weights: Option<WeightRef>,
}

/// A constant's bytes: `[offset, offset + len)` of the WEIGHTS section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct WeightRef {
    /// Offset from the start of the WEIGHTS section; a multiple of 64.
    pub offset: u64,
    /// Length in bytes: `numel(shape) * dtype.size()`.
    pub len: u64,
    /// CRC-32 (IEEE) of the bytes, checked by [`super::verify_weights`].
    pub crc32: u32,
}

/// One node of the graph.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct NodeRecord {
    pub name: String,
    pub op: OpRecord,
    /// Tensor ids; `None` for an omitted optional input.
    pub inputs: Vec<Option<u64>>,
    pub outputs: Vec<u64>,
}

/// The METADATA section.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct MetadataRecord {
    pub producer: String,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum DTypeRecord {
    F32,
    F16,
    I8,
    U8,
    I32,
    I64,
    Bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum DimRecord {
    Fixed(u64),
    Sym(String),
}

/// The operator and its attributes. Variant order is the on-disk tag: append only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) enum OpRecord {
    Conv2d(Conv2dRecord),
    ConvTranspose2d(ConvTranspose2dRecord),
    Pool2d(Pool2dRecord),
    GlobalPool(PoolKindRecord),
    Gemm(GemmRecord),
    MatMul,
    BatchNorm { epsilon: f32, axis: i64 },
    Unary(UnaryRecord),
    Binary(BinaryRecord),
    Where,
    Concat { axis: i64 },
    Split { axis: i64, sizes: Option<Vec<u64>> },
    Slice,
    Reshape { allow_zero: bool },
    Flatten { axis: i64 },
    Squeeze { axes: Vec<i64> },
    Unsqueeze { axes: Vec<i64> },
    Transpose { perm: Vec<u64> },
    Pad { mode: PadModeRecord, pads: Vec<i64>, value: f32 },
    Resize(ResizeRecord),
    Softmax { axis: i64 },
    LogSoftmax { axis: i64 },
    Reduce { kind: ReduceKindRecord, axes: Vec<i64>, keep_dims: bool },
    Gather { axis: i64 },
    Cast { to: DTypeRecord },
    Identity,
    Shape { start: i64, end: Option<i64> },
    Range,
    Expand,
    ConstantOfShape { dtype: DTypeRecord, value: f64 },
    Dequantize,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(super) enum PaddingRecord {
    Explicit { top: u64, left: u64, bottom: u64, right: u64 },
    SameUpper,
    SameLower,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(super) enum ActivationRecord {
    None,
    Relu,
    Relu6,
    Clip { min: f32, max: f32 },
    LeakyRelu { alpha: f32 },
    Sigmoid,
    HardSigmoid { alpha: f32, beta: f32 },
    HardSwish,
    Tanh,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Conv2dRecord {
    pub kernel: [u64; 2],
    pub stride: [u64; 2],
    pub dilation: [u64; 2],
    pub padding: PaddingRecord,
    pub groups: u64,
    pub activation: ActivationRecord,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ConvTranspose2dRecord {
    pub kernel: [u64; 2],
    pub stride: [u64; 2],
    pub dilation: [u64; 2],
    pub padding: PaddingRecord,
    pub output_padding: [u64; 2],
    pub output_size: Option<[u64; 2]>,
    pub groups: u64,
    pub activation: ActivationRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum PoolKindRecord {
    Max,
    Avg,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Pool2dRecord {
    pub kind: PoolKindRecord,
    pub kernel: [u64; 2],
    pub stride: [u64; 2],
    pub dilation: [u64; 2],
    pub padding: PaddingRecord,
    pub ceil_mode: bool,
    pub count_include_pad: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct GemmRecord {
    pub alpha: f32,
    pub beta: f32,
    pub trans_a: bool,
    pub trans_b: bool,
    pub activation: ActivationRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(super) enum UnaryRecord {
    Act(ActivationRecord),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum BinaryRecord {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
    Pow,
    PRelu,
    Equal,
    Less,
    Greater,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum PadModeRecord {
    Constant,
    Reflect,
    Edge,
    Wrap,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ResizeRecord {
    pub mode: ResizeModeRecord,
    pub coord: CoordTransformRecord,
    pub nearest: NearestModeRecord,
    pub axes: Option<Vec<i64>>,
    pub aspect: AspectPolicyRecord,
    pub extrapolation_value: f32,
    pub antialias: bool,
    pub cubic_coeff_a: f32,
    pub exclude_outside: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum ResizeModeRecord {
    Nearest,
    Linear,
    Cubic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum CoordTransformRecord {
    HalfPixel,
    HalfPixelSymmetric,
    PytorchHalfPixel,
    AlignCorners,
    Asymmetric,
    TfCropAndResize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum NearestModeRecord {
    RoundPreferFloor,
    RoundPreferCeil,
    Floor,
    Ceil,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum AspectPolicyRecord {
    Stretch,
    NotLarger,
    NotSmaller,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum ReduceKindRecord {
    Mean,
    Max,
    Min,
    Sum,
    Prod,
}

// ---------------------------------------------------------------------------------------
// IR -> record (writing). `usize` -> `u64` is lossless on every supported target.

fn w(v: usize) -> u64 {
    v as u64
}

fn w2(v: [usize; 2]) -> [u64; 2] {
    [w(v[0]), w(v[1])]
}

impl From<DType> for DTypeRecord {
    fn from(d: DType) -> Self {
        match d {
            DType::F32 => DTypeRecord::F32,
            DType::F16 => DTypeRecord::F16,
            DType::I8 => DTypeRecord::I8,
            DType::U8 => DTypeRecord::U8,
            DType::I32 => DTypeRecord::I32,
            DType::I64 => DTypeRecord::I64,
            DType::Bool => DTypeRecord::Bool,
        }
    }
}

impl From<&ir::Dim> for DimRecord {
    fn from(d: &ir::Dim) -> Self {
        match d {
            ir::Dim::Fixed(n) => DimRecord::Fixed(w(*n)),
            ir::Dim::Sym(s) => DimRecord::Sym(s.clone()),
        }
    }
}

impl From<ir::Padding> for PaddingRecord {
    fn from(p: ir::Padding) -> Self {
        match p {
            ir::Padding::Explicit { top, left, bottom, right } => {
                PaddingRecord::Explicit { top: w(top), left: w(left), bottom: w(bottom), right: w(right) }
            }
            ir::Padding::SameUpper => PaddingRecord::SameUpper,
            ir::Padding::SameLower => PaddingRecord::SameLower,
        }
    }
}

impl From<ir::Activation> for ActivationRecord {
    fn from(a: ir::Activation) -> Self {
        use ir::Activation as A;
        match a {
            A::None => ActivationRecord::None,
            A::Relu => ActivationRecord::Relu,
            A::Relu6 => ActivationRecord::Relu6,
            A::Clip { min, max } => ActivationRecord::Clip { min, max },
            A::LeakyRelu { alpha } => ActivationRecord::LeakyRelu { alpha },
            A::Sigmoid => ActivationRecord::Sigmoid,
            A::HardSigmoid { alpha, beta } => ActivationRecord::HardSigmoid { alpha, beta },
            A::HardSwish => ActivationRecord::HardSwish,
            A::Tanh => ActivationRecord::Tanh,
        }
    }
}

impl From<ir::PoolKind> for PoolKindRecord {
    fn from(k: ir::PoolKind) -> Self {
        match k {
            ir::PoolKind::Max => PoolKindRecord::Max,
            ir::PoolKind::Avg => PoolKindRecord::Avg,
        }
    }
}

impl From<ir::Unary> for UnaryRecord {
    fn from(u: ir::Unary) -> Self {
        use ir::Unary as U;
        match u {
            U::Act(a) => UnaryRecord::Act(a.into()),
            U::Sqrt => UnaryRecord::Sqrt,
            U::Exp => UnaryRecord::Exp,
            U::Log => UnaryRecord::Log,
            U::Neg => UnaryRecord::Neg,
            U::Abs => UnaryRecord::Abs,
            U::Reciprocal => UnaryRecord::Reciprocal,
            U::Floor => UnaryRecord::Floor,
            U::Ceil => UnaryRecord::Ceil,
            U::Round => UnaryRecord::Round,
            U::Erf => UnaryRecord::Erf,
            U::Sin => UnaryRecord::Sin,
            U::Cos => UnaryRecord::Cos,
            U::Not => UnaryRecord::Not,
        }
    }
}

impl From<ir::Binary> for BinaryRecord {
    fn from(b: ir::Binary) -> Self {
        use ir::Binary as B;
        match b {
            B::Add => BinaryRecord::Add,
            B::Sub => BinaryRecord::Sub,
            B::Mul => BinaryRecord::Mul,
            B::Div => BinaryRecord::Div,
            B::Max => BinaryRecord::Max,
            B::Min => BinaryRecord::Min,
            B::Pow => BinaryRecord::Pow,
            B::PRelu => BinaryRecord::PRelu,
            B::Equal => BinaryRecord::Equal,
            B::Less => BinaryRecord::Less,
            B::Greater => BinaryRecord::Greater,
            B::And => BinaryRecord::And,
            B::Or => BinaryRecord::Or,
        }
    }
}

impl From<ir::PadMode> for PadModeRecord {
    fn from(m: ir::PadMode) -> Self {
        match m {
            ir::PadMode::Constant => PadModeRecord::Constant,
            ir::PadMode::Reflect => PadModeRecord::Reflect,
            ir::PadMode::Edge => PadModeRecord::Edge,
            ir::PadMode::Wrap => PadModeRecord::Wrap,
        }
    }
}

impl From<ir::ResizeMode> for ResizeModeRecord {
    fn from(m: ir::ResizeMode) -> Self {
        match m {
            ir::ResizeMode::Nearest => ResizeModeRecord::Nearest,
            ir::ResizeMode::Linear => ResizeModeRecord::Linear,
            ir::ResizeMode::Cubic => ResizeModeRecord::Cubic,
        }
    }
}

impl From<ir::CoordTransform> for CoordTransformRecord {
    fn from(c: ir::CoordTransform) -> Self {
        use ir::CoordTransform as C;
        match c {
            C::HalfPixel => CoordTransformRecord::HalfPixel,
            C::HalfPixelSymmetric => CoordTransformRecord::HalfPixelSymmetric,
            C::PytorchHalfPixel => CoordTransformRecord::PytorchHalfPixel,
            C::AlignCorners => CoordTransformRecord::AlignCorners,
            C::Asymmetric => CoordTransformRecord::Asymmetric,
            C::TfCropAndResize => CoordTransformRecord::TfCropAndResize,
        }
    }
}

impl From<ir::NearestMode> for NearestModeRecord {
    fn from(n: ir::NearestMode) -> Self {
        use ir::NearestMode as N;
        match n {
            N::RoundPreferFloor => NearestModeRecord::RoundPreferFloor,
            N::RoundPreferCeil => NearestModeRecord::RoundPreferCeil,
            N::Floor => NearestModeRecord::Floor,
            N::Ceil => NearestModeRecord::Ceil,
        }
    }
}

impl From<ir::AspectPolicy> for AspectPolicyRecord {
    fn from(a: ir::AspectPolicy) -> Self {
        use ir::AspectPolicy as A;
        match a {
            A::Stretch => AspectPolicyRecord::Stretch,
            A::NotLarger => AspectPolicyRecord::NotLarger,
            A::NotSmaller => AspectPolicyRecord::NotSmaller,
        }
    }
}

impl From<ir::ReduceKind> for ReduceKindRecord {
    fn from(k: ir::ReduceKind) -> Self {
        use ir::ReduceKind as K;
        match k {
            K::Mean => ReduceKindRecord::Mean,
            K::Max => ReduceKindRecord::Max,
            K::Min => ReduceKindRecord::Min,
            K::Sum => ReduceKindRecord::Sum,
            K::Prod => ReduceKindRecord::Prod,
        }
    }
}

impl From<&Op> for OpRecord {
    fn from(op: &Op) -> Self {
        match op {
            Op::Conv2d(a) => OpRecord::Conv2d(Conv2dRecord {
                kernel: w2(a.kernel),
                stride: w2(a.stride),
                dilation: w2(a.dilation),
                padding: a.padding.into(),
                groups: w(a.groups),
                activation: a.activation.into(),
            }),
            Op::ConvTranspose2d(a) => OpRecord::ConvTranspose2d(ConvTranspose2dRecord {
                kernel: w2(a.kernel),
                stride: w2(a.stride),
                dilation: w2(a.dilation),
                padding: a.padding.into(),
                output_padding: w2(a.output_padding),
                output_size: a.output_size.map(w2),
                groups: w(a.groups),
                activation: a.activation.into(),
            }),
            Op::Pool2d(a) => OpRecord::Pool2d(Pool2dRecord {
                kind: a.kind.into(),
                kernel: w2(a.kernel),
                stride: w2(a.stride),
                dilation: w2(a.dilation),
                padding: a.padding.into(),
                ceil_mode: a.ceil_mode,
                count_include_pad: a.count_include_pad,
            }),
            Op::GlobalPool(k) => OpRecord::GlobalPool((*k).into()),
            Op::Gemm(a) => OpRecord::Gemm(GemmRecord {
                alpha: a.alpha,
                beta: a.beta,
                trans_a: a.trans_a,
                trans_b: a.trans_b,
                activation: a.activation.into(),
            }),
            Op::MatMul => OpRecord::MatMul,
            Op::BatchNorm(a) => OpRecord::BatchNorm { epsilon: a.epsilon, axis: a.axis },
            Op::Unary(u) => OpRecord::Unary((*u).into()),
            Op::Binary(b) => OpRecord::Binary((*b).into()),
            Op::Where => OpRecord::Where,
            Op::Concat { axis } => OpRecord::Concat { axis: *axis },
            Op::Split(a) => {
                OpRecord::Split { axis: a.axis, sizes: a.sizes.as_ref().map(|s| s.iter().map(|&v| w(v)).collect()) }
            }
            Op::Slice => OpRecord::Slice,
            Op::Reshape { allow_zero } => OpRecord::Reshape { allow_zero: *allow_zero },
            Op::Flatten { axis } => OpRecord::Flatten { axis: *axis },
            Op::Squeeze { axes } => OpRecord::Squeeze { axes: axes.clone() },
            Op::Unsqueeze { axes } => OpRecord::Unsqueeze { axes: axes.clone() },
            Op::Transpose { perm } => OpRecord::Transpose { perm: perm.iter().map(|&p| w(p)).collect() },
            Op::Pad(a) => OpRecord::Pad { mode: a.mode.into(), pads: a.pads.clone(), value: a.value },
            Op::Resize(a) => OpRecord::Resize(ResizeRecord {
                mode: a.mode.into(),
                coord: a.coord.into(),
                nearest: a.nearest.into(),
                axes: a.axes.clone(),
                aspect: a.aspect.into(),
                extrapolation_value: a.extrapolation_value,
                antialias: a.antialias,
                cubic_coeff_a: a.cubic_coeff_a,
                exclude_outside: a.exclude_outside,
            }),
            Op::Softmax { axis } => OpRecord::Softmax { axis: *axis },
            Op::LogSoftmax { axis } => OpRecord::LogSoftmax { axis: *axis },
            Op::Reduce(a) => OpRecord::Reduce { kind: a.kind.into(), axes: a.axes.clone(), keep_dims: a.keep_dims },
            Op::Gather { axis } => OpRecord::Gather { axis: *axis },
            Op::Cast { to } => OpRecord::Cast { to: (*to).into() },
            Op::Identity => OpRecord::Identity,
            Op::Shape { start, end } => OpRecord::Shape { start: *start, end: *end },
            Op::Range => OpRecord::Range,
            Op::Expand => OpRecord::Expand,
            Op::ConstantOfShape { dtype, value } => OpRecord::ConstantOfShape { dtype: (*dtype).into(), value: *value },
            Op::Dequantize => OpRecord::Dequantize,
        }
    }
}

// ---------------------------------------------------------------------------------------
// record -> IR (reading). Only the `u64` -> `usize` conversions can fail (32-bit targets).

/// Converts a stored size to `usize`, naming the field when it does not fit.
pub(super) fn r(v: u64, what: &str) -> Result<usize, String> {
    usize::try_from(v).map_err(|_| format!("{what} {v} does not fit this platform's address space"))
}

fn r2(v: [u64; 2], what: &str) -> Result<[usize; 2], String> {
    Ok([r(v[0], what)?, r(v[1], what)?])
}

impl From<DTypeRecord> for DType {
    fn from(d: DTypeRecord) -> Self {
        match d {
            DTypeRecord::F32 => DType::F32,
            DTypeRecord::F16 => DType::F16,
            DTypeRecord::I8 => DType::I8,
            DTypeRecord::U8 => DType::U8,
            DTypeRecord::I32 => DType::I32,
            DTypeRecord::I64 => DType::I64,
            DTypeRecord::Bool => DType::Bool,
        }
    }
}

impl DimRecord {
    pub(super) fn to_ir(&self) -> Result<ir::Dim, String> {
        Ok(match self {
            DimRecord::Fixed(n) => ir::Dim::Fixed(r(*n, "dimension")?),
            DimRecord::Sym(s) => ir::Dim::Sym(s.clone()),
        })
    }
}

impl PaddingRecord {
    fn to_ir(self) -> Result<ir::Padding, String> {
        Ok(match self {
            PaddingRecord::Explicit { top, left, bottom, right } => ir::Padding::Explicit {
                top: r(top, "padding")?,
                left: r(left, "padding")?,
                bottom: r(bottom, "padding")?,
                right: r(right, "padding")?,
            },
            PaddingRecord::SameUpper => ir::Padding::SameUpper,
            PaddingRecord::SameLower => ir::Padding::SameLower,
        })
    }
}

impl From<ActivationRecord> for ir::Activation {
    fn from(a: ActivationRecord) -> Self {
        use ir::Activation as A;
        match a {
            ActivationRecord::None => A::None,
            ActivationRecord::Relu => A::Relu,
            ActivationRecord::Relu6 => A::Relu6,
            ActivationRecord::Clip { min, max } => A::Clip { min, max },
            ActivationRecord::LeakyRelu { alpha } => A::LeakyRelu { alpha },
            ActivationRecord::Sigmoid => A::Sigmoid,
            ActivationRecord::HardSigmoid { alpha, beta } => A::HardSigmoid { alpha, beta },
            ActivationRecord::HardSwish => A::HardSwish,
            ActivationRecord::Tanh => A::Tanh,
        }
    }
}

impl From<PoolKindRecord> for ir::PoolKind {
    fn from(k: PoolKindRecord) -> Self {
        match k {
            PoolKindRecord::Max => ir::PoolKind::Max,
            PoolKindRecord::Avg => ir::PoolKind::Avg,
        }
    }
}

impl From<UnaryRecord> for ir::Unary {
    fn from(u: UnaryRecord) -> Self {
        use ir::Unary as U;
        match u {
            UnaryRecord::Act(a) => U::Act(a.into()),
            UnaryRecord::Sqrt => U::Sqrt,
            UnaryRecord::Exp => U::Exp,
            UnaryRecord::Log => U::Log,
            UnaryRecord::Neg => U::Neg,
            UnaryRecord::Abs => U::Abs,
            UnaryRecord::Reciprocal => U::Reciprocal,
            UnaryRecord::Floor => U::Floor,
            UnaryRecord::Ceil => U::Ceil,
            UnaryRecord::Round => U::Round,
            UnaryRecord::Erf => U::Erf,
            UnaryRecord::Sin => U::Sin,
            UnaryRecord::Cos => U::Cos,
            UnaryRecord::Not => U::Not,
        }
    }
}

impl From<BinaryRecord> for ir::Binary {
    fn from(b: BinaryRecord) -> Self {
        use ir::Binary as B;
        match b {
            BinaryRecord::Add => B::Add,
            BinaryRecord::Sub => B::Sub,
            BinaryRecord::Mul => B::Mul,
            BinaryRecord::Div => B::Div,
            BinaryRecord::Max => B::Max,
            BinaryRecord::Min => B::Min,
            BinaryRecord::Pow => B::Pow,
            BinaryRecord::PRelu => B::PRelu,
            BinaryRecord::Equal => B::Equal,
            BinaryRecord::Less => B::Less,
            BinaryRecord::Greater => B::Greater,
            BinaryRecord::And => B::And,
            BinaryRecord::Or => B::Or,
        }
    }
}

impl From<PadModeRecord> for ir::PadMode {
    fn from(m: PadModeRecord) -> Self {
        match m {
            PadModeRecord::Constant => ir::PadMode::Constant,
            PadModeRecord::Reflect => ir::PadMode::Reflect,
            PadModeRecord::Edge => ir::PadMode::Edge,
            PadModeRecord::Wrap => ir::PadMode::Wrap,
        }
    }
}

impl From<ResizeModeRecord> for ir::ResizeMode {
    fn from(m: ResizeModeRecord) -> Self {
        match m {
            ResizeModeRecord::Nearest => ir::ResizeMode::Nearest,
            ResizeModeRecord::Linear => ir::ResizeMode::Linear,
            ResizeModeRecord::Cubic => ir::ResizeMode::Cubic,
        }
    }
}

impl From<CoordTransformRecord> for ir::CoordTransform {
    fn from(c: CoordTransformRecord) -> Self {
        use ir::CoordTransform as C;
        match c {
            CoordTransformRecord::HalfPixel => C::HalfPixel,
            CoordTransformRecord::HalfPixelSymmetric => C::HalfPixelSymmetric,
            CoordTransformRecord::PytorchHalfPixel => C::PytorchHalfPixel,
            CoordTransformRecord::AlignCorners => C::AlignCorners,
            CoordTransformRecord::Asymmetric => C::Asymmetric,
            CoordTransformRecord::TfCropAndResize => C::TfCropAndResize,
        }
    }
}

impl From<NearestModeRecord> for ir::NearestMode {
    fn from(n: NearestModeRecord) -> Self {
        use ir::NearestMode as N;
        match n {
            NearestModeRecord::RoundPreferFloor => N::RoundPreferFloor,
            NearestModeRecord::RoundPreferCeil => N::RoundPreferCeil,
            NearestModeRecord::Floor => N::Floor,
            NearestModeRecord::Ceil => N::Ceil,
        }
    }
}

impl From<AspectPolicyRecord> for ir::AspectPolicy {
    fn from(a: AspectPolicyRecord) -> Self {
        use ir::AspectPolicy as A;
        match a {
            AspectPolicyRecord::Stretch => A::Stretch,
            AspectPolicyRecord::NotLarger => A::NotLarger,
            AspectPolicyRecord::NotSmaller => A::NotSmaller,
        }
    }
}

impl From<ReduceKindRecord> for ir::ReduceKind {
    fn from(k: ReduceKindRecord) -> Self {
        use ir::ReduceKind as K;
        match k {
            ReduceKindRecord::Mean => K::Mean,
            ReduceKindRecord::Max => K::Max,
            ReduceKindRecord::Min => K::Min,
            ReduceKindRecord::Sum => K::Sum,
            ReduceKindRecord::Prod => K::Prod,
        }
    }
}

impl OpRecord {
    /// The IR operator; fails only when a stored size does not fit in `usize`.
    pub(super) fn into_ir(self) -> Result<Op, String> {
        Ok(match self {
            OpRecord::Conv2d(a) => Op::Conv2d(ir::Conv2d {
                kernel: r2(a.kernel, "kernel size")?,
                stride: r2(a.stride, "stride")?,
                dilation: r2(a.dilation, "dilation")?,
                padding: a.padding.to_ir()?,
                groups: r(a.groups, "groups")?,
                activation: a.activation.into(),
            }),
            OpRecord::ConvTranspose2d(a) => Op::ConvTranspose2d(ir::ConvTranspose2d {
                kernel: r2(a.kernel, "kernel size")?,
                stride: r2(a.stride, "stride")?,
                dilation: r2(a.dilation, "dilation")?,
                padding: a.padding.to_ir()?,
                output_padding: r2(a.output_padding, "output padding")?,
                output_size: a.output_size.map(|s| r2(s, "output size")).transpose()?,
                groups: r(a.groups, "groups")?,
                activation: a.activation.into(),
            }),
            OpRecord::Pool2d(a) => Op::Pool2d(ir::Pool2d {
                kind: a.kind.into(),
                kernel: r2(a.kernel, "kernel size")?,
                stride: r2(a.stride, "stride")?,
                dilation: r2(a.dilation, "dilation")?,
                padding: a.padding.to_ir()?,
                ceil_mode: a.ceil_mode,
                count_include_pad: a.count_include_pad,
            }),
            OpRecord::GlobalPool(k) => Op::GlobalPool(k.into()),
            OpRecord::Gemm(a) => Op::Gemm(ir::Gemm {
                alpha: a.alpha,
                beta: a.beta,
                trans_a: a.trans_a,
                trans_b: a.trans_b,
                activation: a.activation.into(),
            }),
            OpRecord::MatMul => Op::MatMul,
            OpRecord::BatchNorm { epsilon, axis } => Op::BatchNorm(ir::BatchNorm { epsilon, axis }),
            OpRecord::Unary(u) => Op::Unary(u.into()),
            OpRecord::Binary(b) => Op::Binary(b.into()),
            OpRecord::Where => Op::Where,
            OpRecord::Concat { axis } => Op::Concat { axis },
            OpRecord::Split { axis, sizes } => Op::Split(ir::Split {
                axis,
                sizes: sizes
                    .map(|s| s.into_iter().map(|v| r(v, "split size")).collect::<Result<_, _>>())
                    .transpose()?,
            }),
            OpRecord::Slice => Op::Slice,
            OpRecord::Reshape { allow_zero } => Op::Reshape { allow_zero },
            OpRecord::Flatten { axis } => Op::Flatten { axis },
            OpRecord::Squeeze { axes } => Op::Squeeze { axes },
            OpRecord::Unsqueeze { axes } => Op::Unsqueeze { axes },
            OpRecord::Transpose { perm } => {
                Op::Transpose { perm: perm.into_iter().map(|p| r(p, "permutation entry")).collect::<Result<_, _>>()? }
            }
            OpRecord::Pad { mode, pads, value } => Op::Pad(ir::Pad { mode: mode.into(), pads, value }),
            OpRecord::Resize(a) => Op::Resize(ir::Resize {
                mode: a.mode.into(),
                coord: a.coord.into(),
                nearest: a.nearest.into(),
                axes: a.axes,
                aspect: a.aspect.into(),
                extrapolation_value: a.extrapolation_value,
                antialias: a.antialias,
                cubic_coeff_a: a.cubic_coeff_a,
                exclude_outside: a.exclude_outside,
            }),
            OpRecord::Softmax { axis } => Op::Softmax { axis },
            OpRecord::LogSoftmax { axis } => Op::LogSoftmax { axis },
            OpRecord::Reduce { kind, axes, keep_dims } => Op::Reduce(ir::Reduce { kind: kind.into(), axes, keep_dims }),
            OpRecord::Gather { axis } => Op::Gather { axis },
            OpRecord::Cast { to } => Op::Cast { to: to.into() },
            OpRecord::Identity => Op::Identity,
            OpRecord::Shape { start, end } => Op::Shape { start, end },
            OpRecord::Range => Op::Range,
            OpRecord::Expand => Op::Expand,
            OpRecord::ConstantOfShape { dtype, value } => Op::ConstantOfShape { dtype: dtype.into(), value },
            OpRecord::Dequantize => Op::Dequantize,
        })
    }
}
