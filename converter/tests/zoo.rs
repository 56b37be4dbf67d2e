//! The zoo networks against the Keras models they mirror.
//!
//! `testdata/zoo/<name>.json` is dumped from Keras by `scripts/zoo_reference.py` (which
//! builds the models exactly as `shared/models/make_models.py` does). Every convolution and
//! dense layer (geometry, channels, groups, bias, activation, MACs), every pooling layer,
//! every batch norm (channels, epsilon, scale), the parameter count (Keras'
//! `count_params`) and the MACs (`make_models.count_macs`) must be equal, exactly.
//!
//! `testdata/zoo/<name>_keras_probs.npy` holds what the Keras models output with the zoo's
//! seed-0 weights loaded (`scripts/zoo_keras_outputs.py`); the runtime must compute the
//! same from the zoo graphs. Regenerate both with the scripts when the zoo changes.

use std::collections::HashSet;
use std::path::PathBuf;

use ferrolite_converter::zoo::{self, LayerKind, stats};
use ferrolite_runtime::ir::{Activation, Dim, Graph, Op, PadMode, PoolKind, TensorId};
use ferrolite_runtime::ops::{Fact, infer};
use ferrolite_runtime::{Model, Session, SessionOptions, TensorView};
use serde_json::{Value as Json, json};

fn reference(name: &str) -> Json {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/zoo").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn shape_of(g: &Graph, t: TensorId) -> Vec<usize> {
    g.tensors[t].fixed_shape().unwrap_or_else(|| panic!("tensor {:?} has no fixed shape", g.tensors[t].name))
}

/// Drops the fields the graph cannot know (Keras' layer names).
fn without_name(mut layer: Json) -> Json {
    if let Some(o) = layer.as_object_mut() {
        o.remove("name");
    }
    layer
}

fn compare_lists(network: &str, what: &str, ours: &[Json], keras: &[Json], names: &[String]) {
    for (i, (o, k)) in ours.iter().zip(keras).enumerate() {
        assert_eq!(o, k, "{network}: {what} #{i} (ours \"{}\") differs from Keras", names[i]);
    }
    assert_eq!(ours.len(), keras.len(), "{network}: number of {what}");
}

/// Convolution and dense layers in node order, described as the reference script does.
fn conv_layers(g: &Graph) -> (Vec<Json>, Vec<String>) {
    let summary = zoo::summary(g).expect("summary");
    let consumers = g.consumers();
    let mut out = Vec::new();
    let mut names = Vec::new();
    for layer in &summary.layers {
        let node = &g.nodes[layer.node];
        let desc = match (layer.kind, &layer.geometry, &node.op) {
            (LayerKind::Conv | LayerKind::Depthwise, Some(geo), Op::Conv2d(a)) => json!({
                "kind": if layer.kind == LayerKind::Depthwise { "depthwise" } else { "conv" },
                "kernel": geo.kernel, "stride": geo.stride, "dilation": geo.dilation, "pads": geo.pads,
                "in_channels": layer.in_channels, "out_channels": layer.out_channels, "groups": geo.groups,
                "in_hw": geo.in_hw, "out_hw": geo.out_hw, "bias": layer.bias,
                "activation": match a.activation {
                    Activation::None => "linear",
                    Activation::Relu => "relu",
                    other => other.name(),
                },
                "macs": layer.macs,
            }),
            (LayerKind::Dense, None, Op::Gemm(gemm)) => {
                // Keras' Dense(activation="softmax") is a Gemm read only by a Softmax.
                let readers = &consumers[node.outputs[0]];
                let softmax = gemm.activation == Activation::None
                    && !readers.is_empty()
                    && readers.iter().all(|&r| matches!(g.nodes[r].op, Op::Softmax { axis: -1 }));
                json!({
                    "kind": "dense", "in_channels": layer.in_channels, "out_channels": layer.out_channels,
                    "bias": layer.bias, "activation": if softmax { "softmax" } else { gemm.activation.name() },
                    "macs": layer.macs,
                })
            }
            other => panic!("unexpected layer {:?} in a zoo network", other.0),
        };
        out.push(desc);
        names.push(layer.name.clone());
    }
    (out, names)
}

/// Pooling layers in node order. A zero `Pad` feeding a pool counts as its padding, as the
/// reference script counts Keras' `ZeroPadding2D`.
fn pool_layers(g: &Graph) -> (Vec<Json>, Vec<String>) {
    let producers = g.producers();
    let mut out = Vec::new();
    let mut names = Vec::new();
    for node in &g.nodes {
        if !matches!(node.op, Op::Pool2d(_) | Op::GlobalPool(_)) {
            continue;
        }
        let x = node.input(0).expect("pool input");
        let y = shape_of(g, node.outputs[0]);
        let desc = match &node.op {
            Op::Pool2d(p) => {
                let xs = shape_of(g, x);
                let mut in_hw = [xs[1], xs[2]];
                let mut pads = stats::resolve_padding(p.padding, in_hw, p.kernel, p.stride, p.dilation);
                if let Some(Op::Pad(pad)) = producers[x].map(|n| &g.nodes[n].op) {
                    assert_eq!(pad.mode, PadMode::Constant);
                    assert_eq!(pad.value, 0.0);
                    let q = &pad.pads;
                    assert_eq!((q[0], q[3], q[4], q[7]), (0, 0, 0, 0), "a zoo Pad pads only H and W");
                    let extra = [q[1], q[2], q[5], q[6]].map(|v| usize::try_from(v).expect("no cropping"));
                    pads = [pads[0] + extra[0], pads[1] + extra[1], pads[2] + extra[2], pads[3] + extra[3]];
                    in_hw = [in_hw[0] - extra[0] - extra[2], in_hw[1] - extra[1] - extra[3]];
                }
                assert!(!p.ceil_mode && !p.count_include_pad && p.dilation == [1, 1]);
                json!({
                    "kind": if p.kind == PoolKind::Max { "max" } else { "avg" },
                    "kernel": p.kernel, "stride": p.stride, "pads": pads, "in_hw": in_hw,
                    "out_hw": [y[1], y[2]], "channels": y[3],
                })
            }
            Op::GlobalPool(kind) => {
                let xs = shape_of(g, x);
                json!({
                    "kind": if *kind == PoolKind::Avg { "global_avg" } else { "global_max" },
                    "in_hw": [xs[1], xs[2]], "channels": xs[3],
                })
            }
            _ => continue,
        };
        out.push(desc);
        names.push(node.name.clone());
    }
    (out, names)
}

/// Batch norms in node order: channels, epsilon (compared in f32, the IR's type), whether
/// a scale is learned (Keras `scale=False` arrives as a scale of ones) and a shift is
/// present.
fn batch_norms(g: &Graph) -> (Vec<Json>, Vec<String>) {
    let mut out = Vec::new();
    let mut names = Vec::new();
    for node in &g.nodes {
        let Op::BatchNorm(bn) = &node.op else { continue };
        assert_eq!(bn.axis, -1, "{}: channel axis", node.name);
        let param = |slot: usize| -> &[f32] {
            let t = node.input(slot).expect("batch norm parameter");
            g.tensors[t].data.as_ref().and_then(|d| d.as_f32()).expect("constant f32 parameter")
        };
        let channels = param(1).len();
        for slot in 2..5 {
            assert_eq!(param(slot).len(), channels, "{}: parameter {slot} length", node.name);
        }
        assert!(param(4).iter().all(|&v| v > 0.0), "{}: variances must be positive", node.name);
        out.push(json!({
            "channels": channels,
            "epsilon": bn.epsilon,
            "scale": !param(1).iter().all(|&v| v == 1.0),
            "center": true,
        }));
        names.push(node.name.clone());
    }
    (out, names)
}

fn keras_batch_norms(reference: &Json) -> Vec<Json> {
    reference["batch_norms"]
        .as_array()
        .expect("batch_norms")
        .iter()
        .map(|bn| {
            let mut bn = without_name(bn.clone());
            let eps = bn["epsilon"].as_f64().expect("epsilon") as f32;
            bn["epsilon"] = json!(eps);
            bn
        })
        .collect()
}

/// Inputs, outputs, topological order, unique names, shapes on every tensor, constant
/// sizes.
fn check_structure(name: &str, g: &Graph, reference: &Json) {
    let size = zoo::input_size(name).expect("input size");
    let want_input: Vec<usize> = serde_json::from_value(reference["input"].clone()).expect("input");
    assert_eq!(want_input, vec![1, size, size, 3]);
    assert_eq!(g.inputs.len(), 1);
    assert_eq!(g.tensors[g.inputs[0]].name, "input");
    assert_eq!(shape_of(g, g.inputs[0]), want_input);
    assert_eq!(g.outputs.len(), 1);
    assert_eq!(g.tensors[g.outputs[0]].name, "output");
    assert_eq!(shape_of(g, g.outputs[0]), vec![1, zoo::CLASSES]);
    let last = g.nodes.last().expect("nodes");
    assert!(matches!(last.op, Op::Softmax { axis: -1 }) && last.outputs == g.outputs);

    let mut tensor_names = HashSet::new();
    for t in &g.tensors {
        assert!(tensor_names.insert(t.name.as_str()), "{name}: tensor name {:?} used twice", t.name);
        let shape = t.fixed_shape().unwrap_or_else(|| panic!("{name}: tensor {:?} has no fixed shape", t.name));
        if let Some(data) = &t.data {
            assert_eq!(data.len(), shape.iter().product::<usize>() * t.dtype.size(), "{name}: constant {:?}", t.name);
        }
    }
    let mut node_names = HashSet::new();
    let mut available: Vec<bool> = g.tensors.iter().map(|t| t.is_const()).collect();
    for &i in &g.inputs {
        available[i] = true;
    }
    for node in &g.nodes {
        assert!(!node.name.is_empty() && node_names.insert(node.name.as_str()), "{name}: node name {:?}", node.name);
        for &t in node.inputs.iter().flatten() {
            assert!(available[t], "{name}: node {:?} reads {:?} before it is produced", node.name, g.tensors[t].name);
        }
        for &t in &node.outputs {
            assert!(!available[t], "{name}: tensor {:?} produced twice", g.tensors[t].name);
            available[t] = true;
        }
    }
}

fn check_against_keras(name: &str) {
    let reference = reference(name);
    let g = zoo::build(name, 0).expect("build");
    check_structure(name, &g, &reference);

    let keras_convs: Vec<Json> =
        reference["convs"].as_array().expect("convs").iter().cloned().map(without_name).collect();
    let (convs, conv_names) = conv_layers(&g);
    compare_lists(name, "conv/dense layer", &convs, &keras_convs, &conv_names);

    let keras_pools: Vec<Json> =
        reference["pools"].as_array().expect("pools").iter().cloned().map(without_name).collect();
    let (pools, pool_names) = pool_layers(&g);
    compare_lists(name, "pooling layer", &pools, &keras_pools, &pool_names);

    let (bns, bn_names) = batch_norms(&g);
    compare_lists(name, "batch norm", &bns, &keras_batch_norms(&reference), &bn_names);

    let summary = zoo::summary(&g).expect("summary");
    assert_eq!(summary.params, reference["params"].as_u64().expect("params"), "{name}: parameters");
    assert_eq!(summary.macs, reference["macs"].as_u64().expect("macs"), "{name}: MACs");
}

#[test]
fn basic_squeezenet_matches_keras() {
    check_against_keras("basic_squeezenet");
}

#[test]
fn inception_v3_matches_keras() {
    check_against_keras("inception_v3");
}

#[test]
fn mobilenet_v1_matches_keras() {
    check_against_keras("mobilenet_v1_10_224");
}

#[test]
fn mobilenet_v2_matches_keras() {
    check_against_keras("mobilenet_v2_10_224");
}

#[test]
fn resnet_v2_50_matches_keras() {
    check_against_keras("resnet_v2_50");
}

/// The figures of `shared/models/make_models.log` (rounded there), as a cross-check of the
/// reference files themselves.
#[test]
fn reference_totals_match_the_seed_table() {
    let table = [
        ("basic_squeezenet", 1.24, 349),
        ("inception_v3", 23.85, 5713),
        ("mobilenet_v1_10_224", 4.25, 569),
        ("mobilenet_v2_10_224", 3.54, 301),
        ("resnet_v2_50", 25.61, 3482),
    ];
    assert_eq!(table.map(|t| t.0), zoo::NAMES);
    for (name, params_m, macs_m) in table {
        let r = reference(name);
        let params = r["params"].as_u64().expect("params") as f64 / 1e6;
        let macs = r["macs"].as_u64().expect("macs") as f64 / 1e6;
        assert_eq!(format!("{params:.2}"), format!("{params_m:.2}"), "{name}");
        assert_eq!(format!("{macs:.0}"), macs_m.to_string(), "{name}");
    }
}

/// Every node's output shape as the runtime's shape inference computes it equals the shape
/// the zoo recorded.
#[test]
fn runtime_shape_inference_agrees() {
    for name in zoo::NAMES {
        let g = zoo::build(name, 0).expect("build");
        let fixed: Vec<Vec<usize>> = g.tensors.iter().map(|t| t.fixed_shape().unwrap_or_default()).collect();
        for (id, node) in g.nodes.iter().enumerate() {
            let facts: Vec<Option<Fact<'_>>> = node
                .inputs
                .iter()
                .map(|t| {
                    t.map(|t| {
                        let info = &g.tensors[t];
                        let value = info
                            .data
                            .as_ref()
                            .map(|d| TensorView::new(info.dtype, &fixed[t], d.bytes()).expect("constant view"));
                        Fact { dtype: info.dtype, shape: info.shape.as_deref(), value }
                    })
                })
                .collect();
            let inferred = infer(&node.op, &facts, node.outputs.len())
                .unwrap_or_else(|e| panic!("{name}: {}: shape inference failed: {e}", g.node_label(id)));
            assert_eq!(inferred.len(), node.outputs.len(), "{name}: {}", g.node_label(id));
            for (fact, &t) in inferred.iter().zip(&node.outputs) {
                let want: Vec<Dim> = fixed[t].iter().map(|&d| Dim::Fixed(d)).collect();
                assert_eq!(fact.dtype, g.tensors[t].dtype, "{name}: {}", g.node_label(id));
                assert_eq!(fact.shape.as_deref(), Some(want.as_slice()), "{name}: {}", g.node_label(id));
            }
        }
    }
}

#[test]
fn unknown_network_is_an_error_listing_the_zoo() {
    let err = zoo::build("resnet_v1_50", 0).expect_err("unknown network").to_string();
    assert!(err.contains("resnet_v1_50"), "{err}");
    for name in zoo::NAMES {
        assert!(err.contains(name), "{err}");
    }
}

fn weights(g: &Graph) -> Vec<(String, Vec<u8>)> {
    g.tensors.iter().filter_map(|t| Some((t.name.clone(), t.data.as_ref()?.bytes().to_vec()))).collect()
}

#[test]
fn weights_are_seeded() {
    let a = zoo::build("mobilenet_v2_10_224", 7).expect("build");
    let b = zoo::build("mobilenet_v2_10_224", 7).expect("build");
    let c = zoo::build("mobilenet_v2_10_224", 8).expect("build");
    assert_eq!(weights(&a), weights(&b), "same seed, same weights");
    // Every drawn tensor changes with the seed; the moving statistics follow the weights
    // (a few moving means are exactly 0 whatever the seed: batch norms of zero-mean inputs).
    let (wa, wc) = (weights(&a), weights(&c));
    let is_statistic = |n: &str| n.ends_with("/moving_mean") || n.ends_with("/moving_variance");
    for ((name, x), (_, y)) in wa.iter().zip(&wc) {
        assert!(is_statistic(name) || x != y, "{name} does not depend on the seed");
    }
    let changed_statistics = wa.iter().zip(&wc).filter(|(x, y)| is_statistic(&x.0) && x.1 != y.1).count();
    assert!(changed_statistics > wa.iter().filter(|(n, _)| is_statistic(n)).count() * 9 / 10);
    let other = zoo::build("mobilenet_v1_10_224", 7).expect("build");
    let first_kernel = |g: &Graph| {
        g.tensors.iter().find(|t| t.name.ends_with("/kernel")).and_then(|t| t.data.clone()).expect("kernel")
    };
    assert_ne!(
        first_kernel(&a).bytes()[..64],
        first_kernel(&other).bytes()[..64],
        "networks draw from different streams"
    );
}

/// Each weight tensor's spread is what the documented scheme says: He-uniform convolution
/// kernels (variance `2 / fan_in`), a symmetric uniform classifier kernel, biases in
/// `[-0.05, 0.05]`, batch-norm scale and shift in their ranges, positive variances.
#[test]
fn weights_follow_the_documented_scheme() {
    let g = zoo::build("resnet_v2_50", 3).expect("build");
    let variance = |w: &[f32]| w.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / w.len() as f64;
    for node in &g.nodes {
        let values = |slot: usize| -> &[f32] {
            let t = node.input(slot).expect("input");
            g.tensors[t].data.as_ref().and_then(|d| d.as_f32()).expect("f32 constant")
        };
        match &node.op {
            Op::Conv2d(_) => {
                let w = values(1);
                let fan_in: usize = shape_of(&g, node.input(1).expect("weight"))[1..].iter().product();
                let limit = (6.0 / fan_in as f64).sqrt();
                assert!(w.iter().all(|&v| f64::from(v).abs() <= limit), "{}: kernel out of range", node.name);
                let (var, want) = (variance(w), 2.0 / fan_in as f64);
                assert!((var / want - 1.0).abs() < 0.1, "{}: kernel variance {var} vs {want}", node.name);
            }
            Op::Gemm(_) => {
                let w = values(1);
                let max = w.iter().map(|&v| f64::from(v).abs()).fold(0.0, f64::max);
                let mean = w.iter().map(|&v| f64::from(v)).sum::<f64>() / w.len() as f64;
                let var = variance(w);
                assert!((var / (max * max / 3.0) - 1.0).abs() < 0.02, "{}: not uniform", node.name);
                assert!(mean.abs() < 0.01 * max, "{}: not centred", node.name);
            }
            Op::BatchNorm(_) => {
                assert!(values(1).iter().all(|v| (0.5..=1.5).contains(v)), "{}: gamma", node.name);
                assert!(values(2).iter().all(|v| (-0.2..=0.2).contains(v)), "{}: beta", node.name);
                assert!(values(3).iter().all(|v| v.is_finite()), "{}: moving mean", node.name);
                assert!(values(4).iter().all(|&v| v > 0.0 && v.is_finite()), "{}: moving variance", node.name);
            }
            _ => {}
        }
        if matches!(node.op, Op::Conv2d(_) | Op::Gemm(_)) && node.input(2).is_some() {
            assert!(values(2).iter().all(|v| (-0.05..=0.05).contains(v)), "{}: bias", node.name);
        }
    }
}

/// The test input `[1, size, size, 3]` in [-1, 1): SplitMix64 values, as
/// `scripts/zoo_keras_outputs.py` generates them.
fn test_input(size: usize) -> Vec<f32> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..size * size * 3)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            (z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        })
        .collect()
}

fn keras_probs(name: &str) -> Vec<f32> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/zoo").join(format!("{name}_keras_probs.npy"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(npy.shape(), &[1, zoo::CLASSES as u64], "{}", path.display());
    npy.into_vec().unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs each network (seed 0) with Ferrolite's runtime and compares the probabilities with
/// those of the Keras model holding the same weights (`scripts/zoo_keras_outputs.py`): the
/// zoo graphs compute what the Keras networks compute. The weights keep the activations
/// O(1) to the end (the last feature map is looked at too), and the softmax is clearly
/// peaked.
#[test]
fn networks_run_and_agree_with_keras() {
    for name in zoo::NAMES {
        let mut g = zoo::build(name, 0).expect("build");
        // Also return the last feature map (the global pool's input) and the class scores.
        let features =
            g.nodes.iter().rev().find(|n| matches!(n.op, Op::GlobalPool(_))).and_then(|n| n.input(0)).expect("pool");
        let scores = g.nodes.last().and_then(|n| n.input(0)).expect("scores");
        g.outputs.extend([features, scores]);
        let size = zoo::input_size(name).expect("size");
        let shape = [1, size, size, 3];
        let pixels = test_input(size);
        let model = std::sync::Arc::new(Model::from_graph(g).expect("model"));
        let mut session = Session::new(model, SessionOptions::new().with_threads(1)).expect("session");
        let input = TensorView::from_slice(&shape, &pixels).expect("input");
        let outputs = session.run(&[input]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(outputs[0].shape(), &[1, zoo::CLASSES]);
        let probs = outputs[0].as_slice::<f32>().expect("f32 output");

        let keras = keras_probs(name);
        let mut worst = 0.0f32;
        for (i, (&p, &k)) in probs.iter().zip(&keras).enumerate() {
            let err = (p - k).abs() / (1e-5 + k);
            assert!(err < 2e-3, "{name}: class {i}: ferrolite {p}, keras {k}");
            worst = worst.max(err);
        }
        let argmax = |v: &[f32]| (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b]));
        assert_eq!(argmax(probs), argmax(&keras), "{name}: top class");

        let rms = |t: &ferrolite_runtime::Tensor| {
            let v = t.as_slice::<f32>().expect("f32");
            (v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
        };
        let features_rms = rms(&outputs[1]);
        assert!((0.1..4.0).contains(&features_rms), "{name}: last feature map RMS {features_rms}");
        let scores = outputs[2].as_slice::<f32>().expect("f32");
        let mean = scores.iter().map(|&x| f64::from(x)).sum::<f64>() / scores.len() as f64;
        let spread = (scores.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / scores.len() as f64).sqrt();
        assert!((0.5..20.0).contains(&spread), "{name}: class scores spread {spread}");
        let max = probs.iter().copied().fold(0.0f32, f32::max);
        // Uniform would be 0.001 everywhere.
        assert!(max > 0.05, "{name}: near uniform output (max {max})");
        println!(
            "{name}: features RMS {features_rms:.2}, scores SD {spread:.2}, max probability {max:.3}, \
             worst relative difference to Keras {worst:.1e}"
        );
    }
}
