//! Winograd convolution, one thread, on the 3x3 stride-1 layers of the zoo: every F(m, 3)
//! variant runnable here (best ISA), the Im2Col+GEMM algorithm and the reference operator for
//! comparison. Prints ms and effective GFLOP/s (2 x direct-convolution MACs / time) per
//! layer and variant after criterion's report.
//!
//!     cargo bench -p ferrolite-kernels --bench winograd [-- FILTER]

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Layer, graph, layer, macs, session, values};
use criterion::{Criterion, Throughput};
use ferrolite_runtime::kernel::KernelFactory;
use ferrolite_runtime::Tensor;

mod common;

/// The 3x3 layers of `/work/shared/models/make_layers.py`.
const LAYERS: &[Layer] = &[
    layer("r50_3x3_64_56", [56, 56, 64], 64, [3, 3], 1, [1, 1]),
    layer("r50_3x3_256_14", [14, 14, 256], 256, [3, 3], 1, [1, 1]),
    layer("incv3_3x3_64_96_35", [35, 35, 64], 96, [3, 3], 1, [1, 1]),
];

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
