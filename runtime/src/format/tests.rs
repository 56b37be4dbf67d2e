//! Round trips, corruption and mutation tests of the `.flm` reader and writer.
//!
//! Hand-built files following the documented layout, and hostile files with allocation
//! accounting, are in `runtime/tests/flm_format.rs`.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;
use crate::ir::{
    Activation, AlignedBytes, AspectPolicy, BatchNorm, Binary, Conv2d, ConvTranspose2d, CoordTransform, Dim, Gemm,
    NearestMode, Op, Pad, PadMode, Padding, Pool2d, PoolKind, Reduce, ReduceKind, Resize, ResizeMode, Split, Unary,
};

/// Every operator, with non-default attributes, and the inputs/outputs it takes:
/// `(op, number of inputs (None = omitted optional input), number of outputs)`.
fn every_op() -> Vec<(Op, Vec<bool>, usize)> {
    let conv = Conv2d {
        kernel: [3, 5],
        stride: [2, 1],
        dilation: [1, 2],
        padding: Padding::Explicit { top: 1, left: 2, bottom: 3, right: 4 },
        groups: 3,
        activation: Activation::Clip { min: -1.5, max: 6.25 },
    };
    let resize = Resize {
        mode: ResizeMode::Cubic,
        coord: CoordTransform::TfCropAndResize,
        nearest: NearestMode::Ceil,
        axes: Some(vec![1, -2]),
        aspect: AspectPolicy::NotSmaller,
        extrapolation_value: -3.5,
        antialias: true,
        cubic_coeff_a: -0.5,
        exclude_outside: true,
    };
    let one = vec![true];
    vec![
        (Op::Conv2d(conv.clone()), vec![true, true, true], 1),
        (
            Op::ConvTranspose2d(ConvTranspose2d {
                kernel: [4, 4],
                stride: [2, 3],
                dilation: [1, 1],
                padding: Padding::SameLower,
                output_padding: [1, 2],
                output_size: Some([17, 19]),
                groups: 2,
                activation: Activation::LeakyRelu { alpha: 0.125 },
            }),
            vec![true, true, false],
            1,
        ),
        (
            Op::Pool2d(Pool2d {
                kind: PoolKind::Avg,
                kernel: [2, 3],
                stride: [2, 2],
                dilation: [1, 1],
                padding: Padding::SameUpper,
                ceil_mode: true,
                count_include_pad: true,
            }),
            one.clone(),
            1,
        ),
        (Op::GlobalPool(PoolKind::Max), one.clone(), 1),
        (
            Op::Gemm(Gemm {
                alpha: 0.5,
                beta: 2.0,
                trans_a: true,
                trans_b: false,
                activation: Activation::HardSigmoid { alpha: 0.2, beta: 0.5 },
            }),
            vec![true, true, true],
            1,
        ),
        (Op::MatMul, vec![true, true], 1),
        (Op::BatchNorm(BatchNorm { epsilon: 1e-3, axis: -1 }), vec![true; 5], 1),
        (Op::Unary(Unary::Act(Activation::HardSwish)), one.clone(), 1),
        (Op::Unary(Unary::Erf), one.clone(), 1),
        (Op::Binary(Binary::PRelu), vec![true, true], 1),
        (Op::Where, vec![true; 3], 1),
        (Op::Concat { axis: -3 }, vec![true; 4], 1),
        (Op::Split(Split { axis: 2, sizes: Some(vec![1, 2, 3]) }), one.clone(), 3),
        (Op::Slice, vec![true, true, true, false, true], 1),
        (Op::Reshape { allow_zero: true }, vec![true, true], 1),
        (Op::Flatten { axis: 2 }, one.clone(), 1),
        (Op::Squeeze { axes: vec![0, -1] }, one.clone(), 1),
        (Op::Unsqueeze { axes: vec![3] }, one.clone(), 1),
        (Op::Transpose { perm: vec![0, 3, 1, 2] }, one.clone(), 1),
        (Op::Pad(Pad { mode: PadMode::Wrap, pads: vec![0, 1, -2, 3], value: 7.5 }), one.clone(), 1),
        (Op::Resize(resize), vec![true, false, false, true], 1),
        (Op::Softmax { axis: 1 }, one.clone(), 1),
        (Op::LogSoftmax { axis: -1 }, one.clone(), 1),
        (Op::Reduce(Reduce { kind: ReduceKind::Prod, axes: vec![1, 2], keep_dims: true }), one.clone(), 1),
        (Op::Gather { axis: -2 }, vec![true, true], 1),
        (Op::Cast { to: DType::I32 }, one.clone(), 1),
        (Op::Identity, one.clone(), 1),
        (Op::Shape { start: -3, end: Some(-1) }, one.clone(), 1),
        (Op::Range, vec![true; 3], 1),
        (Op::Expand, vec![true, true], 1),
        (Op::ConstantOfShape { dtype: DType::I64, value: -2.5 }, one.clone(), 1),
        (Op::Dequantize, one, 1),
    ]
}

/// Index of the operator's variant; exhaustive, so a new operator fails to compile until it
/// is added to [`every_op`] and to this match.
fn variant_index(op: &Op) -> usize {
    match op {
        Op::Conv2d(_) => 0,
        Op::ConvTranspose2d(_) => 1,
        Op::Pool2d(_) => 2,
        Op::GlobalPool(_) => 3,
        Op::Gemm(_) => 4,
        Op::MatMul => 5,
        Op::BatchNorm(_) => 6,
        Op::Unary(_) => 7,
        Op::Binary(_) => 8,
        Op::Where => 9,
        Op::Concat { .. } => 10,
        Op::Split(_) => 11,
        Op::Slice => 12,
        Op::Reshape { .. } => 13,
        Op::Flatten { .. } => 14,
        Op::Squeeze { .. } => 15,
        Op::Unsqueeze { .. } => 16,
        Op::Transpose { .. } => 17,
        Op::Pad(_) => 18,
        Op::Resize(_) => 19,
        Op::Softmax { .. } => 20,
        Op::LogSoftmax { .. } => 21,
        Op::Reduce(_) => 22,
        Op::Gather { .. } => 23,
        Op::Cast { .. } => 24,
        Op::Identity => 25,
        Op::Shape { .. } => 26,
        Op::Range => 27,
        Op::Expand => 28,
        Op::ConstantOfShape { .. } => 29,
        Op::Dequantize => 30,
    }
}

#[test]
fn every_op_covers_every_variant() {
    let mut seen = [false; 31];
    for (op, _, _) in every_op() {
        seen[variant_index(&op)] = true;
    }
    assert!(seen.iter().all(|&s| s), "missing variants: {seen:?}");
}

#[test]
fn op_tags_are_the_documented_ones() {
    // docs/flm-format.md lists the tags in the order of `variant_index`.
    for (op, _, _) in every_op() {
        let encoded = postcard::to_stdvec(&records::OpRecord::from(&op)).unwrap();
        assert_eq!(encoded[0] as usize, variant_index(&op), "{op:?}");
    }
}

/// A structurally valid graph using every operator, constants of every dtype (including an
/// empty one and two tensors sharing one buffer), symbolic and unknown shapes, and omitted
/// optional inputs. Nodes read the graph input `x`, a shared constant, or the previous
/// node's output.
fn sample_graph() -> Graph {
    let mut g = Graph::default();
    let x = g.add_tensor(TensorInfo {
        name: "x".into(),
        dtype: DType::F32,
        shape: Some(vec![Dim::Sym("batch".into()), Dim::Fixed(8), Dim::Fixed(8), Dim::Fixed(3)]),
        data: None,
    });
    let w: Vec<f32> = (0..3 * 3 * 5).map(|i| i as f32 * 0.25 - 3.0).collect();
    let wt = g.add_const_f32("conv.w", &[3, 3, 5, 1], &w);
    let shared = ConstData::from_i64(&[1, -2, 3, 4]);
    let s1 = g.add_const("shape_a", DType::I64, &[4], shared.clone());
    let s2 = g.add_const("shape_b", DType::I64, &[2, 2], shared);
    let h = g.add_const("half", DType::F16, &[3], ConstData::from_bytes(&[0x00, 0x3c, 0x00, 0xc0, 0x00, 0x7c]));
    let b = g.add_const("mask", DType::Bool, &[2, 1], ConstData::from_bytes(&[1, 0]));
    let u = g.add_const("bytes", DType::U8, &[5], ConstData::from_bytes(&[1, 2, 3, 4, 255]));
    let i8c = g.add_const("i8", DType::I8, &[1], ConstData::from_bytes(&[0x80]));
    let i32c = g.add_const("i32", DType::I32, &[2], ConstData::from_i32(&[i32::MIN, 7]));
    let empty = g.add_const_f32("empty", &[0, 4], &[]);
    let scalar = g.add_const_f32("scalar", &[], &[42.0]);
    let consts = [wt, s1, s2, h, b, u, i8c, i32c, empty, scalar];
    g.inputs = vec![x];

    let mut prev = x;
    for (k, (op, inputs, n_out)) in every_op().into_iter().enumerate() {
        let ins = inputs
            .iter()
            .enumerate()
            .map(|(i, &present)| present.then(|| if i == 0 { prev } else { consts[(k + i) % consts.len()] }))
            .collect();
        let outs: Vec<TensorId> = (0..n_out).map(|o| g.add_value(format!("n{k}.out{o}"), DType::F32)).collect();
        g.add_node(format!("node{k}"), op, ins, outs.clone());
        prev = outs[0];
    }
    g.outputs = vec![prev, scalar];
    g.validate().unwrap();
    g
}

fn meta() -> Metadata {
    Metadata { producer: "ferrolite test".into(), source: "unit ✓".into() }
}

fn store_of(bytes: &[u8]) -> Arc<dyn ByteStore> {
    Arc::new(AlignedBytes::from_slice(bytes))
}

fn load(bytes: &[u8]) -> Result<FlmFile> {
    read(store_of(bytes))
}

/// Asserts two graphs are equal: structure, names, shapes, attributes and constant bytes.
fn assert_same_graph(a: &Graph, b: &Graph) {
    assert_eq!(a.tensors.len(), b.tensors.len(), "tensor count");
    for (i, (x, y)) in a.tensors.iter().zip(&b.tensors).enumerate() {
        assert_eq!(x.name, y.name, "tensor {i} name");
        assert_eq!(x.dtype, y.dtype, "tensor {i} dtype");
        assert_eq!(x.shape, y.shape, "tensor {i} shape");
        assert_eq!(x.data.as_ref().map(|d| d.bytes()), y.data.as_ref().map(|d| d.bytes()), "tensor {i} data");
    }
    assert_eq!(a.nodes.len(), b.nodes.len(), "node count");
    for (i, (x, y)) in a.nodes.iter().zip(&b.nodes).enumerate() {
        assert_eq!(x.name, y.name, "node {i} name");
        // By debug text: attributes may hold NaN (mutated files), which `==` never equals.
        assert_eq!(format!("{:?}", x.op), format!("{:?}", y.op), "node {i} op");
        assert_eq!(x.inputs, y.inputs, "node {i} inputs");
        assert_eq!(x.outputs, y.outputs, "node {i} outputs");
    }
    assert_eq!(a.inputs, b.inputs);
    assert_eq!(a.outputs, b.outputs);
}

/// Section table entries `(kind, offset, len)` read by hand from the documented layout.
fn sections_of(bytes: &[u8]) -> Vec<(u32, usize, usize)> {
    let count = u32::from_le_bytes(bytes[16..20].try_into().unwrap()) as usize;
    (0..count)
        .map(|i| {
            let e = &bytes[24 + 24 * i..48 + 24 * i];
            (
                u32::from_le_bytes(e[0..4].try_into().unwrap()),
                u64::from_le_bytes(e[8..16].try_into().unwrap()) as usize,
                u64::from_le_bytes(e[16..24].try_into().unwrap()) as usize,
            )
        })
        .collect()
}

/// Recomputes the header checksum as documented (header bytes before it, then every
/// non-WEIGHTS section in table order). Tolerates garbage: returns false if the table
/// cannot be followed.
fn reseal(bytes: &mut [u8]) -> bool {
    let Some(count) = bytes.get(16..20).map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize) else {
        return false;
    };
    if count > 64 {
        return false;
    }
    let crc_at = 24 + 24 * count;
    if bytes.len() < crc_at + 4 {
        return false;
    }
    let mut h = crc32fast::Hasher::new();
    h.update(&bytes[..crc_at]);
    for (kind, off, len) in sections_of(bytes) {
        if kind != SECTION_WEIGHTS {
            match off.checked_add(len).and_then(|end| bytes.get(off..end)) {
                Some(s) => h.update(s),
                None => return false,
            }
        }
    }
    let crc = h.finalize();
    bytes[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
    true
}

#[test]
fn round_trip_preserves_everything() {
    let g = sample_graph();
    let bytes = to_bytes(&g, &meta()).unwrap();
    let file = load(&bytes).unwrap();
    assert_same_graph(&g, &file.graph);
    assert_eq!(file.metadata, meta());
    assert_eq!(file.format_version, FORMAT_VERSION);
    verify_weights(&file.graph, &file.weights).unwrap();
    // Writing what was read gives the same bytes (the encoding is canonical).
    assert_eq!(to_bytes(&file.graph, &file.metadata).unwrap(), bytes);
}

#[test]
fn write_streams_the_same_bytes_and_write_file_is_readable_by_open() {
    let g = sample_graph();
    let bytes = to_bytes(&g, &meta()).unwrap();
    let mut streamed = Vec::new();
    let n = write(&g, &meta(), &mut streamed).unwrap();
    assert_eq!(n as usize, streamed.len());
    assert_eq!(streamed, bytes);

    let dir = std::env::temp_dir().join(format!("flm-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sample.flm");
    write_file(&g, &meta(), &path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let mapped = open(&path).unwrap();
    assert_same_graph(&g, &mapped.graph);
    verify_weights(&mapped.graph, &mapped.weights).unwrap();
    for w in &mapped.weights {
        assert_eq!(w.data.bytes().as_ptr() as usize % WEIGHT_ALIGN, 0, "mapped weights are 64-aligned");
    }
    drop(mapped);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn header_follows_the_documented_layout() {
    let g = sample_graph();
    let bytes = to_bytes(&g, &meta()).unwrap();
    assert_eq!(&bytes[0..8], b"FERROLM\0");
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 1);
    assert_eq!(u32::from_le_bytes(bytes[12..16].try_into().unwrap()), 0);
    let sections = sections_of(&bytes);
    let kinds: Vec<u32> = sections.iter().map(|s| s.0).collect();
    assert_eq!(kinds, [1, 3, 2]);
    // GRAPH right after the 24 + 3 * 24 + 4 = 100-byte header, METADATA right after it,
    // WEIGHTS at the next multiple of 64, ending the file.
    assert_eq!(sections[0].1, 100);
    assert_eq!(sections[1].1, 100 + sections[0].2);
    let meta_end = sections[1].1 + sections[1].2;
    assert_eq!(sections[2].1, meta_end.div_ceil(64) * 64);
    assert_eq!(sections[2].1 + sections[2].2, bytes.len());
    let mut copy = bytes.clone();
    assert!(reseal(&mut copy));
    assert_eq!(copy, bytes, "checksum as documented");
}

#[test]
fn weights_are_aligned_windows_of_the_store() {
    let g = sample_graph();
    let bytes = to_bytes(&g, &meta()).unwrap();
    let store = store_of(&bytes);
    let base = store.bytes().as_ptr() as usize;
    let end = base + store.bytes().len();
    let file = read(store.clone()).unwrap();
    let n_consts = g.tensors.iter().filter(|t| t.is_const()).count();
    assert_eq!(file.weights.len(), n_consts);
    let weights_start = sections_of(&bytes).iter().find(|s| s.0 == SECTION_WEIGHTS).unwrap().1;
    for t in &file.graph.tensors {
        let Some(d) = &t.data else { continue };
        let p = d.bytes().as_ptr() as usize;
        assert!(p >= base + weights_start && p + d.len() <= end, "{} lies in the WEIGHTS section of the store", t.name);
        assert_eq!((p - base) % WEIGHT_ALIGN, 0, "{} is 64-aligned in the file", t.name);
        assert_eq!(p % WEIGHT_ALIGN, 0, "{} is 64-aligned in memory", t.name);
    }
    // The two tensors sharing one buffer share one window.
    let by_name = |n: &str| file.graph.tensors.iter().find(|t| t.name == n).unwrap().data.clone().unwrap();
    assert_eq!(by_name("shape_a").bytes().as_ptr(), by_name("shape_b").bytes().as_ptr());
    // f32 weights can be viewed in place.
    assert_eq!(by_name("conv.w").as_f32().unwrap()[1], -2.75);
}

#[test]
fn a_graph_without_constants_round_trips() {
    let mut g = Graph::default();
    let x = g.add_value("x", DType::F32);
    let y = g.add_value("y", DType::F32);
    g.add_node("", Op::Unary(Unary::Exp), vec![Some(x)], vec![y]);
    g.inputs = vec![x];
    g.outputs = vec![y];
    let bytes = to_bytes(&g, &Metadata::default()).unwrap();
    let file = load(&bytes).unwrap();
    assert_same_graph(&g, &file.graph);
    assert!(file.weights.is_empty());
    // The empty graph too.
    let file = load(&to_bytes(&Graph::default(), &Metadata::default()).unwrap()).unwrap();
    assert!(file.graph.tensors.is_empty() && file.graph.nodes.is_empty());
}

#[test]
fn writer_refuses_an_invalid_graph() {
    let mut g = sample_graph();
    g.nodes.swap(0, 1);
    assert!(matches!(to_bytes(&g, &meta()), Err(Error::Graph(_))));
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = to_bytes(&sample_graph(), &meta()).unwrap();
    for cut in 0..bytes.len() {
        match load(&bytes[..cut]) {
            Err(Error::Format { offset, .. }) => assert!(offset as usize <= cut, "cut {cut}: offset {offset}"),
            other => panic!("truncated to {cut} bytes: {other:?}"),
        }
    }
    // Section boundaries explicitly, with the message a user sees.
    for (_, off, len) in sections_of(&bytes) {
        for cut in [off, off + len / 2, off + len - 1] {
            let msg = load(&bytes[..cut]).unwrap_err().to_string();
            assert!(msg.contains("truncated"), "cut {cut}: {msg}");
        }
    }
}

#[test]
fn every_bit_flip_in_header_graph_and_metadata_is_an_error() {
    let bytes = to_bytes(&sample_graph(), &meta()).unwrap();
    let sections = sections_of(&bytes);
    let meta_end = sections[1].1 + sections[1].2;
    for i in 0..meta_end {
        for bit in 0..8 {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            assert!(load(&b).is_err(), "flip of bit {bit} of byte {i} went unnoticed");
        }
    }
    // A flipped graph byte is reported as a checksum mismatch at the checksum field.
    let mut b = bytes.clone();
    b[sections[0].1 + 3] ^= 0x10;
    match load(&b) {
        Err(Error::Format { offset, what }) => {
            assert_eq!(offset, 96);
            assert!(what.contains("checksum mismatch"), "{what}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bit_flips_in_weights_load_but_fail_verification_naming_the_constant() {
    let g = sample_graph();
    let bytes = to_bytes(&g, &meta()).unwrap();
    let clean = load(&bytes).unwrap();
    for w in &clean.weights {
        if w.data.is_empty() {
            continue;
        }
        let name = &g.tensors[w.tensor].name;
        for pos in [0, w.data.len() / 2, w.data.len() - 1] {
            let mut b = bytes.clone();
            b[w.offset as usize + pos] ^= 0x04;
            let file = load(&b).expect("weights are not read at load");
            match verify_weights(&file.graph, &file.weights) {
                Err(Error::Format { offset, what }) => {
                    assert_eq!(offset, w.offset);
                    assert!(what.contains(&format!("tensor #{} \"{name}\"", w.tensor)), "{what}");
                    assert!(what.starts_with("weights of 1 constant(s)") || name.starts_with("shape_"), "{what}");
                }
                other => panic!("flip in {name} not detected: {other:?}"),
            }
        }
    }
    // Padding between constants is not part of any constant.
    let weights_start = sections_of(&bytes)[2].1;
    let first = clean
        .weights
        .iter()
        .find(|w| w.data.len() % 64 != 0 && (w.offset as usize + w.data.len()) < bytes.len())
        .unwrap();
    let pad = first.offset as usize + first.data.len();
    assert!(pad >= weights_start);
    let mut b = bytes.clone();
    b[pad] ^= 1;
    load(&b).unwrap().verify_weights().unwrap();
}

#[test]
fn several_corrupted_constants_are_all_named() {
    let g = sample_graph();
    let bytes = to_bytes(&g, &meta()).unwrap();
    let clean = load(&bytes).unwrap();
    let mut b = bytes.clone();
    let mut offsets: Vec<u64> = clean.weights.iter().filter(|w| !w.data.is_empty()).map(|w| w.offset).collect();
    offsets.dedup(); // shape_a and shape_b share one window
    for off in offsets {
        b[off as usize] ^= 0x80;
    }
    let msg = load(&b).unwrap().verify_weights().unwrap_err().to_string();
    assert!(msg.contains("weights of 9 constant(s) are corrupted"), "{msg}");
    // The first eight are named, in tensor order, then the rest counted.
    for name in ["conv.w", "shape_a", "shape_b", "half", "mask", "bytes", "i8", "i32"] {
        assert!(msg.contains(&format!("\"{name}\"")), "{name} missing from: {msg}");
    }
    assert!(msg.contains("and 1 more"), "{msg}");
}

#[test]
fn newer_and_invalid_versions_are_refused_with_a_clear_message() {
    let bytes = to_bytes(&sample_graph(), &meta()).unwrap();
    let mut b = bytes.clone();
    b[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert!(reseal(&mut b));
    let msg = load(&b).unwrap_err().to_string();
    assert!(msg.contains("format version 2 is newer than this Ferrolite reads (up to 1)"), "{msg}");
    assert!(msg.contains("upgrade Ferrolite"), "{msg}");
    assert!(msg.contains("at byte 8"), "{msg}");
    b[8..12].copy_from_slice(&0u32.to_le_bytes());
    assert!(reseal(&mut b));
    assert!(load(&b).unwrap_err().to_string().contains("format version 0"));
}

#[test]
fn not_a_flm_file() {
    for junk in [&b""[..], b"FERR", b"\x7fELF\x02\x01\x01\0\0\0\0\0", b"FERROLX\0\x01\0\0\0"] {
        let msg = load(junk).unwrap_err().to_string();
        assert!(msg.contains("not a .flm file") || msg.contains("truncated"), "{msg}");
    }
}

#[test]
fn resealed_structural_corruption_is_reported_at_the_record() {
    // A node input pointing past the tensors, with a valid checksum: the error points at
    // that node's record and names the node.
    let mut g = sample_graph();
    let bogus = g.tensors.len() + 5;
    g.nodes[3].inputs[0] = Some(bogus);
    let plan = plan_weights(&g);
    let graph_bytes = encode_graph(&g, &plan.refs).unwrap();
    let good = to_bytes(&sample_graph(), &meta()).unwrap();
    let good_graph = encode_graph(&sample_graph(), &plan_weights(&sample_graph()).refs).unwrap();
    assert_eq!(graph_bytes.len(), good_graph.len(), "same varint width for the bogus id");
    let mut b = good.clone();
    b[100..100 + graph_bytes.len()].copy_from_slice(&graph_bytes);
    assert!(reseal(&mut b));
    let file_err = load(&b).unwrap_err().to_string();
    assert!(file_err.contains("GlobalMaxPool node #3 \"node3\": input 0 is tensor #"), "{file_err}");
    // The reported offset is the node record's: after all tensor records, so beyond the
    // first record, and within the GRAPH section.
    let Err(Error::Format { offset, .. }) = load(&b) else { unreachable!() };
    assert!(offset > 100 && (offset as usize) < 100 + graph_bytes.len(), "{offset}");
}

/// Applies one random mutation; sometimes reseals the checksum so the mutation reaches
/// the decoder and the validator instead of stopping at the checksum.
fn mutate(rng: &mut StdRng, bytes: &mut Vec<u8>) {
    let n = bytes.len().max(1);
    match rng.random_range(0..7) {
        0 => {
            let i = rng.random_range(0..n).min(bytes.len().saturating_sub(1));
            if let Some(b) = bytes.get_mut(i) {
                *b ^= 1 << rng.random_range(0..8);
            }
        }
        1 => {
            let i = rng.random_range(0..n);
            if let Some(b) = bytes.get_mut(i) {
                *b = *[0u8, 1, 0x7f, 0x80, 0xff].get(rng.random_range(0..5)).unwrap();
            }
        }
        2 => bytes.truncate(rng.random_range(0..n)),
        3 => {
            let i = rng.random_range(0..=bytes.len());
            let len = rng.random_range(1..16);
            let fill: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            bytes.splice(i..i, fill);
        }
        4 => {
            let i = rng.random_range(0..n).min(bytes.len());
            let end = (i + rng.random_range(1..16)).min(bytes.len());
            bytes.drain(i..end);
        }
        5 => {
            // A large varint-ish value written over a random spot.
            let i = rng.random_range(0..n);
            for (k, v) in [0xffu8, 0xff, 0xff, 0xff, 0x0f].into_iter().enumerate() {
                if let Some(b) = bytes.get_mut(i + k) {
                    *b = v;
                }
            }
        }
        _ => {
            // A huge u64 over a section table field.
            let i = 24 + rng.random_range(0..3) * 24 + [8usize, 16][rng.random_range(0..2)];
            if let Some(s) = bytes.get_mut(i..i + 8) {
                s.copy_from_slice(&(u64::MAX - rng.random_range(0..1000)).to_le_bytes());
            }
        }
    }
}

/// Runs the fuzz target's entry point over random mutations of a valid file: no input may
/// panic; whatever loads must validate, verify or report corruption, and round-trip.
#[test]
fn mutated_files_never_panic() {
    let seed_file = to_bytes(&sample_graph(), &meta()).unwrap();
    let mut rng = StdRng::seed_from_u64(0xF1_5EED);
    let (mut loaded, mut deep) = (0, 0);
    for _ in 0..3000 {
        let mut b = seed_file.clone();
        for _ in 0..rng.random_range(1..4) {
            mutate(&mut rng, &mut b);
        }
        if rng.random_bool(0.7) {
            reseal(&mut b);
        }
        match load(&b) {
            Ok(file) => {
                loaded += 1;
                file.graph.validate().unwrap();
                let _ = verify_weights(&file.graph, &file.weights);
                let again = to_bytes(&file.graph, &file.metadata).unwrap();
                assert_same_graph(&file.graph, &load(&again).unwrap().graph);
            }
            Err(Error::Format { what, .. }) => {
                if !what.contains("checksum") {
                    deep += 1;
                }
            }
            Err(e) => panic!("unexpected error kind: {e}"),
        }
    }
    // The mutations reach past the checksum and sometimes produce loadable files.
    assert!(deep > 1000, "only {deep} mutations got past the checksum");
    assert!(loaded > 10, "only {loaded} mutated files loaded");
}
