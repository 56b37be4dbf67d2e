//! The `ferrolite` command line as scripts use it: convert, run, info, bench, help, and
//! errors on stderr with a non-zero exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ferrolite(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrolite")).args(args).output().expect("run ferrolite")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrolite-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read_f32(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().unwrap())
}

const FACE: &str = "testdata/models/mediapipe_face_detection_short_range";

#[test]
fn help_on_every_command() {
    for args in [vec!["--help"], vec!["convert", "--help"], vec!["run", "--help"], vec!["bench", "--help"], vec!["info", "--help"]]
    {
        let o = ferrolite(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).contains("Usage"), "{args:?}");
    }
}

#[test]
fn convert_then_run_matches_litert() {
    let dir = tmp("convert");
    let model = root().join(FACE).join("model.tflite");
    let flm = dir.join("face.flm");
    let o = ferrolite(&["convert", model.to_str().unwrap(), "-o", flm.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));

    // The .flm and the .tflite run directly both give LiteRT's outputs.
    for (tag, m) in [("flm", flm.clone()), ("tflite", model.clone())] {
        let out_dir = dir.join(format!("out-{tag}"));
        let input = root().join(FACE).join("input_0.npy");
        let o = ferrolite(&[
            "run",
            m.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--output-dir",
            out_dir.to_str().unwrap(),
            "--threads",
            "2",
        ]);
        assert!(o.status.success(), "{tag}: {}", stderr(&o));
        for i in 0..2 {
            let (want_shape, want) = read_f32(&root().join(FACE).join(format!("output_{i}.npy")));
            let (got_shape, got) = read_f32(&out_dir.join(format!("output_{i}.npy")));
            assert_eq!(got_shape, want_shape, "{tag} output {i}");
            let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
            let diff = got.iter().zip(&want).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(diff <= 1e-4 * scale, "{tag} output {i}: max diff {diff} (scale {scale})");
        }
    }

    // info and info --verify on the converted file.
    let o = ferrolite(&["info", flm.to_str().unwrap(), "--verify"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for want in ["inputs:", "outputs:", "operators:", "Conv2d", "MACs:", "weights:", "verify: every weight matches"] {
        assert!(text.contains(want), "info lacks {want:?}:\n{text}");
    }

    // A flipped weight byte: loading still works, --verify names the damage.
    let mut bytes = std::fs::read(&flm).unwrap();
    let n = bytes.len();
    bytes[n * 3 / 4] ^= 0x40; // inside the weights, which fill the end of the file
    let bad = dir.join("bad.flm");
    std::fs::write(&bad, &bytes).unwrap();
    let o = ferrolite(&["info", bad.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = ferrolite(&["info", bad.to_str().unwrap(), "--verify"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("corrupted"), "{}", stderr(&o));

    // A truncated file is refused with the reason.
    std::fs::write(&bad, &bytes[..40]).unwrap();
    let o = ferrolite(&["info", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).starts_with("error: ") && stderr(&o).contains(".flm"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bench_json_has_the_stable_fields() {
    let model = root().join(FACE).join("model.tflite");
    let o = ferrolite(&["bench", model.to_str().unwrap(), "--threads", "1,2", "--runs", "3", "--warmup", "1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for (line, threads) in lines.iter().zip([1, 2]) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["model"], "model");
        assert_eq!(v["threads"], threads);
        assert_eq!(v["runs"], 3);
        let median = v["median_ms"].as_f64().unwrap();
        let min = v["min_ms"].as_f64().unwrap();
        assert!(min > 0.0 && min <= median, "{line}");
    }
}

#[test]
fn bench_layers_times_every_step_with_its_kernel() {
    let model = root().join(FACE).join("model.tflite");
    let m = model.to_str().unwrap();
    let o = ferrolite(&["bench", m, "--threads", "1", "--runs", "3", "--warmup", "1", "--layers", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let values: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (steps, runs): (Vec<_>, Vec<_>) = values.iter().partition(|v| v.get("step").is_some());
    assert_eq!(runs.len(), 1, "{text}");
    // The same steps, with the same kernels, as `ferrolite plan` shows.
    let p = ferrolite(&["plan", m, "--json"]);
    assert!(p.status.success(), "{}", stderr(&p));
    let planned: Vec<serde_json::Value> = stdout(&p).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(steps.len(), planned.len(), "{text}");
    let mut seen = vec![false; planned.len()];
    let mut total = 0.0;
    for s in &steps {
        let i = s["step"].as_u64().unwrap() as usize;
        assert!(!seen[i], "step {i} twice");
        seen[i] = true;
        assert_eq!(s["kernel"], planned[i]["kernel"], "{s}");
        assert_eq!(s["node"], planned[i]["node"], "{s}");
        let ms = s["median_ms"].as_f64().unwrap();
        assert!(ms >= 0.0, "{s}");
        total += ms;
    }
    // Slowest first; the steps account for (most of) a run and never more than the slowest run.
    let times: Vec<f64> = steps.iter().map(|s| s["median_ms"].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert!(total > 0.0 && total <= runs[0]["max_ms"].as_f64().unwrap() * 1.5, "{total} vs {}", runs[0]);
}

#[test]
fn bench_baseline_flags_regressions_beyond_the_noise() {
    let model = root().join(FACE).join("model.tflite");
    let m = model.to_str().unwrap();
    let dir = tmp("baseline");
    std::fs::create_dir_all(&dir).unwrap();
    let o = ferrolite(&["bench", m, "--threads", "1", "--runs", "5", "--warmup", "1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let saved: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    let median = saved["median_ms"].as_f64().unwrap();
    // The same run as its own baseline, a baseline 100x faster (a regression, exit 1) and
    // one 100x slower (faster now).
    for (scale, verdict, ok) in [(1.0, None, true), (0.01, Some("REGRESSION"), false), (100.0, Some("faster"), true)] {
        let mut line = saved.clone();
        for k in ["median_ms", "p25_ms", "p75_ms"] {
            line[k] = serde_json::json!(line[k].as_f64().unwrap() * scale);
        }
        let file = dir.join(format!("base-{scale}.jsonl"));
        std::fs::write(&file, format!("{line}\n")).unwrap();
        let o = ferrolite(&["bench", m, "--threads", "1", "--runs", "5", "--warmup", "1", "--baseline", file.to_str().unwrap()]);
        assert_eq!(o.status.success(), ok, "scale {scale}: {}{}", stdout(&o), stderr(&o));
        let text = stdout(&o);
        assert!(text.contains("| baseline ms | now ms | change | noise band | verdict |"), "{text}");
        if let Some(v) = verdict {
            assert!(text.contains(v), "scale {scale}, median {median}: {text}");
        }
        if !ok {
            assert!(stderr(&o).contains("regressed"), "{}", stderr(&o));
        }
    }
    // Memory is reported next to the time.
    assert!(saved["weights_mib"].as_f64().unwrap() > 0.0 && saved["arena_mib"].as_f64().unwrap() > 0.0, "{saved}");
    std::fs::write(dir.join("bad.jsonl"), "not json\n").unwrap();
    let o = ferrolite(&["bench", m, "--threads", "1", "--runs", "2", "--baseline", dir.join("bad.jsonl").to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("not JSON"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bench_table_by_default() {
    let model = root().join(FACE).join("model.tflite");
    let o = ferrolite(&["bench", model.to_str().unwrap(), "--threads", "1", "--runs", "2", "--warmup", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("| network | threads | median ms |"), "{text}");
    assert!(text.contains("| model | 1 |"), "{text}");
}

#[test]
fn errors_go_to_stderr_with_a_failing_exit() {
    let dir = tmp("errors");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["info".into(), "no_such_model.onnx".into()], "no_such_model.onnx"),
        (vec!["info".into(), "not_a_network".into()], "zoo"),
        (vec!["bench".into(), "mobilenet_v2_10_224".into(), "--threads".into(), "0".into()], "--threads"),
        (
            vec![
                "run".into(),
                root().join(FACE).join("model.tflite").to_string_lossy().into_owned(),
                "--input".into(),
                root().join(FACE).join("input_0.npy").to_string_lossy().into_owned(),
                "--input".into(),
                root().join(FACE).join("input_0.npy").to_string_lossy().into_owned(),
                "--output-dir".into(),
                dir.to_string_lossy().into_owned(),
            ],
            "takes 1 inputs (input), got 2",
        ),
        (
            vec![
                "run".into(),
                root().join(FACE).join("model.tflite").to_string_lossy().into_owned(),
                "--input".into(),
                root().join(FACE).join("output_1.npy").to_string_lossy().into_owned(),
                "--output-dir".into(),
                dir.to_string_lossy().into_owned(),
            ],
            "input",
        ),
        (vec!["convert".into(), "x.onnx".into()], "--output"),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = ferrolite(&args);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(stderr(&o).contains(needle), "{args:?}: stderr lacks {needle:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{args:?}: errors belong on stderr");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `tune` writes a profile whose picks `plan` and `run` use, with outputs still matching
/// LiteRT; a re-run resumes; a stale profile is refused with a warning; the remote flow
/// works through a local stand-in (`sh -c {}`).
#[test]
fn tune_plan_run_resume_and_refuse() {
    let dir = tmp("tune");
    let model = root().join(FACE).join("model.tflite");
    let m = model.to_str().unwrap();
    let profile = dir.join("face.yaml");
    let p = profile.to_str().unwrap();
    let o = ferrolite(&["tune", m, "--budget", "4", "-o", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&profile).unwrap();
    assert!(text.contains("kernel_set:") && text.contains("pick:"), "{text}");

    // Every tuned convolution runs its pick.
    let o = ferrolite(&["plan", m, "--profile", p, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let steps: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let convs: Vec<&serde_json::Value> = steps.iter().filter(|s| s["op"] == "Conv2d").collect();
    assert!(!convs.is_empty());
    for s in &convs {
        assert_eq!(s["reason"], "profile", "{s}");
        assert!(text.contains(s["kernel"].as_str().unwrap()), "{s}");
    }

    // The outputs with the tuned picks still match LiteRT's.
    let out_dir = dir.join("out");
    let input = root().join(FACE).join("input_0.npy");
    let o = ferrolite(&["run", m, "--input", input.to_str().unwrap(), "--output-dir", out_dir.to_str().unwrap(), "--profile", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    for i in 0..2 {
        let (_, got) = read_f32(&out_dir.join(format!("output_{i}.npy")));
        let (_, want) = read_f32(&root().join(FACE).join(format!("output_{i}.npy")));
        let scale = want.iter().fold(1f32, |a, v| a.max(v.abs()));
        let diff = got.iter().zip(&want).fold(0f32, |a, (g, w)| a.max((g - w).abs()));
        assert!(diff <= 1e-4 * scale, "output {i}: {diff} (scale {scale})");
    }

    // A second run finds every layer in the profile and measures none.
    let o = ferrolite(&["tune", m, "--budget", "4", "-o", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("tuned 0 layer(s)"), "{}", stderr(&o));

    // Another kernel set: refused, said on stderr, heuristic instead.
    let stale = dir.join("stale.yaml");
    let kernel_set = text.lines().find(|l| l.trim_start().starts_with("kernel_set:")).unwrap();
    std::fs::write(&stale, text.replace(kernel_set, "  kernel_set: 0123456789abcdef")).unwrap();
    let o = ferrolite(&["plan", m, "--profile", stale.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: profile not used") && stderr(&o).contains("kernel set"), "{}", stderr(&o));
    for l in stdout(&o).lines() {
        let s: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_ne!(s["reason"], "profile", "{s}");
    }

    // The remote flow, with this machine standing in for the device.
    let remote_dir = dir.join("device");
    let pulled = dir.join("pulled.yaml");
    let o = ferrolite(&[
        "tune",
        m,
        "--budget",
        "2",
        "-o",
        pulled.to_str().unwrap(),
        "--remote",
        "sh -c {}",
        "--remote-binary",
        env!("CARGO_BIN_EXE_ferrolite"),
        "--remote-dir",
        remote_dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(remote_dir.join("profile.yaml").is_file());
    let pulled_text = std::fs::read_to_string(&pulled).unwrap();
    assert!(pulled_text.contains("pick:"), "{pulled_text}");
}
