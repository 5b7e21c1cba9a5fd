"""Preprocessing shared by training and serving, so the two can never drift. numpy only."""

from __future__ import annotations

import numpy as np

PIXEL_MAX = 255.0


def scale_pixels(pixels: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """0-255 pixels of any numeric dtype -> float32 in [0, 1], shaped (N, *input_shape)."""
    # One pass: each pixel is cast to float32 and divided by 255 in float32 (the same numbers
    # as casting first and dividing after, without the intermediate array).
    x = np.divide(pixels, PIXEL_MAX, dtype=np.float32)
    return x.reshape((-1, *input_shape))
