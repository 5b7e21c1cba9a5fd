"""Keras callbacks that let a caller watch a fit batch by batch and stop it cleanly.

With several steps per execution (training/keras/execution.py) Keras calls the batch hooks
once per execution, after its last step: an execution lasts well under a second, so a cancel
is still seen within one and progress still flows every ``PROGRESS_INTERVAL_SECONDS``.

They take plain callables, so ``training/`` stays free of databases: the worker passes one that
reads the job's status and one that records progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import keras

StopCheck = Callable[[], bool]
BatchCallback = Callable[[int, int, int | None, float | None], None]  # epoch, step, steps, loss

# Batch progress is reported at most this often: often enough to watch, rarely enough to be free.
PROGRESS_INTERVAL_SECONDS = 0.25


class TrainingStopped(Exception):
    """Raised from a batch callback when the caller asked to stop; the fit loop catches it."""


class StopWhenAsked(keras.callbacks.Callback):
    """Stops the fit after the batch during which ``should_stop()`` became true.

    It raises rather than setting ``model.stop_training``: Keras would then still validate
    and report the unfinished epoch as if it were a whole one.
    """

    def __init__(self, should_stop: StopCheck) -> None:
        super().__init__()
        self._should_stop = should_stop

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._should_stop():
            raise TrainingStopped


class BatchProgress(keras.callbacks.Callback):
    """Reports ``(epoch, step, steps, loss)`` at most every ``interval`` seconds.

    ``epoch`` and ``step`` count from 1; ``loss`` is Keras' running mean over the epoch so far.
    """

    def __init__(
        self, on_batch: BatchCallback, interval: float = PROGRESS_INTERVAL_SECONDS
    ) -> None:
        super().__init__()
        self._on_batch = on_batch
        self._interval = interval
        self._epoch = 0
        self._last = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        now = time.monotonic()
        if now - self._last < self._interval:
            return
        self._last = now
        loss = (logs or {}).get("loss")
        steps = (self.params or {}).get("steps")
        # ``batch`` is the execution's last step, counted as if it were whole; the epoch's last
        # execution may be shorter.
        step = batch + 1 if steps is None else min(batch + 1, steps)
        self._on_batch(self._epoch, step, steps, None if loss is None else float(loss))


def control_callbacks(
    should_stop: StopCheck | None, on_batch: BatchCallback | None
) -> list[keras.callbacks.Callback]:
    callbacks: list[keras.callbacks.Callback] = []
    if on_batch is not None:
        callbacks.append(BatchProgress(on_batch))
    if should_stop is not None:
        callbacks.append(StopWhenAsked(should_stop))
    return callbacks
