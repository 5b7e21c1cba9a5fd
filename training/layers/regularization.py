"""Layers that fight overfitting and steady training: dropout, gaussian_noise and batch_norm
(Keras' ``layers.regularization`` and ``layers.normalization``). Each keeps the shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from training.layers.base import Layer, Params, Shape, Toolkit
from training.problems import SpecWarning

LOUD_NOISE = 1.0  # inputs are scaled to [0, 1]; noise this large drowns them


class DropoutLayer(Layer):
    """Sets a random share of its inputs to 0 at each training step; does nothing at inference."""

    type: Literal["dropout"]
    rate: float = Field(
        ge=0, lt=1, description="Share of inputs set to 0 at each training step.", examples=[0.25]
    )

    form = ("rate",)

    def build(self, keras: Toolkit, name: str) -> list[Any]:
        return [keras.layers.Dropout(self.rate, name=name)]


class GaussianNoiseLayer(Layer):
    """Adds noise drawn from N(0, stddev²) to its inputs while training; does nothing at
    inference."""

    type: Literal["gaussian_noise"]
    stddev: float = Field(
        gt=0, le=10, description="Standard deviation of the noise added.", examples=[0.1]
    )

    form = ("stddev",)

    def build(self, keras: Toolkit, name: str) -> list[Any]:
        return [keras.layers.GaussianNoise(self.stddev, name=name)]

    def advise(self, field: str) -> list[SpecWarning]:
        if self.stddev < LOUD_NOISE:
            return []
        return [
            SpecWarning(
                code="underfitting",
                field=f"{field}.stddev",
                message=f"noise with a standard deviation of {self.stddev} is as large as the "
                "inputs themselves (scaled to [0, 1]), so the model learns mostly noise; "
                "0.05 to 0.3 is usual",
            )
        ]


class BatchNormLayer(Layer):
    """Scales each channel to mean 0 and variance 1 over the batch, then learns a scale and
    shift."""

    type: Literal["batch_norm"]
    momentum: float = Field(default=0.99, gt=0, lt=1, description="Moving-average momentum.")
    epsilon: float = Field(default=0.001, gt=0, description="Added to the variance.")

    def count_params(self, shape: Shape) -> Params:
        # gamma and beta train; the moving mean and variance are stored but not trained.
        channels = shape[-1]
        return Params(channels, channels, 4 * channels, 2 * channels)

    def build(self, keras: Toolkit, name: str) -> list[Any]:
        return [
            keras.layers.BatchNormalization(momentum=self.momentum, epsilon=self.epsilon, name=name)
        ]
