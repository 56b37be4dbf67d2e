//! Depthwise convolution on mobilenet_v2's largest depthwise layer (1x112x112x96, 3x3,
//! stride 1, padding 1, bias, relu6), every runnable depthwise variant, 1 and 2 threads.
//!
//! Criterion's throughput is set to the layer's floating-point operations (2 per
//! multiply-accumulate), so its `Gelem/s` reads as GFLOP/s; the bench also prints GFLOP/s
//! and milliseconds per run itself.

use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferrolite_dsl::ir::{Activation, Conv2d, DType, Dim, Graph, Op, Padding, TensorInfo};
use ferrolite_dsl::kernel::{KernelIo, NodeCtx, Parallel};
use ferrolite_dsl::tensor::{TensorView, TensorViewMut};

const H: usize = 112;
const W: usize = 112;
const C: usize = 96;

fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
        .collect()
}

fn graph() -> Graph {
    let mut g = Graph::default();
    let x = g.add_tensor(TensorInfo {
        name: "x".into(),
        dtype: DType::F32,
        shape: Some(vec![Dim::Fixed(1), Dim::Fixed(H), Dim::Fixed(W), Dim::Fixed(C)]),
        data: None,
    });
    g.inputs.push(x);
    let w = g.add_const_f32("w", &[C, 3, 3, 1], &values(C * 9, 1));
    let b = g.add_const_f32("b", &[C], &values(C, 2));
    let y = g.add_value("y", DType::F32);
    let attrs = Conv2d {
        kernel: [3, 3],
        stride: [1, 1],
        dilation: [1, 1],
        padding: Padding::Explicit { top: 1, left: 1, bottom: 1, right: 1 },
        groups: C,
        activation: Activation::Relu6,
    };
    g.add_node("dw", Op::Conv2d(attrs), vec![Some(x), Some(w), Some(b)], vec![y]);
    g.outputs.push(y);
    g
}

fn bench(c: &mut Criterion) {
    let g = graph();
    let shape = [1, H, W, C];
    let (wshape, bshape) = ([C, 3, 3, 1], [C]);
    let values_of = |t: usize| g.tensors[t].data.as_ref();
    let node = &g.nodes[0];
    let ctx = NodeCtx {
        graph: &g,
        node_id: 0,
        node,
        inputs: vec![Some((DType::F32, &shape[..])), Some((DType::F32, &wshape[..])), Some((DType::F32, &bshape[..]))],
        outputs: vec![(DType::F32, &shape[..])],
        values: vec![None, values_of(1), values_of(2)],
    };
    let x = values(H * W * C, 3);
    let mut y = vec![0.0f32; H * W * C];
    let flops = 2 * H * W * C * 9;
    let registry = ferrolite_kernels::registry();
    let mut group = c.benchmark_group("depthwise 1x112x112x96 3x3 s1 relu6");
    group.throughput(Throughput::Elements(flops as u64));
    for f in registry.all() {
        let Some(info) = f.variant() else { continue };
        if info.algorithm != "depthwise" || !info.runnable() || !f.applies(&ctx) {
            continue;
        }
        let packed = f.prepack(&ctx).expect("prepack");
        let kernel = f.build(&ctx, packed).expect("build");
        // f32-aligned scratch (an empty byte vector would not be).
        let mut ws = vec![0.0f32; kernel.workspace_bytes().div_ceil(4)];
        for threads in [1, 2] {
            let pool = ferrolite_runtime::pool::ThreadPool::new(threads).expect("thread pool");
            let par = Parallel::new(&pool);
            let mut run = || {
                let inputs = [
                    Some(TensorView::from_slice(&shape, &x).expect("x")),
                    ctx.input_view(1),
                    ctx.input_view(2),
                ];
                let mut outputs = [TensorViewMut::from_slice(&shape, &mut y).expect("y")];
                let io = KernelIo { inputs: &inputs, outputs: &mut outputs, workspace: bytemuck::cast_slice_mut(&mut ws) };
                kernel.run(io, &par).expect("run");
            };
            // A direct measurement, printed as GFLOP/s, next to criterion's.
            for _ in 0..20 {
                run();
            }
            let reps = 200;
            let t = Instant::now();
            for _ in 0..reps {
                run();
            }
            let secs = t.elapsed().as_secs_f64() / reps as f64;
            println!("{} x{threads}: {:.3} ms, {:.1} GFLOP/s", info.id, secs * 1e3, flops as f64 / secs / 1e9);
            group.bench_function(format!("{} x{threads}", info.id), |b| b.iter(&mut run));
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
