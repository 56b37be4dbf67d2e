//! # Ferrolite converter
//!
//! Turns ONNX and TFLite models into Ferrolite's IR ([`ferrolite_runtime::ir::Graph`]),
//! runs the graph passes (shape inference, constant folding, dead-node removal, batch-norm
//! folding, bias and activation fusion, NCHW to NHWC layout), and builds the zoo networks.
//! The result is written as `.flm` by [`ferrolite_runtime::format`].
#![warn(missing_docs)]

mod error;
pub mod onnx;
pub mod passes;
pub mod tflite;
pub mod zoo;

use std::path::Path;

use ferrolite_runtime::ir::Graph;

pub use error::{ConvertError, Result};

/// The model formats the converter reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// ONNX protobuf (`.onnx`).
    Onnx,
    /// TensorFlow Lite flatbuffer (`.tflite`).
    TfLite,
}

impl SourceFormat {
    /// Guesses the format from the file name, then from the bytes (a TFLite flatbuffer
    /// carries the identifier `TFL3` at offset 4).
    pub fn detect(path: &Path, bytes: &[u8]) -> Option<SourceFormat> {
        match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
            Some("onnx") => Some(SourceFormat::Onnx),
            Some("tflite") => Some(SourceFormat::TfLite),
            _ if bytes.get(4..8) == Some(b"TFL3") => Some(SourceFormat::TfLite),
            _ => None,
        }
    }

    /// `ONNX` or `TFLite`, as used in messages.
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Onnx => "ONNX",
            SourceFormat::TfLite => "TFLite",
        }
    }
}

/// Options of a conversion.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// Fix symbolic input dimensions at conversion: `(input name, full shape)`.
    pub input_shapes: Vec<(String, Vec<usize>)>,
    /// Run the optimizing passes (folding, fusion, layout). Off only for debugging.
    pub optimize: bool,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions { input_shapes: Vec::new(), optimize: true }
    }
}

/// Imports a model without running passes (the graph as the source format states it).
pub fn import_bytes(bytes: &[u8], format: SourceFormat) -> Result<Graph> {
    match format {
        SourceFormat::Onnx => onnx::import(bytes),
        SourceFormat::TfLite => tflite::import(bytes),
    }
}

/// Imports a model, fixes input shapes as asked, and runs the passes.
pub fn convert_bytes(bytes: &[u8], format: SourceFormat, options: &ConvertOptions) -> Result<Graph> {
    let mut graph = import_bytes(bytes, format)?;
    passes::set_input_shapes(&mut graph, &options.input_shapes)?;
    if options.optimize {
        passes::optimize(&mut graph)?;
    } else {
        passes::infer_shapes(&mut graph)?;
    }
    Ok(graph)
}

/// Reads, imports and converts a model file; the format comes from
/// [`SourceFormat::detect`].
pub fn convert_file(path: &Path, options: &ConvertOptions) -> Result<Graph> {
    let bytes = std::fs::read(path).map_err(|e| ConvertError::Invalid {
        format: "file",
        msg: format!("{}: {e}", path.display()),
    })?;
    let format = SourceFormat::detect(path, &bytes).ok_or_else(|| ConvertError::Invalid {
        format: "file",
        msg: format!("{}: not an .onnx or .tflite model", path.display()),
    })?;
    convert_bytes(&bytes, format, options)
}
