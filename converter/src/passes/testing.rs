//! Test helpers for the passes: building small graphs, running a graph node by node with the
//! reference kernels, and checking that a rewrite computes the same outputs as the original.

use ferrolite_runtime::ir::{ConstData, DType, Dim, Graph, Op, TensorId, TensorInfo};
use ferrolite_runtime::{Tensor, TensorView, ops};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::rewrite::check_graph;
use super::shapes::infer_shapes;

/// Adds an f32 graph input with a fixed shape.
pub fn input(g: &mut Graph, name: &str, shape: &[usize]) -> TensorId {
    let t = g.add_tensor(TensorInfo {
        name: name.into(),
        dtype: DType::F32,
        shape: Some(shape.iter().map(|&d| Dim::Fixed(d)).collect()),
        data: None,
    });
    g.inputs.push(t);
    t
}

/// Adds a node with one output and returns that output.
pub fn node(g: &mut Graph, op: Op, inputs: &[TensorId]) -> TensorId {
    node_opt(g, op, inputs.iter().map(|&t| Some(t)).collect())
}

/// Adds a node with optional inputs and one output and returns that output.
pub fn node_opt(g: &mut Graph, op: Op, inputs: Vec<Option<TensorId>>) -> TensorId {
    let name = format!("t{}", g.tensors.len());
    let out = g.add_value(name.clone(), DType::F32);
    g.add_node(format!("n_{name}"), op, inputs, vec![out]);
    out
}

/// Adds a node with `n` outputs and returns them.
pub fn node_n(g: &mut Graph, op: Op, inputs: &[TensorId], n: usize) -> Vec<TensorId> {
    let outs: Vec<TensorId> = (0..n).map(|i| g.add_value(format!("t{}_{i}", g.tensors.len()), DType::F32)).collect();
    g.add_node(format!("n{}", g.nodes.len()), op, inputs.iter().map(|&t| Some(t)).collect(), outs.clone());
    outs
}

/// Adds a one-input node and returns its output.
pub fn unary(g: &mut Graph, op: Op, x: TensorId) -> TensorId {
    node(g, op, &[x])
}

/// Number of nodes whose [`Op::name`] is `name` (`Transpose`, `Add`, `Relu`, ...).
pub fn count(g: &Graph, name: &str) -> usize {
    g.nodes.iter().filter(|n| n.op.name() == name).count()
}

/// A seeded random number generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Uniform random f32 values in `[lo, hi)`.
pub fn random_values(rng: &mut StdRng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// Adds an f32 constant with random values in `[lo, hi)`.
pub fn random_const(g: &mut Graph, rng: &mut StdRng, name: &str, shape: &[usize], lo: f32, hi: f32) -> TensorId {
    let values = random_values(rng, shape.iter().product(), lo, hi);
    g.add_const_f32(name, shape, &values)
}

/// Runs `g` on `inputs` (one per graph input, in order), one node at a time with
/// [`ops::eval`], and returns the graph outputs.
pub fn run_graph(g: &Graph, inputs: &[Tensor]) -> Vec<Tensor> {
    assert_eq!(inputs.len(), g.inputs.len(), "one tensor per graph input");
    let mut values: Vec<Option<Tensor>> = vec![None; g.tensors.len()];
    for (t, info) in g.tensors.iter().enumerate() {
        if let Some(data) = &info.data {
            let shape = info.fixed_shape().expect("constants have fixed shapes");
            values[t] = Some(Tensor::from_bytes(info.dtype, &shape, data.bytes()).expect("constant bytes match"));
        }
    }
    for (&t, v) in g.inputs.iter().zip(inputs) {
        values[t] = Some(v.clone());
    }
    for (id, node) in g.nodes.iter().enumerate() {
        let views: Vec<Option<TensorView<'_>>> = node
            .inputs
            .iter()
            .map(|i| {
                i.map(|t| {
                    values[t].as_ref().unwrap_or_else(|| panic!("{}: input not computed", g.node_label(id))).view()
                })
            })
            .collect();
        let outs =
            ops::eval(&node.op, &views, node.outputs.len()).unwrap_or_else(|e| panic!("{}: {e}", g.node_label(id)));
        for (&t, v) in node.outputs.iter().zip(outs) {
            values[t] = Some(v);
        }
    }
    g.outputs.iter().map(|&t| values[t].clone().expect("graph output computed")).collect()
}

/// Random f32 inputs in `[-2, 2)` for every graph input (all must have fixed shapes).
pub fn random_inputs(g: &Graph, seed: u64) -> Vec<Tensor> {
    let mut r = rng(seed);
    g.inputs
        .iter()
        .map(|&t| {
            let info = &g.tensors[t];
            let shape = info.fixed_shape().expect("test inputs have fixed shapes");
            assert_eq!(info.dtype, DType::F32, "test inputs are f32");
            let values = random_values(&mut r, shape.iter().product(), -2.0, 2.0);
            Tensor::from_slice(&shape, &values).unwrap()
        })
        .collect()
}

/// Asserts that two sets of outputs agree: same dtypes and shapes, integer outputs equal,
/// f32 outputs within 1e-5 of the largest magnitude of the reference.
pub fn assert_close(expected: &[Tensor], actual: &[Tensor]) {
    assert_eq!(expected.len(), actual.len(), "number of outputs");
    for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
        assert_eq!(e.dtype(), a.dtype(), "output {i} dtype");
        assert_eq!(e.shape(), a.shape(), "output {i} shape");
        if e.dtype() == DType::F32 {
            let (ev, av) = (e.as_slice::<f32>().unwrap(), a.as_slice::<f32>().unwrap());
            let scale = ev.iter().fold(0f32, |m, v| m.max(v.abs())).max(f32::MIN_POSITIVE);
            for (j, (x, y)) in ev.iter().zip(av).enumerate() {
                assert!((x - y).abs() <= 1e-5 * scale, "output {i}[{j}]: expected {x}, got {y} (largest {scale})");
            }
        } else {
            assert_eq!(e.bytes(), a.bytes(), "output {i} values");
        }
    }
}

/// Infers shapes of `original`, applies `rewrite` to a copy, runs `check` on the result, and
/// asserts that the result is a valid graph computing the same outputs as the original on
/// random inputs.
pub fn check_rewrite(original: &Graph, rewrite: impl FnOnce(&mut Graph), check: impl FnOnce(&Graph)) -> Graph {
    let mut before = original.clone();
    infer_shapes(&mut before).expect("original graph infers");
    let mut after = before.clone();
    rewrite(&mut after);
    check_graph(&after).expect("rewritten graph is valid");
    infer_shapes(&mut after).expect("rewritten graph infers");
    check(&after);
    for seed in [1, 2] {
        let inputs = random_inputs(&before, seed);
        assert_close(&run_graph(&before, &inputs), &run_graph(&after, &inputs));
    }
    after
}

/// The value of constant `t` as an owned tensor.
pub fn const_tensor(g: &Graph, t: TensorId) -> Option<Tensor> {
    let info = &g.tensors[t];
    let data: &ConstData = info.data.as_ref()?;
    Tensor::from_bytes(info.dtype, &info.fixed_shape()?, data.bytes()).ok()
}
