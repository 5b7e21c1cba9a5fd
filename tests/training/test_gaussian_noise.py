"""The gaussian_noise layer: noise while training, nothing at inference, no parameters."""

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from training.data_info import builtin_info
from training.resolve import resolve
from training.spec import JobSpec

MNIST = builtin_info("mnist")
NOISE = {"type": "gaussian_noise", "stddev": 0.1}


def spec(noise: dict) -> JobSpec:
    layers = [noise, {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}]
    return JobSpec.model_validate({"dataset": {"name": "mnist"}, "model": {"layers": layers}})


@pytest.mark.parametrize("stddev", [0, -0.1, None])
def test_stddev_is_required_and_above_zero(stddev):
    with pytest.raises(ValidationError, match="stddev"):
        spec({"type": "gaussian_noise"} if stddev is None else {**NOISE, "stddev": stddev})


def test_the_shape_is_kept_and_there_are_no_parameters():
    noise = resolve(spec(NOISE), MNIST).layers[0]
    assert (noise.type, noise.output_shape, noise.params) == ("gaussian_noise", (28, 28, 1), 0)


def test_noise_as_large_as_the_inputs_is_accepted_with_a_warning():
    warnings = resolve(spec({**NOISE, "stddev": 2}), MNIST).warnings
    assert [w.field for w in warnings] == ["model.layers[0].stddev"]
    assert resolve(spec(NOISE), MNIST).warnings == []


keras = pytest.importorskip("keras")

from training.keras.builders import build_model, compile_model  # noqa: E402
from training.keras.export import export_model  # noqa: E402


def test_it_adds_noise_in_training_only_and_exports_as_the_identity(tmp_path: Path):
    resolution = resolve(spec({**NOISE, "stddev": 0.5}), MNIST)
    model = compile_model(build_model(resolution), resolution, run_eagerly=True)
    x = np.random.default_rng(0).random((16, 28, 28, 1), dtype=np.float32)
    y = keras.utils.to_categorical(np.arange(16) % 10, 10)
    assert np.isfinite(model.fit(x, y, epochs=1, verbose=0).history["loss"][0])
    noise = model.get_layer("gaussian_noise_0")
    assert np.array_equal(keras.ops.convert_to_numpy(noise(x, training=False)), x)
    assert not np.allclose(keras.ops.convert_to_numpy(noise(x, training=True)), x)
    assert export_model(model, x[:4], tmp_path).onnx_path.is_file()  # ONNX agrees with Keras
