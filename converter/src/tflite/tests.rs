//! Unit tests of the TFLite importer on models built here with planus' builders: the
//! mapping of single operators, and the error paths (malformed, corrupted, hostile and
//! unsupported models). Numerical agreement with LiteRT is tested in
//! `converter/tests/tflite_models.rs`.

use ferrolite_runtime::ir::{Activation, DType, Dim, Op, Padding};

use super::fb;
use super::*;
use crate::ConvertError;

/// A small model under construction.
#[derive(Default, Clone)]
struct ModelBuilder {
    tensors: Vec<fb::Tensor>,
    buffers: Vec<fb::Buffer>,
    codes: Vec<fb::OperatorCode>,
    ops: Vec<fb::Operator>,
    inputs: Vec<i32>,
    outputs: Vec<i32>,
}

impl ModelBuilder {
    fn new() -> Self {
        // Buffer 0 is the empty sentinel.
        ModelBuilder { buffers: vec![fb::Buffer::default()], ..Default::default() }
    }

    fn tensor(&mut self, name: &str, shape: &[i32], ty: fb::TensorType, data: Option<Vec<u8>>) -> i32 {
        let buffer = match data {
            Some(d) => {
                self.buffers.push(fb::Buffer { data: Some(d), ..Default::default() });
                (self.buffers.len() - 1) as u32
            }
            None => 0,
        };
        self.tensors.push(fb::Tensor {
            shape: Some(shape.to_vec()),
            type_: ty,
            buffer,
            name: Some(name.into()),
            ..Default::default()
        });
        (self.tensors.len() - 1) as i32
    }

    fn value(&mut self, name: &str, shape: &[i32]) -> i32 {
        self.tensor(name, shape, fb::TensorType::Float32, None)
    }

    fn weights(&mut self, name: &str, shape: &[i32], values: &[f32]) -> i32 {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensor(name, shape, fb::TensorType::Float32, Some(bytes))
    }

    fn input(&mut self, name: &str, shape: &[i32]) -> i32 {
        let t = self.value(name, shape);
        self.inputs.push(t);
        t
    }

    fn code(&mut self, code: fb::BuiltinOperator, custom: Option<&str>) -> u32 {
        self.codes.push(fb::OperatorCode {
            deprecated_builtin_code: (code as i32).min(127) as i8,
            custom_code: custom.map(str::to_string),
            version: 1,
            builtin_code: code,
        });
        (self.codes.len() - 1) as u32
    }

    fn op(&mut self, code: fb::BuiltinOperator, inputs: &[i32], outputs: &[i32], options: Option<fb::BuiltinOptions>) {
        let opcode_index = self.code(code, None);
        self.ops.push(fb::Operator {
            opcode_index,
            inputs: Some(inputs.to_vec()),
            outputs: Some(outputs.to_vec()),
            builtin_options: options,
            ..Default::default()
        });
    }

    fn custom_op(&mut self, custom: &str, inputs: &[i32], outputs: &[i32], options: Vec<u8>) {
        let opcode_index = self.code(fb::BuiltinOperator::Custom, Some(custom));
        self.ops.push(fb::Operator {
            opcode_index,
            inputs: Some(inputs.to_vec()),
            outputs: Some(outputs.to_vec()),
            custom_options: Some(options),
            ..Default::default()
        });
    }

    fn finish(self) -> Vec<u8> {
        let model = fb::Model {
            version: 3,
            operator_codes: Some(self.codes),
            subgraphs: Some(vec![fb::SubGraph {
                tensors: Some(self.tensors),
                inputs: Some(self.inputs),
                outputs: Some(self.outputs),
                operators: Some(self.ops),
                name: Some("main".into()),
            }]),
            description: Some("ferrolite test".into()),
            buffers: Some(self.buffers),
            ..Default::default()
        };
        let mut builder = planus::Builder::new();
        let mut bytes = builder.finish(&model, Some(*b"TFL3")).to_vec();
        // planus 1.3 writes the identifier at byte 0 and the root offset after it, relative
        // to byte 4. Flatbuffers put the root offset first and the identifier at byte 4.
        if bytes[0..4] == *b"TFL3" {
            let root = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) + 4;
            bytes[0..4].copy_from_slice(&root.to_le_bytes());
            bytes[4..8].copy_from_slice(b"TFL3");
        }
        bytes
    }
}

fn conv_options(act: fb::ActivationFunctionType) -> fb::BuiltinOptions {
    fb::BuiltinOptions::Conv2DOptions(Box::new(fb::Conv2DOptions {
        padding: fb::Padding::Same,
        stride_w: 1,
        stride_h: 2,
        fused_activation_function: act,
        dilation_w_factor: 1,
        dilation_h_factor: 1,
        ..Default::default()
    }))
}

/// input [1, 5, 4, 2] -> CONV_2D (3 filters of 3x3, bias, RELU) -> output.
fn conv_model() -> Vec<u8> {
    let mut m = ModelBuilder::new();
    let x = m.input("image", &[1, 5, 4, 2]);
    let w = m.weights("filter", &[3, 3, 3, 2], &(0..54).map(|v| v as f32 * 0.1).collect::<Vec<_>>());
    let b = m.weights("bias", &[3], &[0.5, -0.5, 1.0]);
    let y = m.value("conv_out", &[1, 3, 4, 3]);
    m.op(fb::BuiltinOperator::Conv2d, &[x, w, b], &[y], Some(conv_options(fb::ActivationFunctionType::Relu)));
    m.outputs.push(y);
    m.finish()
}

fn unsupported(err: ConvertError) -> (String, String, String) {
    match err {
        ConvertError::Unsupported { format, op, node, detail } => {
            assert_eq!(format, "TFLite");
            (op, node, detail)
        }
        other => panic!("expected an unsupported-operator error, got {other:?}"),
    }
}

#[test]
fn conv_maps_to_nhwc_conv2d_with_fused_activation() {
    let g = import(&conv_model()).unwrap();
    assert_eq!(g.inputs.len(), 1);
    assert_eq!(g.outputs.len(), 1);
    let input = &g.tensors[g.inputs[0]];
    assert_eq!(input.name, "image");
    assert_eq!(input.dtype, DType::F32);
    assert_eq!(input.shape, Some(vec![Dim::Fixed(1), Dim::Fixed(5), Dim::Fixed(4), Dim::Fixed(2)]));
    assert_eq!(g.nodes.len(), 1);
    let node = &g.nodes[0];
    assert_eq!(node.name, "conv_out");
    let Op::Conv2d(c) = &node.op else { panic!("{:?}", node.op) };
    assert_eq!(c.kernel, [3, 3]);
    assert_eq!(c.stride, [2, 1]);
    assert_eq!(c.padding, Padding::SameUpper);
    assert_eq!(c.groups, 1);
    assert_eq!(c.activation, Activation::Relu);
    // The OHWI filter is used as is.
    let w = &g.tensors[node.input(1).unwrap()];
    assert_eq!(w.fixed_shape(), Some(vec![3, 3, 3, 2]));
    assert_eq!(w.data.as_ref().unwrap().as_f32().unwrap()[5], 0.5);
    assert!(node.input(2).is_some());
    assert_eq!(node.outputs, vec![g.outputs[0]]);
}

#[test]
fn depthwise_filter_is_permuted_to_grouped_ohwi() {
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[1, 4, 4, 2]);
    // [1, KH=2, KW=2, C*M=4]: value = 100*h + 10*w + o.
    let mut vals = Vec::new();
    for h in 0..2 {
        for w in 0..2 {
            for o in 0..4 {
                vals.push((100 * h + 10 * w + o) as f32);
            }
        }
    }
    let f = m.weights("dw", &[1, 2, 2, 4], &vals);
    let y = m.value("y", &[1, 3, 3, 4]);
    let opts = fb::BuiltinOptions::DepthwiseConv2DOptions(Box::new(fb::DepthwiseConv2DOptions {
        padding: fb::Padding::Valid,
        stride_w: 1,
        stride_h: 1,
        depth_multiplier: 2,
        fused_activation_function: fb::ActivationFunctionType::Relu6,
        dilation_w_factor: 1,
        dilation_h_factor: 1,
    }));
    m.op(fb::BuiltinOperator::DepthwiseConv2d, &[x, f, -1], &[y], Some(opts));
    m.outputs.push(y);
    let g = import(&m.finish()).unwrap();
    let node = &g.nodes[0];
    let Op::Conv2d(c) = &node.op else { panic!() };
    assert_eq!((c.groups, c.padding, c.activation), (2, Padding::VALID, Activation::Relu6));
    assert_eq!(node.input(2), None);
    let w = &g.tensors[node.input(1).unwrap()];
    assert_eq!(w.fixed_shape(), Some(vec![4, 2, 2, 1]));
    let got = w.data.as_ref().unwrap().as_f32().unwrap();
    for o in 0..4 {
        for h in 0..2 {
            for w in 0..2 {
                assert_eq!(got[(o * 2 + h) * 2 + w], (100 * h + 10 * w + o) as f32);
            }
        }
    }
}

#[test]
fn fp16_weights_go_through_dequantize_then_transpose() {
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[1, 4, 4, 3]);
    let half: Vec<u8> = (0..9).flat_map(|v| half::f16::from_f32(v as f32).to_le_bytes()).collect();
    let w16 = m.tensor("dw_f16", &[1, 1, 3, 3], fb::TensorType::Float16, Some(half));
    let w32 = m.value("dw_f32", &[1, 1, 3, 3]);
    m.op(fb::BuiltinOperator::Dequantize, &[w16], &[w32], None);
    let y = m.value("y", &[1, 4, 2, 3]);
    let opts = fb::BuiltinOptions::DepthwiseConv2DOptions(Box::new(fb::DepthwiseConv2DOptions {
        padding: fb::Padding::Valid,
        stride_w: 1,
        stride_h: 1,
        depth_multiplier: 1,
        dilation_w_factor: 1,
        dilation_h_factor: 1,
        ..Default::default()
    }));
    m.op(fb::BuiltinOperator::DepthwiseConv2d, &[x, w32, -1], &[y], Some(opts));
    m.outputs.push(y);
    let g = import(&m.finish()).unwrap();
    let kinds: Vec<String> = g.nodes.iter().map(|n| n.op.name()).collect();
    assert_eq!(kinds, ["Dequantize", "Transpose", "Conv2d"]);
    let deq = &g.nodes[0];
    assert_eq!(g.tensors[deq.input(0).unwrap()].dtype, DType::F16);
    assert_eq!(g.nodes[1].op, Op::Transpose { perm: vec![3, 1, 2, 0] });
}

#[test]
fn fully_connected_flattens_and_keeps_dims() {
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[2, 3, 4]);
    let w = m.weights("w", &[5, 4], &[0.0; 20]);
    let y = m.value("y", &[2, 3, 5]);
    let opts = fb::BuiltinOptions::FullyConnectedOptions(Box::new(fb::FullyConnectedOptions {
        fused_activation_function: fb::ActivationFunctionType::Tanh,
        keep_num_dims: true,
        ..Default::default()
    }));
    m.op(fb::BuiltinOperator::FullyConnected, &[x, w, -1], &[y], Some(opts));
    m.outputs.push(y);
    let g = import(&m.finish()).unwrap();
    let kinds: Vec<String> = g.nodes.iter().map(|n| n.op.name()).collect();
    assert_eq!(kinds, ["Reshape", "Gemm", "Reshape"]);
    let Op::Gemm(gemm) = &g.nodes[1].op else { panic!() };
    assert!(gemm.trans_b && !gemm.trans_a);
    assert_eq!(gemm.activation, Activation::Tanh);
    let flat = &g.tensors[g.nodes[0].input(1).unwrap()];
    assert_eq!(flat.data.as_ref().unwrap().as_i64().unwrap(), &[-1, 4]);
    let out_shape = &g.tensors[g.nodes[2].input(1).unwrap()];
    assert_eq!(out_shape.data.as_ref().unwrap().as_i64().unwrap(), &[2, 3, 5]);
}

#[test]
fn activation_after_an_op_without_one_is_a_unary_node() {
    let mut m = ModelBuilder::new();
    let a = m.input("a", &[1, 4]);
    let b = m.input("b", &[1, 4]);
    let y = m.value("sum", &[1, 4]);
    let opts = fb::BuiltinOptions::AddOptions(Box::new(fb::AddOptions {
        fused_activation_function: fb::ActivationFunctionType::ReluN1To1,
        pot_scale_int16: true,
    }));
    m.op(fb::BuiltinOperator::Add, &[a, b], &[y], Some(opts));
    m.outputs.push(y);
    let g = import(&m.finish()).unwrap();
    assert_eq!(g.nodes.len(), 2);
    assert_eq!(g.nodes[1].op, Op::Unary(ferrolite_runtime::ir::Unary::Act(Activation::Clip { min: -1.0, max: 1.0 })));
    assert_eq!(g.nodes[1].outputs, vec![g.outputs[0]]);
    assert_eq!(g.nodes[0].outputs, g.nodes[1].inputs.iter().flatten().copied().collect::<Vec<_>>());
}

#[test]
fn unsupported_builtin_names_operator_and_node() {
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[4]);
    let y = m.value("cumulative", &[4]);
    m.op(fb::BuiltinOperator::Cumsum, &[x], &[y], None);
    m.outputs.push(y);
    let (op, node, detail) = unsupported(import(&m.finish()).unwrap_err());
    assert_eq!(op, "CUMSUM");
    assert_eq!(node, "cumulative");
    assert!(!detail.is_empty());
}

#[test]
fn unknown_custom_op_names_its_code() {
    let mut m = ModelBuilder::new();
    let x = m.input("boxes", &[1, 4]);
    let y = m.value("detections", &[1, 4]);
    m.custom_op("TFLite_Detection_PostProcess", &[x], &[y], vec![]);
    m.outputs.push(y);
    let err = import(&m.finish()).unwrap_err();
    let message = err.to_string();
    let (op, node, detail) = unsupported(err);
    assert_eq!(op, "TFLite_Detection_PostProcess");
    assert_eq!(node, "detections");
    assert!(detail.contains("custom"), "{detail}");
    assert!(message.contains("TFLite") && message.contains("TFLite_Detection_PostProcess"), "{message}");
}

#[test]
fn quantized_tensors_are_rejected_with_the_tensor_name() {
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[1, 2, 2, 1]);
    let w = m.tensor("qfilter", &[1, 1, 1, 1], fb::TensorType::Int8, Some(vec![3]));
    m.tensors[w as usize].quantization = Some(Box::new(fb::QuantizationParameters {
        scale: Some(vec![0.1]),
        zero_point: Some(vec![0]),
        ..Default::default()
    }));
    let y = m.value("y", &[1, 2, 2, 1]);
    m.op(fb::BuiltinOperator::Conv2d, &[x, w, -1], &[y], Some(conv_options(fb::ActivationFunctionType::None)));
    m.outputs.push(y);
    let (op, node, detail) = unsupported(import(&m.finish()).unwrap_err());
    assert_eq!((op.as_str(), node.as_str()), ("CONV_2D", "y"));
    assert!(detail.contains("qfilter") && detail.contains("quantized"), "{detail}");
}

#[test]
fn sign_bit_activation_is_unsupported() {
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[1, 2, 2, 2]);
    let w = m.weights("w", &[1, 1, 1, 2], &[1.0, 2.0]);
    let y = m.value("y", &[1, 2, 2, 1]);
    m.op(fb::BuiltinOperator::Conv2d, &[x, w], &[y], Some(conv_options(fb::ActivationFunctionType::SignBit)));
    m.outputs.push(y);
    let (op, _, detail) = unsupported(import(&m.finish()).unwrap_err());
    assert_eq!(op, "CONV_2D");
    assert!(detail.contains("SIGN_BIT"));
}

#[test]
fn mediapipe_transpose_conv_bias() {
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[1, 5, 4, 3]);
    let w = m.weights("w", &[2, 4, 4, 3], &(0..96).map(|v| v as f32).collect::<Vec<_>>());
    let b = m.weights("b", &[2], &[1.0, 2.0]);
    let y = m.value("up", &[1, 9, 8, 2]);
    // SAME, stride_w 2, stride_h 2.
    m.custom_op("Convolution2DTransposeBias", &[x, w, b], &[y], vec![1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0]);
    m.outputs.push(y);
    let g = import(&m.finish()).unwrap();
    let node = &g.nodes[0];
    let Op::ConvTranspose2d(c) = &node.op else { panic!("{:?}", node.op) };
    assert_eq!(c.stride, [2, 2]);
    // H: n 5, k 4 -> total 3 -> 1 at the top, 2 at the bottom (9 rows); W: n 4 -> 1 and 1.
    assert_eq!(c.padding, Padding::Explicit { top: 1, left: 1, bottom: 2, right: 1 });
    let wt = &g.tensors[node.input(1).unwrap()];
    assert_eq!(wt.fixed_shape(), Some(vec![3, 4, 4, 2]));
    // [O, KH, KW, I] -> [I, KH, KW, O]: element (i=1, h=2, w=3, o=1) was (o=1, h=2, w=3, i=1).
    let got = wt.data.as_ref().unwrap().as_f32().unwrap();
    assert_eq!(got[((4 + 2) * 4 + 3) * 2 + 1], (((4 + 2) * 4 + 3) * 3 + 1) as f32);

    // A truncated options blob is an error, not a guess.
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[1, 5, 4, 3]);
    let w = m.weights("w", &[2, 4, 4, 3], &[0.0; 96]);
    let b = m.weights("b", &[2], &[1.0, 2.0]);
    let y = m.value("up", &[1, 9, 8, 2]);
    m.custom_op("Convolution2DTransposeBias", &[x, w, b], &[y], vec![1, 0, 0, 0, 2, 0]);
    m.outputs.push(y);
    assert!(matches!(import(&m.finish()), Err(ConvertError::Invalid { .. })));
}

#[test]
fn dynamic_dims_become_symbols() {
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[1, 3]);
    m.tensors[x as usize].shape_signature = Some(vec![-1, 3]);
    let y = m.value("y", &[1, 3]);
    m.tensors[y as usize].shape_signature = Some(vec![-1, 3]);
    m.op(fb::BuiltinOperator::Relu, &[x], &[y], None);
    m.outputs.push(y);
    let g = import(&m.finish()).unwrap();
    let shape = g.tensors[g.inputs[0]].shape.clone().unwrap();
    assert!(matches!(shape[0], Dim::Sym(_)));
    assert_eq!(shape[1], Dim::Fixed(3));
}

#[test]
fn buffers_past_the_flatbuffer_are_read_by_offset() {
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[2]);
    let k = m.tensor("k", &[2], fb::TensorType::Float32, None);
    // A placeholder offset (> 1, so that the field is written) until the length is known.
    m.buffers.push(fb::Buffer { data: None, offset: 2, size: 8 });
    m.tensors[k as usize].buffer = (m.buffers.len() - 1) as u32;
    let y = m.value("y", &[2]);
    m.op(fb::BuiltinOperator::Add, &[x, k], &[y], None);
    m.outputs.push(y);
    let base = m.clone().finish().len() as u64;
    let last = m.buffers.len() - 1;
    m.buffers[last].offset = base;
    let mut bytes = m.finish();
    assert_eq!(bytes.len() as u64, base);
    bytes.extend_from_slice(&1.5f32.to_le_bytes());
    bytes.extend_from_slice(&(-2.0f32).to_le_bytes());
    let g = import(&bytes).unwrap();
    let k = &g.tensors[g.nodes[0].input(1).unwrap()];
    assert_eq!(k.data.as_ref().unwrap().as_f32().unwrap(), &[1.5, -2.0]);

    // The same offset on the file without the appended data is out of bounds.
    bytes.truncate(base as usize);
    assert!(matches!(import(&bytes), Err(ConvertError::Invalid { .. })), "{:?}", import(&bytes));
}

#[test]
fn hostile_shapes_do_not_allocate() {
    // A constant claiming [2^30, 2^30] elements with 4 bytes of data.
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[1]);
    let k = m.tensor("huge", &[1 << 30, 1 << 30], fb::TensorType::Float32, Some(vec![0; 4]));
    let y = m.value("y", &[1]);
    m.op(fb::BuiltinOperator::Add, &[x, k], &[y], None);
    m.outputs.push(y);
    let err = import(&m.finish()).unwrap_err();
    assert!(matches!(err, ConvertError::Invalid { .. }), "{err:?}");
    assert!(err.to_string().contains("huge"));
}

#[test]
fn bad_indices_and_order_are_invalid() {
    // An operator input index past the tensor list.
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[1]);
    let y = m.value("y", &[1]);
    m.op(fb::BuiltinOperator::Relu, &[x + 7], &[y], None);
    m.outputs.push(y);
    assert!(matches!(import(&m.finish()), Err(ConvertError::Invalid { .. })));

    // A tensor read before it is written.
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[1]);
    let a = m.value("a", &[1]);
    let b = m.value("b", &[1]);
    m.op(fb::BuiltinOperator::Relu, &[a], &[b], None);
    m.op(fb::BuiltinOperator::Relu, &[x], &[a], None);
    m.outputs.push(b);
    let err = import(&m.finish()).unwrap_err();
    assert!(err.to_string().contains("read before"), "{err}");

    // An opcode index past the operator codes.
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[1]);
    let y = m.value("y", &[1]);
    m.op(fb::BuiltinOperator::Relu, &[x], &[y], None);
    m.ops[0].opcode_index = 9;
    m.outputs.push(y);
    assert!(matches!(import(&m.finish()), Err(ConvertError::Invalid { .. })));
}

#[test]
fn not_a_tflite_file() {
    assert!(matches!(import(b""), Err(ConvertError::Parse { .. })));
    assert!(matches!(import(b"\x08\0\0\0ONNX\0\0\0\0"), Err(ConvertError::Parse { .. })));
    let mut bytes = conv_model();
    bytes[4..8].copy_from_slice(b"XXXX");
    assert!(matches!(import(&bytes), Err(ConvertError::Parse { .. })));
}

#[test]
fn truncated_files_are_errors() {
    let bytes = conv_model();
    for len in 0..bytes.len() {
        // Whatever the cut, an error and no panic; the flatbuffer is laid out back to front,
        // so any prefix loses the tables the root points at.
        assert!(import(&bytes[..len]).is_err(), "a {len}-byte prefix of {} imported", bytes.len());
    }
    assert!(import(&bytes).is_ok());
}

#[test]
fn corrupted_bytes_never_panic() {
    let bytes = conv_model();
    let mut errors = 0;
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x10, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= mask;
            if import(&b).is_err() {
                errors += 1;
            }
        }
    }
    // Most flips land in offsets, lengths or shapes and must be caught.
    assert!(errors > bytes.len(), "only {errors} of {} corruptions were rejected", bytes.len() * 4);
}

#[test]
fn garbage_never_panics() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..2000 {
        let len = 8 + (next() % 600) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        b[4..8].copy_from_slice(b"TFL3");
        // Small root offsets make the parser walk into the random bytes.
        let root = (next() % len as u64) as u32;
        b[0..4].copy_from_slice(&root.to_le_bytes());
        let _ = import(&b);
    }
}

#[test]
fn builtin_names_come_from_the_schema() {
    assert_eq!(builtin_name(3), "CONV_2D");
    assert_eq!(builtin_name(117), "HARD_SWISH");
    assert_eq!(builtin_name(205), "REDUCE_WINDOW");
    assert_eq!(builtin_name(100_000), "builtin operator 100000");
}

#[test]
fn permute_bytes_moves_elements() {
    // [2, 3] -> transpose -> [3, 2]
    let v: Vec<u8> = (0u8..6).collect();
    assert_eq!(permute_bytes(&v, &[2, 3], &[1, 0], 1).unwrap(), vec![0, 3, 1, 4, 2, 5]);
    assert!(permute_bytes(&v, &[2, 3], &[0, 0], 1).is_none());
    assert!(permute_bytes(&v, &[2, 4], &[1, 0], 1).is_none());
}

#[test]
fn an_input_passed_through_gets_its_own_output_tensor() {
    let mut m = ModelBuilder::new();
    let x = m.input("x", &[2]);
    let y = m.value("y", &[2]);
    m.op(fb::BuiltinOperator::Relu, &[x], &[y], None);
    m.outputs.extend([x, y, y]);
    let g = import(&m.finish()).unwrap();
    assert_eq!(g.outputs.len(), 3);
    let mut seen = std::collections::HashSet::new();
    for &o in &g.outputs {
        assert!(!g.inputs.contains(&o));
        assert!(seen.insert(o), "output tensor {o} listed twice");
        assert!(g.nodes.iter().any(|n| n.outputs.contains(&o)));
    }
}
