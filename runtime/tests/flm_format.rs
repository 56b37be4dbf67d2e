//! `.flm` files built by hand from the layout documented in `docs/flm-format.md` (not with
//! the writer): the reader must accept the documented encoding, and refuse hostile files —
//! with a valid checksum but huge counts, lengths and offsets — without allocating much.
//!
//! This test binary counts allocations made on the reading thread to check the last part.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use ferrolite_runtime::Error;
use ferrolite_runtime::format::{self, FlmFile};
use ferrolite_runtime::ir::data::ByteStore;
use ferrolite_runtime::ir::{Activation, AlignedBytes, Binary, Conv2d, DType, Dim, Op, Padding};

// ---------------------------------------------------------------------------------------
// Allocation accounting

struct CountingAlloc;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    static TOTAL: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: allocations during thread teardown must not panic.
    let _ = TRACKING.try_with(|t| {
        if t.get() {
            let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
            let _ = TOTAL.try_with(|s| s.set(s.get() + size));
        }
    });
}

// SAFETY: every method forwards to the system allocator with the caller's arguments
// unchanged, so the `GlobalAlloc` contract is the system allocator's; the bookkeeping only
// touches const-initialized thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (all allocations go there).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: `ptr` was allocated by `System` with `layout`; the caller upholds the rest.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Reads `bytes` (copied into an aligned store first, outside the measurement) and returns
/// the result with the largest single allocation and the total allocated while reading.
fn read_measured(bytes: &[u8]) -> (Result<FlmFile, Error>, usize, usize) {
    let store: Arc<dyn ByteStore> = Arc::new(AlignedBytes::from_slice(bytes));
    LARGEST.with(|l| l.set(0));
    TOTAL.with(|t| t.set(0));
    TRACKING.with(|t| t.set(true));
    let result = format::read(store);
    TRACKING.with(|t| t.set(false));
    (result, LARGEST.with(Cell::get), TOTAL.with(Cell::get))
}

// ---------------------------------------------------------------------------------------
// A hand encoder for the documented layout

/// Unsigned LEB128 varint (postcard's encoding of u16..u64 and lengths).
fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Zigzag varint (postcard's encoding of i16..i64).
fn zigzag(out: &mut Vec<u8>, v: i64) {
    varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn string(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// `(kind, bytes)` sections, laid out in order after the header; WEIGHTS-kind sections are
/// placed at the next multiple of 64. `patch` may edit the header (before the checksum is
/// computed) to forge entries.
fn build_file(sections: &[(u32, &[u8])], patch: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let header_len = 24 + 24 * sections.len() + 4;
    let mut placed = Vec::new();
    let mut pos = header_len;
    for (kind, bytes) in sections {
        if *kind == format::SECTION_WEIGHTS {
            pos = pos.div_ceil(64) * 64;
        }
        placed.push((*kind, pos, bytes.len()));
        pos += bytes.len();
    }
    let mut file = Vec::new();
    file.extend_from_slice(b"FERROLM\0");
    file.extend_from_slice(&1u32.to_le_bytes());
    file.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    file.extend_from_slice(&0u32.to_le_bytes());
    for (kind, off, len) in &placed {
        file.extend_from_slice(&kind.to_le_bytes());
        file.extend_from_slice(&0u32.to_le_bytes());
        file.extend_from_slice(&(*off as u64).to_le_bytes());
        file.extend_from_slice(&(*len as u64).to_le_bytes());
    }
    patch(&mut file);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&file);
    for (kind, bytes) in sections {
        if *kind != format::SECTION_WEIGHTS {
            crc.update(bytes);
        }
    }
    file.extend_from_slice(&crc.finalize().to_le_bytes());
    for ((_, off, _), (_, bytes)) in placed.iter().zip(sections) {
        file.resize(*off, 0);
        file.extend_from_slice(bytes);
    }
    file
}

/// The pieces of a small valid graph, as a list of encoded fields so tests can replace one:
///
/// ```text
/// tensor 0 "x"  f32 [n, 4]
/// tensor 1 "w"  f32 [1, 1, 1, 4] constant at WEIGHTS+0 (16 bytes)
/// tensor 2 "b"  f32 [4]          constant at WEIGHTS+64 (16 bytes)
/// tensor 3 "c"  f32 (no shape)
/// tensor 4 "y"  f32 (no shape)
/// node 0 "add"  Binary(Add)(x, b) -> c
/// node 1 "conv" Conv2d(c, w, -)   -> y   (3x3 kernel... see below)
/// inputs [0], outputs [4]
/// ```
struct Parts {
    tensor_count: Vec<u8>,
    tensors: Vec<Vec<u8>>,
    node_count: Vec<u8>,
    nodes: Vec<Vec<u8>>,
    inputs: Vec<u8>,
    outputs: Vec<u8>,
    weights: Vec<u8>,
}

const W: [f32; 4] = [1.0, -2.0, 0.5, 4.0];
const B: [f32; 4] = [0.25, 0.0, -1.0, 8.0];

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A tensor record: name, dtype tag, optional shape (dims: 0 = Fixed(u64), 1 = Sym(String)),
/// optional weights (offset, len, crc32).
fn tensor(name: &str, dtype: u64, shape: Option<&[Result<u64, &str>]>, weights: Option<(u64, u64, u32)>) -> Vec<u8> {
    let mut t = Vec::new();
    string(&mut t, name);
    varint(&mut t, dtype);
    match shape {
        None => t.push(0),
        Some(dims) => {
            t.push(1);
            varint(&mut t, dims.len() as u64);
            for d in dims {
                match d {
                    Ok(n) => {
                        t.push(0);
                        varint(&mut t, *n);
                    }
                    Err(s) => {
                        t.push(1);
                        string(&mut t, s);
                    }
                }
            }
        }
    }
    match weights {
        None => t.push(0),
        Some((off, len, crc)) => {
            t.push(1);
            varint(&mut t, off);
            varint(&mut t, len);
            varint(&mut t, crc as u64);
        }
    }
    t
}

fn node(name: &str, op: &[u8], inputs: &[Option<u64>], outputs: &[u64]) -> Vec<u8> {
    let mut n = Vec::new();
    string(&mut n, name);
    n.extend_from_slice(op);
    varint(&mut n, inputs.len() as u64);
    for i in inputs {
        match i {
            None => n.push(0),
            Some(t) => {
                n.push(1);
                varint(&mut n, *t);
            }
        }
    }
    varint(&mut n, outputs.len() as u64);
    for o in outputs {
        varint(&mut n, *o);
    }
    n
}

/// Op tag 0 (Conv2d): kernel [1, 1], stride [1, 2], dilation [1, 1], padding Explicit
/// (tag 0) {0, 1, 2, 3}, groups 1, activation Clip (tag 3) {-1.5, 6.0}.
fn conv_op() -> Vec<u8> {
    let mut op = vec![0];
    for v in [1, 1, 1, 2, 1, 1] {
        varint(&mut op, v);
    }
    op.push(0);
    for v in [0, 1, 2, 3] {
        varint(&mut op, v);
    }
    varint(&mut op, 1);
    op.push(3);
    op.extend_from_slice(&(-1.5f32).to_le_bytes());
    op.extend_from_slice(&6.0f32.to_le_bytes());
    op
}

fn parts() -> Parts {
    let w = f32_bytes(&W);
    let b = f32_bytes(&B);
    let mut weights = w.clone();
    weights.resize(64, 0);
    weights.extend_from_slice(&b);
    let f32_tag = 0;
    let count = |n| {
        let mut v = Vec::new();
        varint(&mut v, n);
        v
    };
    let ids = |list: &[u64]| {
        let mut v = Vec::new();
        varint(&mut v, list.len() as u64);
        for &t in list {
            varint(&mut v, t);
        }
        v
    };
    Parts {
        tensor_count: count(5),
        tensors: vec![
            tensor("x", f32_tag, Some(&[Err("n"), Ok(4)]), None),
            tensor("w", f32_tag, Some(&[Ok(1), Ok(1), Ok(1), Ok(4)]), Some((0, 16, crc32fast::hash(&w)))),
            tensor("b", f32_tag, Some(&[Ok(4)]), Some((64, 16, crc32fast::hash(&b)))),
            tensor("c", f32_tag, None, None),
            tensor("y", f32_tag, None, None),
        ],
        node_count: count(2),
        // Op tag 8 = Binary, Binary tag 0 = Add.
        nodes: vec![
            node("add", &[8, 0], &[Some(0), Some(2)], &[3]),
            node("conv", &conv_op(), &[Some(3), Some(1), None], &[4]),
        ],
        inputs: ids(&[0]),
        outputs: ids(&[4]),
        weights,
    }
}

impl Parts {
    fn graph(&self) -> Vec<u8> {
        let mut g = self.tensor_count.clone();
        self.tensors.iter().for_each(|t| g.extend_from_slice(t));
        g.extend_from_slice(&self.node_count);
        self.nodes.iter().for_each(|n| g.extend_from_slice(n));
        g.extend_from_slice(&self.inputs);
        g.extend_from_slice(&self.outputs);
        g
    }

    fn file(&self) -> Vec<u8> {
        let mut meta = Vec::new();
        string(&mut meta, "hand");
        string(&mut meta, "spec");
        build_file(
            &[
                (format::SECTION_GRAPH, &self.graph()),
                (format::SECTION_METADATA, &meta),
                (format::SECTION_WEIGHTS, &self.weights),
            ],
            |_| {},
        )
    }
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn reads_a_hand_built_file_as_documented() {
    let (file, largest, total) = read_measured(&parts().file());
    let file = file.unwrap();
    // The accounting sees the reader's allocations (the graph's vectors and strings).
    assert!(largest > 0 && total >= largest, "allocation accounting is not active");
    let g = &file.graph;
    assert_eq!(file.metadata.producer, "hand");
    assert_eq!(file.metadata.source, "spec");
    let names: Vec<&str> = g.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["x", "w", "b", "c", "y"]);
    assert!(g.tensors.iter().all(|t| t.dtype == DType::F32));
    assert_eq!(g.tensors[0].shape, Some(vec![Dim::Sym("n".into()), Dim::Fixed(4)]));
    assert_eq!(g.tensors[1].fixed_shape(), Some(vec![1, 1, 1, 4]));
    assert_eq!(g.tensors[1].data.as_ref().unwrap().as_f32().unwrap(), W);
    assert_eq!(g.tensors[2].data.as_ref().unwrap().as_f32().unwrap(), B);
    assert_eq!(g.tensors[3].shape, None);
    assert_eq!(g.nodes[0].op, Op::Binary(Binary::Add));
    assert_eq!(g.nodes[0].inputs, [Some(0), Some(2)]);
    assert_eq!(
        g.nodes[1].op,
        Op::Conv2d(Conv2d {
            kernel: [1, 1],
            stride: [1, 2],
            dilation: [1, 1],
            padding: Padding::Explicit { top: 0, left: 1, bottom: 2, right: 3 },
            groups: 1,
            activation: Activation::Clip { min: -1.5, max: 6.0 },
        })
    );
    assert_eq!(g.nodes[1].inputs, [Some(3), Some(1), None]);
    assert_eq!((g.inputs.as_slice(), g.outputs.as_slice()), (&[0][..], &[4][..]));
    file.verify_weights().unwrap();
}

#[test]
fn zigzag_fields_decode_as_documented() {
    // Op tag 20 = Softmax { axis: i64 }, axis -1 as zigzag varint 1.
    let mut p = parts();
    let mut op = vec![20];
    zigzag(&mut op, -1);
    assert_eq!(op, [20, 1]);
    p.nodes[0] = node("softmax", &op, &[Some(0)], &[3]);
    let file = read_measured(&p.file()).0.unwrap();
    assert_eq!(file.graph.nodes[0].op, Op::Softmax { axis: -1 });
}

#[test]
fn an_optional_unknown_section_is_skipped_and_a_required_one_refused() {
    let p = parts();
    let graph = p.graph();
    let extra = b"future data".to_vec();
    let optional = format::SECTION_OPTIONAL_BIT | 7;
    let ok = build_file(
        &[(format::SECTION_GRAPH, &graph), (optional, &extra), (format::SECTION_WEIGHTS, &p.weights)],
        |_| {},
    );
    assert_eq!(read_measured(&ok).0.unwrap().graph.tensors.len(), 5);
    let bad =
        build_file(&[(format::SECTION_GRAPH, &graph), (7, &extra), (format::SECTION_WEIGHTS, &p.weights)], |_| {});
    let msg = read_measured(&bad).0.unwrap_err().to_string();
    assert!(msg.contains("unknown required section kind 7"), "{msg}");
}

/// Asserts that `bytes` is refused with a format error containing `expect`, allocating
/// little while finding out.
#[track_caller]
fn refused(bytes: &[u8], expect: &str) {
    let (result, largest, total) = read_measured(bytes);
    match result {
        Err(Error::Format { offset, what }) => {
            assert!(what.contains(expect), "expected {expect:?} in: {what}");
            assert!(offset as usize <= bytes.len(), "offset {offset} beyond the file");
        }
        Err(other) => panic!("expected a format error about {expect:?}, got {other}"),
        Ok(_) => panic!("hostile file accepted (expected {expect:?})"),
    }
    assert!(largest <= 16 << 10, "largest allocation {largest} bytes for a {}-byte file", bytes.len());
    assert!(total <= 64 << 10, "allocated {total} bytes in total for a {}-byte file", bytes.len());
}

#[test]
fn huge_counts_are_refused_before_allocating() {
    for n in [u64::MAX, 1 << 40, 1 << 20, 1000] {
        let mut p = parts();
        p.tensor_count.clear();
        varint(&mut p.tensor_count, n);
        refused(&p.file(), "tensor count");
        let mut p = parts();
        p.node_count.clear();
        varint(&mut p.node_count, n);
        refused(&p.file(), "node count");
    }
    // One more record than there is: the decoder runs off the end of the section.
    let mut p = parts();
    p.tensor_count = vec![6];
    refused(&p.file(), "malformed");
}

#[test]
fn huge_lengths_inside_records_are_refused() {
    // Name length 2^60.
    let mut p = parts();
    let mut t = Vec::new();
    varint(&mut t, 1 << 60);
    t.extend_from_slice(&p.tensors[3][2..]);
    p.tensors[3] = t;
    refused(&p.file(), "tensor record #3 is malformed");

    // Shape with 2^50 dimensions.
    let mut p = parts();
    let mut t = Vec::new();
    string(&mut t, "c");
    t.push(0);
    t.push(1);
    varint(&mut t, 1 << 50);
    t.push(0);
    p.tensors[3] = t;
    refused(&p.file(), "tensor record #3 is malformed");

    // A node with 2^62 inputs, then with 2^40 outputs.
    let mut p = parts();
    let mut n = Vec::new();
    string(&mut n, "add");
    n.extend_from_slice(&[8, 0]);
    varint(&mut n, 1 << 62);
    p.nodes[0] = n.clone();
    refused(&p.file(), "node record #0 is malformed");
    let mut p = parts();
    n.truncate(6);
    varint(&mut n, 0);
    varint(&mut n, 1 << 40);
    p.nodes[0] = n;
    refused(&p.file(), "node record #0 is malformed");

    // Graph input list of 2^33 entries; Split sizes list of 2^45 entries.
    let mut p = parts();
    p.inputs.clear();
    varint(&mut p.inputs, 1 << 33);
    refused(&p.file(), "graph input list is malformed");
    let mut p = parts();
    let mut op = vec![11];
    zigzag(&mut op, 0);
    op.push(1);
    varint(&mut op, 1 << 45);
    p.nodes[0] = node("split", &op, &[Some(0)], &[3]);
    refused(&p.file(), "node record #0 is malformed");
}

#[test]
fn bad_weight_windows_are_refused() {
    let cases: [((u64, u64, u32), &str); 6] = [
        ((u64::MAX - 63, 16, 0), "outside the WEIGHTS section"),
        ((1 << 40, 16, 0), "outside the WEIGHTS section"),
        ((64, 16 + 64, 0), "does not match its shape"),
        ((0, u64::MAX, 0), "does not match its shape"),
        ((8, 16, 0), "not 64-byte aligned"),
        ((128, 16, 0), "outside the WEIGHTS section"),
    ];
    for (w, expect) in cases {
        let mut p = parts();
        p.tensors[2] = tensor("b", 0, Some(&[Ok(4)]), Some(w));
        refused(&p.file(), expect);
    }
    // Shapes whose element or byte count overflows.
    for dims in [&[Ok(1 << 32), Ok(1 << 32)][..], &[Ok(u64::MAX)], &[Ok(1 << 62), Ok(2)]] {
        let mut p = parts();
        p.tensors[2] = tensor("b", 0, Some(dims), Some((64, 16, 0)));
        refused(&p.file(), "overflows");
    }
    // A constant with a symbolic or missing shape.
    let mut p = parts();
    p.tensors[2] = tensor("b", 0, Some(&[Err("n")]), Some((64, 16, 0)));
    refused(&p.file(), "symbolic dimension");
    let mut p = parts();
    p.tensors[2] = tensor("b", 0, None, Some((64, 16, 0)));
    refused(&p.file(), "without a shape");
    // Constants in a file without a WEIGHTS section.
    let p = parts();
    let no_weights = build_file(&[(format::SECTION_GRAPH, &p.graph())], |_| {});
    refused(&no_weights, "outside the WEIGHTS section (0 bytes)");
}

#[test]
fn bad_indices_and_tags_are_refused() {
    let mut p = parts();
    p.nodes[0] = node("add", &[8, 0], &[Some(0), Some(u64::MAX)], &[3]);
    refused(&p.file(), "input 1 is tensor #18446744073709551615, which does not exist");
    let mut p = parts();
    p.outputs = vec![1, 99];
    refused(&p.file(), "graph output 0: tensor #99 does not exist");
    let mut p = parts();
    p.nodes[0] = node("add", &[8, 0], &[Some(0), Some(2)], &[1]);
    refused(&p.file(), "writes constant tensor #1 \"w\"");
    // Unknown op tag, unknown Binary tag, unknown dtype tag.
    for (op, tensor_dtype) in [(vec![200, 1, 0], 0), (vec![8, 77], 0), (vec![8, 0], 42)] {
        let mut p = parts();
        p.nodes[0] = node("add", &op, &[Some(0), Some(2)], &[3]);
        p.tensors[3] = tensor("c", tensor_dtype, None, None);
        refused(&p.file(), "unknown operator or enum tag");
    }
    // A string that is not UTF-8.
    let mut p = parts();
    p.tensors[3] = tensor("c", 0, None, None);
    p.tensors[3][1] = 0xff;
    refused(&p.file(), "tensor record #3 is malformed");
    // Bytes after the last record.
    let mut p = parts();
    p.outputs.push(0);
    refused(&p.file(), "1 unexpected bytes after the graph records");
}

#[test]
fn bad_section_tables_are_refused() {
    let p = parts();
    let graph = p.graph();
    let sections: [(u32, &[u8]); 2] = [(format::SECTION_GRAPH, &graph), (format::SECTION_WEIGHTS, &p.weights)];
    // Entry i's offset field is at 24 + 24 i + 8, its length at 24 + 24 i + 16.
    let set = |at: usize, v: u64| move |h: &mut Vec<u8>| h[at..at + 8].copy_from_slice(&v.to_le_bytes());
    refused(&build_file(&sections, set(32, u64::MAX)), "extends past the end of the file");
    refused(&build_file(&sections, set(40, u64::MAX)), "extends past the end of the file");
    refused(&build_file(&sections, set(40, u64::MAX - 50)), "extends past the end of the file");
    refused(&build_file(&sections, set(32, 24)), "overlaps the header");
    refused(&build_file(&sections, set(40, 4096)), "extends past the end of the file");
    // GRAPH grown over the start of WEIGHTS.
    let grown = build_file(&sections, |h| {
        let weights_off = u64::from_le_bytes(h[56..64].try_into().unwrap());
        let graph_off = u64::from_le_bytes(h[32..40].try_into().unwrap());
        h[40..48].copy_from_slice(&(weights_off - graph_off + 8).to_le_bytes());
    });
    refused(&grown, "overlaps");
    // WEIGHTS not aligned.
    refused(
        &build_file(&sections, |h| {
            h[56] += 8;
            h[64] -= 8;
        }),
        "not 64-byte aligned",
    );
    // Section count absurd or zero (the file is then also far too short).
    refused(&build_file(&sections, |h| h[16..20].copy_from_slice(&u32::MAX.to_le_bytes())), "section count");
    refused(&build_file(&sections, |h| h[16..20].copy_from_slice(&0u32.to_le_bytes())), "section count");
    // Reserved fields and flags.
    refused(&build_file(&sections, |h| h[12] = 1), "unknown flags");
    refused(&build_file(&sections, |h| h[20] = 1), "reserved header field");
    refused(&build_file(&sections, |h| h[28] = 1), "reserved field is not zero");
    // No GRAPH, or two.
    refused(&build_file(&[(format::SECTION_WEIGHTS, &p.weights)], |_| {}), "no GRAPH section");
    refused(&build_file(&[(format::SECTION_GRAPH, &graph), (format::SECTION_GRAPH, &graph)], |_| {}), "appears twice");
}

/// A store whose bytes start off a 64-byte boundary.
struct Unaligned(AlignedBytes);

impl ByteStore for Unaligned {
    fn bytes(&self) -> &[u8] {
        &self.0.as_slice()[1..]
    }
}

#[test]
fn an_unaligned_store_is_refused() {
    let file = parts().file();
    let mut shifted = vec![0];
    shifted.extend_from_slice(&file);
    let store = Unaligned(AlignedBytes::from_slice(&shifted));
    let msg = format::read(Arc::new(store)).unwrap_err().to_string();
    assert!(msg.contains("not 64-byte aligned"), "{msg}");
}
