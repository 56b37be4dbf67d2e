//! Element-wise operators: [`Op::Unary`](crate::ir::Op::Unary), [`Op::Binary`] with numpy
//! broadcasting, [`Op::Where`], [`Op::Cast`] and [`Op::Dequantize`].
//!
//! Compute is f32. The integer paths (`i64`, `i32`) exist for the shape math exporters leave
//! in graphs (`Shape -> Gather -> Mul -> Concat -> Reshape`), with C semantics: wrapping
//! arithmetic and division truncating toward zero, division by zero an error.
//!
//! The broadcast binary kernel walks its output with [`StridedRuns`], which merges axes so
//! the hot shapes hit dedicated loops: same shape (residual adds), a scalar operand, and a
//! per-channel operand repeated over rows (`[N, H, W, C] + [C]`, the per-channel affine of
//! an NHWC network). Everything else runs the general strided loop.

use std::sync::atomic::{AtomicBool, Ordering};

use bytemuck::{Pod, Zeroable};
use half::f16;

use super::util::{self, PAR_CHUNK, StridedRuns, cast_bytes, cast_bytes_mut};
use super::{Fact, OutFact};
use crate::error::{Error, Result};
use crate::ir::{Activation, Binary, DType, Dim, Op, OpKind, Unary};
use crate::kernel::{Kernel, KernelIo, KernelRegistry, NodeCtx, Parallel};

// ---------------------------------------------------------------------------------------
// Shape inference
// ---------------------------------------------------------------------------------------

/// Whether `u` is defined on elements of `dtype`.
fn unary_supports(u: Unary, dtype: DType) -> bool {
    match u {
        Unary::Not => dtype == DType::Bool,
        Unary::Neg | Unary::Abs => matches!(dtype, DType::F32 | DType::I64 | DType::I32),
        _ => dtype == DType::F32,
    }
}

fn unary_domain(u: Unary) -> &'static str {
    match u {
        Unary::Not => "bool",
        Unary::Neg | Unary::Abs => "f32, i64 and i32",
        _ => "f32",
    }
}

pub(super) fn infer_unary(u: Unary, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "x")?;
    if !unary_supports(u, x.dtype) {
        return Err(format!("{} is defined on {} tensors, not {}", u.name(), unary_domain(u), x.dtype));
    }
    Ok(vec![OutFact { dtype: x.dtype, shape: x.shape.map(<[Dim]>::to_vec) }])
}

/// Integer types of the binary operators: i64 and i32, for shape math. (8-bit types are
/// reserved for quantized data; arithmetic on them is deliberately not offered.)
const INT_BINARY: [DType; 2] = [DType::I64, DType::I32];

/// Whether `b` is defined on operands of `dtype`.
fn binary_supports(b: Binary, dtype: DType) -> bool {
    use Binary::*;
    match b {
        Add | Sub | Mul | Div | Max | Min | Less | Greater => dtype == DType::F32 || INT_BINARY.contains(&dtype),
        Pow | PRelu => dtype == DType::F32,
        Equal => matches!(dtype, DType::F32 | DType::Bool) || INT_BINARY.contains(&dtype),
        And | Or => dtype == DType::Bool,
    }
}

fn binary_domain(b: Binary) -> &'static str {
    use Binary::*;
    match b {
        Add | Sub | Mul | Div | Max | Min | Less | Greater => "f32, i64 and i32",
        Pow | PRelu => "f32",
        Equal => "f32, i64, i32 and bool",
        And | Or => "bool",
    }
}

/// Element type of the result of `b` on operands of `dtype`.
fn binary_output(b: Binary, dtype: DType) -> DType {
    match b {
        Binary::Equal | Binary::Less | Binary::Greater | Binary::And | Binary::Or => DType::Bool,
        _ => dtype,
    }
}

/// Broadcast shape of several facts (`None` if any rank is unknown).
fn broadcast_facts(facts: &[&Fact<'_>]) -> Result<Option<Vec<Dim>>, String> {
    let mut out: Option<Vec<Dim>> = None;
    for f in facts {
        let Some(s) = f.shape else { return Ok(None) };
        out = Some(match out {
            None => s.to_vec(),
            Some(o) => util::broadcast_dims(&o, s)?,
        });
    }
    Ok(out)
}

pub(super) fn infer_binary(b: Binary, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "a")?;
    let y = util::fact(inputs, 1, "b")?;
    if x.dtype != y.dtype {
        return Err(format!("{b:?} operands have different types: {} and {}", x.dtype, y.dtype));
    }
    if !binary_supports(b, x.dtype) {
        return Err(format!("{b:?} is defined on {} tensors, not {}", binary_domain(b), x.dtype));
    }
    let shape = broadcast_facts(&[x, y])?;
    let dtype = binary_output(b, x.dtype);
    if let Some(s) = &shape {
        util::check_size(s, dtype.size())?;
    }
    Ok(vec![OutFact { dtype, shape }])
}

pub(super) fn infer_where(inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let c = util::fact(inputs, 0, "condition")?;
    let x = util::fact(inputs, 1, "a")?;
    let y = util::fact(inputs, 2, "b")?;
    if c.dtype != DType::Bool {
        return Err(format!("the condition must be a bool tensor, got {}", c.dtype));
    }
    if x.dtype != y.dtype {
        return Err(format!("Where operands have different types: {} and {}", x.dtype, y.dtype));
    }
    let shape = broadcast_facts(&[c, x, y])?;
    Ok(vec![OutFact { dtype: x.dtype, shape }])
}

pub(super) fn infer_cast(to: DType, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "x")?;
    Ok(vec![OutFact { dtype: to, shape: x.shape.map(<[Dim]>::to_vec) }])
}

pub(super) fn infer_dequantize(inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let x = util::fact(inputs, 0, "x")?;
    if x.dtype != DType::F16 {
        return Err(format!("Dequantize supports f16 input only, got {}", x.dtype));
    }
    Ok(vec![OutFact { dtype: DType::F32, shape: x.shape.map(<[Dim]>::to_vec) }])
}

// ---------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------

pub(super) fn register(r: &mut KernelRegistry) {
    util::register_ref(r, "f32-unary-reference", OpKind::Unary, |c| unary_applies(c, &[DType::F32]), build_unary);
    util::register_ref(r, "int-unary-reference", OpKind::Unary, |c| unary_applies(c, &[DType::I64, DType::I32]), build_unary);
    util::register_ref(r, "bool-unary-reference", OpKind::Unary, |c| unary_applies(c, &[DType::Bool]), build_unary);
    util::register_ref(r, "f32-binary-reference", OpKind::Binary, |c| binary_applies(c, &[DType::F32]), build_binary);
    util::register_ref(r, "int-binary-reference", OpKind::Binary, |c| binary_applies(c, &INT_BINARY), build_binary);
    util::register_ref(r, "bool-binary-reference", OpKind::Binary, |c| binary_applies(c, &[DType::Bool]), build_binary);
    util::register_ref(r, "any-where-reference", OpKind::Where, where_applies, build_where);
    util::register_ref(r, "any-cast-reference", OpKind::Cast, cast_applies, build_cast);
    util::register_ref(r, "f16-dequantize-reference", OpKind::Dequantize, dequantize_applies, build_dequantize);
}

fn input_dtype(ctx: &NodeCtx<'_>, i: usize) -> Option<DType> {
    ctx.inputs.get(i).copied().flatten().map(|(d, _)| d)
}

fn output_dtype(ctx: &NodeCtx<'_>, i: usize) -> Option<DType> {
    ctx.outputs.get(i).map(|(d, _)| *d)
}

fn unary_applies(ctx: &NodeCtx<'_>, family: &[DType]) -> bool {
    let Op::Unary(u) = ctx.node.op else { return false };
    match (input_dtype(ctx, 0), output_dtype(ctx, 0)) {
        (Some(i), Some(o)) => i == o && family.contains(&i) && unary_supports(u, i),
        _ => false,
    }
}

fn binary_applies(ctx: &NodeCtx<'_>, family: &[DType]) -> bool {
    let Op::Binary(b) = ctx.node.op else { return false };
    match (input_dtype(ctx, 0), input_dtype(ctx, 1), output_dtype(ctx, 0)) {
        (Some(x), Some(y), Some(o)) => x == y && family.contains(&x) && binary_supports(b, x) && o == binary_output(b, x),
        _ => false,
    }
}

fn where_applies(ctx: &NodeCtx<'_>) -> bool {
    match (input_dtype(ctx, 0), input_dtype(ctx, 1), input_dtype(ctx, 2), output_dtype(ctx, 0)) {
        (Some(DType::Bool), Some(x), Some(y), Some(o)) => x == y && x == o,
        _ => false,
    }
}

fn cast_applies(ctx: &NodeCtx<'_>) -> bool {
    let Op::Cast { to } = ctx.node.op else { return false };
    input_dtype(ctx, 0).is_some() && output_dtype(ctx, 0) == Some(to)
}

fn dequantize_applies(ctx: &NodeCtx<'_>) -> bool {
    input_dtype(ctx, 0) == Some(DType::F16) && output_dtype(ctx, 0) == Some(DType::F32)
}

/// Checks that a run-time tensor has the element count the kernel was built for.
fn expect_len(what: &str, got: usize, want: usize) -> Result<()> {
    if got != want {
        return Err(Error::Input(format!("{what} has {got} elements, the plan expects {want}")));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Unary
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct UnaryKernel {
    op: Unary,
    dtype: DType,
    numel: usize,
}

fn build_unary(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::Unary(op) = ctx.node.op else { return Err(ctx.err("not a unary node")) };
    let (dtype, shape) = ctx.inputs.first().copied().flatten().ok_or_else(|| ctx.err("input 0 is missing"))?;
    Ok(Box::new(UnaryKernel { op, dtype, numel: shape.iter().product() }))
}

/// `out[i] = f(x[i])`, split over threads.
fn map<T: Copy + Sync, U: Send>(x: &[T], out: &mut [U], par: &Parallel<'_>, f: impl Fn(T) -> U + Sync + Send) {
    par.for_each_chunk_mut(out, PAR_CHUNK, |ci, chunk| {
        let src = &x[ci * PAR_CHUNK..ci * PAR_CHUNK + chunk.len()];
        for (o, &v) in chunk.iter_mut().zip(src) {
            *o = f(v);
        }
    });
}

/// Applies an activation with the variant fixed at compile time in each arm, so the loop
/// body is the activation's arithmetic only.
fn map_activation(a: Activation, x: &[f32], out: &mut [f32], par: &Parallel<'_>) {
    match a {
        Activation::None => out.copy_from_slice(x),
        Activation::Relu => map(x, out, par, |v| Activation::Relu.apply(v)),
        Activation::Relu6 => map(x, out, par, |v| Activation::Relu6.apply(v)),
        Activation::Clip { min, max } => map(x, out, par, move |v| Activation::Clip { min, max }.apply(v)),
        Activation::LeakyRelu { alpha } => map(x, out, par, move |v| Activation::LeakyRelu { alpha }.apply(v)),
        Activation::Sigmoid => map(x, out, par, |v| Activation::Sigmoid.apply(v)),
        Activation::HardSigmoid { alpha, beta } => map(x, out, par, move |v| Activation::HardSigmoid { alpha, beta }.apply(v)),
        Activation::HardSwish => map(x, out, par, |v| Activation::HardSwish.apply(v)),
        Activation::Tanh => map(x, out, par, |v| Activation::Tanh.apply(v)),
    }
}

/// The error function. Rust's `f32::erf` is not stable; this evaluates in f64: a series
/// with positive terms for `|x| < 2` (no cancellation), a continued fraction for `erfc`
/// beyond, and `±1` past 6 (where `erfc < 3e-17`).
fn erf(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let ax = f64::from(x).abs();
    let r = if ax < 2.0 {
        // erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1 * 3 * ... * (2n+1))
        let x2 = ax * ax;
        let (mut term, mut sum) = (ax, ax);
        for n in 1..200 {
            term *= 2.0 * x2 / f64::from(2 * n + 1);
            sum += term;
            if term <= sum * 1e-17 {
                break;
            }
        }
        std::f64::consts::FRAC_2_SQRT_PI * (-x2).exp() * sum
    } else if ax < 6.0 {
        // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
        // evaluated with the modified Lentz method.
        let tiny = 1e-300;
        let mut f = ax;
        let (mut c, mut d) = (ax, 0.0f64);
        for n in 1..500 {
            let a = f64::from(n) * 0.5;
            d = ax + a * d;
            d = if d.abs() < tiny { 1.0 / tiny } else { 1.0 / d };
            c = ax + a / c;
            if c.abs() < tiny {
                c = tiny;
            }
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        1.0 - (-ax * ax).exp() / std::f64::consts::PI.sqrt() / f
    } else {
        1.0
    };
    r.copysign(f64::from(x)) as f32
}

/// Integer element types of the binary operators.
trait IntElem: Pod + Ord + Send + Sync {
    const ZERO: Self;
    fn wrapping_add(self, o: Self) -> Self;
    fn wrapping_sub(self, o: Self) -> Self;
    fn wrapping_mul(self, o: Self) -> Self;
    /// Truncating division; `None` when dividing by zero.
    fn trunc_div(self, o: Self) -> Option<Self>;
}

/// Signed integer element types of the unary operators.
trait SignedElem: Pod + Send + Sync {
    fn wrapping_neg(self) -> Self;
    fn wrapping_abs(self) -> Self;
}

macro_rules! int_elem {
    ($t:ty) => {
        impl IntElem for $t {
            const ZERO: Self = 0;
            fn wrapping_add(self, o: Self) -> Self {
                <$t>::wrapping_add(self, o)
            }
            fn wrapping_sub(self, o: Self) -> Self {
                <$t>::wrapping_sub(self, o)
            }
            fn wrapping_mul(self, o: Self) -> Self {
                <$t>::wrapping_mul(self, o)
            }
            fn trunc_div(self, o: Self) -> Option<Self> {
                // `wrapping_div` truncates toward zero and maps MIN / -1 to MIN (no trap).
                if o == 0 { None } else { Some(<$t>::wrapping_div(self, o)) }
            }
        }
    };
}
int_elem!(i64);
int_elem!(i32);

macro_rules! signed_elem {
    ($t:ty) => {
        impl SignedElem for $t {
            fn wrapping_neg(self) -> Self {
                <$t>::wrapping_neg(self)
            }
            fn wrapping_abs(self) -> Self {
                <$t>::wrapping_abs(self)
            }
        }
    };
}
signed_elem!(i64);
signed_elem!(i32);

fn run_int_unary<T: SignedElem>(op: Unary, x: &[u8], out: &mut [u8], par: &Parallel<'_>) -> Result<()> {
    let (x, out) = (cast_bytes::<T>(x)?, cast_bytes_mut::<T>(out)?);
    match op {
        Unary::Neg => map(x, out, par, T::wrapping_neg),
        Unary::Abs => map(x, out, par, T::wrapping_abs),
        other => return Err(Error::Unsupported(format!("{} on integer tensors", other.name()))),
    }
    Ok(())
}

impl Kernel for UnaryKernel {
    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let x = io.input(0)?;
        let out = io.outputs.first_mut().ok_or_else(|| Error::Graph("Unary has no output".into()))?;
        expect_len("Unary input", x.numel(), self.numel)?;
        expect_len("Unary output", out.numel(), self.numel)?;
        match self.dtype {
            DType::F32 => {
                let (x, out) = (cast_bytes::<f32>(x.bytes())?, cast_bytes_mut::<f32>(out.bytes_mut())?);
                match self.op {
                    Unary::Act(a) => map_activation(a, x, out, par),
                    Unary::Sqrt => map(x, out, par, f32::sqrt),
                    Unary::Exp => map(x, out, par, f32::exp),
                    Unary::Log => map(x, out, par, f32::ln),
                    Unary::Neg => map(x, out, par, |v| -v),
                    Unary::Abs => map(x, out, par, f32::abs),
                    Unary::Reciprocal => map(x, out, par, f32::recip),
                    Unary::Floor => map(x, out, par, f32::floor),
                    Unary::Ceil => map(x, out, par, f32::ceil),
                    // ONNX Round rounds halves to even.
                    Unary::Round => map(x, out, par, f32::round_ties_even),
                    Unary::Erf => map(x, out, par, erf),
                    Unary::Sin => map(x, out, par, f32::sin),
                    Unary::Cos => map(x, out, par, f32::cos),
                    Unary::Not => return Err(Error::Unsupported("Not on f32 tensors".into())),
                }
            }
            DType::I64 => run_int_unary::<i64>(self.op, x.bytes(), out.bytes_mut(), par)?,
            DType::I32 => run_int_unary::<i32>(self.op, x.bytes(), out.bytes_mut(), par)?,
            DType::Bool if self.op == Unary::Not => map(x.bytes(), out.bytes_mut(), par, |v| u8::from(v == 0)),
            other => return Err(Error::Unsupported(format!("{} on {other} tensors", self.op.name()))),
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Binary
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct BinaryKernel {
    op: Binary,
    dtype: DType,
    runs: StridedRuns<2>,
    lens: [usize; 2],
}

fn build_binary(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::Binary(op) = ctx.node.op else { return Err(ctx.err("not a binary node")) };
    let (dtype, a) = ctx.inputs.first().copied().flatten().ok_or_else(|| ctx.err("input 0 is missing"))?;
    let b = ctx.input_shape(1)?;
    let out = ctx.output_shape(0)?;
    let runs = StridedRuns::broadcast(out, [a, b]).map_err(|e| ctx.err(e))?;
    let lens = [a.iter().product(), b.iter().product()];
    runs.check_bounds(lens).map_err(|e| ctx.err(e))?;
    Ok(Box::new(BinaryKernel { op, dtype, runs, lens }))
}

/// `out = f(a, b)` with broadcasting as `runs` describes, split over threads.
fn zip_broadcast<T, U, F>(runs: &StridedRuns<2>, a: &[T], b: &[T], out: &mut [U], par: &Parallel<'_>, f: F)
where
    T: Copy + Sync,
    U: Send,
    F: Fn(T, T) -> U + Sync + Send,
{
    let dims = runs.dims();
    let strides = runs.strides();
    // Same shape: one contiguous run over both operands.
    if let ([_], [[1, 1]]) = (dims, strides) {
        par.for_each_chunk_mut(out, PAR_CHUNK, |ci, chunk| {
            let s = ci * PAR_CHUNK;
            let (a, b) = (&a[s..s + chunk.len()], &b[s..s + chunk.len()]);
            for ((o, &x), &y) in chunk.iter_mut().zip(a).zip(b) {
                *o = f(x, y);
            }
        });
        return;
    }
    // Scalar operand against a contiguous one.
    if let ([_], [[1, 0]]) = (dims, strides) {
        let y = b[0];
        par.for_each_chunk_mut(out, PAR_CHUNK, |ci, chunk| {
            let a = &a[ci * PAR_CHUNK..ci * PAR_CHUNK + chunk.len()];
            for (o, &x) in chunk.iter_mut().zip(a) {
                *o = f(x, y);
            }
        });
        return;
    }
    if let ([_], [[0, 1]]) = (dims, strides) {
        let x = a[0];
        par.for_each_chunk_mut(out, PAR_CHUNK, |ci, chunk| {
            let b = &b[ci * PAR_CHUNK..ci * PAR_CHUNK + chunk.len()];
            for (o, &y) in chunk.iter_mut().zip(b) {
                *o = f(x, y);
            }
        });
        return;
    }
    // Per-channel: `[rows, c]` where one operand is a `[c]` vector repeated over rows.
    if let ([_, c], [[s0, t0], [1, 1]]) = (dims, strides) {
        let c = *c;
        let rows_per_task = PAR_CHUNK.div_ceil(c).max(1);
        if *s0 == c as isize && *t0 == 0 {
            par.for_each_chunk_mut(out, rows_per_task * c, |ci, chunk| {
                let a = &a[ci * rows_per_task * c..ci * rows_per_task * c + chunk.len()];
                for (orow, arow) in chunk.chunks_exact_mut(c).zip(a.chunks_exact(c)) {
                    for ((o, &x), &y) in orow.iter_mut().zip(arow).zip(&b[..c]) {
                        *o = f(x, y);
                    }
                }
            });
            return;
        }
        if *s0 == 0 && *t0 == c as isize {
            par.for_each_chunk_mut(out, rows_per_task * c, |ci, chunk| {
                let b = &b[ci * rows_per_task * c..ci * rows_per_task * c + chunk.len()];
                for (orow, brow) in chunk.chunks_exact_mut(c).zip(b.chunks_exact(c)) {
                    for ((o, &x), &y) in orow.iter_mut().zip(&a[..c]).zip(brow) {
                        *o = f(x, y);
                    }
                }
            });
            return;
        }
    }
    // General: contiguous runs along the innermost merged axis, where each operand's
    // stride is 1 (it varies along the axis) or 0 (broadcast along it).
    let [sa, sb] = runs.inner_strides();
    par.for_each_chunk_mut(out, PAR_CHUNK, |ci, chunk| {
        let first = ci * PAR_CHUNK;
        runs.for_each_run(first, first + chunk.len(), |pos, len, [oa, ob]| {
            let o = &mut chunk[pos - first..pos - first + len];
            // Offsets are in bounds: `check_bounds` ran when the kernel was built.
            let (oa, ob) = (oa as usize, ob as usize);
            match (sa, sb) {
                (1, 1) => {
                    for ((o, &x), &y) in o.iter_mut().zip(&a[oa..oa + len]).zip(&b[ob..ob + len]) {
                        *o = f(x, y);
                    }
                }
                (1, 0) => {
                    let y = b[ob];
                    for (o, &x) in o.iter_mut().zip(&a[oa..oa + len]) {
                        *o = f(x, y);
                    }
                }
                (0, 1) => {
                    let x = a[oa];
                    for (o, &y) in o.iter_mut().zip(&b[ob..ob + len]) {
                        *o = f(x, y);
                    }
                }
                _ => {
                    for (i, o) in o.iter_mut().enumerate() {
                        let i = i as isize;
                        *o = f(a[(oa as isize + i * sa) as usize], b[(ob as isize + i * sb) as usize]);
                    }
                }
            }
        });
    });
}

/// numpy's `maximum` / `minimum`: NaN in either operand gives NaN.
fn nan_max(x: f32, y: f32) -> f32 {
    if x.is_nan() || y.is_nan() { f32::NAN } else { x.max(y) }
}

fn nan_min(x: f32, y: f32) -> f32 {
    if x.is_nan() || y.is_nan() { f32::NAN } else { x.min(y) }
}

fn run_f32_binary(op: Binary, runs: &StridedRuns<2>, a: &[u8], b: &[u8], out: &mut [u8], par: &Parallel<'_>) -> Result<()> {
    let (a, b) = (cast_bytes::<f32>(a)?, cast_bytes::<f32>(b)?);
    match op {
        Binary::Equal | Binary::Less | Binary::Greater => {
            let out = cast_bytes_mut::<u8>(out)?;
            match op {
                Binary::Equal => zip_broadcast(runs, a, b, out, par, |x, y| u8::from(x == y)),
                Binary::Less => zip_broadcast(runs, a, b, out, par, |x, y| u8::from(x < y)),
                _ => zip_broadcast(runs, a, b, out, par, |x, y| u8::from(x > y)),
            }
        }
        _ => {
            let out = cast_bytes_mut::<f32>(out)?;
            match op {
                Binary::Add => zip_broadcast(runs, a, b, out, par, |x, y| x + y),
                Binary::Sub => zip_broadcast(runs, a, b, out, par, |x, y| x - y),
                Binary::Mul => zip_broadcast(runs, a, b, out, par, |x, y| x * y),
                Binary::Div => zip_broadcast(runs, a, b, out, par, |x, y| x / y),
                Binary::Max => zip_broadcast(runs, a, b, out, par, nan_max),
                Binary::Min => zip_broadcast(runs, a, b, out, par, nan_min),
                Binary::Pow => zip_broadcast(runs, a, b, out, par, f32::powf),
                Binary::PRelu => zip_broadcast(runs, a, b, out, par, |x, s| if x < 0.0 { s * x } else { x }),
                other => return Err(Error::Unsupported(format!("{other:?} on f32 tensors"))),
            }
        }
    }
    Ok(())
}

fn run_int_binary<T: IntElem>(op: Binary, runs: &StridedRuns<2>, a: &[u8], b: &[u8], out: &mut [u8], par: &Parallel<'_>) -> Result<()> {
    let (a, b) = (cast_bytes::<T>(a)?, cast_bytes::<T>(b)?);
    match op {
        Binary::Equal | Binary::Less | Binary::Greater => {
            let out = cast_bytes_mut::<u8>(out)?;
            match op {
                Binary::Equal => zip_broadcast(runs, a, b, out, par, |x, y| u8::from(x == y)),
                Binary::Less => zip_broadcast(runs, a, b, out, par, |x, y| u8::from(x < y)),
                _ => zip_broadcast(runs, a, b, out, par, |x, y| u8::from(x > y)),
            }
        }
        Binary::Div => {
            // A zero divisor is reported after the loop (no allocation, no panic inside it).
            let div_by_zero = AtomicBool::new(false);
            let out = cast_bytes_mut::<T>(out)?;
            zip_broadcast(runs, a, b, out, par, |x, y| {
                x.trunc_div(y).unwrap_or_else(|| {
                    div_by_zero.store(true, Ordering::Relaxed);
                    T::ZERO
                })
            });
            if div_by_zero.load(Ordering::Relaxed) {
                return Err(Error::Input("integer division by zero".into()));
            }
        }
        _ => {
            let out = cast_bytes_mut::<T>(out)?;
            match op {
                Binary::Add => zip_broadcast(runs, a, b, out, par, T::wrapping_add),
                Binary::Sub => zip_broadcast(runs, a, b, out, par, T::wrapping_sub),
                Binary::Mul => zip_broadcast(runs, a, b, out, par, T::wrapping_mul),
                Binary::Max => zip_broadcast(runs, a, b, out, par, Ord::max),
                Binary::Min => zip_broadcast(runs, a, b, out, par, Ord::min),
                other => return Err(Error::Unsupported(format!("{other:?} on integer tensors"))),
            }
        }
    }
    Ok(())
}

fn run_bool_binary(op: Binary, runs: &StridedRuns<2>, a: &[u8], b: &[u8], out: &mut [u8], par: &Parallel<'_>) -> Result<()> {
    match op {
        Binary::And => zip_broadcast(runs, a, b, out, par, |x, y| u8::from(x != 0 && y != 0)),
        Binary::Or => zip_broadcast(runs, a, b, out, par, |x, y| u8::from(x != 0 || y != 0)),
        Binary::Equal => zip_broadcast(runs, a, b, out, par, |x, y| u8::from((x != 0) == (y != 0))),
        other => return Err(Error::Unsupported(format!("{other:?} on bool tensors"))),
    }
    Ok(())
}

impl Kernel for BinaryKernel {
    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let (a, b) = (io.input(0)?, io.input(1)?);
        let out = io.outputs.first_mut().ok_or_else(|| Error::Graph("Binary has no output".into()))?;
        expect_len("first operand", a.numel(), self.lens[0])?;
        expect_len("second operand", b.numel(), self.lens[1])?;
        expect_len("output", out.numel(), self.runs.numel())?;
        if self.runs.numel() == 0 {
            return Ok(());
        }
        let (a, b, out) = (a.bytes(), b.bytes(), out.bytes_mut());
        match self.dtype {
            DType::F32 => run_f32_binary(self.op, &self.runs, a, b, out, par),
            DType::I64 => run_int_binary::<i64>(self.op, &self.runs, a, b, out, par),
            DType::I32 => run_int_binary::<i32>(self.op, &self.runs, a, b, out, par),
            DType::Bool => run_bool_binary(self.op, &self.runs, a, b, out, par),
            other => Err(Error::Unsupported(format!("{:?} on {other} tensors", self.op))),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Where
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct WhereKernel {
    elem_size: usize,
    runs: StridedRuns<3>,
    lens: [usize; 3],
}

fn build_where(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let (c, a, b) = (ctx.input_shape(0)?, ctx.input_shape(1)?, ctx.input_shape(2)?);
    let (dtype, out) = *ctx.outputs.first().ok_or_else(|| ctx.err("output 0 is missing"))?;
    let runs = StridedRuns::broadcast(out, [c, a, b]).map_err(|e| ctx.err(e))?;
    let lens = [c.iter().product(), a.iter().product(), b.iter().product()];
    runs.check_bounds(lens).map_err(|e| ctx.err(e))?;
    Ok(Box::new(WhereKernel { elem_size: dtype.size(), runs, lens }))
}

fn run_where<T: Pod + Send + Sync>(runs: &StridedRuns<3>, c: &[u8], a: &[u8], b: &[u8], out: &mut [u8], par: &Parallel<'_>) -> Result<()> {
    let (a, b, out) = (cast_bytes::<T>(a)?, cast_bytes::<T>(b)?, cast_bytes_mut::<T>(out)?);
    let [sc, sa, sb] = runs.inner_strides();
    par.for_each_chunk_mut(out, PAR_CHUNK, |ci, chunk| {
        let first = ci * PAR_CHUNK;
        runs.for_each_run(first, first + chunk.len(), |pos, len, [oc, oa, ob]| {
            for (i, o) in chunk[pos - first..pos - first + len].iter_mut().enumerate() {
                let i = i as isize;
                // In bounds: `check_bounds` ran when the kernel was built.
                *o = if c[(oc + i * sc) as usize] != 0 { a[(oa + i * sa) as usize] } else { b[(ob + i * sb) as usize] };
            }
        });
    });
    Ok(())
}

impl Kernel for WhereKernel {
    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let (c, a, b) = (io.input(0)?, io.input(1)?, io.input(2)?);
        let out = io.outputs.first_mut().ok_or_else(|| Error::Graph("Where has no output".into()))?;
        expect_len("condition", c.numel(), self.lens[0])?;
        expect_len("first operand", a.numel(), self.lens[1])?;
        expect_len("second operand", b.numel(), self.lens[2])?;
        expect_len("output", out.numel(), self.runs.numel())?;
        let (c, a, b, out) = (c.bytes(), a.bytes(), b.bytes(), out.bytes_mut());
        match self.elem_size {
            1 => run_where::<[u8; 1]>(&self.runs, c, a, b, out, par),
            2 => run_where::<[u8; 2]>(&self.runs, c, a, b, out, par),
            4 => run_where::<[u8; 4]>(&self.runs, c, a, b, out, par),
            8 => run_where::<[u8; 8]>(&self.runs, c, a, b, out, par),
            n => Err(Error::Unsupported(format!("Where on elements of {n} bytes"))),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Cast and Dequantize
// ---------------------------------------------------------------------------------------

/// A bool element: one byte, nonzero is true.
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
#[repr(transparent)]
struct BoolByte(u8);

/// A source value on its way to another type: floats widen to f64 (exactly, from f32 and
/// f16), integers and bools to i64.
#[derive(Debug, Clone, Copy)]
enum Num {
    F(f64),
    I(i64),
}

trait CastSrc: Pod + Sync {
    fn get(self) -> Num;
}

trait CastDst: Pod + Send {
    fn put(n: Num) -> Self;
}

impl CastSrc for f32 {
    fn get(self) -> Num {
        Num::F(f64::from(self))
    }
}
impl CastSrc for f16 {
    fn get(self) -> Num {
        Num::F(self.to_f64())
    }
}
impl CastSrc for BoolByte {
    fn get(self) -> Num {
        Num::I(i64::from(self.0 != 0))
    }
}
macro_rules! int_src {
    ($($t:ty),*) => {$(
        impl CastSrc for $t {
            fn get(self) -> Num {
                Num::I(i64::from(self))
            }
        }
    )*};
}
int_src!(i8, u8, i32, i64);

impl CastDst for f32 {
    fn put(n: Num) -> Self {
        match n {
            Num::F(f) => f as f32,
            // Direct i64 -> f32 conversion rounds once.
            Num::I(i) => i as f32,
        }
    }
}
impl CastDst for f16 {
    fn put(n: Num) -> Self {
        match n {
            Num::F(f) => f16::from_f64(f),
            Num::I(i) => f16::from_f64(i as f64),
        }
    }
}
impl CastDst for BoolByte {
    fn put(n: Num) -> Self {
        BoolByte(u8::from(match n {
            // NaN != 0, so NaN casts to true as in ONNX and numpy.
            Num::F(f) => f != 0.0,
            Num::I(i) => i != 0,
        }))
    }
}
macro_rules! int_dst {
    ($($t:ty),*) => {$(
        impl CastDst for $t {
            fn put(n: Num) -> Self {
                match n {
                    // Truncates toward zero; out-of-range values saturate and NaN gives 0
                    // (ONNX leaves both undefined; this keeps them defined).
                    Num::F(f) => f as $t,
                    // Keeps the low bits, as C and numpy do.
                    Num::I(i) => i as $t,
                }
            }
        }
    )*};
}
int_dst!(i8, u8, i32, i64);

fn cast_run<S: CastSrc, D: CastDst>(x: &[u8], out: &mut [u8], par: &Parallel<'_>) -> Result<()> {
    map(cast_bytes::<S>(x)?, cast_bytes_mut::<D>(out)?, par, |v| D::put(v.get()));
    Ok(())
}

fn cast_to<S: CastSrc>(to: DType, x: &[u8], out: &mut [u8], par: &Parallel<'_>) -> Result<()> {
    match to {
        DType::F32 => cast_run::<S, f32>(x, out, par),
        DType::F16 => cast_run::<S, f16>(x, out, par),
        DType::I8 => cast_run::<S, i8>(x, out, par),
        DType::U8 => cast_run::<S, u8>(x, out, par),
        DType::I32 => cast_run::<S, i32>(x, out, par),
        DType::I64 => cast_run::<S, i64>(x, out, par),
        DType::Bool => cast_run::<S, BoolByte>(x, out, par),
    }
}

#[derive(Debug)]
struct CastKernel {
    from: DType,
    to: DType,
    numel: usize,
}

fn build_cast(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let Op::Cast { to } = ctx.node.op else { return Err(ctx.err("not a Cast node")) };
    let (from, shape) = ctx.inputs.first().copied().flatten().ok_or_else(|| ctx.err("input 0 is missing"))?;
    Ok(Box::new(CastKernel { from, to, numel: shape.iter().product() }))
}

impl Kernel for CastKernel {
    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let x = io.input(0)?;
        let out = io.outputs.first_mut().ok_or_else(|| Error::Graph("Cast has no output".into()))?;
        expect_len("Cast input", x.numel(), self.numel)?;
        expect_len("Cast output", out.numel(), self.numel)?;
        let (x, out) = (x.bytes(), out.bytes_mut());
        if self.from == self.to {
            out.copy_from_slice(x);
            return Ok(());
        }
        match self.from {
            DType::F32 => cast_to::<f32>(self.to, x, out, par),
            DType::F16 => cast_to::<f16>(self.to, x, out, par),
            DType::I8 => cast_to::<i8>(self.to, x, out, par),
            DType::U8 => cast_to::<u8>(self.to, x, out, par),
            DType::I32 => cast_to::<i32>(self.to, x, out, par),
            DType::I64 => cast_to::<i64>(self.to, x, out, par),
            DType::Bool => cast_to::<BoolByte>(self.to, x, out, par),
        }
    }
}

fn build_dequantize(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    let shape = ctx.input_shape(0)?;
    Ok(Box::new(CastKernel { from: DType::F16, to: DType::F32, numel: shape.iter().product() }))
}

#[cfg(test)]
#[allow(clippy::excessive_precision, clippy::approx_constant)]
mod tests {
    //! Expected values come from numpy 2 / Python's `math.erf` (float32 inputs), or by hand.
    use super::*;
    use crate::ops::util::testing::{assert_close, f32s, fx, infer_dims, run, run_par, sym, t, t_bool};
    use crate::tensor::Tensor;

    const X: [f32; 12] = [-7.0, -2.5, -1.0, -0.5, -0.25, 0.0, 0.3, 0.5, 1.5, 2.5, 3.5, 7.0];

    fn unary(u: Unary, x: &Tensor) -> Tensor {
        run(&Op::Unary(u), &[Some(x)], 1).expect("unary").remove(0)
    }

    fn binary(b: Binary, x: &Tensor, y: &Tensor) -> Tensor {
        run(&Op::Binary(b), &[Some(x), Some(y)], 1).expect("binary").remove(0)
    }

    #[test]
    fn activations_match_numpy() {
        let x = t(&[3, 4], &X);
        let cases: [(Activation, [f32; 12]); 9] = [
            (Activation::None, X),
            (Activation::Relu, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.5, 1.5, 2.5, 3.5, 7.0]),
            (Activation::Relu6, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.5, 1.5, 2.5, 3.5, 6.0]),
            (Activation::Clip { min: -1.0, max: 2.0 }, [-1.0, -1.0, -1.0, -0.5, -0.25, 0.0, 0.3, 0.5, 1.5, 2.0, 2.0, 2.0]),
            (
                Activation::LeakyRelu { alpha: 0.1 },
                [
                    -0.699999988079071,
                    -0.25,
                    -0.10000000149011612,
                    -0.05000000074505806,
                    -0.02500000037252903,
                    0.0,
                    0.3,
                    0.5,
                    1.5,
                    2.5,
                    3.5,
                    7.0,
                ],
            ),
            (
                Activation::Sigmoid,
                [
                    0.0009110511746257544,
                    0.07585818320512772,
                    0.2689414322376251,
                    0.3775406777858734,
                    0.43782350420951843,
                    0.5,
                    0.5744425058364868,
                    0.622459352016449,
                    0.8175745010375977,
                    0.9241418242454529,
                    0.970687747001648,
                    0.9990889430046082,
                ],
            ),
            (
                Activation::HardSigmoid { alpha: 0.2, beta: 0.5 },
                [
                    0.0,
                    0.0,
                    0.30000001192092896,
                    0.4000000059604645,
                    0.44999998807907104,
                    0.5,
                    0.5600000023841858,
                    0.6000000238418579,
                    0.800000011920929,
                    1.0,
                    1.0,
                    1.0,
                ],
            ),
            (
                Activation::HardSwish,
                [
                    -0.0,
                    -0.208333358168602,
                    -0.3333333134651184,
                    -0.2083333283662796,
                    -0.1145833358168602,
                    0.0,
                    0.16500000655651093,
                    0.2916666567325592,
                    1.125,
                    2.2916665077209473,
                    3.5,
                    7.0,
                ],
            ),
            (
                Activation::Tanh,
                [
                    -0.9999983310699463,
                    -0.9866142868995667,
                    -0.7615941762924194,
                    -0.46211719512939453,
                    -0.24491865932941437,
                    0.0,
                    0.29131263494491577,
                    0.46211719512939453,
                    0.9051482081413269,
                    0.9866142868995667,
                    0.9981778860092163,
                    0.9999983310699463,
                ],
            ),
        ];
        for (a, want) in cases {
            let y = unary(Unary::Act(a), &x);
            assert_eq!(y.shape(), &[3, 4]);
            assert_close(&f32s(&y), &want, 1e-6, 1e-7);
        }
    }

    #[test]
    fn math_functions_match_numpy() {
        let x = t(&[12], &X);
        let inf = f32::INFINITY;
        let cases: [(Unary, [f32; 12]); 10] = [
            (Unary::Neg, [7.0, 2.5, 1.0, 0.5, 0.25, -0.0, -0.3, -0.5, -1.5, -2.5, -3.5, -7.0]),
            (Unary::Abs, [7.0, 2.5, 1.0, 0.5, 0.25, 0.0, 0.3, 0.5, 1.5, 2.5, 3.5, 7.0]),
            (
                Unary::Reciprocal,
                [
                    -0.1428571492433548,
                    -0.4,
                    -1.0,
                    -2.0,
                    -4.0,
                    inf,
                    3.3333332538604736,
                    2.0,
                    0.6666666865348816,
                    0.4,
                    0.2857142984867096,
                    0.1428571492433548,
                ],
            ),
            (Unary::Floor, [-7.0, -3.0, -1.0, -1.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 7.0]),
            (Unary::Ceil, [-7.0, -2.0, -1.0, -0.0, -0.0, 0.0, 1.0, 1.0, 2.0, 3.0, 4.0, 7.0]),
            // Halves round to even: -0.5 -> -0, 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4.
            (Unary::Round, [-7.0, -2.0, -1.0, -0.0, -0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 4.0, 7.0]),
            (
                Unary::Erf,
                [
                    -1.0,
                    -0.9995930194854736,
                    -0.8427007794380188,
                    -0.5204998850822449,
                    -0.27632638812065125,
                    0.0,
                    0.3286267817020416,
                    0.5204998850822449,
                    0.9661051630973816,
                    0.9995930194854736,
                    0.9999992847442627,
                    1.0,
                ],
            ),
            (
                Unary::Sin,
                [
                    -0.6569865942001343,
                    -0.5984721779823303,
                    -0.8414710164070129,
                    -0.4794255495071411,
                    -0.24740396440029144,
                    0.0,
                    0.29552021622657776,
                    0.4794255495071411,
                    0.9974949955940247,
                    0.5984721779823303,
                    -0.35078322887420654,
                    0.6569865942001343,
                ],
            ),
            (
                Unary::Cos,
                [
                    0.7539022564888,
                    -0.8011435866355896,
                    0.5403022766113281,
                    0.8775825500488281,
                    0.9689124226570129,
                    1.0,
                    0.9553365111351013,
                    0.8775825500488281,
                    0.07073719799518585,
                    -0.8011435866355896,
                    -0.9364566802978516,
                    0.7539022564888,
                ],
            ),
            (
                Unary::Exp,
                [
                    0.0009118819143623114,
                    0.0820850059390068,
                    0.3678794205188751,
                    0.6065306663513184,
                    0.7788007259368896,
                    1.0,
                    1.3498587608337402,
                    1.6487212181091309,
                    4.481688976287842,
                    12.182493209838867,
                    33.11545181274414,
                    1096.6331787109375,
                ],
            ),
        ];
        for (u, want) in cases {
            assert_close(&f32s(&unary(u, &x)), &want, 1e-6, 1e-7);
        }
        // Signs of zero matter for Neg/Ceil/Round: compare bit patterns where want is 0.
        let ceil = f32s(&unary(Unary::Ceil, &x));
        assert!(ceil[3].is_sign_negative() && ceil[5].is_sign_positive());

        let p = t(&[6], &[0.01f32, 0.5, 1.0, 2.0, 10.0, 1e6]);
        assert_close(
            &f32s(&unary(Unary::Sqrt, &p)),
            &[0.1, 0.7071067690849304, 1.0, 1.4142135381698608, 3.1622776985168457, 1000.0],
            1e-6,
            0.0,
        );
        assert_close(
            &f32s(&unary(Unary::Log, &p)),
            &[-4.605170249938965, -0.6931471824645996, 0.0, 0.6931471824645996, 2.3025851249694824, 13.815510749816895],
            1e-6,
            0.0,
        );
        let nan = f32s(&unary(Unary::Sqrt, &t(&[1], &[-1.0f32])));
        assert!(nan[0].is_nan());
    }

    #[test]
    fn erf_is_accurate_across_its_branches() {
        // Against Python's math.erf, around the series / continued fraction switch at 2
        // and the saturation at 6.
        let x = [-6.5f32, -5.9, -3.7, -2.1, -1.99, -0.7, -1e-3, 1e-6, 0.2, 0.9, 1.5, 1.95, 2.0, 2.05, 2.8, 4.2, 5.99];
        let want = [
            -1.0,
            -1.0,
            -0.9999998211860657,
            -0.9970205426216125,
            -0.9951114058494568,
            -0.6778011918067932,
            -0.001128378789871931,
            1.1283791536698118e-06,
            0.22270259261131287,
            0.7969081997871399,
            0.9661051630973816,
            0.9941793084144592,
            0.9953222870826721,
            0.9962580800056458,
            0.9999249577522278,
            1.0,
            1.0,
        ];
        let got: Vec<f32> = x.iter().map(|&v| erf(v)).collect();
        assert_close(&got, &want, 2e-7, 0.0);
        assert!(erf(f32::NAN).is_nan());
        assert_eq!(erf(f32::INFINITY), 1.0);
        assert_eq!(erf(f32::NEG_INFINITY), -1.0);
    }

    #[test]
    fn integer_and_bool_unaries() {
        let x = t(&[4], &[i64::MIN, -5, 0, 7]);
        // Wrapping, as two's complement hardware (and onnxruntime) does for MIN.
        assert_eq!(unary(Unary::Neg, &x).as_slice::<i64>().unwrap(), &[i64::MIN, 5, 0, -7]);
        assert_eq!(unary(Unary::Abs, &x).as_slice::<i64>().unwrap(), &[i64::MIN, 5, 0, 7]);
        let y = t(&[3], &[-3i32, 0, 4]);
        assert_eq!(unary(Unary::Abs, &y).as_slice::<i32>().unwrap(), &[3, 0, 4]);
        assert_eq!(unary(Unary::Neg, &y).as_slice::<i32>().unwrap(), &[3, 0, -4]);
        let b = t_bool(&[3], &[1, 0, 1]);
        assert_eq!(unary(Unary::Not, &b).bytes(), &[0, 1, 0]);
    }

    #[test]
    fn unary_rejects_unsupported_types() {
        let i = t(&[2], &[1i64, 2]);
        let e = run(&Op::Unary(Unary::Sqrt), &[Some(&i)], 1).unwrap_err().to_string();
        assert!(e.contains("Sqrt") && e.contains("i64"), "{e}");
        let f = t(&[1], &[1.0f32]);
        assert!(run(&Op::Unary(Unary::Not), &[Some(&f)], 1).is_err());
        assert!(infer_unary(Unary::Act(Activation::Relu6), &[None]).is_err());
    }

    fn a24() -> Tensor {
        let v: Vec<f32> = (0..24).map(|i| i as f32 * 0.5 - 5.0).collect();
        t(&[2, 3, 4], &v)
    }

    #[test]
    fn binary_broadcasting_matches_numpy() {
        let a = a24();
        // Per-channel (last axis) operand.
        let b4 = t(&[4], &[1.5f32, -2.0, 0.25, 3.0]);
        let y = binary(Binary::Add, &a, &b4);
        assert_eq!(y.shape(), &[2, 3, 4]);
        assert_close(
            &f32s(&y),
            &[
                -3.5, -6.5, -3.75, -0.5, -1.5, -4.5, -1.75, 1.5, 0.5, -2.5, 0.25, 3.5, 2.5, -0.5, 2.25, 5.5, 4.5, 1.5, 4.25, 7.5, 6.5, 3.5,
                6.25, 9.5,
            ],
            0.0,
            0.0,
        );
        // Operand broadcast along the last axis ([3, 1]).
        let b31 = t(&[3, 1], &[2.0f32, -1.0, 0.5]);
        assert_close(
            &f32s(&binary(Binary::Sub, &a, &b31)),
            &[
                -7.0, -6.5, -6.0, -5.5, -2.0, -1.5, -1.0, -0.5, -1.5, -1.0, -0.5, 0.0, -1.0, -0.5, 0.0, 0.5, 4.0, 4.5, 5.0, 5.5, 4.5, 5.0,
                5.5, 6.0,
            ],
            0.0,
            0.0,
        );
        // The channel vector on the left (and a division by zero giving inf).
        let inf = f32::INFINITY;
        assert_close(
            &f32s(&binary(Binary::Div, &b4, &a)),
            &[
                -0.30000001192092896,
                0.4444444477558136,
                -0.0625,
                -0.8571428656578064,
                -0.5,
                0.800000011920929,
                -0.125,
                -2.0,
                -1.5,
                4.0,
                inf,
                6.0,
                1.5,
                -1.3333333730697632,
                0.125,
                1.2000000476837158,
                0.5,
                -0.5714285969734192,
                0.0625,
                0.6666666865348816,
                0.30000001192092896,
                -0.3636363744735718,
                0.0416666679084301,
                0.4615384638309479,
            ],
            1e-6,
            0.0,
        );
        // Both operands broadcast: [1, 3, 1] x [2, 1, 2] -> [2, 3, 2].
        let c = t(&[1, 3, 1], &[1.0f32, 2.0, -3.0]);
        let d = t(&[2, 1, 2], &[0.5f32, -1.0, 2.0, 4.0]);
        let y = binary(Binary::Mul, &c, &d);
        assert_eq!(y.shape(), &[2, 3, 2]);
        assert_close(&f32s(&y), &[0.5, -1.0, 1.0, -2.0, -1.5, 3.0, 2.0, 4.0, 4.0, 8.0, -6.0, -12.0], 0.0, 0.0);
        assert_close(&f32s(&binary(Binary::Max, &c, &d)), &[1.0, 1.0, 2.0, 2.0, 0.5, -1.0, 2.0, 4.0, 2.0, 4.0, 2.0, 4.0], 0.0, 0.0);
        assert_close(&f32s(&binary(Binary::Min, &c, &d)), &[0.5, -1.0, 0.5, -1.0, -3.0, -3.0, 1.0, 1.0, 2.0, 2.0, -3.0, -3.0], 0.0, 0.0);
        // Comparisons give bool.
        let eq = binary(Binary::Equal, &c, &d);
        assert_eq!(eq.dtype(), DType::Bool);
        assert_eq!(eq.bytes(), &[0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(binary(Binary::Less, &c, &d).bytes(), &[0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1]);
        assert_eq!(binary(Binary::Greater, &c, &d).bytes(), &[1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn binary_pow_prelu_scalars_and_nan() {
        let base = t(&[2, 3], &[0.5f32, 2.0, 3.0, 1.5, 4.0, 9.0]);
        let ex = t(&[3], &[2.0f32, 0.5, -1.0]);
        assert_close(
            &f32s(&binary(Binary::Pow, &base, &ex)),
            &[0.25, 1.4142135381698608, 0.3333333432674408, 2.25, 2.0, 0.1111111119389534],
            1e-6,
            0.0,
        );
        // Rank-0 scalar on the left.
        let s = t(&[], &[2.5f32]);
        let y = binary(Binary::Sub, &s, &base);
        assert_eq!(y.shape(), &[2, 3]);
        assert_close(&f32s(&y), &[2.0, 0.5, -0.5, 1.0, -1.5, -6.5], 0.0, 0.0);
        let px = t(&[2, 4], &[-2.0f32, -1.0, 0.0, 1.0, 3.0, -4.0, 5.0, -6.0]);
        let slope = t(&[4], &[0.1f32, 0.2, 0.3, 0.4]);
        assert_close(
            &f32s(&binary(Binary::PRelu, &px, &slope)),
            &[-0.20000000298023224, -0.20000000298023224, 0.0, 1.0, 3.0, -0.800000011920929, 5.0, -2.4000000953674316],
            1e-7,
            0.0,
        );
        // numpy's maximum/minimum propagate NaN from either side.
        let n = t(&[3], &[f32::NAN, 1.0, 2.0]);
        let m = t(&[3], &[0.0f32, f32::NAN, 1.0]);
        let mx = f32s(&binary(Binary::Max, &n, &m));
        assert!(mx[0].is_nan() && mx[1].is_nan() && mx[2] == 2.0);
        let mn = f32s(&binary(Binary::Min, &n, &m));
        assert!(mn[0].is_nan() && mn[1].is_nan() && mn[2] == 1.0);
    }

    #[test]
    fn integer_shape_math() {
        // Division truncates toward zero (C), not floor (numpy's //).
        let a = t(&[5], &[7i64, -7, 7, -7, i64::MIN]);
        let b = t(&[5], &[2i64, 2, -2, -2, -1]);
        assert_eq!(binary(Binary::Div, &a, &b).as_slice::<i64>().unwrap(), &[3, -3, -3, 3, i64::MIN]);
        // Shape math: [N, C, H, W] * [1, 1, 2, 2] and a broadcast scalar.
        let shape = t(&[4], &[1i64, 3, 224, 224]);
        let k = t(&[], &[2i64]);
        assert_eq!(binary(Binary::Div, &shape, &k).as_slice::<i64>().unwrap(), &[0, 1, 112, 112]);
        assert_eq!(binary(Binary::Mul, &shape, &k).as_slice::<i64>().unwrap(), &[2, 6, 448, 448]);
        assert_eq!(binary(Binary::Sub, &k, &shape).as_slice::<i64>().unwrap(), &[1, -1, -222, -222]);
        assert_eq!(binary(Binary::Add, &shape, &k).as_slice::<i64>().unwrap(), &[3, 5, 226, 226]);
        assert_eq!(binary(Binary::Max, &shape, &t(&[], &[4i64])).as_slice::<i64>().unwrap(), &[4, 4, 224, 224]);
        assert_eq!(binary(Binary::Min, &shape, &t(&[], &[4i64])).as_slice::<i64>().unwrap(), &[1, 3, 4, 4]);
        assert_eq!(binary(Binary::Less, &shape, &t(&[], &[3i64])).bytes(), &[1, 0, 0, 0]);
        assert_eq!(binary(Binary::Equal, &shape, &t(&[], &[224i64])).bytes(), &[0, 0, 1, 1]);
        // i32 with broadcasting and wrapping overflow.
        let x = t(&[2, 1], &[i32::MAX, -9]);
        let y = t(&[3], &[1i32, 2, -4]);
        assert_eq!(binary(Binary::Add, &x, &y).as_slice::<i32>().unwrap(), &[i32::MIN, i32::MIN + 1, i32::MAX - 4, -8, -7, -13]);
        assert_eq!(binary(Binary::Div, &x, &y).as_slice::<i32>().unwrap(), &[i32::MAX, i32::MAX / 2, -(i32::MAX / 4), -9, -4, 2]);
        assert_eq!(binary(Binary::Greater, &x, &y).bytes(), &[1, 1, 1, 0, 0, 0]);
        // 8-bit integers are quantized data here: no arithmetic on them.
        let u = t(&[3], &[250u8, 3, 9]);
        let e = run(&Op::Binary(Binary::Add), &[Some(&u), Some(&u)], 1).unwrap_err().to_string();
        assert!(e.contains("u8"), "{e}");
    }

    #[test]
    fn integer_division_by_zero_is_an_error() {
        let a = t(&[3], &[1i64, 2, 3]);
        let b = t(&[3], &[1i64, 0, 1]);
        let e = run(&Op::Binary(Binary::Div), &[Some(&a), Some(&b)], 1).unwrap_err().to_string();
        assert!(e.contains("division by zero"), "{e}");
        let a = t(&[1], &[1i32]);
        let z = t(&[], &[0i32]);
        assert!(run(&Op::Binary(Binary::Div), &[Some(&a), Some(&z)], 1).is_err());
    }

    #[test]
    fn bool_logic() {
        let a = t_bool(&[2, 1], &[1, 0]);
        let b = t_bool(&[3], &[1, 0, 1]);
        assert_eq!(binary(Binary::And, &a, &b).bytes(), &[1, 0, 1, 0, 0, 0]);
        assert_eq!(binary(Binary::Or, &a, &b).bytes(), &[1, 1, 1, 1, 0, 1]);
        assert_eq!(binary(Binary::Equal, &a, &b).bytes(), &[1, 0, 1, 0, 1, 0]);
    }

    #[test]
    fn binary_errors() {
        let f = t(&[2, 3], &[0f32; 6]);
        let g = t(&[4], &[0f32; 4]);
        let e = run(&Op::Binary(Binary::Add), &[Some(&f), Some(&g)], 1).unwrap_err().to_string();
        assert!(e.contains("broadcast"), "{e}");
        let i = t(&[3], &[0i64; 3]);
        let e = run(&Op::Binary(Binary::Add), &[Some(&f), Some(&i)], 1).unwrap_err().to_string();
        assert!(e.contains("different types"), "{e}");
        assert!(run(&Op::Binary(Binary::Pow), &[Some(&i), Some(&i)], 1).is_err());
        assert!(run(&Op::Binary(Binary::And), &[Some(&f), Some(&f)], 1).is_err());
        assert!(run(&Op::Binary(Binary::Add), &[Some(&f), None], 1).is_err());
        assert!(infer_binary(Binary::Add, &[]).is_err());
    }

    #[test]
    fn binary_symbolic_inference() {
        let a = [sym("batch"), Dim::Fixed(1), Dim::Fixed(3)];
        let b = fx(&[4, 1]);
        let out = infer_dims(&Op::Binary(Binary::Add), &[Some((DType::F32, &a)), Some((DType::F32, &b))], 1).unwrap();
        assert_eq!(out[0].shape, Some(vec![sym("batch"), Dim::Fixed(4), Dim::Fixed(3)]));
        let out = infer_dims(&Op::Binary(Binary::Less), &[Some((DType::I64, &a)), Some((DType::I64, &b))], 1).unwrap();
        assert_eq!(out[0].dtype, DType::Bool);
        let bad = fx(&[2, 5]);
        assert!(infer_dims(&Op::Binary(Binary::Add), &[Some((DType::F32, &a)), Some((DType::F32, &bad))], 1).is_err());
    }

    #[test]
    fn where_broadcasts_all_three() {
        let cond = t_bool(&[2, 1, 3], &[1, 0, 1, 0, 0, 1]);
        let a = t(&[1, 4, 1], &[10.0f32, 11.0, 12.0, 13.0]);
        let b = t(&[], &[-1.0f32]);
        let y = run(&Op::Where, &[Some(&cond), Some(&a), Some(&b)], 1).unwrap().remove(0);
        assert_eq!(y.shape(), &[2, 4, 3]);
        assert_close(
            &f32s(&y),
            &[
                10.0, -1.0, 10.0, 11.0, -1.0, 11.0, 12.0, -1.0, 12.0, 13.0, -1.0, 13.0, -1.0, -1.0, 10.0, -1.0, -1.0, 11.0, -1.0, -1.0,
                12.0, -1.0, -1.0, 13.0,
            ],
            0.0,
            0.0,
        );
        let c2 = t_bool(&[2, 3], &[1, 0, 0, 0, 1, 1]);
        let wi = t(&[2, 1], &[100i64, 200]);
        let wj = t(&[3], &[1i64, 2, 3]);
        let y = run(&Op::Where, &[Some(&c2), Some(&wi), Some(&wj)], 1).unwrap().remove(0);
        assert_eq!(y.as_slice::<i64>().unwrap(), &[100, 2, 3, 1, 200, 200]);
        // The condition must be bool; operands must agree.
        let f = t(&[2, 3], &[0f32; 6]);
        assert!(run(&Op::Where, &[Some(&f), Some(&wi), Some(&wj)], 1).is_err());
        assert!(run(&Op::Where, &[Some(&c2), Some(&f), Some(&wj)], 1).is_err());
    }

    #[test]
    fn cast_follows_onnx_rules() {
        let x = t(&[8], &[-300.7f32, -2.7, -0.5, -0.0, 0.5, 2.7, 127.9, 300.2]);
        let cast = |x: &Tensor, to: DType| run(&Op::Cast { to }, &[Some(x)], 1).unwrap().remove(0);
        // Float to int truncates toward zero.
        assert_eq!(cast(&x, DType::I32).as_slice::<i32>().unwrap(), &[-300, -2, 0, 0, 0, 2, 127, 300]);
        assert_eq!(cast(&x, DType::I64).as_slice::<i64>().unwrap(), &[-300, -2, 0, 0, 0, 2, 127, 300]);
        // To f16: bits from numpy's astype(float16).
        let h = cast(&x, DType::F16);
        let bits: Vec<u16> = h.bytes().chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        assert_eq!(bits, [56499, 49510, 47104, 32768, 14336, 16742, 22526, 23729]);
        assert_close(&f32s(&cast(&h, DType::F32)), &[-300.75, -2.69921875, -0.5, -0.0, 0.5, 2.69921875, 127.875, 300.25], 0.0, 0.0);
        // To bool is != 0 (NaN is true, -0.0 is false).
        let z = t(&[4], &[0.0f32, -0.0, f32::NAN, 1e-30]);
        assert_eq!(cast(&z, DType::Bool).bytes(), &[0, 0, 1, 1]);
        // Integer narrowing keeps the low bits (numpy astype).
        let ii = t(&[7], &[300i64, -1, 128, -129, 255, 1 << 40, -(1 << 40) + 3]);
        assert_eq!(cast(&ii, DType::I8).as_slice::<i8>().unwrap(), &[44, -1, -128, 127, -1, 0, 3]);
        assert_eq!(cast(&ii, DType::U8).as_slice::<u8>().unwrap(), &[44, 255, 128, 127, 255, 0, 3]);
        assert_eq!(cast(&ii, DType::I32).as_slice::<i32>().unwrap(), &[300, -1, 128, -129, 255, 0, 3]);
        assert_close(&f32s(&cast(&ii, DType::F32)), &[300.0, -1.0, 128.0, -129.0, 255.0, 1099511627776.0, -1099511627776.0], 0.0, 0.0);
        // i64 -> f32 rounds once, to nearest even.
        let big = t(&[3], &[16777217i64, -16777219, (1 << 62) + 1]);
        assert_close(&f32s(&cast(&big, DType::F32)), &[16777216.0, -16777220.0, 4.611686018427388e18], 0.0, 0.0);
        // Bool and u8 sources.
        let b = t_bool(&[3], &[1, 0, 1]);
        assert_close(&f32s(&cast(&b, DType::F32)), &[1.0, 0.0, 1.0], 0.0, 0.0);
        assert_eq!(cast(&b, DType::I64).as_slice::<i64>().unwrap(), &[1, 0, 1]);
        let u = t(&[2], &[200u8, 7]);
        assert_eq!(cast(&u, DType::I8).as_slice::<i8>().unwrap(), &[-56, 7]);
        assert_eq!(cast(&u, DType::Bool).bytes(), &[1, 1]);
        // Same type: a copy.
        assert_eq!(cast(&ii, DType::I64).as_slice::<i64>().unwrap(), ii.as_slice::<i64>().unwrap());
    }

    #[test]
    fn dequantize_f16() {
        // numpy float16 bit patterns of [0.1, -2.5, 65504, 6.1e-5, 3e-7 (subnormal)].
        let bits: [u16; 5] = [11878, 49408, 31743, 1023, 5];
        let bytes: Vec<u8> = bits.iter().flat_map(|b| b.to_le_bytes()).collect();
        let h = Tensor::from_bytes(DType::F16, &[5], &bytes).unwrap();
        let y = run(&Op::Dequantize, &[Some(&h)], 1).unwrap().remove(0);
        assert_eq!(y.dtype(), DType::F32);
        assert_close(&f32s(&y), &[0.0999755859375, -2.5, 65504.0, 6.097555160522461e-05, 2.980232238769531e-07], 0.0, 0.0);
        let f = t(&[1], &[1.0f32]);
        let e = run(&Op::Dequantize, &[Some(&f)], 1).unwrap_err().to_string();
        assert!(e.contains("f16"), "{e}");
    }

    /// A naive broadcast of `f` over `a` and `b`, element by element from coordinates: the
    /// oracle for the fast paths on large tensors.
    fn naive(a: &Tensor, b: &Tensor, f: impl Fn(f32, f32) -> f32) -> (Vec<usize>, Vec<f32>) {
        let out = util::broadcast_shapes(a.shape(), b.shape()).unwrap();
        let n: usize = out.iter().product();
        let index = |shape: &[usize], mut lin: usize| {
            let mut off = 0;
            let mut stride = 1;
            for (k, &d) in out.iter().enumerate().rev() {
                let i = lin % d;
                lin /= d;
                if let Some(j) = (k + shape.len()).checked_sub(out.len()) {
                    if shape[j] != 1 {
                        off += i * stride;
                    }
                    stride *= shape[j];
                }
            }
            off
        };
        let (av, bv) = (a.as_slice::<f32>().unwrap(), b.as_slice::<f32>().unwrap());
        (out.clone(), (0..n).map(|l| f(av[index(a.shape(), l)], bv[index(b.shape(), l)])).collect())
    }

    fn pattern(shape: &[usize], seed: usize) -> Tensor {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|i| ((i * 7 + seed * 13) % 23) as f32 * 0.25 - 2.0).collect();
        t(shape, &v)
    }

    #[test]
    fn large_broadcasts_split_over_threads() {
        // Sizes past PAR_CHUNK so work is split, with rows that straddle chunk edges.
        let cases: [(&[usize], &[usize]); 6] = [
            (&[3, 97, 113], &[3, 97, 113]),     // same shape
            (&[3, 97, 113], &[]),               // scalar
            (&[1, 61, 67, 24], &[24]),          // per-channel, NHWC
            (&[24], &[1, 61, 67, 24]),          // per-channel on the left
            (&[2, 24, 61, 67], &[24, 1, 1]),    // per-channel, NCHW
            (&[5, 1, 131, 1], &[1, 67, 1, 29]), // general
        ];
        for (sa, sb) in cases {
            let (a, b) = (pattern(sa, 1), pattern(sb, 2));
            for (op, f) in [(Binary::Mul, (|x, y| x * y) as fn(f32, f32) -> f32), (Binary::Sub, |x, y| x - y)] {
                let (shape, want) = naive(&a, &b, f);
                for threads in [1, 2, 3] {
                    let got = run_par(&Op::Binary(op), &[Some(&a), Some(&b)], 1, threads).unwrap().remove(0);
                    assert_eq!(got.shape(), shape.as_slice());
                    assert_close(&f32s(&got), &want, 0.0, 0.0);
                }
            }
        }
        let x = pattern(&[3, 97, 113], 3);
        let y = run_par(&Op::Unary(Unary::Act(Activation::Relu)), &[Some(&x)], 1, 2).unwrap().remove(0);
        let want: Vec<f32> = f32s(&x).iter().map(|v| v.max(0.0)).collect();
        assert_close(&f32s(&y), &want, 0.0, 0.0);
    }

    #[test]
    fn empty_tensors() {
        let a = t::<f32>(&[0, 3], &[]);
        let b = t(&[3], &[1.0f32, 2.0, 3.0]);
        let y = binary(Binary::Add, &a, &b);
        assert_eq!(y.shape(), &[0, 3]);
        assert_eq!(unary(Unary::Exp, &a).shape(), &[0, 3]);
    }
}
