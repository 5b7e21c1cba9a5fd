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

from training import datasets
from training.builders import compile_model
from training.callbacks import BatchCallback, StopCheck, TrainingStopped, control_callbacks
from training.checkpoints import CheckpointCallback, Resume, SaveEachEpoch, restore
from training.spec import JobSpec, ValidationFraction

EpochCallback = Callable[[int, float, dict[str, float]], None]

# Evaluation has no gradients to average, so it can use large batches; results are the same.
EVAL_BATCH_SIZE = 1024


@dataclass
class Prepared:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


@dataclass
class TrainResult:
    model: keras.Model
    history: list[dict[str, Any]] = field(default_factory=list)
    final_metrics: dict[str, float] = field(default_factory=dict)
    sample: np.ndarray | None = None  # a few real inputs for checking the export
    stopped: bool = False  # should_stop() ended the fit early; the history has whole epochs only


def prepare(spec: JobSpec, data_dir: Path) -> Prepared:
    """Load, split and encode labels as the loss wants them (one-hot or class indices)."""
    data = datasets.load(spec.dataset.name, data_dir, limit=spec.dataset.limit)
    x_train, y_train = data.x_train, data.y_train
    if isinstance(spec.dataset.validation, ValidationFraction):
        order = np.random.default_rng(spec.seed).permutation(len(x_train))
        n_val = max(1, round(len(x_train) * spec.dataset.validation.fraction))
        if n_val >= len(x_train):
            raise ValueError(
                f"validation fraction {spec.dataset.validation.fraction} of {len(x_train)} rows "
                "leaves nothing to train on; use a smaller fraction or a larger limit"
            )
        val_idx, train_idx = order[:n_val], order[n_val:]
        x_val, y_val = x_train[val_idx], y_train[val_idx]
        x_train, y_train = x_train[train_idx], y_train[train_idx]
    else:
        x_val, y_val = data.x_test, data.y_test
    if spec.label_encoding == "one_hot":
        classes = spec.info.num_classes
        y_train = np.eye(classes, dtype=np.float32)[y_train]
        y_val = np.eye(classes, dtype=np.float32)[y_val]
    return Prepared(x_train, y_train, x_val, y_val)


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
        _report(self._on_epoch, self._result, epoch + 1, time.perf_counter() - self._started, row)


def train(
    spec: JobSpec,
    data_dir: Path,
    on_epoch: EpochCallback,
    *,
    should_stop: StopCheck | None = None,
    on_batch: BatchCallback | None = None,
    resume_from: Resume | None = None,
    on_checkpoint: CheckpointCallback | None = None,
) -> TrainResult:
    """Train from scratch, or continue after ``resume_from``'s epoch (epoch 0 is not redone)."""
    keras.utils.set_random_seed(spec.seed)
    data = prepare(spec, data_dir)
    model = compile_model(spec) if resume_from is None else restore(resume_from, spec.seed)
    result = TrainResult(model=model, sample=data.x_val[:64])
    if resume_from is None:
        _report_untrained(on_epoch, result, data)
    saving = [SaveEachEpoch(on_checkpoint)] if on_checkpoint else []

    try:
        model.fit(
            data.x_train,
            data.y_train,
            batch_size=spec.batch_size,
            epochs=spec.epochs,
            initial_epoch=resume_from.epoch if resume_from else 0,
            validation_data=(data.x_val, data.y_val),
            validation_batch_size=max(spec.batch_size, EVAL_BATCH_SIZE),
            shuffle=True,
            callbacks=[
                _EpochReporter(on_epoch, result),
                *saving,
                *control_callbacks(should_stop, on_batch),
            ],
            verbose=0,
        )
    except TrainingStopped:
        result.stopped = True
    # A job resumed after its last epoch (its worker died while exporting) trains no epoch.
    last = result.history[-1] if result.history else (resume_from.logs if resume_from else {})
    result.final_metrics = {k: v for k, v in last.items() if k not in ("epoch", "seconds")}
    return result


def _report_untrained(on_epoch: EpochCallback, result: TrainResult, data: Prepared) -> None:
    started = time.perf_counter()
    model = result.model
    untrained = _evaluate(model, data.x_train, data.y_train)
    untrained.update({f"val_{k}": v for k, v in _evaluate(model, data.x_val, data.y_val).items()})
    untrained["learning_rate"] = _learning_rate(model)
    _report(on_epoch, result, 0, time.perf_counter() - started, untrained)


def _evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    scores = model.evaluate(x, y, batch_size=EVAL_BATCH_SIZE, verbose=0, return_dict=True)
    return {key: float(value) for key, value in scores.items()}


def _learning_rate(model: keras.Model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def _report(
    on_epoch: EpochCallback, result: TrainResult, epoch: int, seconds: float, logs: dict[str, float]
) -> None:
    result.history.append({"epoch": epoch, "seconds": seconds, **logs})
    on_epoch(epoch, seconds, logs)
