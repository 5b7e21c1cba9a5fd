"""Uploaded data sets on disk: one ``.npz`` with ``x`` (float32 rows) and ``y``. numpy only.

``y`` holds class indices (int64) for classification, numbers (float32, one column per
target) for regression. The service writes the file at upload; the worker hands its path here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.data_info import DataInfo


@dataclass(frozen=True)
class UserData:
    info: DataInfo
    path: Path


def save(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    with path.open("wb") as f:
        np.savez_compressed(f, x=x, y=y)


def load(path: Path, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return f["x"][:limit].astype(np.float32), f["y"][:limit]
