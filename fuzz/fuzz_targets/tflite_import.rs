//! Feeds arbitrary bytes to the TFLite importer and, when they import, to the passes.
//!
//! Properties checked: nothing panics or aborts; a graph that imports and optimizes
//! validates.
#![no_main]

use ferrolite_converter::{SourceFormat, convert_bytes, ConvertOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(graph) = convert_bytes(data, SourceFormat::TfLite, &ConvertOptions::default()) {
        graph.validate().expect("an optimized graph validates");
        let _ = ferrolite_runtime::Model::from_graph(graph);
    }
});
