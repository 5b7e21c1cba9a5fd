"""Keras callbacks for the spec's training options: early stopping and reduce-on-plateau."""

from __future__ import annotations

import keras

from training.spec import JobSpec


def option_callbacks(spec: JobSpec) -> list[keras.callbacks.Callback]:
    """The spec's early stopping and reduce-on-plateau; each option's fields are its callback's
    keyword arguments (see training.option_specs)."""
    callbacks: list[keras.callbacks.Callback] = []
    if spec.early_stopping is not None:
        callbacks.append(keras.callbacks.EarlyStopping(**spec.early_stopping.model_dump()))
    if spec.reduce_on_plateau is not None:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(**spec.reduce_on_plateau.model_dump()))
    return callbacks


def early_stopping_outcome(callbacks: list[keras.callbacks.Callback]) -> dict[str, float]:
    """Where early stopping stopped and, when it restored weights, which epoch's they are."""
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.EarlyStopping):
            outcome: dict[str, float] = {}
            if callback.stopped_epoch > 0:
                outcome["stopped_epoch"] = float(callback.stopped_epoch + 1)
            if callback.restore_best_weights and callback.best_weights is not None:
                outcome["restored_epoch"] = float(callback.best_epoch + 1)
            return outcome
    return {}
