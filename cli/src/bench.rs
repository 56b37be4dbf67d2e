//! `ferrolite bench`: time models the way the peer script does (each timed run sets the
//! input and reads the output back), and print a table like the seed's or JSON lines.

use std::sync::Arc;
use std::time::Instant;

use ferrolite_runtime::ir::DType;
use ferrolite_runtime::{Model, Session, Tensor, TensorView};
use ferrolite_tuner::measure::median;
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
    /// Compare with a saved run (the JSON lines of an earlier `ferrolite bench --json`): a
    /// configuration whose median grew by more than the two runs' measured noise is flagged
    /// as a regression, and the command then exits with status 1.
    #[arg(long, value_name = "FILE.jsonl")]
    baseline: Option<std::path::PathBuf>,
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
    /// First and third quartiles of the runs: their spread is the run's noise.
    p25_ms: f64,
    p75_ms: f64,
    memory: Memory,
}

/// Where a configuration's memory goes, in bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    /// The model's weights as stored (memory-mapped from a .flm file).
    weights: usize,
    /// Weights packed by the kernels at load (shared by sessions of one model).
    packed: usize,
    /// The session's activation arena and kernel workspace.
    arena: usize,
    /// Resident memory of the process after the runs, and its peak so far (Linux:
    /// `VmRSS` / `VmHWM`; `None` elsewhere). The peak covers everything the process did
    /// before, so run one model per process for a model's own peak.
    rss: Option<usize>,
    peak_rss: Option<usize>,
}

/// `VmRSS` and `VmHWM` of this process, in bytes (Linux).
fn resident_memory() -> (Option<usize>, Option<usize>) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return (None, None) };
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok()).map(|kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
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
    let run_median = median(&times);
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
    let plan = session.plan_for(&shapes).map_err(|e| e.to_string())?;
    if args.layers {
        print_layers(model, &plan, &step_runs, run_median, name, threads, args.json);
    }
    let (rss, peak_rss) = resident_memory();
    let memory = Memory {
        weights: usize::try_from(model.graph().weight_bytes()).unwrap_or(usize::MAX),
        packed: model.packed_bytes(),
        arena: plan.arena_bytes() + plan.workspace_bytes(),
        rss,
        peak_rss,
    };
    let n = sorted.len();
    let quartile = |q: f64| sorted[((n - 1) as f64 * q).round() as usize];
    Ok(Timing {
        p25_ms: quartile(0.25),
        p75_ms: quartile(0.75),
        memory,
        model: name.to_string(),
        threads,
        runs: n,
        median_ms: run_median,
        min_ms: sorted[0],
        mean_ms: sorted.iter().sum::<f64>() / n as f64,
        max_ms: sorted[n - 1],
    })
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
    let mut rows: Vec<(usize, f64)> = step_runs.iter().enumerate().map(|(i, r)| (i, median(r))).collect();
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
        "p25_ms": round3(t.p25_ms),
        "p75_ms": round3(t.p75_ms),
        "weights_mib": mib(t.memory.weights),
        "packed_mib": mib(t.memory.packed),
        "arena_mib": mib(t.memory.arena),
        "rss_mib": t.memory.rss.map(mib),
        "peak_rss_mib": t.memory.peak_rss.map(mib),
    })
    .to_string()
}

fn mib(bytes: usize) -> f64 {
    (bytes as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0
}

/// One configuration of a saved run.
#[derive(Debug, Clone, serde::Deserialize)]
struct Saved {
    model: String,
    threads: usize,
    median_ms: f64,
    #[serde(default)]
    p25_ms: Option<f64>,
    #[serde(default)]
    p75_ms: Option<f64>,
}

/// Relative noise of a run: its interquartile range over its median.
fn relative_spread(median: f64, p25: Option<f64>, p75: Option<f64>) -> Option<f64> {
    match (p25, p75) {
        (Some(a), Some(b)) if median > 0.0 => Some((b - a).max(0.0) / median),
        _ => None,
    }
}

/// A change of the median is a regression when it exceeds the noise of both runs together
/// (the sum of their relative interquartile ranges), and at least this much.
const MIN_REGRESSION: f64 = 0.02;
/// The band used when the saved run has no quartiles (older files).
const UNKNOWN_NOISE: f64 = 0.05;

/// `--baseline`: compares `results` with the saved run; returns whether anything regressed.
fn compare_baseline(path: &std::path::Path, results: &[Timing], json: bool) -> Result<bool, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut saved = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("{}:{}: not JSON: {e}", path.display(), i + 1))?;
        // Only the per-configuration lines (not `--layers` steps or `--peak`).
        if v.get("median_ms").is_some() && v.get("step").is_none() {
            let s: Saved = serde_json::from_value(v).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
            saved.push(s);
        }
    }
    if saved.is_empty() {
        return Err(format!("{}: no saved configurations (expected the output of `ferrolite bench --json`)", path.display()));
    }
    let mut regressed = false;
    if !json {
        println!("\n| network | threads | baseline ms | now ms | change | noise band | verdict |");
        println!("|---|---:|---:|---:|---:|---:|---|");
    }
    for t in results {
        let Some(b) = saved.iter().find(|s| s.model == t.model && s.threads == t.threads) else { continue };
        let change = t.median_ms / b.median_ms - 1.0;
        let now_noise = relative_spread(t.median_ms, Some(t.p25_ms), Some(t.p75_ms)).unwrap_or(0.0);
        let band = match relative_spread(b.median_ms, b.p25_ms, b.p75_ms) {
            Some(base_noise) => (base_noise + now_noise).max(MIN_REGRESSION),
            None => UNKNOWN_NOISE.max(now_noise),
        };
        let verdict = if change > band {
            regressed = true;
            "REGRESSION"
        } else if change < -band {
            "faster"
        } else {
            "same"
        };
        if json {
            let line = serde_json::json!({
                "model": t.model,
                "threads": t.threads,
                "baseline_ms": b.median_ms,
                "median_ms": round3(t.median_ms),
                "change": (change * 1e4).round() / 1e4,
                "noise_band": (band * 1e4).round() / 1e4,
                "verdict": verdict,
            });
            println!("{line}");
        } else {
            println!(
                "| {} | {} | {:.3} | {:.3} | {:+.1}% | ±{:.1}% | {verdict} |",
                t.model,
                t.threads,
                b.median_ms,
                t.median_ms,
                100.0 * change,
                100.0 * band
            );
        }
    }
    Ok(regressed)
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
        println!("| network | threads | median ms | min ms | runs | weights MiB | packed MiB | arena MiB | peak RSS MiB |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for t in &results {
            let m = t.memory;
            let peak = m.peak_rss.map_or_else(|| "-".to_string(), |b| format!("{:.1}", mib(b)));
            println!(
                "| {} | {} | {:.3} | {:.3} | {} | {:.1} | {:.1} | {:.1} | {peak} |",
                t.model,
                t.threads,
                t.median_ms,
                t.min_ms,
                t.runs,
                mib(m.weights),
                mib(m.packed),
                mib(m.arena)
            );
        }
    }
    if let Some(path) = &args.baseline
        && compare_baseline(path, &results, args.json)?
    {
        return Err("a configuration regressed beyond the noise of the two runs (see above)".into());
    }
    Ok(())
}
