//! What the convolution benches share: one-node conv models on zoo layer shapes, seeded
//! data, and a one-thread session that runs a chosen variant.

use std::sync::Arc;

use ferrolite_runtime::ir::{Activation, Conv2d, DType, Dim, Graph, Op, Padding, TensorInfo};
use ferrolite_runtime::kernel::{KernelFactory, KernelRegistry, Preferred};
use ferrolite_runtime::{Model, Session, SessionOptions};

/// A convolution layer: input `[1, h, w, ic]`, `oc` outputs, kernel, stride, symmetric
/// padding (rows, columns), groups; relu fused.
pub struct Layer {
    pub name: &'static str,
    pub hwc: [usize; 3],
    pub oc: usize,
    pub kernel: [usize; 2],
    pub stride: usize,
    pub pad: [usize; 2],
    pub groups: usize,
}

/// A dense layer (one group).
pub const fn layer(name: &'static str, hwc: [usize; 3], oc: usize, kernel: [usize; 2], stride: usize, pad: [usize; 2]) -> Layer {
    Layer { name, hwc, oc, kernel, stride, pad, groups: 1 }
}

/// Deterministic pseudo-random values in [-1, 1).
pub fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// A one-node model of `l` with seeded weights and bias.
pub fn graph(l: &Layer) -> Graph {
    let mut g = Graph::default();
    let [h, w, ic] = l.hwc;
    let x = g.add_tensor(TensorInfo {
        name: "x".into(),
        dtype: DType::F32,
        shape: Some([1, h, w, ic].iter().map(|&d| Dim::Fixed(d)).collect()),
        data: None,
    });
    g.inputs.push(x);
    let ws = [l.oc, l.kernel[0], l.kernel[1], ic / l.groups];
    let wt = g.add_const_f32("w", &ws, &values(ws.iter().product(), 1));
    let b = g.add_const_f32("b", &[l.oc], &values(l.oc, 2));
    let y = g.add_value("y", DType::F32);
    let [pt, pl] = l.pad;
    let attrs = Conv2d {
        kernel: l.kernel,
        stride: [l.stride; 2],
        dilation: [1, 1],
        padding: Padding::Explicit { top: pt, left: pl, bottom: pt, right: pl },
        groups: l.groups,
        activation: Activation::Relu,
    };
    g.add_node("conv", Op::Conv2d(attrs), vec![Some(x), Some(wt), Some(b)], vec![y]);
    g.outputs.push(y);
    g
}

/// Multiply-accumulates of the direct convolution.
pub fn macs(l: &Layer) -> usize {
    let [h, w, ic] = l.hwc;
    let oh = (h + 2 * l.pad[0] - l.kernel[0]) / l.stride + 1;
    let ow = (w + 2 * l.pad[1] - l.kernel[1]) / l.stride + 1;
    oh * ow * l.oc * l.kernel[0] * l.kernel[1] * ic / l.groups
}

/// A one-thread session on `g` whose plan runs `factory` (None if it does not apply).
pub fn session(g: &Graph, factory: Arc<dyn KernelFactory>) -> Option<Session> {
    let id = factory.id().to_string();
    let mut reg = KernelRegistry::new();
    reg.register(Arc::new(Preferred::new(factory)));
    ferrolite_runtime::ops::register_reference(&mut reg);
    let model = Model::from_graph(g.clone()).ok()?.with_registry(Arc::new(reg));
    let mut s = Session::new(Arc::new(model), SessionOptions::new().with_threads(1)).ok()?;
    let shape = g.tensors[g.inputs[0]].fixed_shape()?;
    let plan = s.plan_for(&[shape]).ok()?;
    plan.steps().iter().any(|st| st.kernel == id).then_some(s)
}
