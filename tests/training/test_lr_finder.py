"""The learning-rate range test (training/keras/lr_finder.py) on real training, and its
suggestion rule on made-up curves."""

import math

import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from training.keras.lr_finder import (
    DIVERGED,
    MAX_POINTS,
    curve_points,
    find_learning_rate,
    rates,
    smooth,
    suggest,
)
from training.spec import JobSpec

DATA = PROJECT_ROOT / "data"


def dli_mnist_adam(**changes) -> JobSpec:
    """examples/mnist-dense.yaml (784 -> 512 relu -> 512 relu -> 10 softmax), with Adam at
    0.001, on the first 2,000 training rows (the range test needs no more: 200 batches of 32
    are three passes over them)."""
    spec = {
        "dataset": {"name": "mnist", "validation": "test", "limit": 2000},
        "model": {
            "layers": [
                {"type": "flatten"},
                {"type": "dense", "units": 512, "activation": "relu"},
                {"type": "dense", "units": 512, "activation": "relu"},
                {"type": "dense", "units": 10, "activation": "softmax"},
            ]
        },
        "loss": "categorical_crossentropy",
        "optimizer": {"name": "adam", "learning_rate": 0.001},
        "batch_size": 32,
        "seed": 0,
    }
    return JobSpec.model_validate(spec | changes)


@pytest.fixture(scope="module")
def dli() -> object:
    return find_learning_rate(dli_mnist_adam(), DATA, steps=200)


def test_the_dli_mnist_model_with_adam_gets_a_rate_near_0_001(dli):
    assert dli.suggested_learning_rate is not None, dli.reason
    assert 1e-4 <= dli.suggested_learning_rate <= 1e-2, dli.reason
    assert dli.suggested_learning_rate == pytest.approx(dli.min_loss_learning_rate / 10)
    assert "A tenth of that rate" in dli.reason


def test_the_curve_rises_in_rate_and_stops_once_the_loss_diverges(dli):
    points = dli.curve
    assert 0 < len(points) <= MAX_POINTS
    assert dli.steps_run < 200  # a rate of 10 diverges long before the end
    learning_rates = [p["learning_rate"] for p in points]
    assert learning_rates == sorted(learning_rates)
    assert learning_rates[0] == pytest.approx(1e-7)
    assert all(math.isfinite(p["loss"]) and math.isfinite(p["raw_loss"]) for p in points)
    lowest = min(p["loss"] for p in points)
    assert points[-1]["loss"] > DIVERGED * lowest  # stopped at the first point past 4x
    assert points[0]["loss"] == pytest.approx(points[0]["raw_loss"])  # bias-corrected
    assert dli.trained is None  # no model unless asked


def test_a_schedule_is_ignored_and_a_kept_model_has_the_lowest_points_weights():
    spec = dli_mnist_adam(
        model={
            "layers": [
                {"type": "flatten"},
                {"type": "dense", "units": 32, "activation": "relu"},
                {"type": "dense", "units": 10, "activation": "softmax"},
            ]
        },
        optimizer={
            "name": "sgd",
            "learning_rate": {
                "schedule": "cosine_decay",
                "initial_learning_rate": 0.1,
                "decay_steps": 10,
            },
        },
        dataset={"name": "mnist", "validation": {"fraction": 0.1}, "limit": 500},
    )
    found = find_learning_rate(spec, DATA, min_learning_rate=1e-4, max_learning_rate=50,
                               steps=60, keep_model=True)  # fmt: skip
    assert found.curve[-1]["learning_rate"] > 1  # the rate was the test's, not the schedule's
    assert found.trained is not None
    assert found.trained.final_metrics["loss"] == min(p["loss"] for p in found.curve)
    weights = found.trained.model.get_weights()
    assert all(np.isfinite(w).all() for w in weights)
    assert found.trained.sample is not None and found.trained.resolution is not None


def test_a_stop_asked_for_ends_the_test_without_a_suggestion():
    asked = iter([False] * 5 + [True] * 100)
    spec = dli_mnist_adam(dataset={"name": "mnist", "validation": "test", "limit": 300})
    found = find_learning_rate(spec, DATA, steps=50, should_stop=lambda: next(asked))
    assert found.stopped and found.steps_run == 5
    assert found.suggested_learning_rate is None
    assert "Stopped" in found.reason


# The rule, on made-up curves.
TAKEN = rates(1e-6, 1.0, 100)


def test_a_u_shaped_curve_suggests_a_tenth_of_its_minimum():
    x = np.log10(TAKEN)
    loss = 2.0 - 1.5 * np.exp(-((x + 2) ** 2))  # lowest at 1e-2, then rises
    loss[50:60] += 40.0 * (np.arange(10) % 2)  # wild batches move the median little
    found = suggest(TAKEN, loss, 200, 1.0)
    assert found.min_loss_rate == pytest.approx(1e-2, rel=0.3)
    assert found.rate == pytest.approx(found.min_loss_rate / 10)
    assert "had not diverged" not in found.reason


def test_a_curve_still_falling_at_the_top_says_to_raise_the_maximum():
    loss = np.linspace(2.0, 0.5, 100)
    found = suggest(TAKEN, loss, 100, 1.0)
    assert found.rate == pytest.approx(0.1)
    assert "raise max_learning_rate" in found.reason


def test_no_rate_when_the_loss_never_falls_or_only_rises():
    flat = suggest(TAKEN, np.full(100, 2.3), 100, 1.0)
    assert flat.rate is None and "does not learn" in flat.reason
    rising = suggest(TAKEN, np.linspace(2.0, 9.0, 100), 200, 1.0)
    assert rising.rate is None and "lower min_learning_rate" in rising.reason
    short = suggest(TAKEN[:4], np.array([2.0, 1.0, 5.0, 9.0]), 200, 1.0)
    assert short.rate is None and "too soon" in short.reason


def test_smoothing_is_bias_corrected_and_the_curve_is_thinned_keeping_its_minimum():
    assert smooth([3.0] * 10) == pytest.approx(np.full(10, 3.0))
    taken = rates(1e-7, 10, 2000)
    raw = np.abs(np.sin(np.arange(2000))) + 1
    smoothed = smooth(raw)
    points = curve_points(taken, smoothed, raw)
    assert len(points) <= MAX_POINTS
    assert min(p["loss"] for p in points) == smoothed.min()
    assert points[0]["learning_rate"] == taken[0] and points[-1]["learning_rate"] == taken[-1]
