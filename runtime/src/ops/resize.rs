//! [`Op::Resize`] with ONNX opset 19 semantics, N-d and layout-agnostic: it resizes
//! whichever axes the scales or sizes say.
//!
//! The numbers follow the ONNX reference implementation (the source of ONNX's conformance
//! data) wherever it and the prose of the specification differ: coordinates are computed
//! in f64 with the *fractional* resized length `scale * in_len` (align_corners,
//! half_pixel_symmetric, tf_crop_and_resize), sizes from scales are `floor(scale *
//! in_len)`, and `keep_aspect_ratio_policy` rounds half up.
//!
//! Nearest resizing is a gather through one index table per axis (any dtype). Linear and
//! cubic resizing are separable: one pass per resized axis, each output row a weighted sum
//! of a fixed number of input rows (2 for linear, 4 for cubic, more with antialias when
//! downsampling), with taps and weights computed when the kernel is built. Passes run
//! shrinking axes first and ping-pong through the kernel's workspace.

use super::movement::{AxisMapGather, fill_bytes};
use super::util::{self, PAR_CHUNK, cast_bytes_mut};
use super::{Fact, OutFact};
use crate::error::{Error, Result};
use crate::ir::{AspectPolicy, CoordTransform, DType, Dim, NearestMode, Op, OpKind, Resize, ResizeMode};
use crate::kernel::{Kernel, KernelIo, KernelRegistry, NodeCtx, Parallel};

// ---------------------------------------------------------------------------------------
// Output sizes and per-axis scales
// ---------------------------------------------------------------------------------------

/// What the plan-time inputs say, per listed axis.
#[derive(Debug, Clone)]
enum Request {
    Scales(Vec<f64>),
    Sizes(Vec<i64>),
}

/// Normalized `axes` (all axes in order when absent).
fn resize_axes(a: &Resize, rank: usize) -> Result<Vec<usize>, String> {
    let Some(axes) = &a.axes else { return Ok((0..rank).collect()) };
    let mut seen = vec![false; rank];
    let mut out = Vec::with_capacity(axes.len());
    for &ax in axes {
        let n = util::normalize_axis(ax, rank)?;
        if std::mem::replace(&mut seen[n], true) {
            return Err(format!("axis {ax} is listed twice"));
        }
        out.push(n);
    }
    Ok(out)
}

/// Concrete output sizes and the scale of every axis (1 for axes not listed).
fn resolve(a: &Resize, in_dims: &[usize], axes: &[usize], req: &Request) -> Result<(Vec<usize>, Vec<f64>), String> {
    let rank = in_dims.len();
    let mut out = in_dims.to_vec();
    let mut scale = vec![1.0f64; rank];
    match req {
        Request::Scales(s) => {
            if s.len() != axes.len() {
                return Err(format!("{} scales for {} axes", s.len(), axes.len()));
            }
            for (&ax, &sc) in axes.iter().zip(s) {
                if !(sc > 0.0 && sc.is_finite()) {
                    return Err(format!("scale {sc} for axis {ax} is not a positive number"));
                }
                let n = (sc * in_dims[ax] as f64).floor();
                if n > isize::MAX as f64 {
                    return Err(format!("scale {sc} makes axis {ax} too large"));
                }
                scale[ax] = sc;
                out[ax] = n as usize;
            }
        }
        Request::Sizes(s) => {
            if s.len() != axes.len() {
                return Err(format!("{} sizes for {} axes", s.len(), axes.len()));
            }
            for (&ax, &n) in axes.iter().zip(s) {
                let n = usize::try_from(n).map_err(|_| format!("size {n} for axis {ax} is negative"))?;
                if in_dims[ax] == 0 && n != 0 {
                    return Err(format!("cannot resize the empty axis {ax} to {n}"));
                }
                out[ax] = n;
                scale[ax] = if in_dims[ax] == 0 { 1.0 } else { n as f64 / in_dims[ax] as f64 };
            }
            if a.aspect != AspectPolicy::Stretch && !axes.is_empty() {
                let listed = axes.iter().map(|&ax| scale[ax]);
                let s = if a.aspect == AspectPolicy::NotLarger { listed.fold(f64::INFINITY, f64::min) } else { listed.fold(0.0, f64::max) };
                for &ax in axes {
                    scale[ax] = s;
                    // Round half up, as the reference does.
                    out[ax] = (s * in_dims[ax] as f64 + 0.5) as usize;
                }
            }
        }
    }
    Ok((out, scale))
}

/// Reads an optional input as a request part; `None` when absent or empty (ONNX passes an
/// empty tensor for "not given").
fn present<'f, 'a>(inputs: &'f [Option<Fact<'a>>], i: usize) -> Option<&'f Fact<'a>> {
    let f = inputs.get(i).and_then(Option::as_ref)?;
    let empty = match (f.value, f.shape) {
        (Some(v), _) => v.numel() == 0,
        (None, Some(s)) => s.contains(&Dim::Fixed(0)),
        (None, None) => false,
    };
    (!empty).then_some(f)
}

fn check_mode(a: &Resize, dtype: DType) -> Result<(), String> {
    if a.mode != ResizeMode::Nearest && dtype != DType::F32 {
        return Err(format!("{:?} Resize supports f32 input only, got {dtype}", a.mode));
    }
    Ok(())
}

pub(super) fn infer_resize(a: &Resize, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "X")?;
    check_mode(a, x.dtype)?;
    let (scales, sizes) = (present(inputs, 2), present(inputs, 3));
    if let Some(s) = scales
        && s.dtype != DType::F32
    {
        return Err(format!("scales must be f32, got {}", s.dtype));
    }
    if let Some(s) = sizes
        && !matches!(s.dtype, DType::I64 | DType::I32)
    {
        return Err(format!("sizes must be i64 or i32, got {}", s.dtype));
    }
    let req = match (scales, sizes) {
        (Some(_), Some(_)) => return Err("Resize has both scales and sizes".into()),
        (None, None) => return Err("Resize needs scales or sizes".into()),
        (Some(s), None) => s.value.map(|v| v.f32().map(|s| Request::Scales(s.iter().map(|&x| f64::from(x)).collect()))),
        (None, Some(s)) => s.value.map(|v| v.to_i64_vec().map(Request::Sizes)),
    };
    let req = req.transpose().map_err(|e| e.to_string())?;
    let Some(xs) = x.shape else { return Ok(vec![OutFact { dtype: x.dtype, shape: None }]) };
    let axes = resize_axes(a, xs.len())?;
    let mut out = xs.to_vec();
    match req {
        None => {
            for &ax in &axes {
                out[ax] = util::unknown_dim();
            }
        }
        Some(req) => {
            let fixed: Option<Vec<usize>> = xs.iter().map(Dim::fixed).collect();
            if let Some(in_dims) = fixed {
                out = util::fixed(&resolve(a, &in_dims, &axes, &req)?.0);
            } else {
                // Some dims are symbolic: resolve with placeholders and keep only what does
                // not depend on them.
                let probe: Vec<usize> = xs.iter().map(|d| d.fixed().unwrap_or(1)).collect();
                let (sizes, scale) = resolve(a, &probe, &axes, &req)?;
                let aspect_needs_all = matches!(req, Request::Sizes(_)) && a.aspect != AspectPolicy::Stretch;
                let any_sym_listed = axes.iter().any(|&ax| xs[ax].fixed().is_none());
                for &ax in &axes {
                    out[ax] = match (&xs[ax], &req) {
                        (_, Request::Sizes(_)) if aspect_needs_all && any_sym_listed => util::unknown_dim(),
                        (_, Request::Sizes(_)) => Dim::Fixed(sizes[ax]),
                        (Dim::Fixed(_), Request::Scales(_)) => Dim::Fixed(sizes[ax]),
                        (sym, Request::Scales(_)) if scale[ax] == 1.0 => sym.clone(),
                        _ => util::unknown_dim(),
                    };
                }
            }
        }
    }
    util::check_size(&out, x.dtype.size())?;
    Ok(vec![OutFact { dtype: x.dtype, shape: Some(out) }])
}

// ---------------------------------------------------------------------------------------
// Coordinates, taps and weights (following the ONNX reference implementation)
// ---------------------------------------------------------------------------------------

/// Source coordinate of output index `y` along one axis, and whether it falls outside the
/// input (only `tf_crop_and_resize` extrapolates).
fn source_coord(coord: CoordTransform, y: f64, scale: f64, in_len: usize, out_len: usize, roi: (f64, f64)) -> (f64, bool) {
    let in_w = in_len as f64;
    // The reference uses the fractional resized length here, not the integer one.
    let out_w = scale * in_w;
    match coord {
        CoordTransform::AlignCorners => (if out_w == 1.0 { 0.0 } else { y * (in_w - 1.0) / (out_w - 1.0) }, false),
        CoordTransform::Asymmetric => (y / scale, false),
        CoordTransform::TfCropAndResize => {
            // roi is f32 data; the reference forms its extent and its offset in f32 (numpy
            // scalar arithmetic) and the rest in f64. Mirrored, because nearest sampling
            // of a crop often lands on a .5 tie where one ulp picks the other pixel.
            let (r0, r1) = (roi.0 as f32, roi.1 as f32);
            let (extent, last) = (r1 - r0, in_len.saturating_sub(1) as f32);
            let x = if out_w == 1.0 { f64::from(extent * last / 2.0) } else { y * f64::from(extent) * (in_w - 1.0) / (out_w - 1.0) };
            let x = x + f64::from(r0 * last);
            (x, x < 0.0 || x > in_w - 1.0)
        }
        CoordTransform::PytorchHalfPixel => (if out_w == 1.0 { -0.5 } else { (y + 0.5) / scale - 0.5 }, false),
        CoordTransform::HalfPixel => ((y + 0.5) / scale - 0.5, false),
        CoordTransform::HalfPixelSymmetric => {
            let adjustment = out_len as f64 / out_w;
            let offset = in_w / 2.0 * (1.0 - adjustment);
            (offset + (y + 0.5) / scale - 0.5, false)
        }
    }
}

/// The fraction of `x` past the input sample on its left, in `(0, 1]`: an integer `x` counts
/// as 1 past `x - 1`, so the window of taps is the same shape for every `x`.
fn ratio_of(x: f64) -> f64 {
    let f = x.floor();
    if x == f { 1.0 } else { x - f }
}

/// Index of the first of `n` (even) taps around `x`: the `n` nearest integers, ties to the
/// smaller, as the reference picks them.
fn first_tap(x: f64, n: usize) -> i64 {
    let half = (n / 2) as f64;
    let xp = x + half;
    let p = xp.floor();
    let offset = if xp - p == 0.0 { -half } else { -half + 1.0 };
    (p + offset - half) as i64
}

fn cubic_coeffs(r: f64, a: f64) -> Vec<f64> {
    let s = 1.0 - r;
    vec![
        ((a * (r + 1.0) - 5.0 * a) * (r + 1.0) + 8.0 * a) * (r + 1.0) - 4.0 * a,
        ((a + 2.0) * r - (a + 3.0)) * r * r + 1.0,
        ((a + 2.0) * s - (a + 3.0)) * s * s + 1.0,
        ((a * (s + 1.0) - 5.0 * a) * (s + 1.0) + 8.0 * a) * (s + 1.0) - 4.0 * a,
    ]
}

fn normalized(mut c: Vec<f64>) -> Vec<f64> {
    let sum: f64 = c.iter().sum();
    for v in &mut c {
        *v /= sum;
    }
    c
}

/// Linear weights stretched by `1 / scale` when downsampling (a triangle filter).
fn linear_antialias(r: f64, scale: f64) -> Vec<f64> {
    let scale = scale.min(1.0);
    let start = (-1.0 / scale).floor() as i64 + 1;
    let footprint = 2 - 2 * start;
    normalized((start..start + footprint).map(|i| (1.0 - ((i as f64 - r) * scale).abs()).clamp(0.0, 1.0)).collect())
}

/// Cubic weights stretched by `1 / scale` when downsampling.
fn cubic_antialias(r: f64, scale: f64, a: f64) -> Vec<f64> {
    let scale = scale.min(1.0);
    let kernel = |x: f64| {
        let x = x.abs();
        let (x2, x3) = (x * x, x * x * x);
        if x <= 1.0 {
            (a + 2.0) * x3 - (a + 3.0) * x2 + 1.0
        } else if x < 2.0 {
            a * x3 - 5.0 * a * x2 + 8.0 * a * x - 4.0 * a
        } else {
            0.0
        }
    };
    let start = (-2.0 / scale).floor() as i64 + 1;
    let end = 2 - start;
    normalized((start..end).map(|i| kernel(scale * (i as f64 - r))).collect())
}

/// Everything about resizing one axis: per output index, the taps' input indices (clamped)
/// and weights, and whether it extrapolates.
#[derive(Debug)]
struct AxisTaps {
    taps: usize,
    index: Vec<usize>,
    weight: Vec<f32>,
    extrapolate: Vec<bool>,
}

fn axis_taps(a: &Resize, in_len: usize, out_len: usize, scale: f64, roi: (f64, f64)) -> Result<AxisTaps, String> {
    let coeffs = |r: f64| match (a.mode, a.antialias) {
        (ResizeMode::Linear, false) => vec![1.0 - r, r],
        (ResizeMode::Linear, true) => linear_antialias(r, scale),
        (ResizeMode::Cubic, false) => cubic_coeffs(r, f64::from(a.cubic_coeff_a)),
        (ResizeMode::Cubic, true) => cubic_antialias(r, scale, f64::from(a.cubic_coeff_a)),
        (ResizeMode::Nearest, _) => vec![],
    };
    let taps = coeffs(0.5).len();
    if taps == 0 {
        return Err("nearest resizing has no taps".into());
    }
    let mut t = AxisTaps {
        taps,
        index: Vec::with_capacity(out_len * taps),
        weight: Vec::with_capacity(out_len * taps),
        extrapolate: Vec::with_capacity(out_len),
    };
    let last = in_len as i64 - 1;
    for y in 0..out_len {
        let (x, ext) = source_coord(a.coord, y as f64, scale, in_len, out_len, roi);
        let mut c = coeffs(ratio_of(x));
        if c.len() != taps {
            return Err(format!("the filter changed width along the axis ({} vs {taps} taps)", c.len()));
        }
        let first = first_tap(x, taps);
        if a.exclude_outside {
            for (j, w) in c.iter_mut().enumerate() {
                let i = first + j as i64;
                if i < 0 || i > last {
                    *w = 0.0;
                }
            }
            let sum: f64 = c.iter().sum();
            if sum != 0.0 {
                c.iter_mut().for_each(|w| *w /= sum);
            }
        }
        for (j, w) in c.into_iter().enumerate() {
            // Edge padding: taps outside the input read its border.
            t.index.push((first + j as i64).clamp(0, last.max(0)) as usize);
            t.weight.push(w as f32);
        }
        t.extrapolate.push(ext);
    }
    Ok(t)
}

/// Input index per output index for nearest resizing, -1 where it extrapolates.
fn nearest_map(a: &Resize, in_len: usize, out_len: usize, scale: f64, roi: (f64, f64)) -> Vec<isize> {
    let last = in_len as i64 - 1;
    (0..out_len)
        .map(|y| {
            let (x, ext) = source_coord(a.coord, y as f64, scale, in_len, out_len, roi);
            if ext {
                return -1;
            }
            let r = ratio_of(x);
            let first = first_tap(x, 2);
            // An integer x has r == 1: the second tap is x itself.
            let second = r == 1.0
                || match a.nearest {
                    NearestMode::RoundPreferFloor => r > 0.5,
                    NearestMode::RoundPreferCeil => r >= 0.5,
                    NearestMode::Floor => false,
                    NearestMode::Ceil => true,
                };
            (first + i64::from(second)).clamp(0, last.max(0)) as isize
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------

/// One separable pass: `dst[o, y, i] = sum_k w[y, k] * src[o, index[y, k], i]` over
/// `[outer, len, inner]` views of the tensors.
#[derive(Debug)]
struct Pass {
    in_len: usize,
    out_len: usize,
    inner: usize,
    taps: AxisTaps,
}

impl Pass {
    fn run(&self, src: &[f32], dst: &mut [f32], par: &Parallel<'_>) {
        let (inner, taps) = (self.inner, self.taps.taps);
        if inner == 0 || dst.is_empty() {
            return;
        }
        let rows = (PAR_CHUNK / inner).max(1);
        par.for_each_chunk_mut(dst, rows * inner, |ci, chunk| {
            for (r, drow) in chunk.chunks_exact_mut(inner).enumerate() {
                let g = ci * rows + r;
                let (o, y) = (g / self.out_len, g % self.out_len);
                let base = o * self.in_len * inner;
                let index = &self.taps.index[y * taps..(y + 1) * taps];
                let weight = &self.taps.weight[y * taps..(y + 1) * taps];
                drow.fill(0.0);
                for (&i, &w) in index.iter().zip(weight) {
                    let srow = &src[base + i * inner..base + (i + 1) * inner];
                    for (d, &s) in drow.iter_mut().zip(srow) {
                        *d += w * s;
                    }
                }
            }
        });
    }
}

#[derive(Debug)]
struct SeparableKernel {
    passes: Vec<Pass>,
    /// Elements after each pass.
    sizes: Vec<usize>,
    /// Elements of the two ping-pong buffers.
    buffers: [usize; 2],
    in_len: usize,
    out_len: usize,
    out_dims: Vec<usize>,
    /// Per axis, which output indices extrapolate (empty when none do anywhere).
    extrapolate: Vec<Vec<bool>>,
    extrapolation_value: f32,
}

impl SeparableKernel {
    /// Writes the extrapolation value exactly where any axis extrapolates (the passes only
    /// approximate it, as a weighted sum of copies of itself).
    fn fix_extrapolated(&self, out: &mut [f32]) {
        if self.extrapolate.is_empty() {
            return;
        }
        let Some((last, outer)) = self.extrapolate.split_last() else { return };
        let row = last.len();
        if row == 0 {
            return;
        }
        for (r, orow) in out.chunks_exact_mut(row).enumerate() {
            let mut rest = r;
            let mut any = false;
            for (flags, &d) in outer.iter().zip(&self.out_dims).rev() {
                any |= flags[rest % d];
                rest /= d;
            }
            if any {
                orow.fill(self.extrapolation_value);
            } else {
                for (o, &e) in orow.iter_mut().zip(last) {
                    if e {
                        *o = self.extrapolation_value;
                    }
                }
            }
        }
    }
}

impl Kernel for SeparableKernel {
    fn workspace_bytes(&self) -> usize {
        (self.buffers[0] + self.buffers[1]) * 4
    }

    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let x = io.input(0)?.f32()?;
        let out = cast_bytes_mut::<f32>(io.outputs.first_mut().ok_or_else(|| Error::Graph("missing output".into()))?.bytes_mut())?;
        if x.len() != self.in_len || out.len() != self.out_len {
            return Err(Error::Input(format!(
                "Resize got {} -> {} elements, planned {} -> {}",
                x.len(),
                out.len(),
                self.in_len,
                self.out_len
            )));
        }
        let ws_bytes = self.workspace_bytes();
        let ws = io.workspace.get_mut(..ws_bytes).ok_or_else(|| Error::Graph("Resize workspace is too small".into()))?;
        let ws = cast_bytes_mut::<f32>(ws)?;
        let (buf_a, buf_b) = ws.split_at_mut(self.buffers[0]);
        if out.is_empty() {
            return Ok(());
        }
        let n = self.passes.len();
        if n == 0 {
            // Every axis is an identity (an empty input always gives an empty output).
            out.copy_from_slice(x);
        }
        for (k, p) in self.passes.iter().enumerate() {
            let size = self.sizes[k];
            let last = k + 1 == n;
            if k == 0 {
                if last { p.run(x, out, par) } else { p.run(x, &mut buf_a[..size], par) }
            } else {
                let prev = self.sizes[k - 1];
                // Pass k reads what pass k - 1 wrote: buffer A after even passes, B after odd.
                let (src, dst): (&[f32], &mut [f32]) =
                    if (k - 1) % 2 == 0 { (&buf_a[..prev], &mut buf_b[..]) } else { (&buf_b[..prev], &mut buf_a[..]) };
                if last { p.run(src, out, par) } else { p.run(src, &mut dst[..size], par) }
            }
        }
        self.fix_extrapolated(out);
        Ok(())
    }
}

/// Plan-time parameters of a Resize node: output dims, per-axis scale and roi.
struct Setup {
    out: Vec<usize>,
    scale: Vec<f64>,
    roi: Vec<(f64, f64)>,
}

fn setup(ctx: &NodeCtx<'_>, a: &Resize, in_dims: &[usize]) -> Result<Setup> {
    let rank = in_dims.len();
    let axes = resize_axes(a, rank).map_err(|e| ctx.err(e))?;
    let nonempty = |i: usize| ctx.input_view(i).filter(|v| v.numel() > 0);
    let given = |i: usize| ctx.inputs.get(i).copied().flatten().is_some_and(|(_, s)| s.iter().product::<usize>() > 0);
    let req = match (given(2), given(3)) {
        (true, false) => {
            let v = nonempty(2).ok_or_else(|| ctx.err("scales must be known at plan time"))?;
            Request::Scales(v.f32()?.iter().map(|&s| f64::from(s)).collect())
        }
        (false, true) => {
            let v = nonempty(3).ok_or_else(|| ctx.err("sizes must be known at plan time"))?;
            Request::Sizes(v.to_i64_vec()?)
        }
        _ => return Err(ctx.err("Resize needs exactly one of scales and sizes")),
    };
    let (out, scale) = resolve(a, in_dims, &axes, &req).map_err(|e| ctx.err(e))?;
    let mut roi = vec![(0.0, 1.0); rank];
    if a.coord == CoordTransform::TfCropAndResize {
        let v = nonempty(1).ok_or_else(|| ctx.err("tf_crop_and_resize needs roi, known at plan time"))?;
        let r = v.f32()?;
        if r.len() != 2 * axes.len() {
            return Err(ctx.err(format!("roi has {} values, {} axes need {}", r.len(), axes.len(), 2 * axes.len())));
        }
        for (i, &ax) in axes.iter().enumerate() {
            roi[ax] = (f64::from(r[i]), f64::from(r[axes.len() + i]));
        }
    }
    if out != ctx.output_shape(0)? {
        return Err(ctx.err(format!("resizes to {out:?}, the output is planned as {:?}", ctx.output_shape(0)?)));
    }
    Ok(Setup { out, scale, roi })
}

/// Whether an axis maps each output index to the same input index (skipped, as the
/// reference does, with its `isclose` tolerance).
fn is_identity(a: &Resize, in_len: usize, out_len: usize, scale: f64, roi: (f64, f64)) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs());
    in_len == out_len && close(scale, 1.0) && (a.coord != CoordTransform::TfCropAndResize || (roi.0 == 0.0 && close(roi.1, 1.0)))
}

fn build_resize(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::Resize(a) = &ctx.node.op else { return Err(ctx.err("not a Resize node")) };
    let (dtype, in_dims) = ctx.inputs.first().copied().flatten().ok_or_else(|| ctx.err("input 0 is missing"))?;
    check_mode(a, dtype).map_err(|e| ctx.err(e))?;
    let s = setup(ctx, a, in_dims)?;
    let rank = in_dims.len();
    let empty = s.out.contains(&0) || in_dims.contains(&0);

    if a.mode == ResizeMode::Nearest {
        let maps = (0..rank)
            .map(|ax| {
                if empty || is_identity(a, in_dims[ax], s.out[ax], s.scale[ax], s.roi[ax]) {
                    (0..s.out[ax] as isize).collect()
                } else {
                    nearest_map(a, in_dims[ax], s.out[ax], s.scale[ax], s.roi[ax])
                }
            })
            .collect();
        let fill = fill_bytes(a.extrapolation_value, dtype);
        return Ok(Box::new(AxisMapGather::new(in_dims, maps, fill, dtype.size()).map_err(|e| ctx.err(e))?));
    }

    let mut order: Vec<usize> = (0..rank).filter(|&ax| !empty && !is_identity(a, in_dims[ax], s.out[ax], s.scale[ax], s.roi[ax])).collect();
    // Shrinking axes first keeps the intermediate tensors small.
    order.sort_by(|&p, &q| {
        let ratio = |ax: usize| s.out[ax] as f64 / in_dims[ax] as f64;
        ratio(p).total_cmp(&ratio(q))
    });
    let mut cur = in_dims.to_vec();
    let mut passes = Vec::with_capacity(order.len());
    let mut sizes = Vec::with_capacity(order.len());
    let mut extrapolate = vec![Vec::new(); rank];
    let mut any_extrapolated = false;
    for &ax in &order {
        let taps = axis_taps(a, in_dims[ax], s.out[ax], s.scale[ax], s.roi[ax]).map_err(|e| ctx.err(e))?;
        any_extrapolated |= taps.extrapolate.iter().any(|&e| e);
        extrapolate[ax] = taps.extrapolate.clone();
        passes.push(Pass {
            in_len: cur[ax],
            out_len: s.out[ax],
            inner: cur[ax + 1..].iter().product(),
            taps,
        });
        cur[ax] = s.out[ax];
        sizes.push(cur.iter().product());
    }
    let mut buffers = [0usize; 2];
    for (k, &n) in sizes.iter().enumerate().take(sizes.len().saturating_sub(1)) {
        buffers[k % 2] = buffers[k % 2].max(n);
    }
    let extrapolate = if any_extrapolated {
        extrapolate.into_iter().zip(&s.out).map(|(e, &n)| if e.is_empty() { vec![false; n] } else { e }).collect()
    } else {
        Vec::new()
    };
    Ok(Box::new(SeparableKernel {
        passes,
        sizes,
        buffers,
        in_len: in_dims.iter().product(),
        out_len: s.out.iter().product(),
        out_dims: s.out,
        extrapolate,
        extrapolation_value: a.extrapolation_value,
    }))
}

fn resize_applies(ctx: &NodeCtx<'_>, nearest: bool) -> bool {
    let Op::Resize(a) = &ctx.node.op else { return false };
    match (ctx.inputs.first().copied().flatten(), ctx.outputs.first()) {
        (Some((i, _)), Some((o, _))) => i == *o && (a.mode == ResizeMode::Nearest) == nearest && (nearest || i == DType::F32),
        _ => false,
    }
}

pub(super) fn register(r: &mut KernelRegistry) {
    util::register_ref(r, "any-resize-nearest-reference", OpKind::Resize, |c| resize_applies(c, true), build_resize);
    util::register_ref(r, "f32-resize-reference", OpKind::Resize, |c| resize_applies(c, false), build_resize);
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    //! The first 39 cases are ONNX's own conformance cases for Resize (inputs and expected
    //! outputs from `onnx-node-tests/test_resize_*`, the ONNX reference implementation's
    //! numbers). The rest were computed with `onnx.reference.ReferenceEvaluator` (onnx
    //! 1.23); each notes whether onnxruntime 1.32 agrees (where it does not, it rounds a
    //! source coordinate in f32 and lands on the other side of a .5 tie).
    use super::*;
    use crate::ops::util::testing::{assert_close, f32s, infer_dims, run, run_par, sym, t};
    use crate::tensor::Tensor;

    struct Case {
        name: &'static str,
        attrs: Resize,
        x_shape: &'static [usize],
        x: &'static [f32],
        roi: Option<&'static [f32]>,
        scales: Option<&'static [f32]>,
        sizes: Option<&'static [i64]>,
        y_shape: &'static [usize],
        y: &'static [f32],
    }

    fn resize(a: &Resize, x: &Tensor, roi: Option<&[f32]>, scales: Option<&[f32]>, sizes: Option<&[i64]>) -> Result<Tensor> {
        let roi = roi.map(|r| t(&[r.len()], r));
        let scales = scales.map(|s| t(&[s.len()], s));
        let sizes = sizes.map(|s| t(&[s.len()], s));
        Ok(run(&Op::Resize(a.clone()), &[Some(x), roi.as_ref(), scales.as_ref(), sizes.as_ref()], 1)?.remove(0))
    }

    #[test]
    fn onnx_conformance_and_reference_cases() {
        let cases = cases();
        assert_eq!(cases.len(), 57);
        for c in &cases {
            let x = t(c.x_shape, c.x);
            let y = resize(&c.attrs, &x, c.roi, c.scales, c.sizes).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            assert_eq!(y.shape(), c.y_shape, "{}", c.name);
            let got = f32s(&y);
            let ok = got.iter().zip(c.y).all(|(g, w)| (g - w).abs() <= 1e-5 + 1e-5 * w.abs());
            assert!(ok, "{}:\n got {got:?}\nwant {:?}", c.name, c.y);
        }
    }

    fn attrs(mode: ResizeMode, coord: CoordTransform) -> Resize {
        Resize {
            mode,
            coord,
            nearest: NearestMode::RoundPreferFloor,
            axes: None,
            aspect: AspectPolicy::Stretch,
            extrapolation_value: 0.0,
            antialias: false,
            cubic_coeff_a: -0.75,
            exclude_outside: false,
        }
    }

    #[test]
    fn nearest_moves_any_dtype() {
        let x = t(&[1, 2, 2, 1], &[1u8, 2, 3, 4]);
        let a = Resize { axes: Some(vec![1, 2]), ..attrs(ResizeMode::Nearest, CoordTransform::Asymmetric) };
        let y = resize(&a, &x, None, Some(&[2.0, 2.0]), None).unwrap();
        assert_eq!(y.shape(), &[1, 4, 4, 1]);
        assert_eq!(y.as_slice::<u8>().unwrap(), &[1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
        let x = t(&[3], &[5i64, 6, 7]);
        let y = resize(&a, &x, None, None, Some(&[0])).map(|y| y.shape().to_vec());
        assert!(y.is_err(), "axes 1, 2 do not exist on a rank-1 input");
        let b = attrs(ResizeMode::Nearest, CoordTransform::Asymmetric);
        assert_eq!(resize(&b, &x, None, None, Some(&[6])).unwrap().as_slice::<i64>().unwrap(), &[5, 5, 6, 6, 7, 7]);
        // Linear needs f32.
        let e = resize(&attrs(ResizeMode::Linear, CoordTransform::HalfPixel), &x, None, None, Some(&[6])).unwrap_err().to_string();
        assert!(e.contains("f32"), "{e}");
    }

    #[test]
    fn empty_and_identity_resizes() {
        let x = t(&[1, 2, 3], &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let a = attrs(ResizeMode::Linear, CoordTransform::HalfPixel);
        assert_eq!(resize(&a, &x, None, None, Some(&[1, 0, 3])).unwrap().shape(), &[1, 0, 3]);
        let y = resize(&a, &x, None, Some(&[1.0, 1.0, 1.0]), None).unwrap();
        assert_close(&f32s(&y), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.0, 0.0);
        let e = t::<f32>(&[0, 2], &[]);
        assert!(resize(&a, &e, None, None, Some(&[3, 2])).is_err());
        assert_eq!(resize(&a, &e, None, Some(&[2.0, 1.0]), None).unwrap().shape(), &[0, 2]);
    }

    #[test]
    fn resize_errors() {
        let x = t(&[1, 4], &[1.0f32, 2.0, 3.0, 4.0]);
        let a = attrs(ResizeMode::Linear, CoordTransform::HalfPixel);
        let msg = |r: Result<Tensor>| r.unwrap_err().to_string();
        assert!(msg(resize(&a, &x, None, Some(&[1.0, 2.0]), Some(&[1, 8]))).contains("both"));
        assert!(msg(resize(&a, &x, None, None, None)).contains("scales or sizes"));
        assert!(msg(resize(&a, &x, None, Some(&[1.0, 0.0]), None)).contains("positive"));
        assert!(msg(resize(&a, &x, None, Some(&[1.0, f32::NAN]), None)).contains("positive"));
        assert!(msg(resize(&a, &x, None, Some(&[2.0]), None)).contains("1 scales for 2 axes"));
        assert!(msg(resize(&a, &x, None, None, Some(&[1, -3]))).contains("negative"));
        assert!(resize(&a, &x, None, Some(&[1.0, 1e30]), None).is_err());
        let tf = attrs(ResizeMode::Linear, CoordTransform::TfCropAndResize);
        assert!(msg(resize(&tf, &x, None, None, Some(&[1, 3]))).contains("roi"));
        assert!(msg(resize(&tf, &x, Some(&[0.0, 1.0]), None, Some(&[1, 3]))).contains("roi has 2 values"));
        let dup = Resize { axes: Some(vec![1, -1]), ..a.clone() };
        assert!(msg(resize(&dup, &x, None, Some(&[2.0, 2.0]), None)).contains("twice"));
        // Empty scales mean "not given" (ONNX's idiom for an omitted input).
        let y = resize(&a, &x, None, Some(&[]), Some(&[1, 2])).unwrap();
        assert_close(&f32s(&y), &[1.5, 3.5], 0.0, 0.0);
    }

    #[test]
    fn symbolic_inference() {
        let x = [sym("batch"), sym("h"), sym("w"), Dim::Fixed(3)];
        let sizes = t(&[2], &[224i64, 224]);
        let a = Resize { axes: Some(vec![1, 2]), ..attrs(ResizeMode::Linear, CoordTransform::HalfPixel) };
        let facts = [
            Some(Fact { dtype: DType::F32, shape: Some(&x), value: None }),
            None,
            None,
            Some(Fact { dtype: DType::I64, shape: None, value: Some(sizes.view()) }),
        ];
        let out = infer_resize(&a, &facts).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("batch"), Dim::Fixed(224), Dim::Fixed(224), Dim::Fixed(3)]));
        // Sizes with an aspect policy need the input sizes.
        let b = Resize { aspect: AspectPolicy::NotLarger, ..a.clone() };
        assert_eq!(infer_resize(&b, &facts).unwrap()[0].shape, Some(vec![sym("batch"), sym("?"), sym("?"), Dim::Fixed(3)]));
        // Scales: a scale of 1 keeps a symbolic dim, others make it unknown.
        let scales = t(&[4], &[1.0f32, 2.0, 1.0, 1.0]);
        let c = attrs(ResizeMode::Nearest, CoordTransform::Asymmetric);
        let facts = [
            Some(Fact { dtype: DType::F32, shape: Some(&x), value: None }),
            None,
            Some(Fact { dtype: DType::F32, shape: None, value: Some(scales.view()) }),
        ];
        assert_eq!(infer_resize(&c, &facts).unwrap()[0].shape, Some(vec![sym("batch"), sym("?"), sym("w"), Dim::Fixed(3)]));
        // Unknown scales: the listed axes are unknown.
        let four = [Dim::Fixed(4)];
        let out = infer_dims(&Op::Resize(a.clone()), &[Some((DType::F32, &x)), None, Some((DType::F32, &four))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("batch"), sym("?"), sym("?"), Dim::Fixed(3)]));
        assert!(
            infer_dims(
                &Op::Resize(attrs(ResizeMode::Cubic, CoordTransform::HalfPixel)),
                &[Some((DType::I64, &x)), None, Some((DType::F32, &four))],
                1
            )
            .is_err()
        );
    }

    /// Bilinear half_pixel resizing of an NHWC image written out directly from the ONNX
    /// formula: the oracle for the separable kernel on a large input split over threads.
    fn naive_bilinear(x: &[f32], (h, w, c): (usize, usize, usize), (oh, ow): (usize, usize)) -> Vec<f32> {
        let src = |o: usize, n: usize, on: usize| {
            let s = ((o as f64 + 0.5) * n as f64 / on as f64 - 0.5).clamp(0.0, (n - 1) as f64);
            let i0 = s.floor() as usize;
            (i0, (i0 + 1).min(n - 1), s - i0 as f64)
        };
        let mut out = Vec::with_capacity(oh * ow * c);
        for oy in 0..oh {
            let (y0, y1, fy) = src(oy, h, oh);
            for ox in 0..ow {
                let (x0, x1, fx) = src(ox, w, ow);
                for ch in 0..c {
                    let p = |y: usize, xx: usize| f64::from(x[(y * w + xx) * c + ch]);
                    let top = p(y0, x0) * (1.0 - fx) + p(y0, x1) * fx;
                    let bot = p(y1, x0) * (1.0 - fx) + p(y1, x1) * fx;
                    out.push((top * (1.0 - fy) + bot * fy) as f32);
                }
            }
        }
        out
    }

    #[test]
    fn large_bilinear_upsample_split_over_threads() {
        let (h, w, c) = (37usize, 53, 5);
        let x: Vec<f32> = (0..h * w * c).map(|i| ((i * 31) % 97) as f32 * 0.125).collect();
        let xt = t(&[1, h, w, c], &x);
        let a = Resize { axes: Some(vec![1, 2]), ..attrs(ResizeMode::Linear, CoordTransform::HalfPixel) };
        let sizes = t(&[2], &[101i64, 64]);
        for threads in [1, 2] {
            let y = run_par(&Op::Resize(a.clone()), &[Some(&xt), None, None, Some(&sizes)], 1, threads).unwrap().remove(0);
            assert_eq!(y.shape(), &[1, 101, 64, c]);
            assert_close(&f32s(&y), &naive_bilinear(&x, (h, w, c), (101, 64)), 1e-5, 1e-5);
        }
    }

    #[rustfmt::skip]
    fn cases() -> Vec<Case> {
        vec![
        Case {
            name: "downsample_scales_cubic",
            attrs: Resize { mode: ResizeMode::Cubic, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 0.800000011920929, 0.800000011920929]),
            sizes: None,
            y_shape: &[1, 1, 3, 3],
            y: &[1.47119140625, 2.78125, 4.08251953125, 6.71142578125, 8.021484375, 9.32275390625, 11.91650390625, 13.2265625, 14.52783203125],
        },
        Case {
            name: "downsample_scales_cubic_A_n0p5_exclude_outside",
            attrs: Resize { mode: ResizeMode::Cubic, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.5, exclude_outside: true },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 0.800000011920929, 0.800000011920929]),
            sizes: None,
            y_shape: &[1, 1, 3, 3],
            y: &[1.3681267499923706, 2.669501304626465, 4.013336658477783, 6.573625087738037, 7.875, 9.21883487701416, 11.948966026306152, 13.250341415405273, 14.594176292419434],
        },
        Case {
            name: "downsample_scales_cubic_align_corners",
            attrs: Resize { mode: ResizeMode::Cubic, coord: CoordTransform::AlignCorners, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 0.800000011920929, 0.800000011920929]),
            sizes: None,
            y_shape: &[1, 1, 3, 3],
            y: &[1.0, 2.3951916694641113, 3.7903831005096436, 6.580766201019287, 7.975957870483398, 9.371149063110352, 12.161532402038574, 13.556723594665527, 14.951915740966797],
        },
        Case {
            name: "downsample_scales_cubic_antialias",
            attrs: Resize { mode: ResizeMode::Cubic, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: true, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 0.6000000238418579, 0.6000000238418579]),
            sizes: None,
            y_shape: &[1, 1, 2, 2],
            y: &[2.5180721282958984, 4.285886287689209, 9.58932876586914, 11.357142448425293],
        },
        Case {
            name: "downsample_scales_linear",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 0.6000000238418579, 0.6000000238418579]),
            sizes: None,
            y_shape: &[1, 1, 1, 2],
            y: &[2.6666665077209473, 4.3333330154418945],
        },
        Case {
            name: "downsample_scales_linear_align_corners",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::AlignCorners, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 0.6000000238418579, 0.6000000238418579]),
            sizes: None,
            y_shape: &[1, 1, 1, 2],
            y: &[1.0, 3.142857074737549],
        },
        Case {
            name: "downsample_scales_linear_antialias",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: true, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 0.6000000238418579, 0.6000000238418579]),
            sizes: None,
            y_shape: &[1, 1, 2, 2],
            y: &[2.875, 4.5, 9.375, 11.0],
        },
        Case {
            name: "downsample_scales_linear_half_pixel_symmetric",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::HalfPixelSymmetric, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 1, 4],
            x: &[1.0, 2.0, 3.0, 4.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 1.0, 0.6000000238418579]),
            sizes: None,
            y_shape: &[1, 1, 1, 2],
            y: &[1.6666667461395264, 3.3333332538604736],
        },
        Case {
            name: "downsample_scales_nearest",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 0.6000000238418579, 0.6000000238418579]),
            sizes: None,
            y_shape: &[1, 1, 1, 2],
            y: &[1.0, 3.0],
        },
        Case {
            name: "downsample_sizes_cubic",
            attrs: Resize { mode: ResizeMode::Cubic, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 1, 3, 3]),
            y_shape: &[1, 1, 3, 3],
            y: &[1.6307870149612427, 3.004629611968994, 4.378472328186035, 7.126157283782959, 8.5, 9.873842239379883, 12.621527671813965, 13.995369911193848, 15.369213104248047],
        },
        Case {
            name: "downsample_sizes_cubic_antialias",
            attrs: Resize { mode: ResizeMode::Cubic, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: true, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 1, 3, 3]),
            y_shape: &[1, 1, 3, 3],
            y: &[1.7750091552734375, 3.120007276535034, 4.465005397796631, 7.155001640319824, 8.5, 9.844998359680176, 12.534994125366211, 13.879992485046387, 15.224990844726562],
        },
        Case {
            name: "downsample_sizes_linear_antialias",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: true, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 1, 3, 3]),
            y_shape: &[1, 1, 3, 3],
            y: &[2.3636362552642822, 3.590909004211426, 4.818181991577148, 7.2727274894714355, 8.5, 9.727272987365723, 12.181818008422852, 13.409090995788574, 14.636363983154297],
        },
        Case {
            name: "downsample_sizes_linear_pytorch_half_pixel",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::PytorchHalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 1, 3, 1]),
            y_shape: &[1, 1, 3, 1],
            y: &[1.6666666269302368, 7.0, 12.333333015441895],
        },
        Case {
            name: "downsample_sizes_nearest",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 1, 1, 3]),
            y_shape: &[1, 1, 1, 3],
            y: &[1.0, 2.0, 4.0],
        },
        Case {
            name: "downsample_sizes_nearest_not_larger",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![2, 3]), aspect: AspectPolicy::NotLarger, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 3]),
            y_shape: &[1, 1, 1, 2],
            y: &[1.0, 3.0],
        },
        Case {
            name: "downsample_sizes_nearest_not_smaller",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![2, 3]), aspect: AspectPolicy::NotSmaller, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 3]),
            y_shape: &[1, 1, 2, 3],
            y: &[1.0, 2.0, 4.0, 5.0, 6.0, 8.0],
        },
        Case {
            name: "tf_crop_and_resize",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::TfCropAndResize, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: Some(&[0.0, 0.0, 0.4000000059604645, 0.6000000238418579, 1.0, 1.0, 0.6000000238418579, 0.800000011920929]),
            scales: None,
            sizes: Some(&[1, 1, 3, 3]),
            y_shape: &[1, 1, 3, 3],
            y: &[7.600000381469727, 7.900000095367432, 8.199999809265137, 8.800000190734863, 9.100000381469727, 9.40000057220459, 10.0, 10.300000190734863, 10.600000381469727],
        },
        Case {
            name: "tf_crop_and_resize_axes_2_3",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::TfCropAndResize, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![2, 3]), aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: Some(&[0.4000000059604645, 0.6000000238418579, 0.6000000238418579, 0.800000011920929]),
            scales: None,
            sizes: Some(&[3, 3]),
            y_shape: &[1, 1, 3, 3],
            y: &[7.600000381469727, 7.900000095367432, 8.199999809265137, 8.800000190734863, 9.100000381469727, 9.40000057220459, 10.0, 10.300000190734863, 10.600000381469727],
        },
        Case {
            name: "tf_crop_and_resize_axes_3_2",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::TfCropAndResize, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![3, 2]), aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: Some(&[0.6000000238418579, 0.4000000059604645, 0.800000011920929, 0.6000000238418579]),
            scales: None,
            sizes: Some(&[3, 3]),
            y_shape: &[1, 1, 3, 3],
            y: &[7.600000381469727, 7.900000095367432, 8.199999809265137, 8.800000190734863, 9.100000381469727, 9.40000057220459, 10.0, 10.300000190734863, 10.600000381469727],
        },
        Case {
            name: "tf_crop_and_resize_extrapolation_value",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::TfCropAndResize, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 10.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: Some(&[0.0, 0.0, 0.4000000059604645, 0.6000000238418579, 1.0, 1.0, 1.2000000476837158, 1.7000000476837158]),
            scales: None,
            sizes: Some(&[1, 1, 3, 3]),
            y_shape: &[1, 1, 3, 3],
            y: &[7.600000381469727, 10.0, 10.0, 12.40000057220459, 10.0, 10.0, 10.0, 10.0, 10.0],
        },
        Case {
            name: "upsample_scales_cubic",
            attrs: Resize { mode: ResizeMode::Cubic, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 2.0, 2.0]),
            sizes: None,
            y_shape: &[1, 1, 8, 8],
            y: &[0.47265625, 0.76953125, 1.24609375, 1.875, 2.28125, 2.91015625, 3.38671875, 3.68359375, 1.66015625, 1.95703125, 2.43359375, 3.0625, 3.46875, 4.09765625, 4.57421875, 4.87109375, 3.56640625, 3.86328125, 4.33984375, 4.96875, 5.375, 6.00390625, 6.48046875, 6.77734375, 6.08203125, 6.37890625, 6.85546875, 7.484375, 7.890625, 8.51953125, 8.99609375, 9.29296875, 7.70703125, 8.00390625, 8.48046875, 9.109375, 9.515625, 10.14453125, 10.62109375, 10.91796875, 10.22265625, 10.51953125, 10.99609375, 11.625, 12.03125, 12.66015625, 13.13671875, 13.43359375, 12.12890625, 12.42578125, 12.90234375, 13.53125, 13.9375, 14.56640625, 15.04296875, 15.33984375, 13.31640625, 13.61328125, 14.08984375, 14.71875, 15.125, 15.75390625, 16.23046875, 16.52734375],
        },
        Case {
            name: "upsample_scales_cubic_A_n0p5_exclude_outside",
            attrs: Resize { mode: ResizeMode::Cubic, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.5, exclude_outside: true },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 2.0, 2.0]),
            sizes: None,
            y_shape: &[1, 1, 8, 8],
            y: &[0.5588235259056091, 0.8149420619010925, 1.3569824695587158, 1.8970588445663452, 2.3970587253570557, 2.9371352195739746, 3.479175567626953, 3.7352941036224365, 1.583297610282898, 1.8394160270690918, 2.3814566135406494, 2.9215328693389893, 3.4215328693389893, 3.961609125137329, 4.503649711608887, 4.759768009185791, 3.7514593601226807, 4.007577896118164, 4.549618244171143, 5.089694499969482, 5.589694499969482, 6.129770755767822, 6.671811580657959, 6.927929878234863, 5.911764621734619, 6.167883396148682, 6.70992374420166, 7.25, 7.75, 8.29007625579834, 8.832117080688477, 9.088234901428223, 7.911764621734619, 8.167882919311523, 8.70992374420166, 9.25, 9.75, 10.29007625579834, 10.832117080688477, 11.088234901428223, 10.072070121765137, 10.3281888961792, 10.87022876739502, 11.41030502319336, 11.91030502319336, 12.4503812789917, 12.992422103881836, 13.248540878295898, 12.24023151397705, 12.496350288391113, 13.03839111328125, 13.57846736907959, 14.07846736907959, 14.61854362487793, 15.16058349609375, 15.416702270507812, 13.264705657958984, 13.520824432373047, 14.062865257263184, 14.602941513061523, 15.102941513061523, 15.643017768859863, 16.18505859375, 16.441177368164062],
        },
        Case {
            name: "upsample_scales_cubic_align_corners",
            attrs: Resize { mode: ResizeMode::Cubic, coord: CoordTransform::AlignCorners, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 2.0, 2.0]),
            sizes: None,
            y_shape: &[1, 1, 8, 8],
            y: &[1.0, 1.3411078453063965, 1.8002915382385254, 2.3294460773468018, 2.6705539226531982, 3.1997084617614746, 3.6588921546936035, 4.0, 2.364431381225586, 2.7055394649505615, 3.1647229194641113, 3.6938774585723877, 4.034985542297363, 4.5641398429870605, 5.0233235359191895, 5.364431381225586, 4.201166152954102, 4.542273998260498, 5.001457691192627, 5.530612468719482, 5.871720314025879, 6.400874614715576, 6.860058307647705, 7.201166152954102, 6.317784309387207, 6.6588921546936035, 7.118075847625732, 7.64723014831543, 7.988337993621826, 8.517492294311523, 8.976675987243652, 9.317784309387207, 7.682215690612793, 8.023324012756348, 8.482507705688477, 9.011661529541016, 9.35276985168457, 9.881924629211426, 10.341108322143555, 10.682215690612793, 9.798833847045898, 10.139941215515137, 10.599124908447266, 11.128279685974121, 11.469388008117676, 11.998541831970215, 12.457725524902344, 12.798833847045898, 11.635568618774414, 11.976675987243652, 12.435859680175781, 12.965014457702637, 13.306122779846191, 13.83527660369873, 14.29446029663086, 14.635568618774414, 13.0, 13.341108322143555, 13.800292015075684, 14.329445838928223, 14.670554161071777, 15.199707984924316, 15.658891677856445, 16.0],
        },
        Case {
            name: "upsample_scales_cubic_asymmetric",
            attrs: Resize { mode: ResizeMode::Cubic, coord: CoordTransform::Asymmetric, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 2.0, 2.0]),
            sizes: None,
            y_shape: &[1, 1, 8, 8],
            y: &[1.0, 1.40625, 2.0, 2.5, 3.0, 3.59375, 4.0, 4.09375, 2.625, 3.03125, 3.625, 4.125, 4.625, 5.21875, 5.625, 5.71875, 5.0, 5.40625, 6.0, 6.5, 7.0, 7.59375, 8.0, 8.09375, 7.0, 7.40625, 8.0, 8.5, 9.0, 9.59375, 10.0, 10.09375, 9.0, 9.40625, 10.0, 10.5, 11.0, 11.59375, 12.0, 12.09375, 11.375, 11.78125, 12.375, 12.875, 13.375, 13.96875, 14.375, 14.46875, 13.0, 13.40625, 14.0, 14.5, 15.0, 15.59375, 16.0, 16.09375, 13.375, 13.78125, 14.375, 14.875, 15.375, 15.96875, 16.375, 16.46875],
        },
        Case {
            name: "upsample_scales_linear",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 2],
            x: &[1.0, 2.0, 3.0, 4.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 2.0, 2.0]),
            sizes: None,
            y_shape: &[1, 1, 4, 4],
            y: &[1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0],
        },
        Case {
            name: "upsample_scales_linear_align_corners",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::AlignCorners, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 2],
            x: &[1.0, 2.0, 3.0, 4.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 2.0, 2.0]),
            sizes: None,
            y_shape: &[1, 1, 4, 4],
            y: &[1.0, 1.3333333730697632, 1.6666666269302368, 2.0, 1.6666666269302368, 2.0, 2.3333332538604736, 2.6666667461395264, 2.3333332538604736, 2.6666667461395264, 3.0, 3.3333332538604736, 3.0, 3.3333332538604736, 3.6666667461395264, 4.0],
        },
        Case {
            name: "upsample_scales_linear_half_pixel_symmetric",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::HalfPixelSymmetric, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 2],
            x: &[1.0, 2.0, 3.0, 4.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 2.299999952316284, 2.940000057220459]),
            sizes: None,
            y_shape: &[1, 1, 4, 5],
            y: &[1.0, 1.1598639488220215, 1.5, 1.8401360511779785, 2.0, 1.56521737575531, 1.7250813245773315, 2.0652174949645996, 2.405353546142578, 2.5652174949645996, 2.4347825050354004, 2.594646453857422, 2.9347825050354004, 3.274918556213379, 3.4347825050354004, 3.0, 3.1598639488220215, 3.5, 3.8401360511779785, 4.0],
        },
        Case {
            name: "upsample_scales_nearest",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 2],
            x: &[1.0, 2.0, 3.0, 4.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 2.0, 3.0]),
            sizes: None,
            y_shape: &[1, 1, 4, 6],
            y: &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0],
        },
        Case {
            name: "upsample_scales_nearest_axes_2_3",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![2, 3]), aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 2],
            x: &[1.0, 2.0, 3.0, 4.0],
            roi: None,
            scales: Some(&[2.0, 3.0]),
            sizes: None,
            y_shape: &[1, 1, 4, 6],
            y: &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0],
        },
        Case {
            name: "upsample_scales_nearest_axes_3_2",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![3, 2]), aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 2],
            x: &[1.0, 2.0, 3.0, 4.0],
            roi: None,
            scales: Some(&[3.0, 2.0]),
            sizes: None,
            y_shape: &[1, 1, 4, 6],
            y: &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0],
        },
        Case {
            name: "upsample_sizes_cubic",
            attrs: Resize { mode: ResizeMode::Cubic, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 1, 9, 10]),
            y_shape: &[1, 1, 9, 10],
            y: &[0.45507922768592834, 0.6405792236328125, 0.9715791940689087, 1.4225791692733765, 1.9073292016983032, 2.2233293056488037, 2.7080790996551514, 3.1590793132781982, 3.490079164505005, 3.675579309463501, 1.3943796157836914, 1.579879641532898, 1.9108796119689941, 2.361879587173462, 2.8466296195983887, 3.1626296043395996, 3.6473796367645264, 4.098379611968994, 4.429379463195801, 4.614879608154297, 2.9513068199157715, 3.1368069648742676, 3.467806816101074, 3.918807029724121, 4.403556823730469, 4.71955680847168, 5.2043070793151855, 5.655306816101074, 5.986307144165039, 6.171806812286377, 5.2052507400512695, 5.390750885009766, 5.721750736236572, 6.172750473022461, 6.657500743865967, 6.973500728607178, 7.458250522613525, 7.909250736236572, 8.240250587463379, 8.425750732421875, 6.889750003814697, 7.075250148773193, 7.40625, 7.857250213623047, 8.342000007629395, 8.657999992370605, 9.142749786376953, 9.59375, 9.924750328063965, 10.110250473022461, 8.574249267578125, 8.759749412536621, 9.090749740600586, 9.541749000549316, 10.02649974822998, 10.342499732971191, 10.827249526977539, 11.278249740600586, 11.609249114990234, 11.79474925994873, 10.828192710876465, 11.013692855834961, 11.344693183898926, 11.795693397521973, 12.28044319152832, 12.596443176269531, 13.081192970275879, 13.532193183898926, 13.86319351196289, 14.04869270324707, 12.385120391845703, 12.5706205368042, 12.901619911193848, 13.352620124816895, 13.837369918823242, 14.153369903564453, 14.638120651245117, 15.089119911193848, 15.420120239257812, 15.605620384216309, 13.324420928955078, 13.509921073913574, 13.840920448303223, 14.29192066192627, 14.776670455932617, 15.092670440673828, 15.577421188354492, 16.02842140197754, 16.359420776367188, 16.544919967651367],
        },
        Case {
            name: "upsample_sizes_nearest",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 2],
            x: &[1.0, 2.0, 3.0, 4.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 1, 7, 8]),
            y_shape: &[1, 1, 7, 8],
            y: &[1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0],
        },
        Case {
            name: "upsample_sizes_nearest_axes_2_3",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![2, 3]), aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 2],
            x: &[1.0, 2.0, 3.0, 4.0],
            roi: None,
            scales: None,
            sizes: Some(&[7, 8]),
            y_shape: &[1, 1, 7, 8],
            y: &[1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0],
        },
        Case {
            name: "upsample_sizes_nearest_axes_3_2",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![3, 2]), aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 2],
            x: &[1.0, 2.0, 3.0, 4.0],
            roi: None,
            scales: None,
            sizes: Some(&[8, 7]),
            y_shape: &[1, 1, 7, 8],
            y: &[1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0],
        },
        Case {
            name: "upsample_sizes_nearest_ceil_half_pixel",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::Ceil, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 1, 8, 8]),
            y_shape: &[1, 1, 8, 8],
            y: &[1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 4.0, 5.0, 6.0, 6.0, 7.0, 7.0, 8.0, 8.0, 8.0, 5.0, 6.0, 6.0, 7.0, 7.0, 8.0, 8.0, 8.0, 9.0, 10.0, 10.0, 11.0, 11.0, 12.0, 12.0, 12.0, 9.0, 10.0, 10.0, 11.0, 11.0, 12.0, 12.0, 12.0, 13.0, 14.0, 14.0, 15.0, 15.0, 16.0, 16.0, 16.0, 13.0, 14.0, 14.0, 15.0, 15.0, 16.0, 16.0, 16.0, 13.0, 14.0, 14.0, 15.0, 15.0, 16.0, 16.0, 16.0],
        },
        Case {
            name: "upsample_sizes_nearest_floor_align_corners",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::AlignCorners, nearest: NearestMode::Floor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 1, 8, 8]),
            y_shape: &[1, 1, 8, 8],
            y: &[1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 5.0, 5.0, 5.0, 6.0, 6.0, 7.0, 7.0, 8.0, 5.0, 5.0, 5.0, 6.0, 6.0, 7.0, 7.0, 8.0, 9.0, 9.0, 9.0, 10.0, 10.0, 11.0, 11.0, 12.0, 9.0, 9.0, 9.0, 10.0, 10.0, 11.0, 11.0, 12.0, 13.0, 13.0, 13.0, 14.0, 14.0, 15.0, 15.0, 16.0],
        },
        Case {
            name: "upsample_sizes_nearest_not_larger",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![2, 3]), aspect: AspectPolicy::NotLarger, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 2],
            x: &[1.0, 2.0, 3.0, 4.0],
            roi: None,
            scales: None,
            sizes: Some(&[7, 8]),
            y_shape: &[1, 1, 7, 7],
            y: &[1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0],
        },
        Case {
            name: "upsample_sizes_nearest_not_smaller",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![2, 3]), aspect: AspectPolicy::NotSmaller, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 2, 2],
            x: &[1.0, 2.0, 3.0, 4.0],
            roi: None,
            scales: None,
            sizes: Some(&[7, 8]),
            y_shape: &[1, 1, 8, 8],
            y: &[1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0],
        },
        Case {
            name: "upsample_sizes_nearest_round_prefer_ceil_asymmetric",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::Asymmetric, nearest: NearestMode::RoundPreferCeil, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 4, 4],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 1, 8, 8]),
            y_shape: &[1, 1, 8, 8],
            y: &[1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 4.0, 5.0, 6.0, 6.0, 7.0, 7.0, 8.0, 8.0, 8.0, 5.0, 6.0, 6.0, 7.0, 7.0, 8.0, 8.0, 8.0, 9.0, 10.0, 10.0, 11.0, 11.0, 12.0, 12.0, 12.0, 9.0, 10.0, 10.0, 11.0, 11.0, 12.0, 12.0, 12.0, 13.0, 14.0, 14.0, 15.0, 15.0, 16.0, 16.0, 16.0, 13.0, 14.0, 14.0, 15.0, 15.0, 16.0, 16.0, 16.0, 13.0, 14.0, 14.0, 15.0, 15.0, 16.0, 16.0, 16.0],
        },
        // onnxruntime agrees: True
        Case {
            name: "nhwc_linear_axes_1_2",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![1, 2]), aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 3, 4, 2],
            x: &[4.0, 1.0, 1.5, 3.5, 0.5, 2.5, 3.0, -2.5, -4.0, -1.5, -2.0, 3.0, 3.5, -4.0, 0.0, 2.5, -3.0, 2.5, -3.0, -0.5, 2.5, -1.5, -1.5, -2.0],
            roi: None,
            scales: Some(&[2.0, 1.5]),
            sizes: None,
            y_shape: &[1, 6, 6, 2],
            y: &[4.0, 1.0, 2.75, 2.25, 1.3333333730697632, 3.3333332538604736, 0.6666666865348816, 2.6666667461395264, 1.75, 0.0, 3.0, -2.5, 2.0, 0.375, 1.3125, 1.875, 0.7291666865348816, 2.9583332538604736, 1.1458333730697632, 1.2916666269302368, 1.75, -0.1875, 2.25, -1.25, -2.0, -0.875, -1.5625, 1.125, -0.4791666567325592, 2.2083332538604736, 2.1041667461395264, -1.4583333730697632, 1.75, -0.5625, 0.75, 1.25, -3.75, -0.5, -3.0, 0.8125, -1.3333333730697632, 1.2083333730697632, 2.3333332538604736, -2.4583332538604736, 1.4375, -1.0, -0.375, 1.375, -3.25, 1.5, -3.0, 0.9375, -1.8333333730697632, -0.0416666679084301, 1.8333333730697632, -1.7083333730697632, 0.8125, -1.5, -1.125, -0.875, -3.0, 2.5, -3.0, 1.0, -2.0833332538604736, -0.6666666865348816, 1.5833333730697632, -1.3333333730697632, 0.5, -1.75, -1.5, -2.0],
        },
        // onnxruntime agrees: True
        Case {
            name: "linear_3d_all_axes",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[3, 4, 5],
            x: &[4.0, -4.0, 8.0, -1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 8.0, 5.0, 5.0, 3.0, 2.0, -3.0, 8.0, -1.0, -5.0, 6.0, -6.0, 6.0, 2.0, -7.0, -8.0, -1.0, -8.0, -6.0, 0.0, 8.0, -1.0, 5.0, 7.0, 5.0, 2.0, -1.0, 0.0, -4.0, 0.0, -2.0, -4.0, 8.0, -8.0, -7.0, -5.0, 8.0, 3.0, 6.0, -5.0, 4.0, -2.0, 0.0, -8.0, 2.0, 6.0, 3.0, -6.0, 1.0, -4.0, 8.0, 6.0],
            roi: None,
            scales: None,
            sizes: Some(&[2, 6, 3]),
            y_shape: &[2, 6, 3],
            y: &[2.1666667461395264, 4.25, -1.0833333730697632, 0.2916666567325592, 2.5, 1.7083333730697632, -0.4583333432674408, 1.2083333730697632, 3.5833332538604736, 4.041666507720947, 3.0416667461395264, -0.0833333358168602, 4.291666507720947, -0.125, -1.6666666269302368, 3.4166667461395264, -3.75, -2.3333332538604736, 3.1666667461395264, -7.0, 1.9166666269302368, 2.1666667461395264, -5.375, 1.2083333730697632, 0.875, -2.6666667461395264, 0.9166666865348816, -0.2916666567325592, 1.6666666269302368, 2.5833332538604736, -1.8333333730697632, -0.125, 3.5833332538604736, -3.0833332538604736, -3.0, 4.166666507720947],
        },
        // onnxruntime agrees: True
        Case {
            name: "linear_asymmetric",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::Asymmetric, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 3, 3],
            x: &[-5.0, 0.0, 7.0, 6.0, 4.0, 2.0, -8.0, 4.0, 0.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 1.7000000476837158, 2.5]),
            sizes: None,
            y_shape: &[1, 1, 5, 7],
            y: &[-5.0, -3.0, -1.0, 1.399999976158142, 4.199999809265137, 7.0, 7.0, 1.4705880880355835, 1.8235292434692383, 2.1764705181121826, 2.694117546081543, 3.3764705657958984, 4.058823585510254, 4.058823585510254, 3.529412269592285, 3.7176473140716553, 3.9058823585510254, 3.529411792755127, 2.588235378265381, 1.6470588445663452, 1.6470588445663452, -4.705881595611572, -1.2235289812088013, 2.2588236331939697, 3.2941176891326904, 1.8823529481887817, 0.4705883264541626, 0.4705883264541626, -8.0, -3.200000047683716, 1.600000023841858, 3.200000047683716, 1.600000023841858, 0.0, 0.0],
        },
        // onnxruntime agrees: True
        Case {
            name: "linear_pytorch_out1",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::PytorchHalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[2, 5, 4],
            x: &[-7.0, -4.0, 1.0, 4.0, 0.0, 2.0, 6.0, 3.0, -2.0, 2.0, 2.0, -7.0, -7.0, 3.0, -2.0, 2.0, -3.0, -5.0, -6.0, -2.0, 5.0, -2.0, -2.0, 1.0, 8.0, -2.0, 2.0, -1.0, 2.0, -1.0, 2.0, 1.0, 3.0, 8.0, -6.0, 1.0, -1.0, -2.0, -4.0, -8.0],
            roi: None,
            scales: None,
            sizes: Some(&[2, 1, 7]),
            y_shape: &[2, 1, 7],
            y: &[-7.0, -5.9285712242126465, -4.214285850524902, -1.5, 1.2142857313156128, 2.9285714626312256, 4.0, 5.0, 2.5, -1.5, -2.0, -1.7857142686843872, -0.0714285746216774, 1.0],
        },
        // onnxruntime agrees: True
        Case {
            name: "nearest_round_prefer_floor_up",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 7],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 12]),
            y_shape: &[1, 12],
            y: &[1.0, 1.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 7.0, 7.0],
        },
        // onnxruntime agrees: True
        Case {
            name: "nearest_round_prefer_floor_down",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::Asymmetric, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 7],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            roi: None,
            scales: Some(&[1.0, 0.6000000238418579]),
            sizes: None,
            y_shape: &[1, 4],
            y: &[1.0, 3.0, 4.0, 6.0],
        },
        // onnxruntime agrees: True
        Case {
            name: "nearest_round_prefer_ceil_up",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferCeil, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 7],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 12]),
            y_shape: &[1, 12],
            y: &[1.0, 1.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 7.0, 7.0],
        },
        // onnxruntime agrees: True
        Case {
            name: "nearest_round_prefer_ceil_down",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::Asymmetric, nearest: NearestMode::RoundPreferCeil, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 7],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            roi: None,
            scales: Some(&[1.0, 0.6000000238418579]),
            sizes: None,
            y_shape: &[1, 4],
            y: &[1.0, 3.0, 4.0, 6.0],
        },
        // onnxruntime agrees: True
        Case {
            name: "nearest_floor_up",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::Floor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 7],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 12]),
            y_shape: &[1, 12],
            y: &[1.0, 1.0, 1.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 6.0, 6.0, 7.0],
        },
        // onnxruntime agrees: False
        Case {
            name: "nearest_floor_down",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::Asymmetric, nearest: NearestMode::Floor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 7],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            roi: None,
            scales: Some(&[1.0, 0.6000000238418579]),
            sizes: None,
            y_shape: &[1, 4],
            y: &[1.0, 2.0, 4.0, 5.0],
        },
        // onnxruntime agrees: True
        Case {
            name: "nearest_ceil_up",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::HalfPixel, nearest: NearestMode::Ceil, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 7],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 12]),
            y_shape: &[1, 12],
            y: &[1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 7.0, 7.0, 7.0],
        },
        // onnxruntime agrees: True
        Case {
            name: "nearest_ceil_down",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::Asymmetric, nearest: NearestMode::Ceil, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 7],
            x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            roi: None,
            scales: Some(&[1.0, 0.6000000238418579]),
            sizes: None,
            y_shape: &[1, 4],
            y: &[1.0, 3.0, 5.0, 6.0],
        },
        // onnxruntime agrees: False
        Case {
            name: "tf_crop_nearest_extrapolate",
            attrs: Resize { mode: ResizeMode::Nearest, coord: CoordTransform::TfCropAndResize, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![1, 2]), aspect: AspectPolicy::Stretch, extrapolation_value: -9.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 4, 5, 1],
            x: &[-2.0, 6.0, -7.0, -2.0, 8.0, 8.0, -5.0, -8.0, 3.0, -8.0, -3.0, 0.0, 6.0, -7.0, 3.0, 1.0, -6.0, 6.0, 6.0, 0.0],
            roi: Some(&[-0.20000000298023224, 0.10000000149011612, 0.8999999761581421, 1.2999999523162842]),
            scales: None,
            sizes: Some(&[4, 6]),
            y_shape: &[1, 4, 6, 1],
            y: &[-9.0, -9.0, -9.0, -9.0, -9.0, -9.0, -2.0, 6.0, -7.0, -2.0, -9.0, -9.0, -3.0, 0.0, 6.0, -7.0, -9.0, -9.0, 1.0, -6.0, 6.0, 6.0, -9.0, -9.0],
        },
        // onnxruntime agrees: True
        Case {
            name: "tf_crop_linear_extrapolate",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::TfCropAndResize, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![1, 2]), aspect: AspectPolicy::Stretch, extrapolation_value: 3.5, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 4, 5, 1],
            x: &[-2.0, 6.0, -7.0, -2.0, 8.0, 8.0, -5.0, -8.0, 3.0, -8.0, -3.0, 0.0, 6.0, -7.0, 3.0, 1.0, -6.0, 6.0, 6.0, 0.0],
            roi: Some(&[-0.30000001192092896, 0.20000000298023224, 1.2000000476837158, 1.100000023841858]),
            scales: None,
            sizes: Some(&[5, 4]),
            y_shape: &[1, 5, 4, 1],
            y: &[3.5, 3.5, 3.5, 3.5, 2.8700003623962402, -7.22499942779541, 0.18000054359436035, 3.5, -1.7700001001358032, -3.1000003814697266, -1.2300001382827759, 3.5, -2.499999761581421, 5.999999523162842, -0.34500008821487427, 3.5, 3.5, 3.5, 3.5, 3.5],
        },
        // onnxruntime agrees: True
        Case {
            name: "linear_antialias_0p3",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: true, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 7, 9],
            x: &[8.0, 2.0, 7.0, 8.0, 1.0, -4.0, -6.0, 1.0, -5.0, 4.0, 7.0, -4.0, 1.0, -8.0, -5.0, -2.0, 7.0, 8.0, 2.0, 1.0, 1.0, -7.0, -2.0, 8.0, -2.0, -5.0, -4.0, 4.0, -8.0, 8.0, 6.0, 1.0, -1.0, 4.0, 1.0, 0.0, -3.0, -1.0, 4.0, -8.0, -8.0, 4.0, -2.0, 5.0, -8.0, 7.0, -6.0, -1.0, 8.0, -7.0, 3.0, 4.0, -1.0, -7.0, 0.0, -1.0, 6.0, 3.0, -3.0, -8.0, 2.0, -4.0, 3.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 0.30000001192092896, 0.44999998807907104]),
            sizes: None,
            y_shape: &[1, 1, 2, 4],
            y: &[3.118215799331665, 0.9724969267845154, -1.443496823310852, -0.08734729140996933, 0.22141870856285095, 0.2858356237411499, -0.5119876861572266, -1.1745871305465698],
        },
        // onnxruntime agrees: True
        Case {
            name: "cubic_antialias_sizes_exclude",
            attrs: Resize { mode: ResizeMode::Cubic, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: true, cubic_coeff_a: -0.75, exclude_outside: true },
            x_shape: &[1, 1, 7, 9],
            x: &[8.0, 2.0, 7.0, 8.0, 1.0, -4.0, -6.0, 1.0, -5.0, 4.0, 7.0, -4.0, 1.0, -8.0, -5.0, -2.0, 7.0, 8.0, 2.0, 1.0, 1.0, -7.0, -2.0, 8.0, -2.0, -5.0, -4.0, 4.0, -8.0, 8.0, 6.0, 1.0, -1.0, 4.0, 1.0, 0.0, -3.0, -1.0, 4.0, -8.0, -8.0, 4.0, -2.0, 5.0, -8.0, 7.0, -6.0, -1.0, 8.0, -7.0, 3.0, 4.0, -1.0, -7.0, 0.0, -1.0, 6.0, 3.0, -3.0, -8.0, 2.0, -4.0, 3.0],
            roi: None,
            scales: None,
            sizes: Some(&[1, 1, 3, 4]),
            y_shape: &[1, 1, 3, 4],
            y: &[4.3621344566345215, 0.635528028011322, -2.8225975036621094, 0.7893760204315186, 0.16241417825222015, -0.6341291069984436, 0.9437288045883179, -0.6680999398231506, 0.21725039184093475, 0.26597076654434204, -1.2822920083999634, -1.0013619661331177],
        },
        // onnxruntime agrees: True
        Case {
            name: "linear_half_pixel_symmetric_down",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::HalfPixelSymmetric, nearest: NearestMode::RoundPreferFloor, axes: None, aspect: AspectPolicy::Stretch, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 1, 7, 9],
            x: &[8.0, 2.0, 7.0, 8.0, 1.0, -4.0, -6.0, 1.0, -5.0, 4.0, 7.0, -4.0, 1.0, -8.0, -5.0, -2.0, 7.0, 8.0, 2.0, 1.0, 1.0, -7.0, -2.0, 8.0, -2.0, -5.0, -4.0, 4.0, -8.0, 8.0, 6.0, 1.0, -1.0, 4.0, 1.0, 0.0, -3.0, -1.0, 4.0, -8.0, -8.0, 4.0, -2.0, 5.0, -8.0, 7.0, -6.0, -1.0, 8.0, -7.0, 3.0, 4.0, -1.0, -7.0, 0.0, -1.0, 6.0, 3.0, -3.0, -8.0, 2.0, -4.0, 3.0],
            roi: None,
            scales: Some(&[1.0, 1.0, 0.6000000238418579, 0.699999988079071]),
            sizes: None,
            y_shape: &[1, 1, 4, 6],
            y: &[5.357142925262451, 1.9285706281661987, 2.214285135269165, -4.214285850524902, -2.857142210006714, 2.571429491043091, 1.11904776096344, 1.7857143878936768, -3.8809521198272705, 4.214285850524902, -1.428571343421936, -3.6190474033355713, -1.976190447807312, 3.6904759407043457, -5.90476131439209, 0.40476199984550476, -0.23809489607810974, -1.9523814916610718, 0.5000005960464478, 1.642856240272522, 2.500000476837158, -3.214285135269165, 2.2142856121063232, -2.2142860889434814],
        },
        // onnxruntime agrees: True
        Case {
            name: "linear_not_smaller_nhwc",
            attrs: Resize { mode: ResizeMode::Linear, coord: CoordTransform::HalfPixel, nearest: NearestMode::RoundPreferFloor, axes: Some(vec![1, 2]), aspect: AspectPolicy::NotSmaller, extrapolation_value: 0.0, antialias: false, cubic_coeff_a: -0.75, exclude_outside: false },
            x_shape: &[1, 2, 3, 2],
            x: &[6.0, -2.0, 7.0, 0.0, 1.0, 5.0, 5.0, 7.0, 8.0, -6.0, -1.0, 7.0],
            roi: None,
            scales: None,
            sizes: Some(&[5, 4]),
            y_shape: &[1, 5, 8, 2],
            y: &[6.0, -2.0, 6.099999904632568, -1.7999999523162842, 6.5, -1.0, 6.900000095367432, -0.20000000298023224, 5.199999809265137, 1.5, 2.799999952316284, 3.5, 1.0, 5.0, 1.0, 5.0, 5.900000095367432, -1.100000023841858, 6.019999980926514, -1.0499999523162842, 6.5, -0.8500000238418579, 6.980000019073486, -0.6499999761581421, 5.210000038146973, 1.1399999856948853, 2.690000057220459, 3.4600000381469727, 0.800000011920929, 5.199999809265137, 0.800000011920929, 5.199999809265137, 5.5, 2.5, 5.699999809265137, 1.9500000476837158, 6.5, -0.25, 7.300000190734863, -2.450000047683716, 5.25, -0.30000001192092896, 2.25, 3.299999952316284, 0.0, 6.0, 0.0, 6.0, 5.099999904632568, 6.099999904632568, 5.380000114440918, 4.949999809265137, 6.5, 0.3499999940395355, 7.619999885559082, -4.25, 5.289999961853027, -1.7400000095367432, 1.809999942779541, 3.140000104904175, -0.800000011920929, 6.800000190734863, -0.800000011920929, 6.800000190734863, 5.0, 7.0, 5.300000190734863, 5.699999809265137, 6.5, 0.5, 7.699999809265137, -4.699999809265137, 5.300000190734863, -2.0999999046325684, 1.7000000476837158, 3.0999999046325684, -1.0, 7.0, -1.0, 7.0],
        },
        ]
    }
}
