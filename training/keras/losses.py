"""Losses Keras does not ship under the names the lesson uses.

RMSE is the square root of the batch's mean squared error. Keras reduces a loss by averaging
per-row values, and the mean of per-row square roots is not the root of the mean (for one
output it would be the MAE), so this loss takes the root after Keras' own MSE reduction.
"""

from __future__ import annotations

from typing import Any

import keras

# Keeps the gradient finite when the error is exactly 0 (d sqrt(u)/du is infinite at u = 0).
EPSILON = 1e-12


@keras.saving.register_keras_serializable(package="descent")
class RootMeanSquaredError(keras.losses.Loss):
    def __init__(self, name: str = "rmse", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self._mse = keras.losses.MeanSquaredError()

    def call(self, y_true: Any, y_pred: Any) -> Any:
        # Per-row squared error; __call__ below takes the batch mean's root.
        return keras.losses.mean_squared_error(y_true, y_pred)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return keras.ops.sqrt(self._mse(y_true, y_pred, sample_weight) + EPSILON)


def build_loss(name: str) -> Any:
    """A Keras loss for a spec's loss name (Keras' own strings, plus rmse)."""
    if name == "rmse":
        return RootMeanSquaredError()
    return name
