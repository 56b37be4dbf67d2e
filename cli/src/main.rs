//! `ferrolite`: convert, run, benchmark and inspect models.
//!
//! The interface is relied on by tests and scripts: keep flags and output formats stable
//! (new JSON fields may be added, never removed).

mod bench;
mod info;
mod kernels;
mod load;
mod npy;
mod plan;
mod profile;
mod tune;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use ferrolite_runtime::{Session, TensorView};

#[derive(Parser)]
#[command(name = "ferrolite", version, about = "Ferrolite: an on-device neural-network inference engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert an ONNX or TFLite model to Ferrolite's .flm format.
    Convert(ConvertArgs),
    /// Run a model on .npy inputs and write its outputs as .npy files.
    Run(RunArgs),
    /// Time models (default: the five zoo networks at 1 and 2 threads).
    Bench(bench::BenchArgs),
    /// Show a model's inputs, outputs, operators, MACs and weight size.
    Info(info::InfoArgs),
    /// List the kernel variants this build contains.
    #[command(subcommand)]
    Kernels(kernels::KernelsCommand),
    /// Measure the kernel variants of a model's layers on this device and write a profile.
    Tune(tune::TuneArgs),
    /// Show the kernel variant chosen for each node, and why.
    Plan(plan::PlanArgs),
}

#[derive(clap::Args)]
struct ConvertArgs {
    /// The source model (.onnx or .tflite).
    input: PathBuf,
    /// Where to write the .flm file.
    #[arg(short, long)]
    output: PathBuf,
    /// Fix an input's shape at conversion, e.g. `input=1,3,384,768` (repeatable).
    #[arg(long = "input-shape", value_name = "NAME=DIMS")]
    input_shapes: Vec<String>,
    /// Skip the optimizing passes (folding, fusion, layout); for debugging.
    #[arg(long)]
    no_optimize: bool,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The model: a .flm, .onnx or .tflite file, or a zoo network name.
    model: String,
    /// Input .npy files, in the model's input order (repeat the flag).
    #[arg(long = "input", value_name = "X.npy", required = true)]
    inputs: Vec<PathBuf>,
    /// Directory for output_<i>.npy, in the model's output order.
    #[arg(long)]
    output_dir: PathBuf,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Fix an input's shape when converting .onnx/.tflite (repeatable).
    #[arg(long = "input-shape", value_name = "NAME=DIMS")]
    input_shapes: Vec<String>,
    /// A device profile (from `ferrolite tune`) whose picks replace the heuristic.
    #[arg(long, value_name = "PROFILE.yaml")]
    profile: Option<PathBuf>,
}

/// Lets a closed stdout end the process quietly, as it does other Unix tools
/// (`ferrolite plan model | head`), instead of a panic in `println!`: Rust starts programs
/// with SIGPIPE ignored, so every write to a closed pipe would fail.
fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: `signal` with `SIG_DFL` only restores the default disposition of one signal;
    // it is called once at start-up, before any other thread exists, and installs no handler
    // code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    default_sigpipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert(args) => convert(args),
        Command::Run(args) => run(args),
        Command::Bench(args) => bench::bench(args),
        Command::Info(args) => info::info(args),
        Command::Kernels(cmd) => kernels::kernels(cmd),
        Command::Tune(args) => tune::tune(args),
        Command::Plan(args) => plan::plan(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn convert(args: ConvertArgs) -> Result<(), String> {
    let shapes = load::parse_input_shapes(&args.input_shapes)?;
    let options = ferrolite_converter::ConvertOptions { input_shapes: shapes, optimize: !args.no_optimize };
    let graph = ferrolite_converter::convert_file(&args.input, &options).map_err(|e| e.to_string())?;
    let source = match ferrolite_converter::SourceFormat::detect(&args.input, &[]) {
        Some(f) => f.name().to_ascii_lowercase(),
        None => "unknown".into(),
    };
    let metadata =
        ferrolite_runtime::format::Metadata { producer: format!("ferrolite {}", env!("CARGO_PKG_VERSION")), source };
    let bytes = ferrolite_runtime::format::to_bytes(&graph, &metadata).map_err(|e| e.to_string())?;
    std::fs::write(&args.output, &bytes).map_err(|e| format!("{}: {e}", args.output.display()))?;
    eprintln!(
        "wrote {} ({} nodes, {:.1} MiB)",
        args.output.display(),
        graph.nodes.len(),
        bytes.len() as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

fn run(args: RunArgs) -> Result<(), String> {
    let shapes = load::parse_input_shapes(&args.input_shapes)?;
    let model = load::load_model(&args.model, &shapes)?;
    let declared = model.inputs().len();
    if args.inputs.len() != declared {
        let names: Vec<&str> = model.inputs().iter().map(|i| i.name.as_str()).collect();
        return Err(format!(
            "the model takes {declared} inputs ({}), got {} --input files",
            names.join(", "),
            args.inputs.len()
        ));
    }
    let tensors = args.inputs.iter().map(|p| npy::read(p)).collect::<Result<Vec<_>, _>>()?;
    let options = profile::session_options(args.threads, args.profile.as_deref())?;
    let mut session = Session::new(Arc::new(model), options).map_err(|e| e.to_string())?;
    profile::warn(&session);
    let views: Vec<TensorView<'_>> = tensors.iter().map(|t| t.view()).collect();
    let outputs = session.run(&views).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.output_dir).map_err(|e| format!("{}: {e}", args.output_dir.display()))?;
    for (i, out) in outputs.iter().enumerate() {
        npy::write(&args.output_dir.join(format!("output_{i}.npy")), out)?;
    }
    Ok(())
}
