//! The importer's state and the helpers every operator converter uses: name resolution,
//! node emission, constants, layout transposes, and errors that name the node.

use std::collections::{HashMap, HashSet};

use ferrolite_runtime::TensorView;
use ferrolite_runtime::ir::{ConstData, DType, Dim, Graph, Op, TensorId, TensorInfo};
use ferrolite_runtime::ops::{self, Fact};

use super::attr::Attrs;
use super::proto::{GraphProto, ModelProto, NodeProto};
use super::tensor::{self, ConstTensor};
use crate::{ConvertError, Result};

/// Oldest default-domain opset the importer understands.
pub(crate) const MIN_OPSET: i64 = 6;
/// Newest default-domain opset the importer understands. Opsets 26 and 27 changed none of
/// the supported operators except `Range` (float16 and bfloat16 types, with `stash_type`).
pub(crate) const MAX_OPSET: i64 = 27;

/// One ONNX node being converted: the proto, its attributes and its label for messages.
#[derive(Debug)]
pub(crate) struct NodeCx<'a> {
    pub node: &'a NodeProto,
    pub attrs: Attrs<'a>,
    pub op_type: &'a str,
    /// The node's name, or `#index` when it has none.
    pub label: String,
}

impl NodeCx<'_> {
    /// An [`ConvertError::Unsupported`] for this node.
    pub fn unsupported(&self, detail: impl Into<String>) -> ConvertError {
        ConvertError::Unsupported {
            format: "ONNX",
            op: self.op_type.to_string(),
            node: self.label.clone(),
            detail: detail.into(),
        }
    }

    /// An [`ConvertError::Invalid`] naming this node.
    pub fn invalid(&self, msg: impl std::fmt::Display) -> ConvertError {
        ConvertError::Invalid { format: "ONNX", msg: format!("{} node \"{}\": {msg}", self.op_type, self.label) }
    }

    /// Name of output `k`, or `None` when absent or empty (an unused optional output).
    pub fn output_name(&self, k: usize) -> Option<&str> {
        self.node.output.get(k).map(String::as_str).filter(|n| !n.is_empty())
    }

    /// Errors if any output from index `supported` on is in use.
    pub fn only_outputs(&self, supported: usize, what: &str) -> Result<()> {
        match (supported..self.node.output.len()).find(|&k| self.output_name(k).is_some()) {
            Some(k) => Err(self.unsupported(format!("output {k} ({what}) is not supported"))),
            None => Ok(()),
        }
    }

    /// Number of inputs given (trailing omitted ones not counted).
    pub fn num_inputs(&self) -> usize {
        self.node.input.iter().rposition(|n| !n.is_empty()).map_or(0, |i| i + 1)
    }
}

/// Maps attribute lookup errors onto the node.
pub(crate) trait AttrResultExt<T> {
    /// Converts an attribute error into an invalid-model error naming the node.
    fn at(self, cx: &NodeCx<'_>) -> Result<T>;
}

impl<T> AttrResultExt<T> for std::result::Result<T, String> {
    fn at(self, cx: &NodeCx<'_>) -> Result<T> {
        self.map_err(|e| cx.invalid(e))
    }
}

/// Builds a [`Graph`] from an ONNX model.
#[derive(Debug)]
pub(crate) struct Importer {
    pub graph: Graph,
    /// Default-domain opset version.
    pub opset: i64,
    /// ONNX value name to tensor.
    values: HashMap<String, TensorId>,
    /// Every tensor name in use, ONNX and generated.
    names: HashSet<String>,
    /// For the f32 output of a `Dequantize` of an f16 constant: that constant.
    f16_source: HashMap<TensorId, TensorId>,
    /// Shapes declared for intermediate values (`value_info`) and outputs.
    declared: HashMap<String, Vec<Dim>>,
    /// Shapes of node outputs found by shape inference as the graph is built (used only for
    /// decisions that need a rank; the graph's own shapes are left to the passes).
    inferred: HashMap<TensorId, Vec<Dim>>,
    /// The node producing each node output.
    producer: HashMap<TensorId, usize>,
    /// Values of node outputs computed at import (see [`Importer::const_value`]).
    folded: HashMap<TensorId, ConstTensor>,
    /// Tensors whose shape [`Importer::known_shape`] has inferred again (each is tried once).
    reinferred: HashSet<TensorId>,
}

/// Largest output, in bytes, that import-time evaluation computes.
const FOLD_MAX_BYTES: usize = 64 << 20;
/// Longest chain of nodes that import-time evaluation follows back.
const FOLD_MAX_DEPTH: usize = 64;

fn invalid(msg: impl Into<String>) -> ConvertError {
    ConvertError::Invalid { format: "ONNX", msg: msg.into() }
}

/// Whether a domain name is the default ONNX domain.
fn is_default_domain_name(domain: Option<&str>) -> bool {
    matches!(domain, None | Some("") | Some("ai.onnx"))
}

/// Whether a node belongs to the default ONNX domain.
fn is_default_domain(node: &NodeProto) -> bool {
    is_default_domain_name(node.domain.as_deref())
}

/// The default-domain opset version a model imports, `None` if it imports none (then it
/// may only use other domains).
pub(crate) fn default_opset(model: &ModelProto) -> Result<Option<i64>> {
    let mut version = None;
    for o in &model.opset_import {
        if is_default_domain_name(o.domain.as_deref()) {
            let v = o.version.unwrap_or(0);
            if version.is_some_and(|prev| prev != v) {
                return Err(invalid("the model imports the default ONNX domain twice with different versions"));
            }
            version = Some(v);
        }
    }
    let Some(v) = version else { return Ok(None) };
    if !(MIN_OPSET..=MAX_OPSET).contains(&v) {
        return Err(ConvertError::Unsupported {
            format: "ONNX",
            op: "opset".into(),
            node: "model".into(),
            detail: format!("default-domain opset {v}; Ferrolite reads opsets {MIN_OPSET} to {MAX_OPSET}"),
        });
    }
    Ok(Some(v))
}

impl Importer {
    /// Imports a decoded model.
    pub fn run(model: &ModelProto) -> Result<Graph> {
        let graph_proto = model.graph.as_ref().ok_or_else(|| invalid("the model has no graph"))?;
        let opset = match default_opset(model)? {
            Some(v) => v,
            // Nodes of other domains are refused one by one; default-domain nodes need a
            // version.
            None if graph_proto.node.iter().all(|n| !is_default_domain(n)) => 0,
            None => return Err(invalid("the model uses ONNX operators but imports no opset of the default ONNX domain")),
        };
        let mut imp = Importer {
            graph: Graph::default(),
            opset,
            values: HashMap::new(),
            names: HashSet::new(),
            f16_source: HashMap::new(),
            declared: HashMap::new(),
            inferred: HashMap::new(),
            producer: HashMap::new(),
            folded: HashMap::new(),
            reinferred: HashSet::new(),
        };
        imp.import_graph(graph_proto)?;
        Ok(imp.graph)
    }

    fn import_graph(&mut self, g: &GraphProto) -> Result<()> {
        for vi in g.value_info.iter().chain(&g.output) {
            let name = vi.name.clone().unwrap_or_default();
            if let Some(shape) = tensor::declared_shape(vi.r#type.as_ref()) {
                self.declared.insert(name, shape);
            }
        }
        for init in &g.initializer {
            let name = init.name.clone().unwrap_or_default();
            if name.is_empty() {
                return Err(invalid("an initializer has no name"));
            }
            let value = tensor::decode(init, &format!("initializer \"{name}\""))?;
            self.add_constant(&name, value)?;
        }
        for vi in &g.input {
            let name = vi.name.clone().unwrap_or_default();
            // Models before IR version 4 list initializers among the inputs; they stay
            // constants.
            if self.values.contains_key(&name) {
                continue;
            }
            if name.is_empty() {
                return Err(invalid("a graph input has no name"));
            }
            let dtype = tensor::declared_dtype(vi.r#type.as_ref(), "graph input", &name)?.ok_or_else(|| {
                ConvertError::Unsupported {
                    format: "ONNX",
                    op: "graph input".into(),
                    node: name.clone(),
                    detail: "not a tensor with a known element type (sequence, map and optional values are not supported)".into(),
                }
            })?;
            let shape = tensor::declared_shape(vi.r#type.as_ref());
            if dtype == DType::F16 {
                return Err(ConvertError::Unsupported {
                    format: "ONNX",
                    op: "graph input".into(),
                    node: name,
                    detail: "float16 activations are not supported (Ferrolite computes in f32; float16 is accepted for weights)".into(),
                });
            }
            let id = self.graph.add_tensor(TensorInfo { name: name.clone(), dtype, shape, data: None });
            self.bind(&name, id)?;
            self.graph.inputs.push(id);
        }
        for (index, node) in g.node.iter().enumerate() {
            self.import_node(index, node)?;
        }
        for vi in &g.output {
            let name = vi.name.clone().unwrap_or_default();
            let id = *self
                .values
                .get(&name)
                .ok_or_else(|| invalid(format!("graph output \"{name}\" is not produced by any node")))?;
            let dtype = tensor::declared_dtype(vi.r#type.as_ref(), "graph output", &name)?;
            let shape = tensor::declared_shape(vi.r#type.as_ref());
            let info = &mut self.graph.tensors[id];
            if let Some(d) = dtype
                && d != info.dtype
            {
                return Err(invalid(format!("graph output \"{name}\" is declared {d}, but the graph computes {}", info.dtype)));
            }
            if info.data.is_none() && !self.graph.inputs.contains(&id) {
                info.shape = shape;
            }
            self.graph.outputs.push(id);
        }
        Ok(())
    }

    fn import_node(&mut self, index: usize, node: &NodeProto) -> Result<()> {
        let op_type = node.op_type.as_deref().unwrap_or("");
        let label = match node.name.as_deref() {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => format!("#{index}"),
        };
        let cx = NodeCx { node, attrs: Attrs::new(&node.attribute), op_type, label };
        if !is_default_domain(node) {
            let domain = node.domain.as_deref().unwrap_or_default();
            return Err(cx.unsupported(format!("operator domain \"{domain}\"")));
        }
        self.convert(&cx)?;
        if let Some(name) = cx.attrs.first_unread() {
            return Err(cx.unsupported(format!("attribute `{name}`")));
        }
        Ok(())
    }

    // ----- names and tensors -------------------------------------------------------------

    /// Records that ONNX value `name` is tensor `id`.
    fn bind(&mut self, name: &str, id: TensorId) -> Result<()> {
        if self.values.insert(name.to_string(), id).is_some() {
            return Err(invalid(format!("value \"{name}\" is defined twice")));
        }
        self.names.insert(name.to_string());
        Ok(())
    }

    /// A tensor name not used yet, derived from `base`.
    fn fresh_name(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut k = 2;
        while self.names.contains(&name) || self.values.contains_key(&name) {
            name = format!("{base}#{k}");
            k += 1;
        }
        self.names.insert(name.clone());
        name
    }

    /// Adds a constant under ONNX name `name`. f16 constants are stored as f16 and read
    /// through a `Dequantize` node, whose output carries the name.
    pub fn add_constant(&mut self, name: &str, value: ConstTensor) -> Result<TensorId> {
        if self.values.contains_key(name) {
            return Err(invalid(format!("value \"{name}\" is defined twice")));
        }
        if value.dtype == DType::F16 {
            let src_name = self.fresh_name(&format!("{name}.f16"));
            let src = self.graph.add_const(src_name, DType::F16, &value.shape, value.data);
            let out = self.graph.add_tensor(TensorInfo {
                name: name.to_string(),
                dtype: DType::F32,
                shape: Some(value.shape.iter().map(|&d| Dim::Fixed(d)).collect()),
                data: None,
            });
            self.graph.add_node(name, Op::Dequantize, vec![Some(src)], vec![out]);
            self.f16_source.insert(out, src);
            self.bind(name, out)?;
            return Ok(out);
        }
        let id = self.graph.add_const(name, value.dtype, &value.shape, value.data);
        self.bind(name, id)?;
        Ok(id)
    }

    /// A new constant with a generated name (no ONNX name is bound to it).
    pub fn new_const(&mut self, base: &str, dtype: DType, shape: &[usize], data: ConstData) -> TensorId {
        let name = self.fresh_name(base);
        self.graph.add_const(name, dtype, shape, data)
    }

    /// A new i64 constant.
    pub fn const_i64(&mut self, base: &str, shape: &[usize], values: &[i64]) -> TensorId {
        self.new_const(base, DType::I64, shape, ConstData::from_i64(values))
    }

    /// A new f32 constant.
    pub fn const_f32(&mut self, base: &str, shape: &[usize], values: &[f32]) -> TensorId {
        self.new_const(base, DType::F32, shape, ConstData::from_f32(values))
    }

    /// Input `i` of the node: `None` when omitted (absent or empty name).
    pub fn input(&self, cx: &NodeCx<'_>, i: usize) -> Result<Option<TensorId>> {
        match cx.node.input.get(i).map(String::as_str) {
            None | Some("") => Ok(None),
            Some(name) => self.values.get(name).copied().map(Some).ok_or_else(|| {
                cx.invalid(format!(
                    "input {i} reads \"{name}\", which is not a graph input, an initializer or the output of an earlier node"
                ))
            }),
        }
    }

    /// Input `i` of the node, which must be present.
    pub fn req_input(&self, cx: &NodeCx<'_>, i: usize) -> Result<TensorId> {
        self.input(cx, i)?.ok_or_else(|| cx.invalid(format!("required input {i} is missing")))
    }

    /// Element type of a tensor.
    pub fn dtype(&self, t: TensorId) -> DType {
        self.graph.tensors[t].dtype
    }

    /// Shape of a tensor as far as the graph determines it: declared for graph inputs,
    /// exact for constants, inferred from those for node outputs.
    pub fn shape(&self, t: TensorId) -> Option<&[Dim]> {
        let info = &self.graph.tensors[t];
        info.shape.as_deref().or_else(|| self.inferred.get(&t).map(Vec::as_slice))
    }

    /// Rank of a tensor if known, from [`Self::shape`] or else from the shape the model
    /// declares for the value (`value_info`). Declared intermediate shapes only ever decide
    /// ranks, never sizes or values.
    pub fn rank(&self, t: TensorId) -> Option<usize> {
        self.shape(t).or_else(|| self.declared.get(&self.graph.tensors[t].name).map(Vec::as_slice)).map(<[Dim]>::len)
    }

    /// Shape of a tensor if every dimension is known.
    pub fn fixed_shape(&self, t: TensorId) -> Option<Vec<usize>> {
        self.shape(t)?.iter().map(Dim::fixed).collect()
    }

    /// Rank of `t`, or an error saying that `purpose` needs it.
    pub fn require_rank(&self, cx: &NodeCx<'_>, t: TensorId, purpose: &str) -> Result<usize> {
        self.rank(t).ok_or_else(|| {
            cx.unsupported(format!(
                "the rank of \"{}\" is unknown, and {purpose} needs it (declare the input shapes or keep value_info in the model)",
                self.graph.tensors[t].name
            ))
        })
    }

    // ----- constants -----------------------------------------------------------------------

    /// The value of `t` if it is known at import: a constant (f16 constants stay f16,
    /// seen through their `Dequantize`), or the output of a node computed only from known
    /// values (exporters compute `Pad` amounts, `Split` sizes and the like with small
    /// chains of operators on constants, or on the shape of an input with a fixed shape).
    /// Such nodes are evaluated here with the reference kernels, at most
    /// [`FOLD_MAX_BYTES`] per output; the nodes stay in the graph for the passes.
    pub fn const_value(&mut self, t: TensorId) -> Option<ConstTensor> {
        self.fold(t, FOLD_MAX_DEPTH)
    }

    fn fold(&mut self, t: TensorId, depth: usize) -> Option<ConstTensor> {
        let src = self.f16_source.get(&t).copied().unwrap_or(t);
        let info = &self.graph.tensors[src];
        if let Some(data) = &info.data {
            return Some(ConstTensor { dtype: info.dtype, shape: info.fixed_shape()?, data: data.clone() });
        }
        if let Some(v) = self.folded.get(&t) {
            return Some(v.clone());
        }
        let node_id = *self.producer.get(&t)?;
        let depth = depth.checked_sub(1)?;
        let node = self.graph.nodes.get(node_id)?.clone();
        let values: Vec<Option<ConstTensor>> = match &node.op {
            // The shape of a tensor with a fixed shape is known without its value.
            // Only the dims in the range need to be fixed.
            Op::Shape { start, end } => {
                let shape = self.known_shape(node.input(0)?, depth)?;
                let rank = shape.len() as i64;
                let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
                let (start, end) = (clamp(*start), clamp(end.unwrap_or(rank)));
                let dims: Vec<i64> = shape
                    .get(start..end.max(start))?
                    .iter()
                    .map(|d| d.fixed().and_then(|d| i64::try_from(d).ok()))
                    .collect::<Option<_>>()?;
                let c = ConstTensor { dtype: DType::I64, shape: vec![dims.len()], data: ConstData::from_i64(&dims) };
                self.folded.insert(t, c.clone());
                return Some(c);
            }
            _ => node.inputs.iter().map(|i| i.map(|i| self.fold(i, depth)).map_or(Some(None), |v| v.map(Some))).collect::<Option<_>>()?,
        };
        let views: Vec<Option<TensorView<'_>>> = values
            .iter()
            .map(|v| v.as_ref().map(|c| TensorView::new(c.dtype, &c.shape, c.data.bytes())).transpose())
            .collect::<std::result::Result<_, _>>()
            .ok()?;
        // Check the output sizes before the reference kernels allocate them.
        let dims: Vec<Option<Vec<Dim>>> = values.iter().map(|v| v.as_ref().map(|c| c.shape.iter().map(|&d| Dim::Fixed(d)).collect())).collect();
        let facts: Vec<Option<Fact<'_>>> = views
            .iter()
            .zip(&dims)
            .map(|(v, d)| v.map(|v| Fact { dtype: v.dtype(), shape: d.as_deref(), value: Some(v) }))
            .collect();
        let out_facts = ops::infer(&node.op, &facts, node.outputs.len()).ok()?;
        for f in &out_facts {
            let shape: Vec<usize> = f.shape.as_ref()?.iter().map(Dim::fixed).collect::<Option<_>>()?;
            let bytes = ferrolite_runtime::tensor::checked_numel(&shape)?.checked_mul(f.dtype.size())?;
            if bytes > FOLD_MAX_BYTES {
                return None;
            }
        }
        let results = ops::eval(&node.op, &views, node.outputs.len()).ok()?;
        let mut found = None;
        for (&out, r) in node.outputs.iter().zip(results) {
            let c = ConstTensor { dtype: r.dtype(), shape: r.shape().to_vec(), data: ConstData::from_bytes(r.bytes()) };
            if out == t {
                found = Some(c.clone());
            }
            self.folded.insert(out, c);
        }
        found
    }

    /// The shape of `t` as far as it is known at import, for folding `Shape` nodes. When the
    /// shape recorded as the graph was built has unknown dims, the producer's shape is
    /// inferred again with the values of its integer inputs that can be folded now (a
    /// `Reshape` to a computed shape, as in expanded ONNX functions), once per tensor.
    fn known_shape(&mut self, t: TensorId, depth: usize) -> Option<Vec<Dim>> {
        let current = self.shape(t).map(<[Dim]>::to_vec);
        if current.as_ref().is_some_and(|s| s.iter().all(|d| d.fixed().is_some())) || !self.reinferred.insert(t) {
            return current;
        }
        let Some(&node_id) = self.producer.get(&t) else { return current };
        let Some(depth) = depth.checked_sub(1) else { return current };
        let Some(node) = self.graph.nodes.get(node_id).cloned() else { return current };
        let mut shapes = Vec::with_capacity(node.inputs.len());
        let mut values = Vec::with_capacity(node.inputs.len());
        for input in &node.inputs {
            let Some(i) = *input else {
                shapes.push(None);
                values.push(None);
                continue;
            };
            shapes.push(self.known_shape(i, depth));
            // Shape arguments are integer tensors; folding data tensors is not worth it here.
            let value = if matches!(self.dtype(i), DType::I64 | DType::I32) { self.fold(i, depth) } else { None };
            values.push(value);
        }
        let views: Vec<Option<TensorView<'_>>> =
            values.iter().map(|v| v.as_ref().and_then(|c| TensorView::new(c.dtype, &c.shape, c.data.bytes()).ok())).collect();
        let facts: Vec<Option<Fact<'_>>> = node
            .inputs
            .iter()
            .zip(shapes.iter().zip(&views))
            .map(|(input, (shape, view))| {
                input.map(|i| Fact { dtype: self.graph.tensors[i].dtype, shape: shape.as_deref(), value: *view })
            })
            .collect();
        let position = node.outputs.iter().position(|&o| o == t)?;
        let refined = ops::infer(&node.op, &facts, node.outputs.len()).ok().and_then(|mut out| {
            if position < out.len() { out.swap_remove(position).shape } else { None }
        });
        match refined {
            Some(shape) => {
                self.inferred.insert(t, shape.clone());
                Some(shape)
            }
            None => current,
        }
    }

    /// The integer values of `t` (i64 or i32) if known at import (see [`Self::const_value`]).
    pub fn const_ints(&mut self, t: TensorId) -> Option<Vec<i64>> {
        let c = self.const_value(t)?;
        TensorView::new(c.dtype, &c.shape, c.data.bytes()).ok()?.to_i64_vec().ok()
    }

    /// The values of `t` as f64 (any element type) if known at import.
    pub fn const_f64s(&mut self, t: TensorId) -> Option<Vec<f64>> {
        let c = self.const_value(t)?;
        Some(bytes_to_f64(c.dtype, c.data.bytes()))
    }

    /// Number of elements of `t` if its value is known at import.
    pub fn const_len(&mut self, t: TensorId) -> Option<usize> {
        ferrolite_runtime::tensor::checked_numel(&self.const_value(t)?.shape)
    }

    /// The integer constant input `i` (e.g. `axes`), `None` if omitted; an error if it is
    /// given but not constant.
    pub fn const_ints_input(&mut self, cx: &NodeCx<'_>, i: usize, what: &str) -> Result<Option<Vec<i64>>> {
        let Some(t) = self.input(cx, i)? else { return Ok(None) };
        if !matches!(self.dtype(t), DType::I64 | DType::I32) {
            return Err(cx.invalid(format!("{what} (input {i}) must be an integer tensor, got {}", self.dtype(t))));
        }
        self.const_ints(t)
            .map(Some)
            .ok_or_else(|| cx.unsupported(format!("{what} (input {i}) must be a constant, it is computed at run time")))
    }

    // ----- nodes ---------------------------------------------------------------------------

    /// Adds a node with fresh intermediate outputs of the given dtypes and returns them.
    pub fn emit(&mut self, cx: &NodeCx<'_>, suffix: &str, op: Op, inputs: Vec<Option<TensorId>>, dtypes: &[DType]) -> Vec<TensorId> {
        let base = match cx.output_name(0) {
            Some(o) => format!("{o}/{suffix}"),
            None => format!("{}/{suffix}", cx.label),
        };
        let outputs: Vec<TensorId> = dtypes
            .iter()
            .map(|&d| {
                let name = self.fresh_name(&base);
                self.graph.add_value(name, d)
            })
            .collect();
        self.push_node(format!("{}/{suffix}", cx.label), op, inputs, outputs.clone());
        outputs
    }

    /// Adds a node with one fresh intermediate output and returns it.
    pub fn apply(&mut self, cx: &NodeCx<'_>, suffix: &str, op: Op, inputs: Vec<Option<TensorId>>, dtype: DType) -> TensorId {
        self.emit(cx, suffix, op, inputs, &[dtype])[0]
    }

    /// The tensor for ONNX output `k` of the node (a fresh unnamed one if the output is
    /// unused).
    pub fn output(&mut self, cx: &NodeCx<'_>, k: usize, dtype: DType) -> Result<TensorId> {
        match cx.output_name(k) {
            Some(name) => {
                let id = self.graph.add_value(name, dtype);
                self.bind(name, id)?;
                Ok(id)
            }
            None => {
                let name = self.fresh_name(&format!("{}/unused{k}", cx.label));
                Ok(self.graph.add_value(name, dtype))
            }
        }
    }

    /// Adds the node that produces the ONNX node's output 0.
    pub fn finish(&mut self, cx: &NodeCx<'_>, op: Op, inputs: Vec<Option<TensorId>>, dtype: DType) -> Result<()> {
        if cx.output_name(0).is_none() {
            return Err(cx.invalid("output 0 has no name"));
        }
        let out = self.output(cx, 0, dtype)?;
        self.push_node(cx.label.clone(), op, inputs, vec![out]);
        Ok(())
    }

    /// Adds a node that produces the ONNX node's output `k` (which must be in use).
    pub fn finish_output(&mut self, cx: &NodeCx<'_>, k: usize, op: Op, inputs: Vec<Option<TensorId>>, dtype: DType) -> Result<()> {
        if cx.output_name(k).is_none() {
            return Err(cx.invalid(format!("output {k} has no name")));
        }
        let out = self.output(cx, k, dtype)?;
        self.push_node(format!("{}/output{k}", cx.label), op, inputs, vec![out]);
        Ok(())
    }

    /// Adds the node that produces all the ONNX node's outputs.
    pub fn finish_multi(&mut self, cx: &NodeCx<'_>, op: Op, inputs: Vec<Option<TensorId>>, dtype: DType) -> Result<()> {
        let outputs = (0..cx.node.output.len()).map(|k| self.output(cx, k, dtype)).collect::<Result<Vec<_>>>()?;
        self.push_node(cx.label.clone(), op, inputs, outputs);
        Ok(())
    }

    /// Binds the ONNX node's output 0 to a new constant.
    pub fn finish_const(&mut self, cx: &NodeCx<'_>, value: ConstTensor) -> Result<()> {
        let name = cx.output_name(0).ok_or_else(|| cx.invalid("output 0 has no name"))?;
        self.add_constant(name, value)?;
        Ok(())
    }

    /// Appends a node and records what shape inference can tell about its outputs.
    fn push_node(&mut self, name: String, op: Op, inputs: Vec<Option<TensorId>>, outputs: Vec<TensorId>) {
        let node = self.graph.add_node(name, op, inputs, outputs);
        for &o in &self.graph.nodes[node].outputs {
            self.producer.insert(o, node);
        }
        self.infer_node(node);
    }

    /// Runs the reference shape inference on one node, best effort: the result only serves
    /// import decisions that need a rank. Failures are left for the passes to report with
    /// full context.
    fn infer_node(&mut self, node_id: usize) {
        let node = &self.graph.nodes[node_id];
        let shapes: Vec<Option<Vec<Dim>>> = node.inputs.iter().map(|t| t.and_then(|t| self.shape(t).map(<[Dim]>::to_vec))).collect();
        let fixed: Vec<Option<Vec<usize>>> =
            node.inputs.iter().map(|t| t.and_then(|t| self.graph.tensors[t].data.as_ref().and(self.graph.tensors[t].fixed_shape()))).collect();
        let facts: Vec<Option<Fact<'_>>> = node
            .inputs
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let t = (*t)?;
                let info = &self.graph.tensors[t];
                let value = match (&info.data, &fixed[i]) {
                    (Some(d), Some(s)) => TensorView::new(info.dtype, s, d.bytes()).ok(),
                    _ => None,
                };
                Some(Fact { dtype: info.dtype, shape: shapes[i].as_deref(), value })
            })
            .collect();
        let Ok(out) = ops::infer(&node.op, &facts, node.outputs.len()) else { return };
        let outputs = node.outputs.clone();
        for (t, fact) in outputs.into_iter().zip(out) {
            if let Some(shape) = fact.shape {
                self.inferred.insert(t, shape);
            }
        }
    }

    // ----- layout --------------------------------------------------------------------------

    /// Adds a transpose node.
    pub fn transpose(&mut self, cx: &NodeCx<'_>, suffix: &str, x: TensorId, perm: &[usize]) -> TensorId {
        let d = self.dtype(x);
        self.apply(cx, suffix, Op::Transpose { perm: perm.to_vec() }, vec![Some(x)], d)
    }

    /// Wraps an NHWC spatial operator for NCHW (or NCW, lifted to NC1W) data: transposes
    /// the input to NHWC, applies `op` with `extra` inputs, and transposes the result back
    /// into the node's output 0.
    pub fn nhwc_wrap(&mut self, cx: &NodeCx<'_>, x: TensorId, spatial_rank: usize, op: Op, extra: Vec<Option<TensorId>>) -> Result<()> {
        let dtype = self.dtype(x);
        let mut t = x;
        if spatial_rank == 1 {
            t = self.apply(cx, "as_2d", Op::Unsqueeze { axes: vec![2] }, vec![Some(t)], dtype);
        }
        t = self.transpose(cx, "to_nhwc", t, &[0, 2, 3, 1]);
        let mut inputs = vec![Some(t)];
        inputs.extend(extra);
        t = self.apply(cx, "nhwc", op, inputs, dtype);
        if spatial_rank == 1 {
            t = self.transpose(cx, "to_nchw", t, &[0, 3, 1, 2]);
            self.finish(cx, Op::Squeeze { axes: vec![2] }, vec![Some(t)], dtype)
        } else {
            self.finish(cx, Op::Transpose { perm: vec![0, 3, 1, 2] }, vec![Some(t)], dtype)
        }
    }

    /// Brings an ONNX convolution weight `[A, B, k...]` (1 or 2 spatial dims) into the IR's
    /// `[A, KH, KW, B]` layout: permuted at import for constants (f16 stays f16), or by
    /// transpose nodes for computed weights.
    pub fn weight_to_ohwi(&mut self, cx: &NodeCx<'_>, w: TensorId, spatial_rank: usize) -> Result<TensorId> {
        if let Some(ConstTensor { dtype, shape, data }) = self.const_value(w) {
            let shape4: Vec<usize> = match (spatial_rank, shape.as_slice()) {
                (1, &[a, b, k]) => vec![a, b, 1, k],
                (2, &[a, b, kh, kw]) => vec![a, b, kh, kw],
                _ => return Err(cx.invalid(format!("weight of shape {shape:?} does not have {} spatial dims", spatial_rank))),
            };
            let permuted = permute(data.bytes(), dtype.size(), &shape4, &[0, 2, 3, 1]);
            let out_shape = [shape4[0], shape4[2], shape4[3], shape4[1]];
            let name = format!("{}/ohwi", self.graph.tensors[w].name);
            let c = self.new_const(&name, dtype, &out_shape, ConstData::from_bytes(&permuted));
            if dtype == DType::F16 {
                let out = self.apply(cx, "weight_f32", Op::Dequantize, vec![Some(c)], DType::F32);
                self.f16_source.insert(out, c);
                return Ok(out);
            }
            return Ok(c);
        }
        let dtype = self.dtype(w);
        let mut t = w;
        if spatial_rank == 1 {
            t = self.apply(cx, "weight_as_2d", Op::Unsqueeze { axes: vec![2] }, vec![Some(t)], dtype);
        }
        Ok(self.transpose(cx, "weight_ohwi", t, &[0, 2, 3, 1]))
    }
}

/// Permutes a dense row-major array of `elem`-byte elements: output axis `i` is input axis
/// `perm[i]`. `shape` and `perm` have the same length and `bytes` matches the shape (callers
/// take both from a checked constant).
pub(crate) fn permute(bytes: &[u8], elem: usize, shape: &[usize], perm: &[usize]) -> Vec<u8> {
    let rank = shape.len();
    let in_strides = ferrolite_runtime::ops::util::strides(shape);
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let strides_by_out: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let count = out_shape.iter().product::<usize>();
    let mut out = Vec::with_capacity(count * elem);
    let mut index = vec![0usize; rank];
    for _ in 0..count {
        let src: usize = index.iter().zip(&strides_by_out).map(|(i, s)| i * s).sum();
        out.extend_from_slice(&bytes[src * elem..(src + 1) * elem]);
        for axis in (0..rank).rev() {
            index[axis] += 1;
            if index[axis] < out_shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    out
}

/// Little-endian elements of any Ferrolite type as f64.
pub(crate) fn bytes_to_f64(dtype: DType, bytes: &[u8]) -> Vec<f64> {
    match dtype {
        DType::F32 => bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect(),
        DType::F16 => bytes.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f64()).collect(),
        DType::I32 => bytes.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect(),
        DType::I64 => bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f64)
            .collect(),
        DType::I8 => bytes.iter().map(|&b| b as i8 as f64).collect(),
        DType::U8 | DType::Bool => bytes.iter().map(|&b| b as f64).collect(),
    }
}
