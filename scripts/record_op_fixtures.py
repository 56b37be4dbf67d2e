#!/usr/bin/env python3
"""Records single-operator ONNX fixtures for the operators that ONNX's own conformance
cases leave uncovered, in the conformance cases' folder format, for
converter/tests/onnx_conformance.rs:

    testdata/onnx-op-fixtures/<case>/model.onnx
    testdata/onnx-op-fixtures/<case>/test_data_set_0/input_K.pb, output_K.pb  (TensorProto)

Which operators: every operator the ONNX importer supports has node cases in onnx==1.22.0,
but some only in forms Ferrolite leaves out (`Not`'s cases are opset-1 models; `Cast` and
`CastLike` only between types Ferrolite lacks, or inside expanded functions), and
`Upsample` only in nearest mode. The cases below cover those with small models.

Inputs come from a seeded generator; the expected outputs are onnxruntime's (CPU, all graph
optimizations off), and must equal ONNX's reference implementation (`onnx.reference`)
within 1e-6, so a fixture records no quirk of either. Running the script again rewrites
the same bytes; it removes case folders it no longer makes.

    /work/venv/bin/python scripts/record_op_fixtures.py

Needs numpy, onnx and onnxruntime (scripts/requirements.txt).
"""
from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "testdata" / "onnx-op-fixtures"
MAX_TOTAL_BYTES = 1 << 20


@dataclasses.dataclass
class Case:
    """One fixture: a single-node model on the given inputs."""

    name: str
    op: str
    opset: int
    inputs: dict[str, np.ndarray]
    outputs: list[str]
    attrs: dict = dataclasses.field(default_factory=dict)
    # Constant inputs (initializers), in node-input order after the graph inputs unless
    # `node_inputs` says otherwise.
    initializers: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    node_inputs: list[str] | None = None
    # An equivalent case for onnx.reference where it lacks this form of the operator.
    reference_via: "Case | None" = None


ONNX_TYPE = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.int8): TensorProto.INT8,
    np.dtype(np.uint8): TensorProto.UINT8,
    np.dtype(np.bool_): TensorProto.BOOL,
}


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def floats(seed: int, shape, lo=-4.0, hi=4.0) -> np.ndarray:
    return rng(seed).uniform(lo, hi, size=shape).astype(np.float32)


def cases() -> list[Case]:
    out: list[Case] = []

    # Not: bool in, bool out (ONNX's own Not cases are opset-1 models).
    for rank, shape in [(2, (3, 4)), (4, (2, 3, 4, 5))]:
        x = rng(10 + rank).random(shape) < 0.5
        out.append(Case(f"not_{rank}d", "Not", 13, {"x": x}, ["y"]))

    # Cast between the element types Ferrolite has. Float to integer truncates toward zero;
    # the values stay inside the target's range, where ONNX defines the result.
    f = floats(20, (3, 5), -100.0, 100.0)
    f[0, :4] = [0.0, -0.0, 2.5, -2.5]  # exact zeros and halves
    ints = rng(21).integers(-1000, 1000, size=(4, 3)).astype(np.int64)
    ints[0, :2] = [0, 1]
    flags = rng(22).random((2, 6)) < 0.5
    casts = [
        ("FLOAT", "INT64", f),
        ("FLOAT", "INT32", f),
        ("FLOAT", "BOOL", f),
        ("FLOAT", "UINT8", floats(23, (2, 8), 0.0, 255.0)),
        ("FLOAT", "INT8", floats(24, (2, 8), -128.0, 127.0)),
        ("INT64", "FLOAT", ints),
        ("INT64", "INT32", ints),
        ("INT64", "BOOL", ints),
        ("INT32", "INT64", ints.astype(np.int32)),
        ("INT32", "FLOAT", ints.astype(np.int32)),
        ("BOOL", "FLOAT", flags),
        ("BOOL", "INT64", flags),
        ("UINT8", "FLOAT", rng(25).integers(0, 256, size=(2, 8)).astype(np.uint8)),
        ("INT8", "FLOAT", rng(26).integers(-128, 128, size=(2, 8)).astype(np.int8)),
    ]
    for src, dst, x in casts:
        to = getattr(TensorProto, dst)
        out.append(Case(f"cast_{src}_to_{dst}", "Cast", 13, {"input": x}, ["output"], {"to": to}))
    # CastLike: the target type comes from a second input (here an initializer, its value
    # unused, as exporters write it).
    for src, dst, x in [("FLOAT", "INT64", f), ("INT64", "FLOAT", ints), ("FLOAT", "BOOL", f)]:
        like = np.zeros((1,), dtype=helper.tensor_dtype_to_np_dtype(getattr(TensorProto, dst)))
        out.append(
            Case(
                f"castlike_{src}_to_{dst}",
                "CastLike",
                15,
                {"input": x},
                ["output"],
                initializers={"like": like},
            )
        )
    # The same with the target type read from a graph input.
    out.append(
        Case(
            "castlike_FLOAT_to_INT32_runtime_like",
            "CastLike",
            15,
            {"input": f, "like": np.array([7], dtype=np.int32)},
            ["output"],
        )
    )

    # Upsample in linear mode (ONNX's only Upsample case is nearest): opset 7 takes the
    # scales as an attribute, opset 9 as an input.
    x = floats(30, (1, 2, 3, 4))
    scales = [1.0, 1.0, 2.0, 2.0]
    out.append(
        Case(
            "upsample_linear_opset7",
            "Upsample",
            7,
            {"X": x},
            ["Y"],
            {"mode": "linear", "scales": scales},
            reference_via=upsample_as_resize(x, scales, "linear"),
        )
    )
    for mode, scales in [("linear", [1.0, 1.0, 2.0, 3.0]), ("nearest", [1.0, 1.0, 1.5, 2.5])]:
        out.append(
            Case(
                f"upsample_{mode}_opset9",
                "Upsample",
                9,
                {"X": x},
                ["Y"],
                {"mode": mode},
                initializers={"scales": np.array(scales, dtype=np.float32)},
                reference_via=upsample_as_resize(x, scales, mode),
            )
        )
    return out


def upsample_as_resize(x: np.ndarray, scales: list[float], mode: str) -> Case:
    """The `Resize` equivalent to `Upsample` (ONNX's own version converter maps one onto the
    other this way), for onnx.reference, which implements Upsample's nearest mode only."""
    return Case(
        "",
        "Resize",
        11,
        {"X": x},
        ["Y"],
        {"mode": mode, "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"},
        {"roi": np.zeros((0,), dtype=np.float32), "scales": np.array(scales, dtype=np.float32)},
    )


def value_info(name: str, a: np.ndarray) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, ONNX_TYPE[a.dtype], list(a.shape))


def build(case: Case, expected: list[np.ndarray] | None = None) -> onnx.ModelProto:
    node_inputs = case.node_inputs or [*case.inputs, *case.initializers]
    node = helper.make_node(case.op, node_inputs, case.outputs, **case.attrs)
    outputs = (
        [value_info(n, a) for n, a in zip(case.outputs, expected)]
        if expected is not None
        else [helper.make_empty_tensor_value_info(n) for n in case.outputs]
    )
    graph = helper.make_graph(
        [node],
        case.name,
        [value_info(n, a) for n, a in case.inputs.items()],
        outputs,
        initializer=[numpy_helper.from_array(a, n) for n, a in case.initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", case.opset)], producer_name="ferrolite")
    # The oldest IR version that the opset allows, as exporters of that opset wrote.
    model.ir_version = 3 if case.opset < 8 else 7
    return model


def run_ort(model: onnx.ModelProto, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, inputs)


def check_same(name: str, got: list[np.ndarray], want: list[np.ndarray]) -> None:
    if len(got) != len(want):
        raise SystemExit(f"{name}: onnxruntime gives {len(got)} outputs, onnx.reference {len(want)}")
    for k, (g, w) in enumerate(zip(got, want)):
        if g.dtype != w.dtype or g.shape != w.shape:
            raise SystemExit(f"{name}: output {k}: onnxruntime {g.dtype}{g.shape}, onnx.reference {w.dtype}{w.shape}")
        if g.dtype == np.float32:
            ok = np.allclose(g, w, rtol=1e-6, atol=1e-6, equal_nan=True)
        else:
            ok = np.array_equal(g, w)
        if not ok:
            raise SystemExit(f"{name}: output {k}: onnxruntime and onnx.reference disagree")


def write(case: Case) -> int:
    # The reference implementation gives the outputs' types and shapes for the model's
    # declarations; onnxruntime's values are recorded and must agree with it.
    ref_case = case.reference_via or case
    reference = [np.asarray(a) for a in ReferenceEvaluator(build(ref_case)).run(None, ref_case.inputs)]
    model = build(case, reference)
    onnx.checker.check_model(model, full_check=True)
    got = run_ort(model, case.inputs)
    check_same(case.name, got, reference)
    folder = OUT / case.name
    data = folder / "test_data_set_0"
    data.mkdir(parents=True, exist_ok=True)
    files = {folder / "model.onnx": model.SerializeToString()}
    for k, (n, a) in enumerate(case.inputs.items()):
        files[data / f"input_{k}.pb"] = numpy_helper.from_array(a, n).SerializeToString()
    for k, (n, a) in enumerate(zip(case.outputs, got)):
        files[data / f"output_{k}.pb"] = numpy_helper.from_array(a, n).SerializeToString()
    for path, blob in files.items():
        path.write_bytes(blob)
    return sum(len(b) for b in files.values())


def main() -> int:
    all_cases = cases()
    names = {c.name for c in all_cases}
    if len(names) != len(all_cases):
        raise SystemExit("duplicate case names")
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.iterdir():
        if stale.is_dir() and stale.name not in names:
            shutil.rmtree(stale)
    total = 0
    for case in all_cases:
        size = write(case)
        total += size
        print(f"{case.name}: {size} bytes")
    print(f"{len(all_cases)} cases, {total} bytes in {OUT.relative_to(ROOT)}")
    if total > MAX_TOTAL_BYTES:
        raise SystemExit(f"the fixtures take {total} bytes, more than {MAX_TOTAL_BYTES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
