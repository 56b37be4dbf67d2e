#!/usr/bin/env python3
"""Check Ferrolite's outputs on the seed's five networks against onnxruntime.

For each NAME in MODEL_DIR (the output of ../shared/models/make_models.py), runs
`ferrolite run` on NAME.onnx and on NAME.tflite with one seeded uniform(-1, 1) input, runs
onnxruntime on NAME.onnx with the same input, and reports the largest absolute difference
relative to the largest absolute value of onnxruntime's output. Passes when every relative
difference is at most --tol (default 1e-4).

    python3 scripts/check_seed_models.py /path/to/models [--ferrolite target/release/ferrolite]

Needs numpy and onnxruntime (scripts/requirements.txt).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

NAMES = ["basic_squeezenet", "inception_v3", "mobilenet_v1_10_224", "mobilenet_v2_10_224", "resnet_v2_50"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("--ferrolite", default="target/release/ferrolite")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="*", choices=NAMES)
    a = ap.parse_args()

    failures = 0
    print("| network | format | max abs diff | max abs ref | relative | ok |")
    print("|---|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.only or NAMES:
            onnx_path = os.path.join(a.model_dir, name + ".onnx")
            sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
            inp = sess.get_inputs()[0]
            x = np.random.default_rng(a.seed).uniform(-1, 1, inp.shape).astype(np.float32)
            ref = sess.run(None, {inp.name: x})[0]
            x_path = os.path.join(tmp, name + "_input.npy")
            np.save(x_path, x)
            for ext in ("onnx", "tflite"):
                out_dir = os.path.join(tmp, f"{name}_{ext}")
                cmd = [a.ferrolite, "run", os.path.join(a.model_dir, f"{name}.{ext}"), "--input", x_path,
                       "--output-dir", out_dir, "--threads", str(a.threads)]
                res = subprocess.run(cmd, capture_output=True, text=True)
                if res.returncode != 0:
                    print(f"| {name} | {ext} | error: {res.stderr.strip()} | | | no |")
                    failures += 1
                    continue
                got = np.load(os.path.join(out_dir, "output_0.npy"))
                if got.shape != ref.shape:
                    print(f"| {name} | {ext} | shape {got.shape} vs {ref.shape} | | | no |")
                    failures += 1
                    continue
                diff = float(np.max(np.abs(got.astype(np.float64) - ref)))
                scale = float(np.max(np.abs(ref)))
                rel = diff / scale if scale > 0 else diff
                ok = rel <= a.tol
                failures += 0 if ok else 1
                print(f"| {name} | {ext} | {diff:.3e} | {scale:.3e} | {rel:.2e} | {'yes' if ok else 'NO'} |",
                      flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
