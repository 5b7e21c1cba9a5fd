"""The fit loop: a pure function of a validated spec that reports each epoch through a callback.

Epoch 0 is the untrained model evaluated before the first step, so every curve starts where
training starts. For epochs 1..N, ``loss``/``accuracy`` are Keras' running means over the
epoch (dropout active), and ``val_*`` come from evaluating the validation set at epoch end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from training.builtin_datasets import DatasetError
from training.data_info import DataInfo, builtin_info
from training.keras.augmentation import with_augmentation
from training.keras.builders import build_model, compile_model
from training.keras.callbacks import BatchCallback, StopCheck, TrainingStopped, control_callbacks
from training.keras.checkpoints import CheckpointCallback, Resume, SaveEachEpoch, restore_into
from training.keras.epoch_order import EpochBatches
from training.keras.execution import (
    Execution,
    ForwardTimer,
    probe,
    steps_for,
    use_steps_per_execution,
    uses_xla,
)
from training.keras.fused_updates import fuse, is_fused
from training.keras.health import LayerHealth
from training.keras.option_callbacks import early_stopping_outcome, option_callbacks
from training.keras.reproducibility import seed_everything
from training.limits import NO_LIMITS
from training.prepare import Prepared, prepare
from training.resolve import Resolution, resolve
from training.spec import JobSpec
from training.user_data import UserData

# (epoch, seconds, logs): the logs' numbers, and under "health" the layers' health entries.
EpochCallback = Callable[[int, float, dict[str, Any]], None]

# Evaluation has no gradients to average, so it can use large batches; results are the same.
EVAL_BATCH_SIZE = 1024


@dataclass
class TrainResult:
    model: keras.Model
    history: list[dict[str, Any]] = field(default_factory=list)
    final_metrics: dict[str, float] = field(default_factory=dict)
    sample: np.ndarray | None = None  # a few real inputs for checking the export
    resolution: Resolution | None = None
    stopped: bool = False  # should_stop() ended the fit early; the history has whole epochs only
    execution: Execution | None = None  # steps per execution and XLA, as the fit used them
    health: LayerHealth | None = None  # measures each epoch's layer health (None: turned off)
    data: Prepared | None = None  # the arrays it trained on, for the evaluation after the fit


class _EpochReporter(keras.callbacks.Callback):
    def __init__(self, on_epoch: EpochCallback, result: TrainResult) -> None:
        super().__init__()
        self._on_epoch = on_epoch
        self._result = result
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        row = {key: float(value) for key, value in (logs or {}).items()}
        row.setdefault("learning_rate", _learning_rate(self.model))
        if self._result.health is not None:
            row["health"] = self._result.health.measure(epoch + 1)
        _report(self._on_epoch, self._result, epoch + 1, time.perf_counter() - self._started, row)


def train(
    spec: JobSpec,
    data_dir: Path,
    on_epoch: EpochCallback,
    *,
    user_data: UserData | None = None,
    should_stop: StopCheck | None = None,
    on_batch: BatchCallback | None = None,
    resume_from: Resume | None = None,
    on_checkpoint: CheckpointCallback | None = None,
    steps_per_execution: int | None = None,
    cache_dir: Path | None = None,
    health: bool = True,
) -> TrainResult:
    """Train a spec: built-in data sets are read from ``data_dir``, uploaded ones from
    ``user_data``. A validated spec is resolved again here (caps were checked at submission).
    With ``resume_from`` the fit continues after that checkpoint's epoch (epoch 0 is not redone).
    ``steps_per_execution`` None: chosen from the measured step time (training/keras/execution.py).
    ``cache_dir``: where a built-in data set's scaled arrays are kept between jobs.
    ``health``: each epoch's logs carry ``"health"``, the layers' health (training/keras/health.py).
    """
    resolution, data, model, trainer = set_up(spec, data_dir, user_data, cache_dir)
    if resume_from is not None:
        restore_into(trainer, resume_from, spec.seed)
    sample = data.x_val if data.x_val is not None else data.x_train
    result = TrainResult(model=model, sample=sample[:64], resolution=resolution, data=data)
    if health:
        result.health = LayerHealth(
            model, resolution, trainer.loss, data.x_train, data.y_train, spec.seed
        )
    validation = (data.x_val, data.y_val) if data.x_val is not None else None
    if resume_from is None:
        forward = _report_untrained(on_epoch, result, trainer, data, validation)
    else:
        forward = probe(trainer, data.x_train, data.y_train, EVAL_BATCH_SIZE)
    saving = [SaveEachEpoch(on_checkpoint)] if on_checkpoint else []

    initial_epoch = resume_from.epoch if resume_from else 0
    # Not fit(shuffle=True): with the seed set, Keras' shuffle repeats one order every epoch.
    batches = EpochBatches(
        data.x_train,
        data.y_train,
        spec.batch_size,
        seed=spec.seed,
        shuffle=spec.shuffle,
        initial_epoch=initial_epoch,
    )
    if steps_per_execution is None:
        steps_per_execution = steps_for(forward, spec.batch_size, batches.steps)
    use_steps_per_execution(trainer, steps_per_execution)
    result.execution = Execution(
        steps_per_execution, uses_xla(trainer), _ms(forward), is_fused(trainer.optimizer)
    )
    callbacks = option_callbacks(resolution.spec)
    try:
        trainer.fit(
            batches.dataset,  # one epoch's batches; no steps_per_epoch (see EpochBatches)
            epochs=spec.epochs,
            initial_epoch=initial_epoch,
            validation_data=validation,
            validation_batch_size=max(spec.batch_size, EVAL_BATCH_SIZE),
            shuffle=False,  # the batches come shuffled
            callbacks=[
                batches,  # first: it sets the epoch whose order the data set draws
                *callbacks,
                _EpochReporter(on_epoch, result),
                *saving,
                *control_callbacks(should_stop, on_batch),
            ],
            verbose=0,
        )
    except TrainingStopped:
        result.stopped = True
    result.final_metrics = _final_metrics(result, early_stopping_outcome(callbacks), resume_from)
    if not result.stopped:  # asked to stop: no further evaluation
        result.final_metrics.update(_test_scores(trainer, data))
    return result


def set_up(
    spec: JobSpec,
    data_dir: Path,
    user_data: UserData | None,
    cache_dir: Path | None,
    compile_as: Callable[[Resolution], Resolution] | None = None,
) -> tuple[Resolution, Prepared, keras.Model, keras.Model]:
    """Seed, resolve, prepare the data, build the model and compile what trains it (the model
    wrapped in its augmentation, if any), its optimizer's updates fused where they can be
    (training/keras/fused_updates.py): ``(resolution, data, model, trainer)``.
    ``compile_as``: the resolution to compile with, from the job's (the range test's fixed rate)."""
    seed_everything(spec.seed)
    resolution = resolve(spec, data_info(spec, user_data), NO_LIMITS)
    data = prepare(resolution, data_dir, user_data.path if user_data else None, cache_dir)
    model = build_model(resolution)
    augmentation = resolution.spec.augmentation
    trainer = with_augmentation(model, augmentation, spec.seed) if augmentation else model
    compile_model(trainer, compile_as(resolution) if compile_as else resolution)
    fuse(trainer)  # one kernel per weight's update
    return resolution, data, model, trainer


def data_info(spec: JobSpec, user_data: UserData | None) -> DataInfo:
    """What the job trains on: an upload's description, or a built-in data set's."""
    if user_data is not None:
        return user_data.info
    info = builtin_info(spec.dataset.name)
    if info is None:
        raise DatasetError(
            f"{spec.dataset.name!r} is not a built-in data set and no uploaded data was given"
        )
    return info


def _final_metrics(
    result: TrainResult, stopping: dict[str, float], resume_from: Resume | None
) -> dict[str, float]:
    """The last epoch's metrics, or the best epoch's when early stopping restored its weights.
    A job resumed after its last epoch (its worker died while exporting) trains no epoch."""
    if not result.history:
        return resume_from.logs if resume_from else {}
    row = result.history[-1]
    rows = {int(r["epoch"]): r for r in result.history}
    if "restored_epoch" in stopping and int(stopping["restored_epoch"]) in rows:
        row = rows[int(stopping["restored_epoch"])]
    metrics = {k: v for k, v in row.items() if k not in ("epoch", "seconds", "health")}
    return {**metrics, **stopping}


def _test_scores(model: keras.Model, data: Prepared) -> dict[str, float]:
    """The held-out test split, scored once after training when validation did not use it."""
    if data.x_test is None or data.y_test is None:
        return {}
    return {f"test_{k}": v for k, v in _evaluate(model, data.x_test, data.y_test).items()}


def _report_untrained(
    on_epoch: EpochCallback,
    result: TrainResult,
    trainer: keras.Model,
    data: Prepared,
    validation: tuple[np.ndarray, np.ndarray] | None,
) -> float | None:
    """Epoch 0; returns the forward seconds per row it measured on the training rows."""
    started = time.perf_counter()
    timer = ForwardTimer(EVAL_BATCH_SIZE)
    untrained = _evaluate(trainer, data.x_train, data.y_train, timer)
    if validation is not None:
        scores = _evaluate(trainer, *validation)
        untrained.update({f"val_{k}": v for k, v in scores.items()})
    untrained["learning_rate"] = _learning_rate(trainer)
    if result.health is not None:
        untrained["health"] = result.health.measure(0)
    _report(on_epoch, result, 0, time.perf_counter() - started, untrained)
    return timer.per_row()


def _evaluate(
    model: keras.Model, x: np.ndarray, y: np.ndarray, timer: ForwardTimer | None = None
) -> dict[str, float]:
    scores = model.evaluate(
        x,
        y,
        batch_size=EVAL_BATCH_SIZE,
        verbose=0,
        return_dict=True,
        callbacks=[timer] if timer else None,
    )
    return {key: float(value) for key, value in scores.items()}


def _ms(seconds: float | None) -> float:
    return round(seconds * 1000, 6) if seconds is not None else 0.0


def _learning_rate(model: keras.Model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def _report(
    on_epoch: EpochCallback, result: TrainResult, epoch: int, seconds: float, logs: dict[str, float]
) -> None:
    result.history.append({"epoch": epoch, "seconds": seconds, **logs})
    on_epoch(epoch, seconds, logs)
