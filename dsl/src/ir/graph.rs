use serde::{Deserialize, Serialize};

use super::{ConstData, DType, Op};

/// Index of a tensor in [`Graph::tensors`].
pub type TensorId = usize;
/// Index of a node in [`Graph::nodes`].
pub type NodeId = usize;

/// One dimension of a tensor shape: known, or symbolic until the actual inputs are seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dim {
    /// A known size.
    Fixed(usize),
    /// A named symbolic size (`batch`, `height`, ...); equal names are equal sizes.
    Sym(String),
}

impl Dim {
    /// The size if known.
    pub fn fixed(&self) -> Option<usize> {
        match self {
            Dim::Fixed(n) => Some(*n),
            Dim::Sym(_) => None,
        }
    }
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Sym(s) => f.write_str(s),
        }
    }
}

/// A tensor of the graph: a graph input, a constant, or the output of a node.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    /// Name from the source model (unique within the graph).
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Shape, if known. Constants always have one; inferred shapes may hold [`Dim::Sym`].
    pub shape: Option<Vec<Dim>>,
    /// The value, for constants.
    pub data: Option<ConstData>,
}

impl TensorInfo {
    /// The shape if every dimension is known.
    pub fn fixed_shape(&self) -> Option<Vec<usize>> {
        self.shape.as_ref()?.iter().map(Dim::fixed).collect()
    }

    /// Whether the tensor is a constant.
    pub fn is_const(&self) -> bool {
        self.data.is_some()
    }
}

/// One operator application.
#[derive(Debug, Clone)]
pub struct Node {
    /// Name from the source model (for messages; may be empty).
    pub name: String,
    /// The operator and its attributes.
    pub op: Op,
    /// Input tensors in the operator's order; `None` marks an omitted optional input.
    pub inputs: Vec<Option<TensorId>>,
    /// Output tensors in the operator's order.
    pub outputs: Vec<TensorId>,
}

impl Node {
    /// The `i`-th input if present.
    pub fn input(&self, i: usize) -> Option<TensorId> {
        self.inputs.get(i).copied().flatten()
    }
}

/// A dataflow graph. Nodes are kept in a topological order.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Every tensor: inputs, constants, intermediates and outputs.
    pub tensors: Vec<TensorInfo>,
    /// Nodes in topological order.
    pub nodes: Vec<Node>,
    /// Graph inputs in the model's order.
    pub inputs: Vec<TensorId>,
    /// Graph outputs in the model's order.
    pub outputs: Vec<TensorId>,
}

impl Graph {
    /// Adds a tensor and returns its id.
    pub fn add_tensor(&mut self, info: TensorInfo) -> TensorId {
        self.tensors.push(info);
        self.tensors.len() - 1
    }

    /// Adds a constant tensor.
    pub fn add_const(&mut self, name: impl Into<String>, dtype: DType, shape: &[usize], data: ConstData) -> TensorId {
        self.add_tensor(TensorInfo {
            name: name.into(),
            dtype,
            shape: Some(shape.iter().map(|&d| Dim::Fixed(d)).collect()),
            data: Some(data),
        })
    }

    /// Adds an f32 constant.
    pub fn add_const_f32(&mut self, name: impl Into<String>, shape: &[usize], values: &[f32]) -> TensorId {
        self.add_const(name, DType::F32, shape, ConstData::from_f32(values))
    }

    /// Adds an i64 constant.
    pub fn add_const_i64(&mut self, name: impl Into<String>, shape: &[usize], values: &[i64]) -> TensorId {
        self.add_const(name, DType::I64, shape, ConstData::from_i64(values))
    }

    /// Adds a tensor with no value and unknown shape (typically a node output).
    pub fn add_value(&mut self, name: impl Into<String>, dtype: DType) -> TensorId {
        self.add_tensor(TensorInfo { name: name.into(), dtype, shape: None, data: None })
    }

    /// Appends a node. Callers keep the topological order.
    pub fn add_node(&mut self, name: impl Into<String>, op: Op, inputs: Vec<Option<TensorId>>, outputs: Vec<TensorId>) -> NodeId {
        self.nodes.push(Node { name: name.into(), op, inputs, outputs });
        self.nodes.len() - 1
    }

    /// For each tensor, the node that produces it (if any).
    pub fn producers(&self) -> Vec<Option<NodeId>> {
        let mut p = vec![None; self.tensors.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            for &o in &n.outputs {
                if o < p.len() {
                    p[o] = Some(i);
                }
            }
        }
        p
    }

    /// For each tensor, the nodes that read it, in node order.
    pub fn consumers(&self) -> Vec<Vec<NodeId>> {
        let mut c = vec![Vec::new(); self.tensors.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            for t in n.inputs.iter().flatten() {
                if *t < c.len() && c[*t].last() != Some(&i) {
                    c[*t].push(i);
                }
            }
        }
        c
    }

    /// A short human-readable label for node `id`: `Conv2d "name"`.
    pub fn node_label(&self, id: NodeId) -> String {
        match self.nodes.get(id) {
            Some(n) => format!("{} node #{id} \"{}\"", n.op.name(), n.name),
            None => format!("node #{id}"),
        }
    }
}
