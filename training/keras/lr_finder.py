"""The learning-rate range test (Leslie Smith, "Cyclical Learning Rates for Training Neural
Networks", 2017): a short run whose learning rate rises exponentially, step by step, from a
tiny rate to a huge one, recording the loss of every batch. The loss first stays flat (the rate
is too small to move the weights), then falls (the useful rates), reaches its lowest point and
then climbs and diverges (too large). The curve shows where training is fast and still stable.

The model is built and compiled exactly as ``training.keras.fit.train`` builds it (same seed,
same layers, augmentation, loss and optimizer); only the learning rate is the test's: the
spec's rate and any schedule are ignored. Batches are drawn shuffled (the seed's epoch order,
as training draws them), full batches only, one optimizer step each.

The losses are smoothed with an exponential moving average (beta 0.98, bias-corrected as Adam
corrects its moments), and the run stops early once the smoothed loss exceeds 4x its minimum
or a batch's loss is not finite: from there on the rates only diverge.

The suggested rate (``suggest``): a tenth of the rate at which the batch losses were lowest,
read on their centred running median over a twentieth of the steps. That point is the edge of
stability; a decade below it the loss is still falling steeply, and the rule needs no
derivative of a noisy curve. The minimum is not read on the moving average: at beta 0.98 it
lags about 50 steps, over a decade of rate on a 200-step sweep, which puts its minimum (and
a tenth of it) well past the useful rates; the median has no lag and shrugs off one wild
batch. The steepest-descent rate is reported beside it, for context, not chosen: the slope of
a noisy curve moves about from run to run. No rate is suggested when the loss never fell
(the model does not learn at any rate of the range), rose from the very start (the range
starts too high) or diverged within a few steps, and the reason says what to change.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from training.keras.epoch_order import epoch_order
from training.keras.fit import TrainResult, set_up
from training.resolve import Resolution
from training.spec import JobSpec
from training.user_data import UserData

BETA = 0.98  # the smoothing of the loss curve
DIVERGED = 4.0  # stop once the smoothed loss exceeds this many times its minimum
MAX_POINTS = 300  # the curve returned: at most this many points, evenly spread over the steps
MIN_POINTS = 10  # fewer steps than this before divergence: too short a curve to read
FELL_AT_LEAST = 0.05  # the loss must fall by this share of its start to call it a descent

StopCheck = Callable[[], bool]
StepCallback = Callable[[int, int, float], None]  # step (from 1), steps, raw loss


@dataclass
class LrFindResult:
    min_learning_rate: float
    max_learning_rate: float
    steps: int  # asked for
    steps_run: int  # done (fewer once the loss diverged, or when stopped)
    curve: list[dict[str, float]]  # {"learning_rate", "loss" (smoothed), "raw_loss"}
    suggested_learning_rate: float | None
    reason: str
    min_loss_learning_rate: float | None = None  # where the batch losses were lowest (median)
    steepest_learning_rate: float | None = None  # where it fell fastest (context only)
    stopped: bool = False  # should_stop() ended it: the curve is partial, nothing is suggested
    # keep_model: the model with the weights it had where the smoothed loss was lowest, in the
    # shape the worker exports a training job's model from; else None.
    trained: TrainResult | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """What the job stores (Job.lr_find) beside its request options."""
        return {
            "curve": self.curve,
            "suggested_learning_rate": self.suggested_learning_rate,
            "reason": self.reason,
            "min_loss_learning_rate": self.min_loss_learning_rate,
            "steepest_learning_rate": self.steepest_learning_rate,
            "steps_run": self.steps_run,
        }


def rates(min_rate: float, max_rate: float, steps: int) -> np.ndarray:
    """The learning rate of each step: exponential from ``min_rate`` to ``max_rate``."""
    return np.geomspace(min_rate, max_rate, steps)


def smooth(losses: list[float] | np.ndarray, beta: float = BETA) -> np.ndarray:
    """The bias-corrected exponential moving average of ``losses``."""
    average, smoothed = 0.0, []
    for step, loss in enumerate(losses, start=1):
        average = beta * average + (1 - beta) * float(loss)
        smoothed.append(average / (1 - beta**step))
    return np.asarray(smoothed, dtype=np.float64)


def find_learning_rate(
    spec: JobSpec,
    data_dir: Path,
    *,
    min_learning_rate: float = 1e-7,
    max_learning_rate: float = 10.0,
    steps: int = 200,
    keep_model: bool = False,
    user_data: UserData | None = None,
    cache_dir: Path | None = None,
    should_stop: StopCheck | None = None,
    on_step: StepCallback | None = None,
) -> LrFindResult:
    """Run the range test on ``spec``'s model and data (read as ``train`` reads them)."""
    resolution, data, model, trainer = set_up(
        spec, data_dir, user_data, cache_dir, lambda r: _at_fixed_rate(r, min_learning_rate)
    )

    schedule = rates(min_learning_rate, max_learning_rate, steps)
    batch_size = min(spec.batch_size, len(data.x_train))
    per_epoch = len(data.x_train) // batch_size  # full batches only: one traced step shape
    order: np.ndarray = np.empty(0, dtype=np.int64)
    raw: list[float] = []
    smoothed: list[float] = []
    average, best, best_weights, stopped = 0.0, math.inf, None, False
    for step, rate in enumerate(schedule):
        if should_stop is not None and should_stop():
            stopped = True
            break
        epoch, index = divmod(step, per_epoch)
        if index == 0:
            order = epoch_order(len(data.x_train), spec.seed, epoch, spec.shuffle)
        rows = order[index * batch_size : (index + 1) * batch_size]
        trainer.optimizer.learning_rate = float(rate)
        logs = trainer.train_on_batch(data.x_train[rows], data.y_train[rows], return_dict=True)
        loss = float(logs["loss"])  # this batch's (the metrics are reset every call)
        if on_step is not None:
            on_step(step + 1, steps, loss)
        if not math.isfinite(loss):
            break
        average = BETA * average + (1 - BETA) * loss
        value = average / (1 - BETA ** (step + 1))
        raw.append(loss)
        smoothed.append(value)
        if value < best:
            best = value
            if keep_model:
                best_weights = model.get_weights()
        elif value > DIVERGED * best:
            break

    taken = schedule[: len(raw)]
    result = LrFindResult(
        min_learning_rate=min_learning_rate,
        max_learning_rate=max_learning_rate,
        steps=steps,
        steps_run=len(raw),
        curve=curve_points(taken, np.asarray(smoothed), np.asarray(raw)),
        suggested_learning_rate=None,
        reason="",
        stopped=stopped,
    )
    if stopped:
        result.reason = f"Stopped after {len(raw)} of {steps} steps, before the curve was whole"
    else:
        suggestion = suggest(taken, np.asarray(raw), steps, max_learning_rate)
        result.suggested_learning_rate = suggestion.rate
        result.reason = suggestion.reason
        result.min_loss_learning_rate = suggestion.min_loss_rate
        result.steepest_learning_rate = suggestion.steepest_rate
    if keep_model and best_weights is not None:
        model.set_weights(best_weights)
        sample = data.x_val if data.x_val is not None else data.x_train
        result.trained = TrainResult(
            model=model,
            sample=sample[:64],
            resolution=resolution,
            final_metrics={"loss": best, "learning_rate": result.min_loss_learning_rate or 0.0},
        )
    return result


@dataclass(frozen=True)
class Suggestion:
    rate: float | None
    reason: str
    min_loss_rate: float | None = None
    steepest_rate: float | None = None


def suggest(taken: np.ndarray, raw: np.ndarray, steps: int, max_rate: float) -> Suggestion:
    """The suggested rate from the batch losses ``raw`` at rates ``taken``: a tenth of the rate
    where their centred running median was lowest (see the module's docstring), with a
    sentence saying why, or why none."""
    count = len(raw)
    if count < MIN_POINTS:
        return Suggestion(
            None,
            f"The loss diverged after {count} of {steps} steps, too soon to read a curve: "
            "lower min_learning_rate (and max_learning_rate), or check the spec",
        )
    window = _window(count)
    centred = running_median(raw, window)
    lowest = int(np.argmin(centred))
    start, minimum, at = float(centred[0]), float(centred[lowest]), float(taken[lowest])
    steepest = _steepest(taken[: lowest + 1], centred[: lowest + 1])
    early = lowest < max(3, count // 20)
    if early and float(centred[-1]) > start + FELL_AT_LEAST * abs(start):
        return Suggestion(
            None,
            f"The loss was lowest ({minimum:.4g}) at the bottom of the range "
            f"({at:.2g}) and then rose: even the smallest rates are too large; lower "
            "min_learning_rate",
            at,
            steepest,
        )
    if early or start - minimum < FELL_AT_LEAST * abs(start):
        return Suggestion(
            None,
            f"The loss never fell by {FELL_AT_LEAST:.0%} of its start ({start:.4g}; "
            f"lowest {minimum:.4g} at {at:.2g}): the model does not learn at any rate of the "
            "range; check the loss and the output activation, or widen the range",
            at,
            steepest,
        )
    rate = max(at / 10, float(taken[0]))
    then = "; then the smoothed loss rose past 4 times its minimum" if count < steps else ""
    steep = f" The loss fell fastest at {steepest:.2g}." if steepest is not None else ""
    unbounded = (
        ""
        if count < steps
        else f" The loss had not diverged by the top of the range ({max_rate:.2g}): raise "
        "max_learning_rate to see where it does."
    )
    return Suggestion(
        rate,
        f"The loss (a running median over {window} batches) fell from {start:.4g} to its "
        f"lowest, {minimum:.4g}, at a learning rate of {at:.2g}{then}. A tenth of that rate, "
        f"{rate:.2g}, is on the steep descent before the minimum: fast, yet well short of "
        f"diverging.{steep}{unbounded}",
        at,
        steepest,
    )


def running_median(values: np.ndarray, window: int) -> np.ndarray:
    """The median of each value's centred window (narrower at the ends): no lag, unlike the
    moving average, and one wild batch moves it little."""
    half = window // 2
    return np.asarray(
        [np.median(values[max(0, i - half) : i + half + 1]) for i in range(len(values))],
        dtype=np.float64,
    )


def _window(count: int) -> int:
    """The running median's width: a twentieth of the steps run, odd, at least 5."""
    return max(5, count // 20) | 1


def curve_points(
    taken: np.ndarray, smoothed: np.ndarray, raw: np.ndarray, limit: int = MAX_POINTS
) -> list[dict[str, float]]:
    """At most ``limit`` points of the curve, evenly spread over its steps, the minimum and
    the last one always among them."""
    count = len(raw)
    if count == 0:
        return []
    spread = np.linspace(0, count - 1, min(count, limit - 1)).round().astype(int)
    picked = sorted({*spread.tolist(), int(np.argmin(smoothed))})
    return [
        {
            "learning_rate": float(taken[i]),
            "loss": float(smoothed[i]),
            "raw_loss": float(raw[i]),
        }
        for i in picked
    ]


def _steepest(taken: np.ndarray, smoothed: np.ndarray) -> float | None:
    """The rate where the loss fell fastest per decade of rate, up to its minimum; the first
    tenth of the curve is left out (noise at rates too small to matter)."""
    skip = max(1, len(smoothed) // 10)
    if len(smoothed) - skip < 3:
        return None
    slope = np.gradient(smoothed[skip:], np.log10(taken[skip:]))
    return float(taken[skip + int(np.argmin(slope))])


def _at_fixed_rate(resolution: Resolution, rate: float) -> Resolution:
    """The resolution with the optimizer at a plain rate (no schedule), which the test sets
    step by step."""
    optimizer = resolution.spec.optimizer.model_copy(update={"learning_rate": rate})
    return replace(resolution, spec=resolution.spec.model_copy(update={"optimizer": optimizer}))
