//! Per-channel `Mul` / `Add` chains that no layer can absorb, as one 1x1 depthwise
//! convolution: an unfused batch norm after a skip connection (ResNetV2's pre-activation
//! `Mul`, `Add`, `Relu` on the block input) becomes `Conv2d(groups = C, 1x1)` with the scale
//! as weights, and [`super::fuse_bias_activation`] then folds the `Add` into its bias and the
//! activation into its epilogue: one pass over the tensor instead of three.
//!
//! Rewritten: `Mul(x, s)` or `Add(x, t)` (either operand order) of a 4-D f32 tensor `x`
//! (NHWC) and a per-channel f32 constant (`[C]`, `[1, 1, 1, C]`, a scalar), whose `x` is not
//! produced by a layer that could take the constant into its weights (that is the fusion
//! pass's job, which runs first). `Add` alone gets unit weights and the constant as bias.

use ferrolite_runtime::ir::{Activation, Binary, Conv2d, DType, Graph, NodeId, Op, Padding};

use super::affine::{channel_layer, per_channel_const, sole_reader};
use super::rewrite::{add_f32_const, fixed_shape, producer_of};

/// Rewrites every standalone per-channel `Mul` / `Add`. Returns whether the graph changed.
pub fn channel_affine_to_conv(g: &mut Graph) -> bool {
    let mut changed = false;
    for id in 0..g.nodes.len() {
        changed |= rewrite(g, id);
    }
    changed
}

fn rewrite(g: &mut Graph, id: NodeId) -> bool {
    let node = &g.nodes[id];
    let mul = match node.op {
        Op::Binary(Binary::Mul) => true,
        Op::Binary(Binary::Add) => false,
        _ => return false,
    };
    if node.inputs.len() != 2 || node.outputs.len() != 1 {
        return false;
    }
    let (Some(a), Some(b)) = (node.input(0), node.input(1)) else { return false };
    for (x, k) in [(a, b), (b, a)] {
        let Some(shape) = fixed_shape(g, x) else { continue };
        if shape.len() != 4 || g.tensors[x].dtype != DType::F32 || g.tensors[x].data.is_some() {
            continue;
        }
        let c = shape[3];
        let Some(values) = per_channel_const(g, k, c, 4) else { continue };
        // A layer that can take the constant into its weights is the fusion pass's case.
        // (Not one with a fused residual: its weights cannot take a scale.)
        let absorbable = |p: NodeId| channel_layer(g, p).is_some() && g.nodes[p].input(3).is_none();
        if producer_of(g, x).is_some_and(|p| absorbable(p) && sole_reader(g, x) == Some(id)) {
            continue;
        }
        let name = g.nodes[id].name.clone();
        let (weights, bias) = if mul { (values, None) } else { (vec![1.0; c], Some(values)) };
        let w = add_f32_const(g, &format!("{name}/scale"), &[c, 1, 1, 1], &weights);
        let bias = bias.map(|t| add_f32_const(g, &format!("{name}/shift"), &[c], &t));
        let node = &mut g.nodes[id];
        node.op = Op::Conv2d(Conv2d {
            kernel: [1, 1],
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::VALID,
            groups: c,
            activation: Activation::None,
        });
        node.inputs = vec![Some(x), Some(w), bias];
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fuse_bias_activation;
    use crate::passes::testing::*;
    use ferrolite_runtime::ir::Unary;

    #[test]
    fn pre_activation_batch_norm_becomes_one_depthwise_layer() {
        // Add(skip) -> Mul [C] -> Add [1,1,1,C] -> Relu, as tf2onnx writes ResNetV2's
        // pre-activation; the constant on either side.
        for swapped in [false, true] {
            let mut r = rng(31);
            let mut g = Graph::default();
            let x = input(&mut g, "x", &[1, 5, 6, 8]);
            let z = input(&mut g, "z", &[1, 5, 6, 8]);
            let s0 = node(&mut g, Op::Binary(Binary::Add), &[x, z]);
            let s = random_const(&mut g, &mut r, "s", &[8], -2.0, 2.0);
            let y = node(&mut g, Op::Binary(Binary::Mul), &if swapped { [s, s0] } else { [s0, s] });
            let t = random_const(&mut g, &mut r, "t", &[1, 1, 1, 8], -1.0, 1.0);
            let y = node(&mut g, Op::Binary(Binary::Add), &[y, t]);
            let y = unary(&mut g, Op::Unary(Unary::Act(Activation::Relu)), y);
            g.outputs = vec![y, s0];
            check_rewrite(
                &g,
                |g| {
                    assert!(channel_affine_to_conv(g));
                    assert!(fuse_bias_activation(g));
                },
                |g| {
                    assert_eq!(g.nodes.len(), 2, "{:?}", g.nodes);
                    let Op::Conv2d(c) = &g.nodes[1].op else { panic!("{:?}", g.nodes[1].op) };
                    assert_eq!((c.groups, c.kernel, c.activation), (8, [1, 1], Activation::Relu));
                    assert!(g.nodes[1].input(2).is_some());
                },
            );
        }
    }

    #[test]
    fn leaves_what_it_cannot_rewrite() {
        let mut r = rng(32);
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[1, 4, 4, 3]);
        let v = input(&mut g, "v", &[2, 3]);
        // Not per channel: varies along W.
        let m = random_const(&mut g, &mut r, "m", &[1, 1, 4, 1], -1.0, 1.0);
        let y1 = node(&mut g, Op::Binary(Binary::Mul), &[x, m]);
        // Not 4-D.
        let c = random_const(&mut g, &mut r, "c", &[3], -1.0, 1.0);
        let y2 = node(&mut g, Op::Binary(Binary::Add), &[v, c]);
        // Two variable operands.
        let y3 = node(&mut g, Op::Binary(Binary::Mul), &[x, x]);
        // Sub is left to the fusion pass.
        let y4 = node(&mut g, Op::Binary(Binary::Sub), &[x, c]);
        g.outputs = vec![y1, y2, y3, y4];
        check_rewrite(&g, |g| assert!(!channel_affine_to_conv(g)), |g| assert_eq!(g.nodes.len(), 4));
    }
}
