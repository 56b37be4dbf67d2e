//! A run allocates nothing: the arena, the workspace and the packed weights are made when
//! the session plans, and every kernel, the executor and the thread pool work in them. A
//! counting global allocator checks it over the operators the seed's networks use (the
//! DSL kernels of each family, with the outputs written into the caller's buffers), at 1
//! and 2 threads.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferrolite_runtime::ir::{Activation, Binary, Conv2d, DType, Dim, Gemm, Graph, Op, Padding, Pad, PadMode, PoolKind, Pool2d, TensorInfo};
use ferrolite_runtime::{Model, Session, SessionOptions, Tensor, TensorViewMut};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter has no
// effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn values(n: usize, seed: u64) -> Vec<f32> {
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

fn conv(kernel: usize, stride: usize, pad: usize, groups: usize, activation: Activation) -> Op {
    Op::Conv2d(Conv2d {
        kernel: [kernel, kernel],
        stride: [stride, stride],
        dilation: [1, 1],
        padding: Padding::Explicit { top: pad, left: pad, bottom: pad, right: pad },
        groups,
        activation,
    })
}

/// A small network through every kernel family: a 3-channel stem (sliding window), pad, max
/// pooling, Winograd, depthwise 3x3 and 1x1, a pointwise GEMM with a fused residual, an
/// Im2Col GEMM, an element-wise add, global pooling, fully connected, softmax.
fn network() -> Graph {
    let mut g = Graph::default();
    let x = g.add_tensor(TensorInfo {
        name: "x".into(),
        dtype: DType::F32,
        shape: Some([1, 32, 32, 3].iter().map(|&d| Dim::Fixed(d)).collect()),
        data: None,
    });
    g.inputs.push(x);
    let mut seed = 1;
    let mut layer = |g: &mut Graph, x: usize, op: Op, w: &[usize], bias: bool, residual: Option<usize>| {
        seed += 1;
        let scale = 1.0 / (w[1..].iter().product::<usize>() as f32).sqrt();
        let wv: Vec<f32> = values(w.iter().product(), seed).into_iter().map(|v| v * scale).collect();
        let wt = g.add_const_f32(format!("w{seed}"), w, &wv);
        let b = bias.then(|| g.add_const_f32(format!("b{seed}"), &[w[0]], &values(w[0], seed + 100)));
        let y = g.add_value(format!("y{seed}"), DType::F32);
        let mut inputs = vec![Some(x), Some(wt), b];
        if residual.is_some() {
            inputs.push(residual);
        }
        g.add_node(format!("n{seed}"), op, inputs, vec![y]);
        y
    };
    let stem = layer(&mut g, x, conv(3, 2, 1, 1, Activation::Relu), &[16, 3, 3, 3], true, None);
    let padded = g.add_value("padded", DType::F32);
    g.add_node("pad", Op::Pad(Pad { mode: PadMode::Constant, pads: vec![0, 1, 1, 0, 0, 1, 1, 0], value: 0.0 }), vec![Some(stem)], vec![padded]);
    let pooled = g.add_value("pooled", DType::F32);
    let pool = Pool2d { kind: PoolKind::Max, kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padding: Padding::VALID, ceil_mode: false, count_include_pad: false };
    g.add_node("pool", Op::Pool2d(pool), vec![Some(padded)], vec![pooled]);
    let wino = layer(&mut g, pooled, conv(3, 1, 1, 1, Activation::Relu6), &[16, 3, 3, 16], true, None);
    let dw = layer(&mut g, wino, conv(3, 1, 1, 16, Activation::Relu), &[16, 3, 3, 1], true, None);
    let dw1 = layer(&mut g, dw, conv(1, 1, 0, 16, Activation::None), &[16, 1, 1, 1], true, None);
    let pw = layer(&mut g, dw1, conv(1, 1, 0, 1, Activation::Relu), &[16, 1, 1, 16], true, Some(wino));
    let strided = layer(&mut g, pw, conv(3, 2, 1, 1, Activation::None), &[32, 3, 3, 16], true, None);
    let sum = g.add_value("sum", DType::F32);
    g.add_node("add", Op::Binary(Binary::Add), vec![Some(strided), Some(strided)], vec![sum]);
    let gp = g.add_value("gp", DType::F32);
    g.add_node("gpool", Op::GlobalPool(PoolKind::Avg), vec![Some(sum)], vec![gp]);
    let shape = g.add_const_i64("shape", &[2], &[1, 32]);
    let flat = g.add_value("flat", DType::F32);
    g.add_node("reshape", Op::Reshape { allow_zero: false }, vec![Some(gp), Some(shape)], vec![flat]);
    let fc_w = g.add_const_f32("fc_w", &[10, 32], &values(320, 99));
    let fc_b = g.add_const_f32("fc_b", &[10], &values(10, 98));
    let logits = g.add_value("logits", DType::F32);
    let gemm = Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: true, activation: Activation::None };
    g.add_node("fc", Op::Gemm(gemm), vec![Some(flat), Some(fc_w), Some(fc_b)], vec![logits]);
    let prob = g.add_value("prob", DType::F32);
    g.add_node("softmax", Op::Softmax { axis: -1 }, vec![Some(logits)], vec![prob]);
    g.outputs.push(prob);
    g
}

#[test]
fn a_run_allocates_nothing() {
    let model = Arc::new(Model::from_graph(network()).unwrap());
    let input = Tensor::from_slice(&[1, 32, 32, 3], &values(32 * 32 * 3, 7)).unwrap();
    for threads in [1, 2] {
        let mut session = Session::new(model.clone(), SessionOptions::new().with_threads(threads)).unwrap();
        let kernels: Vec<String> = session.plan_for(&[vec![1, 32, 32, 3]]).unwrap().steps().iter().map(|s| s.kernel.clone()).collect();
        // Every step runs a DSL kernel (none falls back to a reference operator that might
        // allocate), except the reshape, which is an alias.
        for k in &kernels {
            assert!(!k.ends_with("-reference") || k.contains("reshape"), "{k} in {kernels:?}");
        }
        let mut out = vec![0f32; 10];
        let mut run = |session: &mut Session| {
            let mut views = [TensorViewMut::from_slice(&[1, 10], &mut out).unwrap()];
            session.run_into(&[input.view()], &mut views).unwrap();
        };
        for _ in 0..3 {
            run(&mut session);
        }
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        for _ in 0..10 {
            run(&mut session);
        }
        let made = ALLOCATIONS.load(Ordering::SeqCst) - before;
        assert_eq!(made, 0, "{made} allocations in 10 runs at {threads} thread(s)");
        assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
}
