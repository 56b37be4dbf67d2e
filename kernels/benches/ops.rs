//! The kernel families other than convolution, on shapes of the zoo networks, one thread:
//! fully connected heads (GFLOP/s and percent of this machine's FMA peak, measured in the
//! same run), and the memory-bound operators (pooling, element-wise, padding, softmax) in
//! GB/s of tensor data moved. Each operator's preferred DSL variant (as the planner orders
//! them) and its reference operator.
//!
//!     cargo bench -p ferrolite-kernels --bench ops [-- FILTER]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::values;
use criterion::{Criterion, Throughput};
use ferrolite_runtime::ir::{Activation, Binary, DType, Dim, Gemm, Graph, Op, Pad, PadMode, Padding, Pool2d, PoolKind, TensorInfo};
use ferrolite_runtime::kernel::{KernelFactory, KernelRegistry, Preferred};
use ferrolite_runtime::{Model, Session, SessionOptions, Tensor};

// Shared with the convolution benches; this one uses only the data generator.
#[allow(dead_code)]
mod common;

/// One benchmark: a one-node graph on one input, and how to count its work.
struct Case {
    name: &'static str,
    graph: Graph,
    input: Vec<usize>,
    /// Floating-point operations of one run (0: count bytes instead).
    flops: usize,
    /// Bytes of tensor data a run reads and writes.
    bytes: usize,
}

fn input(g: &mut Graph, shape: &[usize]) -> usize {
    let x = g.add_tensor(TensorInfo {
        name: "x".into(),
        dtype: DType::F32,
        shape: Some(shape.iter().map(|&d| Dim::Fixed(d)).collect()),
        data: None,
    });
    g.inputs.push(x);
    x
}

fn one_node(shape: &[usize], op: Op, consts: &[(&[usize], u64)]) -> Graph {
    let mut g = Graph::default();
    let x = input(&mut g, shape);
    let mut inputs = vec![Some(x)];
    for (i, (s, seed)) in consts.iter().enumerate() {
        inputs.push(Some(g.add_const_f32(format!("c{i}"), s, &values(s.iter().product(), *seed))));
    }
    let y = g.add_value("y", DType::F32);
    g.add_node("op", op, inputs, vec![y]);
    g.outputs.push(y);
    g
}

fn cases() -> Vec<Case> {
    let fc = |name, k: usize, n: usize| {
        let gemm = Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: true, activation: Activation::None };
        Case {
            name,
            graph: one_node(&[1, k], Op::Gemm(gemm), &[(&[n, k], 1), (&[n], 2)]),
            input: vec![1, k],
            flops: 2 * k * n,
            bytes: 4 * (k * n + k + n),
        }
    };
    let pool = |name, shape: [usize; 4], kind, k: usize, s: usize, pad: usize, out: [usize; 2]| {
        let attrs = Pool2d {
            kind,
            kernel: [k, k],
            stride: [s, s],
            dilation: [1, 1],
            padding: Padding::Explicit { top: pad, left: pad, bottom: pad, right: pad },
            ceil_mode: false,
            count_include_pad: false,
        };
        Case {
            name,
            graph: one_node(&shape, Op::Pool2d(attrs), &[]),
            input: shape.to_vec(),
            flops: 0,
            bytes: 4 * (shape.iter().product::<usize>() + out[0] * out[1] * shape[3]),
        }
    };
    let n = |s: &[usize]| s.iter().product::<usize>();
    vec![
        fc("fc_mnv2_1280_1000", 1280, 1000),
        fc("fc_r50_2048_1000", 2048, 1000),
        pool("maxpool_r50_3x3s2_112", [1, 114, 114, 64], PoolKind::Max, 3, 2, 0, [56, 56]),
        pool("avgpool_incv3_3x3s1_35", [1, 35, 35, 288], PoolKind::Avg, 3, 1, 1, [35, 35]),
        Case {
            name: "add_r50_56x56x256",
            graph: one_node(&[1, 56, 56, 256], Op::Binary(Binary::Add), &[(&[1, 56, 56, 256], 3)]),
            input: vec![1, 56, 56, 256],
            flops: 0,
            bytes: 4 * 3 * n(&[56, 56, 256]),
        },
        Case {
            name: "relu6_mnv2_112x112x96",
            graph: one_node(&[1, 112, 112, 96], Op::Unary(ferrolite_runtime::ir::Unary::Act(Activation::Relu6)), &[]),
            input: vec![1, 112, 112, 96],
            flops: 0,
            bytes: 4 * 2 * n(&[112, 112, 96]),
        },
        Case {
            name: "pad_r50_112x112x64",
            graph: one_node(&[1, 112, 112, 64], Op::Pad(Pad { mode: PadMode::Constant, pads: vec![0, 1, 1, 0, 0, 1, 1, 0], value: 0.0 }), &[]),
            input: vec![1, 112, 112, 64],
            flops: 0,
            bytes: 4 * (n(&[112, 112, 64]) + n(&[114, 114, 64])),
        },
        Case {
            name: "softmax_1000",
            graph: one_node(&[1, 1000], Op::Softmax { axis: -1 }, &[]),
            input: vec![1, 1000],
            flops: 0,
            bytes: 4 * 2000,
        },
    ]
}

/// The planner's first choice among the DSL variants of `g`'s node, then the reference.
fn candidates(g: &Graph) -> Vec<Arc<dyn KernelFactory>> {
    let mut out = Vec::new();
    let model = Model::from_graph(g.clone()).expect("model");
    let mut s = Session::new(Arc::new(model), SessionOptions::new().with_threads(1)).expect("session");
    let shape = g.tensors[g.inputs[0]].fixed_shape().expect("shape");
    let planned = s.plan_for(&[shape]).expect("plan").steps()[0].kernel.clone();
    let dsl = ferrolite_kernels::registry();
    if let Some(f) = dsl.by_id(&planned) {
        out.push(f.clone());
    }
    let reference = ferrolite_runtime::ops::reference_registry();
    let op = g.nodes[0].op.kind();
    out.extend(reference.all().iter().filter(|f| f.op() == op).take(1).cloned());
    out
}

fn pinned(g: &Graph, f: Arc<dyn KernelFactory>) -> Option<Session> {
    let mut reg = KernelRegistry::new();
    reg.register(Arc::new(Preferred::new(f)));
    ferrolite_runtime::ops::register_reference(&mut reg);
    let model = Model::from_graph(g.clone()).ok()?.with_registry(Arc::new(reg));
    Session::new(Arc::new(model), SessionOptions::new().with_threads(1)).ok()
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let peak = ferrolite_targets::peak::fma_peak(Duration::from_millis(300));
    println!("fp32 FMA peak, one thread, {}: {:.1} GFLOP/s", peak.isa, peak.gflops);
    let mut c = Criterion::default().configure_from_args().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1)).sample_size(10);
    let summary = Mutex::new(Vec::new());
    for case in cases() {
        if filter.as_deref().is_some_and(|f| !case.name.contains(f)) {
            continue;
        }
        let x = Tensor::from_slice(&case.input, &values(case.input.iter().product(), 5)).expect("input");
        let mut group = c.benchmark_group(format!("ops/{}", case.name));
        group.throughput(if case.flops > 0 { Throughput::Elements(case.flops as u64) } else { Throughput::Bytes(case.bytes as u64) });
        for f in candidates(&case.graph) {
            let id = f.id().to_string();
            let Some(mut s) = pinned(&case.graph, f) else { continue };
            group.bench_function(&id, |b| b.iter(|| s.run_views(&[x.view()]).map(|o| o.len()).expect("run")));
            let mut times: Vec<f64> = (0..25)
                .map(|_| {
                    let t = Instant::now();
                    s.run_views(&[x.view()]).expect("run");
                    t.elapsed().as_secs_f64()
                })
                .collect();
            times.sort_by(f64::total_cmp);
            let med = times[times.len() / 2];
            summary.lock().map(|mut v| v.push((case.name, id, med * 1e3, case.flops as f64 / med / 1e9, case.bytes as f64 / med / 1e9))).ok();
        }
        group.finish();
    }
    println!("\n{:<24} {:<34} {:>9} {:>9} {:>7} {:>8}", "case", "variant", "ms", "GFLOP/s", "% peak", "GB/s");
    for (case, id, ms, gf, gb) in summary.into_inner().unwrap_or_default() {
        let (gf_s, pk) = if gf > 0.0 { (format!("{gf:.1}"), format!("{:.0}%", 100.0 * gf / peak.gflops)) } else { (String::new(), String::new()) };
        println!("{case:<24} {id:<34} {ms:>9.4} {gf_s:>9} {pk:>7} {gb:>8.1}");
    }
}
