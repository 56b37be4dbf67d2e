//! Reshape-chain merging.
//!
//! A reshape-like node ([`Op::Reshape`], [`Op::Flatten`], [`Op::Squeeze`], [`Op::Unsqueeze`])
//! reading the output of another reshape-like node (or an [`Op::Identity`]) is rewritten as
//! a single [`Op::Reshape`] of the first one's input, when its output shape is known well
//! enough to be written as a Reshape target (fixed sizes, symbolic sizes that stay in place
//! as `0`, at most one other symbolic size as `-1`). All these nodes keep the row-major
//! element order, so the chain and the single reshape compute the same tensor. A merged
//! reshape whose output shape equals its input shape is then removed by
//! [`remove_identities`](super::identity::remove_identities); the earlier node dies when
//! nothing else reads it. The layout pass produces such chains when it turns size-1
//! transposes into reshapes (`GlobalPool -> Reshape -> Squeeze`).

use ferrolite_runtime::ir::{Dim, Graph, Op};

use super::rewrite::{add_i64_const, dims};

fn is_reshape_like(op: &Op) -> bool {
    matches!(op, Op::Reshape { .. } | Op::Flatten { .. } | Op::Squeeze { .. } | Op::Unsqueeze { .. })
}

/// Merges reshape chains. Returns whether the graph changed.
pub fn simplify_reshapes(g: &mut Graph) -> bool {
    let producers = g.producers();
    let mut changed = false;
    for id in 0..g.nodes.len() {
        let node = &g.nodes[id];
        let ([out], Some(x)) = (&node.outputs[..], node.input(0)) else { continue };
        if !is_reshape_like(&node.op) {
            continue;
        }
        let Some(prev) = producers.get(x).copied().flatten() else { continue };
        let prev = &g.nodes[prev];
        if !(is_reshape_like(&prev.op) || prev.op == Op::Identity) {
            continue;
        }
        let Some(src) = prev.input(0) else { continue };
        let (Some(src_dims), Some(out_dims)) = (dims(g, src), dims(g, *out)) else { continue };
        let Some(target) = reshape_target(src_dims, out_dims) else { continue };
        let name = format!("{}/shape", node.name);
        let shape = add_i64_const(g, &name, &[target.len()], &target);
        let node = &mut g.nodes[id];
        node.op = Op::Reshape { allow_zero: false };
        node.inputs = vec![Some(src), Some(shape)];
        changed = true;
    }
    changed
}

/// The Reshape target (`allow_zero = false`) turning a tensor of shape `src` into `out`.
pub(crate) fn reshape_target(src: &[Dim], out: &[Dim]) -> Option<Vec<i64>> {
    if src.contains(&Dim::Fixed(0)) {
        return None;
    }
    let mut inferred = false;
    out.iter()
        .enumerate()
        .map(|(i, d)| match d {
            Dim::Fixed(0) => None,
            Dim::Fixed(n) => i64::try_from(*n).ok(),
            Dim::Sym(s) if s != "?" && src.get(i) == Some(d) => Some(0),
            Dim::Sym(_) if !inferred => {
                inferred = true;
                Some(-1)
            }
            Dim::Sym(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::identity::remove_identities;
    use crate::passes::testing::*;
    use ferrolite_runtime::ir::{DType, TensorInfo, Unary};

    #[test]
    fn chains_merge_and_vanish() {
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[2, 1, 1, 6]);
        let s = g.add_const_i64("s", &[4], &[2, 6, 1, 1]);
        let a = node(&mut g, Op::Reshape { allow_zero: false }, &[x, s]);
        let b = unary(&mut g, Op::Squeeze { axes: vec![2, 3] }, a);
        let c = unary(&mut g, Op::Unsqueeze { axes: vec![1, 2] }, b);
        let y = unary(&mut g, Op::Unary(Unary::Neg), c);
        let f = unary(&mut g, Op::Flatten { axis: 1 }, a);
        g.outputs = vec![y, f];
        check_rewrite(
            &g,
            |g| {
                assert!(simplify_reshapes(g));
                remove_identities(g);
                crate::passes::dce::remove_dead_nodes(g);
            },
            |g| {
                // Unsqueeze back to [2,1,1,6] vanished; Flatten reads x directly.
                assert_eq!(count(g, "Squeeze") + count(g, "Unsqueeze") + count(g, "Flatten"), 0);
                assert_eq!(count(g, "Reshape"), 1);
                assert_eq!(g.nodes.len(), 2);
            },
        );
    }

    #[test]
    fn symbolic_targets() {
        let b = Dim::Sym("batch".into());
        let q = Dim::Sym("?".into());
        assert_eq!(
            reshape_target(&[b.clone(), Dim::Fixed(4)], &[b.clone(), Dim::Fixed(2), Dim::Fixed(2)]),
            Some(vec![0, 2, 2])
        );
        assert_eq!(reshape_target(&[b.clone(), Dim::Fixed(4)], &[Dim::Fixed(4), q.clone()]), Some(vec![4, -1]));
        assert_eq!(reshape_target(&[b.clone(), b.clone()], &[q.clone(), q]), None);
        // A symbolic graph input flows through the merged reshape.
        let mut g = Graph::default();
        let x = g.add_tensor(TensorInfo {
            name: "x".into(),
            dtype: DType::F32,
            shape: Some(vec![b, Dim::Fixed(3)]),
            data: None,
        });
        g.inputs.push(x);
        let a = unary(&mut g, Op::Unsqueeze { axes: vec![2] }, x);
        let c = unary(&mut g, Op::Flatten { axis: 1 }, a);
        g.outputs = vec![c];
        crate::passes::infer_shapes(&mut g).unwrap();
        assert!(simplify_reshapes(&mut g));
        assert_eq!(g.nodes[1].inputs[0], Some(x));
    }
}
