//! The OpenCL translation of DSL stages, run on the OpenCL device (PoCL in CI) and checked
//! against plain Rust computations of the same thing, and against the stages' CPU expansion.
//!
//! The stages here use what real kernels use: nested loops, local arrays of vectors,
//! `V::load` / `V::store` on sub-slices, helpers calling helpers (the shared epilogue),
//! `chunks_exact(..).zip(..)`, two outputs, `if` as a value, and local names that are
//! OpenCL C keywords or built-ins (`half`, `min`, `grid`). The launches go through
//! [`ClBuffers`] with every kind of buffer a schedule names: node inputs, outputs and output
//! ranges, packed weights and workspace ranges. A small `#[algorithm]` with several launches
//! checks the generated OpenCL factory and kernel against its CPU variant and plain Rust.
//!
//! Without a device the tests skip, unless `FERROLITE_EXPECT_OPENCL=1` says there must be
//! one: then they fail.

use ferrolite_dsl::ir::{Activation, DType, Graph, Op, Unary};
use ferrolite_dsl::kernel::{KernelIo, KernelRegistry, NodeCtx, Parallel};
use ferrolite_dsl::launch::Buf;
use ferrolite_dsl::opencl::{ClBuffers, DeviceWeights};
use ferrolite_dsl::tensor::{Tensor, TensorView, TensorViewMut};
use ferrolite_dsl::variant::Target;
use ferrolite_kernels::epilogue::activate;
use ferrolite_kernels::sig::{Act, ActivationSig};
use ferrolite_macros::{algorithm, dsl_fn, stage};
use ferrolite_targets::{Scalar, Simd};

/// Scales, then applies the activation `code` clipped to [0, 6]: a helper calling a helper.
#[dsl_fn]
pub fn scale_act<V: Simd>(x: V::F32, s: f32, code: i32) -> V::F32 {
    activate(V::mul(x, V::splat(s)), code, 0.0, 6.0)
}

/// `y = act(half * a · b)` for `MR` rows of `a` (`[rows, k]`) per work-item, `b` being
/// `[k, n]` with `n` a multiple of `NV` vectors: a register-tiled GEMM.
#[stage]
pub fn gemm_tile<V: Simd, const MR: usize, const NV: usize>(
    gid: usize,
    y: &mut [f32],
    a: &[f32],
    b: &[f32],
    k: usize,
    n: usize,
    code: i32,
    half: f32,
) {
    let row0 = gid * MR;
    let rows = y.len() / n;
    let mut acc = [[V::zero(); NV]; MR];
    for c0 in (0..n).step_by(NV * V::LANES) {
        for r in 0..MR {
            for v in 0..NV {
                acc[r][v] = V::zero();
            }
        }
        for p in 0..k {
            for r in 0..rows.min(MR) {
                let min = V::splat(a[(row0 + r) * k + p]);
                for v in 0..NV {
                    acc[r][v] = V::fma(min, V::load(&b[p * n + c0 + v * V::LANES..]), acc[r][v]);
                }
            }
        }
        for r in 0..rows.min(MR) {
            for v in 0..NV {
                let o = r * n + c0 + v * V::LANES;
                V::store(&mut y[o..], scale_act(acc[r][v], half, code));
            }
        }
    }
}

/// Per row of `x` (`n` wide): the sum of `|x * w|` and the maximum of `x * w`, one row per
/// work-item, into two outputs.
// The DSL takes sub-slices as `&s[a..b]` only, also as a method receiver.
#[allow(clippy::needless_borrow)]
#[stage]
pub fn row_stats<V: Simd>(gid: usize, sums: &mut [f32], maxes: &mut [f32], x: &[f32], w: &[f32], n: usize) {
    let base = gid * n;
    let mut s = V::zero();
    let mut m = V::splat(f32::NEG_INFINITY);
    let mut done = 0;
    for (c, d) in (&x[base..base + n]).chunks_exact(V::LANES).zip((&w[0..n]).chunks_exact(V::LANES)) {
        let v = V::mul(V::load(c), V::load(d));
        s = V::add(s, V::abs(v));
        m = V::max(m, v);
        done += V::LANES;
    }
    let mut tail_sum = 0.0;
    let mut tail_max = f32::NEG_INFINITY;
    for i in done..n {
        let v = x[base + i] * w[i];
        let grid = if v < 0.0 { -v } else { v };
        tail_sum += grid;
        tail_max = tail_max.max(v);
    }
    sums[0] = V::reduce_sum(s) + tail_sum;
    maxes[0] = V::reduce_max(m).max(tail_max);
}

/// `y[i] = x[i] + c`, `chunk` elements per work-item (the last one shorter).
#[stage]
pub fn add_const<V: Simd>(gid: usize, y: &mut [f32], x: &[f32], chunk: usize, c: f32) {
    let base = gid * chunk;
    for i in 0..y.len() {
        y[i] = x[base + i] + c;
    }
}

/// The OpenCL device, or `None` to skip; a failure when one is expected.
fn device() -> Option<String> {
    let expected = ferrolite_targets::opencl::expected().unwrap();
    match ferrolite_dsl::opencl::device_name() {
        Some(d) => Some(d),
        None if expected => panic!(
            "FERROLITE_EXPECT_OPENCL=1 but OpenCL is not available: {}",
            ferrolite_dsl::opencl::unavailable_reason().unwrap_or_default()
        ),
        None => {
            eprintln!("no OpenCL device: skipped");
            None
        }
    }
}

/// Runs `launches` on device buffers made from `inputs`, `outputs` (read back when done),
/// `packed` and a workspace of `ws` elements.
fn on_device(
    inputs: &[&[f32]],
    outputs: &mut [&mut [f32]],
    packed: &[f32],
    ws: usize,
    launches: impl FnOnce(&mut ClBuffers<'_>) -> ferrolite_dsl::Result<()>,
) -> ferrolite_dsl::Result<()> {
    let in_shapes: Vec<[usize; 1]> = inputs.iter().map(|i| [i.len()]).collect();
    let out_shapes: Vec<[usize; 1]> = outputs.iter().map(|o| [o.len()]).collect();
    let in_views: Vec<Option<TensorView<'_>>> =
        inputs.iter().zip(&in_shapes).map(|(i, s)| Some(TensorView::from_slice(s, i).unwrap())).collect();
    let mut out_views: Vec<TensorViewMut<'_>> =
        outputs.iter_mut().zip(&out_shapes).map(|(o, s)| TensorViewMut::from_slice(s, o).unwrap()).collect();
    let weights = DeviceWeights::upload(packed)?;
    let io = KernelIo { inputs: &in_views, outputs: &mut out_views, workspace: &mut [] };
    let mut cl = ClBuffers::new(io, &weights, ws)?;
    launches(&mut cl)?;
    cl.finish()
}

fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(7);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1664525).wrapping_add(1013904223);
            (s >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
        })
        .collect()
}

fn assert_close(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((*g as f64 - w).abs() <= 1e-5 * w.abs().max(1.0), "{what}: element {i} is {g}, expected {w}");
    }
}

#[test]
fn register_tiled_gemm_with_helpers_and_packed_weights() {
    let Some(dev) = device() else { return };
    const MR: usize = 3;
    const NV: usize = 2;
    let (rows, k, n) = (10, 7, 16); // n: two column blocks of NV float4s
    let a = values(rows * k, 1);
    let b = values(k * n, 2);
    let (code, half) = (1, 1.5); // ACT_CLIP to [0, 6]
    let want: Vec<f64> = (0..rows * n)
        .map(|i| {
            let (r, c) = (i / n, i % n);
            let dot: f64 = (0..k).map(|p| a[r * k + p] as f64 * b[p * n + c] as f64).sum();
            (dot * half as f64).clamp(0.0, 6.0)
        })
        .collect();

    let mut y = vec![f32::NAN; rows * n];
    on_device(&[&a], &mut [&mut y], &b, 0, |cl| {
        gemm_tile::launch_opencl::<MR, NV>(cl, Buf::Output(0), MR * n, Buf::Input(0), Buf::Packed, k, n, code, half)
    })
    .unwrap();
    assert_close(&y, &want, &format!("gemm_tile on {dev}"));

    // The CPU expansion of the same stage agrees (with its own vector width).
    let mut cpu = vec![f32::NAN; rows * n];
    gemm_tile::launch::<Scalar, MR, 16>(Scalar::new().unwrap(), &Parallel::SERIAL, &mut cpu, MR * n, &a, &b, k, n, code, half);
    assert_close(&cpu, &want, "gemm_tile on the CPU");
}

#[test]
fn two_outputs_workspace_and_output_ranges() {
    let Some(dev) = device() else { return };
    let (rows, n) = (5, 11); // 11: two float4 chunks and a tail of 3
    let x = values(rows * n, 3);
    let w = values(n, 4);
    let prod = |r: usize, i: usize| x[r * n + i] as f64 * w[i] as f64;
    let sums: Vec<f64> = (0..rows).map(|r| (0..n).map(|i| prod(r, i).abs()).sum()).collect();
    let maxes: Vec<f64> = (0..rows).map(|r| (0..n).map(|i| prod(r, i)).fold(f64::NEG_INFINITY, f64::max)).collect();

    // y = [sums + 1 | maxes]: the maxima go straight into the second half of y, the sums
    // into the workspace, then from there into the first half of y, plus one.
    let mut y = vec![f32::NAN; 2 * rows];
    on_device(&[&x, &w], &mut [&mut y], &[], 3 + rows, |cl| {
        row_stats::launch_opencl(
            cl,
            Buf::Workspace(3..3 + rows),
            1,
            Buf::OutputRange(0, rows..2 * rows),
            1,
            Buf::Input(0),
            Buf::Input(1),
            n,
        )?;
        // The workspace range `3..3 + rows` starts at element 3: read from an offset.
        add_const::launch_opencl(cl, Buf::OutputRange(0, 0..rows), 2, Buf::Workspace(3..3 + rows), 2, 1.0)
    })
    .unwrap();
    let want: Vec<f64> = sums.iter().map(|s| s + 1.0).chain(maxes.iter().copied()).collect();
    assert_close(&y, &want, &format!("row_stats + add_const on {dev}"));

    // The CPU expansion agrees.
    let (mut cs, mut cm) = (vec![0f32; rows], vec![0f32; rows]);
    row_stats::launch::<Scalar>(Scalar::new().unwrap(), &Parallel::SERIAL, &mut cs, 1, &mut cm, 1, &x, &w, n);
    assert_close(&cs, &sums, "row_stats sums on the CPU");
    assert_close(&cm, &maxes, "row_stats maxima on the CPU");
}

#[test]
fn bad_launches_are_errors() {
    let Some(_) = device() else { return };
    let x = values(8, 5);
    let mut y = vec![0f32; 8];
    let run = |y: &mut Vec<f32>, f: &dyn Fn(&mut ClBuffers<'_>) -> ferrolite_dsl::Result<()>| {
        on_device(&[&x], &mut [&mut y[..]], &[], 4, f).unwrap_err().to_string()
    };
    // An output range past the end of the output.
    let e = run(&mut y, &|cl| add_const::launch_opencl(cl, Buf::OutputRange(0, 4..9), 4, Buf::Input(0), 4, 0.0));
    assert!(e.contains("outside y0"), "{e}");
    // Writing a workspace range that the launch also reads.
    let e = run(&mut y, &|cl| add_const::launch_opencl(cl, Buf::Workspace(0..3), 4, Buf::Workspace(2..4), 4, 0.0));
    assert!(e.contains("both written and read"), "{e}");
    // A missing input, and an input written.
    let e = run(&mut y, &|cl| add_const::launch_opencl(cl, Buf::Output(0), 4, Buf::Input(1), 4, 0.0));
    assert!(e.contains("input x1 is missing"), "{e}");
    let e = run(&mut y, &|cl| add_const::launch_opencl(cl, Buf::Input(0), 4, Buf::Input(0), 4, 0.0));
    assert!(e.contains("read-only"), "{e}");
    // A scalar that does not fit the kernel's int.
    let e = run(&mut y, &|cl| add_const::launch_opencl(cl, Buf::Output(0), 4, Buf::Input(0), 1 << 40, 0.0));
    assert!(e.contains("does not fit an OpenCL int"), "{e}");
}

#[test]
fn translation_is_in_the_source() {
    // Names that are OpenCL C keywords or built-ins are renamed; helpers come before their
    // callers, each once.
    let src = gemm_tile::opencl_source();
    assert!(src.contains("half_") && src.contains("min_"), "{src}");
    let act = src.find("activate_fn(").unwrap();
    let scale = src.find("scale_act_fn(").unwrap();
    assert!(act < scale, "{src}");
    assert_eq!(src.matches("inline floatV activate_fn(").count(), 1, "{src}");
}

/// `y[i] = x[i] * w[i % w.len()] * U`, `chunk` elements per work-item.
#[stage]
pub fn scale_by_packed<V: Simd, const U: usize>(gid: usize, y: &mut [f32], x: &[f32], w: &[f32], chunk: usize) {
    let base = gid * chunk;
    for i in 0..y.len() {
        y[i] = x[base + i] * w[(base + i) % w.len()] * (U as f32);
    }
}

/// `y[i] = act(x[from + gid * chunk + i])`, vectorized with a partial tail.
#[stage]
pub fn act_from<V: Simd>(gid: usize, y: &mut [f32], x: &[f32], from: usize, chunk: usize, code: i32, a: f32, b: f32) {
    let base = from + gid * chunk;
    let n = y.len();
    let mut i = 0;
    for j in 0..n / V::LANES {
        V::store(&mut y[j * V::LANES..], activate(V::load(&x[base + j * V::LANES..]), code, a, b));
        i = (j + 1) * V::LANES;
    }
    if i < n {
        V::store_partial(&mut y[i..n], activate(V::load_partial(&x[base + i..base + n]), code, a, b));
    }
}

/// An activation in three launches: scale by packed weights into the workspace (at an
/// offset), then activate each half of it into a range of the output.
#[algorithm(
    op = Unary,
    sig = ActivationSig,
    name = "opencl_test",
    targets(scalar, opencl),
    priority = -1000,
)]
pub mod opencl_test {
    use super::*;

    /// Scale factor, compiled in (exercises `-DU=...`).
    #[param(compile, values = [1, 3])]
    const U: usize = 1;

    /// Elements per work-item: not a multiple of the vector width.
    #[param(runtime, values = [5])]
    const BLOCK: usize = 5;

    pub fn prepack(s: &ActivationSig, consts: &[Option<&[f32]>]) -> Vec<f32> {
        let _ = (s, consts);
        vec![0.5, -1.0, 2.0]
    }

    pub fn workspace(s: &ActivationSig, p: &Params) -> usize {
        let _ = p;
        s.len + 3
    }

    pub fn schedule(s: &ActivationSig, p: &Params) {
        let act = Act::from(s.act);
        let half = s.len / 2;
        launch!(scale_by_packed::<U>, outs [ws[3..3 + s.len] => p.BLOCK], ins [x, w], args [p.BLOCK]);
        launch!(act_from, outs [y[0..half] => p.BLOCK], ins [ws[3..3 + s.len]], args [0, p.BLOCK, act.code, act.a, act.b]);
        launch!(act_from, outs [y[half..s.len] => p.BLOCK], ins [ws[3..3 + s.len]], args [half, p.BLOCK, act.code, act.a, act.b]);
    }
}

#[test]
fn algorithm_variants_agree_with_plain_rust() {
    let Some(dev) = device() else { return };
    let mut registry = KernelRegistry::new();
    opencl_test::register(&mut registry);
    let ids: Vec<&str> = registry.all().iter().map(|f| f.id()).collect();
    for id in ["f32-unary-opencl_test-u1-opencl", "f32-unary-opencl_test-u3-opencl", "f32-unary-opencl_test-u1-scalar"] {
        assert!(ids.contains(&id), "{id} not in {ids:?}");
    }
    let packed = [0.5f64, -1.0, 2.0];
    let acts = [Activation::Relu6, Activation::Sigmoid, Activation::LeakyRelu { alpha: 0.1 }, Activation::Tanh];
    for (t, act) in acts.into_iter().enumerate() {
        let n = 23;
        let shape = [n];
        let mut g = Graph::default();
        let xt = g.add_value("x", DType::F32);
        let yt = g.add_value("y", DType::F32);
        let node = g.add_node("act", Op::Unary(Unary::Act(act)), vec![Some(xt)], vec![yt]);
        let ctx = NodeCtx {
            graph: &g,
            node_id: node,
            node: &g.nodes[node],
            inputs: vec![Some((DType::F32, &shape[..]))],
            outputs: vec![(DType::F32, &shape[..])],
            values: vec![None],
        };
        let x: Vec<f32> = values(n, 10 + t as u32).into_iter().map(|v| v * 8.0).collect();
        for f in registry.all() {
            let info = f.variant().unwrap();
            assert!(f.applies(&ctx), "{} does not apply", info.id);
            let u = info.compile_params[0].1 as f64;
            let want: Vec<f64> = (0..n)
                .map(|i| {
                    let v = x[i] as f64 * packed[i % 3] * u;
                    match act {
                        Activation::Relu6 => v.clamp(0.0, 6.0),
                        Activation::Sigmoid => 1.0 / (1.0 + (-v).exp()),
                        Activation::LeakyRelu { alpha } => if v < 0.0 { alpha as f64 * v } else { v },
                        _ => v.tanh(),
                    }
                })
                .collect();
            let kernel = f.build(&ctx, f.prepack(&ctx).unwrap()).unwrap();
            let mut ws = Tensor::zeros(DType::F32, &[kernel.workspace_bytes() / 4]);
            let mut y = vec![f32::NAN; n];
            let xv = [Some(TensorView::from_slice(&shape, &x).unwrap())];
            let mut yv = [TensorViewMut::from_slice(&shape, &mut y).unwrap()];
            let io = KernelIo { inputs: &xv, outputs: &mut yv, workspace: ws.bytes_mut() };
            kernel.run(io, &Parallel::SERIAL).unwrap();
            let on = if info.target == Target::OpenCl { dev.as_str() } else { "the CPU" };
            assert_close(&y, &want, &format!("{} ({}) on {on}", info.id, act.name()));
        }
    }
}
