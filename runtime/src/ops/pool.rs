//! Max and average pooling on NHWC tensors, windowed ([`Op::Pool2d`]) and global
//! ([`Op::GlobalPool`]): shape inference and the f32 reference kernels.
//!
//! Semantics follow ONNX:
//! - Padded cells never take part in a maximum. An average divides by the number of input
//!   cells in the window, or with `count_include_pad` by the number of window cells that
//!   lie inside the padded input (cells a `ceil_mode` window reaches past the end padding
//!   are not counted).
//! - `ceil_mode` rounds the output size up, but drops a last window that would start in
//!   the end padding.
//! - Explicit padding must be smaller than the window's extent on each side (a window made
//!   only of padding has no meaningful value).
//! - NaN inputs propagate through the maximum, as in numpy and ONNX's reference.
//! - Averages sum in f64: a global average over thousands of pixels would otherwise depend
//!   visibly on the order of the additions.
//!
//! The kernels walk each output pixel's clipped window with channels innermost
//! (contiguous in NHWC), splitting output rows over threads.

use super::conv::{AxisPadding, Window, all_f32, check_window_attrs, input_f32, nhwc, output_f32, tap_range};
use super::reduce::max_nan;
use super::util::{check_planned_shapes, expect_dtype, fact, unknown_dim};
use super::{Fact, OutFact};
use crate::error::Result;
use crate::ir::{DType, Dim, Op, OpKind, Pool2d, PoolKind};
use crate::kernel::{Kernel, KernelIo, KernelRegistry, NodeCtx, Parallel};

const AXES: [&str; 2] = ["height", "width"];

/// Channels summed together (in f64, on the stack) by average pooling.
const SUM_BLOCK: usize = 64;

fn pool_windows(a: &Pool2d) -> [Window; 2] {
    std::array::from_fn(|i| Window {
        kernel: a.kernel[i],
        stride: a.stride[i],
        dilation: a.dilation[i],
        padding: AxisPadding::of(a.padding, i),
        ceil_mode: a.ceil_mode,
    })
}

/// Rejects explicit padding that is not smaller than the window on either side.
fn check_pads(windows: &[Window; 2]) -> Result<(), String> {
    for (w, axis) in windows.iter().zip(AXES) {
        if let AxisPadding::Explicit { begin, end } = w.padding {
            let ext = w.extent(axis)?;
            if begin >= ext || end >= ext {
                return Err(format!("{axis}: padding {begin}+{end} must be smaller than the window's extent {ext}"));
            }
        }
    }
    Ok(())
}

/// Shape inference of [`Op::Pool2d`].
pub(super) fn infer_pool(a: &Pool2d, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    check_window_attrs(a.kernel, a.stride, a.dilation)?;
    let windows = pool_windows(a);
    check_pads(&windows)?;
    let x = fact(inputs, 0, "input")?;
    expect_dtype(x, &[DType::F32], "input")?;
    let shape = match nhwc(x)? {
        Some(xs) => {
            vec![xs[0].clone(), windows[0].out_dim(&xs[1], AXES[0])?, windows[1].out_dim(&xs[2], AXES[1])?, xs[3].clone()]
        }
        None => vec![unknown_dim(), unknown_dim(), unknown_dim(), unknown_dim()],
    };
    Ok(vec![OutFact { dtype: DType::F32, shape: Some(shape) }])
}

/// Shape inference of [`Op::GlobalPool`].
pub(super) fn infer_global_pool(inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = fact(inputs, 0, "input")?;
    expect_dtype(x, &[DType::F32], "input")?;
    let shape = match nhwc(x)? {
        Some(xs) => vec![xs[0].clone(), Dim::Fixed(1), Dim::Fixed(1), xs[3].clone()],
        None => vec![unknown_dim(), Dim::Fixed(1), Dim::Fixed(1), unknown_dim()],
    };
    Ok(vec![OutFact { dtype: DType::F32, shape: Some(shape) }])
}

/// One spatial axis of a pooling window, resolved for the concrete input.
#[derive(Debug, Clone, Copy)]
struct PoolAxis {
    input: usize,
    out: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad_begin: usize,
    pad_end: usize,
}

impl PoolAxis {
    fn new(w: &Window, input: usize, axis: &str) -> Result<PoolAxis, String> {
        let plan = w.plan(input, axis)?;
        Ok(PoolAxis {
            input,
            out: plan.out,
            kernel: w.kernel,
            stride: w.stride,
            dilation: w.dilation,
            pad_begin: plan.pad_begin,
            pad_end: plan.pad_end,
        })
    }

    /// Taps of output position `o` that read input cells.
    fn taps(&self, o: usize) -> (usize, usize) {
        tap_range(o, self.stride, self.pad_begin, self.dilation, self.kernel, self.input)
    }

    /// Taps of output position `o` inside the padded input (`count_include_pad`): the
    /// window never starts before the begin padding, but a `ceil_mode` window may reach
    /// past the end padding.
    fn padded_cells(&self, o: usize) -> usize {
        let limit = (self.input + self.pad_begin + self.pad_end) as isize - (o * self.stride) as isize;
        if limit <= 0 { 0 } else { (limit as usize).div_ceil(self.dilation).min(self.kernel) }
    }
}

#[derive(Debug, Clone, Copy)]
struct PoolGeom {
    n: usize,
    c: usize,
    h: PoolAxis,
    w: PoolAxis,
    kind: PoolKind,
    count_include_pad: bool,
}

impl PoolGeom {
    fn new(a: &Pool2d, x: &[usize]) -> Result<PoolGeom, String> {
        let &[n, ih, iw, c] = x else { return Err(format!("the input must be NHWC, got {x:?}")) };
        let windows = pool_windows(a);
        check_pads(&windows)?;
        Ok(PoolGeom {
            n,
            c,
            h: PoolAxis::new(&windows[0], ih, AXES[0])?,
            w: PoolAxis::new(&windows[1], iw, AXES[1])?,
            kind: a.kind,
            count_include_pad: a.count_include_pad,
        })
    }
}

#[derive(Debug)]
struct PoolKernel {
    g: PoolGeom,
}

fn build_pool(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::Pool2d(a) = &ctx.node.op else { return Err(ctx.err("not a Pool2d node")) };
    check_planned_shapes(ctx)?;
    let g = PoolGeom::new(a, ctx.input_shape(0)?).map_err(|e| ctx.err(e))?;
    Ok(Box::new(PoolKernel { g }))
}

impl Kernel for PoolKernel {
    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let g = &self.g;
        let x = input_f32(&io, 0, g.n * g.h.input * g.w.input * g.c)?;
        let row_len = g.w.out * g.c;
        let out = output_f32(io.outputs, 0, g.n * g.h.out * row_len)?;
        if out.is_empty() {
            return Ok(());
        }
        par.for_each_chunk_mut(out, row_len, |r, row| pool_row(g, x, r, row));
        Ok(())
    }
}

/// Computes output row `r` (`n * OH + oh`).
fn pool_row(g: &PoolGeom, x: &[f32], r: usize, row: &mut [f32]) {
    let c = g.c;
    let (n, oh) = (r / g.h.out, r % g.h.out);
    let image_len = g.h.input * g.w.input * c;
    let image = &x[n * image_len..][..image_len];
    let khs = g.h.taps(oh);
    let rows_counted = if g.count_include_pad { g.h.padded_cells(oh) } else { khs.1 - khs.0 };
    for (ow, out_px) in row.chunks_exact_mut(c).enumerate() {
        let kws = g.w.taps(ow);
        let cells = (khs.0..khs.1).flat_map(|kh| {
            let ih = oh * g.h.stride + kh * g.h.dilation - g.h.pad_begin;
            (kws.0..kws.1).map(move |kw| {
                let iw = ow * g.w.stride + kw * g.w.dilation - g.w.pad_begin;
                (ih * g.w.input + iw) * c
            })
        });
        match g.kind {
            PoolKind::Max => {
                out_px.fill(f32::NEG_INFINITY);
                for off in cells {
                    for (d, &v) in out_px.iter_mut().zip(&image[off..off + c]) {
                        *d = max_nan(*d, v);
                    }
                }
            }
            PoolKind::Avg => {
                let cols_counted = if g.count_include_pad { g.w.padded_cells(ow) } else { kws.1 - kws.0 };
                let count = (rows_counted * cols_counted) as f64;
                for (bi, dst) in out_px.chunks_mut(SUM_BLOCK).enumerate() {
                    let c0 = bi * SUM_BLOCK;
                    let mut sum = [0.0f64; SUM_BLOCK];
                    for off in cells.clone() {
                        for (s, &v) in sum.iter_mut().zip(&image[off + c0..off + c0 + dst.len()]) {
                            *s += f64::from(v);
                        }
                    }
                    for (d, s) in dst.iter_mut().zip(sum) {
                        *d = (s / count) as f32;
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct GlobalGeom {
    n: usize,
    hw: usize,
    c: usize,
    kind: PoolKind,
}

#[derive(Debug)]
struct GlobalPoolKernel {
    g: GlobalGeom,
}

fn build_global_pool(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::GlobalPool(kind) = &ctx.node.op else { return Err(ctx.err("not a GlobalPool node")) };
    check_planned_shapes(ctx)?;
    let &[n, h, w, c] = ctx.input_shape(0)? else { return Err(ctx.err("the input must be NHWC")) };
    Ok(Box::new(GlobalPoolKernel { g: GlobalGeom { n, hw: h * w, c, kind: *kind } }))
}

impl Kernel for GlobalPoolKernel {
    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let g = self.g;
        let x = input_f32(&io, 0, g.n * g.hw * g.c)?;
        let out = output_f32(io.outputs, 0, g.n * g.c)?;
        if out.is_empty() {
            return Ok(());
        }
        // One task per image; a single image is split by channel blocks instead.
        let chunk = if g.n > 1 { g.c } else { g.c.div_ceil(par.threads()).next_multiple_of(16) };
        par.for_each_chunk_mut(out, chunk, |i, acc| {
            let (n, c0) = if g.n > 1 { (i, 0) } else { (0, i * chunk) };
            let len = acc.len();
            match g.kind {
                PoolKind::Max => {
                    acc.fill(f32::NEG_INFINITY);
                    for px in (0..g.hw).map(|p| &x[(n * g.hw + p) * g.c + c0..][..len]) {
                        for (d, &v) in acc.iter_mut().zip(px) {
                            *d = max_nan(*d, v);
                        }
                    }
                }
                PoolKind::Avg => {
                    for (bi, dst) in acc.chunks_mut(SUM_BLOCK).enumerate() {
                        let c = c0 + bi * SUM_BLOCK;
                        let mut sum = [0.0f64; SUM_BLOCK];
                        for p in 0..g.hw {
                            let px = &x[(n * g.hw + p) * g.c + c..][..dst.len()];
                            for (s, &v) in sum.iter_mut().zip(px) {
                                *s += f64::from(v);
                            }
                        }
                        for (d, s) in dst.iter_mut().zip(sum) {
                            *d = (s / g.hw as f64) as f32;
                        }
                    }
                }
            }
        });
        Ok(())
    }
}

/// Registers `f32-pool2d-reference` and `f32-globalpool-reference`.
pub(super) fn register(r: &mut KernelRegistry) {
    super::util::register_ref(r, "f32-pool2d-reference", OpKind::Pool2d, all_f32, build_pool);
    super::util::register_ref(r, "f32-globalpool-reference", OpKind::GlobalPool, all_f32, build_global_pool);
}

#[cfg(test)]
mod tests {
    use super::super::conv::test_support::*;
    use super::*;
    use crate::ir::Padding;
    use crate::tensor::Tensor;

    include!("testdata/pool_fixtures.rs");

    fn pool(kind: PoolKind, kernel: [usize; 2], stride: [usize; 2], padding: Padding) -> Pool2d {
        Pool2d { kind, kernel, stride, dilation: [1, 1], padding, ceil_mode: false, count_include_pad: false }
    }

    fn pads(top: usize, left: usize, bottom: usize, right: usize) -> Padding {
        Padding::Explicit { top, left, bottom, right }
    }

    /// Runs a pooling fixture on the generator's input (seed 7).
    fn check_pool(a: Pool2d, x: &[usize], want: &Fixture) {
        let xt = tensor(x, 7);
        check_op(&Op::Pool2d(a), &[Some(&xt)], &[false], want, 1e-6);
    }

    #[test]
    fn max_pool_fixtures() {
        use PoolKind::Max;
        check_pool(pool(Max, [3, 2], [2, 2], pads(1, 0, 1, 1)), &[1, 7, 6, 5], &MAX_ASYM_PAD);
        check_pool(Pool2d { ceil_mode: true, ..pool(Max, [3, 3], [2, 2], pads(0, 0, 0, 1)) }, &[1, 8, 6, 3], &MAX_CEIL);
        check_pool(Pool2d { ceil_mode: true, ..pool(Max, [3, 3], [2, 2], pads(0, 0, 2, 2)) }, &[1, 4, 4, 2], &MAX_CEIL_DROP);
        check_pool(pool(Max, [3, 2], [2, 2], Padding::SameUpper), &[2, 5, 6, 3], &MAX_SAME_UPPER);
        check_pool(pool(Max, [3, 2], [2, 2], Padding::SameLower), &[1, 5, 6, 3], &MAX_SAME_LOWER);
        check_pool(Pool2d { dilation: [2, 2], ..pool(Max, [2, 3], [1, 2], pads(1, 1, 1, 1)) }, &[1, 7, 7, 2], &MAX_DILATED);
    }

    #[test]
    fn avg_pool_fixtures() {
        use PoolKind::Avg;
        let include = |a: Pool2d| Pool2d { count_include_pad: true, ..a };
        let ceil = |a: Pool2d| Pool2d { ceil_mode: true, ..a };
        check_pool(pool(Avg, [3, 3], [2, 2], pads(1, 1, 1, 2)), &[1, 7, 6, 5], &AVG_PADS_EXCLUDE);
        check_pool(include(pool(Avg, [3, 3], [2, 2], pads(1, 1, 1, 2))), &[1, 7, 6, 5], &AVG_PADS_INCLUDE);
        check_pool(ceil(pool(Avg, [3, 3], [2, 2], pads(1, 0, 0, 1))), &[1, 8, 6, 3], &AVG_CEIL_EXCLUDE);
        check_pool(include(ceil(pool(Avg, [3, 3], [2, 2], pads(1, 0, 0, 1)))), &[1, 8, 6, 3], &AVG_CEIL_INCLUDE);
        check_pool(ceil(pool(Avg, [3, 3], [2, 2], pads(0, 0, 2, 2))), &[1, 4, 4, 2], &AVG_CEIL_DROP);
        check_pool(pool(Avg, [3, 2], [2, 2], Padding::SameUpper), &[1, 5, 6, 3], &AVG_SAME_UPPER);
        check_pool(include(pool(Avg, [3, 2], [2, 2], Padding::SameLower)), &[1, 5, 6, 3], &AVG_SAME_LOWER_INCLUDE);
        check_pool(Pool2d { dilation: [2, 2], ..pool(Avg, [2, 3], [1, 2], pads(1, 1, 1, 1)) }, &[1, 7, 7, 2], &AVG_DILATED);
    }

    #[test]
    fn global_pool_fixtures() {
        let x = tensor(&[2, 3, 4, 5], 8);
        check_op(&Op::GlobalPool(PoolKind::Avg), &[Some(&x)], &[false], &GLOBAL_AVG, 1e-6);
        check_op(&Op::GlobalPool(PoolKind::Max), &[Some(&x)], &[false], &GLOBAL_MAX, 0.0);
        // One image with many channels: split by channel blocks over threads.
        let x = tensor(&[1, 3, 2, 70], 9);
        let got = eval_with(&Op::GlobalPool(PoolKind::Avg), &[Some((&x, false))], 1, 3).unwrap();
        let xs = x.as_slice::<f32>().unwrap();
        let want: Vec<f32> = (0..70).map(|c| (0..6).map(|p| xs[p * 70 + c]).sum::<f32>() / 6.0).collect();
        assert_close(got[0].as_slice::<f32>().unwrap(), &want, 1e-6, "global avg, 70 channels");
    }

    #[test]
    fn global_average_is_exact_over_large_maps() {
        // A 200x200 map of values near 0.1: a sequential f32 sum drifts by ~1e-4 of the
        // result; the kernel must stay within f32 rounding of the exact mean.
        let (hw, c) = (200 * 200, 3);
        let values: Vec<f32> = pattern(hw * c, 5).iter().map(|v| 0.1 + v / 64.0).collect();
        let x = Tensor::from_slice(&[1, 200, 200, c], &values).unwrap();
        let exact: Vec<f32> =
            (0..c).map(|ch| ((0..hw).map(|p| f64::from(values[p * c + ch])).sum::<f64>() / hw as f64) as f32).collect();
        let y = crate::ops::eval(&Op::GlobalPool(PoolKind::Avg), &[Some(x.view())], 1).unwrap();
        assert_close(y[0].as_slice::<f32>().unwrap(), &exact, 2e-7, "global average");
        // The same map as one 200x200 window of a windowed average pool.
        let window = Op::Pool2d(pool(PoolKind::Avg, [200, 200], [1, 1], Padding::VALID));
        let y = crate::ops::eval(&window, &[Some(x.view())], 1).unwrap();
        assert_close(y[0].as_slice::<f32>().unwrap(), &exact, 2e-7, "200x200 average window");
    }

    #[test]
    fn padded_cells_never_win_a_max() {
        // All inputs negative: a zero from padding must not appear.
        let x = Tensor::from_slice(&[1, 2, 2, 1], &[-4.0f32, -3.0, -2.0, -1.0]).unwrap();
        let op = Op::Pool2d(pool(PoolKind::Max, [2, 2], [1, 1], pads(1, 1, 1, 1)));
        let y = crate::ops::eval(&op, &[Some(x.view())], 1).unwrap();
        assert_eq!(y[0].shape(), &[1, 3, 3, 1]);
        assert_eq!(y[0].as_slice::<f32>().unwrap(), &[-4.0, -3.0, -3.0, -2.0, -1.0, -1.0, -2.0, -1.0, -1.0]);
        // Average of the same: corners see one input cell (exclude) or 1/4 of it (include).
        let avg = |include| {
            let op = Op::Pool2d(Pool2d { count_include_pad: include, ..pool(PoolKind::Avg, [2, 2], [1, 1], pads(1, 1, 1, 1)) });
            crate::ops::eval(&op, &[Some(x.view())], 1).unwrap()[0].as_slice::<f32>().unwrap().to_vec()
        };
        assert_eq!(avg(false), vec![-4.0, -3.5, -3.0, -3.0, -2.5, -2.0, -2.0, -1.5, -1.0]);
        assert_eq!(avg(true), vec![-1.0, -1.75, -0.75, -1.5, -2.5, -1.0, -0.5, -0.75, -0.25]);
    }

    #[test]
    fn max_propagates_nan() {
        let x = Tensor::from_slice(&[1, 1, 3, 1], &[1.0f32, f32::NAN, 2.0]).unwrap();
        let op = Op::Pool2d(pool(PoolKind::Max, [1, 2], [1, 1], Padding::VALID));
        let y = crate::ops::eval(&op, &[Some(x.view())], 1).unwrap();
        let v = y[0].as_slice::<f32>().unwrap();
        assert!(v[0].is_nan() && v[1].is_nan(), "{v:?}");
    }

    /// Direct pooling over explicit padding, for randomized comparisons.
    fn naive_pool(x: &Tensor, a: &Pool2d, p: [usize; 4], out: [usize; 2]) -> Vec<f32> {
        let [n, ih, iw, c] = x.shape().try_into().unwrap();
        let xs = x.as_slice::<f32>().unwrap();
        let mut y = Vec::new();
        for b in 0..n {
            for oh in 0..out[0] {
                for ow in 0..out[1] {
                    for ch in 0..c {
                        let (mut max, mut sum, mut inside, mut padded) = (f32::NEG_INFINITY, 0.0f32, 0, 0);
                        for i in 0..a.kernel[0] {
                            for j in 0..a.kernel[1] {
                                let r = (oh * a.stride[0] + i * a.dilation[0]) as isize - p[0] as isize;
                                let q = (ow * a.stride[1] + j * a.dilation[1]) as isize - p[1] as isize;
                                if r < ih as isize + p[2] as isize && q < iw as isize + p[3] as isize {
                                    padded += 1;
                                }
                                if r >= 0 && q >= 0 && r < ih as isize && q < iw as isize {
                                    let v = xs[((b * ih + r as usize) * iw + q as usize) * c + ch];
                                    max = max.max(v);
                                    sum += v;
                                    inside += 1;
                                }
                            }
                        }
                        y.push(match a.kind {
                            PoolKind::Max => max,
                            PoolKind::Avg => sum / if a.count_include_pad { padded } else { inside } as f32,
                        });
                    }
                }
            }
        }
        y
    }

    #[test]
    fn pool_randomized_against_direct_formula() {
        let mut rng = Lcg(3);
        for case in 0..200 {
            let kernel = [rng.range(1, 4), rng.range(1, 4)];
            let dilation = [rng.range(1, 2), rng.range(1, 2)];
            let ext = [(kernel[0] - 1) * dilation[0] + 1, (kernel[1] - 1) * dilation[1] + 1];
            let p = [rng.range(0, ext[0] - 1), rng.range(0, ext[1] - 1), rng.range(0, ext[0] - 1), rng.range(0, ext[1] - 1)];
            let a = Pool2d {
                kind: if rng.range(0, 1) == 0 { PoolKind::Max } else { PoolKind::Avg },
                kernel,
                stride: [rng.range(1, 3), rng.range(1, 3)],
                dilation,
                padding: pads(p[0], p[1], p[2], p[3]),
                ceil_mode: rng.range(0, 1) == 1,
                count_include_pad: rng.range(0, 1) == 1,
            };
            let x_shape = [rng.range(1, 2), ext[0] + rng.range(0, 6), ext[1] + rng.range(0, 8), rng.range(1, 9)];
            // Output size by the ONNX / PyTorch formula, written out independently.
            let size = |ax: usize| {
                let span = x_shape[1 + ax] + p[ax] + p[ax + 2] - ext[ax];
                let s = a.stride[ax];
                let mut o = if a.ceil_mode { span.div_ceil(s) + 1 } else { span / s + 1 };
                if a.ceil_mode && (o - 1) * s >= x_shape[1 + ax] + p[ax] {
                    o -= 1;
                }
                o
            };
            let out = [size(0), size(1)];
            let x = tensor(&x_shape, case);
            let want = naive_pool(&x, &a, p, out);
            if want.iter().any(|v| v.is_nan() || v.is_infinite()) {
                continue; // a dilated window that holds no input cell: defined but not compared
            }
            let op = Op::Pool2d(a);
            let got =
                eval_with(&op, &[Some((&x, false))], 1, rng.range(1, 3)).unwrap_or_else(|e| panic!("case {case} {op:?}: {e}"));
            assert_eq!(got[0].shape(), &[x_shape[0], out[0], out[1], x_shape[3]], "case {case} {op:?} x{x_shape:?}");
            assert_close(got[0].as_slice::<f32>().unwrap(), &want, 1e-6, &format!("case {case} {op:?} x{x_shape:?}"));
        }
    }

    #[test]
    fn pool_shape_inference() {
        let x = |s: &[&str]| Some((DType::F32, Some(dims(s))));
        let max = Op::Pool2d(pool(PoolKind::Max, [3, 3], [2, 2], Padding::SameUpper));
        assert_eq!(infer_dims(&max, &[x(&["N", "112", "H", "64"])]), Ok(Some(dims(&["N", "56", "?", "64"]))));
        let keep = Op::Pool2d(pool(PoolKind::Avg, [3, 3], [1, 1], pads(1, 1, 1, 1)));
        assert_eq!(infer_dims(&keep, &[x(&["N", "H", "W", "C"])]), Ok(Some(dims(&["N", "H", "W", "C"]))));
        assert_eq!(
            infer_dims(&Op::GlobalPool(PoolKind::Avg), &[x(&["N", "7", "7", "2048"])]),
            Ok(Some(dims(&["N", "1", "1", "2048"])))
        );
        let e = infer_dims(&keep, &[x(&["1", "8", "8"])]).unwrap_err();
        assert!(e.contains("rank 4"), "{e}");
        let big_pad = Op::Pool2d(pool(PoolKind::Max, [2, 2], [1, 1], pads(2, 0, 0, 0)));
        let e = infer_dims(&big_pad, &[x(&["1", "8", "8", "3"])]).unwrap_err();
        assert!(e.contains("smaller than the window"), "{e}");
        let too_big = Op::Pool2d(pool(PoolKind::Max, [9, 2], [1, 1], Padding::VALID));
        let e = infer_dims(&too_big, &[x(&["1", "8", "8", "3"])]).unwrap_err();
        assert!(e.contains("height"), "{e}");
        let e = infer_dims(&Op::GlobalPool(PoolKind::Max), &[Some((DType::I32, Some(dims(&["1", "2", "2", "3"]))))]).unwrap_err();
        assert!(e.contains("f32"), "{e}");
    }
}
