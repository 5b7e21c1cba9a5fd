"""Preprocessing shared by training and serving, so the two can never drift. numpy only."""

from __future__ import annotations

import numpy as np

PIXEL_MAX = 255.0


def scale_pixels(pixels: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """0-255 pixels of any numeric dtype -> float32 in [0, 1], shaped (N, *input_shape)."""
    x = np.asarray(pixels, dtype=np.float32) / PIXEL_MAX
    return x.reshape((-1, *input_shape))
