//! `ferrolite bench`: time models the way the peer script does (each timed run sets the
//! input and reads the output back), and print a table like the seed's or JSON lines.

use std::sync::Arc;
use std::time::Instant;

use ferrolite_runtime::ir::DType;
use ferrolite_runtime::{Model, Session, Tensor, TensorView};
use rand::{RngExt, SeedableRng};

use crate::load;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Models: .flm, .onnx or .tflite files, or zoo network names (default: the five zoo
    /// networks).
    models: Vec<String>,
    /// Thread counts to time (repeat or comma-separate; default: 1 and 2).
    #[arg(long, value_delimiter = ',')]
    threads: Vec<usize>,
    /// Timed runs per configuration.
    #[arg(long, default_value_t = 50)]
    runs: usize,
    /// Untimed runs first.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Stop a configuration early after this many seconds (with at least 3 runs).
    #[arg(long, default_value_t = 20.0)]
    max_seconds: f64,
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
    /// Seed of the uniform(-1, 1) input.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Fix an input's shape when converting .onnx/.tflite (repeatable).
    #[arg(long = "input-shape", value_name = "NAME=DIMS")]
    input_shapes: Vec<String>,
    /// A device profile (from `ferrolite tune`) whose picks replace the heuristic.
    #[arg(long, value_name = "PROFILE.yaml")]
    profile: Option<std::path::PathBuf>,
    /// Measure one thread's fp32 FMA peak (widest ISA, 16 independent FMA chains) instead of
    /// timing models: the yardstick for kernel efficiency.
    #[arg(long, conflicts_with = "models")]
    peak: bool,
    /// Time every step (node) too: median per step over the runs, with the kernel variant
    /// that ran it, its share of the run and its GFLOP/s; steps sorted by time.
    #[arg(long)]
    layers: bool,
}

/// One timed configuration.
struct Timing {
    model: String,
    threads: usize,
    runs: usize,
    median_ms: f64,
    min_ms: f64,
    mean_ms: f64,
    max_ms: f64,
}

fn random_inputs(model: &Model, seed: u64) -> Result<Vec<Tensor>, String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    model
        .inputs()
        .iter()
        .map(|info| {
            let shape: Option<Vec<usize>> = info.shape.iter().map(|d| d.fixed()).collect();
            let shape = shape.ok_or_else(|| {
                format!("input \"{}\" has symbolic dims; fix them with --input-shape {}=...", info.name, info.name)
            })?;
            if info.dtype != DType::F32 {
                return Err(format!("input \"{}\" is {}; bench feeds f32 inputs only", info.name, info.dtype));
            }
            let n: usize = shape.iter().product();
            let values: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            Tensor::from_slice(&shape, &values).map_err(|e| e.to_string())
        })
        .collect()
}

fn time_one(model: &Arc<Model>, name: &str, threads: usize, inputs: &[Tensor], args: &BenchArgs) -> Result<Timing, String> {
    let options = crate::profile::session_options(threads, args.profile.as_deref())?;
    let mut session = Session::new(model.clone(), options).map_err(|e| e.to_string())?;
    crate::profile::warn(&session);
    let views: Vec<TensorView<'_>> = inputs.iter().map(|t| t.view()).collect();
    for _ in 0..args.warmup.max(1) {
        session.run(&views).map_err(|e| e.to_string())?;
    }
    let mut times = Vec::with_capacity(args.runs);
    // Per step, its time in every run (only with --layers).
    let mut step_runs: Vec<Vec<f64>> = Vec::new();
    let mut step_times = Vec::new();
    let start = Instant::now();
    for _ in 0..args.runs.max(1) {
        let t0 = Instant::now();
        if args.layers {
            session.run_timed(&views, &mut step_times).map_err(|e| e.to_string())?;
            step_runs.resize(step_times.len(), Vec::new());
            for (runs, t) in step_runs.iter_mut().zip(&step_times) {
                runs.push(t.as_secs_f64() * 1e3);
            }
        } else {
            // The outputs are read where the last kernel wrote them, as an app would.
            let outputs = session.run_views(&views).map_err(|e| e.to_string())?;
            std::hint::black_box(outputs.first().map(|o| o.bytes().first()));
        }
        times.push(t0.elapsed().as_secs_f64() * 1e3);
        if start.elapsed().as_secs_f64() > args.max_seconds && times.len() >= 3 {
            break;
        }
    }
    let (median, sorted) = median_sorted(&times);
    if args.layers {
        let shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
        let plan = session.plan_for(&shapes).map_err(|e| e.to_string())?;
        print_layers(model, &plan, &step_runs, median, name, threads, args.json);
    }
    let n = sorted.len();
    Ok(Timing {
        model: name.to_string(),
        threads,
        runs: n,
        median_ms: median,
        min_ms: sorted[0],
        mean_ms: sorted.iter().sum::<f64>() / n as f64,
        max_ms: sorted[n - 1],
    })
}

/// The median of `values` and the values sorted.
fn median_sorted(values: &[f64]) -> (f64, Vec<f64>) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    };
    (median, sorted)
}

/// `--layers`: per step, the median time over the runs, slowest first.
fn print_layers(
    model: &Model,
    plan: &ferrolite_runtime::plan::Plan,
    step_runs: &[Vec<f64>],
    run_median: f64,
    name: &str,
    threads: usize,
    json: bool,
) {
    let graph = model.graph();
    let mut rows: Vec<(usize, f64)> = step_runs.iter().enumerate().map(|(i, r)| (i, median_sorted(r).0)).collect();
    let steps_total: f64 = rows.iter().map(|r| r.1).sum();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let params = |p: &[(String, usize)]| p.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(" ");
    if !json {
        println!(
            "\n{name} at {threads} thread(s): run median {run_median:.3} ms, sum of step medians {steps_total:.3} ms"
        );
        println!("| # | node | op | output | kernel | params | ms | % | GFLOP/s |");
        println!("|---:|---|---|---|---|---|---:|---:|---:|");
    }
    for (i, ms) in rows {
        let Some(step) = plan.steps().get(i) else { continue };
        let macs = graph.node_macs(step.node).unwrap_or(0);
        let gflops = if macs > 0 && ms > 0.0 { 2.0 * macs as f64 / (ms * 1e6) } else { 0.0 };
        if json {
            let line = serde_json::json!({
                "model": name,
                "threads": threads,
                "step": i,
                "node": step.name,
                "op": step.op,
                "output_shape": step.output_shape,
                "kernel": step.kernel,
                "params": step.params.iter().map(|(n, v)| (n.clone(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
                "median_ms": (ms * 1e4).round() / 1e4,
                "macs": macs,
            });
            println!("{line}");
        } else {
            let share = if steps_total > 0.0 { 100.0 * ms / steps_total } else { 0.0 };
            let gf = if gflops > 0.0 { format!("{gflops:.1}") } else { String::new() };
            println!(
                "| {i} | {} | {} | {:?} | {} | {} | {ms:.4} | {share:.1} | {gf} |",
                step.name,
                step.op,
                step.output_shape,
                step.kernel,
                params(&step.params)
            );
        }
    }
}

fn json_line(t: &Timing, warmup: usize) -> String {
    serde_json::json!({
        "model": t.model,
        "threads": t.threads,
        "runs": t.runs,
        "warmup": warmup,
        "median_ms": round3(t.median_ms),
        "min_ms": round3(t.min_ms),
        "mean_ms": round3(t.mean_ms),
        "max_ms": round3(t.max_ms),
    })
    .to_string()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `ferrolite bench --peak`.
fn peak(json: bool) -> Result<(), String> {
    let p = ferrolite_targets::peak::fma_peak(std::time::Duration::from_millis(500));
    if json {
        let line = serde_json::json!({
            "peak": "fp32_fma",
            "isa": p.isa.name(),
            "lanes": p.lanes,
            "chains": ferrolite_targets::peak::CHAINS,
            "threads": 1,
            "gflops": (p.gflops * 10.0).round() / 10.0,
        });
        println!("{line}");
    } else {
        println!(
            "fp32 FMA peak, one thread: {:.1} GFLOP/s ({}, {} lanes, {} independent FMA chains)",
            p.gflops,
            p.isa,
            p.lanes,
            ferrolite_targets::peak::CHAINS
        );
    }
    Ok(())
}

pub fn bench(args: BenchArgs) -> Result<(), String> {
    if args.peak {
        return peak(args.json);
    }
    let shapes = load::parse_input_shapes(&args.input_shapes)?;
    let models: Vec<String> = if args.models.is_empty() {
        ferrolite_converter::zoo::NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        args.models.clone()
    };
    let threads = if args.threads.is_empty() { vec![1, 2] } else { args.threads.clone() };
    if threads.contains(&0) {
        return Err("--threads must be at least 1".into());
    }
    let mut results = Vec::new();
    for spec in &models {
        let name = load::display_name(spec);
        let model = Arc::new(load::load_model(spec, &shapes)?);
        let inputs = random_inputs(&model, args.seed)?;
        for &t in &threads {
            if !args.json {
                eprintln!("timing {name} at {t} thread(s) ...");
            }
            let timing = time_one(&model, &name, t, &inputs, &args)?;
            if args.json {
                println!("{}", json_line(&timing, args.warmup));
            }
            results.push(timing);
        }
    }
    if !args.json {
        println!("| network | threads | median ms | min ms | runs |");
        println!("|---|---:|---:|---:|---:|");
        for t in &results {
            println!("| {} | {} | {:.3} | {:.3} | {} |", t.model, t.threads, t.median_ms, t.min_ms, t.runs);
        }
    }
    Ok(())
}
