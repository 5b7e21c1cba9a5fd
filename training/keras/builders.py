"""Spec -> Keras objects: one small builder per thing. Each layer kind builds itself
(``Layer.build`` in ``training.layers``), given the Keras toolkit made here.

Every spec layer becomes a Keras layer named ``<type>_<index>`` (a leaky_relu activation adds
a ``LeakyReLU`` layer after it), so trained weights can be read back by the spec's index.
"""

from __future__ import annotations

from typing import Any

import keras

from training.keras.activations import keras_activation
from training.keras.losses import build_loss
from training.layer_specs import (
    ConstantInitializer,
    RandomNormalInitializer,
    RandomUniformInitializer,
    Regularizer,
)
from training.layers import Layer
from training.optimizer_specs import CosineDecay, ExponentialDecay, PiecewiseConstant
from training.resolve import Resolution

OPTIMIZERS = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "adagrad": keras.optimizers.Adagrad,
    "rmsprop": keras.optimizers.RMSprop,
    "nadam": keras.optimizers.Nadam,
}


def layer_name(index: int, layer: Any) -> str:
    return f"{layer.type}_{index}"


def build_initializer(spec: Any) -> keras.initializers.Initializer:
    if isinstance(spec, str):
        return keras.initializers.get(spec)
    if isinstance(spec, ConstantInitializer):
        return keras.initializers.Constant(spec.value)
    if isinstance(spec, RandomNormalInitializer):
        kind = (
            keras.initializers.RandomNormal
            if spec.name == "random_normal"
            else keras.initializers.TruncatedNormal
        )
        return kind(mean=spec.mean, stddev=spec.stddev)
    if isinstance(spec, RandomUniformInitializer):
        return keras.initializers.RandomUniform(minval=spec.minval, maxval=spec.maxval)
    raise TypeError(f"no builder for initializer {spec!r}")


def build_regularizer(spec: Regularizer | None) -> keras.regularizers.Regularizer | None:
    return None if spec is None else keras.regularizers.L1L2(l1=spec.l1, l2=spec.l2)


class _Toolkit:
    """What a layer kind's ``build`` receives (``training.layers.base.Toolkit``)."""

    layers = keras.layers
    initializer = staticmethod(build_initializer)
    regularizer = staticmethod(build_regularizer)
    activation = staticmethod(keras_activation)


def build_layer(index: int, layer: Layer) -> list[keras.layers.Layer]:
    """The Keras layers for one spec layer: itself, then a LeakyReLU when it asks for one."""
    return layer.build(_Toolkit(), layer_name(index, layer))


def build_model(resolution: Resolution) -> keras.Sequential:
    """A Sequential model whose input is the data set's and whose layers are the spec's."""
    layers = [
        keras_layer
        for index, layer in enumerate(resolution.spec.model.layers or [])
        for keras_layer in build_layer(index, layer)
    ]
    return keras.Sequential(
        [keras.Input(shape=resolution.data.input_shape), *layers], name="descent"
    )


def build_learning_rate(rate: Any) -> Any:
    if isinstance(rate, ExponentialDecay):
        return keras.optimizers.schedules.ExponentialDecay(
            rate.initial_learning_rate, rate.decay_steps, rate.decay_rate, staircase=rate.staircase
        )
    if isinstance(rate, CosineDecay):
        return keras.optimizers.schedules.CosineDecay(
            rate.initial_learning_rate, rate.decay_steps, alpha=rate.alpha
        )
    if isinstance(rate, PiecewiseConstant):
        return keras.optimizers.schedules.PiecewiseConstantDecay(rate.boundaries, rate.values)
    return float(rate)


def build_optimizer(spec: Any) -> keras.optimizers.Optimizer:
    arguments = spec.model_dump(exclude={"name", "learning_rate"}, exclude_none=True)
    return OPTIMIZERS[spec.name](learning_rate=build_learning_rate(spec.learning_rate), **arguments)


def build_metric(name: str, encoding: str) -> keras.metrics.Metric:
    """A metric reported under the spec's name whatever the label encoding."""
    if name == "accuracy":
        kind = {
            "integer": keras.metrics.SparseCategoricalAccuracy,
            "binary": keras.metrics.BinaryAccuracy,
        }.get(encoding, keras.metrics.CategoricalAccuracy)
        return kind(name="accuracy")
    kinds = {
        "mse": keras.metrics.MeanSquaredError,
        "rmse": keras.metrics.RootMeanSquaredError,
        "mae": keras.metrics.MeanAbsoluteError,
    }
    return kinds[name](name=name)


def compile_model(
    model: keras.Model, resolution: Resolution, *, run_eagerly: bool = False
) -> keras.Model:
    targets = resolution.targets
    model.compile(
        optimizer=build_optimizer(resolution.spec.optimizer),
        loss=build_loss(targets.loss),
        metrics=[build_metric(name, targets.label_encoding) for name in targets.metrics],
        run_eagerly=run_eagerly,
    )
    return model
