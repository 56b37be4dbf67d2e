//! ONNX import (in progress).
use ferrolite_runtime::ir::Graph;
/// Imports an ONNX model.
pub fn import(_bytes: &[u8]) -> crate::Result<Graph> { Err(crate::ConvertError::Parse { format: "ONNX", msg: "not written".into() }) }
