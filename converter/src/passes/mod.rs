//! Graph passes: shape inference, constant folding, cleanup, batch-norm folding, bias and
//! activation fusion, and the NCHW-to-NHWC layout rewrite.
//!
//! [`optimize`] runs them in this order, repeating until the graph stops changing:
//!
//! 1. [`infer_shapes`] (shapes and dtypes of every tensor),
//! 2. [`fold_constants`] (nodes with only constant inputs become constants),
//! 3. [`remove_identities`] and [`remove_dead_nodes`],
//! 4. [`optimize_layout`] (cancel the importers' layout transposes) and
//!    [`simplify_reshapes`],
//! 5. [`fold_batch_norms`] into the preceding convolution or Gemm,
//! 6. [`matmul_to_gemm`], [`fuse_bias_activation`] (bias, per-channel scale and
//!    activation epilogues of convolutions and Gemms), [`fuse_residual_add`] (skip
//!    connections into the convolution that feeds them), [`channel_affine_to_conv`]
//!    (per-channel `Mul` / `Add` no layer absorbs become a 1x1 depthwise convolution; then
//!    the fusion again) and [`fuse_pad_into_conv`],
//!
//! then infers shapes a last time and checks the graph is well-formed
//! ([`Graph::validate`]). Every pass keeps
//! what the graph computes (up to float rounding where weights are rescaled), keeps the
//! nodes in topological order, keeps the graph's inputs and outputs (names, layouts), and
//! leaves patterns it does not recognize as they are.

mod affine;
pub mod batchnorm;
pub mod channel_affine;
pub mod dce;
pub mod fold;
pub mod fuse;
pub mod gemm;
pub mod identity;
pub mod layout;
pub mod pad;
pub mod reshape;
pub mod residual;
pub(crate) mod rewrite;
pub mod shapes;
#[cfg(test)]
pub(crate) mod testing;

use ferrolite_runtime::ir::Graph;

pub use batchnorm::fold_batch_norms;
pub use channel_affine::channel_affine_to_conv;
pub use dce::remove_dead_nodes;
pub use fold::fold_constants;
pub use fuse::fuse_bias_activation;
pub use gemm::matmul_to_gemm;
pub use identity::remove_identities;
pub use layout::optimize_layout;
pub use pad::fuse_pad_into_conv;
pub use reshape::simplify_reshapes;
pub use residual::fuse_residual_add;
pub use shapes::{infer_shapes, set_input_shapes};

use crate::Result;

/// Upper bound on rounds of the pass pipeline; each round that changes nothing ends it, and
/// real models settle in two or three.
const MAX_ROUNDS: usize = 16;

/// Runs every optimizing pass to a fixed point, then a final shape inference and a
/// well-formedness check.
///
/// The graph must be well-formed (tensor ids in range, each tensor produced once); nodes
/// given out of order are put in a topological order first.
pub fn optimize(g: &mut Graph) -> Result<()> {
    rewrite::toposort(g)?;
    rewrite::check_graph(g)?;
    infer_shapes(g)?;
    for _ in 0..MAX_ROUNDS {
        let mut changed = fold_constants(g)?;
        changed |= remove_identities(g);
        changed |= remove_dead_nodes(g);
        infer_shapes(g)?;

        changed |= optimize_layout(g)?;
        infer_shapes(g)?;
        changed |= simplify_reshapes(g);
        changed |= remove_identities(g);
        infer_shapes(g)?;

        changed |= fold_batch_norms(g);
        changed |= matmul_to_gemm(g);
        changed |= fuse_bias_activation(g);
        changed |= fuse_residual_add(g);
        changed |= channel_affine_to_conv(g);
        changed |= fuse_bias_activation(g);
        changed |= fuse_pad_into_conv(g);
        changed |= remove_dead_nodes(g);
        infer_shapes(g)?;
        if !changed {
            break;
        }
    }
    remove_dead_nodes(g);
    rewrite::toposort(g)?;
    infer_shapes(g)?;
    rewrite::check_graph(g)?;
    g.validate()?;
    Ok(())
}

#[cfg(test)]
mod tests;
