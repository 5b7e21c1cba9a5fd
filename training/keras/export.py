"""Export a trained model as ``.keras`` (to resume, to download) and ``.onnx`` (to serve).

The ONNX file is checked against Keras on real inputs before it is accepted: a model that
would answer differently in the API than it did in training fails the job loudly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import onnxruntime as ort

from core.errors import DescentError

MAX_ABS_DIFF = 1e-5


class ExportError(DescentError):
    """The exported ONNX model does not answer as the Keras model does."""


@dataclass(frozen=True)
class Exported:
    keras_path: Path
    onnx_path: Path
    max_abs_diff: float
    samples_checked: int


def export_model(model: keras.Model, sample: np.ndarray, folder: Path) -> Exported:
    keras_path = folder / "model.keras"
    onnx_path = folder / "model.onnx"
    # Called first: the ONNX export refuses a model that has never been called, which is what
    # a job resumed after its last epoch's checkpoint has (it trains no step).
    keras_out = keras.ops.convert_to_numpy(model(sample, training=False))
    model.save(keras_path)
    model.export(str(onnx_path), format="onnx", verbose=False)

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    onnx_out = session.run(None, {input_name: sample.astype(np.float32)})[0]
    diff = float(np.max(np.abs(onnx_out - keras_out)))
    if not diff <= MAX_ABS_DIFF:
        raise ExportError(
            f"the ONNX export disagrees with the Keras model by {diff:.2e} "
            f"(allowed {MAX_ABS_DIFF:.0e}) on {len(sample)} validation inputs"
        )
    return Exported(keras_path, onnx_path, diff, len(sample))
