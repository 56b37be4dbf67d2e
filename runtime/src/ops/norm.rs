//! Inference batch normalization ([`Op::BatchNorm`]): shape inference and the f32
//! reference kernel.
//!
//! `y = (x - mean[c]) * (scale[c] / sqrt(var[c] + epsilon)) + bias[c]` along the channel
//! axis `axis`. The per-channel factor is computed once per run into the workspace; the
//! rest is one fused pass over contiguous memory (channels innermost for NHWC, planes of
//! one channel otherwise).

use super::conv::{all_f32, input_f32, output_f32, workspace_f32};
use super::util::{PAR_CHUNK, check_planned_shapes, expect_dtype, expect_rank, fact, normalize_axis, show};
use super::{Fact, OutFact};
use crate::error::Result;
use crate::ir::{BatchNorm, DType, Op, OpKind};
use crate::kernel::{Kernel, KernelIo, KernelRegistry, NodeCtx, Parallel};

const PARAMS: [&str; 4] = ["scale", "bias", "mean", "var"];

/// Shape inference of [`Op::BatchNorm`].
pub(super) fn infer_batch_norm(a: &BatchNorm, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = fact(inputs, 0, "input")?;
    expect_dtype(x, &[DType::F32], "input")?;
    let channels = match x.shape {
        Some(s) => {
            let axis = normalize_axis(a.axis, s.len()).map_err(|e| format!("channel {e} (input shape {})", show(s)))?;
            s[axis].fixed()
        }
        None => None,
    };
    for (i, name) in PARAMS.iter().enumerate() {
        let p = fact(inputs, i + 1, name)?;
        expect_dtype(p, &[DType::F32], name)?;
        if let Some(ps) = p.shape {
            let ps = expect_rank(ps, 1, name)?;
            if let (Some(n), Some(c)) = (ps[0].fixed(), channels)
                && n != c
            {
                return Err(format!("{name} has {n} values but the input has {c} channels"));
            }
        }
    }
    Ok(vec![OutFact { dtype: DType::F32, shape: x.shape.map(<[_]>::to_vec) }])
}

#[derive(Debug)]
struct BatchNormKernel {
    outer: usize,
    channels: usize,
    inner: usize,
    epsilon: f32,
}

fn build_batch_norm(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::BatchNorm(a) = &ctx.node.op else { return Err(ctx.err("not a BatchNorm node")) };
    check_planned_shapes(ctx)?;
    let shape = ctx.input_shape(0)?;
    let axis = normalize_axis(a.axis, shape.len()).map_err(|e| ctx.err(e))?;
    Ok(Box::new(BatchNormKernel {
        outer: shape[..axis].iter().product(),
        channels: shape[axis],
        inner: shape[axis + 1..].iter().product(),
        epsilon: a.epsilon,
    }))
}

impl Kernel for BatchNormKernel {
    fn workspace_bytes(&self) -> usize {
        self.channels * 4
    }

    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let (c, inner) = (self.channels, self.inner);
        let total = self.outer * c * inner;
        let x = input_f32(&io, 0, total)?;
        let [scale, bias, mean, var] = [1, 2, 3, 4].map(|i| input_f32(&io, i, c));
        let (scale, bias, mean, var) = (scale?, bias?, mean?, var?);
        let factor = workspace_f32(io.workspace, c)?;
        for ((f, &s), &v) in factor.iter_mut().zip(scale).zip(var) {
            *f = s / (v + self.epsilon).sqrt();
        }
        let factor: &[f32] = factor;
        let out = output_f32(io.outputs, 0, total)?;
        if total == 0 {
            return Ok(());
        }
        if inner == 1 {
            // Channels innermost: each row of `c` values uses every channel once.
            let rows_per_task = (PAR_CHUNK / c).max(1);
            par.for_each_chunk_mut(out, rows_per_task * c, |ci, chunk| {
                let first = ci * rows_per_task * c;
                for (r, dst) in chunk.chunks_exact_mut(c).enumerate() {
                    let src = &x[first + r * c..][..c];
                    for ((((d, &v), &m), &f), &b) in dst.iter_mut().zip(src).zip(mean).zip(factor).zip(bias) {
                        *d = (v - m) * f + b;
                    }
                }
            });
        } else {
            let planes_per_task = (PAR_CHUNK / inner).max(1);
            par.for_each_chunk_mut(out, planes_per_task * inner, |ci, chunk| {
                let first_plane = ci * planes_per_task;
                for (p, dst) in chunk.chunks_exact_mut(inner).enumerate() {
                    let plane = first_plane + p;
                    let ch = plane % c;
                    let (m, f, b) = (mean[ch], factor[ch], bias[ch]);
                    for (d, &v) in dst.iter_mut().zip(&x[plane * inner..][..inner]) {
                        *d = (v - m) * f + b;
                    }
                }
            });
        }
        Ok(())
    }
}

/// Registers `f32-batchnorm-reference`.
pub(super) fn register(r: &mut KernelRegistry) {
    super::util::register_ref(r, "f32-batchnorm-reference", OpKind::BatchNorm, all_f32, build_batch_norm);
}

#[cfg(test)]
mod tests {
    use super::super::conv::test_support::*;
    use super::*;
    use crate::tensor::Tensor;

    include!("testdata/norm_fixtures.rs");

    /// Inputs as the generator makes them: x seed 16, scale/bias/mean seeds 17..19, and
    /// var = |pattern(seed 20)| + 0.5.
    fn check_bn(shape: &[usize], axis: i64, want: &Fixture) {
        let c = shape[crate::ops::util::normalize_axis(axis, shape.len()).unwrap()];
        let x = tensor(shape, 16);
        let [scale, bias, mean] = [17, 18, 19].map(|s| tensor(&[c], s));
        let var_values: Vec<f32> = pattern(c, 20).iter().map(|v| v.abs() + 0.5).collect();
        let var = Tensor::from_slice(&[c], &var_values).unwrap();
        let op = Op::BatchNorm(BatchNorm { epsilon: 1e-3, axis });
        check_op(
            &op,
            &[Some(&x), Some(&scale), Some(&bias), Some(&mean), Some(&var)],
            &[false, true, true, true, true],
            want,
            1e-5,
        );
    }

    #[test]
    fn batch_norm_fixtures() {
        check_bn(&[2, 3, 4, 5], 1, &BN_AXIS1);
        check_bn(&[2, 3, 4, 5], -1, &BN_LAST);
    }

    #[test]
    fn batch_norm_hand_computed() {
        // (x - 1) / sqrt(3 + 1) * 2 + 0.5 = x - 0.5 for channel 0; channel 1 is identity.
        let x = Tensor::from_slice(&[2, 2], &[1.0f32, 7.0, 5.0, -3.0]).unwrap();
        let p = |v: [f32; 2]| Tensor::from_slice(&[2], &v).unwrap();
        let (scale, bias, mean, var) = (p([2.0, 1.0]), p([0.5, 0.0]), p([1.0, 0.0]), p([3.0, 1.0]));
        let op = Op::BatchNorm(BatchNorm { epsilon: 1.0, axis: 1 });
        let inputs = [Some(x.view()), Some(scale.view()), Some(bias.view()), Some(mean.view()), Some(var.view())];
        let y = crate::ops::eval(&op, &inputs, 1).unwrap();
        let want = [0.5, 7.0 / 2f32.sqrt(), 4.5, -3.0 / 2f32.sqrt()];
        assert_close(y[0].as_slice::<f32>().unwrap(), &want, 1e-6, "batch norm");
    }

    #[test]
    fn shape_inference() {
        let f = |s: &[&str]| Some((DType::F32, Some(dims(s))));
        let op = Op::BatchNorm(BatchNorm { epsilon: 1e-5, axis: -1 });
        let params = |c: &str| vec![f(&[c]), f(&[c]), f(&[c]), f(&[c])];
        let mut inputs = vec![f(&["N", "H", "W", "32"])];
        inputs.extend(params("32"));
        assert_eq!(infer_dims(&op, &inputs), Ok(Some(dims(&["N", "H", "W", "32"]))));
        let mut bad = vec![f(&["N", "H", "W", "32"])];
        bad.extend(params("16"));
        let e = infer_dims(&op, &bad).unwrap_err();
        assert!(e.contains("scale has 16 values") && e.contains("32 channels"), "{e}");
        let far = Op::BatchNorm(BatchNorm { epsilon: 1e-5, axis: 4 });
        let e = infer_dims(&far, &inputs).unwrap_err();
        assert!(e.contains("axis 4"), "{e}");
        let e = infer_dims(&op, &inputs[..4]).unwrap_err();
        assert!(e.contains("var") && e.contains("missing"), "{e}");
    }
}
