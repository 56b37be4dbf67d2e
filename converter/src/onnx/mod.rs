//! ONNX import: `.onnx` protobuf into Ferrolite's IR.
//!
//! The importer reads default-domain opsets 6 to 27 and maps each node onto IR operators,
//! following the changes between opset versions (attributes that became inputs: `Squeeze`
//! / `Unsqueeze` / `Reduce*` axes, `Split` sizes, `Clip` bounds, `Pad` amounts, `Slice`
//! ranges; `Softmax`'s flatten-to-2-D semantics before opset 13; `Resize`'s modes, and
//! `Upsample` onto `Resize`).
//!
//! ONNX data is NCHW while the IR's spatial operators are NHWC: each `Conv`,
//! `ConvTranspose`, pooling and global pooling node becomes the NHWC operator between a
//! transpose to NHWC and one back, with its constant weights permuted into the IR's layouts
//! (see [`ferrolite_runtime::ir`]). 1-D operators run as 2-D ones with `H = 1`. The
//! converter's layout pass removes the transposes that cancel.
//!
//! Weights become IR constants; float16 weights stay float16 and are read through a
//! `Dequantize` node (folded by the converter). Where the IR wants a value at conversion
//! (`Pad` amounts, `Squeeze` axes, `Clip` bounds, ...) and the model computes it from
//! constants or from the shape of a fixed-shape input, the importer evaluates that small
//! computation with the reference kernels; the nodes stay for the passes to remove.
//!
//! Graph inputs and outputs keep the declared element types and shapes (a named symbolic
//! dimension becomes [`Dim::Sym`] with its name, an unnamed one `Dim::Sym("?")`).
//! Initializers that old models also list as inputs stay constants.
//!
//! Anything the importer does not implement, an operator, an attribute or an attribute
//! value, is a [`ConvertError::Unsupported`] naming the operator and the node; malformed
//! models are [`ConvertError::Parse`] or [`ConvertError::Invalid`] errors. Sizes read from the
//! file are checked before anything is allocated from them.
//!
//! [`Dim::Sym`]: ferrolite_runtime::ir::Dim::Sym

mod attr;
mod importer;
mod math;
mod nn;
pub mod proto;
mod shape_ops;
mod tensor;

use ferrolite_runtime::ir::{Activation, Binary, Graph, Op, PoolKind, ReduceKind, Unary};

use importer::{AttrResultExt, Importer, NodeCx};
pub use tensor::{decode_tensor, tensor_from_proto};

use crate::{ConvertError, Result};

/// Imports a serialized ONNX model (the bytes of an `.onnx` file).
pub fn import(bytes: &[u8]) -> Result<Graph> {
    let model = proto::decode_model(bytes).map_err(|e| ConvertError::Parse { format: "ONNX", msg: e.to_string() })?;
    import_model(&model)
}

/// Imports a decoded ONNX model.
pub fn import_model(model: &proto::ModelProto) -> Result<Graph> {
    Importer::run(model)
}

/// The default-domain operators the importer converts.
pub const SUPPORTED_OPS: &[&str] = &[
    "Abs", "Add", "And", "AveragePool", "BatchNormalization", "Cast", "CastLike", "Ceil", "Clip", "Concat", "Constant",
    "ConstantOfShape", "Conv", "ConvTranspose", "Cos", "Div", "Dropout", "Equal", "Erf", "Exp", "Expand", "Flatten",
    "Floor", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Greater", "GreaterOrEqual", "HardSigmoid",
    "HardSwish", "Identity", "LeakyRelu", "Less", "LessOrEqual", "Log", "LogSoftmax", "MatMul", "Max", "MaxPool",
    "Mean", "Min", "Mul", "Neg", "Not", "Or", "Pad", "Pow", "PRelu", "Range", "Reciprocal", "ReduceMax", "ReduceMean",
    "ReduceMin", "ReduceProd", "ReduceSum", "Relu", "Reshape", "Resize", "Round", "Shape", "Sigmoid", "Sin", "Slice",
    "Softmax", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tanh", "Transpose", "Unsqueeze", "Upsample", "Where",
];

impl Importer {
    /// Converts one default-domain node.
    fn convert(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        let a = &cx.attrs;
        match cx.op_type {
            "Conv" => self.conv(cx),
            "ConvTranspose" => self.conv_transpose(cx),
            "MaxPool" => self.pool(cx, PoolKind::Max),
            "AveragePool" => self.pool(cx, PoolKind::Avg),
            "GlobalAveragePool" => self.global_pool(cx, PoolKind::Avg),
            "GlobalMaxPool" => self.global_pool(cx, PoolKind::Max),
            "BatchNormalization" => self.batch_norm(cx),
            "Gemm" => self.gemm(cx),
            "MatMul" => self.same_type(cx, Op::MatMul, 2),

            "Relu" => self.activation(cx, Activation::Relu),
            "Sigmoid" => self.activation(cx, Activation::Sigmoid),
            "Tanh" => self.activation(cx, Activation::Tanh),
            "HardSwish" => self.activation(cx, Activation::HardSwish),
            "LeakyRelu" => {
                let alpha = a.float_or("alpha", 0.01).at(cx)?;
                self.activation(cx, Activation::LeakyRelu { alpha })
            }
            "HardSigmoid" => {
                let alpha = a.float_or("alpha", 0.2).at(cx)?;
                let beta = a.float_or("beta", 0.5).at(cx)?;
                self.activation(cx, Activation::HardSigmoid { alpha, beta })
            }
            "Clip" => self.clip(cx),
            "PRelu" => self.prelu(cx),

            "Sqrt" => self.unary(cx, Unary::Sqrt),
            "Exp" => self.unary(cx, Unary::Exp),
            "Log" => self.unary(cx, Unary::Log),
            "Neg" => self.unary(cx, Unary::Neg),
            "Abs" => self.unary(cx, Unary::Abs),
            "Reciprocal" => self.unary(cx, Unary::Reciprocal),
            "Floor" => self.unary(cx, Unary::Floor),
            "Ceil" => self.unary(cx, Unary::Ceil),
            "Round" => self.unary(cx, Unary::Round),
            "Erf" => self.unary(cx, Unary::Erf),
            "Sin" => self.unary(cx, Unary::Sin),
            "Cos" => self.unary(cx, Unary::Cos),
            "Not" => self.unary(cx, Unary::Not),

            "Add" => self.binary(cx, Binary::Add),
            "Sub" => self.binary(cx, Binary::Sub),
            "Mul" => self.binary(cx, Binary::Mul),
            "Div" => self.binary(cx, Binary::Div),
            "Pow" => self.binary(cx, Binary::Pow),
            "Equal" => self.binary(cx, Binary::Equal),
            "Less" => self.binary(cx, Binary::Less),
            "Greater" => self.binary(cx, Binary::Greater),
            "And" => self.binary(cx, Binary::And),
            "Or" => self.binary(cx, Binary::Or),
            "LessOrEqual" => self.not_binary(cx, Binary::Greater),
            "GreaterOrEqual" => self.not_binary(cx, Binary::Less),
            "Max" => self.variadic(cx, Binary::Max, false),
            "Min" => self.variadic(cx, Binary::Min, false),
            "Sum" => self.variadic(cx, Binary::Add, false),
            "Mean" => self.variadic(cx, Binary::Add, true),
            "Where" => self.where_op(cx),

            "Softmax" => self.softmax(cx, false),
            "LogSoftmax" => self.softmax(cx, true),
            "ReduceMean" => self.reduce(cx, ReduceKind::Mean),
            "ReduceMax" => self.reduce(cx, ReduceKind::Max),
            "ReduceMin" => self.reduce(cx, ReduceKind::Min),
            "ReduceSum" => self.reduce(cx, ReduceKind::Sum),
            "ReduceProd" => self.reduce(cx, ReduceKind::Prod),

            "Concat" => self.concat(cx),
            "Split" => self.split(cx),
            "Slice" => self.slice(cx),
            "Reshape" => self.reshape(cx),
            "Flatten" => {
                let axis = a.int_or("axis", 1).at(cx)?;
                self.same_type(cx, Op::Flatten { axis }, 1)
            }
            "Transpose" => self.transpose_op(cx),
            "Squeeze" => self.squeeze(cx, false),
            "Unsqueeze" => self.squeeze(cx, true),
            "Pad" => self.pad(cx),
            "Resize" => self.resize(cx, false),
            "Upsample" => self.resize(cx, true),
            "Gather" => self.gather(cx),
            "Cast" => self.cast(cx),
            "CastLike" => self.cast_like(cx),
            "Identity" => self.same_type(cx, Op::Identity, 1),
            "Dropout" => self.dropout(cx),
            "Constant" => self.constant(cx),
            "Shape" => self.shape_op(cx),
            "Range" => {
                // Opset 27's `stash_type` sets the precision of float16 ranges; Ferrolite
                // computes float ranges in f32 whatever it says.
                a.ignore(&["stash_type"]);
                self.same_type(cx, Op::Range, 3)
            }
            "Expand" => self.same_type(cx, Op::Expand, 2),
            "ConstantOfShape" => self.constant_of_shape(cx),
            _ => Err(cx.unsupported("Ferrolite has no implementation of this operator")),
        }
    }
}

#[cfg(test)]
mod tests;
