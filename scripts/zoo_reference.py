#!/usr/bin/env python3
"""Dump the layer structure of the seed's five Keras networks for the zoo test.

The Rust zoo (`converter/src/zoo/`) rebuilds basic_squeezenet, inception_v3,
mobilenet_v1_10_224, mobilenet_v2_10_224 and resnet_v2_50 as Ferrolite IR
graphs. `converter/tests/zoo.rs` compares them, exactly, against what this
script writes to `testdata/zoo/<name>.json`, taken from the Keras models that
`shared/models/make_models.py` builds (its MODELS table and count_macs are
imported, so both describe the same networks):

- `convs`: every Conv2D / DepthwiseConv2D / Dense layer in the order the Keras
  source calls them, with kernel, strides, dilation, effective padding
  [top, left, bottom, right] (TF 'same' resolved against the input size, plus
  a ZeroPadding2D feeding the layer), input/output channels, groups,
  input/output spatial size, bias and MACs (make_models.count_macs' formula);
- `pools`: every pooling layer (global ones included) in call order, with
  padding resolved the same way;
- `batch_norms`: every BatchNormalization layer: channels, epsilon, and
  whether it has a scale (gamma) and a centre (beta);
- `params`: model.count_params(); `macs`: make_models.count_macs(model).

Weights play no part: the models are built with weights=None and never run.

    /work/venv/bin/python scripts/zoo_reference.py [--out testdata/zoo]
        [--make-models ../shared/models] [--only NAME ...]
"""
import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def same_pads(size, kernel, stride, dilation):
    """TF 'SAME' padding (before, after) for one spatial axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def producer(layer):
    return layer.input._keras_history.operation


def resolve_padding(layer, kernel, strides, dilation):
    """[top, left, bottom, right] as applied to the tensor the layer reads.

    A ZeroPadding2D directly before the layer is reported as part of its
    padding, and the input size is then the size before that padding.
    """
    from keras import layers

    _, h, w, _ = layer.input.shape
    pads = [0, 0, 0, 0]
    if layer.padding == "same":
        top, bottom = same_pads(h, kernel[0], strides[0], dilation[0])
        left, right = same_pads(w, kernel[1], strides[1], dilation[1])
        pads = [top, left, bottom, right]
    elif layer.padding != "valid":
        raise ValueError(f"{layer.name}: unexpected padding {layer.padding!r}")
    src = producer(layer)
    if isinstance(src, layers.ZeroPadding2D):
        (top, bottom), (left, right) = src.padding
        pads = [pads[0] + top, pads[1] + left, pads[2] + bottom, pads[3] + right]
        _, h, w, _ = src.input.shape
    return pads, [int(h), int(w)]


def describe(model, called, count_macs):
    from keras import layers

    convs, pools, bns = [], [], []
    for layer in called:
        if isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D)):
            depthwise = isinstance(layer, layers.DepthwiseConv2D)
            kernel = list(layer.kernel_size)
            strides = list(layer.strides)
            dilation = list(layer.dilation_rate)
            pads, in_hw = resolve_padding(layer, kernel, strides, dilation)
            _, oh, ow, cout = layer.output.shape
            cin = int(layer.input.shape[-1])
            groups = cin if depthwise else layer.groups
            if depthwise and layer.depth_multiplier != 1:
                raise ValueError(f"{layer.name}: depth_multiplier != 1")
            if depthwise:
                macs = oh * ow * cout * kernel[0] * kernel[1]
            else:
                macs = oh * ow * cout * kernel[0] * kernel[1] * cin // layer.groups
            convs.append({
                "name": layer.name, "kind": "depthwise" if depthwise else "conv",
                "kernel": kernel, "stride": strides, "dilation": dilation, "pads": pads,
                "in_channels": cin, "out_channels": int(cout), "groups": int(groups),
                "in_hw": in_hw, "out_hw": [int(oh), int(ow)], "bias": bool(layer.use_bias),
                "activation": layer.activation.__name__, "macs": int(macs),
            })
        elif isinstance(layer, layers.Dense):
            k = int(layer.input.shape[-1])
            convs.append({
                "name": layer.name, "kind": "dense", "in_channels": k,
                "out_channels": int(layer.units), "bias": bool(layer.use_bias),
                "activation": layer.activation.__name__, "macs": k * int(layer.units),
            })
        elif isinstance(layer, (layers.MaxPooling2D, layers.AveragePooling2D)):
            kind = "max" if isinstance(layer, layers.MaxPooling2D) else "avg"
            kernel, strides = list(layer.pool_size), list(layer.strides)
            pads, in_hw = resolve_padding(layer, kernel, strides, [1, 1])
            _, oh, ow, _ = layer.output.shape
            pools.append({"name": layer.name, "kind": kind, "kernel": kernel, "stride": strides,
                          "pads": pads, "in_hw": in_hw, "out_hw": [int(oh), int(ow)],
                          "channels": int(layer.output.shape[-1])})
        elif isinstance(layer, (layers.GlobalAveragePooling2D, layers.GlobalMaxPooling2D)):
            kind = "global_avg" if isinstance(layer, layers.GlobalAveragePooling2D) else "global_max"
            _, h, w, c = layer.input.shape
            pools.append({"name": layer.name, "kind": kind, "in_hw": [int(h), int(w)],
                          "channels": int(c)})
        elif isinstance(layer, layers.BatchNormalization):
            bns.append({"name": layer.name, "channels": int(layer.input.shape[-1]),
                        "epsilon": float(layer.epsilon), "scale": bool(layer.scale),
                        "center": bool(layer.center)})
    total = sum(c["macs"] for c in convs)
    if total != count_macs(model):
        raise AssertionError(f"per-layer MACs {total} != count_macs {count_macs(model)}")
    return {"params": int(model.count_params()), "macs": int(count_macs(model)),
            "convs": convs, "pools": pools, "batch_norms": bns}


def to_json(info):
    """JSON with one layer per line: small, and diffs read layer by layer."""
    lines = ["{"]
    items = list(info.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i + 1 < len(items) else ""
        if isinstance(value, list) and value and isinstance(value[0], dict):
            rows = [json.dumps(v, separators=(",", ":")) for v in value]
            lines.append(f" {json.dumps(key)}: [")
            lines.extend(f"  {r}," for r in rows[:-1])
            lines.append(f"  {rows[-1]}")
            lines.append(f" ]{comma}")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def import_make_models(directory):
    """Imports shared/models/make_models.py from `directory`."""
    sys.path.insert(0, os.path.abspath(directory))
    import make_models

    return make_models


def keras_model(make_models, name):
    """Builds network `name` as make_models.py does (weights=None, seed 0).

    Returns the model, its layers in the order the Keras source calls them
    (model.layers is ordered by depth instead, which interleaves Inception's
    branches), and the input size.
    """
    import keras

    called = []
    original_call = keras.layers.Layer.__call__

    def recording_call(self, *a, **kw):
        if not any(self is seen for seen in called):
            called.append(self)
        return original_call(self, *a, **kw)

    size, ctor = make_models.MODELS[name]
    keras.layers.Layer.__call__ = recording_call
    try:
        keras.utils.set_random_seed(0)
        model = ctor()
    finally:
        keras.layers.Layer.__call__ = original_call
    in_model = {id(layer) for layer in model.layers}
    return model, [layer for layer in called if id(layer) in in_model], size


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "testdata", "zoo"))
    ap.add_argument("--make-models", default=os.path.join(REPO, "..", "shared", "models"),
                    help="directory holding make_models.py")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()

    make_models = import_make_models(args.make_models)
    import keras

    os.makedirs(args.out, exist_ok=True)
    for name in args.only or make_models.MODELS:
        model, called, size = keras_model(make_models, name)
        info = describe(model, called, make_models.count_macs)
        info = {"name": name, "input": [1, size, size, 3], "classes": make_models.CLASSES, **info}
        path = os.path.join(args.out, f"{name}.json")
        with open(path, "w") as f:
            f.write(to_json(info))
        print(f"{name}: params {info['params']} macs {info['macs']} convs {len(info['convs'])} "
              f"pools {len(info['pools'])} batch_norms {len(info['batch_norms'])} -> {path}")
        keras.backend.clear_session()
    return 0


if __name__ == "__main__":
    sys.exit(main())
