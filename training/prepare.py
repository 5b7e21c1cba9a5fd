"""Training arrays for a resolved spec: load, split train / validation / test, encode labels.

Labels are encoded as the loss wants them, derived and never asked: one-hot rows
(categorical_crossentropy and regression losses on classes), class indices (sparse), a 0/1
column (binary) or the numbers themselves (regression). numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training import builtin_datasets, user_data
from training.resolve import Resolution
from training.spec import ValidationFraction


@dataclass
class Prepared:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    x_test: np.ndarray | None = None  # scored once after training
    y_test: np.ndarray | None = None


def prepare(
    resolution: Resolution,
    data_dir: Path,
    source: Path | None = None,
    cache_dir: Path | None = None,
) -> Prepared:
    """``source`` is an uploaded data set's file; built-in data sets are read from data_dir,
    through ``cache_dir`` when given (``builtin_datasets.load``)."""
    spec, limit = resolution.spec, resolution.spec.dataset.limit
    if source is not None:
        x_train, y_train = user_data.load(source, limit)
        x_test = y_test = None
    else:
        splits = builtin_datasets.load(
            resolution.data.name, data_dir, limit=limit, cache_dir=cache_dir
        )
        x_train, y_train, x_test, y_test = (
            splits.x_train,
            splits.y_train,
            splits.x_test,
            splits.y_test,
        )
    prepared = Prepared(x_train, y_train, x_test=x_test, y_test=y_test)
    validation = spec.dataset.validation
    if isinstance(validation, ValidationFraction):
        order = np.random.default_rng(spec.seed).permutation(len(x_train))
        n_val = validation.held_out(len(x_train))
        if n_val >= len(x_train):
            raise ValueError(
                f"validation fraction {validation.fraction} of {len(x_train)} rows leaves "
                "nothing to train on; use a smaller fraction or a larger limit"
            )
        val, train = order[:n_val], order[n_val:]
        prepared = Prepared(
            x_train[train], y_train[train], x_train[val], y_train[val], x_test, y_test
        )
    elif validation == "test":
        prepared = Prepared(x_train, y_train, x_test, y_test)
    for name in ("y_train", "y_val", "y_test"):
        labels = getattr(prepared, name)
        if labels is not None:
            setattr(prepared, name, encode_labels(resolution, labels))
    return prepared


def encode_labels(resolution: Resolution, y: np.ndarray) -> np.ndarray:
    """Class indices (or regression targets) as the resolved loss wants them."""
    targets, data = resolution.targets, resolution.data
    if targets.label_encoding == "one_hot":
        return np.eye(data.num_classes, dtype=np.float32)[y]
    if targets.label_encoding == "integer":
        return y.astype(np.int64)
    if targets.label_encoding == "binary":
        positive = [data.class_names.index(name) for name in targets.positive_classes]
        return np.isin(y, positive).astype(np.float32).reshape(-1, 1)
    return np.asarray(y, dtype=np.float32).reshape(len(y), -1)
