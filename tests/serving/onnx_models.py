"""Small real ONNX models for tests that need a model file but not a trained network.

Built with the ``onnx`` package (no TensorFlow): a linear layer on the flattened 28×28×1
input, then softmax (a classifier), sigmoid (one-unit binary) or nothing (regression).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

INPUT_SHAPE = (28, 28, 1)


def write_model(path: Path, outputs: int, head: str | None, seed: int = 0) -> Path:
    """A linear model with ``outputs`` units and an optional ``Softmax``/``Sigmoid`` head."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(INPUT_SHAPE))
    initializers = [
        numpy_helper.from_array(np.array([-1, size], dtype=np.int64), "flat_shape"),
        numpy_helper.from_array(rng.normal(0, 0.05, (size, outputs)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.normal(0, 0.1, outputs).astype(np.float32), "b"),
    ]
    nodes = [
        helper.make_node("Reshape", ["x", "flat_shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["linear"]),
        helper.make_node("Add", ["linear", "b"], ["logits" if head else "y"]),
    ]
    if head == "Softmax":
        nodes.append(helper.make_node("Softmax", ["logits"], ["y"], axis=1))
    elif head == "Sigmoid":
        nodes.append(helper.make_node("Sigmoid", ["logits"], ["y"]))
    graph = helper.make_graph(
        nodes,
        "descent-test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", *INPUT_SHAPE])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", outputs])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def classifier(path: Path, classes: int = 10, seed: int = 0) -> Path:
    return write_model(path, classes, "Softmax", seed)


def binary(path: Path) -> Path:
    return write_model(path, 1, "Sigmoid")


def regression(path: Path, outputs: int = 1) -> Path:
    return write_model(path, outputs, None)
