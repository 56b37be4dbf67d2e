use super::*;
use crate::passes::testing::*;
use ferrolite_runtime::ir::{
    Activation, AspectPolicy, BatchNorm, Binary, CoordTransform, DType, NearestMode, Pad, PadMode, PoolKind, Reduce,
    ReduceKind, Resize, ResizeMode, Split, TensorInfo, Unary,
};

const TO_NCHW: [usize; 4] = [0, 3, 1, 2];
const TO_NHWC: [usize; 4] = [0, 2, 3, 1];

fn tr(g: &mut Graph, x: TensorId, perm: [usize; 4]) -> TensorId {
    unary(g, Op::Transpose { perm: perm.to_vec() }, x)
}

/// Runs the layout pass (plus dead-node removal) and checks exactness.
fn layout(g: &Graph, check: impl FnOnce(&Graph)) -> Graph {
    check_rewrite(
        g,
        |g| {
            optimize_layout(g).unwrap();
        },
        check,
    )
}

/// `x (NHWC) -> to NCHW -> build(...) -> to NHWC -> output`: every transpose must cancel.
fn sandwich(shape: [usize; 4], build: impl FnOnce(&mut Graph, TensorId) -> TensorId) {
    let mut g = Graph::default();
    let x = input(&mut g, "x", &shape);
    let y = tr(&mut g, x, TO_NCHW);
    let z = build(&mut g, y);
    let out = tr(&mut g, z, TO_NHWC);
    g.outputs = vec![out];
    layout(&g, |g| assert_eq!(count(g, "Transpose"), 0, "{:#?}", g.nodes));
}

#[test]
fn composed_transposes_cancel() {
    sandwich([1, 3, 4, 5], |_, y| y);
    // Two different permutations compose into one.
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[2, 3, 4, 5]);
    let y = tr(&mut g, x, TO_NCHW);
    let y = tr(&mut g, y, [1, 0, 3, 2]);
    g.outputs = vec![y];
    layout(&g, |g| {
        assert_eq!(count(g, "Transpose"), 1);
        assert!(matches!(&g.nodes[0].op, Op::Transpose { perm } if perm == &[3, 0, 2, 1]));
    });
}

#[test]
fn sinks_through_unary_and_constant_binaries() {
    sandwich([1, 3, 4, 5], |g, y| {
        let mut r = rng(1);
        let y = unary(g, Op::Unary(Unary::Act(Activation::Relu6)), y);
        let y = unary(g, Op::Unary(Unary::Exp), y);
        // Per-channel constants in NCHW form, of rank 4 and rank 3, either operand order.
        let s = random_const(g, &mut r, "s", &[1, 5, 1, 1], -1.0, 1.0);
        let y = node(g, Op::Binary(Binary::Mul), &[s, y]);
        let b = random_const(g, &mut r, "b", &[5, 1, 1], -1.0, 1.0);
        let y = node(g, Op::Binary(Binary::Add), &[y, b]);
        // A full constant varying along H and W, and a scalar.
        let m = random_const(g, &mut r, "m", &[5, 3, 4], -1.0, 1.0);
        let y = node(g, Op::Binary(Binary::Sub), &[m, y]);
        let k = random_const(g, &mut r, "k", &[], 0.5, 1.0);
        let y = node(g, Op::Binary(Binary::PRelu), &[y, k]);
        unary(g, Op::Cast { to: DType::F32 }, y)
    });
}

#[test]
fn sinks_through_binaries_of_two_transposed_operands_and_where() {
    let mut g = Graph::default();
    let a = input(&mut g, "a", &[1, 3, 4, 2]);
    let b = input(&mut g, "b", &[1, 3, 4, 2]);
    let ta = tr(&mut g, a, TO_NCHW);
    let tb = tr(&mut g, b, TO_NCHW);
    let sum = node(&mut g, Op::Binary(Binary::Add), &[ta, tb]);
    let cond = node(&mut g, Op::Binary(Binary::Greater), &[ta, tb]);
    let mut r = rng(2);
    let c = random_const(&mut g, &mut r, "c", &[2, 1, 1], -1.0, 1.0);
    let w = node(&mut g, Op::Where, &[cond, sum, c]);
    let out = tr(&mut g, w, TO_NHWC);
    g.outputs = vec![out];
    layout(&g, |g| assert_eq!(count(g, "Transpose"), 0, "{:#?}", g.nodes));
}

#[test]
fn sinks_through_axis_operators() {
    // Concat over channels (positive and negative axis) with a constant operand.
    sandwich([1, 2, 3, 4], |g, y| {
        let mut r = rng(3);
        let c = random_const(g, &mut r, "c", &[1, 2, 2, 3], -1.0, 1.0);
        let y = node(g, Op::Concat { axis: 1 }, &[y, c, y]);
        node(g, Op::Concat { axis: -3 }, &[y, y])
    });
    // Split over H into two parts, recombined.
    sandwich([1, 4, 3, 2], |g, y| {
        let parts = node_n(g, Op::Split(Split { axis: 2, sizes: Some(vec![1, 3]) }), &[y], 2);
        let a = unary(g, Op::Unary(Unary::Neg), parts[0]);
        node(g, Op::Concat { axis: 2 }, &[parts[1], a])
    });
    sandwich([2, 3, 4, 5], |g, y| {
        let y = unary(g, Op::Softmax { axis: 1 }, y);
        unary(g, Op::LogSoftmax { axis: -1 }, y)
    });
    // Batch norm over NCHW channels.
    sandwich([1, 3, 4, 5], |g, y| {
        let mut r = rng(4);
        let p: Vec<TensorId> = (0..4).map(|i| random_const(g, &mut r, &format!("p{i}"), &[5], 0.5, 1.5)).collect();
        node(g, Op::BatchNorm(BatchNorm { epsilon: 1e-5, axis: 1 }), &[y, p[0], p[1], p[2], p[3]])
    });
    // Reduce keeping dims; Gather of a 1-D index list.
    sandwich([2, 3, 4, 5], |g, y| {
        let y = unary(g, Op::Reduce(Reduce { kind: ReduceKind::Max, axes: vec![2], keep_dims: true }), y);
        let idx = g.add_const_i64("idx", &[3], &[4, 0, -1]);
        node(g, Op::Gather { axis: 1 }, &[y, idx])
    });
}

#[test]
fn sinks_through_slice_pad_and_resize() {
    sandwich([1, 6, 7, 4], |g, y| {
        // Slice C and W with explicit axes, then H with implicit axes [0, 1, 2].
        let starts = g.add_const_i64("st", &[2], &[1, -5]);
        let ends = g.add_const_i64("en", &[2], &[3, 100]);
        let axes = g.add_const_i64("ax", &[2], &[1, -1]);
        let steps = g.add_const_i64("sp", &[2], &[1, 2]);
        let y = node(g, Op::Slice, &[y, starts, ends, axes, steps]);
        let starts = g.add_const_i64("st2", &[3], &[0, 0, 1]);
        let ends = g.add_const_i64("en2", &[3], &[1, 2, 5]);
        node(g, Op::Slice, &[y, starts, ends])
    });
    sandwich([1, 3, 4, 2], |g, y| {
        // NCHW pads: 1 channel before, 2 rows after, 1 column on each side.
        let y = unary(g, Op::Pad(Pad { mode: PadMode::Constant, pads: vec![0, 1, 0, 1, 0, 0, 2, 1], value: 0.5 }), y);
        unary(g, Op::Pad(Pad { mode: PadMode::Reflect, pads: vec![0, 0, 1, 1, 0, 0, 1, 1], value: 0.0 }), y)
    });
    for axes in [None, Some(vec![2, 3]), Some(vec![-1, -2])] {
        sandwich([1, 3, 4, 2], |g, y| {
            let scales = match &axes {
                None => g.add_const_f32("scales", &[4], &[1.0, 1.0, 2.0, 3.0]),
                Some(_) => g.add_const_f32("scales", &[2], &[2.0, 3.0]),
            };
            let resize = Resize {
                mode: ResizeMode::Linear,
                coord: CoordTransform::HalfPixel,
                nearest: NearestMode::RoundPreferFloor,
                axes: axes.clone(),
                aspect: AspectPolicy::Stretch,
                extrapolation_value: 0.0,
                antialias: false,
                cubic_coeff_a: -0.75,
                exclude_outside: false,
            };
            node_opt(g, Op::Resize(resize), vec![Some(y), None, Some(scales)])
        });
    }
}

#[test]
fn rank_dropping_readers_need_no_transpose() {
    // Mean over H and W without keep_dims: [N, C] comes out directly.
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[2, 3, 4, 5]);
    let y = tr(&mut g, x, TO_NCHW);
    let m = unary(&mut g, Op::Reduce(Reduce { kind: ReduceKind::Mean, axes: vec![2, 3], keep_dims: false }), y);
    // Gather of one channel: [N, H, W], and Squeeze of a size-1 axis.
    let idx = g.add_const_i64("i", &[], &[2]);
    let c = node(&mut g, Op::Gather { axis: 1 }, &[y, idx]);
    let z = input(&mut g, "z", &[2, 1, 4, 5]);
    let tz = tr(&mut g, z, TO_NCHW);
    // Squeezing H out of [2, 5, 1, 4] leaves [2, 5, 4], which is not in NHWC order: that
    // graph output keeps one transpose.
    let s = unary(&mut g, Op::Squeeze { axes: vec![2] }, tz);
    g.outputs = vec![m, c, s];
    layout(&g, |g| assert_eq!(count(g, "Transpose"), 1, "{:#?}", g.nodes));
}

#[test]
fn size_one_transposes_become_reshapes() {
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[2, 6, 5, 3]);
    let p = unary(&mut g, Op::GlobalPool(PoolKind::Avg), x);
    let y = tr(&mut g, p, TO_NCHW);
    let f = unary(&mut g, Op::Flatten { axis: 1 }, y);
    g.outputs = vec![f];
    layout(&g, |g| {
        assert_eq!(count(g, "Transpose"), 0);
        assert_eq!(count(g, "Reshape"), 1);
    });
    // A real move of data stays a transpose.
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[2, 2, 1, 3]);
    let y = tr(&mut g, x, TO_NCHW);
    let f = unary(&mut g, Op::Flatten { axis: 1 }, y);
    g.outputs = vec![f];
    layout(&g, |g| assert_eq!(count(g, "Transpose"), 1));
}

#[test]
fn size_one_reshape_targets_with_symbolic_batch() {
    let mut g = Graph::default();
    let x = g.add_tensor(TensorInfo {
        name: "x".into(),
        dtype: DType::F32,
        shape: Some(vec![Dim::Sym("n".into()), Dim::Fixed(1), Dim::Fixed(1), Dim::Fixed(8)]),
        data: None,
    });
    g.inputs.push(x);
    // The transpose produces a graph output, so it is not sunk, only turned into a reshape.
    let y = tr(&mut g, x, TO_NCHW);
    g.outputs = vec![y];
    crate::passes::infer_shapes(&mut g).unwrap();
    assert!(optimize_layout(&mut g).unwrap());
    assert_eq!(count(&g, "Transpose"), 0);
    assert_eq!(
        g.tensors[g.outputs[0]].shape,
        Some(vec![Dim::Sym("n".into()), Dim::Fixed(8), Dim::Fixed(1), Dim::Fixed(1)])
    );
    let reshape = g.nodes.iter().find(|n| matches!(n.op, Op::Reshape { .. })).unwrap();
    assert_eq!(const_ints(&g, reshape.input(1).unwrap()), Some(vec![0, 8, 1, 1]));
}

#[test]
fn boundaries_keep_their_layout() {
    // NCHW model: input transpose and output transpose stay; the Relu runs in NHWC.
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[1, 3, 5, 4]);
    let y = tr(&mut g, x, TO_NHWC);
    let y = unary(
        &mut g,
        Op::Pool2d(ferrolite_runtime::ir::Pool2d {
            kind: PoolKind::Max,
            kernel: [2, 2],
            stride: [1, 1],
            dilation: [1, 1],
            padding: ferrolite_runtime::ir::Padding::VALID,
            ceil_mode: false,
            count_include_pad: false,
        }),
        y,
    );
    let y = tr(&mut g, y, TO_NCHW);
    let y = unary(&mut g, Op::Unary(Unary::Act(Activation::Relu)), y);
    g.outputs = vec![y];
    let out_name = g.tensors[y].name.clone();
    layout(&g, |g| {
        assert_eq!(count(g, "Transpose"), 2);
        // The graph output is still the NCHW tensor, produced by the last transpose.
        assert_eq!(g.tensors[g.outputs[0]].name, out_name);
        assert!(matches!(g.nodes.last().unwrap().op, Op::Transpose { .. }));
        assert!(matches!(g.nodes[g.nodes.len() - 2].op, Op::Unary(_)));
    });
}

#[test]
fn unknown_readers_and_graph_outputs_stop_sinking() {
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[1, 3, 4, 2]);
    let y = tr(&mut g, x, TO_NCHW);
    let shape = g.add_const_i64("s", &[2], &[2, 12]);
    let r = node(&mut g, Op::Reshape { allow_zero: false }, &[y, shape]);
    let mm = input(&mut g, "m", &[12, 12]);
    let z = node(&mut g, Op::MatMul, &[r, mm]);
    // A transpose whose output is a graph output and also read by a Relu.
    let t2 = tr(&mut g, x, TO_NCHW);
    let relu = unary(&mut g, Op::Unary(Unary::Act(Activation::Relu)), t2);
    g.outputs = vec![z, t2, relu];
    layout(&g, |g| assert_eq!(count(g, "Transpose"), 2, "{:#?}", g.nodes));
}

#[test]
fn fan_out_sinks_when_it_cancels_and_is_undone_when_it_would_not() {
    // Residual block: the sum feeds two convolutions' NHWC transposes.
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[1, 3, 3, 4]);
    let y = tr(&mut g, x, TO_NCHW);
    let a = unary(&mut g, Op::Unary(Unary::Act(Activation::Relu)), y);
    let b = unary(&mut g, Op::Unary(Unary::Act(Activation::Sigmoid)), y);
    let s = node(&mut g, Op::Binary(Binary::Add), &[a, b]);
    let o1 = tr(&mut g, s, TO_NHWC);
    let o2 = tr(&mut g, a, TO_NHWC);
    g.outputs = vec![o1, o2];
    layout(&g, |g| assert_eq!(count(g, "Transpose"), 0, "{:#?}", g.nodes));

    // Two readers that each end at an NCHW graph output: sinking would need two
    // transposes instead of one, so it is undone.
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[1, 3, 3, 4]);
    let y = tr(&mut g, x, TO_NCHW);
    let a = unary(&mut g, Op::Unary(Unary::Neg), y);
    let b = unary(&mut g, Op::Unary(Unary::Abs), y);
    g.outputs = vec![a, b];
    layout(&g, |g| assert_eq!(count(g, "Transpose"), 1, "{:#?}", g.nodes));
}

#[test]
fn reduced_perm_drops_axes() {
    assert_eq!(reduced_perm(&TO_NCHW, &[2, 3]), None);
    assert_eq!(reduced_perm(&TO_NCHW, &[0]), Some(vec![2, 0, 1]));
    assert_eq!(reduced_perm(&TO_NCHW, &[1]), None);
}

#[test]
fn hard_swish_readers_wait_for_their_other_operand() {
    // x * relu6(x + 3) / 6 on a transposed tensor: the Mul reads x and a value computed
    // from x, so it becomes sinkable only after the Add and Relu6 are sunk.
    sandwich([1, 4, 5, 6], |g, y| {
        let three = g.add_const_f32("three", &[], &[3.0]);
        let a = node(g, Op::Binary(Binary::Add), &[y, three]);
        let r = unary(g, Op::Unary(Unary::Act(Activation::Relu6)), a);
        let m = node(g, Op::Binary(Binary::Mul), &[y, r]);
        let six = g.add_const_f32("six", &[1], &[6.0]);
        node(g, Op::Binary(Binary::Div), &[m, six])
    });
}

#[test]
fn sinks_through_reshapes_of_whole_axis_groups() {
    // Detection head: NCHW [1, C, H, W] -> Reshape [1, C, H*W] -> Transpose(0, 2, 1) is a
    // plain reshape of the NHWC tensor.
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[1, 3, 4, 5]);
    let y = tr(&mut g, x, TO_NCHW);
    let y = unary(&mut g, Op::Unary(Unary::Act(Activation::Sigmoid)), y);
    let shape = g.add_const_i64("shape", &[3], &[1, 5, -1]);
    let r = node(&mut g, Op::Reshape { allow_zero: false }, &[y, shape]);
    let out = unary(&mut g, Op::Transpose { perm: vec![0, 2, 1] }, r);
    // Flatten of [N, C, 1, 1] and Unsqueeze are reshapes too.
    let z = input(&mut g, "z", &[2, 1, 1, 7]);
    let tz = tr(&mut g, z, TO_NCHW);
    let f = unary(&mut g, Op::Flatten { axis: 1 }, tz);
    let u = unary(&mut g, Op::Unsqueeze { axes: vec![0] }, f);
    g.outputs = vec![out, u];
    layout(&g, |g| assert_eq!(count(g, "Transpose"), 0, "{:#?}", g.nodes));

    // Merging C with H moves data: the transpose stays in front of the reshape.
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[1, 3, 4, 5]);
    let y = tr(&mut g, x, TO_NCHW);
    let shape = g.add_const_i64("shape", &[3], &[1, 15, 4]);
    let r = node(&mut g, Op::Reshape { allow_zero: false }, &[y, shape]);
    g.outputs = vec![r];
    layout(&g, |g| {
        assert_eq!(count(g, "Transpose"), 1);
        assert!(matches!(g.nodes[0].op, Op::Transpose { .. }));
    });
}

#[test]
fn reshape_groups_factor_shapes() {
    let f = |v: &[usize]| v.iter().map(|&d| Dim::Fixed(d)).collect::<Vec<_>>();
    assert_eq!(
        reshape_groups(&f(&[1, 5, 3, 4]), &f(&[1, 5, 12])),
        Some(vec![(0..1, 0..0), (1..1, 0..1), (1..2, 1..2), (2..4, 2..3)])
    );
    assert_eq!(reshape_groups(&f(&[6, 4]), &f(&[2, 12])), Some(vec![(0..2, 0..2)]));
    assert_eq!(reshape_groups(&f(&[6, 4]), &f(&[5, 5])), None);
    // [1, C, H, W] = transpose([1, H, W, C]) to [1, C, H*W]: reshape x to [1, H*W, C].
    let (target, q) = plan_reshape(&f(&[1, 5, 3, 4]), &f(&[1, 5, 12]), &TO_NCHW).unwrap();
    assert_eq!(target, vec![1, 12, 5]);
    assert_eq!(q, Some(vec![0, 2, 1]));
    assert!(plan_reshape(&f(&[1, 5, 3, 4]), &f(&[1, 15, 4]), &TO_NCHW).is_none());
}

#[test]
fn sinks_through_unsqueeze_with_symbolic_dims() {
    // [N, W, C] -> (0, 2, 1) -> [N, C, W] -> Unsqueeze(2) -> [N, C, 1, W] -> to NHWC: the
    // sequence-to-image step of a text recognizer, with an unknown width.
    let mut g = Graph::default();
    let w = Dim::Sym("w".into());
    let x = g.add_tensor(TensorInfo {
        name: "x".into(),
        dtype: DType::F32,
        shape: Some(vec![Dim::Fixed(2), w, Dim::Fixed(3)]),
        data: None,
    });
    g.inputs.push(x);
    let y = unary(&mut g, Op::Transpose { perm: vec![0, 2, 1] }, x);
    let u = unary(&mut g, Op::Unsqueeze { axes: vec![2] }, y);
    let out = tr(&mut g, u, TO_NHWC);
    let neg = unary(&mut g, Op::Unary(Unary::Neg), out);
    g.outputs = vec![neg];
    crate::passes::infer_shapes(&mut g).unwrap();
    optimize_layout(&mut g).unwrap();
    assert_eq!(count(&g, "Transpose"), 0, "{:#?}", g.nodes);
    // And numerically, with the width fixed.
    let mut fixed = g.clone();
    fixed.tensors[x].shape = Some(vec![Dim::Fixed(2), Dim::Fixed(5), Dim::Fixed(3)]);
    let mut reference = Graph::default();
    let rx = input(&mut reference, "x", &[2, 5, 3]);
    let ry = unary(&mut reference, Op::Transpose { perm: vec![0, 2, 1] }, rx);
    let ru = unary(&mut reference, Op::Unsqueeze { axes: vec![2] }, ry);
    let rout = tr(&mut reference, ru, TO_NHWC);
    let rneg = unary(&mut reference, Op::Unary(Unary::Neg), rout);
    reference.outputs = vec![rneg];
    crate::passes::infer_shapes(&mut reference).unwrap();
    crate::passes::infer_shapes(&mut fixed).unwrap();
    let inputs = random_inputs(&reference, 3);
    assert_close(&run_graph(&reference, &inputs), &run_graph(&fixed, &inputs));
}

#[test]
fn unsqueeze_plans() {
    // [N, W, C] -> (0, 2, 1) -> Unsqueeze(2): the new axis follows C, the axis before it.
    assert_eq!(plan_unsqueeze(&[0, 2, 1], &[false, false, true, false]), (vec![3], Some(vec![0, 2, 3, 1])));
    assert_eq!(plan_unsqueeze(&[0, 1], &[true, false, false]), (vec![0], None));
}

#[test]
fn shape_readers_read_the_untransposed_shape() {
    // Shape(y) next to Relu(y): the transpose sinks; the shape is gathered from x's shape.
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[2, 3, 4, 5]);
    let y = tr(&mut g, x, TO_NCHW);
    let full = unary(&mut g, Op::Shape { start: 0, end: None }, y);
    let tail = unary(&mut g, Op::Shape { start: -3, end: Some(-1) }, y);
    let r = unary(&mut g, Op::Unary(Unary::Act(Activation::Relu)), y);
    let out = tr(&mut g, r, TO_NHWC);
    g.outputs = vec![full, tail, out];
    layout(&g, |g| {
        assert_eq!(count(g, "Transpose"), 0, "{:#?}", g.nodes);
        assert_eq!(count(g, "Gather"), 2);
    });
}

#[test]
fn deferral_is_dropped_when_the_other_operand_never_arrives_transposed() {
    // Mul(y, f(y)) where f flattens C, H and W together (which moves data, so no transpose
    // can pass): deferring the Mul would leave two transposes; without deferral nothing
    // moves and one stays.
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[1, 2, 3, 4]);
    let y = tr(&mut g, x, TO_NCHW);
    let r = unary(&mut g, Op::Unary(Unary::Act(Activation::Sigmoid)), y);
    let f = unary(&mut g, Op::Flatten { axis: 1 }, r);
    let shape = g.add_const_i64("s", &[4], &[1, 4, 2, 3]);
    let back = node(&mut g, Op::Reshape { allow_zero: false }, &[f, shape]);
    let m = node(&mut g, Op::Binary(Binary::Mul), &[y, back]);
    g.outputs = vec![m];
    layout(&g, |g| assert_eq!(count(g, "Transpose"), 1, "{:#?}", g.nodes));

    // The same with a reshape that keeps axis groups together: deferral pays off and only
    // the transpose for the NCHW graph output is left.
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[1, 2, 3, 4]);
    let y = tr(&mut g, x, TO_NCHW);
    let r = unary(&mut g, Op::Unary(Unary::Act(Activation::Sigmoid)), y);
    let f = unary(&mut g, Op::Flatten { axis: 2 }, r);
    let shape = g.add_const_i64("s", &[4], &[1, 4, 2, 3]);
    let back = node(&mut g, Op::Reshape { allow_zero: false }, &[f, shape]);
    let m = node(&mut g, Op::Binary(Binary::Mul), &[y, back]);
    let out = tr(&mut g, m, TO_NHWC);
    g.outputs = vec![out];
    layout(&g, |g| assert_eq!(count(g, "Transpose"), 0, "{:#?}", g.nodes));
}
