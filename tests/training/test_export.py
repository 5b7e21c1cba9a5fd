"""The export check: ONNX must give the Keras model's outputs, or the export fails loudly."""

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from training.keras.export import MAX_ABS_DIFF, ExportError, export_model  # noqa: E402


def small_model() -> "keras.Model":
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.predict(np.zeros((1, 28, 28, 1), np.float32), verbose=0)  # a model is exported once used
    return model


def test_both_files_are_written_and_agree_within_the_tolerance(tmp_path: Path):
    sample = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    exported = export_model(small_model(), sample, tmp_path)
    assert exported.keras_path.is_file() and exported.onnx_path.is_file()
    assert 0 <= exported.max_abs_diff <= MAX_ABS_DIFF
    assert exported.samples_checked == 8


def test_outputs_that_cannot_be_compared_fail_the_export_with_the_reason(tmp_path: Path):
    sample = np.full((4, 28, 28, 1), np.nan, dtype=np.float32)  # NaN out of both: no agreement
    with pytest.raises(ExportError, match="ONNX export disagrees with the Keras model"):
        export_model(small_model(), sample, tmp_path)
