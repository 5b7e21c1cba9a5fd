"""The fused updates compute Keras' own: after a few steps on the same gradients, every weight
and every optimizer variable matches Keras' update to float32 rounding, and a whole fit (traced,
several steps per execution, clipping, a schedule) ends where Keras' does (issue #14)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from training.keras.fused_updates import fuse, fuse_optimizer, is_fused  # noqa: E402

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
        assert fuse_optimizer(optimizer, weights)
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
    assert not fuse_optimizer(keras.optimizers.Nadam(), weights)
    assert not fuse_optimizer(keras.optimizers.Adagrad(), weights)
    assert not fuse_optimizer(keras.optimizers.SGD(), weights)  # no momentum: one operation
    assert fuse_optimizer(keras.optimizers.RMSprop(), weights)


def fitted(fused: bool, jit_compile: bool = False) -> tuple[keras.Model, list[float]]:
    """A small model fitted 2 epochs with adam (amsgrad), clipping and a decaying rate; with
    ``fused``, ``fuse`` is asked first (and may decline)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 6)).astype("float32"), rng.normal(size=(64, 2)).astype("float32")
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(8, "relu"), keras.layers.Dense(2)]
    )
    rate = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=4, decay_rate=0.5)
    optimizer = keras.optimizers.Adam(rate, amsgrad=True, clipnorm=0.5)
    model.compile(optimizer, "mse", steps_per_execution=2, jit_compile=jit_compile)
    if fused:
        fuse(model)
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return model, history.history["loss"]


def test_a_fit_with_fused_updates_ends_where_keras_does():
    fast, fast_losses = fitted(fused=True)
    plain, plain_losses = fitted(fused=False)
    assert is_fused(fast.optimizer) and not is_fused(plain.optimizer)
    np.testing.assert_allclose(fast_losses, plain_losses, rtol=1e-5)
    for a, b in zip(fast.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.fixture
def xla_allowed():
    """Keras refuses XLA while op determinism is on (a seeded job turns it on for the process)."""
    from tensorflow.python.framework import config  # where Keras reads it; no public getter

    determinism = config.is_op_determinism_enabled()
    config.disable_op_determinism()
    yield
    if determinism:
        config.enable_op_determinism()


def test_a_model_compiled_with_xla_keeps_keras_update(xla_allowed: None):
    """XLA fuses the update itself, and has no kernel for amsgrad's: the fit must still run."""
    model, losses = fitted(fused=True, jit_compile=True)
    assert model.jit_compile
    assert not is_fused(model.optimizer)
    assert np.isfinite(losses).all()
