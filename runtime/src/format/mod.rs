//! The `.flm` model file format: reading (with every offset, length, shape, dtype and index
//! checked) and writing.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::ir::{data::ByteStore, Graph};

/// Descriptive fields stored with the graph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Tool that wrote the file (`ferrolite 0.1.0`).
    pub producer: String,
    /// What the model was converted from (`onnx`, `tflite`, `zoo`).
    pub source: String,
}

/// A parsed `.flm` file.
#[derive(Debug)]
pub struct FlmFile {
    /// The graph; constants are windows of the file's store.
    pub graph: Graph,
    /// Descriptive fields.
    pub metadata: Metadata,
}

/// Serializes `graph` as a `.flm` file.
pub fn to_bytes(_graph: &Graph, _metadata: &Metadata) -> Result<Vec<u8>> {
    Err(Error::Unsupported("flm writer not written yet".into()))
}

/// Parses a `.flm` file held in `store` (a memory map or an owned aligned buffer).
pub fn read(_store: Arc<dyn ByteStore>) -> Result<FlmFile> {
    Err(Error::Unsupported("flm reader not written yet".into()))
}
