"""Keras callbacks for the spec's training options: early stopping and reduce-on-plateau."""

from __future__ import annotations

import keras

from training.spec import JobSpec


def option_callbacks(spec: JobSpec) -> list[keras.callbacks.Callback]:
    callbacks: list[keras.callbacks.Callback] = []
    if spec.early_stopping is not None:
        stop = spec.early_stopping
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=stop.monitor,
                patience=stop.patience,
                min_delta=stop.min_delta,
                restore_best_weights=stop.restore_best_weights,
            )
        )
    if spec.reduce_on_plateau is not None:
        plateau = spec.reduce_on_plateau
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=plateau.monitor,
                factor=plateau.factor,
                patience=plateau.patience,
                min_delta=plateau.min_delta,
                cooldown=plateau.cooldown,
                min_lr=plateau.min_lr,
            )
        )
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
