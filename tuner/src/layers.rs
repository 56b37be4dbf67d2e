//! The distinct layers of a model, each as a one-node model the tuner can time.

use std::sync::Arc;

use ferrolite_runtime::ir::{DType, Dim, Graph, Op, TensorInfo};
use ferrolite_runtime::kernel::{KernelRegistry, NodeCtx, Preferred};
use ferrolite_runtime::profile::Key;
use ferrolite_runtime::{Model, Result, Tensor, plan, select};

/// One layer signature of a model: its key, a graph with just that node, and how many
/// nodes of the model share it.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The profile key (threads included).
    pub key: Key,
    /// Name of the first node with this key.
    pub name: String,
    /// Nodes of the model with this key.
    pub count: usize,
    /// Multiply-accumulates of one node.
    pub macs: u64,
    /// The node alone: input `x`, its constant weights, output `y`.
    pub graph: Graph,
    /// Input shape.
    pub input_shape: Vec<usize>,
}

/// The distinct tunable layers of `model` (f32 2-D convolutions) for these input shapes
/// and thread count, in order of first appearance.
pub fn distinct_layers(model: &Model, input_shapes: &[Vec<usize>], threads: usize) -> Result<Vec<Layer>> {
    let mut layers: Vec<Layer> = Vec::new();
    plan::visit_nodes(model, input_shapes, |ctx| {
        let Some(key) = select::key_of(ctx, threads) else { return Ok(()) };
        if let Some(l) = layers.iter_mut().find(|l| l.key == key) {
            l.count += 1;
            return Ok(());
        }
        if let Some((graph, input_shape)) = single_node(ctx) {
            let macs = ctx.graph.node_macs(ctx.node_id).unwrap_or(0);
            layers.push(Layer { key, name: ctx.node.name.clone(), count: 1, macs, graph, input_shape });
        }
        Ok(())
    })?;
    Ok(layers)
}

/// A graph holding only `ctx`'s node: its first input becomes the graph input (with its
/// concrete shape), the other inputs are copied as constants (weights are shared, not
/// copied: `ConstData` is reference-counted). A convolution's fused residual (input 3) is
/// left out: it costs the same one load per output whichever variant runs, and keys do not
/// tell layers with and without one apart.
fn single_node(ctx: &NodeCtx<'_>) -> Option<(Graph, Vec<usize>)> {
    let (dtype, shape) = ctx.inputs.first().copied().flatten()?;
    let mut g = Graph::default();
    let x = g.add_tensor(TensorInfo {
        name: "x".into(),
        dtype,
        shape: Some(shape.iter().map(|&d| Dim::Fixed(d)).collect()),
        data: None,
    });
    g.inputs.push(x);
    let mut inputs = vec![Some(x)];
    let count = if matches!(ctx.node.op, Op::Conv2d(_)) { ctx.inputs.len().min(3) } else { ctx.inputs.len() };
    for i in 1..count {
        match (ctx.inputs[i], ctx.values.get(i).copied().flatten()) {
            (Some((dt, s)), Some(v)) => inputs.push(Some(g.add_const(format!("c{i}"), dt, s, v.clone()))),
            (None, _) => inputs.push(None),
            // A non-constant second input: not a layer the tuner can isolate.
            (Some(_), None) => return None,
        }
    }
    let outputs: Vec<usize> = (0..ctx.outputs.len()).map(|i| g.add_value(format!("y{i}"), DType::F32)).collect();
    g.add_node(ctx.node.name.clone(), ctx.node.op.clone(), inputs, outputs.clone());
    g.outputs.extend(outputs);
    Some((g, shape.to_vec()))
}

impl Layer {
    /// The layer as a model whose registry holds `registry`'s variant `id`, pinned with
    /// these run-time parameters, and the reference operators.
    pub fn pinned_model(&self, registry: &KernelRegistry, id: &str, params: &[(String, usize)]) -> Result<Model> {
        let factory = registry
            .by_id(id)
            .ok_or_else(|| ferrolite_runtime::Error::Unsupported(format!("no variant {id} in this build")))?;
        let mut r = KernelRegistry::new();
        r.register(Arc::new(Preferred::with_params(factory.clone(), params.to_vec())));
        ferrolite_runtime::ops::register_reference(&mut r);
        Ok(Model::from_graph(self.graph.clone())?.with_registry(Arc::new(r)))
    }

    /// Ids of the DSL variants that apply to this layer and can run here, best first by
    /// priority and preference. `opencl`: include OpenCL variants. Scalar variants are left
    /// out when a SIMD variant applies: they compute the same thing a vector at a time
    /// slower, and measuring them would only spend the budget.
    pub fn candidates(&self, registry: &KernelRegistry, opencl: bool) -> Result<Vec<String>> {
        use ferrolite_runtime::variant::Target;
        let model = Model::from_graph(self.graph.clone())?;
        let mut found = Vec::new();
        plan::visit_nodes(&model, std::slice::from_ref(&self.input_shape), |ctx| {
            for f in registry.applicable(ctx) {
                let Some(v) = f.variant() else { continue };
                if v.runnable() && (opencl || v.target != Target::OpenCl) {
                    found.push((f.id().to_string(), v.target));
                }
            }
            Ok(())
        })?;
        let scalar = Target::Cpu(ferrolite_targets::Isa::Scalar);
        let simd = found.iter().any(|(_, t)| matches!(t, Target::Cpu(_)) && *t != scalar);
        Ok(found.into_iter().filter(|(_, t)| !(simd && *t == scalar)).map(|(id, _)| id).collect())
    }

    /// A seeded uniform(-1, 1) input.
    pub fn input(&self) -> Result<Tensor> {
        let n: usize = self.input_shape.iter().product();
        let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ n as u64;
        let values: Vec<f32> = (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
            })
            .collect();
        Tensor::from_slice(&self.input_shape, &values)
    }
}
