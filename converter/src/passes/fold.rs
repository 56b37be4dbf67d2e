//! Constant folding.
//!
//! A node whose inputs are all constants is run once with the reference kernels
//! ([`ferrolite_runtime::ops::eval`]) and replaced by its results as constants. This folds
//! the dequantization of f16 weights, weight transposes left by importers, and the
//! `Shape -> Gather -> Concat -> Reshape` chains of exported models: a [`Op::Shape`] of a
//! tensor whose shape is fully known is a constant even when the tensor is not.
//!
//! A size guard keeps folding from blowing the model up: an output is materialized only if
//! it is small ([`SMALL_BYTES`]) or at most [`MAX_GROWTH`] times the size of the node's
//! inputs, so an `Expand` or `ConstantOfShape` that makes a large tensor out of a few
//! numbers stays a node and is computed at run time.
//!
//! A node that the reference kernels cannot evaluate (no kernel for that dtype, say) is
//! left as it is: folding never changes what the graph computes.

use ferrolite_runtime::TensorView;
use ferrolite_runtime::ir::{ConstData, DType, Dim, Graph, Op};
use ferrolite_runtime::ops::{self, Fact};
use ferrolite_runtime::tensor::checked_numel;

use crate::Result;

/// Outputs up to this many bytes are always folded.
pub const SMALL_BYTES: usize = 64 * 1024;

/// Larger outputs are folded only up to this multiple of the inputs' total size (4 covers
/// dequantizing f16 and casting 8-bit weights to f32).
pub const MAX_GROWTH: usize = 4;

/// Folds every node whose inputs are all known. Returns whether the graph changed.
pub fn fold_constants(g: &mut Graph) -> Result<bool> {
    let mut changed = false;
    let mut keep = Vec::with_capacity(g.nodes.len());
    for id in 0..g.nodes.len() {
        let folded = match &g.nodes[id].op {
            Op::Shape { start, end } => fold_shape(g, id, *start, *end),
            _ => fold_node(g, id),
        };
        changed |= folded;
        keep.push(!folded);
    }
    if changed {
        let mut flags = keep.into_iter();
        g.nodes.retain(|_| flags.next().unwrap_or(true));
    }
    Ok(changed)
}

/// `Shape` of a tensor whose shape is fully known becomes an i64 constant.
fn fold_shape(g: &mut Graph, id: usize, start: i64, end: Option<i64>) -> bool {
    let node = &g.nodes[id];
    let (Some(input), &[output]) = (node.input(0), &node.outputs[..]) else { return false };
    let Some(shape) = g.tensors.get(input).and_then(|t| t.fixed_shape()) else { return false };
    // ONNX: negative bounds count from the end; both are clamped to [0, rank].
    let rank = shape.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let (lo, hi) = (clamp(start), clamp(end.unwrap_or(rank)));
    let values: Vec<i64> = shape.get(lo..hi.max(lo)).unwrap_or(&[]).iter().map(|&d| d as i64).collect();
    let Some(info) = g.tensors.get_mut(output) else { return false };
    info.dtype = DType::I64;
    info.shape = Some(vec![Dim::Fixed(values.len())]);
    info.data = Some(ConstData::from_i64(&values));
    true
}

/// Evaluates node `id` if all its inputs are constants and its outputs pass the size guard;
/// on success its outputs become constants and `true` is returned.
fn fold_node(g: &mut Graph, id: usize) -> bool {
    let node = &g.nodes[id];
    if node.inputs.iter().flatten().next().is_none() || node.outputs.is_empty() {
        return false;
    }
    // Shapes and bytes of every present input; any non-constant input stops folding.
    let mut shapes = Vec::with_capacity(node.inputs.len());
    for input in &node.inputs {
        match input {
            None => shapes.push(None),
            Some(t) => {
                let Some(info) = g.tensors.get(*t) else { return false };
                let (Some(_), Some(shape)) = (&info.data, info.fixed_shape()) else { return false };
                shapes.push(Some(shape));
            }
        }
    }
    let mut views = Vec::with_capacity(shapes.len());
    let mut in_bytes = 0usize;
    for (input, shape) in node.inputs.iter().zip(&shapes) {
        match (input, shape) {
            (Some(t), Some(shape)) => {
                let info = &g.tensors[*t];
                let Some(data) = &info.data else { return false };
                let Ok(view) = TensorView::new(info.dtype, shape, data.bytes()) else { return false };
                in_bytes = in_bytes.saturating_add(view.bytes().len());
                views.push(Some(view));
            }
            _ => views.push(None),
        }
    }
    // Size guard, from the output shapes inference predicts (before computing anything).
    let facts: Vec<Option<Fact<'_>>> =
        views.iter().map(|v| v.map(|v| Fact { dtype: v.dtype(), shape: None, value: Some(v) })).collect();
    let dims: Vec<Option<Vec<Dim>>> =
        views.iter().map(|v| v.map(|v| v.shape().iter().map(|&d| Dim::Fixed(d)).collect())).collect();
    let facts: Vec<Option<Fact<'_>>> =
        facts.iter().zip(&dims).map(|(f, d)| f.map(|f| Fact { shape: d.as_deref(), ..f })).collect();
    let Ok(out_facts) = ops::infer(&node.op, &facts, node.outputs.len()) else { return false };
    let mut out_bytes = 0usize;
    for f in &out_facts {
        let Some(shape) = f.shape.as_ref().and_then(|s| s.iter().map(Dim::fixed).collect::<Option<Vec<usize>>>())
        else {
            return false;
        };
        let Some(bytes) = checked_numel(&shape).and_then(|n| n.checked_mul(f.dtype.size())) else { return false };
        out_bytes = out_bytes.saturating_add(bytes);
    }
    if out_bytes > SMALL_BYTES && out_bytes > in_bytes.saturating_mul(MAX_GROWTH) {
        return false;
    }
    let Ok(results) = ops::eval(&node.op, &views, node.outputs.len()) else { return false };
    if results.len() != node.outputs.len() {
        return false;
    }
    let outputs = node.outputs.clone();
    if outputs.iter().any(|&t| t >= g.tensors.len()) {
        return false;
    }
    for (t, value) in outputs.into_iter().zip(results) {
        let info = &mut g.tensors[t];
        info.dtype = value.dtype();
        info.shape = Some(value.shape().iter().map(|&d| Dim::Fixed(d)).collect());
        info.data = Some(ConstData::from_bytes(value.bytes()));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::*;
    use ferrolite_runtime::ir::{Binary, TensorInfo, Unary};

    #[test]
    fn shape_chains_fold_to_a_constant_reshape() {
        // y = Reshape(x, Concat(Gather(Shape(x), [0]), [-1])): x [2, 3, 4] -> [2, 12].
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[2, 3, 4]);
        let x2 = unary(&mut g, Op::Unary(Unary::Neg), x);
        let s = unary(&mut g, Op::Shape { start: 0, end: None }, x2);
        let idx = g.add_const_i64("idx", &[1], &[0]);
        let n = node(&mut g, Op::Gather { axis: 0 }, &[s, idx]);
        let minus_one = g.add_const_i64("m1", &[1], &[-1]);
        let target = node(&mut g, Op::Concat { axis: 0 }, &[n, minus_one]);
        let y = node(&mut g, Op::Reshape { allow_zero: false }, &[x2, target]);
        // Shape with bounds: the last two dims.
        let tail = unary(&mut g, Op::Shape { start: -2, end: None }, x);
        g.outputs = vec![y, tail];
        check_rewrite(
            &g,
            |g| {
                assert!(fold_constants(g).unwrap());
                crate::passes::dce::remove_dead_nodes(g);
            },
            |g| {
                assert_eq!(g.nodes.len(), 2, "{:#?}", g.nodes);
                let reshape = g.nodes.iter().find(|n| matches!(n.op, Op::Reshape { .. })).unwrap();
                let target = reshape.input(1).unwrap();
                assert_eq!(const_tensor(g, target).unwrap().as_slice::<i64>().unwrap(), &[2, -1]);
                // The Shape output is a constant graph output now.
                let tail = const_tensor(g, g.outputs[1]).unwrap();
                assert_eq!(tail.as_slice::<i64>().unwrap(), &[3, 4]);
            },
        );
    }

    #[test]
    fn f16_weights_are_dequantized() {
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[2, 3]);
        let values = [0.5f32, -1.25, 3.0];
        let halves: Vec<half::f16> = values.iter().map(|&v| half::f16::from_f32(v)).collect();
        let w16 = g.add_const("w16", DType::F16, &[3], ConstData::from_bytes(bytemuck::cast_slice(&halves)));
        let w = unary(&mut g, Op::Dequantize, w16);
        let y = node(&mut g, Op::Binary(Binary::Mul), &[x, w]);
        g.outputs = vec![y];
        check_rewrite(
            &g,
            |g| assert!(fold_constants(g).unwrap()),
            |g| {
                assert_eq!(count(g, "Dequantize"), 0);
                let w = const_tensor(g, g.nodes[0].input(1).unwrap()).unwrap();
                assert_eq!(w.dtype(), DType::F32);
                assert_eq!(w.as_slice::<f32>().unwrap(), &values);
            },
        );
    }

    #[test]
    fn size_guard_keeps_large_expansions() {
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[300, 300]);
        let shape = g.add_const_i64("shape", &[2], &[300, 300]);
        // 360 KB out of 16 bytes: stays a node.
        let big = unary(&mut g, Op::ConstantOfShape { dtype: DType::F32, value: 2.0 }, shape);
        // 16 bytes out of 16: folded.
        let small_shape = g.add_const_i64("small_shape", &[2], &[2, 2]);
        let small = unary(&mut g, Op::ConstantOfShape { dtype: DType::F32, value: 1.5 }, small_shape);
        let y = node(&mut g, Op::Binary(Binary::Mul), &[x, big]);
        g.outputs = vec![y, small];
        check_rewrite(
            &g,
            |g| assert!(fold_constants(g).unwrap()),
            |g| {
                assert_eq!(count(g, "ConstantOfShape"), 1);
                assert!(g.tensors[g.outputs[1]].is_const());
            },
        );
    }

    #[test]
    fn shapes_that_are_not_fully_known_stay() {
        let mut g = Graph::default();
        let x = g.add_tensor(TensorInfo {
            name: "x".into(),
            dtype: DType::F32,
            shape: Some(vec![Dim::Sym("n".into()), Dim::Fixed(3)]),
            data: None,
        });
        g.inputs.push(x);
        let s = unary(&mut g, Op::Shape { start: 0, end: None }, x);
        g.outputs = vec![s];
        crate::passes::infer_shapes(&mut g).unwrap();
        assert!(!fold_constants(&mut g).unwrap());
        assert_eq!(g.nodes.len(), 1);
    }
}
