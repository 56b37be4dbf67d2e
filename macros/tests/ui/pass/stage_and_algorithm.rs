//! A valid helper, stage and algorithm (compile and run-time parameters, prepack with
//! `lanes`, workspace, two launches) compile, and the algorithm registers one variant per
//! target and compile-parameter value with the documented ids.
use ferrolite_dsl::kernel::{KernelRegistry, NodeCtx};
use ferrolite_dsl::variant::OpSignature;
use ferrolite_macros::{algorithm, dsl_fn, stage};
use ferrolite_targets::Simd;

/// Elements of the node's first input.
#[derive(Debug, Clone)]
pub struct LenSig {
    pub len: usize,
}

impl OpSignature for LenSig {
    fn from_node(ctx: &NodeCtx<'_>) -> Option<Self> {
        let (_, shape) = ctx.inputs.first().copied().flatten()?;
        Some(LenSig { len: shape.iter().product() })
    }
}

#[dsl_fn]
pub fn relu<V: Simd>(x: V::F32) -> V::F32 {
    V::max(x, V::zero())
}

#[stage]
pub fn scale_relu<V: Simd, const U: usize>(gid: usize, y: &mut [f32], x: &[f32], w: &[f32], block: usize) {
    let base = gid * block;
    let n = y.len();
    let s = V::splat(w[0] * (U as f32));
    let mut acc = [V::zero(); 2];
    let mut i = 0;
    for j in 0..n / V::LANES {
        i = j * V::LANES;
        acc[0] = relu(V::mul(s, V::load(&x[base + i..])));
        V::store(&mut y[i..], acc[0]);
        i = i + V::LANES;
    }
    if i < n {
        let r: V::F32 = relu(V::mul(s, V::load_partial(&x[base + i..base + n])));
        V::store_partial(&mut y[i..n], r);
    }
}

#[algorithm(op = Unary, sig = LenSig, name = "scale_relu", targets(scalar, avx2, opencl), priority = -1)]
pub mod scale_relu_alg {
    use super::*;

    /// Unroll factor: compiled into the variant, shown in the id as `u1`, `u2`.
    #[param(compile, values = [1, 2], id = "u{}")]
    pub const U: usize = 1;

    /// Elements per work-item, chosen at run time.
    #[param(runtime, values = [256, 1024])]
    pub const BLOCK: usize = 1024;

    pub fn applies(s: &LenSig) -> bool {
        s.len > 0
    }

    pub fn prepack(s: &LenSig, consts: &[Option<&[f32]>], lanes: usize) -> Vec<f32> {
        let _ = (s, consts);
        vec![1.0; lanes]
    }

    pub fn workspace(s: &LenSig, p: &Params) -> usize {
        let _ = p;
        s.len
    }

    pub fn schedule(s: &LenSig, p: &Params) {
        let half = s.len / 2;
        launch!(scale_relu::<U>, outs [ws[0..s.len] => p.BLOCK], ins [x, w], args [p.BLOCK]);
        launch!(scale_relu::<U>, outs [y[0..half] => p.BLOCK], ins [ws[0..half], w], args [p.BLOCK]);
        launch!(scale_relu::<U>, outs [y[half..s.len] => p.BLOCK], ins [ws[half..s.len], w], args [p.BLOCK]);
    }
}

fn main() {
    let mut registry = KernelRegistry::new();
    scale_relu_alg::register(&mut registry);
    let mut ids: Vec<&str> = registry.all().iter().map(|f| f.id()).collect();
    ids.sort_unstable();
    let mut expected = vec![
        "f32-unary-scale_relu-u1-scalar",
        "f32-unary-scale_relu-u2-scalar",
        "f32-unary-scale_relu-u1-opencl",
        "f32-unary-scale_relu-u2-opencl",
    ];
    if cfg!(target_arch = "x86_64") {
        expected.extend(["f32-unary-scale_relu-u1-avx2", "f32-unary-scale_relu-u2-avx2"]);
    }
    expected.sort_unstable();
    assert_eq!(ids, expected);
    assert!(scale_relu::opencl_source().contains("__kernel void scale_relu("));
    assert_eq!(scale_relu::CONST_PARAMS, &["U"]);
}
