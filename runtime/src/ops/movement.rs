//! Data movement: [`Op::Concat`], [`Op::Split`], [`Op::Slice`], [`Op::Transpose`],
//! [`Op::Pad`] and [`Op::Gather`].
//!
//! Every kernel here is dtype-generic: elements are moved as opaque values of the dtype's
//! size. Transpose and Slice are strided copies ([`util::copy_strided`]); Pad and Gather
//! precompute their index maps when the kernel is built, so running them is table lookups
//! and copies.

use super::util::{self, PAR_CHUNK, StridedRuns, cast_bytes, cast_bytes_mut};
use super::{Fact, OutFact};
use crate::error::{Error, Result};
use crate::ir::{DType, Dim, Op, OpKind, Pad, PadMode, Split};
use crate::kernel::{Kernel, KernelIo, KernelRegistry, NodeCtx, Parallel};
use crate::tensor::TensorView;

// ---------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------

/// Merges two descriptions of the same dimension (from inputs that must agree on it).
fn unify(x: &Dim, y: &Dim) -> Option<Dim> {
    match (x, y) {
        (Dim::Fixed(p), Dim::Fixed(q)) => (p == q).then(|| x.clone()),
        (Dim::Fixed(_), Dim::Sym(_)) => Some(x.clone()),
        (Dim::Sym(_), Dim::Fixed(_)) => Some(y.clone()),
        (Dim::Sym(s), Dim::Sym(_)) if s == "?" => Some(y.clone()),
        (Dim::Sym(_), Dim::Sym(_)) => Some(x.clone()),
    }
}

/// Bytes per outer row when a tensor is seen as `[outer, dims[axis..]]`.
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize) {
    (shape[..axis].iter().product(), shape[axis..].iter().product())
}

fn input_dtype(ctx: &NodeCtx<'_>, i: usize) -> Option<DType> {
    ctx.inputs.get(i).copied().flatten().map(|(d, _)| d)
}

/// Applies to any dtype as long as input 0 and every output share it.
fn same_dtype_applies(ctx: &NodeCtx<'_>) -> bool {
    match input_dtype(ctx, 0) {
        Some(d) => !ctx.outputs.is_empty() && ctx.outputs.iter().all(|(o, _)| *o == d),
        None => false,
    }
}

fn output<'o, 'a>(io: &'o mut KernelIo<'a, '_>, i: usize) -> Result<&'o mut [u8]> {
    io.outputs.get_mut(i).map(|o| o.bytes_mut()).ok_or_else(|| Error::Graph(format!("kernel output {i} is missing")))
}

fn expect_bytes(what: &str, got: usize, want: usize) -> Result<()> {
    if got != want {
        return Err(Error::Input(format!("{what} has {got} bytes, the plan expects {want}")));
    }
    Ok(())
}

/// How many rows of `row_bytes` make one parallel task of about `PAR_CHUNK` elements' worth.
fn rows_per_task(row_bytes: usize) -> usize {
    (PAR_CHUNK * 4 / row_bytes.max(1)).max(1)
}

// ---------------------------------------------------------------------------------------
// Concat
// ---------------------------------------------------------------------------------------

pub(super) fn infer_concat(axis: i64, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    if inputs.is_empty() {
        return Err("Concat needs at least one input".into());
    }
    let facts: Vec<&Fact<'_>> = (0..inputs.len()).map(|i| util::fact(inputs, i, "data")).collect::<Result<_, _>>()?;
    let dtype = facts[0].dtype;
    if let Some((k, f)) = facts.iter().enumerate().find(|(_, f)| f.dtype != dtype) {
        return Err(format!("input {k} is {}, input 0 is {dtype}", f.dtype));
    }
    let known: Vec<(usize, &[Dim])> = facts.iter().enumerate().filter_map(|(k, f)| f.shape.map(|s| (k, s))).collect();
    let Some(&(first_k, first)) = known.first() else {
        return Ok(vec![OutFact { dtype, shape: None }]);
    };
    let rank = first.len();
    if rank == 0 {
        return Err("cannot concatenate scalars (rank 0)".into());
    }
    let a = util::normalize_axis(axis, rank)?;
    let mut out = first.to_vec();
    for &(k, s) in &known[1..] {
        if s.len() != rank {
            return Err(format!("input {k} has rank {}, input {first_k} has rank {rank}", s.len()));
        }
        for d in (0..rank).filter(|&d| d != a) {
            out[d] = unify(&out[d], &s[d]).ok_or_else(|| {
                format!(
                    "input {k} has shape {}, which does not match input {first_k} {} outside axis {a}",
                    util::show(s),
                    util::show(first)
                )
            })?;
        }
    }
    out[a] = if known.len() == facts.len() {
        let mut fixed = 0usize;
        let mut syms = Vec::new();
        for (_, s) in &known {
            match &s[a] {
                Dim::Fixed(n) => fixed = fixed.checked_add(*n).ok_or("the concatenated size overflows")?,
                sym => syms.push(sym.clone()),
            }
        }
        match syms.as_slice() {
            [] => Dim::Fixed(fixed),
            [only] if fixed == 0 => only.clone(),
            _ => util::unknown_dim(),
        }
    } else {
        util::unknown_dim()
    };
    Ok(vec![OutFact { dtype, shape: Some(out) }])
}

#[derive(Debug)]
struct ConcatKernel {
    outer: usize,
    /// Bytes each input contributes to one outer row.
    blocks: Vec<usize>,
    out_row: usize,
}

fn build_concat(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::Concat { axis } = ctx.node.op else { return Err(ctx.err("not a Concat node")) };
    let (dtype, out_shape) = *ctx.outputs.first().ok_or_else(|| ctx.err("output 0 is missing"))?;
    let a = util::normalize_axis(axis, out_shape.len()).map_err(|e| ctx.err(e))?;
    let (outer, _) = split_at_axis(out_shape, a);
    let mut blocks = Vec::with_capacity(ctx.inputs.len());
    for i in 0..ctx.inputs.len() {
        let s = ctx.input_shape(i)?;
        if s.len() != out_shape.len() {
            return Err(ctx.err(format!("input {i} has rank {}, the output {}", s.len(), out_shape.len())));
        }
        blocks.push(split_at_axis(s, a).1 * dtype.size());
    }
    let out_row = blocks.iter().sum();
    if out_row * outer != out_shape.iter().product::<usize>() * dtype.size() {
        return Err(ctx.err("input sizes do not add up to the output"));
    }
    Ok(Box::new(ConcatKernel { outer, blocks, out_row }))
}

impl Kernel for ConcatKernel {
    fn run(&self, mut io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let inputs = io.inputs;
        for (i, &b) in self.blocks.iter().enumerate() {
            expect_bytes("Concat input", io.input(i)?.bytes().len(), b * self.outer)?;
        }
        let out = output(&mut io, 0)?;
        expect_bytes("Concat output", out.len(), self.out_row * self.outer)?;
        if self.out_row == 0 {
            return Ok(());
        }
        let rows = rows_per_task(self.out_row);
        par.for_each_chunk_mut(out, rows * self.out_row, |ci, chunk| {
            for (r, orow) in chunk.chunks_exact_mut(self.out_row).enumerate() {
                let row = ci * rows + r;
                let mut off = 0;
                for (input, &b) in inputs.iter().zip(&self.blocks) {
                    // Every input is present and sized `b * outer`: checked above.
                    if let Some(v) = input {
                        orow[off..off + b].copy_from_slice(&v.bytes()[row * b..row * b + b]);
                    }
                    off += b;
                }
            }
        });
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Split
// ---------------------------------------------------------------------------------------

/// Sizes of the parts along the split axis. Without explicit sizes the parts are equal,
/// and when `dim` does not divide, each is `ceil(dim / n)` and the last takes the rest (ONNX
/// `num_outputs`); a rest below zero is an error.
fn split_sizes(a: &Split, dim: usize, n: usize) -> Result<Vec<usize>, String> {
    if n == 0 {
        return Err("Split needs at least one output".into());
    }
    match &a.sizes {
        Some(sizes) => {
            if sizes.len() != n {
                return Err(format!("{} split sizes for {n} outputs", sizes.len()));
            }
            let total = sizes.iter().try_fold(0usize, |t, &s| t.checked_add(s)).ok_or("split sizes overflow")?;
            if total != dim {
                return Err(format!("split sizes {sizes:?} add up to {total}, the axis has {dim}"));
            }
            Ok(sizes.clone())
        }
        None => {
            let part = dim.div_ceil(n);
            let rest = dim as i128 - (part as i128) * (n as i128 - 1);
            if rest < 0 {
                return Err(format!("an axis of {dim} cannot be split into {n} parts of {part} with a smaller last part"));
            }
            let mut sizes = vec![part; n];
            sizes[n - 1] = rest as usize;
            Ok(sizes)
        }
    }
}

pub(super) fn infer_split(a: &Split, inputs: &[Option<Fact<'_>>], num_outputs: usize) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "data")?;
    if num_outputs == 0 {
        return Err("Split needs at least one output".into());
    }
    let Some(shape) = x.shape else {
        return Ok(vec![OutFact { dtype: x.dtype, shape: None }; num_outputs]);
    };
    let axis = util::normalize_axis(a.axis, shape.len())?;
    let sizes: Vec<Dim> = match (&shape[axis], &a.sizes) {
        (Dim::Fixed(d), _) => split_sizes(a, *d, num_outputs)?.into_iter().map(Dim::Fixed).collect(),
        (_, Some(sizes)) if sizes.len() == num_outputs => sizes.iter().map(|&s| Dim::Fixed(s)).collect(),
        (_, Some(sizes)) => return Err(format!("{} split sizes for {num_outputs} outputs", sizes.len())),
        (sym, None) if num_outputs == 1 => vec![sym.clone()],
        (_, None) => vec![util::unknown_dim(); num_outputs],
    };
    Ok(sizes
        .into_iter()
        .map(|d| {
            let mut s = shape.to_vec();
            s[axis] = d;
            OutFact { dtype: x.dtype, shape: Some(s) }
        })
        .collect())
}

#[derive(Debug)]
struct SplitKernel {
    outer: usize,
    in_row: usize,
    /// Per output: byte offset in an input row and bytes per row.
    parts: Vec<(usize, usize)>,
}

fn build_split(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::Split(a) = &ctx.node.op else { return Err(ctx.err("not a Split node")) };
    let (dtype, shape) = ctx.inputs.first().copied().flatten().ok_or_else(|| ctx.err("input 0 is missing"))?;
    let axis = util::normalize_axis(a.axis, shape.len()).map_err(|e| ctx.err(e))?;
    let sizes = split_sizes(a, shape[axis], ctx.outputs.len()).map_err(|e| ctx.err(e))?;
    let (outer, in_row) = split_at_axis(shape, axis);
    let unit = in_row / shape[axis].max(1) * dtype.size();
    let mut parts = Vec::with_capacity(sizes.len());
    let mut off = 0;
    for s in sizes {
        parts.push((off, s * unit));
        off += s * unit;
    }
    Ok(Box::new(SplitKernel { outer, in_row: in_row * dtype.size(), parts }))
}

impl Kernel for SplitKernel {
    fn run(&self, io: KernelIo<'_, '_>, _par: &Parallel<'_>) -> Result<()> {
        let x = io.input(0)?.bytes();
        expect_bytes("Split input", x.len(), self.outer * self.in_row)?;
        if io.outputs.len() != self.parts.len() {
            return Err(Error::Graph(format!("Split has {} outputs, planned {}", io.outputs.len(), self.parts.len())));
        }
        for (out, &(off, len)) in io.outputs.iter_mut().zip(&self.parts) {
            let out = out.bytes_mut();
            expect_bytes("Split output", out.len(), self.outer * len)?;
            if len == 0 {
                continue;
            }
            for (r, orow) in out.chunks_exact_mut(len).enumerate() {
                let start = r * self.in_row + off;
                orow.copy_from_slice(&x[start..start + len]);
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Slice
// ---------------------------------------------------------------------------------------

/// One sliced axis: the axis, and the ONNX `start`, `end`, `step` before clamping.
#[derive(Debug, Clone, Copy)]
struct SliceSpec {
    axis: usize,
    start: i64,
    end: i64,
    step: i64,
}

/// Validates Slice's index inputs against `rank` and pairs them up per axis.
fn slice_specs(rank: usize, starts: &[i64], ends: &[i64], axes: Option<&[i64]>, steps: Option<&[i64]>) -> Result<Vec<SliceSpec>, String> {
    let n = starts.len();
    if ends.len() != n {
        return Err(format!("Slice has {n} starts but {} ends", ends.len()));
    }
    if let Some(axes) = axes
        && axes.len() != n
    {
        return Err(format!("Slice has {n} starts but {} axes", axes.len()));
    }
    if let Some(steps) = steps
        && steps.len() != n
    {
        return Err(format!("Slice has {n} starts but {} steps", steps.len()));
    }
    let mut seen = vec![false; rank];
    let mut specs = Vec::with_capacity(n);
    for i in 0..n {
        let axis = match axes {
            Some(axes) => util::normalize_axis(axes[i], rank)?,
            None if i < rank => i,
            None => return Err(format!("Slice has {n} starts for a rank-{rank} input")),
        };
        if std::mem::replace(&mut seen[axis], true) {
            return Err(format!("Slice lists axis {axis} twice"));
        }
        let step = steps.map_or(1, |s| s[i]);
        if step == 0 {
            return Err(format!("Slice step for axis {axis} is 0"));
        }
        specs.push(SliceSpec { axis, start: starts[i], end: ends[i], step });
    }
    Ok(specs)
}

/// Whether an end is the exporters' "to the end" sentinel (`INT32_MAX` or `INT64_MAX`).
fn is_open_end(end: i64) -> bool {
    end == i64::MAX || end == i64::from(i32::MAX)
}

/// ONNX's clamping for one axis of length `dim`: the first index read and the number of
/// elements. Computed in i128 so `INT64_MAX`/`INT64_MIN` values cannot overflow.
///
/// The spec's clamping is followed exactly (so `starts = -100, ends = -200, steps = -1` on
/// an axis of 10 reads element 0, where numpy reads nothing), plus onnxruntime's reading of
/// an `INT32_MAX`/`INT64_MAX` end as "through the last element in the direction of the
/// step", which exporters rely on for reversed slices.
fn slice_axis(dim: usize, s: SliceSpec) -> (usize, usize) {
    let d = dim as i128;
    let step = s.step as i128;
    let (mut start, mut end) = (s.start as i128, s.end as i128);
    if start < 0 {
        start += d;
    }
    if is_open_end(s.end) {
        end = if step < 0 { -1 } else { d };
    } else if end < 0 {
        end += d;
    }
    let (start, len) = if step > 0 {
        let (start, end) = (start.clamp(0, d), end.clamp(0, d));
        (start, if end > start { (end - start + step - 1) / step } else { 0 })
    } else {
        // max/min, not clamp: for an empty axis the upper bound (-1) is below the lower.
        let (start, end) = (start.max(0).min(d - 1), end.max(-1).min(d - 1));
        (start, if start > end { (start - end - step - 1) / (-step) } else { 0 })
    };
    if len == 0 { (0, 0) } else { (start as usize, len as usize) }
}

/// Whether a slice certainly keeps a whole axis of unknown length (`0:INT_MAX:1`, or
/// `-1:INT_MIN:-1` reversed: the forms exporters emit for "everything").
fn keeps_whole_axis(s: &SliceSpec) -> bool {
    (s.step == 1 && s.start == 0 && s.end >= i64::from(i32::MAX))
        || (s.step == -1 && s.start == -1 && (s.end <= i64::from(i32::MIN) || is_open_end(s.end)))
}

fn int_input_dtype_ok(f: Option<&Fact<'_>>, what: &str) -> Result<(), String> {
    match f {
        Some(f) if !matches!(f.dtype, DType::I64 | DType::I32) => Err(format!("{what} must be i64 or i32, got {}", f.dtype)),
        _ => Ok(()),
    }
}

pub(super) fn infer_slice(inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "data")?;
    let starts = util::fact(inputs, 1, "starts")?;
    let ends = util::fact(inputs, 2, "ends")?;
    let axes = inputs.get(3).and_then(Option::as_ref);
    let steps = inputs.get(4).and_then(Option::as_ref);
    for (f, what) in [(Some(starts), "starts"), (Some(ends), "ends"), (axes, "axes"), (steps, "steps")] {
        int_input_dtype_ok(f, what)?;
    }
    let Some(shape) = x.shape else { return Ok(vec![OutFact { dtype: x.dtype, shape: None }]) };
    let rank = shape.len();
    let get = |f: Option<&Fact<'_>>, what: &str| -> Result<Option<Option<Vec<i64>>>, String> {
        // Outer None: unknown; inner None: input absent.
        match f {
            None => Ok(Some(None)),
            Some(f) => util::int_values(f, what).transpose().map(|v| v.map(Some)),
        }
    };
    let (sv, ev, av, tv) = (get(Some(starts), "starts")?, get(Some(ends), "ends")?, get(axes, "axes")?, get(steps, "steps")?);
    let mut out = shape.to_vec();
    if let (Some(Some(s)), Some(Some(e)), Some(a), Some(t)) = (&sv, &ev, &av, &tv) {
        for spec in slice_specs(rank, s, e, a.as_deref(), t.as_deref())? {
            out[spec.axis] = match &shape[spec.axis] {
                Dim::Fixed(d) => Dim::Fixed(slice_axis(*d, spec).1),
                sym if keeps_whole_axis(&spec) => sym.clone(),
                _ => util::unknown_dim(),
            };
        }
    } else {
        // The values are not known: only the axes that cannot be sliced keep their size.
        let touched: Vec<usize> = match (&av, axes, starts.shape) {
            (Some(Some(a)), _, _) => a.iter().map(|&ax| util::normalize_axis(ax, rank)).collect::<Result<_, _>>()?,
            (_, None, Some([Dim::Fixed(n)])) => (0..(*n).min(rank)).collect(),
            _ => (0..rank).collect(),
        };
        for ax in touched {
            out[ax] = util::unknown_dim();
        }
    }
    Ok(vec![OutFact { dtype: x.dtype, shape: Some(out) }])
}

fn plan_int_input(ctx: &NodeCtx<'_>, i: usize, what: &str) -> Result<Option<Vec<i64>>> {
    if ctx.inputs.get(i).copied().flatten().is_none() {
        return Ok(None);
    }
    let v = ctx.input_view(i).ok_or_else(|| ctx.err(format!("{what} must be known at plan time")))?;
    v.to_i64_vec().map(Some).map_err(|e| ctx.err(format!("{what}: {e}")))
}

/// Copies input 0 into output 0 along a strided walk (Slice, Transpose, Expand).
#[derive(Debug)]
pub(super) struct StridedCopyKernel {
    pub(super) runs: StridedRuns<1>,
    pub(super) elem_size: usize,
    /// Elements of the input.
    pub(super) in_len: usize,
}

impl Kernel for StridedCopyKernel {
    fn run(&self, mut io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let x = io.input(0)?.bytes();
        expect_bytes("input", x.len(), self.in_len * self.elem_size)?;
        let out = output(&mut io, 0)?;
        util::copy_strided(&self.runs, x, out, self.elem_size, par)
    }
}

fn build_slice(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let (dtype, shape) = ctx.inputs.first().copied().flatten().ok_or_else(|| ctx.err("input 0 is missing"))?;
    let starts = plan_int_input(ctx, 1, "starts")?.ok_or_else(|| ctx.err("starts is missing"))?;
    let ends = plan_int_input(ctx, 2, "ends")?.ok_or_else(|| ctx.err("ends is missing"))?;
    let axes = plan_int_input(ctx, 3, "axes")?;
    let steps = plan_int_input(ctx, 4, "steps")?;
    let specs = slice_specs(shape.len(), &starts, &ends, axes.as_deref(), steps.as_deref()).map_err(|e| ctx.err(e))?;
    let in_strides = util::strides(shape);
    let mut dims = shape.to_vec();
    let mut strides: Vec<[isize; 1]> = in_strides.iter().map(|&s| [s as isize]).collect();
    let mut base = 0isize;
    for spec in specs {
        let (start, len) = slice_axis(shape[spec.axis], spec);
        dims[spec.axis] = len;
        base += (start * in_strides[spec.axis]) as isize;
        strides[spec.axis] = [in_strides[spec.axis] as isize * spec.step as isize];
    }
    if dims != ctx.output_shape(0)? {
        return Err(ctx.err(format!("slices to {dims:?}, the output is planned as {:?}", ctx.output_shape(0)?)));
    }
    let runs = StridedRuns::new(&dims, &strides, [base]).map_err(|e| ctx.err(e))?;
    Ok(Box::new(StridedCopyKernel { runs, elem_size: dtype.size(), in_len: shape.iter().product() }))
}

fn slice_applies(ctx: &NodeCtx<'_>) -> bool {
    same_dtype_applies(ctx) && (1..5).all(|i| input_dtype(ctx, i).is_none_or(|d| matches!(d, DType::I64 | DType::I32)))
}

// ---------------------------------------------------------------------------------------
// Transpose
// ---------------------------------------------------------------------------------------

fn check_perm(perm: &[usize], rank: usize) -> Result<(), String> {
    if perm.len() != rank {
        return Err(format!("perm {perm:?} has {} entries for a rank-{rank} input", perm.len()));
    }
    let mut seen = vec![false; rank];
    for &p in perm {
        if p >= rank || std::mem::replace(&mut seen[p], true) {
            return Err(format!("perm {perm:?} is not a permutation of 0..{rank}"));
        }
    }
    Ok(())
}

pub(super) fn infer_transpose(perm: &[usize], inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "data")?;
    let shape = match x.shape {
        Some(s) => {
            check_perm(perm, s.len())?;
            Some(perm.iter().map(|&p| s[p].clone()).collect())
        }
        None => {
            check_perm(perm, perm.len())?;
            Some(vec![util::unknown_dim(); perm.len()])
        }
    };
    Ok(vec![OutFact { dtype: x.dtype, shape }])
}

fn build_transpose(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::Transpose { perm } = &ctx.node.op else { return Err(ctx.err("not a Transpose node")) };
    let (dtype, shape) = ctx.inputs.first().copied().flatten().ok_or_else(|| ctx.err("input 0 is missing"))?;
    check_perm(perm, shape.len()).map_err(|e| ctx.err(e))?;
    let in_strides = util::strides(shape);
    let dims: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let strides: Vec<[isize; 1]> = perm.iter().map(|&p| [in_strides[p] as isize]).collect();
    let runs = StridedRuns::new(&dims, &strides, [0]).map_err(|e| ctx.err(e))?;
    Ok(Box::new(StridedCopyKernel { runs, elem_size: dtype.size(), in_len: shape.iter().product() }))
}

// ---------------------------------------------------------------------------------------
// Pad
// ---------------------------------------------------------------------------------------

/// For one axis of length `dim` padded by `begin`/`end` (negative crops), the input index
/// each output index reads, or -1 for the constant. Negative amounts crop first and the
/// border is taken from what remains, as onnxruntime does; reflect and wrap repeat
/// periodically when the padding is longer than the axis, as numpy (the ONNX reference)
/// does.
fn pad_map(mode: PadMode, dim: usize, begin: i64, end: i64) -> Result<Vec<isize>, String> {
    let (crop_b, crop_e) = (i128::from((-begin).max(0)), i128::from((-end).max(0)));
    let (pad_b, pad_e) = (i128::from(begin.max(0)), i128::from(end.max(0)));
    let kept = dim as i128 - crop_b - crop_e;
    if kept < 0 {
        return Err(format!("pads {begin}, {end} crop more than the axis of {dim} holds"));
    }
    let out = pad_b + kept + pad_e;
    if mode != PadMode::Constant && kept == 0 && out > 0 {
        return Err(format!("{mode:?} padding needs a non-empty axis, this one has {dim} elements before padding {begin}, {end}"));
    }
    let out = usize::try_from(out).map_err(|_| "padded size is too large".to_string())?;
    let mut map = Vec::with_capacity(out);
    for o in 0..out as i128 {
        let j = o - pad_b;
        let src = if (0..kept).contains(&j) {
            j
        } else {
            match mode {
                PadMode::Constant => {
                    map.push(-1);
                    continue;
                }
                PadMode::Edge => j.clamp(0, kept - 1),
                PadMode::Reflect if kept == 1 => 0,
                PadMode::Reflect => {
                    let period = 2 * (kept - 1);
                    let m = j.rem_euclid(period);
                    if m >= kept { period - m } else { m }
                }
                PadMode::Wrap => j.rem_euclid(kept),
            }
        };
        map.push((src + crop_b) as isize);
    }
    Ok(map)
}

fn check_pads(a: &Pad, rank: usize) -> Result<(), String> {
    if a.pads.len() != 2 * rank {
        return Err(format!("{} pads for a rank-{rank} input (need {})", a.pads.len(), 2 * rank));
    }
    Ok(())
}

pub(super) fn infer_pad(a: &Pad, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "data")?;
    let Some(shape) = x.shape else { return Ok(vec![OutFact { dtype: x.dtype, shape: None }]) };
    let rank = shape.len();
    check_pads(a, rank)?;
    let mut out = Vec::with_capacity(rank);
    for (i, d) in shape.iter().enumerate() {
        let (b, e) = (a.pads[i], a.pads[rank + i]);
        out.push(match d {
            Dim::Fixed(n) => {
                let (crop_b, crop_e) = (i128::from((-b).max(0)), i128::from((-e).max(0)));
                let kept = *n as i128 - crop_b - crop_e;
                if kept < 0 {
                    return Err(format!("pads {b}, {e} crop more than axis {i} (size {n}) holds"));
                }
                if a.mode != PadMode::Constant && kept == 0 && (b > 0 || e > 0) {
                    return Err(format!("{:?} padding of axis {i} needs a non-empty axis", a.mode));
                }
                let size = kept + i128::from(b.max(0)) + i128::from(e.max(0));
                Dim::Fixed(usize::try_from(size).map_err(|_| format!("padded size of axis {i} is too large"))?)
            }
            sym if b.checked_add(e) == Some(0) => sym.clone(),
            _ => util::unknown_dim(),
        });
    }
    util::check_size(&out, x.dtype.size())?;
    Ok(vec![OutFact { dtype: x.dtype, shape: Some(out) }])
}

/// A gather through one index map per axis: output element `(o_0, ..., o_{r-1})` reads input
/// element `(maps[0][o_0], ..., maps[r-1][o_{r-1}])`, or is `fill` when any map entry is -1.
/// The kernel of Pad, and of nearest-neighbour Resize.
#[derive(Debug)]
pub(super) struct AxisMapGather {
    elem_size: usize,
    /// The fill value's bytes (first `elem_size` used).
    fill: [u8; 8],
    maps: Vec<Vec<isize>>,
    in_strides: Vec<usize>,
    in_len: usize,
    out_len: usize,
}

impl AxisMapGather {
    /// A gather from an input of `in_shape`; every non-negative map entry must be inside
    /// its axis.
    pub(super) fn new(in_shape: &[usize], maps: Vec<Vec<isize>>, fill: [u8; 8], elem_size: usize) -> Result<Self, String> {
        if maps.len() != in_shape.len() {
            return Err(format!("{} index maps for a rank-{} input", maps.len(), in_shape.len()));
        }
        for (a, (m, &d)) in maps.iter().zip(in_shape).enumerate() {
            if let Some(bad) = m.iter().find(|&&i| i >= d as isize || i < -1) {
                return Err(format!("index {bad} is outside axis {a} of size {d}"));
            }
        }
        Ok(AxisMapGather {
            elem_size,
            fill,
            in_strides: util::strides(in_shape),
            in_len: in_shape.iter().product(),
            out_len: maps.iter().map(Vec::len).product(),
            maps,
        })
    }
}

/// The bytes of `value` converted to `dtype` (float to int truncates, to bool is `!= 0`).
pub(super) fn fill_bytes(value: f32, dtype: DType) -> [u8; 8] {
    let mut b = [0u8; 8];
    match dtype {
        DType::F32 => b[..4].copy_from_slice(&value.to_le_bytes()),
        DType::F16 => b[..2].copy_from_slice(&half::f16::from_f32(value).to_le_bytes()),
        DType::I8 => b[0] = (value as i8) as u8,
        DType::U8 => b[0] = value as u8,
        DType::I32 => b[..4].copy_from_slice(&(value as i32).to_le_bytes()),
        DType::I64 => b.copy_from_slice(&(value as i64).to_le_bytes()),
        DType::Bool => b[0] = u8::from(value != 0.0),
    }
    b
}

fn build_pad(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::Pad(a) = &ctx.node.op else { return Err(ctx.err("not a Pad node")) };
    let (dtype, shape) = ctx.inputs.first().copied().flatten().ok_or_else(|| ctx.err("input 0 is missing"))?;
    let rank = shape.len();
    check_pads(a, rank).map_err(|e| ctx.err(e))?;
    let maps =
        (0..rank).map(|i| pad_map(a.mode, shape[i], a.pads[i], a.pads[rank + i])).collect::<Result<Vec<_>, _>>().map_err(|e| ctx.err(e))?;
    let out_dims: Vec<usize> = maps.iter().map(Vec::len).collect();
    if out_dims != ctx.output_shape(0)? {
        return Err(ctx.err(format!("pads to {out_dims:?}, the output is planned as {:?}", ctx.output_shape(0)?)));
    }
    Ok(Box::new(AxisMapGather::new(shape, maps, fill_bytes(a.value, dtype), dtype.size()).map_err(|e| ctx.err(e))?))
}

impl AxisMapGather {
    fn run_typed<T: bytemuck::Pod + Send + Sync>(&self, x: &[u8], out: &mut [u8], par: &Parallel<'_>) -> Result<()> {
        let (x, out) = (cast_bytes::<T>(x)?, cast_bytes_mut::<T>(out)?);
        let fill: T = *cast_bytes::<T>(&self.fill[..self.elem_size])?.first().ok_or_else(|| Error::Graph("empty fill".into()))?;
        let Some((last_map, outer_maps)) = self.maps.split_last() else {
            out.copy_from_slice(x); // rank 0: nothing to pad
            return Ok(());
        };
        let row = last_map.len();
        if row == 0 || out.is_empty() {
            return Ok(());
        }
        let last_stride = self.in_strides.last().copied().unwrap_or(1);
        let outer_strides = &self.in_strides[..self.in_strides.len() - 1];
        let rows = (PAR_CHUNK / row).max(1);
        par.for_each_chunk_mut(out, rows * row, |ci, chunk| {
            for (r, orow) in chunk.chunks_exact_mut(row).enumerate() {
                // Input offset of this output row, or None when any outer axis is padding.
                let mut rest = ci * rows + r;
                let mut base = Some(0usize);
                for (m, &s) in outer_maps.iter().zip(outer_strides).rev() {
                    let i = m[rest % m.len()];
                    rest /= m.len();
                    base = base.filter(|_| i >= 0).map(|b| b + i as usize * s);
                }
                match base {
                    None => orow.fill(fill),
                    Some(b) => {
                        for (o, &m) in orow.iter_mut().zip(last_map) {
                            // Map entries are inside the input axis by construction.
                            *o = if m < 0 { fill } else { x[b + m as usize * last_stride] };
                        }
                    }
                }
            }
        });
        Ok(())
    }
}

impl Kernel for AxisMapGather {
    fn run(&self, mut io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let x = io.input(0)?.bytes();
        expect_bytes("input", x.len(), self.in_len * self.elem_size)?;
        let out = output(&mut io, 0)?;
        expect_bytes("output", out.len(), self.out_len * self.elem_size)?;
        match self.elem_size {
            1 => self.run_typed::<[u8; 1]>(x, out, par),
            2 => self.run_typed::<[u8; 2]>(x, out, par),
            4 => self.run_typed::<[u8; 4]>(x, out, par),
            8 => self.run_typed::<[u8; 8]>(x, out, par),
            n => Err(Error::Unsupported(format!("gather of elements of {n} bytes"))),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Gather
// ---------------------------------------------------------------------------------------

pub(super) fn infer_gather(axis: i64, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let data = util::fact(inputs, 0, "data")?;
    let idx = util::fact(inputs, 1, "indices")?;
    if !matches!(idx.dtype, DType::I64 | DType::I32) {
        return Err(format!("indices must be i64 or i32, got {}", idx.dtype));
    }
    let (Some(ds), Some(is)) = (data.shape, idx.shape) else {
        return Ok(vec![OutFact { dtype: data.dtype, shape: None }]);
    };
    let a = util::normalize_axis(axis, ds.len())?;
    if let (Dim::Fixed(n), Some(values)) = (&ds[a], util::int_values(idx, "indices")) {
        let n = *n as i64;
        if let Some(bad) = values?.into_iter().find(|&i| i < -n || i >= n) {
            return Err(format!("index {bad} is out of range for axis {a} of size {n}"));
        }
    }
    let out: Vec<Dim> = ds[..a].iter().chain(is).chain(&ds[a + 1..]).cloned().collect();
    Ok(vec![OutFact { dtype: data.dtype, shape: Some(out) }])
}

#[derive(Debug)]
struct GatherKernel {
    label: String,
    outer: usize,
    axis_len: usize,
    /// Bytes of one gathered slice (`prod(dims[axis + 1..]) * elem_size`).
    block: usize,
    n_idx: usize,
}

fn build_gather(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::Gather { axis } = ctx.node.op else { return Err(ctx.err("not a Gather node")) };
    let (dtype, shape) = ctx.inputs.first().copied().flatten().ok_or_else(|| ctx.err("input 0 is missing"))?;
    let a = util::normalize_axis(axis, shape.len()).map_err(|e| ctx.err(e))?;
    let n_idx = ctx.input_shape(1)?.iter().product();
    Ok(Box::new(GatherKernel {
        label: ctx.graph.node_label(ctx.node_id),
        outer: shape[..a].iter().product(),
        axis_len: shape[a],
        block: shape[a + 1..].iter().product::<usize>() * dtype.size(),
        n_idx,
    }))
}

/// Indices as the kernel reads them, widened to i64.
#[derive(Clone, Copy)]
enum Indices<'a> {
    I64(&'a [i64]),
    I32(&'a [i32]),
}

impl Indices<'_> {
    fn new<'a>(v: &TensorView<'a>) -> Result<Indices<'a>> {
        match v.dtype() {
            DType::I64 => Ok(Indices::I64(cast_bytes(v.bytes())?)),
            DType::I32 => Ok(Indices::I32(cast_bytes(v.bytes())?)),
            other => Err(Error::Input(format!("Gather indices must be i64 or i32, got {other}"))),
        }
    }
    fn len(&self) -> usize {
        match self {
            Indices::I64(s) => s.len(),
            Indices::I32(s) => s.len(),
        }
    }
    fn get(&self, k: usize) -> i64 {
        match self {
            Indices::I64(s) => s[k],
            Indices::I32(s) => i64::from(s[k]),
        }
    }
}

impl Kernel for GatherKernel {
    fn run(&self, mut io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let data = io.input(0)?.bytes();
        let idx = Indices::new(&io.input(1)?)?;
        expect_bytes("Gather data", data.len(), self.outer * self.axis_len * self.block)?;
        if idx.len() != self.n_idx {
            return Err(Error::Input(format!("Gather has {} indices, the plan expects {}", idx.len(), self.n_idx)));
        }
        // Indices are data: check them all before copying anything.
        let n = self.axis_len as i64;
        for k in 0..idx.len() {
            let i = idx.get(k);
            if i < -n || i >= n {
                return Err(Error::node(&self.label, format!("index {i} is out of range for an axis of size {n}")));
            }
        }
        let out = output(&mut io, 0)?;
        expect_bytes("Gather output", out.len(), self.outer * self.n_idx * self.block)?;
        if self.block == 0 || out.is_empty() {
            return Ok(());
        }
        let rows = rows_per_task(self.block);
        par.for_each_chunk_mut(out, rows * self.block, |ci, chunk| {
            for (r, orow) in chunk.chunks_exact_mut(self.block).enumerate() {
                let row = ci * rows + r;
                let (o, k) = (row / self.n_idx, row % self.n_idx);
                let i = idx.get(k);
                let i = if i < 0 { i + n } else { i } as usize; // in range: checked above
                let src = (o * self.axis_len + i) * self.block;
                orow.copy_from_slice(&data[src..src + self.block]);
            }
        });
        Ok(())
    }
}

fn gather_applies(ctx: &NodeCtx<'_>) -> bool {
    same_dtype_applies(ctx) && matches!(input_dtype(ctx, 1), Some(DType::I64 | DType::I32))
}

// ---------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------

pub(super) fn register(r: &mut KernelRegistry) {
    util::register_ref(r, "any-concat-reference", OpKind::Concat, concat_applies, build_concat);
    util::register_ref(r, "any-split-reference", OpKind::Split, same_dtype_applies, build_split);
    util::register_ref(r, "any-slice-reference", OpKind::Slice, slice_applies, build_slice);
    util::register_ref(r, "any-transpose-reference", OpKind::Transpose, same_dtype_applies, build_transpose);
    util::register_ref(r, "any-pad-reference", OpKind::Pad, same_dtype_applies, build_pad);
    util::register_ref(r, "any-gather-reference", OpKind::Gather, gather_applies, build_gather);
}

fn concat_applies(ctx: &NodeCtx<'_>) -> bool {
    same_dtype_applies(ctx) && (0..ctx.inputs.len()).all(|i| input_dtype(ctx, i) == input_dtype(ctx, 0))
}

#[cfg(test)]
mod tests {
    //! Expected values: numpy slicing / np.pad / np.take / np.transpose, onnxruntime 1.32
    //! where it and numpy disagree (Slice clamping corners, negative pads), or by hand.
    use super::*;
    use crate::ops::util::testing::{assert_close, f32s, fx, infer_dims, run, run_par, sym, t};
    use crate::tensor::Tensor;

    fn i64s(t: &Tensor) -> Vec<i64> {
        t.as_slice::<i64>().unwrap().to_vec()
    }

    fn iota(shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        t(shape, &(0..n as i64).collect::<Vec<_>>())
    }

    // ----- Concat -----

    #[test]
    fn concat_along_axes() {
        let a = t(&[2, 2, 3], &(0..12).map(|v| v as f32).collect::<Vec<_>>());
        let b = t(&[2, 2, 1], &[100.0f32, 101.0, 102.0, 103.0]);
        let y = run(&Op::Concat { axis: -1 }, &[Some(&a), Some(&b)], 1).unwrap().remove(0);
        assert_eq!(y.shape(), &[2, 2, 4]);
        assert_close(&f32s(&y), &[0., 1., 2., 100., 3., 4., 5., 101., 6., 7., 8., 102., 9., 10., 11., 103.], 0.0, 0.0);
        // i64 along axis 0 with an empty input in the middle.
        let x = t(&[1, 2], &[1i64, 2]);
        let e = t::<i64>(&[0, 2], &[]);
        let z = t(&[2, 2], &[3i64, 4, 5, 6]);
        let y = run(&Op::Concat { axis: 0 }, &[Some(&x), Some(&e), Some(&z)], 1).unwrap().remove(0);
        assert_eq!(y.shape(), &[3, 2]);
        assert_eq!(i64s(&y), [1, 2, 3, 4, 5, 6]);
        // Parallel path: many rows.
        let p = iota(&[300, 7, 5]);
        let q = iota(&[300, 7, 2]);
        let y = run_par(&Op::Concat { axis: 2 }, &[Some(&p), Some(&q)], 1, 2).unwrap().remove(0);
        let (pv, qv, yv) = (i64s(&p), i64s(&q), i64s(&y));
        for r in 0..2100 {
            assert_eq!(&yv[r * 7..r * 7 + 5], &pv[r * 5..r * 5 + 5]);
            assert_eq!(&yv[r * 7 + 5..r * 7 + 7], &qv[r * 2..r * 2 + 2]);
        }
    }

    #[test]
    fn concat_inference_and_errors() {
        let a = [sym("batch"), Dim::Fixed(3)];
        let b = [sym("batch"), Dim::Fixed(5)];
        let out = infer_dims(&Op::Concat { axis: 1 }, &[Some((DType::F32, &a)), Some((DType::F32, &b))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("batch"), Dim::Fixed(8)]));
        let c = [sym("n"), Dim::Fixed(3)];
        let out = infer_dims(&Op::Concat { axis: 0 }, &[Some((DType::F32, &a)), Some((DType::F32, &c))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("?"), Dim::Fixed(3)]));
        let f = t(&[2, 3], &[0f32; 6]);
        let g = t(&[2, 4], &[0f32; 8]);
        let e = run(&Op::Concat { axis: 0 }, &[Some(&f), Some(&g)], 1).unwrap_err().to_string();
        assert!(e.contains("does not match"), "{e}");
        assert!(run(&Op::Concat { axis: 2 }, &[Some(&f), Some(&f)], 1).is_err());
        let h = t(&[2, 3, 1], &[0f32; 6]);
        assert!(run(&Op::Concat { axis: 0 }, &[Some(&f), Some(&h)], 1).is_err());
        let i = t(&[2, 3], &[0i64; 6]);
        assert!(run(&Op::Concat { axis: 0 }, &[Some(&f), Some(&i)], 1).is_err());
        assert!(infer_concat(0, &[]).is_err());
        let s = t(&[], &[1f32]);
        assert!(run(&Op::Concat { axis: 0 }, &[Some(&s)], 1).is_err());
    }

    // ----- Split -----

    #[test]
    fn split_sizes_and_equal_parts() {
        let x = iota(&[2, 4]);
        let op = Op::Split(Split { axis: 1, sizes: Some(vec![1, 3]) });
        let y = run(&op, &[Some(&x)], 2).unwrap();
        assert_eq!((y[0].shape(), i64s(&y[0])), (&[2usize, 1][..], vec![0, 4]));
        assert_eq!((y[1].shape(), i64s(&y[1])), (&[2usize, 3][..], vec![1, 2, 3, 5, 6, 7]));
        // 7 into 3: ceil(7/3) = 3, the last part takes the rest (ONNX num_outputs).
        let x = iota(&[7]);
        let y = run(&Op::Split(Split { axis: -1, sizes: None }), &[Some(&x)], 3).unwrap();
        let parts: Vec<Vec<i64>> = y.iter().map(i64s).collect();
        assert_eq!(parts, [vec![0, 1, 2], vec![3, 4, 5], vec![6]]);
        let x = iota(&[6, 1]);
        let y = run(&Op::Split(Split { axis: 0, sizes: None }), &[Some(&x)], 3).unwrap();
        assert!(y.iter().all(|p| p.shape() == [2, 1]));
        // 5 into 4 parts of 2 would leave -1: an error, not a panic.
        let x = iota(&[5]);
        let e = run(&Op::Split(Split { axis: 0, sizes: None }), &[Some(&x)], 4).unwrap_err().to_string();
        assert!(e.contains("cannot be split"), "{e}");
        let e = run(&Op::Split(Split { axis: 0, sizes: Some(vec![2, 2]) }), &[Some(&x)], 2).unwrap_err().to_string();
        assert!(e.contains("add up"), "{e}");
        assert!(run(&Op::Split(Split { axis: 0, sizes: Some(vec![5]) }), &[Some(&x)], 2).is_err());
        assert!(run(&Op::Split(Split { axis: 1, sizes: None }), &[Some(&x)], 1).is_err());
        // Symbolic axis with explicit sizes keeps them.
        let d = [sym("n"), Dim::Fixed(4)];
        let out = infer_dims(&Op::Split(Split { axis: 0, sizes: Some(vec![1, 2]) }), &[Some((DType::F32, &d))], 2).unwrap();
        assert_eq!(out[1].shape, Some(vec![Dim::Fixed(2), Dim::Fixed(4)]));
    }

    // ----- Slice -----

    /// Slices `iota([3, 4, 5])` with i64 index tensors (None: input omitted).
    fn slice(shape: &[usize], starts: &[i64], ends: &[i64], axes: Option<&[i64]>, steps: Option<&[i64]>) -> Result<Tensor> {
        let x = iota(shape);
        let vec1 = |v: &[i64]| t(&[v.len()], v);
        let (s, e) = (vec1(starts), vec1(ends));
        let a = axes.map(vec1);
        let st = steps.map(vec1);
        Ok(run(&Op::Slice, &[Some(&x), Some(&s), Some(&e), a.as_ref(), st.as_ref()], 1)?.remove(0))
    }

    #[test]
    fn slice_matches_numpy() {
        const MAX: i64 = i64::MAX;
        const MIN: i64 = i64::MIN;
        let s = [3usize, 4, 5];
        let cases: Vec<(Result<Tensor>, &[usize], Vec<i64>)> = vec![
            // x[:, 1:3, :]
            (
                slice(&s, &[1], &[3], Some(&[1]), None),
                &[3, 2, 5],
                vec![5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54],
            ),
            // x[:, :, -3:-1] with a negative axis
            (
                slice(&s, &[-3], &[-1], Some(&[-1]), None),
                &[3, 4, 2],
                vec![2, 3, 7, 8, 12, 13, 17, 18, 22, 23, 27, 28, 32, 33, 37, 38, 42, 43, 47, 48, 52, 53, 57, 58],
            ),
            // x[-100:100] clamps
            (slice(&s, &[-100], &[100], None, None), &[3, 4, 5], (0..60).collect()),
            // x[::-1] with INT64_MIN end
            (slice(&s, &[-1], &[MIN], Some(&[0]), Some(&[-1])), &[3, 4, 5], (40..60).chain(20..40).chain(0..20).collect()),
            // x[:, :, 4:0:-2]
            (
                slice(&s, &[4], &[0], Some(&[2]), Some(&[-2])),
                &[3, 4, 2],
                vec![4, 2, 9, 7, 14, 12, 19, 17, 24, 22, 29, 27, 34, 32, 39, 37, 44, 42, 49, 47, 54, 52, 59, 57],
            ),
            // x[1:, :, ::3] with axes out of order
            (
                slice(&s, &[0, 1], &[MAX, MAX], Some(&[2, 0]), Some(&[3, 1])),
                &[2, 4, 2],
                vec![20, 23, 25, 28, 30, 33, 35, 38, 40, 43, 45, 48, 50, 53, 55, 58],
            ),
            // start past end: empty
            (slice(&s, &[3], &[1], Some(&[1]), None), &[3, 0, 5], vec![]),
            // x[:, :, 1:INT64_MAX]
            (slice(&s, &[1], &[MAX], Some(&[2]), Some(&[1])), &[3, 4, 4], (0..60).filter(|v| v % 5 != 0).collect()),
            // x[:, -1:-5:-3, :]
            (
                slice(&s, &[-1], &[-5], Some(&[1]), Some(&[-3])),
                &[3, 2, 5],
                vec![15, 16, 17, 18, 19, 0, 1, 2, 3, 4, 35, 36, 37, 38, 39, 20, 21, 22, 23, 24, 55, 56, 57, 58, 59, 40, 41, 42, 43, 44],
            ),
        ];
        for (i, (got, shape, want)) in cases.into_iter().enumerate() {
            let got = got.unwrap_or_else(|e| panic!("case {i}: {e}"));
            assert_eq!(got.shape(), shape, "case {i}");
            assert_eq!(i64s(&got), want, "case {i}");
        }
    }

    #[test]
    fn slice_one_dimensional_corners() {
        const MAX: i64 = i64::MAX;
        let one = |s: i64, e: i64, st: i64| i64s(&slice(&[10], &[s], &[e], None, Some(&[st])).unwrap());
        assert_eq!(one(8, 1, -2), [8, 6, 4, 2]);
        assert_eq!(one(100, -100, -3), [9, 6, 3, 0]);
        assert_eq!(one(20, -20, -1), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        assert_eq!(one(MAX, 2, -1), [9, 8, 7, 6, 5, 4, 3]);
        assert_eq!(one(i64::MIN, 3, 1), [0, 1, 2]);
        assert_eq!(one(2, i64::MIN, 1), Vec::<i64>::new());
        // Spec clamping (onnxruntime agrees; numpy would give nothing): the start clamps to
        // 0 and the end to -1, so element 0 is read.
        assert_eq!(one(-100, -200, -1), [0]);
        // INT_MAX ends read to the end in the step's direction (onnxruntime).
        assert_eq!(one(5, MAX, -1), [5, 4, 3, 2, 1, 0]);
        assert_eq!(one(5, i64::from(i32::MAX), -1), [5, 4, 3, 2, 1, 0]);
        assert_eq!(one(5, 1000, -1), Vec::<i64>::new());
        assert_eq!(one(i64::MAX, i64::MAX, i64::MAX), Vec::<i64>::new());
        assert_eq!(one(9, i64::MIN, i64::MIN), [9]);
        // i32 index tensors with INT32_MAX.
        let x = iota(&[10]);
        let s = t(&[1], &[2i32]);
        let e = t(&[1], &[i32::MAX]);
        let y = run(&Op::Slice, &[Some(&x), Some(&s), Some(&e), None, None], 1).unwrap().remove(0);
        assert_eq!(i64s(&y), [2, 3, 4, 5, 6, 7, 8, 9]);
        // An empty axis with a negative step.
        let z = slice(&[0, 2], &[0], &[10], Some(&[0]), Some(&[-1])).unwrap();
        assert_eq!(z.shape(), &[0, 2]);
    }

    #[test]
    fn slice_errors() {
        let s = [3usize, 4, 5];
        let e = slice(&s, &[0], &[1], Some(&[0]), Some(&[0])).unwrap_err().to_string();
        assert!(e.contains("step"), "{e}");
        let e = slice(&s, &[0, 0], &[1, 1], Some(&[1, -2]), None).unwrap_err().to_string();
        assert!(e.contains("twice"), "{e}");
        assert!(slice(&s, &[0], &[1], Some(&[3]), None).is_err());
        assert!(slice(&s, &[0, 0], &[1], None, None).is_err());
        assert!(slice(&s, &[0, 0, 0, 0], &[1, 1, 1, 1], None, None).is_err());
        let x = iota(&[4]);
        let f = t(&[1], &[0.0f32]);
        assert!(run(&Op::Slice, &[Some(&x), Some(&f), Some(&f), None, None], 1).is_err());
    }

    #[test]
    fn slice_symbolic_inference() {
        let x = [sym("batch"), Dim::Fixed(10)];
        let i = |v: &[i64]| t(&[v.len()], v);
        let (s, e, a) = (i(&[0, 2]), i(&[i64::MAX, 7]), i(&[0, 1]));
        let facts = [
            Some(Fact { dtype: DType::F32, shape: Some(&x), value: None }),
            Some(Fact { dtype: DType::I64, shape: None, value: Some(s.view()) }),
            Some(Fact { dtype: DType::I64, shape: None, value: Some(e.view()) }),
            Some(Fact { dtype: DType::I64, shape: None, value: Some(a.view()) }),
        ];
        let out = infer_slice(&facts).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("batch"), Dim::Fixed(5)]));
        // Unknown values but known axes: only those axes become unknown.
        let one = [Dim::Fixed(1)];
        let last = i(&[-1]);
        let facts = [
            Some(Fact { dtype: DType::F32, shape: Some(&x), value: None }),
            Some(Fact { dtype: DType::I64, shape: Some(&one), value: None }),
            Some(Fact { dtype: DType::I64, shape: Some(&one), value: None }),
            Some(Fact { dtype: DType::I64, shape: None, value: Some(last.view()) }),
        ];
        assert_eq!(infer_slice(&facts).unwrap()[0].shape, Some(vec![sym("batch"), sym("?")]));
        // No axes and one start: axis 0 only.
        let facts = [facts[0], facts[1], facts[2]];
        assert_eq!(infer_slice(&facts).unwrap()[0].shape, Some(vec![sym("?"), Dim::Fixed(10)]));
    }

    // ----- Transpose -----

    #[test]
    fn transpose_matches_numpy() {
        let x = t(&[2, 3, 4], &(0..24).map(|v| v as f32).collect::<Vec<_>>());
        let y = run(&Op::Transpose { perm: vec![2, 0, 1] }, &[Some(&x)], 1).unwrap().remove(0);
        assert_eq!(y.shape(), &[4, 2, 3]);
        assert_close(
            &f32s(&y),
            &[0., 4., 8., 12., 16., 20., 1., 5., 9., 13., 17., 21., 2., 6., 10., 14., 18., 22., 3., 7., 11., 15., 19., 23.],
            0.0,
            0.0,
        );
        // NCHW -> NHWC on a larger u8 tensor, split over threads; checked per element.
        let (n, c, h, w) = (2usize, 3, 67, 131);
        let v: Vec<u8> = (0..n * c * h * w).map(|i| (i % 251) as u8).collect();
        let x = t(&[n, c, h, w], &v);
        let y = run_par(&Op::Transpose { perm: vec![0, 2, 3, 1] }, &[Some(&x)], 1, 2).unwrap().remove(0);
        assert_eq!(y.shape(), &[n, h, w, c]);
        let yv = y.as_slice::<u8>().unwrap();
        for (i, &got) in yv.iter().enumerate() {
            let (b, rest) = (i / (h * w * c), i % (h * w * c));
            let (yy, xx, ch) = (rest / (w * c), rest / c % w, rest % c);
            assert_eq!(got, v[((b * c + ch) * h + yy) * w + xx]);
        }
    }

    #[test]
    fn transpose_errors_and_inference() {
        let x = iota(&[2, 3]);
        assert!(run(&Op::Transpose { perm: vec![0] }, &[Some(&x)], 1).is_err());
        assert!(run(&Op::Transpose { perm: vec![0, 0] }, &[Some(&x)], 1).is_err());
        assert!(run(&Op::Transpose { perm: vec![0, 2] }, &[Some(&x)], 1).is_err());
        let d = [sym("n"), Dim::Fixed(3), Dim::Fixed(4)];
        let out = infer_dims(&Op::Transpose { perm: vec![0, 2, 1] }, &[Some((DType::F32, &d))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("n"), Dim::Fixed(4), Dim::Fixed(3)]));
    }

    // ----- Pad -----

    fn pad(x: &Tensor, mode: PadMode, pads: &[i64], value: f32) -> Result<Tensor> {
        Ok(run(&Op::Pad(Pad { mode, pads: pads.to_vec(), value }), &[Some(x)], 1)?.remove(0))
    }

    fn p34() -> Tensor {
        t(&[3, 4], &(1..=12).map(|v| v as f32).collect::<Vec<_>>())
    }

    #[test]
    fn pad_every_mode_matches_numpy() {
        // np.pad(p, ((1, 2), (2, 1)), mode)
        let pads = [1, 2, 2, 1];
        let cases = [
            (
                PadMode::Constant,
                vec![
                    2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 1.0, 2.0, 3.0, 4.0, 2.5, 2.5, 2.5, 5.0, 6.0, 7.0, 8.0, 2.5, 2.5, 2.5, 9.0,
                    10.0, 11.0, 12.0, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5,
                ],
            ),
            (
                PadMode::Reflect,
                vec![
                    7.0, 6.0, 5.0, 6.0, 7.0, 8.0, 7.0, 3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 7.0, 6.0, 5.0, 6.0, 7.0, 8.0, 7.0, 11.0, 10.0,
                    9.0, 10.0, 11.0, 12.0, 11.0, 7.0, 6.0, 5.0, 6.0, 7.0, 8.0, 7.0, 3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0,
                ],
            ),
            (
                PadMode::Edge,
                vec![
                    1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 4.0, 1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 4.0, 5.0, 5.0, 5.0, 6.0, 7.0, 8.0, 8.0, 9.0, 9.0, 9.0,
                    10.0, 11.0, 12.0, 12.0, 9.0, 9.0, 9.0, 10.0, 11.0, 12.0, 12.0, 9.0, 9.0, 9.0, 10.0, 11.0, 12.0, 12.0,
                ],
            ),
            (
                PadMode::Wrap,
                vec![
                    11.0, 12.0, 9.0, 10.0, 11.0, 12.0, 9.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 1.0, 7.0, 8.0, 5.0, 6.0, 7.0, 8.0, 5.0, 11.0,
                    12.0, 9.0, 10.0, 11.0, 12.0, 9.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 1.0, 7.0, 8.0, 5.0, 6.0, 7.0, 8.0, 5.0,
                ],
            ),
        ];
        for (mode, want) in cases {
            let y = pad(&p34(), mode, &pads, 2.5).unwrap();
            assert_eq!(y.shape(), &[6, 7], "{mode:?}");
            assert_close(&f32s(&y), &want, 0.0, 0.0);
        }
        // Padding longer than the axis repeats periodically (numpy, the ONNX reference).
        let x = t(&[3], &[1.0f32, 2.0, 3.0]);
        assert_close(&f32s(&pad(&x, PadMode::Reflect, &[5, 4], 0.0).unwrap()), &[2., 1., 2., 3., 2., 1., 2., 3., 2., 1., 2., 3.], 0.0, 0.0);
        assert_close(&f32s(&pad(&x, PadMode::Wrap, &[5, 4], 0.0).unwrap()), &[2., 3., 1., 2., 3., 1., 2., 3., 1., 2., 3., 1.], 0.0, 0.0);
        // A single element reflects to itself.
        assert_close(&f32s(&pad(&t(&[1], &[4.0f32]), PadMode::Reflect, &[2, 1], 0.0).unwrap()), &[4.0; 4], 0.0, 0.0);
    }

    #[test]
    fn negative_pads_crop_first() {
        // onnxruntime: axis 0 crops 1 at the start and pads 1 at the end, axis 1 pads 2 at
        // the start and crops 1 at the end; borders come from the cropped tensor.
        let pads = [-1, 2, 1, -1];
        let cases = [
            (PadMode::Constant, [0.0, 0.0, 5.0, 6.0, 7.0, 0.0, 0.0, 9.0, 10.0, 11.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (PadMode::Reflect, [7.0, 6.0, 5.0, 6.0, 7.0, 11.0, 10.0, 9.0, 10.0, 11.0, 7.0, 6.0, 5.0, 6.0, 7.0]),
            (PadMode::Edge, [5.0, 5.0, 5.0, 6.0, 7.0, 9.0, 9.0, 9.0, 10.0, 11.0, 9.0, 9.0, 9.0, 10.0, 11.0]),
            (PadMode::Wrap, [6.0, 7.0, 5.0, 6.0, 7.0, 10.0, 11.0, 9.0, 10.0, 11.0, 6.0, 7.0, 5.0, 6.0, 7.0]),
        ];
        for (mode, want) in cases {
            let y = pad(&p34(), mode, &pads, 0.0).unwrap();
            assert_eq!(y.shape(), &[3, 5], "{mode:?}");
            assert_close(&f32s(&y), &want, 0.0, 0.0);
        }
        let x = t(&[5], &[1.0f32, 2.0, 3.0, 4.0, 5.0]);
        let one = |mode, p: [i64; 2]| f32s(&pad(&x, mode, &p, 0.0).unwrap());
        assert_eq!(one(PadMode::Reflect, [-2, 2]), [3., 4., 5., 4., 3.]);
        assert_eq!(one(PadMode::Reflect, [2, -2]), [3., 2., 1., 2., 3.]);
        assert_eq!(one(PadMode::Edge, [-2, 2]), [3., 4., 5., 5., 5.]);
        assert_eq!(one(PadMode::Wrap, [-2, 2]), [3., 4., 5., 3., 4.]);
        assert_eq!(one(PadMode::Wrap, [2, -2]), [2., 3., 1., 2., 3.]);
        assert_eq!(one(PadMode::Constant, [2, -2]), [0., 0., 1., 2., 3.]);
        assert_eq!(one(PadMode::Constant, [-5, 0]), Vec::<f32>::new());
    }

    #[test]
    fn pad_other_dtypes_and_errors() {
        let x = t(&[2], &[7i64, 8]);
        let y = pad(&x, PadMode::Constant, &[1, 2], -3.7).unwrap();
        assert_eq!(i64s(&y), [-3, 7, 8, -3, -3]);
        let b = Tensor::from_bytes(DType::Bool, &[2], &[1, 0]).unwrap();
        assert_eq!(pad(&b, PadMode::Constant, &[1, 0], 2.0).unwrap().bytes(), &[1, 1, 0]);
        // Errors.
        let e = pad(&p34(), PadMode::Constant, &[1, 1], 0.0).unwrap_err().to_string();
        assert!(e.contains("pads"), "{e}");
        let e = pad(&p34(), PadMode::Constant, &[-3, 0, -1, 0], 0.0).unwrap_err().to_string();
        assert!(e.contains("crop"), "{e}");
        let empty = t::<f32>(&[0], &[]);
        for mode in [PadMode::Reflect, PadMode::Edge, PadMode::Wrap] {
            assert!(pad(&empty, mode, &[1, 0], 0.0).is_err(), "{mode:?}");
        }
        assert_eq!(pad(&empty, PadMode::Constant, &[1, 1], 0.0).unwrap().shape(), &[2]);
        assert!(pad(&x, PadMode::Constant, &[i64::MAX, 1], 0.0).is_err());
        // Symbolic dims: a net-zero pad keeps the name.
        let d = [sym("n"), sym("w")];
        let a = Pad { mode: PadMode::Constant, pads: vec![0, 1, 0, 1], value: 0.0 };
        let out = infer_dims(&Op::Pad(a), &[Some((DType::F32, &d))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("n"), sym("?")]));
    }

    #[test]
    fn pad_large_parallel() {
        let (h, w) = (150usize, 130);
        let v: Vec<f32> = (0..h * w).map(|i| i as f32).collect();
        let x = t(&[1, h, w, 1], &v);
        let op = Op::Pad(Pad { mode: PadMode::Reflect, pads: vec![0, 2, 3, 0, 0, 1, 4, 0], value: 0.0 });
        let y = run_par(&op, &[Some(&x)], 1, 2).unwrap().remove(0);
        assert_eq!(y.shape(), &[1, h + 3, w + 7, 1]);
        let refl = |i: i64, n: i64| {
            if i < 0 {
                -i
            } else if i >= n {
                2 * (n - 1) - i
            } else {
                i
            }
        };
        let yv = f32s(&y);
        for (k, &got) in yv.iter().enumerate() {
            let (r, c) = ((k / (w + 7)) as i64 - 2, (k % (w + 7)) as i64 - 3);
            let want = v[(refl(r, h as i64) * w as i64 + refl(c, w as i64)) as usize];
            assert_eq!(got, want, "at {k}");
        }
    }

    // ----- Gather -----

    #[test]
    fn gather_matches_numpy() {
        let g = t(&[2, 3, 4], &(0..24).map(|v| v as f32).collect::<Vec<_>>());
        let idx = t(&[2, 2], &[2i64, -3, 0, -1]);
        let y = run(&Op::Gather { axis: 1 }, &[Some(&g), Some(&idx)], 1).unwrap().remove(0);
        assert_eq!(y.shape(), &[2, 2, 2, 4]);
        assert_close(
            &f32s(&y),
            &[
                8., 9., 10., 11., 0., 1., 2., 3., 0., 1., 2., 3., 8., 9., 10., 11., 20., 21., 22., 23., 12., 13., 14., 15., 12., 13., 14.,
                15., 20., 21., 22., 23.,
            ],
            0.0,
            0.0,
        );
        // A scalar index drops the axis.
        let s = t(&[], &[-1i32]);
        let y = run(&Op::Gather { axis: 0 }, &[Some(&g), Some(&s)], 1).unwrap().remove(0);
        assert_eq!(y.shape(), &[3, 4]);
        assert_close(&f32s(&y), &(12..24).map(|v| v as f32).collect::<Vec<_>>(), 0.0, 0.0);
        let i2 = t(&[2], &[3i32, 0]);
        let y = run(&Op::Gather { axis: -1 }, &[Some(&g), Some(&i2)], 1).unwrap().remove(0);
        assert_close(&f32s(&y), &[3., 0., 7., 4., 11., 8., 15., 12., 19., 16., 23., 20.], 0.0, 0.0);
        // Shape math: Gather(Shape(x), 0).
        let shape = t(&[4], &[1i64, 224, 224, 3]);
        let y = run(&Op::Gather { axis: 0 }, &[Some(&shape), Some(&t(&[], &[0i64]))], 1).unwrap().remove(0);
        assert_eq!((y.shape(), i64s(&y)), (&[][..], vec![1]));
    }

    #[test]
    fn gather_out_of_range_is_an_error() {
        let g = iota(&[3, 2]);
        // Known at inference time.
        let bad = t(&[2], &[0i64, 3]);
        let e = run(&Op::Gather { axis: 0 }, &[Some(&g), Some(&bad)], 1).unwrap_err().to_string();
        assert!(e.contains("out of range"), "{e}");
        // Only at run time: the kernel reports it.
        let mut gk = GatherKernel { label: "Gather node #0 \"g\"".into(), outer: 1, axis_len: 3, block: 16, n_idx: 2 };
        let idx = t(&[2], &[1i64, -4]);
        let mut out = Tensor::zeros(DType::I64, &[2, 2]);
        let inputs = [Some(g.view()), Some(idx.view())];
        let mut outs = [out.view_mut()];
        let r = gk.run(KernelIo { inputs: &inputs, outputs: &mut outs, workspace: &mut [] }, &Parallel::SERIAL);
        let e = r.unwrap_err().to_string();
        assert!(e.contains("index -4") && e.contains("\"g\""), "{e}");
        gk.n_idx = 5;
        let r = gk.run(KernelIo { inputs: &inputs, outputs: &mut outs, workspace: &mut [] }, &Parallel::SERIAL);
        assert!(r.is_err());
        let f = t(&[1], &[0.0f32]);
        assert!(run(&Op::Gather { axis: 0 }, &[Some(&g), Some(&f)], 1).is_err());
        assert!(run(&Op::Gather { axis: 2 }, &[Some(&g), Some(&bad)], 1).is_err());
        let d = fx(&[5, 6]);
        let ids = [sym("n")];
        let out = infer_dims(&Op::Gather { axis: 1 }, &[Some((DType::F32, &d)), Some((DType::I64, &ids))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![Dim::Fixed(5), sym("n")]));
    }
}
