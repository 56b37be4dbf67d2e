//! Feeds arbitrary bytes to the ONNX importer and, when they import, to the passes and the
//! planner.
//!
//! Properties checked: nothing panics or aborts; a graph that imports and optimizes
//! validates.
#![no_main]

use ferrolite_converter::{SourceFormat, convert_bytes, ConvertOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(graph) = convert_bytes(data, SourceFormat::Onnx, &ConvertOptions::default()) {
        graph.validate().expect("an optimized graph validates");
        let _ = ferrolite_runtime::Model::from_graph(graph);
    }
});
