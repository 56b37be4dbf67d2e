//! # Ferrolite DSL vocabulary
//!
//! What the kernel DSL, the kernels and the runtime share: the graph IR ([`ir`]: operators,
//! attributes, dtypes, constant data), tensors and views ([`tensor`]), the kernel interface
//! ([`kernel`]: factories, kernels, the parallel context, the registry) and the error type.
//! The runtime re-exports all of it, so applications only name `ferrolite_runtime`.
#![warn(missing_docs)]

pub mod error;
pub mod ir;
pub mod kernel;
pub mod launch;
pub mod opencl;
pub mod pool;
pub mod tensor;
pub mod variant;

pub use error::{Error, Result};

/// Whether an OpenCL device is available to run OpenCL variants (see [`opencl::available`]).
pub fn opencl_available() -> bool {
    opencl::available()
}
