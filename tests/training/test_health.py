"""Layer health on real training: recorded every epoch, telling vanishing gradients, dead and
saturated units apart, and changing nothing the fit learns."""

from functools import partial
from typing import Any

import pytest

from core.settings import PROJECT_ROOT
from tests.factories import job_spec_model
from training.spec import JobSpec

pytest.importorskip("keras")

from training.keras.fit import train  # noqa: E402
from training.keras.health import SAMPLE_ROWS, sample_rows  # noqa: E402

DATA = PROJECT_ROOT / "data"
KEYS = {
    "index",
    "layer",
    "type",
    "activation",
    "weight_norm",
    "gradient_norm",
    "update_ratio",
    "dead_fraction",
    "saturated_fraction",
}
small_spec = partial(job_spec_model, limit=400, validation=0.2, units=32, epochs=2, batch_size=32)


def deep_narrow(activation: str, **changes: Any) -> JobSpec:
    """Eight hidden layers of 32 units, trained with plain SGD: the textbook vanishing case."""
    hidden = [{"type": "dense", "units": 32, "activation": activation} for _ in range(8)]
    layers = [{"type": "flatten"}, *hidden, {"type": "dense", "units": 10, "activation": "softmax"}]
    return small_spec(
        model={"layers": layers}, optimizer={"name": "sgd", "learning_rate": 0.01}, **changes
    )


def fit(spec: JobSpec, **options: Any) -> tuple[list[dict], list[tuple[int, dict]]]:
    reported: list[tuple[int, dict]] = []
    result = train(spec, DATA, lambda epoch, _, logs: reported.append((epoch, logs)), **options)
    return result.history, reported


def test_every_epoch_carries_each_trainable_layers_health_and_changes_nothing_learned():
    history, reported = fit(small_spec())
    assert [epoch for epoch, _ in reported] == [0, 1, 2]
    for epoch, logs in reported:
        health = logs["health"]
        assert [entry["index"] for entry in health] == [1, 2]  # the flatten has no weights
        assert all(set(entry) == KEYS for entry in health)
        hidden, output = health
        assert hidden | {"layer": "dense_1", "type": "dense", "activation": "relu"} == hidden
        assert output["activation"] == "softmax" and output["dead_fraction"] is None
        assert 0 <= hidden["dead_fraction"] < 0.5 and hidden["saturated_fraction"] is None
        assert all(entry["weight_norm"] > 0 and entry["gradient_norm"] > 0 for entry in health)
        if epoch == 0:
            assert all(entry["update_ratio"] is None for entry in health)
        else:
            assert all(0 < entry["update_ratio"] < 1 for entry in health)
    assert history[-1]["health"] == reported[-1][1]["health"]

    # Measuring draws nothing from the fit's random state: the same numbers without it.
    without, reported_without = fit(small_spec(), health=False)
    assert "health" not in reported_without[0][1]
    assert [
        {k: v for k, v in row.items() if k not in ("seconds", "health")} for row in history
    ] == [{k: v for k, v in row.items() if k != "seconds"} for row in without]


def test_a_deep_sigmoid_stack_has_vanishing_gradients_and_its_relu_twin_does_not():
    def first_over_last(activation: str) -> float:
        _, reported = fit(deep_narrow(activation, epochs=1, limit=200, batch_size=64))
        health = reported[-1][1]["health"]
        return health[0]["gradient_norm"] / health[-1]["gradient_norm"]

    assert first_over_last("sigmoid") < 1e-3
    assert first_over_last("relu") > 1e-1


def test_dead_relus_and_saturated_units_are_counted_after_their_own_activation_layer():
    dead_bias = {"name": "constant", "value": -100.0}
    layers = [
        {"type": "flatten"},
        {"type": "dense", "units": 16, "kernel_initializer": {"name": "constant", "value": 1.0}},
        {"type": "activation", "activation": "tanh"},  # the sum of a row's pixels: pinned
        {"type": "dense", "units": 16, "activation": "relu", "bias_initializer": dead_bias},
        {"type": "batch_norm"},
        {"type": "activation", "activation": "sigmoid"},
        {"type": "dense", "units": 10, "activation": "softmax"},
    ]
    _, reported = fit(small_spec(model={"layers": layers}, epochs=1, limit=300))
    pinned, dead, norm, output = reported[0][1]["health"]
    assert (pinned["index"], pinned["activation"], pinned["saturated_fraction"]) == (1, "tanh", 1.0)
    assert (dead["activation"], dead["dead_fraction"]) == ("relu", 1.0)
    assert dead["gradient_norm"] == 0.0  # nothing flows back through a dead layer
    assert (norm["type"], norm["activation"]) == ("batch_norm", "sigmoid")
    assert output["index"] == 6


def test_the_sample_is_fixed_by_the_seed():
    assert sample_rows(100, 1).tolist() == list(range(100))
    assert sample_rows(5000, 7).tolist() == sample_rows(5000, 7).tolist()
    assert len(sample_rows(5000, 7)) == SAMPLE_ROWS
    assert sample_rows(5000, 7).tolist() != sample_rows(5000, 8).tolist()
