//! Turning a command-line model argument into a loaded [`Model`]: a `.flm` file is
//! memory-mapped, an `.onnx` / `.tflite` file is converted in memory first, and a zoo
//! network name is built in memory.

use std::path::Path;

use ferrolite_converter::{zoo, ConvertOptions};
use ferrolite_runtime::Model;

/// Seed of the zoo networks' weights (the same as `make_models.py`'s default).
pub const ZOO_SEED: u64 = 0;

/// Parses `NAME=1,3,224,224` flags.
pub fn parse_input_shapes(flags: &[String]) -> Result<Vec<(String, Vec<usize>)>, String> {
    flags
        .iter()
        .map(|f| {
            let (name, dims) = f
                .split_once('=')
                .ok_or_else(|| format!("--input-shape {f:?}: expected NAME=DIMS, e.g. input=1,3,224,224"))?;
            let dims = dims
                .split(',')
                .map(|d| d.trim().parse::<usize>().map_err(|_| format!("--input-shape {f:?}: {d:?} is not a dimension")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((name.to_string(), dims))
        })
        .collect()
}

/// Loads `spec`: a `.flm`, `.onnx` or `.tflite` path, or a zoo network name.
pub fn load_model(spec: &str, input_shapes: &[(String, Vec<usize>)]) -> Result<Model, String> {
    let path = Path::new(spec);
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("flm") => {
            if !input_shapes.is_empty() {
                return Err("--input-shape applies when converting .onnx/.tflite; a .flm takes its shapes from the inputs".into());
            }
            Model::load(path).map_err(|e| e.to_string())
        }
        Some("onnx") | Some("tflite") => {
            let options = ConvertOptions { input_shapes: input_shapes.to_vec(), ..Default::default() };
            let graph = ferrolite_converter::convert_file(path, &options).map_err(|e| e.to_string())?;
            Model::from_graph(graph).map_err(|e| e.to_string())
        }
        _ if zoo::NAMES.contains(&spec) => {
            let mut graph = zoo::build(spec, ZOO_SEED).map_err(|e| e.to_string())?;
            ferrolite_converter::passes::set_input_shapes(&mut graph, input_shapes).map_err(|e| e.to_string())?;
            ferrolite_converter::passes::optimize(&mut graph).map_err(|e| e.to_string())?;
            Model::from_graph(graph).map_err(|e| e.to_string())
        }
        _ if path.exists() => Err(format!("{spec}: unknown model type (expected .flm, .onnx or .tflite)")),
        _ => Err(format!(
            "{spec}: no such file, and not a zoo network (zoo: {})",
            zoo::NAMES.join(", ")
        )),
    }
}

/// A short display name: the file stem, or the zoo name.
pub fn display_name(spec: &str) -> String {
    Path::new(spec).file_stem().and_then(|s| s.to_str()).unwrap_or(spec).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_shape_flags() {
        let v = parse_input_shapes(&["x=1,3,384,768".into()]).unwrap();
        assert_eq!(v, vec![("x".to_string(), vec![1, 3, 384, 768])]);
        assert!(parse_input_shapes(&["x".into()]).is_err());
        assert!(parse_input_shapes(&["x=1,a".into()]).is_err());
    }
}
