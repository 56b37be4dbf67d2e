//! A loaded model: the validated graph, its weights (memory-mapped or owned) and the
//! weights pre-packed by kernels, shared by every session.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::format::{self, Metadata};
use crate::ir::data::ByteStore;
use crate::ir::{AlignedBytes, DType, Dim, Graph, NodeId};
use crate::kernel::{KernelFactory, KernelRegistry, NodeCtx, Packed};

/// Name, element type and declared shape of a model input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoInfo {
    /// Tensor name.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Declared shape; [`Dim::Sym`] dims are resolved from the actual inputs.
    pub shape: Vec<Dim>,
}

/// A model loaded once and shared (`Arc<Model>`) by any number of [`crate::Session`]s.
///
/// `Model` is `Send + Sync`: the graph and weights are immutable, and the cache of
/// pre-packed weights is behind a mutex that is only taken while planning.
pub struct Model {
    graph: Graph,
    metadata: Metadata,
    inputs: Vec<IoInfo>,
    outputs: Vec<IoInfo>,
    registry: Arc<KernelRegistry>,
    /// Checksums of the weights, for models loaded from a file.
    stored_weights: Vec<format::StoredWeight>,
    packed: Mutex<HashMap<(NodeId, String), Option<Packed>>>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("nodes", &self.graph.nodes.len())
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .finish()
    }
}

fn io_info(graph: &Graph, ids: &[usize]) -> Vec<IoInfo> {
    ids.iter()
        .map(|&t| {
            let info = &graph.tensors[t];
            IoInfo {
                name: info.name.clone(),
                dtype: info.dtype,
                shape: info.shape.clone().unwrap_or_default(),
            }
        })
        .collect()
}

/// The kernels a model uses unless told otherwise: every CPU variant of the DSL kernels this
/// build contains, then the reference implementation of every operator (the fallback).
///
/// OpenCL variants are left out: deciding whether to offload is for a tuning profile or the
/// caller (see [`full_registry`]), and leaving them out means loading a model never starts
/// an OpenCL driver.
pub fn default_registry() -> KernelRegistry {
    let mut dsl = KernelRegistry::new();
    ferrolite_kernels::register(&mut dsl);
    let mut r = KernelRegistry::new();
    for info in dsl.declared() {
        r.declare(info.clone());
    }
    for f in dsl.all() {
        if f.variant().is_none_or(|v| v.target != crate::variant::Target::OpenCl) {
            r.register(f.clone());
        }
    }
    crate::ops::register_reference(&mut r);
    r
}

/// Every kernel variant this build contains, OpenCL ones included, then the reference
/// operators: what tools that list or measure variants use.
pub fn full_registry() -> KernelRegistry {
    let mut r = KernelRegistry::new();
    ferrolite_kernels::register(&mut r);
    crate::ops::register_reference(&mut r);
    r
}

impl Model {
    /// Memory-maps and loads a `.flm` file. Only the header and graph are read and checked
    /// here; weight pages are touched when kernels pre-pack them (see
    /// [`Model::verify_weights`] for a full check).
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref();
        let io_err = |source| Error::Io { path: path.display().to_string(), source };
        let file = std::fs::File::open(path).map_err(io_err)?;
        // SAFETY: the map is read-only and every byte of it is treated as untrusted input
        // (all offsets and lengths are checked before use). As with any memory map, the
        // file must not be truncated or rewritten by another process while the model is
        // alive; Ferrolite itself never writes to a loaded model file.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io_err)?;
        Self::from_store(Arc::new(map))
    }

    /// Loads a `.flm` file from memory (copied into an aligned buffer).
    pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
        Self::from_store(Arc::new(AlignedBytes::from_slice(bytes)))
    }

    /// Loads a `.flm` file held in a byte store.
    pub fn from_store(store: Arc<dyn ByteStore>) -> Result<Model> {
        let file = format::read(store)?;
        let mut model = Self::build(file.graph, file.metadata)?;
        model.stored_weights = file.weights;
        Ok(model)
    }

    /// Wraps an in-memory graph (for example one the converter just produced). The graph
    /// is validated like a loaded file.
    pub fn from_graph(graph: Graph) -> Result<Model> {
        graph.validate()?;
        Self::build(graph, Metadata { producer: String::new(), source: "memory".into() })
    }

    fn build(graph: Graph, metadata: Metadata) -> Result<Model> {
        let inputs = io_info(&graph, &graph.inputs);
        let outputs = io_info(&graph, &graph.outputs);
        Ok(Model {
            graph,
            metadata,
            inputs,
            outputs,
            registry: Arc::new(default_registry()),
            stored_weights: Vec::new(),
            packed: Mutex::new(HashMap::new()),
        })
    }

    /// Replaces the kernel registry (before any session is created). Sessions pick each
    /// node's kernel from this registry.
    pub fn with_registry(mut self, registry: Arc<KernelRegistry>) -> Model {
        self.registry = registry;
        self.packed = Mutex::new(HashMap::new());
        self
    }

    /// The kernels this model's sessions choose from.
    pub fn registry(&self) -> &Arc<KernelRegistry> {
        &self.registry
    }

    /// The graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Descriptive fields from the file.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Model inputs in order.
    pub fn inputs(&self) -> &[IoInfo] {
        &self.inputs
    }

    /// Model outputs in order.
    pub fn outputs(&self) -> &[IoInfo] {
        &self.outputs
    }

    /// Checks every weight against the checksum stored in its `.flm` file (this reads every
    /// weight page; loading does not). Models built in memory have no checksums and pass.
    pub fn verify_weights(&self) -> Result<()> {
        format::verify_weights(&self.graph, &self.stored_weights)
    }

    /// Weights of `node` packed by `factory`, packing them on first use.
    pub(crate) fn packed_weights(&self, factory: &dyn KernelFactory, ctx: &NodeCtx<'_>) -> Result<Option<Packed>> {
        let key = (ctx.node_id, factory.id().to_string());
        if let Some(p) = self.lock_packed().get(&key) {
            return Ok(p.clone());
        }
        // Pack outside the lock: packing large weights takes a while and other sessions
        // planning other nodes should not wait. A rare duplicate pack is harmless.
        let packed = factory.prepack(ctx)?;
        self.lock_packed().entry(key).or_insert(packed.clone());
        Ok(packed)
    }

    /// Bytes of the weights kernels have packed so far (host copies: the DSL kernels' panels
    /// and the reference operators' layouts), the memory a session adds to the mapped
    /// weights once it has planned.
    pub fn packed_bytes(&self) -> usize {
        self.lock_packed()
            .values()
            .flatten()
            .map(|p| {
                if let Some(v) = p.downcast_ref::<Vec<f32>>() {
                    v.len() * 4
                } else if let Some(v) = p.downcast_ref::<crate::ops::conv::PackedF32>() {
                    v.bytes()
                } else {
                    0
                }
            })
            .sum()
    }

    fn lock_packed(&self) -> std::sync::MutexGuard<'_, HashMap<(NodeId, String), Option<Packed>>> {
        // A panic while holding the lock cannot leave the map inconsistent (single insert).
        self.packed.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Model>();
    }
}
