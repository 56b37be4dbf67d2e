//! `ferrolite info`: what a model takes and gives, what it is made of, what it costs.

use std::collections::BTreeMap;

use ferrolite_runtime::ops::util::show;

use crate::load;

#[derive(clap::Args)]
pub struct InfoArgs {
    /// The model: a .flm, .onnx or .tflite file, or a zoo network name.
    model: String,
    /// Check every weight against the checksums stored in the .flm file.
    #[arg(long)]
    verify: bool,
}

pub fn info(args: InfoArgs) -> Result<(), String> {
    let model = load::load_model(&args.model, &[])?;
    let g = model.graph();
    println!("model: {}", args.model);
    let meta = model.metadata();
    if !meta.producer.is_empty() {
        println!("producer: {} (from {})", meta.producer, meta.source);
    }
    println!("inputs:");
    for i in model.inputs() {
        println!("  {} {} {}", i.name, i.dtype, show(&i.shape));
    }
    println!("outputs:");
    for o in model.outputs() {
        println!("  {} {} {}", o.name, o.dtype, show(&o.shape));
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for n in &g.nodes {
        *counts.entry(n.op.name()).or_default() += 1;
    }
    println!("operators: {} nodes", g.nodes.len());
    for (op, n) in &counts {
        println!("  {op:<20} {n}");
    }
    match g.total_macs() {
        Some(m) => println!("MACs: {m} ({:.1}M)", m as f64 / 1e6),
        None => println!("MACs: unknown (symbolic input dimensions)"),
    }
    let weights = g.weight_bytes();
    let constants = g.tensors.iter().filter(|t| t.data.is_some()).count();
    println!("weights: {weights} bytes ({:.2} MiB) in {constants} constants", weights as f64 / (1024.0 * 1024.0));
    if args.verify {
        model.verify_weights().map_err(|e| e.to_string())?;
        println!("verify: every weight matches its checksum");
    }
    Ok(())
}
