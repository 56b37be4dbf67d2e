//! Helpers shared by the operator families: axis normalization, broadcasting, and a factory
//! type for reference kernels.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::ir::{Dim, OpKind};
use crate::kernel::{Kernel, KernelFactory, KernelRegistry, NodeCtx, Packed};

/// Normalizes a possibly negative axis against `rank` (`-1` is the last axis).
pub fn normalize_axis(axis: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r {
        return Err(format!("axis {axis} is out of range for rank {rank}"));
    }
    Ok(a as usize)
}

/// Numpy broadcasting of two concrete shapes.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank { a[i + a.len() - rank] } else { 1 };
        let db = if i + b.len() >= rank { b[i + b.len() - rank] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return Err(format!("shapes {a:?} and {b:?} do not broadcast")),
        };
    }
    Ok(out)
}

/// Numpy broadcasting of two possibly symbolic shapes. Unknown results are `Dim::Sym("?")`.
pub fn broadcast_dims(a: &[Dim], b: &[Dim]) -> Result<Vec<Dim>, String> {
    let rank = a.len().max(b.len());
    let one = Dim::Fixed(1);
    let mut out = Vec::with_capacity(rank);
    for i in 0..rank {
        let da = if i + a.len() >= rank { &a[i + a.len() - rank] } else { &one };
        let db = if i + b.len() >= rank { &b[i + b.len() - rank] } else { &one };
        out.push(match (da, db) {
            (x, y) if x == y && x != &Dim::Sym("?".into()) => x.clone(),
            (Dim::Fixed(1), y) => y.clone(),
            (x, Dim::Fixed(1)) => x.clone(),
            (Dim::Fixed(x), Dim::Fixed(y)) => {
                return Err(format!("shapes {} and {} do not broadcast (dim {x} vs {y})", show(a), show(b)));
            }
            // A symbolic size against a fixed size > 1 must equal it to be valid.
            (Dim::Fixed(x), _) | (_, Dim::Fixed(x)) => Dim::Fixed(*x),
            _ => Dim::Sym("?".into()),
        });
    }
    Ok(out)
}

/// Formats a symbolic shape as `[1, height, 224, 3]`.
pub fn show(shape: &[Dim]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// Row-major strides of a shape, in elements.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// A fixed shape as `Dim`s.
pub fn fixed(shape: &[usize]) -> Vec<Dim> {
    shape.iter().map(|&d| Dim::Fixed(d)).collect()
}

type AppliesFn = fn(&NodeCtx<'_>) -> bool;
type BuildFn = fn(&NodeCtx<'_>) -> Result<Box<dyn Kernel>>;

/// A reference [`KernelFactory`] from two plain functions: no pre-packing, priority 0.
#[derive(Debug)]
pub struct RefFactory {
    /// Variant id, `<dtype>-<op>-reference`.
    pub id: &'static str,
    /// Operator kind.
    pub op: OpKind,
    /// Applicability check.
    pub applies: AppliesFn,
    /// Builds the kernel for the node's shapes.
    pub build: BuildFn,
}

impl KernelFactory for RefFactory {
    fn id(&self) -> &str {
        self.id
    }
    fn op(&self) -> OpKind {
        self.op
    }
    fn applies(&self, ctx: &NodeCtx<'_>) -> bool {
        (self.applies)(ctx)
    }
    fn build(&self, ctx: &NodeCtx<'_>, _packed: Option<Packed>) -> Result<Box<dyn Kernel>> {
        (self.build)(ctx)
    }
}

/// Registers a [`RefFactory`].
pub fn register_ref(registry: &mut KernelRegistry, id: &'static str, op: OpKind, applies: AppliesFn, build: BuildFn) {
    registry.register(Arc::new(RefFactory { id, op, applies, build }));
}

// ---------------------------------------------------------------------------------------
// Shape-inference helpers and strided iteration, shared by the element-wise, movement,
// shape and resize families.
// ---------------------------------------------------------------------------------------

/// A dimension whose size is not known during shape inference (`?`).
pub fn unknown_dim() -> Dim {
    Dim::Sym("?".into())
}

/// Input `i` of a node during shape inference, or an error naming it (`what`).
pub fn fact<'f, 'a>(inputs: &'f [Option<super::Fact<'a>>], i: usize, what: &str) -> Result<&'f super::Fact<'a>, String> {
    inputs.get(i).and_then(Option::as_ref).ok_or_else(|| format!("input {i} ({what}) is missing"))
}

/// The value of an integer (`i64` or `i32`) tensor fact widened to `i64`, if known.
pub fn int_values(f: &super::Fact<'_>, what: &str) -> Option<Result<Vec<i64>, String>> {
    let v = f.value?;
    Some(v.to_i64_vec().map_err(|_| format!("{what} must be an i64 or i32 tensor, got {}", v.dtype())))
}

/// The product of possibly symbolic dims: fixed when all are fixed (or one is a fixed 0),
/// the single symbolic dim when the others multiply to 1, `?` otherwise. Errors on overflow.
pub fn dims_product(dims: &[Dim]) -> Result<Dim, String> {
    let mut fixed = 1usize;
    let mut syms = Vec::new();
    for d in dims {
        match d {
            Dim::Fixed(n) => {
                fixed = fixed.checked_mul(*n).ok_or_else(|| format!("the size of {} overflows", show(dims)))?;
            }
            Dim::Sym(_) => syms.push(d),
        }
    }
    Ok(match syms.as_slice() {
        _ if fixed == 0 => Dim::Fixed(0),
        [] => Dim::Fixed(fixed),
        [only] if fixed == 1 && **only != unknown_dim() => (*only).clone(),
        _ => unknown_dim(),
    })
}

/// Checks that a tensor of `dims` (the fixed ones) fits in memory addressing: element count
/// times element size must not overflow `isize`. Shape inference calls this on shapes that
/// come from tensor *values* (ConstantOfShape, Expand, Range, Resize sizes), so a hostile
/// model gets an error instead of an overflowing allocation.
pub fn check_size(dims: &[Dim], elem_size: usize) -> Result<(), String> {
    let n = dims.iter().filter_map(Dim::fixed).try_fold(elem_size.max(1), |a, d| a.checked_mul(d));
    match n {
        Some(b) if b <= isize::MAX as usize => Ok(()),
        _ => Err(format!("a tensor of shape {} is too large to address", show(dims))),
    }
}

/// Elements per task when a kernel splits a flat output over threads: large enough that task
/// overhead is negligible, small enough that two cores share work on mid-sized tensors.
pub const PAR_CHUNK: usize = 1 << 14;

/// A row-major walk over an output tensor in contiguous runs along its innermost axis,
/// tracking the matching element offset in each of `N` operands read with arbitrary strides
/// (0 for a broadcast axis, negative for a reversed one).
///
/// Construction drops size-1 axes and merges adjacent axes that every operand reads as one
/// (`stride[i] == stride[i + 1] * dims[i + 1]`), so the common cases (same shape, scalar
/// operand, per-channel operand, contiguous slices) collapse to one or two axes and the
/// per-run bookkeeping is amortized over long runs.
#[derive(Debug, Clone)]
pub struct StridedRuns<const N: usize> {
    dims: Vec<usize>,
    strides: Vec<[isize; N]>,
    base: [isize; N],
    numel: usize,
}

impl<const N: usize> StridedRuns<N> {
    /// A walk over `dims` where operand `k` reads element `base[k] + sum(i_d * strides[d][k])`.
    /// `strides` has one entry per axis of `dims`.
    pub fn new(dims: &[usize], strides: &[[isize; N]], base: [isize; N]) -> Result<Self, String> {
        if strides.len() != dims.len() {
            return Err(format!("{} strides for a rank-{} walk", strides.len(), dims.len()));
        }
        let numel = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or("element count overflows")?;
        let mut out_dims: Vec<usize> = Vec::with_capacity(dims.len());
        let mut out_strides: Vec<[isize; N]> = Vec::with_capacity(dims.len());
        for (&d, s) in dims.iter().zip(strides) {
            if d == 1 {
                continue;
            }
            if let (Some(last_d), Some(last_s)) = (out_dims.last_mut(), out_strides.last_mut())
                && (0..N).all(|k| last_s[k] == s[k].wrapping_mul(d as isize))
            {
                *last_d *= d;
                *last_s = *s;
                continue;
            }
            out_dims.push(d);
            out_strides.push(*s);
        }
        if out_dims.is_empty() {
            out_dims.push(1);
            out_strides.push([0; N]);
        }
        Ok(StridedRuns { dims: out_dims, strides: out_strides, base, numel })
    }

    /// A walk over the broadcast output shape `out` where each operand has its own shape,
    /// broadcast to `out` by numpy rules (right-aligned, size-1 axes repeated).
    pub fn broadcast(out: &[usize], operands: [&[usize]; N]) -> Result<Self, String> {
        let rank = out.len();
        let mut strides = vec![[0isize; N]; rank];
        for (k, shape) in operands.iter().enumerate() {
            if shape.len() > rank {
                return Err(format!("shape {shape:?} has more axes than the broadcast shape {out:?}"));
            }
            let own = self::strides(shape);
            let lead = rank - shape.len();
            for (i, (&d, &s)) in shape.iter().zip(&own).enumerate() {
                let o = out[lead + i];
                strides[lead + i][k] = if d == o && d != 1 {
                    s as isize
                } else if d == 1 {
                    0
                } else {
                    return Err(format!("shape {shape:?} does not broadcast to {out:?}"));
                };
            }
        }
        Self::new(out, &strides, [0; N])
    }

    /// Number of elements walked.
    pub fn numel(&self) -> usize {
        self.numel
    }

    /// The merged axes (at least one).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// Per merged axis, each operand's stride.
    pub fn strides(&self) -> &[[isize; N]] {
        &self.strides
    }

    /// Each operand's offset for the first element.
    pub fn base(&self) -> [isize; N] {
        self.base
    }

    /// Length of a full run (the innermost merged axis).
    pub fn inner_len(&self) -> usize {
        self.dims.last().copied().unwrap_or(1)
    }

    /// Each operand's stride along a run.
    pub fn inner_strides(&self) -> [isize; N] {
        self.strides.last().copied().unwrap_or([0; N])
    }

    /// Checks that every offset the walk produces for operand `k` lies in `0..lens[k]`, so
    /// kernels can index without further checks.
    pub fn check_bounds(&self, lens: [usize; N]) -> Result<(), String> {
        if self.numel == 0 {
            return Ok(());
        }
        for (k, &len) in lens.iter().enumerate() {
            let (mut lo, mut hi) = (self.base[k] as i128, self.base[k] as i128);
            for (d, s) in self.dims.iter().zip(&self.strides) {
                let span = (*d as i128 - 1) * s[k] as i128;
                if span < 0 {
                    lo += span;
                } else {
                    hi += span;
                }
            }
            if lo < 0 || hi >= len as i128 {
                return Err(format!("operand {k} is read at offsets {lo}..={hi} but holds {len} elements"));
            }
        }
        Ok(())
    }

    /// Operand offsets of the first element of run `row` (a row index over all merged axes
    /// but the innermost).
    fn row_offsets(&self, mut row: usize) -> [isize; N] {
        let mut offs = self.base;
        let outer = self.dims.len() - 1;
        for (d, s) in self.dims[..outer].iter().zip(&self.strides[..outer]).rev() {
            let i = (row % d) as isize;
            row /= d;
            for k in 0..N {
                offs[k] += i * s[k];
            }
        }
        offs
    }

    /// Calls `f(position, len, offsets)` for each contiguous run of output elements in
    /// `start..end` (row-major positions): `len` elements starting at output `position`,
    /// operand `k` starting at `offsets[k]` and advancing by `inner_strides()[k]`.
    pub fn for_each_run(&self, start: usize, end: usize, mut f: impl FnMut(usize, usize, [isize; N])) {
        let end = end.min(self.numel);
        let inner = self.inner_len();
        if start >= end || inner == 0 {
            return;
        }
        let step = self.inner_strides();
        let mut row = start / inner;
        let mut col = start % inner;
        let mut pos = start;
        while pos < end {
            let mut offs = self.row_offsets(row);
            for k in 0..N {
                offs[k] += col as isize * step[k];
            }
            let len = (inner - col).min(end - pos);
            f(pos, len, offs);
            pos += len;
            row += 1;
            col = 0;
        }
    }
}

/// Copies elements of `elem_size` bytes from `src` to `dst` (row-major, `runs.numel()`
/// elements) reading `src` where `runs` says: the kernel of Transpose, Slice and Expand.
pub fn copy_strided(runs: &StridedRuns<1>, src: &[u8], dst: &mut [u8], elem_size: usize, par: &crate::kernel::Parallel<'_>) -> Result<()> {
    fn typed<T: bytemuck::Pod + Send + Sync>(runs: &StridedRuns<1>, src: &[u8], dst: &mut [u8], par: &crate::kernel::Parallel<'_>) -> Result<()> {
        let src: &[T] = bytemuck::try_cast_slice(src).map_err(|e| Error::Graph(format!("strided copy source: {e}")))?;
        let dst: &mut [T] =
            bytemuck::try_cast_slice_mut(dst).map_err(|e| Error::Graph(format!("strided copy destination: {e}")))?;
        if dst.len() != runs.numel() {
            return Err(Error::Graph(format!("strided copy writes {} elements into {}", runs.numel(), dst.len())));
        }
        runs.check_bounds([src.len()]).map_err(Error::Graph)?;
        let [step] = runs.inner_strides();
        par.for_each_chunk_mut(dst, PAR_CHUNK, |ci, chunk| {
            let first = ci * PAR_CHUNK;
            runs.for_each_run(first, first + chunk.len(), |pos, len, [off]| {
                let out = &mut chunk[pos - first..pos - first + len];
                let off = off as usize; // in bounds: check_bounds above
                match step {
                    1 => out.copy_from_slice(&src[off..off + len]),
                    0 => out.fill(src[off]),
                    _ => {
                        for (i, o) in out.iter_mut().enumerate() {
                            *o = src[(off as isize + i as isize * step) as usize];
                        }
                    }
                }
            });
        });
        Ok(())
    }
    match elem_size {
        1 => typed::<[u8; 1]>(runs, src, dst, par),
        2 => typed::<[u8; 2]>(runs, src, dst, par),
        4 => typed::<[u8; 4]>(runs, src, dst, par),
        8 => typed::<[u8; 8]>(runs, src, dst, par),
        n => Err(Error::Unsupported(format!("elements of {n} bytes"))),
    }
}

/// Views raw tensor bytes as elements of `T`, or errors (length or alignment mismatch).
pub fn cast_bytes<T: bytemuck::Pod>(bytes: &[u8]) -> Result<&[T]> {
    bytemuck::try_cast_slice(bytes).map_err(|e| Error::Graph(format!("tensor bytes cannot be viewed as {}: {e}", std::any::type_name::<T>())))
}

/// Views raw tensor bytes as mutable elements of `T`, or errors.
pub fn cast_bytes_mut<T: bytemuck::Pod>(bytes: &mut [u8]) -> Result<&mut [T]> {
    bytemuck::try_cast_slice_mut(bytes)
        .map_err(|e| Error::Graph(format!("tensor bytes cannot be viewed as {}: {e}", std::any::type_name::<T>())))
}

// ---------------------------------------------------------------------------------------
// Helpers shared by the conv, pool, matmul, norm, softmax and reduce families.
// ---------------------------------------------------------------------------------------

/// Checks that an input has one of the `allowed` element types.
pub fn expect_dtype(f: &super::Fact<'_>, allowed: &[crate::ir::DType], what: &str) -> Result<(), String> {
    if allowed.contains(&f.dtype) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|d| d.name()).collect();
    Err(format!("{what} must be {}, got {}", names.join(" or "), f.dtype))
}

/// Checks that a (possibly symbolic) shape has rank `rank`.
pub fn expect_rank<'s>(shape: &'s [Dim], rank: usize, what: &str) -> Result<&'s [Dim], String> {
    if shape.len() == rank {
        Ok(shape)
    } else {
        Err(format!("{what} must have rank {rank}, got shape {}", show(shape)))
    }
}

/// Re-runs [`super::infer`] on the concrete shapes of a node being built and checks that it
/// agrees with the planned output dtypes and shapes, so a kernel may index its buffers by
/// the shapes it was built for. Errors name the node.
pub fn check_planned_shapes(ctx: &NodeCtx<'_>) -> Result<()> {
    let dims: Vec<Option<Vec<Dim>>> = ctx.inputs.iter().map(|i| i.map(|(_, s)| fixed(s))).collect();
    let facts: Vec<Option<super::Fact<'_>>> = ctx
        .inputs
        .iter()
        .zip(&dims)
        .enumerate()
        .map(|(i, (inp, d))| inp.map(|(dtype, _)| super::Fact { dtype, shape: d.as_deref(), value: ctx.input_view(i) }))
        .collect();
    let outs = super::infer(&ctx.node.op, &facts, ctx.outputs.len()).map_err(|e| ctx.err(e))?;
    if outs.len() != ctx.outputs.len() {
        return Err(ctx.err(format!("the node has {} outputs, the operator makes {}", ctx.outputs.len(), outs.len())));
    }
    for (i, (fact, (dtype, shape))) in outs.iter().zip(&ctx.outputs).enumerate() {
        let want = fixed(shape);
        if fact.dtype != *dtype || fact.shape.as_deref() != Some(want.as_slice()) {
            return Err(ctx.err(format!(
                "output {i} is planned as {dtype}{shape:?} but the operator makes {}{}",
                fact.dtype,
                fact.shape.as_deref().map_or("[?]".to_string(), show)
            )));
        }
    }
    Ok(())
}

/// Reads f32 values from little-endian bytes: borrowed when aligned, copied otherwise (a
/// weight window of a mapped file need not be 4-byte aligned). For load-time use only.
pub fn f32_values(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [f32]>, String> {
    if !bytes.len().is_multiple_of(4) {
        return Err(format!("{} bytes is not a whole number of f32 values", bytes.len()));
    }
    Ok(match bytemuck::try_cast_slice::<u8, f32>(bytes) {
        Ok(v) => std::borrow::Cow::Borrowed(v),
        Err(_) => std::borrow::Cow::Owned(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()),
    })
}

/// Helpers for the operator unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use crate::error::{Error, Result};
    use crate::ir::{ConstData, DType, Dim, Graph, Op, TensorInfo};
    use crate::kernel::{KernelIo, NodeCtx, Parallel};
    use crate::ops::{Fact, OutFact};
    use crate::tensor::{Element, Tensor, TensorView, TensorViewMut};

    /// A tensor from typed values (panics on a count mismatch: test inputs are literals).
    pub fn t<T: Element>(shape: &[usize], values: &[T]) -> Tensor {
        Tensor::from_slice(shape, values).expect("test tensor")
    }

    /// A bool tensor from 0/1 values.
    pub fn t_bool(shape: &[usize], values: &[u8]) -> Tensor {
        Tensor::from_bytes(DType::Bool, shape, values).expect("test tensor")
    }

    /// Runs `op` with the reference registry, serially ([`crate::ops::eval`]).
    pub fn run(op: &Op, inputs: &[Option<&Tensor>], num_outputs: usize) -> Result<Vec<Tensor>> {
        let views: Vec<Option<TensorView<'_>>> = inputs.iter().map(|t| t.map(Tensor::view)).collect();
        crate::ops::eval(op, &views, num_outputs)
    }

    /// Runs `op` with the reference registry on a pool of `threads` threads (exercises the
    /// kernels' work splitting).
    pub fn run_par(op: &Op, inputs: &[Option<&Tensor>], num_outputs: usize, threads: usize) -> Result<Vec<Tensor>> {
        let views: Vec<Option<TensorView<'_>>> = inputs.iter().map(|t| t.map(Tensor::view)).collect();
        let mut graph = Graph::default();
        let ids: Vec<_> = views
            .iter()
            .enumerate()
            .map(|(i, v)| v.map(|v| graph.add_const(format!("in{i}"), v.dtype(), v.shape(), ConstData::from_bytes(v.bytes()))))
            .collect();
        let dims: Vec<Option<Vec<Dim>>> = views.iter().map(|v| v.map(|v| super::fixed(v.shape()))).collect();
        let facts: Vec<Option<Fact<'_>>> = views
            .iter()
            .zip(&dims)
            .map(|(v, d)| v.map(|v| Fact { dtype: v.dtype(), shape: d.as_deref(), value: Some(v) }))
            .collect();
        let outs = crate::ops::infer(op, &facts, num_outputs).map_err(|e| Error::node(op.name(), e))?;
        let shapes: Vec<(DType, Vec<usize>)> = outs
            .iter()
            .map(|f| (f.dtype, f.shape.as_ref().and_then(|s| s.iter().map(Dim::fixed).collect()).expect("fixed output")))
            .collect();
        let out_ids = shapes
            .iter()
            .enumerate()
            .map(|(i, (d, s))| graph.add_tensor(TensorInfo { name: format!("out{i}"), dtype: *d, shape: Some(super::fixed(s)), data: None }))
            .collect();
        let node_id = graph.add_node("n", op.clone(), ids, out_ids);
        let registry = crate::ops::reference_registry();
        let ctx = NodeCtx {
            graph: &graph,
            node_id,
            node: &graph.nodes[node_id],
            inputs: views.iter().map(|v| v.map(|v| (v.dtype(), v.shape()))).collect(),
            outputs: shapes.iter().map(|(d, s)| (*d, s.as_slice())).collect(),
            values: graph.nodes[node_id].inputs.iter().map(|t| t.and_then(|t| graph.tensors[t].data.as_ref())).collect(),
        };
        let factory = registry.applicable(&ctx).into_iter().next().ok_or_else(|| Error::Graph("no kernel applies".into()))?.clone();
        let kernel = factory.build(&ctx, factory.prepack(&ctx)?)?;
        let mut results: Vec<Tensor> = shapes.iter().map(|(d, s)| Tensor::zeros(*d, s)).collect();
        let mut ws = crate::ir::AlignedBytes::zeroed(kernel.workspace_bytes());
        let pool = crate::pool::ThreadPool::new(threads).expect("pool");
        let mut out_views: Vec<TensorViewMut<'_>> = results.iter_mut().map(|t| t.view_mut()).collect();
        kernel.run(KernelIo { inputs: &views, outputs: &mut out_views, workspace: ws.as_mut_slice() }, &Parallel::new(&pool))?;
        drop(out_views);
        Ok(results)
    }

    /// Shape inference on facts without values.
    pub fn infer_dims(op: &Op, inputs: &[Option<(DType, &[Dim])>], num_outputs: usize) -> Result<Vec<OutFact>, String> {
        let facts: Vec<Option<Fact<'_>>> =
            inputs.iter().map(|i| i.map(|(dtype, shape)| Fact { dtype, shape: Some(shape), value: None })).collect();
        crate::ops::infer(op, &facts, num_outputs)
    }

    /// A symbolic dim.
    pub fn sym(name: &str) -> Dim {
        Dim::Sym(name.into())
    }

    /// Fixed dims.
    pub fn fx(dims: &[usize]) -> Vec<Dim> {
        super::fixed(dims)
    }

    /// Asserts `|got - want| <= atol + rtol * |want|` element-wise (NaN matches NaN).
    #[track_caller]
    pub fn assert_close(got: &[f32], want: &[f32], rtol: f32, atol: f32) {
        assert_eq!(got.len(), want.len(), "length: got {got:?}, want {want:?}");
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= atol + rtol * w.abs();
            assert!(ok, "element {i}: got {g}, want {w}\n got: {got:?}\nwant: {want:?}");
        }
    }

    /// The f32 values of a tensor.
    pub fn f32s(t: &Tensor) -> Vec<f32> {
        t.as_slice::<f32>().expect("f32 tensor").to_vec()
    }
}
