"""Name overfitting instead of leaving it to the eye: the best epoch and when overfitting began.

A pure function of the epoch rows, so the worker, the tests and anyone reading a history agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class EpochLosses:
    epoch: int
    loss: float | None
    val_loss: float | None


@dataclass(frozen=True)
class Assessment:
    best_epoch: int | None
    overfitting_since: int | None


def assess(rows: Iterable[EpochLosses], patience: int) -> Assessment:
    """The epoch with the lowest validation loss (the earliest on a tie), and overfitting.

    Overfitting is flagged once validation loss has risen for ``patience`` epochs in a row while
    training loss fell in each of them; ``overfitting_since`` is the first epoch of that run. A
    later epoch that beats the best validation loss clears the flag: the model recovered.
    """
    best_epoch: int | None = None
    best_val = math.inf
    overfitting_since: int | None = None
    run_start: int | None = None
    run_length = 0
    previous: EpochLosses | None = None
    for row in sorted(rows, key=lambda r: r.epoch):
        if previous is not None and _diverging(previous, row):
            run_length += 1
            run_start = row.epoch if run_length == 1 else run_start
        else:
            run_length = 0
        if run_length >= patience and overfitting_since is None:
            overfitting_since = run_start
        if _known(row.val_loss) and row.val_loss < best_val:  # type: ignore[operator]
            best_epoch, best_val = row.epoch, row.val_loss  # type: ignore[assignment]
            overfitting_since = None
        previous = row
    return Assessment(best_epoch, overfitting_since)


def _diverging(before: EpochLosses, after: EpochLosses) -> bool:
    """Validation loss rose while training loss fell."""
    values = (before.loss, after.loss, before.val_loss, after.val_loss)
    if not all(_known(v) for v in values):
        return False
    return after.val_loss > before.val_loss and after.loss < before.loss  # type: ignore[operator]


def _known(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
