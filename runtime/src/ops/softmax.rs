//! Softmax and log-softmax along one axis ([`Op::Softmax`], [`Op::LogSoftmax`], ONNX opset
//! 13 semantics): shape inference and the f32 reference kernels.
//!
//! Both are computed stably: the maximum along the axis is subtracted before `exp`, so
//! large inputs do not overflow; the sum of exponentials accumulates in f64.
//!
//! The tensor is viewed as `[outer, len, inner]` around the axis. With `inner == 1` (the
//! usual last-axis case) each row is contiguous; otherwise blocks of [`LANES`] neighbouring
//! columns are processed together so every pass still reads contiguous memory.

use super::conv::{all_f32, input_f32, output_f32};
use super::util::{PAR_CHUNK, check_planned_shapes, expect_dtype, fact, normalize_axis};
use super::{Fact, OutFact};
use crate::error::Result;
use crate::ir::{DType, Op, OpKind};
use crate::kernel::{Kernel, KernelIo, KernelRegistry, NodeCtx, Parallel};

/// Columns processed together when the axis is not the innermost.
const LANES: usize = 16;

/// Shape inference of [`Op::Softmax`] and [`Op::LogSoftmax`].
pub(super) fn infer_softmax(axis: i64, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = fact(inputs, 0, "input")?;
    expect_dtype(x, &[DType::F32], "input")?;
    if let Some(s) = x.shape {
        normalize_axis(axis, s.len())?;
    }
    Ok(vec![OutFact { dtype: DType::F32, shape: x.shape.map(<[_]>::to_vec) }])
}

#[derive(Debug)]
struct SoftmaxKernel {
    outer: usize,
    len: usize,
    inner: usize,
    log: bool,
}

fn build_softmax(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let (axis, log) = match &ctx.node.op {
        Op::Softmax { axis } => (*axis, false),
        Op::LogSoftmax { axis } => (*axis, true),
        _ => return Err(ctx.err("not a Softmax or LogSoftmax node")),
    };
    check_planned_shapes(ctx)?;
    let shape = ctx.input_shape(0)?;
    let axis = normalize_axis(axis, shape.len()).map_err(|e| ctx.err(e))?;
    Ok(Box::new(SoftmaxKernel {
        outer: shape[..axis].iter().product(),
        len: shape[axis],
        inner: shape[axis + 1..].iter().product(),
        log,
    }))
}

impl Kernel for SoftmaxKernel {
    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let total = self.outer * self.len * self.inner;
        let x = input_f32(&io, 0, total)?;
        let out = output_f32(io.outputs, 0, total)?;
        if total == 0 {
            return Ok(());
        }
        let slab = self.len * self.inner;
        if self.inner == 1 {
            let rows_per_task = (PAR_CHUNK / self.len).max(1);
            par.for_each_chunk_mut(out, rows_per_task * self.len, |ci, chunk| {
                let first = ci * rows_per_task * self.len;
                for (r, dst) in chunk.chunks_exact_mut(self.len).enumerate() {
                    let src = &x[first + r * self.len..][..self.len];
                    softmax_row(src, dst, self.log);
                }
            });
        } else {
            par.for_each_chunk_mut(out, slab, |o, dst| {
                let src = &x[o * slab..][..slab];
                for j0 in (0..self.inner).step_by(LANES) {
                    let w = LANES.min(self.inner - j0);
                    softmax_columns(src, dst, self.len, self.inner, j0, w, self.log);
                }
            });
        }
        Ok(())
    }
}

/// Softmax of one contiguous row.
fn softmax_row(src: &[f32], dst: &mut [f32], log: bool) {
    let max = src.iter().copied().fold(f32::NEG_INFINITY, super::reduce::max_nan);
    let mut sum = 0.0f64;
    for (d, &v) in dst.iter_mut().zip(src) {
        let e = (v - max).exp();
        *d = e;
        sum += f64::from(e);
    }
    if log {
        let log_sum = sum.ln() as f32;
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = v - max - log_sum;
        }
    } else {
        for d in dst.iter_mut() {
            *d = (f64::from(*d) / sum) as f32;
        }
    }
}

/// Softmax along the axis for columns `j0..j0 + w` of one `[len, inner]` slab.
fn softmax_columns(src: &[f32], dst: &mut [f32], len: usize, inner: usize, j0: usize, w: usize, log: bool) {
    let mut max = [f32::NEG_INFINITY; LANES];
    for l in 0..len {
        for (m, &v) in max.iter_mut().zip(&src[l * inner + j0..][..w]) {
            *m = super::reduce::max_nan(*m, v);
        }
    }
    let mut sum = [0.0f64; LANES];
    for l in 0..len {
        let s = &src[l * inner + j0..][..w];
        let d = &mut dst[l * inner + j0..][..w];
        for j in 0..w {
            let e = (s[j] - max[j]).exp();
            d[j] = e;
            sum[j] += f64::from(e);
        }
    }
    if log {
        let log_sum: [f32; LANES] = std::array::from_fn(|j| sum[j].ln() as f32);
        for l in 0..len {
            let s = &src[l * inner + j0..][..w];
            let d = &mut dst[l * inner + j0..][..w];
            for j in 0..w {
                d[j] = s[j] - max[j] - log_sum[j];
            }
        }
    } else {
        for l in 0..len {
            for (d, &s) in dst[l * inner + j0..][..w].iter_mut().zip(&sum) {
                *d = (f64::from(*d) / s) as f32;
            }
        }
    }
}

/// Registers `f32-softmax-reference` and `f32-logsoftmax-reference`.
pub(super) fn register(r: &mut KernelRegistry) {
    super::util::register_ref(r, "f32-softmax-reference", OpKind::Softmax, all_f32, build_softmax);
    super::util::register_ref(r, "f32-logsoftmax-reference", OpKind::LogSoftmax, all_f32, build_softmax);
}

#[cfg(test)]
mod tests {
    use super::super::conv::test_support::*;
    use super::*;
    use crate::tensor::Tensor;

    include!("testdata/softmax_fixtures.rs");

    fn check(log: bool, shape: &[usize], axis: i64, scale: f32, want: &Fixture) {
        let values: Vec<f32> = pattern(shape.iter().product(), 21).iter().map(|v| v * scale).collect();
        let x = Tensor::from_slice(shape, &values).unwrap();
        let op = if log { Op::LogSoftmax { axis } } else { Op::Softmax { axis } };
        check_op(&op, &[Some(&x)], &[false], want, 1e-5);
    }

    #[test]
    fn softmax_fixtures() {
        check(false, &[2, 3, 7], -1, 1.0, &SOFTMAX_LAST);
        // Not the innermost axis, with 57 columns: three lane blocks, the last partial.
        check(false, &[2, 5, 3, 19], 1, 1.0, &SOFTMAX_AXIS1);
        check(true, &[3, 6], -1, 1.0, &LOGSOFTMAX_LAST);
        check(true, &[4, 3, 2], 0, 1.0, &LOGSOFTMAX_AXIS0);
        // Inputs up to 1875: exp would overflow without subtracting the maximum.
        check(false, &[2, 5], 1, 1000.0, &SOFTMAX_LARGE);
    }

    #[test]
    fn rows_sum_to_one_across_threads() {
        let x = tensor(&[300, 70], 3);
        let got = eval_with(&Op::Softmax { axis: 1 }, &[Some((&x, false))], 1, 3).unwrap();
        for (r, row) in got[0].as_slice::<f32>().unwrap().chunks(70).enumerate() {
            let s: f32 = row.iter().sum();
            assert!((s - 1.0).abs() < 1e-5, "row {r} sums to {s}");
        }
    }

    #[test]
    fn shape_inference() {
        let f = |s: &[&str]| Some((DType::F32, Some(dims(s))));
        assert_eq!(infer_dims(&Op::Softmax { axis: -1 }, &[f(&["N", "1000"])]), Ok(Some(dims(&["N", "1000"]))));
        assert_eq!(infer_dims(&Op::LogSoftmax { axis: 0 }, &[Some((DType::F32, None))]), Ok(None));
        let e = infer_dims(&Op::Softmax { axis: 2 }, &[f(&["N", "1000"])]).unwrap_err();
        assert!(e.contains("axis 2"), "{e}");
        let e = infer_dims(&Op::Softmax { axis: 0 }, &[Some((DType::I64, Some(dims(&["3"]))))]).unwrap_err();
        assert!(e.contains("f32"), "{e}");
    }
}
