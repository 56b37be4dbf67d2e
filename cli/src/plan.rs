//! `ferrolite plan`: the kernel variant each node runs, with its run-time parameters and
//! the reason it was chosen (profile, nearest entry, heuristic rule, fallback).

use std::path::PathBuf;
use std::sync::Arc;

use ferrolite_runtime::Session;

use crate::load;

#[derive(clap::Args)]
pub struct PlanArgs {
    /// The model: a .flm, .onnx or .tflite file, or a zoo network name.
    model: String,
    /// A device profile (from `ferrolite tune`).
    #[arg(long, value_name = "PROFILE.yaml")]
    profile: Option<PathBuf>,
    /// Threads the plan is for (profile entries are per thread count).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Fix an input's shape when converting .onnx/.tflite (repeatable).
    #[arg(long = "input-shape", value_name = "NAME=DIMS")]
    input_shapes: Vec<String>,
    /// One JSON object per step instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn plan(args: PlanArgs) -> Result<(), String> {
    if args.threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    let shapes = load::parse_input_shapes(&args.input_shapes)?;
    let model = load::load_model(&args.model, &shapes)?;
    let input_shapes: Option<Vec<Vec<usize>>> =
        model.inputs().iter().map(|i| i.shape.iter().map(|d| d.fixed()).collect()).collect();
    let input_shapes = input_shapes.ok_or("the model has symbolic input dims; fix them with --input-shape NAME=DIMS")?;
    let options = crate::profile::session_options(args.threads, args.profile.as_deref())?;
    let mut session = Session::new(Arc::new(model), options).map_err(|e| e.to_string())?;
    crate::profile::warn(&session);
    let plan = session.plan_for(&input_shapes).map_err(|e| e.to_string())?;
    let params = |p: &[(String, usize)]| p.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(" ");
    if args.json {
        for s in plan.steps() {
            let line = serde_json::json!({
                "node": s.name,
                "op": s.op,
                "output_shape": s.output_shape,
                "kernel": s.kernel,
                "params": s.params.iter().map(|(n, v)| (n.clone(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
                "reason": s.reason.to_string(),
            });
            println!("{line}");
        }
        return Ok(());
    }
    println!("| # | node | op | output | kernel | params | why |");
    println!("|---:|---|---|---|---|---|---|");
    for (i, s) in plan.steps().iter().enumerate() {
        println!(
            "| {i} | {} | {} | {:?} | {} | {} | {} |",
            s.name,
            s.op,
            s.output_shape,
            s.kernel,
            params(&s.params),
            s.reason
        );
    }
    Ok(())
}
