"""The pure parts of a search: sampling is a function of the seed, the trial's number and the
results it is told (so a replay samples the same), and ASHA and the median rule decide as
documented. No database, no training."""

import pytest

from core.errors import InvalidInput
from services import early_stopping, search_space
from services.search_samplers import Result, sample

SPACE = search_space.parse(
    {
        "optimizer.learning_rate": {"loguniform": [1e-4, 1.0]},
        "batch_size": {"choice": [16, 32, 64]},
        "model.layers[0].units": {"int": [8, 64]},
    }
)


def history(n: int) -> list[Result]:
    return [
        Result(sample("random", SPACE, 0, i, [], minimize=True), 1.0 / (i + 1)) for i in range(n)
    ]


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_the_same_seed_and_results_give_the_same_trials(sampler: str):
    told = history(12)  # past TPE's random start-up trials
    first = [sample(sampler, SPACE, 7, n, told[:n], minimize=True) for n in range(12)]
    again = [sample(sampler, SPACE, 7, n, told[:n], minimize=True) for n in range(12)]
    assert first == again
    assert len({p["optimizer.learning_rate"] for p in first}) == 12  # each trial differs
    other_seed = [sample(sampler, SPACE, 8, n, told[:n], minimize=True) for n in range(12)]
    assert other_seed != first
    for params in first:
        assert 1e-4 <= params["optimizer.learning_rate"] <= 1.0
        assert params["batch_size"] in (16, 32, 64)
        assert 8 <= params["model.layers[0].units"] <= 64


def test_tpe_samples_from_the_results_it_is_told():
    told = history(12)
    inverted = [Result(r.params, -r.value) for r in told if r.value is not None]
    assert sample("tpe", SPACE, 7, 12, told, minimize=True) != sample(
        "tpe", SPACE, 7, 12, inverted, minimize=True
    )


def test_a_grid_visits_every_point_once_in_a_seeded_order():
    grid = search_space.parse({"a": {"choice": [1, 2, 3]}, "b": {"int": [0, 2]}})
    assert search_space.check_grid(grid) == 9
    points = [search_space.grid_point(grid, 5, n) for n in range(9)]
    assert len({(p["a"], p["b"]) for p in points}) == 9
    assert points == [search_space.grid_point(grid, 5, n) for n in range(9)]
    assert points != [search_space.grid_point(grid, 6, n) for n in range(9)]
    with pytest.raises(InvalidInput, match="a grid cannot take a loguniform range"):
        search_space.check_grid(SPACE)


def test_asha_keeps_the_top_third_at_a_rung():
    decide = early_stopping.decide
    # The first trials: only the best so far goes on (nothing waits for the others).
    assert not decide("asha", 1, 0.5, [], minimize=True).stop
    assert decide("asha", 1, 0.7, [0.5], minimize=True).stop
    assert not decide("asha", 1, 0.4, [0.5], minimize=True).stop
    # Six trials at the rung: the top two go on.
    peers = [0.1, 0.2, 0.3, 0.4, 0.5]
    assert not decide("asha", 1, 0.15, peers, minimize=True).stop
    stopped = decide("asha", 3, 0.25, peers, minimize=True)
    assert stopped.stop
    assert stopped.reason == (
        "stopped early at epoch 3: not in the top 1/3 of the 6 trials that reached this rung"
    )
    # Accuracy: higher is better; a diverged trial (None) is the worst and always stops.
    assert not decide("asha", 1, 0.9, [0.5, 0.6], minimize=False).stop
    assert decide("asha", 1, None, [], minimize=True).reason == (
        "stopped early at epoch 1: its val_loss is not a number"
    )
    assert not decide("asha", 1, 0.3, [None, None], minimize=True).stop


def test_the_median_rule_stops_a_trial_behind_the_median():
    decide = early_stopping.decide
    assert not decide("median", 2, 0.9, [], minimize=True).stop
    behind = decide("median", 3, 0.9, [0.2, 0.4, 0.6], minimize=True)
    assert behind.stop and behind.reason == "stopped early at epoch 3: below the rung's median"
    assert not decide("median", 3, 0.3, [0.2, 0.4, 0.6], minimize=True).stop
    assert not decide("none", 1, None, [0.1], minimize=True).stop


def test_default_rungs():
    assert early_stopping.default_rungs("asha", 10, 3) == [1, 3, 9]
    assert early_stopping.default_rungs("asha", 3, 3) == [1]
    assert early_stopping.default_rungs("median", 4, 3) == [1, 2, 3]
    assert early_stopping.default_rungs("none", 10, 3) == []
