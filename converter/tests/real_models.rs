//! Real trained mobile vision models, end to end: convert the model file as shipped in a
//! PyPI package, build a [`Model`], run [`Session`]s with one and two threads on the recorded
//! inputs, and compare every output with the recorded expected output. Those come from
//! independent references: for ONNX, ONNX's reference implementation evaluated in float64
//! (cross-checked with onnxruntime); for TFLite, LiteRT's reference kernels (cross-checked
//! with LiteRT's XNNPACK path).
//!
//! The fixtures live in `testdata/models/NAME/` (layout in `testdata/models/README.md`;
//! provenance, license and sha256 in each `SOURCE.md`); `scripts/record_model_fixtures.py`
//! makes them. No network and no Python are needed here.
//!
//! Tolerance: `max |got - expected| <= 1e-4 * max |expected|` per output. With `--nocapture`
//! the max difference of every passing output is printed too, to watch the margins.
//!
//! Each fixture is its own `#[test]`; run one with cargo's filter, for example
//! `cargo test -p ferrolite-converter --test real_models ppocrv6`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferrolite_converter::{ConvertOptions, convert_file};
use ferrolite_runtime::ir::DType;
use ferrolite_runtime::{Model, Session, SessionOptions, Tensor, TensorView};

/// Allowed max abs difference, relative to the largest |expected| value of each output.
const REL_TOL: f64 = 1e-4;

/// Every fixture folder, each with its own test below.
const FIXTURES: &[&str] = &[
    "ppocrv6_tiny_det",
    "ppocrv6_tiny_rec",
    "picodet_layout_cdla",
    "mediapipe_face_detection_short_range",
    "mediapipe_selfie_segmentation",
    "mediapipe_hand_landmark_lite",
];

/// Session sizes every fixture runs with.
const THREADS: &[usize] = &[1, 2];

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the converter crate sits in the workspace")
        .join("testdata/models")
}

/// A recorded f32 array.
#[derive(Debug)]
struct Array {
    shape: Vec<usize>,
    data: Vec<f32>,
}

/// Reads a little-endian f32, C-order `.npy` file.
fn read_npy(path: &Path) -> Result<Array, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| format!("{}: {e}", path.display()))?;
    if npy.order() != npyz::Order::C {
        return Err(format!("{}: Fortran-order arrays are not used in fixtures", path.display()));
    }
    let shape = npy
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("{}: dimension {d} too large", path.display())))
        .collect::<Result<Vec<_>, _>>()?;
    let data = npy.into_vec::<f32>().map_err(|e| format!("{}: not an f32 array: {e}", path.display()))?;
    if data.len() != shape.iter().product::<usize>() {
        return Err(format!("{}: {} values for shape {shape:?}", path.display(), data.len()));
    }
    Ok(Array { shape, data })
}

/// One recorded input set with its expected outputs.
#[derive(Debug)]
struct Case {
    label: String,
    inputs: Vec<Array>,
    outputs: Vec<Array>,
}

/// The `PREFIX_K.npy` files of a folder, in order.
fn numbered(dir: &Path, prefix: &str) -> Result<Vec<Array>, String> {
    (0..).map(|k| dir.join(format!("{prefix}_{k}.npy"))).take_while(|p| p.is_file()).map(|p| read_npy(&p)).collect()
}

/// Case 0 from the fixture folder itself, then `case_1/`, `case_2/`, ... in order.
fn load_cases(dir: &Path) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for k in 0.. {
        let (case_dir, label) = if k == 0 {
            (dir.to_path_buf(), "case 0".to_string())
        } else {
            (dir.join(format!("case_{k}")), format!("case_{k}"))
        };
        if k > 0 && !case_dir.is_dir() {
            break;
        }
        let inputs = numbered(&case_dir, "input")?;
        let outputs = numbered(&case_dir, "output")?;
        if inputs.is_empty() || outputs.is_empty() {
            return Err(format!("{}: no input_0.npy / output_0.npy", case_dir.display()));
        }
        cases.push(Case { label, inputs, outputs });
    }
    Ok(cases)
}

/// The fixture's model file (`model.onnx` or `model.tflite`).
fn model_file(dir: &Path) -> PathBuf {
    let found: Vec<PathBuf> =
        ["model.onnx", "model.tflite"].iter().map(|n| dir.join(n)).filter(|p| p.is_file()).collect();
    match found.as_slice() {
        [one] => one.clone(),
        _ => panic!("{}: expected exactly one of model.onnx / model.tflite, found {found:?}", dir.display()),
    }
}

/// Converts and wraps a model file.
fn build_model(path: &Path, options: &ConvertOptions) -> Result<Arc<Model>, String> {
    let graph = convert_file(path, options).map_err(|e| format!("converting {}: {e}", path.display()))?;
    let model = Model::from_graph(graph).map_err(|e| format!("building the model of {}: {e}", path.display()))?;
    Ok(Arc::new(model))
}

/// Compares one output; `Err` holds the report line.
fn compare_output(k: usize, got: &Tensor, want: &Array) -> Result<String, String> {
    if got.dtype() != DType::F32 {
        return Err(format!("output {k}: got {} {:?}, expected f32 {:?}", got.dtype(), got.shape(), want.shape));
    }
    if got.shape() != want.shape.as_slice() {
        return Err(format!("output {k}: got shape {:?}, expected {:?}", got.shape(), want.shape));
    }
    let values = got.as_slice::<f32>().map_err(|e| format!("output {k}: {e}"))?;
    let scale = want.data.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
    let tol = REL_TOL * scale;
    let mut worst = (0.0f64, 0usize);
    let mut bad = 0usize;
    for (i, (&g, &w)) in values.iter().zip(&want.data).enumerate() {
        let diff = (f64::from(g) - f64::from(w)).abs();
        // A NaN difference counts as a failure and as the worst.
        if diff.is_nan() || diff > tol {
            bad += 1;
        }
        if diff.is_nan() || (!worst.0.is_nan() && diff > worst.0) {
            worst = (diff, i);
        }
    }
    let (max_diff, at) = worst;
    let line = format!(
        "output {k} {:?}: max abs diff {max_diff:.3e} at flat index {at} (got {}, expected {}), tolerance {tol:.3e} (1e-4 x max|expected| {scale:.3e})",
        want.shape,
        values.get(at).copied().unwrap_or(f32::NAN),
        want.data.get(at).copied().unwrap_or(f32::NAN),
    );
    if bad == 0 { Ok(line) } else { Err(format!("{line}: {bad} of {} values outside", values.len())) }
}

/// Runs one case on a session and compares every output; returns the failures.
fn run_case(session: &mut Session, case: &Case, what: &str) -> Vec<String> {
    let views: Result<Vec<TensorView<'_>>, _> =
        case.inputs.iter().map(|a| TensorView::from_slice(&a.shape, &a.data)).collect();
    let views = match views {
        Ok(v) => v,
        Err(e) => return vec![format!("{what}: bad recorded input: {e}")],
    };
    let outputs = match session.run(&views) {
        Ok(o) => o,
        Err(e) => return vec![format!("{what}: run failed: {e}")],
    };
    if outputs.len() != case.outputs.len() {
        return vec![format!("{what}: {} outputs, {} recorded", outputs.len(), case.outputs.len())];
    }
    let mut failures = Vec::new();
    for (k, (got, want)) in outputs.iter().zip(&case.outputs).enumerate() {
        match compare_output(k, got, want) {
            // The margins of passing outputs, for `--nocapture` runs.
            Ok(line) => println!("{what}: {line}"),
            Err(line) => failures.push(format!("{what}: {line}")),
        }
    }
    failures
}

/// Checks one fixture: sessions with 1 and 2 threads, every case, then case 0 again (so a
/// symbolic model re-plans for a new shape and returns to an earlier one).
fn check_fixture(name: &str) {
    let dir = fixtures_root().join(name);
    let path = model_file(&dir);
    let cases = load_cases(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    let model = build_model(&path, &ConvertOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        model.inputs().len(),
        cases[0].inputs.len(),
        "{name}: the converted model has inputs {:?}, the fixture records {}",
        model.inputs().iter().map(|i| &i.name).collect::<Vec<_>>(),
        cases[0].inputs.len()
    );
    let mut order: Vec<(String, &Case)> = cases.iter().map(|c| (c.label.clone(), c)).collect();
    if cases.len() > 1 {
        order.push((format!("{} again", cases[0].label), &cases[0]));
    }
    let mut failures = Vec::new();
    for &threads in THREADS {
        let mut session = match Session::new(model.clone(), SessionOptions::new().with_threads(threads)) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{threads} thread(s): creating the session: {e}"));
                continue;
            }
        };
        for (label, case) in &order {
            failures.extend(run_case(&mut session, case, &format!("{threads} thread(s), {label}")));
        }
    }
    assert!(failures.is_empty(), "{name} ({}):\n  {}", path.display(), failures.join("\n  "));
}

#[test]
fn ppocrv6_tiny_det() {
    check_fixture("ppocrv6_tiny_det");
}

#[test]
fn ppocrv6_tiny_rec() {
    check_fixture("ppocrv6_tiny_rec");
}

#[test]
fn picodet_layout_cdla() {
    check_fixture("picodet_layout_cdla");
}

#[test]
fn mediapipe_face_detection_short_range() {
    check_fixture("mediapipe_face_detection_short_range");
}

#[test]
fn mediapipe_selfie_segmentation() {
    check_fixture("mediapipe_selfie_segmentation");
}

#[test]
fn mediapipe_hand_landmark_lite() {
    check_fixture("mediapipe_hand_landmark_lite");
}

/// Every folder under `testdata/models` is listed in [`FIXTURES`] (so has a test above) and
/// every listed fixture exists.
#[test]
fn every_fixture_folder_is_tested() {
    let root = fixtures_root();
    let mut found: Vec<String> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "fixture folders in {} and the FIXTURES list differ", root.display());
}

/// Converts a symbolic fixture again with its input shapes fixed to case 0's (what
/// `--input-shape` does) and checks that the fixed model gives case 0's outputs and refuses
/// case 1's shapes with an error.
fn check_fixed_input_shapes(name: &str) {
    let dir = fixtures_root().join(name);
    let path = model_file(&dir);
    let cases = load_cases(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(cases.len() >= 2, "{name}: a symbolic fixture records at least two input shapes");
    let symbolic = build_model(&path, &ConvertOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        symbolic.inputs().iter().any(|i| i.shape.iter().any(|d| d.fixed().is_none())),
        "{name}: expected a symbolic input dimension, the model declares {:?}",
        symbolic.inputs()
    );
    let input_shapes: Vec<(String, Vec<usize>)> = symbolic
        .inputs()
        .iter()
        .zip(&cases[0].inputs)
        .map(|(info, array)| (info.name.clone(), array.shape.clone()))
        .collect();
    let options = ConvertOptions { input_shapes: input_shapes.clone(), ..ConvertOptions::default() };
    let fixed = build_model(&path, &options).unwrap_or_else(|e| panic!("{name} with {input_shapes:?}: {e}"));
    for (info, array) in fixed.inputs().iter().zip(&cases[0].inputs) {
        let declared: Option<Vec<usize>> = info.shape.iter().map(|d| d.fixed()).collect();
        assert_eq!(declared.as_ref(), Some(&array.shape), "{name}: input {} after --input-shape", info.name);
    }
    let other = &cases[1];
    let mut failures = Vec::new();
    for &threads in THREADS {
        let mut session = Session::new(fixed.clone(), SessionOptions::new().with_threads(threads))
            .unwrap_or_else(|e| panic!("{name} (fixed shapes): creating the session: {e}"));
        failures.extend(run_case(&mut session, &cases[0], &format!("fixed shapes, {threads} thread(s)")));
        let views: Vec<TensorView<'_>> = other
            .inputs
            .iter()
            .map(|a| TensorView::from_slice(&a.shape, &a.data).unwrap_or_else(|e| panic!("{name}: {e}")))
            .collect();
        if session.run(&views).is_ok() {
            failures.push(format!(
                "fixed shapes, {threads} thread(s): {} input shapes {:?} were accepted by a model fixed to {:?}",
                other.label,
                other.inputs.iter().map(|a| &a.shape).collect::<Vec<_>>(),
                input_shapes
            ));
        }
    }
    assert!(failures.is_empty(), "{name} ({}):\n  {}", path.display(), failures.join("\n  "));
}

#[test]
fn ppocrv6_tiny_det_with_fixed_input_shape() {
    check_fixed_input_shapes("ppocrv6_tiny_det");
}

#[test]
fn ppocrv6_tiny_rec_with_fixed_input_shape() {
    check_fixed_input_shapes("ppocrv6_tiny_rec");
}
