//! Conversion of each TFLite operator into IR nodes.

use ferrolite_runtime::ir::{
    Activation, AspectPolicy, Binary, ConstData, Conv2d, ConvTranspose2d, CoordTransform, DType, Gemm, NearestMode, Op,
    Pad, PadMode, Padding, Pool2d, PoolKind, Reduce, ReduceKind, Resize, ResizeMode, Split, TensorId, Unary,
};

use super::custom;
use super::slice::{self, StridedSlice};
use super::{Fail, Importer, OpCtx, OpResult, TfTensor, fb, invalid, permute_bytes, unsupported};

/// The builtin options of an operator as the expected table, `None` when absent (TFLite
/// then uses the fields' defaults).
macro_rules! options {
    ($ctx:expr, $variant:ident) => {
        match $ctx.op.builtin_options()? {
            Some(fb::BuiltinOptionsRef::$variant(o)) => Some(o),
            None => None,
            Some(_) => invalid!("its builtin options are not {}", stringify!($variant)),
        }
    };
}

/// A field of optional options, or its schema default.
macro_rules! field {
    ($opts:expr, $field:ident, $default:expr) => {
        match &$opts {
            Some(o) => o.$field()?,
            None => $default,
        }
    };
}

/// A TFLite fused activation as an IR activation.
fn fused(a: fb::ActivationFunctionType) -> OpResult<Activation> {
    Ok(match a {
        fb::ActivationFunctionType::None => Activation::None,
        fb::ActivationFunctionType::Relu => Activation::Relu,
        fb::ActivationFunctionType::ReluN1To1 => Activation::Clip { min: -1.0, max: 1.0 },
        fb::ActivationFunctionType::Relu6 => Activation::Relu6,
        fb::ActivationFunctionType::Tanh => Activation::Tanh,
        fb::ActivationFunctionType::SignBit => unsupported!("fused activation SIGN_BIT"),
    })
}

fn padding(p: fb::Padding) -> Padding {
    match p {
        fb::Padding::Same => Padding::SameUpper,
        fb::Padding::Valid => Padding::VALID,
    }
}

/// A stride, dilation or window size from the file: must be positive.
fn positive(v: i32, what: &str) -> OpResult<usize> {
    match usize::try_from(v) {
        Ok(v) if v > 0 => Ok(v),
        _ => invalid!("{what} is {v}; it must be positive"),
    }
}

/// Normalizes an axis against a known rank (`rank_extra` allows the one-past-the-end
/// positions of ops that insert an axis).
fn axis_in(axis: i64, rank: usize, what: &str) -> OpResult<usize> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r {
        invalid!("{what} {axis} is out of range for rank {rank}");
    }
    Ok(a as usize)
}

impl<'a> Importer<'a> {
    /// Converts one operator.
    pub(super) fn convert_op(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        use fb::BuiltinOperator as B;
        match ctx.code {
            B::Conv2d => self.conv_2d(ctx),
            B::DepthwiseConv2d => self.depthwise_conv_2d(ctx),
            B::TransposeConv => self.transpose_conv(ctx),
            B::FullyConnected => self.fully_connected(ctx),
            B::AveragePool2d => self.pool_2d(ctx, PoolKind::Avg),
            B::MaxPool2d => self.pool_2d(ctx, PoolKind::Max),
            B::Mean => self.reduce(ctx, ReduceKind::Mean),
            B::Sum => self.reduce(ctx, ReduceKind::Sum),
            B::ReduceMax => self.reduce(ctx, ReduceKind::Max),
            B::ReduceMin => self.reduce(ctx, ReduceKind::Min),
            B::ReduceProd => self.reduce(ctx, ReduceKind::Prod),

            B::Add => {
                let act = fused(field!(
                    options!(ctx, AddOptions),
                    fused_activation_function,
                    fb::ActivationFunctionType::None
                ))?;
                self.binary(ctx, Binary::Add, act)
            }
            B::Sub => {
                let act = fused(field!(
                    options!(ctx, SubOptions),
                    fused_activation_function,
                    fb::ActivationFunctionType::None
                ))?;
                self.binary(ctx, Binary::Sub, act)
            }
            B::Mul => {
                let act = fused(field!(
                    options!(ctx, MulOptions),
                    fused_activation_function,
                    fb::ActivationFunctionType::None
                ))?;
                self.binary(ctx, Binary::Mul, act)
            }
            B::Div => {
                let act = fused(field!(
                    options!(ctx, DivOptions),
                    fused_activation_function,
                    fb::ActivationFunctionType::None
                ))?;
                self.binary(ctx, Binary::Div, act)
            }
            B::Maximum => self.binary(ctx, Binary::Max, Activation::None),
            B::Minimum => self.binary(ctx, Binary::Min, Activation::None),
            B::Pow => self.binary(ctx, Binary::Pow, Activation::None),
            B::Prelu => self.binary(ctx, Binary::PRelu, Activation::None),
            B::Less => self.binary(ctx, Binary::Less, Activation::None),
            B::Greater => self.binary(ctx, Binary::Greater, Activation::None),
            B::Equal => self.binary(ctx, Binary::Equal, Activation::None),
            B::LogicalAnd => self.binary(ctx, Binary::And, Activation::None),
            B::LogicalOr => self.binary(ctx, Binary::Or, Activation::None),
            // a >= b is not (a < b), and so on.
            B::GreaterEqual => self.binary_not(ctx, Binary::Less),
            B::LessEqual => self.binary_not(ctx, Binary::Greater),
            B::NotEqual => self.binary_not(ctx, Binary::Equal),
            B::SquaredDifference => self.squared_difference(ctx),

            B::Relu => self.unary(ctx, &[Unary::Act(Activation::Relu)]),
            B::Relu6 => self.unary(ctx, &[Unary::Act(Activation::Relu6)]),
            B::ReluN1To1 => self.unary(ctx, &[Unary::Act(Activation::Clip { min: -1.0, max: 1.0 })]),
            B::Relu0To1 => self.unary(ctx, &[Unary::Act(Activation::Clip { min: 0.0, max: 1.0 })]),
            B::Logistic => self.unary(ctx, &[Unary::Act(Activation::Sigmoid)]),
            B::Tanh => self.unary(ctx, &[Unary::Act(Activation::Tanh)]),
            B::HardSwish => self.unary(ctx, &[Unary::Act(Activation::HardSwish)]),
            B::LeakyRelu => {
                let alpha = field!(options!(ctx, LeakyReluOptions), alpha, 0.0);
                self.unary(ctx, &[Unary::Act(Activation::LeakyRelu { alpha })])
            }
            B::Exp => self.unary(ctx, &[Unary::Exp]),
            B::Log => self.unary(ctx, &[Unary::Log]),
            B::Sqrt => self.unary(ctx, &[Unary::Sqrt]),
            B::Rsqrt => self.unary(ctx, &[Unary::Sqrt, Unary::Reciprocal]),
            B::Abs => self.unary(ctx, &[Unary::Abs]),
            B::Neg => self.unary(ctx, &[Unary::Neg]),
            B::Floor => self.unary(ctx, &[Unary::Floor]),
            B::Ceil => self.unary(ctx, &[Unary::Ceil]),
            B::Round => self.unary(ctx, &[Unary::Round]),
            B::Sin => self.unary(ctx, &[Unary::Sin]),
            B::Cos => self.unary(ctx, &[Unary::Cos]),
            B::LogicalNot => self.unary(ctx, &[Unary::Not]),
            B::Square => {
                let x = self.input(ctx, 0)?;
                let out = self.output(ctx, 0)?;
                self.node(ctx, None, Op::Binary(Binary::Mul), vec![Some(x), Some(x)], vec![out]);
                Ok(())
            }

            B::Concatenation => self.concatenation(ctx),
            B::Reshape => self.reshape(ctx),
            B::Squeeze => {
                let axes = field!(options!(ctx, SqueezeOptions), squeeze_dims, None);
                let axes = axes.map(|v| v.iter().map(i64::from).collect()).unwrap_or_default();
                self.simple(ctx, Op::Squeeze { axes })
            }
            B::ExpandDims => {
                let axis = self.const_ints(ctx, 1)?;
                let [axis] = axis[..] else { invalid!("its axis input holds {} values, not 1", axis.len()) };
                self.simple(ctx, Op::Unsqueeze { axes: vec![axis] })
            }
            B::Transpose => self.transpose(ctx),
            B::Pad => self.pad(ctx, PadMode::Constant),
            B::Padv2 => self.pad(ctx, PadMode::Constant),
            B::MirrorPad => {
                let mode = field!(options!(ctx, MirrorPadOptions), mode, fb::MirrorPadMode::Reflect);
                match mode {
                    fb::MirrorPadMode::Reflect => self.pad(ctx, PadMode::Reflect),
                    // SYMMETRIC repeats the edge element; it equals edge padding for
                    // amounts up to 1, the only case the IR can express.
                    fb::MirrorPadMode::Symmetric => self.pad(ctx, PadMode::Edge),
                }
            }
            B::ResizeBilinear => self.resize(ctx, ResizeMode::Linear),
            B::ResizeNearestNeighbor => self.resize(ctx, ResizeMode::Nearest),
            B::Softmax => self.softmax(ctx),
            B::LogSoftmax => self.simple(ctx, Op::LogSoftmax { axis: -1 }),
            B::StridedSlice => self.strided_slice(ctx),
            B::Slice => self.slice(ctx),
            B::Split => self.split(ctx),
            B::SplitV => self.split_v(ctx),
            B::Gather => {
                let o = options!(ctx, GatherOptions);
                if field!(o, batch_dims, 0) != 0 {
                    unsupported!("batch_dims {} (only 0 is supported)", field!(o, batch_dims, 0));
                }
                let axis = i64::from(field!(o, axis, 0));
                let params = self.input(ctx, 0)?;
                let indices = self.input(ctx, 1)?;
                let out = self.output(ctx, 0)?;
                self.node(ctx, None, Op::Gather { axis }, vec![Some(params), Some(indices)], vec![out]);
                Ok(())
            }
            B::Cast => {
                let to = self.output_info(ctx, 0)?.dtype()?;
                self.simple(ctx, Op::Cast { to })
            }
            B::Dequantize => self.dequantize(ctx),
            B::Shape => self.shape(ctx),
            B::Pack => self.pack(ctx),
            B::Unpack => self.unpack(ctx),
            B::BatchMatmul => self.batch_matmul(ctx),
            B::DepthToSpace => self.depth_to_space(ctx, true),
            B::SpaceToDepth => self.depth_to_space(ctx, false),
            B::Select | B::SelectV2 => {
                let inputs = (0..3).map(|i| self.input(ctx, i).map(Some)).collect::<OpResult<Vec<_>>>()?;
                let out = self.output(ctx, 0)?;
                self.node(ctx, None, Op::Where, inputs, vec![out]);
                Ok(())
            }
            B::BroadcastTo => {
                let x = self.input(ctx, 0)?;
                let shape = self.i64_input(ctx, 1)?;
                let out = self.output(ctx, 0)?;
                self.node(ctx, None, Op::Expand, vec![Some(x), Some(shape)], vec![out]);
                Ok(())
            }
            B::Custom => self.custom(ctx),
            _ => unsupported!("Ferrolite does not implement this operator"),
        }
    }

    // ---- Access to inputs and outputs ----------------------------------------------------

    /// The subgraph tensor index of required input `i`.
    fn input_index(&self, ctx: &OpCtx<'a>, i: usize) -> OpResult<usize> {
        match ctx.inputs.get(i) {
            Some(Some(t)) => Ok(*t),
            Some(None) => invalid!("input {i} is omitted but required"),
            None => invalid!("it has {} inputs; input {i} is required", ctx.inputs.len()),
        }
    }

    /// What the file says about required input `i`.
    fn input_info(&self, ctx: &OpCtx<'a>, i: usize) -> OpResult<&TfTensor<'a>> {
        Ok(&self.tensors[self.input_index(ctx, i)?])
    }

    /// What the file says about output `i`.
    fn output_info(&self, ctx: &OpCtx<'a>, i: usize) -> OpResult<&TfTensor<'a>> {
        match ctx.outputs.get(i) {
            Some(&t) => Ok(&self.tensors[t]),
            None => invalid!("it has {} outputs; output {i} is required", ctx.outputs.len()),
        }
    }

    /// The IR tensor of required input `i`.
    fn input(&mut self, ctx: &OpCtx<'a>, i: usize) -> OpResult<TensorId> {
        let t = self.input_index(ctx, i)?;
        self.tensor(t)
    }

    /// The IR tensor of optional input `i` (absent, or -1 in the file).
    fn optional_input(&mut self, ctx: &OpCtx<'a>, i: usize) -> OpResult<Option<TensorId>> {
        match ctx.inputs.get(i) {
            Some(Some(t)) => self.tensor(*t).map(Some),
            _ => Ok(None),
        }
    }

    /// The IR tensor that output `i` is written to.
    fn output(&mut self, ctx: &OpCtx<'a>, i: usize) -> OpResult<TensorId> {
        match ctx.outputs.get(i) {
            Some(&t) => self.output_tensor(t),
            None => invalid!("it has {} outputs; output {i} is required", ctx.outputs.len()),
        }
    }

    /// A temporary with output 0's element type.
    fn temp_like_output(&mut self, ctx: &OpCtx<'a>, suffix: &str) -> OpResult<TensorId> {
        let dtype = self.output_info(ctx, 0)?.dtype()?;
        Ok(self.temp(&ctx.node, suffix, dtype))
    }

    /// Appends a node named after the TFLite node (`suffix` for helper nodes).
    fn node(
        &mut self,
        ctx: &OpCtx<'a>,
        suffix: Option<&str>,
        op: Op,
        inputs: Vec<Option<TensorId>>,
        outputs: Vec<TensorId>,
    ) {
        let name = match suffix {
            Some(s) => format!("{}/{s}", ctx.node),
            None => ctx.node.clone(),
        };
        self.graph.add_node(name, op, inputs, outputs);
    }

    /// One input, one output, one node.
    fn simple(&mut self, ctx: &OpCtx<'a>, op: Op) -> OpResult<()> {
        let x = self.input(ctx, 0)?;
        let out = self.output(ctx, 0)?;
        self.node(ctx, None, op, vec![Some(x)], vec![out]);
        Ok(())
    }

    /// `op` writing output 0, followed by `act` as its own node when there is one.
    fn with_activation(
        &mut self,
        ctx: &OpCtx<'a>,
        op: Op,
        inputs: Vec<Option<TensorId>>,
        act: Activation,
    ) -> OpResult<()> {
        if act == Activation::None {
            let out = self.output(ctx, 0)?;
            self.node(ctx, None, op, inputs, vec![out]);
        } else {
            let pre = self.temp_like_output(ctx, "pre_activation")?;
            self.node(ctx, Some("op"), op, inputs, vec![pre]);
            let out = self.output(ctx, 0)?;
            self.node(ctx, None, Op::Unary(Unary::Act(act)), vec![Some(pre)], vec![out]);
        }
        Ok(())
    }

    /// The values of constant integer input `i` (i32 or i64, any shape), or `None` if the
    /// input is not a constant.
    fn const_ints_opt(&self, ctx: &OpCtx<'a>, i: usize) -> OpResult<Option<Vec<i64>>> {
        let t = self.input_index(ctx, i)?;
        let Some((dtype, _, bytes)) = self.checked_const(t)? else { return Ok(None) };
        let values = match dtype {
            DType::I32 => {
                bytes.chunks_exact(4).map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect()
            }
            DType::I64 => bytes
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
            other => invalid!("input {i} (\"{}\") is {other}, an integer tensor was expected", self.tensors[t].name),
        };
        Ok(Some(values))
    }

    /// The values of constant integer input `i`; unsupported when it is computed.
    fn const_ints(&self, ctx: &OpCtx<'a>, i: usize) -> OpResult<Vec<i64>> {
        match self.const_ints_opt(ctx, i)? {
            Some(v) => Ok(v),
            None => unsupported!(
                "input {i} (\"{}\") is computed by the graph; Ferrolite needs it to be a constant",
                self.input_info(ctx, i)?.name
            ),
        }
    }

    /// A constant scalar input as f32 (any numeric type).
    fn const_scalar_f32(&self, ctx: &OpCtx<'a>, i: usize) -> OpResult<f32> {
        let t = self.input_index(ctx, i)?;
        let name = &self.tensors[t].name;
        let Some((dtype, _, bytes)) = self.checked_const(t)? else {
            unsupported!("input {i} (\"{name}\") is computed by the graph; Ferrolite needs it to be a constant")
        };
        let value = match (dtype, bytes) {
            (DType::F32, &[a, b, c, d]) => f32::from_le_bytes([a, b, c, d]),
            (DType::F16, &[a, b]) => half::f16::from_le_bytes([a, b]).to_f32(),
            (DType::I32, &[a, b, c, d]) => i32::from_le_bytes([a, b, c, d]) as f32,
            (DType::I64, &[a, b, c, d, e, f, g, h]) => i64::from_le_bytes([a, b, c, d, e, f, g, h]) as f32,
            (DType::I8, &[a]) => f32::from(a as i8),
            (DType::U8, &[a]) => f32::from(a),
            _ => invalid!("input {i} (\"{name}\") must be one number"),
        };
        Ok(value)
    }

    /// Input `i` as an i64 tensor for a shape-like IR input: a constant converted to i64, or
    /// a computed i32 tensor behind a `Cast`.
    fn i64_input(&mut self, ctx: &OpCtx<'a>, i: usize) -> OpResult<TensorId> {
        if let Some(values) = self.const_ints_opt(ctx, i)? {
            let name = self.input_info(ctx, i)?.name.clone();
            return Ok(self.const_i64(&name, "i64", &values));
        }
        let dtype = self.input_info(ctx, i)?.dtype()?;
        let t = self.input(ctx, i)?;
        match dtype {
            DType::I64 => Ok(t),
            DType::I32 => {
                let cast = self.temp(&ctx.node, &format!("input{i}_i64"), DType::I64);
                self.node(ctx, Some(&format!("input{i}_i64")), Op::Cast { to: DType::I64 }, vec![Some(t)], vec![cast]);
                Ok(cast)
            }
            other => invalid!("input {i} is {other}; an integer tensor was expected"),
        }
    }

    /// Input `i` with its axes permuted: a new constant for constant weights, a `Transpose`
    /// node otherwise (fp16 weights behind a `DEQUANTIZE`).
    fn permuted_input(&mut self, ctx: &OpCtx<'a>, i: usize, perm: &[usize], suffix: &str) -> OpResult<TensorId> {
        let t = self.input_index(ctx, i)?;
        let name = self.tensors[t].name.clone();
        if let Some((dtype, shape, bytes)) = self.checked_const(t)? {
            let Some(data) = permute_bytes(bytes, &shape, perm, dtype.size()) else {
                invalid!("cannot permute \"{name}\" of shape {shape:?} by {perm:?}")
            };
            let new_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
            Ok(self.constant(&name, suffix, dtype, &new_shape, ConstData::from_bytes(&data)))
        } else {
            let dtype = self.usable_dtype(t)?;
            let x = self.tensor(t)?;
            let out = self.temp(&name, suffix, dtype);
            self.node(ctx, Some(suffix), Op::Transpose { perm: perm.to_vec() }, vec![Some(x)], vec![out]);
            Ok(out)
        }
    }

    /// The fully known shape of input `i` with the expected rank (weights).
    fn fixed_input_dims(&self, ctx: &OpCtx<'a>, i: usize, rank: usize, what: &str) -> OpResult<Vec<usize>> {
        let t = self.input_info(ctx, i)?;
        match t.fixed_dims() {
            Some(d) if d.len() == rank => Ok(d),
            _ => invalid!("{what} \"{}\" must have a known {rank}-D shape, it has {:?}", t.name, t.dims),
        }
    }

    // ---- Convolutions --------------------------------------------------------------------

    fn conv_2d(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let o = options!(ctx, Conv2DOptions);
        let stride = [positive(field!(o, stride_h, 0), "stride_h")?, positive(field!(o, stride_w, 0), "stride_w")?];
        let dilation = [
            positive(field!(o, dilation_h_factor, 1), "dilation_h_factor")?,
            positive(field!(o, dilation_w_factor, 1), "dilation_w_factor")?,
        ];
        let padding = padding(field!(o, padding, fb::Padding::Same));
        let activation = fused(field!(o, fused_activation_function, fb::ActivationFunctionType::None))?;
        let w = self.fixed_input_dims(ctx, 1, 4, "filter")?;
        let (o_ch, kh, kw, i_ch) = (w[0], w[1], w[2], w[3]);
        if i_ch == 0 || o_ch == 0 {
            invalid!("filter shape {w:?} has a zero dimension");
        }
        // TFLite grouped convolution: the filter holds C / groups input channels.
        let groups = match self.input_info(ctx, 0)?.dims.get(3).copied().flatten() {
            Some(c) if c % i_ch == 0 && o_ch % (c / i_ch) == 0 => c / i_ch,
            Some(c) => invalid!(
                "the input has {c} channels, which the filter's {i_ch} input channels do not divide into groups of {o_ch} outputs"
            ),
            None => 1,
        };
        let x = self.input(ctx, 0)?;
        let w = self.input(ctx, 1)?;
        let b = self.optional_input(ctx, 2)?;
        let out = self.output(ctx, 0)?;
        let op = Op::Conv2d(Conv2d { kernel: [kh, kw], stride, dilation, padding, groups, activation });
        self.node(ctx, None, op, vec![Some(x), Some(w), b], vec![out]);
        Ok(())
    }

    fn depthwise_conv_2d(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let o = options!(ctx, DepthwiseConv2DOptions);
        let stride = [positive(field!(o, stride_h, 0), "stride_h")?, positive(field!(o, stride_w, 0), "stride_w")?];
        let dilation = [
            positive(field!(o, dilation_h_factor, 1), "dilation_h_factor")?,
            positive(field!(o, dilation_w_factor, 1), "dilation_w_factor")?,
        ];
        let padding = padding(field!(o, padding, fb::Padding::Same));
        let activation = fused(field!(o, fused_activation_function, fb::ActivationFunctionType::None))?;
        let multiplier = field!(o, depth_multiplier, 0);
        let w = self.fixed_input_dims(ctx, 1, 4, "filter")?;
        let (kh, kw, out_ch) = (w[1], w[2], w[3]);
        if w[0] != 1 || out_ch == 0 {
            invalid!("depthwise filter shape {w:?} is not [1, KH, KW, C * multiplier]");
        }
        // The input's channel count; the (redundant) depth multiplier when it is unknown.
        let channels = match self.input_info(ctx, 0)?.dims.get(3).copied().flatten() {
            Some(c) => c,
            None => match usize::try_from(multiplier) {
                Ok(m) if m > 0 && out_ch % m == 0 => out_ch / m,
                _ => {
                    invalid!("the input's channel count is unknown and depth_multiplier {multiplier} does not give it")
                }
            },
        };
        if channels == 0 || out_ch % channels != 0 {
            invalid!("{out_ch} output channels are not a multiple of the input's {channels} channels");
        }
        let x = self.input(ctx, 0)?;
        // [1, KH, KW, C*M] -> [C*M, KH, KW, 1]: output channel c*M + m stays in group c.
        let w = self.permuted_input(ctx, 1, &[3, 1, 2, 0], "ohwi")?;
        let b = self.optional_input(ctx, 2)?;
        let out = self.output(ctx, 0)?;
        let op = Op::Conv2d(Conv2d { kernel: [kh, kw], stride, dilation, padding, groups: channels, activation });
        self.node(ctx, None, op, vec![Some(x), Some(w), b], vec![out]);
        Ok(())
    }

    fn transpose_conv(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let o = options!(ctx, TransposeConvOptions);
        let stride = [positive(field!(o, stride_h, 0), "stride_h")?, positive(field!(o, stride_w, 0), "stride_w")?];
        let same = field!(o, padding, fb::Padding::Same) == fb::Padding::Same;
        let activation = fused(field!(o, fused_activation_function, fb::ActivationFunctionType::None))?;
        // Inputs: output_shape, weights [O, KH, KW, I], input, bias?.
        let out_shape = self.const_ints(ctx, 0)?;
        let w = self.fixed_input_dims(ctx, 1, 4, "weights")?;
        let (o_ch, kh, kw) = (w[0], w[1], w[2]);
        let [_, oh, ow, oc] = out_shape[..] else { invalid!("output_shape {out_shape:?} does not have 4 values") };
        if oc != o_ch as i64 {
            invalid!("output_shape {out_shape:?} has {oc} channels, the weights {o_ch}");
        }
        let (Ok(oh), Ok(ow)) = (usize::try_from(oh), usize::try_from(ow)) else {
            invalid!("output_shape {out_shape:?} has a negative size")
        };
        let in_dims = &self.input_info(ctx, 2)?.dims;
        let (ih, iw) = (in_dims.get(1).copied().flatten(), in_dims.get(2).copied().flatten());
        let geometry = match (ih, iw) {
            (Some(ih), Some(iw)) => {
                let (top, bottom, extra_h) = tflite_transpose_conv_axis(ih, kh, stride[0], oh, same)?;
                let (left, right, extra_w) = tflite_transpose_conv_axis(iw, kw, stride[1], ow, same)?;
                (Padding::Explicit { top, left, bottom, right }, [extra_h, extra_w], None)
            }
            // Unknown input size: let the kernel derive the padding from the output size.
            _ => (if same { Padding::SameUpper } else { Padding::VALID }, [0, 0], Some([oh, ow])),
        };
        let x = self.input(ctx, 2)?;
        let w = self.permuted_input(ctx, 1, &[3, 1, 2, 0], "ihwo")?;
        let b = self.optional_input(ctx, 3)?;
        let out = self.output(ctx, 0)?;
        let op = Op::ConvTranspose2d(ConvTranspose2d {
            kernel: [kh, kw],
            stride,
            dilation: [1, 1],
            padding: geometry.0,
            output_padding: geometry.1,
            output_size: geometry.2,
            groups: 1,
            activation,
        });
        self.node(ctx, None, op, vec![Some(x), Some(w), b], vec![out]);
        Ok(())
    }

    fn custom(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let code = ctx.custom_code.unwrap_or("");
        if code != custom::TRANSPOSE_CONV_BIAS {
            unsupported!(
                "custom operator \"{code}\"; the only custom operator Ferrolite implements is {}",
                custom::TRANSPOSE_CONV_BIAS
            );
        }
        let blob = self.custom_options(ctx)?;
        let o = custom::parse_transpose_conv_bias(blob).map_err(Fail::Invalid)?;
        // Inputs: x [N, H, W, C], weights [O, KH, KW, C], bias [O].
        let w = self.fixed_input_dims(ctx, 1, 4, "weights")?;
        let (kh, kw) = (w[1], w[2]);
        let in_dims = &self.input_info(ctx, 0)?.dims;
        let (Some(ih), Some(iw)) = (in_dims.get(1).copied().flatten(), in_dims.get(2).copied().flatten()) else {
            unsupported!("a dynamic input height or width (the padding depends on it)")
        };
        if ih == 0 || iw == 0 {
            invalid!("the input has an empty spatial dimension");
        }
        let (top, bottom) = custom::transpose_conv_bias_crop(o.padding, ih, kh, o.stride_h);
        let (left, right) = custom::transpose_conv_bias_crop(o.padding, iw, kw, o.stride_w);
        let x = self.input(ctx, 0)?;
        let w = self.permuted_input(ctx, 1, &[3, 1, 2, 0], "ihwo")?;
        let b = self.input(ctx, 2)?;
        let out = self.output(ctx, 0)?;
        let op = Op::ConvTranspose2d(ConvTranspose2d {
            kernel: [kh, kw],
            stride: [o.stride_h, o.stride_w],
            dilation: [1, 1],
            padding: Padding::Explicit { top, left, bottom, right },
            output_padding: [0, 0],
            output_size: None,
            groups: 1,
            activation: Activation::None,
        });
        self.node(ctx, None, op, vec![Some(x), Some(w), Some(b)], vec![out]);
        Ok(())
    }

    /// The custom options blob: inline, or (models over 2 GB) at an offset from the start of
    /// the file.
    fn custom_options(&self, ctx: &OpCtx<'a>) -> OpResult<&'a [u8]> {
        if let Some(blob) = ctx.op.custom_options()?
            && !blob.is_empty()
        {
            return Ok(blob);
        }
        let offset = ctx.op.large_custom_options_offset()?;
        let size = ctx.op.large_custom_options_size()?;
        if offset > 1 {
            let range = usize::try_from(offset)
                .ok()
                .zip(usize::try_from(size).ok())
                .and_then(|(o, s)| Some(o..o.checked_add(s)?));
            return match range.and_then(|r| self.file.get(r)) {
                Some(blob) => Ok(blob),
                None => invalid!(
                    "its custom options lie at bytes {offset}..+{size}, past the end of the {}-byte file",
                    self.file.len()
                ),
            };
        }
        Ok(&[])
    }

    // ---- Dense, pooling, reductions ------------------------------------------------------

    fn fully_connected(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let o = options!(ctx, FullyConnectedOptions);
        let activation = fused(field!(o, fused_activation_function, fb::ActivationFunctionType::None))?;
        let keep_num_dims = field!(o, keep_num_dims, false);
        let format = field!(o, weights_format, fb::FullyConnectedOptionsWeightsFormat::Default);
        if format != fb::FullyConnectedOptionsWeightsFormat::Default {
            unsupported!("weights format {format:?}");
        }
        let w = self.fixed_input_dims(ctx, 1, 2, "weights")?;
        let (n, k) = (w[0], w[1]);
        if k == 0 {
            invalid!("weights shape {w:?} has no input features");
        }
        let x_dims = self.input_info(ctx, 0)?.dims.clone();
        let x = self.input(ctx, 0)?;
        // TFLite flattens the input to [M, K].
        let x2 = if x_dims.len() == 2 && x_dims[1] == Some(k) {
            x
        } else {
            let shape = self.const_i64(&ctx.node, "flat_shape", &[-1, k as i64]);
            let flat = self.temp(&ctx.node, "flat", self.tensors[self.input_index(ctx, 0)?].dtype()?);
            self.node(ctx, Some("flatten"), Op::Reshape { allow_zero: false }, vec![Some(x), Some(shape)], vec![flat]);
            flat
        };
        let wt = self.input(ctx, 1)?;
        let b = self.optional_input(ctx, 2)?;
        let gemm = Op::Gemm(Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: true, activation });
        if !keep_num_dims || x_dims.len() == 2 {
            let out = self.output(ctx, 0)?;
            self.node(ctx, None, gemm, vec![Some(x2), Some(wt), b], vec![out]);
            return Ok(());
        }
        // keep_num_dims: the output is the input's leading dims with N features.
        let rank = x_dims.len();
        if rank == 0 {
            invalid!("a scalar input");
        }
        let mat = self.temp_like_output(ctx, "matrix")?;
        self.node(ctx, Some("gemm"), gemm, vec![Some(x2), Some(wt), b], vec![mat]);
        let leading: Option<Vec<i64>> = x_dims[..rank - 1].iter().map(|d| d.map(|d| d as i64)).collect();
        let shape = match leading {
            Some(mut dims) => {
                dims.push(n as i64);
                self.const_i64(&ctx.node, "out_shape", &dims)
            }
            None => {
                let lead = self.temp(&ctx.node, "leading_dims", DType::I64);
                self.node(ctx, Some("leading_dims"), Op::Shape { start: 0, end: Some(-1) }, vec![Some(x)], vec![lead]);
                let features = self.const_i64(&ctx.node, "features", &[n as i64]);
                let shape = self.temp(&ctx.node, "out_shape", DType::I64);
                self.node(
                    ctx,
                    Some("out_shape"),
                    Op::Concat { axis: 0 },
                    vec![Some(lead), Some(features)],
                    vec![shape],
                );
                shape
            }
        };
        let out = self.output(ctx, 0)?;
        self.node(ctx, None, Op::Reshape { allow_zero: true }, vec![Some(mat), Some(shape)], vec![out]);
        Ok(())
    }

    fn pool_2d(&mut self, ctx: &OpCtx<'a>, kind: PoolKind) -> OpResult<()> {
        let o = options!(ctx, Pool2DOptions);
        let stride = [positive(field!(o, stride_h, 0), "stride_h")?, positive(field!(o, stride_w, 0), "stride_w")?];
        let kernel = [
            positive(field!(o, filter_height, 0), "filter_height")?,
            positive(field!(o, filter_width, 0), "filter_width")?,
        ];
        let padding = padding(field!(o, padding, fb::Padding::Same));
        let activation = fused(field!(o, fused_activation_function, fb::ActivationFunctionType::None))?;
        let x = self.input(ctx, 0)?;
        // TFLite's average excludes the padding from the count.
        let op = Op::Pool2d(Pool2d {
            kind,
            kernel,
            stride,
            dilation: [1, 1],
            padding,
            ceil_mode: false,
            count_include_pad: false,
        });
        self.with_activation(ctx, op, vec![Some(x)], activation)
    }

    fn reduce(&mut self, ctx: &OpCtx<'a>, kind: ReduceKind) -> OpResult<()> {
        let keep_dims = field!(options!(ctx, ReducerOptions), keep_dims, false);
        let axes = self.const_ints(ctx, 1)?;
        let rank = self.input_info(ctx, 0)?.dims.len();
        let mut normalized = Vec::with_capacity(axes.len());
        for &a in &axes {
            normalized.push(axis_in(a, rank, "reduction axis")? as i64);
        }
        normalized.sort_unstable();
        normalized.dedup();
        let x = self.input(ctx, 0)?;
        if normalized.is_empty() {
            // TensorFlow reduces over no axis: the identity (the IR's empty list means all).
            let out = self.output(ctx, 0)?;
            self.node(ctx, None, Op::Identity, vec![Some(x)], vec![out]);
            return Ok(());
        }
        // Spatial mean / max of an NHWC tensor: the global pooling kernels.
        let global = match kind {
            ReduceKind::Mean => Some(PoolKind::Avg),
            ReduceKind::Max => Some(PoolKind::Max),
            _ => None,
        };
        if let (Some(pool), 4, [1, 2]) = (global, rank, normalized.as_slice()) {
            if keep_dims {
                let out = self.output(ctx, 0)?;
                self.node(ctx, None, Op::GlobalPool(pool), vec![Some(x)], vec![out]);
            } else {
                let pooled = self.temp_like_output(ctx, "pooled")?;
                self.node(ctx, Some("pool"), Op::GlobalPool(pool), vec![Some(x)], vec![pooled]);
                let out = self.output(ctx, 0)?;
                self.node(ctx, None, Op::Squeeze { axes: vec![1, 2] }, vec![Some(pooled)], vec![out]);
            }
            return Ok(());
        }
        let out = self.output(ctx, 0)?;
        self.node(ctx, None, Op::Reduce(Reduce { kind, axes: normalized, keep_dims }), vec![Some(x)], vec![out]);
        Ok(())
    }

    // ---- Element-wise --------------------------------------------------------------------

    fn binary(&mut self, ctx: &OpCtx<'a>, op: Binary, act: Activation) -> OpResult<()> {
        let a = self.input(ctx, 0)?;
        let b = self.input(ctx, 1)?;
        self.with_activation(ctx, Op::Binary(op), vec![Some(a), Some(b)], act)
    }

    /// `not(a op b)`.
    fn binary_not(&mut self, ctx: &OpCtx<'a>, op: Binary) -> OpResult<()> {
        let a = self.input(ctx, 0)?;
        let b = self.input(ctx, 1)?;
        let cmp = self.temp(&ctx.node, "complement", DType::Bool);
        self.node(ctx, Some("complement"), Op::Binary(op), vec![Some(a), Some(b)], vec![cmp]);
        let out = self.output(ctx, 0)?;
        self.node(ctx, None, Op::Unary(Unary::Not), vec![Some(cmp)], vec![out]);
        Ok(())
    }

    fn squared_difference(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let a = self.input(ctx, 0)?;
        let b = self.input(ctx, 1)?;
        let d = self.temp_like_output(ctx, "difference")?;
        self.node(ctx, Some("difference"), Op::Binary(Binary::Sub), vec![Some(a), Some(b)], vec![d]);
        let out = self.output(ctx, 0)?;
        self.node(ctx, None, Op::Binary(Binary::Mul), vec![Some(d), Some(d)], vec![out]);
        Ok(())
    }

    /// A chain of unary operators (`RSQRT` is `Sqrt` then `Reciprocal`).
    fn unary(&mut self, ctx: &OpCtx<'a>, chain: &[Unary]) -> OpResult<()> {
        let mut x = self.input(ctx, 0)?;
        for (i, &u) in chain.iter().enumerate() {
            let last = i + 1 == chain.len();
            let y = if last { self.output(ctx, 0)? } else { self.temp_like_output(ctx, u.name())? };
            self.node(ctx, if last { None } else { Some(u.name()) }, Op::Unary(u), vec![Some(x)], vec![y]);
            x = y;
        }
        Ok(())
    }

    fn softmax(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        // A missing options table leaves beta at 0 in TFLite too.
        let beta = field!(options!(ctx, SoftmaxOptions), beta, 0.0);
        let mut x = self.input(ctx, 0)?;
        if beta != 1.0 {
            let b = self.scalar_f32(&ctx.node, "beta", beta);
            let scaled = self.temp_like_output(ctx, "scaled")?;
            self.node(ctx, Some("beta"), Op::Binary(Binary::Mul), vec![Some(x), Some(b)], vec![scaled]);
            x = scaled;
        }
        let out = self.output(ctx, 0)?;
        self.node(ctx, None, Op::Softmax { axis: -1 }, vec![Some(x)], vec![out]);
        Ok(())
    }

    fn dequantize(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        // Quantized integer inputs were rejected when their tensor was looked up.
        match self.input_info(ctx, 0)?.dtype()? {
            DType::F16 => self.simple(ctx, Op::Dequantize),
            other => unsupported!("dequantizing {other} (only f16 is supported)"),
        }
    }

    // ---- Movement and shapes -------------------------------------------------------------

    fn concatenation(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let o = options!(ctx, ConcatenationOptions);
        let axis = i64::from(field!(o, axis, 0));
        let act = fused(field!(o, fused_activation_function, fb::ActivationFunctionType::None))?;
        if ctx.inputs.is_empty() {
            invalid!("no inputs");
        }
        let inputs = (0..ctx.inputs.len()).map(|i| self.input(ctx, i).map(Some)).collect::<OpResult<Vec<_>>>()?;
        self.with_activation(ctx, Op::Concat { axis }, inputs, act)
    }

    fn reshape(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let x = self.input(ctx, 0)?;
        // The shape input wins when it is a 1-D tensor; otherwise the new_shape option.
        let shape_input = match ctx.inputs.get(1) {
            Some(Some(t)) => self.tensors[*t].dims.len() == 1,
            _ => false,
        };
        let shape = if shape_input {
            self.i64_input(ctx, 1)?
        } else {
            let new_shape = field!(options!(ctx, ReshapeOptions), new_shape, None);
            match new_shape {
                Some(v) => {
                    let values: Vec<i64> = v.iter().map(i64::from).collect();
                    self.const_i64(&ctx.node, "shape", &values)
                }
                None => invalid!("neither a shape input nor a new_shape option"),
            }
        };
        let out = self.output(ctx, 0)?;
        // TensorFlow's reshape has no "0 copies the input dimension" rule.
        self.node(ctx, None, Op::Reshape { allow_zero: true }, vec![Some(x), Some(shape)], vec![out]);
        Ok(())
    }

    fn transpose(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let perm = self.const_ints(ctx, 1)?;
        let rank = perm.len();
        let perm = perm.iter().map(|&p| axis_in(p, rank, "permutation entry")).collect::<OpResult<Vec<_>>>()?;
        self.simple(ctx, Op::Transpose { perm })
    }

    fn pad(&mut self, ctx: &OpCtx<'a>, mode: PadMode) -> OpResult<()> {
        let paddings = self.const_ints(ctx, 1)?;
        let rank = paddings.len() / 2;
        if paddings.len() % 2 != 0 || self.input_info(ctx, 1)?.dims.len() != 2 {
            invalid!("paddings {paddings:?} are not a [rank, 2] matrix");
        }
        if paddings.iter().any(|&p| p < 0) {
            invalid!("negative paddings {paddings:?}");
        }
        if mode == PadMode::Edge && paddings.iter().any(|&p| p > 1) {
            unsupported!("SYMMETRIC mirror padding by more than 1 element ({paddings:?})");
        }
        // TFLite lists (begin, end) per axis; the IR all begins, then all ends.
        let pads: Vec<i64> = (0..rank).map(|a| paddings[2 * a]).chain((0..rank).map(|a| paddings[2 * a + 1])).collect();
        let value = match ctx.code {
            fb::BuiltinOperator::Padv2 if matches!(ctx.inputs.get(2), Some(Some(_))) => {
                self.const_scalar_f32(ctx, 2)?
            }
            _ => 0.0,
        };
        self.simple(ctx, Op::Pad(Pad { mode, pads, value }))
    }

    fn resize(&mut self, ctx: &OpCtx<'a>, mode: ResizeMode) -> OpResult<()> {
        let (align_corners, half_pixel) = if mode == ResizeMode::Linear {
            let o = options!(ctx, ResizeBilinearOptions);
            (field!(o, align_corners, false), field!(o, half_pixel_centers, false))
        } else {
            let o = options!(ctx, ResizeNearestNeighborOptions);
            (field!(o, align_corners, false), field!(o, half_pixel_centers, false))
        };
        // TF's coordinate rules as ONNX coordinate transforms:
        // - align_corners: x_in = x_out * (in - 1) / (out - 1); nearest rounds half up.
        // - half_pixel_centers: x_in = (x_out + 0.5) * in / out - 0.5 for bilinear; nearest
        //   takes floor((x_out + 0.5) * in / out), which is that coordinate rounded half up.
        // - neither: x_in = x_out * in / out; nearest floors.
        let (coord, nearest) = match (align_corners, half_pixel) {
            (true, true) => unsupported!("align_corners together with half_pixel_centers"),
            (true, false) => (CoordTransform::AlignCorners, NearestMode::RoundPreferCeil),
            (false, true) => (CoordTransform::HalfPixel, NearestMode::RoundPreferCeil),
            (false, false) => (CoordTransform::Asymmetric, NearestMode::Floor),
        };
        let x = self.input(ctx, 0)?;
        if let Some(size) = self.const_ints_opt(ctx, 1)?
            && (size.len() != 2 || size.iter().any(|&s| s <= 0))
        {
            invalid!("size {size:?} is not two positive values");
        }
        let sizes = self.i64_input(ctx, 1)?;
        let op = Op::Resize(Resize {
            mode,
            coord,
            nearest,
            axes: Some(vec![1, 2]),
            aspect: AspectPolicy::Stretch,
            extrapolation_value: 0.0,
            antialias: false,
            cubic_coeff_a: -0.75,
            exclude_outside: false,
        });
        let out = self.output(ctx, 0)?;
        self.node(ctx, None, op, vec![Some(x), None, None, Some(sizes)], vec![out]);
        Ok(())
    }

    fn strided_slice(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let o = options!(ctx, StridedSliceOptions);
        let begin = self.const_ints(ctx, 1)?;
        let end = self.const_ints(ctx, 2)?;
        let strides = match ctx.inputs.get(3) {
            Some(Some(_)) => self.const_ints(ctx, 3)?,
            _ => vec![1; begin.len()],
        };
        let spec = StridedSlice {
            begin,
            end,
            strides,
            begin_mask: field!(o, begin_mask, 0),
            end_mask: field!(o, end_mask, 0),
            ellipsis_mask: field!(o, ellipsis_mask, 0),
            new_axis_mask: field!(o, new_axis_mask, 0),
            shrink_axis_mask: field!(o, shrink_axis_mask, 0),
            offset: field!(o, offset, false),
        };
        let rank = self.input_info(ctx, 0)?.dims.len();
        let plan = slice::resolve(&spec, rank).map_err(Fail::Invalid)?;
        let mut x = self.input(ctx, 0)?;
        let dtype = self.output_info(ctx, 0)?.dtype()?;
        let mut steps: Vec<(&str, Op, Vec<Option<TensorId>>)> = Vec::new();
        if !plan.axes.is_empty() {
            let starts = self.const_i64(&ctx.node, "starts", &plan.starts);
            let ends = self.const_i64(&ctx.node, "ends", &plan.ends);
            let axes = self.const_i64(&ctx.node, "axes", &plan.axes);
            let strides = self.const_i64(&ctx.node, "steps", &plan.steps);
            steps.push(("slice", Op::Slice, vec![Some(starts), Some(ends), Some(axes), Some(strides)]));
        }
        if !plan.squeeze.is_empty() {
            steps.push(("shrink", Op::Squeeze { axes: plan.squeeze.clone() }, vec![]));
        }
        if !plan.unsqueeze.is_empty() {
            steps.push(("new_axes", Op::Unsqueeze { axes: plan.unsqueeze.clone() }, vec![]));
        }
        if steps.is_empty() {
            steps.push(("copy", Op::Identity, vec![]));
        }
        let count = steps.len();
        for (i, (suffix, op, extra)) in steps.into_iter().enumerate() {
            let last = i + 1 == count;
            let y = if last { self.output(ctx, 0)? } else { self.temp(&ctx.node, suffix, dtype) };
            let mut inputs = vec![Some(x)];
            inputs.extend(extra);
            self.node(ctx, if last { None } else { Some(suffix) }, op, inputs, vec![y]);
            x = y;
        }
        Ok(())
    }

    fn slice(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let begin = self.const_ints(ctx, 1)?;
        let size = self.const_ints(ctx, 2)?;
        if begin.len() != size.len() {
            invalid!("begin {begin:?} and size {size:?} differ in length");
        }
        let mut ends = Vec::with_capacity(size.len());
        for (&b, &s) in begin.iter().zip(&size) {
            ends.push(match s {
                -1 => i64::MAX,
                s if s >= 0 && b >= 0 => b + s,
                _ => invalid!("begin {begin:?} / size {size:?} hold a negative value"),
            });
        }
        let x = self.input(ctx, 0)?;
        let starts = self.const_i64(&ctx.node, "starts", &begin);
        let ends = self.const_i64(&ctx.node, "ends", &ends);
        let out = self.output(ctx, 0)?;
        self.node(ctx, None, Op::Slice, vec![Some(x), Some(starts), Some(ends)], vec![out]);
        Ok(())
    }

    fn split(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        // Inputs: axis, x.
        let axis = self.const_ints(ctx, 0)?;
        let [axis] = axis[..] else { invalid!("its axis input holds {} values, not 1", axis.len()) };
        let num = field!(options!(ctx, SplitOptions), num_splits, 0);
        if usize::try_from(num).ok() != Some(ctx.outputs.len()) {
            invalid!("num_splits {num} but {} outputs", ctx.outputs.len());
        }
        let x = self.input(ctx, 1)?;
        let outs = (0..ctx.outputs.len()).map(|i| self.output(ctx, i)).collect::<OpResult<Vec<_>>>()?;
        self.node(ctx, None, Op::Split(Split { axis, sizes: None }), vec![Some(x)], outs);
        Ok(())
    }

    fn split_v(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        // Inputs: x, size_splits, axis.
        let sizes = self.const_ints(ctx, 1)?;
        let axis = self.const_ints(ctx, 2)?;
        let [axis] = axis[..] else { invalid!("its axis input holds {} values, not 1", axis.len()) };
        if sizes.len() != ctx.outputs.len() {
            invalid!("{} split sizes but {} outputs", sizes.len(), ctx.outputs.len());
        }
        let dims = self.input_info(ctx, 0)?.dims.clone();
        let a = axis_in(axis, dims.len(), "axis")?;
        let inferred = sizes.iter().filter(|&&s| s == -1).count();
        if inferred > 1 || sizes.iter().any(|&s| s < -1) {
            invalid!("split sizes {sizes:?}");
        }
        let known: i64 = sizes.iter().filter(|&&s| s >= 0).sum();
        let resolved: Vec<usize> = if inferred == 1 {
            let Some(dim) = dims[a] else { unsupported!("a -1 split size on an axis of dynamic size") };
            let rest = dim as i64 - known;
            if rest < 0 {
                invalid!("split sizes {sizes:?} exceed the axis size {dim}");
            }
            sizes.iter().map(|&s| if s == -1 { rest as usize } else { s as usize }).collect()
        } else {
            sizes.iter().map(|&s| s as usize).collect()
        };
        let x = self.input(ctx, 0)?;
        let outs = (0..ctx.outputs.len()).map(|i| self.output(ctx, i)).collect::<OpResult<Vec<_>>>()?;
        self.node(ctx, None, Op::Split(Split { axis, sizes: Some(resolved) }), vec![Some(x)], outs);
        Ok(())
    }

    fn shape(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let x = self.input(ctx, 0)?;
        match self.output_info(ctx, 0)?.dtype()? {
            DType::I64 => {
                let out = self.output(ctx, 0)?;
                self.node(ctx, None, Op::Shape { start: 0, end: None }, vec![Some(x)], vec![out]);
            }
            DType::I32 => {
                let s = self.temp(&ctx.node, "shape_i64", DType::I64);
                self.node(ctx, Some("shape_i64"), Op::Shape { start: 0, end: None }, vec![Some(x)], vec![s]);
                let out = self.output(ctx, 0)?;
                self.node(ctx, None, Op::Cast { to: DType::I32 }, vec![Some(s)], vec![out]);
            }
            other => invalid!("output type {other} (SHAPE gives i32 or i64)"),
        }
        Ok(())
    }

    fn pack(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let o = options!(ctx, PackOptions);
        let axis = i64::from(field!(o, axis, 0));
        let count = field!(o, values_count, 0);
        if usize::try_from(count).ok() != Some(ctx.inputs.len()) || ctx.inputs.is_empty() {
            invalid!("values_count {count} but {} inputs", ctx.inputs.len());
        }
        let dtype = self.output_info(ctx, 0)?.dtype()?;
        let mut parts = Vec::with_capacity(ctx.inputs.len());
        for i in 0..ctx.inputs.len() {
            let x = self.input(ctx, i)?;
            let y = self.temp(&ctx.node, &format!("item{i}"), dtype);
            self.node(ctx, Some(&format!("item{i}")), Op::Unsqueeze { axes: vec![axis] }, vec![Some(x)], vec![y]);
            parts.push(Some(y));
        }
        let out = self.output(ctx, 0)?;
        self.node(ctx, None, Op::Concat { axis }, parts, vec![out]);
        Ok(())
    }

    fn unpack(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let o = options!(ctx, UnpackOptions);
        let axis = i64::from(field!(o, axis, 0));
        let num = field!(o, num, 0);
        if usize::try_from(num).ok() != Some(ctx.outputs.len()) || ctx.outputs.is_empty() {
            invalid!("num {num} but {} outputs", ctx.outputs.len());
        }
        let x = self.input(ctx, 0)?;
        let dtype = self.output_info(ctx, 0)?.dtype()?;
        let parts: Vec<TensorId> =
            (0..ctx.outputs.len()).map(|i| self.temp(&ctx.node, &format!("part{i}"), dtype)).collect();
        self.node(ctx, Some("split"), Op::Split(Split { axis, sizes: None }), vec![Some(x)], parts.clone());
        for (i, part) in parts.into_iter().enumerate() {
            let out = self.output(ctx, i)?;
            self.node(ctx, Some(&format!("squeeze{i}")), Op::Squeeze { axes: vec![axis] }, vec![Some(part)], vec![out]);
        }
        Ok(())
    }

    fn batch_matmul(&mut self, ctx: &OpCtx<'a>) -> OpResult<()> {
        let o = options!(ctx, BatchMatMulOptions);
        let adjoint = [field!(o, adj_x, false), field!(o, adj_y, false)];
        let mut operands = Vec::with_capacity(2);
        for (i, &adj) in adjoint.iter().enumerate() {
            if !adj {
                operands.push(Some(self.input(ctx, i)?));
                continue;
            }
            let rank = self.input_info(ctx, i)?.dims.len();
            if rank < 2 {
                invalid!("adjoint of input {i} of rank {rank}");
            }
            let mut perm: Vec<usize> = (0..rank).collect();
            perm.swap(rank - 2, rank - 1);
            operands.push(Some(self.permuted_input(ctx, i, &perm, "adjoint")?));
        }
        let out = self.output(ctx, 0)?;
        self.node(ctx, None, Op::MatMul, operands, vec![out]);
        Ok(())
    }

    /// DEPTH_TO_SPACE / SPACE_TO_DEPTH (TensorFlow's channel order) as reshape, transpose,
    /// reshape. Needs the input's height, width and channels.
    fn depth_to_space(&mut self, ctx: &OpCtx<'a>, to_space: bool) -> OpResult<()> {
        let block = if to_space {
            field!(options!(ctx, DepthToSpaceOptions), block_size, 0)
        } else {
            field!(options!(ctx, SpaceToDepthOptions), block_size, 0)
        };
        let b = positive(block, "block_size")? as i64;
        let dims = self.input_info(ctx, 0)?.dims.clone();
        let [_, Some(h), Some(w), Some(c)] = dims[..] else {
            unsupported!("an input of shape {dims:?}; height, width and channels must be known")
        };
        let (h, w, c) = (h as i64, w as i64, c as i64);
        // `0` copies the batch dimension (allow_zero = false).
        let (first, second) = if to_space {
            if c % (b * b) != 0 {
                invalid!("{c} channels are not divisible by block_size² = {}", b * b);
            }
            let cb = c / (b * b);
            (vec![0, h, w, b, b, cb], vec![0, h * b, w * b, cb])
        } else {
            if h % b != 0 || w % b != 0 {
                invalid!("height {h} / width {w} are not divisible by block_size {b}");
            }
            (vec![0, h / b, b, w / b, b, c], vec![0, h / b, w / b, b * b * c])
        };
        let dtype = self.output_info(ctx, 0)?.dtype()?;
        let x = self.input(ctx, 0)?;
        let s1 = self.const_i64(&ctx.node, "split_shape", &first);
        let t1 = self.temp(&ctx.node, "blocks", dtype);
        self.node(ctx, Some("blocks"), Op::Reshape { allow_zero: false }, vec![Some(x), Some(s1)], vec![t1]);
        let t2 = self.temp(&ctx.node, "moved", dtype);
        self.node(ctx, Some("moved"), Op::Transpose { perm: vec![0, 1, 3, 2, 4, 5] }, vec![Some(t1)], vec![t2]);
        let s2 = self.const_i64(&ctx.node, "merged_shape", &second);
        let out = self.output(ctx, 0)?;
        self.node(ctx, None, Op::Reshape { allow_zero: false }, vec![Some(t2), Some(s2)], vec![out]);
        Ok(())
    }
}

/// Per-axis geometry of TFLite's `TRANSPOSE_CONV` for input size `input`, kernel `kernel`,
/// stride `stride` and requested output size `output`, as `(crop at start, crop at end,
/// zero rows appended)` of the full transposed convolution (`(input - 1) * stride + kernel`).
///
/// TFLite derives the padding from the output size the way a forward convolution of an
/// `output`-sized image would pad (its `ComputePaddingHeightWidth` with the roles of the
/// sizes swapped); rows beyond the full extent (VALID with a kernel smaller than the stride)
/// receive no contribution.
fn tflite_transpose_conv_axis(
    input: usize,
    kernel: usize,
    stride: usize,
    output: usize,
    same: bool,
) -> OpResult<(usize, usize, usize)> {
    let (i, k, s, o) = (input as i64, kernel as i64, stride as i64, output as i64);
    if i == 0 || k == 0 {
        invalid!("an empty input or kernel");
    }
    let forward_out = if same { (o + s - 1) / s } else { (o + s - k) / s };
    let total = ((forward_out - 1) * s + k - o).max(0);
    let begin = total / 2;
    let full = (i - 1) * s + k;
    if begin > full {
        invalid!("output size {output} does not fit an input of {input} with kernel {kernel} and stride {stride}");
    }
    let end = full - begin - o;
    Ok((begin as usize, end.max(0) as usize, (-end).max(0) as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_conv_geometry() {
        // SAME, output = input * stride: TF pads (k - s) in total, the odd one at the end.
        assert_eq!(tflite_transpose_conv_axis(5, 3, 2, 10, true).unwrap(), (0, 1, 0));
        assert_eq!(tflite_transpose_conv_axis(4, 4, 2, 8, true).unwrap(), (1, 1, 0));
        // SAME with an odd output: 5 -> 9 with k 3, s 2: full 11, crop 1 and 1.
        assert_eq!(tflite_transpose_conv_axis(5, 3, 2, 9, true).unwrap(), (1, 1, 0));
        // VALID, kernel smaller than stride: full (5-1)*3+2 = 14, output 15 -> 1 zero row.
        assert_eq!(tflite_transpose_conv_axis(5, 2, 3, 15, false).unwrap(), (0, 0, 1));
        // VALID, exact.
        assert_eq!(tflite_transpose_conv_axis(5, 3, 2, 11, false).unwrap(), (0, 0, 0));
    }

    #[test]
    fn axes_are_normalized() {
        assert_eq!(axis_in(-1, 4, "axis").unwrap(), 3);
        assert!(axis_in(4, 4, "axis").is_err());
        assert!(axis_in(-5, 4, "axis").is_err());
    }
}
