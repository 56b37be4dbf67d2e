//! Every kernel variant the DSL generates, checked against the reference operators.
//!
//! The list of variants comes from the kernels crate's registry, so a new kernel is tested
//! without anyone adding it here: each variant runs every test case of its operator that it
//! applies to (random data, odd sizes, padding, strides, dilation, groups, channel counts
//! that are not a multiple of the vector width), forced to be chosen over everything else,
//! and its outputs are compared with the reference operator's. A variant that applies to no
//! case, or that this machine should run (`FERROLITE_EXPECT_ISAS`) but cannot, fails.

use std::sync::Arc;

use ferrolite_runtime::ir::{Activation, DType, Dim, Graph, Op, TensorInfo, Unary};
use ferrolite_runtime::kernel::{Kernel, KernelFactory, KernelRegistry, NodeCtx, Packed};
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

/// Test cases of an operator, by the lower-case name variant ids use.
fn cases_for(op: &str) -> Vec<Case> {
    match op {
        "unary" => unary_cases(),
        _ => Vec::new(),
    }
}

/// Largest difference allowed, relative to the largest reference value (at least 1).
fn tolerance(info: &VariantInfo) -> f32 {
    match info.algorithm {
        _ => 1e-5,
    }
}

/// Wraps a factory so the planner prefers it over everything else.
struct Forced(Arc<dyn KernelFactory>);

impl KernelFactory for Forced {
    fn id(&self) -> &str {
        self.0.id()
    }
    fn op(&self) -> ferrolite_runtime::ir::OpKind {
        self.0.op()
    }
    fn priority(&self) -> i32 {
        i32::MAX
    }
    fn variant(&self) -> Option<&VariantInfo> {
        self.0.variant()
    }
    fn applies(&self, ctx: &NodeCtx<'_>) -> bool {
        self.0.applies(ctx)
    }
    fn prepack(&self, ctx: &NodeCtx<'_>) -> ferrolite_runtime::Result<Option<Packed>> {
        self.0.prepack(ctx)
    }
    fn build(&self, ctx: &NodeCtx<'_>, packed: Option<Packed>) -> ferrolite_runtime::Result<Box<dyn Kernel>> {
        self.0.build(ctx, packed)
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
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for factory in registry.all() {
        let info = factory.variant().expect("DSL variants carry their metadata").clone();
        if !info.runnable() {
            if let Target::Cpu(isa) = info.target {
                if expected.contains(&isa) {
                    failures.push(format!("{}: {isa} is expected on this machine but not available", info.id));
                }
            }
            continue;
        }
        let mut applied = 0;
        for case in cases_for(info.op) {
            let mut forced = KernelRegistry::new();
            forced.register(Arc::new(Forced(factory.clone())));
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
        report.push(format!("{}: {applied} cases", info.id));
        if applied == 0 {
            failures.push(format!("{}: applies to no test case of `{}`; add cases to runtime/tests/variants.rs", info.id, info.op));
        }
    }
    println!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
