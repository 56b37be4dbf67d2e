//! Whole-pipeline tests: graphs shaped like what the ONNX importer makes of tf2onnx and
//! PyTorch exports, run through [`optimize`].

use super::testing::*;
use super::*;
use ferrolite_runtime::ir::{
    Activation, BatchNorm, Binary, Conv2d, DType, Dim, Op, Pad, PadMode, Padding, Pool2d, PoolKind, TensorId,
    TensorInfo, Unary,
};

const TO_NCHW: [usize; 4] = [0, 3, 1, 2];
const TO_NHWC: [usize; 4] = [0, 2, 3, 1];

fn tr(g: &mut Graph, x: TensorId, perm: [usize; 4]) -> TensorId {
    unary(g, Op::Transpose { perm: perm.to_vec() }, x)
}

fn conv_op(kernel: usize, stride: usize, padding: Padding, groups: usize) -> Op {
    Op::Conv2d(Conv2d {
        kernel: [kernel, kernel],
        stride: [stride, stride],
        dilation: [1, 1],
        padding,
        groups,
        activation: Activation::None,
    })
}

/// An NCHW spatial node as the importer wraps it: to NHWC, the op, back to NCHW.
fn wrapped(g: &mut Graph, op: Op, x: TensorId, weights: &[TensorId]) -> TensorId {
    let a = tr(g, x, TO_NHWC);
    let mut inputs = vec![a];
    inputs.extend_from_slice(weights);
    let y = node(g, op, &inputs);
    tr(g, y, TO_NCHW)
}

fn relu6() -> Op {
    Op::Unary(Unary::Act(Activation::Relu6))
}

fn relu() -> Op {
    Op::Unary(Unary::Act(Activation::Relu))
}

/// A small network with every pattern of the seed models' tf2onnx export: NHWC input and
/// one leading transpose, wrapped convolutions, Pad before a strided depthwise conv, batch
/// norms written as Mul + Add and as BatchNormalization, Relu/Relu6, a Concat of branches,
/// a residual Add, max pooling, global average pooling + Squeeze, and a dense layer.
fn seed_like_network() -> Graph {
    let mut r = rng(42);
    let mut g = Graph::default();
    let x = input(&mut g, "input", &[1, 9, 9, 3]);
    let t0 = tr(&mut g, x, TO_NCHW);

    let w = random_const(&mut g, &mut r, "w1", &[8, 3, 3, 3], -0.5, 0.5);
    let b = random_const(&mut g, &mut r, "b1", &[8], -0.5, 0.5);
    let y = wrapped(&mut g, conv_op(3, 2, Padding::SameUpper, 1), t0, &[w, b]);
    let y = unary(&mut g, relu6(), y);

    let y = unary(&mut g, Op::Pad(Pad { mode: PadMode::Constant, pads: vec![0, 0, 1, 1, 0, 0, 1, 1], value: 0.0 }), y);
    let w = random_const(&mut g, &mut r, "w2", &[8, 3, 3, 1], -0.5, 0.5);
    let y = wrapped(&mut g, conv_op(3, 1, Padding::VALID, 8), y, &[w]);
    let s = random_const(&mut g, &mut r, "bn_mul", &[1, 8, 1, 1], 0.5, 1.5);
    let y = node(&mut g, Op::Binary(Binary::Mul), &[y, s]);
    let t = random_const(&mut g, &mut r, "bn_add", &[1, 8, 1, 1], -0.5, 0.5);
    let y = node(&mut g, Op::Binary(Binary::Add), &[y, t]);
    let y = unary(&mut g, relu6(), y);

    // Branch 1: 1x1 conv + BatchNormalization + Relu.
    let w = random_const(&mut g, &mut r, "w3", &[6, 1, 1, 8], -0.5, 0.5);
    let b1 = wrapped(&mut g, conv_op(1, 1, Padding::VALID, 1), y, &[w]);
    let p: Vec<TensorId> =
        ["gamma", "beta", "mean", "var"].iter().map(|n| random_const(&mut g, &mut r, n, &[6], 0.2, 1.2)).collect();
    let b1 = node(&mut g, Op::BatchNorm(BatchNorm { epsilon: 1e-3, axis: 1 }), &[b1, p[0], p[1], p[2], p[3]]);
    let b1 = unary(&mut g, relu(), b1);
    // Branch 2: 3x3 conv with bias + Relu.
    let w = random_const(&mut g, &mut r, "w4", &[6, 3, 3, 8], -0.5, 0.5);
    let b = random_const(&mut g, &mut r, "b4", &[6], -0.5, 0.5);
    let b2 = wrapped(&mut g, conv_op(3, 1, Padding::Explicit { top: 1, left: 1, bottom: 1, right: 1 }, 1), y, &[w, b]);
    let b2 = unary(&mut g, relu(), b2);
    let cat = node(&mut g, Op::Concat { axis: 1 }, &[b1, b2]);

    // Residual: cat + conv(cat).
    let w = random_const(&mut g, &mut r, "w5", &[12, 1, 1, 12], -0.5, 0.5);
    let c = wrapped(&mut g, conv_op(1, 1, Padding::VALID, 1), cat, &[w]);
    let res = node(&mut g, Op::Binary(Binary::Add), &[cat, c]);

    let pool = Op::Pool2d(Pool2d {
        kind: PoolKind::Max,
        kernel: [2, 2],
        stride: [2, 2],
        dilation: [1, 1],
        padding: Padding::VALID,
        ceil_mode: false,
        count_include_pad: false,
    });
    let mp = wrapped(&mut g, pool, res, &[]);
    let gp = wrapped(&mut g, Op::GlobalPool(PoolKind::Avg), mp, &[]);
    let sq = unary(&mut g, Op::Squeeze { axes: vec![2, 3] }, gp);
    let wd = random_const(&mut g, &mut r, "dense_w", &[12, 10], -0.5, 0.5);
    let mm = node(&mut g, Op::MatMul, &[sq, wd]);
    let bd = random_const(&mut g, &mut r, "dense_b", &[10], -0.5, 0.5);
    let logits = node(&mut g, Op::Binary(Binary::Add), &[mm, bd]);
    let out = unary(&mut g, Op::Softmax { axis: 1 }, logits);
    g.tensors[out].name = "output".into();
    g.outputs = vec![out];
    g
}

#[test]
fn seed_like_network_loses_every_transpose_and_fuses() {
    let g = seed_like_network();
    check_rewrite(
        &g,
        |g| optimize(g).unwrap(),
        |g| {
            assert_eq!(count(g, "Transpose"), 0, "{:#?}", g.nodes);
            assert_eq!(count(g, "Conv2d"), 5);
            for name in ["BatchNorm", "Mul", "Relu", "Relu6", "MatMul", "Pad"] {
                assert_eq!(count(g, name), 0, "{name} left: {:#?}", g.nodes);
            }
            // The residual Add went into the conv that feeds it; the dense bias into the Gemm.
            assert_eq!(count(g, "Add"), 0);
            assert_eq!(g.nodes.iter().filter(|n| matches!(n.op, Op::Conv2d(_)) && n.input(3).is_some()).count(), 1);
            assert_eq!(count(g, "Gemm"), 1);
            let fused =
                g.nodes.iter().filter(|n| matches!(&n.op, Op::Conv2d(c) if c.activation != Activation::None)).count();
            assert_eq!(fused, 4);
            assert_eq!(g.tensors[g.outputs[0]].name, "output");
            assert_eq!(g.tensors[g.inputs[0]].fixed_shape(), Some(vec![1, 9, 9, 3]));
            g.validate().unwrap();
        },
    );
}

#[test]
fn nchw_model_keeps_one_transpose_at_the_input() {
    // PyTorch-style: NCHW input, conv + BN + relu, residual, global pool, flatten, gemm.
    let mut r = rng(43);
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[2, 4, 6, 6]);
    let w = random_const(&mut g, &mut r, "w", &[4, 3, 3, 4], -0.5, 0.5);
    let y = wrapped(&mut g, conv_op(3, 1, Padding::Explicit { top: 1, left: 1, bottom: 1, right: 1 }, 1), x, &[w]);
    let p: Vec<TensorId> = (0..4).map(|i| random_const(&mut g, &mut r, &format!("bn{i}"), &[4], 0.2, 1.2)).collect();
    let y = node(&mut g, Op::BatchNorm(BatchNorm { epsilon: 1e-5, axis: 1 }), &[y, p[0], p[1], p[2], p[3]]);
    let y = unary(&mut g, relu(), y);
    let w2 = random_const(&mut g, &mut r, "w2", &[4, 1, 1, 4], -0.5, 0.5);
    let z = wrapped(&mut g, conv_op(1, 1, Padding::VALID, 1), y, &[w2]);
    let z = node(&mut g, Op::Binary(Binary::Add), &[z, y]);
    let z = unary(&mut g, relu(), z);
    let gp = wrapped(&mut g, Op::GlobalPool(PoolKind::Avg), z, &[]);
    let f = unary(&mut g, Op::Flatten { axis: 1 }, gp);
    let wd = random_const(&mut g, &mut r, "wd", &[5, 4], -0.5, 0.5);
    let bd = random_const(&mut g, &mut r, "bd", &[5], -0.5, 0.5);
    let gemm = Op::Gemm(ferrolite_runtime::ir::Gemm {
        alpha: 1.0,
        beta: 1.0,
        trans_a: false,
        trans_b: true,
        activation: Activation::None,
    });
    let out = node(&mut g, gemm, &[f, wd, bd]);
    // A second, spatial output stays NCHW: one transpose before it.
    g.outputs = vec![out, z];
    check_rewrite(
        &g,
        |g| optimize(g).unwrap(),
        |g| {
            assert_eq!(count(g, "Transpose"), 2, "{:#?}", g.nodes);
            assert!(matches!(g.nodes[0].op, Op::Transpose { .. }));
            // The batch norm and first Relu went into the first conv; the residual Add and the
            // Relu after it into the second.
            assert_eq!(count(g, "BatchNorm"), 0);
            assert_eq!(count(g, "Relu"), 0);
            assert_eq!(count(g, "Add"), 0);
            assert_eq!(count(g, "Conv2d"), 2);
            assert!(g.nodes.iter().any(|n| matches!(&n.op, Op::Conv2d(c) if c.activation == Activation::Relu) && n.input(3).is_some()));
            assert_eq!(g.tensors[g.outputs[1]].fixed_shape(), Some(vec![2, 4, 6, 6]));
        },
    );
}

#[test]
fn input_shapes_let_shape_math_fold() {
    // x [batch, 2, 3] -> Reshape(x, Concat(Shape(x)[0], [-1])) with batch fixed to 4.
    let mut g = Graph::default();
    let x = g.add_tensor(TensorInfo {
        name: "x".into(),
        dtype: DType::F32,
        shape: Some(vec![Dim::Sym("batch".into()), Dim::Fixed(2), Dim::Fixed(3)]),
        data: None,
    });
    g.inputs.push(x);
    let s = unary(&mut g, Op::Shape { start: 0, end: Some(1) }, x);
    let m1 = g.add_const_i64("m1", &[1], &[-1]);
    let target = node(&mut g, Op::Concat { axis: 0 }, &[s, m1]);
    let y = node(&mut g, Op::Reshape { allow_zero: false }, &[x, target]);
    g.outputs = vec![y];

    let mut symbolic = g.clone();
    optimize(&mut symbolic).unwrap();
    assert_eq!(count(&symbolic, "Shape"), 1, "batch unknown: the shape math stays");

    set_input_shapes(&mut g, &[("x".into(), vec![4, 2, 3])]).unwrap();
    check_rewrite(
        &g,
        |g| optimize(g).unwrap(),
        |g| {
            assert_eq!(g.nodes.len(), 1);
            assert_eq!(g.tensors[g.outputs[0]].fixed_shape(), Some(vec![4, 6]));
        },
    );
}

#[test]
fn shape_errors_name_the_node() {
    let mut r = rng(44);
    let mut g = Graph::default();
    let x = input(&mut g, "x", &[1, 5, 5, 3]);
    let w = random_const(&mut g, &mut r, "w", &[4, 3, 3, 2], -1.0, 1.0);
    let y = node(&mut g, conv_op(3, 1, Padding::VALID, 1), &[x, w]);
    g.nodes[0].name = "bad_conv".into();
    g.outputs = vec![y];
    let e = optimize(&mut g).unwrap_err().to_string();
    assert!(e.contains("Conv2d node #0 \"bad_conv\""), "{e}");
}

#[test]
fn optimize_is_idempotent_on_its_result() {
    let mut g = seed_like_network();
    optimize(&mut g).unwrap();
    let nodes = g.nodes.len();
    let tensors = g.tensors.len();
    optimize(&mut g).unwrap();
    assert_eq!((g.nodes.len(), g.tensors.len()), (nodes, tensors));
}

/// The seed networks as tf2onnx exported them (`make_models.py` writes them; they are not in
/// the repository): every transpose goes, and the optimized graph computes what the
/// imported graph computes, both run by the runtime's [`Session`].
///
/// `FERROLITE_SEED_MODELS=/path/to/models cargo test -p ferrolite-converter --lib seed_networks -- --ignored`
#[test]
#[ignore = "needs the seed networks: set FERROLITE_SEED_MODELS to the folder make_models.py wrote"]
fn seed_networks_lose_every_transpose() {
    use ferrolite_runtime::{Model, Session, SessionOptions, Tensor};
    use std::sync::Arc;

    let dir = std::env::var("FERROLITE_SEED_MODELS").expect("set FERROLITE_SEED_MODELS to the seed networks' folder");
    let run = |g: Graph, input: &Tensor| {
        let mut session = Session::new(Arc::new(Model::from_graph(g).unwrap()), SessionOptions::default()).unwrap();
        session.run(&[input.view()]).unwrap()
    };
    for name in ["basic_squeezenet", "inception_v3", "mobilenet_v1_10_224", "mobilenet_v2_10_224", "resnet_v2_50"] {
        let path = std::path::Path::new(&dir).join(format!("{name}.onnx"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut imported = crate::import_bytes(&bytes, crate::SourceFormat::Onnx).unwrap();
        infer_shapes(&mut imported).unwrap();
        assert!(count(&imported, "Transpose") > 0, "{name}: the import has layout transposes");
        let mut optimized = imported.clone();
        optimize(&mut optimized).unwrap();
        assert_eq!(count(&optimized, "Transpose"), 0, "{name}: {:#?}", optimized.nodes);
        assert_eq!(
            count(&optimized, "BatchNorm") + count(&optimized, "Relu6") + count(&optimized, "MatMul"),
            0,
            "{name}"
        );
        let input = &random_inputs(&imported, 5)[0];
        assert_close(&run(imported, input), &run(optimized, input));
    }
}
