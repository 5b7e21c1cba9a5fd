"""When to stop a search's trial early: pure decisions, unit-tested without training.

A trial is judged at its rungs (epochs). Its value there is its best value of the metric over
epochs 1..rung; a value that is not a number (a diverged loss is stored as null) is the worst.

- ``asha`` (asynchronous successive halving): a trial continues past a rung only if it is in the
  top 1/``reduction_factor`` of the trials that reached that rung so far, itself included; while
  fewer than ``reduction_factor`` have, only the best so far continues (Optuna's rule for the
  first ones: nothing is paused to wait for others).
- ``median``: a trial stops at a rung if its value is worse than the median of the other trials'
  values there (it needs at least one other).
- ``none``: every trial runs to its last epoch.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_REDUCTION_FACTOR = 3


@dataclass(frozen=True)
class Decision:
    stop: bool
    reason: str | None = None


def default_rungs(rule: str, epochs: int, reduction_factor: int) -> list[int]:
    """ASHA's rungs grow geometrically (1, 3, 9... for a factor of 3); the median rule judges
    every epoch. Only epochs before the last are rungs: the last ends the trial anyway."""
    if rule == "none" or epochs <= 1:
        return []
    if rule == "median":
        return list(range(1, epochs))
    rungs, rung = [], 1
    while rung < epochs:
        rungs.append(rung)
        rung *= reduction_factor
    return rungs


def worse_than_all(value: float | None, minimize: bool) -> float:
    """A value for ranking: null (not a number) ranks last."""
    if value is None:
        return float("inf") if minimize else float("-inf")
    return value


def decide(
    rule: str,
    epoch: int,
    value: float | None,
    peers: Sequence[float | None],
    *,
    minimize: bool,
    reduction_factor: int = DEFAULT_REDUCTION_FACTOR,
    metric: str = "val_loss",
) -> Decision:
    """Stop or continue a trial whose value at rung ``epoch`` is ``value``; ``peers`` are the
    other trials' values at that rung, recorded before it."""
    if rule == "none":
        return Decision(False)
    if value is None:
        return Decision(True, f"stopped early at epoch {epoch}: its {metric} is not a number")
    if rule == "median":
        if not peers:
            return Decision(False)
        median = statistics.median([worse_than_all(p, minimize) for p in peers])
        behind = value > median if minimize else value < median
        if behind:
            return Decision(True, f"stopped early at epoch {epoch}: below the rung's median")
        return Decision(False)
    # asha
    competing = sorted(worse_than_all(v, minimize) for v in [*peers, value])
    if not minimize:
        competing.reverse()
    kept = max(len(competing) // reduction_factor, 1)
    threshold = competing[kept - 1]
    ahead = value <= threshold if minimize else value >= threshold
    if ahead:
        return Decision(False)
    return Decision(
        True,
        f"stopped early at epoch {epoch}: not in the top 1/{reduction_factor} of the "
        f"{len(competing)} trials that reached this rung",
    )


def best(
    values: Sequence[tuple[int, float | None]], minimize: bool
) -> tuple[float | None, int | None]:
    """The best value of (epoch, value) pairs and its epoch; (None, None) if none is a number."""
    known = [(epoch, v) for epoch, v in values if v is not None]
    if not known:
        return None, None
    epoch, value = (min if minimize else max)(known, key=lambda item: item[1])
    return value, epoch
