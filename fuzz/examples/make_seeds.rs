//! Writes a few valid `.flm` files to seed the `flm_read` corpus:
//! `cargo run --manifest-path fuzz/Cargo.toml --example make_seeds fuzz/corpus/flm_read`.
//!
//! Each seed starts with the target's mode byte (`1`: reseal the checksum after mutating).

use ferrolite_runtime::format::{self, Metadata};
use ferrolite_runtime::ir::{
    Activation, Binary, Conv2d, DType, Dim, Graph, Op, Padding, Pool2d, PoolKind, Split, TensorInfo, Unary,
};

fn conv_net() -> Graph {
    let mut g = Graph::default();
    let x = g.add_tensor(TensorInfo {
        name: "input".into(),
        dtype: DType::F32,
        shape: Some(vec![Dim::Sym("batch".into()), Dim::Fixed(8), Dim::Fixed(8), Dim::Fixed(3)]),
        data: None,
    });
    let w: Vec<f32> = (0..4 * 3 * 3 * 3).map(|i| (i as f32 * 0.37).sin()).collect();
    let w = g.add_const_f32("conv.weight", &[4, 3, 3, 3], &w);
    let b = g.add_const_f32("conv.bias", &[4], &[0.1, -0.2, 0.3, -0.4]);
    let c = g.add_value("conv", DType::F32);
    g.add_node(
        "conv",
        Op::Conv2d(Conv2d {
            kernel: [3, 3],
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::SameUpper,
            groups: 1,
            activation: Activation::Relu6,
        }),
        vec![Some(x), Some(w), Some(b)],
        vec![c],
    );
    let p = g.add_value("pool", DType::F32);
    g.add_node(
        "pool",
        Op::Pool2d(Pool2d {
            kind: PoolKind::Max,
            kernel: [2, 2],
            stride: [2, 2],
            dilation: [1, 1],
            padding: Padding::VALID,
            ceil_mode: false,
            count_include_pad: false,
        }),
        vec![Some(c)],
        vec![p],
    );
    let shape = g.add_const_i64("flat_shape", &[2], &[-1, 64]);
    let f = g.add_value("flat", DType::F32);
    g.add_node("flatten", Op::Reshape { allow_zero: false }, vec![Some(p), Some(shape)], vec![f]);
    let halves: Vec<_> = (0..2).map(|i| g.add_value(format!("half{i}"), DType::F32)).collect();
    g.add_node("split", Op::Split(Split { axis: -1, sizes: None }), vec![Some(f)], halves.clone());
    let y = g.add_value("logits", DType::F32);
    g.add_node("add", Op::Binary(Binary::Add), vec![Some(halves[0]), Some(halves[1])], vec![y]);
    let z = g.add_value("probs", DType::F32);
    g.add_node("softmax", Op::Softmax { axis: -1 }, vec![Some(y)], vec![z]);
    g.inputs = vec![x];
    g.outputs = vec![z];
    g
}

fn tiny() -> Graph {
    let mut g = Graph::default();
    let x = g.add_value("x", DType::F32);
    let y = g.add_value("y", DType::F32);
    g.add_node("", Op::Unary(Unary::Act(Activation::Sigmoid)), vec![Some(x)], vec![y]);
    g.inputs = vec![x];
    g.outputs = vec![y];
    g
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "fuzz/corpus/flm_read".into());
    std::fs::create_dir_all(&dir).expect("create the corpus directory");
    let meta = Metadata { producer: "make_seeds".into(), source: "fuzz".into() };
    for (name, graph) in [("conv_net", conv_net()), ("tiny", tiny()), ("empty", Graph::default())] {
        let body = format::to_bytes(&graph, &meta).expect("seed graphs are valid");
        for mode in [0u8, 1] {
            let mut seed = vec![mode];
            seed.extend_from_slice(&body);
            let path = format!("{dir}/{name}-{mode}.flm");
            std::fs::write(&path, seed).expect("write a seed");
            println!("{path}");
        }
    }
}
