"""Turn request instances into the model's input batch, with the training preprocessing."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from training.preprocessing import PIXEL_MAX, scale_pixels


class InputError(ValueError):
    """The instances cannot be fed to the model; the message says what was expected."""


def pixels_to_batch(instances: list[Any], input_shape: tuple[int, ...]) -> np.ndarray:
    """0-255 pixel rows (nested ``H×W`` lists or flat lists) -> float32 batch in [0, 1]."""
    if not instances:
        raise InputError("instances is empty; send at least one image")
    height, width = input_shape[0], input_shape[1]
    expected = (
        f"each instance must be a {height}×{width} nested list or a flat list of "
        f"{math.prod(input_shape)} pixel values from 0 to 255"
    )
    try:
        array = np.asarray(instances, dtype=np.float64)
    except (ValueError, TypeError):
        raise InputError(f"instances are ragged or not numbers; {expected}") from None
    size = math.prod(input_shape)
    if array.ndim < 2 or math.prod(array.shape[1:]) != size or array.shape[1] not in (height, size):
        raise InputError(f"instances have shape {list(array.shape)[1:]} each; {expected}")
    if not np.isfinite(array).all():
        raise InputError("instances hold NaN or infinite values; pixels must be 0 to 255")
    if array.min() < 0 or array.max() > PIXEL_MAX:
        raise InputError(
            f"pixel values range from {array.min():g} to {array.max():g}; they must be 0 to 255"
        )
    return scale_pixels(array, input_shape)
