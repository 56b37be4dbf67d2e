//! `MatMul` with constant weights to [`Op::Gemm`].
//!
//! A [`Op::MatMul`] of a 2-D f32 activation `A [M, K]` by a constant 2-D f32 matrix
//! `B [K, N]` is a dense layer: it becomes `Gemm(A, B)` (alpha = beta = 1, no transposes),
//! which the bias and activation fusion then extends with a following `Add` of an `[N]`
//! constant (what tf2onnx emits for Keras `Dense`) and an activation, and whose kernels can
//! pre-pack `B` once at load. MatMuls with batch dimensions, 1-D operands or a computed `B`
//! stay as they are.

use ferrolite_runtime::ir::{Activation, DType, Gemm, Graph, Op};

use super::rewrite::{dims, fixed_shape, is_f32_const};

/// Rewrites every eligible MatMul as a Gemm. Returns whether the graph changed.
pub fn matmul_to_gemm(g: &mut Graph) -> bool {
    let mut changed = false;
    for id in 0..g.nodes.len() {
        let node = &g.nodes[id];
        if node.op != Op::MatMul || node.inputs.len() != 2 {
            continue;
        }
        let (Some(a), Some(b)) = (node.input(0), node.input(1)) else { continue };
        let a_is_matrix = dims(g, a).is_some_and(|d| d.len() == 2) && g.tensors[a].dtype == DType::F32;
        let b_is_matrix = fixed_shape(g, b).is_some_and(|s| s.len() == 2) && is_f32_const(g, b);
        if a_is_matrix && b_is_matrix {
            g.nodes[id].op =
                Op::Gemm(Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: false, activation: Activation::None });
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fuse::fuse_bias_activation;
    use crate::passes::testing::*;
    use ferrolite_runtime::ir::{Binary, Unary};

    #[test]
    fn dense_layer_becomes_gemm_with_bias_and_activation() {
        let mut r = rng(21);
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[3, 8]);
        let w = random_const(&mut g, &mut r, "w", &[8, 5], -1.0, 1.0);
        let y = node(&mut g, Op::MatMul, &[x, w]);
        let b = random_const(&mut g, &mut r, "b", &[5], -1.0, 1.0);
        let y = node(&mut g, Op::Binary(Binary::Add), &[b, y]);
        let y = unary(&mut g, Op::Unary(Unary::Act(Activation::Relu)), y);
        g.outputs = vec![y];
        check_rewrite(
            &g,
            |g| {
                assert!(matmul_to_gemm(g));
                assert!(fuse_bias_activation(g));
            },
            |g| {
                assert_eq!(g.nodes.len(), 1);
                assert!(matches!(&g.nodes[0].op, Op::Gemm(a) if a.activation == Activation::Relu));
                assert!(g.nodes[0].input(2).is_some());
            },
        );
    }

    #[test]
    fn batched_or_computed_matmuls_stay() {
        let mut r = rng(22);
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[2, 3, 8]);
        let w = random_const(&mut g, &mut r, "w", &[8, 5], -1.0, 1.0);
        let y = node(&mut g, Op::MatMul, &[x, w]);
        let p = input(&mut g, "p", &[3, 8]);
        let q = input(&mut g, "q", &[8, 2]);
        let z = node(&mut g, Op::MatMul, &[p, q]);
        g.outputs = vec![y, z];
        check_rewrite(&g, |g| assert!(!matmul_to_gemm(g)), |g| assert_eq!(count(g, "MatMul"), 2));
    }
}
