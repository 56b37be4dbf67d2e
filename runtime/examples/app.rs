//! A minimal application: what an app that ships one network links, and nothing more
//! (only `ferrolite-runtime`). It loads a `.flm` model, runs it once on seeded
//! pseudo-random inputs and prints each output's shape and a checksum.
//!
//! ```text
//! cargo run --release -p ferrolite-runtime --example app -- MODEL.flm [--plan] [--profile P.yaml] [--threads N] [--seed S]
//! cargo run --release -p ferrolite-runtime --example app -- --list
//! ```
//!
//! `--plan` also prints the kernel variant of every step and why it was chosen;
//! `--profile` plans with a device profile read at run time; `--list` prints the kernel-set
//! checksum and the variants this build contains (id, target, and `default` when its
//! compile-time parameters are the declared defaults). With
//! `FERROLITE_PROFILE=profile.yaml` at build time the binary holds only the profile's
//! picks and the fallback variants, and plans with the built-in profile (see
//! `docs/tuning.md`); `scripts/test-profile-build.sh` checks both with these flags.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use ferrolite_runtime::ir::DType;
use ferrolite_runtime::profile::Profile;
use ferrolite_runtime::{Model, Session, SessionOptions, TensorView};

const USAGE: &str = "usage: app MODEL.flm [--plan] [--profile P.yaml] [--threads N] [--seed S]\n       app --list";

struct Args {
    model: Option<String>,
    list: bool,
    plan: bool,
    profile: Option<String>,
    threads: usize,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { model: None, list: false, plan: false, profile: None, threads: 1, seed: 42 };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut number = |flag: &str| -> Result<u64, String> {
            let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            v.parse().map_err(|_| format!("{flag}: \"{v}\" is not a non-negative integer"))
        };
        match a.as_str() {
            "--list" => args.list = true,
            "--plan" => args.plan = true,
            "--profile" => args.profile = Some(it.next().ok_or("--profile needs a file")?),
            "--threads" => {
                args.threads = usize::try_from(number("--threads")?).map_err(|_| "--threads: too large".to_string())?
            }
            "--seed" => args.seed = number("--seed")?,
            "-h" | "--help" => return Err(USAGE.to_string()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}\n{USAGE}")),
            path if args.model.is_none() => args.model = Some(path.to_string()),
            extra => return Err(format!("unexpected argument \"{extra}\"\n{USAGE}")),
        }
    }
    if !args.list && args.model.is_none() {
        return Err(USAGE.to_string());
    }
    Ok(args)
}

/// xorshift64*: a few lines of seeded, reproducible pseudo-random numbers in [0, 1).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // A zero state would stay zero.
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
        bits as f32 / (1u64 << 24) as f32
    }
}

fn list() -> std::io::Result<()> {
    let registry = ferrolite_runtime::default_registry();
    let mut out = std::io::stdout().lock();
    writeln!(out, "kernel set {}", ferrolite_runtime::profile::kernel_set_checksum(&registry))?;
    for v in registry.all().iter().filter_map(|f| f.variant()) {
        writeln!(out, "{} {}{}", v.id, v.target, if v.default_params { " default" } else { "" })?;
    }
    out.flush()
}

fn run(args: &Args, path: &str) -> Result<(), String> {
    let fail = |e: ferrolite_runtime::Error| format!("{path}: {e}");
    // Load errors name the file themselves.
    let model = Arc::new(Model::load(path).map_err(|e| e.to_string())?);
    let mut options = SessionOptions::new().with_threads(args.threads);
    if let Some(profile) = &args.profile {
        let profile = Profile::load(profile).map_err(|e| e.to_string())?;
        options = options.with_profile(Arc::new(profile));
    }
    let mut session = Session::new(model.clone(), options).map_err(fail)?;
    match (session.profile(), session.profile_warning()) {
        (Some(p), _) => println!("profile: {} entries ({})", p.entries.len(), p.provenance.source),
        (None, Some(why)) => eprintln!("warning: {why}"),
        (None, None) => println!("profile: none"),
    }

    let mut rng = Rng::new(args.seed);
    let mut shapes = Vec::new();
    let mut data = Vec::new();
    for input in model.inputs() {
        if input.dtype != DType::F32 {
            return Err(format!("{path}: input \"{}\" is {}; this app feeds f32 inputs only", input.name, input.dtype));
        }
        let shape: Option<Vec<usize>> = input.shape.iter().map(|d| d.fixed()).collect();
        let shape = shape.ok_or_else(|| {
            format!("{path}: input \"{}\" has a symbolic dimension; fix it when converting (--input-shape)", input.name)
        })?;
        let n = ferrolite_runtime::tensor::checked_numel(&shape)
            .ok_or_else(|| format!("{path}: input \"{}\" has too many elements", input.name))?;
        data.push((0..n).map(|_| rng.next_f32()).collect::<Vec<f32>>());
        shapes.push(shape);
    }

    if args.plan {
        let plan = session.plan_for(&shapes).map_err(fail)?;
        for step in plan.steps() {
            let params: Vec<String> = step.params.iter().map(|(n, v)| format!("{n}={v}")).collect();
            println!("step {} {} {}: {} [{}] ({})", step.node, step.op, step.name, step.kernel, params.join(","), step.reason);
        }
    }

    let views = shapes
        .iter()
        .zip(&data)
        .map(|(shape, values)| TensorView::from_slice(shape, values))
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let outputs = session.run(&views).map_err(fail)?;
    for (i, out) in outputs.iter().enumerate() {
        // The hash tells bit-identical results apart (same kernels, same parameters); the
        // sum and the largest element are for reading.
        let hash = out.bytes().iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        print!("output {i}: shape {:?}, {}, fnv1a {hash:016x}", out.shape(), out.dtype());
        if let Ok(values) = out.as_slice::<f32>() {
            let sum: f64 = values.iter().map(|&v| f64::from(v)).sum();
            let max = values.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1));
            print!(", sum {sum:.6}");
            if let Some((at, v)) = max {
                print!(", max {v:.6} at {at}");
            }
        }
        println!();
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    // A closed pipe (`app --list | head`) is not an error.
    if args.list
        && let Err(e) = list()
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    if let Some(path) = &args.model
        && let Err(msg) = run(&args, path)
    {
        eprintln!("error: {msg}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
