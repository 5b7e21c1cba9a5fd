"""Follow a tensor's shape through the layers and count each layer's parameters. No TensorFlow.

The counts are Keras' own (``layer.count_params()``), so the summary answers "how many
parameters (w, b)?" for any spec before anything is built. A layer that cannot take the shape
it is given is refused here, with the layer named. Each kind's rule is its own
(``Layer.output_shape`` and ``Layer.count_params`` in ``training.layers``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from training.layers import Layer, Shape, Where


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


def follow(layers: list[Layer], input_shape: Shape) -> list[LayerShape]:
    """Each layer's output shape and parameter count; SpecError at the first layer that cannot
    take its input."""
    shape, rows = tuple(input_shape), []
    flattened = False
    for index, layer in enumerate(layers):
        where = Where(f"model.layers[{index}]", flattened, tuple(input_shape))
        out, count = layer.output_shape(shape, where), layer.count_params(shape)
        rows.append(
            LayerShape(
                index, layer.type, out, count.weights, count.biases, count.params, count.trainable
            )
        )
        flattened = flattened or layer.flattens
        shape = out
    return rows


# Training keeps each layer's output for the backward pass, computes a gradient of the same
# size during it, and the layer's inner steps (the sums before an activation, a dropout's
# mask) hold about one more: three float32 copies of every activation, per example.
ACTIVATION_COPIES = 3
FLOAT_BYTES = 4


def activation_bytes_per_example(rows: list[LayerShape], input_shape: Shape) -> int:
    """The memory one example's activations take while training (bytes): the input and every
    layer's output, ``ACTIVATION_COPIES`` times, as float32. A batch takes ``batch_size``
    times this, whatever the device; the weights come on top (see the parameter count)."""
    elements = math.prod(input_shape) + sum(math.prod(row.output_shape) for row in rows)
    return elements * FLOAT_BYTES * ACTIVATION_COPIES
