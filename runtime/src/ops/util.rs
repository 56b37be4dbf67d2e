//! Helpers shared by the operator families: axis normalization, broadcasting, and a factory
//! type for reference kernels.

use std::sync::Arc;

use crate::error::Result;
use crate::ir::{Dim, OpKind};
use crate::kernel::{Kernel, KernelFactory, KernelRegistry, NodeCtx, Packed};

/// Normalizes a possibly negative axis against `rank` (`-1` is the last axis).
pub fn normalize_axis(axis: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r {
        return Err(format!("axis {axis} is out of range for rank {rank}"));
    }
    Ok(a as usize)
}

/// Numpy broadcasting of two concrete shapes.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank { a[i + a.len() - rank] } else { 1 };
        let db = if i + b.len() >= rank { b[i + b.len() - rank] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return Err(format!("shapes {a:?} and {b:?} do not broadcast")),
        };
    }
    Ok(out)
}

/// Numpy broadcasting of two possibly symbolic shapes. Unknown results are `Dim::Sym("?")`.
pub fn broadcast_dims(a: &[Dim], b: &[Dim]) -> Result<Vec<Dim>, String> {
    let rank = a.len().max(b.len());
    let one = Dim::Fixed(1);
    let mut out = Vec::with_capacity(rank);
    for i in 0..rank {
        let da = if i + a.len() >= rank { &a[i + a.len() - rank] } else { &one };
        let db = if i + b.len() >= rank { &b[i + b.len() - rank] } else { &one };
        out.push(match (da, db) {
            (x, y) if x == y && x != &Dim::Sym("?".into()) => x.clone(),
            (Dim::Fixed(1), y) => y.clone(),
            (x, Dim::Fixed(1)) => x.clone(),
            (Dim::Fixed(x), Dim::Fixed(y)) => {
                return Err(format!("shapes {} and {} do not broadcast (dim {x} vs {y})", show(a), show(b)));
            }
            // A symbolic size against a fixed size > 1 must equal it to be valid.
            (Dim::Fixed(x), _) | (_, Dim::Fixed(x)) => Dim::Fixed(*x),
            _ => Dim::Sym("?".into()),
        });
    }
    Ok(out)
}

/// Formats a symbolic shape as `[1, height, 224, 3]`.
pub fn show(shape: &[Dim]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// Row-major strides of a shape, in elements.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// A fixed shape as `Dim`s.
pub fn fixed(shape: &[usize]) -> Vec<Dim> {
    shape.iter().map(|&d| Dim::Fixed(d)).collect()
}

type AppliesFn = fn(&NodeCtx<'_>) -> bool;
type BuildFn = fn(&NodeCtx<'_>) -> Result<Box<dyn Kernel>>;

/// A reference [`KernelFactory`] from two plain functions: no pre-packing, priority 0.
pub struct RefFactory {
    /// Variant id, `<dtype>-<op>-reference`.
    pub id: &'static str,
    /// Operator kind.
    pub op: OpKind,
    /// Applicability check.
    pub applies: AppliesFn,
    /// Builds the kernel for the node's shapes.
    pub build: BuildFn,
}

impl KernelFactory for RefFactory {
    fn id(&self) -> &str {
        self.id
    }
    fn op(&self) -> OpKind {
        self.op
    }
    fn applies(&self, ctx: &NodeCtx<'_>) -> bool {
        (self.applies)(ctx)
    }
    fn build(&self, ctx: &NodeCtx<'_>, _packed: Option<Packed>) -> Result<Box<dyn Kernel>> {
        (self.build)(ctx)
    }
}

/// Registers a [`RefFactory`].
pub fn register_ref(registry: &mut KernelRegistry, id: &'static str, op: OpKind, applies: AppliesFn, build: BuildFn) {
    registry.register(Arc::new(RefFactory { id, op, applies, build }));
}
