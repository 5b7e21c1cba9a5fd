"""Spec -> Keras objects: one small builder per thing."""

from __future__ import annotations

import keras

from training.spec import (
    Conv2DLayer,
    DenseLayer,
    DropoutLayer,
    FlattenLayer,
    JobSpec,
    MaxPool2DLayer,
    OptimizerSpec,
)


def build_layer(layer: object) -> keras.layers.Layer:
    if isinstance(layer, FlattenLayer):
        return keras.layers.Flatten()
    if isinstance(layer, DenseLayer):
        return keras.layers.Dense(layer.units, activation=layer.activation)
    if isinstance(layer, Conv2DLayer):
        return keras.layers.Conv2D(
            layer.filters, layer.kernel_size, activation=layer.activation, padding=layer.padding
        )
    if isinstance(layer, MaxPool2DLayer):
        return keras.layers.MaxPooling2D(layer.pool_size)
    if isinstance(layer, DropoutLayer):
        return keras.layers.Dropout(layer.rate)
    raise TypeError(f"no builder for layer {layer!r}")


def build_model(spec: JobSpec) -> keras.Model:
    """A Sequential model whose input is the data set's and whose layers are the spec's."""
    info = spec.info
    layers = [build_layer(layer) for layer in spec.resolved_layers()]
    return keras.Sequential([keras.Input(shape=info.input_shape), *layers], name="descent")


def build_optimizer(spec: OptimizerSpec) -> keras.optimizers.Optimizer:
    classes = {
        "sgd": keras.optimizers.SGD,
        "adam": keras.optimizers.Adam,
        "adagrad": keras.optimizers.Adagrad,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return classes[spec.name](learning_rate=spec.learning_rate)


def build_accuracy(spec: JobSpec) -> keras.metrics.Metric:
    """Accuracy whatever the label encoding, always reported under the name ``accuracy``."""
    if spec.label_encoding == "integer":
        return keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    return keras.metrics.CategoricalAccuracy(name="accuracy")


def compile_model(spec: JobSpec) -> keras.Model:
    model = build_model(spec)
    model.compile(
        optimizer=build_optimizer(spec.optimizer),
        loss=spec.loss,
        metrics=[build_accuracy(spec)],
    )
    return model
