//! Model statistics: parameter count and a per-layer summary (geometry and MACs) of the
//! convolution and dense layers.
//!
//! These work on any [`Graph`] whose tensors carry shapes (the zoo's graphs do from the
//! start, imported graphs after shape inference), for `ferrolite info` as well as the zoo's
//! tests.
//!
//! MACs per node are [`Graph::node_macs`]: the convention of
//! `shared/models/make_models.py` (`count_macs`), one MAC per multiply-accumulate of a
//! convolution or matrix product, batch included; bias additions, activations,
//! normalization, pooling and element-wise operators count nothing.

use std::fmt;

use ferrolite_runtime::ir::{DType, Graph, NodeId, Op, Padding, TensorId};

/// Number of parameters: the elements of the constant tensors that nodes read, each tensor
/// counted once however many nodes read it.
///
/// Counted are float and 8-bit constants (weights, biases, normalization parameters).
/// Not counted:
/// - `i32`, `i64` and `bool` constants: shape math and indices (a Reshape's target shape),
///   not learned values;
/// - a `BatchNorm` scale that is exactly 1 everywhere: that is how a normalization without a
///   learned scale arrives (Keras `BatchNormalization(scale=False)`, which Keras'
///   `count_params` does not count either), and an identity scale carries no information.
pub fn param_count(graph: &Graph) -> u64 {
    let mut counted = vec![false; graph.tensors.len()];
    let mut total = 0u64;
    for node in &graph.nodes {
        for (slot, input) in node.inputs.iter().enumerate() {
            let Some(t) = *input else { continue };
            let Some(info) = graph.tensors.get(t) else { continue };
            let Some(data) = info.data.as_ref() else { continue };
            if counted[t] || matches!(info.dtype, DType::I32 | DType::I64 | DType::Bool) {
                continue;
            }
            let is_bn_scale = matches!(node.op, Op::BatchNorm(_)) && slot == 1;
            if is_bn_scale && data.as_f32().is_some_and(|s| s.iter().all(|&v| v == 1.0)) {
                continue;
            }
            counted[t] = true;
            total += (data.len() / info.dtype.size()) as u64;
        }
    }
    total
}

/// What a counted layer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// A `Conv2d` with `groups == 1` or `1 < groups < channels`.
    Conv,
    /// A `Conv2d` with one group per input channel (`groups == C == O`).
    Depthwise,
    /// A `ConvTranspose2d`.
    ConvTranspose,
    /// A `Gemm` (a fully connected layer).
    Dense,
    /// A `MatMul`.
    MatMul,
}

impl LayerKind {
    /// Short lower-case name (`conv`, `depthwise`, `conv_transpose`, `dense`, `matmul`).
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Conv => "conv",
            LayerKind::Depthwise => "depthwise",
            LayerKind::ConvTranspose => "conv_transpose",
            LayerKind::Dense => "dense",
            LayerKind::MatMul => "matmul",
        }
    }
}

/// The spatial geometry of a convolution layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Vertical and horizontal stride.
    pub stride: [usize; 2],
    /// Vertical and horizontal dilation.
    pub dilation: [usize; 2],
    /// Padding resolved against the input size: `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// Number of groups.
    pub groups: usize,
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Output height and width.
    pub out_hw: [usize; 2],
}

/// One layer that counts MACs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerStats {
    /// The node.
    pub node: NodeId,
    /// The node's name.
    pub name: String,
    /// What the layer is.
    pub kind: LayerKind,
    /// Input channels (`K` of a product).
    pub in_channels: usize,
    /// Output channels (`N` of a product).
    pub out_channels: usize,
    /// Spatial geometry, for convolutions.
    pub geometry: Option<ConvGeometry>,
    /// Whether the layer adds a bias.
    pub bias: bool,
    /// Multiply-accumulates ([`Graph::node_macs`]).
    pub macs: u64,
}

/// Parameters, MACs and the per-layer breakdown of a graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// [`param_count`].
    pub params: u64,
    /// Total multiply-accumulates ([`Graph::total_macs`]).
    pub macs: u64,
    /// Every convolution, dense and matmul layer, in node order.
    pub layers: Vec<LayerStats>,
}

/// Summarizes a graph whose tensors carry shapes. Errors name the node whose shapes are
/// missing or inconsistent.
pub fn summary(graph: &Graph) -> Result<Summary, String> {
    let mut layers = Vec::new();
    for (id, node) in graph.nodes.iter().enumerate() {
        let kind = match &node.op {
            Op::Conv2d(_) => LayerKind::Conv,
            Op::ConvTranspose2d(_) => LayerKind::ConvTranspose,
            Op::Gemm(_) => LayerKind::Dense,
            Op::MatMul => LayerKind::MatMul,
            _ => continue,
        };
        let macs = graph
            .node_macs(id)
            .ok_or_else(|| format!("{}: MACs unknown (a shape is missing)", graph.node_label(id)))?;
        let input_shape = node.input(0).and_then(|t| fixed_shape(graph, t));
        let weight_shape = node.input(1).and_then(|t| fixed_shape(graph, t));
        let output_shape = node.outputs.first().and_then(|&t| fixed_shape(graph, t));
        let missing = || format!("{}: input, weight or output shape is not known", graph.node_label(id));
        let (x, w, y) = match (input_shape, weight_shape, output_shape) {
            (Some(x), Some(w), Some(y)) => (x, w, y),
            _ => return Err(missing()),
        };
        let bias = node.input(2).is_some();
        let name = node.name.clone();
        let layer = match (&node.op, x.as_slice(), y.as_slice()) {
            (Op::Conv2d(a), [_, h, wd, c], [_, oh, ow, o]) => {
                let kind = if a.groups > 1 && a.groups == *c && a.groups == *o { LayerKind::Depthwise } else { kind };
                let geometry = ConvGeometry {
                    kernel: a.kernel,
                    stride: a.stride,
                    dilation: a.dilation,
                    pads: resolve_padding(a.padding, [*h, *wd], a.kernel, a.stride, a.dilation),
                    groups: a.groups,
                    in_hw: [*h, *wd],
                    out_hw: [*oh, *ow],
                };
                LayerStats {
                    node: id,
                    name,
                    kind,
                    in_channels: *c,
                    out_channels: *o,
                    geometry: Some(geometry),
                    bias,
                    macs,
                }
            }
            (Op::ConvTranspose2d(a), [_, h, wd, c], [_, oh, ow, o]) => {
                let geometry = ConvGeometry {
                    kernel: a.kernel,
                    stride: a.stride,
                    dilation: a.dilation,
                    pads: match a.padding {
                        Padding::Explicit { top, left, bottom, right } => [top, left, bottom, right],
                        // What is cropped from the full output to leave the actual one
                        // (saturating: the shapes may come from a hostile file).
                        same => {
                            let full = |i: usize| {
                                let extent = a.kernel[i].saturating_sub(1).saturating_mul(a.dilation[i]);
                                x[1 + i]
                                    .saturating_sub(1)
                                    .saturating_mul(a.stride[i])
                                    .saturating_add(extent)
                                    .saturating_add(1)
                                    .saturating_add(a.output_padding[i])
                            };
                            split_pad(same, full(0).saturating_sub(*oh), full(1).saturating_sub(*ow))
                        }
                    },
                    groups: a.groups,
                    in_hw: [*h, *wd],
                    out_hw: [*oh, *ow],
                };
                LayerStats {
                    node: id,
                    name,
                    kind,
                    in_channels: *c,
                    out_channels: *o,
                    geometry: Some(geometry),
                    bias,
                    macs,
                }
            }
            (Op::Gemm(g), _, _) => {
                let k = if g.trans_a { x.first() } else { x.last() };
                let n = if g.trans_b { w.first() } else { w.last() };
                match (k, n) {
                    (Some(&k), Some(&n)) => {
                        LayerStats { node: id, name, kind, in_channels: k, out_channels: n, geometry: None, bias, macs }
                    }
                    _ => return Err(missing()),
                }
            }
            (Op::MatMul, _, _) => {
                let k = x.last().copied().unwrap_or(0);
                let n = if w.len() == 1 { 1 } else { w.last().copied().unwrap_or(0) };
                LayerStats { node: id, name, kind, in_channels: k, out_channels: n, geometry: None, bias: false, macs }
            }
            _ => return Err(format!("{}: expects 4-D NHWC input and output", graph.node_label(id))),
        };
        layers.push(layer);
    }
    let macs = graph.total_macs().ok_or_else(|| "MACs unknown: a node's shapes are missing".to_string())?;
    Ok(Summary { params: param_count(graph), macs, layers })
}

/// Resolves a convolution or pooling padding against the input size:
/// `[top, left, bottom, right]`. `SameUpper`/`SameLower` give output `ceil(in / stride)`.
pub fn resolve_padding(
    padding: Padding,
    in_hw: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
) -> [usize; 4] {
    match padding {
        Padding::Explicit { top, left, bottom, right } => [top, left, bottom, right],
        same => {
            let total = |i: usize| {
                let stride = stride[i].max(1);
                let out = in_hw[i].div_ceil(stride);
                // Saturating: the sizes may come from a hostile file.
                let extent = kernel[i].saturating_sub(1).saturating_mul(dilation[i]).saturating_add(1);
                out.saturating_sub(1).saturating_mul(stride).saturating_add(extent).saturating_sub(in_hw[i])
            };
            split_pad(same, total(0), total(1))
        }
    }
}

/// Splits total vertical / horizontal padding as `SameUpper` (odd pixel at the end) or
/// `SameLower` (odd pixel at the start) does.
fn split_pad(padding: Padding, total_h: usize, total_w: usize) -> [usize; 4] {
    let (small_h, small_w) = (total_h / 2, total_w / 2);
    let (big_h, big_w) = (total_h - small_h, total_w - small_w);
    match padding {
        Padding::SameLower => [big_h, big_w, small_h, small_w],
        _ => [small_h, small_w, big_h, big_w],
    }
}

fn fixed_shape(graph: &Graph, t: TensorId) -> Option<Vec<usize>> {
    graph.tensors.get(t)?.fixed_shape()
}

impl fmt::Display for Summary {
    /// A table of the layers followed by the totals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_width = self.layers.iter().map(|l| l.name.len()).max().unwrap_or(4).max(4);
        writeln!(
            f,
            "{:<name_width$}  {:<9}  {:>6}  {:>5}  {:>6}  {:>9}  {:>9}  {:>13}",
            "name", "kind", "kernel", "strd", "groups", "in", "out", "MACs"
        )?;
        for l in &self.layers {
            let (kernel, stride, groups, input, output) = match &l.geometry {
                Some(g) => (
                    format!("{}x{}", g.kernel[0], g.kernel[1]),
                    format!("{}x{}", g.stride[0], g.stride[1]),
                    g.groups.to_string(),
                    format!("{}x{}x{}", g.in_hw[0], g.in_hw[1], l.in_channels),
                    format!("{}x{}x{}", g.out_hw[0], g.out_hw[1], l.out_channels),
                ),
                None => {
                    (String::new(), String::new(), String::new(), l.in_channels.to_string(), l.out_channels.to_string())
                }
            };
            writeln!(
                f,
                "{:<name_width$}  {:<9}  {kernel:>6}  {stride:>5}  {groups:>6}  {input:>9}  {output:>9}  {:>13}",
                l.name,
                l.kind.name(),
                l.macs
            )?;
        }
        write!(f, "{} layers, {} parameters, {} MACs", self.layers.len(), self.params, self.macs)
    }
}
