"""Follow a tensor's shape through the layers and count each layer's parameters. No TensorFlow.

The counts are Keras' own (``layer.count_params()``), so the summary answers "how many
parameters (w, b)?" for any spec before anything is built. A layer that cannot take the shape
it is given is refused here, with the layer named.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from training.layer_specs import (
    ActivationLayer,
    AvgPool2DLayer,
    BatchNormLayer,
    Conv2DLayer,
    DenseLayer,
    DropoutLayer,
    FlattenLayer,
    GlobalAvgPool2DLayer,
    MaxPool2DLayer,
    ReshapeLayer,
)
from training.problems import Problem, SpecError

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerShape:
    """One layer of the summary: its output shape and its parameters (w, b and the rest)."""

    index: int
    type: str
    output_shape: Shape
    weights: int = 0  # kernel entries (batch norm: its scale, gamma)
    biases: int = 0  # bias entries (batch norm: its shift, beta)
    params: int = 0  # everything Keras stores for the layer
    trainable_params: int = 0

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["output_shape"] = list(self.output_shape)
        return row


def follow(layers: list[Any], input_shape: Shape) -> list[LayerShape]:
    """Each layer's output shape and parameter count; SpecError at the first layer that cannot
    take its input."""
    shape, rows = tuple(input_shape), []
    flattened = False
    for index, layer in enumerate(layers):
        row = _layer(index, layer, shape, flattened, tuple(input_shape))
        flattened = flattened or isinstance(layer, FlattenLayer)
        rows.append(row)
        shape = row.output_shape
    return rows


def _layer(index: int, layer: Any, shape: Shape, flattened: bool, input_shape: Shape) -> LayerShape:
    where = f"model.layers[{index}]"
    if isinstance(layer, FlattenLayer):
        return LayerShape(index, layer.type, (math.prod(shape),))
    if isinstance(layer, DenseLayer):
        weights = shape[-1] * layer.units
        biases = layer.units if layer.use_bias else 0
        return _weighted(index, layer.type, (*shape[:-1], layer.units), weights, biases)
    if isinstance(layer, DropoutLayer | ActivationLayer):
        return LayerShape(index, layer.type, shape)
    if isinstance(layer, BatchNormLayer):
        channels = shape[-1]
        return LayerShape(index, layer.type, shape, channels, channels, 4 * channels, 2 * channels)
    if isinstance(layer, ReshapeLayer):
        return LayerShape(index, layer.type, _reshape(where, layer.target_shape, shape))
    if isinstance(layer, Conv2DLayer | MaxPool2DLayer | AvgPool2DLayer | GlobalAvgPool2DLayer):
        _needs_image(where, layer.type, shape, flattened, input_shape)
        height, width, channels = shape
        if isinstance(layer, GlobalAvgPool2DLayer):
            return LayerShape(index, layer.type, (channels,))
        if isinstance(layer, Conv2DLayer):
            window, strides, field = layer.kernel_size, layer.strides, "kernel_size"
        else:
            window, strides, field = layer.pool_size, layer.strides or layer.pool_size, "pool_size"
        out = tuple(
            _slide(size, w, s, layer.padding)
            for size, w, s in zip((height, width), window, strides, strict=True)
        )
        if min(out) < 1:
            raise SpecError(
                [
                    Problem(
                        field=f"{where}.{field}",
                        message=f"{layer.type} with a {window[0]}x{window[1]} window and "
                        f"padding {layer.padding!r} shrinks the {height}x{width} input below 1x1",
                        found=list(window),
                        allowed=f"a window no larger than {height}x{width}",
                        fix=f'use a smaller {field}, padding "same", or fewer '
                        "shrinking layers before this one",
                    )
                ]
            )
        if isinstance(layer, Conv2DLayer):
            weights = window[0] * window[1] * channels * layer.filters
            biases = layer.filters if layer.use_bias else 0
            return _weighted(index, layer.type, (*out, layer.filters), weights, biases)
        return LayerShape(index, layer.type, (*out, channels))
    raise TypeError(f"no shape rule for layer {layer!r}")


def _weighted(index: int, kind: str, shape: Shape, weights: int, biases: int) -> LayerShape:
    total = weights + biases
    return LayerShape(index, kind, shape, weights, biases, total, total)


def _slide(size: int, window: int, stride: int, padding: str) -> int:
    if padding == "same":
        return math.ceil(size / stride)
    return (size - window) // stride + 1 if size >= window else 0


def _needs_image(where: str, kind: str, shape: Shape, flattened: bool, input_shape: Shape) -> None:
    if len(shape) == 3:
        return
    if flattened:
        fix = "put convolution and pooling layers before the flatten layer"
    else:
        side = math.isqrt(math.prod(shape))
        example = [side, side, 1] if side * side == math.prod(shape) else ["height", "width", 1]
        fix = (
            f'the input {list(input_shape)} is not an image: add {{"type": "reshape", '
            f'"target_shape": {example}}} before this layer, or use dense layers'
        ).replace("'", "")
    raise SpecError(
        [
            Problem(
                field=where,
                message=f"{kind} needs an image (height, width, channels) but gets shape "
                f"{list(shape)}",
                found=list(shape),
                allowed="[height, width, channels]",
                fix=fix,
            )
        ]
    )


def _reshape(where: str, target: list[int], shape: Shape) -> Shape:
    size = math.prod(shape)
    known = math.prod(s for s in target if s != -1)
    if -1 in target and size % known == 0:
        return tuple(size // known if s == -1 else s for s in target)
    if -1 not in target and known == size:
        return tuple(target)
    raise SpecError(
        [
            Problem(
                field=f"{where}.target_shape",
                message=f"reshape cannot turn {list(shape)} ({size} values) into {target}",
                found=target,
                allowed=f"a shape of {size} values in all",
                fix=f"choose sizes whose product is {size}, or put -1 in one place to infer it",
            )
        ]
    )
