"""The core layers: flatten, dense, reshape and activation (Keras' ``layers.core`` and kin)."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from training.layer_specs import (
    ActivationField,
    Initializer,
    RegularizerField,
    Slope,
    UseBias,
)
from training.layers.base import (
    Layer,
    Params,
    Shape,
    Toolkit,
    Where,
    weight_arguments,
    with_activation,
)
from training.problems import Problem, SpecError


class FlattenLayer(Layer):
    """Lays every value of a row out in one vector."""

    type: Literal["flatten"]
    flattens: ClassVar[bool] = True

    def output_shape(self, shape: Shape, where: Where) -> Shape:
        return (math.prod(shape),)

    def build(self, keras: Toolkit, name: str) -> list[Any]:
        return [keras.layers.Flatten(name=name)]


class DenseLayer(Layer):
    """Every output is a weighted sum of every input, plus a bias, through the activation."""

    type: Literal["dense"]
    units: int = Field(
        ge=1, le=65_536, description="Number of neurons, i.e. outputs.", examples=[128]
    )
    activation: ActivationField = "linear"
    negative_slope: Slope = Field(default=None, validate_default=True)
    use_bias: UseBias = True
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: RegularizerField = None
    bias_regularizer: RegularizerField = None

    form: ClassVar[tuple[str, ...]] = ("units", "activation")
    weighted: ClassVar[bool] = True

    def output_shape(self, shape: Shape, where: Where) -> Shape:
        return (*shape[:-1], self.units)

    def count_params(self, shape: Shape) -> Params:
        return Params.trained(shape[-1] * self.units, self.units if self.use_bias else 0)

    def build(self, keras: Toolkit, name: str) -> list[Any]:
        act = keras.activation(self.activation)
        built = keras.layers.Dense(
            self.units, activation=act, name=name, **weight_arguments(self, keras)
        )
        return with_activation(self, keras, built, name)


class ReshapeLayer(Layer):
    """Gives the same values another shape, e.g. flat rows of 784 an image of 28x28x1."""

    type: Literal["reshape"]
    target_shape: list[int] = Field(
        min_length=1,
        max_length=3,
        description="The new shape without the batch axis, e.g. [28, 28, 1]; one -1 is inferred.",
        examples=[[28, 28, 1]],
    )

    form: ClassVar[tuple[str, ...]] = ("target_shape",)

    @field_validator("target_shape")
    @classmethod
    def _sizes(cls, shape: list[int]) -> list[int]:
        if any(size == 0 or size < -1 for size in shape) or shape.count(-1) > 1:
            raise ValueError(
                f"target_shape {shape} must hold sizes of at least 1 and at most one -1 "
                "(inferred), e.g. [28, 28, 1]"
            )
        return shape

    def output_shape(self, shape: Shape, where: Where) -> Shape:
        target, size = self.target_shape, math.prod(shape)
        known = math.prod(s for s in target if s != -1)
        if -1 in target and size % known == 0:
            return tuple(size // known if s == -1 else s for s in target)
        if -1 not in target and known == size:
            return tuple(target)
        raise SpecError(
            [
                Problem(
                    field=f"{where.field}.target_shape",
                    message=f"reshape cannot turn {list(shape)} ({size} values) into {target}",
                    found=target,
                    allowed=f"a shape of {size} values in all",
                    fix=f"choose sizes whose product is {size}, or put -1 in one place to infer it",
                )
            ]
        )

    def build(self, keras: Toolkit, name: str) -> list[Any]:
        return [keras.layers.Reshape(tuple(self.target_shape), name=name)]


class ActivationLayer(Layer):
    """Applies an activation function on its own, e.g. after a batch_norm."""

    type: Literal["activation"]
    activation: ActivationField
    negative_slope: Slope = Field(default=None, validate_default=True)

    form: ClassVar[tuple[str, ...]] = ("activation",)

    def build(self, keras: Toolkit, name: str) -> list[Any]:
        if self.activation == "leaky_relu":
            return [keras.layers.LeakyReLU(negative_slope=self.negative_slope, name=name)]
        return [keras.layers.Activation(keras.activation(self.activation), name=name)]
