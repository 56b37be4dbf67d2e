//! Operator signatures: what kernels know of a node at plan time.

use ferrolite_dsl::ir::{Activation, DType, Op, Unary};
use ferrolite_dsl::kernel::NodeCtx;
use ferrolite_dsl::variant::OpSignature;

/// An element-wise activation over `len` f32 values.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationSig {
    /// Number of elements.
    pub len: usize,
    /// The activation.
    pub act: Activation,
}

impl OpSignature for ActivationSig {
    fn from_node(ctx: &NodeCtx<'_>) -> Option<Self> {
        let Op::Unary(Unary::Act(act)) = ctx.node.op else { return None };
        let (dtype, shape) = ctx.inputs.first().copied().flatten()?;
        (dtype == DType::F32).then(|| ActivationSig { len: shape.iter().product(), act })
    }
}
