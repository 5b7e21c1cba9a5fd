"""The layer kinds a model may be made of, one class each, and their registry. No TensorFlow.

Field names and defaults follow Keras (``keras.layers.Dense`` and friends), so a Keras user
can write what they already know: ``{"type": "dense", "units": 64, "activation": "relu",
"kernel_initializer": "he_normal", "kernel_regularizer": {"l2": 0.001}}``.

A kind is one ``Layer`` subclass (see ``training.layers.base``) holding its fields, shape rule,
parameter count, Keras builder and advice; defining it in one of the modules imported here
registers it in ``KINDS``, the spec's ``LayerSpec`` union and the catalog the page's form is
built from (``GET /v1/layers``).
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field
from typing_extensions import TypeAliasType

# Defining a kind registers it; the registry (and the page's form) lists kinds in this order.
from training.layers import convolution, core, regularization  # noqa: F401
from training.layers.base import KINDS, Layer, Params, Shape, Where
from training.layers.convolution import (
    AvgPool2DLayer,
    Conv2DLayer,
    GlobalAvgPool2DLayer,
    MaxPool2DLayer,
)
from training.layers.core import ActivationLayer, DenseLayer, FlattenLayer, ReshapeLayer
from training.layers.regularization import BatchNormLayer, DropoutLayer, GaussianNoiseLayer

LAYER_TYPES: tuple[str, ...] = tuple(KINDS)
# The kinds' names as one enum, for the answers that name a layer's kind.
LayerType = TypeAliasType("LayerType", Literal[LAYER_TYPES])  # type: ignore[valid-type]
LayerSpec = Annotated[
    Union[tuple(KINDS.values())],  # type: ignore[valid-type]  # noqa: UP007
    Field(discriminator="type"),
]

__all__ = [
    "KINDS",
    "LAYER_TYPES",
    "ActivationLayer",
    "AvgPool2DLayer",
    "BatchNormLayer",
    "Conv2DLayer",
    "DenseLayer",
    "DropoutLayer",
    "FlattenLayer",
    "GaussianNoiseLayer",
    "GlobalAvgPool2DLayer",
    "Layer",
    "LayerSpec",
    "LayerType",
    "MaxPool2DLayer",
    "Params",
    "ReshapeLayer",
    "Shape",
    "Where",
]
