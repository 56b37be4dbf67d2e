//! Dead-node removal.
//!
//! A node is dead when none of its outputs reaches a graph output. Dead nodes are removed,
//! then every tensor no longer referenced (unused constants, orphaned intermediates) is
//! dropped and the remaining tensors renumbered. Graph inputs stay even when unused: they
//! are part of the model's interface. Graph outputs that are constants stay valid (they
//! are referenced by [`Graph::outputs`]).

use ferrolite_runtime::ir::Graph;

use super::rewrite::compact_tensors;

/// Removes dead nodes and unreferenced tensors. Returns whether any node was removed.
pub fn remove_dead_nodes(g: &mut Graph) -> bool {
    let mut live = vec![false; g.tensors.len()];
    for &t in &g.outputs {
        if let Some(l) = live.get_mut(t) {
            *l = true;
        }
    }
    let mut keep = vec![false; g.nodes.len()];
    for (id, node) in g.nodes.iter().enumerate().rev() {
        if node.outputs.iter().any(|&t| live.get(t).copied().unwrap_or(false)) {
            keep[id] = true;
            for &t in node.inputs.iter().flatten() {
                if let Some(l) = live.get_mut(t) {
                    *l = true;
                }
            }
        }
    }
    let removed = keep.iter().any(|k| !k);
    if removed {
        let mut flags = keep.into_iter();
        g.nodes.retain(|_| flags.next().unwrap_or(true));
    }
    compact_tensors(g);
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::*;
    use ferrolite_runtime::ir::{Binary, Op, Unary};

    #[test]
    fn removes_unreachable_nodes_and_constants() {
        let mut g = Graph::default();
        let x = input(&mut g, "x", &[4]);
        let unused_input = input(&mut g, "unused", &[4]);
        let c = g.add_const_f32("c", &[4], &[1.0, 2.0, 3.0, 4.0]);
        let _orphan = g.add_const_f32("orphan", &[1], &[0.0]);
        let a = node(&mut g, Op::Binary(Binary::Mul), &[x, c]);
        let dead = unary(&mut g, Op::Unary(Unary::Exp), a);
        let _dead2 = unary(&mut g, Op::Unary(Unary::Neg), dead);
        let y = unary(&mut g, Op::Unary(Unary::Abs), a);
        let k = g.add_const_f32("k", &[2], &[5.0, 6.0]);
        g.outputs = vec![y, k];
        check_rewrite(
            &g,
            |g| assert!(remove_dead_nodes(g)),
            |g| {
                assert_eq!(g.nodes.len(), 2);
                assert_eq!(count(g, "Exp") + count(g, "Neg"), 0);
                let names: Vec<&str> = g.tensors.iter().map(|t| t.name.as_str()).collect();
                assert!(!names.contains(&"orphan"), "{names:?}");
                assert!(names.contains(&"unused") && names.contains(&"k"), "{names:?}");
            },
        );
        let _ = unused_input;
    }
}
