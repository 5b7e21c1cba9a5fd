"""Spec -> Keras objects: one small builder per thing.

Every spec layer becomes a Keras layer named ``<type>_<index>`` (a leaky_relu activation adds
a ``LeakyReLU`` layer after it), so trained weights can be read back by the spec's index.
"""

from __future__ import annotations

from typing import Any

import keras

from training.keras.activations import keras_activation
from training.keras.losses import build_loss
from training.layer_specs import (
    ActivationLayer,
    AvgPool2DLayer,
    BatchNormLayer,
    ConstantInitializer,
    Conv2DLayer,
    DenseLayer,
    DropoutLayer,
    FlattenLayer,
    GlobalAvgPool2DLayer,
    MaxPool2DLayer,
    RandomNormalInitializer,
    RandomUniformInitializer,
    Regularizer,
    ReshapeLayer,
)
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


def _weights(layer: DenseLayer | Conv2DLayer) -> dict[str, Any]:
    return {
        "use_bias": layer.use_bias,
        "kernel_initializer": build_initializer(layer.kernel_initializer),
        "bias_initializer": build_initializer(layer.bias_initializer),
        "kernel_regularizer": build_regularizer(layer.kernel_regularizer),
        "bias_regularizer": build_regularizer(layer.bias_regularizer),
    }


def build_layer(index: int, layer: Any) -> list[keras.layers.Layer]:
    """The Keras layers for one spec layer: itself, then a LeakyReLU when it asks for one."""
    name = layer_name(index, layer)
    activation = getattr(layer, "activation", None)
    leaky = activation == "leaky_relu"
    act = keras_activation(activation)
    built: keras.layers.Layer
    if isinstance(layer, FlattenLayer):
        built = keras.layers.Flatten(name=name)
    elif isinstance(layer, DenseLayer):
        built = keras.layers.Dense(layer.units, activation=act, name=name, **_weights(layer))
    elif isinstance(layer, Conv2DLayer):
        built = keras.layers.Conv2D(
            layer.filters,
            layer.kernel_size,
            strides=layer.strides,
            padding=layer.padding,
            activation=act,
            name=name,
            **_weights(layer),
        )
    elif isinstance(layer, MaxPool2DLayer | AvgPool2DLayer):
        kind = (
            keras.layers.MaxPooling2D
            if isinstance(layer, MaxPool2DLayer)
            else keras.layers.AveragePooling2D
        )
        built = kind(layer.pool_size, strides=layer.strides, padding=layer.padding, name=name)
    elif isinstance(layer, GlobalAvgPool2DLayer):
        built = keras.layers.GlobalAveragePooling2D(name=name)
    elif isinstance(layer, ReshapeLayer):
        built = keras.layers.Reshape(tuple(layer.target_shape), name=name)
    elif isinstance(layer, DropoutLayer):
        built = keras.layers.Dropout(layer.rate, name=name)
    elif isinstance(layer, BatchNormLayer):
        built = keras.layers.BatchNormalization(
            momentum=layer.momentum, epsilon=layer.epsilon, name=name
        )
    elif isinstance(layer, ActivationLayer):
        if leaky:
            return [keras.layers.LeakyReLU(negative_slope=layer.negative_slope, name=name)]
        built = keras.layers.Activation(act, name=name)
    else:
        raise TypeError(f"no builder for layer {layer!r}")
    if leaky:
        slope = keras.layers.LeakyReLU(negative_slope=layer.negative_slope, name=f"{name}_leaky")
        return [built, slope]
    return [built]


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
