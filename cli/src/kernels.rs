//! `ferrolite kernels list`: every kernel variant this build contains (DSL variants and the
//! reference operators), with what the registry knows of each and whether this machine can
//! run it.

use ferrolite_runtime::variant::Target;

/// `ferrolite kernels ...`
#[derive(clap::Subcommand)]
pub enum KernelsCommand {
    /// List every registered variant: id, operator, algorithm, target, parameters, priority,
    /// and whether this machine can run it.
    List(ListArgs),
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// Print one JSON object per line.
    #[arg(long)]
    json: bool,
    /// Only variants whose id contains this text.
    filter: Option<String>,
}

pub fn kernels(cmd: KernelsCommand) -> Result<(), String> {
    match cmd {
        KernelsCommand::List(args) => list(&args),
    }
}

/// One row of the listing.
struct Row {
    id: String,
    op: String,
    algorithm: String,
    target: String,
    compile: Vec<(String, usize)>,
    runtime: Vec<(String, Vec<usize>, usize)>,
    priority: i32,
    runnable: bool,
}

fn rows() -> Vec<Row> {
    let registry = ferrolite_runtime::full_registry();
    registry
        .all()
        .iter()
        .map(|f| match f.variant() {
            Some(v) => Row {
                id: v.id.clone(),
                op: v.op.to_string(),
                algorithm: v.algorithm.to_string(),
                target: v.target.name().to_string(),
                compile: v.compile_params.iter().map(|(n, x)| (n.to_string(), *x)).collect(),
                runtime: v.runtime_params.iter().map(|p| (p.name.to_string(), p.values.to_vec(), p.default)).collect(),
                priority: v.priority,
                runnable: v.runnable(),
            },
            // Reference operators: portable Rust, always runnable.
            None => Row {
                id: f.id().to_string(),
                op: format!("{:?}", f.op()).to_lowercase(),
                algorithm: "reference".into(),
                target: Target::Cpu(ferrolite_targets::Isa::Scalar).name().to_string(),
                compile: Vec::new(),
                runtime: Vec::new(),
                priority: f.priority(),
                runnable: true,
            },
        })
        .collect()
}

fn list(args: &ListArgs) -> Result<(), String> {
    let rows: Vec<Row> = rows().into_iter().filter(|r| args.filter.as_deref().is_none_or(|f| r.id.contains(f))).collect();
    if args.json {
        for r in &rows {
            let compile: serde_json::Map<String, serde_json::Value> =
                r.compile.iter().map(|(n, v)| (n.clone(), serde_json::json!(v))).collect();
            let runtime: serde_json::Map<String, serde_json::Value> = r
                .runtime
                .iter()
                .map(|(n, vals, d)| (n.clone(), serde_json::json!({ "values": vals, "default": d })))
                .collect();
            let line = serde_json::json!({
                "id": r.id,
                "op": r.op,
                "algorithm": r.algorithm,
                "target": r.target,
                "compile_params": compile,
                "runtime_params": runtime,
                "priority": r.priority,
                "runnable": r.runnable,
            });
            println!("{line}");
        }
        return Ok(());
    }
    let width = rows.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    println!("{:<width$}  {:<10} {:<10} {:<8} {:>4}  {:<8} parameters", "id", "op", "algorithm", "target", "prio", "runnable");
    for r in &rows {
        let mut params: Vec<String> = r.compile.iter().map(|(n, v)| format!("{n}={v}")).collect();
        params.extend(r.runtime.iter().map(|(n, vals, d)| format!("{n}={d} of {vals:?}")));
        println!(
            "{:<width$}  {:<10} {:<10} {:<8} {:>4}  {:<8} {}",
            r.id,
            r.op,
            r.algorithm,
            r.target,
            r.priority,
            if r.runnable { "yes" } else { "no" },
            params.join(" ")
        );
    }
    let runnable = rows.iter().filter(|r| r.runnable).count();
    println!("{} variants, {runnable} runnable on this machine", rows.len());
    Ok(())
}
