//! Reductions ([`Op::Reduce`]: mean, max, min, sum, prod over a set of axes): shape
//! inference and reference kernels for f32, and for i64/i32 (shape math folded at plan
//! time, e.g. `ReduceProd` of a `Shape`).
//!
//! Empty `axes` reduces every axis. A reduction over zero elements gives the operation's
//! identity (sum 0, prod 1, max -inf, min +inf, as ONNX specifies; the integer types use
//! their minimum and maximum), and a mean over zero elements is NaN (0 for integers).
//! Float max/min propagate NaN as numpy does. f32 values accumulate in f64 (a mean over a
//! feature map of thousands of pixels would otherwise depend visibly on the order of the
//! additions); integer sums and products wrap on overflow.
//!
//! The kernel merges adjacent axes that are all reduced or all kept, then computes each
//! output element (or, when the innermost axis is kept, each contiguous output run) by
//! walking the reduced axes, so the innermost loop always runs over contiguous input.

use super::conv::{input_f32, output_f32};
use super::util::{PAR_CHUNK, check_planned_shapes, expect_dtype, fact, normalize_axis, show, strides};
use super::{Fact, OutFact};
use crate::error::{Error, Result};
use crate::ir::{DType, Dim, Op, OpKind, Reduce, ReduceKind};
use crate::kernel::{Kernel, KernelIo, KernelRegistry, NodeCtx, Parallel};
use crate::tensor::Element;

/// `max` that propagates NaN from either operand.
#[inline(always)]
pub(super) fn max_nan(a: f32, b: f32) -> f32 {
    if a > b || a.is_nan() { a } else { b }
}

/// Normalized, sorted, de-duplicated-checked axes; all axes when `axes` is empty.
fn reduced_axes(axes: &[i64], rank: usize) -> Result<Vec<bool>, String> {
    let mut reduced = vec![axes.is_empty(); rank];
    for &a in axes {
        let i = normalize_axis(a, rank)?;
        if reduced[i] {
            return Err(format!("axis {a} is listed twice"));
        }
        reduced[i] = true;
    }
    Ok(reduced)
}

/// Shape inference of [`Op::Reduce`].
pub(super) fn infer_reduce(a: &Reduce, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = fact(inputs, 0, "input")?;
    expect_dtype(x, &[DType::F32, DType::I64, DType::I32], "input")?;
    let shape = match x.shape {
        Some(s) => {
            let reduced = reduced_axes(&a.axes, s.len()).map_err(|e| format!("{e} (input shape {})", show(s)))?;
            let mut out = Vec::with_capacity(s.len());
            for (d, &r) in s.iter().zip(&reduced) {
                if !r {
                    out.push(d.clone());
                } else if a.keep_dims {
                    out.push(Dim::Fixed(1));
                }
            }
            Some(out)
        }
        None if a.axes.is_empty() && !a.keep_dims => Some(Vec::new()),
        None => None,
    };
    Ok(vec![OutFact { dtype: x.dtype, shape }])
}

/// The reduction's layout after merging axes.
#[derive(Debug, Clone)]
struct ReducePlan {
    kind: ReduceKind,
    /// Kept axes (outermost first) that enumerate output units: `(size, input stride)`.
    kept: Vec<(usize, usize)>,
    /// Reduced axes walked for each unit, except a reduced innermost axis.
    reduced: Vec<(usize, usize)>,
    /// Elements of one output unit: the innermost axis when it is kept, else 1.
    unit: usize,
    /// Contiguous input elements folded per step: the innermost axis when it is reduced,
    /// else 1.
    run: usize,
    /// Input elements per output element (the mean's divisor).
    count: usize,
    in_len: usize,
    out_len: usize,
}

impl ReducePlan {
    fn new(kind: ReduceKind, shape: &[usize], reduced: &[bool]) -> ReducePlan {
        // Size-1 axes change no offset: drop them, then merge neighbours of one kind.
        let mut merged: Vec<(usize, bool)> = Vec::new();
        for (&d, &r) in shape.iter().zip(reduced) {
            if d == 1 {
                continue;
            }
            match merged.last_mut() {
                Some((len, lr)) if *lr == r => *len *= d,
                _ => merged.push((d, r)),
            }
        }
        let dims: Vec<usize> = merged.iter().map(|m| m.0).collect();
        let st = strides(&dims);
        let mut kept = Vec::new();
        let mut red = Vec::new();
        for (&(len, r), &s) in merged.iter().zip(&st) {
            if r { red.push((len, s)) } else { kept.push((len, s)) }
        }
        let (mut unit, mut run) = (1, 1);
        match merged.last() {
            Some((len, false)) => {
                unit = *len;
                kept.pop();
            }
            Some((len, true)) => {
                run = *len;
                red.pop();
            }
            None => {}
        }
        let count = shape.iter().zip(reduced).filter(|(_, r)| **r).map(|(d, _)| d).product();
        let in_len = shape.iter().product();
        let out_len = shape.iter().zip(reduced).filter(|(_, r)| !**r).map(|(d, _)| d).product();
        ReducePlan { kind, kept, reduced: red, unit, run, count, in_len, out_len }
    }
}

/// Element arithmetic of a reduction: values are widened to an accumulator type, combined,
/// and narrowed back.
trait ReduceElem: Element + Copy + Send + Sync {
    /// The accumulator: f64 for f32, so that sums over many elements (a mean over a whole
    /// feature map) lose no precision to the order of additions; the type itself for
    /// integers.
    type Acc: Copy + Send + Sync;
    fn identity(kind: ReduceKind) -> Self::Acc;
    fn widen(self) -> Self::Acc;
    fn combine(kind: ReduceKind, a: Self::Acc, b: Self::Acc) -> Self::Acc;
    /// The result from the accumulator (the mean divides by the element count).
    fn finish(kind: ReduceKind, acc: Self::Acc, count: usize) -> Self;
}

/// `max` that propagates NaN, in the accumulator type.
#[inline(always)]
fn max_nan64(a: f64, b: f64) -> f64 {
    if a > b || a.is_nan() { a } else { b }
}

/// `min` that propagates NaN, in the accumulator type.
#[inline(always)]
fn min_nan64(a: f64, b: f64) -> f64 {
    if a < b || a.is_nan() { a } else { b }
}

impl ReduceElem for f32 {
    type Acc = f64;
    fn identity(kind: ReduceKind) -> f64 {
        match kind {
            ReduceKind::Mean | ReduceKind::Sum => 0.0,
            ReduceKind::Prod => 1.0,
            ReduceKind::Max => f64::NEG_INFINITY,
            ReduceKind::Min => f64::INFINITY,
        }
    }
    #[inline(always)]
    fn widen(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn combine(kind: ReduceKind, a: f64, b: f64) -> f64 {
        match kind {
            ReduceKind::Mean | ReduceKind::Sum => a + b,
            ReduceKind::Prod => a * b,
            ReduceKind::Max => max_nan64(a, b),
            ReduceKind::Min => min_nan64(a, b),
        }
    }
    fn finish(kind: ReduceKind, acc: f64, count: usize) -> f32 {
        match kind {
            ReduceKind::Mean => (acc / count as f64) as f32,
            _ => acc as f32,
        }
    }
}

macro_rules! int_reduce_elem {
    ($t:ty) => {
        impl ReduceElem for $t {
            type Acc = $t;
            fn identity(kind: ReduceKind) -> $t {
                match kind {
                    ReduceKind::Mean | ReduceKind::Sum => 0,
                    ReduceKind::Prod => 1,
                    ReduceKind::Max => <$t>::MIN,
                    ReduceKind::Min => <$t>::MAX,
                }
            }
            #[inline(always)]
            fn widen(self) -> $t {
                self
            }
            #[inline(always)]
            fn combine(kind: ReduceKind, a: $t, b: $t) -> $t {
                match kind {
                    ReduceKind::Mean | ReduceKind::Sum => a.wrapping_add(b),
                    ReduceKind::Prod => a.wrapping_mul(b),
                    ReduceKind::Max => a.max(b),
                    ReduceKind::Min => a.min(b),
                }
            }
            fn finish(kind: ReduceKind, acc: $t, count: usize) -> $t {
                match (kind, <$t>::try_from(count)) {
                    (ReduceKind::Mean, Ok(n)) if n > 0 => acc.wrapping_div(n),
                    (ReduceKind::Mean, _) => 0,
                    _ => acc,
                }
            }
        }
    };
}
int_reduce_elem!(i64);
int_reduce_elem!(i32);

/// Folds a contiguous run into `acc`, with several independent accumulators so the loop
/// vectorizes.
#[inline(always)]
fn fold_run<T: ReduceElem>(kind: ReduceKind, acc: T::Acc, run: &[T]) -> T::Acc {
    const LANES: usize = 8;
    let (chunks, tail) = run.as_chunks::<LANES>();
    let mut lanes = [T::identity(kind); LANES];
    for c in chunks {
        for j in 0..LANES {
            lanes[j] = T::combine(kind, lanes[j], c[j].widen());
        }
    }
    let mut total = acc;
    for v in lanes.into_iter().chain(tail.iter().map(|v| v.widen())) {
        total = T::combine(kind, total, v);
    }
    total
}

/// Output elements accumulated together (on the stack) when the innermost axis is kept.
const UNIT_BLOCK: usize = 64;

#[derive(Debug)]
struct ReduceKernel {
    plan: ReducePlan,
    dtype: DType,
}

fn build_reduce(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::Reduce(a) = &ctx.node.op else { return Err(ctx.err("not a Reduce node")) };
    check_planned_shapes(ctx)?;
    let shape = ctx.input_shape(0)?;
    let reduced = reduced_axes(&a.axes, shape.len()).map_err(|e| ctx.err(e))?;
    let dtype = ctx.inputs.first().copied().flatten().map_or(DType::F32, |(d, _)| d);
    Ok(Box::new(ReduceKernel { plan: ReducePlan::new(a.kind, shape, &reduced), dtype }))
}

impl Kernel for ReduceKernel {
    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let p = &self.plan;
        match self.dtype {
            DType::F32 => {
                let x = input_f32(&io, 0, p.in_len)?;
                reduce(p, x, output_f32(io.outputs, 0, p.out_len)?, par);
            }
            DType::I64 => reduce_int::<i64>(p, io, par)?,
            DType::I32 => reduce_int::<i32>(p, io, par)?,
            other => return Err(Error::Unsupported(format!("Reduce on {other}"))),
        }
        Ok(())
    }
}

fn reduce_int<T: ReduceElem>(p: &ReducePlan, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
    let x = io.input(0)?.as_slice::<T>()?;
    let out = io.outputs.get_mut(0).ok_or_else(|| Error::Graph("kernel output 0 is missing".into()))?.as_mut_slice::<T>()?;
    if x.len() != p.in_len || out.len() != p.out_len {
        return Err(Error::Graph(format!(
            "Reduce buffers hold {} and {} values, expected {} and {}",
            x.len(),
            out.len(),
            p.in_len,
            p.out_len
        )));
    }
    reduce(p, x, out, par);
    Ok(())
}

/// Offset of multi-index `i` (row-major over `dims`) given per-axis strides.
#[inline]
fn offset(mut i: usize, dims: &[(usize, usize)]) -> usize {
    let mut off = 0;
    for &(len, stride) in dims.iter().rev() {
        off += (i % len) * stride;
        i /= len;
    }
    off
}

fn reduce<T: ReduceElem>(p: &ReducePlan, x: &[T], out: &mut [T], par: &Parallel<'_>) {
    if out.is_empty() {
        return;
    }
    let steps: usize = p.reduced.iter().map(|r| r.0).product();
    let work_per_unit = (steps * p.run * p.unit).max(1);
    let units_per_chunk = (PAR_CHUNK / work_per_unit).max(1);
    let kind = p.kind;
    par.for_each_chunk_mut(out, units_per_chunk * p.unit, |ci, chunk| {
        for (u, dst) in chunk.chunks_mut(p.unit).enumerate() {
            let base = offset(ci * units_per_chunk + u, &p.kept);
            if p.unit == 1 {
                // Reduced innermost axis: fold contiguous runs.
                let mut acc = T::identity(kind);
                for s in 0..steps {
                    let off = base + offset(s, &p.reduced);
                    acc = fold_run(kind, acc, &x[off..off + p.run]);
                }
                dst[0] = T::finish(kind, acc, p.count);
                continue;
            }
            // Kept innermost axis: blocks of neighbouring outputs accumulate together,
            // each step adding a contiguous slice of the input.
            for (bi, dst_block) in dst.chunks_mut(UNIT_BLOCK).enumerate() {
                let j0 = bi * UNIT_BLOCK;
                let mut acc = [T::identity(kind); UNIT_BLOCK];
                for s in 0..steps {
                    let off = base + offset(s, &p.reduced) + j0;
                    for (a, &v) in acc.iter_mut().zip(&x[off..off + dst_block.len()]) {
                        *a = T::combine(kind, *a, v.widen());
                    }
                }
                for (d, &a) in dst_block.iter_mut().zip(&acc) {
                    *d = T::finish(kind, a, p.count);
                }
            }
        }
    });
}

fn applies_f32(ctx: &NodeCtx<'_>) -> bool {
    applies_dtype(ctx, DType::F32)
}
fn applies_i64(ctx: &NodeCtx<'_>) -> bool {
    applies_dtype(ctx, DType::I64)
}
fn applies_i32(ctx: &NodeCtx<'_>) -> bool {
    applies_dtype(ctx, DType::I32)
}
fn applies_dtype(ctx: &NodeCtx<'_>, dtype: DType) -> bool {
    matches!(ctx.inputs.first(), Some(Some((d, _))) if *d == dtype) && ctx.outputs.iter().all(|(d, _)| *d == dtype)
}

/// Registers `f32-reduce-reference`, `i64-reduce-reference` and `i32-reduce-reference`.
pub(super) fn register(r: &mut KernelRegistry) {
    super::util::register_ref(r, "f32-reduce-reference", OpKind::Reduce, applies_f32, build_reduce);
    super::util::register_ref(r, "i64-reduce-reference", OpKind::Reduce, applies_i64, build_reduce);
    super::util::register_ref(r, "i32-reduce-reference", OpKind::Reduce, applies_i32, build_reduce);
}

#[cfg(test)]
mod tests {
    use super::super::conv::test_support::*;
    use super::*;
    use crate::tensor::Tensor;

    include!("testdata/reduce_fixtures.rs");

    fn op(kind: ReduceKind, axes: &[i64], keep_dims: bool) -> Op {
        Op::Reduce(Reduce { kind, axes: axes.to_vec(), keep_dims })
    }

    #[test]
    fn reduce_fixtures() {
        use ReduceKind::*;
        let cases = [
            (op(Mean, &[1, 2], true), [2, 3, 4, 5].as_slice(), &RED_MEAN_HW),
            (op(Sum, &[-1], false), &[2, 3, 17], &RED_SUM_LAST),
            (op(Max, &[0], false), &[4, 3, 5], &RED_MAX_FIRST),
            (op(Min, &[0, 2], true), &[2, 3, 4, 5], &RED_MIN_MIXED),
            (op(Prod, &[1], false), &[3, 4, 2], &RED_PROD_MID),
            (op(Sum, &[], false), &[3, 4, 5], &RED_SUM_ALL),
            (op(Mean, &[], true), &[3, 4, 5], &RED_MEAN_ALL_KEEP),
        ];
        for (reduce, shape, want) in cases {
            let x = tensor(shape, 22);
            check_op(&reduce, &[Some(&x)], &[false], want, 1e-5);
        }
    }

    #[test]
    fn integer_reductions() {
        let x = Tensor::from_slice(&[2, 3], &[1i64, 2, 3, 4, 5, 6]).unwrap();
        let run = |o: Op| crate::ops::eval(&o, &[Some(x.view())], 1).unwrap().remove(0);
        assert_eq!(run(op(ReduceKind::Prod, &[], false)).as_slice::<i64>().unwrap(), &[720]);
        assert_eq!(run(op(ReduceKind::Sum, &[0], false)).as_slice::<i64>().unwrap(), &[5, 7, 9]);
        assert_eq!(run(op(ReduceKind::Max, &[1], true)).as_slice::<i64>().unwrap(), &[3, 6]);
        assert_eq!(run(op(ReduceKind::Mean, &[1], false)).as_slice::<i64>().unwrap(), &[2, 5]);
        let y = Tensor::from_slice(&[3], &[4i32, -2, 9]).unwrap();
        let m = crate::ops::eval(&op(ReduceKind::Min, &[0], false), &[Some(y.view())], 1).unwrap();
        assert_eq!(m[0].as_slice::<i32>().unwrap(), &[-2]);
    }

    #[test]
    fn empty_reductions_give_identities() {
        let x = Tensor::from_slice::<f32>(&[2, 0], &[]).unwrap();
        let run =
            |kind| crate::ops::eval(&op(kind, &[1], false), &[Some(x.view())], 1).unwrap()[0].as_slice::<f32>().unwrap().to_vec();
        assert_eq!(run(ReduceKind::Sum), vec![0.0, 0.0]);
        assert_eq!(run(ReduceKind::Prod), vec![1.0, 1.0]);
        assert_eq!(run(ReduceKind::Max), vec![f32::NEG_INFINITY; 2]);
        assert_eq!(run(ReduceKind::Min), vec![f32::INFINITY; 2]);
        assert!(run(ReduceKind::Mean).iter().all(|v| v.is_nan()));
    }

    #[test]
    fn max_and_min_propagate_nan() {
        let x = Tensor::from_slice(&[2, 10], &[[1.0f32; 10], [2.0; 10]].concat()).unwrap();
        let mut values = x.as_slice::<f32>().unwrap().to_vec();
        values[13] = f32::NAN;
        let x = Tensor::from_slice(&[2, 10], &values).unwrap();
        for kind in [ReduceKind::Max, ReduceKind::Min] {
            let y = crate::ops::eval(&op(kind, &[1], false), &[Some(x.view())], 1).unwrap();
            let v = y[0].as_slice::<f32>().unwrap();
            assert!(v[0] == 1.0 && v[1].is_nan(), "{kind:?}: {v:?}");
        }
    }

    /// Reduction by visiting every input element and accumulating into its output slot.
    fn naive_reduce(x: &Tensor, kind: ReduceKind, reduced: &[bool]) -> Vec<f32> {
        let shape = x.shape();
        let out_shape: Vec<usize> = shape.iter().zip(reduced).map(|(&d, &r)| if r { 1 } else { d }).collect();
        let out_len: usize = out_shape.iter().product();
        let mut acc = vec![<f32 as ReduceElem>::identity(kind); out_len];
        // f64 accumulation, element by element in input order.
        let in_strides = strides(shape);
        let out_strides = strides(&out_shape);
        for (i, &v) in x.as_slice::<f32>().unwrap().iter().enumerate() {
            let o: usize =
                (0..shape.len()).map(|d| if reduced[d] { 0 } else { (i / in_strides[d]) % shape[d] * out_strides[d] }).sum();
            acc[o] = <f32 as ReduceElem>::combine(kind, acc[o], f64::from(v));
        }
        let count: usize = shape.iter().zip(reduced).filter(|(_, r)| **r).map(|(d, _)| d).product();
        acc.iter().map(|&a| if kind == ReduceKind::Mean { (a / count as f64) as f32 } else { a as f32 }).collect()
    }

    #[test]
    fn reduce_randomized_against_scatter() {
        let mut rng = Lcg(31);
        for case in 0..120 {
            let rank = rng.range(1, 5);
            let shape: Vec<usize> = (0..rank).map(|_| rng.range(1, 6)).collect();
            let reduced: Vec<bool> = (0..rank).map(|_| rng.range(0, 1) == 1).collect();
            let axes: Vec<i64> = reduced
                .iter()
                .enumerate()
                .filter(|(_, r)| **r)
                .map(|(i, _)| if rng.range(0, 1) == 1 { i as i64 } else { i as i64 - rank as i64 })
                .collect();
            let all = axes.is_empty();
            let reduced = if all { vec![true; rank] } else { reduced };
            let kind = [ReduceKind::Mean, ReduceKind::Max, ReduceKind::Min, ReduceKind::Sum, ReduceKind::Prod][rng.range(0, 4)];
            let x = tensor(&shape, case);
            let want = naive_reduce(&x, kind, &reduced);
            let o = op(kind, &axes, rng.range(0, 1) == 1);
            let got =
                eval_with(&o, &[Some((&x, false))], 1, rng.range(1, 3)).unwrap_or_else(|e| panic!("case {case} {o:?}: {e}"));
            assert_close(got[0].as_slice::<f32>().unwrap(), &want, 1e-5, &format!("case {case} {o:?} x{shape:?}"));
        }
    }

    #[test]
    fn long_means_do_not_depend_on_summation_order() {
        // 40000 values of 0.1 (plus a little pattern): summed one by one in f32 the error
        // reaches ~1e-4 of the result; the kernel must stay within f32 rounding of the
        // exact mean, whether the reduced axis is innermost (contiguous runs) or not.
        let n = 40_000;
        let values: Vec<f32> = pattern(n * 3, 4).iter().map(|v| 0.1 + v / 64.0).collect();
        let x = Tensor::from_slice(&[n, 3], &values).unwrap();
        let exact: Vec<f32> =
            (0..3).map(|c| ((0..n).map(|i| f64::from(values[i * 3 + c])).sum::<f64>() / n as f64) as f32).collect();
        let y = crate::ops::eval(&op(ReduceKind::Mean, &[0], false), &[Some(x.view())], 1).unwrap();
        assert_close(y[0].as_slice::<f32>().unwrap(), &exact, 2e-7, "mean over a strided axis");
        let xt = Tensor::from_slice(&[1, n], &values[..n]).unwrap();
        let exact_row = ((0..n).map(|i| f64::from(values[i])).sum::<f64>() / n as f64) as f32;
        let y = crate::ops::eval(&op(ReduceKind::Mean, &[1], false), &[Some(xt.view())], 1).unwrap();
        assert_close(y[0].as_slice::<f32>().unwrap(), &[exact_row], 2e-7, "mean over a contiguous axis");
    }

    #[test]
    fn shape_inference() {
        let f = |s: &[&str]| Some((DType::F32, Some(dims(s))));
        let mean = op(ReduceKind::Mean, &[1, 2], false);
        assert_eq!(infer_dims(&mean, &[f(&["N", "H", "W", "C"])]), Ok(Some(dims(&["N", "C"]))));
        let keep = op(ReduceKind::Mean, &[-3, -2], true);
        assert_eq!(infer_dims(&keep, &[f(&["N", "H", "W", "C"])]), Ok(Some(dims(&["N", "1", "1", "C"]))));
        let all = op(ReduceKind::Sum, &[], false);
        assert_eq!(infer_dims(&all, &[Some((DType::F32, None))]), Ok(Some(vec![])));
        assert_eq!(infer_dims(&keep, &[Some((DType::F32, None))]), Ok(None));
        let e = infer_dims(&op(ReduceKind::Sum, &[1, -2], false), &[f(&["2", "3", "4"])]).unwrap_err();
        assert!(e.contains("listed twice"), "{e}");
        let e = infer_dims(&op(ReduceKind::Sum, &[3], false), &[f(&["2", "3", "4"])]).unwrap_err();
        assert!(e.contains("axis 3"), "{e}");
        let e = infer_dims(&all, &[Some((DType::Bool, Some(dims(&["2"]))))]).unwrap_err();
        assert!(e.contains("f32 or i64 or i32"), "{e}");
    }
}
