//! # Ferrolite kernels
//!
//! Operators written once in the kernel DSL (`ferrolite-macros`).
#![warn(missing_docs)]

pub mod probe;
pub mod sig;

use ferrolite_dsl::kernel::KernelRegistry;

/// Registers every DSL kernel variant this build contains.
pub fn register(registry: &mut KernelRegistry) {
    probe::probe_relu::register(registry);
}

/// A registry holding every DSL kernel variant of this build.
pub fn registry() -> KernelRegistry {
    let mut r = KernelRegistry::new();
    register(&mut r);
    r
}
