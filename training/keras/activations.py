"""Activation functions as Keras sees them, chosen so that every one exports to ONNX.

Keras' own ``gelu`` computes ``erfc``, which has no ONNX operator, so the exported model
could not be served; the same exact GELU written with ``erf`` exports and gives the same
numbers. ``leaky_relu`` with its slope becomes a ``LeakyReLU`` layer (see builders).
"""

from __future__ import annotations

import math
from typing import Any

import keras


@keras.saving.register_keras_serializable(package="descent")
def gelu(x: Any) -> Any:
    """The exact GELU, ``x * Φ(x) = 0.5 * x * (1 + erf(x / √2))``."""
    return 0.5 * x * (1.0 + keras.ops.erf(x / math.sqrt(2.0)))


def keras_activation(name: str | None) -> Any:
    """What to pass as a Keras layer's ``activation`` for a spec's activation name."""
    if name == "gelu":
        return gelu
    if name == "leaky_relu":
        return None  # a LeakyReLU layer follows, with the spec's negative_slope
    return name
