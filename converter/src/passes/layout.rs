//! Layout: cancelling the transposes the NCHW importers put around spatial operators.
//!
//! The ONNX importer wraps each NCHW spatial operator as
//! `Transpose(NCHW -> NHWC) -> op -> Transpose(NHWC -> NCHW)`. This pass removes those
//! transposes wherever the graph allows, by three rewrites applied until none applies:
//!
//! 1. **Composition**: a transpose of a transpose is one transpose with the composed
//!    permutation; an identity permutation disappears.
//! 2. **Sinking**: a transpose is moved below the nodes that read its output when every
//!    reader is layout-agnostic: the reader then works on the untransposed tensor (with its
//!    axes remapped) and a transpose is applied to its outputs instead. Transposes sunk this
//!    way meet the next spatial operator's `NCHW -> NHWC` transpose and cancel by (1).
//!    Sinkable readers: element-wise unary operators, [`Op::Cast`], [`Op::Dequantize`],
//!    [`Op::Identity`]; [`Op::Binary`] and [`Op::Where`] whose other operands are
//!    transposed the same way, constants (permuted here) or all-ones shapes; [`Op::Concat`],
//!    [`Op::Split`], [`Op::Softmax`], [`Op::LogSoftmax`], [`Op::BatchNorm`] (axis remapped);
//!    [`Op::Reduce`], [`Op::Squeeze`] and [`Op::Gather`] with scalar or 1-D indices (axes
//!    remapped; when they drop axes the outgoing permutation is reduced accordingly);
//!    [`Op::Slice`] with constant axes; [`Op::Pad`] (pads permuted); [`Op::Resize`]
//!    (`axes` remapped, made explicit when absent); reshapes ([`Op::Reshape`],
//!    [`Op::Flatten`], [`Op::Unsqueeze`]) that keep whole groups of axes together; and
//!    [`Op::Shape`], which becomes a `Gather` of the untransposed tensor's shape.
//!    A reader that combines the transposed tensor with a value computed from it (the
//!    hard-swish `x * relu6(x + 3)`) waits until that value arrives transposed as well.
//! 3. **Size-1 moves**: a transpose that only moves size-1 dimensions (`[N, 1, 1, C]` to
//!    `[N, C, 1, 1]`) does not move any data and becomes a [`Op::Reshape`].
//!
//! Transposes are only ever moved towards the outputs, and never through a graph output:
//! the model keeps its input and output layouts, and the transposes those need stay at the
//! boundaries. A converted seed network (NHWC input, one leading NHWC->NCHW transpose)
//! has no transpose left; a PyTorch-style NCHW model keeps one at its input and at most
//! one per output. Should sinking ever end with more transposes than it started with (a
//! transpose fanned out into readers that lead nowhere), it is retried without deferred
//! readers, and undone if that does not help either.

use ferrolite_runtime::ir::{ConstData, DType, Dim, Graph, Node, NodeId, Op, TensorId};
use ferrolite_runtime::ops::util::normalize_axis;

use super::dce::remove_dead_nodes;
use super::reshape::reshape_target;
use super::rewrite::{
    add_i64_const, add_value, bypass, check_graph, const_ints, dims, fixed_shape, fresh_name, inverse_perm, is_const,
    is_graph_output, is_identity_perm, is_permutation, permute_bytes,
};
use crate::Result;

/// Runs the layout rewrites to a fixed point. Returns whether the graph changed.
///
/// Errors if the graph is not well-formed (a tensor id out of range, a tensor produced
/// twice, nodes out of topological order).
pub fn optimize_layout(g: &mut Graph) -> Result<bool> {
    check_graph(g)?;
    let before = g.clone();
    let start_count = transpose_count(g);
    // A bound on rewrites per phase, against pathological fan-out; real graphs need a few
    // per node.
    let budget = 16 * g.nodes.len() + 64;
    // Sinking with deferred readers first; should that end with more transposes than there
    // were (a deferred reader's other operand never arrived transposed), without them; and
    // should that too, not at all.
    let mut sunk = false;
    for defer in [true, false] {
        let mut left = budget;
        while sweep(g, &mut left, Mode::Sink { defer }) {
            sunk = true;
        }
        if !sunk {
            break;
        }
        remove_dead_nodes(g);
        if transpose_count(g) <= start_count {
            break;
        }
        *g = before.clone();
        sunk = false;
    }
    let mut changed = sunk;
    let mut left = budget;
    while sweep(g, &mut left, Mode::SizeOne) {
        changed = true;
    }
    if changed {
        remove_dead_nodes(g);
    }
    Ok(changed)
}

/// What [`sweep`] does besides composing transposes.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Sink transposes, with or without deferred readers (see [`sink_at`]).
    Sink { defer: bool },
    /// Turn transposes that move only size-1 dims into reshapes.
    SizeOne,
}

/// One pass over the nodes in order, rewriting transposes: composition always, then what
/// `mode` says. A rewritten node is retried at once
/// (a composed transpose may sink next; a removed one leaves its index to the next node);
/// transposes that sinking places after a reader come later in the order and are reached in
/// the same sweep. Returns whether anything changed.
fn sweep(g: &mut Graph, budget: &mut usize, mode: Mode) -> bool {
    let mut changed = false;
    let mut producers = g.producers();
    let mut consumers = g.consumers();
    let mut id = 0;
    while id < g.nodes.len() && *budget > 0 {
        let rewrote = compose_at(g, id, &producers)
            || match mode {
                Mode::Sink { defer } => sink_at(g, id, &producers, &consumers, defer),
                Mode::SizeOne => size_one_transpose_to_reshape(g, id),
            };
        if !rewrote {
            id += 1;
            continue;
        }
        changed = true;
        *budget -= 1;
        producers = g.producers();
        consumers = g.consumers();
    }
    changed
}

/// Number of transpose nodes whose output something reads.
fn transpose_count(g: &Graph) -> usize {
    let consumers = g.consumers();
    g.nodes
        .iter()
        .filter(|n| {
            matches!(n.op, Op::Transpose { .. })
                && n.outputs.iter().any(|&t| is_graph_output(g, t) || consumers.get(t).is_some_and(|c| !c.is_empty()))
        })
        .count()
}

/// The permutation of node `id` if it is a valid transpose.
fn transpose_perm(g: &Graph, id: NodeId) -> Option<&[usize]> {
    match &g.nodes.get(id)?.op {
        Op::Transpose { perm } if is_permutation(perm) && g.nodes[id].outputs.len() == 1 => Some(perm),
        _ => None,
    }
}

/// The producer of `t` if it is a transpose with permutation `perm`, with its input.
fn transposed_by(g: &Graph, producers: &[Option<NodeId>], t: TensorId, perm: &[usize]) -> Option<TensorId> {
    let p = producers.get(t).copied().flatten()?;
    (transpose_perm(g, p)? == perm).then(|| g.nodes[p].input(0)).flatten()
}

/// At node `id`: rewrites `Transpose(Transpose(x))` as one transpose of `x`, and removes a
/// transpose whose permutation is the identity (or makes it an [`Op::Identity`] when it
/// copies a graph input to a graph output). Returns whether it changed anything.
fn compose_at(g: &mut Graph, id: NodeId, producers: &[Option<NodeId>]) -> bool {
    let Some(outer) = transpose_perm(g, id).map(<[usize]>::to_vec) else { return false };
    let Some(y) = g.nodes[id].input(0) else { return false };
    let inner =
        producers.get(y).copied().flatten().and_then(|p| Some((transpose_perm(g, p)?.to_vec(), g.nodes[p].input(0)?)));
    let (x, perm) = match inner {
        Some((inner, x)) if inner.len() == outer.len() => {
            // out[i] = y[outer[i]] = x[inner[outer[i]]].
            (x, outer.iter().map(|&o| inner[o]).collect::<Vec<usize>>())
        }
        _ if is_identity_perm(&outer) => (y, outer),
        _ => return false,
    };
    g.nodes[id].inputs = vec![Some(x)];
    if !is_identity_perm(&perm) {
        g.nodes[id].op = Op::Transpose { perm };
    } else if !bypass(g, id, x) {
        // Graph input to graph output: a copy has to stay.
        g.nodes[id].op = Op::Identity;
    }
    true
}

/// How a rewritten node gets one of its inputs.
#[derive(Debug, Clone)]
enum NewInput {
    /// Unchanged.
    Same(Option<TensorId>),
    /// The untransposed source of a transposed input.
    Source(TensorId),
    /// A constant of rank `<= perm.len()`, right-aligned to that rank and permuted by `perm`.
    Permuted { constant: TensorId, perm: Vec<usize> },
    /// A new i64 constant (remapped axes).
    Ints(Vec<i64>),
}

/// What sinking a transpose below one reader does to that reader.
#[derive(Debug, Clone)]
struct SinkPlan {
    node: NodeId,
    op: Op,
    inputs: Vec<NewInput>,
    /// Per output: the transpose that restores the original output, if one is needed.
    out_perms: Vec<Option<Vec<usize>>>,
    /// For a `Shape` reader, which now reads the whole shape of the untransposed tensor:
    /// the entries of that shape that make up the original output.
    gather_after: Option<Vec<i64>>,
}

/// Sinks the transpose at node `id` below its readers. Returns whether it was sunk.
///
/// Every reader must be sinkable now, or (with `defer`) *deferred*: an element-wise node or
/// Concat whose
/// other operands are computed from the transpose's output (the hard-swish
/// `x * relu6(x + 3)` reads `x` twice). Deferred readers keep the transpose for now; once
/// the sinkable readers' branches have been sunk, their other operands arrive transposed
/// too and they become sinkable, leaving the transpose without readers.
fn sink_at(g: &mut Graph, id: NodeId, producers: &[Option<NodeId>], consumers: &[Vec<NodeId>], defer: bool) -> bool {
    let Some(perm) = transpose_perm(g, id) else { return false };
    let [y] = g.nodes[id].outputs[..] else { return false };
    if is_graph_output(g, y) {
        return false;
    }
    let Some(readers) = consumers.get(y).filter(|r| !r.is_empty()) else { return false };
    let mut plans = Vec::with_capacity(readers.len());
    for &r in readers {
        match plan_sink(g, producers, r, perm) {
            Some(plan) => plans.push(plan),
            None if defer && is_deferred(g, consumers, r, y) => {}
            None => return false,
        }
    }
    if plans.is_empty() {
        return false;
    }
    // Later nodes first, so inserting transposes does not shift the ones still to do.
    plans.sort_by_key(|p| std::cmp::Reverse(p.node));
    for plan in plans {
        apply_plan(g, plan);
    }
    true
}

/// How far [`is_deferred`] looks downstream of a transpose (in nodes visited).
const DEFER_SEARCH_LIMIT: usize = 64;

/// Whether `reader` (which reads `y`) is an element-wise node or Concat all of whose other
/// non-constant operands are computed from `y` through nodes a transpose can be sunk
/// through (so sinking may bring them transposed), found within [`DEFER_SEARCH_LIMIT`]
/// nodes.
fn is_deferred(g: &Graph, consumers: &[Vec<NodeId>], reader: NodeId, y: TensorId) -> bool {
    let node = &g.nodes[reader];
    if !matches!(node.op, Op::Binary(_) | Op::Where | Op::Concat { .. }) {
        return false;
    }
    let others: Vec<TensorId> = node.inputs.iter().flatten().copied().filter(|&t| t != y && !is_const(g, t)).collect();
    if others.is_empty() {
        return false;
    }
    // Tensors downstream of `y`, not going through `reader` itself.
    let mut seen = vec![false; g.tensors.len()];
    let mut stack = vec![y];
    let mut visited = 0;
    while let Some(t) = stack.pop() {
        for &n in consumers.get(t).map(Vec::as_slice).unwrap_or(&[]) {
            if n == reader || !keeps_layout(&g.nodes[n].op) {
                continue;
            }
            visited += 1;
            if visited > DEFER_SEARCH_LIMIT {
                return false;
            }
            for &o in &g.nodes[n].outputs {
                if let Some(s) = seen.get_mut(o)
                    && !*s
                {
                    *s = true;
                    stack.push(o);
                }
            }
        }
    }
    others.iter().all(|&t| seen.get(t).copied().unwrap_or(false))
}

/// Whether `op` is of a kind [`plan_sink`] may sink a transpose through.
fn keeps_layout(op: &Op) -> bool {
    matches!(
        op,
        Op::Unary(_)
            | Op::Binary(_)
            | Op::Where
            | Op::Cast { .. }
            | Op::Dequantize
            | Op::Identity
            | Op::BatchNorm(_)
            | Op::Softmax { .. }
            | Op::LogSoftmax { .. }
            | Op::Concat { .. }
            | Op::Split(_)
            | Op::Pad(_)
            | Op::Slice
            | Op::Resize(_)
            | Op::Reduce(_)
            | Op::Gather { .. }
            | Op::Squeeze { .. }
            | Op::Unsqueeze { .. }
            | Op::Reshape { .. }
            | Op::Flatten { .. }
    )
}

/// How node `reader` can be rewritten to consume untransposed inputs, for inputs transposed
/// by `perm`; `None` if it cannot (or need not).
fn plan_sink(g: &Graph, producers: &[Option<NodeId>], reader: NodeId, perm: &[usize]) -> Option<SinkPlan> {
    let node = g.nodes.get(reader)?;
    let rank = perm.len();
    let inv = inverse_perm(perm);
    let source = |t: Option<TensorId>| t.and_then(|t| transposed_by(g, producers, t, perm));
    let first_source = || source(node.input(0)).map(NewInput::Source);
    // Inputs after the first must not be transposed tensors we are not handling.
    let rest_same = |from: usize| -> Option<Vec<NewInput>> {
        node.inputs.iter().skip(from).map(|&t| (source(t).is_none()).then_some(NewInput::Same(t))).collect()
    };
    let remap = |axis: i64| -> Option<i64> { Some(perm[normalize_axis(axis, rank).ok()?] as i64) };
    let same_outputs = || vec![Some(perm.to_vec()); node.outputs.len()];
    let mut gather_after = None;

    let (op, inputs, out_perms) = match &node.op {
        Op::Unary(_) | Op::Cast { .. } | Op::Dequantize | Op::Identity => {
            if node.inputs.len() != 1 {
                return None;
            }
            (node.op.clone(), vec![first_source()?], same_outputs())
        }
        Op::Binary(_) | Op::Where => {
            let mut inputs = Vec::with_capacity(node.inputs.len());
            for &t in &node.inputs {
                let t = t?;
                if let Some(src) = source(Some(t)) {
                    inputs.push(NewInput::Source(src));
                    continue;
                }
                let shape = dims(g, t)?;
                if shape.len() > rank {
                    return None;
                }
                if shape.iter().all(|d| *d == Dim::Fixed(1)) {
                    inputs.push(NewInput::Same(Some(t)));
                } else if is_const(g, t) {
                    inputs.push(NewInput::Permuted { constant: t, perm: inv.clone() });
                } else {
                    return None;
                }
            }
            (node.op.clone(), inputs, same_outputs())
        }
        Op::Concat { axis } => {
            let mut inputs = Vec::with_capacity(node.inputs.len());
            for &t in &node.inputs {
                let t = t?;
                if let Some(src) = source(Some(t)) {
                    inputs.push(NewInput::Source(src));
                } else if is_const(g, t) && dims(g, t)?.len() == rank {
                    inputs.push(NewInput::Permuted { constant: t, perm: inv.clone() });
                } else {
                    return None;
                }
            }
            (Op::Concat { axis: remap(*axis)? }, inputs, same_outputs())
        }
        Op::Split(a) => {
            if node.inputs.len() != 1 {
                return None;
            }
            let mut a = a.clone();
            a.axis = remap(a.axis)?;
            (Op::Split(a), vec![first_source()?], same_outputs())
        }
        Op::Softmax { axis } | Op::LogSoftmax { axis } => {
            if node.inputs.len() != 1 {
                return None;
            }
            let axis = remap(*axis)?;
            let op = if matches!(node.op, Op::Softmax { .. }) { Op::Softmax { axis } } else { Op::LogSoftmax { axis } };
            (op, vec![first_source()?], same_outputs())
        }
        Op::BatchNorm(a) => {
            let mut a = a.clone();
            a.axis = remap(a.axis)?;
            let mut inputs = vec![first_source()?];
            inputs.extend(rest_same(1)?);
            (Op::BatchNorm(a), inputs, same_outputs())
        }
        Op::Reduce(a) => {
            if node.inputs.len() != 1 {
                return None;
            }
            let mut a = a.clone();
            let out_perm = if a.axes.is_empty() {
                a.keep_dims.then(|| perm.to_vec())
            } else {
                let axes: Vec<usize> = a.axes.iter().map(|&x| normalize_axis(x, rank).ok()).collect::<Option<_>>()?;
                a.axes = axes.iter().map(|&x| perm[x] as i64).collect();
                if a.keep_dims { Some(perm.to_vec()) } else { reduced_perm(perm, &axes) }
            };
            (Op::Reduce(a), vec![first_source()?], vec![out_perm])
        }
        Op::Squeeze { axes } => {
            if node.inputs.len() != 1 {
                return None;
            }
            let axes: Vec<usize> = if axes.is_empty() {
                // All size-1 axes: only known when the whole shape is.
                let shape = fixed_shape(g, node.input(0)?)?;
                (0..rank).filter(|&i| shape.get(i) == Some(&1)).collect()
            } else {
                axes.iter().map(|&x| normalize_axis(x, rank).ok()).collect::<Option<_>>()?
            };
            if axes.is_empty() {
                return None;
            }
            let new_axes = axes.iter().map(|&x| perm[x] as i64).collect();
            (Op::Squeeze { axes: new_axes }, vec![first_source()?], vec![reduced_perm(perm, &axes)])
        }
        Op::Unsqueeze { axes } => {
            if node.inputs.len() != 1 {
                return None;
            }
            let out_rank = rank + axes.len();
            let mut inserted = vec![false; out_rank];
            for &a in axes {
                let a = normalize_axis(a, out_rank).ok()?;
                if std::mem::replace(&mut inserted[a], true) {
                    return None;
                }
            }
            let (new_axes, q) = plan_unsqueeze(perm, &inserted);
            (Op::Unsqueeze { axes: new_axes }, vec![first_source()?], vec![q])
        }
        Op::Reshape { .. } | Op::Flatten { .. } => {
            let (x, out) = (node.input(0)?, *node.outputs.first()?);
            if node.outputs.len() != 1 {
                return None;
            }
            let (target, out_perm) = plan_reshape(dims(g, x)?, dims(g, out)?, perm)?;
            (Op::Reshape { allow_zero: false }, vec![first_source()?, NewInput::Ints(target)], vec![out_perm])
        }
        Op::Shape { start, end } => {
            // Shape(transpose(x, perm))[i] = Shape(x)[perm[i]].
            if node.inputs.len() != 1 || node.outputs.len() != 1 {
                return None;
            }
            let r = rank as i64;
            let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let (lo, hi) = (clamp(*start), clamp(end.unwrap_or(r)));
            gather_after = Some(perm[lo..hi.max(lo)].iter().map(|&p| p as i64).collect());
            (Op::Shape { start: 0, end: None }, vec![first_source()?], vec![None])
        }
        Op::Gather { axis } => {
            let data = first_source()?;
            let indices = node.input(1)?;
            if node.inputs.len() != 2 || source(Some(indices)).is_some() {
                return None;
            }
            let a = normalize_axis(*axis, rank).ok()?;
            let out_perm = match dims(g, indices)?.len() {
                0 => reduced_perm(perm, &[a]),
                1 => Some(perm.to_vec()),
                _ => return None,
            };
            (Op::Gather { axis: perm[a] as i64 }, vec![data, NewInput::Same(Some(indices))], vec![out_perm])
        }
        Op::Slice => {
            let starts = const_ints(g, node.input(1)?)?;
            const_ints(g, node.input(2)?)?;
            let axes: Vec<i64> = match node.input(3) {
                Some(t) => const_ints(g, t)?,
                None => (0..starts.len() as i64).collect(),
            };
            if axes.len() != starts.len() {
                return None;
            }
            let axes: Vec<i64> = axes.iter().map(|&a| remap(a)).collect::<Option<_>>()?;
            let mut inputs = vec![first_source()?];
            let rest = rest_same(1)?;
            inputs.extend(rest.into_iter().take(2));
            inputs.push(NewInput::Ints(axes));
            if let Some(steps) = node.inputs.get(4) {
                if source(*steps).is_some() {
                    return None;
                }
                inputs.push(NewInput::Same(*steps));
            }
            (Op::Slice, inputs, same_outputs())
        }
        Op::Pad(a) => {
            if node.inputs.iter().flatten().count() != 1 || a.pads.len() != 2 * rank {
                return None;
            }
            let mut a = a.clone();
            let old = a.pads.clone();
            for j in 0..rank {
                a.pads[j] = old[inv[j]];
                a.pads[rank + j] = old[rank + inv[j]];
            }
            (Op::Pad(a), vec![first_source()?], same_outputs())
        }
        Op::Resize(a) => {
            let mut a = a.clone();
            let axes: Vec<i64> = match &a.axes {
                Some(axes) => axes.iter().map(|&x| remap(x)).collect::<Option<_>>()?,
                None => perm.iter().map(|&p| p as i64).collect(),
            };
            a.axes = Some(axes);
            let mut inputs = vec![first_source()?];
            inputs.extend(rest_same(1)?);
            (Op::Resize(a), inputs, same_outputs())
        }
        _ => return None,
    };
    let out_perms = out_perms.into_iter().map(|p| p.filter(|p| !is_identity_perm(p))).collect();
    Some(SinkPlan { node: reader, op, inputs, out_perms, gather_after })
}

/// Sinking a transpose through a reshape: `reshape(transpose(x, perm), out)` as
/// `transpose(reshape(x, inner), q)`. `y` is the shape of `transpose(x, perm)`.
///
/// The reshape is factored into groups of consecutive axes of `y` and of `out` with equal
/// sizes (size-1 axes on their own). This works when each group of `y` comes from
/// consecutive axes of `x` in order: the groups are then reshaped in place in `x` and only
/// their order differs. Returns the Reshape target for `x` and the permutation `q` (`None`
/// when the groups are already in order).
fn plan_reshape(y: &[Dim], out: &[Dim], perm: &[usize]) -> Option<(Vec<i64>, Option<Vec<usize>>)> {
    if y.len() != perm.len() {
        return None;
    }
    let groups = reshape_groups(y, out)?;
    // Position of each group in x: where its first axis comes from; groups adding a size-1
    // axis follow the group before them.
    let mut anchors = Vec::with_capacity(groups.len());
    // Leading new size-1 axes stay in front.
    let mut prev = (-1isize, 0usize);
    for (ys, _) in &groups {
        let anchor = match ys.clone().next() {
            Some(first) => {
                let from: Vec<usize> = ys.clone().map(|a| perm[a]).collect();
                if from.windows(2).any(|w| w[1] != w[0] + 1) {
                    return None;
                }
                (perm[first] as isize, 0)
            }
            None => (prev.0, prev.1 + 1),
        };
        prev = anchor;
        anchors.push(anchor);
    }
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&k| anchors[k]);
    // The inner shape: the groups' output dims in x order; q maps output axes into it.
    let mut inner = Vec::with_capacity(out.len());
    let mut q = vec![0; out.len()];
    for &k in &order {
        for o in groups[k].1.clone() {
            q[o] = inner.len();
            inner.push(out[o].clone());
        }
    }
    let x: Vec<Dim> = {
        let inv = inverse_perm(perm);
        (0..perm.len()).map(|j| y[inv[j]].clone()).collect()
    };
    let target = reshape_target(&x, &inner)?;
    Some((target, (!is_identity_perm(&q)).then_some(q)))
}

/// Sinking a transpose through an Unsqueeze whose output axes `inserted` are the new
/// size-1 axes: the new axes are inserted into `x` after the axis that precedes them in the
/// output. Returns the Unsqueeze axes for `x` and the permutation restoring the output
/// (`None` when it is the identity).
fn plan_unsqueeze(perm: &[usize], inserted: &[bool]) -> (Vec<i64>, Option<Vec<usize>>) {
    let mut anchors = Vec::with_capacity(inserted.len());
    // Leading new axes stay in front.
    let mut prev = (-1isize, 0usize);
    let mut y_axis = 0;
    for &new in inserted {
        let anchor = if new {
            (prev.0, prev.1 + 1)
        } else {
            y_axis += 1;
            (perm.get(y_axis - 1).map_or(0, |&p| p as isize), 0)
        };
        prev = anchor;
        anchors.push(anchor);
    }
    let mut order: Vec<usize> = (0..inserted.len()).collect();
    order.sort_by_key(|&o| anchors[o]);
    let mut q = vec![0; inserted.len()];
    let mut new_axes = Vec::new();
    for (pos, &o) in order.iter().enumerate() {
        q[o] = pos;
        if inserted[o] {
            new_axes.push(pos as i64);
        }
    }
    (new_axes, (!is_identity_perm(&q)).then_some(q))
}

/// Factors a reshape from `a` to `b` into pairs of axis ranges with equal sizes: every
/// size-1 axis alone (paired with an empty range), equal symbolic dims one to one, and
/// runs of fixed dims whose products match. `None` if the shapes do not factor this way.
fn reshape_groups(a: &[Dim], b: &[Dim]) -> Option<Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>> {
    let one = Dim::Fixed(1);
    let (mut i, mut j) = (0, 0);
    let mut groups = Vec::new();
    while i < a.len() || j < b.len() {
        if a.get(i) == Some(&one) {
            groups.push((i..i + 1, j..j));
            i += 1;
            continue;
        }
        if b.get(j) == Some(&one) {
            groups.push((i..i, j..j + 1));
            j += 1;
            continue;
        }
        let (da, db) = (a.get(i)?, b.get(j)?);
        let (si, sj) = (i, j);
        match (da, db) {
            (Dim::Fixed(pa), Dim::Fixed(pb)) => {
                let (mut pa, mut pb) = (*pa, *pb);
                i += 1;
                j += 1;
                while pa != pb {
                    if pa < pb {
                        pa = pa.checked_mul(a.get(i)?.fixed()?)?;
                        i += 1;
                    } else {
                        pb = pb.checked_mul(b.get(j)?.fixed()?)?;
                        j += 1;
                    }
                }
            }
            (Dim::Sym(s), Dim::Sym(t)) if s == t && s != "?" => {
                i += 1;
                j += 1;
            }
            _ => return None,
        }
        groups.push((si..i, sj..j));
    }
    Some(groups)
}

/// The permutation that restores an output from which the axes `removed` (in transposed
/// coordinates) were dropped, or `None` when the remaining axes are already in order.
fn reduced_perm(perm: &[usize], removed: &[usize]) -> Option<Vec<usize>> {
    let kept: Vec<usize> = (0..perm.len()).filter(|i| !removed.contains(i)).map(|i| perm[i]).collect();
    let mut sorted = kept.clone();
    sorted.sort_unstable();
    let q: Vec<usize> = kept.iter().map(|a| sorted.iter().position(|s| s == a).unwrap_or(0)).collect();
    (!is_identity_perm(&q)).then_some(q)
}

/// Applies a plan: rewires the reader and puts transposes on its outputs.
fn apply_plan(g: &mut Graph, plan: SinkPlan) {
    let name = g.nodes[plan.node].name.clone();
    let mut inputs = Vec::with_capacity(plan.inputs.len());
    for input in plan.inputs {
        inputs.push(match input {
            NewInput::Same(t) => t,
            NewInput::Source(t) => Some(t),
            NewInput::Ints(values) => Some(add_i64_const(g, &format!("{name}/axes_nhwc"), &[values.len()], &values)),
            NewInput::Permuted { constant, perm } => Some(permuted_const(g, constant, &perm)),
        });
    }
    let node = &mut g.nodes[plan.node];
    node.op = plan.op;
    node.inputs = inputs;
    let outputs = node.outputs.clone();
    let mut insert_at = plan.node + 1;
    if let (Some(indices), [z]) = (plan.gather_after, &outputs[..]) {
        let full_len = g.nodes[plan.node].input(0).and_then(|x| dims(g, x)).map(|d| vec![Dim::Fixed(d.len())]);
        let base = format!("{}/full", g.tensors[*z].name);
        let full = add_value(g, &base, DType::I64, full_len);
        let idx = add_i64_const(g, &format!("{name}/perm"), &[indices.len()], &indices);
        g.nodes[plan.node].outputs = vec![full];
        g.nodes.insert(
            insert_at,
            Node {
                name: format!("{name}/gather"),
                op: Op::Gather { axis: 0 },
                inputs: vec![Some(full), Some(idx)],
                outputs: vec![*z],
            },
        );
        return;
    }
    for (k, (z, out_perm)) in outputs.into_iter().zip(plan.out_perms).enumerate() {
        let Some(q) = out_perm else { continue };
        let info = &g.tensors[z];
        // z = transpose(z', q), so z'.shape[q[i]] = z.shape[i].
        let inner_shape = info.shape.as_ref().filter(|s| s.len() == q.len()).map(|s| {
            let mut inner = s.clone();
            for (i, &qi) in q.iter().enumerate() {
                inner[qi] = s[i].clone();
            }
            inner
        });
        let base = format!("{}/untransposed", info.name);
        let dtype = info.dtype;
        let inner = add_value(g, &base, dtype, inner_shape);
        g.nodes[plan.node].outputs[k] = inner;
        g.nodes.insert(
            insert_at,
            Node {
                name: format!("{name}/transpose_out{k}"),
                op: Op::Transpose { perm: q },
                inputs: vec![Some(inner)],
                outputs: vec![z],
            },
        );
        insert_at += 1;
    }
}

/// A new constant holding constant `t` right-aligned to rank `perm.len()` and permuted.
fn permuted_const(g: &mut Graph, t: TensorId, perm: &[usize]) -> TensorId {
    let info = &g.tensors[t];
    let (Some(shape), Some(data)) = (info.fixed_shape(), &info.data) else { return t };
    let mut full = vec![1; perm.len().saturating_sub(shape.len())];
    full.extend_from_slice(&shape);
    let Some(bytes) = permute_bytes(data.bytes(), info.dtype.size(), &full, perm) else { return t };
    let new_shape: Vec<usize> = perm.iter().map(|&p| full[p]).collect();
    let (name, dtype) = (fresh_name(g, &format!("{}/nhwc", info.name)), info.dtype);
    g.add_const(name, dtype, &new_shape, ConstData::from_bytes(&bytes))
}

/// Rewrites the transpose at node `id` as a reshape if it moves only size-1 dimensions.
/// Returns whether it did.
fn size_one_transpose_to_reshape(g: &mut Graph, id: NodeId) -> bool {
    let Some(perm) = transpose_perm(g, id) else { return false };
    let Some(x) = g.nodes[id].input(0) else { return false };
    let Some(shape) = dims(g, x).filter(|s| s.len() == perm.len()) else { return false };
    // Data order is unchanged iff the axes that are not size 1 keep their order.
    let moved: Vec<usize> = perm.iter().copied().filter(|&p| shape[p] != Dim::Fixed(1)).collect();
    if moved.windows(2).any(|w| w[0] > w[1]) {
        return false;
    }
    // Target shape in Reshape's terms: a symbolic dim staying in place is "copy" (0),
    // one other symbolic dim is "infer" (-1).
    let mut target = Vec::with_capacity(perm.len());
    let mut inferred = false;
    let mut ok = true;
    for (i, &p) in perm.iter().enumerate() {
        match &shape[p] {
            Dim::Fixed(0) => ok = false,
            Dim::Fixed(n) => target.push(*n as i64),
            Dim::Sym(_) if p == i => target.push(0),
            Dim::Sym(_) if !inferred => {
                inferred = true;
                target.push(-1);
            }
            Dim::Sym(_) => ok = false,
        }
    }
    if !ok {
        return false;
    }
    let name = g.nodes[id].name.clone();
    let shape_const = add_i64_const(g, &format!("{name}/shape"), &[target.len()], &target);
    let node = &mut g.nodes[id];
    node.op = Op::Reshape { allow_zero: false };
    node.inputs = vec![Some(x), Some(shape_const)];
    true
}

#[cfg(test)]
mod tests;
