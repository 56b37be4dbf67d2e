//! Matrix products: [`Op::Gemm`] (`alpha * op(A) @ op(B) + beta * C`, then a fused
//! activation) and [`Op::MatMul`] (numpy semantics: 1-D operands promoted, batch
//! dimensions broadcast). Shape inference and the f32 reference kernels.
//!
//! Both kernels compute one output row at a time in i-k-j order: the row is a contiguous
//! accumulator and each step adds a multiple of a contiguous row of `B`, four rows of `B`
//! at a time, so the inner loop vectorizes and the accumulator is read and written once
//! per four products. `B` must be `[K, N]` row-major for that: a transposed `B`
//! (`trans_b`) is transposed once at load when it is a constant, into the workspace per
//! run otherwise. A one-column product (`N == 1`) is a dot product per row instead.
//!
//! Gemm skips `C` when `beta == 0` (as BLAS and onnxruntime do), so a `C` holding
//! infinities does not turn the output into NaN.

use std::sync::Arc;

use super::conv::{PackedF32, activate, all_f32, downcast_packed, input_f32, optional_input_f32, output_f32, workspace_f32};
use super::util::{
    PAR_CHUNK, broadcast_dims, broadcast_shapes, check_planned_shapes, expect_dtype, expect_rank, fact, show, unknown_dim,
};
use super::{Fact, OutFact};
use crate::error::Result;
use crate::ir::{Activation, DType, Dim, Gemm, Op, OpKind};
use crate::kernel::{Kernel, KernelFactory, KernelIo, KernelRegistry, NodeCtx, Packed, Parallel};

// ---------------------------------------------------------------------------------------
// Shape inference.
// ---------------------------------------------------------------------------------------

/// Checks that two possibly symbolic contraction sizes agree.
fn check_k(ka: &Dim, kb: &Dim, a: &[Dim], b: &[Dim]) -> Result<(), String> {
    if let (Some(x), Some(y)) = (ka.fixed(), kb.fixed())
        && x != y
    {
        return Err(format!("A {} and B {} do not agree on K ({x} vs {y})", show(a), show(b)));
    }
    Ok(())
}

/// Shape inference of [`Op::Gemm`].
pub(super) fn infer_gemm(g: &Gemm, inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let a = fact(inputs, 0, "A")?;
    let b = fact(inputs, 1, "B")?;
    expect_dtype(a, &[DType::F32], "A")?;
    expect_dtype(b, &[DType::F32], "B")?;
    let asz = a.shape.map(|s| expect_rank(s, 2, "A")).transpose()?;
    let bsz = b.shape.map(|s| expect_rank(s, 2, "B")).transpose()?;
    let (m, ka) = asz.map_or((unknown_dim(), unknown_dim()), |s| {
        if g.trans_a { (s[1].clone(), s[0].clone()) } else { (s[0].clone(), s[1].clone()) }
    });
    let (kb, n) = bsz.map_or((unknown_dim(), unknown_dim()), |s| {
        if g.trans_b { (s[1].clone(), s[0].clone()) } else { (s[0].clone(), s[1].clone()) }
    });
    if let (Some(asz), Some(bsz)) = (asz, bsz) {
        check_k(&ka, &kb, asz, bsz)?;
    }
    if let Some(c) = inputs.get(2).copied().flatten() {
        expect_dtype(&c, &[DType::F32], "C")?;
        if let Some(cs) = c.shape {
            if cs.len() > 2 {
                return Err(format!("C must have rank 2 or less, got shape {}", show(cs)));
            }
            let target = [&m, &n];
            for (cd, td) in cs.iter().rev().zip(target.iter().rev()) {
                if let (Some(x), Some(y)) = (cd.fixed(), td.fixed())
                    && x != 1
                    && x != y
                {
                    return Err(format!("C {} does not broadcast to [M, N] = [{m}, {n}]", show(cs)));
                }
            }
        }
    }
    Ok(vec![OutFact { dtype: DType::F32, shape: Some(vec![m, n]) }])
}

/// Shape inference of [`Op::MatMul`].
pub(super) fn infer_matmul(inputs: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> {
    let a = fact(inputs, 0, "A")?;
    let b = fact(inputs, 1, "B")?;
    expect_dtype(a, &[DType::F32], "A")?;
    expect_dtype(b, &[DType::F32], "B")?;
    let (Some(asz), Some(bsz)) = (a.shape, b.shape) else {
        return Ok(vec![OutFact { dtype: DType::F32, shape: None }]);
    };
    if asz.is_empty() || bsz.is_empty() {
        return Err(format!("MatMul operands must have rank 1 or more, got {} and {}", show(asz), show(bsz)));
    }
    // numpy: a 1-D A is a row [1, K], a 1-D B a column [K, 1]; the added axis is removed
    // from the result.
    let a2: Vec<Dim> = if asz.len() == 1 { vec![Dim::Fixed(1), asz[0].clone()] } else { asz.to_vec() };
    let b2: Vec<Dim> = if bsz.len() == 1 { vec![bsz[0].clone(), Dim::Fixed(1)] } else { bsz.to_vec() };
    let (ra, rb) = (a2.len(), b2.len());
    check_k(&a2[ra - 1], &b2[rb - 2], asz, bsz)?;
    let mut out = broadcast_dims(&a2[..ra - 2], &b2[..rb - 2])
        .map_err(|e| format!("the batch dimensions of A {} and B {} do not broadcast: {e}", show(asz), show(bsz)))?;
    if asz.len() > 1 {
        out.push(a2[ra - 2].clone());
    }
    if bsz.len() > 1 {
        out.push(b2[rb - 1].clone());
    }
    Ok(vec![OutFact { dtype: DType::F32, shape: Some(out) }])
}

// ---------------------------------------------------------------------------------------
// Shared inner loops.
// ---------------------------------------------------------------------------------------

/// One row of A: element `k` is `alpha * data[offset + k * step]`.
#[derive(Clone, Copy)]
struct RowOfA<'a> {
    data: &'a [f32],
    offset: usize,
    step: usize,
    alpha: f32,
}

/// `dst[j] += sum_k A(k) * b[k * ldb + j0 + j]` for `k < depth`.
#[inline]
fn accumulate_row(a: RowOfA<'_>, depth: usize, b: &[f32], ldb: usize, j0: usize, dst: &mut [f32]) {
    let len = dst.len();
    let a_at = |k: usize| a.alpha * a.data[a.offset + k * a.step];
    let b_row = |k: usize| &b[k * ldb + j0..][..len];
    let mut k = 0;
    while k + 4 <= depth {
        let (a0, a1, a2, a3) = (a_at(k), a_at(k + 1), a_at(k + 2), a_at(k + 3));
        let (b0, b1, b2, b3) = (b_row(k), b_row(k + 1), b_row(k + 2), b_row(k + 3));
        for ((((d, &x0), &x1), &x2), &x3) in dst.iter_mut().zip(b0).zip(b1).zip(b2).zip(b3) {
            *d += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
        }
        k += 4;
    }
    while k < depth {
        let ak = a_at(k);
        for (d, &x) in dst.iter_mut().zip(b_row(k)) {
            *d += ak * x;
        }
        k += 1;
    }
}

/// `sum_k a[a_off + k * a_step] * b[k]` over `b.len()` terms.
#[inline]
fn dot(a: &[f32], a_off: usize, a_step: usize, b: &[f32]) -> f32 {
    if a_step == 1 {
        const LANES: usize = 8;
        let a = &a[a_off..][..b.len()];
        let (ac, at) = a.as_chunks::<LANES>();
        let (bc, bt) = b.as_chunks::<LANES>();
        let mut acc = [0.0f32; LANES];
        for (x, y) in ac.iter().zip(bc) {
            for j in 0..LANES {
                acc[j] += x[j] * y[j];
            }
        }
        let tail: f32 = at.iter().zip(bt).map(|(x, y)| x * y).sum();
        acc.iter().sum::<f32>() + tail
    } else {
        b.iter().enumerate().map(|(k, &y)| a[a_off + k * a_step] * y).sum()
    }
}

/// Calls `row(r, j0, dst)` for the output `[rows, n]`, where `dst` is columns
/// `j0..j0 + dst.len()` of row `r`. Rows are spread over the threads; when there are too
/// few rows to keep the threads busy, the columns of each row are split instead.
fn for_each_row_part(
    par: &Parallel<'_>,
    out: &mut [f32],
    rows: usize,
    n: usize,
    depth: usize,
    row: impl Fn(usize, usize, &mut [f32]) + Sync + Send,
) {
    if rows == 0 || n == 0 {
        return;
    }
    let threads = par.threads();
    if threads > 1 && rows < 2 * threads && n >= 64 {
        let cols = n.div_ceil(threads).next_multiple_of(16);
        for (r, out_row) in out.chunks_exact_mut(n).enumerate() {
            par.for_each_chunk_mut(out_row, cols, |ci, seg| row(r, ci * cols, seg));
        }
        return;
    }
    let work_per_row = (n * depth).max(1);
    let rows_per_task = (PAR_CHUNK / work_per_row).clamp(1, rows.div_ceil(threads));
    par.for_each_chunk_mut(out, rows_per_task * n, |ci, chunk| {
        for (i, dst) in chunk.chunks_exact_mut(n).enumerate() {
            row(ci * rows_per_task + i, 0, dst);
        }
    });
}

// ---------------------------------------------------------------------------------------
// Gemm.
// ---------------------------------------------------------------------------------------

/// Transposes `src` (`[rows, cols]`) into `dst` (`[cols, rows]`).
fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    for (r, src_row) in src.chunks_exact(cols).enumerate().take(rows) {
        for (c, &v) in src_row.iter().enumerate() {
            dst[c * rows + r] = v;
        }
    }
}

/// `f32-gemm-reference`.
#[derive(Debug)]
struct GemmFactory;

impl KernelFactory for GemmFactory {
    fn id(&self) -> &str {
        "f32-gemm-reference"
    }

    fn op(&self) -> OpKind {
        OpKind::Gemm
    }

    fn applies(&self, ctx: &NodeCtx<'_>) -> bool {
        matches!(ctx.node.op, Op::Gemm(_)) && all_f32(ctx)
    }

    /// Transposes a constant `B` stored `[N, K]` (`trans_b`) into `[K, N]`.
    fn prepack(&self, ctx: &NodeCtx<'_>) -> Result<Option<Packed>> {
        let Op::Gemm(g) = &ctx.node.op else { return Err(ctx.err("not a Gemm node")) };
        let Some(value) = ctx.input_value(1).filter(|_| g.trans_b) else { return Ok(None) };
        let &[n, k] = ctx.input_shape(1)? else { return Err(ctx.err("B must have rank 2")) };
        let b = super::util::f32_values(value.bytes()).map_err(|e| ctx.err(format!("B: {e}")))?;
        if b.len() != n * k {
            return Err(ctx.err(format!("B holds {} values, its shape needs {}", b.len(), n * k)));
        }
        let mut data = vec![0.0; n * k];
        transpose(&b, n, k, &mut data);
        Ok(Some(Arc::new(PackedF32(data))))
    }

    fn build(&self, ctx: &NodeCtx<'_>, packed: Option<Packed>) -> Result<Box<dyn Kernel>> {
        let Op::Gemm(g) = &ctx.node.op else { return Err(ctx.err("not a Gemm node")) };
        check_planned_shapes(ctx)?;
        let &[a0, a1] = ctx.input_shape(0)? else { return Err(ctx.err("A must have rank 2")) };
        let &[b0, b1] = ctx.input_shape(1)? else { return Err(ctx.err("B must have rank 2")) };
        let (m, k) = if g.trans_a { (a1, a0) } else { (a0, a1) };
        let n = if g.trans_b { b0 } else { b1 };
        // C[i, j] = c[i * row_step + j * col_step], broadcast from its own shape.
        let c = match ctx.inputs.get(2).copied().flatten() {
            Some((_, shape)) => {
                let padded: Vec<usize> =
                    std::iter::repeat_n(1, 2usize.saturating_sub(shape.len())).chain(shape.iter().copied()).collect();
                let &[c0, c1] = padded.as_slice() else { return Err(ctx.err("C must have rank 2 or less")) };
                Some(CLayout { len: c0 * c1, row_step: if c0 == 1 { 0 } else { c1 }, col_step: if c1 == 1 { 0 } else { 1 } })
            }
            None => None,
        };
        let packed = if g.trans_b { downcast_packed(ctx, packed, k * n)? } else { None };
        Ok(Box::new(GemmKernel {
            m,
            k,
            n,
            alpha: g.alpha,
            beta: g.beta,
            trans_a: g.trans_a,
            trans_b: g.trans_b,
            act: g.activation,
            c,
            packed,
        }))
    }
}

/// How the `C` operand maps onto `[M, N]`.
#[derive(Debug, Clone, Copy)]
struct CLayout {
    len: usize,
    row_step: usize,
    col_step: usize,
}

#[derive(Debug)]
struct GemmKernel {
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    beta: f32,
    trans_a: bool,
    trans_b: bool,
    act: Activation,
    c: Option<CLayout>,
    /// `B` transposed to `[K, N]` at load (constant `B` with `trans_b`).
    packed: Option<Arc<PackedF32>>,
}

impl Kernel for GemmKernel {
    fn workspace_bytes(&self) -> usize {
        if self.trans_b && self.packed.is_none() { self.k * self.n * 4 } else { 0 }
    }

    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let (m, k, n) = (self.m, self.k, self.n);
        let a = input_f32(&io, 0, m * k)?;
        let b_in = input_f32(&io, 1, k * n)?;
        let c = match self.c {
            Some(layout) if self.beta != 0.0 => optional_input_f32(&io, 2, layout.len)?.map(|c| (c, layout)),
            _ => None,
        };
        let b: &[f32] = match (&self.packed, self.trans_b) {
            (Some(p), _) => &p.0,
            (None, false) => b_in,
            (None, true) => {
                let dst = workspace_f32(io.workspace, k * n)?;
                transpose(b_in, n, k, dst);
                dst
            }
        };
        let out = output_f32(io.outputs, 0, m * n)?;
        let (a_row_step, a_col_step) = if self.trans_a { (1, m) } else { (k, 1) };
        for_each_row_part(par, out, m, n, k, |i, j0, dst| {
            match c {
                Some((c, l)) => {
                    for (j, d) in dst.iter_mut().enumerate() {
                        *d = self.beta * c[i * l.row_step + (j0 + j) * l.col_step];
                    }
                }
                None => dst.fill(0.0),
            }
            if n == 1 {
                dst[0] += self.alpha * dot(a, i * a_row_step, a_col_step, &b[..k]);
            } else {
                let row = RowOfA { data: a, offset: i * a_row_step, step: a_col_step, alpha: self.alpha };
                accumulate_row(row, k, b, n, j0, dst);
            }
            activate(self.act, dst);
        });
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// MatMul.
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct MatMulKernel {
    m: usize,
    k: usize,
    n: usize,
    /// Output batch dims with A's and B's element strides (0 where broadcast).
    batch: Vec<(usize, usize, usize)>,
    batch_count: usize,
    a_len: usize,
    b_len: usize,
}

fn build_matmul(ctx: &NodeCtx<'_>) -> Result<Box<dyn Kernel>> {
    check_planned_shapes(ctx)?;
    let a_shape = ctx.input_shape(0)?;
    let b_shape = ctx.input_shape(1)?;
    let a2: Vec<usize> = if a_shape.len() == 1 { vec![1, a_shape[0]] } else { a_shape.to_vec() };
    let b2: Vec<usize> = if b_shape.len() == 1 { vec![b_shape[0], 1] } else { b_shape.to_vec() };
    if a2.len() < 2 || b2.len() < 2 {
        return Err(ctx.err("MatMul operands must have rank 1 or more"));
    }
    let (ra, rb) = (a2.len(), b2.len());
    let (m, k, n) = (a2[ra - 2], a2[ra - 1], b2[rb - 1]);
    let (a_batch, b_batch) = (&a2[..ra - 2], &b2[..rb - 2]);
    let out_batch = broadcast_shapes(a_batch, b_batch).map_err(|e| ctx.err(e))?;
    let rank = out_batch.len();
    let mut batch = vec![(0usize, 0usize, 0usize); rank];
    let (mut a_step, mut b_step) = (m * k, k * n);
    for i in (0..rank).rev() {
        // Operand dims are right-aligned against the output batch dims.
        let a_dim = (i + a_batch.len()).checked_sub(rank).map_or(1, |j| a_batch[j]);
        let b_dim = (i + b_batch.len()).checked_sub(rank).map_or(1, |j| b_batch[j]);
        batch[i] = (out_batch[i], if a_dim == 1 { 0 } else { a_step }, if b_dim == 1 { 0 } else { b_step });
        a_step *= a_dim;
        b_step *= b_dim;
    }
    Ok(Box::new(MatMulKernel {
        m,
        k,
        n,
        batch_count: out_batch.iter().product(),
        batch,
        a_len: a_shape.iter().product(),
        b_len: b_shape.iter().product(),
    }))
}

impl MatMulKernel {
    /// Element offsets of batch item `bi` in A and B.
    fn batch_offsets(&self, mut bi: usize) -> (usize, usize) {
        let (mut a_off, mut b_off) = (0, 0);
        for &(len, a_step, b_step) in self.batch.iter().rev() {
            let i = bi % len;
            bi /= len;
            a_off += i * a_step;
            b_off += i * b_step;
        }
        (a_off, b_off)
    }
}

impl Kernel for MatMulKernel {
    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()> {
        let (m, k, n) = (self.m, self.k, self.n);
        let a = input_f32(&io, 0, self.a_len)?;
        let b = input_f32(&io, 1, self.b_len)?;
        let rows = self.batch_count * m;
        let out = output_f32(io.outputs, 0, rows * n)?;
        for_each_row_part(par, out, rows, n, k, |r, j0, dst| {
            let (a_off, b_off) = self.batch_offsets(r / m.max(1));
            let a_row = a_off + (r % m.max(1)) * k;
            if n == 1 {
                dst[0] = dot(a, a_row, 1, &b[b_off..][..k]);
            } else {
                dst.fill(0.0);
                accumulate_row(RowOfA { data: a, offset: a_row, step: 1, alpha: 1.0 }, k, &b[b_off..], n, j0, dst);
            }
        });
        Ok(())
    }
}

/// Registers `f32-gemm-reference` and `f32-matmul-reference`.
pub(super) fn register(r: &mut KernelRegistry) {
    r.register(Arc::new(GemmFactory));
    super::util::register_ref(r, "f32-matmul-reference", OpKind::MatMul, all_f32, build_matmul);
}

#[cfg(test)]
mod tests {
    use super::super::conv::test_support::*;
    use super::*;
    use crate::tensor::Tensor;

    include!("testdata/matmul_fixtures.rs");

    fn gemm(trans_a: bool, trans_b: bool, alpha: f32, beta: f32, activation: Activation) -> Op {
        Op::Gemm(Gemm { alpha, beta, trans_a, trans_b, activation })
    }

    /// Runs a Gemm fixture on the generator's inputs (A seed 11, B seed 12, C seed 13).
    fn check_gemm(op: Op, m: usize, k: usize, n: usize, c_shape: Option<&[usize]>, want: &Fixture) {
        let Op::Gemm(g) = &op else { unreachable!() };
        let a = tensor(&if g.trans_a { [k, m] } else { [m, k] }, 11);
        let b = tensor(&if g.trans_b { [n, k] } else { [k, n] }, 12);
        let c = c_shape.map(|s| tensor(s, 13));
        check_op(&op, &[Some(&a), Some(&b), c.as_ref()], &[false, false, true], want, 1e-5);
    }

    #[test]
    fn gemm_fixtures() {
        check_gemm(gemm(false, false, 1.0, 1.0, Activation::None), 3, 5, 4, None, &GEMM_PLAIN);
        check_gemm(gemm(true, false, 1.0, 1.0, Activation::None), 3, 6, 5, Some(&[5]), &GEMM_TRANS_A);
        check_gemm(gemm(false, true, 0.5, 2.0, Activation::None), 4, 7, 3, Some(&[4, 1]), &GEMM_TRANS_B);
        check_gemm(gemm(true, true, -1.5, 0.25, Activation::None), 2, 9, 6, Some(&[1, 6]), &GEMM_TRANS_AB);
        check_gemm(gemm(false, false, 1.0, -1.0, Activation::Relu), 3, 4, 5, Some(&[]), &GEMM_SCALAR_C);
        check_gemm(gemm(false, true, 2.0, 1.0, Activation::None), 5, 6, 1, Some(&[5, 1]), &GEMM_FULL_C_N1);
    }

    #[test]
    fn matmul_fixtures() {
        let cases: [(&[usize], &[usize], &Fixture); 6] = [
            (&[7], &[7], &MM_1D_1D),
            (&[4], &[2, 4, 5], &MM_1D_3D),
            (&[2, 3, 4], &[4], &MM_3D_1D),
            (&[2, 1, 3, 4], &[5, 4, 6], &MM_BCAST),
            (&[3, 9], &[9, 1], &MM_N1),
            (&[5, 11], &[11, 13], &MM_2D),
        ];
        for (a, b, want) in cases {
            let (a, b) = (tensor(a, 14), tensor(b, 15));
            check_op(&Op::MatMul, &[Some(&a), Some(&b)], &[false, false], want, 1e-5);
        }
    }

    #[test]
    fn gemm_hand_computed() {
        // [[1, 2], [3, 4]] @ [[5, 6], [7, 8]] = [[19, 22], [43, 50]]; + beta * [10, 20].
        let a = Tensor::from_slice(&[2, 2], &[1.0f32, 2.0, 3.0, 4.0]).unwrap();
        let b = Tensor::from_slice(&[2, 2], &[5.0f32, 6.0, 7.0, 8.0]).unwrap();
        let c = Tensor::from_slice(&[2], &[10.0f32, 20.0]).unwrap();
        let op = gemm(false, false, 1.0, 0.5, Activation::None);
        let y = crate::ops::eval(&op, &[Some(a.view()), Some(b.view()), Some(c.view())], 1).unwrap();
        assert_eq!(y[0].as_slice::<f32>().unwrap(), &[24.0, 32.0, 48.0, 60.0]);
        // beta = 0 ignores C entirely, infinities included.
        let inf = Tensor::from_slice(&[1], &[f32::INFINITY]).unwrap();
        let op = gemm(false, false, 1.0, 0.0, Activation::None);
        let y = crate::ops::eval(&op, &[Some(a.view()), Some(b.view()), Some(inf.view())], 1).unwrap();
        assert_eq!(y[0].as_slice::<f32>().unwrap(), &[19.0, 22.0, 43.0, 50.0]);
    }

    /// `A @ B` by the textbook triple loop with numpy broadcasting of batch dims.
    fn naive_matmul(a: &Tensor, b: &Tensor) -> Vec<f32> {
        let (ash, bsh) = (a.shape(), b.shape());
        let (m, k, n) = (ash[ash.len() - 2], ash[ash.len() - 1], bsh[bsh.len() - 1]);
        let out_batch = crate::ops::util::broadcast_shapes(&ash[..ash.len() - 2], &bsh[..bsh.len() - 2]).unwrap();
        let (av, bv) = (a.as_slice::<f32>().unwrap(), b.as_slice::<f32>().unwrap());
        let count: usize = out_batch.iter().product();
        let index = |shape: &[usize], mut bi: usize| {
            // Offset of output batch item `bi` in an operand with batch dims `shape`.
            let mut off = 0;
            let mut step = 1;
            for (i, &d) in out_batch.iter().enumerate().rev() {
                let coord = bi % d;
                bi /= d;
                let j = (i + shape.len()).checked_sub(out_batch.len());
                if let Some(j) = j {
                    if shape[j] != 1 {
                        off += coord * step;
                    }
                    step *= shape[j];
                }
            }
            off
        };
        let mut y = Vec::new();
        for bi in 0..count {
            let ao = index(&ash[..ash.len() - 2], bi) * m * k;
            let bo = index(&bsh[..bsh.len() - 2], bi) * k * n;
            for i in 0..m {
                for j in 0..n {
                    y.push((0..k).map(|p| av[ao + i * k + p] * bv[bo + p * n + j]).sum());
                }
            }
        }
        y
    }

    #[test]
    fn matmul_randomized_against_triple_loop() {
        let mut rng = Lcg(21);
        for case in 0..80 {
            let (m, k, n) = (rng.range(1, 9), rng.range(1, 40), [1, 2, 5, 17, 70, 130][rng.range(0, 5)]);
            let mut batch_a: Vec<usize> = (0..rng.range(0, 2)).map(|_| rng.range(1, 3)).collect();
            let mut batch_b: Vec<usize> = batch_a.iter().map(|&d| if rng.range(0, 2) == 0 { 1 } else { d }).collect();
            if rng.range(0, 1) == 1 {
                batch_b.insert(0, rng.range(1, 3));
            }
            if rng.range(0, 2) == 0 {
                batch_a.iter_mut().for_each(|d| *d = 1);
            }
            let a = tensor(&[batch_a.as_slice(), &[m, k]].concat(), case);
            let b = tensor(&[batch_b.as_slice(), &[k, n]].concat(), case + 1);
            let want = naive_matmul(&a, &b);
            let got = eval_with(&Op::MatMul, &[Some((&a, false)), Some((&b, rng.range(0, 1) == 1))], 1, rng.range(1, 3))
                .unwrap_or_else(|e| panic!("case {case}: {e}"));
            assert_close(
                got[0].as_slice::<f32>().unwrap(),
                &want,
                1e-5,
                &format!("case {case} {:?} x {:?}", a.shape(), b.shape()),
            );
        }
    }

    #[test]
    fn gemm_one_row_splits_columns() {
        // M = 1 with many columns: the threads split the row.
        let (a, b, c) = (tensor(&[1, 37], 1), tensor(&[300, 37], 2), tensor(&[300], 3));
        let op = gemm(false, true, 1.0, 1.0, Activation::None);
        let got = eval_with(&op, &[Some((&a, false)), Some((&b, false)), Some((&c, true))], 1, 3).unwrap();
        let (av, bv, cv) = (a.as_slice::<f32>().unwrap(), b.as_slice::<f32>().unwrap(), c.as_slice::<f32>().unwrap());
        let want: Vec<f32> = (0..300).map(|j| cv[j] + (0..37).map(|p| av[p] * bv[j * 37 + p]).sum::<f32>()).collect();
        assert_close(got[0].as_slice::<f32>().unwrap(), &want, 1e-5, "gemm 1x37 @ (300x37)^T");
    }

    #[test]
    fn shape_inference() {
        let f = |s: &[&str]| Some((DType::F32, Some(dims(s))));
        let g = gemm(true, false, 1.0, 1.0, Activation::None);
        assert_eq!(infer_dims(&g, &[f(&["K", "M"]), f(&["K", "10"])]), Ok(Some(dims(&["M", "10"]))));
        assert_eq!(infer_dims(&g, &[f(&["K", "M"]), f(&["K", "10"]), f(&["1", "10"])]), Ok(Some(dims(&["M", "10"]))));
        assert_eq!(infer_dims(&Op::MatMul, &[f(&["B", "S", "64"]), f(&["64", "32"])]), Ok(Some(dims(&["B", "S", "32"]))));
        assert_eq!(
            infer_dims(&Op::MatMul, &[f(&["3", "1", "4", "5"]), f(&["2", "5", "6"])]),
            Ok(Some(dims(&["3", "2", "4", "6"])))
        );
        assert_eq!(infer_dims(&Op::MatMul, &[f(&["5"]), f(&["5"])]), Ok(Some(vec![])));
        assert_eq!(infer_dims(&Op::MatMul, &[f(&["2", "5"]), f(&["5"])]), Ok(Some(dims(&["2"]))));
        assert_eq!(infer_dims(&Op::MatMul, &[Some((DType::F32, None)), f(&["5"])]), Ok(None));
    }

    #[test]
    fn shape_inference_errors() {
        let f = |s: &[&str]| Some((DType::F32, Some(dims(s))));
        let g = gemm(false, false, 1.0, 1.0, Activation::None);
        let e = infer_dims(&g, &[f(&["3", "4"]), f(&["5", "6"])]).unwrap_err();
        assert!(e.contains("K (4 vs 5)"), "{e}");
        let e = infer_dims(&g, &[f(&["3", "4"]), f(&["4", "6"]), f(&["2", "6"])]).unwrap_err();
        assert!(e.contains("does not broadcast"), "{e}");
        let e = infer_dims(&g, &[f(&["3", "4"]), f(&["4", "6"]), f(&["3"])]).unwrap_err();
        assert!(e.contains("does not broadcast"), "{e}");
        let e = infer_dims(&g, &[f(&["2", "3", "4"]), f(&["4", "6"])]).unwrap_err();
        assert!(e.contains("A must have rank 2"), "{e}");
        let e = infer_dims(&g, &[f(&["3", "4"])]).unwrap_err();
        assert!(e.contains("B") && e.contains("missing"), "{e}");
        let e = infer_dims(&Op::MatMul, &[f(&["2", "3", "4"]), f(&["3", "4", "5"])]).unwrap_err();
        assert!(e.contains("do not broadcast"), "{e}");
        let e = infer_dims(&Op::MatMul, &[f(&["3", "4"]), f(&["3", "5"])]).unwrap_err();
        assert!(e.contains("K (4 vs 3)"), "{e}");
        let e = infer_dims(&Op::MatMul, &[f(&[]), f(&["3", "5"])]).unwrap_err();
        assert!(e.contains("rank 1 or more"), "{e}");
        let e = infer_dims(&Op::MatMul, &[Some((DType::I64, Some(dims(&["3"])))), f(&["3"])]).unwrap_err();
        assert!(e.contains("f32"), "{e}");
    }
}
