"""Expanding a sweep into one spec per job, and naming what differs between them."""

import pytest

from core.errors import InvalidInput
from services import sweeps

BASE = {"name": "opt", "dataset": {"name": "mnist"}, "model": {"preset": "dense"}}


def test_a_grid_becomes_every_combination_named_by_its_values():
    items = sweeps.expand(
        BASE, {"optimizer.name": ["sgd", "adam"], "optimizer.learning_rate": [0.1, 0.01]}, None
    )
    assert [item["optimizer"] for item in items] == [
        {"name": "sgd", "learning_rate": 0.1},
        {"name": "sgd", "learning_rate": 0.01},
        {"name": "adam", "learning_rate": 0.1},
        {"name": "adam", "learning_rate": 0.01},
    ]
    assert items[3]["name"] == "opt optimizer.name=adam optimizer.learning_rate=0.01"
    assert BASE == {"name": "opt", "dataset": {"name": "mnist"}, "model": {"preset": "dense"}}


def test_seeds_repeat_the_whole_grid_seed_by_seed():
    items = sweeps.expand(BASE, {"epochs": [1, 2]}, [0, 7])
    assert [(item["seed"], item["epochs"]) for item in items] == [(0, 1), (0, 2), (7, 1), (7, 2)]
    assert items[2]["name"] == "opt epochs=1 seed=7"


def test_a_layer_field_is_set_by_its_index():
    base = {**BASE, "model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 8}]}}
    items = sweeps.expand(base, {"model.layers[1].units": [16, 32]}, None)
    assert [item["model"]["layers"][1]["units"] for item in items] == [16, 32]
    assert sweeps.parse_path("model.layers.1.units") == ["model", "layers", 1, "units"]


def test_a_path_into_a_missing_layer_is_refused_naming_it():
    with pytest.raises(InvalidInput) as caught:
        sweeps.expand(BASE, {"model.layers[3].units": [16]}, None)
    assert "model.layers[3].units" in caught.value.detail
    assert caught.value.errors == [
        {"field": "vary.model.layers[3].units", "message": "model.layers has no item [3]"}
    ]


def test_a_grid_too_large_is_refused_before_it_is_built():
    with pytest.raises(InvalidInput, match="would create 1000 jobs"):
        sweeps.expand(BASE, {"epochs": list(range(100))}, list(range(10)))


def test_varied_names_only_the_fields_that_differ():
    specs = sweeps.with_seeds([{**BASE, "epochs": 1}, {**BASE, "epochs": 2}], [0, 1])
    assert sweeps.varied(specs) == [
        {"epochs": 1, "seed": 0},
        {"epochs": 2, "seed": 0},
        {"epochs": 1, "seed": 1},
        {"epochs": 2, "seed": 1},
    ]


def test_fields_that_come_with_another_optimizer_are_not_listed_as_varied():
    # Resolved specs write every argument out: sgd has momentum, adam has beta_1.
    sgd = {"optimizer": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.0}}
    adam = {"optimizer": {"name": "adam", "learning_rate": 0.1, "beta_1": 0.9}}
    assert sweeps.varied([sgd, adam]) == [{"optimizer.name": "sgd"}, {"optimizer.name": "adam"}]


def test_a_field_that_changes_form_is_still_listed():
    on_test = {"dataset": {"validation": "test"}}
    held_out = {"dataset": {"validation": {"fraction": 0.1}}}
    assert sweeps.varied([on_test, held_out]) == [
        {"dataset.validation": "test", "dataset.validation.fraction": None},
        {"dataset.validation": None, "dataset.validation.fraction": 0.1},
    ]
