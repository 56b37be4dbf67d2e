//! `ferrolite tune`: measure the kernel variants of a model's layers on this device (or on
//! a remote one) and write a device profile; `--report` says how good the picks are.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ferrolite_runtime::profile::Profile;
use ferrolite_runtime::{Model, Tensor, full_registry};
use ferrolite_tuner::remote::{Remote, RemoteTune};
use ferrolite_tuner::report::{self, LayerRegret};
use ferrolite_tuner::{TuneOptions, distinct_layers};
use indicatif::{ProgressBar, ProgressStyle};

use crate::load;

#[derive(clap::Args)]
pub struct TuneArgs {
    /// The model: a .flm, .onnx or .tflite file, or a zoo network name.
    #[arg(required_unless_present = "suite")]
    model: Option<String>,
    /// Tune the standard shape suite instead of one model: every distinct convolution of
    /// the five zoo networks (basic_squeezenet, inception_v3, mobilenet_v1_10_224,
    /// mobilenet_v2_10_224, resnet_v2_50) at 224x224 (299x299 for inception_v3).
    #[arg(long, conflicts_with_all = ["model", "remote", "report"])]
    suite: bool,
    /// Seconds to spend measuring.
    #[arg(long, default_value_t = 60.0)]
    budget: f64,
    /// Where to write the profile (YAML). An existing profile there for this device and
    /// kernel set is resumed: its layers are not measured again.
    #[arg(short, long)]
    output: PathBuf,
    /// Threads the profile is for.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Also measure OpenCL variants.
    #[arg(long)]
    opencl: bool,
    /// After tuning, re-measure: each layer's pick against an exhaustive search (regret),
    /// and the whole network with the profile, with the heuristic and with each single
    /// algorithm. Takes much longer than the budget.
    #[arg(long)]
    report: bool,
    /// Tune on another device: a command template that runs a shell command line there,
    /// with `{}` for it (`adb shell {}`, `ssh phone {}`, `sh -c {}`).
    #[arg(long, value_name = "TEMPLATE")]
    remote: Option<String>,
    /// The `ferrolite` binary built for the remote device (e.g. by
    /// `cargo build --release -p ferrolite-cli --target aarch64-unknown-linux-gnu`).
    #[arg(long, value_name = "PATH", requires = "remote")]
    remote_binary: Option<PathBuf>,
    /// Working directory on the remote device.
    #[arg(long, default_value = "/data/local/tmp/ferrolite", requires = "remote")]
    remote_dir: String,
    /// Prefix of the remote invocation (an emulator such as `qemu-aarch64-static`).
    #[arg(long, default_value = "", requires = "remote")]
    remote_prefix: String,
    /// Fix an input's shape when converting .onnx/.tflite (repeatable).
    #[arg(long = "input-shape", value_name = "NAME=DIMS")]
    input_shapes: Vec<String>,
}

pub fn tune(args: TuneArgs) -> Result<(), String> {
    if args.threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    if !(args.budget.is_finite() && args.budget > 0.0) {
        return Err(format!("--budget {}: expected a positive number of seconds", args.budget));
    }
    if let Some(template) = &args.remote {
        return tune_remote(&args, template);
    }
    if args.suite {
        return tune_suite(&args);
    }
    let spec = args.model.clone().ok_or("give a model or --suite")?;
    let shapes = load::parse_input_shapes(&args.input_shapes)?;
    let model = load::load_model(&spec, &shapes)?;
    let input_shapes: Option<Vec<Vec<usize>>> =
        model.inputs().iter().map(|i| i.shape.iter().map(|d| d.fixed()).collect()).collect();
    let input_shapes = input_shapes.ok_or("the model has symbolic input dims; fix them with --input-shape NAME=DIMS")?;
    let registry = full_registry();
    let options = TuneOptions {
        threads: args.threads,
        budget: Duration::from_secs_f64(args.budget),
        opencl: args.opencl,
        source: load::display_name(&spec),
        output: Some(args.output.clone()),
    };
    let bar = progress_bar()?;
    let start = std::time::Instant::now();
    let (profile, measured) =
        ferrolite_tuner::tune(&model, &input_shapes, &registry, &options, &bar).map_err(|e| e.to_string())?;
    profile.save(&args.output).map_err(|e| e.to_string())?;
    write_header(&args.output, &profile)?;
    eprintln!(
        "tuned {measured} layer(s) in {:.1} s (budget {:.0} s); {} entries in {}",
        start.elapsed().as_secs_f64(),
        args.budget,
        profile.entries.len(),
        args.output.display()
    );
    if args.report {
        let model = Arc::new(model);
        print_report(&model, &spec, &input_shapes, &profile, &args)?;
    }
    Ok(())
}

fn progress_bar() -> Result<ProgressBar, String> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:24}] {elapsed:>4} {wide_msg}")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    Ok(bar)
}

/// `--suite`: the distinct convolutions of the zoo networks, tuned into one profile.
fn tune_suite(args: &TuneArgs) -> Result<(), String> {
    let mut layers: Vec<ferrolite_tuner::Layer> = Vec::new();
    for name in ferrolite_converter::zoo::NAMES {
        let model = load::load_model(name, &[])?;
        let shapes: Option<Vec<Vec<usize>>> =
            model.inputs().iter().map(|i| i.shape.iter().map(|d| d.fixed()).collect()).collect();
        let shapes = shapes.ok_or_else(|| format!("zoo network {name} has symbolic input dims"))?;
        for l in distinct_layers(&model, &shapes, args.threads).map_err(|e| e.to_string())? {
            if !layers.iter().any(|x| x.key == l.key) {
                layers.push(l);
            }
        }
    }
    let registry = full_registry();
    let options = TuneOptions {
        threads: args.threads,
        budget: Duration::from_secs_f64(args.budget),
        opencl: args.opencl,
        source: "suite".into(),
        output: Some(args.output.clone()),
    };
    let start = std::time::Instant::now();
    let (profile, measured) =
        ferrolite_tuner::tune_layers(&layers, &registry, &options, &progress_bar()?).map_err(|e| e.to_string())?;
    profile.save(&args.output).map_err(|e| e.to_string())?;
    write_header(&args.output, &profile)?;
    eprintln!(
        "tuned {measured} of the suite's {} layers in {:.1} s; {} entries in {}",
        layers.len(),
        start.elapsed().as_secs_f64(),
        profile.entries.len(),
        args.output.display()
    );
    Ok(())
}

/// Prepends a provenance header (YAML comments: the command, the device, the date) to the
/// saved profile; readers ignore it.
fn write_header(path: &std::path::Path, profile: &Profile) -> Result<(), String> {
    let body = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let command: Vec<String> = std::env::args().skip(1).collect();
    let header = format!(
        "# Ferrolite device profile (format {}).\n# Tuned by: ferrolite {}\n# On: {} {} ({}), {} cores, at {}\n",
        profile.format,
        command.join(" "),
        profile.device.arch,
        profile.device.cpu,
        profile.device.isa.join(", "),
        profile.device.cores,
        profile.provenance.tuned
    );
    std::fs::write(path, header + &body).map_err(|e| format!("{}: {e}", path.display()))
}

fn tune_remote(args: &TuneArgs, template: &str) -> Result<(), String> {
    let binary = args.remote_binary.clone().ok_or("--remote needs --remote-binary: the ferrolite binary built for the device")?;
    if args.report {
        return Err("--report runs locally; run it on the device, or without --remote".into());
    }
    let mut rest = vec!["--budget".to_string(), args.budget.to_string(), "--threads".to_string(), args.threads.to_string()];
    if args.opencl {
        rest.push("--opencl".into());
    }
    for s in &args.input_shapes {
        rest.push("--input-shape".into());
        rest.push(s.clone());
    }
    let job = RemoteTune {
        remote: Remote { template: template.to_string(), dir: args.remote_dir.clone(), prefix: args.remote_prefix.clone() },
        binary,
        model: args.model.clone().ok_or("--remote needs a model")?,
        output: args.output.clone(),
        args: rest,
    };
    job.run()?;
    let p = Profile::load(&args.output).map_err(|e| e.to_string())?;
    eprintln!(
        "pulled {} ({} entries, tuned on {} {})",
        args.output.display(),
        p.entries.len(),
        p.device.arch,
        p.device.cpu
    );
    Ok(())
}

fn seeded_inputs(model: &Model, shapes: &[Vec<usize>]) -> Result<Vec<Tensor>, String> {
    let _ = model;
    shapes
        .iter()
        .map(|s| {
            let n: usize = s.iter().product();
            let values: Vec<f32> = (0..n).map(|i| ((i * 7919) % 2003) as f32 / 1001.5 - 1.0).collect();
            Tensor::from_slice(s, &values).map_err(|e| e.to_string())
        })
        .collect()
}

fn print_report(
    model: &Arc<Model>,
    spec: &str,
    input_shapes: &[Vec<usize>],
    profile: &Profile,
    args: &TuneArgs,
) -> Result<(), String> {
    let registry = full_registry();
    let layers = distinct_layers(model, input_shapes, args.threads).map_err(|e| e.to_string())?;
    let bar = ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(200));
    let progress = |m: &str| bar.set_message(format!("report: {m}"));
    let regrets: Vec<LayerRegret> =
        report::layer_regret(&layers, profile, &registry, args.threads, &progress).map_err(|e| e.to_string())?;

    // Whole network: tuned, heuristic, each single algorithm.
    let mut configs: Vec<(String, Option<Arc<Profile>>)> =
        vec![("tuned".into(), Some(Arc::new(profile.clone()))), ("heuristic".into(), None)];
    for alg in report::conv_algorithms(&registry) {
        let p = report::single_algorithm_profile(&layers, &registry, profile, alg).map_err(|e| e.to_string())?;
        configs.push((format!("{alg} only"), Some(Arc::new(p))));
    }
    progress("whole network");
    let inputs = seeded_inputs(model, input_shapes)?;
    let times = report::whole_network(model, &inputs, args.threads, &configs, report::NETWORK_ROUNDS, 5)
        .map_err(|e| e.to_string())?;
    bar.finish_and_clear();

    println!("## {} at {} thread(s): picks against an exhaustive search\n", load::display_name(spec), args.threads);
    println!("| layer | nodes | pick | pick us | exhaustive best | best us | regret | space |");
    println!("|---|---:|---|---:|---|---:|---:|---:|");
    let (mut pick_total, mut best_total) = (0.0, 0.0);
    for r in &regrets {
        pick_total += r.pick_us * r.count as f64;
        best_total += r.best_us * r.count as f64;
        println!(
            "| {} | {} | {} | {:.1} | {} | {:.1} | {:+.1}% | {} |",
            r.name,
            r.count,
            r.pick,
            r.pick_us,
            r.best,
            r.best_us,
            100.0 * r.regret(),
            r.space
        );
    }
    let regrets_sorted = {
        let mut v: Vec<f64> = regrets.iter().map(LayerRegret::regret).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    if let (Some(worst), false) = (regrets_sorted.last(), regrets.is_empty()) {
        println!(
            "\nregret: median {:+.1}%, worst {:+.1}%; conv time weighted by node count {:+.1}%",
            100.0 * ferrolite_tuner::measure::median(&regrets_sorted),
            100.0 * worst,
            100.0 * (pick_total / best_total.max(1e-9) - 1.0)
        );
    }
    println!("\n## whole network, median of {} interleaved rounds\n", report::NETWORK_ROUNDS);
    println!("| configuration | ms | tuned speed-up |");
    println!("|---|---:|---:|");
    let tuned = times.first().map_or(f64::NAN, |t| t.1);
    for (label, ms) in &times {
        println!("| {label} | {ms:.3} | {:.2}x |", ms / tuned);
    }
    Ok(())
}
