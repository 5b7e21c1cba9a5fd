"""How many training steps run per execution (Keras ``steps_per_execution``), from a measurement.

A small model on a CPU spends most of a step on fixed costs (Python, callbacks, handing the
batch to the runtime), not on arithmetic: the DLI MNIST dense model trains twice as fast with
32 steps per execution as with Keras' default of one. But everything that watches the fit (the
cancel check, batch progress, the time limit, the heartbeat) runs between executions, so an
execution must stay short: about ``TARGET_SECONDS``, well under the one second a cancel is
allowed to take.

The step time is estimated from a timed forward pass over the training rows (the epoch-0
evaluation, which every fresh job makes anyway; a resumed job times a few batches instead): a
training step costs about ``BACKWARD_FACTOR`` forward passes of its batch. The estimate moves
with the machine's load, and the choice with it; that cannot change what is learned, since an
execution runs the very same steps in the very same order (tests/training/test_execution.py
checks that a fit gives the same history whatever the number).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import keras
import numpy as np

TARGET_SECONDS = 0.15  # one execution: far below the 1 s a cancel may take, far above overhead
BACKWARD_FACTOR = 3.0  # a training step ~ one forward and two backward passes of its batch
MAX_STEPS = 64  # more saves little, and an execution under load would pass a quarter second
PROBE_ROWS = 4096  # a resumed job times this many rows (at most) instead of the epoch-0 pass


@dataclass(frozen=True)
class Execution:
    """What the fit used, recorded with the job (``summary.execution``)."""

    steps_per_execution: int
    xla: bool  # Keras compiled the training step with XLA (jit_compile)
    forward_ms_per_row: float  # the measurement the choice came from
    fused_updates: bool = False  # the optimizer's update ran as one kernel per weight

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ForwardTimer(keras.callbacks.Callback):
    """Times the evaluation batches between the first (which pays for tracing and compiling)
    and the last (which may be short): whole batches of ``batch_size`` rows."""

    def __init__(self, batch_size: int) -> None:
        super().__init__()
        self._batch_size = batch_size
        self._times: list[float] = []

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._times.append(time.perf_counter())

    def per_row(self) -> float | None:
        """Forward seconds per row; None when too few batches ran to time one."""
        whole = self._times[:-1]  # the end of the last whole batch
        if len(whole) < 2:
            return None
        return (whole[-1] - whole[0]) / ((len(whole) - 1) * self._batch_size)


def steps_for(forward_seconds_per_row: float | None, batch_size: int, steps: int) -> int:
    """Steps per execution so that one execution lasts about ``TARGET_SECONDS``: a power of
    two (few distinct compiled functions), at most one epoch's steps and ``MAX_STEPS``."""
    if forward_seconds_per_row is None or forward_seconds_per_row <= 0:
        return 1
    step_seconds = BACKWARD_FACTOR * forward_seconds_per_row * batch_size
    wanted = max(1, int(TARGET_SECONDS / step_seconds))
    power = 1 << (wanted.bit_length() - 1)  # round down: shorter executions, never longer
    return int(min(power, MAX_STEPS, max(1, steps)))


def probe(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int) -> float | None:
    """Forward seconds per row over a few evaluation batches (for a resumed job, which skips
    the epoch-0 evaluation); the model's metrics are reset by the next fit or evaluate."""
    timer = ForwardTimer(batch_size)
    rows = min(len(x), PROBE_ROWS)
    model.evaluate(x[:rows], y[:rows], batch_size=batch_size, verbose=0, callbacks=[timer])
    return timer.per_row()


def use_steps_per_execution(model: keras.Model, steps: int) -> None:
    """Set the number on a compiled model. Its functions are traced for a number of steps and
    Keras' data iterators step by the model's current one, so every function traced before
    is dropped and rebuilt: a stale one would run one batch where the iterator counted many."""
    model.steps_per_execution = steps
    model.train_function = model.test_function = model.predict_function = None


def uses_xla(model: keras.Model) -> bool:
    """Whether Keras compiles the model's steps with XLA (``jit_compile="auto"`` resolves to
    True where every layer supports it, and falls back to plain graphs where one does not)."""
    return bool(getattr(model, "jit_compile", False))
