"""Each trial's parameters, from Optuna's samplers, rebuilt from the database every time.

Nothing of a sampler lives between two trials: trial ``number`` is sampled by a fresh study
that is told, in the order they arrived, the results the search had when the trial was asked
(``history``), with a sampler seeded from the search's seed and the trial's number. So the same
seed and the same order of results give the same trials, after any restart. Optuna is imported
here only, and only when a trial is sampled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from services import search_space
from services.search_space import Dimension


@dataclass(frozen=True)
class Result:
    """A trial's result as the sampler is told it: its value (None: not a number or no epoch)
    and, for a trial stopped early, its values at the rungs it reached."""

    params: dict[str, Any]
    value: float | None
    stopped: bool = False
    at_rungs: dict[int, float] = field(default_factory=dict)


def sample(
    sampler: str,
    dimensions: Sequence[Dimension],
    seed: int,
    number: int,
    history: Sequence[Result],
    *,
    minimize: bool,
) -> dict[str, Any]:
    """Trial ``number``'s parameters by dotted path."""
    # In the order of their paths: a JSON object's keys have no order a client must keep.
    dimensions = sorted(dimensions, key=lambda d: d.path)
    if sampler == "grid":
        return search_space.grid_point(dimensions, seed, number)
    import optuna
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trial_seed = (seed * 1_000_003 + number) % 2**32
    chosen = (
        optuna.samplers.TPESampler(seed=trial_seed)
        if sampler == "tpe"
        else optuna.samplers.RandomSampler(seed=trial_seed)
    )
    study = optuna.create_study(sampler=chosen, direction="minimize" if minimize else "maximize")
    spaces = {d.path: distribution(d) for d in dimensions}
    for result in history:
        encoded = {d.path: encode(d, result.params[d.path]) for d in dimensions}
        if result.value is None:
            state, value = TrialState.FAIL, None
        else:
            state = TrialState.PRUNED if result.stopped else TrialState.COMPLETE
            value = None if result.stopped else result.value
        study.add_trial(
            create_trial(
                params=encoded,
                distributions=spaces,
                value=value,
                state=state,
                intermediate_values=dict(result.at_rungs) or None,
            )
        )
    trial = study.ask(spaces)
    return {d.path: decode(d, trial.params[d.path]) for d in dimensions}


def distribution(d: Dimension) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if d.kind == "choice":  # by index: a choice may be any JSON value (a list of layers)
        return CategoricalDistribution(list(range(len(d.values))))
    if d.kind == "int":
        return IntDistribution(d.values[0], d.values[1])
    return FloatDistribution(d.values[0], d.values[1], log=d.kind == "loguniform")


def encode(d: Dimension, value: Any) -> Any:
    return d.values.index(value) if d.kind == "choice" else value


def decode(d: Dimension, value: Any) -> Any:
    return d.values[value] if d.kind == "choice" else value
