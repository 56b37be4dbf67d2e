//! Small graph-rewriting utilities shared by the passes: looking up constants, replacing a
//! tensor's uses, bypassing a node whose output equals its input, dropping unreferenced
//! tensors, restoring a topological node order, and permuting constant data.
//!
//! Every function here keeps the graph well-formed: node inputs and outputs refer to existing
//! tensors, graph outputs keep their tensors (and so their names), and nodes stay in a
//! topological order unless the function says otherwise.

use std::collections::{BinaryHeap, HashSet};

use ferrolite_runtime::ir::{AlignedBytes, ConstData, DType, Dim, Graph, NodeId, TensorId, TensorInfo};
use ferrolite_runtime::tensor::checked_numel;

use crate::{ConvertError, Result};

/// An [`ConvertError::Invalid`] about the IR itself (a pass found the graph inconsistent).
pub(crate) fn ir_error(msg: impl Into<String>) -> ConvertError {
    ConvertError::Invalid { format: "IR", msg: msg.into() }
}

/// Whether `t` is one of the graph's outputs.
pub(crate) fn is_graph_output(g: &Graph, t: TensorId) -> bool {
    g.outputs.contains(&t)
}

/// Whether `t` is one of the graph's inputs.
pub(crate) fn is_graph_input(g: &Graph, t: TensorId) -> bool {
    g.inputs.contains(&t)
}

/// The shape of `t` if its rank is known.
pub(crate) fn dims(g: &Graph, t: TensorId) -> Option<&[Dim]> {
    g.tensors.get(t)?.shape.as_deref()
}

/// The shape of `t` if every dimension is known.
pub(crate) fn fixed_shape(g: &Graph, t: TensorId) -> Option<Vec<usize>> {
    g.tensors.get(t)?.fixed_shape()
}

/// Whether `t` is a constant.
pub(crate) fn is_const(g: &Graph, t: TensorId) -> bool {
    g.tensors.get(t).is_some_and(TensorInfo::is_const)
}

/// The value of constant `t` as f32s, if it is an f32 constant with a known shape whose byte
/// length matches that shape.
pub(crate) fn const_f32(g: &Graph, t: TensorId) -> Option<Vec<f32>> {
    let info = g.tensors.get(t)?;
    if info.dtype != DType::F32 {
        return None;
    }
    let bytes = checked_const_bytes(info)?;
    Some(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// Whether `t` is an f32 constant whose bytes match its fixed shape (what [`const_f32`]
/// needs), checked without copying the values.
pub(crate) fn is_f32_const(g: &Graph, t: TensorId) -> bool {
    g.tensors.get(t).is_some_and(|info| info.dtype == DType::F32 && checked_const_bytes(info).is_some())
}

/// The value of integer constant `t` (i64 or i32) widened to i64.
pub(crate) fn const_ints(g: &Graph, t: TensorId) -> Option<Vec<i64>> {
    let info = g.tensors.get(t)?;
    let bytes = checked_const_bytes(info)?;
    match info.dtype {
        DType::I64 => Some(
            bytes
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        ),
        DType::I32 => {
            Some(bytes.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64).collect())
        }
        _ => None,
    }
}

/// The bytes of a constant whose length matches its fully known shape.
fn checked_const_bytes(info: &TensorInfo) -> Option<&[u8]> {
    let data = info.data.as_ref()?;
    let shape = info.fixed_shape()?;
    let want = checked_numel(&shape)?.checked_mul(info.dtype.size())?;
    (data.len() == want).then(|| data.bytes())
}

/// A tensor name not used by any tensor of `g`, derived from `base`.
pub(crate) fn fresh_name(g: &Graph, base: &str) -> String {
    let taken: HashSet<&str> = g.tensors.iter().map(|t| t.name.as_str()).collect();
    if !taken.contains(base) {
        return base.to_string();
    }
    (1..).map(|i| format!("{base}_{i}")).find(|n| !taken.contains(n.as_str())).unwrap_or_else(|| base.to_string())
}

/// Adds an f32 constant with a fresh name derived from `base`.
pub(crate) fn add_f32_const(g: &mut Graph, base: &str, shape: &[usize], values: &[f32]) -> TensorId {
    let name = fresh_name(g, base);
    g.add_const_f32(name, shape, values)
}

/// Adds an i64 constant with a fresh name derived from `base`.
pub(crate) fn add_i64_const(g: &mut Graph, base: &str, shape: &[usize], values: &[i64]) -> TensorId {
    let name = fresh_name(g, base);
    g.add_const_i64(name, shape, values)
}

/// Adds a non-constant tensor with a fresh name derived from `base`.
pub(crate) fn add_value(g: &mut Graph, base: &str, dtype: DType, shape: Option<Vec<Dim>>) -> TensorId {
    let name = fresh_name(g, base);
    g.add_tensor(TensorInfo { name, dtype, shape, data: None })
}

/// Replaces every use of `old` as a node input by `new` (graph outputs are not touched).
pub(crate) fn replace_uses(g: &mut Graph, old: TensorId, new: TensorId) {
    for n in &mut g.nodes {
        for i in n.inputs.iter_mut().flatten() {
            if *i == old {
                *i = new;
            }
        }
    }
}

/// The node producing `t`, if any.
pub(crate) fn producer_of(g: &Graph, t: TensorId) -> Option<NodeId> {
    g.nodes.iter().position(|n| n.outputs.contains(&t))
}

/// Removes node `id`, whose single output holds exactly the value of tensor `input` (same
/// dtype, shape and elements), by sending the output's readers to `input`.
///
/// When the output is a graph output its tensor (and name) must survive: then the node that
/// produces `input` is made to produce the output tensor directly, or, when `input` is a
/// constant, the output becomes that constant. When neither is possible (`input` is a graph
/// input or another graph output) the node is kept. Returns whether the node was removed;
/// node ids after `id` then shift down by one.
pub(crate) fn bypass(g: &mut Graph, id: NodeId, input: TensorId) -> bool {
    let Some(node) = g.nodes.get(id) else { return false };
    let [out] = node.outputs[..] else { return false };
    if out == input || input >= g.tensors.len() || out >= g.tensors.len() {
        return false;
    }
    if !is_graph_output(g, out) {
        replace_uses(g, out, input);
        g.nodes.remove(id);
        return true;
    }
    if is_graph_output(g, input) || is_graph_input(g, input) {
        return false;
    }
    if let Some(data) = g.tensors[input].data.clone() {
        g.tensors[out].data = Some(data);
        g.tensors[out].shape = g.tensors[input].shape.clone();
        g.tensors[out].dtype = g.tensors[input].dtype;
        g.nodes.remove(id);
        return true;
    }
    let Some(prod) = producer_of(g, input) else { return false };
    // The producer comes before every reader of `input`, so renaming keeps the order valid.
    replace_uses(g, input, out);
    for o in &mut g.nodes[prod].outputs {
        if *o == input {
            *o = out;
        }
    }
    if g.tensors[out].shape.is_none() {
        g.tensors[out].shape = g.tensors[input].shape.clone();
    }
    g.nodes.remove(id);
    true
}

/// Drops every tensor no node, graph input or graph output refers to (unused constants,
/// orphaned intermediates) and renumbers the rest, keeping their relative order.
pub(crate) fn compact_tensors(g: &mut Graph) {
    let n = g.tensors.len();
    let mut used = vec![false; n];
    let refs = g
        .inputs
        .iter()
        .chain(&g.outputs)
        .chain(g.nodes.iter().flat_map(|node| node.inputs.iter().flatten().chain(&node.outputs)));
    for &t in refs {
        if let Some(u) = used.get_mut(t) {
            *u = true;
        }
    }
    if used.iter().all(|&u| u) {
        return;
    }
    let mut remap = vec![usize::MAX; n];
    let mut kept = Vec::with_capacity(n);
    for (i, info) in std::mem::take(&mut g.tensors).into_iter().enumerate() {
        if used[i] {
            remap[i] = kept.len();
            kept.push(info);
        }
    }
    g.tensors = kept;
    // Out-of-range ids (a malformed graph) map to an out-of-range id again, so validation
    // still reports them instead of them silently pointing at another tensor.
    let map = |t: &mut TensorId| *t = remap.get(*t).copied().unwrap_or(usize::MAX);
    g.inputs.iter_mut().for_each(map);
    g.outputs.iter_mut().for_each(map);
    for node in &mut g.nodes {
        node.inputs.iter_mut().flatten().for_each(map);
        node.outputs.iter_mut().for_each(map);
    }
}

/// Reorders the nodes topologically, keeping the current order wherever it is already valid
/// (stable). Errors on a cycle or a tensor produced twice.
pub(crate) fn toposort(g: &mut Graph) -> Result<()> {
    let n = g.nodes.len();
    let mut producer = vec![None; g.tensors.len()];
    for (i, node) in g.nodes.iter().enumerate() {
        for &o in &node.outputs {
            let slot = producer
                .get_mut(o)
                .ok_or_else(|| ir_error(format!("{}: output tensor #{o} does not exist", g.node_label(i))))?;
            if let Some(other) = *slot {
                return Err(ir_error(format!(
                    "tensor \"{}\" is produced by both {} and {}",
                    g.tensors[o].name,
                    g.node_label(other),
                    g.node_label(i)
                )));
            }
            *slot = Some(i);
        }
    }
    let mut pending = vec![0usize; n];
    let mut users: Vec<Vec<NodeId>> = vec![Vec::new(); n];
    for (i, node) in g.nodes.iter().enumerate() {
        let mut deps: Vec<NodeId> =
            node.inputs.iter().flatten().filter_map(|&t| producer.get(t).copied().flatten()).collect();
        deps.sort_unstable();
        deps.dedup();
        for d in deps {
            if d == i {
                return Err(ir_error(format!("{} reads its own output", g.node_label(i))));
            }
            pending[i] += 1;
            users[d].push(i);
        }
    }
    // Min-heap on the current index: among the ready nodes, the earliest goes first.
    let mut ready: BinaryHeap<std::cmp::Reverse<NodeId>> =
        (0..n).filter(|&i| pending[i] == 0).map(std::cmp::Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(std::cmp::Reverse(i)) = ready.pop() {
        order.push(i);
        for &u in &users[i] {
            pending[u] -= 1;
            if pending[u] == 0 {
                ready.push(std::cmp::Reverse(u));
            }
        }
    }
    if order.len() != n {
        let stuck = (0..n).find(|&i| pending[i] > 0).map(|i| g.node_label(i)).unwrap_or_default();
        return Err(ir_error(format!("the graph has a cycle (through {stuck})")));
    }
    if order.iter().enumerate().all(|(a, &b)| a == b) {
        return Ok(());
    }
    let mut slots: Vec<_> = std::mem::take(&mut g.nodes).into_iter().map(Some).collect();
    g.nodes = order.into_iter().filter_map(|i| slots[i].take()).collect();
    Ok(())
}

/// Checks the invariants every pass keeps: tensor ids in range, every tensor produced at
/// most once, constants and graph inputs produced by no node, every node input available
/// when the node runs (topological order), every graph output available at the end.
pub(crate) fn check_graph(g: &Graph) -> Result<()> {
    let nt = g.tensors.len();
    let mut available = vec![false; nt];
    for &t in &g.inputs {
        let slot = available.get_mut(t).ok_or_else(|| ir_error(format!("graph input #{t} does not exist")))?;
        *slot = true;
    }
    for (t, info) in g.tensors.iter().enumerate() {
        if info.is_const() {
            available[t] = true;
        }
    }
    for (i, node) in g.nodes.iter().enumerate() {
        for &t in node.inputs.iter().flatten() {
            match available.get(t) {
                None => return Err(ir_error(format!("{}: input tensor #{t} does not exist", g.node_label(i)))),
                Some(false) => {
                    return Err(ir_error(format!(
                        "{}: input \"{}\" is not computed before the node",
                        g.node_label(i),
                        g.tensors[t].name
                    )));
                }
                Some(true) => {}
            }
        }
        for &t in &node.outputs {
            match available.get_mut(t) {
                None => return Err(ir_error(format!("{}: output tensor #{t} does not exist", g.node_label(i)))),
                Some(a) if *a => {
                    return Err(ir_error(format!(
                        "{}: output \"{}\" is already a graph input, a constant or another node's output",
                        g.node_label(i),
                        g.tensors[t].name
                    )));
                }
                Some(a) => *a = true,
            }
        }
    }
    for &t in &g.outputs {
        match available.get(t) {
            Some(true) => {}
            Some(false) => return Err(ir_error(format!("graph output \"{}\" is never computed", g.tensors[t].name))),
            None => return Err(ir_error(format!("graph output #{t} does not exist"))),
        }
    }
    Ok(())
}

/// Replaces constants whose bytes are not 8-byte aligned by aligned copies, so kernels and
/// shape inference can view them as typed slices. (Importers may hand out windows into the
/// source file, whose tensors have no alignment guarantee.)
pub(crate) fn align_constants(g: &mut Graph) {
    for info in &mut g.tensors {
        if let Some(data) = &info.data
            && !(data.bytes().as_ptr() as usize).is_multiple_of(8)
        {
            info.data = Some(ConstData::owned(AlignedBytes::from_slice(data.bytes())));
        }
    }
}

/// The inverse of a permutation: `inverse[perm[i]] == i`.
pub(crate) fn inverse_perm(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        if let Some(slot) = inv.get_mut(p) {
            *slot = i;
        }
    }
    inv
}

/// Whether `perm` is a permutation of `0..perm.len()`.
pub(crate) fn is_permutation(perm: &[usize]) -> bool {
    let mut seen = vec![false; perm.len()];
    perm.iter().all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true))
}

/// Whether `perm` leaves every axis in place.
pub(crate) fn is_identity_perm(perm: &[usize]) -> bool {
    perm.iter().enumerate().all(|(i, &p)| i == p)
}

/// Transposes row-major data with `elem` bytes per element: output axis `i` is input axis
/// `perm[i]`. Returns `None` if `perm` is not a permutation of the axes or the byte length
/// does not match `shape`.
pub(crate) fn permute_bytes(bytes: &[u8], elem: usize, shape: &[usize], perm: &[usize]) -> Option<Vec<u8>> {
    if perm.len() != shape.len() || !is_permutation(perm) {
        return None;
    }
    let count = checked_numel(shape)?;
    if count.checked_mul(elem)? != bytes.len() {
        return None;
    }
    let mut in_strides = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        in_strides[i] = in_strides[i + 1] * shape[i + 1];
    }
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let strides: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = vec![0usize; shape.len()];
    for _ in 0..count {
        let offset: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum::<usize>() * elem;
        out.extend_from_slice(&bytes[offset..offset + elem]);
        // Odometer increment over the output index.
        for axis in (0..index.len()).rev() {
            index[axis] += 1;
            if index[axis] < out_shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrolite_runtime::ir::Op;

    #[test]
    fn permute_bytes_matches_hand_computed_transpose() {
        // [[1,2,3],[4,5,6]] transposed is [[1,4],[2,5],[3,6]].
        let x: Vec<u8> = vec![1, 2, 3, 4, 5, 6];
        assert_eq!(permute_bytes(&x, 1, &[2, 3], &[1, 0]).unwrap(), vec![1, 4, 2, 5, 3, 6]);
        // NCHW [1,2,2,2] -> NHWC: element (c,h,w) = 4c + 2h + w moves to (h,w,c).
        let x: Vec<u8> = (0..8).collect();
        assert_eq!(permute_bytes(&x, 1, &[1, 2, 2, 2], &[0, 2, 3, 1]).unwrap(), vec![0, 4, 1, 5, 2, 6, 3, 7]);
        // Multi-byte elements move whole.
        let x: Vec<u8> = vec![1, 0, 2, 0, 3, 0, 4, 0];
        assert_eq!(permute_bytes(&x, 2, &[2, 2], &[1, 0]).unwrap(), vec![1, 0, 3, 0, 2, 0, 4, 0]);
        assert!(permute_bytes(&x, 2, &[2, 2], &[0, 0]).is_none());
        assert!(permute_bytes(&x, 2, &[2, 3], &[1, 0]).is_none());
    }

    #[test]
    fn inverse_perm_inverts() {
        let p = [0, 3, 1, 2];
        let inv = inverse_perm(&p);
        assert_eq!(inv, vec![0, 2, 3, 1]);
        for i in 0..4 {
            assert_eq!(inv[p[i]], i);
        }
    }

    #[test]
    fn toposort_is_stable_and_detects_cycles() {
        let mut g = Graph::default();
        let x = g.add_value("x", DType::F32);
        let a = g.add_value("a", DType::F32);
        let b = g.add_value("b", DType::F32);
        let c = g.add_value("c", DType::F32);
        g.inputs = vec![x];
        g.outputs = vec![c];
        g.add_node("n2", Op::Binary(ferrolite_runtime::ir::Binary::Add), vec![Some(a), Some(b)], vec![c]);
        g.add_node("n0", Op::Identity, vec![Some(x)], vec![a]);
        g.add_node("n1", Op::Identity, vec![Some(x)], vec![b]);
        toposort(&mut g).unwrap();
        let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["n0", "n1", "n2"]);
        check_graph(&g).unwrap();

        g.nodes[0].inputs = vec![Some(c)];
        assert!(toposort(&mut g).unwrap_err().to_string().contains("cycle"));
    }

    #[test]
    fn bypass_keeps_graph_output_tensors() {
        let mut g = Graph::default();
        let x = g.add_value("x", DType::F32);
        let a = g.add_value("a", DType::F32);
        let y = g.add_value("y", DType::F32);
        g.inputs = vec![x];
        g.outputs = vec![y];
        g.add_node("relu", Op::Unary(ferrolite_runtime::ir::Unary::Neg), vec![Some(x)], vec![a]);
        g.add_node("id", Op::Identity, vec![Some(a)], vec![y]);
        assert!(bypass(&mut g, 1, a));
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(g.nodes[0].outputs, vec![y]);
        compact_tensors(&mut g);
        assert_eq!(g.tensors.len(), 2);
        assert_eq!(g.tensors[g.outputs[0]].name, "y");
        check_graph(&g).unwrap();

        // An identity from a graph input to a graph output has to stay.
        let mut g = Graph::default();
        let x = g.add_value("x", DType::F32);
        let y = g.add_value("y", DType::F32);
        g.inputs = vec![x];
        g.outputs = vec![y];
        g.add_node("id", Op::Identity, vec![Some(x)], vec![y]);
        assert!(!bypass(&mut g, 0, x));
        assert_eq!(g.nodes.len(), 1);
    }

    #[test]
    fn check_graph_reports_order_and_double_production() {
        let mut g = Graph::default();
        let x = g.add_value("x", DType::F32);
        let a = g.add_value("a", DType::F32);
        let y = g.add_value("y", DType::F32);
        g.inputs = vec![x];
        g.outputs = vec![y];
        g.add_node("second", Op::Identity, vec![Some(a)], vec![y]);
        g.add_node("first", Op::Identity, vec![Some(x)], vec![a]);
        assert!(check_graph(&g).unwrap_err().to_string().contains("not computed before"));
        g.nodes.swap(0, 1);
        check_graph(&g).unwrap();
        g.nodes[1].outputs = vec![a];
        assert!(check_graph(&g).is_err());
    }
}
