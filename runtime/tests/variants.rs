//! Every kernel variant the DSL generates, checked against the reference operators.
//!
//! The list of variants comes from the kernels crate's registry, so a new kernel is tested
//! without anyone adding it here: each variant runs every test case of its operator that it
//! applies to (random data, odd sizes, padding, strides, dilation, groups, channel counts
//! that are not a multiple of the vector width), forced to be chosen over everything else,
//! and its outputs are compared with the reference operator's. A variant that applies to no
//! case, or that this machine should run (`FERROLITE_EXPECT_ISAS`) but cannot, fails.

use std::sync::Arc;

use ferrolite_runtime::ir::{Activation, Conv2d, DType, Dim, Graph, Op, Padding, TensorInfo, Unary};
use ferrolite_runtime::kernel::{KernelRegistry, Preferred};
use ferrolite_runtime::variant::{Target, VariantInfo};
use ferrolite_runtime::{Model, Session, SessionOptions, Tensor, TensorView};

/// A one-node graph and its inputs.
struct Case {
    name: String,
    graph: Graph,
    inputs: Vec<Tensor>,
}

/// Deterministic pseudo-random values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn input(g: &mut Graph, name: &str, shape: &[usize]) -> usize {
    let t = g.add_tensor(TensorInfo {
        name: name.into(),
        dtype: DType::F32,
        shape: Some(shape.iter().map(|&d| Dim::Fixed(d)).collect()),
        data: None,
    });
    g.inputs.push(t);
    t
}

fn unary_cases() -> Vec<Case> {
    let acts = [
        Activation::Relu,
        Activation::Relu6,
        Activation::LeakyRelu { alpha: 0.1 },
        Activation::Sigmoid,
        Activation::HardSwish,
        Activation::Tanh,
        Activation::Clip { min: -0.3, max: 0.7 },
    ];
    let shapes: [&[usize]; 4] = [&[1], &[3, 7], &[1, 9, 11, 13], &[2, 4100]];
    let mut cases = Vec::new();
    for (i, act) in acts.iter().enumerate() {
        for (j, shape) in shapes.iter().enumerate() {
            let mut g = Graph::default();
            let x = input(&mut g, "x", shape);
            let y = g.add_value("y", DType::F32);
            g.add_node("act", Op::Unary(Unary::Act(*act)), vec![Some(x)], vec![y]);
            g.outputs.push(y);
            let n: usize = shape.iter().product();
            let data: Vec<f32> = values(n, (i * 10 + j) as u64).into_iter().map(|v| v * 8.0).collect();
            cases.push(Case {
                name: format!("{} {shape:?}", act.name()),
                graph: g,
                inputs: vec![Tensor::from_slice(shape, &data).unwrap()],
            });
        }
    }
    cases
}

/// One convolution test case: NHWC input `[n, h, w, ic]`, `oc` outputs.
#[derive(Clone, Copy)]
struct ConvCase {
    n: usize,
    h: usize,
    w: usize,
    ic: usize,
    oc: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    padding: Padding,
    groups: usize,
    act: Activation,
    bias: bool,
    /// Shape of a fused residual input (the output's), if any.
    residual: Option<[usize; 4]>,
}

const fn pad(top: usize, left: usize, bottom: usize, right: usize) -> Padding {
    Padding::Explicit { top, left, bottom, right }
}

fn conv(n: usize, h: usize, w: usize, ic: usize, oc: usize, k: usize) -> ConvCase {
    ConvCase {
        n,
        h,
        w,
        ic,
        oc,
        kernel: [k, k],
        stride: [1, 1],
        dilation: [1, 1],
        padding: Padding::VALID,
        groups: 1,
        act: Activation::None,
        bias: true,
        residual: None,
    }
}

impl ConvCase {
    fn stride(mut self, s: usize) -> Self {
        self.stride = [s, s];
        self
    }
    fn pad(mut self, p: Padding) -> Self {
        self.padding = p;
        self
    }
    fn same(self) -> Self {
        self.pad(Padding::SameUpper)
    }
    fn dilation(mut self, d: usize) -> Self {
        self.dilation = [d, d];
        self
    }
    fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
    fn act(mut self, a: Activation) -> Self {
        self.act = a;
        self
    }
    fn no_bias(mut self) -> Self {
        self.bias = false;
        self
    }
    fn kernel(mut self, kh: usize, kw: usize) -> Self {
        self.kernel = [kh, kw];
        self
    }
}

/// Convolutions: 1x1 (GEMM), 3x3 stride 1 (Winograd), strided, dilated, padded on every
/// side and asymmetrically, grouped, depthwise (with and without a channel multiplier), with
/// every fused activation, odd sizes and channel counts that are not multiples of any vector
/// width.
fn conv_cases() -> Vec<Case> {
    use Activation as A;
    let list = [
        // 1x1
        conv(1, 5, 7, 13, 17, 1),
        conv(2, 4, 4, 32, 64, 1).act(A::Relu),
        conv(1, 3, 3, 3, 40, 1).act(A::Relu6).no_bias(),
        conv(1, 7, 9, 24, 37, 1).act(A::HardSwish),
        conv(1, 9, 9, 16, 24, 1).stride(2),
        conv(1, 6, 6, 8, 8, 1).pad(pad(1, 1, 1, 1)),
        // dense 3x3 stride 1
        conv(1, 9, 11, 5, 19, 3).pad(pad(1, 1, 1, 1)),
        conv(1, 8, 8, 16, 32, 3).same().act(A::Relu),
        conv(1, 6, 5, 1, 3, 3).same(),
        conv(1, 14, 14, 64, 64, 3).same().act(A::Relu6),
        conv(2, 10, 7, 9, 11, 3).act(A::LeakyRelu { alpha: 0.1 }),
        conv(1, 13, 17, 20, 24, 3).pad(pad(0, 1, 2, 0)).act(A::Sigmoid),
        conv(1, 4, 4, 7, 5, 3).pad(Padding::SameLower).act(A::Tanh).no_bias(),
        conv(1, 2, 3, 4, 6, 3).pad(pad(2, 2, 2, 2)),
        // Winograd: many tiles and several bands, partial tiles at both edges, channel counts
        // off every vector width, batch 2, deep input channels.
        conv(1, 23, 29, 24, 37, 3).pad(pad(1, 1, 1, 1)).act(A::Relu),
        conv(2, 30, 17, 70, 21, 3).same().act(A::HardSwish),
        conv(1, 12, 12, 256, 40, 3).pad(pad(1, 1, 1, 1)),
        // strided, large and rectangular windows
        conv(1, 9, 10, 7, 12, 3).stride(2).same().act(A::Clip { min: -0.5, max: 0.5 }),
        conv(1, 17, 17, 3, 8, 7).stride(2).pad(pad(3, 3, 3, 3)).act(A::Relu),
        conv(1, 9, 9, 6, 10, 1).kernel(1, 7).pad(pad(0, 3, 0, 3)),
        conv(1, 9, 9, 6, 10, 1).kernel(7, 1).pad(pad(3, 0, 3, 0)).act(A::HardSigmoid { alpha: 0.2, beta: 0.5 }),
        conv(1, 11, 12, 5, 9, 5).stride(3).pad(pad(2, 1, 0, 2)),
        // dilated, grouped
        conv(1, 12, 12, 6, 7, 3).dilation(2).pad(pad(2, 2, 2, 2)),
        conv(1, 6, 6, 8, 12, 3).groups(2).same().act(A::Relu),
        conv(1, 7, 5, 12, 6, 1).groups(3),
        // depthwise
        conv(1, 9, 13, 19, 19, 3).groups(19).same().act(A::Relu6),
        conv(1, 10, 11, 24, 24, 3).groups(24).stride(2).same(),
        conv(1, 8, 8, 32, 32, 3).groups(32).stride(2).pad(pad(0, 0, 1, 1)).act(A::Relu),
        conv(2, 5, 6, 7, 7, 3).groups(7).pad(pad(1, 1, 1, 1)).no_bias(),
        conv(1, 12, 9, 10, 10, 5).groups(10).same().act(A::HardSwish),
        conv(1, 11, 11, 9, 9, 3).groups(9).dilation(2).same(),
        conv(1, 7, 7, 5, 10, 3).groups(5).same(),
        conv(1, 3, 3, 16, 16, 3).groups(16).act(A::LeakyRelu { alpha: 0.2 }),
        // depthwise: several pixel blocks per row with odd remainders, channel tails of every
        // vector width, stride 2 with both parities of width, rectangular strides
        conv(1, 9, 47, 203, 203, 3).groups(203).pad(pad(1, 1, 1, 1)).act(A::Relu6),
        conv(2, 6, 33, 40, 40, 3).groups(40).same().act(A::Relu),
        conv(1, 15, 29, 35, 35, 3).groups(35).stride(2).same().act(A::HardSwish),
        conv(1, 14, 16, 64, 64, 3).groups(64).stride(2).pad(pad(1, 1, 1, 1)),
        conv(1, 7, 8, 17, 17, 3).groups(17).stride(2),
        conv(1, 2, 2, 9, 9, 3).groups(9).pad(pad(2, 2, 2, 2)).act(A::Sigmoid),
        conv(1, 5, 3, 12, 12, 3).groups(12).pad(pad(0, 2, 1, 0)).act(A::Tanh),
        ConvCase { stride: [1, 2], ..conv(1, 8, 11, 21, 21, 3).groups(21).pad(pad(1, 1, 1, 1)) },
        ConvCase { dilation: [2, 1], ..conv(1, 10, 9, 13, 13, 3).groups(13).pad(pad(2, 1, 2, 1)) },
        conv(1, 8, 9, 24, 24, 1).kernel(1, 5).groups(24).pad(pad(0, 2, 0, 2)).stride(3),
        // depthwise 1x1 (a per-channel affine map): channel tails, no bias, several images,
        // and strided (the general path)
        conv(1, 9, 13, 19, 19, 1).groups(19).act(A::Relu),
        conv(2, 4, 5, 40, 40, 1).groups(40).no_bias().act(A::HardSwish),
        conv(1, 7, 7, 35, 35, 1).groups(35).stride(2),
        // fused residuals (the GEMM's epilogue): pointwise, Im2Col in several chunks, odd
        // channel counts, an activation after the sum
        ConvCase { residual: Some([1, 9, 11, 37]), ..conv(1, 9, 11, 13, 37, 1).act(A::Relu) },
        ConvCase { residual: Some([2, 12, 13, 21]), ..conv(2, 12, 13, 8, 21, 3).same() },
        ConvCase { residual: Some([1, 20, 16, 64]), ..conv(1, 20, 16, 16, 64, 3).same().act(A::Relu6) },
    ];
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let mut g = Graph::default();
            let x = input(&mut g, "x", &[c.n, c.h, c.w, c.ic]);
            let icg = c.ic / c.groups;
            let wshape = [c.oc, c.kernel[0], c.kernel[1], icg];
            let fan_in = (c.kernel[0] * c.kernel[1] * icg) as f32;
            let wv: Vec<f32> = values(wshape.iter().product(), 1000 + i as u64).into_iter().map(|v| v / fan_in.sqrt()).collect();
            let w = g.add_const_f32("w", &wshape, &wv);
            let b = c.bias.then(|| g.add_const_f32("b", &[c.oc], &values(c.oc, 2000 + i as u64)));
            let y = g.add_value("y", DType::F32);
            let attrs = Conv2d {
                kernel: c.kernel,
                stride: c.stride,
                dilation: c.dilation,
                padding: c.padding,
                groups: c.groups,
                activation: c.act,
            };
            g.add_node("conv", Op::Conv2d(attrs), vec![Some(x), Some(w), b], vec![y]);
            g.outputs.push(y);
            let xs = [c.n, c.h, c.w, c.ic];
            let data = values(xs.iter().product(), 3000 + i as u64);
            let mut inputs = vec![Tensor::from_slice(&xs, &data).unwrap()];
            // A fused skip connection: a second graph input of the output's shape, added
            // before the activation (the node's input 3).
            if let Some(rs) = c.residual {
                let r = input(&mut g, "r", &rs);
                g.nodes[0].inputs.push(Some(r));
                inputs.push(Tensor::from_slice(&rs, &values(rs.iter().product(), 4000 + i as u64)).unwrap());
            }
            Case {
                name: format!(
                    "conv n{} {}x{}x{} -> {} k{:?} s{:?} d{:?} {:?} g{} {}{}",
                    c.n,
                    c.h,
                    c.w,
                    c.ic,
                    c.oc,
                    c.kernel,
                    c.stride,
                    c.dilation,
                    c.padding,
                    c.groups,
                    c.act.name(),
                    if c.bias { "" } else { " no bias" }
                ) + if c.residual.is_some() { " + residual" } else { "" },
                graph: g,
                inputs,
            }
        })
        .collect()
}

/// A one-node graph on random inputs of the given shapes (values in [-scale, scale)).
fn simple_case(name: String, op: Op, shapes: &[&[usize]], seed: u64, scale: f32) -> Case {
    let mut g = Graph::default();
    let mut ids = Vec::new();
    let mut inputs = Vec::new();
    for (i, shape) in shapes.iter().enumerate() {
        ids.push(Some(input(&mut g, &format!("x{i}"), shape)));
        let data: Vec<f32> = values(shape.iter().product(), seed * 7 + i as u64).into_iter().map(|v| v * scale).collect();
        inputs.push(Tensor::from_slice(shape, &data).unwrap());
    }
    let y = g.add_value("y", DType::F32);
    g.add_node("op", op, ids, vec![y]);
    g.outputs.push(y);
    Case { name, graph: g, inputs }
}

/// Pooling: max and average, padding on every side and asymmetric, SAME, ceil mode (with a
/// last window that starts in the padding), count_include_pad, dilation, channel counts
/// that are not multiples of the vector width, global pooling of one and several images.
fn pool_cases() -> Vec<Case> {
    use ferrolite_runtime::ir::{Pool2d, PoolKind};
    let p = |kind, kernel: [usize; 2], stride: [usize; 2], padding| Pool2d {
        kind,
        kernel,
        stride,
        dilation: [1, 1],
        padding,
        ceil_mode: false,
        count_include_pad: false,
    };
    let mut list: Vec<(Pool2d, [usize; 4])> = Vec::new();
    for kind in [PoolKind::Max, PoolKind::Avg] {
        list.extend([
            (p(kind, [3, 3], [2, 2], pad(1, 1, 1, 1)), [1, 15, 17, 19]),
            (p(kind, [2, 2], [2, 2], Padding::VALID), [2, 8, 9, 32]),
            (p(kind, [3, 3], [1, 1], Padding::SameUpper), [1, 7, 6, 40]),
            (p(kind, [3, 2], [2, 2], Padding::SameLower), [1, 5, 6, 3]),
            (p(kind, [3, 3], [2, 2], pad(1, 0, 2, 1)), [1, 9, 8, 13]),
            (Pool2d { ceil_mode: true, ..p(kind, [3, 3], [2, 2], pad(0, 0, 2, 2)) }, [1, 4, 4, 2]),
            (Pool2d { ceil_mode: true, ..p(kind, [3, 3], [2, 2], pad(0, 0, 0, 1)) }, [1, 8, 6, 17]),
            (Pool2d { count_include_pad: true, ..p(kind, [3, 3], [2, 2], pad(1, 1, 1, 2)) }, [1, 7, 6, 21]),
            (Pool2d { count_include_pad: true, ceil_mode: true, ..p(kind, [3, 3], [2, 2], pad(1, 0, 0, 1)) }, [1, 8, 6, 9]),
            (Pool2d { dilation: [2, 2], ..p(kind, [2, 3], [1, 2], pad(1, 1, 1, 1)) }, [1, 7, 7, 18]),
            (p(kind, [7, 7], [1, 1], Padding::VALID), [1, 7, 7, 70]),
        ]);
    }
    list.into_iter()
        .enumerate()
        .map(|(i, (a, xs))| simple_case(format!("{a:?} x{xs:?}"), Op::Pool2d(a), &[&xs], 4000 + i as u64, 4.0))
        .collect()
}

fn global_pool_cases() -> Vec<Case> {
    use ferrolite_runtime::ir::PoolKind;
    let shapes: [[usize; 4]; 5] = [[1, 7, 7, 1280], [2, 3, 4, 5], [1, 1, 1, 9], [3, 5, 5, 67], [1, 40, 50, 19]];
    let mut cases = Vec::new();
    for kind in [PoolKind::Max, PoolKind::Avg] {
        for (i, xs) in shapes.iter().enumerate() {
            cases.push(simple_case(format!("global {kind:?} x{xs:?}"), Op::GlobalPool(kind), &[xs], 5000 + i as u64, 3.0));
        }
    }
    cases
}

/// Binary element-wise operators: same shapes, a per-channel vector on either side, a
/// scalar on either side, a broadcast trailing block (`[H, W, C]`, `[1, 1, 1, C]`), and
/// shapes only the reference handles (`[N, H, W, 1]`), sizes not multiples of any vector.
fn binary_cases() -> Vec<Case> {
    use ferrolite_runtime::ir::Binary;
    let shapes: [(&[usize], &[usize]); 10] = [
        (&[1, 9, 11, 13], &[1, 9, 11, 13]),
        (&[4103], &[4103]),
        (&[2, 5, 7, 24], &[24]),
        (&[19], &[3, 6, 19]),
        (&[2, 6, 5, 11], &[1]),
        (&[], &[3, 37]),
        (&[2, 3, 4, 17], &[3, 4, 17]),
        (&[1, 1, 1, 40], &[1, 8, 8, 40]),
        (&[1, 5, 5, 7], &[1, 5, 5, 1]),
        (&[1, 1], &[1, 1]),
    ];
    let ops = [Binary::Add, Binary::Sub, Binary::Mul, Binary::Div, Binary::Max, Binary::Min];
    let mut cases = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        for (j, (a, b)) in shapes.iter().enumerate() {
            let mut c = simple_case(format!("{op:?} {a:?} {b:?}"), Op::Binary(*op), &[a, b], 6000 + (i * 20 + j) as u64, 3.0);
            if *op == Binary::Div {
                // Keep divisors away from zero: the quotient's rounding is then comparable.
                let t = &mut c.inputs[1];
                for v in t.as_mut_slice::<f32>().unwrap() {
                    *v = if *v < 0.0 { *v - 0.5 } else { *v + 0.5 };
                }
            }
            cases.push(c);
        }
    }
    cases
}

/// Softmax along the last axis: rows shorter and longer than a vector, odd lengths, large
/// values (the maximum must be subtracted), and an inner axis (left to the reference).
fn softmax_cases() -> Vec<Case> {
    let list: [(&[usize], i64, f32); 8] = [
        (&[1, 1000], -1, 8.0),
        (&[3, 7], 1, 2.0),
        (&[2, 5, 33], -1, 4.0),
        (&[64, 5], -1, 3.0),
        (&[4, 17], -1, 900.0),
        (&[1], 0, 1.0),
        (&[2, 1, 129], 2, 1.0),
        (&[2, 5, 3], 1, 1.0),
    ];
    list.iter()
        .enumerate()
        .map(|(i, (shape, axis, scale))| {
            simple_case(format!("softmax {shape:?} axis {axis} x{scale}"), Op::Softmax { axis: *axis }, &[shape], 7000 + i as u64, *scale)
        })
        .collect()
}

/// Gemm: one row and several (fewer than a register tile, odd counts), depths that are not
/// multiples of 4 or of a vector, column counts with tails, `B` stored either way, `C` absent,
/// per column or one value, `alpha` and `beta`, a fused activation; a transposed `A` and a
/// full-matrix `C` (left to the reference).
fn gemm_cases() -> Vec<Case> {
    use ferrolite_runtime::ir::Gemm;
    struct G {
        m: usize,
        k: usize,
        n: usize,
        trans_a: bool,
        trans_b: bool,
        c: Option<Vec<usize>>,
        alpha: f32,
        beta: f32,
        act: Activation,
    }
    let g = |m, k, n| G { m, k, n, trans_a: false, trans_b: true, c: Some(vec![n]), alpha: 1.0, beta: 1.0, act: Activation::None };
    let list = [
        g(1, 1280, 1000),
        g(1, 37, 19),
        G { trans_b: false, act: Activation::Relu, ..g(1, 64, 33) },
        G { c: None, ..g(1, 5, 64) },
        G { c: Some(vec![1]), alpha: 0.5, beta: -2.0, ..g(1, 100, 70) },
        G { c: Some(vec![1, 17]), ..g(3, 45, 17) },
        G { trans_b: false, act: Activation::Relu6, ..g(7, 130, 50) },
        G { alpha: 2.0, beta: 0.0, ..g(50, 23, 129) },
        g(2, 1024, 8),
        G { trans_a: true, ..g(4, 9, 12) },
        G { c: Some(vec![5, 12]), ..g(5, 9, 12) },
    ];
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let mut graph = Graph::default();
            let a_shape = if c.trans_a { [c.k, c.m] } else { [c.m, c.k] };
            let x = input(&mut graph, "a", &a_shape);
            let b_shape = if c.trans_b { [c.n, c.k] } else { [c.k, c.n] };
            let scale = 1.0 / (c.k as f32).sqrt();
            let b_vals: Vec<f32> = values(c.k * c.n, 8100 + i as u64).into_iter().map(|v| v * scale).collect();
            let b = graph.add_const_f32("b", &b_shape, &b_vals);
            let cid = c.c.as_ref().map(|shape| graph.add_const_f32("c", shape, &values(shape.iter().product(), 8200 + i as u64)));
            let y = graph.add_value("y", DType::F32);
            let op = Op::Gemm(Gemm { alpha: c.alpha, beta: c.beta, trans_a: c.trans_a, trans_b: c.trans_b, activation: c.act });
            graph.add_node("gemm", op, vec![Some(x), Some(b), cid], vec![y]);
            graph.outputs.push(y);
            let a = Tensor::from_slice(&a_shape, &values(c.m * c.k, 8000 + i as u64)).unwrap();
            Case {
                name: format!("gemm {}x{}x{} trans_a {} trans_b {} c {:?} {}", c.m, c.k, c.n, c.trans_a, c.trans_b, c.c, c.act.name()),
                graph,
                inputs: vec![a],
            }
        })
        .collect()
}

/// Pad: spatial constant padding of NHWC tensors (every side, one side, none on some axes,
/// channel counts with vector tails, several images, a fill value), and cases left to the
/// reference (reflect mode, channel padding, cropping).
fn pad_cases() -> Vec<Case> {
    use ferrolite_runtime::ir::{Pad, PadMode};
    let list: [(PadMode, [i64; 8], f32, [usize; 4]); 8] = [
        (PadMode::Constant, [0, 1, 1, 0, 0, 1, 1, 0], 0.0, [1, 9, 10, 64]),
        (PadMode::Constant, [0, 0, 3, 0, 0, 2, 0, 0], -1.5, [2, 5, 7, 19]),
        (PadMode::Constant, [0, 2, 0, 0, 0, 0, 0, 0], 0.0, [1, 4, 4, 3]),
        (PadMode::Constant, [0, 0, 0, 0, 0, 0, 0, 0], 0.0, [1, 3, 5, 17]),
        (PadMode::Constant, [0, 1, 2, 0, 0, 3, 1, 0], 2.0, [1, 6, 3, 40]),
        (PadMode::Reflect, [0, 1, 1, 0, 0, 1, 1, 0], 0.0, [1, 5, 5, 8]),
        (PadMode::Constant, [0, 0, 0, 1, 0, 0, 0, 2], 0.0, [1, 3, 3, 5]),
        (PadMode::Constant, [0, -1, 0, 0, 0, 1, 0, 0], 0.0, [1, 5, 4, 6]),
    ];
    list.iter()
        .enumerate()
        .map(|(i, (mode, pads, value, xs))| {
            let op = Op::Pad(Pad { mode: *mode, pads: pads.to_vec(), value: *value });
            simple_case(format!("pad {mode:?} {pads:?} value {value} x{xs:?}"), op, &[xs], 9000 + i as u64, 3.0)
        })
        .collect()
}

/// Test cases of an operator, by the lower-case name variant ids use.
fn cases_for(op: &str) -> Vec<Case> {
    match op {
        "unary" => unary_cases(),
        "conv2d" => conv_cases(),
        "pool2d" => pool_cases(),
        "globalpool" => global_pool_cases(),
        "binary" => binary_cases(),
        "softmax" => softmax_cases(),
        "gemm" => gemm_cases(),
        "pad" => pad_cases(),
        _ => Vec::new(),
    }
}

/// Largest difference allowed, relative to the largest reference value (at least 1).
/// Winograd's error grows with the output tile (its transform matrices have larger entries):
/// stated per tile size. Worst measured on these cases (12x12x256 -> 40, scalar and AVX2):
/// F(2,3) 2.2e-6, F(4,3) 8.3e-6, F(6,3) 8.4e-6; the bounds leave 4-6x for other ISAs'
/// rounding and deeper channels.
fn tolerance(info: &VariantInfo) -> f32 {
    let param = |name: &str| info.compile_params.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    match (info.algorithm, param("M")) {
        ("winograd", Some(2)) => 1e-5,
        ("winograd", Some(4)) => 3e-5,
        ("winograd", _) => 5e-5,
        _ => 1e-5,
    }
}

fn run(model: Model, inputs: &[Tensor], threads: usize) -> (Vec<Tensor>, Vec<String>) {
    let mut s = Session::new(Arc::new(model), SessionOptions::new().with_threads(threads)).unwrap();
    let views: Vec<TensorView<'_>> = inputs.iter().map(|t| t.view()).collect();
    let out = s.run(&views).unwrap();
    let shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
    let kernels = s.plan_for(&shapes).unwrap().steps().iter().map(|st| st.kernel.clone()).collect();
    (out, kernels)
}

#[test]
fn every_variant_matches_the_reference() {
    let registry = ferrolite_kernels::registry();
    let expected = ferrolite_targets::expected_isas().unwrap();
    // FERROLITE_EXPECT_OPENCL=1: this machine has an OpenCL device (PoCL in CI), so OpenCL
    // variants that cannot run fail instead of being skipped.
    let expect_opencl = ferrolite_targets::opencl::expected().unwrap();
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for factory in registry.all() {
        let info = factory.variant().expect("DSL variants carry their metadata").clone();
        if !info.runnable() {
            if let Target::Cpu(isa) = info.target {
                if expected.contains(&isa) {
                    failures.push(format!("{}: {isa} is expected on this machine but not available", info.id));
                }
            } else if info.target == Target::OpenCl && expect_opencl {
                let why = ferrolite_dsl::opencl::unavailable_reason().unwrap_or_default();
                failures.push(format!("{}: FERROLITE_EXPECT_OPENCL=1 but OpenCL is not available: {why}", info.id));
            }
            continue;
        }
        let mut applied = 0;
        for case in cases_for(info.op) {
            let mut forced = KernelRegistry::new();
            forced.register(Arc::new(Preferred::new(factory.clone())));
            ferrolite_runtime::ops::register_reference(&mut forced);
            let model = Model::from_graph(case.graph.clone()).unwrap().with_registry(Arc::new(forced));
            let reference = Model::from_graph(case.graph.clone())
                .unwrap()
                .with_registry(Arc::new(ferrolite_runtime::ops::reference_registry()));
            let (want, _) = run(reference, &case.inputs, 1);
            for threads in [1, 2] {
                let model = Model::from_graph(case.graph.clone())
                    .unwrap()
                    .with_registry(model.registry().clone());
                let (got, kernels) = run(model, &case.inputs, threads);
                if !kernels.iter().any(|k| k == &info.id) {
                    break; // does not apply to this case
                }
                if threads == 1 {
                    applied += 1;
                }
                for (o, (g, w)) in got.iter().zip(&want).enumerate() {
                    let (g, w) = (g.as_slice::<f32>().unwrap(), w.as_slice::<f32>().unwrap());
                    let scale = w.iter().fold(1f32, |m, v| m.max(v.abs()));
                    let diff = g.iter().zip(w).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
                    if !(diff <= tolerance(&info) * scale) {
                        failures.push(format!(
                            "{} on {} ({threads} threads), output {o}: max diff {diff:e} (scale {scale})",
                            info.id, case.name
                        ));
                    }
                }
            }
        }
        // Each non-default value of each run-time parameter, one at a time, on the cases the
        // variant applies to (2 threads, so the work split changes too).
        let mut swept = 0;
        for param in &info.runtime_params {
            for &value in param.values.iter().filter(|&&v| v != param.default) {
                for case in cases_for(info.op) {
                    let mut forced = KernelRegistry::new();
                    let pinned = vec![(param.name.to_string(), value)];
                    forced.register(Arc::new(Preferred::with_params(factory.clone(), pinned)));
                    ferrolite_runtime::ops::register_reference(&mut forced);
                    let model = Model::from_graph(case.graph.clone()).unwrap().with_registry(Arc::new(forced));
                    let (got, kernels) = run(model, &case.inputs, 2);
                    if !kernels.iter().any(|k| k == &info.id) {
                        continue;
                    }
                    swept += 1;
                    let reference = Model::from_graph(case.graph.clone())
                        .unwrap()
                        .with_registry(Arc::new(ferrolite_runtime::ops::reference_registry()));
                    let (want, _) = run(reference, &case.inputs, 1);
                    for (o, (g, w)) in got.iter().zip(&want).enumerate() {
                        let (g, w) = (g.as_slice::<f32>().unwrap(), w.as_slice::<f32>().unwrap());
                        let scale = w.iter().fold(1f32, |m, v| m.max(v.abs()));
                        let diff = g.iter().zip(w).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
                        if !(diff <= tolerance(&info) * scale) {
                            failures.push(format!(
                                "{} with {}={value} on {}, output {o}: max diff {diff:e} (scale {scale})",
                                info.id, param.name, case.name
                            ));
                        }
                    }
                }
            }
        }
        report.push(format!("{}: {applied} cases, {swept} runs with other run-time parameters", info.id));
        if applied == 0 {
            failures.push(format!("{}: applies to no test case of `{}`; add cases to runtime/tests/variants.rs", info.id, info.op));
        }
    }
    println!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
