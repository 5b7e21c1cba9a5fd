"""Layers that slide a window over an image: conv2d and the poolings (Keras'
``layers.convolutional`` and ``layers.pooling``). Each needs an image, (height, width,
channels), and refuses anything else with a fix."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import Field

from training.layer_specs import (
    ActivationField,
    Initializer,
    Padding,
    Pair,
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


def needs_image(kind: str, shape: Shape, where: Where) -> tuple[int, int, int]:
    """``shape`` as (height, width, channels), or a SpecError saying how to get an image."""
    if len(shape) == 3:
        return shape  # type: ignore[return-value]
    if where.flattened:
        fix = "put convolution and pooling layers before the flatten layer"
    else:
        side = math.isqrt(math.prod(shape))
        example = [side, side, 1] if side * side == math.prod(shape) else ["height", "width", 1]
        fix = (
            f'the input {list(where.input_shape)} is not an image: add {{"type": "reshape", '
            f'"target_shape": {example}}} before this layer, or use dense layers'
        ).replace("'", "")
    raise SpecError(
        [
            Problem(
                field=where.field,
                message=f"{kind} needs an image (height, width, channels) but gets shape "
                f"{list(shape)}",
                found=list(shape),
                allowed="[height, width, channels]",
                fix=fix,
            )
        ]
    )


def slid(
    layer: Any, shape: Shape, where: Where, field: str, window: tuple[int, int], strides: Any
) -> tuple[int, int]:
    """Height and width after sliding ``window`` by ``strides``; refused below 1x1."""
    height, width, _ = needs_image(layer.type, shape, where)
    out = tuple(
        _slide(size, w, s, layer.padding)
        for size, w, s in zip((height, width), window, strides, strict=True)
    )
    if min(out) < 1:
        raise SpecError(
            [
                Problem(
                    field=f"{where.field}.{field}",
                    message=f"{layer.type} with a {window[0]}x{window[1]} window and "
                    f"padding {layer.padding!r} shrinks the {height}x{width} input below 1x1",
                    found=list(window),
                    allowed=f"a window no larger than {height}x{width}",
                    fix=f'use a smaller {field}, padding "same", or fewer '
                    "shrinking layers before this one",
                )
            ]
        )
    return out  # type: ignore[return-value]


def _slide(size: int, window: int, stride: int, padding: str) -> int:
    if padding == "same":
        return math.ceil(size / stride)
    return (size - window) // stride + 1 if size >= window else 0


class Conv2DLayer(Layer):
    """Slides ``filters`` small kernels over the image; each makes one output channel."""

    type: Literal["conv2d"]
    filters: int = Field(
        ge=1, le=4_096, description="Number of filters, i.e. output channels.", examples=[32]
    )
    kernel_size: Pair = Field(description="Window height and width: 3 or [3, 3].", examples=[3])
    strides: Pair = Field(default=(1, 1), description="Step of the window: 1 or [1, 1].")
    padding: Padding = "valid"
    activation: ActivationField = "linear"
    negative_slope: Slope = Field(default=None, validate_default=True)
    use_bias: UseBias = True
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: RegularizerField = None
    bias_regularizer: RegularizerField = None

    summary: ClassVar[str] = "convolution"
    form: ClassVar[tuple[str, ...]] = ("filters", "kernel_size", "activation", "padding")
    weighted: ClassVar[bool] = True

    def output_shape(self, shape: Shape, where: Where) -> Shape:
        return (
            *slid(self, shape, where, "kernel_size", self.kernel_size, self.strides),
            self.filters,
        )

    def count_params(self, shape: Shape) -> Params:
        height, width = self.kernel_size
        weights = height * width * shape[-1] * self.filters
        return Params.trained(weights, self.filters if self.use_bias else 0)

    def build(self, keras: Toolkit, name: str) -> list[Any]:
        built = keras.layers.Conv2D(
            self.filters,
            self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            activation=keras.activation(self.activation),
            name=name,
            **weight_arguments(self, keras),
        )
        return with_activation(self, keras, built, name)


class _Pooling(Layer):
    type: str  # each pooling names itself; declared first so that it is dumped first
    pool_size: Pair = Field(
        default=(2, 2), description="Window height and width: 2 or [2, 2].", examples=[2]
    )
    strides: Pair | None = Field(default=None, description="Step of the window; default pool_size.")
    padding: Padding = "valid"

    summary: ClassVar[str] = "pooling"
    form: ClassVar[tuple[str, ...]] = ("pool_size",)

    def output_shape(self, shape: Shape, where: Where) -> Shape:
        strides = self.strides or self.pool_size
        return (*slid(self, shape, where, "pool_size", self.pool_size, strides), shape[-1])

    def _pooled(self, kind: Any, name: str) -> list[Any]:
        return [kind(self.pool_size, strides=self.strides, padding=self.padding, name=name)]


class MaxPool2DLayer(_Pooling):
    """Keeps the largest value of each window."""

    type: Literal["max_pool2d"]

    def build(self, keras: Toolkit, name: str) -> list[Any]:
        return self._pooled(keras.layers.MaxPooling2D, name)


class AvgPool2DLayer(_Pooling):
    """Keeps the mean of each window."""

    type: Literal["avg_pool2d"]

    def build(self, keras: Toolkit, name: str) -> list[Any]:
        return self._pooled(keras.layers.AveragePooling2D, name)


class GlobalAvgPool2DLayer(Layer):
    """Averages each channel over the whole image: one value per channel."""

    type: Literal["global_avg_pool2d"]
    summary: ClassVar[str] = "pooling"

    def output_shape(self, shape: Shape, where: Where) -> Shape:
        return (needs_image(self.type, shape, where)[2],)

    def build(self, keras: Toolkit, name: str) -> list[Any]:
        return [keras.layers.GlobalAveragePooling2D(name=name)]
