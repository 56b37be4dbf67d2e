//! The kernel interface: what the reference operators implement today and what the kernel
//! DSL fills in, operator by operator.
//!
//! A [`KernelFactory`] is registered per operator implementation (a variant id such as
//! `f32-conv2d-reference`). At plan time, when every shape is known, the planner asks each
//! factory of the node's [`OpKind`] whether it [`applies`](KernelFactory::applies), picks
//! one, lets it [`prepack`](KernelFactory::prepack) the weights (once per model and node,
//! cached and shared by every session), and [`build`](KernelFactory::build)s a [`Kernel`] for
//! the concrete shapes. At run time the kernel gets its inputs, its outputs (arena memory
//! planned from tensor lifetimes), a workspace of the size it asked for, and a [`Parallel`]
//! context. Kernels never allocate while running.

use std::any::Any;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::ir::{ConstData, DType, Graph, Node, NodeId, OpKind};
use crate::tensor::{TensorView, TensorViewMut};

/// Activation layout a kernel needs. Every kernel today is NHWC (see [`crate::ir`]);
/// the field exists so a blocked layout can be planned later without changing the trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Channels last: `[N, H, W, C]`.
    Nhwc,
}

/// Weights packed by a kernel at load time, in runtime-owned memory. The kernel downcasts
/// it back to its own type in [`KernelFactory::build`].
pub type Packed = Arc<dyn Any + Send + Sync>;

/// Everything known about one node at plan time: attributes, concrete shapes and dtypes of
/// inputs and outputs, and the values of inputs known before running (weights, and shape
/// tensors computed from the input shapes).
#[derive(Debug)]
pub struct NodeCtx<'a> {
    /// The graph the node belongs to.
    pub graph: &'a Graph,
    /// The node's index.
    pub node_id: NodeId,
    /// The node.
    pub node: &'a Node,
    /// Per input: dtype and concrete shape (`None` for an omitted optional input).
    pub inputs: Vec<Option<(DType, &'a [usize])>>,
    /// Per output: dtype and concrete shape.
    pub outputs: Vec<(DType, &'a [usize])>,
    /// Per input: the value, if known at plan time.
    pub values: Vec<Option<&'a ConstData>>,
}

impl<'a> NodeCtx<'a> {
    /// Shape of input `i`, or an error naming the node if it is absent.
    pub fn input_shape(&self, i: usize) -> Result<&'a [usize]> {
        self.inputs.get(i).copied().flatten().map(|(_, s)| s).ok_or_else(|| self.err(format!("input {i} is missing")))
    }

    /// Value of input `i` if it is known at plan time.
    pub fn input_value(&self, i: usize) -> Option<&'a ConstData> {
        self.values.get(i).copied().flatten()
    }

    /// A view of input `i`'s value if it is known at plan time.
    pub fn input_view(&self, i: usize) -> Option<TensorView<'a>> {
        let (dtype, shape) = self.inputs.get(i).copied().flatten()?;
        TensorView::new(dtype, shape, self.input_value(i)?.bytes()).ok()
    }

    /// Shape of output `i`.
    pub fn output_shape(&self, i: usize) -> Result<&'a [usize]> {
        self.outputs.get(i).map(|(_, s)| *s).ok_or_else(|| self.err(format!("output {i} is missing")))
    }

    /// An [`Error::Node`] naming this node.
    pub fn err(&self, msg: impl Into<String>) -> Error {
        Error::node(self.graph.node_label(self.node_id), msg)
    }
}

/// One implementation of one operator, registered under a stable variant id.
pub trait KernelFactory: Send + Sync {
    /// Stable variant id, `<dtype>-<op>-<algorithm>[-<params>]-<isa>` (e.g.
    /// `f32-conv2d-reference`), used in tests, benches, profiles and logs.
    fn id(&self) -> &str;

    /// The operator kind this implements.
    fn op(&self) -> OpKind;

    /// Activation layout it expects.
    fn layout(&self) -> Layout {
        Layout::Nhwc
    }

    /// Preference when several apply and no profile decides: higher wins. Reference
    /// kernels are 0.
    fn priority(&self) -> i32 {
        0
    }

    /// Whether this implementation handles the node with these shapes and dtypes.
    fn applies(&self, ctx: &NodeCtx<'_>) -> bool;

    /// Packs weights once at load. Must depend only on the node's attributes and constant
    /// inputs (not on activation shapes): the result is cached per model and node.
    fn prepack(&self, _ctx: &NodeCtx<'_>) -> Result<Option<Packed>> {
        Ok(None)
    }

    /// A kernel for the concrete shapes in `ctx`.
    fn build(&self, ctx: &NodeCtx<'_>, packed: Option<Packed>) -> Result<Box<dyn Kernel>>;
}

/// A kernel ready to run for fixed shapes.
pub trait Kernel: Send + Sync {
    /// Scratch bytes the kernel needs per run (64-byte aligned when given).
    fn workspace_bytes(&self) -> usize {
        0
    }

    /// Computes the outputs from the inputs. Input `i` is `None` for an omitted optional
    /// input. Must not allocate.
    fn run(&self, io: KernelIo<'_, '_>, par: &Parallel<'_>) -> Result<()>;
}

/// The buffers of one kernel call.
#[derive(Debug)]
pub struct KernelIo<'a, 'b> {
    /// Inputs in the node's order (weights and plan-time values included).
    pub inputs: &'b [Option<TensorView<'a>>],
    /// Outputs in the node's order.
    pub outputs: &'b mut [TensorViewMut<'a>],
    /// Scratch memory of [`Kernel::workspace_bytes`] bytes.
    pub workspace: &'b mut [u8],
}

impl<'a> KernelIo<'a, '_> {
    /// Input `i`, or an error if it is absent.
    pub fn input(&self, i: usize) -> Result<TensorView<'a>> {
        self.inputs.get(i).copied().flatten().ok_or_else(|| Error::Graph(format!("kernel input {i} is missing")))
    }
}

/// The parallel context of a run: the session's thread pool.
///
/// Kernels split their work into independent tasks; the session runs every kernel inside
/// its pool, so tasks land on the session's threads.
#[derive(Debug, Clone, Copy)]
pub struct Parallel<'p> {
    pool: Option<&'p rayon::ThreadPool>,
}

impl<'p> Parallel<'p> {
    /// Runs on the calling thread only.
    pub const SERIAL: Parallel<'static> = Parallel { pool: None };

    /// Tasks go to `pool`.
    pub fn new(pool: &'p rayon::ThreadPool) -> Self {
        Parallel { pool: Some(pool) }
    }

    /// Number of threads tasks may run on.
    pub fn threads(&self) -> usize {
        self.pool.map_or(1, |p| p.current_num_threads())
    }

    /// Calls `f(i)` for every `i` in `0..n`, spread over the threads.
    pub fn for_each(&self, n: usize, f: impl Fn(usize) + Sync + Send) {
        use rayon::prelude::*;
        match self.pool {
            Some(pool) if n > 1 && pool.current_num_threads() > 1 => pool.install(|| (0..n).into_par_iter().for_each(f)),
            _ => (0..n).for_each(f),
        }
    }

    /// Splits `data` into chunks of `chunk` elements (the last may be shorter) and calls
    /// `f(chunk_index, chunk)` for each, spread over the threads.
    pub fn for_each_chunk_mut<T: Send>(&self, data: &mut [T], chunk: usize, f: impl Fn(usize, &mut [T]) + Sync + Send) {
        use rayon::prelude::*;
        let chunk = chunk.max(1);
        match self.pool {
            Some(pool) if data.len() > chunk && pool.current_num_threads() > 1 => {
                pool.install(|| data.par_chunks_mut(chunk).enumerate().for_each(|(i, c)| f(i, c)))
            }
            _ => data.chunks_mut(chunk).enumerate().for_each(|(i, c)| f(i, c)),
        }
    }
}

/// Every kernel implementation known to a runtime, looked up by operator kind.
#[derive(Clone, Default)]
pub struct KernelRegistry {
    factories: Vec<Arc<dyn KernelFactory>>,
}

impl std::fmt::Debug for KernelRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.factories.iter().map(|k| k.id())).finish()
    }
}

impl KernelRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an implementation.
    pub fn register(&mut self, factory: Arc<dyn KernelFactory>) {
        self.factories.push(factory);
    }

    /// Every registered implementation.
    pub fn all(&self) -> &[Arc<dyn KernelFactory>] {
        &self.factories
    }

    /// The implementation with this id.
    pub fn by_id(&self, id: &str) -> Option<&Arc<dyn KernelFactory>> {
        self.factories.iter().find(|f| f.id() == id)
    }

    /// Implementations of `op` that apply to the node, highest priority first.
    pub fn applicable(&self, ctx: &NodeCtx<'_>) -> Vec<&Arc<dyn KernelFactory>> {
        let kind = ctx.node.op.kind();
        let mut v: Vec<_> = self.factories.iter().filter(|f| f.op() == kind && f.applies(ctx)).collect();
        v.sort_by_key(|f| std::cmp::Reverse(f.priority()));
        v
    }
}
