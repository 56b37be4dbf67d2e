//! Importer tests on small hand-built models: protobuf decoding and its error paths, and
//! the IR each operator form becomes (checked against hand-derived graphs and values).

use ferrolite_runtime::ir::{
    Activation, Binary, ConvTranspose2d, DType, Dim, Graph, Op, Padding, PoolKind, ReduceKind, Unary,
};
use prost::Message;

use super::proto::*;
use crate::ConvertError;

// ----- model builders ------------------------------------------------------------------------

fn tensor_type(elem: i32, dims: &[Option<i64>]) -> Option<TypeProto> {
    Some(TypeProto {
        tensor_type: Some(TypeProtoTensor {
            elem_type: Some(elem),
            shape: Some(TensorShapeProto {
                dim: dims
                    .iter()
                    .map(|d| TensorShapeDimension { value: d.map(DimensionValue::DimValue) })
                    .collect(),
            }),
        }),
    })
}

fn value(name: &str, dims: &[i64]) -> ValueInfoProto {
    let dims: Vec<Option<i64>> = dims.iter().map(|&d| Some(d)).collect();
    ValueInfoProto { name: Some(name.into()), r#type: tensor_type(data_type::FLOAT, &dims) }
}

fn node(op: &str, name: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        name: Some(name.into()),
        op_type: Some(op.into()),
        attribute: attrs,
        domain: None,
    }
}

fn attr_i(name: &str, v: i64) -> AttributeProto {
    AttributeProto { name: Some(name.into()), i: Some(v), r#type: Some(attribute_type::INT), ..Default::default() }
}

fn attr_f(name: &str, v: f32) -> AttributeProto {
    AttributeProto { name: Some(name.into()), f: Some(v), r#type: Some(attribute_type::FLOAT), ..Default::default() }
}

fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto { name: Some(name.into()), ints: v.to_vec(), r#type: Some(attribute_type::INTS), ..Default::default() }
}

fn attr_s(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        s: Some(v.as_bytes().to_vec()),
        r#type: Some(attribute_type::STRING),
        ..Default::default()
    }
}

fn attr_t(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto { name: Some(name.into()), t: Some(t), r#type: Some(attribute_type::TENSOR), ..Default::default() }
}

fn f32_tensor(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(data_type::FLOAT),
        float_data: values.to_vec(),
        ..Default::default()
    }
}

fn i64_tensor(name: &str, dims: &[i64], values: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(data_type::INT64),
        int64_data: values.to_vec(),
        ..Default::default()
    }
}

fn model(opset: i64, nodes: Vec<NodeProto>, inputs: Vec<ValueInfoProto>, outputs: &[&str], inits: Vec<TensorProto>) -> ModelProto {
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(opset) }],
        graph: Some(GraphProto {
            node: nodes,
            name: Some("g".into()),
            initializer: inits,
            input: inputs,
            output: outputs.iter().map(|o| ValueInfoProto { name: Some(o.to_string()), r#type: None }).collect(),
            value_info: vec![],
        }),
        ..Default::default()
    }
}

/// Encodes and imports, so every test also goes through the protobuf decoder.
fn import(m: &ModelProto) -> crate::Result<Graph> {
    super::import(&m.encode_to_vec())
}

/// A single-node model `y = op(x, ...)` on a float input of shape `dims`.
fn single(opset: i64, op: &str, dims: &[i64], extra_inputs: &[&str], attrs: Vec<AttributeProto>, inits: Vec<TensorProto>) -> ModelProto {
    let mut inputs = vec!["x"];
    inputs.extend_from_slice(extra_inputs);
    model(opset, vec![node(op, "n0", &inputs, &["y"], attrs)], vec![value("x", dims)], &["y"], inits)
}

fn ops(g: &Graph) -> Vec<Op> {
    g.nodes.iter().map(|n| n.op.clone()).collect()
}

fn const_f32(g: &Graph, t: usize) -> Vec<f32> {
    g.tensors[t].data.as_ref().expect("a constant").as_f32().expect("f32 data").to_vec()
}

fn expect_unsupported(r: crate::Result<Graph>, op: &str, node: &str, detail_has: &str) {
    match r {
        Err(ConvertError::Unsupported { format, op: o, node: n, detail }) => {
            assert_eq!((format, o.as_str(), n.as_str()), ("ONNX", op, node), "{detail}");
            assert!(detail.contains(detail_has), "detail {detail:?} lacks {detail_has:?}");
        }
        other => panic!("expected Unsupported {op} in {node}, got {other:?}"),
    }
}

// ----- decoding and error paths ------------------------------------------------------------

#[test]
fn garbage_and_truncated_bytes_are_parse_errors() {
    let good = single(13, "Relu", &[1, 4], &[], vec![], vec![]).encode_to_vec();
    assert!(super::import(&good).is_ok());
    for cut in [1, good.len() / 2, good.len() - 1] {
        let r = super::import(&good[..cut]);
        assert!(matches!(r, Err(ConvertError::Parse { format: "ONNX", .. })), "cut at {cut}: {r:?}");
    }
    for garbage in [&[0xffu8; 16][..], &[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], b"not a model at all"] {
        assert!(super::import(garbage).is_err());
    }
    // An empty buffer decodes to an empty model, which has no opset.
    assert!(matches!(super::import(&[]), Err(ConvertError::Invalid { .. })));
}

#[test]
fn length_prefixes_beyond_the_input_are_rejected_without_allocating() {
    // Field 7 (graph), length-delimited, claiming 2^62 bytes.
    let mut bytes = vec![0x3a];
    let mut len: u64 = 1 << 62;
    while len >= 0x80 {
        bytes.push((len as u8) | 0x80);
        len >>= 7;
    }
    bytes.push(len as u8);
    assert!(matches!(super::import(&bytes), Err(ConvertError::Parse { .. })));
}

#[test]
fn huge_initializer_dims_are_rejected_before_allocation() {
    let mut init = f32_tensor("w", &[1 << 31, 1 << 31, 1 << 31], &[]);
    init.raw_data = Some(vec![0; 8]);
    let m = single(13, "Add", &[2], &["w"], vec![], vec![init]);
    let msg = import(&m).unwrap_err().to_string();
    assert!(msg.contains("initializer \"w\"") && msg.contains("too many elements"), "{msg}");
}

#[test]
fn unsupported_operator_names_op_node_and_format() {
    let m = model(13, vec![node("NonMaxSuppression", "nms_1", &["x"], &["y"], vec![])], vec![value("x", &[1])], &["y"], vec![]);
    let err = import(&m).unwrap_err();
    expect_unsupported(Err(err), "NonMaxSuppression", "nms_1", "no implementation");
    let msg = import(&m).unwrap_err().to_string();
    assert!(msg.starts_with("ONNX:") && msg.contains("NonMaxSuppression") && msg.contains("nms_1"), "{msg}");

    // Unnamed nodes are named by index.
    let mut m = m;
    m.graph.as_mut().unwrap().node[0].name = None;
    expect_unsupported(import(&m), "NonMaxSuppression", "#0", "");
}

#[test]
fn unknown_attributes_and_values_are_unsupported() {
    expect_unsupported(import(&single(13, "Relu", &[2], &[], vec![attr_i("fancy", 1)], vec![])), "Relu", "n0", "`fancy`");
    let m = single(13, "Pad", &[4], &["pads"], vec![attr_s("mode", "mirror")], vec![i64_tensor("pads", &[2], &[1, 1])]);
    expect_unsupported(import(&m), "Pad", "n0", "mode \"mirror\"");
    let m = single(13, "Conv", &[1, 1, 4, 4], &["w"], vec![attr_s("auto_pad", "SOMETIMES")], vec![f32_tensor("w", &[1, 1, 1, 1], &[1.0])]);
    expect_unsupported(import(&m), "Conv", "n0", "SOMETIMES");
    // A wrongly typed attribute is an invalid model.
    let m = single(13, "Flatten", &[2, 2], &[], vec![attr_f("axis", 1.0)], vec![]);
    let msg = import(&m).unwrap_err().to_string();
    assert!(msg.contains("`axis` is FLOAT, expected INT"), "{msg}");
}

#[test]
fn other_domains_and_opsets_are_refused() {
    let mut m = single(13, "Relu", &[2], &[], vec![], vec![]);
    m.graph.as_mut().unwrap().node[0].domain = Some("com.microsoft".into());
    expect_unsupported(import(&m), "Relu", "n0", "com.microsoft");

    let msg = import(&single(5, "Relu", &[2], &[], vec![], vec![])).unwrap_err().to_string();
    assert!(msg.contains("opset 5"), "{msg}");
    let msg = import(&single(28, "Relu", &[2], &[], vec![], vec![])).unwrap_err().to_string();
    assert!(msg.contains("opset 28"), "{msg}");
    assert!(import(&single(27, "Relu", &[2], &[], vec![], vec![])).is_ok());
    let mut m = single(13, "Relu", &[2], &[], vec![], vec![]);
    m.opset_import.clear();
    assert!(import(&m).unwrap_err().to_string().contains("imports no opset"));
    // A model of another domain only is refused at its first node.
    m.graph.as_mut().unwrap().node[0].domain = Some("ai.onnx.ml".into());
    expect_unsupported(import(&m), "Relu", "n0", "ai.onnx.ml");
}

#[test]
fn dangling_and_duplicate_names_are_invalid() {
    let m = model(13, vec![node("Relu", "r", &["nowhere"], &["y"], vec![])], vec![value("x", &[1])], &["y"], vec![]);
    let msg = import(&m).unwrap_err().to_string();
    assert!(msg.contains("Relu node \"r\"") && msg.contains("\"nowhere\""), "{msg}");

    let m = model(
        13,
        vec![node("Relu", "a", &["x"], &["y"], vec![]), node("Relu", "b", &["x"], &["y"], vec![])],
        vec![value("x", &[1])],
        &["y"],
        vec![],
    );
    assert!(import(&m).unwrap_err().to_string().contains("defined twice"));

    let m = model(13, vec![node("Relu", "a", &["x"], &["y"], vec![])], vec![value("x", &[1])], &["z"], vec![]);
    assert!(import(&m).unwrap_err().to_string().contains("graph output \"z\""));
}

// ----- graph inputs, outputs, constants ------------------------------------------------------

#[test]
fn inputs_keep_declared_types_and_symbolic_dims() {
    let dims = vec![
        TensorShapeDimension { value: Some(DimensionValue::DimParam("batch".into())) },
        TensorShapeDimension { value: Some(DimensionValue::DimValue(3)) },
        TensorShapeDimension { value: None },
    ];
    let x = ValueInfoProto {
        name: Some("x".into()),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor { elem_type: Some(data_type::FLOAT), shape: Some(TensorShapeProto { dim: dims }) }),
        }),
    };
    let mut m = model(13, vec![node("Relu", "r", &["x"], &["y"], vec![])], vec![x], &["y"], vec![]);
    m.graph.as_mut().unwrap().output[0].r#type = tensor_type(data_type::FLOAT, &[None, Some(3), None]);
    let g = import(&m).unwrap();
    let input = &g.tensors[g.inputs[0]];
    assert_eq!(input.dtype, DType::F32);
    assert_eq!(input.shape, Some(vec![Dim::Sym("batch".into()), Dim::Fixed(3), Dim::Sym("?".into())]));
    let output = &g.tensors[g.outputs[0]];
    assert_eq!(output.name, "y");
    assert_eq!(output.shape, Some(vec![Dim::Sym("?".into()), Dim::Fixed(3), Dim::Sym("?".into())]));

    // A declared output type that disagrees with the graph is an error.
    m.graph.as_mut().unwrap().output[0].r#type = tensor_type(data_type::INT64, &[]);
    assert!(import(&m).unwrap_err().to_string().contains("declared i64"));
}

#[test]
fn initializers_listed_as_inputs_stay_constants() {
    // IR version 3 models list their initializers among the graph inputs.
    let m = model(
        9,
        vec![node("Add", "add", &["x", "b"], &["y"], vec![])],
        vec![value("x", &[2]), value("b", &[2])],
        &["y"],
        vec![f32_tensor("b", &[2], &[1.0, 2.0])],
    );
    let g = import(&m).unwrap();
    assert_eq!(g.inputs.len(), 1);
    assert_eq!(g.tensors[g.inputs[0]].name, "x");
    let b = g.nodes[0].input(1).unwrap();
    assert_eq!(const_f32(&g, b), vec![1.0, 2.0]);
}

#[test]
fn float16_initializers_are_dequantized() {
    let w = TensorProto {
        name: Some("w".into()),
        dims: vec![2],
        data_type: Some(data_type::FLOAT16),
        int32_data: vec![0x3c00, 0x4000], // 1.0, 2.0
        ..Default::default()
    };
    let g = import(&single(13, "Mul", &[2], &["w"], vec![], vec![w])).unwrap();
    assert_eq!(ops(&g), vec![Op::Dequantize, Op::Binary(Binary::Mul)]);
    let src = g.nodes[0].input(0).unwrap();
    assert_eq!(g.tensors[src].dtype, DType::F16);
    assert_eq!(g.tensors[src].data.as_ref().unwrap().bytes(), &[0x00, 0x3c, 0x00, 0x40]);
    assert_eq!(g.nodes[1].input(1), Some(g.nodes[0].outputs[0]));
    assert_eq!(g.tensors[g.nodes[0].outputs[0]].dtype, DType::F32);
}

#[test]
fn constant_nodes_in_every_form() {
    let forms: Vec<(AttributeProto, DType, Vec<Dim>)> = vec![
        (attr_t("value", f32_tensor("", &[2], &[1.0, 2.0])), DType::F32, vec![Dim::Fixed(2)]),
        (attr_f("value_float", 1.5), DType::F32, vec![]),
        (
            AttributeProto {
                name: Some("value_floats".into()),
                floats: vec![1.0, 2.0, 3.0],
                r#type: Some(attribute_type::FLOATS),
                ..Default::default()
            },
            DType::F32,
            vec![Dim::Fixed(3)],
        ),
        (attr_i("value_int", 7), DType::I64, vec![]),
        (attr_ints("value_ints", &[1, 2]), DType::I64, vec![Dim::Fixed(2)]),
    ];
    for (attr, dtype, shape) in forms {
        let m = model(13, vec![node("Constant", "c", &[], &["k"], vec![attr])], vec![], &["k"], vec![]);
        let g = import(&m).unwrap();
        assert!(g.nodes.is_empty());
        let k = &g.tensors[g.outputs[0]];
        assert_eq!((k.dtype, k.shape.clone()), (dtype, Some(shape)));
        assert!(k.data.is_some());
    }
    let m = model(13, vec![node("Constant", "c", &[], &["k"], vec![attr_s("value_string", "hi")])], vec![], &["k"], vec![]);
    expect_unsupported(import(&m), "Constant", "c", "value_string");
}

// ----- spatial operators and layout ----------------------------------------------------------

#[test]
fn conv_is_wrapped_in_transposes_with_ohwi_weights() {
    // W [O=1, I=2, 2, 2] holding 0..8 in (o, i, h, w) order; OHWI holds W[0, i, h, w] at
    // (0, h, w, i).
    let w = f32_tensor("w", &[1, 2, 2, 2], &[0., 1., 2., 3., 4., 5., 6., 7.]);
    let b = f32_tensor("b", &[1], &[0.5]);
    let attrs = vec![attr_ints("pads", &[0, 1, 2, 3]), attr_ints("strides", &[2, 1]), attr_ints("dilations", &[1, 2]), attr_i("group", 1)];
    let g = import(&single(11, "Conv", &[1, 2, 5, 5], &["w", "b"], attrs, vec![w, b])).unwrap();
    let ops = ops(&g);
    assert_eq!(ops.len(), 3);
    assert_eq!(ops[0], Op::Transpose { perm: vec![0, 2, 3, 1] });
    assert_eq!(ops[2], Op::Transpose { perm: vec![0, 3, 1, 2] });
    let Op::Conv2d(c) = &ops[1] else { panic!("{:?}", ops[1]) };
    assert_eq!((c.kernel, c.stride, c.dilation, c.groups), ([2, 2], [2, 1], [1, 2], 1));
    assert_eq!(c.padding, Padding::Explicit { top: 0, left: 1, bottom: 2, right: 3 });
    let conv = &g.nodes[1];
    let w = conv.input(1).unwrap();
    assert_eq!(g.tensors[w].fixed_shape(), Some(vec![1, 2, 2, 2]));
    assert_eq!(const_f32(&g, w), vec![0., 4., 1., 5., 2., 6., 3., 7.]);
    assert_eq!(const_f32(&g, conv.input(2).unwrap()), vec![0.5]);
    // The chain ends in the graph output.
    assert_eq!(g.nodes[2].outputs[0], g.outputs[0]);
    assert_eq!(g.nodes[0].input(0), Some(g.inputs[0]));
}

#[test]
fn conv_auto_pad_and_computed_weights() {
    for (auto_pad, padding) in [("SAME_UPPER", Padding::SameUpper), ("SAME_LOWER", Padding::SameLower), ("VALID", Padding::VALID)] {
        let m = model(
            13,
            vec![node("Conv", "c", &["x", "w"], &["y"], vec![attr_s("auto_pad", auto_pad)])],
            vec![value("x", &[1, 3, 8, 8]), value("w", &[4, 3, 3, 3])],
            &["y"],
            vec![],
        );
        let g = import(&m).unwrap();
        // The weight is a graph input: transposed by a node.
        let ops = ops(&g);
        assert_eq!(ops[0], Op::Transpose { perm: vec![0, 2, 3, 1] });
        assert_eq!(ops[1], Op::Transpose { perm: vec![0, 2, 3, 1] });
        let Op::Conv2d(c) = &ops[2] else { panic!("{:?}", ops[2]) };
        assert_eq!((c.padding, c.kernel), (padding, [3, 3]));
    }
    let m = single(13, "Conv", &[1, 1, 4, 4], &["w"], vec![attr_s("auto_pad", "SAME_UPPER"), attr_ints("pads", &[1, 1, 1, 1])], vec![f32_tensor("w", &[1, 1, 3, 3], &[0.0; 9])]);
    assert!(import(&m).unwrap_err().to_string().contains("together with auto_pad"));
}

#[test]
fn depthwise_and_grouped_conv_keep_groups() {
    let w = f32_tensor("w", &[8, 1, 3, 3], &[0.0; 72]);
    let g = import(&single(13, "Conv", &[1, 8, 6, 6], &["w"], vec![attr_i("group", 8)], vec![w])).unwrap();
    let Op::Conv2d(c) = &g.nodes[1].op else { panic!() };
    assert_eq!(c.groups, 8);
    assert_eq!(g.tensors[g.nodes[1].input(1).unwrap()].fixed_shape(), Some(vec![8, 3, 3, 1]));
}

#[test]
fn conv_1d_runs_as_2d_with_unit_height() {
    // W [O=2, I=1, K=3]: OHWI [2, 1, 3, 1] keeps the order.
    let w = f32_tensor("w", &[2, 1, 3], &[1., 2., 3., 4., 5., 6.]);
    let attrs = vec![attr_ints("pads", &[1, 2]), attr_ints("strides", &[2]), attr_ints("dilations", &[3])];
    let g = import(&single(13, "Conv", &[1, 1, 10], &["w"], attrs, vec![w])).unwrap();
    let ops = ops(&g);
    assert_eq!(ops[0], Op::Unsqueeze { axes: vec![2] });
    assert_eq!(ops[1], Op::Transpose { perm: vec![0, 2, 3, 1] });
    let Op::Conv2d(c) = &ops[2] else { panic!("{:?}", ops[2]) };
    assert_eq!((c.kernel, c.stride, c.dilation), ([1, 3], [1, 2], [1, 3]));
    assert_eq!(c.padding, Padding::Explicit { top: 0, left: 1, bottom: 0, right: 2 });
    assert_eq!(ops[3], Op::Transpose { perm: vec![0, 3, 1, 2] });
    assert_eq!(ops[4], Op::Squeeze { axes: vec![2] });
    let w = g.nodes[2].input(1).unwrap();
    assert_eq!(g.tensors[w].fixed_shape(), Some(vec![2, 1, 3, 1]));
    assert_eq!(const_f32(&g, w), vec![1., 2., 3., 4., 5., 6.]);
}

#[test]
fn conv_3d_is_unsupported() {
    let w = f32_tensor("w", &[1, 1, 1, 1, 1], &[1.0]);
    expect_unsupported(import(&single(13, "Conv", &[1, 1, 2, 2, 2], &["w"], vec![], vec![w])), "Conv", "n0", "3-D");
}

#[test]
fn conv_transpose_weights_and_attributes() {
    // W [C=1, O/g=2, 1, 2] holding 0..4 (c, o, h, w) -> [C, KH, KW, O/g]: (0, 0, w, o) = W[0, o, 0, w].
    let w = f32_tensor("w", &[1, 2, 1, 2], &[0., 1., 2., 3.]);
    let attrs = vec![attr_ints("strides", &[2, 3]), attr_ints("output_padding", &[1, 0]), attr_ints("output_shape", &[5, 7])];
    let g = import(&single(13, "ConvTranspose", &[1, 1, 2, 2], &["w"], attrs, vec![w])).unwrap();
    let Op::ConvTranspose2d(ConvTranspose2d { kernel, stride, output_padding, output_size, groups, .. }) = &g.nodes[1].op else {
        panic!("{:?}", g.nodes[1].op)
    };
    assert_eq!((*kernel, *stride, *output_padding, *output_size, *groups), ([1, 2], [2, 3], [1, 0], Some([5, 7]), 1));
    let w = g.nodes[1].input(1).unwrap();
    assert_eq!(g.tensors[w].fixed_shape(), Some(vec![1, 1, 2, 2]));
    assert_eq!(const_f32(&g, w), vec![0., 2., 1., 3.]);
}

#[test]
fn float16_conv_weights_are_permuted_as_f16() {
    let w = TensorProto {
        name: Some("w".into()),
        dims: vec![1, 2, 1, 1],
        data_type: Some(data_type::FLOAT16),
        int32_data: vec![0x3c00, 0x4000],
        ..Default::default()
    };
    let g = import(&single(13, "Conv", &[1, 2, 3, 3], &["w"], vec![], vec![w])).unwrap();
    let conv = g.nodes.iter().find(|n| matches!(n.op, Op::Conv2d(_))).unwrap();
    let w = conv.input(1).unwrap();
    let deq = g.nodes.iter().find(|n| n.outputs[0] == w).unwrap();
    assert_eq!(deq.op, Op::Dequantize);
    let src = &g.tensors[deq.input(0).unwrap()];
    assert_eq!((src.dtype, src.fixed_shape()), (DType::F16, Some(vec![1, 1, 1, 2])));
}

#[test]
fn pools_and_their_refusals() {
    let attrs = vec![attr_ints("kernel_shape", &[3, 3]), attr_i("ceil_mode", 1), attr_i("count_include_pad", 1), attr_ints("pads", &[1, 1, 1, 1])];
    let g = import(&single(19, "AveragePool", &[1, 1, 5, 5], &[], attrs, vec![])).unwrap();
    let Op::Pool2d(p) = &g.nodes[1].op else { panic!() };
    assert_eq!((p.kind, p.kernel, p.ceil_mode, p.count_include_pad), (PoolKind::Avg, [3, 3], true, true));
    assert_eq!(p.padding, Padding::Explicit { top: 1, left: 1, bottom: 1, right: 1 });

    let m = model(
        12,
        vec![node("MaxPool", "mp", &["x"], &["y", "idx"], vec![attr_ints("kernel_shape", &[2, 2])])],
        vec![value("x", &[1, 1, 4, 4])],
        &["y"],
        vec![],
    );
    expect_unsupported(import(&m), "MaxPool", "mp", "Indices");

    // Global pooling: the NHWC operator for 4-D, a reduction otherwise.
    let g = import(&single(13, "GlobalAveragePool", &[1, 3, 4, 4], &[], vec![], vec![])).unwrap();
    assert_eq!(ops(&g)[1], Op::GlobalPool(PoolKind::Avg));
    let g = import(&single(13, "GlobalMaxPool", &[1, 3, 4], &[], vec![], vec![])).unwrap();
    let Op::Reduce(r) = &g.nodes[0].op else { panic!() };
    assert_eq!((r.kind, r.axes.clone(), r.keep_dims), (ReduceKind::Max, vec![2], true));
}

#[test]
fn batch_norm_inference_only() {
    let p = |n: &str| f32_tensor(n, &[2], &[1.0, 1.0]);
    let inits = vec![p("s"), p("b"), p("m"), p("v")];
    let g = import(&single(15, "BatchNormalization", &[1, 2, 3, 3], &["s", "b", "m", "v"], vec![attr_f("epsilon", 1e-3)], inits.clone()))
        .unwrap();
    let Op::BatchNorm(bn) = &g.nodes[0].op else { panic!() };
    assert_eq!((bn.epsilon, bn.axis), (1e-3, 1));
    let m = single(15, "BatchNormalization", &[1, 2, 3, 3], &["s", "b", "m", "v"], vec![attr_i("training_mode", 1)], inits);
    expect_unsupported(import(&m), "BatchNormalization", "n0", "training_mode");
}

// ----- element-wise operators ---------------------------------------------------------------

#[test]
fn clip_forms() {
    let act = |g: &Graph| g.nodes[0].op.clone();
    // Opset 6: attributes.
    let g = import(&single(6, "Clip", &[4], &[], vec![attr_f("min", 0.0), attr_f("max", 6.0)], vec![])).unwrap();
    assert_eq!(act(&g), Op::Unary(Unary::Act(Activation::Relu6)));
    // Opset 11+: constant inputs, a missing max is +inf.
    let g = import(&single(13, "Clip", &[4], &["lo"], vec![], vec![f32_tensor("lo", &[], &[0.0])])).unwrap();
    assert_eq!(act(&g), Op::Unary(Unary::Act(Activation::Relu)));
    let g = import(&single(13, "Clip", &[4], &["lo", "hi"], vec![], vec![f32_tensor("lo", &[], &[-1.0]), f32_tensor("hi", &[], &[2.0])]))
        .unwrap();
    assert_eq!(act(&g), Op::Unary(Unary::Act(Activation::Clip { min: -1.0, max: 2.0 })));
    let g = import(&single(13, "Clip", &[4], &["", "hi"], vec![], vec![f32_tensor("hi", &[], &[2.0])])).unwrap();
    assert_eq!(act(&g), Op::Unary(Unary::Act(Activation::Clip { min: f32::NEG_INFINITY, max: 2.0 })));
    // Run-time bounds: max then min.
    let m = model(
        13,
        vec![node("Clip", "c", &["x", "lo", "hi"], &["y"], vec![])],
        vec![value("x", &[4]), value("lo", &[]), value("hi", &[])],
        &["y"],
        vec![],
    );
    assert_eq!(ops(&import(&m).unwrap()), vec![Op::Binary(Binary::Max), Op::Binary(Binary::Min)]);
}

#[test]
fn activations_keep_attributes() {
    let g = import(&single(13, "LeakyRelu", &[2], &[], vec![], vec![])).unwrap();
    assert_eq!(g.nodes[0].op, Op::Unary(Unary::Act(Activation::LeakyRelu { alpha: 0.01 })));
    let g = import(&single(13, "HardSigmoid", &[2], &[], vec![attr_f("alpha", 0.5)], vec![])).unwrap();
    assert_eq!(g.nodes[0].op, Op::Unary(Unary::Act(Activation::HardSigmoid { alpha: 0.5, beta: 0.5 })));
}

#[test]
fn variadic_and_comparisons() {
    let m = model(
        13,
        vec![node("Max", "m", &["a", "b", "c"], &["y"], vec![])],
        vec![value("a", &[2]), value("b", &[2]), value("c", &[2])],
        &["y"],
        vec![],
    );
    let g = import(&m).unwrap();
    assert_eq!(ops(&g), vec![Op::Binary(Binary::Max), Op::Binary(Binary::Max)]);
    assert_eq!(g.nodes[1].input(0), Some(g.nodes[0].outputs[0]));

    let m = model(13, vec![node("Less", "l", &["a", "b"], &["y"], vec![])], vec![value("a", &[2]), value("b", &[2])], &["y"], vec![]);
    let g = import(&m).unwrap();
    assert_eq!(g.tensors[g.outputs[0]].dtype, DType::Bool);
}

#[test]
fn legacy_broadcast_with_axis_appends_unit_dims() {
    // Opset 6: B [3] lines up with axis 1 of A [2, 3, 4, 5] -> B [3, 1, 1].
    let m = model(
        6,
        vec![node("Add", "add", &["a", "b"], &["y"], vec![attr_i("broadcast", 1), attr_i("axis", 1)])],
        vec![value("a", &[2, 3, 4, 5]), value("b", &[3])],
        &["y"],
        vec![],
    );
    let g = import(&m).unwrap();
    assert_eq!(ops(&g), vec![Op::Unsqueeze { axes: vec![1, 2] }, Op::Binary(Binary::Add)]);
    // From opset 7 the attributes do not exist.
    let mut m = m;
    m.opset_import[0].version = Some(7);
    expect_unsupported(import(&m), "Add", "add", "attribute");
}

// ----- shape operators across opsets --------------------------------------------------------

#[test]
fn squeeze_axes_move_from_attribute_to_input() {
    let g = import(&single(11, "Squeeze", &[1, 3, 1], &[], vec![attr_ints("axes", &[0, 2])], vec![])).unwrap();
    assert_eq!(g.nodes[0].op, Op::Squeeze { axes: vec![0, 2] });
    let g = import(&single(13, "Squeeze", &[1, 3, 1], &["axes"], vec![], vec![i64_tensor("axes", &[2], &[0, -1])])).unwrap();
    assert_eq!(g.nodes[0].op, Op::Squeeze { axes: vec![0, -1] });
    // Axes computed at run time cannot be converted.
    let m = model(
        13,
        vec![node("Unsqueeze", "u", &["x", "axes"], &["y"], vec![])],
        vec![value("x", &[3]), ValueInfoProto { name: Some("axes".into()), r#type: tensor_type(data_type::INT64, &[Some(1)]) }],
        &["y"],
        vec![],
    );
    expect_unsupported(import(&m), "Unsqueeze", "u", "must be a constant");
}

#[test]
fn reduce_axes_and_noop() {
    let g = import(&single(13, "ReduceMean", &[2, 3], &[], vec![attr_ints("axes", &[1]), attr_i("keepdims", 0)], vec![])).unwrap();
    let Op::Reduce(r) = &g.nodes[0].op else { panic!() };
    assert_eq!((r.kind, r.axes.clone(), r.keep_dims), (ReduceKind::Mean, vec![1], false));
    let g = import(&single(13, "ReduceSum", &[2, 3], &["axes"], vec![], vec![i64_tensor("axes", &[1], &[0])])).unwrap();
    let Op::Reduce(r) = &g.nodes[0].op else { panic!() };
    assert_eq!((r.kind, r.axes.clone(), r.keep_dims), (ReduceKind::Sum, vec![0], true));
    let g = import(&single(18, "ReduceMax", &[2, 3], &[], vec![attr_i("noop_with_empty_axes", 1)], vec![])).unwrap();
    assert_eq!(g.nodes[0].op, Op::Identity);
}

#[test]
fn softmax_before_opset_13_flattens() {
    let g = import(&single(11, "Softmax", &[2, 3, 4], &[], vec![], vec![])).unwrap();
    assert_eq!(
        ops(&g),
        vec![
            Op::Shape { start: 0, end: None },
            Op::Flatten { axis: 1 },
            Op::Softmax { axis: -1 },
            Op::Reshape { allow_zero: true }
        ]
    );
    // Along the last axis both semantics agree.
    let g = import(&single(11, "LogSoftmax", &[2, 3, 4], &[], vec![attr_i("axis", 2)], vec![])).unwrap();
    assert_eq!(ops(&g), vec![Op::LogSoftmax { axis: -1 }]);
    let g = import(&single(13, "Softmax", &[2, 3, 4], &[], vec![attr_i("axis", 1)], vec![])).unwrap();
    assert_eq!(ops(&g), vec![Op::Softmax { axis: 1 }]);
}

#[test]
fn pad_forms() {
    let g = import(&single(2 + 4, "Pad", &[2, 3], &[], vec![attr_ints("pads", &[0, 1, 0, 2]), attr_f("value", 1.5)], vec![])).unwrap();
    let Op::Pad(p) = &g.nodes[0].op else { panic!() };
    assert_eq!((p.pads.clone(), p.value), (vec![0, 1, 0, 2], 1.5));
    // Opset 18: `axes` selects the axes the amounts are for.
    let inits = vec![i64_tensor("pads", &[2], &[1, 3]), f32_tensor("v", &[], &[2.0]), i64_tensor("axes", &[1], &[-1])];
    let g = import(&single(18, "Pad", &[2, 3, 4], &["pads", "v", "axes"], vec![attr_s("mode", "reflect")], inits)).unwrap();
    let Op::Pad(p) = &g.nodes[0].op else { panic!() };
    assert_eq!(p.pads, vec![0, 0, 1, 0, 0, 3]);
    assert_eq!(p.value, 2.0);
}

#[test]
fn split_sizes_across_opsets() {
    let split_model = |opset: i64, inputs: &[&str], attrs: Vec<AttributeProto>, inits: Vec<TensorProto>| {
        model(opset, vec![node("Split", "s", inputs, &["a", "b"], attrs)], vec![value("x", &[5])], &["a", "b"], inits)
    };
    let g = import(&split_model(11, &["x"], vec![attr_ints("split", &[2, 3])], vec![])).unwrap();
    assert_eq!(g.nodes[0].op, Op::Split(ferrolite_runtime::ir::Split { axis: 0, sizes: Some(vec![2, 3]) }));
    let g = import(&split_model(13, &["x", "s"], vec![], vec![i64_tensor("s", &[2], &[4, 1])])).unwrap();
    assert_eq!(g.nodes[0].op, Op::Split(ferrolite_runtime::ir::Split { axis: 0, sizes: Some(vec![4, 1]) }));
    let g = import(&split_model(18, &["x"], vec![attr_i("num_outputs", 2)], vec![])).unwrap();
    assert_eq!(g.nodes[0].op, Op::Split(ferrolite_runtime::ir::Split { axis: 0, sizes: None }));
    assert_eq!(g.nodes[0].outputs.len(), 2);
    assert!(import(&split_model(13, &["x", "s"], vec![], vec![i64_tensor("s", &[3], &[1, 1, 3])])).is_err());
}

#[test]
fn slice_attributes_become_constant_inputs() {
    let attrs = vec![attr_ints("starts", &[1]), attr_ints("ends", &[3]), attr_ints("axes", &[1])];
    let g = import(&single(9, "Slice", &[2, 4], &[], attrs, vec![])).unwrap();
    let n = &g.nodes[0];
    assert_eq!(n.op, Op::Slice);
    let ints = |t: usize| g.tensors[t].data.as_ref().unwrap().as_i64().unwrap().to_vec();
    assert_eq!((ints(n.input(1).unwrap()), ints(n.input(2).unwrap()), ints(n.input(3).unwrap())), (vec![1], vec![3], vec![1]));
    assert_eq!(n.input(4), None);
}

#[test]
fn resize_and_upsample() {
    // Opset 11 requires `scales` even with `sizes`; an empty one means "not given".
    let inits = vec![f32_tensor("roi", &[0], &[]), f32_tensor("scales", &[0], &[]), i64_tensor("sizes", &[4], &[1, 1, 8, 8])];
    let attrs = vec![attr_s("coordinate_transformation_mode", "align_corners"), attr_s("mode", "linear")];
    let g = import(&single(11, "Resize", &[1, 1, 4, 4], &["roi", "scales", "sizes"], attrs, inits)).unwrap();
    let n = &g.nodes[0];
    let Op::Resize(r) = &n.op else { panic!() };
    assert_eq!((r.mode, r.coord), (ferrolite_runtime::ir::ResizeMode::Linear, ferrolite_runtime::ir::CoordTransform::AlignCorners));
    assert_eq!((n.input(1), n.input(2)), (None, None));
    assert!(n.input(3).is_some());

    let scales = AttributeProto {
        name: Some("scales".into()),
        floats: vec![1.0, 1.0, 2.0, 2.0],
        r#type: Some(attribute_type::FLOATS),
        ..Default::default()
    };
    let g = import(&single(7, "Upsample", &[1, 1, 2, 2], &[], vec![scales], vec![])).unwrap();
    let n = &g.nodes[0];
    let Op::Resize(r) = &n.op else { panic!() };
    assert_eq!((r.coord, r.nearest), (ferrolite_runtime::ir::CoordTransform::Asymmetric, ferrolite_runtime::ir::NearestMode::Floor));
    assert_eq!(const_f32(&g, n.input(2).unwrap()), vec![1.0, 1.0, 2.0, 2.0]);

    let m = single(11, "Resize", &[1, 1, 4, 4], &["", "s"], vec![attr_s("coordinate_transformation_mode", "tf_half_pixel_for_nn")], vec![f32_tensor("s", &[4], &[1., 1., 2., 2.])]);
    expect_unsupported(import(&m), "Resize", "n0", "tf_half_pixel_for_nn");
}

#[test]
fn dropout_and_cast() {
    let g = import(&single(13, "Dropout", &[2], &[], vec![attr_i("seed", 3)], vec![])).unwrap();
    assert_eq!(ops(&g), vec![Op::Identity]);
    // The mask is all ones at inference: bool since opset 10, the input's type before.
    let m = model(13, vec![node("Dropout", "d", &["x"], &["y", "mask"], vec![])], vec![value("x", &[2, 3])], &["y", "mask"], vec![]);
    let g = import(&m).unwrap();
    let fill = |dtype| Op::ConstantOfShape { dtype, value: 1.0 };
    assert_eq!(ops(&g), vec![Op::Shape { start: 0, end: None }, fill(DType::Bool), Op::Identity]);
    assert_eq!(g.tensors[g.outputs[1]].dtype, DType::Bool);
    let mask_node = g.nodes.iter().find(|n| n.outputs.contains(&g.outputs[1])).unwrap();
    let shape_node = g.nodes.iter().find(|n| n.outputs.contains(&mask_node.inputs[0].unwrap())).unwrap();
    assert_eq!(shape_node.inputs, vec![Some(g.inputs[0])]);
    let mut m = m;
    m.opset_import[0].version = Some(7);
    let g = import(&m).unwrap();
    assert_eq!(ops(&g)[1], fill(DType::F32));
    assert_eq!(g.tensors[g.outputs[1]].dtype, DType::F32);
    let t = TensorProto { dims: vec![], data_type: Some(data_type::BOOL), int32_data: vec![1], name: Some("t".into()), ..Default::default() };
    expect_unsupported(import(&single(13, "Dropout", &[2], &["", "t"], vec![], vec![t.clone()])), "Dropout", "n0", "training_mode");
    let half = f32_tensor("r", &[], &[0.5]);
    let m = single(13, "Dropout", &[2], &["r", "t"], vec![], vec![half, t.clone()]);
    expect_unsupported(import(&m), "Dropout", "n0", "training_mode");
    // Training with ratio 0 drops nothing.
    let zero = f32_tensor("r", &[], &[0.0]);
    let g = import(&single(13, "Dropout", &[2], &["r", "t"], vec![], vec![zero, t])).unwrap();
    assert_eq!(ops(&g), vec![Op::Identity]);

    let g = import(&single(13, "Cast", &[2], &[], vec![attr_i("to", data_type::INT64 as i64)], vec![])).unwrap();
    assert_eq!(ops(&g), vec![Op::Cast { to: DType::I64 }]);
    assert_eq!(g.tensors[g.outputs[0]].dtype, DType::I64);
    expect_unsupported(import(&single(13, "Cast", &[2], &[], vec![attr_i("to", data_type::DOUBLE as i64)], vec![])), "Cast", "n0", "DOUBLE");
}

#[test]
fn values_computed_from_constants_are_evaluated_at_import() {
    // pads = Concat(Cast<int64>(Constant<int32>[0, 0]), Shape(x)) = [0, 0, 1, 2] for x [1, 2].
    let k = TensorProto {
        dims: vec![2],
        data_type: Some(data_type::INT32),
        int32_data: vec![0, 0],
        ..Default::default()
    };
    let m = model(
        13,
        vec![
            node("Constant", "k", &[], &["k32"], vec![attr_t("value", k)]),
            node("Cast", "cast", &["k32"], &["k64"], vec![attr_i("to", data_type::INT64 as i64)]),
            node("Shape", "shape", &["x"], &["s"], vec![]),
            node("Concat", "concat", &["k64", "s"], &["pads"], vec![attr_i("axis", 0)]),
            node("Pad", "pad", &["x", "pads"], &["y"], vec![]),
        ],
        vec![value("x", &[1, 2])],
        &["y"],
        vec![],
    );
    let g = import(&m).unwrap();
    let pad = g.nodes.iter().find(|n| matches!(n.op, Op::Pad(_))).unwrap();
    let Op::Pad(p) = &pad.op else { unreachable!() };
    assert_eq!(p.pads, vec![0, 0, 1, 2]);
    // The evaluated nodes stay in the graph (dead now; the passes remove them).
    assert!(g.nodes.iter().any(|n| matches!(n.op, Op::Concat { .. })));

    // With a symbolic dim the shape is not known, and the amounts are not either.
    let mut m = m;
    m.graph.as_mut().unwrap().input[0].r#type = Some(TypeProto {
        tensor_type: Some(TypeProtoTensor {
            elem_type: Some(data_type::FLOAT),
            shape: Some(TensorShapeProto {
                dim: vec![
                    TensorShapeDimension { value: Some(DimensionValue::DimParam("n".into())) },
                    TensorShapeDimension { value: Some(DimensionValue::DimValue(2)) },
                ],
            }),
        }),
    });
    expect_unsupported(import(&m), "Pad", "pad", "computed at run time");
}

#[test]
fn shapes_of_reshapes_to_computed_shapes_are_evaluated_at_import() {
    // The pattern of ONNX's expanded RotaryEmbedding: x [2, 3, 32] is reshaped to
    // [0, 0, 4, -1] = [2, 3, 4, 8], where the target shape is a Concat of constants (not
    // known when the Reshape's shape is first inferred); the Split sizes are taken from the
    // reshaped value's shape: Concat(Shape(r)[3:4], Shape(r)[3:4] - Shape(r)[3:4]) = [8, 0].
    let m = model(
        18,
        vec![
            node("Concat", "new_shape", &["zero", "zero", "heads", "minus_one"], &["s"], vec![attr_i("axis", 0)]),
            node("Reshape", "reshape", &["x", "s"], &["r"], vec![]),
            node("Shape", "head_size", &["r"], &["h"], vec![attr_i("start", 3), attr_i("end", 4)]),
            node("Sub", "rest", &["h", "h"], &["rest"], vec![]),
            node("Concat", "sizes", &["h", "rest"], &["sizes"], vec![attr_i("axis", 0)]),
            node("Split", "split", &["r", "sizes"], &["y", "z"], vec![attr_i("axis", -1)]),
        ],
        vec![value("x", &[2, 3, 32])],
        &["y", "z"],
        vec![i64_tensor("zero", &[1], &[0]), i64_tensor("heads", &[1], &[4]), i64_tensor("minus_one", &[1], &[-1])],
    );
    let g = import(&m).unwrap();
    let split = g.nodes.iter().find(|n| matches!(n.op, Op::Split(_))).unwrap();
    let Op::Split(a) = &split.op else { unreachable!() };
    assert_eq!(a.sizes, Some(vec![8, 0]));

    let symbolic = |m: &mut ModelProto, dim: usize| {
        let mut dims: Vec<Option<i64>> = vec![Some(2), Some(3), Some(32)];
        dims[dim] = None;
        m.graph.as_mut().unwrap().input[0].r#type = tensor_type(data_type::FLOAT, &dims);
    };
    // A symbolic dim outside the range taken does not matter: x [n, 3, 32] reshaped to
    // [0, 0, 4, 8] is [n, 3, 4, 8] ...
    let mut m2 = m.clone();
    symbolic(&mut m2, 0);
    m2.graph.as_mut().unwrap().initializer[2] = i64_tensor("minus_one", &[1], &[8]);
    let g = import(&m2).unwrap();
    let split = g.nodes.iter().find(|n| matches!(n.op, Op::Split(_))).unwrap();
    assert!(matches!(&split.op, Op::Split(a) if a.sizes == Some(vec![8, 0])));
    // ... but one that leaves the size taken unknown does: x [2, 3, n] to [0, 0, 4, -1].
    let mut m3 = m;
    symbolic(&mut m3, 2);
    expect_unsupported(import(&m3), "Split", "split", "computed at run time");
}

#[test]
fn range_reads_opset_27s_stash_type() {
    let m = model(
        27,
        vec![node("Range", "r", &["start", "limit", "delta"], &["y"], vec![attr_i("stash_type", 1)])],
        vec![],
        &["y"],
        vec![f32_tensor("start", &[], &[1.0]), f32_tensor("limit", &[], &[4.0]), f32_tensor("delta", &[], &[1.5])],
    );
    assert_eq!(ops(&import(&m).unwrap()), vec![Op::Range]);
}

#[test]
fn supported_ops_list_matches_the_dispatch() {
    // Every listed operator reaches a converter: whatever else goes wrong with this bare
    // node, it is not refused as an unknown operator.
    for &op in super::SUPPORTED_OPS {
        let m = model(13, vec![node(op, "n", &["x"], &["y"], vec![])], vec![value("x", &[1, 1, 2, 2])], &["y"], vec![]);
        if let Err(ConvertError::Unsupported { detail, .. }) = import(&m) {
            assert!(!detail.contains("no implementation"), "{op}: {detail}");
        }
    }
    let m = model(13, vec![node("Einsum", "n", &["x"], &["y"], vec![])], vec![value("x", &[1])], &["y"], vec![]);
    expect_unsupported(import(&m), "Einsum", "n", "no implementation");
}

#[test]
fn corrupted_models_give_errors_not_panics() {
    // A model touching many paths: initializers (f32, f16, i64), a conv, pooling, a
    // resize, shape arithmetic evaluated at import, and a softmax. Every single-byte
    // corruption and every truncation must import or fail cleanly.
    let f16 = TensorProto {
        name: Some("w16".into()),
        dims: vec![2, 1, 1, 1],
        data_type: Some(data_type::FLOAT16),
        int32_data: vec![0x3c00, 0x4000],
        ..Default::default()
    };
    let m = model(
        13,
        vec![
            node("Conv", "conv", &["x", "w", "b"], &["c"], vec![attr_ints("pads", &[1, 1, 1, 1]), attr_ints("kernel_shape", &[3, 3])]),
            node("Conv", "conv16", &["c", "w16"], &["c16"], vec![attr_i("group", 2)]),
            node("MaxPool", "pool", &["c16"], &["p"], vec![attr_ints("kernel_shape", &[2, 2]), attr_ints("strides", &[2, 2])]),
            node("Shape", "shape", &["p"], &["s"], vec![]),
            node("Resize", "resize", &["p", "", "", "s"], &["r"], vec![attr_s("mode", "linear")]),
            node("Pad", "pad", &["r", "pads"], &["q"], vec![attr_s("mode", "reflect")]),
            node("Softmax", "softmax", &["q"], &["y"], vec![attr_i("axis", 1)]),
        ],
        vec![value("x", &[1, 1, 6, 6])],
        &["y"],
        vec![
            f32_tensor("w", &[2, 1, 3, 3], &[0.5; 18]),
            f32_tensor("b", &[2], &[0.0, 1.0]),
            f16,
            i64_tensor("pads", &[8], &[0, 0, 1, 1, 0, 0, 1, 1]),
        ],
    );
    let bytes = m.encode_to_vec();
    assert!(super::import(&bytes).is_ok(), "{:?}", super::import(&bytes).err());
    let mut corrupted = bytes.clone();
    for i in 0..bytes.len() {
        for v in [0x00, 0xff, 0x80, 0x7f, bytes[i] ^ 0x01, bytes[i].wrapping_add(1)] {
            corrupted[i] = v;
            let _ = super::import(&corrupted);
        }
        corrupted[i] = bytes[i];
        let _ = super::import(&bytes[..i]);
    }
}
