//! Structural validation of a [`Graph`]: everything that can be checked without shapes.
//!
//! Run on every graph the runtime accepts: graphs read from `.flm` files (where a failure is
//! reported at the byte offset of the offending record) and graphs handed over in memory.
//! After it passes, later stages may index `graph.tensors` with any id found in the graph,
//! rely on the topological order, and find every operator with the number of inputs and
//! outputs its documentation states.

use std::collections::HashSet;

use super::{Activation, Dim, Graph, NodeId, Op, Padding, TensorId, TensorInfo};
use crate::error::{Error, Result};

/// Which part of the graph a validation failure is about (lets the `.flm` reader point at the
/// record's byte offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Culprit {
    /// A tensor, by id.
    Tensor(TensorId),
    /// A node, by id.
    Node(NodeId),
    /// The list of graph inputs.
    Inputs,
    /// The list of graph outputs.
    Outputs,
}

/// A validation failure: where and what.
#[derive(Debug, Clone)]
pub struct Invalid {
    /// What the failure is about.
    pub culprit: Culprit,
    /// What is wrong.
    pub msg: String,
}

/// How many inputs an operator takes: the first `required` must be present, up to
/// `max` may be given (the rest as omitted optional inputs); `max == None` is variadic.
struct Arity {
    required: usize,
    max: Option<usize>,
    /// Number of outputs: exactly this, or at least 1 when `None` (Split).
    outputs: Option<usize>,
}

const fn arity(required: usize, max: usize) -> Arity {
    Arity { required, max: Some(max), outputs: Some(1) }
}

/// The input and output counts each operator is documented with (see [`Op`]).
fn op_arity(op: &Op) -> Arity {
    match op {
        Op::Conv2d(_) => arity(2, 4),
        Op::ConvTranspose2d(_) | Op::Gemm(_) => arity(2, 3),
        Op::Pool2d(_) | Op::GlobalPool(_) => arity(1, 1),
        Op::MatMul => arity(2, 2),
        Op::BatchNorm(_) => arity(5, 5),
        Op::Unary(_) => arity(1, 1),
        Op::Binary(_) => arity(2, 2),
        Op::Where => arity(3, 3),
        Op::Concat { .. } => Arity { required: 1, max: None, outputs: Some(1) },
        Op::Split(_) => Arity { required: 1, max: Some(1), outputs: None },
        Op::Slice => arity(3, 5),
        Op::Reshape { .. } => arity(2, 2),
        Op::Flatten { .. } | Op::Squeeze { .. } | Op::Unsqueeze { .. } | Op::Transpose { .. } => arity(1, 1),
        Op::Pad(_) => arity(1, 1),
        Op::Resize(_) => arity(1, 4),
        Op::Softmax { .. } | Op::LogSoftmax { .. } | Op::Reduce(_) => arity(1, 1),
        Op::Gather { .. } => arity(2, 2),
        Op::Cast { .. } | Op::Identity | Op::Shape { .. } | Op::Dequantize => arity(1, 1),
        Op::Range => arity(3, 3),
        Op::Expand => arity(2, 2),
        Op::ConstantOfShape { .. } => arity(1, 1),
    }
}

fn nonzero2(what: &str, v: [usize; 2]) -> Result<(), String> {
    if v.contains(&0) {
        return Err(format!("{what} {v:?} has a zero entry"));
    }
    Ok(())
}

fn no_duplicates(what: &str, axes: &[i64]) -> Result<(), String> {
    let mut seen = HashSet::with_capacity(axes.len());
    for a in axes {
        if !seen.insert(a) {
            return Err(format!("{what} {axes:?} lists axis {a} twice"));
        }
    }
    Ok(())
}

fn check_activation(a: Activation) -> Result<(), String> {
    match a {
        // Infinite bounds are legitimate (ONNX Clip without `max`), NaN is not.
        Activation::Clip { min, max } if min.is_nan() || max.is_nan() || min > max => {
            Err(format!("clip bounds [{min}, {max}] are not an interval"))
        }
        Activation::LeakyRelu { alpha } if !alpha.is_finite() => Err(format!("leaky relu slope {alpha} is not finite")),
        Activation::HardSigmoid { alpha, beta } if !alpha.is_finite() || !beta.is_finite() => {
            Err(format!("hard sigmoid alpha {alpha} / beta {beta} is not finite"))
        }
        _ => Ok(()),
    }
}

fn check_padding(p: Padding) -> Result<(), String> {
    match p {
        Padding::Explicit { top, left, bottom, right } => {
            // Pads beyond any plausible image size are corruption; they would overflow
            // output-size arithmetic downstream.
            const LIMIT: usize = 1 << 31;
            if [top, left, bottom, right].iter().any(|&v| v >= LIMIT) {
                return Err(format!("padding {top}/{left}/{bottom}/{right} is implausibly large"));
            }
            Ok(())
        }
        Padding::SameUpper | Padding::SameLower => Ok(()),
    }
}

/// Attribute checks that need no shapes: sizes nonzero, permutations, pad lists, ...
fn check_attributes(op: &Op, num_outputs: usize) -> Result<(), String> {
    match op {
        Op::Conv2d(a) => {
            nonzero2("kernel", a.kernel)?;
            nonzero2("stride", a.stride)?;
            nonzero2("dilation", a.dilation)?;
            check_padding(a.padding)?;
            if a.groups == 0 {
                return Err("groups is 0".into());
            }
            check_activation(a.activation)
        }
        Op::ConvTranspose2d(a) => {
            nonzero2("kernel", a.kernel)?;
            nonzero2("stride", a.stride)?;
            nonzero2("dilation", a.dilation)?;
            check_padding(a.padding)?;
            if a.groups == 0 {
                return Err("groups is 0".into());
            }
            // ONNX: output_padding must be smaller than stride or dilation.
            for i in 0..2 {
                if a.output_padding[i] >= a.stride[i].max(a.dilation[i]) {
                    return Err(format!(
                        "output_padding {:?} must be smaller than stride {:?} or dilation {:?}",
                        a.output_padding, a.stride, a.dilation
                    ));
                }
            }
            if let Some(size) = a.output_size {
                nonzero2("output_size", size)?;
            }
            check_activation(a.activation)
        }
        Op::Pool2d(a) => {
            nonzero2("kernel", a.kernel)?;
            nonzero2("stride", a.stride)?;
            nonzero2("dilation", a.dilation)?;
            check_padding(a.padding)
        }
        Op::Gemm(a) => {
            if !a.alpha.is_finite() || !a.beta.is_finite() {
                return Err(format!("alpha {} / beta {} is not finite", a.alpha, a.beta));
            }
            check_activation(a.activation)
        }
        Op::BatchNorm(a) => {
            if !(a.epsilon.is_finite() && a.epsilon >= 0.0) {
                return Err(format!("epsilon {} is not a finite non-negative number", a.epsilon));
            }
            Ok(())
        }
        Op::Unary(super::Unary::Act(a)) => check_activation(*a),
        Op::Split(a) => match &a.sizes {
            Some(sizes) if sizes.len() != num_outputs => {
                Err(format!("{} split sizes given for {num_outputs} outputs", sizes.len()))
            }
            _ => Ok(()),
        },
        Op::Squeeze { axes } => no_duplicates("axes", axes),
        Op::Unsqueeze { axes } => no_duplicates("axes", axes),
        Op::Transpose { perm } => {
            let mut seen = vec![false; perm.len()];
            for &p in perm {
                match seen.get_mut(p) {
                    Some(s) if !*s => *s = true,
                    _ => return Err(format!("perm {perm:?} is not a permutation of 0..{}", perm.len())),
                }
            }
            Ok(())
        }
        Op::Pad(a) => {
            if a.pads.len() % 2 != 0 {
                return Err(format!("pads has odd length {} (needs begin and end for every axis)", a.pads.len()));
            }
            if a.value.is_nan() {
                return Err("pad value is NaN".into());
            }
            Ok(())
        }
        Op::Resize(a) => {
            if let Some(axes) = &a.axes {
                no_duplicates("axes", axes)?;
            }
            if !a.cubic_coeff_a.is_finite() {
                return Err(format!("cubic coefficient {} is not finite", a.cubic_coeff_a));
            }
            Ok(())
        }
        Op::Reduce(a) => no_duplicates("axes", &a.axes),
        _ => Ok(()),
    }
}

/// Checks the node's input and output counts against [`op_arity`].
fn check_arity(op: &Op, inputs: &[Option<TensorId>], num_outputs: usize) -> Result<(), String> {
    let a = op_arity(op);
    if let Some(max) = a.max
        && inputs.len() > max
    {
        return Err(format!("takes at most {max} inputs, got {}", inputs.len()));
    }
    for i in 0..a.required {
        if inputs.get(i).copied().flatten().is_none() {
            return Err(format!("input {i} is required but missing ({} given)", inputs.len()));
        }
    }
    if a.max.is_none() && inputs.iter().any(Option::is_none) {
        return Err("variadic inputs cannot be omitted".into());
    }
    if let Op::Resize(_) = op {
        let scales = inputs.get(2).copied().flatten().is_some();
        let sizes = inputs.get(3).copied().flatten().is_some();
        if scales == sizes {
            return Err("exactly one of scales (input 2) and sizes (input 3) must be given".into());
        }
    }
    match a.outputs {
        Some(n) if num_outputs != n => Err(format!("has {num_outputs} outputs, expected {n}")),
        None if num_outputs == 0 => Err("has no outputs".into()),
        _ => Ok(()),
    }
}

/// `tensor #3 "name"`, for messages.
fn tensor_label(graph: &Graph, id: TensorId) -> String {
    match graph.tensors.get(id) {
        Some(t) => format!("tensor #{id} \"{}\"", t.name),
        None => format!("tensor #{id}"),
    }
}

/// Number of elements of a constant's shape, checking it is fixed and does not overflow.
pub fn const_numel(shape: Option<&[Dim]>) -> Result<usize, String> {
    let shape = shape.ok_or("is a constant without a shape")?;
    shape.iter().try_fold(1usize, |acc, d| match d {
        Dim::Fixed(n) => acc.checked_mul(*n).ok_or_else(|| "has a shape whose element count overflows".to_string()),
        Dim::Sym(s) => Err(format!("is a constant with symbolic dimension `{s}`")),
    })
}

/// Checks a constant's shape against its byte length, and that any declared shape's known
/// dimensions have a byte size that fits in `usize` (so size arithmetic on declared shapes
/// cannot overflow later).
fn check_tensor(t: &TensorInfo) -> Result<(), String> {
    if let Some(shape) = &t.shape {
        let bytes = shape.iter().filter_map(Dim::fixed).try_fold(t.dtype.size(), usize::checked_mul);
        if bytes.is_none() {
            return Err("has a declared shape whose byte size overflows".into());
        }
    }
    let Some(data) = &t.data else { return Ok(()) };
    let numel = const_numel(t.shape.as_deref())?;
    let expected =
        numel.checked_mul(t.dtype.size()).ok_or_else(|| "has a shape whose byte size overflows".to_string())?;
    if expected != data.len() {
        return Err(format!(
            "holds {} bytes but its shape {:?} of {} needs {expected}",
            data.len(),
            t.fixed_shape().unwrap_or_default(),
            t.dtype
        ));
    }
    Ok(())
}

impl Graph {
    /// Checks the graph's structure: every tensor index is in range, each tensor is produced
    /// at most once and never overwrites a constant or a graph input, nodes are in
    /// topological order, graph outputs are produced (or constant), input and output names
    /// are unique, every node has the inputs and outputs its operator needs and sane
    /// attributes (nonzero kernel, stride, dilation and groups, `perm` a permutation, `pads`
    /// of even length, ...), and constants have fixed shapes matching their byte length.
    ///
    /// Shapes of non-constant tensors are not checked here; the planner does that.
    pub fn validate(&self) -> Result<()> {
        self.check().map_err(|e| Error::Graph(e.msg))
    }

    /// [`Graph::validate`] with the culprit kept apart, for callers that map it to a file
    /// position.
    pub fn check(&self) -> Result<(), Invalid> {
        let n_tensors = self.tensors.len();
        let tensor_err = |id: TensorId, msg: String| Invalid {
            culprit: Culprit::Tensor(id),
            msg: format!("{} {msg}", tensor_label(self, id)),
        };
        for (id, t) in self.tensors.iter().enumerate() {
            check_tensor(t).map_err(|m| tensor_err(id, m))?;
        }

        // Graph inputs: real tensors, not constants, listed once, names unique.
        let mut is_input = vec![false; n_tensors];
        let mut io_names: HashSet<&str> = HashSet::new();
        for (pos, &t) in self.inputs.iter().enumerate() {
            let err = |msg: String| Invalid { culprit: Culprit::Inputs, msg: format!("graph input {pos}: {msg}") };
            let info =
                self.tensors.get(t).ok_or_else(|| err(format!("tensor #{t} does not exist ({n_tensors} tensors)")))?;
            if info.is_const() {
                return Err(err(format!("{} is a constant", tensor_label(self, t))));
            }
            if is_input[t] {
                return Err(err(format!("{} is listed twice", tensor_label(self, t))));
            }
            is_input[t] = true;
            if !io_names.insert(&info.name) {
                return Err(err(format!("name \"{}\" is used by another graph input", info.name)));
            }
        }

        // Producers: every output in range, written once, never a constant or graph input.
        let mut producer: Vec<Option<NodeId>> = vec![None; n_tensors];
        for (id, node) in self.nodes.iter().enumerate() {
            let err =
                |msg: String| Invalid { culprit: Culprit::Node(id), msg: format!("{}: {msg}", self.node_label(id)) };
            for (k, &t) in node.outputs.iter().enumerate() {
                let Some(info) = self.tensors.get(t) else {
                    return Err(err(format!("output {k} is tensor #{t}, which does not exist ({n_tensors} tensors)")));
                };
                if info.is_const() {
                    return Err(err(format!("output {k} writes constant {}", tensor_label(self, t))));
                }
                if is_input[t] {
                    return Err(err(format!("output {k} writes graph input {}", tensor_label(self, t))));
                }
                if let Some(other) = producer[t] {
                    return Err(err(format!(
                        "output {k} writes {}, which {} already produces",
                        tensor_label(self, t),
                        self.node_label(other)
                    )));
                }
                producer[t] = Some(id);
            }
        }

        // Inputs: in range and available before the node runs (topological order).
        for (id, node) in self.nodes.iter().enumerate() {
            let err =
                |msg: String| Invalid { culprit: Culprit::Node(id), msg: format!("{}: {msg}", self.node_label(id)) };
            for (k, t) in node.inputs.iter().enumerate() {
                let Some(t) = *t else { continue };
                let Some(info) = self.tensors.get(t) else {
                    return Err(err(format!("input {k} is tensor #{t}, which does not exist ({n_tensors} tensors)")));
                };
                if info.is_const() || is_input[t] {
                    continue;
                }
                match producer[t] {
                    Some(p) if p < id => {}
                    Some(p) if p == id => {
                        return Err(err(format!("input {k} reads its own output {}", tensor_label(self, t))));
                    }
                    Some(p) => {
                        return Err(err(format!(
                            "input {k} reads {}, which {} produces later (nodes are not in topological order)",
                            tensor_label(self, t),
                            self.node_label(p)
                        )));
                    }
                    None => {
                        return Err(err(format!(
                            "input {k} reads {}, which is neither a graph input, a constant, nor produced by any node",
                            tensor_label(self, t)
                        )));
                    }
                }
            }
            check_arity(&node.op, &node.inputs, node.outputs.len()).map_err(err)?;
            check_attributes(&node.op, node.outputs.len()).map_err(err)?;
        }

        // Graph outputs: produced or constant, listed once, names unique among inputs and
        // outputs (callers address them by name).
        let mut is_output = vec![false; n_tensors];
        for (pos, &t) in self.outputs.iter().enumerate() {
            let err = |msg: String| Invalid { culprit: Culprit::Outputs, msg: format!("graph output {pos}: {msg}") };
            let info =
                self.tensors.get(t).ok_or_else(|| err(format!("tensor #{t} does not exist ({n_tensors} tensors)")))?;
            if producer[t].is_none() && !info.is_const() {
                return Err(err(format!("{} is neither produced by a node nor a constant", tensor_label(self, t))));
            }
            if is_output[t] {
                return Err(err(format!("{} is listed twice", tensor_label(self, t))));
            }
            is_output[t] = true;
            if !io_names.insert(&info.name) {
                return Err(err(format!("name \"{}\" is used by another graph input or output", info.name)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Binary, Conv2d, DType, Pad, PadMode, Unary};

    fn conv(kernel: [usize; 2], groups: usize) -> Op {
        Op::Conv2d(Conv2d {
            kernel,
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::VALID,
            groups,
            activation: Activation::None,
        })
    }

    /// x -> Conv(w, b) -> Relu -> y
    fn small() -> Graph {
        let mut g = Graph::default();
        let x = g.add_value("x", DType::F32);
        let w = g.add_const_f32("w", &[2, 1, 1, 3], &[0.0; 6]);
        let b = g.add_const_f32("b", &[2], &[0.0; 2]);
        let c = g.add_value("c", DType::F32);
        let y = g.add_value("y", DType::F32);
        g.add_node("conv", conv([1, 1], 1), vec![Some(x), Some(w), Some(b)], vec![c]);
        g.add_node("relu", Op::Unary(Unary::Act(Activation::Relu)), vec![Some(c)], vec![y]);
        g.inputs = vec![x];
        g.outputs = vec![y];
        g
    }

    fn err_of(g: &Graph) -> String {
        match g.validate() {
            Err(Error::Graph(m)) => m,
            other => panic!("expected a graph error, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_valid_graph() {
        small().validate().unwrap();
        Graph::default().validate().unwrap();
    }

    #[test]
    fn rejects_out_of_range_indices() {
        let mut g = small();
        g.nodes[1].inputs[0] = Some(99);
        assert!(
            err_of(&g).contains("Relu node #1 \"relu\": input 0 is tensor #99, which does not exist"),
            "{}",
            err_of(&g)
        );
        let mut g = small();
        g.nodes[0].outputs[0] = 99;
        assert!(err_of(&g).contains("output 0 is tensor #99"));
        let mut g = small();
        g.inputs[0] = 7;
        assert!(err_of(&g).starts_with("graph input 0: tensor #7 does not exist"));
        let mut g = small();
        g.outputs[0] = 5;
        assert!(err_of(&g).starts_with("graph output 0: tensor #5 does not exist"));
    }

    #[test]
    fn rejects_double_production_and_overwrites() {
        let mut g = small();
        g.nodes[1].outputs[0] = 3; // "c", already produced by conv
        assert!(err_of(&g).contains("writes tensor #3 \"c\", which Conv2d node #0 \"conv\" already produces"));
        let mut g = small();
        g.nodes[1].outputs[0] = 1; // the weight
        assert!(err_of(&g).contains("writes constant tensor #1 \"w\""));
        let mut g = small();
        g.nodes[1].outputs[0] = 0; // the graph input
        assert!(err_of(&g).contains("writes graph input tensor #0 \"x\""));
    }

    #[test]
    fn rejects_wrong_order_and_dangling_reads() {
        let mut g = small();
        g.nodes.swap(0, 1);
        assert!(err_of(&g).contains("produces later (nodes are not in topological order)"), "{}", err_of(&g));
        let mut g = small();
        g.nodes[1].inputs[0] = Some(4); // its own output
        assert!(err_of(&g).contains("reads its own output"));
        let mut g = small();
        let orphan = g.add_value("orphan", DType::F32);
        g.nodes[1].inputs[0] = Some(orphan);
        assert!(err_of(&g).contains("neither a graph input, a constant, nor produced by any node"));
    }

    #[test]
    fn rejects_bad_graph_io() {
        let mut g = small();
        let orphan = g.add_value("orphan", DType::F32);
        g.outputs.push(orphan);
        assert!(err_of(&g).contains("graph output 1: tensor #5 \"orphan\" is neither produced"));
        let mut g = small();
        g.outputs.push(4);
        assert!(err_of(&g).contains("graph output 1: tensor #4 \"y\" is listed twice"));
        let mut g = small();
        g.tensors[4].name = "x".into();
        assert!(err_of(&g).contains("name \"x\" is used by another graph input or output"));
        let mut g = small();
        g.inputs.push(1);
        assert!(err_of(&g).contains("graph input 1: tensor #1 \"w\" is a constant"));
        // A constant output is fine.
        let mut g = small();
        g.outputs.push(2);
        g.validate().unwrap();
    }

    #[test]
    fn rejects_bad_arity() {
        let mut g = small();
        g.nodes[0].inputs.truncate(1);
        assert!(err_of(&g).contains("Conv2d node #0 \"conv\": input 1 is required but missing"));
        let mut g = small();
        g.nodes[0].inputs[1] = None;
        assert!(err_of(&g).contains("input 1 is required but missing"));
        let mut g = small();
        g.nodes[0].inputs.extend([Some(0), Some(2)]);
        assert!(err_of(&g).contains("takes at most 4 inputs, got 5"));
        let mut g = small();
        g.nodes[1].op = Op::Binary(Binary::Add);
        assert!(err_of(&g).contains("Add node #1 \"relu\": input 1 is required"));
        let mut g = small();
        g.nodes[1].outputs.clear();
        assert!(err_of(&g).contains("has 0 outputs, expected 1"));
        // Omitted optional bias is fine.
        let mut g = small();
        g.nodes[0].inputs[2] = None;
        g.validate().unwrap();
    }

    #[test]
    fn rejects_bad_attributes() {
        let mut g = small();
        g.nodes[0].op = conv([0, 1], 1);
        assert!(err_of(&g).contains("kernel [0, 1] has a zero entry"));
        let mut g = small();
        g.nodes[0].op = conv([1, 1], 0);
        assert!(err_of(&g).contains("groups is 0"));
        let mut g = small();
        g.nodes[1].op = Op::Transpose { perm: vec![0, 2, 2] };
        assert!(err_of(&g).contains("perm [0, 2, 2] is not a permutation of 0..3"));
        let mut g = small();
        g.nodes[1].op = Op::Transpose { perm: vec![0, 3, 1] };
        assert!(err_of(&g).contains("is not a permutation"));
        let mut g = small();
        g.nodes[1].op = Op::Transpose { perm: vec![2, 0, 1] };
        g.validate().unwrap();
        let mut g = small();
        g.nodes[1].op = Op::Pad(Pad { mode: PadMode::Constant, pads: vec![1, 1, 1], value: 0.0 });
        assert!(err_of(&g).contains("pads has odd length 3"));
        let mut g = small();
        g.nodes[1].op = Op::Unary(Unary::Act(Activation::Clip { min: 6.0, max: 0.0 }));
        assert!(err_of(&g).contains("clip bounds [6, 0] are not an interval"));
        let mut g = small();
        g.nodes[1].op = Op::Unsqueeze { axes: vec![0, -1, 0] };
        assert!(err_of(&g).contains("lists axis 0 twice"));
    }

    #[test]
    fn rejects_inconsistent_constants() {
        let mut g = small();
        g.tensors[2].shape = Some(vec![Dim::Fixed(3)]);
        assert!(
            err_of(&g).contains("tensor #2 \"b\" holds 8 bytes but its shape [3] of f32 needs 12"),
            "{}",
            err_of(&g)
        );
        let mut g = small();
        g.tensors[2].shape = Some(vec![Dim::Sym("n".into())]);
        assert!(err_of(&g).contains("is a constant with symbolic dimension `n`"));
        let mut g = small();
        g.tensors[2].shape = None;
        assert!(err_of(&g).contains("is a constant without a shape"));
        let mut g = small();
        g.tensors[2].shape = Some(vec![Dim::Fixed(usize::MAX), Dim::Fixed(2)]);
        assert!(err_of(&g).contains("overflows"));
        let mut g = small();
        g.tensors[2].shape = Some(vec![Dim::Fixed(usize::MAX / 2)]);
        assert!(err_of(&g).contains("byte size overflows"));
        let mut g = small();
        g.tensors[3].shape = Some(vec![Dim::Sym("n".into()), Dim::Fixed(1 << 40), Dim::Fixed(1 << 40)]);
        assert!(err_of(&g).contains("tensor #3 \"c\" has a declared shape whose byte size overflows"));
    }
}
