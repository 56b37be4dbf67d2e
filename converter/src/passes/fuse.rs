//! Bias, scale and activation fusion into [`Op::Conv2d`], [`Op::ConvTranspose2d`] and
//! [`Op::Gemm`].
//!
//! When the only reader of such a layer's output is
//! - an `Add` (either operand order) or `Sub` (layer output first) of a per-output-channel
//!   f32 constant (shape `[C]`, `[1, 1, 1, C]`, a scalar, ...): the constant is added to the
//!   layer's bias (created if absent);
//! - a `Mul` (either order) or `Div` (layer output first, no zero divisor) by such a
//!   constant: the weights and bias are scaled per output channel (how exporters write an
//!   unfused batch norm);
//! - an activation ([`Unary::Act`]: Relu, Relu6, Clip, LeakyRelu, Sigmoid, HardSigmoid,
//!   HardSwish, Tanh):
//!   it becomes the layer's fused `activation`;
//!
//! the reader is folded into the layer, provided the layer has no fused activation yet (an
//! activation is applied last, so nothing can follow it) and its output is not a graph
//! output. The layer then produces the reader's output tensor. Repeats until nothing
//! changes, so `Conv -> Mul -> Add -> Clip` becomes one `Conv2d` with a `Clip` epilogue.

use ferrolite_runtime::ir::{Activation, Binary, Graph, Op, Unary};

use super::affine::{ChannelLayer, absorb_reader, apply_channel_affine, channel_layer, per_channel_const, sole_reader};

/// Fuses what can be fused. Returns whether the graph changed.
pub fn fuse_bias_activation(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut id = 0;
    while id < g.nodes.len() {
        if let Some(layer) = channel_layer(g, id)
            && fuse_reader(g, layer)
        {
            changed = true;
            // Try the same layer again: the reader's reader may fuse too.
            continue;
        }
        id += 1;
    }
    changed
}

/// Tries to fold the sole reader of `layer`'s output into `layer`.
fn fuse_reader(g: &mut Graph, layer: ChannelLayer) -> bool {
    let Some(reader) = sole_reader(g, layer.output) else { return false };
    let node = &g.nodes[reader];
    if node.outputs.len() != 1 {
        return false;
    }
    let y = layer.output;
    let constant_operand =
        |other: Option<usize>| other.and_then(|t| per_channel_const(g, t, layer.channels, layer.out_rank));
    let (a, b) = (node.input(0), node.input(1));
    let other = if a == Some(y) { b } else { a };
    let done = match node.op {
        Op::Unary(Unary::Act(act)) if act != Activation::None => {
            match &mut g.nodes[layer.node].op {
                Op::Conv2d(c) => c.activation = act,
                Op::ConvTranspose2d(c) => c.activation = act,
                Op::Gemm(c) => c.activation = act,
                _ => return false,
            }
            true
        }
        Op::Binary(Binary::Add) if node.inputs.len() == 2 => match constant_operand(other) {
            Some(shift) => apply_channel_affine(g, layer, None, Some(&shift)),
            None => false,
        },
        Op::Binary(Binary::Sub) if node.inputs.len() == 2 && a == Some(y) => match constant_operand(other) {
            Some(c) => apply_channel_affine(g, layer, None, Some(&c.iter().map(|v| -v).collect::<Vec<_>>())),
            None => false,
        },
        Op::Binary(Binary::Mul) if node.inputs.len() == 2 => match constant_operand(other) {
            Some(scale) => apply_channel_affine(g, layer, Some(&scale), None),
            None => false,
        },
        Op::Binary(Binary::Div) if node.inputs.len() == 2 && a == Some(y) => match constant_operand(other) {
            Some(c) if c.iter().all(|&v| v != 0.0) => {
                apply_channel_affine(g, layer, Some(&c.iter().map(|v| 1.0 / v).collect::<Vec<_>>()), None)
            }
            _ => false,
        },
        _ => false,
    };
    if done {
        absorb_reader(g, layer, reader);
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::*;
    use ferrolite_runtime::ir::{Conv2d, ConvTranspose2d, Gemm, Padding};

    fn conv_op(groups: usize) -> Op {
        Op::Conv2d(Conv2d {
            kernel: [3, 3],
            stride: [2, 1],
            dilation: [1, 1],
            padding: Padding::SameUpper,
            groups,
            activation: Activation::None,
        })
    }

    #[test]
    fn unfused_batch_norm_and_clip_fuse_into_conv() {
        // Conv (no bias) -> Mul [1,1,1,C] -> Add [C] -> Clip: what tf2onnx emits for
        // depthwise conv + batch norm + relu6.
        for groups in [1, 8] {
            let mut r = rng(11);
            let mut g = Graph::default();
            let x = input(&mut g, "x", &[1, 7, 6, 8]);
            let w = random_const(&mut g, &mut r, "w", &[8, 3, 3, 8 / groups], -1.0, 1.0);
            let y = node(&mut g, conv_op(groups), &[x, w]);
            let s = random_const(&mut g, &mut r, "s", &[1, 1, 1, 8], -2.0, 2.0);
            let y = node(&mut g, Op::Binary(Binary::Mul), &[s, y]);
            let t = random_const(&mut g, &mut r, "t", &[8], -1.0, 1.0);
            let y = node(&mut g, Op::Binary(Binary::Add), &[y, t]);
            let y = unary(&mut g, Op::Unary(Unary::Act(Activation::Clip { min: 0.0, max: 1.5 })), y);
            g.outputs = vec![y];
            check_rewrite(
                &g,
                |g| assert!(fuse_bias_activation(g)),
                |g| {
                    assert_eq!(g.nodes.len(), 1);
                    let Op::Conv2d(c) = &g.nodes[0].op else { panic!("{:?}", g.nodes[0].op) };
                    assert_eq!(c.activation, Activation::Clip { min: 0.0, max: 1.5 });
                    assert!(g.nodes[0].input(2).is_some());
                },
            );
        }
    }

    #[test]
    fn bias_sub_div_and_activations_fuse_into_gemm_and_conv_transpose() {
        let mut r = rng(12);
        let mut g = Graph::default();
        let a = input(&mut g, "a", &[4, 6]);
        let b = random_const(&mut g, &mut r, "b", &[6, 5], -1.0, 1.0);
        let gemm =
            Op::Gemm(Gemm { alpha: 1.5, beta: 1.0, trans_a: false, trans_b: false, activation: Activation::None });
        let y = node(&mut g, gemm, &[a, b]);
        let c = random_const(&mut g, &mut r, "c", &[1, 5], 0.5, 1.0);
        let y = node(&mut g, Op::Binary(Binary::Sub), &[y, c]);
        let y = node(&mut g, Op::Binary(Binary::Div), &[y, c]);
        let y = unary(&mut g, Op::Unary(Unary::Act(Activation::LeakyRelu { alpha: 0.1 })), y);

        let x = input(&mut g, "x", &[1, 3, 3, 4]);
        let w = random_const(&mut g, &mut r, "w", &[4, 2, 2, 3], -1.0, 1.0);
        let bias = random_const(&mut g, &mut r, "bias", &[6], -1.0, 1.0);
        let ct = Op::ConvTranspose2d(ConvTranspose2d {
            kernel: [2, 2],
            stride: [2, 2],
            dilation: [1, 1],
            padding: Padding::VALID,
            output_padding: [0, 0],
            output_size: None,
            groups: 2,
            activation: Activation::None,
        });
        let z = node(&mut g, ct, &[x, w, bias]);
        let k = random_const(&mut g, &mut r, "k", &[], 0.5, 1.0);
        let z = node(&mut g, Op::Binary(Binary::Mul), &[z, k]);
        let z = unary(&mut g, Op::Unary(Unary::Act(Activation::HardSwish)), z);
        g.outputs = vec![y, z];
        check_rewrite(
            &g,
            |g| assert!(fuse_bias_activation(g)),
            |g| {
                assert_eq!(g.nodes.len(), 2, "{:?}", g.nodes);
                assert!(matches!(&g.nodes[0].op, Op::Gemm(a) if a.activation == Activation::LeakyRelu { alpha: 0.1 }));
                assert!(matches!(&g.nodes[1].op, Op::ConvTranspose2d(a) if a.activation == Activation::HardSwish));
            },
        );
    }

    #[test]
    fn leaves_what_it_cannot_fuse() {
        let mut r = rng(13);
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[1, 4, 4, 3]);
        let w = random_const(&mut g, &mut r, "w", &[3, 3, 3, 3], -1.0, 1.0);
        // Relu then Add: the Add comes after the activation and must stay.
        let y = node(&mut g, conv_op(1), &[x, w]);
        let y = unary(&mut g, Op::Unary(Unary::Act(Activation::Relu)), y);
        let c = random_const(&mut g, &mut r, "c", &[3], -1.0, 1.0);
        let y = node(&mut g, Op::Binary(Binary::Add), &[y, c]);
        // A non-per-channel constant (varies along W).
        let y2 = node(&mut g, conv_op(1), &[x, w]);
        let m = random_const(&mut g, &mut r, "m", &[1, 1, 4, 1], -1.0, 1.0);
        let y2 = node(&mut g, Op::Binary(Binary::Add), &[y2, m]);
        // Shared conv output.
        let y3 = node(&mut g, conv_op(1), &[x, w]);
        let y4 = unary(&mut g, Op::Unary(Unary::Act(Activation::Sigmoid)), y3);
        // Constant minus conv output.
        let y5 = node(&mut g, conv_op(1), &[x, w]);
        let y5 = node(&mut g, Op::Binary(Binary::Sub), &[c, y5]);
        g.outputs = vec![y, y2, y3, y4, y5];
        check_rewrite(
            &g,
            |g| {
                fuse_bias_activation(g);
            },
            |g| {
                assert_eq!(count(g, "Add"), 2);
                assert_eq!(count(g, "Sigmoid"), 1);
                assert_eq!(count(g, "Sub"), 1);
                assert_eq!(count(g, "Relu"), 0);
            },
        );
    }
}
