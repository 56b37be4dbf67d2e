//! The graph IR shared by the converter (which builds and rewrites it) and the runtime (which
//! loads it from `.flm` and executes it).
//!
//! # Layout
//!
//! Activations are **NHWC**. The spatial operators ([`Op::Conv2d`], [`Op::ConvTranspose2d`],
//! [`Op::Pool2d`], [`Op::GlobalPool`], [`Op::DepthToSpace`], [`Op::SpaceToDepth`]) are defined
//! on NHWC tensors only; every kernel is written against that layout. All other operators are
//! layout-agnostic N-d operators with explicit axes. Importers of NCHW formats (ONNX) wrap the
//! spatial operators in [`Op::Transpose`] nodes and the converter's layout pass cancels them,
//! so a converted ONNX CNN runs in NHWC from end to end.
//!
//! # Weights
//!
//! Constant tensors ([`TensorInfo::data`]) are held as [`ConstData`]: a cheap handle onto a
//! byte region that is either owned (built by the converter) or a window of the memory-mapped
//! `.flm` file. Kernels pre-pack what they need once at load.
//!
//! Canonical weight layouts (importers permute into these):
//! - `Conv2d` weight: `[O, KH, KW, I / groups]` (OHWI), bias `[O]`.
//! - `ConvTranspose2d` weight: `[I, KH, KW, O / groups]`, bias `[O]`.
//! - `Gemm`: `A [M, K]` (or `[K, M]` with `trans_a`), `B [K, N]` (or `[N, K]` with
//!   `trans_b`), optional `C` broadcastable to `[M, N]`.

mod attrs;
/// Constant data storage.
pub mod data;
mod dtype;
mod graph;
/// Structural validation of graphs.
pub mod validate;
mod stats;

pub use attrs::*;
pub use data::{AlignedBytes, ConstData};
pub use dtype::DType;
pub use graph::{Dim, Graph, Node, NodeId, TensorId, TensorInfo};
