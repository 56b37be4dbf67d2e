//! Shape operators: [`Op::Reshape`], [`Op::Flatten`], [`Op::Squeeze`], [`Op::Unsqueeze`],
//! [`Op::Identity`] (metadata changes: the planner aliases them, their kernel is a plain
//! copy for when it cannot), [`Op::Shape`], [`Op::Range`], [`Op::Expand`] and
//! [`Op::ConstantOfShape`].
//!
//! Shape inference here carries symbolic dims through where the algebra allows (`Reshape`
//! of `[batch, 7, 7, 512]` to `[0, -1]` is `[batch, 25088]`) and says `?` elsewhere.

use super::movement::StridedCopyKernel;
use super::util::{self, PAR_CHUNK, StridedRuns, cast_bytes_mut};
use super::{Fact, OutFact};
use crate::error::{Error, Result};
use crate::ir::{DType, Dim, Op, OpKind};
use crate::kernel::{Kernel, KernelIo, KernelRegistry, NodeCtx, Parallel};
use crate::tensor::TensorView;

fn same_shape(x: &Fact<'_>) -> Vec<OutFact> {
    vec![OutFact { dtype: x.dtype, shape: x.shape.map(<[Dim]>::to_vec) }]
}

fn require_int(f: &Fact<'_>, what: &str) -> Result<(), String> {
    if matches!(f.dtype, DType::I64 | DType::I32) { Ok(()) } else { Err(format!("{what} must be an i64 or i32 tensor, got {}", f.dtype)) }
}

/// `k` unknown dims when a 1-D shape tensor's length `k` is known, else unknown rank.
fn unknown_of_length(shape_fact: &Fact<'_>) -> Option<Vec<Dim>> {
    match shape_fact.shape {
        Some([Dim::Fixed(k)]) => Some(vec![util::unknown_dim(); *k]),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Reshape
// ---------------------------------------------------------------------------------------

/// Fixed product and symbolic names of a shape; `None` when it holds an anonymous `?`.
fn split_dims(dims: &[Dim]) -> Result<Option<(usize, Vec<&str>)>, String> {
    let mut fixed = 1usize;
    let mut syms = Vec::new();
    for d in dims {
        match d {
            Dim::Fixed(n) => fixed = fixed.checked_mul(*n).ok_or("element count overflows")?,
            Dim::Sym(s) if s == "?" => return Ok(None),
            Dim::Sym(s) => syms.push(s.as_str()),
        }
    }
    Ok(Some((fixed, syms)))
}

/// The output dims of Reshape to `target` (ONNX rules for `0` and `-1`).
fn reshape_dims(input: Option<&[Dim]>, target: &[i64], allow_zero: bool) -> Result<Vec<Dim>, String> {
    let mut infer_at = None;
    let mut out = Vec::with_capacity(target.len());
    for (i, &t) in target.iter().enumerate() {
        out.push(match t {
            -1 => {
                if infer_at.replace(i).is_some() {
                    return Err(format!("shape {target:?} has more than one -1"));
                }
                util::unknown_dim()
            }
            0 if !allow_zero => match input {
                Some(dims) => dims
                    .get(i)
                    .cloned()
                    .ok_or_else(|| format!("shape {target:?} copies input dimension {i} (a 0), but the input has rank {}", dims.len()))?,
                None => util::unknown_dim(),
            },
            t if t < 0 => return Err(format!("shape {target:?} has the invalid size {t}")),
            t => Dim::Fixed(usize::try_from(t).map_err(|_| format!("shape {target:?} has a size too large"))?),
        });
    }
    if allow_zero && infer_at.is_some() && target.contains(&0) {
        return Err(format!("shape {target:?} has both 0 and -1 with allowzero set"));
    }
    let Some(input) = input else { return Ok(out) };
    let Some((in_fixed, in_syms)) = split_dims(input)? else { return Ok(out) };
    let others: Vec<Dim> = out.iter().enumerate().filter(|(i, _)| Some(*i) != infer_at).map(|(_, d)| d.clone()).collect();
    let Some((out_fixed, out_syms)) = split_dims(&others)? else { return Ok(out) };
    // Cancel symbolic names that appear on both sides.
    let mut rest = in_syms;
    let mut unmatched = false;
    for s in out_syms {
        match rest.iter().position(|r| *r == s) {
            Some(p) => {
                rest.swap_remove(p);
            }
            None => unmatched = true,
        }
    }
    let mismatch =
        || format!("cannot reshape {} ({in_fixed} elements) to {target:?} ({out_fixed} elements besides the -1)", util::show(input));
    match infer_at {
        Some(k) if !unmatched => {
            if rest.is_empty() {
                if out_fixed == 0 || in_fixed % out_fixed != 0 {
                    return Err(mismatch());
                }
                out[k] = Dim::Fixed(in_fixed / out_fixed);
            } else if let ([only], true) = (rest.as_slice(), in_fixed == out_fixed && out_fixed != 0) {
                out[k] = Dim::Sym((*only).to_string());
            }
        }
        None if !unmatched && rest.is_empty() && in_fixed != out_fixed => {
            return Err(format!(
                "cannot reshape {} ({in_fixed} elements) to {} ({out_fixed} elements)",
                util::show(input),
                util::show(&out)
            ));
        }
        _ => {}
    }
    Ok(out)
}

pub(super) fn infer_reshape(allow_zero: bool, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "data")?;
    let s = util::fact(inputs, 1, "shape")?;
    require_int(s, "shape")?;
    let shape = match util::int_values(s, "shape") {
        Some(target) => Some(reshape_dims(x.shape, &target?, allow_zero)?),
        None => unknown_of_length(s),
    };
    Ok(vec![OutFact { dtype: x.dtype, shape }])
}

// ---------------------------------------------------------------------------------------
// Flatten, Squeeze, Unsqueeze, Identity
// ---------------------------------------------------------------------------------------

pub(super) fn infer_flatten(axis: i64, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "data")?;
    let Some(dims) = x.shape else {
        return Ok(vec![OutFact { dtype: x.dtype, shape: Some(vec![util::unknown_dim(), util::unknown_dim()]) }]);
    };
    let r = dims.len() as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if !(0..=r).contains(&a) {
        return Err(format!("axis {axis} is out of range for Flatten of rank {r} (allowed {}..={r})", -r));
    }
    let (head, tail) = dims.split_at(a as usize);
    Ok(vec![OutFact { dtype: x.dtype, shape: Some(vec![util::dims_product(head)?, util::dims_product(tail)?]) }])
}

pub(super) fn infer_squeeze(axes: &[i64], inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "data")?;
    let Some(dims) = x.shape else { return Ok(vec![OutFact { dtype: x.dtype, shape: None }]) };
    if axes.is_empty() {
        // Every size-1 axis goes; with a symbolic dim the output rank is not known.
        if dims.iter().any(|d| matches!(d, Dim::Sym(_))) {
            return Ok(vec![OutFact { dtype: x.dtype, shape: None }]);
        }
        let out = dims.iter().filter(|d| **d != Dim::Fixed(1)).cloned().collect();
        return Ok(vec![OutFact { dtype: x.dtype, shape: Some(out) }]);
    }
    let mut drop = vec![false; dims.len()];
    for &ax in axes {
        let a = util::normalize_axis(ax, dims.len())?;
        if std::mem::replace(&mut drop[a], true) {
            return Err(format!("axis {ax} is listed twice"));
        }
        if let Dim::Fixed(n) = dims[a]
            && n != 1
        {
            return Err(format!("cannot squeeze axis {ax} of size {n} (input {})", util::show(dims)));
        }
    }
    let out = dims.iter().zip(&drop).filter(|(_, d)| !**d).map(|(d, _)| d.clone()).collect();
    Ok(vec![OutFact { dtype: x.dtype, shape: Some(out) }])
}

pub(super) fn infer_unsqueeze(axes: &[i64], inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "data")?;
    let Some(dims) = x.shape else { return Ok(vec![OutFact { dtype: x.dtype, shape: None }]) };
    let rank = dims.len() + axes.len();
    let mut new_axis = vec![false; rank];
    for &ax in axes {
        let a = util::normalize_axis(ax, rank)?;
        if std::mem::replace(&mut new_axis[a], true) {
            return Err(format!("axis {ax} is listed twice"));
        }
    }
    let mut rest = dims.iter();
    let out = new_axis.iter().map(|&n| if n { Some(Dim::Fixed(1)) } else { rest.next().cloned() }).collect::<Option<Vec<Dim>>>();
    Ok(vec![OutFact { dtype: x.dtype, shape: out }])
}

pub(super) fn infer_identity(inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    Ok(same_shape(util::fact(inputs, 0, "data")?))
}

/// The kernel of the reshape-like operators: the same bytes, copied.
#[derive(Debug)]
struct CopyKernel {
    bytes: usize,
}

fn build_copy(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let (dtype, shape) = ctx.inputs.first().copied().flatten().ok_or_else(|| ctx.err("input 0 is missing"))?;
    let bytes = shape.iter().product::<usize>() * dtype.size();
    let out: usize = ctx.output_shape(0)?.iter().product();
    if out * dtype.size() != bytes {
        return Err(ctx.err(format!("input {shape:?} and output {:?} differ in size", ctx.output_shape(0)?)));
    }
    Ok(Box::new(CopyKernel { bytes }))
}

impl Kernel for CopyKernel {
    fn run(&self, io: KernelIo<'_, '_>, _par: &Parallel<'_>) -> Result<()> {
        let x = io.input(0)?.bytes();
        let out = io.outputs.first_mut().ok_or_else(|| Error::Graph("missing output".into()))?.bytes_mut();
        if x.len() != self.bytes || out.len() != self.bytes {
            return Err(Error::Input(format!("copy of {} bytes into {}, planned {}", x.len(), out.len(), self.bytes)));
        }
        out.copy_from_slice(x);
        Ok(())
    }
}

fn copy_applies(ctx: &NodeCtx<'_>) -> bool {
    matches!((ctx.inputs.first().copied().flatten(), ctx.outputs.first()), (Some((i, _)), Some((o, _))) if i == *o)
}

// ---------------------------------------------------------------------------------------
// Shape
// ---------------------------------------------------------------------------------------

/// The dims `[start, end)` of a rank-`rank` shape (opset 15 clamping).
pub(super) fn shape_range(start: i64, end: Option<i64>, rank: usize) -> (usize, usize) {
    let r = rank as i64;
    let clamp = |v: i64| (if v < 0 { v.saturating_add(r) } else { v }).clamp(0, r) as usize;
    let (s, e) = (clamp(start), clamp(end.unwrap_or(r)));
    (s, e.max(s))
}

pub(super) fn infer_shape(start: i64, end: Option<i64>, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "data")?;
    let len = match x.shape {
        Some(dims) => {
            let (s, e) = shape_range(start, end, dims.len());
            Dim::Fixed(e - s)
        }
        None => util::unknown_dim(),
    };
    Ok(vec![OutFact { dtype: DType::I64, shape: Some(vec![len]) }])
}

#[derive(Debug)]
struct ShapeKernel {
    start: i64,
    end: Option<i64>,
}

fn build_shape(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::Shape { start, end } = ctx.node.op else { return Err(ctx.err("not a Shape node")) };
    Ok(Box::new(ShapeKernel { start, end }))
}

impl Kernel for ShapeKernel {
    fn run(&self, io: KernelIo<'_, '_>, _par: &Parallel<'_>) -> Result<()> {
        let dims = io.input(0)?.shape();
        let (s, e) = shape_range(self.start, self.end, dims.len());
        let out = cast_bytes_mut::<i64>(io.outputs.first_mut().ok_or_else(|| Error::Graph("missing output".into()))?.bytes_mut())?;
        if out.len() != e - s {
            return Err(Error::Input(format!("Shape writes {} dims into {} elements", e - s, out.len())));
        }
        for (o, &d) in out.iter_mut().zip(&dims[s..e]) {
            *o = d as i64;
        }
        Ok(())
    }
}

fn shape_applies(ctx: &NodeCtx<'_>) -> bool {
    ctx.inputs.first().copied().flatten().is_some() && matches!(ctx.outputs.first(), Some((DType::I64, _)))
}

// ---------------------------------------------------------------------------------------
// Range
// ---------------------------------------------------------------------------------------

/// Range's scalars, integer or float.
#[derive(Debug, Clone, Copy)]
enum RangeArgs {
    Int(i64, i64, i64),
    Float(f64, f64, f64),
}

impl RangeArgs {
    fn read(views: [TensorView<'_>; 3]) -> Result<RangeArgs, String> {
        let dtype = views[0].dtype();
        let mut ints = [0i64; 3];
        let mut floats = [0f64; 3];
        for (k, v) in views.iter().enumerate() {
            if v.dtype() != dtype {
                return Err(format!("Range inputs have different types: {dtype} and {}", v.dtype()));
            }
            if v.numel() != 1 {
                return Err(format!("Range input {k} must be a scalar, got shape {:?}", v.shape()));
            }
            match dtype {
                DType::I64 | DType::I32 => ints[k] = v.to_i64_vec().map_err(|e| e.to_string())?[0],
                DType::F32 => floats[k] = f64::from(v.f32().map_err(|e| e.to_string())?[0]),
                other => return Err(format!("Range supports f32, i64 and i32, not {other}")),
            }
        }
        Ok(match dtype {
            DType::F32 => RangeArgs::Float(floats[0], floats[1], floats[2]),
            _ => RangeArgs::Int(ints[0], ints[1], ints[2]),
        })
    }

    /// Number of elements, `max(ceil((limit - start) / delta), 0)`.
    fn len(self) -> Result<usize, String> {
        let n: i128 = match self {
            RangeArgs::Int(s, l, d) => {
                if d == 0 {
                    return Err("Range delta is 0".into());
                }
                let (span, d) = (i128::from(l) - i128::from(s), i128::from(d));
                // Ceiling division with the sign of d.
                let q = span / d;
                if span % d != 0 && ((span > 0) == (d > 0)) { q + 1 } else { q }
            }
            RangeArgs::Float(s, l, d) => {
                let n = ((l - s) / d).ceil();
                if d == 0.0 || !n.is_finite() {
                    return Err(format!("Range({s}, {l}, {d}) has no finite length"));
                }
                if n > 1e18 {
                    return Err(format!("Range({s}, {l}, {d}) is too long"));
                }
                n as i128
            }
        };
        usize::try_from(n.max(0)).map_err(|_| "Range is too long".to_string())
    }
}

pub(super) fn infer_range(inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let f = [util::fact(inputs, 0, "start")?, util::fact(inputs, 1, "limit")?, util::fact(inputs, 2, "delta")?];
    let dtype = f[0].dtype;
    if !matches!(dtype, DType::F32 | DType::I64 | DType::I32) {
        return Err(format!("Range supports f32, i64 and i32, not {dtype}"));
    }
    for (k, x) in f.iter().enumerate() {
        if x.dtype != dtype {
            return Err(format!("Range input {k} is {}, input 0 is {dtype}", x.dtype));
        }
        if let Some(s) = x.shape
            && s.iter().any(|d| matches!(d, Dim::Fixed(n) if *n != 1))
        {
            return Err(format!("Range input {k} must be a scalar, got shape {}", util::show(s)));
        }
    }
    let len = match (f[0].value, f[1].value, f[2].value) {
        (Some(s), Some(l), Some(d)) => Dim::Fixed(RangeArgs::read([s, l, d])?.len()?),
        _ => util::unknown_dim(),
    };
    let shape = vec![len];
    util::check_size(&shape, dtype.size())?;
    Ok(vec![OutFact { dtype, shape: Some(shape) }])
}

#[derive(Debug)]
struct RangeKernel;

fn build_range(_ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    Ok(Box::new(RangeKernel))
}

impl Kernel for RangeKernel {
    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let args = RangeArgs::read([io.input(0)?, io.input(1)?, io.input(2)?]).map_err(Error::Input)?;
        let n = args.len().map_err(Error::Input)?;
        let out = io.outputs.first_mut().ok_or_else(|| Error::Graph("missing output".into()))?;
        if out.numel() != n {
            return Err(Error::Input(format!("Range produces {n} elements, the plan expects {}", out.numel())));
        }
        let dtype = out.dtype();
        let bytes = out.bytes_mut();
        match (args, dtype) {
            (RangeArgs::Float(s, _, d), DType::F32) => {
                par.for_each_chunk_mut(cast_bytes_mut::<f32>(bytes)?, PAR_CHUNK, |ci, c| {
                    for (i, o) in c.iter_mut().enumerate() {
                        *o = (s + (ci * PAR_CHUNK + i) as f64 * d) as f32;
                    }
                });
            }
            // Every value lies between start and limit (n was derived from them), so the
            // narrowing casts below are exact.
            (RangeArgs::Int(s, _, d), DType::I64) => {
                for (i, o) in cast_bytes_mut::<i64>(bytes)?.iter_mut().enumerate() {
                    *o = (i128::from(s) + i as i128 * i128::from(d)) as i64;
                }
            }
            (RangeArgs::Int(s, _, d), DType::I32) => {
                for (i, o) in cast_bytes_mut::<i32>(bytes)?.iter_mut().enumerate() {
                    *o = (i128::from(s) + i as i128 * i128::from(d)) as i32;
                }
            }
            (_, other) => return Err(Error::Unsupported(format!("Range producing {other}"))),
        }
        Ok(())
    }
}

fn range_applies(ctx: &NodeCtx<'_>, family: &[DType]) -> bool {
    let d = |i: usize| ctx.inputs.get(i).copied().flatten().map(|(d, _)| d);
    match (d(0), d(1), d(2), ctx.outputs.first()) {
        (Some(a), Some(b), Some(c), Some((o, _))) => a == b && b == c && c == *o && family.contains(&a),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Expand
// ---------------------------------------------------------------------------------------

fn non_negative_dims(values: &[i64], what: &str) -> Result<Vec<Dim>, String> {
    values.iter().map(|&v| usize::try_from(v).map(Dim::Fixed).map_err(|_| format!("{what} {values:?} has the negative size {v}"))).collect()
}

pub(super) fn infer_expand(inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "data")?;
    let s = util::fact(inputs, 1, "shape")?;
    require_int(s, "shape")?;
    let shape = match (util::int_values(s, "shape"), x.shape) {
        (Some(target), Some(xs)) => {
            let target = non_negative_dims(&target?, "shape")?;
            let out =
                util::broadcast_dims(xs, &target).map_err(|_| format!("cannot expand {} to {}", util::show(xs), util::show(&target)))?;
            util::check_size(&out, x.dtype.size())?;
            Some(out)
        }
        (Some(target), None) => {
            non_negative_dims(&target?, "shape")?;
            None
        }
        (None, Some(xs)) => match s.shape {
            Some([Dim::Fixed(k)]) => {
                // A dim of x other than 1 survives; everything else depends on the value.
                let rank = xs.len().max(*k);
                let lead = rank - xs.len();
                Some(
                    (0..rank)
                        .map(|i| match i.checked_sub(lead).map(|j| &xs[j]) {
                            Some(Dim::Fixed(n)) if *n != 1 => Dim::Fixed(*n),
                            _ => util::unknown_dim(),
                        })
                        .collect(),
                )
            }
            _ => None,
        },
        (None, None) => None,
    };
    Ok(vec![OutFact { dtype: x.dtype, shape }])
}

fn build_expand(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let (dtype, shape) = ctx.inputs.first().copied().flatten().ok_or_else(|| ctx.err("input 0 is missing"))?;
    let out = ctx.output_shape(0)?;
    let runs = StridedRuns::broadcast(out, [shape]).map_err(|e| ctx.err(e))?;
    Ok(Box::new(StridedCopyKernel { runs, elem_size: dtype.size(), in_len: shape.iter().product() }))
}

fn expand_applies(ctx: &NodeCtx<'_>) -> bool {
    copy_applies(ctx) && matches!(ctx.inputs.get(1).copied().flatten(), Some((DType::I64 | DType::I32, _)))
}

// ---------------------------------------------------------------------------------------
// ConstantOfShape
// ---------------------------------------------------------------------------------------

pub(super) fn infer_constant_of_shape(dtype: DType, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let s = util::fact(inputs, 0, "shape")?;
    require_int(s, "shape")?;
    if let Some(dims) = s.shape
        && dims.len() != 1
    {
        return Err(format!("the shape input must be 1-D, got {}", util::show(dims)));
    }
    let shape = match util::int_values(s, "shape") {
        Some(v) => {
            let dims = non_negative_dims(&v?, "shape")?;
            util::check_size(&dims, dtype.size())?;
            Some(dims)
        }
        None => unknown_of_length(s),
    };
    Ok(vec![OutFact { dtype, shape }])
}

/// The bytes of `value` as `dtype` (to int truncates toward zero, to bool is `!= 0`).
fn value_bytes(value: f64, dtype: DType) -> [u8; 8] {
    let mut b = [0u8; 8];
    match dtype {
        DType::F32 => b[..4].copy_from_slice(&(value as f32).to_le_bytes()),
        DType::F16 => b[..2].copy_from_slice(&half::f16::from_f64(value).to_le_bytes()),
        DType::I8 => b[0] = (value as i8) as u8,
        DType::U8 => b[0] = value as u8,
        DType::I32 => b[..4].copy_from_slice(&(value as i32).to_le_bytes()),
        DType::I64 => b.copy_from_slice(&(value as i64).to_le_bytes()),
        DType::Bool => b[0] = u8::from(value != 0.0),
    }
    b
}

#[derive(Debug)]
struct FillKernel {
    value: [u8; 8],
    elem_size: usize,
    numel: usize,
}

fn build_constant_of_shape(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::ConstantOfShape { dtype, value } = ctx.node.op else { return Err(ctx.err("not a ConstantOfShape node")) };
    let numel = ctx.output_shape(0)?.iter().product();
    Ok(Box::new(FillKernel { value: value_bytes(value, dtype), elem_size: dtype.size(), numel }))
}

fn fill<T: bytemuck::Pod + Send + Sync>(value: &[u8], out: &mut [u8], par: &Parallel<'_>) -> Result<()> {
    let v: T = bytemuck::pod_read_unaligned(value);
    par.for_each_chunk_mut(cast_bytes_mut::<T>(out)?, PAR_CHUNK, |_, c| c.fill(v));
    Ok(())
}

impl Kernel for FillKernel {
    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let out = io.outputs.first_mut().ok_or_else(|| Error::Graph("missing output".into()))?.bytes_mut();
        if out.len() != self.numel * self.elem_size {
            return Err(Error::Input(format!("output has {} bytes, planned {}", out.len(), self.numel * self.elem_size)));
        }
        let v = &self.value[..self.elem_size.min(8)];
        match self.elem_size {
            1 => fill::<[u8; 1]>(v, out, par),
            2 => fill::<[u8; 2]>(v, out, par),
            4 => fill::<[u8; 4]>(v, out, par),
            8 => fill::<[u8; 8]>(v, out, par),
            n => Err(Error::Unsupported(format!("elements of {n} bytes"))),
        }
    }
}

fn constant_of_shape_applies(ctx: &NodeCtx<'_>) -> bool {
    let Op::ConstantOfShape { dtype, .. } = ctx.node.op else { return false };
    matches!(ctx.outputs.first(), Some((d, _)) if *d == dtype)
}

// ---------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------

pub(super) fn register(r: &mut KernelRegistry) {
    util::register_ref(r, "any-reshape-reference", OpKind::Reshape, copy_applies, build_copy);
    util::register_ref(r, "any-flatten-reference", OpKind::Flatten, copy_applies, build_copy);
    util::register_ref(r, "any-squeeze-reference", OpKind::Squeeze, copy_applies, build_copy);
    util::register_ref(r, "any-unsqueeze-reference", OpKind::Unsqueeze, copy_applies, build_copy);
    util::register_ref(r, "any-identity-reference", OpKind::Identity, copy_applies, build_copy);
    util::register_ref(r, "any-shape-reference", OpKind::Shape, shape_applies, build_shape);
    util::register_ref(r, "f32-range-reference", OpKind::Range, |c| range_applies(c, &[DType::F32]), build_range);
    util::register_ref(r, "int-range-reference", OpKind::Range, |c| range_applies(c, &[DType::I64, DType::I32]), build_range);
    util::register_ref(r, "any-expand-reference", OpKind::Expand, expand_applies, build_expand);
    util::register_ref(r, "any-constantofshape-reference", OpKind::ConstantOfShape, constant_of_shape_applies, build_constant_of_shape);
}

#[cfg(test)]
mod tests {
    //! Expected values by hand (numpy `reshape` / `broadcast_to` semantics), Range checked
    //! against onnxruntime 1.32.
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

    fn reshape(x: &Tensor, shape: &[i64], allow_zero: bool) -> Result<Tensor> {
        let s = t(&[shape.len()], shape);
        Ok(run(&Op::Reshape { allow_zero }, &[Some(x), Some(&s)], 1)?.remove(0))
    }

    fn reshape_infer(x: &[Dim], shape: &[i64], allow_zero: bool) -> Result<Vec<OutFact>, String> {
        let s = t(&[shape.len()], shape);
        let facts = [
            Some(Fact { dtype: DType::F32, shape: Some(x), value: None }),
            Some(Fact { dtype: DType::I64, shape: None, value: Some(s.view()) }),
        ];
        infer_reshape(allow_zero, &facts)
    }

    #[test]
    fn reshape_zero_and_minus_one() {
        let x = iota(&[2, 3, 4]);
        assert_eq!(reshape(&x, &[4, -1], false).unwrap().shape(), &[4, 6]);
        assert_eq!(reshape(&x, &[0, -1], false).unwrap().shape(), &[2, 12]);
        assert_eq!(reshape(&x, &[0, 0, 2, 2], false).unwrap().shape(), &[2, 3, 2, 2]);
        assert_eq!(reshape(&x, &[-1], false).unwrap().shape(), &[24]);
        // The 0 copies input dim 1 (3), so -1 must be 24 / 6 = 4; with a leading 3 it
        // would be 24 / 9: an error.
        assert_eq!(reshape(&x, &[2, 0, -1], false).unwrap().shape(), &[2, 3, 4]);
        assert!(reshape(&x, &[3, 0, -1], false).is_err());
        assert_eq!(i64s(&reshape(&x, &[6, 4], false).unwrap()), i64s(&x));
        // allowzero: 0 is a zero-sized dim.
        let e = iota(&[0, 3]);
        assert_eq!(reshape(&e, &[3, 0], true).unwrap().shape(), &[3, 0]);
        assert_eq!(reshape(&e, &[0, 3], false).unwrap().shape(), &[0, 3]);
        // Errors.
        let msg = |r: Result<Tensor>| r.unwrap_err().to_string();
        assert!(msg(reshape(&x, &[5, -1], false)).contains("cannot reshape"));
        assert!(msg(reshape(&x, &[5, 5], false)).contains("cannot reshape"));
        assert!(msg(reshape(&x, &[-1, -1], false)).contains("more than one -1"));
        assert!(msg(reshape(&x, &[0, 0, 0, 0], false)).contains("rank"));
        assert!(msg(reshape(&x, &[-2, 12], false)).contains("invalid"));
        assert!(msg(reshape(&e, &[0, -1], true)).contains("both 0 and -1"));
        assert!(reshape(&e, &[0, -1], false).is_err());
        let f = t(&[1], &[24.0f32]);
        assert!(run(&Op::Reshape { allow_zero: false }, &[Some(&x), Some(&f)], 1).is_err());
    }

    #[test]
    fn reshape_symbolic() {
        let x = [sym("batch"), Dim::Fixed(7), Dim::Fixed(7), Dim::Fixed(512)];
        let out = reshape_infer(&x, &[0, -1], false).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("batch"), Dim::Fixed(25088)]));
        // -1 takes the symbolic dim when the fixed parts match.
        let out = reshape_infer(&x, &[-1, 49, 512], false).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("batch"), Dim::Fixed(49), Dim::Fixed(512)]));
        // Not decidable: unknown.
        let out = reshape_infer(&x, &[-1, 512], false).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("?"), Dim::Fixed(512)]));
        assert!(reshape_infer(&fx(&[2, 3]), &[4, -1], false).is_err());
        // The target's value unknown, its length known.
        let three = [Dim::Fixed(3)];
        let out = infer_dims(&Op::Reshape { allow_zero: false }, &[Some((DType::F32, &x)), Some((DType::I64, &three))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("?"); 3]));
    }

    #[test]
    fn flatten_squeeze_unsqueeze() {
        let x = iota(&[2, 3, 4]);
        let flat = |axis| run(&Op::Flatten { axis }, &[Some(&x)], 1).map(|mut v| v.remove(0).shape().to_vec());
        assert_eq!(flat(0).unwrap(), [1, 24]);
        assert_eq!(flat(1).unwrap(), [2, 12]);
        assert_eq!(flat(3).unwrap(), [24, 1]);
        assert_eq!(flat(-1).unwrap(), [6, 4]);
        assert_eq!(flat(-3).unwrap(), [1, 24]);
        assert!(flat(4).is_err() && flat(-4).is_err());
        let d = [sym("batch"), Dim::Fixed(7), Dim::Fixed(7), Dim::Fixed(512)];
        let out = infer_dims(&Op::Flatten { axis: 1 }, &[Some((DType::F32, &d))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("batch"), Dim::Fixed(25088)]));
        let out = infer_dims(&Op::Flatten { axis: 2 }, &[Some((DType::F32, &d))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("?"), Dim::Fixed(3584)]));

        let y = iota(&[1, 3, 1, 2]);
        let sq = |axes: Vec<i64>| run(&Op::Squeeze { axes }, &[Some(&y)], 1).map(|mut v| v.remove(0));
        assert_eq!(sq(vec![]).unwrap().shape(), &[3, 2]);
        assert_eq!(sq(vec![-2]).unwrap().shape(), &[1, 3, 2]);
        assert_eq!(i64s(&sq(vec![0, 2]).unwrap()), i64s(&y));
        assert!(sq(vec![1]).unwrap_err().to_string().contains("size 3"));
        assert!(sq(vec![0, -4]).unwrap_err().to_string().contains("twice"));
        assert!(sq(vec![4]).is_err());
        let ds = [sym("n"), Dim::Fixed(1)];
        assert_eq!(infer_dims(&Op::Squeeze { axes: vec![] }, &[Some((DType::F32, &ds))], 1).unwrap()[0].shape, None);
        assert_eq!(infer_dims(&Op::Squeeze { axes: vec![1] }, &[Some((DType::F32, &ds))], 1).unwrap()[0].shape, Some(vec![sym("n")]));

        let z = iota(&[3, 4]);
        let un = |axes: Vec<i64>| run(&Op::Unsqueeze { axes }, &[Some(&z)], 1).map(|mut v| v.remove(0));
        assert_eq!(un(vec![0, -1]).unwrap().shape(), &[1, 3, 4, 1]);
        assert_eq!(un(vec![1]).unwrap().shape(), &[3, 1, 4]);
        assert_eq!(un(vec![2, 0]).unwrap().shape(), &[1, 3, 1, 4]);
        assert!(un(vec![1, 1]).is_err());
        assert!(un(vec![3]).is_err());
        let s = t(&[], &[5i64]);
        assert_eq!(run(&Op::Unsqueeze { axes: vec![0] }, &[Some(&s)], 1).unwrap()[0].shape(), &[1]);
        let id = run(&Op::Identity, &[Some(&z)], 1).unwrap().remove(0);
        assert_eq!((id.shape(), i64s(&id)), (z.shape(), i64s(&z)));
    }

    #[test]
    fn shape_with_start_and_end() {
        let x = Tensor::zeros(DType::F32, &[2, 3, 4, 5]);
        let shape = |start, end| i64s(&run(&Op::Shape { start, end }, &[Some(&x)], 1).unwrap()[0]);
        assert_eq!(shape(0, None), [2, 3, 4, 5]);
        assert_eq!(shape(1, None), [3, 4, 5]);
        assert_eq!(shape(-2, None), [4, 5]);
        assert_eq!(shape(0, Some(-1)), [2, 3, 4]);
        assert_eq!(shape(1, Some(3)), [3, 4]);
        assert_eq!(shape(-10, Some(10)), [2, 3, 4, 5]);
        assert_eq!(shape(10, None), Vec::<i64>::new());
        assert_eq!(shape(3, Some(1)), Vec::<i64>::new());
        let d = [sym("n"), Dim::Fixed(3)];
        let out = infer_dims(&Op::Shape { start: 0, end: None }, &[Some((DType::F32, &d))], 1).unwrap();
        assert_eq!((out[0].dtype, out[0].shape.clone()), (DType::I64, Some(vec![Dim::Fixed(2)])));
    }

    #[test]
    fn range_matches_onnxruntime() {
        let range = |s: &Tensor, l: &Tensor, d: &Tensor| run(&Op::Range, &[Some(s), Some(l), Some(d)], 1).map(|mut v| v.remove(0));
        let i = |v: i64| t(&[], &[v]);
        assert_eq!(i64s(&range(&i(1), &i(10), &i(3)).unwrap()), [1, 4, 7]);
        assert_eq!(i64s(&range(&i(10), &i(1), &i(-3)).unwrap()), [10, 7, 4]);
        assert_eq!(range(&i(5), &i(1), &i(1)).unwrap().shape(), &[0]);
        let j = |v: i32| t(&[], &[v]);
        assert_eq!(range(&j(-7), &j(8), &j(5)).unwrap().as_slice::<i32>().unwrap(), &[-7, -2, 3]);
        let f = |v: f32| t(&[], &[v]);
        assert_close(&f32s(&range(&f(0.0), &f(1.0), &f(0.3)).unwrap()), &[0.0, 0.3, 0.6, 0.90000004], 1e-6, 0.0);
        assert_close(&f32s(&range(&f(1.5), &f(-2.0), &f(-0.7)).unwrap()), &[1.5, 0.8, 0.1, -0.6, -1.3, -2.0], 1e-6, 1e-6);
        assert_eq!(range(&f(0.1), &f(0.2), &f(0.01)).unwrap().shape(), &[11]);
        // Errors.
        assert!(range(&i(0), &i(5), &i(0)).unwrap_err().to_string().contains("delta is 0"));
        assert!(range(&f(0.0), &f(f32::INFINITY), &f(1.0)).is_err());
        assert!(range(&f(0.0), &f(1.0), &f(f32::NAN)).is_err());
        assert!(range(&i(0), &f(1.0), &i(1)).is_err());
        assert!(range(&i(i64::MIN), &i(i64::MAX), &i(1)).is_err());
        assert!(range(&t(&[2], &[0i64, 1]), &i(5), &i(1)).is_err());
        // Unknown values: unknown length.
        let s: [Dim; 0] = [];
        let out = infer_dims(&Op::Range, &[Some((DType::I64, &s)), Some((DType::I64, &s)), Some((DType::I64, &s))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("?")]));
    }

    #[test]
    fn expand_broadcasts_both_ways() {
        let expand = |x: &Tensor, shape: &[i64]| run(&Op::Expand, &[Some(x), Some(&t(&[shape.len()], shape))], 1).map(|mut v| v.remove(0));
        let x = iota(&[3, 1, 2]);
        let y = expand(&x, &[2, 3, 4, 2]).unwrap();
        assert_eq!(y.shape(), &[2, 3, 4, 2]);
        let yv = i64s(&y);
        assert_eq!(&yv[..20], &[0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 4, 5, 4, 5]);
        assert_eq!(&yv[24..32], &[0, 1, 0, 1, 0, 1, 0, 1]);
        // A 1 in the target keeps the input's dim; a shorter target.
        let z = iota(&[3, 4]);
        assert_eq!(i64s(&expand(&z, &[1, 1]).unwrap()), i64s(&z));
        let c = iota(&[3, 1]);
        assert_eq!(i64s(&expand(&c, &[4]).unwrap()), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
        assert!(expand(&z, &[3, 5]).unwrap_err().to_string().contains("cannot expand"));
        assert!(expand(&z, &[-1, 4]).is_err());
        // Large, parallel.
        let ch = t(&[1, 1, 24], &(0..24).map(|v| v as f32).collect::<Vec<_>>());
        let s = t(&[3], &[40i64, 50, 24]);
        let y = run_par(&Op::Expand, &[Some(&ch), Some(&s)], 1, 2).unwrap().remove(0);
        assert!(f32s(&y).chunks_exact(24).all(|r| r.iter().enumerate().all(|(i, &v)| v == i as f32)));
        // Inference with an unknown value of known length.
        let xs = [Dim::Fixed(3), Dim::Fixed(1)];
        let two = [Dim::Fixed(3)];
        let out = infer_dims(&Op::Expand, &[Some((DType::F32, &xs)), Some((DType::I64, &two))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("?"), Dim::Fixed(3), sym("?")]));
    }

    #[test]
    fn constant_of_shape() {
        let cos = |shape: &[i64], dtype, value| {
            run(&Op::ConstantOfShape { dtype, value }, &[Some(&t(&[shape.len()], shape))], 1).map(|mut v| v.remove(0))
        };
        let y = cos(&[2, 3], DType::F32, 1.5).unwrap();
        assert_eq!((y.shape(), f32s(&y)), (&[2usize, 3][..], vec![1.5; 6]));
        let y = cos(&[4], DType::I64, -7.9).unwrap();
        assert_eq!(i64s(&y), [-7; 4]);
        let y = cos(&[], DType::I32, 3.0).unwrap();
        assert_eq!((y.shape(), y.as_slice::<i32>().unwrap()), (&[][..], &[3][..]));
        assert_eq!(cos(&[3], DType::Bool, 0.5).unwrap().bytes(), &[1, 1, 1]);
        assert_eq!(cos(&[2, 0], DType::F32, 1.0).unwrap().shape(), &[2, 0]);
        assert!(cos(&[2, -1], DType::F32, 0.0).unwrap_err().to_string().contains("negative"));
        assert!(cos(&[i64::MAX, 4], DType::F32, 0.0).unwrap_err().to_string().contains("too large"));
        let k = [Dim::Fixed(4)];
        let out = infer_dims(&Op::ConstantOfShape { dtype: DType::F32, value: 0.0 }, &[Some((DType::I64, &k))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("?"); 4]));
    }
}
