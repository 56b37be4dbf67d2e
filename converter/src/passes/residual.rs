//! Skip connections fused into the convolution that feeds them: `Add(conv(x), r)` becomes
//! one [`Op::Conv2d`] with `r` as its residual input (added after the bias, before the
//! activation), so the sum is written once instead of written, read twice and written
//! again. ResNet's blocks end this way (the last 1x1 convolution plus the shortcut), and so
//! do MobileNetV2's inverted residuals (the projection plus the block input).
//!
//! Conditions: the convolution has no fused activation (it would apply before the sum) and
//! no residual yet; its output is read only by the `Add` and is not a graph output; the
//! other operand is a different tensor of exactly the output's shape (no broadcasting) and
//! f32. The fused node takes the `Add`'s place in the node order (where the other operand
//! is known to be computed) and produces the `Add`'s output. A following activation then
//! fuses into it as usual ([`super::fuse_bias_activation`]).

use ferrolite_runtime::ir::{Activation, Binary, DType, Graph, NodeId, Op};

use super::affine::sole_reader;
use super::rewrite::{fixed_shape, is_graph_output, producer_of};

/// Fuses every skip-connection `Add` it can. Returns whether the graph changed.
pub fn fuse_residual_add(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut id = 0;
    while id < g.nodes.len() {
        if fuse_at(g, id) {
            changed = true;
            // The node before `id` was removed: `id - 1` now holds the fused layer.
            id = id.saturating_sub(1);
        }
        id += 1;
    }
    changed
}

/// Fuses the `Add` at `add` into the convolution producing one of its operands.
fn fuse_at(g: &mut Graph, add: NodeId) -> bool {
    let node = &g.nodes[add];
    if node.op != Op::Binary(Binary::Add) || node.inputs.len() != 2 || node.outputs.len() != 1 {
        return false;
    }
    let (Some(a), Some(b)) = (node.input(0), node.input(1)) else { return false };
    if a == b {
        return false;
    }
    for (y, r) in [(a, b), (b, a)] {
        let Some(conv) = producer_of(g, y) else { continue };
        if conv >= add || !fusable_conv(g, conv, y) || sole_reader(g, y) != Some(add) || is_graph_output(g, y) {
            continue;
        }
        let (Some(ys), Some(rs)) = (fixed_shape(g, y), fixed_shape(g, r)) else { continue };
        if ys.len() != 4 || ys != rs || g.tensors[r].dtype != DType::F32 {
            continue;
        }
        let mut fused = g.nodes[conv].clone();
        fused.inputs.resize(3, None);
        fused.inputs.push(Some(r));
        fused.outputs = g.nodes[add].outputs.clone();
        fused.name = g.nodes[add].name.clone();
        g.nodes[add] = fused;
        g.nodes.remove(conv);
        return true;
    }
    false
}

/// Whether node `id` is a convolution producing only `y`, with no fused activation and no
/// residual yet.
fn fusable_conv(g: &Graph, id: NodeId, y: usize) -> bool {
    let node = &g.nodes[id];
    matches!(&node.op, Op::Conv2d(c) if c.activation == Activation::None)
        && node.outputs == [y]
        && node.inputs.len() <= 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fuse_bias_activation;
    use crate::passes::testing::*;
    use ferrolite_runtime::ir::{Conv2d, Padding, Unary};

    fn conv1x1(activation: Activation) -> Op {
        Op::Conv2d(Conv2d {
            kernel: [1, 1],
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::VALID,
            groups: 1,
            activation,
        })
    }

    #[test]
    fn skip_connection_and_relu_fuse_into_the_convolution() {
        // x -> conv(bias) -> Add(shortcut) -> Relu, the shortcut computed after the conv in
        // node order (the fused node must move to the Add's place), either operand order.
        for swapped in [false, true] {
            let mut r = rng(21);
            let mut g = Graph::default();
            let x = input(&mut g, "x", &[1, 5, 4, 8]);
            let w = random_const(&mut g, &mut r, "w", &[6, 1, 1, 8], -1.0, 1.0);
            let bias = random_const(&mut g, &mut r, "b", &[6], -1.0, 1.0);
            let y = node(&mut g, conv1x1(Activation::None), &[x, w, bias]);
            let w2 = random_const(&mut g, &mut r, "w2", &[6, 1, 1, 8], -1.0, 1.0);
            let shortcut = node(&mut g, conv1x1(Activation::None), &[x, w2]);
            let operands = if swapped { [shortcut, y] } else { [y, shortcut] };
            let s = node(&mut g, Op::Binary(Binary::Add), &operands);
            let out = unary(&mut g, Op::Unary(Unary::Act(Activation::Relu)), s);
            g.outputs = vec![out];
            check_rewrite(
                &g,
                |g| {
                    assert!(fuse_residual_add(g));
                    assert!(fuse_bias_activation(g));
                },
                |g| {
                    assert_eq!(g.nodes.len(), 2, "{:?}", g.nodes);
                    let fused = &g.nodes[1];
                    assert!(matches!(&fused.op, Op::Conv2d(c) if c.activation == Activation::Relu), "{:?}", fused.op);
                    assert_eq!(fused.inputs.len(), 4);
                    assert_eq!(fused.input(3), g.nodes[0].outputs.first().copied());
                },
            );
        }
    }

    #[test]
    fn leaves_what_it_cannot_fuse() {
        let mut r = rng(22);
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[1, 4, 4, 6]);
        let w = random_const(&mut g, &mut r, "w", &[6, 1, 1, 6], -1.0, 1.0);
        // Activation already fused: relu(conv) + x is not relu(conv + x).
        let y1 = node(&mut g, conv1x1(Activation::Relu), &[x, w]);
        let s1 = node(&mut g, Op::Binary(Binary::Add), &[y1, x]);
        // The conv output also read elsewhere.
        let y2 = node(&mut g, conv1x1(Activation::None), &[x, w]);
        let s2 = node(&mut g, Op::Binary(Binary::Add), &[y2, x]);
        let t2 = unary(&mut g, Op::Unary(Unary::Act(Activation::Sigmoid)), y2);
        // A broadcast operand ([C]) is a bias, not a residual.
        let y3 = node(&mut g, conv1x1(Activation::None), &[x, w]);
        let c = random_const(&mut g, &mut r, "c", &[1, 1, 4, 6], -1.0, 1.0);
        let s3 = node(&mut g, Op::Binary(Binary::Add), &[y3, c]);
        // Both operands the same tensor.
        let y4 = node(&mut g, conv1x1(Activation::None), &[x, w]);
        let s4 = node(&mut g, Op::Binary(Binary::Add), &[y4, y4]);
        g.outputs = vec![s1, s2, t2, s3, s4];
        check_rewrite(&g, |g| assert!(!fuse_residual_add(g)), |g| assert_eq!(g.nodes.len(), 9));
    }
}
