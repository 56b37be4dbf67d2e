//! Convolution kernels on the layer shapes of the zoo networks, one thread: every algorithm's
//! preferred variant (best ISA, default parameters) and the reference operator.
//!
//! Besides criterion's report (throughput in Gelem/s = GFLOP/s, counting 2 flops per MAC),
//! prints a summary table with GFLOP/s and the fraction of this machine's fp32 FMA peak,
//! measured in the same run (`ferrolite_targets::peak`, as `ferrolite bench --peak`).
//!
//!     cargo bench -p ferrolite-kernels --bench conv [-- FILTER]
//!     FERROLITE_BENCH_ALL=1 cargo bench -p ferrolite-kernels --bench conv -- FILTER   # every variant

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Layer, graph, layer, macs, session, values};
use criterion::{Criterion, Throughput};
use ferrolite_runtime::kernel::KernelFactory;
use ferrolite_runtime::{Session, Tensor, TensorViewMut};

mod common;

/// The seven layers of `../shared/models/make_layers.py` and a few more zoo shapes.
const LAYERS: &[Layer] = &[
    layer("r50_3x3_64_56", [56, 56, 64], 64, [3, 3], 1, [1, 1]),
    layer("r50_3x3_256_14", [14, 14, 256], 256, [3, 3], 1, [1, 1]),
    layer("incv3_3x3_64_96_35", [35, 35, 64], 96, [3, 3], 1, [1, 1]),
    layer("r50_1x1_1024_256_14", [14, 14, 1024], 256, [1, 1], 1, [0, 0]),
    layer("r50_1x1_64_256_56", [56, 56, 64], 256, [1, 1], 1, [0, 0]),
    layer("mnv2_1x1_32_192_56", [56, 56, 32], 192, [1, 1], 1, [0, 0]),
    Layer { groups: 96, ..layer("mnv2_dw3x3_96_112", [112, 112, 96], 96, [3, 3], 1, [1, 1]) },
    layer("mnv1_1x1_512_512_14", [14, 14, 512], 512, [1, 1], 1, [0, 0]),
    layer("incv3_1x7_128_17", [17, 17, 128], 128, [1, 7], 1, [0, 3]),
    layer("incv3_3x3s2_stem", [299, 299, 3], 32, [3, 3], 2, [0, 0]),
    layer("r50_7x7s2_stem", [224, 224, 3], 64, [7, 7], 2, [3, 3]),
];

/// For each algorithm of conv2d, its preferred variant runnable here (as the planner orders
/// them), then the reference.
///
/// With `FERROLITE_BENCH_ALL=1`, every runnable variant instead (to compare compile-time
/// parameters).
fn candidates() -> Vec<Arc<dyn KernelFactory>> {
    let dsl = ferrolite_kernels::registry();
    if std::env::var_os("FERROLITE_BENCH_ALL").is_some() {
        return dsl
            .all()
            .iter()
            .filter(|f| f.variant().is_some_and(|i| i.op == "conv2d" && i.runnable() && i.target != ferrolite_runtime::variant::Target::OpenCl))
            .cloned()
            .collect();
    }
    let mut best: Vec<(&'static str, Arc<dyn KernelFactory>)> = Vec::new();
    for f in dsl.all() {
        let Some(info) = f.variant() else { continue };
        if info.op != "conv2d" || !info.runnable() {
            continue;
        }
        match best.iter_mut().find(|(a, _)| *a == info.algorithm) {
            Some((_, b)) if b.variant().map(|i| i.preference()) >= Some(info.preference()) => {}
            Some((_, b)) => *b = f.clone(),
            None => best.push((info.algorithm, f.clone())),
        }
    }
    let mut out: Vec<_> = best.into_iter().map(|(_, f)| f).collect();
    let reference = ferrolite_runtime::ops::reference_registry();
    out.extend(reference.all().iter().filter(|f| f.op() == ferrolite_runtime::ir::OpKind::Conv2d).cloned());
    out
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let peak = ferrolite_targets::peak::fma_peak(Duration::from_millis(300));
    println!("fp32 FMA peak, one thread, {}: {:.1} GFLOP/s", peak.isa, peak.gflops);
    let mut c = Criterion::default().configure_from_args().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1)).sample_size(10);
    let summary = Mutex::new(Vec::new());
    for l in LAYERS {
        if filter.as_deref().is_some_and(|f| !l.name.contains(f)) {
            continue;
        }
        let g = graph(l);
        let [h, w, ic] = l.hwc;
        let x = Tensor::from_slice(&[1, h, w, ic], &values(h * w * ic, 3)).expect("input");
        let flops = 2 * macs(l);
        let mut group = c.benchmark_group(format!("conv/{}", l.name));
        group.throughput(Throughput::Elements(flops as u64));
        for f in candidates() {
            let id = f.id().to_string();
            let Some(mut s) = session(&g, f) else { continue };
            let out_shape = s.plan_for(&[vec![1, h, w, ic]]).ok().and_then(|p| p.output_shape(0).map(|s| s.to_vec())).unwrap_or_default();
            let mut out = vec![0f32; out_shape.iter().product()];
            let run = |s: &mut Session, out: &mut Vec<f32>| {
                let mut views = [TensorViewMut::from_slice(&out_shape, out.as_mut_slice()).expect("output view")];
                s.run_into(&[x.view()], &mut views).expect("run");
            };
            group.bench_function(&id, |b| b.iter(|| run(&mut s, &mut out)));
            // Our own median for the summary (criterion keeps its statistics to itself).
            let mut times: Vec<f64> = (0..15)
                .map(|_| {
                    let t = Instant::now();
                    run(&mut s, &mut out);
                    t.elapsed().as_secs_f64()
                })
                .collect();
            times.sort_by(f64::total_cmp);
            let med = times[times.len() / 2];
            summary.lock().map(|mut v| v.push((l.name, id, med * 1e3, flops as f64 / med / 1e9))).ok();
        }
        group.finish();
    }
    println!("\n{:<22} {:<36} {:>9} {:>9} {:>7}", "layer", "variant", "ms", "GFLOP/s", "% peak");
    for (layer, id, ms, gf) in summary.into_inner().unwrap_or_default() {
        println!("{layer:<22} {id:<36} {ms:>9.3} {gf:>9.1} {:>6.0}%", 100.0 * gf / peak.gflops);
    }
}
