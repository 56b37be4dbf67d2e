//! Identity removal: nodes whose output is their input, unchanged.
//!
//! Removed: [`Op::Identity`], an identity activation, a [`Op::Transpose`] with the identity
//! permutation, a [`Op::Cast`] to the input's own type, a single-input [`Op::Concat`] or
//! single-output [`Op::Split`], a [`Op::Pad`] of zero everywhere, and reshape-like nodes
//! ([`Op::Reshape`], [`Op::Flatten`], [`Op::Squeeze`], [`Op::Unsqueeze`], [`Op::Expand`])
//! whose output shape is known to equal the input shape. Readers of the output read the
//! input instead; a graph output keeps its tensor (see [`bypass`]).

use ferrolite_runtime::ir::{Activation, Dim, Graph, NodeId, Op, TensorId, Unary};

use super::rewrite::{bypass, dims};

/// Removes no-op nodes. Returns whether the graph changed.
pub fn remove_identities(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut id = 0;
    while id < g.nodes.len() {
        if let Some(input) = no_op_input(g, id)
            && bypass(g, id, input)
        {
            changed = true;
            continue;
        }
        id += 1;
    }
    changed
}

/// The input whose value node `id` passes through unchanged, if it does.
fn no_op_input(g: &Graph, id: NodeId) -> Option<TensorId> {
    let node = g.nodes.get(id)?;
    let [output] = node.outputs[..] else {
        return None;
    };
    let input = node.input(0)?;
    let in_dtype = g.tensors.get(input)?.dtype;
    if g.tensors.get(output)?.dtype != in_dtype {
        return None;
    }
    let same_shape = || match (dims(g, input), dims(g, output)) {
        (Some(a), Some(b)) => a == b && a.iter().all(|d| d != &Dim::Sym("?".into())),
        _ => false,
    };
    let passes = match &node.op {
        Op::Identity | Op::Unary(Unary::Act(Activation::None)) => true,
        Op::Transpose { perm } => perm.iter().enumerate().all(|(i, &p)| i == p),
        Op::Cast { to } => *to == in_dtype,
        Op::Concat { .. } => node.inputs.len() == 1,
        Op::Split(_) => node.inputs.len() == 1,
        Op::Pad(p) => p.pads.iter().all(|&v| v == 0) && node.inputs.iter().flatten().count() == 1,
        Op::Reshape { .. } | Op::Flatten { .. } | Op::Squeeze { .. } | Op::Unsqueeze { .. } | Op::Expand => {
            same_shape()
        }
        _ => false,
    };
    passes.then_some(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::*;
    use ferrolite_runtime::ir::{Binary, DType, Pad, PadMode};

    #[test]
    fn removes_no_ops_and_keeps_results() {
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[2, 3, 4]);
        let a = unary(&mut g, Op::Identity, x);
        let b = unary(&mut g, Op::Transpose { perm: vec![0, 1, 2] }, a);
        let c = unary(&mut g, Op::Cast { to: DType::F32 }, b);
        let d = unary(&mut g, Op::Pad(Pad { mode: PadMode::Constant, pads: vec![0; 6], value: 1.0 }), c);
        let e = unary(&mut g, Op::Concat { axis: 1 }, d);
        let shape = g.add_const_i64("shape", &[3], &[2, 3, 4]);
        let f = node(&mut g, Op::Reshape { allow_zero: false }, &[e, shape]);
        let y = unary(&mut g, Op::Unary(Unary::Neg), f);
        let z = node(&mut g, Op::Binary(Binary::Add), &[y, x]);
        // The graph output itself comes out of an Identity.
        let out = unary(&mut g, Op::Identity, z);
        g.outputs = vec![out];
        check_rewrite(
            &g,
            |g| {
                assert!(remove_identities(g));
                super::super::dce::remove_dead_nodes(g);
            },
            |g| {
                assert_eq!(count(g, "Neg"), 1);
                assert_eq!(count(g, "Add"), 1);
                assert_eq!(g.nodes.len(), 2, "{:?}", g.nodes);
            },
        );
    }

    #[test]
    fn keeps_shape_changing_and_io_identities() {
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[2, 3]);
        let shape = g.add_const_i64("shape", &[2], &[3, 2]);
        let r = node(&mut g, Op::Reshape { allow_zero: false }, &[x, shape]);
        // An Identity from a graph input straight to a graph output must stay.
        let o2 = unary(&mut g, Op::Identity, x);
        g.outputs = vec![r, o2];
        check_rewrite(
            &g,
            |g| {
                assert!(!remove_identities(g));
            },
            |g| assert_eq!(g.nodes.len(), 2),
        );
    }
}
