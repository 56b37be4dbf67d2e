//! Writes the weights of the zoo networks in node order, for `scripts/zoo_keras_outputs.py`
//! to load into the Keras models they mirror.
//!
//! ```text
//! cargo run -p ferrolite-converter --example zoo_dump -- OUT_DIR [SEED]
//! ```
//!
//! For each network `OUT_DIR/<name>/weights.bin` holds the f32 values (little-endian) of
//! every convolution, dense and batch-norm layer, and `OUT_DIR/<name>/layers.json` lists
//! those layers in node order (the order Keras calls its layers in, which
//! `converter/tests/zoo.rs` checks): kind, node name, and each array's role, shape (in
//! Ferrolite's layout) and offset in floats.

use std::io::Write;
use std::path::PathBuf;

use ferrolite_converter::zoo;
use ferrolite_runtime::ir::{Graph, Op};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().ok_or("usage: zoo_dump OUT_DIR [SEED]")?);
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(0);
    for name in zoo::NAMES {
        let graph = zoo::build(name, seed)?;
        let dir = out.join(name);
        std::fs::create_dir_all(&dir)?;
        let (layers, weights) = collect(&graph)?;
        std::fs::File::create(dir.join("weights.bin"))?.write_all(bytemuck::cast_slice(&weights))?;
        std::fs::write(dir.join("layers.json"), serde_json::to_string(&json!({ "seed": seed, "layers": layers }))?)?;
        println!("{name}: {} layers, {} floats -> {}", layers.len(), weights.len(), dir.display());
    }
    Ok(())
}

/// The layers with weights, in node order, and their values concatenated.
fn collect(graph: &Graph) -> Result<(Vec<serde_json::Value>, Vec<f32>), String> {
    let mut layers = Vec::new();
    let mut weights = Vec::new();
    for node in &graph.nodes {
        let (kind, roles): (&str, &[&str]) = match &node.op {
            Op::Conv2d(c) if c.groups > 1 => ("depthwise", &["kernel", "bias"]),
            Op::Conv2d(_) => ("conv", &["kernel", "bias"]),
            Op::Gemm(_) => ("dense", &["kernel", "bias"]),
            Op::BatchNorm(_) => ("batch_norm", &["gamma", "beta", "moving_mean", "moving_variance"]),
            _ => continue,
        };
        let mut arrays = Vec::new();
        for (i, role) in roles.iter().enumerate() {
            let Some(t) = node.input(i + 1) else { continue };
            let info = &graph.tensors[t];
            let values = info
                .data
                .as_ref()
                .and_then(|d| d.as_f32())
                .ok_or_else(|| format!("{}: {role} is not f32", node.name))?;
            arrays.push(json!({ "role": role, "shape": info.fixed_shape(), "offset": weights.len() }));
            weights.extend_from_slice(values);
        }
        layers.push(json!({ "kind": kind, "node": node.name, "arrays": arrays }));
    }
    Ok((layers, weights))
}
