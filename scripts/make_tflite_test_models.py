#!/usr/bin/env python3
"""Builds the small TFLite models that test Ferrolite's TFLite importer, and records what
LiteRT (the TFLite reference runtime) computes on them.

    /work/venv/bin/python scripts/make_tflite_test_models.py [OUT_DIR]

OUT_DIR defaults to testdata/tflite. Each model goes to OUT_DIR/<name>/ as model.tflite with
input_<i>.npy and output_<i>.npy, in the order of the model's subgraph inputs and outputs.
converter/tests/tflite_models.rs imports each model, runs it and compares with the recorded
outputs.

Needs tensorflow (for the TFLite converter) and ai-edge-litert (the interpreter). The models
are tiny and seeded, so a rerun gives the same files up to converter version changes.
Each model lists the TFLite operators it is meant to contain; the script checks the converter
produced them, so a converter change that rewrites a pattern away fails loudly here.
"""

import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402

RNG = np.random.default_rng(20261124)


def const(*shape, scale=0.5):
    """A seeded random f32 constant."""
    return tf.constant((RNG.standard_normal(shape) * scale).astype(np.float32))


def spec(*shape, dtype=tf.float32, name=None):
    return tf.TensorSpec(shape, dtype, name=name)


def convert(fn, specs, fp16=False):
    concrete = tf.function(fn).get_concrete_function(*specs)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
    if fp16:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def run_litert(model_bytes, inputs):
    # The builtin reference kernels, no delegate: the plainest statement of TFLite semantics.
    interp = Interpreter(model_content=model_bytes, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    details = interp.get_input_details()
    assert len(details) == len(inputs), f"model has {len(details)} inputs, given {len(inputs)}"
    for d, x in zip(details, inputs):
        if list(d["shape"]) != list(x.shape):
            interp.resize_tensor_input(d["index"], x.shape)
    interp.allocate_tensors()
    for d, x in zip(details, inputs):
        interp.set_tensor(d["index"], x)
    interp.invoke()
    ops = sorted({op["op_name"] for op in interp._get_ops_details()})
    outputs = [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]
    return outputs, ops


def make(out_dir, name, fn, specs, inputs, expect_ops, fp16=False):
    model = convert(fn, specs, fp16=fp16)
    outputs, ops = run_litert(model, inputs)
    missing = sorted(set(expect_ops) - set(ops))
    if missing:
        sys.exit(f"{name}: the converter did not produce {missing}; it produced {ops}")
    d = os.path.join(out_dir, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open(os.path.join(d, "model.tflite"), "wb") as f:
        f.write(model)
    for i, x in enumerate(inputs):
        np.save(os.path.join(d, f"input_{i}.npy"), x)
    for i, y in enumerate(outputs):
        np.save(os.path.join(d, f"output_{i}.npy"), y)
    print(f"{name}: {len(model)} bytes, ops {ops}")


def rand(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def conv(out):
    w1, b1 = const(3, 3, 3, 8), const(8)
    wd, bd = const(3, 3, 8, 2), const(16)
    w3, b3 = const(3, 3, 16, 4), const(4)
    wg, bg = const(1, 1, 8, 6), const(6)
    wd2 = const(3, 3, 8, 1)

    def f(x):
        y = tf.nn.relu6(tf.nn.conv2d(x, w1, strides=2, padding="SAME") + b1)
        # Depth multiplier 2, VALID.
        d = tf.nn.relu(tf.nn.depthwise_conv2d(y, wd, strides=[1, 1, 1, 1], padding="VALID") + bd)
        # Dilated, SAME.
        z = tf.nn.conv2d(d, w3, strides=1, padding="SAME", dilations=2) + b3
        # Grouped: 16 input channels, filters of 8 input channels -> 2 groups.
        g = tf.nn.conv2d(d, wg, strides=1, padding="VALID") + bg
        # Depthwise, multiplier 1, stride 2, SAME on an odd size, no bias.
        e = tf.nn.depthwise_conv2d(y, wd2, strides=[1, 2, 2, 1], padding="SAME")
        return z, g, e

    make(out, "conv", f, [spec(1, 11, 13, 3)], [rand(1, 11, 13, 3)], ["CONV_2D", "DEPTHWISE_CONV_2D"])


def transpose_conv(out):
    w1, b1 = const(3, 3, 4, 3), const(4)
    w2 = const(2, 2, 5, 3)

    def f(x):
        # SAME, odd output size: padding differs at the two ends.
        a = tf.nn.relu(
            tf.nn.conv2d_transpose(x, w1, output_shape=[1, 9, 11, 4], strides=2, padding="SAME") + b1)
        # VALID with the kernel smaller than the stride: the output is longer than the
        # transposed convolution's extent, the tail is zero.
        b = tf.nn.conv2d_transpose(x, w2, output_shape=[1, 15, 18, 5], strides=3, padding="VALID")
        return a, b

    make(out, "transpose_conv", f, [spec(1, 5, 6, 3)], [rand(1, 5, 6, 3)], ["TRANSPOSE_CONV"])


def fully_connected(out):
    import keras

    keras.utils.set_random_seed(1)
    dense3 = keras.layers.Dense(10)
    dense2 = keras.layers.Dense(7, activation="relu")
    w, b = const(24, 5), const(5)

    def f(x3, x2, x4):
        a = dense3(x3)  # 3-D input: keep_num_dims
        c = dense2(x2)
        d = tf.nn.tanh(tf.matmul(tf.reshape(x4, [1, 24]), w) + b)
        return a, c, d

    make(out, "fully_connected", f, [spec(1, 5, 16), spec(2, 24), spec(1, 2, 3, 4)],
         [rand(1, 5, 16), rand(2, 24), rand(1, 2, 3, 4)], ["FULLY_CONNECTED"])


def pool_reduce(out):
    def f(x):
        a = tf.nn.avg_pool2d(x, 3, 2, "SAME")
        b = tf.nn.max_pool2d(x, 2, 2, "VALID")
        c = tf.nn.max_pool2d(x, 3, 1, "SAME")
        g = tf.reduce_mean(x, axis=[1, 2])
        gk = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
        m = tf.reduce_mean(x, axis=-1)
        mx = tf.reduce_max(x, axis=[1, 2])
        s = tf.reduce_sum(x, axis=3, keepdims=True)
        mn = tf.reduce_min(x, axis=[0, 2])
        return a, b, c, g, gk, m, mx, s, mn

    make(out, "pool_reduce", f, [spec(1, 7, 9, 5)], [rand(1, 7, 9, 5)],
         ["AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN", "REDUCE_MAX", "SUM", "REDUCE_MIN"])


def elementwise(out):
    import keras

    keras.utils.set_random_seed(2)
    prelu = keras.layers.PReLU(shared_axes=[1, 2], alpha_initializer=keras.initializers.RandomUniform(0.1, 0.5))
    k = const(6)

    def f(x, y):
        outs = [
            tf.nn.relu(x + y),
            x - y,
            x * k,
            x / (tf.abs(y) + 1.0),
            tf.maximum(x, y),
            tf.minimum(x, 0.3),
            tf.nn.leaky_relu(x, 0.2),
            prelu(x),
            tf.sigmoid(x),
            tf.tanh(y),
            x * tf.nn.relu6(x + 3.0) / 6.0,
            tf.exp(x),
            tf.sqrt(tf.abs(x) + 0.1),
            tf.math.rsqrt(tf.abs(y) + 0.1),
            tf.pow(tf.abs(x) + 0.5, y),
            tf.square(x),
            -y,
            tf.abs(x),
            tf.nn.relu6(y * 4.0),  # RELU6 fused into MUL
            tf.nn.relu6(y),
            tf.nn.relu(y),
            tf.clip_by_value(x, -1.0, 1.0),
            tf.math.squared_difference(x, y),
            tf.math.log(tf.abs(y) + 0.5),
        ]
        return tuple(outs)

    make(out, "elementwise", f, [spec(1, 4, 5, 6), spec(1, 4, 5, 6)], [rand(1, 4, 5, 6), rand(1, 4, 5, 6)],
         ["ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "LEAKY_RELU", "PRELU", "LOGISTIC", "TANH",
          "HARD_SWISH", "EXP", "SQRT", "RSQRT", "POW", "SQUARE", "NEG", "ABS", "RELU6", "RELU_N1_TO_1",
          "SQUARED_DIFFERENCE", "LOG", "RELU"])


def shape_ops(out):
    def f(x):
        a = tf.reshape(x, [2, 12, 6])
        b = tf.squeeze(tf.expand_dims(x, 2), axis=[2])
        c = tf.transpose(x, [0, 3, 1, 2])
        d = tf.nn.relu(tf.concat([x, x * 2.0], axis=1))
        e = tf.stack([x, x + 1.0], axis=1)
        u0, u1, u2 = tf.unstack(x, axis=1)
        s0, s1 = tf.split(x, 2, axis=3)
        v0, v1, v2 = tf.split(x, [1, 3, 2], axis=3)
        g = tf.gather(x, [2, 0, 1, 2], axis=1)
        ss1 = x[:, 1:, ::-2, tf.newaxis, 1]
        ss2 = x[..., 1:5:2]
        ss3 = x[1, -2:, :, -1]
        sl = tf.slice(x, [0, 1, 0, 2], [-1, 2, 3, -1])
        ci = tf.cast(x * 3.0, tf.int32)
        return a, b, c, d, e, u0, u1, u2, s0, s1, v0, v1, v2, g, ss1, ss2, ss3, sl, ci

    make(out, "shape_ops", f, [spec(2, 3, 4, 6)], [rand(2, 3, 4, 6)],
         ["RESHAPE", "TRANSPOSE", "CONCATENATION", "PACK", "UNPACK", "SPLIT", "SPLIT_V", "GATHER",
          "STRIDED_SLICE", "SLICE", "CAST"])


def pad_resize(out):
    def f(x):
        v1 = tf.compat.v1.image
        outs = [
            tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]]),
            tf.pad(x, [[0, 0], [1, 0], [0, 2], [1, 1]], constant_values=1.5),
            tf.pad(x, [[0, 0], [2, 1], [1, 2], [0, 0]], mode="REFLECT"),
            tf.pad(x, [[0, 0], [1, 1], [0, 1], [0, 0]], mode="SYMMETRIC"),
            tf.image.resize(x, (9, 13), method="bilinear"),
            v1.resize_bilinear(x, (9, 13), align_corners=True),
            v1.resize_bilinear(x, (3, 4)),
            tf.image.resize(x, (10, 12), method="nearest"),
            tf.image.resize(x, (3, 4), method="nearest"),
            v1.resize_nearest_neighbor(x, (9, 13), align_corners=True),
            v1.resize_nearest_neighbor(x, (7, 8)),
        ]
        return tuple(outs)

    make(out, "pad_resize", f, [spec(1, 5, 6, 3)], [rand(1, 5, 6, 3)],
         ["PAD", "PADV2", "MIRROR_PAD", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"])


def softmax(out):
    def f(x, y):
        return tf.nn.softmax(x * 1.7), tf.nn.log_softmax(x), tf.nn.softmax(y, axis=-1)

    make(out, "softmax", f, [spec(2, 10), spec(1, 3, 4, 5)], [rand(2, 10, scale=3.0), rand(1, 3, 4, 5)],
         ["SOFTMAX", "LOG_SOFTMAX"])


def fp16_weights(out):
    w1, b1 = const(3, 3, 3, 8), const(8)
    wd, bd = const(3, 3, 8, 1), const(8)
    wt = const(2, 2, 4, 8)
    wf, bf = const(8, 6), const(6)

    def f(x):
        y = tf.nn.relu(tf.nn.conv2d(x, w1, strides=1, padding="SAME") + b1)
        y = tf.nn.relu6(tf.nn.depthwise_conv2d(y, wd, strides=[1, 2, 2, 1], padding="SAME") + bd)
        t = tf.nn.conv2d_transpose(y, wt, output_shape=[1, 8, 8, 4], strides=2, padding="SAME")
        p = tf.reduce_mean(y, axis=[1, 2])
        return t, tf.matmul(p, wf) + bf

    make(out, "fp16_weights", f, [spec(1, 8, 8, 3)], [rand(1, 8, 8, 3)], ["DEQUANTIZE", "CONV_2D"], fp16=True)


def dynamic_batch(out):
    w, b = const(48, 5), const(5)

    def f(x):
        flat = tf.reshape(x, [tf.shape(x)[0], -1])
        return tf.matmul(flat, w) + b

    make(out, "dynamic_batch", f, [spec(None, 4, 4, 3)], [rand(2, 4, 4, 3)], ["SHAPE", "RESHAPE"])


def misc(out):
    bm = const(3, 4, 6)

    def f(x, a):
        d2s = tf.nn.depth_to_space(x, 2)
        s2d = tf.nn.space_to_depth(x, 2)
        mm = tf.matmul(a, bm, adjoint_b=True)
        return d2s, s2d, mm

    make(out, "misc", f, [spec(1, 4, 6, 8), spec(3, 5, 6)], [rand(1, 4, 6, 8), rand(3, 5, 6)],
         ["DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "BATCH_MATMUL"])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "testdata", "tflite")
    os.makedirs(out, exist_ok=True)
    for make_model in [conv, transpose_conv, fully_connected, pool_reduce, elementwise, shape_ops,
                       pad_resize, softmax, fp16_weights, dynamic_batch, misc]:
        make_model(out)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(out) for f in fs)
    print(f"total {total} bytes")
    if total > 2 * 1024 * 1024:
        sys.exit("test models exceed 2 MB; make them smaller")


if __name__ == "__main__":
    main()
