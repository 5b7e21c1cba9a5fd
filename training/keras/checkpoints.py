"""Checkpoints: a fit saves one after every epoch, and a new fit can continue from one.

A checkpoint is two files in one folder: ``model.keras`` (architecture, weights and optimizer
state, as ``model.save`` writes them) and ``state.json`` (the epoch it ends, that epoch's
metrics, and the Python and NumPy random states). Resuming loads both and continues with
``initial_epoch``, so epoch numbers carry on where they stopped. The order of the training
rows needs no saved state: each epoch's is drawn from the seed and the epoch number
(``training/keras/epoch_order.py``), so a resumed epoch k visits the rows as an
uninterrupted one does.
The backend's own random state (dropout masks, augmentation) cannot be captured; it is reseeded
from the spec's seed plus the epoch, so a resumed run is the same kind of run, not a
bit-identical one.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

MODEL_FILE = "model.keras"
STATE_FILE = "state.json"

# Called with the folder holding a fresh checkpoint and the epoch it ends (1-based); the folder
# is removed when the call returns, so the callee copies what it keeps.
CheckpointCallback = Callable[[Path, int], None]


@dataclass
class Resume:
    """Where to continue from: a ``model.keras`` and the ``state.json`` saved with it."""

    model_path: Path
    state: dict[str, Any]

    @property
    def epoch(self) -> int:
        return int(self.state["epoch"])

    @property
    def logs(self) -> dict[str, float]:
        return dict(self.state.get("logs") or {})

    @classmethod
    def load(cls, model_path: Path, state_path: Path) -> Resume:
        return cls(model_path, json.loads(state_path.read_text()))


class SaveEachEpoch(keras.callbacks.Callback):
    """Writes a checkpoint at the end of every epoch and hands it to ``on_checkpoint``."""

    def __init__(self, on_checkpoint: CheckpointCallback) -> None:
        super().__init__()
        self._on_checkpoint = on_checkpoint

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        with tempfile.TemporaryDirectory(prefix="descent-checkpoint-") as name:
            folder = Path(name)
            self.model.save(folder / MODEL_FILE)
            state = {
                "epoch": epoch + 1,
                "logs": {k: float(v) for k, v in (logs or {}).items()},
                "python_random": _python_state(),
                "numpy_random": _numpy_state(),
            }
            (folder / STATE_FILE).write_text(json.dumps(state))
            self._on_checkpoint(folder, epoch + 1)


def restore_into(model: keras.Model, resume: Resume, seed: int) -> None:
    """Load a checkpoint's weights and optimizer state into a freshly built, compiled model of
    the same architecture (so a wrapper such as augmentation is rebuilt, not deserialized)."""
    saved = restore(resume, seed)
    model.set_weights(saved.get_weights())
    model.optimizer.build(model.trainable_variables)
    for target, source in zip(model.optimizer.variables, saved.optimizer.variables, strict=True):
        target.assign(source)


def restore(resume: Resume, seed: int) -> keras.Model:
    """The checkpointed model, compiled with its optimizer state, and the random states."""
    model = keras.saving.load_model(resume.model_path)
    keras.utils.set_random_seed(seed + resume.epoch)
    if "python_random" in resume.state:
        version, internal, gauss = resume.state["python_random"]
        random.setstate((version, tuple(internal), gauss))
    if "numpy_random" in resume.state:
        name, keys, pos, has_gauss, cached = resume.state["numpy_random"]
        np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    return model


def _python_state() -> list[Any]:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _numpy_state() -> list[Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state()  # type: ignore[misc]
    return [name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)]
