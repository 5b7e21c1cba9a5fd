"""The layer catalog the page's form is built from: every kind, its fields and their values."""

from fastapi.testclient import TestClient

from training.layers import LAYER_TYPES
from training.vocabulary import ACTIVATIONS


def test_every_layer_kind_is_served_with_its_fields(client: TestClient):
    catalog = client.get("/v1/layers").json()
    kinds = {kind["type"]: kind for kind in catalog["kinds"]}
    assert tuple(kinds) == LAYER_TYPES
    assert catalog["activations"] == list(ACTIVATIONS)
    dense = {field["name"]: field for field in kinds["dense"]["fields"]}
    assert dense["units"] | {"description": None} == {
        "name": "units",
        "label": "Units",
        "type": "integer",
        "required": True,
        "default": None,
        "options": None,
        "example": 128,
        "description": None,
        "in_form": True,
    }
    assert dense["activation"]["options"] == list(ACTIVATIONS)
    assert dense["activation"]["default"] == "linear"
    summaries = (kinds["conv2d"]["summary"], kinds["max_pool2d"]["summary"])
    assert summaries == ("convolution", "pooling")


def test_gaussian_noise_is_served_with_its_stddev(client: TestClient):
    kinds = {kind["type"]: kind for kind in client.get("/v1/layers").json()["kinds"]}
    (stddev,) = kinds["gaussian_noise"]["fields"]
    assert (stddev["name"], stddev["type"], stddev["required"]) == ("stddev", "number", True)
    assert stddev["in_form"] and stddev["example"] == 0.1
