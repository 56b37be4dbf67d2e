//! # Ferrolite kernels
//!
//! Operators written once in the kernel DSL (`ferrolite-macros`).
#![warn(missing_docs)]

pub mod conv_direct;
pub mod conv_gemm;
pub mod depthwise;
pub mod eltwise;
pub mod epilogue;
pub mod fc;
pub mod pad;
pub mod pool;
pub mod probe;
pub mod sig;
pub mod softmax;
pub mod split;
pub mod window;
pub mod winograd;

use ferrolite_dsl::kernel::KernelRegistry;

/// Registers every DSL kernel variant this build contains.
pub fn register(registry: &mut KernelRegistry) {
    conv_direct::conv_direct::register(registry);
    conv_gemm::conv_gemm::register(registry);
    depthwise::depthwise::register(registry);
    pool::pool2d_direct::register(registry);
    pool::global_pool_direct::register(registry);
    eltwise::activation::register(registry);
    eltwise::binary_direct::register(registry);
    fc::fully_connected::register(registry);
    pad::spatial_pad::register(registry);
    softmax::softmax_lastaxis::register(registry);
    winograd::winograd::register(registry);
}

/// A registry holding every DSL kernel variant of this build.
pub fn registry() -> KernelRegistry {
    let mut r = KernelRegistry::new();
    register(&mut r);
    r
}
