//! Winograd convolution, one thread, on the 3x3 stride-1 layers of the zoo: every F(m, 3)
//! variant runnable here (best ISA), the Im2Col+GEMM algorithm and the reference operator for
//! comparison. Prints ms and effective GFLOP/s (2 x direct-convolution MACs / time) per
//! layer and variant after criterion's report.
//!
//!     cargo bench -p ferrolite-kernels --bench winograd [-- FILTER]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use ferrolite_runtime::ir::{Activation, Conv2d, DType, Dim, Graph, Op, Padding, TensorInfo};
use ferrolite_runtime::kernel::{KernelFactory, KernelRegistry, Preferred};
use ferrolite_runtime::{Model, Session, SessionOptions, Tensor};

/// A 3x3 stride-1 layer: name, input `[h, w, ic]`, `oc`, padding on every side.
struct Layer {
    name: &'static str,
    hwc: [usize; 3],
    oc: usize,
    pad: usize,
}

/// The 3x3 layers of `/work/shared/models/make_layers.py`.
const LAYERS: &[Layer] = &[
    Layer { name: "r50_3x3_64_56", hwc: [56, 56, 64], oc: 64, pad: 1 },
    Layer { name: "r50_3x3_256_14", hwc: [14, 14, 256], oc: 256, pad: 1 },
    Layer { name: "incv3_3x3_64_96_35", hwc: [35, 35, 64], oc: 96, pad: 1 },
];

fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn graph(l: &Layer) -> Graph {
    let mut g = Graph::default();
    let [h, w, ic] = l.hwc;
    let x = g.add_tensor(TensorInfo {
        name: "x".into(),
        dtype: DType::F32,
        shape: Some([1, h, w, ic].iter().map(|&d| Dim::Fixed(d)).collect()),
        data: None,
    });
    g.inputs.push(x);
    let ws = [l.oc, 3, 3, ic];
    let wt = g.add_const_f32("w", &ws, &values(ws.iter().product(), 1));
    let b = g.add_const_f32("b", &[l.oc], &values(l.oc, 2));
    let y = g.add_value("y", DType::F32);
    let p = l.pad;
    let attrs = Conv2d {
        kernel: [3, 3],
        stride: [1, 1],
        dilation: [1, 1],
        padding: Padding::Explicit { top: p, left: p, bottom: p, right: p },
        groups: 1,
        activation: Activation::Relu,
    };
    g.add_node("conv", Op::Conv2d(attrs), vec![Some(x), Some(wt), Some(b)], vec![y]);
    g.outputs.push(y);
    g
}

fn macs(l: &Layer) -> usize {
    let [h, w, ic] = l.hwc;
    (h + 2 * l.pad - 2) * (w + 2 * l.pad - 2) * l.oc * 9 * ic
}

/// A one-thread session on `g` whose plan runs `factory` (None if it does not apply).
fn session(g: &Graph, factory: Arc<dyn KernelFactory>) -> Option<Session> {
    let id = factory.id().to_string();
    let mut reg = KernelRegistry::new();
    reg.register(Arc::new(Preferred(factory)));
    ferrolite_runtime::ops::register_reference(&mut reg);
    let model = Model::from_graph(g.clone()).ok()?.with_registry(Arc::new(reg));
    let mut s = Session::new(Arc::new(model), SessionOptions::new().with_threads(1)).ok()?;
    let shape = g.tensors[g.inputs[0]].fixed_shape()?;
    let plan = s.plan_for(&[shape]).ok()?;
    plan.steps().iter().any(|st| st.kernel == id).then_some(s)
}

/// Runnable conv2d variants to time: every Winograd F(m, 3) on the preferred ISA, the preferred
/// Im2Col+GEMM variant, and the reference.
fn candidates() -> Vec<Arc<dyn KernelFactory>> {
    let dsl = ferrolite_kernels::registry();
    let mut picked: Vec<Arc<dyn KernelFactory>> = Vec::new();
    for f in dsl.all() {
        let Some(info) = f.variant() else { continue };
        if info.op != "conv2d" || !info.runnable() || !matches!(info.algorithm, "winograd" | "gemm") {
            continue;
        }
        let same = |g: &Arc<dyn KernelFactory>| {
            g.variant().is_some_and(|j| {
                j.algorithm == info.algorithm && (info.algorithm != "winograd" || j.compile_params == info.compile_params)
            })
        };
        match picked.iter().position(same) {
            Some(k) => {
                let better = picked[k].variant().is_some_and(|j| (info.preference(), info.priority) > (j.preference(), j.priority));
                if better {
                    picked[k] = f.clone();
                }
            }
            None => picked.push(f.clone()),
        }
    }
    picked.extend(ferrolite_runtime::ops::reference_registry().all().iter().filter(|f| f.id() == "f32-conv2d-reference").cloned());
    picked
}

/// The benchmark-name filter given on the command line, if any (the first free argument that
/// is not the value of one of criterion's options), so the summary skips what criterion
/// skips.
fn name_filter() -> Option<String> {
    let with_value = ["--warm-up-time", "--measurement-time", "--sample-size", "--save-baseline", "--baseline", "--profile-time"];
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with('-') && (*i == 0 || !with_value.contains(&args[i - 1].as_str())))
        .map(|(_, a)| a.clone())
}

fn bench(c: &mut Criterion) {
    let filter = name_filter();
    // (layer, variant, ms, GFLOP/s)
    let mut summary: Vec<(String, String, f64, f64)> = Vec::new();
    let mut group = c.benchmark_group("winograd");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for l in LAYERS {
        let g = graph(l);
        let [h, w, ic] = l.hwc;
        let input = Tensor::from_slice(&[1, h, w, ic], &values(h * w * ic, 3)).expect("input");
        let flops = 2.0 * macs(l) as f64;
        group.throughput(Throughput::Elements(flops as u64));
        for f in candidates() {
            let id = f.id().to_string();
            let name = format!("{}/{id}", l.name);
            if filter.as_ref().is_some_and(|f| !format!("winograd/{name}").contains(f.as_str())) {
                continue;
            }
            let Some(mut s) = session(&g, f) else { continue };
            let view = input.view();
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let t = Instant::now();
                    for _ in 0..iters {
                        s.run(std::slice::from_ref(&view)).expect("run");
                    }
                    t.elapsed()
                })
            });
            // A median of its own for the summary (criterion's estimates are not exposed).
            let mut times: Vec<f64> = (0..50)
                .map(|_| {
                    let t = Instant::now();
                    s.run(std::slice::from_ref(&view)).expect("run");
                    t.elapsed().as_secs_f64()
                })
                .collect();
            times.sort_by(f64::total_cmp);
            let med = times[times.len() / 2];
            summary.push((l.name.to_string(), id, med * 1e3, flops / med / 1e9));
        }
    }
    group.finish();
    println!("\n{:<22} {:<36} {:>9} {:>9}", "layer", "variant", "ms", "GFLOP/s");
    for (layer, id, ms, gf) in &summary {
        println!("{layer:<22} {id:<36} {ms:>9.3} {gf:>9.1}");
    }
}

criterion::criterion_group!(benches, bench);
criterion::criterion_main!(benches);
