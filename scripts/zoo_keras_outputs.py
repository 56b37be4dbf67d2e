#!/usr/bin/env python3
"""Run the seed's Keras networks with the zoo's weights: the expected outputs of the zoo.

`cargo run -p ferrolite-converter --example zoo_dump -- DIR` writes the weights
the Rust zoo draws (seed 0) for every network. This script loads them into the
Keras models that shared/models/make_models.py builds (layer by layer, in the
order the Keras source calls them; kernels permuted from Ferrolite's OHWI to
Keras' HWIO), runs each model on the test input, and writes the class
probabilities to testdata/zoo/<name>_keras_probs.npy. converter/tests/zoo.rs
runs the zoo graphs on the same input with Ferrolite's runtime and compares.

The test input is [1, H, W, 3] in [-1, 1), element i (row-major) taken from a
SplitMix64 stream: state_i = (i + 2) * 0x9E3779B97F4A7C15 mod 2^64, mixed,
then (z >> 40) / 2^24 * 2 - 1.

Rerun after any change to the zoo's weight scheme:

    cargo run -p ferrolite-converter --example zoo_dump -- /tmp/zoo_weights
    /work/venv/bin/python scripts/zoo_keras_outputs.py --weights /tmp/zoo_weights
"""
import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo_reference  # noqa: E402

GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def test_input(size):
    """The zoo test's input: SplitMix64 values mapped to [-1, 1)."""
    n = size * size * 3
    with np.errstate(over="ignore"):
        state = (np.arange(n, dtype=np.uint64) + np.uint64(2)) * GOLDEN
        z = state
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    values = (z >> np.uint64(40)).astype(np.float64) / 2.0**24 * 2.0 - 1.0
    return values.astype(np.float32).reshape(1, size, size, 3)


def load_weights(model, called, directory):
    """Assigns the dumped arrays to the Keras layers, checking kinds and shapes."""
    from keras import layers

    with open(os.path.join(directory, "layers.json")) as f:
        dumped = json.load(f)["layers"]
    flat = np.fromfile(os.path.join(directory, "weights.bin"), dtype="<f4")
    weighted = [ly for ly in called if isinstance(
        ly, (layers.Conv2D, layers.DepthwiseConv2D, layers.Dense, layers.BatchNormalization))]
    if len(weighted) != len(dumped):
        raise ValueError(f"{len(weighted)} Keras layers with weights, {len(dumped)} dumped")
    for layer, entry in zip(weighted, dumped):
        arrays = {}
        for a in entry["arrays"]:
            size = int(np.prod(a["shape"]))
            arrays[a["role"]] = flat[a["offset"]:a["offset"] + size].reshape(a["shape"])
        kind = entry["kind"]
        where = f"{layer.name} <- {entry['node']}"
        if isinstance(layer, layers.DepthwiseConv2D):
            expect, kernel = "depthwise", arrays["kernel"].transpose(1, 2, 0, 3)
        elif isinstance(layer, layers.Conv2D):
            expect, kernel = "conv", arrays["kernel"].transpose(1, 2, 3, 0)
        elif isinstance(layer, layers.Dense):
            expect, kernel = "dense", arrays["kernel"]
        else:
            expect, kernel = "batch_norm", None
        if kind != expect:
            raise ValueError(f"{where}: kind {kind}, Keras layer is {expect}")
        if kernel is not None:
            assign(layer.kernel, kernel, where)
            if layer.use_bias != ("bias" in arrays):
                raise ValueError(f"{where}: bias presence differs")
            if layer.use_bias:
                assign(layer.bias, arrays["bias"], where)
        else:
            if layer.scale:
                assign(layer.gamma, arrays["gamma"], where)
            elif not np.all(arrays["gamma"] == 1.0):
                raise ValueError(f"{where}: Keras has no scale, the zoo's is not 1")
            assign(layer.beta, arrays["beta"], where)
            assign(layer.moving_mean, arrays["moving_mean"], where)
            assign(layer.moving_variance, arrays["moving_variance"], where)


def assign(variable, value, where):
    if tuple(variable.shape) != value.shape:
        raise ValueError(f"{where}: {variable.name} shape {tuple(variable.shape)} vs {value.shape}")
    variable.assign(value)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True, help="directory written by the zoo_dump example")
    ap.add_argument("--out", default=os.path.join(zoo_reference.REPO, "testdata", "zoo"))
    ap.add_argument("--make-models", default=os.path.join(zoo_reference.REPO, "..", "shared", "models"))
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()

    make_models = zoo_reference.import_make_models(args.make_models)
    import keras
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    for name in args.only or make_models.MODELS:
        model, called, size = zoo_reference.keras_model(make_models, name)
        load_weights(model, called, os.path.join(args.weights, name))
        probs = np.asarray(model(test_input(size), training=False), dtype=np.float32)
        path = os.path.join(args.out, f"{name}_keras_probs.npy")
        np.save(path, probs)
        entropy = float(-(probs * np.log(np.maximum(probs, 1e-30))).sum())
        print(f"{name}: argmax {int(probs.argmax())} max {probs.max():.4f} entropy {entropy:.3f} -> {path}")
        keras.backend.clear_session()
    return 0


if __name__ == "__main__":
    sys.exit(main())
