//! Zero-padding fusion into [`Op::Conv2d`].
//!
//! Exporters write "same" padding of strided convolutions as an explicit `Pad` with zeros
//! followed by a `VALID` convolution (tf2onnx for Keras `ZeroPadding2D` + `Conv2D`, as in
//! MobileNet). A convolution pads with zeros itself, so a constant-zero [`Op::Pad`] of only
//! the H and W axes of an NHWC tensor is added to the reading convolution's explicit padding
//! and the convolution reads the unpadded tensor. The Pad stays for any other reader and is
//! removed by dead-node removal otherwise.
//!
//! Not fused: other fill values or modes, padding of N or C, negative pads (crops),
//! convolutions with `SameUpper`/`SameLower` padding, and pooling (max pooling ignores
//! padding rather than reading zeros).

use ferrolite_runtime::ir::{Graph, Op, PadMode, Padding};

/// Folds zero Pads into the convolutions that read them. Returns whether the graph changed.
pub fn fuse_pad_into_conv(g: &mut Graph) -> bool {
    let producers = g.producers();
    let mut changed = false;
    for id in 0..g.nodes.len() {
        let Op::Conv2d(conv) = &g.nodes[id].op else { continue };
        let Padding::Explicit { top, left, bottom, right } = conv.padding else { continue };
        let Some(x) = g.nodes[id].input(0) else { continue };
        let Some(pad_id) = producers.get(x).copied().flatten() else { continue };
        let pad_node = &g.nodes[pad_id];
        let Op::Pad(pad) = &pad_node.op else { continue };
        let Some(source) = pad_node.input(0) else { continue };
        if pad.mode != PadMode::Constant || pad.value != 0.0 || pad_node.inputs.iter().flatten().count() != 1 {
            continue;
        }
        // [n, h, w, c] begins then ends; only h and w may be padded, by non-negative amounts.
        let &[n0, h0, w0, c0, n1, h1, w1, c1] = &pad.pads[..] else { continue };
        if [n0, c0, n1, c1] != [0; 4] || [h0, w0, h1, w1].iter().any(|&p| p < 0) {
            continue;
        }
        let amounts = [h0, w0, h1, w1].map(|p| usize::try_from(p).ok());
        let [Some(h0), Some(w0), Some(h1), Some(w1)] = amounts else { continue };
        let padding = Padding::Explicit {
            top: top.saturating_add(h0),
            left: left.saturating_add(w0),
            bottom: bottom.saturating_add(h1),
            right: right.saturating_add(w1),
        };
        let node = &mut g.nodes[id];
        if let Op::Conv2d(conv) = &mut node.op {
            conv.padding = padding;
        }
        node.inputs[0] = Some(source);
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::*;
    use ferrolite_runtime::ir::{Activation, Conv2d, Pad, Unary};

    fn conv(padding: Padding, groups: usize) -> Op {
        Op::Conv2d(Conv2d {
            kernel: [3, 3],
            stride: [2, 2],
            dilation: [1, 1],
            padding,
            groups,
            activation: Activation::Relu6,
        })
    }

    fn pad(pads: [i64; 8], mode: PadMode, value: f32) -> Op {
        Op::Pad(Pad { mode, pads: pads.to_vec(), value })
    }

    #[test]
    fn zero_spatial_pads_fold_into_the_conv() {
        let mut r = rng(31);
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[1, 7, 8, 4]);
        let p = unary(&mut g, pad([0, 0, 1, 0, 0, 1, 1, 0], PadMode::Constant, 0.0), x);
        let w = random_const(&mut g, &mut r, "w", &[4, 3, 3, 1], -1.0, 1.0);
        let y = node(&mut g, conv(Padding::VALID, 4), &[p, w]);
        // A second conv with padding of its own, and another reader of the padded tensor.
        let w2 = random_const(&mut g, &mut r, "w2", &[2, 3, 3, 4], -1.0, 1.0);
        let y2 = node(&mut g, conv(Padding::Explicit { top: 1, left: 0, bottom: 2, right: 1 }, 1), &[p, w2]);
        let other = unary(&mut g, Op::Unary(Unary::Neg), p);
        g.outputs = vec![y, y2, other];
        check_rewrite(
            &g,
            |g| assert!(fuse_pad_into_conv(g)),
            |g| {
                assert_eq!(count(g, "Pad"), 1, "the Neg still reads the padded tensor");
                let paddings: Vec<Padding> = g
                    .nodes
                    .iter()
                    .filter_map(|n| match &n.op {
                        Op::Conv2d(c) => Some(c.padding),
                        _ => None,
                    })
                    .collect();
                assert_eq!(
                    paddings,
                    [
                        Padding::Explicit { top: 0, left: 1, bottom: 1, right: 1 },
                        Padding::Explicit { top: 1, left: 1, bottom: 3, right: 2 },
                    ]
                );
            },
        );
    }

    #[test]
    fn other_pads_stay() {
        let mut r = rng(32);
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[1, 6, 6, 2]);
        let w = random_const(&mut g, &mut r, "w", &[2, 3, 3, 2], -1.0, 1.0);
        let mut outputs = Vec::new();
        for (pads, mode, value) in [
            ([0, 1, 1, 0, 0, 1, 1, 0], PadMode::Constant, 0.5),
            ([0, 1, 1, 0, 0, 1, 1, 0], PadMode::Reflect, 0.0),
            ([0, 0, 0, 1, 0, 0, 0, 1], PadMode::Constant, 0.0),
            ([0, -1, 1, 0, 0, 1, 1, 0], PadMode::Constant, 0.0),
        ] {
            let p = unary(&mut g, pad(pads, mode, value), x);
            let wc = if pads[3] == 1 { random_const(&mut g, &mut r, "w4", &[2, 3, 3, 4], -1.0, 1.0) } else { w };
            outputs.push(node(&mut g, conv(Padding::VALID, 1), &[p, wc]));
        }
        let p = unary(&mut g, pad([0, 1, 1, 0, 0, 1, 1, 0], PadMode::Constant, 0.0), x);
        outputs.push(node(&mut g, conv(Padding::SameUpper, 1), &[p, w]));
        g.outputs = outputs;
        check_rewrite(&g, |g| assert!(!fuse_pad_into_conv(g)), |g| assert_eq!(count(g, "Pad"), 5));
    }
}
