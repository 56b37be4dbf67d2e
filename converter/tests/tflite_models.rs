//! TFLite models against LiteRT.
//!
//! Each directory of `testdata/tflite/` holds a small model built by
//! `scripts/make_tflite_test_models.py`, its inputs, and the outputs LiteRT's builtin
//! reference kernels computed for them (`input_<i>.npy`, `output_<i>.npy`). Every model is
//! run twice here: as imported (no passes), and after the converter's optimizing passes, both
//! through `Model::from_graph` and a `Session`. Float outputs must agree within 1e-4 of the
//! largest reference magnitude; integer and boolean outputs exactly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferrolite_converter::{ConvertOptions, SourceFormat, convert_bytes, import_bytes};
use ferrolite_runtime::ir::{DType, Graph};
use ferrolite_runtime::{Model, Session, SessionOptions, Tensor};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/tflite")
}

/// Reads an `.npy` file as a tensor (f32, i32, i64 or bool).
fn read_npy(path: &Path) -> Tensor {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let descr = npy.dtype().descr();
    match descr.trim_matches(|c| c == '\'' || c == '"') {
        "<f4" => Tensor::from_slice(&shape, &npy.into_vec::<f32>().unwrap()).unwrap(),
        "<i4" => Tensor::from_slice(&shape, &npy.into_vec::<i32>().unwrap()).unwrap(),
        "<i8" => Tensor::from_slice(&shape, &npy.into_vec::<i64>().unwrap()).unwrap(),
        "|b1" => {
            let v: Vec<u8> = npy.into_vec::<bool>().unwrap().into_iter().map(u8::from).collect();
            Tensor::from_bytes(DType::Bool, &shape, &v).unwrap()
        }
        other => panic!("{}: unexpected npy dtype {other}", path.display()),
    }
}

/// The numbered `.npy` files `<prefix>_<i>.npy` of a model directory, in order.
fn numbered(dir: &Path, prefix: &str) -> Vec<Tensor> {
    let mut out = Vec::new();
    loop {
        let path = dir.join(format!("{prefix}_{}.npy", out.len()));
        if !path.exists() {
            return out;
        }
        out.push(read_npy(&path));
    }
}

fn run(graph: Graph, inputs: &[Tensor]) -> Vec<Tensor> {
    let model = Arc::new(Model::from_graph(graph).unwrap_or_else(|e| panic!("Model::from_graph: {e}")));
    let mut session = Session::new(model, SessionOptions::default()).unwrap_or_else(|e| panic!("Session::new: {e}"));
    let views: Vec<_> = inputs.iter().map(|t| t.view()).collect();
    session.run(&views).unwrap_or_else(|e| panic!("Session::run: {e}"))
}

fn compare(name: &str, got: &[Tensor], want: &[Tensor]) {
    assert_eq!(got.len(), want.len(), "{name}: {} outputs, LiteRT gave {}", got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.shape(), w.shape(), "{name}: output {i} shape");
        assert_eq!(g.dtype(), w.dtype(), "{name}: output {i} type");
        if w.dtype() == DType::F32 {
            let (g, w) = (g.as_slice::<f32>().unwrap(), w.as_slice::<f32>().unwrap());
            let scale = w.iter().fold(0f32, |m, v| m.max(v.abs()));
            let tolerance = 1e-4 * scale.max(f32::MIN_POSITIVE);
            let (worst, at) = g
                .iter()
                .zip(w)
                .enumerate()
                .map(|(k, (a, b))| if a.is_nan() != b.is_nan() { (f32::INFINITY, k) } else { ((a - b).abs(), k) })
                .filter(|(d, _)| !d.is_nan())
                .fold((0f32, 0), |best, cur| if cur.0 > best.0 { cur } else { best });
            assert!(
                worst <= tolerance,
                "{name}: output {i} differs by {worst} at element {at} (got {}, LiteRT {}); tolerance {tolerance}",
                g[at],
                w[at]
            );
        } else {
            assert_eq!(g.bytes(), w.bytes(), "{name}: output {i} ({}) differs", w.dtype());
        }
    }
}

fn check_model(name: &str, optimize: bool) {
    check_dir(&testdata().join(name), name, optimize);
}

pub(crate) fn check_dir(dir: &Path, name: &str, optimize: bool) {
    let bytes = std::fs::read(dir.join("model.tflite")).unwrap_or_else(|e| panic!("{name}: {e}"));
    let inputs = numbered(dir, "input");
    let want = numbered(dir, "output");
    assert!(!want.is_empty(), "{name}: no recorded outputs");
    let graph = if optimize {
        convert_bytes(&bytes, SourceFormat::TfLite, &ConvertOptions::default())
    } else {
        import_bytes(&bytes, SourceFormat::TfLite)
    }
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let got = run(graph, &inputs);
    compare(name, &got, &want);
}

/// The models covered below; a directory not listed fails [`every_model_is_tested`].
const MODELS: &[&str] = &[
    "conv",
    "transpose_conv",
    "fully_connected",
    "pool_reduce",
    "elementwise",
    "shape_ops",
    "pad_resize",
    "softmax",
    "fp16_weights",
    "dynamic_batch",
    "misc",
];

macro_rules! model_tests {
    ($($name:ident),* $(,)?) => {
        mod imported {
            $(#[test] fn $name() { super::check_model(stringify!($name), false); })*
        }
        mod optimized {
            $(#[test] fn $name() { super::check_model(stringify!($name), true); })*
        }
    };
}

model_tests!(
    conv,
    transpose_conv,
    fully_connected,
    pool_reduce,
    elementwise,
    shape_ops,
    pad_resize,
    softmax,
    fp16_weights,
    dynamic_batch,
    misc,
);

#[test]
fn every_model_is_tested() {
    let mut found: Vec<String> = std::fs::read_dir(testdata())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("model.tflite").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut listed: Vec<String> = MODELS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed);
}

/// Imports every `.tflite` file of the directory named by `FERROLITE_TFLITE_DIR` (for
/// example the seed networks, too large to commit):
/// `FERROLITE_TFLITE_DIR=/work/models cargo test -p ferrolite-converter --test tflite_models -- --ignored`.
#[test]
#[ignore = "needs FERROLITE_TFLITE_DIR"]
fn import_external_models() {
    let dir = std::env::var("FERROLITE_TFLITE_DIR").expect("set FERROLITE_TFLITE_DIR");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tflite") {
            let bytes = std::fs::read(&path).unwrap();
            let graph = convert_bytes(&bytes, SourceFormat::TfLite, &ConvertOptions::default())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            eprintln!("{}: {} nodes", path.display(), graph.nodes.len());
            count += 1;
        }
    }
    assert!(count > 0, "no .tflite files in {dir}");
}
