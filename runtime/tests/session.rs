//! The public Model / Session API: planning, arena reuse, aliasing, symbolic shapes,
//! caller buffers and input errors, on small hand-built graphs whose results are known.

use std::sync::Arc;

use ferrolite_runtime::ir::{Activation, Binary, DType, Dim, Graph, Op, TensorInfo, Unary};
use ferrolite_runtime::{Model, Session, SessionOptions, TensorView, TensorViewMut};

fn input(g: &mut Graph, name: &str, shape: Vec<Dim>) -> usize {
    let t = g.add_tensor(TensorInfo { name: name.into(), dtype: DType::F32, shape: Some(shape), data: None });
    g.inputs.push(t);
    t
}

fn fixed(dims: &[usize]) -> Vec<Dim> {
    dims.iter().map(|&d| Dim::Fixed(d)).collect()
}

/// y = relu(x) + c, with c = [10, 20, 30, 40].
fn relu_add() -> Graph {
    let mut g = Graph::default();
    let x = input(&mut g, "x", fixed(&[1, 4]));
    let c = g.add_const_f32("c", &[4], &[10.0, 20.0, 30.0, 40.0]);
    let r = g.add_value("r", DType::F32);
    let y = g.add_value("y", DType::F32);
    g.add_node("relu", Op::Unary(Unary::Act(Activation::Relu)), vec![Some(x)], vec![r]);
    g.add_node("add", Op::Binary(Binary::Add), vec![Some(r), Some(c)], vec![y]);
    g.outputs.push(y);
    g
}

#[test]
fn runs_a_small_graph_repeatedly() {
    let model = Arc::new(Model::from_graph(relu_add()).unwrap());
    let mut s = Session::new(model, SessionOptions::new().with_threads(1)).unwrap();
    let x = [-1.0f32, 2.0, -3.0, 4.0];
    for _ in 0..3 {
        let out = s.run(&[TensorView::from_slice(&[1, 4], &x).unwrap()]).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].shape(), &[1, 4]);
        assert_eq!(out[0].as_slice::<f32>().unwrap(), &[10.0, 22.0, 30.0, 44.0]);
    }
}

#[test]
fn writes_into_caller_buffers_and_takes_named_inputs() {
    let model = Arc::new(Model::from_graph(relu_add()).unwrap());
    let mut s = Session::new(model, SessionOptions::new().with_threads(2)).unwrap();
    let x = [1.0f32, -2.0, 3.0, -4.0];
    let mut y = [0f32; 4];
    {
        let shape = [1usize, 4];
        let mut outs = [TensorViewMut::from_slice(&shape, &mut y).unwrap()];
        s.run_into(&[TensorView::from_slice(&[1, 4], &x).unwrap()], &mut outs).unwrap();
    }
    assert_eq!(y, [11.0, 20.0, 33.0, 40.0]);
    let out = s.run_named(&[("x", TensorView::from_slice(&[1, 4], &x).unwrap())]).unwrap();
    assert_eq!(out[0].as_slice::<f32>().unwrap(), &y);

    // A buffer of the wrong shape is refused, naming the output.
    let mut small = [0f32; 3];
    let shape = [1usize, 3];
    let mut outs = [TensorViewMut::from_slice(&shape, &mut small).unwrap()];
    let err = s.run_into(&[TensorView::from_slice(&[1, 4], &x).unwrap()], &mut outs).unwrap_err();
    assert!(err.to_string().contains("\"y\""), "{err}");
}

#[test]
fn lends_outputs_and_reads_inputs_in_place_or_copied_when_unaligned() {
    let model = Arc::new(Model::from_graph(relu_add()).unwrap());
    let mut s = Session::new(model, SessionOptions::new().with_threads(1)).unwrap();
    let x = [-1.0f32, 2.0, -3.0, 4.0];
    let out = s.run_views(&[TensorView::from_slice(&[1, 4], &x).unwrap()]).unwrap();
    assert_eq!(out[0].shape(), &[1, 4]);
    assert_eq!(out[0].f32().unwrap(), &[10.0, 22.0, 30.0, 44.0]);

    // The same values at an odd byte offset cannot be read as f32 in place: they are
    // copied into the arena and give the same result.
    let mut raw = vec![0u8; 17];
    for (i, v) in x.iter().enumerate() {
        raw[1 + 4 * i..5 + 4 * i].copy_from_slice(&v.to_ne_bytes());
    }
    let bytes = &raw[1..];
    if bytes.as_ptr().align_offset(4) != 0 {
        let view = TensorView::new(DType::F32, &[1, 4], bytes).unwrap();
        let out = s.run_views(&[view]).unwrap();
        assert_eq!(out[0].f32().unwrap(), &[10.0, 22.0, 30.0, 44.0]);
    }
}

#[test]
fn wrong_inputs_are_clear_errors() {
    let model = Arc::new(Model::from_graph(relu_add()).unwrap());
    let mut s = Session::new(model, SessionOptions::new().with_threads(1)).unwrap();
    let x = [0f32; 5];
    let err = s.run(&[TensorView::from_slice(&[1, 5], &x).unwrap()]).unwrap_err().to_string();
    assert!(err.contains("input \"x\" must have shape [1, 4]"), "{err}");
    let err = s.run(&[TensorView::from_slice(&[5], &x).unwrap()]).unwrap_err().to_string();
    assert!(err.contains("rank"), "{err}");
    let xi = [0i64; 4];
    let err = s.run(&[TensorView::from_slice(&[1, 4], &xi).unwrap()]).unwrap_err().to_string();
    assert!(err.contains("must be f32, got i64"), "{err}");
    let err = s.run(&[]).unwrap_err().to_string();
    assert!(err.contains("takes 1 inputs, got 0"), "{err}");
    let err = s.run_named(&[("nope", TensorView::from_slice(&[1, 4], &[0f32; 4]).unwrap())]).unwrap_err().to_string();
    assert!(err.contains("no input \"nope\""), "{err}");
}

/// `y = reshape(relu(x), [-1, shape(x)[1] * shape(x)[2]])` for x of shape [batch, h, 4]:
/// the target shape comes from a Shape -> Gather -> Mul -> Concat chain that is only known
/// once the input shape is.
fn symbolic_reshape() -> Graph {
    let mut g = Graph::default();
    let x = input(&mut g, "x", vec![Dim::Sym("batch".into()), Dim::Sym("h".into()), Dim::Fixed(4)]);
    let r = g.add_value("r", DType::F32);
    g.add_node("relu", Op::Unary(Unary::Act(Activation::Relu)), vec![Some(x)], vec![r]);
    let shape = g.add_value("shape", DType::I64);
    g.add_node("shape", Op::Shape { start: 0, end: None }, vec![Some(x)], vec![shape]);
    let i1 = g.add_const_i64("i1", &[1], &[1]);
    let i2 = g.add_const_i64("i2", &[1], &[2]);
    let d1 = g.add_value("d1", DType::I64);
    let d2 = g.add_value("d2", DType::I64);
    g.add_node("g1", Op::Gather { axis: 0 }, vec![Some(shape), Some(i1)], vec![d1]);
    g.add_node("g2", Op::Gather { axis: 0 }, vec![Some(shape), Some(i2)], vec![d2]);
    let prod = g.add_value("prod", DType::I64);
    g.add_node("mul", Op::Binary(Binary::Mul), vec![Some(d1), Some(d2)], vec![prod]);
    let minus1 = g.add_const_i64("m1", &[1], &[-1]);
    let target = g.add_value("target", DType::I64);
    g.add_node("cat", Op::Concat { axis: 0 }, vec![Some(minus1), Some(prod)], vec![target]);
    let y = g.add_value("y", DType::F32);
    g.add_node("reshape", Op::Reshape { allow_zero: false }, vec![Some(r), Some(target)], vec![y]);
    let z = g.add_value("z", DType::F32);
    g.add_node("neg", Op::Unary(Unary::Neg), vec![Some(y)], vec![z]);
    g.outputs.push(z);
    g
}

#[test]
fn symbolic_shapes_are_planned_per_input_shape() {
    let model = Arc::new(Model::from_graph(symbolic_reshape()).unwrap());
    let mut s = Session::new(model, SessionOptions::new().with_threads(1)).unwrap();
    for (batch, h) in [(2usize, 3usize), (5, 1), (2, 3)] {
        let n = batch * h * 4;
        let x: Vec<f32> = (0..n).map(|i| i as f32 - 5.0).collect();
        let out = s.run(&[TensorView::from_slice(&[batch, h, 4], &x).unwrap()]).unwrap();
        assert_eq!(out[0].shape(), &[batch, h * 4]);
        let want: Vec<f32> = x.iter().map(|v| -v.max(0.0)).collect();
        assert_eq!(out[0].as_slice::<f32>().unwrap(), want.as_slice());
    }
    // The shape chain was evaluated at plan time and the reshape aliases its input: only
    // relu and neg run.
    let plan = s.plan_for(&[vec![2, 3, 4]]).unwrap();
    let ops: Vec<&str> = plan.steps().iter().map(|st| st.op.as_str()).collect();
    assert_eq!(ops, ["Relu", "Neg"]);
}

#[test]
fn arena_reuses_memory_along_a_chain() {
    // 12 element-wise steps on a 1 MiB tensor: at most two tensors are live at once.
    let n = 1 << 18;
    let mut g = Graph::default();
    let mut t = input(&mut g, "x", fixed(&[n]));
    for i in 0..12 {
        let o = g.add_value(format!("t{i}"), DType::F32);
        g.add_node(format!("n{i}"), Op::Unary(Unary::Neg), vec![Some(t)], vec![o]);
        t = o;
    }
    g.outputs.push(t);
    let model = Arc::new(Model::from_graph(g).unwrap());
    let mut s = Session::new(model, SessionOptions::new().with_threads(1)).unwrap();
    let plan = s.plan_for(&[vec![n]]).unwrap();
    assert!(plan.arena_bytes() <= 2 * 4 * n, "arena {} bytes for 4 MiB tensors", plan.arena_bytes());
    let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let out = s.run(&[TensorView::from_slice(&[n], &x).unwrap()]).unwrap();
    assert_eq!(out[0].as_slice::<f32>().unwrap(), x.as_slice()); // 12 negations
}

#[test]
fn one_model_many_sessions_on_many_threads() {
    let model = Arc::new(Model::from_graph(relu_add()).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|k| {
            let model = model.clone();
            std::thread::spawn(move || {
                let mut s = Session::new(model, SessionOptions::new().with_threads(1 + k % 2)).unwrap();
                let x = [k as f32, -1.0, 0.5, 2.0];
                let out = s.run(&[TensorView::from_slice(&[1, 4], &x).unwrap()]).unwrap();
                out[0].as_slice::<f32>().unwrap().to_vec()
            })
        })
        .collect();
    for (k, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), vec![10.0 + k as f32, 20.0, 30.5, 42.0]);
    }
}

#[test]
fn identity_and_constant_outputs() {
    // Output 0 is the input through an Identity (aliased: no step runs), output 1 a constant.
    let mut g = Graph::default();
    let x = input(&mut g, "x", fixed(&[2]));
    let c = g.add_const_f32("c", &[2], &[7.0, 8.0]);
    let y = g.add_value("y", DType::F32);
    g.add_node("id", Op::Identity, vec![Some(x)], vec![y]);
    g.outputs.extend([y, c]);
    let model = Arc::new(Model::from_graph(g).unwrap());
    let mut s = Session::new(model, SessionOptions::new()).unwrap();
    let out = s.run(&[TensorView::from_slice(&[2], &[1.0f32, 2.0]).unwrap()]).unwrap();
    assert_eq!(out[0].as_slice::<f32>().unwrap(), &[1.0, 2.0]);
    assert_eq!(out[1].as_slice::<f32>().unwrap(), &[7.0, 8.0]);
    assert!(s.plan_for(&[vec![2]]).unwrap().steps().is_empty());
}

#[test]
fn invalid_graphs_are_refused() {
    // The graph output is the graph input itself: callers could not tell them apart.
    let mut g = Graph::default();
    let x = input(&mut g, "x", fixed(&[2]));
    g.outputs.push(x);
    assert!(Model::from_graph(g).is_err());
}
