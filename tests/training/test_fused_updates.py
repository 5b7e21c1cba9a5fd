"""The fused updates compute Keras' own: after a few steps on the same gradients, every weight
and every optimizer variable matches Keras' update to float32 rounding (issue #14)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from training.keras.fused_updates import fuse  # noqa: E402

SETTINGS = [
    ("rmsprop", {}),
    ("rmsprop", {"momentum": 0.9}),
    ("rmsprop", {"centered": True, "momentum": 0.5}),
    ("adam", {}),
    ("adam", {"amsgrad": True}),
    ("adamw", {"weight_decay": 0.01}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
]
OPTIMIZERS = {
    "rmsprop": keras.optimizers.RMSprop,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "sgd": keras.optimizers.SGD,
}


def steps(name: str, options: dict, fused: bool) -> list[np.ndarray]:
    """Five updates of two weights with fixed gradients; the weights and the optimizer's state."""
    rng = np.random.default_rng(0)
    weights = [keras.Variable(rng.normal(size=shape).astype("float32")) for shape in [(7, 5), (5,)]]
    optimizer = OPTIMIZERS[name](learning_rate=0.01, **options)
    if fused:
        assert fuse(optimizer, weights)
    else:
        optimizer.build(weights)
    for _ in range(5):
        gradients = [rng.normal(size=w.shape).astype("float32") for w in weights]
        optimizer.apply(gradients, weights)
    return [np.array(v) for v in [*weights, *optimizer.variables]]


@pytest.mark.parametrize(("name", "options"), SETTINGS)
def test_a_fused_update_is_keras_update(name: str, options: dict):
    fused, plain = steps(name, options, fused=True), steps(name, options, fused=False)
    assert len(fused) == len(plain)
    for a, b in zip(fused, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_optimizers_without_a_matching_kernel_keep_keras_update():
    weights = [keras.Variable(np.ones((3,), "float32"))]
    assert not fuse(keras.optimizers.Nadam(), weights)
    assert not fuse(keras.optimizers.Adagrad(), weights)
    assert not fuse(keras.optimizers.SGD(), weights)  # no momentum: already one operation
    assert fuse(keras.optimizers.RMSprop(), weights)
