//! Batch-norm folding.
//!
//! An inference [`Op::BatchNorm`] is a per-channel affine map
//! `y = (x - mean) * gamma / sqrt(var + eps) + beta`. When `x` is the output of a
//! [`Op::Conv2d`], [`Op::ConvTranspose2d`] or [`Op::Gemm`] with no fused activation, that
//! nothing else reads, and the batch norm normalizes the layer's channel axis (the last), the
//! map is folded into the layer: with `s = gamma / sqrt(var + eps)`,
//! `w' = w * s` per output channel and `b' = (b - mean) * s + beta`.
//!
//! Batch norms after a layer whose output is shared, on paths with no such layer, over
//! another axis, or with non-constant parameters stay as they are (the runtime has a
//! batch-norm kernel).

use ferrolite_runtime::ir::{Graph, Op};
use ferrolite_runtime::ops::util::normalize_axis;

use super::affine::{absorb_reader, apply_channel_affine, channel_layer, sole_reader};
use super::rewrite::{const_f32, producer_of};

/// Folds every foldable batch norm into its producer. Returns whether the graph changed.
pub fn fold_batch_norms(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut id = 0;
    while id < g.nodes.len() {
        if fold_one(g, id) {
            changed = true;
            // The batch norm at `id` is gone; the next node moved into its place.
            continue;
        }
        id += 1;
    }
    changed
}

fn fold_one(g: &mut Graph, bn: usize) -> bool {
    let node = &g.nodes[bn];
    let Op::BatchNorm(attrs) = &node.op else { return false };
    let epsilon = attrs.epsilon;
    let Some(x) = node.input(0) else { return false };
    let params: Option<Vec<Vec<f32>>> = (1..5).map(|i| node.input(i).and_then(|t| const_f32(g, t))).collect();
    let Some(params) = params else { return false };
    let Some(producer) = producer_of(g, x) else { return false };
    let Some(layer) = channel_layer(g, producer) else { return false };
    if sole_reader(g, x) != Some(bn) || layer.output != x {
        return false;
    }
    let Ok(axis) = normalize_axis(attrs.axis, layer.out_rank) else { return false };
    if axis + 1 != layer.out_rank || params.iter().any(|p| p.len() != layer.channels) {
        return false;
    }
    let (gamma, beta, mean, var) = (&params[0], &params[1], &params[2], &params[3]);
    let mut scale = Vec::with_capacity(layer.channels);
    let mut shift = Vec::with_capacity(layer.channels);
    for c in 0..layer.channels {
        // In f64 so the folded constants are the correctly rounded f32 of the exact values.
        let s = gamma[c] as f64 / (var[c] as f64 + epsilon as f64).sqrt();
        let t = beta[c] as f64 - mean[c] as f64 * s;
        if !s.is_finite() || !t.is_finite() {
            return false;
        }
        scale.push(s as f32);
        shift.push(t as f32);
    }
    if !apply_channel_affine(g, layer, Some(&scale), Some(&shift)) {
        return false;
    }
    absorb_reader(g, layer, bn);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::*;
    use ferrolite_runtime::ir::{Activation, BatchNorm, Conv2d, ConvTranspose2d, Gemm, Padding, Unary};

    fn conv(groups: usize, kernel: usize) -> Op {
        Op::Conv2d(Conv2d {
            kernel: [kernel, kernel],
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::Explicit { top: 1, left: 0, bottom: 1, right: 1 },
            groups,
            activation: Activation::None,
        })
    }

    fn bn_params(g: &mut ferrolite_runtime::ir::Graph, r: &mut rand::rngs::StdRng, c: usize) -> Vec<usize> {
        vec![
            random_const(g, r, "gamma", &[c], 0.5, 1.5),
            random_const(g, r, "beta", &[c], -0.5, 0.5),
            random_const(g, r, "mean", &[c], -0.5, 0.5),
            random_const(g, r, "var", &[c], 0.1, 2.0),
        ]
    }

    fn bn(x: usize, p: &[usize], axis: i64) -> (Op, Vec<usize>) {
        let mut inputs = vec![x];
        inputs.extend_from_slice(p);
        (Op::BatchNorm(BatchNorm { epsilon: 1e-3, axis }), inputs)
    }

    #[test]
    fn folds_into_conv_with_and_without_bias() {
        for (groups, with_bias) in [(1, true), (1, false), (4, false), (2, true)] {
            let mut r = rng(7);
            let mut g = Graph::default();
            let x = input(&mut g, "x", &[1, 5, 6, 4]);
            let w = random_const(&mut g, &mut r, "w", &[8, 3, 3, 4 / groups], -1.0, 1.0);
            let mut inputs = vec![x, w];
            if with_bias {
                inputs.push(random_const(&mut g, &mut r, "b", &[8], -1.0, 1.0));
            }
            let y = node(&mut g, conv(groups, 3), &inputs);
            let p = bn_params(&mut g, &mut r, 8);
            let (op, ins) = bn(y, &p, -1);
            let z = node(&mut g, op, &ins);
            g.outputs = vec![z];
            let out_name = g.tensors[z].name.clone();
            check_rewrite(
                &g,
                |g| {
                    assert!(fold_batch_norms(g));
                    crate::passes::dce::remove_dead_nodes(g);
                },
                |g| {
                    assert_eq!(count(g, "BatchNorm"), 0);
                    assert_eq!(g.nodes.len(), 1);
                    assert_eq!(g.tensors[g.outputs[0]].name, out_name);
                },
            );
        }
    }

    #[test]
    fn folds_into_conv_transpose_and_gemm() {
        for groups in [1, 2] {
            let mut r = rng(3);
            let mut g = Graph::default();
            let x = input(&mut g, "x", &[1, 3, 4, 4]);
            let w = random_const(&mut g, &mut r, "w", &[4, 2, 2, 6 / groups], -1.0, 1.0);
            let op = Op::ConvTranspose2d(ConvTranspose2d {
                kernel: [2, 2],
                stride: [2, 2],
                dilation: [1, 1],
                padding: Padding::VALID,
                output_padding: [0, 0],
                output_size: None,
                groups,
                activation: Activation::None,
            });
            let y = node(&mut g, op, &[x, w]);
            let p = bn_params(&mut g, &mut r, 6);
            let (op, ins) = bn(y, &p, 3);
            g.outputs = vec![node(&mut g, op, &ins)];
            check_rewrite(&g, |g| assert!(fold_batch_norms(g)), |g| assert_eq!(count(g, "BatchNorm"), 0));
        }
        for (trans_b, bias_shape) in [(false, vec![5]), (true, vec![3, 5]), (true, vec![]), (false, vec![1, 1])] {
            let mut r = rng(4);
            let mut g = Graph::default();
            let a = input(&mut g, "a", &[3, 7]);
            let b = random_const(&mut g, &mut r, "b", if trans_b { &[5, 7] } else { &[7, 5] }, -1.0, 1.0);
            let c = random_const(&mut g, &mut r, "c", &bias_shape, -1.0, 1.0);
            let gemm = Op::Gemm(Gemm { alpha: 0.5, beta: 2.0, trans_a: false, trans_b, activation: Activation::None });
            let y = node(&mut g, gemm, &[a, b, c]);
            let p = bn_params(&mut g, &mut r, 5);
            let (op, ins) = bn(y, &p, 1);
            g.outputs = vec![node(&mut g, op, &ins)];
            check_rewrite(&g, |g| assert!(fold_batch_norms(g)), |g| assert_eq!(count(g, "BatchNorm"), 0));
        }
    }

    #[test]
    fn keeps_batch_norms_it_cannot_fold() {
        let mut r = rng(5);
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[1, 4, 4, 3]);
        let w = random_const(&mut g, &mut r, "w", &[3, 1, 1, 3], -1.0, 1.0);
        let y = node(&mut g, conv(1, 1), &[x, w]);
        // Shared conv output: the batch norm stays.
        let p = bn_params(&mut g, &mut r, 3);
        let (op, ins) = bn(y, &p, 3);
        let z = node(&mut g, op, &ins);
        let other = unary(&mut g, Op::Unary(Unary::Neg), y);
        // Batch norm with no conv before it.
        let (op, ins) = bn(x, &p, 3);
        let plain = node(&mut g, op, &ins);
        // Batch norm over a non-channel axis of a conv output.
        // (The conv pads H by 1 + 1: its output is [1, 6, 5, 3].)
        let y2 = node(&mut g, conv(1, 1), &[x, w]);
        let p6 = bn_params(&mut g, &mut r, 6);
        let (op, ins) = bn(y2, &p6, 1);
        let wrong_axis = node(&mut g, op, &ins);
        g.outputs = vec![z, other, plain, wrong_axis];
        check_rewrite(&g, |g| assert!(!fold_batch_norms(g)), |g| assert_eq!(count(g, "BatchNorm"), 3));
    }
}
