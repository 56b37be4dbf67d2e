//! Shape inference and the reference implementation of every operator.
//!
//! The reference kernels are correct, straightforward f32 code (plus the integer paths that
//! shape math needs). They are the fallback the planner always finds, and the oracle that
//! optimized kernels are tested against.
//!
//! Each family module provides `infer_*` functions (called from [`infer`]) and a
//! `register` function adding its reference [`KernelFactory`](crate::kernel::KernelFactory)s
//! (called from [`register_reference`]).

pub(crate) mod conv;
mod elementwise;
mod matmul;
mod movement;
mod norm;
mod pool;
mod reduce;
mod resize;
mod shape;
mod softmax;
pub mod util;

use crate::error::{Error, Result};
use crate::ir::{DType, Dim, Graph, Op, TensorInfo};
use crate::kernel::{KernelIo, KernelRegistry, NodeCtx, Parallel};
use crate::tensor::{Tensor, TensorView, TensorViewMut};

/// What is known about one input of a node during shape inference.
#[derive(Debug, Clone, Copy)]
pub struct Fact<'a> {
    /// Element type.
    pub dtype: DType,
    /// Shape, if the rank is known (dims may be symbolic).
    pub shape: Option<&'a [Dim]>,
    /// Value, if known (constants; shape tensors at plan time).
    pub value: Option<TensorView<'a>>,
}

/// What shape inference says about one output.
#[derive(Debug, Clone, PartialEq)]
pub struct OutFact {
    /// Element type.
    pub dtype: DType,
    /// Shape, if the rank is known. Dims that depend on unknown sizes are [`Dim::Sym`]
    /// (named `?` when they have no name of their own).
    pub shape: Option<Vec<Dim>>,
}

/// Infers output dtypes and shapes of `op` from what is known of its inputs.
///
/// With fully known input shapes (as at plan time) every output shape comes out fully
/// known, or the function errors. With symbolic or unknown shapes (as in the converter) it
/// infers what it can. The error says what is wrong, without the node's name (callers add
/// it).
pub fn infer(op: &Op, inputs: &[Option<Fact<'_>>], num_outputs: usize) -> Result<Vec<OutFact>, String> {
    match op {
        Op::Conv2d(a) => conv::infer_conv(a, inputs),
        Op::ConvTranspose2d(a) => conv::infer_conv_transpose(a, inputs),
        Op::Pool2d(a) => pool::infer_pool(a, inputs),
        Op::GlobalPool(_) => pool::infer_global_pool(inputs),
        Op::Gemm(a) => matmul::infer_gemm(a, inputs),
        Op::MatMul => matmul::infer_matmul(inputs),
        Op::BatchNorm(a) => norm::infer_batch_norm(a, inputs),
        Op::Unary(u) => elementwise::infer_unary(*u, inputs),
        Op::Binary(b) => elementwise::infer_binary(*b, inputs),
        Op::Where => elementwise::infer_where(inputs),
        Op::Cast { to } => elementwise::infer_cast(*to, inputs),
        Op::Dequantize => elementwise::infer_dequantize(inputs),
        Op::Concat { axis } => movement::infer_concat(*axis, inputs),
        Op::Split(a) => movement::infer_split(a, inputs, num_outputs),
        Op::Slice => movement::infer_slice(inputs),
        Op::Transpose { perm } => movement::infer_transpose(perm, inputs),
        Op::Pad(a) => movement::infer_pad(a, inputs),
        Op::Gather { axis } => movement::infer_gather(*axis, inputs),
        Op::Reshape { allow_zero } => shape::infer_reshape(*allow_zero, inputs),
        Op::Flatten { axis } => shape::infer_flatten(*axis, inputs),
        Op::Squeeze { axes } => shape::infer_squeeze(axes, inputs),
        Op::Unsqueeze { axes } => shape::infer_unsqueeze(axes, inputs),
        Op::Identity => shape::infer_identity(inputs),
        Op::Shape { start, end } => shape::infer_shape(*start, *end, inputs),
        Op::Range => shape::infer_range(inputs),
        Op::Expand => shape::infer_expand(inputs),
        Op::ConstantOfShape { dtype, .. } => shape::infer_constant_of_shape(*dtype, inputs),
        Op::Resize(a) => resize::infer_resize(a, inputs),
        Op::Softmax { axis } | Op::LogSoftmax { axis } => softmax::infer_softmax(*axis, inputs),
        Op::Reduce(a) => reduce::infer_reduce(a, inputs),
    }
}

/// The value of `Shape { start, end }` applied to a tensor of shape `dims`: known as soon as
/// the shape is, whatever the tensor's data.
pub fn shape_value(start: i64, end: Option<i64>, dims: &[usize]) -> Vec<i64> {
    let (s, e) = shape::shape_range(start, end, dims.len());
    dims[s..e].iter().map(|&d| d as i64).collect()
}

/// A registry holding the reference kernel of every operator.
pub fn reference_registry() -> KernelRegistry {
    let mut r = KernelRegistry::new();
    register_reference(&mut r);
    r
}

/// Registers the reference kernel of every operator.
pub fn register_reference(registry: &mut KernelRegistry) {
    conv::register(registry);
    pool::register(registry);
    matmul::register(registry);
    norm::register(registry);
    elementwise::register(registry);
    movement::register(registry);
    shape::register(registry);
    resize::register(registry);
    softmax::register(registry);
    reduce::register(registry);
}

/// Runs `op` once on known values with the reference kernels: constant folding in the
/// converter, plan-time shape math in the runtime, and tests.
pub fn eval(op: &Op, inputs: &[Option<TensorView<'_>>], num_outputs: usize) -> Result<Vec<Tensor>> {
    let mut graph = Graph::default();
    let mut node_inputs = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        node_inputs.push(input.map(|v| {
            graph.add_const(format!("in{i}"), v.dtype(), v.shape(), crate::ir::ConstData::from_bytes(v.bytes()))
        }));
    }
    let facts: Vec<Option<Fact<'_>>> =
        inputs.iter().map(|v| v.map(|v| Fact { dtype: v.dtype(), shape: None, value: Some(v) })).collect();
    let dims: Vec<Option<Vec<Dim>>> = inputs.iter().map(|v| v.map(|v| v.shape().iter().map(|&d| Dim::Fixed(d)).collect())).collect();
    let facts: Vec<Option<Fact<'_>>> = facts
        .iter()
        .zip(&dims)
        .map(|(f, d)| f.map(|f| Fact { shape: d.as_deref(), ..f }))
        .collect();
    let label = || op.name();
    let out_facts = infer(op, &facts, num_outputs).map_err(|e| Error::node(label(), e))?;
    let mut outputs = Vec::with_capacity(out_facts.len());
    let mut out_shapes = Vec::with_capacity(out_facts.len());
    for (i, f) in out_facts.iter().enumerate() {
        let shape: Option<Vec<usize>> = f.shape.as_ref().and_then(|s| s.iter().map(Dim::fixed).collect());
        let shape = shape.ok_or_else(|| Error::node(label(), format!("output {i} has no known shape")))?;
        let t = graph.add_tensor(TensorInfo {
            name: format!("out{i}"),
            dtype: f.dtype,
            shape: Some(shape.iter().map(|&d| Dim::Fixed(d)).collect()),
            data: None,
        });
        outputs.push(t);
        out_shapes.push((f.dtype, shape));
    }
    let node_id = graph.add_node(op.name(), op.clone(), node_inputs, outputs);
    let registry = crate::ops::reference_registry();
    let ctx = NodeCtx {
        graph: &graph,
        node_id,
        node: &graph.nodes[node_id],
        inputs: inputs.iter().map(|v| v.map(|v| (v.dtype(), v.shape()))).collect(),
        outputs: out_shapes.iter().map(|(d, s)| (*d, s.as_slice())).collect(),
        values: graph.nodes[node_id].inputs.iter().map(|t| t.and_then(|t| graph.tensors[t].data.as_ref())).collect(),
    };
    let factory = registry
        .applicable(&ctx)
        .into_iter()
        .next()
        .ok_or_else(|| Error::node(label(), "no reference kernel applies to these inputs"))?
        .clone();
    let packed = factory.prepack(&ctx)?;
    let kernel = factory.build(&ctx, packed)?;
    // Sizes may come from a model file: allocate fallibly so a hostile size is an error.
    let alloc = |bytes: usize| {
        crate::ir::AlignedBytes::try_zeroed(bytes)
            .ok_or_else(|| Error::node(label(), format!("cannot allocate {bytes} bytes to evaluate it")))
    };
    let mut results = Vec::with_capacity(out_shapes.len());
    for (d, s) in &out_shapes {
        let bytes = crate::tensor::checked_numel(s)
            .and_then(|n| n.checked_mul(d.size()))
            .ok_or_else(|| Error::node(label(), format!("output shape {s:?} is too large")))?;
        results.push(Tensor::from_aligned(*d, s, alloc(bytes)?)?);
    }
    let mut workspace = alloc(kernel.workspace_bytes())?;
    {
        let mut out_views: Vec<TensorViewMut<'_>> = results.iter_mut().map(|t| t.view_mut()).collect();
        kernel.run(KernelIo { inputs, outputs: &mut out_views, workspace: workspace.as_mut_slice() }, &Parallel::SERIAL)?;
    }
    Ok(results)
}
