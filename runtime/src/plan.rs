//! Planning: from a model and concrete input shapes to an executable [`Plan`].
//!
//! 1. **Shapes.** Input shapes bind the symbolic dims; [`crate::ops::infer`] gives every
//!    tensor a concrete shape.
//! 2. **Plan-time values.** A node whose inputs are all known (weights, or shape tensors
//!    such as `Shape(x)` now that shapes are known) is evaluated once here with the
//!    reference kernels, so `Shape -> Gather -> Concat -> Reshape` chains left by exporters
//!    cost nothing per run.
//! 3. **Kernels.** Each remaining node gets the highest-priority applicable kernel from the
//!    model's registry; its weights are pre-packed once per model.
//! 4. **Memory.** Reshape-like nodes alias their input (no copy, no step). Every other
//!    activation gets a region of one arena, placed greedily (largest first) so that tensors
//!    whose lifetimes overlap never share bytes. The disjointness the executor relies on is
//!    re-checked after placement.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::ir::{ConstData, DType, Dim, Graph, NodeId, Op, TensorId};
use crate::kernel::{Kernel, KernelIo, NodeCtx, Parallel};
use crate::model::Model;
use crate::ops::{self, Fact};
use crate::select;
use crate::tensor::{Tensor, TensorView, TensorViewMut, checked_numel};

/// Arena regions start at multiples of this (cache line, widest SIMD load).
const ALIGN: usize = 64;

/// Where a tensor's bytes live during a run.
#[derive(Debug, Clone)]
enum Storage {
    /// Not needed by any step (its producer was folded or it is unused).
    None,
    /// Known before running: weights and plan-time values.
    Value(ConstData),
    /// A region of the activation arena.
    Arena {
        /// Byte offset in the arena.
        offset: usize,
    },
    /// Model input `index`, read in place from the caller's buffer when it is aligned for
    /// its element type; otherwise copied into the arena region at `offset` first.
    Input {
        /// Position in the model's inputs.
        index: usize,
        /// Byte offset of the fallback region in the arena.
        offset: usize,
    },
}

#[derive(Debug, Clone)]
struct Slot {
    dtype: DType,
    shape: Vec<usize>,
    bytes: usize,
    storage: Storage,
}

struct Step {
    node: NodeId,
    kernel_id: String,
    params: Vec<(String, usize)>,
    reason: crate::select::Reason,
    kernel: Box<dyn Kernel>,
}

/// What planning takes besides the model and the input shapes.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// A device profile whose picks override the heuristic (already checked against this
    /// machine and kernel set: see [`crate::profile::Profile::check`]).
    pub profile: Option<std::sync::Arc<crate::profile::Profile>>,
    /// Threads the plan will run on (part of profile keys).
    pub threads: usize,
}

/// Public description of one step, for `ferrolite bench --layers` and logs.
#[derive(Debug, Clone)]
pub struct StepInfo {
    /// The node.
    pub node: NodeId,
    /// The node's name.
    pub name: String,
    /// Operator name (`Conv2d`, `Add`, ...).
    pub op: String,
    /// Variant id of the kernel that runs it.
    pub kernel: String,
    /// Run-time parameters it was built with (empty: its defaults).
    pub params: Vec<(String, usize)>,
    /// Why this variant (profile, nearest entry, heuristic rule, fallback).
    pub reason: crate::select::Reason,
    /// Shape of the first output.
    pub output_shape: Vec<usize>,
}

/// An executable plan for one set of input shapes.
pub struct Plan {
    input_shapes: Vec<Vec<usize>>,
    slots: Vec<Slot>,
    steps: Vec<Step>,
    inputs: Vec<TensorId>,
    outputs: Vec<TensorId>,
    arena_bytes: usize,
    workspace_bytes: usize,
    step_infos: Vec<StepInfo>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("input_shapes", &self.input_shapes)
            .field("steps", &self.steps.len())
            .field("arena_bytes", &self.arena_bytes)
            .field("workspace_bytes", &self.workspace_bytes)
            .finish()
    }
}

fn align_up(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

fn dims(shape: &[usize]) -> Vec<Dim> {
    shape.iter().map(|&d| Dim::Fixed(d)).collect()
}

impl Plan {
    /// Plans `model` for inputs of these shapes (in the model's input order), one thread,
    /// no profile.
    pub fn new(model: &Model, input_shapes: &[Vec<usize>]) -> Result<Plan> {
        Self::with_options(model, input_shapes, &PlanOptions { profile: None, threads: 1 })
    }

    /// Plans `model` for inputs of these shapes with a profile and a thread count.
    pub fn with_options(model: &Model, input_shapes: &[Vec<usize>], options: &PlanOptions) -> Result<Plan> {
        let g = model.graph();
        let (shapes, dtypes, values) = infer_all(g, input_shapes)?;
        let (alias, running) = running_nodes(g, &dtypes, &values);

        // Build kernels.
        let mut steps = Vec::with_capacity(running.len());
        let mut workspace_bytes = 0usize;
        for &id in &running {
            let ctx = node_ctx(g, id, &shapes, &dtypes, &values);
            let registry = model.registry();
            let no_kernel = || {
                let ins: Vec<String> =
                    ctx.inputs.iter().map(|i| i.map_or("-".into(), |(d, s)| format!("{d}{s:?}"))).collect();
                Error::Unsupported(format!("{}: no kernel for inputs {}", g.node_label(id), ins.join(", ")))
            };
            let profile = options.profile.as_deref();
            let chosen = select::select(registry, &ctx, profile, options.threads).ok_or_else(no_kernel)?;
            let packed = model.packed_weights(chosen.factory.as_ref(), &ctx)?;
            let (chosen, kernel) = match chosen.factory.build_with(&ctx, packed, &chosen.params) {
                Ok(k) => (chosen, k),
                // A profile pick that cannot be built here (its parameters are not this
                // build's): the choice without the profile.
                Err(_) if profile.is_some() => {
                    let plain = select::select(registry, &ctx, None, options.threads).ok_or_else(no_kernel)?;
                    let packed = model.packed_weights(plain.factory.as_ref(), &ctx)?;
                    let k = plain.factory.build_with(&ctx, packed, &plain.params)?;
                    (plain, k)
                }
                Err(e) => return Err(e),
            };
            workspace_bytes = workspace_bytes.max(kernel.workspace_bytes());
            steps.push(Step {
                node: id,
                kernel_id: chosen.factory.id().to_string(),
                params: chosen.params,
                reason: chosen.reason,
                kernel,
            });
        }

        // Lifetimes of arena tensors (by alias root), in step indices.
        let n = g.tensors.len();
        let mut first = vec![usize::MAX; n];
        let mut last = vec![0usize; n];
        let mut in_arena = vec![false; n];
        for &t in &g.inputs {
            let r = alias[t];
            in_arena[r] = true;
            first[r] = 0;
        }
        for (s, step) in steps.iter().enumerate() {
            let node = &g.nodes[step.node];
            for &t in &node.outputs {
                let r = alias[t];
                in_arena[r] = true;
                first[r] = first[r].min(s);
                last[r] = last[r].max(s);
            }
            for t in node.inputs.iter().flatten() {
                if values[*t].is_none() {
                    let r = alias[*t];
                    last[r] = last[r].max(s);
                }
            }
        }
        for &t in &g.outputs {
            if values[t].is_none() {
                last[alias[t]] = steps.len();
            }
        }

        // Greedy placement, largest first.
        let mut roots: Vec<TensorId> = (0..n).filter(|&t| in_arena[t] && alias[t] == t).collect();
        let size_of = |t: TensorId| -> Result<usize> {
            checked_numel(&shapes[t])
                .and_then(|e| e.checked_mul(dtypes[t].size()))
                .ok_or_else(|| Error::Graph(format!("tensor \"{}\" is too large", g.tensors[t].name)))
        };
        let mut sizes = vec![0usize; n];
        for &r in &roots {
            sizes[r] = size_of(r)?;
        }
        roots.sort_by_key(|&t| (std::cmp::Reverse(sizes[t]), t));
        let mut offsets = vec![0usize; n];
        let mut placed: Vec<TensorId> = Vec::with_capacity(roots.len());
        let mut arena_bytes = 0usize;
        for &r in &roots {
            let mut busy: Vec<(usize, usize)> = placed
                .iter()
                .filter(|&&p| first[p] <= last[r] && first[r] <= last[p])
                .map(|&p| (offsets[p], offsets[p] + align_up(sizes[p])))
                .collect();
            busy.sort_unstable();
            let need = align_up(sizes[r]);
            let mut at = 0usize;
            for (start, end) in busy {
                if at + need <= start {
                    break;
                }
                at = at.max(end);
            }
            offsets[r] = at;
            arena_bytes = arena_bytes.max(at + need);
            placed.push(r);
        }

        // Model inputs (and their reshaped aliases) are read from the caller's buffers, no
        // copy, unless a model output shares their bytes: outputs are read from the arena.
        let mut input_of = vec![None; n];
        for (i, &t) in g.inputs.iter().enumerate() {
            input_of[alias[t]] = Some(i);
        }
        for &t in &g.outputs {
            input_of[alias[t]] = None;
        }
        let mut slots = Vec::with_capacity(n);
        for t in 0..n {
            let bytes = if in_arena[alias[t]] || values[t].is_some() { size_of(t)? } else { 0 };
            let storage = match (&values[t], in_arena[alias[t]], input_of[alias[t]]) {
                (Some(v), _, _) => Storage::Value(v.clone()),
                (None, true, Some(index)) => Storage::Input { index, offset: offsets[alias[t]] },
                (None, true, None) => Storage::Arena { offset: offsets[alias[t]] },
                (None, false, _) => Storage::None,
            };
            slots.push(Slot { dtype: dtypes[t], shape: shapes[t].clone(), bytes, storage });
        }

        let step_infos = steps
            .iter()
            .map(|s| {
                let node = &g.nodes[s.node];
                StepInfo {
                    node: s.node,
                    name: node.name.clone(),
                    op: node.op.name(),
                    kernel: s.kernel_id.clone(),
                    params: s.params.clone(),
                    reason: s.reason.clone(),
                    output_shape: node.outputs.first().map(|&t| shapes[t].clone()).unwrap_or_default(),
                }
            })
            .collect();
        let plan = Plan {
            input_shapes: input_shapes.to_vec(),
            slots,
            steps,
            inputs: g.inputs.clone(),
            outputs: g.outputs.clone(),
            arena_bytes,
            workspace_bytes,
            step_infos,
        };
        plan.check_disjoint(g)?;
        Ok(plan)
    }

    /// The input shapes this plan is for.
    pub fn input_shapes(&self) -> &[Vec<usize>] {
        &self.input_shapes
    }

    /// Bytes of the activation arena.
    pub fn arena_bytes(&self) -> usize {
        self.arena_bytes
    }

    /// Bytes of the shared kernel workspace.
    pub fn workspace_bytes(&self) -> usize {
        self.workspace_bytes
    }

    /// The steps that run, in order, with the kernel chosen for each.
    pub fn steps(&self) -> &[StepInfo] {
        &self.step_infos
    }

    /// Shape of output `i`.
    pub fn output_shape(&self, i: usize) -> Option<&[usize]> {
        self.outputs.get(i).map(|&t| self.slots[t].shape.as_slice())
    }

    /// Element type of output `i`.
    pub fn output_dtype(&self, i: usize) -> Option<DType> {
        self.outputs.get(i).map(|&t| self.slots[t].dtype)
    }

    fn arena_range(&self, t: TensorId) -> Option<(usize, usize)> {
        match self.slots[t].storage {
            Storage::Arena { offset } | Storage::Input { offset, .. } => Some((offset, offset + self.slots[t].bytes)),
            _ => None,
        }
    }

    /// The executor hands out overlapping-free `&mut` regions of one arena; this checks,
    /// for every step, that its outputs are pairwise disjoint, disjoint from its arena
    /// inputs, and inside the arena. A failure is a planner bug, reported as an error
    /// rather than left to undefined behaviour.
    fn check_disjoint(&self, g: &Graph) -> Result<()> {
        let overlap = |a: (usize, usize), b: (usize, usize)| a.0 < b.1 && b.0 < a.1;
        for step in &self.steps {
            let node = &g.nodes[step.node];
            let mut outs = Vec::with_capacity(node.outputs.len());
            for &t in &node.outputs {
                let r = self.arena_range(t).ok_or_else(|| {
                    Error::Graph(format!("{}: output \"{}\" has no arena region", g.node_label(step.node), g.tensors[t].name))
                })?;
                if r.1 > self.arena_bytes || outs.iter().any(|&o| overlap(o, r) && r.0 != r.1) {
                    return Err(Error::Graph(format!("{}: planner produced overlapping outputs", g.node_label(step.node))));
                }
                outs.push(r);
            }
            for t in node.inputs.iter().flatten() {
                if let Some(r) = self.arena_range(*t) {
                    if r.1 > self.arena_bytes || outs.iter().any(|&o| overlap(o, r)) {
                        return Err(Error::Graph(format!(
                            "{}: planner placed an input and an output in the same bytes",
                            g.node_label(step.node)
                        )));
                    }
                }
            }
        }
        for &t in self.inputs.iter().chain(&self.outputs) {
            if let Some(r) = self.arena_range(t) {
                if r.1 > self.arena_bytes {
                    return Err(Error::Graph("planner placed a model input or output outside the arena".into()));
                }
            }
        }
        Ok(())
    }

    /// Runs the plan. `inputs` must match [`Plan::input_shapes`] and the model's input
    /// dtypes (the session checks). `arena` and `workspace` must hold at least
    /// [`Plan::arena_bytes`] and [`Plan::workspace_bytes`] bytes. With `step_times`, the
    /// wall time of each step is written to it (one entry per [`Plan::steps`]).
    pub(crate) fn execute(
        &self,
        g: &Graph,
        inputs: &[TensorView<'_>],
        arena: &mut [u8],
        workspace: &mut [u8],
        par: &Parallel<'_>,
        mut step_times: Option<&mut [std::time::Duration]>,
    ) -> Result<()> {
        if arena.len() < self.arena_bytes || workspace.len() < self.workspace_bytes {
            return Err(Error::Input("arena or workspace smaller than the plan needs".into()));
        }
        // Inputs read in place; an unaligned one (or one that is also an output) is copied.
        let mut in_place: smallvec::SmallVec<[bool; 4]> = smallvec::smallvec![false; inputs.len()];
        for (i, (view, &t)) in inputs.iter().zip(&self.inputs).enumerate() {
            if let Some((start, end)) = self.arena_range(t) {
                if view.bytes().len() != end - start {
                    return Err(Error::Input(format!("input \"{}\" has the wrong size", g.tensors[t].name)));
                }
                let aligned = view.bytes().as_ptr().align_offset(view.dtype().size().max(1)) == 0;
                if matches!(self.slots[t].storage, Storage::Input { .. }) && aligned {
                    in_place[i] = true;
                } else {
                    arena[start..end].copy_from_slice(view.bytes());
                }
            }
        }
        let base = arena.as_mut_ptr();
        for (s, step) in self.steps.iter().enumerate() {
            let started = step_times.is_some().then(std::time::Instant::now);
            let node = &g.nodes[step.node];
            let mut in_views: smallvec::SmallVec<[Option<TensorView<'_>>; 6]> = smallvec::SmallVec::new();
            for t in &node.inputs {
                let view = match t {
                    None => None,
                    Some(t) => {
                        let slot = &self.slots[*t];
                        let bytes: &[u8] = match &slot.storage {
                            Storage::Value(v) => v.bytes(),
                            Storage::Input { index, .. } if in_place[*index] => inputs[*index].bytes(),
                            Storage::Arena { offset } | Storage::Input { offset, .. } => {
                                // SAFETY: `check_disjoint` proved `offset + bytes` lies inside
                                // the arena (`arena.len() >= arena_bytes`, checked above) and
                                // that no output of this step overlaps this input, so this
                                // shared slice never aliases the mutable output slices made
                                // below. It lives only for this step.
                                unsafe { std::slice::from_raw_parts(base.add(*offset), slot.bytes) }
                            }
                            Storage::None => {
                                return Err(Error::Graph(format!(
                                    "{}: input \"{}\" was never computed",
                                    g.node_label(step.node),
                                    g.tensors[*t].name
                                )));
                            }
                        };
                        Some(TensorView::new(slot.dtype, &slot.shape, bytes)?)
                    }
                };
                in_views.push(view);
            }
            let mut out_views: smallvec::SmallVec<[TensorViewMut<'_>; 2]> = smallvec::SmallVec::new();
            for &t in &node.outputs {
                let slot = &self.slots[t];
                let Storage::Arena { offset } = slot.storage else {
                    return Err(Error::Graph(format!("{}: output has no arena region", g.node_label(step.node))));
                };
                // SAFETY: `check_disjoint` proved this region lies inside the arena and
                // overlaps neither another output of this step nor any arena input of it;
                // the arena is exclusively borrowed by this call, so this is the only
                // mutable reference to these bytes while the kernel runs.
                let bytes = unsafe { std::slice::from_raw_parts_mut(base.add(offset), slot.bytes) };
                out_views.push(TensorViewMut::new(slot.dtype, &slot.shape, bytes)?);
            }
            let ws = &mut workspace[..step.kernel.workspace_bytes().min(self.workspace_bytes)];
            step.kernel
                .run(KernelIo { inputs: &in_views, outputs: &mut out_views, workspace: ws }, par)
                .map_err(|e| match e {
                    Error::Node { .. } => e,
                    other => Error::node(g.node_label(step.node), other.to_string()),
                })?;
            if let (Some(times), Some(t0)) = (step_times.as_deref_mut(), started) {
                if let Some(slot) = times.get_mut(s) {
                    *slot = t0.elapsed();
                }
            }
        }
        Ok(())
    }

    /// The bytes of output `i` after [`Plan::execute`] ran on `arena`.
    pub(crate) fn output_bytes<'a>(&'a self, i: usize, arena: &'a [u8]) -> Result<&'a [u8]> {
        let t = *self.outputs.get(i).ok_or_else(|| Error::Input(format!("no output {i}")))?;
        let slot = &self.slots[t];
        match &slot.storage {
            Storage::Value(v) => Ok(v.bytes()),
            // An output never reads in place from a caller's input (the planner keeps those in
            // the arena), so its bytes are always in the arena here.
            Storage::Arena { offset } | Storage::Input { offset, .. } => arena
                .get(*offset..*offset + slot.bytes)
                .ok_or_else(|| Error::Graph("output outside the arena".into())),
            Storage::None => Err(Error::Graph(format!("output #{i} (tensor #{t}) was never computed"))),
        }
    }
}

/// Calls `f` with the context of every node that runs for inputs of these shapes (not
/// evaluated at plan time, not a reshape that aliases its input), in order: what the tuner
/// measures and `ferrolite plan` explains.
pub fn visit_nodes(model: &Model, input_shapes: &[Vec<usize>], mut f: impl FnMut(&NodeCtx<'_>) -> Result<()>) -> Result<()> {
    let g = model.graph();
    let (shapes, dtypes, values) = infer_all(g, input_shapes)?;
    let (_, running) = running_nodes(g, &dtypes, &values);
    for id in running {
        f(&node_ctx(g, id, &shapes, &dtypes, &values))?;
    }
    Ok(())
}

/// Which nodes still run, and which tensor each tensor's bytes belong to (reshape-like
/// nodes alias their input instead of running).
fn running_nodes(g: &Graph, dtypes: &[DType], values: &[Option<ConstData>]) -> (Vec<TensorId>, Vec<NodeId>) {
    let mut alias: Vec<TensorId> = (0..g.tensors.len()).collect();
    let mut running: Vec<NodeId> = Vec::new();
    for (id, node) in g.nodes.iter().enumerate() {
        if node.outputs.iter().all(|&t| values[t].is_some()) {
            continue; // evaluated at plan time
        }
        if node.op.is_reshape_like() {
            if let (Some(src), [out]) = (node.input(0), node.outputs.as_slice()) {
                if values[src].is_none() && dtypes[src] == dtypes[*out] {
                    alias[*out] = alias[src];
                    continue;
                }
            }
        }
        running.push(id);
    }
    (alias, running)
}

fn node_ctx<'a>(
    g: &'a Graph,
    id: NodeId,
    shapes: &'a [Vec<usize>],
    dtypes: &[DType],
    values: &'a [Option<ConstData>],
) -> NodeCtx<'a> {
    let node = &g.nodes[id];
    NodeCtx {
        graph: g,
        node_id: id,
        node,
        inputs: node.inputs.iter().map(|t| t.map(|t| (dtypes[t], shapes[t].as_slice()))).collect(),
        outputs: node.outputs.iter().map(|&t| (dtypes[t], shapes[t].as_slice())).collect(),
        values: node.inputs.iter().map(|t| t.and_then(|t| values[t].as_ref())).collect(),
    }
}

type Inferred = (Vec<Vec<usize>>, Vec<DType>, Vec<Option<ConstData>>);

/// Binds input shapes, infers every tensor's shape, and evaluates what is known.
fn infer_all(g: &Graph, input_shapes: &[Vec<usize>]) -> Result<Inferred> {
    let n = g.tensors.len();
    if input_shapes.len() != g.inputs.len() {
        return Err(Error::Input(format!("the model has {} inputs, got {}", g.inputs.len(), input_shapes.len())));
    }
    let mut shapes: Vec<Option<Vec<usize>>> = g.tensors.iter().map(|t| t.data.as_ref().and(t.fixed_shape())).collect();
    let mut dtypes: Vec<DType> = g.tensors.iter().map(|t| t.dtype).collect();
    let mut values: Vec<Option<ConstData>> = g.tensors.iter().map(|t| t.data.clone()).collect();

    let mut syms: HashMap<&str, usize> = HashMap::new();
    for (&t, shape) in g.inputs.iter().zip(input_shapes) {
        let info = &g.tensors[t];
        if let Some(declared) = &info.shape {
            if declared.len() != shape.len() {
                return Err(Error::Input(format!(
                    "input \"{}\" has rank {} ({}), got shape {shape:?}",
                    info.name,
                    declared.len(),
                    show(declared)
                )));
            }
            for (i, (d, &s)) in declared.iter().zip(shape).enumerate() {
                match d {
                    Dim::Fixed(f) if *f != s => {
                        return Err(Error::Input(format!(
                            "input \"{}\" must have shape {}, got {shape:?} (dim {i})",
                            info.name,
                            show(declared)
                        )));
                    }
                    Dim::Sym(name) if name != "?" => {
                        if let Some(&bound) = syms.get(name.as_str()) {
                            if bound != s {
                                return Err(Error::Input(format!(
                                    "input \"{}\" dim {i} ({name}) is {s}, but another input set {name} = {bound}",
                                    info.name
                                )));
                            }
                        }
                        syms.insert(name, s);
                    }
                    _ => {}
                }
            }
        }
        shapes[t] = Some(shape.clone());
    }

    for (id, node) in g.nodes.iter().enumerate() {
        let in_dims: Vec<Option<Vec<Dim>>> =
            node.inputs.iter().map(|t| t.and_then(|t| shapes[t].as_deref().map(dims))).collect();
        let mut facts = Vec::with_capacity(node.inputs.len());
        for (k, t) in node.inputs.iter().enumerate() {
            facts.push(match t {
                None => None,
                Some(t) => {
                    let shape = shapes[*t].as_deref().ok_or_else(|| {
                        Error::node(g.node_label(id), format!("input \"{}\" has no value yet", g.tensors[*t].name))
                    })?;
                    let value = match &values[*t] {
                        Some(v) => Some(TensorView::new(dtypes[*t], shape, v.bytes())?),
                        None => None,
                    };
                    Some(Fact { dtype: dtypes[*t], shape: in_dims[k].as_deref(), value })
                }
            });
        }
        let outs = ops::infer(&node.op, &facts, node.outputs.len()).map_err(|e| Error::node(g.node_label(id), e))?;
        if outs.len() != node.outputs.len() {
            return Err(Error::node(
                g.node_label(id),
                format!("has {} outputs, the operator produces {}", node.outputs.len(), outs.len()),
            ));
        }
        let all_known = node.inputs.iter().flatten().all(|&t| values[t].is_some());
        // `Shape` needs only its input's shape, which is known here.
        let shape_of = match (&node.op, node.input(0)) {
            (Op::Shape { start, end }, Some(x)) if !all_known => {
                shapes[x].as_deref().map(|dims| ops::shape_value(*start, *end, dims))
            }
            _ => None,
        };
        let results = if let Some(v) = shape_of {
            Some(vec![Tensor::from_slice(&[v.len()], &v)?])
        } else if all_known {
            let views: Vec<Option<TensorView<'_>>> = facts.iter().map(|f| f.and_then(|f| f.value)).collect();
            let results = ops::eval(&node.op, &views, node.outputs.len()).map_err(|e| match e {
                Error::Node { msg, .. } => Error::node(g.node_label(id), msg),
                other => other,
            })?;
            Some(results)
        } else {
            None
        };
        drop(facts);
        for (fact, &t) in outs.iter().zip(&node.outputs) {
            let shape: Option<Vec<usize>> = fact.shape.as_ref().and_then(|s| s.iter().map(Dim::fixed).collect());
            let shape = shape.ok_or_else(|| {
                Error::node(g.node_label(id), format!("could not infer the shape of \"{}\"", g.tensors[t].name))
            })?;
            if fact.dtype != g.tensors[t].dtype {
                return Err(Error::node(
                    g.node_label(id),
                    format!("\"{}\" is declared {} but computes {}", g.tensors[t].name, g.tensors[t].dtype, fact.dtype),
                ));
            }
            shapes[t] = Some(shape);
            dtypes[t] = fact.dtype;
        }
        for (r, &t) in results.iter().flatten().zip(&node.outputs) {
            values[t] = Some(ConstData::from_bytes(r.bytes()));
        }
    }
    let mut fixed_shapes = Vec::with_capacity(n);
    for (t, s) in shapes.into_iter().enumerate() {
        match s {
            Some(s) => fixed_shapes.push(s),
            None if g.outputs.contains(&t) => {
                return Err(Error::Graph(format!("output \"{}\" is never computed", g.tensors[t].name)));
            }
            // Read by no node (nodes reading it failed above): never materialized.
            None => fixed_shapes.push(Vec::new()),
        }
    }
    let shapes = fixed_shapes;
    Ok((shapes, dtypes, values))
}

fn show(shape: &[Dim]) -> String {
    ops::util::show(shape)
}
